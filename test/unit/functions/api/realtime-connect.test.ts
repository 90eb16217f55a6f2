/**
 * The connect's owner signature (docs/SERVICE.md §7.3): a `GET` of REALTIME_PATH with an empty
 * body, its five fields in the query. The same check as every owner request.
 */
import { describe, expect, it } from 'vitest';
import { authenticateConnect, connectOptions } from '#functions/api/realtime-connect.ts';
import { ClockSkewError, ServiceError } from '#functions/domain/errors.ts';
import { CONNECT_QUERY, REALTIME_PATH } from '#sdk/wire/api/realtime.ts';
import { AUTH_HEADERS } from '#sdk/wire/api/signing.ts';
import { harness, memoryPorts, signHeaders, type TestDevice, testMaterial } from '../fixtures.ts';

/** The connect query of `device` signed at `now`: the five auth headers as CONNECT_QUERY. */
function realtimeConnectQuery(device: TestDevice, now: number): Record<string, string> {
  const headers = signHeaders(device, 'GET', REALTIME_PATH, new Uint8Array(), now);
  const read = (name: string): string => headers[name] ?? '';
  return {
    [CONNECT_QUERY.address]: read(AUTH_HEADERS.address),
    [CONNECT_QUERY.device]: read(AUTH_HEADERS.device),
    [CONNECT_QUERY.timestamp]: read(AUTH_HEADERS.timestamp),
    [CONNECT_QUERY.nonce]: read(AUTH_HEADERS.nonce),
    [CONNECT_QUERY.signature]: read(AUTH_HEADERS.signature),
  };
}

async function setup() {
  const h = harness(memoryPorts(testMaterial()));
  const device = await h.register();
  const query = () => realtimeConnectQuery(device, h.clock.now);
  return { h, device, query };
}

/** The code of the ServiceError `promise` rejects with. */
async function codeOf(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ServiceError)) throw new Error('expected a ServiceError');
  return err.code;
}

describe('authenticateConnect', () => {
  it('authenticates a signed connect as its device, from a query object or URLSearchParams', async () => {
    const { h, device, query } = await setup();
    const caller = await authenticateConnect(h.services.auth, REALTIME_PATH, query());
    expect(caller.address).toBe(device.account.address);
    expect(caller.deviceId).toBe(1);
    const params = new URLSearchParams(query());
    const again = await authenticateConnect(h.services.auth, REALTIME_PATH, params);
    expect(again.ref).toEqual(caller.ref);
  });

  it('refuses a signature presented at another path', async () => {
    const { h, query } = await setup();
    const signed = query();
    expect(await codeOf(authenticateConnect(h.services.auth, '/v1/messages', signed))).toBe(
      'UNAUTHORIZED',
    );
    expect(await codeOf(authenticateConnect(h.services.auth, `${REALTIME_PATH}/`, signed))).toBe(
      'UNAUTHORIZED',
    );
  });

  it('refuses a connect missing any one field', async () => {
    const { h, query } = await setup();
    const signed = Object.keys(AUTH_HEADERS) as (keyof typeof AUTH_HEADERS)[];
    expect(signed).toHaveLength(5);
    for (const name of signed.map((field) => CONNECT_QUERY[field])) {
      const { [name]: _dropped, ...rest } = query();
      expect(await codeOf(authenticateConnect(h.services.auth, REALTIME_PATH, rest))).toBe(
        'UNAUTHORIZED',
      );
    }
  });

  it('refuses a tampered signature, device or timestamp', async () => {
    const { h, query } = await setup();
    const signed = query();
    const signature = signed[CONNECT_QUERY.signature] ?? '';
    const flipped = `${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
    const tampered = [
      { ...signed, [CONNECT_QUERY.signature]: flipped },
      { ...signed, [CONNECT_QUERY.device]: '2' },
      { ...signed, [CONNECT_QUERY.timestamp]: String(h.clock.now - 1) },
    ];
    for (const q of tampered) {
      expect(await codeOf(authenticateConnect(h.services.auth, REALTIME_PATH, q))).toBe(
        'UNAUTHORIZED',
      );
    }
  });

  it('refuses the same signed connect twice (nonce replay)', async () => {
    const { h, query } = await setup();
    const signed = query();
    await authenticateConnect(h.services.auth, REALTIME_PATH, signed);
    expect(await codeOf(authenticateConnect(h.services.auth, REALTIME_PATH, signed))).toBe(
      'UNAUTHORIZED',
    );
  });

  it('refuses a connect signed outside the window as CLOCK_SKEW with the server time', async () => {
    const { h, device } = await setup();
    const skewed = realtimeConnectQuery(device, h.clock.now - 10 * 60_000);
    const err = await authenticateConnect(h.services.auth, REALTIME_PATH, skewed).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ClockSkewError);
    expect((err as ClockSkewError).serverTime).toBe(h.clock.now);
  });
});

describe('connectOptions', () => {
  it('reads payloads=1 from a query object or URLSearchParams, and nothing otherwise', () => {
    expect(connectOptions({ [CONNECT_QUERY.payloads]: '1' })).toEqual({ payloads: true });
    expect(connectOptions(new URLSearchParams('payloads=1&address=x'))).toEqual({
      payloads: true,
    });
    expect(connectOptions({})).toEqual({});
    expect(connectOptions(new URLSearchParams('address=x'))).toEqual({});
  });

  it('refuses any other payloads value as BAD_REQUEST', () => {
    for (const value of ['0', 'true', '', '11', ' 1']) {
      let err: unknown;
      try {
        connectOptions({ [CONNECT_QUERY.payloads]: value });
      } catch (e) {
        err = e;
      }
      expect(err instanceof ServiceError && err.code, value).toBe('BAD_REQUEST');
    }
  });

  it('is not part of the signature: a signed connect authenticates with or without it', async () => {
    const { h, device, query } = await setup();
    const caller = await authenticateConnect(h.services.auth, REALTIME_PATH, {
      ...query(),
      [CONNECT_QUERY.payloads]: '1',
    });
    expect(caller.address).toBe(device.account.address);
  });
});
