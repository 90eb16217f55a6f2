import { CfnOutput, RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { DEFAULT_MESSAGE_TTL_DAYS, ENV, STAGE_PATTERN } from '#functions/deployment.ts';
import { type AlarmThresholds, ServiceAlarms } from './alarms.ts';
import { ApiFunction, type ApiLogLevel } from './api-function.ts';
import { BucketEmptier } from './bucket-emptier.ts';
import { DataPolicy } from './data-policy.ts';
import {
  EnvelopeBucket,
  type EnvelopeEncryption,
  type EnvelopeStorage,
} from './envelope-bucket.ts';
import { type ApiThrottle, SealpostHttpApi } from './http-api.ts';
import { MailboxTable } from './mailbox-table.ts';
import { ModerationApi } from './moderation-api.ts';
import { SigningKeys } from './signing-keys.ts';
import { VapidKeys } from './vapid-keys.ts';
import { SealpostWebSocketApi } from './websocket-api.ts';

/** Default retention of every log group. */
export const DEFAULT_LOG_RETENTION = logs.RetentionDays.ONE_MONTH;

/** The stage whose data is disposable by default: `cdk destroy` removes all of it. */
export const DISPOSABLE_STAGE = 'dev';

/**
 * The removal policy a stage gets when none is given: `DESTROY` for {@link DISPOSABLE_STAGE},
 * `RETAIN` for every other stage.
 *
 * @example defaultRemovalPolicy('prod') // RemovalPolicy.RETAIN
 */
export function defaultRemovalPolicy(stage: string): RemovalPolicy {
  return stage === DISPOSABLE_STAGE ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
}

/** Props of {@link SealpostService}. */
export interface SealpostServiceProps {
  /** Stage name (`dev`, `prod`, ...): `SEALPOST_STAGE` and part of resource descriptions. */
  readonly stage: string;
  /**
   * Removal policy of every stateful resource (table, bucket, KMS key, secrets, log groups),
   * applied by one aspect. `RETAIN` also turns on the table's deletion protection; `DESTROY`
   * also empties the bucket when the stack is deleted.
   * @default - `DESTROY` for the `dev` stage, `RETAIN` for every other stage
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Log retention of every log group, applied by the same aspect.
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
   * Where envelopes live: S3 Standard beside the attachments, or an S3 Express One Zone
   * directory bucket in one Availability Zone (docs/DEPLOY.md: single-zone durability).
   * Attachments stay in S3 Standard either way. `express` needs `s3-managed` encryption.
   * @default 'standard'
   */
  readonly envelopeStorage?: EnvelopeStorage;
  /**
   * Availability Zone id of the express directory bucket (`use1-az4`).
   * @default - DEFAULT_EXPRESS_ZONES of the stack's region
   */
  readonly expressAvailabilityZoneId?: string;
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
   * Entry of the WebSocket function.
   * @default functions/api/realtime-lambda.ts
   */
  readonly realtimeEntry?: string;
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
  readonly alarmThresholds?: Partial<AlarmThresholds>;
  /**
   * Validity of the first server certificate in days.
   * @default 730
   */
  readonly certificateValidityDays?: number;
  /**
   * Web Push wake-ups of devices without a live connection (docs/SERVICE.md §7.3): a VAPID key
   * pair is generated at deploy time and the API function posts contentless wake-ups.
   * @default true
   */
  readonly webPush?: boolean;
  /**
   * VAPID subject (`SEALPOST_VAPID_SUBJECT`): a `mailto:` or `https:` URL push services may
   * contact the operator at.
   * @default - the HTTP API's URL
   */
  readonly vapidSubject?: string;
  /**
   * A device is woken at most once per this many seconds (`SEALPOST_WAKE_WINDOW_SECONDS`).
   * @default 60
   */
  readonly wakeWindowSeconds?: number;
  /**
   * Hosts a Web Push endpoint may name (`SEALPOST_PUSH_ALLOWED_HOSTS`; `*.` for subdomains).
   * @default DEFAULT_PUSH_ALLOWED_HOSTS (the browsers' push services)
   */
  readonly pushAllowedHosts?: readonly string[];
  /**
   * Largest attachment blob (padded and encrypted) an upload may declare, in bytes
   * (`SEALPOST_ATTACHMENT_MAX_BYTES`): 1 MiB..4 GiB.
   * @default DEFAULT_ATTACHMENT_MAX_BYTES (512 MiB)
   */
  readonly attachmentMaxBytes?: number;
  /**
   * Blobs above this size are uploaded in parts, the rest with one presigned form
   * (`SEALPOST_ATTACHMENT_MULTIPART_BYTES`): 5 MiB..4 GiB.
   * @default DEFAULT_ATTACHMENT_MULTIPART_BYTES (64 MiB)
   */
  readonly attachmentMultipartBytes?: number;
  /**
   * Attachment bytes one account may upload within the message TTL
   * (`SEALPOST_ATTACHMENT_QUOTA_BYTES`): at least `attachmentMaxBytes`.
   * @default DEFAULT_ATTACHMENT_QUOTA_BYTES (5 GiB)
   */
  readonly attachmentQuotaBytes?: number;
  /**
   * Origins whose web pages may send presigned attachment requests to the bucket (CORS).
   * @default DEFAULT_ATTACHMENT_CORS_ORIGINS (`*`: every request carries its own signature)
   */
  readonly attachmentCorsOrigins?: readonly string[];
  /**
   * Days a verified abuse report is kept (`SEALPOST_REPORT_RETENTION_DAYS`): 1..3650.
   * @default 180
   */
  readonly reportRetentionDays?: number;
  /**
   * Entry of the moderation function.
   * @default functions/api/moderation-lambda.ts
   */
  readonly moderationEntry?: string;
}

/**
 * The whole Sealpost service as one construct, for an existing CDK app: table, bucket
 * (envelopes and attachments), signing keys, the VAPID keys of wake-ups, API function, HTTP
 * API, WebSocket API, alarms, and the outputs `ApiUrl`, `WebSocketUrl` and `TrustRoot` a
 * client needs.
 * `SealpostStack` is this construct alone in a stack.
 *
 * @throws {RangeError} if `stage` is not 1-20 characters of a-z, 0-9 and -, or an attachment
 *   limit is out of its range
 * @example
 * ```ts
 * import { SealpostService } from '<path to this repository>/infra/index.ts';
 *
 * const mail = new SealpostService(this, 'Mail', { stage: 'prod' });
 * new CfnOutput(this, 'MailUrl', { value: mail.url });
 * ```
 */
export class SealpostService extends Construct {
  /** The mailbox table. */
  readonly table: MailboxTable;
  /** The envelope bucket. */
  readonly bucket: EnvelopeBucket;
  /** The deploy-time signing keys. */
  readonly keys: SigningKeys;
  /** The deploy-time VAPID key pair of wake-ups, unless `webPush` is false. */
  readonly vapidKeys?: VapidKeys;
  /** The service function. */
  readonly apiFunction: ApiFunction;
  /** The HTTP API. */
  readonly httpApi: SealpostHttpApi;
  /** The WebSocket API of realtime delivery. */
  readonly webSocketApi: SealpostWebSocketApi;
  /** The operators' API: its own function behind an IAM-authorized route of the HTTP API. */
  readonly moderationApi: ModerationApi;
  /** The alarms. */
  readonly alarms: ServiceAlarms;
  /** Empties the bucket on `cdk destroy`; only when the removal policy is `DESTROY`. */
  readonly emptier?: BucketEmptier;
  /** The removal policy and log retention applied to every stateful resource. */
  readonly dataPolicy: DataPolicy;

  constructor(scope: Construct, id: string, props: SealpostServiceProps) {
    super(scope, id);
    if (!STAGE_PATTERN.test(props.stage)) {
      throw new RangeError('stage must be 1-20 characters of a-z, 0-9 and -, starting with a-z');
    }
    const removalPolicy = props.removalPolicy ?? defaultRemovalPolicy(props.stage);
    this.dataPolicy = DataPolicy.apply(this, {
      removalPolicy,
      logRetention: props.logRetention ?? DEFAULT_LOG_RETENTION,
    });
    const messageTtlDays = props.messageTtlDays ?? DEFAULT_MESSAGE_TTL_DAYS;

    this.table = new MailboxTable(this, 'Mailbox');
    this.bucket = new EnvelopeBucket(this, 'Envelopes', {
      messageTtlDays,
      encryption: props.bucketEncryption,
      attachmentCorsOrigins: props.attachmentCorsOrigins,
      ...(props.envelopeStorage === 'express'
        ? { express: { availabilityZoneId: props.expressAvailabilityZoneId } }
        : {}),
    });
    if (removalPolicy === RemovalPolicy.DESTROY) {
      this.emptier = new BucketEmptier(this, 'EnvelopesEmptier', { bucket: this.bucket.bucket });
    }
    this.keys = new SigningKeys(this, 'SigningKeys', {
      certificateValidityDays: props.certificateValidityDays,
    });
    if (props.webPush !== false) this.vapidKeys = new VapidKeys(this, 'VapidKeys');
    this.webSocketApi = new SealpostWebSocketApi(this, 'Realtime', {
      table: this.table,
      bucket: this.bucket,
      keys: this.keys,
      stage: props.stage,
      messageTtlDays,
      entry: props.realtimeEntry,
      logLevel: props.logLevel,
      throttle: props.throttle,
    });
    this.apiFunction = new ApiFunction(this, 'Service', {
      table: this.table,
      bucket: this.bucket,
      keys: this.keys,
      stage: props.stage,
      messageTtlDays,
      entry: props.apiEntry,
      logLevel: props.logLevel,
      websocketEndpoint: this.webSocketApi.managementEndpoint,
      reportRetentionDays: props.reportRetentionDays,
      attachments: {
        maxBytes: props.attachmentMaxBytes,
        multipartBytes: props.attachmentMultipartBytes,
        quotaBytes: props.attachmentQuotaBytes,
      },
      ...(this.vapidKeys
        ? {
            webPush: {
              keys: this.vapidKeys,
              subject: props.vapidSubject,
              wakeWindowSeconds: props.wakeWindowSeconds,
              allowedHosts: props.pushAllowedHosts,
            },
          }
        : {}),
    });
    // A stored message is pushed from the HTTP function (docs/SERVICE.md §7.3).
    this.webSocketApi.grantManageConnections(this.apiFunction.handler.role);
    this.httpApi = new SealpostHttpApi(this, 'Http', {
      handler: this.apiFunction.handler.function,
      stage: props.stage,
      corsAllowOrigins: props.corsAllowOrigins,
      throttle: props.throttle,
    });
    this.moderationApi = new ModerationApi(this, 'Moderation', {
      table: this.table,
      httpApi: this.httpApi.api,
      stage: props.stage,
      entry: props.moderationEntry,
      logLevel: props.logLevel,
      intakeLogs: this.apiFunction.handler.logGroup,
    });
    if (this.vapidKeys && props.vapidSubject === undefined) {
      // The API's own URL identifies the deployment to the push services; it exists only once
      // the API (which needs the function) is built, hence set here.
      this.apiFunction.handler.function.addEnvironment(ENV.vapidSubject, this.url);
    }
    this.alarms = new ServiceAlarms(this, 'Alarms', {
      api: this.httpApi.api,
      handler: this.apiFunction.handler.function,
      stage: props.stage,
      thresholds: props.alarmThresholds,
      realtime: {
        apiId: this.webSocketApi.api.apiId,
        stageName: this.webSocketApi.stage.stageName,
        handler: this.webSocketApi.handler.function,
        pushLogs: this.apiFunction.handler.logGroup,
      },
      topic: props.alarmTopicArn
        ? sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn)
        : undefined,
    });

    new CfnOutput(this, 'ApiUrl', {
      description: 'Base URL of the Sealpost API (SDK: baseUrl)',
      value: this.url,
    });
    new CfnOutput(this, 'WebSocketUrl', {
      description: 'URL of the realtime WebSocket endpoint (SDK: realtime URL)',
      value: this.webSocketApi.url,
    });
    new CfnOutput(this, 'ModerationInvokeArn', {
      description:
        'execute-api:Invoke resource of the moderation API (allow it to operator roles; docs/DEPLOY.md)',
      value: this.moderationApi.invokeArn,
    });
    new CfnOutput(this, 'TrustRoot', {
      description:
        'Trust root Ed25519 public key, base64url (SDK: trust.trustRoot, pin it in clients)',
      value: this.trustRoot,
    });
  }

  /** Base URL of the API, no trailing slash (a deploy-time token). */
  get url(): string {
    return this.httpApi.url;
  }

  /** The trust root clients pin, base64url (a deploy-time token). */
  get trustRoot(): string {
    return this.keys.trustRoot;
  }
}
