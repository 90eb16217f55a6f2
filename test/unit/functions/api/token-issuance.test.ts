/**
 * `GET /v1/tokens/keys` and `POST /v1/tokens` through the app (docs/SERVICE.md §15.2): the
 * signed key list names this deployment's issuer; a batch of 20 is issued to an established
 * account and finishes into valid tokens; the daily quota (20, 5 for accounts younger than 7
 * days) refuses a batch whole and takes nothing; a stale key id is 409; malformed requests
 * are 400 before anything is counted; a suspended account gets nothing; and nothing of the
 * requests, responses or tokens reaches a log line.
 */
import { describe, expect, it } from 'vitest';
import { MemoryTokenQuota } from '#functions/adapters/memory/memory-token-quota.ts';
import { memoryTokenPorts } from '#functions/adapters/memory-ports.ts';
import { ed25519PublicKey } from '#functions/domain/crypto.ts';
import { issuerNameOf } from '#functions/domain/token-key-service.ts';
import { toBase64Url } from '#sdk/wire/api/codec.ts';
import { harness, memoryPorts, testMaterial } from '../fixtures.ts';
import { currentKey, issueTokens, tokenRequests } from '../token-fixture.ts';

const DAY_MS = 86_400_000;
/** Noon UTC, so a test's few seconds never cross midnight. */
const START = 20_250 * DAY_MS + DAY_MS / 2;

async function setup(config = {}) {
  const tokens = memoryTokenPorts();
  const material = testMaterial();
  const h = harness(memoryPorts(material), { start: START, config, tokens });
  const young = await h.register();
  // Accounts become established after 7 days.
  h.clock.now = START - 8 * DAY_MS;
  const old = await h.register();
  h.clock.now = START;
  return { h, tokens, material, young, old };
}

