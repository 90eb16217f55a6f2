/**
 * The deployment contract: everything the CDK app (infra/) and the service (functions/) must
 * agree on, in one place. The constructs set the function's environment with
 * {@link deploymentEnvironment}; the Lambda composition root reads it back with
 * {@link parseDeploymentEnv}; the adapters and the constructs share the table's TTL attribute,
 * the envelope key prefix and the metrics namespace from here (docs/SERVICE.md, docs/DEPLOY.md).
 *
 * Pure data and parsing: no AWS SDK and no CDK imports, so both sides can load it.
 */
import {
  ATTACHMENT_BLOB_LIMIT,
  DEFAULT_ATTACHMENT_MAX_BYTES,
  DEFAULT_MESSAGE_TTL_DAYS,
} from 'sealpost/wire/api';

export { ATTACHMENT_BLOB_LIMIT, DEFAULT_ATTACHMENT_MAX_BYTES, DEFAULT_MESSAGE_TTL_DAYS };

/** Names of the environment variables the service function reads, and nothing else. */
export const ENV = {
  /** Name of the mailbox table. */
  table: 'SEALPOST_TABLE',
  /** Name of the bucket of attachment blobs, and of envelopes unless {@link ENV.envelopeBucket} is set. */
  bucket: 'SEALPOST_BUCKET',
  /**
   * Name of a separate bucket for envelope objects (an S3 Express One Zone directory bucket,
   * `...--x-s3`, docs/DEPLOY.md); empty: envelopes live in {@link ENV.bucket}.
   */
  envelopeBucket: 'SEALPOST_ENVELOPE_BUCKET',
  /** ARN of the secret holding the server signing material. */
  signingSecretArn: 'SEALPOST_SIGNING_SECRET_ARN',
  /** Days an undelivered message is kept. */
  messageTtlDays: 'SEALPOST_MESSAGE_TTL_DAYS',
  /** Stage name, a metric dimension. */
  stage: 'SEALPOST_STAGE',
  /** Minimum log level written. */
  logLevel: 'SEALPOST_LOG_LEVEL',
  /** CloudWatch namespace of the embedded metrics. */
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
  /**
   * Management endpoint of the WebSocket stage (`https://{api-id}.execute-api.{region}.
   * amazonaws.com/{stage}`), where stored messages are pushed; empty: no realtime push.
   */
  websocketEndpoint: 'SEALPOST_WEBSOCKET_ENDPOINT',
  /**
   * ARN of the secret holding the VAPID key pair (RFC 8292) of Web Push wake-ups
   * ({@link VapidSecret}); empty: wake-ups off.
   */
  vapidSecretArn: 'SEALPOST_VAPID_SECRET_ARN',
  /**
   * VAPID subject: a `mailto:` or `https:` URL the push services may contact the operator at;
   * required with {@link ENV.vapidSecretArn}.
   */
  vapidSubject: 'SEALPOST_VAPID_SUBJECT',
  /** A device is woken at most once per this many seconds. */
  wakeWindowSeconds: 'SEALPOST_WAKE_WINDOW_SECONDS',
  /**
   * Hosts a Web Push endpoint may name (comma-separated; `*.example.com` for subdomains): the
   * service posts to them, so this list is what keeps clients from choosing its targets.
   */
  pushAllowedHosts: 'SEALPOST_PUSH_ALLOWED_HOSTS',
  /** Largest attachment blob (padded, encrypted) an upload may declare, in bytes. */
  attachmentMaxBytes: 'SEALPOST_ATTACHMENT_MAX_BYTES',
  /** Blobs above this many bytes are uploaded in parts (multipart), the rest with one form. */
  attachmentMultipartBytes: 'SEALPOST_ATTACHMENT_MULTIPART_BYTES',
  /** Attachment bytes an account may upload within the retention period (the message TTL). */
  attachmentQuotaBytes: 'SEALPOST_ATTACHMENT_QUOTA_BYTES',
  /** Days a verified abuse report is kept (docs/SERVICE.md §14.3). */
  reportRetentionDays: 'SEALPOST_REPORT_RETENTION_DAYS',
  /** Days after its receipt a message may be reported (docs/PROTOCOL.md §11.6). */
  reportWindowDays: 'SEALPOST_REPORT_WINDOW_DAYS',
} as const;

