/**
 * One HTTP exchange of the client: the request and the whole response body under one timeout
 * and the caller's abort signal, with transport failures turned into typed errors that name the
 * operation, the server's origin and the cause's system error code (never the path, a header
 * value or a body).
 */
import { AbortedError, NetworkError, TimeoutError } from './errors.ts';

/** The subset of the WHATWG `fetch` the client uses. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** A response read in full. */
export interface Exchange {
  readonly status: number;
  readonly ok: boolean;
  readonly text: string;
  /** The `Retry-After` header, if any. */
  readonly retryAfter: string | null;
}

const CODE_PATTERN = /^[A-Z][A-Z0-9_]{1,39}$/;

function codeOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const code: unknown = Reflect.get(value, 'code');
  return typeof code === 'string' && CODE_PATTERN.test(code) ? code : undefined;
}

/**
 * The system error code behind a failed `fetch`: undici rejects with `TypeError('fetch failed')`
 * whose `cause` carries `code` (`ECONNREFUSED`, ...), or an `AggregateError` of one per address
 * tried. Only a well-formed code is returned, so nothing else of the cause reaches a message.
 *
 * @example causeCode(await fetch(url).catch((e) => e)) // 'ECONNREFUSED'
 */
export function causeCode(error: unknown): string | undefined {
  const direct = codeOf(error);
  if (direct) return direct;
  const cause: unknown =
    typeof error === 'object' && error !== null ? Reflect.get(error, 'cause') : undefined;
  const own = codeOf(cause);
  if (own) return own;
  if (cause instanceof AggregateError) {
    for (const inner of cause.errors) {
      const code = codeOf(inner);
      if (code) return code;
    }
  }
  return undefined;
}

/** The typed error of a transport failure. */
export function networkError(operation: string, origin: string, cause: unknown): NetworkError {
  const code = causeCode(cause);
  return new NetworkError(`${operation}: request to ${origin} failed${code ? ` (${code})` : ''}`, {
    operation,
    origin,
    cause,
    ...(code ? { causeCode: code } : {}),
  });
}

/**
 * Sends one request and reads its body. The timeout covers both; an abort of `signal` stops
 * both at once, even with a `fetch` that ignores its signal.
 *
 * @throws {AbortedError} when `signal` aborts (or had aborted).
 * @throws {TimeoutError} when `timeoutMs` passes first.
 * @throws {NetworkError} when the request fails or the body is cut off.
 */
export async function exchange(
  fetchFn: FetchLike,
  url: URL,
  init: RequestInit,
  ctx: {
    readonly operation: string;
    readonly timeoutMs: number;
    readonly signal: AbortSignal | undefined;
  },
): Promise<Exchange> {
  const { operation, signal } = ctx;
  if (signal?.aborted) throw new AbortedError(operation, signal.reason);
  const controller = new AbortController();
  let stopped: AbortedError | TimeoutError | undefined;
  let stop!: (err: AbortedError | TimeoutError) => void;
  const stopping = new Promise<never>((_, reject) => {
    stop = (err) => {
      stopped = err;
      reject(err);
      controller.abort(err);
    };
  });
  stopping.catch(() => undefined);
  const onAbort = () => stop(new AbortedError(operation, signal?.reason));
  signal?.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(
    () => stop(new TimeoutError(operation, url.origin, ctx.timeoutMs)),
    ctx.timeoutMs,
  );
  try {
    const res = await Promise.race([
      fetchFn(url.href, { ...init, signal: controller.signal }),
      stopping,
    ]);
    const text = await Promise.race([res.text(), stopping]);
    return { status: res.status, ok: res.ok, text, retryAfter: res.headers.get('retry-after') };
  } catch (cause) {
    throw stopped ?? networkError(operation, url.origin, cause);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}
