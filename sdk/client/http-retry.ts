/**
 * When the HTTP client tries a request again, and how long it waits first (docs/SDK.md, "Call
 * controls"). A retry needs two things: a failure that is transient, and an operation that
 * cannot do anything twice when its first attempt had an unknown outcome (the route table's
 * `idempotent`, docs/SERVICE.md §2).
 *
 * - Network failures and timeouts: retried for idempotent operations; for the others only when
 *   the request never left (connection refused, name not resolved).
 * - `503 UNAVAILABLE`: retried for idempotent operations.
 * - `429` (`RATE_LIMITED`, `MAILBOX_FULL`): retried only when the answer carries a
 *   `Retry-After` (the server did nothing and said when to come back); rate windows are long, so
 *   retrying blindly would only spend the budget.
 * - A `Retry-After` (seconds or an HTTP date) is waited for when it is at most
 *   `MAX_RETRY_AFTER_MS`; a longer one ends the call with the error (`retryAfterMs` set), so the
 *   app can schedule it. Otherwise the wait is exponential (100 ms, 400 ms, 1.6 s, ... capped at
 *   `MAX_BACKOFF_MS`) with jitter: a uniform draw from the upper half of the step.
 */
import { AbortedError, ApiError, NetworkError } from './errors.ts';

/** Extra attempts after the first, by default. */
export const DEFAULT_RETRIES = 2;

/** Most extra attempts a client accepts. */
export const MAX_RETRIES = 10;

/** Timeout of one request by default, in ms. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/** First backoff step in ms; each further step is four times the previous one. */
export const BASE_BACKOFF_MS = 100;

/** Longest backoff step in ms. */
export const MAX_BACKOFF_MS = 10_000;

/** Longest `Retry-After` the client waits for, in ms; a longer one ends the call. */
export const MAX_RETRY_AFTER_MS = 60_000;

/** Cause codes of a request that never left this machine, so retrying it repeats nothing. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * The wait before retry number `retry` (0 for the first retry), given `unit`, a uniform draw
 * in `[0, 1)`.
 *
 * @example backoffMs(1, 0.5) // 300: the step is 400 ms, jittered into 200..400
 */
export function backoffMs(retry: number, unit: number): number {
  const step = Math.min(BASE_BACKOFF_MS * 4 ** retry, MAX_BACKOFF_MS);
  return Math.round(step / 2 + (step / 2) * unit);
}

/**
 * A `Retry-After` header value in ms from `now`: delta seconds or an HTTP date; undefined when
 * absent or unreadable. A date in the past is 0.
 *
 * @example parseRetryAfter('3', Date.now()) // 3000
 * @example parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', now)
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^[0-9]{1,10}$/.test(text)) return Number(text) * 1000;
  if (!/^[A-Za-z]{3}, [0-9]{2} [A-Za-z]{3} [0-9]{4} [0-9:]{8} GMT$/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * How long to wait before retrying after `err`, or undefined when the call must end with it.
 * `retry` counts the retries already made (0 before the first).
 *
 * @example retryDelay(err, { idempotent: true, retry: 0, retries: 2, unit: Math.random() })
 */
export function retryDelay(
  err: unknown,
  ctx: {
    readonly idempotent: boolean;
    readonly retry: number;
    readonly retries: number;
    readonly unit: number;
  },
): number | undefined {
  if (ctx.retry >= ctx.retries || err instanceof AbortedError) return undefined;
  if (err instanceof NetworkError) {
    const safe = ctx.idempotent || (err.causeCode !== undefined && NOT_SENT.has(err.causeCode));
    return safe ? backoffMs(ctx.retry, ctx.unit) : undefined;
  }
  if (!(err instanceof ApiError)) return undefined;
  const after = err.retryAfterMs;
  if (after !== undefined && after > MAX_RETRY_AFTER_MS) return undefined;
  if (err.status === 429) return after;
  if (err.code === 'UNAVAILABLE' && ctx.idempotent) return after ?? backoffMs(ctx.retry, ctx.unit);
  return undefined;
}

/**
 * Waits `ms`, or rejects with {@link AbortedError} as soon as `signal` aborts.
 *
 * @example await abortableSleep(400, signal, 'sendSealed');
 * @throws {AbortedError} when the signal aborts before the time is up.
 */
export function abortableSleep(
  ms: number,
  signal: AbortSignal | undefined,
  operation: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError(operation, signal.reason));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError(operation, signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
