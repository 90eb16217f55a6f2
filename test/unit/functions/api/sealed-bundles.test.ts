/**
 * Sealed bundle fetches (`GET /v1/sealed/bundles/{address}[/{deviceId}]`, docs/SERVICE.md
 * §15.4): the owner-signed routes' answers without naming the caller, authorized by the
 * access key, a token (not spent; 4 fetches each) or nothing for an `anyone` recipient; a
 * `contacts` recipient refuses a token like a wrong key; an unknown address is 401, never 404.
 */
import { describe, expect, it } from 'vitest';
import { memoryTokenPorts } from '#functions/adapters/memory-ports.ts';
import {
  accessHeaders,
  BOB_ACCESS_KEY,
  harness,
  kemPrekey,
  memoryPorts,
  newAccount,
  newMessageId,
  oneTimePrekey,
  sendBody,
  type TestDevice,
  testMaterial,
} from '../fixtures.ts';
import { issueTokens, tokenHeaders } from '../token-fixture.ts';

const DAY_MS = 86_400_000;
const START = 20_250 * DAY_MS + DAY_MS / 2;

async function setup(config = {}) {
  const h = harness(memoryPorts(testMaterial()), {
    start: START - 8 * DAY_MS,
    config,
    tokens: memoryTokenPorts(),
  });
  const sender = await h.register();
  const bob = await h.register(BOB_ACCESS_KEY);
  const carol = await h.register(new Uint8Array(16).fill(3), { firstContact: 'contacts' });
  const dave = await h.register(new Uint8Array(16).fill(4), { firstContact: 'anyone' });
  h.clock.now = START;
  const fetch = (to: string | TestDevice, headers: Record<string, string>, deviceId?: number) => {
    const address = typeof to === 'string' ? to : to.account.address;
    const path = `/v1/sealed/bundles/${address}${deviceId === undefined ? '' : `/${deviceId}`}`;
    return h.call({ method: 'GET', path, headers });
  };
  return { h, sender, bob, carol, dave, fetch };
}

describe('sealed bundle fetches', () => {
  it('answers like the owner-signed route, claiming one-time keys, with the access key', async () => {
    const { h, sender, bob, fetch } = await setup();
    await h.call({
      method: 'PUT',
      path: '/v1/prekeys',
      json: {
        oneTimePrekeys: [oneTimePrekey(10), oneTimePrekey(11)],
        kemPrekeys: [kemPrekey(bob, 20, false)],
      },
      signer: bob,
    });
    const sealed = await fetch(bob, accessHeaders());
    expect(sealed.status).toBe(200);
    expect(sealed.body.address).toBe(bob.account.address);
    expect(sealed.body.devices[0]!.oneTimePrekey?.id).toBe(10);
    expect(sealed.body.devices[0]!.kemPrekey).toMatchObject({ id: 20, lastResort: false });
    const owner = await h.call({
      method: 'GET',
      path: `/v1/bundles/${bob.account.address}`,
      signer: sender,
    });
    // The same bundle, one more one-time key claimed.
    expect(owner.body.devices[0]!.oneTimePrekey?.id).toBe(11);
    const { oneTimePrekey: _a, kemPrekey: _b, ...sealedRest } = sealed.body.devices[0]!;
    const { oneTimePrekey: _c, kemPrekey: _d, ...ownerRest } = owner.body.devices[0]!;
    expect(sealedRest).toEqual(ownerRest);
    expect((await h.call({ method: 'GET', path: '/v1/prekeys/count', signer: bob })).body).toEqual({
      ec: 0,
      pq: 0,
    });
    const one = await fetch(bob, accessHeaders(), 1);
    expect(one.status).toBe(200);
    expect(one.body.devices.map((d) => d.deviceId)).toEqual([1]);
    const missing = await fetch(bob, accessHeaders(), 5);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');
  });

  it('answers 401 for a wrong key, no credentials, and any unknown address', async () => {
    const { h, sender, bob, fetch } = await setup();
    const [token] = await issueTokens(h, sender, 1);
    const wrong = await fetch(bob, accessHeaders(new Uint8Array(16).fill(9)));
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('UNAUTHORIZED');
    expect((await fetch(bob, {})).json).toEqual(wrong.json);
    const unknown = newAccount().address;
    for (const headers of [accessHeaders(), tokenHeaders(token!), {}]) {
      const res = await fetch(unknown, headers);
      expect(res.status).toBe(401);
      expect(res.json).toEqual(wrong.json);
      expect((await fetch(unknown, headers, 1)).json).toEqual(wrong.json);
    }
  });

  it('lets a token pay for 4 fetches without spending it', async () => {
    const { h, sender, bob, fetch } = await setup();
    const [token, other] = await issueTokens(h, sender, 2);
    for (let i = 0; i < 4; i++)
      expect((await fetch(bob, tokenHeaders(token!), i % 2 ? 1 : undefined)).status).toBe(200);
    const fifth = await fetch(bob, tokenHeaders(token!));
    expect(fifth.status).toBe(429);
    expect(fifth.body.error.code).toBe('RATE_LIMITED');
    // Another token has its own four; the first still pays for a send.
    expect((await fetch(bob, tokenHeaders(other!))).status).toBe(200);
    const sent = await h.call({
      method: 'PUT',
      path: `/v1/messages/${bob.account.address}`,
      json: sendBody(newMessageId(0), [[1, new Uint8Array([1])]]),
      headers: tokenHeaders(token!),
    });
    expect(sent.status).toBe(200);
    // Forged tokens are refused.
    expect((await fetch(bob, tokenHeaders(new Uint8Array(354)))).body.error.code).toBe(
      'INVALID_TOKEN',
    );
  });

  it('refuses a token for a contacts recipient exactly like a wrong key', async () => {
    const { h, sender, carol, fetch } = await setup();
    const [token] = await issueTokens(h, sender, 1);
    const withToken = await fetch(carol, tokenHeaders(token!));
    const wrong = await fetch(carol, accessHeaders(new Uint8Array(16).fill(9)));
    expect(withToken.status).toBe(401);
    expect(withToken.json).toEqual(wrong.json);
    expect((await fetch(carol, accessHeaders(new Uint8Array(16).fill(3)))).status).toBe(200);
  });

  it('needs nothing for an anyone recipient, within the per-recipient limit', async () => {
    const { bob, dave, fetch } = await setup({
      sealedBundleRateLimit: { limit: 2, windowMs: 60 * 60 * 1000 },
    });
    expect((await fetch(dave, {})).status).toBe(200);
    expect((await fetch(dave, accessHeaders(new Uint8Array(16).fill(4)))).status).toBe(200);
    const third = await fetch(dave, {});
    expect(third.status).toBe(429);
    expect(third.body.error.code).toBe('RATE_LIMITED');
    // Access-key fetches of another recipient have their own count.
    expect((await fetch(bob, accessHeaders())).status).toBe(200);
    expect((await fetch(bob, accessHeaders())).status).toBe(200);
    expect((await fetch(bob, accessHeaders())).status).toBe(429);
  });

  it('logs the route template only', async () => {
    const { h, sender, bob, fetch } = await setup();
    const [token] = await issueTokens(h, sender, 1);
    h.logs.length = 0;
    await fetch(bob, tokenHeaders(token!));
    await fetch(bob, accessHeaders(), 1);
    expect(h.logs.map((l) => JSON.parse(l).route)).toEqual([
      '/v1/sealed/bundles/:address',
      '/v1/sealed/bundles/:address/:deviceId',
    ]);
    expect(h.logs.join('\n')).not.toContain(bob.account.address);
  });
});
