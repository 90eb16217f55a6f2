/**
 * The typed HTTP client against a fake `fetch`: every server error code becomes the right typed
 * error, device-list errors carry their lists, responses are checked against the contract, and
 * only transport failures and 503 are retried (twice, signed afresh each time; call controls
 * in http-client-controls.test.ts).
 */
import { describe, expect, it } from 'vitest';
import {
  ApiError,
  ClockSkewError,
  DeviceIdTakenError,
  DeviceMismatchError,
  InvalidResponseError,
  NetworkError,
  NotRegisteredError,
  StaleDevicesError,
} from '#sdk/client/errors.ts';
import { type FetchLike, SealpostHttpClient } from '#sdk/client/http-client.ts';
import { seedSigner } from '#sdk/client/request-signing.ts';
import { nobleBackend } from '#sdk/crypto/noble-backend.ts';
import { ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import { API_ERROR_STATUS, type ApiErrorCode } from '#sdk/wire/api/errors.ts';
import { ACCOUNT_SIGNATURE_HEADER, AUTH_HEADERS } from '#sdk/wire/api/signing.ts';
import { addressFromBytes } from '#sdk/wire/identity.ts';

const BASE = 'http://sealpost.test';
const ADDRESS = addressFromBytes(new Uint8Array(20).fill(3));
const TRUST_ROOT = new Uint8Array(32).fill(4);
const NOW = 1_750_000_000_000;
const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const errorBody = (code: string, extra: object = {}) => ({
  error: { code, message: 'refused', ...extra },
});

interface Recorded {
  url: string;
  init: RequestInit;
}

/** A fetch that answers from `script` in order (the last entry repeats) and records requests. */
function scripted(script: (() => Response | Promise<Response>)[]) {
  const calls: Recorded[] = [];
  const fetch: FetchLike = async (url, init) => {
    calls.push({ url, init });
    const step = script[Math.min(calls.length - 1, script.length - 1)]!;
    return step();
  };
  return { fetch, calls };
}

function client(fetch: FetchLike, retries?: number, now?: () => number) {
  return new SealpostHttpClient({
    baseUrl: BASE,
    fetch,
    backend: nobleBackend,
    signer: seedSigner(nobleBackend, ADDRESS, 2, new Uint8Array(32).fill(9)),
    trustRoot: TRUST_ROOT,
    ...(retries === undefined ? {} : { retries }),
    ...(now ? { now } : {}),
  });
}

const header = (r: Recorded, name: string) => (r.init.headers as Record<string, string>)[name];

describe('SealpostHttpClient error mapping', () => {
  it('turns every server error code into an ApiError with its code, status and operation', async () => {
    const codes = Object.keys(API_ERROR_STATUS) as ApiErrorCode[];
    for (const code of codes) {
      const status = API_ERROR_STATUS[code];
      const { fetch } = scripted([() => json(status, errorBody(code))]);
      const err = await client(fetch, 0)
        .countPrekeys()
        .catch((e: unknown) => e);
      expect(err, code).toBeInstanceOf(ApiError);
      expect(err).toMatchObject({ code, status, operationId: 'countPrekeys' });
      expect((err as ApiError).retryable).toBe(
        code === 'UNAVAILABLE' || code === 'INTERNAL' || code === 'RATE_LIMITED',
      );
      expect(err instanceof DeviceMismatchError).toBe(code === 'DEVICE_MISMATCH');
      expect(err instanceof StaleDevicesError).toBe(code === 'STALE_DEVICES');
      expect(err instanceof ClockSkewError).toBe(code === 'CLOCK_SKEW');
      expect(err instanceof DeviceIdTakenError).toBe(code === 'DEVICE_ID_TAKEN');
    }
  });

  it('carries missing and extra of a 409 and stale of a 410', async () => {
    const send = { messageId: 'AAAAAAAAAAAAAAAAAAAAAA', envelopes: [] };
    const mismatch = scripted([
      () => json(409, errorBody('DEVICE_MISMATCH', { missing: [2, 3], extra: [5] })),
    ]);
    const e409 = await client(mismatch.fetch)
      .sendIdentified(ADDRESS, send)
      .catch((e: unknown) => e);
    expect(e409).toBeInstanceOf(DeviceMismatchError);
    expect(e409).toMatchObject({
      code: 'DEVICE_MISMATCH',
      status: 409,
      operationId: 'sendIdentified',
      missing: [2, 3],
      extra: [5],
    });
    const stale = scripted([() => json(410, errorBody('STALE_DEVICES', { stale: [4] }))]);
    const e410 = await client(stale.fetch)
      .sendSealed(ADDRESS, send, {})
      .catch((e: unknown) => e);
    expect(e410).toBeInstanceOf(StaleDevicesError);
    expect(e410).toMatchObject({ code: 'STALE_DEVICES', status: 410, stale: [4] });
    // Device errors are answered, not retried.
    expect(mismatch.calls).toHaveLength(1);
    expect(stale.calls).toHaveLength(1);
  });

  it('keeps only well-formed device ids from a device-list error', async () => {
    const { fetch } = scripted([
      () =>
        json(
          409,
          errorBody('DEVICE_MISMATCH', { missing: [1, 0, -2, 1.5, 'x', 2 ** 32], extra: 7 }),
        ),
    ]);
    const err = await client(fetch)
      .health()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ missing: [1], extra: [] });
  });

  it('maps a body that is not the error shape by status', async () => {
    for (const [status, code] of [
      [418, 'BAD_REQUEST'],
      [500, 'INTERNAL'],
      [502, 'INTERNAL'],
      [503, 'UNAVAILABLE'],
    ] as const) {
      const { fetch } = scripted([() => new Response('<html>gateway</html>', { status })]);
      const err = await client(fetch, 0)
        .health()
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect(err).toMatchObject({ code, status });
    }
    const unknownCode = scripted([() => json(400, errorBody('NOT_A_CODE'))]);
    expect(
      await client(unknownCode.fetch)
        .health()
        .catch((e: unknown) => e),
    ).toMatchObject({ code: 'BAD_REQUEST', status: 400 });
  });

  it('refuses a response that does not match the contract', async () => {
    for (const body of [
      () => json(200, { ec: -1, pq: 0 }),
      () => json(200, { ec: 1, pq: 2, more: true }),
      () => json(200, { ec: '1', pq: 2 }),
      () => new Response('not json', { status: 200 }),
      () => new Response('', { status: 200 }),
    ]) {
      const { fetch, calls } = scripted([body]);
      await expect(client(fetch).countPrekeys()).rejects.toBeInstanceOf(InvalidResponseError);
      expect(calls).toHaveLength(1);
    }
    const ok = scripted([() => json(200, { ec: 1, pq: 2 })]);
    expect(await client(ok.fetch).countPrekeys()).toEqual({ ec: 1, pq: 2 });
  });
});

