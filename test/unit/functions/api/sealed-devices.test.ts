/**
 * Sealed device-list reads (`GET /v1/sealed/devices/{address}`, docs/SERVICE.md §15.6): the
 * owner-signed list's answer without naming the caller, authorized by the listed account's
 * access key or, for an `anyone` account, by nothing; a token is refused whatever the mode; a
 * wrong key and an unknown address get one identical 401, never a 404; reads are counted per
 * listed account; the access log names the route template only.
 */
import { describe, expect, it } from 'vitest';
import { memoryTokenPorts } from '#functions/adapters/memory-ports.ts';
import { ACCESS_KEY_HEADER } from '#sdk/wire/api/signing.ts';
import {
  accessHeaders,
  BOB_ACCESS_KEY,
  harness,
  memoryPorts,
  newAccount,
  type TestDevice,
  testMaterial,
} from '../fixtures.ts';
import { issueTokens, tokenHeaders } from '../token-fixture.ts';

const DAY_MS = 86_400_000;
const START = 20_250 * DAY_MS + DAY_MS / 2;
const CAROL_KEY = new Uint8Array(16).fill(3);
const DAVE_KEY = new Uint8Array(16).fill(4);
const WRONG_KEY = new Uint8Array(16).fill(9);

async function setup(config = {}) {
  const h = harness(memoryPorts(testMaterial()), {
    start: START - 8 * DAY_MS,
    config,
    tokens: memoryTokenPorts(),
  });
  const sender = await h.register();
  const bob = await h.register(BOB_ACCESS_KEY);
  const carol = await h.register(CAROL_KEY, { firstContact: 'contacts' });
  const dave = await h.register(DAVE_KEY, { firstContact: 'anyone' });
  h.clock.now = START;
  const read = (of: string | TestDevice, headers: Record<string, string> = {}) => {
    const address = typeof of === 'string' ? of : of.account.address;
    return h.call({ method: 'GET', path: `/v1/sealed/devices/${address}`, headers });
  };
  return { h, sender, bob, carol, dave, read };
}

