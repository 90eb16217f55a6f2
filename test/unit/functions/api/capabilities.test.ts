/**
 * Device capabilities (docs/SERVICE.md §4.2): announced at registration, at linking and with a
 * prekey upload (which replaces them); stored as the known names only; served in both device
 * lists and all four bundle routes, and absent for a device that announced none; an invalid
 * list (a name twice, too many, not a name) is `400` and changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { MAX_DEVICE_CAPABILITIES } from '#sdk/wire/api/schemas.ts';
import {
  accessHeaders,
  addDeviceBody,
  BOB_ACCESS_KEY,
  harness,
  memoryPorts,
  newAccount,
  newDevice,
  registrationBody,
  type TestDevice,
  testMaterial,
} from '../fixtures.ts';

async function setup() {
  const h = harness(memoryPorts(testMaterial()));
  const alice = await h.register(new Uint8Array(16).fill(1));

  /** Registers Bob's device 1 announcing `capabilities` (omitted when undefined). */
  async function register(capabilities?: unknown): Promise<{ device: TestDevice; status: number }> {
    const device = newDevice(newAccount());
    const res = await h.call({
      method: 'PUT',
      path: `/v1/accounts/${device.account.address}`,
      json: {
        ...registrationBody(device, h.clock.now, BOB_ACCESS_KEY),
        ...(capabilities === undefined ? {} : { capabilities }),
      },
    });
    device.deviceId = 1;
    return { device, status: res.status };
  }

  /** Links device `id` to `owner`'s account announcing `capabilities`. */
  async function link(owner: TestDevice, id: number, capabilities?: unknown) {
    const device = newDevice(owner.account, id);
    const res = await h.call({
      method: 'POST',
      path: `/v1/accounts/${owner.account.address}/devices`,
      json: {
        ...addDeviceBody(device, h.clock.now),
        ...(capabilities === undefined ? {} : { capabilities }),
      },
    });
    device.deviceId = id;
    return { device, status: res.status, body: res.body };
  }

  /** Every answer that lists `owner`'s devices, as `[deviceId, capabilities?][]` per route. */
  async function served(owner: TestDevice): Promise<Record<string, unknown[]>> {
    const address = owner.account.address;
    const read = async (path: string, sealed: boolean) => {
      const res = await h.call(
        sealed
          ? { method: 'GET', path, headers: accessHeaders() }
          : { method: 'GET', path, signer: alice },
      );
      expect(res.status, path).toBe(200);
      return res.body.devices.map((d: { deviceId: number; capabilities?: string[] }) =>
        'capabilities' in d ? [d.deviceId, d.capabilities] : [d.deviceId],
      );
    };
    return {
      devices: await read(`/v1/accounts/${address}/devices`, false),
      sealedDevices: await read(`/v1/sealed/devices/${address}`, true),
      bundles: await read(`/v1/bundles/${address}`, false),
      sealedBundles: await read(`/v1/sealed/bundles/${address}`, true),
      deviceBundle: await read(`/v1/bundles/${address}/1`, false),
      sealedDeviceBundle: await read(`/v1/sealed/bundles/${address}/1`, true),
    };
  }

  const upload = (device: TestDevice, json: unknown) =>
    h.call({ method: 'PUT', path: '/v1/prekeys', json, signer: device });

  const stored = async (device: TestDevice) =>
    (await h.ports.accounts.get(device.account.address))?.devices.find(
      (d) => d.deviceId === device.deviceId,
    )?.capabilities;

  return { h, register, link, served, upload, stored };
}

/** `served` for an account whose device 1 has `one` and whose other devices are listed after. */
const everywhere = (devices: unknown[], deviceOne: unknown[]) => ({
  devices,
  sealedDevices: devices,
  bundles: devices,
  sealedBundles: devices,
  deviceBundle: [deviceOne],
  sealedDeviceBundle: [deviceOne],
});

