/**
 * The polling receive loop's acknowledgements (docs/SDK.md §Receiving): the ids of a page ride
 * on the next fetch (`GET /v1/messages?ack=`) instead of a `POST /v1/messages/ack` of their
 * own, only after their processing is committed; a loop that stops instead of fetching again
 * still posts them. Through the in-process service, and against a scripted HTTP client for
 * the edges (ids handed back by a socket, a failed fetch, a stop between WebSocket attempts).
 */

import { TestSealpost } from '@sealpost/testing';
import { describe, expect, it } from 'vitest';
import { NetworkError } from '#sdk/client/errors.ts';
import { MAX_FETCH_ACK_IDS } from '#sdk/client/http-client.ts';
import type { FetchLike, IncomingMessage, ReceiveStreamOptions } from '#sdk/client/index.ts';
import { ReceiveLoop } from '#sdk/client/receive-loop.ts';
import { systemRng } from '#sdk/crypto/backend.ts';
import { fromUtf8, toBase64Url } from '#sdk/util/bytes.ts';
import type { DeliveredMessage, FetchResponse } from '#sdk/wire/api/schemas.ts';

interface Seen {
  readonly method: string;
  readonly url: URL;
  readonly body?: unknown;
}

/** A `fetch` over the service that records the message routes' requests. */
function recording(sealpost: TestSealpost) {
  const seen: Seen[] = [];
  const fetch: FetchLike = async (url, init) => {
    const parsed = new URL(url);
    if (parsed.pathname.startsWith('/v1/messages')) {
      const text = init.body ? fromUtf8(init.body as Uint8Array) : undefined;
      seen.push({
        method: init.method ?? 'GET',
        url: parsed,
        ...(text ? { body: JSON.parse(text) } : {}),
      });
    }
    return sealpost.fetch(url, init);
  };
  return { fetch, seen };
}

describe('acknowledgements riding on the next fetch', () => {
  it('sends a page’s ids with the next fetch, and posts only when the loop ends', async () => {
    const sealpost = await TestSealpost.start();
    const alice = await sealpost.register();
    const net = recording(sealpost);
    const bob = await sealpost.register({ fetch: net.fetch });
    await alice.addContact(bob.contactCard());
    await bob.addContact(alice.contactCard());
    await alice.send(bob.address, 'one');
    await alice.send(bob.address, 'two');
    net.seen.length = 0;

    const abort = new AbortController();
    const got: IncomingMessage[] = [];
    for await (const m of bob.receive({ signal: abort.signal, pollIntervalMs: 5 })) {
      got.push(m);
      // While 'two' is being processed nothing of this page is acknowledged yet.
      if (m.text === 'two') {
        expect(net.seen.filter((s) => s.method === 'POST')).toEqual([]);
        expect(net.seen.map((s) => s.url.searchParams.get('ack'))).toEqual([null]);
        await alice.send(bob.address, 'three');
      }
      if (m.text === 'three') abort.abort();
    }

    const [one, two, three] = got.map((m) => m.id);
    expect(got.map((m) => m.text)).toEqual(['one', 'two', 'three']);
    // The second fetch carried the first page's acknowledgements; the loop's end posted the
    // last one, since no fetch followed it.
    expect(
      net.seen.map((s) => [s.method, s.url.pathname, s.url.searchParams.get('ack'), s.body]),
    ).toEqual([
      ['GET', '/v1/messages', null, undefined],
      ['GET', '/v1/messages', `${one},${two}`, undefined],
      ['POST', '/v1/messages/ack', null, { messageIds: [three] }],
    ]);
    expect(
      net.seen
        .filter((s) => s.method === 'GET')
        .every((s) => s.url.searchParams.get('payloads') === '1'),
    ).toBe(true);
    // The service took both: nothing comes again.
    expect((await bob.http.fetchMessages()).messages).toEqual([]);
  });
});

/** A scripted HTTP client: answers fetches from `pages`, records every request. */
function scripted(pages: (FetchResponse | Error)[]) {
  const fetches: { ack?: readonly string[]; cursor?: string }[] = [];
  const limits: (number | undefined)[] = [];
  const posts: string[][] = [];
  const http = {
    async fetchMessages(options: { ack?: readonly string[]; cursor?: string; limit?: number }) {
      limits.push(options.limit);
      fetches.push({
        ...(options.ack ? { ack: [...options.ack] } : {}),
        ...(options.cursor ? { cursor: options.cursor } : {}),
      });
      const next = pages.shift() ?? { messages: [] };
      if (next instanceof Error) throw next;
      return next;
    },
    async ackMessages(ids: readonly string[]) {
      posts.push([...ids]);
      return { acknowledged: ids.length };
    },
  };
  return { http, fetches, limits, posts };
}