describe('token issuance', () => {
  it('publishes a signed list naming the deployment issuer, keyed by the trust root', async () => {
    const { h, material } = await setup();
    const key = await currentKey(h);
    expect(key.list.issuerName).toBe(issuerNameOf(material.trustRoot));
    expect(key.list.issuerName).toBe(`sealpost:${toBase64Url(material.trustRoot)}`);
    expect(key.list.keys.map((k) => k.day)).toEqual([Math.floor(START / DAY_MS)]);
    // Another trust root, another issuer name.
    expect(issuerNameOf(ed25519PublicKey(new Uint8Array(32).fill(1)))).not.toBe(
      key.list.issuerName,
    );
  });

  it('issues a batch of 20 to an established account, then refuses until the next UTC day', async () => {
    const { h, old } = await setup();
    const { body, finish } = await tokenRequests(h, 20);
    const res = await h.call({ method: 'POST', path: '/v1/tokens', json: body, signer: old });
    expect(res.status).toBe(200);
    expect(res.body.keyId).toBe(body.keyId);
    expect(res.body.remaining).toBe(0);
    expect(res.body.responses).toHaveLength(20);
    // Every response unblinds into a token that verifies (finishToken checks it).
    expect(finish(res.body.responses).every((t) => t.length === 354)).toBe(true);
    const more = await tokenRequests(h, 1);
    const refused = await h.call({
      method: 'POST',
      path: '/v1/tokens',
      json: more.body,
      signer: old,
    });
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('TOKEN_QUOTA_EXCEEDED');
    h.clock.now += DAY_MS;
    expect(await issueTokens(h, old, 20)).toHaveLength(20);
  });

  it('gives a young account 5 a day, and a refused batch takes nothing', async () => {
    const { h, young } = await setup();
    const six = await tokenRequests(h, 6);
    const refused = await h.call({
      method: 'POST',
      path: '/v1/tokens',
      json: six.body,
      signer: young,
    });
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('TOKEN_QUOTA_EXCEEDED');
    // Nothing was taken: the full quota is still there.
    const three = await tokenRequests(h, 3);
    const first = await h.call({
      method: 'POST',
      path: '/v1/tokens',
      json: three.body,
      signer: young,
    });
    expect(first.body.remaining).toBe(2);
    const three2 = await tokenRequests(h, 3);
    const over = await h.call({
      method: 'POST',
      path: '/v1/tokens',
      json: three2.body,
      signer: young,
    });
    expect(over.status).toBe(429);
    expect(await issueTokens(h, young, 2)).toHaveLength(2);
    // Seven days after registration the account is established.
    h.clock.now += 7 * DAY_MS;
    expect(await issueTokens(h, young, 20)).toHaveLength(20);
  });

  it('follows the configured quotas', async () => {
    const { h, old, young } = await setup({ tokenQuotaPerDay: 3, newAccountTokenQuotaPerDay: 1 });
    expect(await issueTokens(h, old, 3)).toHaveLength(3);
    await expect(issueTokens(h, old, 1)).rejects.toThrow(/TOKEN_QUOTA_EXCEEDED/);
    expect(await issueTokens(h, young, 1)).toHaveLength(1);
    await expect(issueTokens(h, young, 1)).rejects.toThrow(/TOKEN_QUOTA_EXCEEDED/);
  });

  it('answers STALE_TOKEN_KEY for a key that is not issuing now, counting nothing', async () => {
    const { h, old } = await setup();
    const yesterday = await tokenRequests(h, 20);
    h.clock.now += DAY_MS;
    const stale = await h.call({
      method: 'POST',
      path: '/v1/tokens',
      json: yesterday.body,
      signer: old,
    });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('STALE_TOKEN_KEY');
    const unknown = { ...yesterday.body, keyId: toBase64Url(new Uint8Array(32).fill(3)) };
    const res = await h.call({ method: 'POST', path: '/v1/tokens', json: unknown, signer: old });
    expect(res.body.error.code).toBe('STALE_TOKEN_KEY');
    expect(await issueTokens(h, old, 20)).toHaveLength(20);
  });

  it('refuses malformed requests with 400 before counting anything', async () => {
    const { h, old } = await setup();
    const { body, key } = await tokenRequests(h, 20);
    const request = (i: number) => Buffer.from(body.requests[i]!, 'base64url');
    const wrongKeyByte = request(3);
    wrongKeyByte[2] = wrongKeyByte[2]! ^ 1;
    const wrongType = request(4);
    wrongType[1] = 1;
    // Blinded message at or above the modulus.
    const tooLarge = request(5);
    tooLarge.fill(0xff, 3);
    const modulus = key.publicKey.subarray(
      key.publicKey.length - 5 - 256,
      key.publicKey.length - 5,
    );
    const equal = Buffer.concat([request(6).subarray(0, 3), modulus]);
    for (const bad of [wrongKeyByte, wrongType, tooLarge, equal]) {
      const requests = [...body.requests];
      requests[7] = toBase64Url(bad);
      const res = await h.call({
        method: 'POST',
        path: '/v1/tokens',
        json: { ...body, requests },
        signer: old,
      });
      expect(res.status).toBe(400);
      expect(res.body.error).toEqual({
        code: 'BAD_REQUEST',
        message: 'requests[7] is not a token request for this key',
      });
    }
    for (const requests of [[], Array.from({ length: 21 }, () => body.requests[0]!), ['AAAA']]) {
      const res = await h.call({
        method: 'POST',
        path: '/v1/tokens',
        json: { ...body, requests },
        signer: old,
      });
      expect(res.status).toBe(400);
    }
    expect(await issueTokens(h, old, 20)).toHaveLength(20);
  });

  it('needs an owner signature and refuses a suspended account', async () => {
    const { h, old } = await setup();
    const { body } = await tokenRequests(h, 1);
    const anonymous = await h.call({ method: 'POST', path: '/v1/tokens', json: body });
    expect(anonymous.status).toBe(401);
    h.ports.accounts.setSuspension(old.account.address, {
      suspendedAt: START,
      suspensionReason: 'x',
    });
    const res = await h.call({ method: 'POST', path: '/v1/tokens', json: body, signer: old });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('ACCOUNT_SUSPENDED');
    h.ports.accounts.setSuspension(old.account.address, undefined);
    expect(await issueTokens(h, old, 20)).toHaveLength(20);
  });

  it('stores only the counter and logs nothing of requests, responses or tokens', async () => {
    const { h, tokens, old } = await setup();
    const { body, finish } = await tokenRequests(h, 4);
    const res = await h.call({ method: 'POST', path: '/v1/tokens', json: body, signer: old });
    const issued = finish(res.body.responses);
    expect(tokens.quota).toBeInstanceOf(MemoryTokenQuota);
    expect(
      await tokens.quota.take(old.account.address, Math.floor(START / DAY_MS), 16, 20),
    ).toEqual({
      granted: true,
      used: 20,
    });
    expect(
      await tokens.spent.rebind(new Uint8Array(32), new Uint8Array(16), new Uint8Array(16)),
    ).toBe(false);
    const logs = h.logs.join('\n');
    for (const secret of [
      ...body.requests,
      ...res.body.responses,
      ...issued.map(toBase64Url),
      body.keyId,
    ]) {
      expect(logs).not.toContain(secret);
    }
    expect(logs).not.toContain(old.account.address);
  });

  it('answers NOT_CONFIGURED without token stores', async () => {
    const h = harness(memoryPorts(testMaterial()), { tokens: false });
    const res = await h.call({ method: 'GET', path: '/v1/tokens/keys' });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_CONFIGURED');
  });
});