describe('device capabilities', () => {
  it('stores the known names of a registration and a link, and serves them on every route', async () => {
    const t = await setup();
    const bob = await t.register(['futureThing', 'sharedPayload']);
    expect(bob.status).toBe(200);
    expect(await t.stored(bob.device)).toEqual(['sharedPayload']);
    const phone = await t.link(bob.device, 2, ['sharedPayload']);
    expect(phone.status).toBe(200);
    const tablet = await t.link(bob.device, 3);
    expect(tablet.status).toBe(200);
    expect(await t.served(bob.device)).toEqual(
      everywhere([[1, ['sharedPayload']], [2, ['sharedPayload']], [3]], [1, ['sharedPayload']]),
    );
  });

  it('omits the field for a device that announced none or only unknown names', async () => {
    const t = await setup();
    for (const announced of [undefined, [], ['laterFeature', 'other2']]) {
      const bob = await t.register(announced);
      expect(bob.status).toBe(200);
      expect(await t.stored(bob.device)).toBeUndefined();
      expect(await t.served(bob.device)).toEqual(everywhere([[1]], [1]));
    }
  });

  it('replaces the signing device’s capabilities with a prekey upload, and only its own', async () => {
    const t = await setup();
    const bob = await t.register();
    const phone = await t.link(bob.device, 2, ['sharedPayload']);

    const announce = await t.upload(bob.device, { capabilities: ['sharedPayload', 'laterOne'] });
    expect(announce.status).toBe(200);
    expect(announce.body).toEqual({ ec: 0, pq: 0 });
    expect(await t.stored(bob.device)).toEqual(['sharedPayload']);

    // A prekey upload without the field keeps them; one with an empty list clears them.
    expect((await t.upload(bob.device, { oneTimePrekeys: [] })).status).toBe(200);
    expect(await t.stored(bob.device)).toEqual(['sharedPayload']);
    expect((await t.upload(phone.device, { capabilities: [] })).status).toBe(200);
    expect(await t.stored(phone.device)).toBeUndefined();
    expect(await t.stored(bob.device)).toEqual(['sharedPayload']);
    expect(await t.served(bob.device)).toEqual(
      everywhere([[1, ['sharedPayload']], [2]], [1, ['sharedPayload']]),
    );

    // Only unknown names: the device has none (this version knows nothing else to keep).
    expect((await t.upload(bob.device, { capabilities: ['laterOne'] })).status).toBe(200);
    expect(await t.stored(bob.device)).toBeUndefined();
  });

  it('refuses a name twice, too many names and non-names with 400, storing nothing', async () => {
    const t = await setup();
    const invalid: unknown[] = [
      ['sharedPayload', 'sharedPayload'],
      Array.from({ length: MAX_DEVICE_CAPABILITIES + 1 }, (_, i) => `cap${i}`),
      ['shared payload'],
      [''],
      ['1st'],
      ['x'.repeat(33)],
      [7],
      'sharedPayload',
      { sharedPayload: true },
    ];
    for (const capabilities of invalid) {
      const refused = await t.register(capabilities);
      expect(refused.status, JSON.stringify(capabilities)).toBe(400);
      expect(await t.h.ports.accounts.get(refused.device.account.address)).toBeUndefined();
    }
    const bob = await t.register(['sharedPayload']);
    for (const capabilities of invalid) {
      const linked = await t.link(bob.device, 2, capabilities);
      expect(linked.status, JSON.stringify(capabilities)).toBe(400);
      expect(linked.body.error.code).toBe('BAD_REQUEST');
      const uploaded = await t.upload(bob.device, { capabilities });
      expect(uploaded.status, JSON.stringify(capabilities)).toBe(400);
    }
    const view = await t.h.ports.accounts.get(bob.device.account.address);
    expect(view?.devices.map((d) => [d.deviceId, d.capabilities])).toEqual([
      [1, ['sharedPayload']],
    ]);
  });

  it('accepts the most names a list may hold', async () => {
    const t = await setup();
    const names = Array.from({ length: MAX_DEVICE_CAPABILITIES - 1 }, (_, i) => `cap${i}`);
    const bob = await t.register([...names, 'sharedPayload']);
    expect(bob.status).toBe(200);
    expect(await t.stored(bob.device)).toEqual(['sharedPayload']);
  });
});
