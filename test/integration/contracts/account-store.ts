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
  });
}