describe('SealpostHttpClient retries', () => {
  it('retries a network failure twice, then throws NetworkError', async () => {
    const { fetch, calls } = scripted([
      () => {
        throw new TypeError('connection refused');
      },
    ]);
    const err = await client(fetch)
      .countPrekeys()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect(err).toMatchObject({ code: 'NETWORK', retryable: true });
    expect((err as NetworkError).cause).toBeInstanceOf(TypeError);
    expect(calls).toHaveLength(3);
  });

  it('treats a body cut off mid-read as a network failure', async () => {
    const { fetch, calls } = scripted([
      () =>
        new Response(
          new ReadableStream({
            start(c) {
              c.error(new Error('socket hang up'));
            },
          }),
          { status: 200 },
        ),
      () => json(200, { ec: 0, pq: 0 }),
    ]);
    expect(await client(fetch).countPrekeys()).toEqual({ ec: 0, pq: 0 });
    expect(calls).toHaveLength(2);
  });

  it('retries 503 and signs every attempt afresh', async () => {
    const { fetch, calls } = scripted([
      () => json(503, errorBody('UNAVAILABLE')),
      () => json(503, errorBody('UNAVAILABLE')),
      () => json(200, { ec: 4, pq: 5 }),
    ]);
    expect(await client(fetch).countPrekeys()).toEqual({ ec: 4, pq: 5 });
    expect(calls).toHaveLength(3);
    const nonces = calls.map((c) => header(c, AUTH_HEADERS.nonce));
    expect(new Set(nonces).size).toBe(3);
    for (const c of calls) {
      expect(c.url).toBe(`${BASE}/v1/prekeys/count`);
      expect(header(c, AUTH_HEADERS.device)).toBe('2');
    }
  });

  it('gives up on 503 after two retries', async () => {
    const { fetch, calls } = scripted([() => json(503, errorBody('UNAVAILABLE'))]);
    await expect(client(fetch).health()).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      status: 503,
    });
    expect(calls).toHaveLength(3);
  });

  it('does not retry other errors', async () => {
    for (const code of ['INTERNAL', 'RATE_LIMITED', 'UNAUTHORIZED'] as const) {
      const { fetch, calls } = scripted([() => json(API_ERROR_STATUS[code], errorBody(code))]);
      await expect(client(fetch).health()).rejects.toMatchObject({ code });
      expect(calls).toHaveLength(1);
    }
  });
});

