/**
 * Call controls of the HTTP client against a fake `fetch` and fake timers: abort (during a
 * request and during a backoff wait), per-request timeouts, retries only where repeating is
 * safe, `Retry-After` in both forms and its cap, jittered backoff, the request observer, and
 * network errors that name the operation, the origin and the cause's code.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RequestEvent } from '#sdk/client/call-options.ts';
import { AbortedError, ApiError, NetworkError, TimeoutError } from '#sdk/client/errors.ts';
import { type FetchLike, SealpostHttpClient } from '#sdk/client/http-client.ts';
import {
  BASE_BACKOFF_MS,
  backoffMs,
  MAX_BACKOFF_MS,
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
} from '#sdk/client/http-retry.ts';
import { seedSigner } from '#sdk/client/request-signing.ts';
import { nobleBackend } from '#sdk/crypto/noble-backend.ts';
import { SealpostError } from '#sdk/errors.ts';
import { ArgumentRangeError } from '#sdk/util/argument-errors.ts';
import { addressFromBytes } from '#sdk/wire/identity.ts';

const BASE = 'http://sealpost.test';
const ADDRESS = addressFromBytes(new Uint8Array(20).fill(3));
const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
const unavailable = (headers: Record<string, string> = {}) =>
  json(503, { error: { code: 'UNAVAILABLE', message: 'later' } }, headers);
const rateLimited = (headers: Record<string, string> = {}) =>
  json(429, { error: { code: 'RATE_LIMITED', message: 'slow down' } }, headers);
const COUNT = { ec: 1, pq: 2 };

/** A fetch answering from `script` in order (the last entry repeats); records each init. */
function scripted(script: ((init: RequestInit) => Response | Promise<Response>)[]) {
  const inits: RequestInit[] = [];
  const fetch: FetchLike = async (_url, init) => {
    inits.push(init);
    return script[Math.min(inits.length - 1, script.length - 1)]!(init);
  };
  return { fetch, inits };
}

/** A response that never comes, unless the request's signal aborts (`honour`). */
const hanging = (honour: boolean) => (init: RequestInit) =>
  new Promise<Response>((_, reject) => {
    if (honour) init.signal?.addEventListener('abort', () => reject(init.signal?.reason));
  });

function client(
  fetch: FetchLike,
  extra: Partial<ConstructorParameters<typeof SealpostHttpClient>[0]> = {},
) {
  return new SealpostHttpClient({
    baseUrl: BASE,
    fetch,
    backend: nobleBackend,
    signer: seedSigner(nobleBackend, ADDRESS, 2, new Uint8Array(32).fill(9)),
    trustRoot: new Uint8Array(32).fill(4),
    // Jitter draws 0.5 every time: each backoff step is 3/4 of its nominal length.
    rng: (n) => new Uint8Array(n).fill(0x80).map((b, i) => (i === 0 ? b : 0)),
    ...extra,
  });
}

const settle = <T>(p: Promise<T>) =>
  p.then(
    (value) => ({ value, error: undefined }),
    (error: unknown) => ({ value: undefined, error }),
  );

