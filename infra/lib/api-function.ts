import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  ATTACHMENT_BLOB_LIMIT,
  DEFAULT_ATTACHMENT_MAX_BYTES,
  type DeploymentLogLevel,
  deploymentEnvironment,
  MAX_REPORT_RETENTION_DAYS,
  MIN_ATTACHMENT_MAX_BYTES,
  MIN_ATTACHMENT_MULTIPART_BYTES,
} from '#functions/deployment.ts';
import type { EnvelopeBucket } from './envelope-bucket.ts';
import type { MailboxTable } from './mailbox-table.ts';
import { SealpostFunction } from './node-function.ts';
import type { SigningKeys } from './signing-keys.ts';
import type { VapidKeys } from './vapid-keys.ts';

/** The service's composition root (deployment contract). */
export const DEFAULT_API_ENTRY = fileURLToPath(
  new URL('../../functions/api/lambda.ts', import.meta.url),
);

/**
 * Memory of the API function. The service does no per-message cryptography (clients do), only
 * an Ed25519 signature per sender certificate and request-signature checks; 512 MiB on arm64
 * gives enough CPU share for those and for cold-starting the bundled AWS SDK clients.
 */
export const DEFAULT_API_MEMORY_MB = 512;

/**
 * Timeout of the API function: well under the HTTP API's 30 s integration limit, so a stuck
 * invocation ends as a Lambda error (counted by the alarms) rather than a gateway timeout.
 * A request makes at most a few DynamoDB and S3 calls of at most 96 KiB; attachment bytes
 * never pass through it (it presigns, lists parts and completes uploads).
 */
export const DEFAULT_API_TIMEOUT = Duration.seconds(10);

/** Log levels the service understands (deployment contract). */
export type ApiLogLevel = DeploymentLogLevel;

/** Web Push wake-ups of the API function (docs/SERVICE.md §7.3). */
export interface ApiWebPushProps {
  /** The VAPID key pair (`SEALPOST_VAPID_SECRET_ARN`, read granted). */
  readonly keys: VapidKeys;
  /**
   * `SEALPOST_VAPID_SUBJECT`: a `mailto:` or `https:` URL push services may contact.
   * @default - none here; {@link SealpostService} sets the HTTP API's URL
   */
  readonly subject?: string;
  /**
   * `SEALPOST_WAKE_WINDOW_SECONDS`.
   * @default 60
   */
  readonly wakeWindowSeconds?: number;
  /**
   * `SEALPOST_PUSH_ALLOWED_HOSTS`.
   * @default DEFAULT_PUSH_ALLOWED_HOSTS (the browsers' push services)
   */
  readonly allowedHosts?: readonly string[];
}

/** Attachment limits of the API function (docs/SERVICE.md §7.6), in bytes. */
export interface ApiAttachmentProps {
  /**
   * `SEALPOST_ATTACHMENT_MAX_BYTES`: the largest blob an upload may declare, 1 MiB..4 GiB.
   * @default DEFAULT_ATTACHMENT_MAX_BYTES (512 MiB)
   */
  readonly maxBytes?: number;
  /**
   * `SEALPOST_ATTACHMENT_MULTIPART_BYTES`: multipart above this size, 5 MiB..4 GiB.
   * @default DEFAULT_ATTACHMENT_MULTIPART_BYTES (64 MiB)
   */
  readonly multipartBytes?: number;
  /**
   * `SEALPOST_ATTACHMENT_QUOTA_BYTES`: bytes per account within the message TTL, at least
   * `maxBytes`.
   * @default DEFAULT_ATTACHMENT_QUOTA_BYTES (5 GiB)
   */
  readonly quotaBytes?: number;
}

/**
 * Checks attachment limits at synthesis, with the ranges the function enforces at its cold
 * start (functions/deployment.ts), so a bad value fails `cdk synth`, not the deployed service.
 *
 * @throws {RangeError} naming the first limit out of range
 * @example checkAttachmentLimits({ maxBytes: 1024 ** 3 }) // fine: 1 GiB
 */
export function checkAttachmentLimits(limits: ApiAttachmentProps): void {
  const within = (name: string, n: number | undefined, min: number, max: number) => {
    if (n !== undefined && !(Number.isSafeInteger(n) && n >= min && n <= max)) {
      throw new RangeError(`${name} must be an integer number of bytes in ${min}..${max}`);
    }
  };
  within('attachment maxBytes', limits.maxBytes, MIN_ATTACHMENT_MAX_BYTES, ATTACHMENT_BLOB_LIMIT);
  within(
    'attachment multipartBytes',
    limits.multipartBytes,
    MIN_ATTACHMENT_MULTIPART_BYTES,
    ATTACHMENT_BLOB_LIMIT,
  );
  within(
    'attachment quotaBytes',
    limits.quotaBytes,
    limits.maxBytes ?? DEFAULT_ATTACHMENT_MAX_BYTES,
    Number.MAX_SAFE_INTEGER,
  );
}

