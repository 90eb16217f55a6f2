/**
 * Realtime delivery through failures, end to end: SDK clients over the real WebSocket endpoint
 * of the test kit's `listen()` (docs/SERVICE.md §7.3, docs/SDK.md "Realtime"). The server goes
 * away and comes back on the same port with the same state while senders keep sending, and a
 * connection is cut on the server's side in the middle of a long drain. Each time the receiving
 * loop reconnects by itself, the app sees every message exactly once and in mailbox order
 * (docs/SERVICE.md §7.2: messages sent one after another are delivered in that order), and
 * nothing is left on the server afterwards.
 */
import { type Listening, manualOutboxTimer, TestSealpost } from '@sealpost/testing';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  type ConnectionState,
  type FetchLike,
  type ReceiveRetry,
  type RequestEvent,
  SealpostClient,
  type WebSocketConstructorLike,
} from '#sdk/client/index.ts';
import { MemoryStore } from '#sdk/state/memory-store.ts';
import { parseServerFrame } from '#sdk/wire/api/realtime.ts';

/** Reconnects within milliseconds (the receive loop's `backoff` option; defaults 1 s to 60 s). */
const BACKOFF = { initialDelayMs: 20, maxDelayMs: 200 } as const;

/** Waits until `check()` holds; fails naming `what` after `limitMs` (a bound, not a measure). */
async function eventually(what: string, check: () => boolean, limitMs = 30_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The server frames a client receives, one list of texts per WebSocket it opens. */
class FrameLog {
  readonly connections: string[][] = [];
  /** Sockets that opened. */
  opens = 0;
  /** Runs for each frame before the client reads it. */
  onFrame: ((connection: number, text: string) => void) | undefined;
  /** The `ws` class with a recorder on each socket; its listener runs before the SDK's. */
  readonly webSocket: WebSocketConstructorLike;

  constructor() {
    const log = this;
    this.webSocket = class extends WebSocket {
      constructor(url: string) {
        super(url);
        const texts: string[] = [];
        const connection = log.connections.push(texts) - 1;
        this.addEventListener('open', () => {
          log.opens++;
        });
        this.addEventListener('message', (event) => {
          const text = String(event.data);
          texts.push(text);
          log.onFrame?.(connection, text);
        });
      }
    };
  }

  /** Message ids of the `message` frames of one connection, in order. */
  messageIds(connection: number): string[] {
    return (this.connections[connection] ?? []).flatMap((text) => {
      const frame = parseServerFrame(text);
      return frame?.type === 'message' ? [frame.message.messageId] : [];
    });
  }

  /** Connections that received at least one frame. */
  withFrames(): number {
    return this.connections.filter((texts) => texts.length > 0).length;
  }
}

/** A `receive()` loop running in the background, and what it saw. */
interface Receiving {
  readonly received: { readonly from: string; readonly text: string; readonly id: string }[];
  readonly states: ConnectionState[];
  readonly retries: ReceiveRetry[];
  /** How often the loop reported `open` (a drain reached `queue-empty`). */
  opens(): number;
  /** Waits until `check()` holds; fails at once with the loop's error if it ended by one. */
  until(what: string, check: () => boolean): Promise<void>;
  stop(): Promise<void>;
}

function receiveInBackground(client: SealpostClient): Receiving {
  const abort = new AbortController();
  const received: Receiving['received'][number][] = [];
  const states: ConnectionState[] = [];
  const retries: ReceiveRetry[] = [];
  let failure: { readonly error: unknown } | undefined;
  const done = (async () => {
    for await (const m of client.receive({
      signal: abort.signal,
      backoff: BACKOFF,
      onConnectionState: (state) => states.push(state),
      onRetry: (retry) => retries.push(retry),
    })) {
      received.push({ from: m.sender.address, text: m.text ?? '', id: m.id });
    }
  })();
  done.catch((error: unknown) => {
    failure = { error };
  });
  return {
    received,
    states,
    retries,
    opens: () => states.filter((s) => s === 'open').length,
    until: (what, check) =>
      eventually(what, () => {
        if (failure) throw failure.error;
        return check();
      }),
    stop: async () => {
      abort.abort();
      await done;
    },
  };
}

/** Client options against a listening service, over the real network. */
function options(sealpost: TestSealpost, url: string) {
  return {
    baseUrl: url,
    trust: sealpost.trust,
    now: sealpost.now,
    store: new MemoryStore(),
    outbox: { timer: manualOutboxTimer },
  };
}

/** Messages the service still holds (records and envelope objects). */
function held(sealpost: TestSealpost): number {
  return sealpost.ports.index.dump().records.length + sealpost.ports.blobs.objects.size;
}

/** Both know each other's access key, so every send below is sealed. */
async function introduce(a: SealpostClient, b: SealpostClient): Promise<void> {
  await a.addContact(b.contactCard());
  await b.addContact(a.contactCard());
}

/** A network failure as undici reports it when the server closes before answering. */
function lostAnswer(): TypeError {
  const cause = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
  return new TypeError('fetch failed', { cause });
}

describe('realtime delivery through failures', () => {
  it('rides out a server restart while senders keep sending: every message once, in order', async () => {
    const sealpost = await TestSealpost.start();
    let listening: Listening = await sealpost.listen();
    const port = Number(new URL(listening.url).port);
    const restart = async () => {
      await listening.close();
      listening = await sealpost.listen({ port });
    };
    // Alice's transport can lose the answer of one send: the service stored (and pushed) it,
    // then restarts before the answer is out.
    let loseNextAnswer = false;
    const aliceFetch: FetchLike = async (input, init) => {
      const res = await fetch(input, init);
      if (!loseNextAnswer || init.method !== 'PUT') return res;
      loseNextAnswer = false;
      await res.arrayBuffer();
      await restart();
      throw lostAnswer();
    };
    const aliceRequests: RequestEvent[] = [];
    const frames = new FrameLog();
    let stopLoop: Receiving['stop'] | undefined;
    try {
      const alice = await SealpostClient.register({
        ...options(sealpost, listening.url),
        fetch: aliceFetch,
        onRequest: (event) => aliceRequests.push(event),
      });
      const carol = await SealpostClient.register(options(sealpost, listening.url));
      const bob = await SealpostClient.register({
        ...options(sealpost, listening.url),
        webSocket: frames.webSocket,
      });
      await introduce(alice, bob);
      await introduce(carol, bob);
      const sent: { from: string; text: string }[] = [];
      const send = async (from: SealpostClient, text: string) => {
        await from.send(bob.address, text);
        sent.push({ from: from.address, text });
      };
      const aliceSends = () => aliceRequests.filter((e) => e.operation === 'sendSealed');

      const loop = receiveInBackground(bob);
      stopLoop = loop.stop;
      await loop.until('Bob’s first connection to be live', () => loop.opens() === 1);
      await send(alice, 'a1');
      await send(carol, 'c1');
      await send(alice, 'a2');
      await loop.until('the pushed messages', () => loop.received.length === 3);

      // The server goes away: Bob's socket drops, and a send fails once the client's retries
      // are spent (a retryable NETWORK error; nothing was stored, the app may send it again).
      await listening.close();
      const before = aliceSends().length;
      await expect(alice.send(bob.address, 'a3')).rejects.toMatchObject({
        code: 'NETWORK',
        retryable: true,
      });
      const attempts = aliceSends().slice(before);
      expect(attempts.map((e) => [e.attempt, e.error])).toEqual([
        [1, 'NETWORK'],
        [2, 'NETWORK'],
        [3, 'NETWORK'],
      ]);
      await expect(carol.send(bob.address, 'c2')).rejects.toMatchObject({ code: 'NETWORK' });

      // It comes back on the same port with the same state; the senders send again what
      // failed, whether or not Bob has reconnected yet.
      listening = await sealpost.listen({ port });
      await send(alice, 'a3');
      await send(carol, 'c2');
      await loop.until('Bob’s loop to reconnect by itself', () => loop.opens() === 2);
      await loop.until('the messages of the outage', () => loop.received.length === 5);

      // A send whose answer is lost in a restart: the client retries it under the same
      // request id and the service recognises it, so it is stored once.
      loseNextAnswer = true;
      const lost = aliceSends().length;
      await send(alice, 'a4');
      const retried = aliceSends().slice(lost);
      expect(retried[0]?.error).toBe('NETWORK');
      expect(retried.at(-1)?.status).toBe(200);
      await send(alice, 'a5');
      await send(carol, 'c3');
      await send(alice, 'a6');

      await loop.until('every message', () => loop.received.length >= sent.length);
      await loop.until('Bob’s acknowledgements', () => held(sealpost) === 0);
      await loop.until('Bob to be live again', () => loop.states.at(-1) === 'open');
      await loop.stop();

      expect(loop.received.map(({ from, text }) => ({ from, text }))).toEqual(sent);
      expect(new Set(loop.received.map((m) => m.id)).size).toBe(sent.length);
      // Reconnected by itself after each restart, each time with a drain to `queue-empty`.
      expect(loop.opens()).toBeGreaterThanOrEqual(3);
      expect(frames.withFrames()).toBeGreaterThanOrEqual(3);
      expect(loop.retries.length).toBeGreaterThan(0);
      expect(new Set(loop.retries.map((r) => r.error.code))).toEqual(new Set(['NETWORK']));
      expect(loop.states.at(-1)).toBe('closed');
      // Sealed sends: no frame of any connection names a sender.
      for (const text of frames.connections.flat()) {
        expect(text).not.toContain(alice.address);
        expect(text).not.toContain(carol.address);
        expect(text).not.toContain('"source"');
      }
    } finally {
      await stopLoop?.().catch(() => undefined);
      // Closed already when a step above failed during an outage.
      await listening.close().catch(() => undefined);
    }
  });

  it('loses nothing and shows nothing twice when the server cuts a connection mid-drain', async () => {
    const sealpost = await TestSealpost.start();
    const listening = await sealpost.listen();
    const frames = new FrameLog();
    let stopLoop: Receiving['stop'] | undefined;
    try {
      const alice = await SealpostClient.register(options(sealpost, listening.url));
      const bob = await SealpostClient.register({
        ...options(sealpost, listening.url),
        webSocket: frames.webSocket,
      });
      await introduce(alice, bob);
      const QUEUED = 160;
      const TOTAL = 180;
      const label = (i: number) => `m${String(i).padStart(3, '0')}`;
      // Bob is offline: the queue outgrows one drain page (100).
      for (let i = 1; i <= QUEUED; i++) await alice.send(bob.address, label(i));
      expect(sealpost.ports.index.dump().records).toHaveLength(QUEUED);

      // The server cuts Bob's first connection when its 40th message frame arrives: before the
      // client has read (let alone acknowledged) that frame.
      const CUT_AFTER = 40;
      let cut = 0;
      frames.onFrame = (connection, text) => {
        if (connection !== 0 || cut > 0 || parseServerFrame(text)?.type !== 'message') return;
        if (frames.messageIds(0).length === CUT_AFTER) cut = listening.dropConnections();
      };
      const loop = receiveInBackground(bob);
      stopLoop = loop.stop;
      // More mail while Bob's loop drains, is cut off, reconnects and drains again.
      for (let i = QUEUED + 1; i <= TOTAL; i++) await alice.send(bob.address, label(i));

      await loop.until('every message', () => loop.received.length >= TOTAL);
      await loop.until('Bob’s acknowledgements', () => held(sealpost) === 0);
      await loop.stop();

      expect(cut).toBe(1);
      const expected = Array.from({ length: TOTAL }, (_, i) => label(i + 1));
      expect(loop.received.map((m) => m.text)).toEqual(expected);
      expect(new Set(loop.received.map((m) => m.id)).size).toBe(TOTAL);
      // The cut came before the acknowledgements of frames already received: a later drain
      // sent those messages again, and the client did not show them again.
      const first = new Set(frames.messageIds(0));
      const later = frames.connections.slice(1).flatMap((_, i) => frames.messageIds(i + 1));
      expect(first.size).toBeGreaterThanOrEqual(CUT_AFTER);
      expect(later.filter((id) => first.has(id)).length).toBeGreaterThan(0);
      expect(loop.opens()).toBeGreaterThanOrEqual(1);
    } finally {
      await stopLoop?.().catch(() => undefined);
      await listening.close();
    }
  });

  it('delivers a message stored while a drain reads storage after the backlog, not before it', async () => {
    const sealpost = await TestSealpost.start();
    const listening = await sealpost.listen();
    const frames = new FrameLog();
    let stopLoop: Receiving['stop'] | undefined;
    try {
      const alice = await SealpostClient.register(options(sealpost, listening.url));
      const bob = await SealpostClient.register({
        ...options(sealpost, listening.url),
        webSocket: frames.webSocket,
      });
      await introduce(alice, bob);
      for (let i = 1; i <= 5; i++) await alice.send(bob.address, `m${i}`);
      // From now on a storage read is slow (200 ms) and a push is not: without the push waiting
      // for the drain, Alice's next message would reach Bob ahead of his backlog.
      const index = sealpost.ports.index;
      const list = index.list.bind(index);
      index.list = async (...args: Parameters<typeof list>) => {
        await new Promise((resolve) => setTimeout(resolve, 200));
        return list(...args);
      };
      const loop = receiveInBackground(bob);
      stopLoop = loop.stop;
      // The socket is open: the connect's drain is reading Bob's queue while Alice sends.
      await loop.until('Bob’s socket to open', () => frames.opens === 1);
      await alice.send(bob.address, 'm6');
      await loop.until('every message', () => loop.received.length >= 6);
      await loop.until('Bob’s acknowledgements', () => held(sealpost) === 0);
      await loop.stop();
      expect(loop.received.map((m) => m.text)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6']);
      expect(frames.connections).toHaveLength(1);
    } finally {
      await stopLoop?.().catch(() => undefined);
      await listening.close();
    }
  });
});
