/**
 * The local WebSocket endpoint (Node-only; docs/SERVICE.md §7.3): a `ws` server on the
 * local HTTP server's upgrades of `REALTIME_PATH`, in front of the transport-free
 * `RealtimeService`. The connect is authenticated before the upgrade is accepted, so a refused
 * connect is an ordinary HTTP answer with the service's JSON error body. Used by `npm start`'s
 * server (local.ts) and the test kit's `listen()`.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  closeFrame,
  encodeFrame,
  isRealtimeCloseCode,
  MAX_FRAME_BYTES,
  REALTIME_CLOSE,
  REALTIME_PATH,
} from 'sealpost/wire/api';
import { type WebSocket, WebSocketServer } from 'ws';
import { MemoryConnections } from '../adapters/memory/memory-connections.ts';
import type { AuthService, Caller } from '../domain/auth-service.ts';
import { ClockSkewError, ServiceError } from '../domain/errors.ts';
import type { Clock, Ports } from '../domain/ports.ts';
import type {
  ConnectionOptions,
  ConnectionRegistry,
  ConnectionSender,
} from '../domain/realtime-ports.ts';
import { RealtimeService } from '../domain/realtime-service.ts';
import { createServices } from './compose.ts';
import type { AppServices, LogSink } from './env.ts';
import { rawErrorResponse } from './node-http.ts';
import { authenticateConnect, connectOptions } from './realtime-connect.ts';

/**
 * Largest incoming message `ws` buffers. A frame above `MAX_FRAME_BYTES` but within this bound
 * reaches the core, which answers an `error` frame and closes with 4400; beyond it `ws`
 * refuses it unread with its own close code 1009 (message too big), so no client can make the
 * server hold more than this per connection.
 */
export const MAX_BUFFERED_FRAME_BYTES = 4 * MAX_FRAME_BYTES;

/** Bytes of a local connection id (base64url, like API Gateway's opaque ids). */
const CONNECTION_ID_BYTES = 12;

/**
 * The {@link ConnectionSender} over the local server's open sockets, by connection id.
 *
 * @example const sender = new LocalSocketSender(); await sender.send(id, '{"type":"pong"}');
 */
export class LocalSocketSender implements ConnectionSender {
  private readonly sockets = new Map<string, WebSocket>();

  /** Registers an accepted socket under a fresh connection id; forgotten when it closes. */
  add(socket: WebSocket): string {
    const connectionId = randomBytes(CONNECTION_ID_BYTES).toString('base64url');
    this.sockets.set(connectionId, socket);
    socket.once('close', () => this.sockets.delete(connectionId));
    return connectionId;
  }

  send(connectionId: string, frameText: string): Promise<'sent' | 'gone'> {
    const socket = this.sockets.get(connectionId);
    if (!socket || socket.readyState !== socket.OPEN) return Promise.resolve('gone');
    return new Promise((resolve) => {
      socket.send(frameText, (err) => resolve(err ? 'gone' : 'sent'));
    });
  }

  /**
   * Sends the `close` frame of `code` (as the AWS transport does, for clients that read it
   * there), then closes the socket with the same code.
   */
  async close(connectionId: string, code: number, reason: string): Promise<void> {
    if (isRealtimeCloseCode(code))
      await this.send(connectionId, encodeFrame(closeFrame(code, reason)));
    const socket = this.sockets.get(connectionId);
    if (socket && socket.readyState === socket.OPEN) socket.close(code, reason);
  }
}

/**
 * Options of {@link createLocalRealtime}: those of `createServices`, the log sink, and the
 * connection registry.
 */
export type LocalRealtimeOptions = NonNullable<Parameters<typeof createServices>[1]> & {
  /** Where the send's failed-notification count goes (one JSON line). */
  readonly log: LogSink;
  /**
   * Where live connections are registered: e.g. `DynamoConnections` over DynamoDB Local, to
   * run the local endpoint over the registry the AWS endpoint uses.
   *
   * @default a fresh in-memory registry
   */
  readonly connections?: ConnectionRegistry;
};

/** The services of a local server with realtime delivery, and its WebSocket endpoint. */
export interface LocalRealtime {
  /** The app's services; the message service pushes to live sockets after each store. */
  readonly services: AppServices;
  readonly realtime: RealtimeService;
  /**
   * Serves `REALTIME_PATH` on `server`'s upgrade requests (any other path: 404). Returns a
   * function that closes every socket it accepted, for the server's shutdown.
   */
  attach(server: Server): () => void;
}

