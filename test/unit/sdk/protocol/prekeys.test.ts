import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { defaultBackend, systemRng } from '#sdk/crypto/index.ts';
import { StateCorruptError, UnsupportedVersionError } from '#sdk/errors.ts';
import { generateAccountKey, generateDeviceIdentity } from '#sdk/protocol/identity.ts';
import {
  decodeKemPrekeyRecord,
  decodeOneTimePrekeyRecord,
  decodeSignedPrekeyRecord,
  encodeKemPrekeyRecord,
  encodeOneTimePrekeyRecord,
  encodeSignedPrekeyRecord,
  generateKemPrekeys,
  generateLastResortKemPrekey,
  generateOneTimePrekeys,
  generateSignedPrekey,
  KEM_PREKEY_RECORD_SEED_VERSION,
  kemPrekeyStoreOps,
  MAX_PREKEY_BATCH,
  oneTimePrekeyStoreOps,
  prekeyIdAfter,
  prekeyStoreKey,
  signedPrekeyStoreOp,
  toKemPrekey,
  toOneTimePrekey,
  toSignedPrekey,
} from '#sdk/protocol/prekeys.ts';
import { MemoryStore } from '#sdk/state/memory-store.ts';
import { ArgumentRangeError } from '#sdk/util/argument-errors.ts';
import { concatBytes } from '#sdk/util/bytes.ts';
import {
  KEM_KIND_LAST_RESORT,
  KEM_KIND_ONE_TIME,
  kemPrekeyPayload,
  signedPrekeyPayload,
} from '#sdk/wire/prekeys.ts';

const backend = defaultBackend;
const NOW = 1_700_000_000_000;

async function device() {
  const account = await generateAccountKey(backend, systemRng);
  return generateDeviceIdentity(backend, systemRng, account);
}

describe('prekey ids', () => {
  it('advance through 1..=2^32-1 and skip 0 on wrap-around', () => {
    expect(prekeyIdAfter(1)).toBe(2);
    expect(prekeyIdAfter(10, 5)).toBe(15);
    expect(prekeyIdAfter(0xffffffff)).toBe(1);
    expect(prekeyIdAfter(0xfffffffe, 3)).toBe(2);
    expect(prekeyIdAfter(7, 0)).toBe(7);
    expect(() => prekeyIdAfter(0)).toThrow(ArgumentRangeError);
    expect(() => prekeyIdAfter(1, -1)).toThrow(ArgumentRangeError);
    expect(prekeyStoreKey(4294967295)).toBe('4294967295');
    expect(() => prekeyStoreKey(0)).toThrow(ArgumentRangeError);
  });
});

describe('signed prekey', () => {
  it('is signed by the device signing key over label || id || public', async () => {
    const me = await device();
    const spk = await generateSignedPrekey(backend, systemRng, me, 42, NOW);
    expect(spk.id).toBe(42);
    expect(spk.createdAtMs).toBe(NOW);
    expect(spk.publicKey).toEqual(await backend.x25519PublicKey(spk.privateKey));
    const payload = concatBytes(spkLabel(), new Uint8Array([0, 0, 0, 42]), spk.publicKey);
    expect(payload).toEqual(signedPrekeyPayload(42, spk.publicKey));
    expect(ed25519.verify(spk.signature, payload, me.bundle.signingPublic)).toBe(true);
    expect(
      ed25519.verify(
        spk.signature,
        signedPrekeyPayload(43, spk.publicKey),
        me.bundle.signingPublic,
      ),
    ).toBe(false);
    expect(toSignedPrekey(spk)).toEqual({
      id: 42,
      publicKey: spk.publicKey,
      signature: spk.signature,
    });
  });

  it('rejects id 0, negative time and short rng output', async () => {
    const me = await device();
    await expect(generateSignedPrekey(backend, systemRng, me, 0, NOW)).rejects.toThrow(
      ArgumentRangeError,
    );
    await expect(generateSignedPrekey(backend, systemRng, me, 1, -1)).rejects.toThrow(
      ArgumentRangeError,
    );
    await expect(
      generateSignedPrekey(backend, () => new Uint8Array(16), me, 1, NOW),
    ).rejects.toThrow(ArgumentRangeError);
  });

  it('record round-trips and rejects corruption', async () => {
    const spk = await generateSignedPrekey(backend, systemRng, await device(), 0xfffffff0, NOW);
    const record = encodeSignedPrekeyRecord(spk);
    expect(record.length).toBe(141);
    expect(decodeSignedPrekeyRecord(record)).toEqual(spk);
    expectCorruptionRejected(record, decodeSignedPrekeyRecord, 1);
  });
});

