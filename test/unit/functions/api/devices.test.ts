/**
 * Device management rules (docs/SERVICE.md §4): removing another device needs the account key,
 * a linked device gets exactly the id its link names and the registered account key, and device
 * lists of other accounts are rate-limited.
 */
import { describe, expect, it } from 'vitest';
import { ed25519PublicKey } from '#functions/domain/crypto.ts';
import { ACCOUNT_SIGNATURE_HEADER } from '#sdk/wire/api/signing.ts';
import {
  addDeviceBody,
  harness,
  memoryPorts,
  newAccount,
  newDevice,
  signHeaders,
  testMaterial,
} from '../fixtures.ts';

const setup = (config = {}) => harness(memoryPorts(testMaterial()), { config });

const deviceIds = async (h: ReturnType<typeof setup>, address: string) =>
  (await h.ports.accounts.get(address))?.devices.map((d) => d.deviceId);

describe('removing a device', () => {
  it('lets a device remove itself with its own signature', async () => {
    const h = setup();
    const first = await h.register();
    const second = await h.link(first.account);
    const res = await h.call({ method: 'DELETE', path: '/v1/devices/2', signer: second });
    expect(res.body).toEqual({ deviceId: 2 });
    expect(await deviceIds(h, first.account.address)).toEqual([1]);
  });

  it('refuses to remove another device without a valid account signature', async () => {
    const h = setup();
    const first = await h.register();
    const second = await h.link(first.account);
    const path = '/v1/devices/1';
    const bare = await h.call({ method: 'DELETE', path, signer: second });
    expect(bare.status).toBe(403);
    expect(bare.body.error.code).toBe('FORBIDDEN');

    // Signed by some other account key.
    const stranger = await h.call({
      method: 'DELETE',
      path,
      signer: second,
      accountSeed: newAccount().seed,
    });
    expect(stranger.status).toBe(403);

    // A genuine account signature of another request (other path, other nonce) does not carry.
    const other = signHeaders(
      second,
      'DELETE',
      '/v1/devices/3',
      new Uint8Array(),
      h.clock.now,
      undefined,
      undefined,
      first.account.seed,
    );
    const moved = await h.call({
      method: 'DELETE',
      path,
      signer: second,
      headers: { [ACCOUNT_SIGNATURE_HEADER]: other[ACCOUNT_SIGNATURE_HEADER]! },
    });
    expect(moved.status).toBe(403);
    // The device's own key signing the account payload is not the account key.
    const own = await h.call({
      method: 'DELETE',
      path,
      signer: second,
      accountSeed: second.signingSeed,
    });
    expect(own.status).toBe(403);
    expect(await deviceIds(h, first.account.address)).toEqual([1, 2]);

    const ok = await h.call({
      method: 'DELETE',
      path,
      signer: second,
      accountSeed: first.account.seed,
    });
    expect(ok.body).toEqual({ deviceId: 1 });
    expect(await deviceIds(h, first.account.address)).toEqual([2]);
  });
});

describe('linking a device', () => {
  it('assigns exactly the requested id, or answers DEVICE_ID_TAKEN with the free ids', async () => {
    const h = setup();
    const first = await h.register();
    const path = `/v1/accounts/${first.account.address}/devices`;
    const four = newDevice(first.account, 4);
    expect(
      (await h.call({ method: 'POST', path, json: addDeviceBody(four, h.clock.now) })).body,
    ).toEqual({ address: first.account.address, deviceId: 4 });
    const again = newDevice(first.account, 4);
    const taken = await h.call({ method: 'POST', path, json: addDeviceBody(again, h.clock.now) });
    expect(taken.status).toBe(409);
    expect(taken.body.error).toMatchObject({
      code: 'DEVICE_ID_TAKEN',
      freeDeviceIds: [2, 3, 5, 6],
    });
    expect(await deviceIds(h, first.account.address)).toEqual([1, 4]);
  });

  it('refuses a request whose deviceId is not the id the identity is linked as', async () => {
    const h = setup();
    const first = await h.register();
    const path = `/v1/accounts/${first.account.address}/devices`;
    const linkedAsThree = newDevice(first.account, 3);
    const body = { ...addDeviceBody(linkedAsThree, h.clock.now), deviceId: 2 };
    const res = await h.call({ method: 'POST', path, json: body });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('INVALID_SIGNATURE');
    expect(await deviceIds(h, first.account.address)).toEqual([1]);
  });

  it('refuses an identity whose account key is not the registered one', async () => {
    const h = setup();
    const owner = newAccount();
    const first = newDevice(owner, 1);
    // An account stored under owner's address with another account key (what a hash collision
    // of the address, or a corrupted record, would give).
    await h.ports.accounts.create(
      {
        address: owner.address,
        accountPublic: ed25519PublicKey(new Uint8Array(32).fill(5)),
        accessKeyHash: new Uint8Array(32),
        unrestricted: false,
        createdAt: h.clock.now,
      },
      {
        deviceId: 1,
        identity: first.identity,
        signedPrekey: { id: 1, publicKey: new Uint8Array(32), signature: new Uint8Array(64) },
        lastResortKemPrekey: {
          id: 1,
          publicKey: new Uint8Array(1568),
          signature: new Uint8Array(64),
        },
        frankingKey: first.franking.publicKey,
        createdAt: h.clock.now,
      },
    );
    const res = await h.call({
      method: 'POST',
      path: `/v1/accounts/${owner.address}/devices`,
      json: addDeviceBody(newDevice(owner, 2), h.clock.now),
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('INVALID_SIGNATURE');
    expect(await deviceIds(h, owner.address)).toEqual([1]);
  });
});

describe('listing devices', () => {
  it('rate-limits lists of another account per requester and target; the own account is exempt', async () => {
    const h = setup({ deviceListRateLimit: { limit: 3, windowMs: 600_000 } });
    const a = await h.register();
    const b = await h.register();
    const c = await h.register();
    const list = (signer: typeof a, target: string) =>
      h.call({ method: 'GET', path: `/v1/accounts/${target}/devices`, signer });
    for (let i = 0; i < 3; i++) expect((await list(a, b.account.address)).status).toBe(200);
    const limited = await list(a, b.account.address);
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    // Other targets, other requesters and the own account are counted apart or not at all.
    expect((await list(a, c.account.address)).status).toBe(200);
    expect((await list(c, b.account.address)).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await list(a, a.account.address)).status).toBe(200);
    h.clock.now += 600_000;
    expect((await list(a, b.account.address)).status).toBe(200);
  });

  it('allows 20 lists per 10 minutes by default', async () => {
    const h = setup();
    const a = await h.register();
    const b = await h.register();
    const path = `/v1/accounts/${b.account.address}/devices`;
    for (let i = 0; i < 20; i++) {
      expect((await h.call({ method: 'GET', path, signer: a })).status).toBe(200);
    }
    expect((await h.call({ method: 'GET', path, signer: a })).status).toBe(429);
  });
});
