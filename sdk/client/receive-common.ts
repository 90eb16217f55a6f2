/**
 * What the polling loop (receive-loop.ts) and the WebSocket loop (realtime-loop.ts) share: the
 * streaming options, the backoff after transient failures, the connection states, the waits,
 * and the part of the polling loop a socket session drives. Kept apart so neither loop
 * imports the other.
 */
import { type Rng, randomFraction } from '../crypto/backend.ts';
import { ArgumentRangeError } from '../util/argument-errors.ts';
import type { DeliveredMessage } from '../wire/api/schemas.ts';
import type { CallOptions } from './call-options.ts';
import { SealpostClientError } from './errors.ts';
import type { IncomingMessage, ReceiveFailure } from './receiver.ts';

/** How a receive loop gets its messages; see `ReceiveStreamOptions.onConnectionState`. */
export type ConnectionState = 'connecting' | 'open' | 'polling' | 'closed';

/** A transient failure of the receive loop, reported before the loop waits and tries again. */
export interface ReceiveRetry {
  /** What failed: a retryable client error (`NETWORK`, `UNAVAILABLE`, `RATE_LIMITED`, …). */
  readonly error: SealpostClientError;
  /** Consecutive failures so far, 1 for the first. */
  readonly attempt: number;
  /** How long the loop waits before it tries again (ms). */
  readonly delayMs: number;
}

/** Backoff of the receive loop after transient failures. */
export interface ReceiveBackoff {
  /** Upper bound of the first wait (ms); doubles per consecutive failure. @default 1000 */
  readonly initialDelayMs?: number;
  /** Upper bound of any wait (ms). @default 60000 */
  readonly maxDelayMs?: number;
}

/** Options of the streaming receive (`SealpostClient.receive`). */
export interface ReceiveStreamOptions extends CallOptions {
  /** How long to wait before polling an empty mailbox again (ms). @default 1000 */
  readonly pollIntervalMs?: number;
  /** Told about every message that was not delivered to the app. */
  readonly onFailure?: (failure: ReceiveFailure) => void;
  /** Told about every transient failure the loop rides out (it then waits and tries again). */
  readonly onRetry?: (retry: ReceiveRetry) => void;
  /** Backoff after transient failures (of requests, and of WebSocket connections). */
  readonly backoff?: ReceiveBackoff;
  /**
   * Told how messages arrive (docs/SDK.md §Receiving, "Realtime"): `connecting` (a WebSocket
   * is being opened, or is open and still delivering the backlog), `open` (live: the backlog
   * is delivered and new messages are pushed), `polling` (no WebSocket: fetching over HTTP),
   * `closed` (the loop ended). An observer that throws does not end the loop.
   */
  readonly onConnectionState?: (state: ConnectionState) => void;
}

/** Default upper bound of the first wait after a transient failure (ms). */
export const DEFAULT_RECEIVE_BACKOFF = { initialDelayMs: 1_000, maxDelayMs: 60_000 } as const;

/**
 * Bounds the last acknowledgement of a loop ended by its signal (retries included), which can
 * no longer carry the aborted signal: the loop ends within this long even when the service is
 * unreachable.
 */
export const EXIT_ACK_TIMEOUT_MS = 2_000;

/**
 * True for a failure the receive loop waits out: a client error marked retryable (network
 * failures and timeouts, `UNAVAILABLE`, `RATE_LIMITED`, `INTERNAL`). Anything else (e.g.
 * `UNAUTHORIZED` once this device was removed, `ABORTED`) ends the loop.
 *
 * @example if (isTransient(err)) await backoff();
 */
export function isTransient(err: unknown): err is SealpostClientError {
  return err instanceof SealpostClientError && err.retryable;
}

/** The bounds of `backoff` with defaults applied; checked before the loop starts. */
export function backoffBounds(backoff: ReceiveBackoff): { initial: number; max: number } {
  const initial = backoff.initialDelayMs ?? DEFAULT_RECEIVE_BACKOFF.initialDelayMs;
  const max = backoff.maxDelayMs ?? Math.max(initial, DEFAULT_RECEIVE_BACKOFF.maxDelayMs);
  if (!(initial > 0 && max >= initial && Number.isFinite(max))) {
    throw new ArgumentRangeError('backoff must satisfy 0 < initialDelayMs <= maxDelayMs');
  }
  return { initial, max };
}

/**
 * The wait after `attempt` consecutive failures (1-based): "equal jitter", uniformly in
 * [cap/2, cap] with `cap = min(max, initial * 2^(attempt-1))`, and never shorter than the
 * server's `Retry-After` (`retryAfterMs`, itself capped at the maximum).
 *
 * @throws {RangeError} if the bounds are not 0 < initialDelayMs <= maxDelayMs (finite).
 * @example receiveRetryDelay(3, {}, rng) // between 2000 and 4000
 */
export function receiveRetryDelay(
  attempt: number,
  backoff: ReceiveBackoff,
  rng: Rng,
  retryAfterMs?: number,
): number {
  const { initial, max } = backoffBounds(backoff);
  const cap = Math.min(max, initial * 2 ** Math.min(attempt - 1, 52));
  const u = randomFraction(rng);
  const jittered = Math.round(cap / 2 + (u * cap) / 2);
  return Math.max(jittered, Math.min(retryAfterMs ?? 0, max));
}

/**
 * Resolves after `ms`, or at once when `signal` aborts.
 *
 * @example await sleep(1000, signal);
 */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * An abort signal that aborts with the first of `a` and `b` to abort.
 *
 * @example await sleep(ms, anySignal(signal, AbortSignal.timeout(5_000)));
 */
export function anySignal(a: AbortSignal | undefined, b: AbortSignal): AbortSignal {
  return a ? AbortSignal.any([a, b]) : b;
}

/** The part of the polling loop a WebSocket session drives (implemented by `ReceiveLoop`). */
export interface MessagePump {
  /** Polls over HTTP (acknowledging `unacked` first) until `until` or the options' signal. */
  poll(
    options: ReceiveStreamOptions,
    unacked: string[],
    until?: AbortSignal,
  ): AsyncGenerator<IncomingMessage, void, undefined>;
  /** Delivers one message through the receiver and its atomic commit; `ack` takes its id. */
  deliver(
    message: DeliveredMessage,
    options: ReceiveStreamOptions,
    ack: (messageId: string) => void,
  ): AsyncGenerator<IncomingMessage, void, undefined>;
}
