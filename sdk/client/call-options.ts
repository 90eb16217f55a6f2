/**
 * Per-call controls of every network operation (docs/SDK.md, "Call controls"): cancellation,
 * a timeout, and the observer hook. The HTTP client honours them on every request it makes for
 * the call, retries and the waits between them included; `SealpostClient` methods pass them
 * through.
 */

/**
 * Options every network method accepts as its last argument.
 *
 * @example
 * const controller = new AbortController();
 * await http.fetchMessages({}, { signal: controller.signal, timeoutMs: 5_000 });
 */
export interface CallOptions {
  /**
   * Aborts the call: the request in flight and any wait before a retry. The call then rejects
   * with `AbortedError` (code `ABORTED`) whose `cause` is the signal's reason; a signal that is
   * already aborted rejects before any request is made.
   */
  readonly signal?: AbortSignal;
  /**
   * Timeout of each request of this call in ms (each retry gets a fresh one); overrides the
   * client's `timeoutMs`. A request that takes longer is abandoned with `TimeoutError` (code
   * `TIMEOUT`, a `NetworkError`), which is retried like a network failure.
   */
  readonly timeoutMs?: number;
}

/** What an observer learns of one HTTP attempt: never a body, a header value, a key or plaintext. */
export interface RequestEvent {
  /** Operation id from the route table, e.g. `sendSealed`. */
  readonly operation: string;
  readonly method: string;
  /** The URL's origin (scheme, host, port); never its path or query (they name accounts). */
  readonly origin: string;
  /** 1 for the first attempt, then 2, 3, ... */
  readonly attempt: number;
  /** HTTP status, absent when no response arrived. */
  readonly status?: number;
  /** Error code when the attempt failed (`NETWORK`, `TIMEOUT`, `ABORTED`, an API error code, ...). */
  readonly error?: string;
  /** Milliseconds from sending the request to its outcome. */
  readonly durationMs: number;
  /** Present when the client will try again: the wait before the next attempt, in ms. */
  readonly retryInMs?: number;
}

/**
 * Receives one {@link RequestEvent} per attempt, after its outcome is known. It runs inside the
 * request path, so it should return quickly; whatever it throws (or a promise it returns
 * rejects with) is ignored and never breaks a request.
 *
 * @example
 * const onRequest: RequestObserver = (e) => metrics.timing(`sealpost.${e.operation}`, e.durationMs);
 */
export type RequestObserver = (event: RequestEvent) => void;
