/**
 * The same random inputs through every backend must give byte-identical outputs and identical
 * accept/reject decisions: a session set up in a browser (WebCrypto + noble) continues on Node
 * (node:crypto) and vice versa (docs/PROTOCOL.md §2.1).
 */

import * as nodeCrypto from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CryptoBackend } from '#sdk/crypto/backend.ts';
import { nobleBackend } from '#sdk/crypto/noble-backend.ts';
import { createNodeBackend, nodeBackend } from '#sdk/crypto/node-backend.ts';
import { DecryptError, InvalidKeyError } from '#sdk/errors.ts';
import { ArgumentRangeError } from '#sdk/util/argument-errors.ts';
import { fromHex, toHex } from '#sdk/util/bytes.ts';
import { backends } from './helpers.ts';

const bytes = (length: number) => fc.uint8Array({ minLength: length, maxLength: length });
const anyBytes = (maxLength: number) => fc.uint8Array({ maxLength });
const ASYMMETRIC_RUNS = 60;
const SYMMETRIC_RUNS = 200;

type Method = keyof CryptoBackend;
type Value = Uint8Array | boolean | string;

/** Backends with a distinct implementation of `method` (comparing shared code to itself proves nothing). */
function distinct(method: Method): CryptoBackend[] {
  return backends.filter((b, i) => backends.findIndex((o) => o[method] === b[method]) === i);
}

const show = (v: Value) => (v instanceof Uint8Array ? toHex(v) : String(v));

/** Runs `f` on every backend implementing `method`; asserts all results are equal. */
async function same<T extends Value>(
  method: Method,
  f: (b: CryptoBackend) => T | Promise<T>,
): Promise<T> {
  const impls = distinct(method);
  const results = await Promise.all(impls.map(async (b) => await f(b)));
  const expected = show(results[0]!);
  const differing = impls.filter((_, i) => show(results[i]!) !== expected).map((b) => b.name);
  expect(differing, `${method} differs from ${impls[0]!.name}`).toEqual([]);
  return results[0]!;
}

/** Like {@link same}, with a thrown error's class name standing for the outcome. */
async function sameOutcome(
  method: Method,
  f: (b: CryptoBackend) => Uint8Array | Promise<Uint8Array>,
) {
  return same(method, async (b) => {
    try {
      return toHex(await f(b));
    } catch (e) {
      return (e as Error).constructor.name;
    }
  });
}

/** Flips one bit of a copy of `data`. */
function flip(data: Uint8Array, bit: number): Uint8Array {
  const out = data.slice();
  const i = bit % (out.length * 8);
  out[i >> 3]! ^= 1 << (i & 7);
  return out;
}