beforeEach(() => {
  vi.useFakeTimers({ now: 1_750_000_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('abort', () => {
  it('rejects at once with AbortedError when the signal is already aborted, sending nothing', async () => {
    const { fetch, inits } = scripted([() => json(200, COUNT)]);
    const controller = new AbortController();
    controller.abort(new Error('user left'));
    const err = await client(fetch)
      .countPrekeys({ signal: controller.signal })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbortedError);
    expect(err).toBeInstanceOf(SealpostError);
    expect(err).toMatchObject({ code: 'ABORTED', retryable: false, operation: 'countPrekeys' });
    expect((err as AbortedError).cause).toBe(controller.signal.reason);
    expect(inits).toHaveLength(0);
  });

  it('stops a request in flight, also with a fetch that ignores its signal', async () => {
    for (const honour of [true, false]) {
      const { fetch, inits } = scripted([hanging(honour)]);
      const controller = new AbortController();
      const result = settle(client(fetch).countPrekeys({ signal: controller.signal }));
      await vi.advanceTimersByTimeAsync(10);
      controller.abort('stop');
      const { error } = await result;
      expect(error).toBeInstanceOf(AbortedError);
      expect((error as AbortedError).cause).toBe('stop');
      expect(inits).toHaveLength(1);
      expect(inits[0]!.signal?.aborted).toBe(true);
    }
  });

  it('stops the wait before a retry, and makes no further request', async () => {
    const { fetch, inits } = scripted([() => unavailable()]);
    const controller = new AbortController();
    const result = settle(client(fetch).countPrekeys({ signal: controller.signal }));
    await vi.advanceTimersByTimeAsync(10);
    expect(inits).toHaveLength(1);
    controller.abort();
    const { error } = await result;
    expect(error).toBeInstanceOf(AbortedError);
    await vi.advanceTimersByTimeAsync(MAX_BACKOFF_MS);
    expect(inits).toHaveLength(1);
  });
});

describe('timeout', () => {
  it('abandons a slow request with TimeoutError after the client timeout, retrying idempotent calls', async () => {
    const { fetch, inits } = scripted([hanging(true)]);
    const result = settle(client(fetch, { timeoutMs: 1_000, retries: 1 }).countPrekeys());
    await vi.advanceTimersByTimeAsync(999);
    expect(inits).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(inits[0]!.signal?.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(75 + 1_000);
    const { error } = await result;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({
      code: 'TIMEOUT',
      retryable: true,
      timeoutMs: 1_000,
      operation: 'countPrekeys',
      origin: BASE,
    });
    expect(inits).toHaveLength(2);
  });

  it('takes the call timeout over the client default and validates it', async () => {
    const { fetch } = scripted([hanging(false)]);
    const http = client(fetch, { retries: 0 });
    const result = settle(http.countPrekeys({ timeoutMs: 50 }));
    await vi.advanceTimersByTimeAsync(50);
    expect((await result).error).toMatchObject({ code: 'TIMEOUT', timeoutMs: 50 });
    await expect(http.countPrekeys({ timeoutMs: 0 })).rejects.toThrow(ArgumentRangeError);
    expect(() => client(fetch, { timeoutMs: 1.5 })).toThrow(ArgumentRangeError);
    expect(() => client(fetch, { retries: -1 })).toThrow(ArgumentRangeError);
  });
});

describe('retries', () => {
  it('waits a jittered exponential backoff between attempts', async () => {
    const { fetch, inits } = scripted([
      () => unavailable(),
      () => unavailable(),
      () => json(200, COUNT),
    ]);
    const result = settle(client(fetch).countPrekeys());
    await vi.advanceTimersByTimeAsync(74);
    expect(inits).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(inits).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(299);
    expect(inits).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect((await result).value).toEqual(COUNT);
    expect(inits).toHaveLength(3);
  });

  it('computes backoff steps of 100 ms times 4^n, capped, jittered into the upper half', () => {
    expect(backoffMs(0, 0)).toBe(BASE_BACKOFF_MS / 2);
    expect(backoffMs(0, 0.999999)).toBe(BASE_BACKOFF_MS);
    expect(backoffMs(2, 0.5)).toBe(1_200);
    expect(backoffMs(20, 0.999999)).toBe(MAX_BACKOFF_MS);
  });

  it('honours Retry-After in seconds and as an HTTP date on 503 and 429', async () => {
    const inFive = () => new Date(Date.now() + 5_000).toUTCString();
    for (const [first, wait] of [
      [() => unavailable({ 'retry-after': '3' }), 3_000],
      [() => unavailable({ 'retry-after': inFive() }), 5_000],
      [() => rateLimited({ 'retry-after': '2' }), 2_000],
    ] as const) {
      const { fetch, inits } = scripted([first, () => json(200, COUNT)]);
      const result = settle(client(fetch).countPrekeys());
      await vi.advanceTimersByTimeAsync(wait - 1);
      expect(inits).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(1);
      expect((await result).value).toEqual(COUNT);
    }
  });

  it('ends the call when Retry-After is beyond the cap or a 429 carries none', async () => {
    const far = scripted([
      () => unavailable({ 'retry-after': String(MAX_RETRY_AFTER_MS / 1000 + 1) }),
    ]);
    const err = await client(far.fetch)
      .countPrekeys()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 'UNAVAILABLE', retryAfterMs: MAX_RETRY_AFTER_MS + 1_000 });
    expect(far.inits).toHaveLength(1);
    const bare = scripted([() => rateLimited()]);
    await expect(client(bare.fetch).countPrekeys()).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      retryAfterMs: undefined,
    });
    expect(bare.inits).toHaveLength(1);
  });

  it('repeats a non-idempotent removal only when the request never left', async () => {
    const dropped = scripted([
      () => {
        throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
      },
    ]);
    await expect(client(dropped.fetch).removeDevice(2)).rejects.toBeInstanceOf(NetworkError);
    expect(dropped.inits).toHaveLength(1);
    const busy = scripted([() => unavailable()]);
    await expect(client(busy.fetch).removeDevice(2)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(busy.inits).toHaveLength(1);
    const refused = scripted([
      () => {
        throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
      },
      () => json(200, { deviceId: 2 }),
    ]);
    const result = settle(client(refused.fetch).removeDevice(2));
    await vi.advanceTimersByTimeAsync(100);
    expect((await result).value).toEqual({ deviceId: 2 });
    expect(refused.inits).toHaveLength(2);
  });
});

describe('network errors', () => {
  it('name the operation, the origin and the cause code, never the path', async () => {
    const aggregate = new AggregateError([Object.assign(new Error('x'), { code: 'ETIMEDOUT' })]);
    for (const [cause, code] of [
      [{ code: 'ECONNREFUSED' }, 'ECONNREFUSED'],
      [aggregate, 'ETIMEDOUT'],
      [{ code: 'not a code; secret' }, undefined],
    ] as const) {
      const { fetch } = scripted([
        () => {
          throw new TypeError('fetch failed', { cause });
        },
      ]);
      const err = await client(fetch, { retries: 0 })
        .listDevices(ADDRESS)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NetworkError);
      expect(err).toMatchObject({
        code: 'NETWORK',
        operation: 'listDevices',
        origin: BASE,
        causeCode: code,
      });
      const message = (err as NetworkError).message;
      expect(message).toBe(`listDevices: request to ${BASE} failed${code ? ` (${code})` : ''}`);
      expect(message).not.toContain(ADDRESS);
    }
  });
});