/** One environment variable of the deployment contract. */
export type DeploymentEnvKey = (typeof ENV)[keyof typeof ENV];

/**
 * Variables of the local server only (functions/api/local.ts, `npm start`); never set on
 * Lambda. The local server also reads {@link ENV}'s `table` and `bucket` names.
 */
export const LOCAL_ENV = {
  /** Port to listen on (0 picks a free one). */
  port: 'SEALPOST_PORT',
  /** Directory of the local signing material. */
  dataDir: 'SEALPOST_DATA_DIR',
  /** DynamoDB Local endpoint; with `s3Endpoint`, storage goes to the emulators. */
  dynamodbEndpoint: 'SEALPOST_DYNAMODB_ENDPOINT',
  /** s3rver endpoint. */
  s3Endpoint: 'SEALPOST_S3_ENDPOINT',
} as const;

/** Every key of {@link ENV}, in declaration order. */
export const DEPLOYMENT_ENV_KEYS: readonly DeploymentEnvKey[] = Object.values(ENV);

/** Log levels, least severe first. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** Minimum level written: `debug` < `info` < `warn` < `error`. */
export type DeploymentLogLevel = (typeof LOG_LEVELS)[number];

/** Log level when none is configured. */
export const DEFAULT_LOG_LEVEL: DeploymentLogLevel = 'info';

/** Stage name when none is configured. */
export const DEFAULT_STAGE = 'dev';

/** A stage name: 1-20 characters of `a-z`, `0-9` and `-`, starting with a letter. */
export const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,19}$/;

/** Longest message TTL a deployment may set, in days. */
export const MAX_MESSAGE_TTL_DAYS = 365;

/** CloudWatch namespace of the service's metrics. */
export const METRICS_NAMESPACE = 'Sealpost';

/** Name of the TTL attribute (epoch seconds) on every expiring table item. */
export const TTL_ATTRIBUTE = 'ttl';

/** Key prefix of every envelope object; the bucket's lifecycle rule and IAM grant use it. */
export const ENVELOPE_PREFIX = 'env/';

/**
 * Key prefix of every shared payload object of multi-recipient sends (`pay/<spread>/<hex id>`,
 * docs/PROTOCOL.md §14.8): stored beside the envelopes (in their bucket, or their directory
 * bucket), with a lifecycle rule and an IAM grant of its own.
 */
export const PAYLOAD_PREFIX = 'pay/';

/**
 * Days a shared payload (its object and its reference set) outlives the messages of the store
 * that created it. A retry of the request writes records with its own, later expiry that
 * reference the payload its first attempt stored, and the object's lifecycle counts from that
 * first PUT; the day covers such retries.
 */
export const PAYLOAD_GRACE_DAYS = 1;

/**
 * Key prefix of every attachment object (`attachments/<id>`): the bucket's lifecycle rules and
 * the function's IAM grant are scoped to it (docs/SERVICE.md §7.6).
 */
export const ATTACHMENT_PREFIX = 'attachments/';

const MIB = 1024 * 1024;

/** Smallest {@link ENV.attachmentMaxBytes}: 1 MiB. */
export const MIN_ATTACHMENT_MAX_BYTES = MIB;

/** Default of {@link ENV.attachmentMultipartBytes}: 64 MiB. */
export const DEFAULT_ATTACHMENT_MULTIPART_BYTES = 64 * MIB;

/** Smallest {@link ENV.attachmentMultipartBytes}: S3's smallest part (5 MiB). */
export const MIN_ATTACHMENT_MULTIPART_BYTES = 5 * MIB;