describe('cross-backend equivalence', () => {
  it('has six backends to compare', () => {
    expect(backends.map((b) => b.name)).toEqual([
      'node',
      'node (pkcs8)',
      Number(process.versions.node.split('.')[0]) >= 24
        ? 'node (buffer keys)'
        : 'node (keyObject keys)',
      'node (noble ML-KEM)',
      'webcrypto',
      'noble',
    ]);
  });

  it("runs OpenSSL's ML-KEM exactly when the runtime has one", () => {
    const native = typeof (nodeCrypto as { encapsulate?: unknown }).encapsulate === 'function';
    expect(nodeBackend.mlkemImplementation()).toBe(native ? 'openssl' : 'noble');
    expect(createNodeBackend({ mlkem: 'noble' }).mlkemImplementation()).toBe('noble');
  });

  it('ML-KEM-1024: same keys from a seed; any backend decapsulates any encapsulation alike', async () => {
    await fc.assert(
      fc.asyncProperty(bytes(64), fc.nat(), async (seed, bit) => {
        const pair = await same('mlkemKeygen', (k) => {
          const { publicKey, secretKey } = k.mlkemKeygen(seed);
          return `${toHex(publicKey)}:${toHex(secretKey)}`;
        });
        const [pk, sk] = pair.split(':').map((hex) => fromHex(hex)) as [Uint8Array, Uint8Array];
        for (const encapsulator of distinct('mlkemEncapsulate')) {
          // Each backend's own randomness (OpenSSL's DRBG on Node >= 24, WebCrypto's where run).
          const { cipherText, sharedSecret } = await encapsulator.mlkemEncapsulate(pk);
          // With the expanded key only (records of version 1) and with the key seed too.
          for (const keySeed of [undefined, seed]) {
            const opened = await same('mlkemDecapsulate', (k) =>
              k.mlkemDecapsulate(cipherText, sk, keySeed),
            );
            expect(toHex(opened)).toBe(toHex(sharedSecret));
            // Implicit rejection (FIPS 203 Alg. 18): the same pseudorandom secret everywhere.
            const forged = flip(cipherText, bit);
            const rejected = await same('mlkemDecapsulate', (k) =>
              k.mlkemDecapsulate(forged, sk, keySeed),
            );
            expect(toHex(rejected)).not.toBe(toHex(sharedSecret));
          }
        }
        const corrupt = sk.slice();
        corrupt[3104]! ^= 1; // inside H(ek): the FIPS 203 §7.3 check fails
        for (const keySeed of [undefined, seed]) {
          expect(
            await sameOutcome('mlkemDecapsulate', (k) =>
              k.mlkemDecapsulate(new Uint8Array(1568), corrupt, keySeed),
            ),
          ).toBe(InvalidKeyError.name);
        }
        const otherSeed = flip(seed, 256 + (bit % 256)); // a bit of z
        expect(
          await sameOutcome('mlkemDecapsulate', (k) =>
            k.mlkemDecapsulate(new Uint8Array(1568), sk, otherSeed),
          ),
        ).toBe(ArgumentRangeError.name);
      }),
      { numRuns: 8 },
    );
  });

  it('ML-KEM-1024: deterministic encapsulation gives the same bytes on every backend', async () => {
    await fc.assert(
      fc.asyncProperty(bytes(64), bytes(32), async (seed, message) => {
        const { publicKey } = nobleBackend.mlkemKeygen(seed);
        await same('mlkemEncapsulate', async (k) => {
          const { cipherText, sharedSecret } = await k.mlkemEncapsulate(publicKey, message);
          return `${toHex(cipherText)}:${toHex(sharedSecret)}`;
        });
      }),
      { numRuns: 8 },
    );
  });

  it('X25519: identical public keys and shared secrets', async () => {
    await fc.assert(
      fc.asyncProperty(bytes(32), bytes(32), async (a, b) => {
        const publicA = await same('x25519PublicKey', (k) => k.x25519PublicKey(a));
        const publicB = await same('x25519PublicKey', (k) => k.x25519PublicKey(b));
        const ab = await same('x25519', (k) => k.x25519(a, publicB));
        expect(toHex(await same('x25519', (k) => k.x25519(b, publicA)))).toBe(toHex(ab));
      }),
      { numRuns: ASYMMETRIC_RUNS },
    );
  });

  it('X25519: identical results for arbitrary peer bytes, low-order points rejected alike', async () => {
    // u = 0 and u = 1 are low order; u = p + 1 is non-canonical 1; random bytes are curve or twist.
    const special = fc.constantFrom(
      new Uint8Array(32),
      Uint8Array.of(1, ...new Uint8Array(31)),
      Uint8Array.of(0xee, ...new Uint8Array(30).fill(0xff), 0x7f),
    );
    await fc.assert(
      fc.asyncProperty(bytes(32), fc.oneof(bytes(32), special), async (a, peer) => {
        const outcome = await sameOutcome('x25519', (k) => k.x25519(a, peer));
        if (peer[0]! <= 1 && peer.subarray(1).every((x) => x === 0)) {
          expect(outcome).toBe(InvalidKeyError.name);
        }
      }),
      { numRuns: ASYMMETRIC_RUNS },
    );
  });

  it('Ed25519: identical keys and signatures; mutations rejected by all', async () => {
    await fc.assert(
      fc.asyncProperty(bytes(32), anyBytes(200), fc.nat(), async (seed, message, bit) => {
        const publicKey = await same('ed25519PublicKey', (k) => k.ed25519PublicKey(seed));
        const signature = await same('ed25519Sign', (k) => k.ed25519Sign(seed, message));
        expect(
          await same('ed25519Verify', (k) => k.ed25519Verify(publicKey, message, signature)),
        ).toBe(true);
        const badSignature = flip(signature, bit);
        expect(
          await same('ed25519Verify', (k) => k.ed25519Verify(publicKey, message, badSignature)),
        ).toBe(false);
        const badKey = flip(publicKey, bit);
        expect(
          await same('ed25519Verify', (k) => k.ed25519Verify(badKey, message, signature)),
        ).toBe(false);
        if (message.length > 0) {
          const badMessage = flip(message, bit);
          expect(
            await same('ed25519Verify', (k) => k.ed25519Verify(publicKey, badMessage, signature)),
          ).toBe(false);
        }
      }),
      { numRuns: ASYMMETRIC_RUNS },
    );
  });

  it('Ed25519: arbitrary keys and signatures get the same verdict', async () => {
    await fc.assert(
      fc.asyncProperty(bytes(32), anyBytes(64), bytes(64), async (key, message, signature) => {
        await same('ed25519Verify', (k) => k.ed25519Verify(key, message, signature));
      }),
      { numRuns: ASYMMETRIC_RUNS },
    );
  });

  it('SHA-256, SHA-512, HMAC-SHA-256 and HKDF-SHA-256: identical bytes', async () => {
    await fc.assert(
      fc.asyncProperty(
        anyBytes(300),
        anyBytes(100),
        anyBytes(100),
        fc.integer({ min: 0, max: 300 }),
        async (data, salt, info, length) => {
          await same('sha256', (k) => k.sha256(data));
          await same('sha512', (k) => k.sha512(data));
          await same('hmacSha256', (k) => k.hmacSha256(salt, data));
          const okm = await same('hkdfSha256', (k) => k.hkdfSha256(data, salt, info, length));
          expect(okm.length).toBe(length);
        },
      ),
      { numRuns: SYMMETRIC_RUNS },
    );
  });

  it('incremental SHA-256: identical digests, equal to the one-shot hash, however the input is split', async () => {
    await fc.assert(
      fc.asyncProperty(
        anyBytes(600),
        fc.array(fc.nat(600), { maxLength: 6 }),
        async (data, cuts) => {
          const bounds = [0, ...cuts.map((c) => c % (data.length + 1)).sort((a, b) => a - b)];
          const digest = await same('sha256Hasher', (k) => {
            const hasher = k.sha256Hasher();
            for (const [i, start] of bounds.entries()) {
              hasher.update(data.subarray(start, bounds[i + 1]));
            }
            return hasher.digest();
          });
          expect(toHex(digest)).toBe(toHex(nodeBackend.sha256(data)));
        },
      ),
      { numRuns: SYMMETRIC_RUNS },
    );
  });

  it('AES-256-GCM: identical ciphertexts; every backend opens every other one; any flipped bit rejected by all', async () => {
    // OpenSSL (four node configurations), WebCrypto and noble.
    expect(distinct('aesGcmCipher').map((b) => b.name)).toEqual(backends.map((b) => b.name));
    await fc.assert(
      fc.asyncProperty(
        bytes(32),
        bytes(12),
        anyBytes(300),
        anyBytes(64),
        fc.nat(),
        async (key, nonce, plaintext, aad, bit) => {
          const sealed = await same('aesGcmCipher', async (k) =>
            (await k.aesGcmCipher(key)).seal(nonce, plaintext, aad),
          );
          expect(sealed.length).toBe(plaintext.length + 16);
          const opened = await same('aesGcmCipher', async (k) =>
            (await k.aesGcmCipher(key)).open(nonce, sealed, aad),
          );
          expect(toHex(opened)).toBe(toHex(plaintext));
          const tampered = flip(sealed, bit);
          expect(
            await sameOutcome('aesGcmCipher', async (k) =>
              (await k.aesGcmCipher(key)).open(nonce, tampered, aad),
            ),
          ).toBe(DecryptError.name);
          const otherAad = new Uint8Array([...aad, 0]);
          expect(
            await sameOutcome('aesGcmCipher', async (k) =>
              (await k.aesGcmCipher(key)).open(nonce, sealed, otherAad),
            ),
          ).toBe(DecryptError.name);
          const otherNonce = flip(nonce, bit);
          expect(
            await sameOutcome('aesGcmCipher', async (k) =>
              (await k.aesGcmCipher(key)).open(otherNonce, sealed, aad),
            ),
          ).toBe(DecryptError.name);
        },
      ),
      { numRuns: SYMMETRIC_RUNS },
    );
  });

  it('AES-256-GCM: one cipher per key serves many nonces and multi-chunk inputs alike', async () => {
    await fc.assert(
      fc.asyncProperty(bytes(32), fc.integer({ min: 0, max: 70_000 }), async (key, length) => {
        const plaintext = new Uint8Array(length).map((_, i) => (i * 7 + key[0]!) & 0xff);
        const aad = key.subarray(0, 5);
        const ciphers = await Promise.all(distinct('aesGcmCipher').map((b) => b.aesGcmCipher(key)));
        for (const last of [0, 1]) {
          const nonce = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, last);
          const sealed = await Promise.all(ciphers.map((c) => c.seal(nonce, plaintext, aad)));
          expect(new Set(sealed.map(toHex)).size).toBe(1);
          for (const c of ciphers) {
            expect(toHex(await c.open(nonce, sealed[0]!, aad))).toBe(toHex(plaintext));
          }
        }
      }),
      { numRuns: 12 },
    );
  });

  it('ChaCha20-Poly1305: identical ciphertexts; any flipped bit rejected by all', async () => {
    await fc.assert(
      fc.asyncProperty(
        bytes(32),
        bytes(12),
        anyBytes(300),
        anyBytes(64),
        fc.nat(),
        async (key, nonce, plaintext, aad, bit) => {
          const sealed = await same('aeadSeal', (k) => k.aeadSeal(key, nonce, plaintext, aad));
          expect(sealed.length).toBe(plaintext.length + 16);
          expect(toHex(await same('aeadOpen', (k) => k.aeadOpen(key, nonce, sealed, aad)))).toBe(
            toHex(plaintext),
          );
          const tampered = flip(sealed, bit);
          expect(await sameOutcome('aeadOpen', (k) => k.aeadOpen(key, nonce, tampered, aad))).toBe(
            DecryptError.name,
          );
          const otherAad = new Uint8Array([...aad, 0]);
          expect(
            await sameOutcome('aeadOpen', (k) => k.aeadOpen(key, nonce, sealed, otherAad)),
          ).toBe(DecryptError.name);
        },
      ),
      { numRuns: SYMMETRIC_RUNS },
    );
  });
});