describe('request observer', () => {
  it('reports every attempt without paths, bodies or header values, and survives a throwing observer', async () => {
    const events: RequestEvent[] = [];
    const { fetch } = scripted([
      () => unavailable(),
      () => json(200, { messageId: 'AAAAAAAAAAAAAAAAAAAAAA', duplicate: false }),
    ]);
    const http = client(fetch, {
      onRequest: (e) => {
        events.push(e);
        throw new Error('observer bug');
      },
    });
    const body = {
      messageId: 'AAAAAAAAAAAAAAAAAAAAAA',
      envelopes: [{ deviceId: 1, envelope: 'AA' }],
    };
    const result = settle(
      http.sendSealed(ADDRESS, body, { accessKey: new Uint8Array(16).fill(1) }),
    );
    await vi.advanceTimersByTimeAsync(75);
    expect((await result).value).toEqual({ messageId: 'AAAAAAAAAAAAAAAAAAAAAA', duplicate: false });
    expect(events).toEqual([
      {
        operation: 'sendSealed',
        method: 'PUT',
        origin: BASE,
        attempt: 1,
        status: 503,
        error: 'UNAVAILABLE',
        durationMs: 0,
        retryInMs: 75,
      },
      {
        operation: 'sendSealed',
        method: 'PUT',
        origin: BASE,
        attempt: 2,
        status: 200,
        durationMs: 0,
      },
    ]);
    const seen = JSON.stringify(events);
    expect(seen).not.toContain(ADDRESS);
    expect(seen).not.toContain('AQEBAQEBAQEBAQEBAQEBAQ');
    expect(seen).not.toContain('AAAAAAAAAAAAAAAAAAAAAA');
  });

  it('reports a timeout and an abort by their codes', async () => {
    const events: RequestEvent[] = [];
    const { fetch } = scripted([hanging(true)]);
    const http = client(fetch, { retries: 0, timeoutMs: 20, onRequest: (e) => events.push(e) });
    const timed = settle(http.health());
    await vi.advanceTimersByTimeAsync(20);
    await timed;
    const controller = new AbortController();
    const aborted = settle(http.health({ signal: controller.signal }));
    controller.abort();
    await aborted;
    expect(events.map((e) => [e.error, e.durationMs, e.status])).toEqual([
      ['TIMEOUT', 20, undefined],
      ['ABORTED', 0, undefined],
    ]);
  });
});

describe('Retry-After parsing', () => {
  it('reads delta seconds and HTTP dates, and nothing else', () => {
    const now = Date.UTC(2026, 0, 1);
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter(' 120 ', now)).toBe(120_000);
    expect(parseRetryAfter(new Date(now + 7_000).toUTCString(), now)).toBe(7_000);
    expect(parseRetryAfter(new Date(now - 7_000).toUTCString(), now)).toBe(0);
    for (const bad of [null, '', '-1', '1.5', 'soon', '2026-01-01T00:00:00Z']) {
      expect(parseRetryAfter(bad, now)).toBeUndefined();
    }
  });
});