/** Default of {@link ENV.attachmentQuotaBytes}: 5 GiB per account over the retention period. */
export const DEFAULT_ATTACHMENT_QUOTA_BYTES = 5 * 1024 * MIB;

/** Default of {@link ENV.reportRetentionDays}: reports are kept 180 days. */
export const DEFAULT_REPORT_RETENTION_DAYS = 180;

/** Longest report retention a deployment may set, in days (ten years). */
export const MAX_REPORT_RETENTION_DAYS = 3650;

/** Default of {@link ENV.reportWindowDays}: a message may be reported for 30 days. */
export const DEFAULT_REPORT_WINDOW_DAYS = 30;

/** Longest report window a deployment may set, in days. */
export const MAX_REPORT_WINDOW_DAYS = 180;

/** Default of {@link ENV.wakeWindowSeconds}: at most one wake-up per device per minute. */
export const DEFAULT_WAKE_WINDOW_SECONDS = 60;

/** Longest wake-up window a deployment may set, in seconds. */
export const MAX_WAKE_WINDOW_SECONDS = 3600;

/**
 * Default of {@link ENV.pushAllowedHosts}: the push services of the browsers (Chrome and
 * other Chromium browsers, Firefox, Safari, Edge).
 */
export const DEFAULT_PUSH_ALLOWED_HOSTS: readonly string[] = [
  'fcm.googleapis.com',
  'updates.push.services.mozilla.com',
  '*.push.apple.com',
  '*.notify.windows.com',
];

/** Most hosts {@link ENV.pushAllowedHosts} may list. */
export const MAX_PUSH_ALLOWED_HOSTS = 32;

/** One entry of {@link ENV.pushAllowedHosts}: a lower-case DNS name, optionally `*.`-prefixed. */
export const PUSH_HOST_PATTERN =
  /^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** A VAPID subject (RFC 8292 §2.1): a `mailto:` address or an `https:` URL. */
