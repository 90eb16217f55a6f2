/**
 * `receive()` rides out transient failures (docs/SDK.md §Receiving, "A long-running loop"):
 * network errors, timeouts, 503 and 429 are reported to `onRetry` and waited out with a
 * jittered backoff; no message is lost or shown twice; an abort ends the loop at once, and a
 * failure that is not transient (a removed device) ends it by throwing.
 */

import { TestSealpost } from '@sealpost/testing';
import { describe, expect, it } from 'vitest';
import {
  ApiError,
  DEFAULT_RECEIVE_BACKOFF,
  type FetchLike,
  type ReceiveRetry,
  type ReceiveStreamOptions,
  SealpostClient,
} from '#sdk/client/index.ts';
import { receiveRetryDelay } from '#sdk/client/receive-loop.ts';
import { ArgumentRangeError } from '#sdk/util/argument-errors.ts';

type Fault = 'network' | 'unavailable' | 'rate-limited' | 'hang';

const errorResponse = (status: number, code: string, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ error: { code, message: 'try later' } }), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });

/**
 * The service's `fetch`, failing the next requests that match `target` with the queued faults.
 * `reached` resolves when a queued fault is served.
 */
function flaky(sealpost: TestSealpost) {
  let served!: () => void;
  const state = {
    target: 'GET /v1/messages',
    faults: [] as Fault[],
    served: 0,
    reached: new Promise<void>((resolve) => {
      served = resolve;
    }),
  };
  const fetch: FetchLike = async (url, init) => {
    const fault =
      `${init.method} ${new URL(url).pathname}` === state.target ? state.faults.shift() : undefined;
    if (fault === undefined) return sealpost.fetch(url, init);
    state.served++;
    served();
    switch (fault) {
      case 'network':
        throw new TypeError('fetch failed');
      case 'unavailable':
        return errorResponse(503, 'UNAVAILABLE');
      case 'rate-limited':
        return errorResponse(429, 'RATE_LIMITED', { 'retry-after': '1' });
      case 'hang':
        // Never answers: only the client's timeout or the caller's abort ends the request.
        return new Promise<Response>(() => undefined);
    }
  };
  return { fetch, state };
}

/** Alice, and Bob on a flaky connection with no retries inside the HTTP client. */
async function setup() {
  const sealpost = await TestSealpost.start();
  const net = flaky(sealpost);
  const alice = await sealpost.register();
  const bob = await SealpostClient.register({
    ...sealpost.clientOptions(),
    fetch: net.fetch,
    retries: 0,
  });
  await alice.addContact(bob.contactCard());
  await bob.addContact(alice.contactCard());
  return { sealpost, net, alice, bob };
}

/** Loop options with a fast backoff that records every retry. */
function observed(signal: AbortSignal, retries: ReceiveRetry[]): ReceiveStreamOptions {
  return {
    signal,
    pollIntervalMs: 2,
    backoff: { initialDelayMs: 1, maxDelayMs: 4 },
    onRetry: (r) => retries.push(r),
  };
}

const summary = (retries: ReceiveRetry[]) => retries.map((r) => [r.error.code, r.attempt]);