describe('sealed device-list reads', () => {
  it('answers the owner-signed list with the access key, in every mode', async () => {
    const { h, sender, bob, carol, dave, read } = await setup();
    const phone = await h.link(bob.account);
    const sealed = await read(bob, accessHeaders());
    expect(sealed.status).toBe(200);
    const signed = await h.call({
      method: 'GET',
      path: `/v1/accounts/${bob.account.address}/devices`,
      signer: sender,
    });
    expect(signed.status).toBe(200);
    expect(sealed.json).toEqual(signed.json);
    expect(sealed.body.devices.map((d) => d.deviceId)).toEqual([1, phone.deviceId]);
    expect((await read(carol, accessHeaders(CAROL_KEY))).status).toBe(200);
    expect((await read(dave, accessHeaders(DAVE_KEY))).status).toBe(200);

    // A removed device is gone from the sealed list at once.
    const removed = await h.call({ method: 'DELETE', path: '/v1/devices/2', signer: phone });
    expect(removed.status).toBe(200);
    expect((await read(bob, accessHeaders())).body.devices.map((d) => d.deviceId)).toEqual([1]);
  });

  it('answers one identical 401 for a wrong key, no key, a token and an unknown address', async () => {
    const { h, sender, bob, carol, read } = await setup();
    const wrong = await read(bob, accessHeaders(WRONG_KEY));
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('UNAUTHORIZED');
    const [token] = await issueTokens(h, sender, 1);
    const unknown = newAccount().address;
    const refusals = [
      await read(bob, {}),
      await read(bob, { [ACCESS_KEY_HEADER]: 'not base64url!' }),
      await read(bob, { [ACCESS_KEY_HEADER]: 'AAAA' }),
      // Bob takes requests, but a token pays for first messages, not for reads.
      await read(bob, tokenHeaders(token!)),
      await read(bob, { ...accessHeaders(), ...tokenHeaders(token!) }),
      await read(carol, tokenHeaders(token!)),
      await read(carol, accessHeaders()),
      await read(unknown, accessHeaders()),
      await read(unknown, tokenHeaders(token!)),
      await read(unknown, {}),
    ];
    for (const res of refusals) {
      expect(res.status).toBe(401);
      expect(res.json).toEqual(wrong.json);
    }
    // The token was not spent by being shown: it still pays for a bundle fetch.
    const bundles = await h.call({
      method: 'GET',
      path: `/v1/sealed/bundles/${bob.account.address}`,
      headers: tokenHeaders(token!),
    });
    expect(bundles.status).toBe(200);
  });

  it('refuses a token even for an account that takes anyone’s, where nothing is needed', async () => {
    const { h, sender, dave, read } = await setup();
    const [token] = await issueTokens(h, sender, 1);
    const open = await read(dave);
    expect(open.status).toBe(200);
    expect(open.body.address).toBe(dave.account.address);
    expect((await read(dave, accessHeaders(WRONG_KEY))).status).toBe(200);
    const withToken = await read(dave, tokenHeaders(token!));
    expect(withToken.status).toBe(401);
    expect(withToken.json).toEqual((await read(newAccount().address)).json);
  });

  it('counts reads per listed account, whoever reads', async () => {
    const { bob, dave, read } = await setup({
      sealedDeviceListRateLimit: { limit: 2, windowMs: 60 * 60 * 1000 },
    });
    expect((await read(bob, accessHeaders())).status).toBe(200);
    expect((await read(bob, accessHeaders())).status).toBe(200);
    const third = await read(bob, accessHeaders());
    expect(third.status).toBe(429);
    expect(third.body.error.code).toBe('RATE_LIMITED');
    // Refused reads are not counted against another account, and Dave has his own count.
    expect((await read(dave)).status).toBe(200);
    expect((await read(dave, accessHeaders(DAVE_KEY))).status).toBe(200);
    expect((await read(dave)).status).toBe(429);
  });

  it('does not count against the owner-signed device-list limit of any account', async () => {
    const { h, sender, bob, read } = await setup({
      deviceListRateLimit: { limit: 1, windowMs: 10 * 60 * 1000 },
    });
    for (let i = 0; i < 3; i++) expect((await read(bob, accessHeaders())).status).toBe(200);
    const signed = await h.call({
      method: 'GET',
      path: `/v1/accounts/${bob.account.address}/devices`,
      signer: sender,
    });
    expect(signed.status).toBe(200);
  });

  it('refuses bad input with a JSON 4xx', async () => {
    const { h, bob, read } = await setup();
    const badAddress = await read('not-an-address', accessHeaders());
    expect(badAddress.status).toBe(400);
    expect(badAddress.body.error.code).toBe('BAD_REQUEST');
    const withBody = await h.call({
      method: 'GET',
      path: `/v1/sealed/devices/${bob.account.address}`,
      headers: { ...accessHeaders(), 'content-length': '5' },
    });
    expect(withBody.status).toBe(400);
    expect(withBody.body.error.code).toBe('BAD_REQUEST');
    const put = await h.call({
      method: 'PUT',
      path: `/v1/sealed/devices/${bob.account.address}`,
      json: {},
      headers: accessHeaders(),
    });
    expect(put.status).toBe(405);
    expect(put.body.error.code).toBe('METHOD_NOT_ALLOWED');
    const long = await read('a'.repeat(5000), accessHeaders());
    expect(long.status).toBeGreaterThanOrEqual(400);
    expect(long.status).toBeLessThan(500);
    expect(long.body.error.code).toEqual(expect.any(String));
  });

  it('logs the route template only', async () => {
    const { h, bob, read } = await setup();
    h.logs.length = 0;
    await read(bob, accessHeaders());
    await read(bob, accessHeaders(WRONG_KEY));
    expect(h.logs.map((l) => JSON.parse(l).route)).toEqual([
      '/v1/sealed/devices/:address',
      '/v1/sealed/devices/:address',
    ]);
    expect(h.logs.join('\n')).not.toContain(bob.account.address);
    expect(h.logs.join('\n')).not.toContain(accessHeaders()[ACCESS_KEY_HEADER]);
  });

  it('is published as an access-key route that takes no token', async () => {
    const { h } = await setup();
    const doc = (await h.call({ method: 'GET', path: '/openapi.json' })).json as {
      paths: Record<
        string,
        Record<string, { operationId: string; security: unknown[]; responses: object }>
      >;
    };
    const op = doc.paths['/v1/sealed/devices/{address}']!['get']!;
    expect(op.operationId).toBe('fetchSealedDevices');
    expect(op.security).toEqual([{ accessKey: [] }, {}]);
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '401', '429']));
    expect(Object.keys(op.responses)).not.toContain('404');
  });
});
