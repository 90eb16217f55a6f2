/**
 * Tunable limits of the service (docs/SERVICE.md §Limits). The composition root
 * builds one from the environment; tests pass their own.
 */
import {
  DEFAULT_MESSAGE_TTL_DAYS,
  MAX_DEVICES,
  MAX_STORED_PREKEYS,
  SENDER_CERTIFICATE_LIFETIME_MS,
  SIGNATURE_WINDOW_MS,
} from 'sealpost/wire/api';

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
}

const DAY_MS = 24 * 60 * 60 * 1000;

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
};

/**
 * The config from `SEALPOST_MESSAGE_TTL_DAYS` (default 30) over the defaults.
 *
 * @example configFromEnv(process.env).messageTtlMs
 * @throws {RangeError} if the TTL is not an integer number of days in 1..365.
 */
export function configFromEnv(env: Record<string, string | undefined>): ServiceConfig {
  const raw = env['SEALPOST_MESSAGE_TTL_DAYS'];
  if (raw === undefined || raw === '') return DEFAULT_CONFIG;
  const days = Number(raw);
  if (!Number.isInteger(days) || days < 1 || days > 365) {
    throw new RangeError('SEALPOST_MESSAGE_TTL_DAYS must be an integer in 1..365');
  }
  return { ...DEFAULT_CONFIG, messageTtlMs: days * DAY_MS };
}
