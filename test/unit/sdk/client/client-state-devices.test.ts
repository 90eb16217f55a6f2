/**
 * The stored device lists (docs/SDK.md §State): version 2 keeps each device's `sharedPayload`
 * flag, a version-1 list from an older client loads with no flags, unknown flag bits and
 * versions are refused, and the removed-device list is unchanged. `knownDevice` reads the flag
 * from a bundle or device-list entry's `capabilities`.
 */
import { describe, expect, it } from 'vitest';
import { ClientState, knownDevice, sharesPayload } from '#sdk/client/client-state.ts';
import { StateCorruptError } from '#sdk/errors.ts';
import { MemoryStore } from '#sdk/state/memory-store.ts';
import { ByteWriter } from '#sdk/util/bytes.ts';
import { addressFromBytes } from '#sdk/wire/identity.ts';

const BOB = addressFromBytes(new Uint8Array(20).fill(7));
const key = `devices:${BOB}`;

async function fresh() {
  const store = new MemoryStore();
  return { store, state: new ClientState(store) };
}

describe('device list records', () => {
  it('round-trip the sharedPayload flag, sorted by id, the last entry of an id winning', async () => {
    const { store, state } = await fresh();
    await store.commit([
      state.devicesOp(BOB, [
        { deviceId: 3, registrationId: 30, sharedPayload: true },
        { deviceId: 1, registrationId: 10 },
        { deviceId: 2, registrationId: 20, sharedPayload: false },
        { deviceId: 1, registrationId: 11, sharedPayload: true },
      ]),
    ]);
    expect(await state.devices(BOB)).toEqual([
      { deviceId: 1, registrationId: 11, sharedPayload: true },
      { deviceId: 2, registrationId: 20 },
      { deviceId: 3, registrationId: 30, sharedPayload: true },
    ]);
    const bytes = await store.get('meta', key);
    // u8 2 || u8 n || n × (u32 deviceId || u32 registrationId || u8 flags)
    expect(bytes?.[0]).toBe(2);
    expect(bytes).toHaveLength(2 + 3 * 9);
    expect(bytes?.[2 + 8]).toBe(1);
    expect(bytes?.[2 + 9 + 8]).toBe(0);
  });

  it('load a version-1 list (before capabilities) with no flags, and rewrite it as version 2', async () => {
    const { store, state } = await fresh();
    const v1 = new ByteWriter().u8(1).u8(2).u32(1).u32(10).u32(2).u32(20).finish();
    await store.commit([{ ns: 'meta', key, value: v1 }]);
    const loaded = await state.devices(BOB);
    expect(loaded).toEqual([
      { deviceId: 1, registrationId: 10 },
      { deviceId: 2, registrationId: 20 },
    ]);
    await store.commit([state.devicesOp(BOB, loaded)]);
    expect((await store.get('meta', key))?.[0]).toBe(2);
    expect(await state.devices(BOB)).toEqual(loaded);
  });

  it('refuse unknown flag bits, an unknown version and trailing bytes', async () => {
    const { store, state } = await fresh();
    for (const value of [
      new ByteWriter().u8(2).u8(1).u32(1).u32(10).u8(0x02).finish(),
      new ByteWriter().u8(3).u8(0).finish(),
      new ByteWriter().u8(2).u8(1).u32(1).u32(10).u8(1).u8(0).finish(),
      new ByteWriter().u8(2).u8(1).u32(1).u32(10).finish(),
    ]) {
      await store.commit([{ ns: 'meta', key, value }]);
      await expect(state.devices(BOB)).rejects.toBeInstanceOf(StateCorruptError);
    }
  });

  it('leave the removed-device list at version 1 without flags', async () => {
    const { store, state } = await fresh();
    const op = await state.removedOp(BOB, [
      { deviceId: 2, registrationId: 20, sharedPayload: true },
    ]);
    await store.commit([op!]);
    expect(await state.removedDevices(BOB)).toEqual([{ deviceId: 2, registrationId: 20 }]);
    expect((await store.get('meta', `removed:${BOB}`))?.[0]).toBe(1);
  });
});

describe('knownDevice', () => {
  it('sets sharedPayload only when the entry announces it among other names', () => {
    expect(knownDevice(2, 20, { capabilities: ['somethingNew', 'sharedPayload'] })).toEqual({
      deviceId: 2,
      registrationId: 20,
      sharedPayload: true,
    });
    expect(knownDevice(2, 20, { capabilities: ['somethingNew'] })).toEqual({
      deviceId: 2,
      registrationId: 20,
    });
    expect(knownDevice(2, 20, {})).toEqual({ deviceId: 2, registrationId: 20 });
    expect(sharesPayload({ capabilities: [] })).toBe(false);
  });
});
