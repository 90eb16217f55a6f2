/** Contract of AccountStore: every adapter must pass it. */
import { describe, expect, it } from 'vitest';
import { randomBytes } from '#functions/domain/crypto.ts';
import type { AccountRecord, AccountStore, DeviceRecord } from '#functions/domain/ports.ts';
import { newAccount } from '../../unit/functions/fixtures.ts';

export function account(address = newAccount().address): AccountRecord {
  return {
    address,
    accountPublic: randomBytes(32),
    accessKeyHash: randomBytes(32),
    unrestricted: false,
    createdAt: 1000,
  };
}

export function device(deviceId: number): DeviceRecord {
  return {
    deviceId,
    identity: randomBytes(160),
    signedPrekey: { id: 1, publicKey: randomBytes(32), signature: randomBytes(64) },
    lastResortKemPrekey: { id: 2, publicKey: randomBytes(1568), signature: randomBytes(64) },
    frankingKey: randomBytes(32),
    createdAt: 2000,
  };
}

export function accountStoreContract(name: string, make: () => Promise<AccountStore>): void {
  describe(`AccountStore contract: ${name}`, () => {
    it('creates once and reads back exactly', async () => {
      const store = await make();
      const a = account();
      const d = device(1);
      expect(await store.create(a, d)).toBe(true);
      expect(await store.create(account(a.address), device(1))).toBe(false);
      const view = await store.get(a.address);
      expect(view?.account).toEqual(a);
      expect(view?.devices).toEqual([d]);
      expect(await store.get(newAccount().address)).toBeUndefined();
    });

    it('adds a device only under a free id, one winner under concurrency', async () => {
      const store = await make();
      const a = account();
      await store.create(a, device(1));
      expect(await store.addDevice(a.address, device(1))).toBe(false);
      const results = await Promise.all([
        store.addDevice(a.address, device(2)),
        store.addDevice(a.address, device(2)),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await store.get(a.address))?.devices.map((x) => x.deviceId)).toEqual([1, 2]);
    });

    it('removes devices once and frees their id', async () => {
      const store = await make();
      const a = account();
      await store.create(a, device(1));
      await store.addDevice(a.address, device(2));
      expect(await store.removeDevice(a.address, 2)).toBe(true);
      expect(await store.removeDevice(a.address, 2)).toBe(false);
      expect((await store.get(a.address))?.devices.map((x) => x.deviceId)).toEqual([1]);
      const again = device(2);
      expect(await store.addDevice(a.address, again)).toBe(true);
      expect((await store.get(a.address))?.devices[1]).toEqual(again);
    });

    it('updates settings and device keys of existing records only', async () => {
      const store = await make();
      const a = account();
      await store.create(a, device(1));
      const hash = randomBytes(32);
      expect(
        await store.updateSettings(a.address, { accessKeyHash: hash, unrestricted: true }),
      ).toBe(true);
      const spk = { id: 9, publicKey: randomBytes(32), signature: randomBytes(64) };
      expect(await store.updateDeviceKeys(a.address, 1, { signedPrekey: spk })).toBe(true);
      expect(await store.updateDeviceKeys(a.address, 5, { signedPrekey: spk })).toBe(false);
      expect(await store.updateSettings(newAccount().address, { unrestricted: true })).toBe(false);
      const view = await store.get(a.address);
      expect(view?.account.accessKeyHash).toEqual(hash);
      expect(view?.account.unrestricted).toBe(true);
      expect(view?.devices[0]?.signedPrekey).toEqual(spk);
    });

    it('stores capabilities with a device, and without any reads none back', async () => {
      const store = await make();
      const a = account();
      const first: DeviceRecord = { ...device(1), capabilities: ['sharedPayload'] };
      await store.create(a, first);
      const second: DeviceRecord = { ...device(2), capabilities: ['sharedPayload'] };
      expect(await store.addDevice(a.address, second)).toBe(true);
      const third = device(3);
      expect(await store.addDevice(a.address, third)).toBe(true);
      const devices = (await store.get(a.address))?.devices;
      expect(devices).toEqual([first, second, third]);
      expect(devices?.map((d) => d.capabilities)).toEqual([
        ['sharedPayload'],
        ['sharedPayload'],
        undefined,
      ]);
      expect(devices?.[2]).not.toHaveProperty('capabilities');
    });

    it('replaces capabilities with updateDeviceKeys, keeps them when not given, clears with []', async () => {
      const store = await make();
      const a = account();
      const d = device(1);
      await store.create(a, d);
      const capabilitiesOf = async () => (await store.get(a.address))?.devices[0]?.capabilities;
      expect(await store.updateDeviceKeys(a.address, 1, { capabilities: ['sharedPayload'] })).toBe(
        true,
      );
      expect(await capabilitiesOf()).toEqual(['sharedPayload']);
      const spk = { id: 4, publicKey: randomBytes(32), signature: randomBytes(64) };
      expect(await store.updateDeviceKeys(a.address, 1, { signedPrekey: spk })).toBe(true);
      expect(await capabilitiesOf()).toEqual(['sharedPayload']);
      expect(await store.updateDeviceKeys(a.address, 1, { capabilities: [] })).toBe(true);
      const view = await store.get(a.address);
      expect(view?.devices[0]).not.toHaveProperty('capabilities');
      expect(view?.devices[0]).toEqual({ ...d, signedPrekey: spk });
      // Keys and capabilities in one update; an unknown device is still false.
      const lr = { id: 5, publicKey: randomBytes(1568), signature: randomBytes(64) };
      expect(
        await store.updateDeviceKeys(a.address, 1, {
          lastResortKemPrekey: lr,
          capabilities: ['sharedPayload'],
        }),
      ).toBe(true);
      expect((await store.get(a.address))?.devices[0]).toEqual({
        ...d,
        signedPrekey: spk,
        lastResortKemPrekey: lr,
        capabilities: ['sharedPayload'],
      });
      expect(await store.updateDeviceKeys(a.address, 2, { capabilities: ['sharedPayload'] })).toBe(
        false,
      );
      expect(await store.updateDeviceKeys(a.address, 1, { capabilities: [] })).toBe(true);
      expect(await store.updateDeviceKeys(a.address, 1, { capabilities: [] })).toBe(true);
      expect((await store.get(a.address))?.devices[0]).not.toHaveProperty('capabilities');
    });
  });
}
