/**
 * `receive()` over the device's WebSocket (docs/SDK.md §Receiving, "Realtime"), against the
 * fake realtime server of realtime-fake.ts in front of the in-process test kit: a
 * pushed message is delivered once and acknowledged over the socket, a closed connection is
 * reopened, 4409 turns the loop to polling, 4410 ends it, no WebSocket class means polling, and
 * an abort ends it promptly.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  ApiError,
  type ClientOptions,
  type ConnectionState,
  SealpostClient,
} from '#sdk/client/index.ts';
import { connectUrl, realtimeEndpoint } from '#sdk/client/realtime-socket.ts';
import { ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import { REALTIME_CLOSE } from '#sdk/wire/api/realtime.ts';
import { sendShared } from './multi-fixtures.ts';
import { closeServers, observed, setup } from './realtime-fake.ts';

afterEach(closeServers);

describe('realtimeEndpoint and connectUrl', () => {
  const headers = {
    'x-sealpost-address': 'addr',
    'x-sealpost-device': '1',
    'x-sealpost-timestamp': '1700000000000',
    'x-sealpost-nonce': 'bm9uY2U',
    'x-sealpost-signature': 'c2ln',
  };

  it('maps http to ws and https to wss and carries the five signed fields and payloads=1', () => {
    expect(connectUrl(realtimeEndpoint('http://127.0.0.1:8787/'), headers)).toBe(
      'ws://127.0.0.1:8787/v1/websocket?address=addr&device=1&timestamp=1700000000000&nonce=bm9uY2U&signature=c2ln&payloads=1',
    );
    expect(realtimeEndpoint('https://api.example.com')).toBe('wss://api.example.com/v1/websocket');
  });

  it('uses realtimeUrl as it is, with the signed fields appended to its query', () => {
    const aws = 'wss://abc123.execute-api.eu-west-1.amazonaws.com/v1';
    expect(realtimeEndpoint('https://api.example.com', aws)).toBe(aws);
    const url = new URL(
      connectUrl(realtimeEndpoint('https://x.example', `${aws}?stage=a`), headers),
    );
    expect(url.pathname).toBe('/v1');
    expect(url.searchParams.get('stage')).toBe('a');
    expect(url.searchParams.get('signature')).toBe('c2ln');
  });

  it('refuses another scheme, a relative realtimeUrl or a missing field', () => {
    for (const [base, realtime] of [
      ['ftp://example.com', undefined],
      ['https://example.com', 'https://example.com/v1'],
      ['https://example.com', '/v1/websocket'],
      ['https://example.com', ''],
    ] as const) {
      expect(() => realtimeEndpoint(base, realtime)).toThrow(ArgumentTypeError);
    }
    const { 'x-sealpost-nonce': _, ...partial } = headers;
    expect(() => connectUrl('ws://example.com/v1/websocket', partial)).toThrow(/nonce/);
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

  it('connects with payloads=1 and opens a multi-recipient message from a frame', async () => {
    const { sealpost, alice, bob, server, options, fetched } = await setup();
    const phone = await sealpost.link(bob);
    // Sessions with both of Bob's devices come with a first send.
    await alice.send(bob.address, 'hello');
    await sendShared(sealpost, alice, bob, [bob, phone], 'shared');
    const abort = new AbortController();
    const texts: string[] = [];
    for await (const m of (await SealpostClient.open(options)).receive(
      observed(abort.signal, [], server),
    )) {
      texts.push(m.text ?? '');
      if (m.text === 'shared') abort.abort();
    }
    expect(texts).toEqual(['hello', 'shared']);
    expect(server.connections[0]?.url.searchParams.get('payloads')).toBe('1');
    // Over the socket (the drained frame carried the payload), not over HTTP.
    expect(fetched()).toBe(0);
    await server.until(() => server.acked.length >= 2);
    expect((await bob.http.fetchMessages()).messages).toEqual([]);
  });

  it('holds a push that overtakes the drain until queue-empty, keeping mailbox order', async () => {
    const { alice, bob, server, options } = await setup();
    for (const text of ['m1', 'm2', 'm3']) await alice.send(bob.address, text);
    let release!: () => void;
    server.drainGate = new Promise((resolve) => {
      release = resolve;
    });
    const abort = new AbortController();
    const texts: string[] = [];
    const loop = (async () => {
      for await (const m of (await SealpostClient.open(options)).receive(
        observed(abort.signal, [], server),
      )) {
        texts.push(m.text ?? '');
        if (texts.length === 4) abort.abort();
      }
    })();
    // The drain has read m1..m3; m4 is stored and pushed before the drain sends anything.
    await server.until(() => server.drainsRead === 1);
    await alice.send(bob.address, 'm4');
    await server.pushNewest();
    // The pushed frame is at the client before the drain's frames.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(texts).toEqual([]);
    release();
    await loop;

    expect(texts).toEqual(['m1', 'm2', 'm3', 'm4']);
    await server.until(() => server.acked.length === 4);
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
