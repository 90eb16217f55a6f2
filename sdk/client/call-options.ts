/**
 * Per-call controls of every network operation (docs/SDK.md, "Call controls"): cancellation,
 * a timeout, and the observer hook. The HTTP client honours them on every request it makes for
 * the call, retries included; `SealpostClient` methods pass them through.
 */

/** Options every network method accepts as its last argument. */
export interface CallOptions {
  /** Aborts the call (and any retry or backoff wait); the call rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Per-request timeout in ms; overrides the client's default for this call. */
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
  /** Error code when the attempt failed (`NETWORK_ERROR`, `TIMEOUT`, an API error code, ...). */
  readonly error?: string;
  /** Milliseconds from sending the request to its outcome. */
  readonly durationMs: number;
}

/** Receives one {@link RequestEvent} per attempt; must not throw (what it throws is ignored). */
export type RequestObserver = (event: RequestEvent) => void;
