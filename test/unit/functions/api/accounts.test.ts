import { describe, expect, it } from 'vitest';
import { ed25519PublicKey, ed25519Sign } from '#functions/domain/crypto.ts';
import { toBase64Url } from '#sdk/wire/api/codec.ts';
import { registrationPayload } from '#sdk/wire/api/signing.ts';
import {
  addDeviceBody,
  harness,
  kemPrekey,
  memoryPorts,
  newAccount,
  newDevice,
  newMessageId,
  registrationBody,
  registrationId,
  sendBody,
  TEST_AUDIENCE,
  testMaterial,
} from '../fixtures.ts';

const setup = () => harness(memoryPorts(testMaterial()));

describe('registration', () => {
  it('registers an account under its self-certifying address as device 1', async () => {
    const h = setup();
    const d = newDevice(newAccount());
    const res = await h.call({
      method: 'PUT',
      path: `/v1/accounts/${d.account.address}`,
      json: registrationBody(d, h.clock.now),
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ address: d.account.address, deviceId: 1 });
    const view = await h.ports.accounts.get(d.account.address);
    expect(view?.devices.map((x) => x.deviceId)).toEqual([1]);
    expect(view?.account.accessKeyHash).toHaveLength(32);
  });

  it('answers an identical retry the same and a different first device 409', async () => {
    const h = setup();
    const d = newDevice(newAccount());
    const body = registrationBody(d, h.clock.now);
    const path = `/v1/accounts/${d.account.address}`;
    expect((await h.call({ method: 'PUT', path, json: body })).status).toBe(200);
    expect((await h.call({ method: 'PUT', path, json: body })).body).toEqual({
      address: d.account.address,
      deviceId: 1,
    });
    const other = newDevice(d.account);
    const res = await h.call({ method: 'PUT', path, json: registrationBody(other, h.clock.now) });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('ACCOUNT_EXISTS');
  });

  it('rejects an address that is not the hash of the account key', async () => {
    const h = setup();
    const d = newDevice(newAccount());
    const res = await h.call({
      method: 'PUT',
      path: `/v1/accounts/${newAccount().address}`,
      json: registrationBody(d, h.clock.now),
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('INVALID_SIGNATURE');
  });

  it('rejects a proof signed by another key, a bad link and bad prekey signatures with 422', async () => {
    const h = setup();
    const d = newDevice(newAccount());
    const path = `/v1/accounts/${d.account.address}`;
    const wrongProof = registrationBody(d, h.clock.now);
    wrongProof.proof = toBase64Url(
      ed25519Sign(
        newAccount().seed,
        registrationPayload(d.account.address, d.identity, h.clock.now, TEST_AUDIENCE),
      ),
    );
    expect((await h.call({ method: 'PUT', path, json: wrongProof })).status).toBe(422);

    const badLink = d.identity.slice();
    badLink[150]! ^= 1;
    const linkBody = { ...registrationBody({ ...d, identity: badLink }, h.clock.now) };
    expect((await h.call({ method: 'PUT', path, json: linkBody })).status).toBe(422);

    // A link epoch beyond 2^53 does not decode: a 400, never a 500.
    const badEpoch = d.identity.slice();
    badEpoch[100] = 0xff;
    const epochBody = registrationBody({ ...d, identity: badEpoch }, h.clock.now);
    const epochRes = await h.call({ method: 'PUT', path, json: epochBody });
    expect(epochRes.status).toBe(400);

    const badSpk = registrationBody(d, h.clock.now);
    badSpk.signedPrekey = { ...badSpk.signedPrekey, id: badSpk.signedPrekey.id + 1 };
    expect((await h.call({ method: 'PUT', path, json: badSpk })).status).toBe(422);

    const badKem = registrationBody(d, h.clock.now);
    // A one-time KEM key must not pass as the last-resort one (the kind byte is signed).
    badKem.lastResortKemPrekey = kemPrekey(d, 1, false);
    expect((await h.call({ method: 'PUT', path, json: badKem })).status).toBe(422);
    expect(await h.ports.accounts.get(d.account.address)).toBeUndefined();
  });

  it('answers a proof outside the 5-minute window with 401 CLOCK_SKEW and the server time', async () => {
    const h = setup();
    const d = newDevice(newAccount());
    const body = registrationBody(d, h.clock.now - 6 * 60_000);
    const res = await h.call({
      method: 'PUT',
      path: `/v1/accounts/${d.account.address}`,
      json: body,
    });
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ code: 'CLOCK_SKEW', serverTime: h.clock.now });
    // Checked first: a stale proof with a broken signature says CLOCK_SKEW too, not 422.
    const broken = { ...body, proof: toBase64Url(new Uint8Array(64)) };
    const res2 = await h.call({
      method: 'PUT',
      path: `/v1/accounts/${d.account.address}`,
      json: broken,
    });
    expect(res2.body.error.code).toBe('CLOCK_SKEW');
  });

  it('binds the proof to this deployment and the identity to device 1', async () => {
    const h = setup();
    const d = newDevice(newAccount());
    const path = `/v1/accounts/${d.account.address}`;
    const elsewhere = ed25519PublicKey(new Uint8Array(32).fill(1));
    const foreign = registrationBody(d, h.clock.now, undefined, elsewhere);
    expect((await h.call({ method: 'PUT', path, json: foreign })).status).toBe(422);
    const asTwo = newDevice(d.account, 2);
    const res = await h.call({ method: 'PUT', path, json: registrationBody(asTwo, h.clock.now) });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('INVALID_SIGNATURE');
    expect(
      (await h.call({ method: 'PUT', path, json: registrationBody(d, h.clock.now) })).status,
    ).toBe(200);
  });
});