function spkLabel() {
  return new TextEncoder().encode('Sealpost-SignedPrekey-v1');
}

function expectCorruptionRejected(
  record: Uint8Array,
  decode: (b: Uint8Array) => unknown,
  idOffset: number,
) {
  const v = record.slice();
  v[0] = 9;
  expect(() => decode(v)).toThrow(UnsupportedVersionError);
  expect(() => decode(record.subarray(0, record.length - 1))).toThrow(StateCorruptError);
  expect(() => decode(concatBytes(record, new Uint8Array(1)))).toThrow(StateCorruptError);
  const zeroId = record.slice();
  zeroId.fill(0, idOffset, idOffset + 4);
  expect(() => decode(zeroId)).toThrow(StateCorruptError);
}

describe('one-time prekeys', () => {
  it('generates a batch with consecutive ids and distinct keys', async () => {
    const opks = await generateOneTimePrekeys(backend, systemRng, 0xfffffffe, 4);
    expect(opks.map((k) => k.id)).toEqual([0xfffffffe, 0xffffffff, 1, 2]);
    expect(new Set(opks.map((k) => k.publicKey.join())).size).toBe(4);
    for (const k of opks) expect(k.publicKey).toEqual(await backend.x25519PublicKey(k.privateKey));
    expect(toOneTimePrekey(opks[0]!)).toEqual({ id: 0xfffffffe, publicKey: opks[0]!.publicKey });
  });

  it('bounds the batch size', async () => {
    await expect(generateOneTimePrekeys(backend, systemRng, 1, 0)).rejects.toThrow(
      ArgumentRangeError,
    );
    await expect(
      generateOneTimePrekeys(backend, systemRng, 1, MAX_PREKEY_BATCH + 1),
    ).rejects.toThrow(ArgumentRangeError);
  });

  it('record round-trips and rejects corruption', async () => {
    const [opk] = await generateOneTimePrekeys(backend, systemRng, 77, 1);
    const record = encodeOneTimePrekeyRecord(opk!);
    expect(record.length).toBe(69);
    expect(decodeOneTimePrekeyRecord(record)).toEqual(opk);
    expectCorruptionRejected(record, decodeOneTimePrekeyRecord, 1);
  });
});