/**
 * The domain services over `ports` with realtime delivery over local sockets: a connection
 * registry (in-memory unless `options.connections` names one), and the message service's
 * notifier bound to the realtime core (which itself needs the message service, hence the late
 * binding).
 *
 * @example
 * const local = createLocalRealtime(ports, { log: console.log });
 * const server = createNodeServer(buildApp({ services: local.services, log }).fetch, { hostname });
 * const closeSockets = local.attach(server);
 */
export function createLocalRealtime(ports: Ports, options: LocalRealtimeOptions): LocalRealtime {
  let realtime: RealtimeService | undefined;
  const services = createServices(ports, {
    ...options,
    notify: {
      notifier: {
        notify: async (mailbox, message, context) => realtime?.notify(mailbox, message, context),
        pushEarly: async (mailbox, message) =>
          (await realtime?.pushEarly(mailbox, message)) ?? 'offline',
      },
      log: options.log,
    },
  });
  const sender = new LocalSocketSender();
  const clock: Clock = options.clock ?? Date.now;
  realtime = new RealtimeService(
    options.connections ?? new MemoryConnections(),
    sender,
    ports.accounts,
    services.messages,
    clock,
  );
  const bound = realtime;
  return {
    services,
    realtime: bound,
    attach: (server) => attachRealtime(server, services.auth, bound, sender),
  };
}

function attachRealtime(
  server: Server,
  auth: AuthService,
  realtime: RealtimeService,
  sender: LocalSocketSender,
): () => void {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_BUFFERED_FRAME_BYTES,
    perMessageDeflate: false,
  });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    // A peer that resets mid-handshake must not take the server down.
    socket.on('error', () => socket.destroy());
    upgrade(request, socket, head).catch(() => socket.destroy());
  });

  async function upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    let url: URL;
    try {
      url = new URL(request.url ?? '/', 'http://localhost');
    } catch {
      refuse(socket, 'BAD_REQUEST', 'malformed request target');
      return;
    }
    if (url.pathname !== REALTIME_PATH) {
      refuse(socket, 'NOT_FOUND', 'no WebSocket endpoint at this path');
      return;
    }
    let caller: Caller;
    let options: ConnectionOptions;
    try {
      // The format option first: a refused one spends no nonce.
      options = connectOptions(url.searchParams);
      caller = await authenticateConnect(auth, url.pathname, url.searchParams);
    } catch (err) {
      if (err instanceof ClockSkewError) {
        refuse(socket, err.code, err.message, err.serverTime);
      } else if (err instanceof ServiceError) {
        refuse(socket, err.code, err.message);
      } else {
        refuse(socket, 'INTERNAL', 'internal error');
      }
      return;
    }
    // `ws` checks the handshake itself (method, headers, version) and answers 400 if it fails.
    wss.handleUpgrade(request, socket, head, (ws) => serve(ws, caller, options));
  }

  function serve(ws: WebSocket, caller: Caller, options: ConnectionOptions): void {
    const connectionId = sender.add(ws);
    // One connection's work runs in order: the drain before any frame, frames as received.
    let queue: Promise<unknown> = Promise.resolve();
    const run = (work: () => Promise<unknown>) => {
      queue = queue.then(work).catch(() => undefined);
    };
    ws.on('error', () => undefined);
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        run(async () => {
          const refusal = encodeFrame({
            type: 'error',
            code: 'BAD_REQUEST',
            message: 'frames are JSON text',
          });
          await sender.send(connectionId, refusal);
          await sender.close(connectionId, REALTIME_CLOSE.PROTOCOL_ERROR, 'protocol error');
        });
        return;
      }
      const bytes = Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.isBuffer(data)
          ? data
          : Buffer.from(data);
      const text = bytes.toString('utf8');
      run(() => realtime.onFrame(connectionId, text));
    });
    ws.once('close', () => run(() => realtime.disconnected(connectionId)));
    run(async () => {
      await realtime.connected(caller, connectionId, options);
      await realtime.drain(connectionId);
    });
  }

  return () => {
    for (const ws of wss.clients) ws.terminate();
    wss.close();
  };
}

/** Answers a refused upgrade with the service's JSON error body and ends the socket. */
function refuse(
  socket: Duplex,
  code: ServiceError['code'],
  message: string,
  serverTime?: number,
): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(rawErrorResponse(code, message, serverTime === undefined ? {} : { serverTime }));
}