export const VAPID_SUBJECT_PATTERN = /^(mailto:[^\s@/]+@[^\s@/]+|https:\/\/[^\s/?#]+(\/\S*)?)$/;

/**
 * The VAPID secret's JSON (deployment contract): the P-256 key pair as web-push libraries take
 * it, base64url without padding. Generated at deploy time (infra/keygen/vapid-keygen.ts).
 */
export interface VapidSecret {
  readonly version: 1;
  /** The uncompressed public key (65 bytes): the `applicationServerKey` browsers subscribe with. */
  readonly publicKey: string;
  /** The private scalar (32 bytes). */
  readonly privateKey: string;
}

/** The function's configuration, as parsed from its environment. */
export interface DeploymentConfig {
  readonly table: string;
  readonly bucket: string;
  /** The envelope bucket, when it is not {@link bucket} (a directory bucket). */
  readonly envelopeBucket?: string;
  readonly signingSecretArn: string;
  readonly messageTtlDays: number;
  readonly stage: string;
  readonly logLevel: DeploymentLogLevel;
  readonly metricsNamespace: string;
  /** The WebSocket stage's management endpoint, when realtime push is deployed. */
  readonly websocketEndpoint?: string;
  /** Seconds between two wake-ups of one device at most. */
  readonly wakeWindowSeconds: number;
  /** Hosts a Web Push endpoint may name. */
  readonly pushAllowedHosts: readonly string[];
  /** The VAPID key secret and subject, when Web Push wake-ups are deployed. */
  readonly vapid?: { readonly secretArn: string; readonly subject: string };
  /** Attachment limits, in bytes (docs/SERVICE.md §7.6). */
  readonly attachments: DeploymentAttachmentLimits;
  /** Days a verified report is kept (docs/SERVICE.md §14.3). */
  readonly reportRetentionDays: number;
  /** Days after its receipt a message may be reported (docs/PROTOCOL.md §11.6). */
  readonly reportWindowDays: number;
}

/** The attachment limits a deployment sets, in bytes. */
export interface DeploymentAttachmentLimits {
  /** Largest blob an upload may declare: 1 MiB..{@link ATTACHMENT_BLOB_LIMIT}. */
  readonly maxBytes: number;
  /** Multipart above this size: 5 MiB..{@link ATTACHMENT_BLOB_LIMIT}. */
  readonly multipartBytes: number;
  /** Bytes per account over the retention period: at least {@link maxBytes}. */
  readonly quotaBytes: number;
}

/** What {@link deploymentEnvironment} needs; values may be deploy-time tokens. */
export interface DeploymentEnvironmentInput {
  readonly table: string;
  readonly bucket: string;
  /** @default - none (`SEALPOST_ENVELOPE_BUCKET` empty: envelopes in `bucket`) */
  readonly envelopeBucket?: string;
  readonly signingSecretArn: string;
  /** @default DEFAULT_MESSAGE_TTL_DAYS */
  readonly messageTtlDays?: number;
  /** @default 'dev' */
  readonly stage?: string;
  /** @default 'info' */
  readonly logLevel?: DeploymentLogLevel;
  /** @default - none (`SEALPOST_WEBSOCKET_ENDPOINT` empty: no realtime push) */
  readonly websocketEndpoint?: string;
  /** @default - none (`SEALPOST_VAPID_SECRET_ARN` empty: no wake-ups) */
  readonly vapidSecretArn?: string;
  /** @default - none (required by the service when `vapidSecretArn` is set) */
  readonly vapidSubject?: string;
  /** @default DEFAULT_WAKE_WINDOW_SECONDS */
  readonly wakeWindowSeconds?: number;
  /** @default DEFAULT_PUSH_ALLOWED_HOSTS */
  readonly pushAllowedHosts?: readonly string[];
  /** @default DEFAULT_ATTACHMENT_MAX_BYTES */
  readonly attachmentMaxBytes?: number;
  /** @default DEFAULT_ATTACHMENT_MULTIPART_BYTES */
  readonly attachmentMultipartBytes?: number;
  /** @default DEFAULT_ATTACHMENT_QUOTA_BYTES */
  readonly attachmentQuotaBytes?: number;
  /** @default DEFAULT_REPORT_RETENTION_DAYS */
  readonly reportRetentionDays?: number;
  /** @default DEFAULT_REPORT_WINDOW_DAYS */
  readonly reportWindowDays?: number;
}

/** A deployment configuration that breaks the contract; lists every problem at once. */
export class DeploymentConfigError extends RangeError {
  /** Stable code for callers that branch on it. */
  readonly code = 'DEPLOYMENT_CONFIG_INVALID' as const;
  /** One sentence per problem, each naming its variable (never its value). */
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid deployment environment: ${problems.join('; ')}`);
    this.name = 'DeploymentConfigError';
    this.problems = problems;
  }
}

/** The environment the constructs give the service function (CDK tokens pass through). */
export function deploymentEnvironment(
  input: DeploymentEnvironmentInput,
): Record<DeploymentEnvKey, string> {
  return {
    [ENV.table]: input.table,
    [ENV.bucket]: input.bucket,
    [ENV.envelopeBucket]: input.envelopeBucket ?? '',
    [ENV.signingSecretArn]: input.signingSecretArn,
    [ENV.messageTtlDays]: String(input.messageTtlDays ?? DEFAULT_MESSAGE_TTL_DAYS),
    [ENV.stage]: input.stage ?? DEFAULT_STAGE,
    [ENV.logLevel]: input.logLevel ?? DEFAULT_LOG_LEVEL,
    [ENV.metricsNamespace]: METRICS_NAMESPACE,
    [ENV.websocketEndpoint]: input.websocketEndpoint ?? '',
    [ENV.vapidSecretArn]: input.vapidSecretArn ?? '',
    [ENV.vapidSubject]: input.vapidSubject ?? '',
    [ENV.wakeWindowSeconds]: String(input.wakeWindowSeconds ?? DEFAULT_WAKE_WINDOW_SECONDS),
    [ENV.pushAllowedHosts]: (input.pushAllowedHosts ?? DEFAULT_PUSH_ALLOWED_HOSTS).join(','),
    [ENV.attachmentMaxBytes]: String(input.attachmentMaxBytes ?? DEFAULT_ATTACHMENT_MAX_BYTES),
    [ENV.attachmentMultipartBytes]: String(
      input.attachmentMultipartBytes ?? DEFAULT_ATTACHMENT_MULTIPART_BYTES,
    ),
    [ENV.attachmentQuotaBytes]: String(
      input.attachmentQuotaBytes ?? DEFAULT_ATTACHMENT_QUOTA_BYTES,
    ),
    [ENV.reportRetentionDays]: String(input.reportRetentionDays ?? DEFAULT_REPORT_RETENTION_DAYS),
    [ENV.reportWindowDays]: String(input.reportWindowDays ?? DEFAULT_REPORT_WINDOW_DAYS),
  };
}

/** An environment as Node gives it (`process.env`) or a test builds it. */
export type Environment = Readonly<Record<string, string | undefined>>;

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:\S+$/;
const NAMESPACE = /^[^:\s][^:]{0,254}$/;
const HTTPS_URL = /^https:\/\/[^\s/?#]+(\/[^\s?#]*)?$/;

/** Problems found so far, and the readers that add to them. */
class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Environment) {}

  private raw(key: DeploymentEnvKey): string | undefined {
    const value = this.env[key];
    return value === undefined || value === '' ? undefined : value;
  }

  required(key: DeploymentEnvKey, pattern: RegExp, what: string): string {
    const value = this.raw(key);
    if (value === undefined) this.problems.push(`${key} is required (${what})`);
    else if (!pattern.test(value)) this.problems.push(`${key} must be ${what}`);
    return value ?? '';
  }

  optional(key: DeploymentEnvKey, fallback: string, pattern: RegExp, what: string): string {
    const value = this.raw(key) ?? fallback;
    if (!pattern.test(value)) this.problems.push(`${key} must be ${what}`);
    return value;
  }

  /** An optional variable without a default: undefined when unset or empty. */
  maybe(key: DeploymentEnvKey, pattern: RegExp, what: string): string | undefined {
    const value = this.raw(key);
    if (value !== undefined && !pattern.test(value)) this.problems.push(`${key} must be ${what}`);
    return value;
  }

  ttlDays(): number {
    const value = this.raw(ENV.messageTtlDays);
    if (value === undefined) return DEFAULT_MESSAGE_TTL_DAYS;
    const days = Number(value);
    if (!/^\d+$/.test(value) || days < 1 || days > MAX_MESSAGE_TTL_DAYS) {
      this.problems.push(`${ENV.messageTtlDays} must be an integer in 1..${MAX_MESSAGE_TTL_DAYS}`);
      return DEFAULT_MESSAGE_TTL_DAYS;
    }
    return days;
  }

  wakeWindowSeconds(): number {
    const value = this.raw(ENV.wakeWindowSeconds);
    if (value === undefined) return DEFAULT_WAKE_WINDOW_SECONDS;
    const seconds = Number(value);
    if (!/^\d+$/.test(value) || seconds < 1 || seconds > MAX_WAKE_WINDOW_SECONDS) {
      this.problems.push(
        `${ENV.wakeWindowSeconds} must be an integer in 1..${MAX_WAKE_WINDOW_SECONDS}`,
      );
      return DEFAULT_WAKE_WINDOW_SECONDS;
    }
    return seconds;
  }

  pushAllowedHosts(): readonly string[] {
    const value = this.raw(ENV.pushAllowedHosts);
    if (value === undefined) return DEFAULT_PUSH_ALLOWED_HOSTS;
    const hosts = parsePushHosts(value);
    if (hosts === undefined) {
      this.problems.push(
        `${ENV.pushAllowedHosts} must list 1..${MAX_PUSH_ALLOWED_HOSTS} lower-case host names, comma-separated (*.example.com for subdomains)`,
      );
      return DEFAULT_PUSH_ALLOWED_HOSTS;
    }
    return hosts;
  }

  /** A byte count in `min..max`, or the fallback (with a problem) when malformed. */
  bytes(key: DeploymentEnvKey, fallback: number, min: number, max: number, what: string): number {
    const value = this.raw(key);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^\d{1,16}$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
      this.problems.push(`${key} must be ${what}`);
      return fallback;
    }
    return n;
  }

  attachmentLimits(): DeploymentAttachmentLimits {
    const maxBytes = this.bytes(
      ENV.attachmentMaxBytes,
      DEFAULT_ATTACHMENT_MAX_BYTES,
      MIN_ATTACHMENT_MAX_BYTES,
      ATTACHMENT_BLOB_LIMIT,
      `an integer number of bytes in ${MIN_ATTACHMENT_MAX_BYTES}..${ATTACHMENT_BLOB_LIMIT}`,
    );
    const multipartBytes = this.bytes(
      ENV.attachmentMultipartBytes,
      DEFAULT_ATTACHMENT_MULTIPART_BYTES,
      MIN_ATTACHMENT_MULTIPART_BYTES,
      ATTACHMENT_BLOB_LIMIT,
      `an integer number of bytes in ${MIN_ATTACHMENT_MULTIPART_BYTES}..${ATTACHMENT_BLOB_LIMIT}`,
    );
    // The quota must hold one upload of the largest size, or that size could never be sent.
    const quotaBytes = this.bytes(
      ENV.attachmentQuotaBytes,
      Math.max(DEFAULT_ATTACHMENT_QUOTA_BYTES, maxBytes),
      maxBytes,
      Number.MAX_SAFE_INTEGER,
      `an integer number of bytes of at least ${ENV.attachmentMaxBytes}`,
    );
    return { maxBytes, multipartBytes, quotaBytes };
  }

  reportRetentionDays(): number {
    const value = this.raw(ENV.reportRetentionDays);
    if (value === undefined) return DEFAULT_REPORT_RETENTION_DAYS;
    const days = Number(value);
    if (!/^\d{1,5}$/.test(value) || days < 1 || days > MAX_REPORT_RETENTION_DAYS) {
      this.problems.push(
        `${ENV.reportRetentionDays} must be an integer in 1..${MAX_REPORT_RETENTION_DAYS}`,
      );
      return DEFAULT_REPORT_RETENTION_DAYS;
    }
    return days;
  }

  reportWindowDays(): number {
    const value = this.raw(ENV.reportWindowDays);
    if (value === undefined) return DEFAULT_REPORT_WINDOW_DAYS;
    const days = Number(value);
    if (!/^\d{1,3}$/.test(value) || days < 1 || days > MAX_REPORT_WINDOW_DAYS) {
      this.problems.push(
        `${ENV.reportWindowDays} must be an integer in 1..${MAX_REPORT_WINDOW_DAYS}`,
      );
      return DEFAULT_REPORT_WINDOW_DAYS;
    }
    return days;
  }

  logLevel(): DeploymentLogLevel {
    const value = this.raw(ENV.logLevel) ?? DEFAULT_LOG_LEVEL;
    if ((LOG_LEVELS as readonly string[]).includes(value)) return value as DeploymentLogLevel;
    this.problems.push(`${ENV.logLevel} must be one of: ${LOG_LEVELS.join(', ')}`);
    return DEFAULT_LOG_LEVEL;
  }

  done(): void {
    if (this.problems.length > 0) throw new DeploymentConfigError(this.problems);
  }
}

/**
 * Parses the service function's environment, reporting every problem in one error.
 *
 * @example
 * ```ts
 * const deployment = parseDeploymentEnv(process.env); // deployment.table, deployment.logLevel
 * ```
 * @throws {DeploymentConfigError} listing each missing or malformed variable
 */
export function parseDeploymentEnv(env: Environment): DeploymentConfig {
  const r = new Reader(env);
  const config = {
    table: r.required(ENV.table, TABLE_NAME, 'a DynamoDB table name'),
    bucket: r.required(ENV.bucket, BUCKET_NAME, 'an S3 bucket name'),
    signingSecretArn: r.required(ENV.signingSecretArn, SECRET_ARN, 'a Secrets Manager ARN'),
    messageTtlDays: r.ttlDays(),
    stage: r.optional(ENV.stage, DEFAULT_STAGE, STAGE_PATTERN, 'a stage name (a-z, 0-9, -)'),
    logLevel: r.logLevel(),
    metricsNamespace: r.optional(
      ENV.metricsNamespace,
      METRICS_NAMESPACE,
      NAMESPACE,
      'a CloudWatch namespace',
    ),
  };
  const envelopeBucket = r.maybe(ENV.envelopeBucket, BUCKET_NAME, 'an S3 bucket name');
  const websocketEndpoint = r.maybe(ENV.websocketEndpoint, HTTPS_URL, 'an https URL');
  const vapidSecretArn = r.maybe(ENV.vapidSecretArn, SECRET_ARN, 'a Secrets Manager ARN');
  const vapidSubject =
    vapidSecretArn === undefined
      ? undefined
      : r.required(ENV.vapidSubject, VAPID_SUBJECT_PATTERN, 'a mailto: or https: URL');
  const push = { wakeWindowSeconds: r.wakeWindowSeconds(), pushAllowedHosts: r.pushAllowedHosts() };
  const attachments = r.attachmentLimits();
  const reportRetentionDays = r.reportRetentionDays();
  const reportWindowDays = r.reportWindowDays();
  r.done();
  return {
    ...config,
    ...push,
    attachments,
    reportRetentionDays,
    reportWindowDays,
    ...(envelopeBucket === undefined ? {} : { envelopeBucket }),
    ...(websocketEndpoint === undefined ? {} : { websocketEndpoint }),
    ...(vapidSecretArn === undefined || vapidSubject === undefined
      ? {}
      : { vapid: { secretArn: vapidSecretArn, subject: vapidSubject } }),
  };
}

/**
 * The host list of {@link ENV.pushAllowedHosts}: comma-separated entries of
 * {@link PUSH_HOST_PATTERN}, surrounding spaces ignored, at most {@link MAX_PUSH_ALLOWED_HOSTS}.
 *
 * @example parsePushHosts('fcm.googleapis.com, *.push.apple.com') // ['fcm.googleapis.com', '*.push.apple.com']
 * @returns undefined if the list is empty, too long or has a malformed entry
 */
export function parsePushHosts(text: string): readonly string[] | undefined {
  const hosts = text
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '');
  if (hosts.length === 0 || hosts.length > MAX_PUSH_ALLOWED_HOSTS) return undefined;
  if (!hosts.every((h) => h.length <= 253 && PUSH_HOST_PATTERN.test(h))) return undefined;
  return hosts;
}

/**
 * Reads only the report retention (`SEALPOST_REPORT_RETENTION_DAYS`), for hosts that configure
 * the rest themselves (the local server, tests).
 *
 * @example readReportRetentionDays({ SEALPOST_REPORT_RETENTION_DAYS: '30' }) // 30
 * @throws {DeploymentConfigError} if it is set and not an integer in 1..3650
 */
export function readReportRetentionDays(env: Environment): number {
  const r = new Reader(env);
  const days = r.reportRetentionDays();
  r.done();
  return days;
}

/**
 * Reads only the message TTL (`SEALPOST_MESSAGE_TTL_DAYS`), for hosts that configure the rest
 * themselves (the local server, tests).
 *
 * @example readMessageTtlDays({ SEALPOST_MESSAGE_TTL_DAYS: '7' }) // 7
 * @throws {DeploymentConfigError} if it is set and not an integer in 1..365
 */
export function readMessageTtlDays(env: Environment): number {
  const r = new Reader(env);
  const days = r.ttlDays();
  r.done();
  return days;
}
