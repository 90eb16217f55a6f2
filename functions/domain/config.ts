/**
 * Tunable limits of the service (docs/SERVICE.md §Limits). The composition root
 * builds one from the environment; tests pass their own.
 */
import {
  ATTACHMENT_BLOB_LIMIT,
  DEFAULT_ATTACHMENT_MAX_BYTES,
  DEFAULT_MESSAGE_TTL_DAYS,
  MAX_DEVICES,
  MAX_STORED_PREKEYS,
  SENDER_CERTIFICATE_LIFETIME_MS,
  SIGNATURE_WINDOW_MS,
} from 'sealpost/wire/api';
import {
  DEFAULT_ATTACHMENT_MULTIPART_BYTES,
  DEFAULT_ATTACHMENT_QUOTA_BYTES,
  DEFAULT_REPORT_RETENTION_DAYS,
  DEFAULT_REPORT_WINDOW_DAYS,
  DEFAULT_WAKE_WINDOW_SECONDS,
  MAX_REPORT_WINDOW_DAYS,
  readMessageTtlDays,
} from '../deployment.ts';

/** A fixed-window rate limit. */
export interface RateLimit {
  readonly limit: number;
  readonly windowMs: number;
}

/** Every tunable of the domain services. */
export interface ServiceConfig {
  readonly messageTtlMs: number;
  /**
   * Envelopes up to this size are stored inline in the index item instead of in S3. 0 (the
   * default) keeps every envelope in S3; a deployment may raise it (operator choice, §8.3).
   */
  readonly inlineMaxBytes: number;
  /** Exact per-device-mailbox quota, enforced by the counter's conditional write (§7.1). */
  readonly mailboxMaxMessages: number;
  readonly mailboxMaxBytes: number;
  readonly maxDevices: number;
  readonly maxStoredPrekeys: number;
  readonly signatureWindowMs: number;
  readonly senderCertificateLifetimeMs: number;
  /** Bundle fetches per requester account and target account. */
  readonly bundleRateLimit: RateLimit;
  /** Identified sends per sender account and recipient account. */
  readonly identifiedSendRateLimit: RateLimit;
  /**
   * Device lists of another account per requester account and target account (own account
   * exempt). Larger than the bundle limit: clients re-list when an unknown device of a
   * contact writes to them.
   */
  readonly deviceListRateLimit: RateLimit;
  /**
   * A device without a live connection is woken (Web Push) at most once per this window
   * however many messages arrive for it (docs/SERVICE.md §7.3); the deployment's
   * `SEALPOST_WAKE_WINDOW_SECONDS`.
   */
  readonly wakeWindowMs: number;
  /**
   * Largest attachment blob (the padded, encrypted size) an upload may declare
   * (docs/SERVICE.md §7.6); at most `ATTACHMENT_BLOB_LIMIT`. `SEALPOST_ATTACHMENT_MAX_BYTES`.
   */
  readonly attachmentMaxBytes: number;
  /**
   * Blobs up to this size are uploaded with one presigned form (POST), larger ones as a
   * multipart upload. `SEALPOST_ATTACHMENT_MULTIPART_BYTES`.
   */
  readonly attachmentMultipartBytes: number;
  /**
   * Part size of a multipart upload (S3: at least 5 MiB, except the last part). Raised in whole
   * MiB when a blob would otherwise need more than `MAX_ATTACHMENT_PARTS` parts.
   */
  readonly attachmentPartSize: number;
  /** Lifetime of presigned upload targets (a form, part URLs). */
  readonly attachmentUploadTtlMs: number;
  /** Lifetime of a presigned download URL. */
  readonly attachmentDownloadTtlMs: number;
  /** How long an upload may run before its session is forgotten (complete or abort before). */
  readonly attachmentSessionTtlMs: number;
  /** Uploads an account may start (`POST /v1/attachments`) per window. */
  readonly attachmentUploadRateLimit: RateLimit;
  /** Bytes an account may reserve for uploads per UTC day. */
  readonly attachmentBytesPerDay: number;
  /**
   * Bytes an account may have reserved over the retention period (the message lifetime: a
   * pointer to an attachment travels in a message). `SEALPOST_ATTACHMENT_QUOTA_BYTES`.
   */
  readonly attachmentStorageQuota: number;
  /** Reports a reporting account may submit per window (docs/SERVICE.md §14.1). */
  readonly reportRateLimit: RateLimit;
  /** How long a verified report is kept: `SEALPOST_REPORT_RETENTION_DAYS` (§14.3). */
  readonly reportRetentionMs: number;
  /** How long the function reuses a signed revocation list it built (§14.6). */
  readonly revocationCacheMs: number;
  /**
   * How long after its receipt a message may be reported (docs/PROTOCOL.md §11.6): older
   * reports are refused as `too old`. `SEALPOST_REPORT_WINDOW_DAYS` (1..180, default 30).
   */
  readonly reportWindowMs: number;
  /**
   * Anonymous tokens an account may take per UTC day (`POST /v1/tokens`, docs/SERVICE.md
   * §15.2); one batch is at most 20.
   */
  readonly tokenQuotaPerDay: number;
  /** The daily token quota of an account younger than {@link ServiceConfig.newAccountAgeMs}. */
  readonly newAccountTokenQuotaPerDay: number;
  /** How long an account counts as new for the token quota. */
  readonly newAccountAgeMs: number;
  /**
   * Message requests (token-paid sealed sends) a recipient takes per UTC day
   * (`REQUEST_LIMIT` beyond; docs/SERVICE.md §15.3).
   */
  readonly requestsPerRecipientPerDay: number;
  /** Sealed bundle fetches one token pays for (it is not spent by them). */
  readonly bundleFetchesPerToken: number;
  /**
   * Sealed bundle fetches of a recipient's bundles with its access key or, for an `anyone`
   * recipient, with nothing (per recipient account; token-paid fetches are bounded per token).
   */
  readonly sealedBundleRateLimit: RateLimit;
  /**
   * Sealed device-list reads of an account (`GET /v1/sealed/devices/{address}`, docs/SERVICE.md
   * §15.6) with its access key or, for an `anyone` account, with nothing, per listed account.
   * Larger than the sealed bundle limit: every contact that gets a message from a new device of
   * the account reads its list once.
   */
  readonly sealedDeviceListRateLimit: RateLimit;
  /** A spent-token record outlives its key's `notAfter` by this much (clock differences). */
  readonly spentTokenMarginMs: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

/** Defaults, each justified in docs/SERVICE.md. */
export const DEFAULT_CONFIG: ServiceConfig = {
  messageTtlMs: DEFAULT_MESSAGE_TTL_DAYS * DAY_MS,
  inlineMaxBytes: 0,
  mailboxMaxMessages: 5000,
  mailboxMaxBytes: 128 * 1024 * 1024,
  maxDevices: MAX_DEVICES,
  maxStoredPrekeys: MAX_STORED_PREKEYS,
  signatureWindowMs: SIGNATURE_WINDOW_MS,
  senderCertificateLifetimeMs: SENDER_CERTIFICATE_LIFETIME_MS,
  bundleRateLimit: { limit: 10, windowMs: 10 * 60 * 1000 },
  identifiedSendRateLimit: { limit: 30, windowMs: 10 * 60 * 1000 },
  deviceListRateLimit: { limit: 20, windowMs: 10 * 60 * 1000 },
  wakeWindowMs: DEFAULT_WAKE_WINDOW_SECONDS * 1000,
  attachmentMaxBytes: DEFAULT_ATTACHMENT_MAX_BYTES,
  attachmentMultipartBytes: DEFAULT_ATTACHMENT_MULTIPART_BYTES,
  attachmentPartSize: 16 * MIB,
  attachmentUploadTtlMs: 15 * 60 * 1000,
  attachmentDownloadTtlMs: 10 * 60 * 1000,
  attachmentSessionTtlMs: DAY_MS,
  attachmentUploadRateLimit: { limit: 100, windowMs: 60 * 60 * 1000 },
  attachmentBytesPerDay: 2 * GIB,
  attachmentStorageQuota: DEFAULT_ATTACHMENT_QUOTA_BYTES,
  reportRateLimit: { limit: 20, windowMs: 60 * 60 * 1000 },
  reportRetentionMs: DEFAULT_REPORT_RETENTION_DAYS * DAY_MS,
  revocationCacheMs: 60 * 1000,
  reportWindowMs: DEFAULT_REPORT_WINDOW_DAYS * DAY_MS,
  tokenQuotaPerDay: 20,
  newAccountTokenQuotaPerDay: 5,
  newAccountAgeMs: 7 * DAY_MS,
  requestsPerRecipientPerDay: 100,
  bundleFetchesPerToken: 4,
  sealedBundleRateLimit: { limit: 120, windowMs: 60 * 60 * 1000 },
  sealedDeviceListRateLimit: { limit: 600, windowMs: 60 * 60 * 1000 },
  spentTokenMarginMs: 60 * 60 * 1000,
};

/**
 * `config` with a report window of `days` (the deployment's `SEALPOST_REPORT_WINDOW_DAYS`).
 *
 * @example withReportWindowDays(DEFAULT_CONFIG, 7).reportWindowMs // 604_800_000
 * @throws {RangeError} if `days` is not an integer in 1..180
 */
export function withReportWindowDays(config: ServiceConfig, days: number): ServiceConfig {
  if (!Number.isInteger(days) || days < 1 || days > MAX_REPORT_WINDOW_DAYS) {
    throw new RangeError(`report window must be an integer in 1..${MAX_REPORT_WINDOW_DAYS} days`);
  }
  return { ...config, reportWindowMs: days * DAY_MS };
}

/**
 * `config` with a report retention of `days` (the deployment's
 * `SEALPOST_REPORT_RETENTION_DAYS`, already validated by the deployment contract).
 *
 * @example withReportRetentionDays(DEFAULT_CONFIG, 30).reportRetentionMs // 2_592_000_000
 * @throws {RangeError} if `days` is not a positive integer
 */
export function withReportRetentionDays(config: ServiceConfig, days: number): ServiceConfig {
  if (!Number.isInteger(days) || days < 1) {
    throw new RangeError('report retention must be a positive integer number of days');
  }
  return { ...config, reportRetentionMs: days * DAY_MS };
}

/** The deployment's attachment limits (functions/deployment.ts, already validated there). */
export interface AttachmentLimits {
  readonly maxBytes: number;
  readonly multipartBytes: number;
  readonly quotaBytes: number;
}

/**
 * `config` with a deployment's attachment limits. The bytes per day are raised to the
 * largest blob when that is larger, so every allowed size can be uploaded on some day.
 *
 * @example withAttachmentLimits(DEFAULT_CONFIG, { maxBytes: 2 ** 30, multipartBytes: 64 * 2 ** 20, quotaBytes: 10 * 2 ** 30 })
 * @throws {RangeError} if `maxBytes` is not an integer in 1..ATTACHMENT_BLOB_LIMIT, or
 *   `multipartBytes` or `quotaBytes` is not a positive integer, or `quotaBytes < maxBytes`.
 */
export function withAttachmentLimits(
  config: ServiceConfig,
  limits: AttachmentLimits,
): ServiceConfig {
  const { maxBytes, multipartBytes, quotaBytes } = limits;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1 || maxBytes > ATTACHMENT_BLOB_LIMIT) {
    throw new RangeError('maxBytes must be an integer in 1..ATTACHMENT_BLOB_LIMIT');
  }
  if (!Number.isSafeInteger(multipartBytes) || multipartBytes < 1) {
    throw new RangeError('multipartBytes must be a positive integer');
  }
  if (!Number.isSafeInteger(quotaBytes) || quotaBytes < maxBytes) {
    throw new RangeError('quotaBytes must be an integer of at least maxBytes');
  }
  return {
    ...config,
    attachmentMaxBytes: maxBytes,
    attachmentMultipartBytes: multipartBytes,
    attachmentStorageQuota: quotaBytes,
    attachmentBytesPerDay: Math.max(config.attachmentBytesPerDay, maxBytes),
  };
}

/**
 * The defaults with a message TTL of `days` (the deployment's `SEALPOST_MESSAGE_TTL_DAYS`,
 * already validated by the deployment contract).
 *
 * @example withMessageTtlDays(7).messageTtlMs // 604_800_000
 * @throws {RangeError} if `days` is not a positive integer
 */
export function withMessageTtlDays(days: number): ServiceConfig {
  if (!Number.isInteger(days) || days < 1) {
    throw new RangeError('message TTL must be a positive integer number of days');
  }
  return days === DEFAULT_MESSAGE_TTL_DAYS
    ? DEFAULT_CONFIG
    : { ...DEFAULT_CONFIG, messageTtlMs: days * DAY_MS };
}

/**
 * The config from `SEALPOST_MESSAGE_TTL_DAYS` (default 30) over the defaults.
 *
 * @example configFromEnv(process.env).messageTtlMs
 * @throws {RangeError} (a `DeploymentConfigError`) if the TTL is set and not an integer
 *   number of days in 1..365.
 */
export function configFromEnv(env: Record<string, string | undefined>): ServiceConfig {
  return withMessageTtlDays(readMessageTtlDays(env));
}
