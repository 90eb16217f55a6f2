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
import { DEFAULT_WAKE_WINDOW_SECONDS, readMessageTtlDays } from '../deployment.ts';

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
  wakeWindowMs: DEFAULT_WAKE_WINDOW_SECONDS * 1000,
};

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