describe('devices', () => {
  it('links devices with increasing ids up to the maximum of 6', async () => {
    const h = setup();
    const first = await h.register();
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await h.link(first.account)).deviceId);
    expect(ids).toEqual([2, 3, 4, 5, 6]);
    const seventh = newDevice(first.account, 1);
    const res = await h.call({
      method: 'POST',
      path: `/v1/accounts/${first.account.address}/devices`,
      json: addDeviceBody(seventh, h.clock.now),
    });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('DEVICE_LIMIT');
  });

  it('answers a retried link with the same id and refuses a replayed proof after removal', async () => {
    const h = setup();
    const first = await h.register();
    const d = newDevice(first.account, 2);
    const path = `/v1/accounts/${first.account.address}/devices`;
    const body = addDeviceBody(d, h.clock.now);
    expect((await h.call({ method: 'POST', path, json: body })).body.deviceId).toBe(2);
    expect((await h.call({ method: 'POST', path, json: body })).body.deviceId).toBe(2);
    const removed = await h.call({
      method: 'DELETE',
      path: '/v1/devices/2',
      signer: first,
      accountSeed: first.account.seed,
    });
    expect(removed.body).toEqual({ deviceId: 2 });
    const replay = await h.call({ method: 'POST', path, json: body });
    expect(replay.status).toBe(401);
    expect(
      (await h.ports.accounts.get(first.account.address))?.devices.map((x) => x.deviceId),
    ).toEqual([1]);
  });

  it('lists device ids to authenticated callers only', async () => {
    const h = setup();
    const a = await h.register();
    const b = await h.register();
    const b2 = await h.link(b.account);
    const path = `/v1/accounts/${b.account.address}/devices`;
    expect((await h.call({ method: 'GET', path })).status).toBe(401);
    const res = await h.call({ method: 'GET', path, signer: a });
    expect(res.body).toEqual({
      address: b.account.address,
      devices: [
        { deviceId: 1, registrationId: registrationId(b.identity) },
        { deviceId: 2, registrationId: registrationId(b2.identity) },
      ],
    });
    const missing = await h.call({
      method: 'GET',
      path: `/v1/accounts/${newAccount().address}/devices`,
      signer: a,
    });
    expect(missing.status).toBe(404);
  });

  it('reuses the smallest free id for a new device generation with a fresh mailbox', async () => {
    const h = setup();
    const first = await h.register();
    const second = await h.link(first.account);
    await h.link(first.account);
    await h.call({
      method: 'PUT',
      path: '/v1/account/settings',
      json: { unrestricted: true },
      signer: first,
    });
    const id = newMessageId(h.clock.now);
    await h.call({
      method: 'PUT',
      path: `/v1/messages/${first.account.address}`,
      json: sendBody(id, [
        [1, new Uint8Array(1)],
        [2, new Uint8Array(2)],
        [3, new Uint8Array(3)],
      ]),
    });
    const remove = { method: 'DELETE', path: '/v1/devices/2', signer: first };
    const seed = first.account.seed;
    expect((await h.call({ ...remove, accountSeed: seed })).status).toBe(200);
    expect((await h.call({ ...remove, accountSeed: seed })).status).toBe(404);
    const replacement = await h.link(first.account);
    expect(replacement.deviceId).toBe(2);
    expect(registrationId(replacement.identity)).not.toBe(registrationId(second.identity));
    // The new device 2 does not inherit the removed device's queued message.
    const inbox = await h.call({ method: 'GET', path: '/v1/messages', signer: replacement });
    expect(inbox.body.messages).toEqual([]);
    expect((await h.call({ method: 'GET', path: '/v1/messages', signer: second })).status).toBe(
      401,
    );
  });

  it('rotates the access key and the unrestricted setting', async () => {
    const h = setup();
    const d = await h.register();
    const res = await h.call({
      method: 'PUT',
      path: '/v1/account/settings',
      json: { accessKey: toBase64Url(new Uint8Array(16).fill(9)), unrestricted: true },
      signer: d,
    });
    expect(res.status).toBe(200);
    const view = await h.ports.accounts.get(d.account.address);
    expect(view?.account.unrestricted).toBe(true);
  });
});
