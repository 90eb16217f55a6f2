import { describe, expect, it } from 'vitest';
import { defaultBackend, systemRng } from '#sdk/crypto/index.ts';
import { InvalidMessageError, PrekeyNotFoundError, StateCorruptError } from '#sdk/errors.ts';
import type { LocalIdentity } from '#sdk/protocol/identity.ts';
import { consumedBaseKeyKey, pqxdhInitiate, storeBackedResponder } from '#sdk/protocol/pqxdh.ts';
import {
  decodeOneTimePrekeyRecord,
  decodeSignedPrekeyRecord,
  kemPrekeyStoreOps,
  oneTimePrekeyStoreOps,
  signedPrekeyStoreOp,
} from '#sdk/protocol/prekeys.ts';
import { MemoryStore } from '#sdk/state/memory-store.ts';
import { makeDevice } from './device-fixtures.ts';

const backend = defaultBackend;

const alice = await makeDevice();
const bob = await makeDevice();

describe('storeBackedResponder', () => {
  async function bobStore() {
    const store = new MemoryStore();
    await store.commit([
      signedPrekeyStoreOp(bob.spk),
      ...oneTimePrekeyStoreOps(bob.opks),
      ...kemPrekeyStoreOps([bob.kem, bob.lastResort]),
    ]);
    return store;
  }

  async function initiate(withOpk: boolean, lastResort: boolean) {
    return pqxdhInitiate(backend, systemRng, {
      localIdentity: alice.identity,
      bundle: await bob.bundle(withOpk, lastResort),
    });
  }

  const respond = (
    store: MemoryStore,
    prekeyFields: Awaited<ReturnType<typeof initiate>>['prekeyFields'],
  ) =>
    storeBackedResponder(store).respond(backend, {
      localIdentity: bob.identity as LocalIdentity,
      remoteIdentity: alice.identity.bundle,
      prekeyFields,
    });

  it('agrees and consumes the one-time EC and KEM prekeys once committed', async () => {
    const store = await bobStore();
    const init = await initiate(true, false);
    const res = await respond(store, init.prekeyFields);
    expect(res.sharedSecret).toEqual(init.sharedSecret);
    expect(res.signedPrekey).toEqual(bob.spk);
    expect(res.consumeOps).toEqual(
      expect.arrayContaining([
        { ns: 'kemPrekey', key: '200', value: null },
        { ns: 'oneTimePrekey', key: '100', value: null },
      ]),
    );
    expect(res.consumeOps).toHaveLength(2);
    // Nothing is deleted until the caller commits with its session.
    expect(decodeOneTimePrekeyRecord((await store.get('oneTimePrekey', '100'))!).id).toBe(100);
    await store.commit(res.consumeOps);
    expect(await store.get('oneTimePrekey', '100')).toBeUndefined();
    expect(decodeOneTimePrekeyRecord((await store.get('oneTimePrekey', '101'))!).id).toBe(101);
    expect(decodeSignedPrekeyRecord((await store.get('signedPrekey', '1'))!).id).toBe(1);
    await expect(respond(store, init.prekeyFields)).rejects.toThrow(PrekeyNotFoundError);
  });

  it('keeps the last-resort KEM prekey and handles a bundle without one-time prekey', async () => {
    const store = await bobStore();
    const init = await initiate(false, true);
    const res = await respond(store, init.prekeyFields);
    expect(res.sharedSecret).toEqual(init.sharedSecret);
    // Only the consumed base key is recorded (docs/PROTOCOL.md §3.5); no prekey is deleted.
    expect(res.consumeOps).toEqual([
      {
        ns: 'baseKey',
        key: consumedBaseKeyKey(init.prekeyFields.signedPrekeyId, init.prekeyFields.baseKey),
        value: new Uint8Array(0),
        expect: null,
      },
    ]);
    const again = await initiate(false, true);
    expect((await respond(store, again.prekeyFields)).sharedSecret).toEqual(again.sharedSecret);
  });

  it('reports a missing prekey of each kind', async () => {
    const init = await initiate(true, false);
    for (const [ns, key] of [
      ['signedPrekey', '1'],
      ['oneTimePrekey', '100'],
      ['kemPrekey', '200'],
    ] as const) {
      const store = await bobStore();
      await store.commit([{ ns, key, value: null }]);
      await expect(respond(store, init.prekeyFields)).rejects.toThrow(PrekeyNotFoundError);
    }
  });

  it('rejects id 0 for the signed or KEM prekey and a record stored under the wrong id', async () => {
    const init = await initiate(true, false);
    const store = await bobStore();
    await expect(respond(store, { ...init.prekeyFields, signedPrekeyId: 0 })).rejects.toThrow(
      InvalidMessageError,
    );
    await expect(respond(store, { ...init.prekeyFields, kemPrekeyId: 0 })).rejects.toThrow(
      InvalidMessageError,
    );
    const moved = (await store.get('oneTimePrekey', '101'))!;
    await store.commit([{ ns: 'oneTimePrekey', key: '100', value: moved }]);
    await expect(respond(store, init.prekeyFields)).rejects.toThrow(StateCorruptError);
  });
});
