import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  harness,
  kemPrekey,
  memoryPorts,
  oneTimePrekey,
  signedPrekey,
  testMaterial,
} from '../fixtures.ts';

async function setup(config = {}) {
  const h = harness(memoryPorts(testMaterial()), { config });
  const bob = await h.register();
  const alice = await h.register();
  return { h, bob, alice };
}

describe('prekeys', () => {
  it('uploads, counts and hands out each one-time key once, then the last-resort key', async () => {
    const { h, bob, alice } = await setup({ bundleRateLimit: { limit: 100, windowMs: 60_000 } });
    const up = await h.call({
      method: 'PUT',
      path: '/v1/prekeys',
      json: {
        oneTimePrekeys: [oneTimePrekey(10), oneTimePrekey(11)],
        kemPrekeys: [kemPrekey(bob, 20, false)],
      },
      signer: bob,
    });
    expect(up.status).toBe(200);
    expect(up.body).toEqual({ ec: 2, pq: 1 });
    const path = `/v1/bundles/${bob.account.address}`;
    const b1 = (await h.call({ method: 'GET', path, signer: alice })).body.devices[0];
    expect(b1?.oneTimePrekey?.id).toBe(10);
    expect(b1?.registrationId).toBe(
      createHash('sha256').update(bob.identity).digest().readUInt32BE(0),
    );
    expect(b1?.kemPrekey).toMatchObject({ id: 20, lastResort: false });
    const b2 = (await h.call({ method: 'GET', path: `${path}/1`, signer: alice })).body.devices[0];
    expect(b2?.oneTimePrekey?.id).toBe(11);
    expect(b2?.kemPrekey).toMatchObject({ id: 1, lastResort: true });
    const b3 = (await h.call({ method: 'GET', path, signer: alice })).body.devices[0];
    expect(b3?.oneTimePrekey).toBeUndefined();
    expect(b3?.kemPrekey.lastResort).toBe(true);
    expect(b3?.signedPrekey.id).toBe(1);
    expect((await h.call({ method: 'GET', path: '/v1/prekeys/count', signer: bob })).body).toEqual({
      ec: 0,
      pq: 0,
    });
  });

  it('rejects an upload with one bad signature with 422 and stores nothing', async () => {
    const { h, bob } = await setup();
    const bad = kemPrekey(bob, 21, false);
    bad.id = 22;
    const res = await h.call({
      method: 'PUT',
      path: '/v1/prekeys',
      json: { oneTimePrekeys: [oneTimePrekey(1)], kemPrekeys: [kemPrekey(bob, 20, false), bad] },
      signer: bob,
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('INVALID_SIGNATURE');
    expect((await h.call({ method: 'GET', path: '/v1/prekeys/count', signer: bob })).body).toEqual({
      ec: 0,
      pq: 0,
    });
  });

  it('replaces the signed prekey and last-resort key', async () => {
    const { h, bob, alice } = await setup();
    const res = await h.call({
      method: 'PUT',
      path: '/v1/prekeys',
      json: { signedPrekey: signedPrekey(bob, 5), lastResortKemPrekey: kemPrekey(bob, 6, true) },
      signer: bob,
    });
    expect(res.status).toBe(200);
    const b = (
      await h.call({ method: 'GET', path: `/v1/bundles/${bob.account.address}`, signer: alice })
    ).body.devices[0];
    expect(b?.signedPrekey.id).toBe(5);
    expect(b?.kemPrekey).toMatchObject({ id: 6, lastResort: true });
  });

  it('refuses more than 100 keys per call and more than the stored maximum', async () => {
    const { h, bob } = await setup({ maxStoredPrekeys: 150 });
    const many = (n: number, from: number) =>
      Array.from({ length: n }, (_, i) => oneTimePrekey(from + i));
    const tooMany = await h.call({
      method: 'PUT',
      path: '/v1/prekeys',
      json: { oneTimePrekeys: many(101, 1) },
      signer: bob,
    });
    expect(tooMany.status).toBe(400);
    expect(
      (
        await h.call({
          method: 'PUT',
          path: '/v1/prekeys',
          json: { oneTimePrekeys: many(100, 1) },
          signer: bob,
        })
      ).status,
    ).toBe(200);
    const over = await h.call({
      method: 'PUT',
      path: '/v1/prekeys',
      json: { oneTimePrekeys: many(51, 200) },
      signer: bob,
    });
    expect(over.status).toBe(422);
    expect(over.body.error.code).toBe('PREKEY_LIMIT');
  });

  it('rate-limits bundle fetches per requester and target', async () => {
    const { h, bob, alice } = await setup({ bundleRateLimit: { limit: 2, windowMs: 600_000 } });
    const carol = await h.register();
    const path = `/v1/bundles/${bob.account.address}`;
    expect((await h.call({ method: 'GET', path, signer: alice })).status).toBe(200);
    expect((await h.call({ method: 'GET', path, signer: alice })).status).toBe(200);
    const limited = await h.call({ method: 'GET', path, signer: alice });
    expect(limited.status).toBe(429);
    expect((await h.call({ method: 'GET', path, signer: carol })).status).toBe(200);
    expect(
      (await h.call({ method: 'GET', path: `/v1/bundles/${carol.account.address}`, signer: alice }))
        .status,
    ).toBe(200);
  });

  it('answers 404 for an unknown device', async () => {
    const { h, bob, alice } = await setup();
    const res = await h.call({
      method: 'GET',
      path: `/v1/bundles/${bob.account.address}/4`,
      signer: alice,
    });
    expect(res.status).toBe(404);
  });
});
