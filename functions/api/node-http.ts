/**
 * The HTTP layer of the local server (Node-only): a `node:http` server around the app's
 * `fetch` that keeps the service's error contract (docs/SERVICE.md §10) below the app too.
 * Errors Node's parser raises before a request reaches the app (a header block over the
 * limit, a malformed request line, a timeout) get the same JSON body `{error:{code,message}}`
 * instead of Node's empty answers. A response sent before the body was read (413) is followed
 * by draining the rest of the body, bounded in bytes and time, so the client can finish its
 * upload and read the answer instead of being reset mid-write.
 */
import { createServer, type IncomingMessage, type Server, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { getRequestListener } from '@hono/node-server';
import { API_ERROR_STATUS, type ApiErrorBody, type ApiErrorCode } from 'sealpost/wire/api';

/** Largest header block accepted (Node's default, stated so the 431 is a documented limit). */
export const MAX_HEADER_BYTES = 16 * 1024;

/** Most body bytes discarded after an early answer before the connection is closed. */
export const DRAIN_MAX_BYTES = 32 * 1024 * 1024;

/** Longest time spent discarding a body after an early answer. */
export const DRAIN_TIMEOUT_MS = 10_000;

/** Options of {@link createNodeServer}. */
export interface NodeServerOptions {
  readonly hostname: string;
  /** @default {@link DRAIN_MAX_BYTES} */
  readonly drainMaxBytes?: number;
  /** @default {@link DRAIN_TIMEOUT_MS} */
  readonly drainTimeoutMs?: number;
}

/** Fields of an error body beyond `code` and `message` (`serverTime` of a `CLOCK_SKEW`). */
export type ErrorDetails = Omit<ApiErrorBody['error'], 'code' | 'message'>;

/** The JSON text of an error, as the app writes it. */
function errorJson(code: ApiErrorCode, message: string, details: ErrorDetails = {}): string {
  const body: ApiErrorBody = { error: { code, message, ...details } };
  return JSON.stringify(body);
}

/**
 * A complete HTTP/1.1 error response that closes the connection, for answers written to a raw
 * socket (a refused WebSocket upgrade, a parser error).
 *
 * @example socket.end(rawErrorResponse('NOT_FOUND', 'no such route'))
 */
export function rawErrorResponse(
  code: ApiErrorCode,
  message: string,
  details: ErrorDetails = {},
): string {
  const status = API_ERROR_STATUS[code];
  const json = errorJson(code, message, details);
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
    'content-type: application/json\r\n' +
    `content-length: ${Buffer.byteLength(json)}\r\n` +
    'connection: close\r\n\r\n' +
    json
  );
}

/** The answer to a parser or socket error Node reports before the app sees a request. */
function clientErrorAnswer(err: NodeJS.ErrnoException): [ApiErrorCode, string] {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return ['HEADERS_TOO_LARGE', `the header block exceeds ${MAX_HEADER_BYTES} bytes`];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return ['REQUEST_TIMEOUT', 'the request was not received in time'];
    default:
      return ['BAD_REQUEST', 'malformed HTTP request'];
  }
}

/**
 * Discards the unread rest of a request body after its response was sent. The body stream
 * the app stopped reading is detached first: it pauses the socket whenever its queue is full,
 * which would stall the drain. Past the byte or time bound the connection is closed.
 */
function drain(incoming: IncomingMessage, maxBytes: number, timeoutMs: number): void {
  let seen = 0;
  const close = () => {
    clearTimeout(timer);
    incoming.socket?.destroySoon();
  };
  const timer = setTimeout(close, timeoutMs);
  timer.unref();
  incoming.removeAllListeners('data');
  incoming.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > maxBytes) close();
  });
  incoming.once('end', () => clearTimeout(timer));
  incoming.once('error', () => clearTimeout(timer));
  incoming.resume();
}

/**
 * A `node:http` server serving `fetch` with JSON errors at every layer and graceful early
 * answers. Call `listen` on it.
 *
 * @example createNodeServer(app.fetch, { hostname: '127.0.0.1' }).listen(8787)
 */
export function createNodeServer(
  fetch: (request: Request) => Response | Promise<Response>,
  options: NodeServerOptions,
): Server {
  const maxBytes = options.drainMaxBytes ?? DRAIN_MAX_BYTES;
  const timeoutMs = options.drainTimeoutMs ?? DRAIN_TIMEOUT_MS;
  const listener = getRequestListener(fetch, {
    hostname: options.hostname,
    // Draining is done below: the adapter's own gives up after half a second and resets.
    autoCleanupIncoming: false,
    errorHandler: () =>
      new Response(errorJson('BAD_REQUEST', 'malformed HTTP request'), {
        status: 400,
        headers: { 'content-type': 'application/json' },
      }),
  });
  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (incoming, outgoing) => {
    outgoing.once('finish', () => {
      if (!incoming.complete) drain(incoming, maxBytes, timeoutMs);
    });
    void listener(incoming, outgoing);
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // A reset peer cannot read an answer, nor can one whose response is already under way.
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage
      ?.headersSent;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight) {
      socket.destroy();
      return;
    }
    const [code, message] = clientErrorAnswer(err);
    socket.end(rawErrorResponse(code, message));
  });
  return server;
}
