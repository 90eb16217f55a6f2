/**
 * `TestSealpost.listen()`: the in-process service on a local HTTP port, with CORS open, so an
 * app's browser tests (Playwright, a dev server) can point a real `fetch` at a URL, and a
 * WebSocket at its realtime endpoint.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { createNodeServer } from '../api/node-http.ts';

/** Options of `TestSealpost.listen`. */
export interface ListenOptions {
  /** Port to listen on; `0` picks a free one. @default 0 */
  readonly port?: number;
  /** Interface to bind. @default '127.0.0.1' */
  readonly hostname?: string;
  /** Origins allowed by CORS (`'*'`: any). @default '*' */
  readonly corsOrigin?: string | readonly string[];
}

/** A listening test service. */
export interface Listening {
  /** Base URL for clients, e.g. `http://127.0.0.1:49152`. */
  readonly url: string;
  /**
   * Cuts every open WebSocket connection on the server's side without a close handshake, as a
   * failed network path or a crashed server would (clients see close code 1006), and keeps
   * serving: for tests of an app's reconnects. Returns how many connections it cut.
   *
   * @example
   * const listening = await sealpost.listen();
   * listening.dropConnections(); // 1: Bob's receive() loop reconnects by itself
   */
  dropConnections(): number;
  /** Stops accepting connections and closes the open ones (WebSockets included). */
  close(): Promise<void>;
}

/**
 * Response headers a browser client must be able to read (`etag`: the object service's answer
 * to an attachment part upload, exposed as the bucket's CORS rule does on AWS).
 */
const EXPOSED_HEADERS = ['retry-after', 'content-length', 'etag', 'content-range'];

/**
 * Serves `fetch` on a local port behind a CORS layer (preflights answered, request headers
 * allowed as asked, `Retry-After` exposed). `attach` adds the server's upgrade handling (the
 * WebSocket endpoint) and returns what closes its sockets.
 *
 * @throws {Error} if the port cannot be bound (the `listen` error, e.g. `EADDRINUSE`).
 */
export function listenLocally(
  fetch: (request: Request) => Response | Promise<Response>,
  options: ListenOptions = {},
  attach?: (server: Server) => () => void,
): Promise<Listening> {
  const hostname = options.hostname ?? '127.0.0.1';
  const origin = options.corsOrigin ?? '*';
  const outer = new Hono();
  outer.use(
    cors({
      origin: typeof origin === 'string' ? origin : [...origin],
      allowMethods: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'],
      exposeHeaders: EXPOSED_HEADERS,
      maxAge: 600,
    }),
  );
  outer.all('*', (c) => fetch(c.req.raw));
  const server = createNodeServer(outer.fetch, { hostname });
  // Sockets handed to the upgrade handler: the WebSocket connections, for `dropConnections`.
  // Only with `attach`: without an upgrade listener Node answers upgrades as plain requests.
  const upgraded = new Set<Duplex>();
  if (attach) {
    server.on('upgrade', (_request, socket: Duplex) => {
      upgraded.add(socket);
      socket.once('close', () => upgraded.delete(socket));
    });
  }
  const closeSockets = attach?.(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, hostname, () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      const host = hostname.includes(':') ? `[${hostname}]` : hostname;
      resolve({
        url: `http://${host}:${port}`,
        dropConnections: () => {
          const cut = upgraded.size;
          for (const socket of upgraded) socket.destroy();
          upgraded.clear();
          return cut;
        },
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((error) => (error ? fail(error) : done()));
            server.closeAllConnections();
            closeSockets?.();
          }),
      });
    });
  });
}
