/**
 * The argument and error contract of `CryptoBackend` (sdk/crypto/backend.ts), identical for every
 * backend: argument errors are ArgumentTypeError/ArgumentRangeError, protocol failures are typed errors, verify
 * never throws on malformed keys or signatures, outputs are plain Uint8Arrays the caller owns.
 */
import { describe, expect, it } from 'vitest';
import { HKDF_SHA256_MAX_LENGTH } from '#sdk/crypto/backend.ts';
import { nobleBackend } from '#sdk/crypto/noble-backend.ts';
import { nodeBackend } from '#sdk/crypto/node-backend.ts';
import { DecryptError, InvalidKeyError } from '#sdk/errors.ts';
import { ArgumentRangeError, ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import { fromHex, toHex } from '#sdk/util/bytes.ts';
import { backends } from './helpers.ts';

const key32 = () => Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const notBytes = [1, 2, 3] as unknown as Uint8Array;

/** Asserts a plain Uint8Array (not a Node Buffer or other subclass) that owns its whole buffer. */
function expectPlain(value: Uint8Array): void {
  expect(Object.getPrototypeOf(value)).toBe(Uint8Array.prototype);
  expect(value.byteLength).toBe(value.buffer.byteLength);
}

describe.each(backends)('CryptoBackend contract: $name', (backend) => {
  it('returns plain Uint8Arrays from every operation', async () => {
    const k = key32();
    const pub = await backend.x25519PublicKey(k);
    const seedPub = await backend.ed25519PublicKey(k);
    const sig = await backend.ed25519Sign(k, new Uint8Array(5));
    const sealed = backend.aeadSeal(k, new Uint8Array(12), new Uint8Array(40), new Uint8Array(3));
    const kem = backend.mlkemKeygen(new Uint8Array(64).fill(7));
    const enc = await backend.mlkemEncapsulate(kem.publicKey, new Uint8Array(32).fill(9));
    for (const value of [
      pub,
      await backend.x25519(k, pub),
      seedPub,
      sig,
      backend.sha256(k),
      backend.sha512(k),
      backend.hmacSha256(k, k),
      backend.hkdfSha256(k, k, k, 44),
      sealed,
      backend.aeadOpen(k, new Uint8Array(12), sealed, new Uint8Array(3)),
      kem.publicKey,
      kem.secretKey,
      enc.cipherText,
      enc.sharedSecret,
      await backend.mlkemDecapsulate(enc.cipherText, kem.secretKey),
      await backend.mlkemDecapsulate(enc.cipherText, kem.secretKey, new Uint8Array(64).fill(7)),
      (await backend.mlkemEncapsulate(kem.publicKey)).sharedSecret,
    ]) {
      expectPlain(value);
    }
  });

  it('rejects wrong key, seed and nonce sizes with ArgumentRangeError and non-bytes with ArgumentTypeError', async () => {
    const short = new Uint8Array(31);
    await expect(backend.x25519PublicKey(short)).rejects.toThrow(ArgumentRangeError);
    await expect(backend.x25519(short, key32())).rejects.toThrow(ArgumentRangeError);
    await expect(backend.x25519(key32(), new Uint8Array(33))).rejects.toThrow(ArgumentRangeError);
    await expect(backend.x25519(notBytes, key32())).rejects.toThrow(ArgumentTypeError);
    await expect(backend.ed25519PublicKey(short)).rejects.toThrow(ArgumentRangeError);
    await expect(backend.ed25519Sign(short, new Uint8Array(1))).rejects.toThrow(ArgumentRangeError);
    await expect(backend.ed25519Sign(key32(), notBytes)).rejects.toThrow(ArgumentTypeError);
    await expect(backend.ed25519Verify(notBytes, key32(), new Uint8Array(64))).rejects.toThrow(
      ArgumentTypeError,
    );
    expect(() => backend.sha256(notBytes)).toThrow(ArgumentTypeError);
    expect(() => backend.hmacSha256(notBytes, key32())).toThrow(ArgumentTypeError);
    expect(() => backend.aeadSeal(short, new Uint8Array(12), key32(), key32())).toThrow(
      ArgumentRangeError,
    );
    expect(() => backend.aeadSeal(key32(), new Uint8Array(8), key32(), key32())).toThrow(
      ArgumentRangeError,
    );
    expect(() => backend.aeadOpen(key32(), new Uint8Array(13), key32(), key32())).toThrow(
      ArgumentRangeError,
    );
    expect(() => backend.mlkemKeygen(new Uint8Array(63))).toThrow(ArgumentRangeError);
    await expect(backend.mlkemEncapsulate(new Uint8Array(1567), key32())).rejects.toThrow(
      ArgumentRangeError,
    );
    await expect(backend.mlkemEncapsulate(new Uint8Array(1567))).rejects.toThrow(
      ArgumentRangeError,
    );
    await expect(backend.mlkemEncapsulate(notBytes)).rejects.toThrow(ArgumentTypeError);
    await expect(
      backend.mlkemDecapsulate(new Uint8Array(1568), new Uint8Array(3167)),
    ).rejects.toThrow(ArgumentRangeError);
    const kem = backend.mlkemKeygen(new Uint8Array(64).fill(7));
    const ct = new Uint8Array(1568);
    await expect(
      backend.mlkemDecapsulate(ct, kem.secretKey, new Uint8Array(63).fill(7)),
    ).rejects.toThrow(ArgumentRangeError);
    await expect(backend.mlkemDecapsulate(ct, kem.secretKey, notBytes)).rejects.toThrow(
      ArgumentTypeError,
    );
    // A seed whose z half is not the one inside the key: refused before any work.
    const otherSeed = new Uint8Array(64).fill(7);
    otherSeed[63]! ^= 1;
    await expect(backend.mlkemDecapsulate(ct, kem.secretKey, otherSeed)).rejects.toThrow(
      ArgumentRangeError,
    );
  });

  it('bounds HKDF output length to 0..8160 (RFC 5869 §2.3)', () => {
    const k = key32();
    expect(backend.hkdfSha256(k, k, k, 0)).toEqual(new Uint8Array(0));
    expect(backend.hkdfSha256(k, k, k, HKDF_SHA256_MAX_LENGTH)).toHaveLength(8160);
    for (const bad of [-1, 1.5, HKDF_SHA256_MAX_LENGTH + 1, Number.NaN]) {
      expect(() => backend.hkdfSha256(k, k, k, bad)).toThrow(ArgumentRangeError);
    }
  });

  it('accepts HKDF info longer than 1 KiB', () => {
    const k = key32();
    const info = new Uint8Array(4096).fill(0x5a);
    expect(toHex(backend.hkdfSha256(k, k, info, 64))).toBe(
      toHex(nobleBackend.hkdfSha256(k, k, info, 64)),
    );
  });

  it('throws InvalidKeyError for low-order X25519 peers (RFC 7748 §6.1)', async () => {
    // 0, 1 and an order-8 point (RFC 7748 §7; Wycheproof LowOrderPublic).
    for (const peer of [
      '0000000000000000000000000000000000000000000000000000000000000000',
      '0100000000000000000000000000000000000000000000000000000000000000',
      'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
    ]) {
      await expect(backend.x25519(key32(), fromHex(peer))).rejects.toThrow(InvalidKeyError);
    }
  });

  it('returns false, never throws, for malformed Ed25519 keys and signatures', async () => {
    const seed = key32();
    const message = new Uint8Array([1, 2, 3]);
    const pub = await backend.ed25519PublicKey(seed);
    const sig = await backend.ed25519Sign(seed, message);
    expect(await backend.ed25519Verify(pub, message, sig)).toBe(true);
    expect(await backend.ed25519Verify(pub.subarray(1), message, sig)).toBe(false);
    expect(await backend.ed25519Verify(pub, message, sig.subarray(0, 63))).toBe(false);
    expect(await backend.ed25519Verify(pub, message, new Uint8Array(65))).toBe(false);
    expect(await backend.ed25519Verify(new Uint8Array(32).fill(0xff), message, sig)).toBe(false);
    expect(await backend.ed25519Verify(pub, message, new Uint8Array(64).fill(0xff))).toBe(false);
  });

  it('throws DecryptError for short or forged ciphertexts', () => {
    const k = key32();
    const nonce = new Uint8Array(12);
    expect(() => backend.aeadOpen(k, nonce, new Uint8Array(15), new Uint8Array(0))).toThrow(
      DecryptError,
    );
    const sealed = backend.aeadSeal(k, nonce, new Uint8Array(0), new Uint8Array(0));
    expect(sealed).toHaveLength(16);
    expect(backend.aeadOpen(k, nonce, sealed, new Uint8Array(0))).toEqual(new Uint8Array(0));
    sealed[0]! ^= 0x80;
    expect(() => backend.aeadOpen(k, nonce, sealed, new Uint8Array(0))).toThrow(DecryptError);
  });

  it('uses the current bytes of a reused or wiped private-key array', async () => {
    const key = key32();
    const peer = await nobleBackend.x25519PublicKey(fromHex('09'.repeat(32)));
    const message = new Uint8Array([7]);
    const before = await backend.x25519(key, peer);
    const signedBefore = await backend.ed25519Sign(key, message);
    key[5]! ^= 0x10;
    expect(toHex(await backend.x25519(key, peer))).toBe(
      toHex(await nobleBackend.x25519(key, peer)),
    );
    expect(toHex(await backend.x25519(key, peer))).not.toBe(toHex(before));
    expect(toHex(await backend.ed25519Sign(key, message))).not.toBe(toHex(signedBefore));
    key.fill(0);
    expect(toHex(await backend.x25519PublicKey(key))).toBe(
      toHex(await nobleBackend.x25519PublicKey(key)),
    );
    expect(toHex(await backend.ed25519PublicKey(key))).toBe(
      toHex(await nobleBackend.ed25519PublicKey(key)),
    );
  });
});

describe.each(backends.filter((b) => b !== nobleBackend))('key caches: $name', (backend) => {
  it('stays correct past the public-key cache (300 distinct peers, then the first again)', async () => {
    const own = key32();
    const peers = await Promise.all(
      Array.from({ length: 300 }, (_, i) => {
        const seed = key32();
        seed[0] = i & 0xff;
        seed[1] = i >> 8;
        return nodeBackend.x25519PublicKey(seed);
      }),
    );
    const expected = toHex(await nobleBackend.x25519(own, peers[0]!));
    expect(toHex(await backend.x25519(own, peers[0]!))).toBe(expected);
    for (const peer of peers.slice(1)) await backend.x25519(own, peer);
    expect(toHex(await backend.x25519(own, peers[0]!))).toBe(expected);
  });

  it('keeps distinct private-key arrays with equal bytes consistent', async () => {
    const a = key32();
    const b = key32();
    const message = new Uint8Array([1]);
    const [sigA, sigB] = await Promise.all([
      backend.ed25519Sign(a, message),
      backend.ed25519Sign(b, message),
    ]);
    expect(toHex(sigA)).toBe(toHex(sigB));
    expect(toHex(sigA)).toBe(toHex(await nobleBackend.ed25519Sign(a, message)));
  });
});
