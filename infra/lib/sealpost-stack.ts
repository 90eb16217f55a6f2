import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { type AlarmThresholds, ServiceAlarms } from './alarms.ts';
import { ApiFunction, type ApiLogLevel } from './api-function.ts';
import { EnvelopeBucket, type EnvelopeEncryption } from './envelope-bucket.ts';
import { type ApiThrottle, SealpostHttpApi } from './http-api.ts';
import { MailboxTable } from './mailbox-table.ts';
import { SigningKeys } from './signing-keys.ts';

/** Default message TTL in days (deployment contract: `SEALPOST_MESSAGE_TTL_DAYS`). */
export const DEFAULT_MESSAGE_TTL_DAYS = 30;

/** Default retention of every log group. */
export const DEFAULT_LOG_RETENTION = logs.RetentionDays.ONE_MONTH;

/** Props of {@link SealpostStack}. */
export interface SealpostStackProps extends StackProps {
  /** Stage name (`dev`, `prod`, ...): `SEALPOST_STAGE` and part of resource descriptions. */
  readonly stage: string;
  /**
   * Removal policy of every stateful resource (table, bucket, KMS key, secrets, log groups).
   * RETAIN also turns on the table's deletion protection.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Log retention of every log group.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Days an undelivered message is kept (table TTL is set by the service, bucket lifecycle here).
   * @default 30
   */
  readonly messageTtlDays?: number;
  /**
   * Envelope encryption at rest.
   * @default 's3-managed'
   */
  readonly bucketEncryption?: EnvelopeEncryption;
  /**
   * CORS origins for browser clients.
   * @default - no CORS
   */
  readonly corsAllowOrigins?: readonly string[];
  /**
   * API throttling.
   * @default DEFAULT_API_THROTTLE
   */
  readonly throttle?: ApiThrottle;
  /**
   * Entry of the service function.
   * @default functions/api/lambda.ts
   */
  readonly apiEntry?: string;
  /**
   * `SEALPOST_LOG_LEVEL`.
   * @default 'info'
   */
  readonly logLevel?: ApiLogLevel;
  /**
   * ARN of an SNS topic that alarms notify.
   * @default - no notification
   */
  readonly alarmTopicArn?: string;
  /**
   * Alarm thresholds.
   * @default DEFAULT_ALARM_THRESHOLDS
   */
  readonly alarmThresholds?: AlarmThresholds;
  /**
   * Validity of the first server certificate in days.
   * @default 730
   */
  readonly certificateValidityDays?: number;
}

/**
 * The whole Sealpost service in one stack. It only composes the constructs: table, envelope
 * bucket, signing keys, API function, HTTP API, alarms; and exports what a client needs.
 */
export class SealpostStack extends Stack {
  /** The mailbox table. */
  readonly table: MailboxTable;
  /** The envelope bucket. */
  readonly bucket: EnvelopeBucket;
  /** The deploy-time signing keys. */
  readonly keys: SigningKeys;
  /** The service function. */
  readonly apiFunction: ApiFunction;
  /** The HTTP API. */
  readonly httpApi: SealpostHttpApi;
  /** The alarms. */
  readonly alarms: ServiceAlarms;

  constructor(scope: Construct, id: string, props: SealpostStackProps) {
    super(scope, id, props);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? DEFAULT_LOG_RETENTION;
    const messageTtlDays = props.messageTtlDays ?? DEFAULT_MESSAGE_TTL_DAYS;

    this.table = new MailboxTable(this, 'Mailbox', { removalPolicy });
    this.bucket = new EnvelopeBucket(this, 'Envelopes', {
      messageTtlDays,
      encryption: props.bucketEncryption,
      removalPolicy,
    });
    this.keys = new SigningKeys(this, 'SigningKeys', {
      logRetention,
      removalPolicy,
      certificateValidityDays: props.certificateValidityDays,
    });
    this.apiFunction = new ApiFunction(this, 'Service', {
      table: this.table,
      bucket: this.bucket,
      keys: this.keys,
      stage: props.stage,
      messageTtlDays,
      logRetention,
      removalPolicy,
      entry: props.apiEntry,
      logLevel: props.logLevel,
    });
    this.httpApi = new SealpostHttpApi(this, 'Http', {
      handler: this.apiFunction.handler.function,
      stage: props.stage,
      logRetention,
      removalPolicy,
      corsAllowOrigins: props.corsAllowOrigins,
      throttle: props.throttle,
    });
    this.alarms = new ServiceAlarms(this, 'Alarms', {
      api: this.httpApi.api,
      handler: this.apiFunction.handler.function,
      stage: props.stage,
      thresholds: props.alarmThresholds,
      topic: props.alarmTopicArn
        ? sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn)
        : undefined,
    });

    new CfnOutput(this, 'ApiUrl', {
      description: 'Base URL of the Sealpost API (SDK: baseUrl)',
      value: this.httpApi.url,
    });
    new CfnOutput(this, 'TrustRoot', {
      description: 'Trust root Ed25519 public key, base64url (SDK: trustRoot, pin it in clients)',
      value: this.keys.trustRoot,
    });
  }
}
