/**
 * The device's WebSocket (docs/SERVICE.md §7.3, docs/SDK.md §Receiving, "Realtime"): the
 * owner-signed connect URL and one connection as a queue of server frames. Runtime-neutral: it
 * speaks to any constructor with the browser `WebSocket` surface (the platform's, or one the app
 * passes in, e.g. the `ws` package's on Node 20), and imports no WebSocket library itself.
 */

import { ArgumentTypeError } from '../util/argument-errors.ts';
import {
  type ClientFrame,
  CONNECT_QUERY,
  parseServerFrame,
  REALTIME_PATH,
  type ServerFrame,
} from '../wire/api/realtime.ts';
import { AUTH_HEADERS } from '../wire/api/signing.ts';
import { AbortedError, NetworkError, TimeoutError } from './errors.ts';

/** The part of a browser `WebSocket` the SDK uses. */
export interface WebSocketLike {
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { readonly data: unknown }) => void): void;
  addEventListener(type: 'error', listener: () => void): void;
  addEventListener(
    type: 'close',
    listener: (event: { readonly code: number; readonly reason: string }) => void,
  ): void;
}

/**
 * A WebSocket class: `globalThis.WebSocket` in browsers and Node 22+, or e.g. the `ws`
 * package's `WebSocket` on Node 20.
 */
export type WebSocketConstructorLike = new (url: string) => WebSocketLike;

/**
 * How often a `keepalive` frame keeps a connection open: API Gateway closes one idle for 10
 * minutes. Two minutes of margin cover a hidden browser tab, whose timers may fire up to a
 * minute late. Each costs one WebSocket message and no function call (docs/SERVICE.md §7.3).
 */
export const KEEPALIVE_INTERVAL_MS = 8 * 60 * 1000;

/** A connection is replaced by a fresh one after this long (API Gateway ends it at 2 hours). */
export const MAX_CONNECTION_AGE_MS = 115 * 60 * 1000;

/** How long a connect may take before it counts as failed. */
export const CONNECT_TIMEOUT_MS = 30_000;

const OPEN = 1;
const NORMAL_CLOSURE = 1000;

/**
 * The platform's WebSocket class unless `option` is `false` (polling) or a class of its own.
 *
 * @example webSocketClass(undefined) // globalThis.WebSocket, or undefined on Node 20
 */
export function webSocketClass(
  option: WebSocketConstructorLike | false | undefined,
): WebSocketConstructorLike | undefined {
  if (option === false) return undefined;
  if (option !== undefined) return option;
  return (globalThis as { WebSocket?: WebSocketConstructorLike }).WebSocket;
}

/**
 * The WebSocket endpoint: `realtimeUrl` when given (e.g. API Gateway's
 * `wss://{id}.execute-api.{region}.amazonaws.com/v1`), else `baseUrl` with `ws:`/`wss:` for
 * `http:`/`https:` and {@link REALTIME_PATH}.
 *
 * @example realtimeEndpoint('https://api.example.com') // 'wss://api.example.com/v1/websocket'
 * @throws {ArgumentTypeError} if `realtimeUrl` is not an absolute ws(s) URL, or (without it)
 *   `baseUrl` is not an http(s) URL.
 */
export function realtimeEndpoint(baseUrl: string, realtimeUrl?: string): string {
  if (realtimeUrl !== undefined) {
    let url: URL | undefined;
    try {
      url = typeof realtimeUrl === 'string' ? new URL(realtimeUrl) : undefined;
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'ws:' && url.protocol !== 'wss:')) {
      throw new ArgumentTypeError('realtimeUrl must be an absolute ws: or wss: URL');
    }
    return url.href;
  }
  let url: URL;
  try {
    url = new URL(`${baseUrl.replace(/\/+$/, '')}${REALTIME_PATH}`);
  } catch (cause) {
    throw new ArgumentTypeError('baseUrl must be an http(s) URL', { cause });
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  else throw new ArgumentTypeError('baseUrl must be an http(s) URL');
  return url.href;
}

/** The owner-auth fields of a connect, each a {@link CONNECT_QUERY} parameter. */
const SIGNED_FIELDS = ['address', 'device', 'timestamp', 'nonce', 'signature'] as const;

/**
 * The connect URL: `endpoint` (from {@link realtimeEndpoint}) with the five owner-auth fields of
 * `headers` as {@link CONNECT_QUERY} parameters, and `payloads=1`: message frames carry the
 * shared payload of a multi-recipient message (docs/PROTOCOL.md §14.6; not signed, it only
 * selects the frame format). The signature is over `GET` of {@link REALTIME_PATH} whatever
 * the endpoint's path (`signRequest(ctx, 'GET', REALTIME_PATH, empty)`).
 *
 * @example connectUrl(realtimeEndpoint(baseUrl), await signRequest(ctx, 'GET', REALTIME_PATH, new Uint8Array()))
 * @throws {TypeError} if a signed field is missing.
 */
