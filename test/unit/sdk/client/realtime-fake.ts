/**
 * A small realtime server for the SDK's receive tests: it speaks the frame protocol of
 * docs/SERVICE.md §7.3 (drain frames, `queue-empty`, `ack` -> `acked`, `ping` -> `pong`) on any
 * path, in front of the in-process test kit, which serves HTTP; and the set-up of Alice, and Bob
 * whose client connects to it.
 */
import type { AddressInfo } from 'node:net';
import { TestSealpost } from '@sealpost/testing';
import { WebSocketServer, WebSocket as WsSocket } from 'ws';
import type { SealpostHttpClient } from '#sdk/client/http-client.ts';
import type {
  ClientOptions,
  ConnectionState,
  FetchLike,
  ReceiveStreamOptions,
} from '#sdk/client/index.ts';
import { MemoryStore } from '#sdk/state/memory-store.ts';
import {
  type ClientFrame,
  deliveryFrame,
  encodeFrame,
  parseClientFrame,
  type ServerFrame,
} from '#sdk/wire/api/realtime.ts';

/** What the fake saw of one connection. */
export interface FakeConnection {
  readonly url: URL;
  readonly socket: WsSocket;
  /** Every valid frame the client sent, in order. */
  readonly frames: ClientFrame[];
  /** The close code the client sent, once it closed. */
  closedWith?: number;
}

/** The fake realtime server (see the file comment). */
export class FakeRealtimeServer {
  readonly connections: FakeConnection[] = [];
  /** Every id acknowledged through an `ack` frame, in order. */
  readonly acked: string[] = [];
  /** What the next connection's drain sends instead of a message frame. */
  drainAs: 'message' | 'message-pointer' = 'message';
  /** While set, a drain that has read the queue waits for it before it sends anything. */
  drainGate: Promise<void> | undefined;
  /** Drains that have read the queue. */
  drainsRead = 0;
  private readonly waiters: (() => void)[] = [];

  private constructor(
    private readonly wss: WebSocketServer,
    private readonly http: SealpostHttpClient,
  ) {
    wss.on('connection', (socket, request) => {
      const connection: FakeConnection = {
        url: new URL(request.url ?? '/', 'ws://fake'),
        socket,
        frames: [],
      };
      this.connections.push(connection);
      socket.on('message', (data) => void this.onFrame(connection, String(data)));
      socket.on('close', (code) => {
        connection.closedWith = code;
        this.wake();
      });
      void this.drain(socket).then(() => this.wake());
      this.wake();
    });
  }

  /** Starts on a free local port; `http` reads and acknowledges as the connecting device. */
  static async start(http: SealpostHttpClient): Promise<FakeRealtimeServer> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    return new FakeRealtimeServer(wss, http);
  }

  /** The `ws:` origin of the fake (for a `realtimeUrl`). */
  get wsOrigin(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}`;
  }

  /** The `baseUrl` a client connects with. */
  get baseUrl(): string {
    return `http://127.0.0.1:${(this.wss.address() as AddressInfo).port}`;
  }

  /** The open connection (the newest). */
  get current(): WsSocket {
    const last = this.connections.at(-1);
    if (!last) throw new Error('no connection');
    return last.socket;
  }

  /** Sends every queued message to the newest connection, `times` times each. */
  async push(times = 1): Promise<void> {
    const { messages } = await this.http.fetchMessages({ limit: 100 });
    for (const message of messages) {
      for (let i = 0; i < times; i++) this.current.send(encodeFrame(deliveryFrame(message)));
    }
  }

  /** Resolves once `ready()` holds, re-checked after every event the fake sees. */
  async until(ready: () => boolean): Promise<void> {
    while (!ready()) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  async close(): Promise<void> {
    for (const { socket } of this.connections) socket.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private send(socket: WsSocket, frame: ServerFrame): void {
    socket.send(encodeFrame(frame));
  }

  /** Sends the newest queued message to the newest connection, marked as a push. */
  async pushNewest(): Promise<void> {
    const { messages } = await this.http.fetchMessages({ limit: 100 });
    const newest = messages.at(-1);
    if (!newest) throw new Error('nothing queued');
    this.current.send(encodeFrame(deliveryFrame(newest, 'push')));
  }

  private async drain(socket: WsSocket): Promise<void> {
    const { messages } = await this.http.fetchMessages({ limit: 100 });
    this.drainsRead++;
    this.wake();
    await this.drainGate;
    for (const message of messages) {
      this.send(
        socket,
        this.drainAs === 'message'
          ? deliveryFrame(message)
          : {
              type: 'message-pointer',
              messageId: message.messageId,
              receivedAt: message.receivedAt,
              size: 1,
            },
      );
    }
    this.send(socket, { type: 'queue-empty' });
  }

  private async onFrame(connection: FakeConnection, text: string): Promise<void> {
    const { socket } = connection;
    const parsed = parseClientFrame(text);
    if (!parsed.ok) return socket.close(4400, 'protocol error');
    connection.frames.push(parsed.frame);
    this.wake();
    if (parsed.frame.type === 'keepalive') return;
    if (parsed.frame.type === 'ping') return this.send(socket, { type: 'pong' });
    const { id, messageIds } = parsed.frame;
    const { acknowledged } = await this.http.ackMessages(messageIds);
    this.acked.push(...messageIds);
    this.send(socket, { type: 'acked', id, acknowledged });
    this.wake();
  }

  /** Re-checks the conditions of {@link until} (called on client-side events too). */
  wake(): void {
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}

const servers: FakeRealtimeServer[] = [];

/** Closes every fake that {@link setup} started (a test file's `afterEach`). */
export async function closeServers(): Promise<void> {
  for (const server of servers.splice(0)) await server.close();
}

/** Alice, and Bob whose client connects to a fake realtime server in front of the test kit. */
export async function setup() {
  const sealpost = await TestSealpost.start();
  const alice = await sealpost.register();
  const store = new MemoryStore();
  const bob = await sealpost.register({ store });
  await alice.addContact(bob.contactCard());
  await bob.addContact(alice.contactCard());
  const server = await FakeRealtimeServer.start(bob.http);
  servers.push(server);
  let fetches = 0;
  const fetch: FetchLike = (url, init) => {
    if (init.method === 'GET' && new URL(url).pathname === '/v1/messages') fetches++;
    return sealpost.fetch(url, init);
  };
  // Bob's store and keys, through the fake's origin and `ws`'s WebSocket class.
  const options: ClientOptions = {
    ...sealpost.clientOptions(store),
    fetch,
    baseUrl: server.baseUrl,
    webSocket: WsSocket,
  };
  return { sealpost, alice, bob, server, options, store, fetched: () => fetches };
}

/** Options with a fast backoff that record the connection states (waking `server`'s waits). */
export function observed(
  signal: AbortSignal,
  states: ConnectionState[],
  server?: FakeRealtimeServer,
): ReceiveStreamOptions {
  return {
    signal,
    pollIntervalMs: 2,
    backoff: { initialDelayMs: 1, maxDelayMs: 4 },
    onConnectionState: (state) => {
      states.push(state);
      server?.wake();
    },
  };
}