describe('SealpostHttpClient requests', () => {
  it('refuses an owner route without a signer, before any request', async () => {
    const { fetch, calls } = scripted([() => json(200, { ec: 0, pq: 0 })]);
    const unsigned = new SealpostHttpClient({ baseUrl: BASE, fetch });
    await expect(unsigned.countPrekeys()).rejects.toBeInstanceOf(NotRegisteredError);
    expect(calls).toHaveLength(0);
  });

  it('sends the access key only on a sealed send and no owner signature there', async () => {
    const { fetch, calls } = scripted([
      () => json(200, { messageId: 'AAAAAAAAAAAAAAAAAAAAAA', duplicate: false }),
    ]);
    const body = {
      messageId: 'AAAAAAAAAAAAAAAAAAAAAA',
      envelopes: [{ deviceId: 1, envelope: 'AA' }],
    };
    const http = client(fetch);
    await http.sendSealed(ADDRESS, body, { accessKey: new Uint8Array(16).fill(1) });
    await http.sendIdentified(ADDRESS, body);
    const [sealed, identified] = calls as [Recorded, Recorded];
    expect(sealed.url).toBe(`${BASE}/v1/messages/${ADDRESS}`);
    expect(header(sealed, 'x-sealpost-access-key')).toBe('AQEBAQEBAQEBAQEBAQEBAQ');
    expect(header(sealed, AUTH_HEADERS.signature)).toBeUndefined();
    expect(identified.url).toBe(`${BASE}/v1/messages/${ADDRESS}/identified`);
    expect(header(identified, 'x-sealpost-access-key')).toBeUndefined();
    expect(header(identified, AUTH_HEADERS.address)).toBe(ADDRESS);
    expect(JSON.parse(new TextDecoder().decode(identified.init.body as Uint8Array))).toEqual(body);
  });

  it('rejects a base URL that is not http(s) and a trust root that is not 32 bytes', () => {
    expect(() => new SealpostHttpClient({ baseUrl: 'ftp://example.com' })).toThrow(
      ArgumentTypeError,
    );
    expect(() => new SealpostHttpClient({ baseUrl: BASE, trustRoot: new Uint8Array(31) })).toThrow(
      ArgumentTypeError,
    );
  });

  it('co-signs a device removal with the account seed only when given', async () => {
    const { fetch, calls } = scripted([() => json(200, { deviceId: 1 })]);
    const http = client(fetch);
    await http.removeDevice(2);
    await http.removeDevice(1, { accountSeed: new Uint8Array(32).fill(8) });
    const [own, other] = calls as [Recorded, Recorded];
    expect(header(own, ACCOUNT_SIGNATURE_HEADER)).toBeUndefined();
    expect(other.url).toBe(`${BASE}/v1/devices/1`);
    expect(header(other, ACCOUNT_SIGNATURE_HEADER)).toMatch(/^[A-Za-z0-9_-]{86}$/);
  });
});

