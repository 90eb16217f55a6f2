/**
 * Requests to the object store's presigned URLs (docs/SDK.md §Attachments): through the
 * client's own `fetch` (so the test kit and any app-provided transport carry them as they carry
 * API calls), under the call's abort signal and a timeout, with transport failures turned into
 * the client's typed errors. Errors and observers name the store's origin, never the URL's path
 * or query (they hold the object id and the presigned signature).
 */

import { AbortedError, TimeoutError, TransferFailedError } from '../errors.ts';
import type { FetchLike } from '../http-client.ts';
import { networkError } from '../http-transport.ts';

/**
 * Slowest transfer rate a request's timeout allows for, in bytes per second: an upload of
 * `n` bytes may take `timeoutMs + n / MIN_TRANSFER_RATE` seconds (a 16 MiB part: the timeout
 * plus 256 s).
 */
export const MIN_TRANSFER_RATE = 64 * 1024;

/** How the client reaches the object store. */
export interface TransferContext {
  readonly fetch: FetchLike;
  /** The client's per-request timeout (ms), unless a call gives its own. */
  readonly timeoutMs: number;
}

/** What one request of a transfer is. */
export interface TransferRequest {
  /** `uploadForm`, `uploadPart`, `downloadBlob`, `checkBlob`: names it in errors. */
  readonly operation: string;
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
}

/** An answer of the store whose body is still to be read. */
export interface OpenedTransfer {
  readonly response: Response;
  readonly origin: string;
  /**
   * The body, each read bounded by the timeout and the signal. Reads raise `NetworkError`,
   * `TimeoutError` or `AbortedError`; leaving the loop early cancels the body.
   */
  chunks(): AsyncGenerator<Uint8Array, void, undefined>;
  /** Drops the body unread (a failed or unneeded answer). */
  discard(): Promise<void>;
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'unknown';
  }
}

/**
 * Runs `step` until it settles, or rejects as soon as `signal` aborts or `timeoutMs` passes,
 * calling `onStop` (which aborts the request) in those cases.
 */
async function bounded<T>(
  step: Promise<T>,
  ctx: { operation: string; origin: string; timeoutMs: number; signal: AbortSignal | undefined },
  onStop: (reason: Error) => void,
): Promise<T> {
  const { operation, signal } = ctx;
  if (signal?.aborted) {
    const err = new AbortedError(operation, signal.reason);
    onStop(err);
    throw err;
  }
  let stop!: (err: Error) => void;
  const stopping = new Promise<never>((_, reject) => {
    stop = (err) => {
      reject(err);
      onStop(err);
    };
  });
  stopping.catch(() => undefined);
  const onAbort = () => stop(new AbortedError(operation, signal?.reason));
  signal?.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(
    () => stop(new TimeoutError(operation, ctx.origin, ctx.timeoutMs)),
    ctx.timeoutMs,
  );
  try {
    return await Promise.race([step, stopping]);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Sends one request to the store and waits for its status and headers (the timeout covers
 * the request body). The body is read through {@link OpenedTransfer.chunks}.
 *
 * @throws {AbortedError} when `signal` aborts (or had aborted).
 * @throws {TimeoutError} when `timeoutMs` passes first.
 * @throws {NetworkError} when the request fails.
 * @example const opened = await openTransfer(ctx, url, { method: 'GET' }, request);
 */
export async function openTransfer(
  ctx: TransferContext,
  url: string,
  init: RequestInit,
  request: TransferRequest,
): Promise<OpenedTransfer> {
  const origin = originOf(url);
  const controller = new AbortController();
  const bounds = { ...request, origin };
  const stopRequest = (reason: Error) => controller.abort(reason);
  let response: Response;
  try {
    response = await bounded(
      Promise.resolve().then(() => ctx.fetch(url, { ...init, signal: controller.signal })),
      bounds,
      stopRequest,
    );
  } catch (cause) {
    if (cause instanceof AbortedError || cause instanceof TimeoutError) throw cause;
    throw networkError(request.operation, origin, cause);
  }
  const body = response.body;
  return {
    response,
    origin,
    async *chunks() {
      if (!body) return;
      const reader = body.getReader();
      let done = false;
      try {
        for (;;) {
          let next: ReadableStreamReadResult<Uint8Array>;
          try {
            next = await bounded(reader.read(), bounds, stopRequest);
          } catch (cause) {
            if (cause instanceof AbortedError || cause instanceof TimeoutError) throw cause;
            throw networkError(request.operation, origin, cause);
          }
          if (next.done) {
            done = true;
            return;
          }
          yield next.value;
        }
      } finally {
        if (!done) await reader.cancel().catch(() => undefined);
        try {
          reader.releaseLock();
        } catch {
          // A read still pending after an abort: the cancel above already ended the body.
        }
      }
    },
    async discard() {
      await body?.cancel().catch(() => undefined);
    },
  };
}

/**
 * The timeout of a request that carries `bytes`: the base timeout plus the time
 * {@link MIN_TRANSFER_RATE} needs for them.
 *
 * @example transferTimeoutMs(30_000, 16 * 1024 * 1024) // 286000
 */
export function transferTimeoutMs(timeoutMs: number, bytes: number): number {
  return Math.min(2_147_483_647, timeoutMs + Math.ceil((bytes * 1000) / MIN_TRANSFER_RATE));
}

/**
 * The typed error of a store answer that is not a success (404 is the caller's to judge).
 *
 * @example throw transferFailure('uploadPart', opened);
 */
export function transferFailure(operation: string, opened: OpenedTransfer): TransferFailedError {
  const status = opened.response.status;
  return new TransferFailedError(
    `${operation}: the object store at ${opened.origin} answered ${status}`,
    { operation, origin: opened.origin, status },
  );
}

/**
 * Whether the object store's answer to a freshly presigned GET means "no such blob": `404`, or
 * S3's `403 AccessDenied`, which is what it answers for a missing key when the signer may not
 * list the bucket (docs/SERVICE.md §7.6); the URL itself was issued a moment ago.
 *
 * @example isMissing(403) // true
 */
export function isMissing(status: number): boolean {
  return status === 404 || status === 403;
}