describe('receive() over a flaky connection', () => {
  it('survives failed fetches and acknowledgements, loses nothing and shows nothing twice', async () => {
    const { net, alice, bob } = await setup();
    await alice.send(bob.address, 'one');
    net.state.faults.push('network', 'network', 'unavailable');
    const abort = new AbortController();
    const retries: ReceiveRetry[] = [];
    const texts: string[] = [];

    for await (const m of bob.receive(observed(abort.signal, retries))) {
      texts.push(m.text ?? '');
      if (m.text === 'one') {
        // The acknowledgement of 'one' rides on the next fetch, which now fails twice, and
        // 'two' is waiting behind it.
        net.state.faults.push('rate-limited', 'unavailable');
        await alice.send(bob.address, 'two');
      } else {
        abort.abort();
      }
    }

    expect(texts).toEqual(['one', 'two']);
    expect(summary(retries)).toEqual([
      ['NETWORK', 1],
      ['NETWORK', 2],
      ['UNAVAILABLE', 3],
      ['RATE_LIMITED', 1],
      ['UNAVAILABLE', 2],
    ]);
    expect(retries.every((r) => r.delayMs >= 0 && r.delayMs <= 4)).toBe(true);
    expect(net.state.served).toBe(5);
    // Both were acknowledged (the last one when the aborted loop ended): nothing comes again.
    expect((await bob.http.fetchMessages()).messages).toEqual([]);
    expect((await bob.receiveBatch()).messages).toEqual([]);
  });

  it('retries a fetch that times out', async () => {
    const { net, alice, bob } = await setup();
    await alice.send(bob.address, 'late but there');
    net.state.faults.push('hang', 'hang');
    const abort = new AbortController();
    const retries: ReceiveRetry[] = [];
    const texts: string[] = [];

    for await (const m of bob.receive({ ...observed(abort.signal, retries), timeoutMs: 50 })) {
      texts.push(m.text ?? '');
      abort.abort();
    }

    expect(texts).toEqual(['late but there']);
    expect(summary(retries)).toEqual([
      ['TIMEOUT', 1],
      ['TIMEOUT', 2],
    ]);
    expect((await bob.http.fetchMessages()).messages).toEqual([]);
  });

  it('ends at once when aborted during a backoff wait', { timeout: 10_000 }, async () => {
    const { net, bob } = await setup();
    net.state.faults.push('unavailable');
    const abort = new AbortController();
    const retries: ReceiveRetry[] = [];
    const texts: string[] = [];
    const options: ReceiveStreamOptions = {
      signal: abort.signal,
      // A wait no test would outlast: the loop must end on the abort, not after it.
      backoff: { initialDelayMs: 600_000, maxDelayMs: 600_000 },
      onRetry: (r) => {
        retries.push(r);
        abort.abort();
      },
    };

    for await (const m of bob.receive(options)) texts.push(m.text ?? '');

    expect(texts).toEqual([]);
    expect(summary(retries)).toEqual([['UNAVAILABLE', 1]]);
    expect(retries[0]?.delayMs).toBeGreaterThanOrEqual(300_000);
  });

  it('ends at once when aborted during a request that never answers', {
    timeout: 10_000,
  }, async () => {
    const { net, bob } = await setup();
    net.state.faults.push('hang');
    const abort = new AbortController();
    const retries: ReceiveRetry[] = [];
    void net.state.reached.then(() => abort.abort());

    const texts: string[] = [];
    for await (const m of bob.receive(observed(abort.signal, retries))) texts.push(m.text ?? '');

    expect(texts).toEqual([]);
    expect(retries).toEqual([]);
    expect(net.state.served).toBe(1);
  });

  it('refuses a backoff that is not 0 < initial <= max before any request', async () => {
    const { net, bob } = await setup();
    net.state.faults.push('unavailable');
    const loop = bob.receive({ backoff: { initialDelayMs: 10, maxDelayMs: 5 } });
    await expect(loop.next()).rejects.toBeInstanceOf(ArgumentRangeError);
    expect(net.state.served).toBe(0);
  });

  it('ends by throwing when the failure is not transient (this device was removed)', async () => {
    const { alice, bob } = await setup();
    await alice.send(bob.address, 'never read');
    await bob.removeDevice(bob.deviceId);
    const retries: ReceiveRetry[] = [];

    const run = async () => {
      for await (const _ of bob.receive(observed(new AbortController().signal, retries))) {
        // unreachable: the device can no longer fetch
      }
    };

    await expect(run()).rejects.toBeInstanceOf(ApiError);
    await expect(run()).rejects.toMatchObject({ code: 'UNAUTHORIZED', retryable: false });
    expect(retries).toEqual([]);
  });
});

describe('receiveRetryDelay', () => {
  const low = () => new Uint8Array(4);
  const high = () => new Uint8Array(4).fill(0xff);

  it('doubles its bound per failure, up to the maximum, with the jitter in the upper half', () => {
    const backoff = { initialDelayMs: 100, maxDelayMs: 1_000 };
    expect([1, 2, 3, 4, 5].map((n) => receiveRetryDelay(n, backoff, low))).toEqual([
      50, 100, 200, 400, 500,
    ]);
    expect([1, 2, 3, 4, 5].map((n) => receiveRetryDelay(n, backoff, high))).toEqual([
      100, 200, 400, 800, 1_000,
    ]);
    expect(receiveRetryDelay(1_000, backoff, high)).toBe(1_000);
  });

  it('defaults to 1 s doubling up to 60 s', () => {
    expect(DEFAULT_RECEIVE_BACKOFF).toEqual({ initialDelayMs: 1_000, maxDelayMs: 60_000 });
    expect(receiveRetryDelay(1, {}, high)).toBe(1_000);
    expect(receiveRetryDelay(20, {}, high)).toBe(60_000);
  });

  it('waits at least the Retry-After the server asked for, capped at the maximum', () => {
    const backoff = { initialDelayMs: 100, maxDelayMs: 5_000 };
    expect(receiveRetryDelay(1, backoff, low, 2_000)).toBe(2_000);
    expect(receiveRetryDelay(1, backoff, low, 3_600_000)).toBe(5_000);
    expect(receiveRetryDelay(1, backoff, low, 10)).toBe(50);
  });

  it('refuses bounds that are not 0 < initial <= max', () => {
    for (const backoff of [
      { initialDelayMs: 0 },
      { initialDelayMs: 10, maxDelayMs: 5 },
      { initialDelayMs: 10, maxDelayMs: Number.POSITIVE_INFINITY },
    ]) {
      expect(() => receiveRetryDelay(1, backoff, low)).toThrow(ArgumentRangeError);
    }
  });
});
