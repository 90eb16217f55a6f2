/**
 * `receive()` over the device's WebSocket (docs/SDK.md §Receiving, "Realtime"), against a small
 * server in this file that speaks the frame protocol of docs/SERVICE.md §7.3 (drain frames,
 * `queue-empty`, `ack` -> `acked`) in front of the in-process test kit, which serves HTTP: a
 * pushed message is delivered once and acknowledged over the socket, a closed connection is
 * reopened, 4409 turns the loop to polling, 4410 ends it, no WebSocket class means polling, and
 * an abort ends it promptly.
 */
import type { AddressInfo } from 'node:net';
import { TestSealpost } from '@sealpost/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, WebSocket as WsSocket } from 'ws';
import type { SealpostHttpClient } from '#sdk/client/http-client.ts';
import {
  ApiError,
  type ClientOptions,
  type ConnectionState,
  type FetchLike,
  type ReceiveStreamOptions,
  SealpostClient,
} from '#sdk/client/index.ts';
import { connectUrl } from '#sdk/client/realtime-socket.ts';
import { MemoryStore } from '#sdk/state/memory-store.ts';
import {
  deliveryFrame,
  encodeFrame,
  parseClientFrame,
  REALTIME_CLOSE,
  REALTIME_PATH,
  type ServerFrame,
} from '#sdk/wire/api/realtime.ts';

/** What the fake saw of one connection. */
interface FakeConnection {
  readonly url: URL;
  readonly socket: WsSocket;
  /** The close code the client sent, once it closed. */
  closedWith?: number;
}

/** The fake realtime server (see the file comment). */
class FakeRealtimeServer {
  readonly connections: FakeConnection[] = [];
  /** Every id acknowledged through an `ack` frame, in order. */
  readonly acked: string[] = [];
  /** What the next connection's drain sends instead of a message frame. */
  drainAs: 'message' | 'message-pointer' = 'message';
  private readonly waiters: (() => void)[] = [];

