/**
 * The SDK's side of close notices, the opening ping and `realtimeUrl` (docs/SDK.md §Receiving,
 * "Realtime"; docs/SERVICE.md §7.3), against the fake realtime server of realtime-fake.ts: a
 * `close` frame acts exactly as its close code, the first frame of a connection is `ping`, and a
 * `realtimeUrl` on another host and path is used and signed for `GET /v1/websocket`.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket as WsSocket } from 'ws';
import {
  ApiError,
  type ClientOptions,
  type ConnectionState,
  SealpostClient,
} from '#sdk/client/index.ts';
import { KEEPALIVE_INTERVAL_MS } from '#sdk/client/realtime-socket.ts';
import { ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import {
  closeFrame,
  encodeFrame,
  REALTIME_CLOSE,
  REALTIME_PATH,
  type RealtimeCloseCode,
} from '#sdk/wire/api/realtime.ts';
import { closeServers, type FakeRealtimeServer, observed, setup } from './realtime-fake.ts';

afterEach(closeServers);

/** Runs Bob's receive loop until it ends; resolves with its error, if any. */
function receiving(
  client: SealpostClient,
  signal: AbortSignal,
  states: ConnectionState[],
  server: FakeRealtimeServer,
) {
  return (async () => {
    for await (const _ of client.receive(observed(signal, states, server))) {
      // Nothing is queued.
    }
  })().then(
    () => undefined,
    (err: unknown) => err,
  );
}

/** Sends the `close` frame of `code` to the newest connection, leaving the socket open. */
function sendClose(server: FakeRealtimeServer, code: RealtimeCloseCode): void {
  server.current.send(encodeFrame(closeFrame(code, 'closing')));
}

describe('close frames', () => {
  it('turns the loop to polling on a close frame of 4409, and closes the socket itself', async () => {
    const { server, options } = await setup();
    const abort = new AbortController();
    const states: ConnectionState[] = [];
    const loop = receiving(await SealpostClient.open(options), abort.signal, states, server);
    await server.until(() => states.includes('open'));
    sendClose(server, REALTIME_CLOSE.REPLACED);
    await server.until(() => states.includes('polling'));
    await server.until(() => server.connections[0]?.closedWith !== undefined);
    abort.abort();

    expect(await loop).toBeUndefined();
    expect(states).toEqual(['connecting', 'open', 'polling', 'closed']);
    expect(server.connections).toHaveLength(1);
    expect(server.connections[0]?.closedWith).toBe(1000);
  });

  it('ends with UNAUTHORIZED on a close frame of 4410', async () => {
    const { server, options } = await setup();
    const states: ConnectionState[] = [];
    const client = await SealpostClient.open(options);
    const loop = receiving(client, AbortSignal.timeout(5_000), states, server);
    await server.until(() => states.includes('open'));
    sendClose(server, REALTIME_CLOSE.DEVICE_REMOVED);

    const err = await loop;
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('UNAUTHORIZED');
    expect(states).toEqual(['connecting', 'open', 'closed']);
  });

  it.each([REALTIME_CLOSE.PROTOCOL_ERROR, REALTIME_CLOSE.NOT_AUTHENTICATED])(
    'reconnects after a close frame of %i',
    async (code) => {
      const { server, options } = await setup();
      const abort = new AbortController();
      const states: ConnectionState[] = [];
      const loop = receiving(await SealpostClient.open(options), abort.signal, states, server);
      await server.until(() => states.includes('open'));
      sendClose(server, code);
      await server.until(() => states.filter((s) => s === 'open').length === 2);
      abort.abort();

      expect(await loop).toBeUndefined();
      expect(states).toEqual(['connecting', 'open', 'connecting', 'open', 'closed']);
      expect(server.connections).toHaveLength(2);
      expect(server.connections[0]?.closedWith).toBe(1000);
    },
  );
});

describe('the opening ping and realtimeUrl', () => {
  it('sends ping as the first frame of every connection', async () => {
    const { alice, bob, server, options } = await setup();
    const abort = new AbortController();
    const states: ConnectionState[] = [];
    const loop = receiving(await SealpostClient.open(options), abort.signal, states, server);
    await server.until(() => server.connections[0]?.frames.length === 1);
    await alice.send(bob.address, 'acked after the ping');
    await server.push();
    await server.until(() => server.acked.length === 1);
    abort.abort();
    await loop;

    expect(server.connections[0]?.frames.map((f) => f.type)).toEqual(['ping', 'ack']);
  });

  it('keeps an idle connection open with a keepalive frame every KEEPALIVE_INTERVAL_MS', async () => {
    // Only the interval timer is faked: sockets, the server and the retry timers run for real.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const { server, options } = await setup();
      const abort = new AbortController();
      const loop = receiving(await SealpostClient.open(options), abort.signal, [], server);
      await server.until(() => server.connections[0]?.frames.length === 1);
      vi.advanceTimersByTime(KEEPALIVE_INTERVAL_MS - 1);
      vi.advanceTimersByTime(1);
      await server.until(() => server.connections[0]?.frames.length === 2);
      vi.advanceTimersByTime(KEEPALIVE_INTERVAL_MS);
      await server.until(() => server.connections[0]?.frames.length === 3);
      abort.abort();
      await loop;
      expect(server.connections[0]?.frames.map((f) => f.type)).toEqual([
        'ping',
        'keepalive',
        'keepalive',
      ]);
      // Under API Gateway's 10-minute idle limit with room for a late timer.
      expect(KEEPALIVE_INTERVAL_MS).toBeLessThanOrEqual(9 * 60 * 1000);
    } finally {
      vi.useRealTimers();
    }
  });

  it('connects to realtimeUrl, signed for GET /v1/websocket, and refuses a bad one', async () => {
    const { sealpost, server, options } = await setup();
    const viaRealtimeUrl: ClientOptions = {
      ...options,
      baseUrl: sealpost.clientOptions().baseUrl,
      realtimeUrl: `${server.wsOrigin}/v1`,
    };
    const abort = new AbortController();
    const states: ConnectionState[] = [];
    const loop = receiving(await SealpostClient.open(viaRealtimeUrl), abort.signal, states, server);
    await server.until(() => states.includes('open'));
    abort.abort();
    await loop;
    const connect = server.connections[0]?.url;
    expect(connect?.pathname).toBe('/v1');

    // The service accepts the very same fields at its own endpoint: they sign REALTIME_PATH.
    const listening = await sealpost.listen();
    try {
      const endpoint = new URL(REALTIME_PATH, listening.url.replace(/^http/, 'ws'));
      endpoint.search = connect?.search ?? '';
      const ws = new WsSocket(endpoint.href);
      const opened = await new Promise<boolean>((resolve) => {
        ws.once('open', () => resolve(true));
        ws.once('unexpected-response', () => resolve(false));
        ws.once('error', () => resolve(false));
      });
      ws.terminate();
      expect(opened).toBe(true);
    } finally {
      await listening.close();
    }

    await expect(
      SealpostClient.open({ ...options, realtimeUrl: 'https://example.com/v1' }),
    ).rejects.toBeInstanceOf(ArgumentTypeError);
  });
});