describe('SealpostHttpClient clock correction', () => {
  const skew = (serverTime: unknown) => () => json(401, errorBody('CLOCK_SKEW', { serverTime }));

  it('on CLOCK_SKEW adopts the server time, signs again with a fresh nonce once, and keeps the offset', async () => {
    const serverTime = NOW + 600_000;
    const { fetch, calls } = scripted([skew(serverTime), () => json(200, { ec: 1, pq: 1 })]);
    const http = client(fetch, 0, () => NOW);
    expect(await http.countPrekeys()).toEqual({ ec: 1, pq: 1 });
    expect(calls).toHaveLength(2);
    const [first, second] = calls as [Recorded, Recorded];
    expect(header(first, AUTH_HEADERS.timestamp)).toBe(String(NOW));
    expect(header(second, AUTH_HEADERS.timestamp)).toBe(String(serverTime));
    expect(header(second, AUTH_HEADERS.nonce)).not.toBe(header(first, AUTH_HEADERS.nonce));
    expect(http.clockOffset).toBe(600_000);
    await http.countPrekeys();
    expect(header(calls[2]!, AUTH_HEADERS.timestamp)).toBe(String(serverTime));
  });

  it('retries only once, and not on an implausible or missing server time', async () => {
    const twice = scripted([skew(NOW + 600_000)]);
    const err = await client(twice.fetch, 0, () => NOW)
      .countPrekeys()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClockSkewError);
    expect(err).toMatchObject({ code: 'CLOCK_SKEW', status: 401, serverTime: NOW + 600_000 });
    expect(twice.calls).toHaveLength(2);
    for (const bad of [NOW + 2 * 24 * 3600_000, undefined, 'soon']) {
      const { fetch, calls } = scripted([skew(bad), () => json(200, { ec: 1, pq: 1 })]);
      const http = client(fetch, 0, () => NOW);
      await expect(http.countPrekeys()).rejects.toBeInstanceOf(ClockSkewError);
      expect(calls).toHaveLength(1);
      expect(http.clockOffset).toBe(0);
    }
  });

  it('rebuilds a registration proof at the corrected time', async () => {
    const serverTime = NOW - 600_000;
    const { fetch, calls } = scripted([
      skew(serverTime),
      () => json(200, { address: ADDRESS, deviceId: 1 }),
    ]);
    const http = client(fetch, 0, () => NOW);
    const built: number[] = [];
    const body = async (timestamp: number) => {
      built.push(timestamp);
      return { timestamp } as never;
    };
    expect(await http.registerAccount(ADDRESS, body)).toEqual({ address: ADDRESS, deviceId: 1 });
    expect(built).toEqual([NOW, serverTime]);
    const sent = (c: Recorded) => JSON.parse(new TextDecoder().decode(c.init.body as Uint8Array));
    expect(sent(calls[1]!)).toEqual({ timestamp: serverTime });
  });

  it('asks for the first free device id once the requested one is taken', async () => {
    const { fetch, calls } = scripted([
      () => json(409, errorBody('DEVICE_ID_TAKEN', { freeDeviceIds: [3, 5] })),
      () => json(200, { address: ADDRESS, deviceId: 3 }),
    ]);
    const asked: number[] = [];
    const res = await client(fetch, 0, () => NOW).addDevice(
      ADDRESS,
      async (timestamp, deviceId) => {
        asked.push(deviceId);
        return { deviceId, timestamp } as never;
      },
    );
    expect(res).toEqual({ address: ADDRESS, deviceId: 3 });
    expect(asked).toEqual([2, 3]);
    expect(calls).toHaveLength(2);
    const taken = scripted([() => json(409, errorBody('DEVICE_ID_TAKEN', { freeDeviceIds: [] }))]);
    await expect(
      client(taken.fetch, 0).addDevice(
        ADDRESS,
        async (t, d) => ({ deviceId: d, timestamp: t }) as never,
      ),
    ).rejects.toBeInstanceOf(DeviceIdTakenError);
    expect(taken.calls).toHaveLength(1);
  });
});