export function connectUrl(endpoint: string, headers: Readonly<Record<string, string>>): string {
  const url = new URL(endpoint);
  for (const field of SIGNED_FIELDS) {
    const value = headers[AUTH_HEADERS[field]];
    if (value === undefined) throw new TypeError(`the connect signature lacks ${field}`);
    url.searchParams.set(CONNECT_QUERY[field], value);
  }
  url.searchParams.set(CONNECT_QUERY.payloads, '1');
  return url.href;
}

/** What a connection yields next: a frame, its close, the loop's abort, or a renewal request. */
export type SocketEvent =
  | { readonly kind: 'frame'; readonly frame: ServerFrame }
  | { readonly kind: 'closed'; readonly code: number }
  | { readonly kind: 'aborted' }
  | { readonly kind: 'renew' };

/** One open connection, read as a queue of events. */
export class RealtimeSocket {
  private readonly events: SocketEvent[] = [];
  private waiter: ((event: SocketEvent) => void) | undefined;
  private ackIds = 0;

  private constructor(private readonly ws: WebSocketLike) {
    ws.addEventListener('message', (event) => {
      // A frame that is not a valid server frame is skipped: nothing in it can be trusted.
      const frame = typeof event.data === 'string' ? parseServerFrame(event.data) : undefined;
      // A `close` frame stands for the close code API Gateway cannot send.
      if (frame?.type === 'close') this.push({ kind: 'closed', code: frame.code });
      else if (frame) this.push({ kind: 'frame', frame });
    });
    ws.addEventListener('close', (event) => this.push({ kind: 'closed', code: event.code }));
    // A failed connection is always followed by its close; the listener keeps the error handled.
    ws.addEventListener('error', () => {});
  }

  /**
   * Connects to `url` and resolves once the connection is open.
   *
   * @example const socket = await RealtimeSocket.open(WebSocket, url, signal);
   * @throws {NetworkError} if the connection closes before it opens.
   * @throws {TimeoutError} if it is not open within `timeoutMs`.
   * @throws {AbortedError} if `signal` aborts first.
   */
  static open(
    ctor: WebSocketConstructorLike,
    url: string,
    signal: AbortSignal | undefined,
    timeoutMs = CONNECT_TIMEOUT_MS,
  ): Promise<RealtimeSocket> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new AbortedError('realtime connect', signal.reason));
      let socket: RealtimeSocket;
      try {
        socket = new RealtimeSocket(new ctor(url));
      } catch (cause) {
        return reject(
          new NetworkError('realtime connect failed', { operation: 'realtime', cause }),
        );
      }
      let settled = false;
      const settle = (err: Error | undefined) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (!err) return resolve(socket);
        socket.close();
        reject(err);
      };
      const onAbort = () => settle(new AbortedError('realtime connect', signal?.reason));
      const timer = setTimeout(
        () => settle(new TimeoutError('realtime connect', new URL(url).origin, timeoutMs)),
        timeoutMs,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.ws.addEventListener('open', () => settle(undefined));
      socket.ws.addEventListener('close', (event) =>
        settle(
          new NetworkError(`realtime connect failed (close ${event.code})`, {
            operation: 'realtime',
          }),
        ),
      );
    });
  }

  /** The next event; `{ kind: 'aborted' }` as soon as `signal` aborts. */
  next(signal: AbortSignal | undefined): Promise<SocketEvent> {
    const queued = this.events.shift();
    if (queued) return Promise.resolve(queued);
    if (signal?.aborted) return Promise.resolve({ kind: 'aborted' });
    return new Promise((resolve) => {
      const onAbort = () => {
        this.waiter = undefined;
        resolve({ kind: 'aborted' });
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiter = (event) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(event);
      };
    });
  }

  /** Makes the reader's next event `renew` (the connection is to be replaced). */
  renew(): void {
    this.push({ kind: 'renew' });
  }

  /** Sends a frame; false when the connection is no longer open (nothing was sent). */
  send(frame: ClientFrame): boolean {
    if (this.ws.readyState !== OPEN) return false;
    try {
      this.ws.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Acknowledges `messageIds` (at most 100) in one `ack` frame; its frame id (echoed by the
   * `acked` or `error` answer), or undefined when the connection is not open.
   */
  ack(messageIds: readonly string[]): string | undefined {
    this.ackIds = (this.ackIds + 1) % Number.MAX_SAFE_INTEGER;
    const id = String(this.ackIds);
    return this.send({ type: 'ack', id, messageIds: [...messageIds] }) ? id : undefined;
  }

  /** Closes the connection normally (a no-op once it is closing or closed). */
  close(): void {
    if (this.ws.readyState > OPEN) return;
    try {
      this.ws.close(NORMAL_CLOSURE);
    } catch {
      // Closing a connection that is still being set up may throw in some runtimes.
    }
  }

  private push(event: SocketEvent): void {
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      waiter(event);
    } else {
      this.events.push(event);
    }
  }
}