/** A loop over the scripted client whose delivery hands each message over, then commits it. */
function loopOver(http: ReturnType<typeof scripted>['http']) {
  const loop = new ReceiveLoop({
    http,
    state: { pruneSeen: async () => undefined },
    intake: { prune: async () => undefined },
    now: () => 0,
    rng: systemRng,
  } as unknown as ConstructorParameters<typeof ReceiveLoop>[0]);
  // As the real one: committed (and so acknowledgeable) once the consumer asks for more.
  loop.deliver = async function* (delivered, _options, ack) {
    yield { id: delivered.messageId } as IncomingMessage;
    ack(delivered.messageId);
  };
  return loop;
}

const id = (n: number) => toBase64Url(Uint8Array.of(...new Uint8Array(15), n));
const message = (n: number): DeliveredMessage => ({
  messageId: id(n),
  receivedAt: 0,
  envelope: 'AA',
});

/** Runs `loop.poll` until `stopAfter` fetches were made, then aborts it. */
async function pollUntil(
  loop: ReceiveLoop,
  net: ReturnType<typeof scripted>,
  unacked: string[],
  stopAfter: number,
  until?: AbortSignal,
): Promise<void> {
  const abort = new AbortController();
  const options: ReceiveStreamOptions = {
    signal: abort.signal,
    pollIntervalMs: 1,
    backoff: { initialDelayMs: 1, maxDelayMs: 1 },
  };
  const watch = setInterval(() => {
    if (net.fetches.length >= stopAfter) abort.abort();
  }, 1);
  try {
    for await (const m of loop.poll(options, unacked, until)) {
      // Not acknowledged before the consumer is done with it.
      expect(unacked).not.toContain(m.id);
    }
  } finally {
    clearInterval(watch);
  }
}

describe('the polling loop’s acknowledgements', () => {
  it('posts ids beyond what a fetch carries first, rides the rest, each id once', async () => {
    const net = scripted([]);
    const handedBack = Array.from({ length: 250 }, (_, i) => id(i));
    // Ids an ended socket handed back may repeat.
    const unacked = [...handedBack, id(249), id(3)];
    await pollUntil(loopOver(net.http), net, unacked, 1);
    const posted = handedBack.slice(0, 250 - MAX_FETCH_ACK_IDS);
    expect(net.posts).toEqual([posted.slice(0, 100), posted.slice(100)]);
    expect(net.fetches[0]?.ack).toEqual(handedBack.slice(250 - MAX_FETCH_ACK_IDS));
    expect(unacked).toEqual([]);
  });

  it('reads pages no larger than the next fetch acknowledges', async () => {
    const page = Array.from({ length: MAX_FETCH_ACK_IDS }, (_, i) => message(i));
    const net = scripted([{ messages: page, cursor: id(MAX_FETCH_ACK_IDS - 1) }]);
    await pollUntil(loopOver(net.http), net, [], 2);
    expect(net.limits[0]).toBe(MAX_FETCH_ACK_IDS);
    expect(net.fetches[1]?.ack).toEqual(page.map((m) => m.messageId));
    expect(net.posts).toEqual([]);
  });

  it('keeps the ids of a failed fetch and sends them with the next one', async () => {
    const net = scripted([
      { messages: [message(1), message(2)], cursor: id(2) },
      new NetworkError('down', { operation: 'fetchMessages' }),
      { messages: [] },
    ]);
    const unacked: string[] = [];
    await pollUntil(loopOver(net.http), net, unacked, 3);
    expect(net.fetches.slice(0, 3)).toEqual([
      {},
      { ack: [id(1), id(2)], cursor: id(2) },
      { ack: [id(1), id(2)], cursor: id(2) },
    ]);
    expect(net.posts).toEqual([]);
    expect(unacked).toEqual([]);
  });

  it('posts what it holds when it stops between WebSocket attempts instead of fetching', async () => {
    const net = scripted([{ messages: [message(7)] }]);
    const unacked: string[] = [];
    const until = new AbortController();
    until.abort();
    await pollUntil(loopOver(net.http), net, unacked, 10, until.signal);
    expect(net.fetches).toEqual([{}]);
    expect(net.posts).toEqual([[id(7)]]);
    expect(unacked).toEqual([]);
  });

  it('leaves the ids for the next receive when that last post fails', async () => {
    const net = scripted([{ messages: [message(8)] }]);
    net.http.ackMessages = async () => {
      throw new NetworkError('down', { operation: 'ackMessages' });
    };
    const unacked: string[] = [];
    const until = new AbortController();
    until.abort();
    await pollUntil(loopOver(net.http), net, unacked, 10, until.signal);
    expect(unacked).toEqual([id(8)]);
  });
});