describe('KEM prekeys', () => {
  it('signs one-time keys with kind 1 and the last-resort key with kind 2', async () => {
    const me = await device();
    const [one] = await generateKemPrekeys(backend, systemRng, me, 5, 1, NOW);
    const last = await generateLastResortKemPrekey(backend, systemRng, me, 6, NOW);
    const pub = me.bundle.signingPublic;
    expect(one!.lastResort).toBe(false);
    expect(last.lastResort).toBe(true);
    expect(one!.publicKey).toHaveLength(1568);
    expect(one!.secretKey).toHaveLength(3168);
    const onePayload = kemPrekeyPayload(KEM_KIND_ONE_TIME, 5, one!.publicKey);
    const lastPayload = kemPrekeyPayload(KEM_KIND_LAST_RESORT, 6, last.publicKey);
    expect(ed25519.verify(one!.signature, onePayload, pub)).toBe(true);
    expect(ed25519.verify(last.signature, lastPayload, pub)).toBe(true);
    // The kind is authenticated: neither key verifies as the other kind.
    expect(
      ed25519.verify(
        one!.signature,
        kemPrekeyPayload(KEM_KIND_LAST_RESORT, 5, one!.publicKey),
        pub,
      ),
    ).toBe(false);
    expect(
      ed25519.verify(last.signature, kemPrekeyPayload(KEM_KIND_ONE_TIME, 6, last.publicKey), pub),
    ).toBe(false);
    expect(toKemPrekey(last)).toEqual({
      id: 6,
      publicKey: last.publicKey,
      signature: last.signature,
      lastResort: true,
    });
  });

  it('derives keys from 64 rng bytes (FIPS 203 seed) and round-trips decapsulation', async () => {
    const me = await device();
    const seed = new Uint8Array(64).fill(0x5a);
    const rng = (n: number) => {
      expect(n).toBe(64);
      return seed.slice();
    };
    const [k] = await generateKemPrekeys(backend, rng, me, 1, 1, NOW);
    expect(k!.publicKey).toEqual(backend.mlkemKeygen(seed).publicKey);
    // The record keeps the seed (what WebCrypto decapsulates from).
    expect(k!.keySeed).toEqual(seed);
    const { cipherText, sharedSecret } = await backend.mlkemEncapsulate(
      k!.publicKey,
      new Uint8Array(32),
    );
    expect(await backend.mlkemDecapsulate(cipherText, k!.secretKey)).toEqual(sharedSecret);
    expect(await backend.mlkemDecapsulate(cipherText, k!.secretKey, k!.keySeed)).toEqual(
      sharedSecret,
    );
  });

  it('record stores the decapsulation key once and recovers the public key from it', async () => {
    const me = await device();
    const keys = await generateKemPrekeys(backend, systemRng, me, 9, 2, NOW);
    const last = await generateLastResortKemPrekey(backend, systemRng, me, 11, NOW);
    for (const k of [...keys, last]) {
      const record = encodeKemPrekeyRecord(k);
      expect(record.length).toBe(1 + 1 + 4 + 8 + 64 + 3168 + 64);
      expect(record[0]).toBe(KEM_PREKEY_RECORD_SEED_VERSION);
      expect(record[1]).toBe(k.lastResort ? 2 : 1);
      expect(record.subarray(14, 78)).toEqual(k.keySeed);
      expect(decodeKemPrekeyRecord(record)).toEqual(k);
      expectCorruptionRejected(record, decodeKemPrekeyRecord, 2);
      // A seed whose z half is not the one inside the key is corrupt, and refused on encode.
      const wrongZ = record.slice();
      wrongZ[77]! ^= 1;
      expect(() => decodeKemPrekeyRecord(wrongZ)).toThrow(StateCorruptError);
      const badSeed = k.keySeed!.slice();
      badSeed[63]! ^= 1;
      expect(() => encodeKemPrekeyRecord({ ...k, keySeed: badSeed })).toThrow(ArgumentRangeError);
      expect(() => encodeKemPrekeyRecord({ ...k, keySeed: badSeed.subarray(1) })).toThrow(
        ArgumentRangeError,
      );
    }
    const badKind = encodeKemPrekeyRecord(last);
    badKind[1] = 3;
    expect(() => decodeKemPrekeyRecord(badKind)).toThrow(StateCorruptError);
    expect(() => encodeKemPrekeyRecord({ ...keys[0]!, publicKey: keys[1]!.publicKey })).toThrow(
      ArgumentRangeError,
    );
  });

  it('still reads records written before the seed was kept (version 1) and decapsulates with them', async () => {
    const me = await device();
    const [k] = await generateKemPrekeys(backend, systemRng, me, 12, 1, NOW);
    const { keySeed: _seed, ...withoutSeed } = k!;
    // Version 1 as written before: u8 1 || u8 kind || u32 id || u64 createdAtMs || dk || signature.
    const old = concatBytes(
      Uint8Array.of(1, 1, 0, 0, 0, 12),
      new Uint8Array(new BigUint64Array([BigInt(NOW)]).buffer).reverse(),
      k!.secretKey,
      k!.signature,
    );
    expect(encodeKemPrekeyRecord(withoutSeed)).toEqual(old);
    const decoded = decodeKemPrekeyRecord(old);
    expect(decoded).toEqual(withoutSeed);
    expect(decoded.keySeed).toBeUndefined();
    expectCorruptionRejected(old, decodeKemPrekeyRecord, 2);
    const { cipherText, sharedSecret } = await backend.mlkemEncapsulate(decoded.publicKey);
    expect(await backend.mlkemDecapsulate(cipherText, decoded.secretKey, decoded.keySeed)).toEqual(
      sharedSecret,
    );
  });
});

describe('store ops', () => {
  it('save records under the decimal id in their namespaces', async () => {
    const me = await device();
    const spk = await generateSignedPrekey(backend, systemRng, me, 3, NOW);
    const opks = await generateOneTimePrekeys(backend, systemRng, 100, 2);
    const kems = [await generateLastResortKemPrekey(backend, systemRng, me, 1000, NOW)];
    const store = new MemoryStore();
    await store.commit([
      signedPrekeyStoreOp(spk),
      ...oneTimePrekeyStoreOps(opks),
      ...kemPrekeyStoreOps(kems),
    ]);
    expect(await store.keys('signedPrekey')).toEqual(['3']);
    expect((await store.keys('oneTimePrekey')).sort()).toEqual(['100', '101']);
    expect(await store.keys('kemPrekey')).toEqual(['1000']);
    expect(decodeSignedPrekeyRecord((await store.get('signedPrekey', '3'))!)).toEqual(spk);
    expect(decodeOneTimePrekeyRecord((await store.get('oneTimePrekey', '101'))!)).toEqual(opks[1]);
    expect(decodeKemPrekeyRecord((await store.get('kemPrekey', '1000'))!)).toEqual(kems[0]);
  });
});