  private constructor(
    private readonly wss: WebSocketServer,
    private readonly http: SealpostHttpClient,
  ) {
    wss.on('connection', (socket, request) => {
      const connection: FakeConnection = {
        url: new URL(request.url ?? '/', 'ws://fake'),
        socket,
      };
      this.connections.push(connection);
      socket.on('message', (data) => void this.onFrame(socket, String(data)));
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
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: REALTIME_PATH });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    return new FakeRealtimeServer(wss, http);
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

  private async drain(socket: WsSocket): Promise<void> {
    const { messages } = await this.http.fetchMessages({ limit: 100 });
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

  private async onFrame(socket: WsSocket, text: string): Promise<void> {
    const parsed = parseClientFrame(text);
    if (!parsed.ok) return socket.close(4400, 'protocol error');
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

/** Alice, and Bob whose client connects to a fake realtime server in front of the test kit. */
async function setup() {
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

const servers: FakeRealtimeServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

/** Options with a fast backoff that record the connection states (waking `server`'s waits). */
function observed(
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

describe('connectUrl', () => {
  const headers = {
    'x-sealpost-address': 'addr',
    'x-sealpost-device': '1',
    'x-sealpost-timestamp': '1700000000000',
    'x-sealpost-nonce': 'bm9uY2U',
    'x-sealpost-signature': 'c2ln',
  };

  it('maps http to ws and https to wss and carries the five signed fields', () => {
    expect(connectUrl('http://127.0.0.1:8787/', headers)).toBe(
      'ws://127.0.0.1:8787/v1/websocket?address=addr&device=1&timestamp=1700000000000&nonce=bm9uY2U&signature=c2ln',
    );
    expect(new URL(connectUrl('https://api.example.com', headers)).protocol).toBe('wss:');
  });

  it('refuses another scheme or a missing field', () => {
    expect(() => connectUrl('ftp://example.com', headers)).toThrow(TypeError);
    const { 'x-sealpost-nonce': _, ...partial } = headers;
    expect(() => connectUrl('http://example.com', partial)).toThrow(/nonce/);
  });
});

describe('receive() over a WebSocket', () => {
  it('delivers a pushed message once and acknowledges it over the socket', async () => {
    const { alice, bob, server, options, fetched } = await setup();
    const client = await SealpostClient.open(options);
    const abort = new AbortController();
    const states: ConnectionState[] = [];
    const texts: string[] = [];

    const loop = (async () => {
      for await (const m of client.receive(observed(abort.signal, states, server))) {
        texts.push(m.text ?? '');
        if (m.text === 'one') {
          await alice.send(bob.address, 'two');
          await server.push();
        } else {
          abort.abort();
        }
      }
    })();
    await server.until(() => states.includes('open'));
    const sent = await alice.send(bob.address, 'one');
    // Pushed twice (as a push and a drain may both deliver it): shown once.
    await server.push(2);
    await loop;
    await server.until(() => server.acked.length >= 3);

    expect(texts).toEqual(['one', 'two']);
    expect(sent.recipientDevices).toBe(1);
    expect(states).toEqual(['connecting', 'open', 'closed']);
    expect(fetched()).toBe(0);
    expect(server.connections).toHaveLength(1);
    expect((await bob.http.fetchMessages()).messages).toEqual([]);
  });

  it('follows a message-pointer frame over HTTP', async () => {
    const { alice, bob, server, options } = await setup();
    await alice.send(bob.address, 'large enough to point at');
    server.drainAs = 'message-pointer';
    const abort = new AbortController();
    const texts: string[] = [];
    const client = await SealpostClient.open(options);

    for await (const m of client.receive(observed(abort.signal, []))) {
      texts.push(m.text ?? '');
      abort.abort();
    }
    await server.until(() => server.acked.length === 1);

    expect(texts).toEqual(['large enough to point at']);
    expect((await bob.http.fetchMessages()).messages).toEqual([]);
  });

  it('reconnects with a fresh signature after the server closes the connection', async () => {
    const { alice, bob, server, options } = await setup();
    const abort = new AbortController();
    const states: ConnectionState[] = [];
    const texts: string[] = [];
    const client = await SealpostClient.open(options);

    const loop = (async () => {
      for await (const m of client.receive(observed(abort.signal, states, server))) {
        texts.push(m.text ?? '');
        abort.abort();
      }
    })();
    await server.until(() => states.includes('open'));
    server.current.close(1011, 'going away');
    await alice.send(bob.address, 'after the reconnect');
    await loop;

    expect(texts).toEqual(['after the reconnect']);
    // The message came in the second connection's drain, before its `queue-empty`.
    expect(states).toEqual(['connecting', 'open', 'connecting', 'closed']);
    expect(server.connections).toHaveLength(2);
    const [first, second] = server.connections.map((c) => c.url.searchParams);
    expect(second?.get('nonce')).not.toBe(first?.get('nonce'));
    expect(second?.get('address')).toBe(bob.address);
  });

  it('polls for the rest of the loop once replaced (4409)', async () => {
    const { alice, bob, server, options } = await setup();
    const abort = new AbortController();
    const states: ConnectionState[] = [];
    const texts: string[] = [];
    const client = await SealpostClient.open(options);

    const loop = (async () => {
      for await (const m of client.receive(observed(abort.signal, states, server))) {
        texts.push(m.text ?? '');
        abort.abort();
      }
    })();
    await server.until(() => states.includes('open'));
    server.current.close(REALTIME_CLOSE.REPLACED, 'replaced');
    await server.until(() => states.includes('polling'));
    await alice.send(bob.address, 'polled');
    await loop;

    expect(texts).toEqual(['polled']);
    expect(states).toEqual(['connecting', 'open', 'polling', 'closed']);
    expect(server.connections).toHaveLength(1);
    expect((await bob.http.fetchMessages()).messages).toEqual([]);
  });

  it('ends like a removed device on 4410', async () => {
    const { server, options } = await setup();
    const states: ConnectionState[] = [];
    const client = await SealpostClient.open(options);
    const loop = (async () => {
      for await (const _ of client.receive(observed(AbortSignal.timeout(5_000), states, server))) {
        // Nothing is queued.
      }
    })();
    await server.until(() => states.includes('open'));
    server.current.close(REALTIME_CLOSE.DEVICE_REMOVED, 'removed');

    const err = await loop.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('UNAUTHORIZED');
    expect(states.at(-1)).toBe('closed');
  });

  it('ends promptly when the signal aborts, closing the socket', async () => {
    const { server, options } = await setup();
    const abort = new AbortController();
    const states: ConnectionState[] = [];
    const client = await SealpostClient.open(options);
    const loop = (async () => {
      for await (const _ of client.receive(observed(abort.signal, states, server))) {
        // Nothing is queued.
      }
    })();
    await server.until(() => states.includes('open'));
    const started = Date.now();
    abort.abort();
    await loop;
    await server.until(() => server.connections[0]?.closedWith !== undefined);

    expect(Date.now() - started).toBeLessThan(1_000);
    expect(server.connections[0]?.closedWith).toBe(1000);
    expect(states).toEqual(['connecting', 'open', 'closed']);
  });
});

describe('receive() without a WebSocket', () => {
  it.each([
    ['no global WebSocket (Node 20)', undefined],
    ['webSocket: false', false as const],
  ])('polls with %s', async (_, webSocket) => {
    expect((globalThis as { WebSocket?: unknown }).WebSocket).toBeUndefined();
    const { alice, bob, server, sealpost, store } = await setup();
    await alice.send(bob.address, 'polled');
    const options: ClientOptions =
      webSocket === false
        ? { ...sealpost.clientOptions(store), webSocket }
        : sealpost.clientOptions(store);
    const client = await SealpostClient.open(options);
    const abort = new AbortController();
    const states: ConnectionState[] = [];
    const texts: string[] = [];

    for await (const m of client.receive(observed(abort.signal, states, server))) {
      texts.push(m.text ?? '');
      abort.abort();
    }

    expect(texts).toEqual(['polled']);
    expect(states).toEqual(['polling', 'closed']);
    expect(server.connections).toHaveLength(0);
  });
});