/** Props of {@link ApiFunction}. */
export interface ApiFunctionProps {
  /** The mailbox table (`SEALPOST_TABLE`, item actions granted). */
  readonly table: MailboxTable;
  /**
   * The bucket (`SEALPOST_BUCKET`): object actions under `env/` and, for presigned attachment
   * transfers, under `attachments/` granted; with express envelope storage also its directory
   * bucket (`SEALPOST_ENVELOPE_BUCKET`, sessions granted).
   */
  readonly bucket: EnvelopeBucket;
  /** The signing keys (`SEALPOST_SIGNING_SECRET_ARN`, read granted). */
  readonly keys: SigningKeys;
  /** Stage name (`SEALPOST_STAGE`). */
  readonly stage: string;
  /** Message TTL in days (`SEALPOST_MESSAGE_TTL_DAYS`). */
  readonly messageTtlDays: number;
  /**
   * TypeScript entry exporting `handler`.
   * @default functions/api/lambda.ts
   */
  readonly entry?: string;
  /**
   * `SEALPOST_LOG_LEVEL`.
   * @default 'info'
   */
  readonly logLevel?: ApiLogLevel;
  /**
   * Management endpoint of the WebSocket stage (`SEALPOST_WEBSOCKET_ENDPOINT`): stored messages
   * are pushed to live connections. The grant to post is the WebSocket construct's.
   * @default - no realtime push
   */
  readonly websocketEndpoint?: string;
  /**
   * Web Push wake-ups of devices without a live connection.
   * @default - none (wake-ups off: the push routes answer `NOT_CONFIGURED`)
   */
  readonly webPush?: ApiWebPushProps;
  /**
   * Attachment limits.
   * @default - the deployment contract's defaults
   */
  readonly attachments?: ApiAttachmentProps;
  /**
   * Days a verified abuse report is kept (`SEALPOST_REPORT_RETENTION_DAYS`, 1..3650).
   * @default 180
   */
  readonly reportRetentionDays?: number;
  /**
   * Memory in MiB.
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * Invocation timeout.
   * @default 10 seconds
   */
  readonly timeout?: Duration;
}

/**
 * The mailbox service function (Hono behind `hono/aws-lambda`). Its configuration comes only
 * from the environment set here with the deployment contract's `deploymentEnvironment`
 * (functions/deployment.ts, which the function parses back), and its role holds exactly the
 * grants of the three resource constructs (envelopes and attachments in the bucket; reading
 * the VAPID key, with wake-ups) plus writing to its own log group.
 *
 * @throws {RangeError} if an attachment limit is out of range ({@link checkAttachmentLimits})
 */
export class ApiFunction extends Construct {
  /** The function and its role and log group. */
  readonly handler: SealpostFunction;

  constructor(scope: Construct, id: string, props: ApiFunctionProps) {
    super(scope, id);
    const attachments = props.attachments ?? {};
    checkAttachmentLimits(attachments);
    const retention = props.reportRetentionDays;
    if (
      retention !== undefined &&
      !(Number.isInteger(retention) && retention >= 1 && retention <= MAX_REPORT_RETENTION_DAYS)
    ) {
      throw new RangeError(
        `reportRetentionDays must be an integer in 1..${MAX_REPORT_RETENTION_DAYS}`,
      );
    }
    const environment = deploymentEnvironment({
      table: props.table.tableName,
      bucket: props.bucket.bucketName,
      envelopeBucket: props.bucket.envelopeBucketName,
      signingSecretArn: props.keys.signingSecret.secretArn,
      messageTtlDays: props.messageTtlDays,
      stage: props.stage,
      logLevel: props.logLevel,
      websocketEndpoint: props.websocketEndpoint,
      attachmentMaxBytes: attachments.maxBytes,
      attachmentMultipartBytes: attachments.multipartBytes,
      attachmentQuotaBytes: attachments.quotaBytes,
      reportRetentionDays: props.reportRetentionDays,
      ...(props.webPush
        ? {
            vapidSecretArn: props.webPush.keys.secret.secretArn,
            vapidSubject: props.webPush.subject,
            wakeWindowSeconds: props.webPush.wakeWindowSeconds,
            pushAllowedHosts: props.webPush.allowedHosts,
          }
        : {}),
    });
    this.handler = new SealpostFunction(this, 'Handler', {
      entry: props.entry ?? DEFAULT_API_ENTRY,
      description: `Sealpost mailbox API (${props.stage})`,
      memorySize: props.memorySize ?? DEFAULT_API_MEMORY_MB,
      timeout: props.timeout ?? DEFAULT_API_TIMEOUT,
      environment,
      bundleAwsSdk: true,
    });
    const role = this.handler.role;
    props.table.grantServiceAccess(role);
    props.bucket.grantEnvelopeAccess(role);
    props.bucket.grantAttachmentAccess(role);
    props.keys.grantReadSigningSecret(role);
    // The first request must find the generated keys, not the secret's placeholder.
    this.handler.function.node.addDependency(props.keys.resource);
    if (props.webPush) {
      props.webPush.keys.grantRead(role);
      this.handler.function.node.addDependency(props.webPush.keys.resource);
    }
  }
}
