/**
 * The BigInt blind RSA client (RFC 9474 §4, RFC 8017 §8.1.2, §9.1): its RSASSA-PSS verifier
 * agrees with OpenSSL's on OpenSSL's own signatures and refuses the near misses (another salt
 * length, PKCS#1 v1.5, a changed bit, a value >= n); EMSA-PSS round trips for several modulus
 * sizes; the blind is rejection-sampled from the Rng in the documented order; the integer
 * helpers are exact.
 */
import { constants, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { systemRng } from '#sdk/crypto/backend.ts';
import {
  blind,
  emsaPssEncode,
  emsaPssVerify,
  finalize,
  i2osp,
  modInverse,
  modPow,
  os2ip,
  rsaPublicKey,
  rsassaPssVerify,
} from '#sdk/tokens/blind-rsa.ts';
import { ArgumentRangeError } from '#sdk/util/argument-errors.ts';
import { concatBytes } from '#sdk/util/bytes.ts';
import { big, bytesOf, counting, replay } from './fixtures.ts';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = privateKey.export({ format: 'jwk' });
const n = big(Buffer.from(jwk.n!, 'base64url'));
const d = big(Buffer.from(jwk.d!, 'base64url'));
const key = rsaPublicKey(n, 65537n);

const pss = (message: Uint8Array, saltLength: number) =>
  new Uint8Array(
    sign('sha384', message, {
      key: privateKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength,
    }),
  );

describe('rsassaPssVerify', () => {
  it('accepts OpenSSL RSASSA-PSS signatures (SHA-384, MGF1-SHA-384, 48-byte salt)', () => {
    expect(key.modulusBits).toBe(2048);
    expect(key.modulusBytes).toBe(256);
    for (let i = 0; i < 20; i++) {
      const message = randomBytes(i * 7);
      expect(rsassaPssVerify(key, message, pss(message, 48))).toBe(true);
    }
  });

  it('refuses other salt lengths, PKCS#1 v1.5, other messages, changed bits and s >= n', () => {
    const message = randomBytes(98);
    const good = pss(message, 48);
    expect(rsassaPssVerify(key, message, pss(message, 32))).toBe(false);
    expect(rsassaPssVerify(key, message, pss(message, 0))).toBe(false);
    expect(rsassaPssVerify(key, message, pss(message, 64))).toBe(false);
    const v15 = sign('sha384', message, { key: privateKey, padding: constants.RSA_PKCS1_PADDING });
    expect(rsassaPssVerify(key, message, new Uint8Array(v15))).toBe(false);
    expect(rsassaPssVerify(key, randomBytes(98), good)).toBe(false);
    for (let i = 0; i < good.length; i += 17) {
      const changed = good.slice();
      changed[i]! ^= 1 << (i % 8);
      expect(rsassaPssVerify(key, message, changed)).toBe(false);
    }
    expect(rsassaPssVerify(key, message, bytesOf(big(good) + n))).toBe(false);
    expect(rsassaPssVerify(key, message, bytesOf(n))).toBe(false);
    expect(rsassaPssVerify(key, message, good.subarray(1))).toBe(false);
    expect(rsassaPssVerify(key, message, concatBytes(new Uint8Array(1), good))).toBe(false);
  });
});

describe('EMSA-PSS', () => {
  it('round trips for moduli of 1025 to 4096 bits and refuses a changed encoding', () => {
    for (const emBits of [1024, 2047, 2046, 2041, 3071, 4095]) {
      const message = randomBytes(50);
      const em = emsaPssEncode(message, emBits, randomBytes(48));
      expect(em.length).toBe(Math.ceil(emBits / 8));
      // The bits above emBits are zero (RFC 8017 §9.1.1 step 11).
      expect(em[0]! >> (emBits % 8 || 8)).toBe(0);
      expect(emsaPssVerify(message, em, emBits)).toBe(true);
      expect(emsaPssVerify(randomBytes(50), em, emBits)).toBe(false);
      for (const at of [0, 10, em.length - 49, em.length - 2, em.length - 1]) {
        const changed = em.slice();
        changed[at]! ^= at === 0 ? 0x01 : 0x40;
        expect(emsaPssVerify(message, changed, emBits), `byte ${at}`).toBe(false);
      }
    }
  });

  it('refuses an encoding whose bits above emBits are set', () => {
    const message = randomBytes(20);
    const em = emsaPssEncode(message, 2047, randomBytes(48));
    em[0]! |= 0x80;
    expect(emsaPssVerify(message, em, 2047)).toBe(false);
  });
});

describe('blind', () => {
  const message = randomBytes(98);

  it('draws the salt, then blinds of the modulus size until one is in [1, n) and invertible', () => {
    const salt = randomBytes(48);
    const r = randomBytes(256);
    r[0]! &= 0x7f;
    const direct = blind(replay(concatBytes(salt, r)), key, message);
    const rng = replay(
      concatBytes(salt, new Uint8Array(256).fill(0xff), bytesOf(n), new Uint8Array(256), r),
    );
    const retried = blind(rng, key, message);
    expect(rng.left()).toBe(0);
    expect(retried.blindedMessage).toEqual(direct.blindedMessage);
    expect(retried.inverse).toBe(modInverse(big(r), n));
    // z = EM(message, salt) * r^e mod n.
    const m = big(emsaPssEncode(message, 2047, salt));
    expect(big(direct.blindedMessage)).toBe((m * modPow(big(r), 65537n, n)) % n);
  });

  it('gives up after 128 draws outside [1, n)', () => {
    const rng = counting((size) => new Uint8Array(size));
    expect(() => blind(rng, key, message)).toThrow(ArgumentRangeError);
    expect(rng.sizes).toEqual([48, ...Array(128).fill(256)]);
  });

  it('blinds one message differently each time; each answer unblinds to a valid signature', () => {
    const a = blind(systemRng, key, message);
    const b = blind(systemRng, key, message);
    expect(a.blindedMessage).not.toEqual(b.blindedMessage);
    for (const x of [a, b]) {
      const blindSig = bytesOf(modPow(big(x.blindedMessage), d, n));
      const signature = finalize(key, message, blindSig, x.inverse);
      expect(signature).toBeDefined();
      expect(rsassaPssVerify(key, message, signature!)).toBe(true);
      // Another message's signature does not come out of this blind.
      expect(finalize(key, randomBytes(98), blindSig, x.inverse)).toBeUndefined();
    }
  });

  it('finalize refuses a blind signature of the wrong size or not below n', () => {
    const x = blind(systemRng, key, message);
    const blindSig = bytesOf(modPow(big(x.blindedMessage), d, n));
    expect(finalize(key, message, blindSig.subarray(1), x.inverse)).toBeUndefined();
    expect(
      finalize(key, message, concatBytes(blindSig, new Uint8Array(1)), x.inverse),
    ).toBeUndefined();
    const plusN = big(blindSig) + n;
    if (plusN < 2n ** 2048n) {
      expect(finalize(key, message, bytesOf(plusN), x.inverse)).toBeUndefined();
    }
    expect(finalize(key, message, bytesOf(n), x.inverse)).toBeUndefined();
  });
});

describe('integer helpers', () => {
  it('OS2IP and I2OSP invert each other; I2OSP refuses an integer that does not fit', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), (b) => {
        expect(i2osp(os2ip(b), b.length)).toEqual(b);
      }),
    );
    expect(os2ip(new Uint8Array(0))).toBe(0n);
    expect(i2osp(0n, 3)).toEqual(new Uint8Array(3));
    expect(() => i2osp(256n, 1)).toThrow(ArgumentRangeError);
    expect(() => i2osp(-1n, 4)).toThrow(ArgumentRangeError);
  });

  it('modInverse and modPow agree with the definitions', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: n - 1n }), (a) => {
        const inv = modInverse(a, n);
        if (inv === undefined) return;
        expect((a * inv) % n).toBe(1n);
        expect(modPow(modPow(a, 65537n, n), d, n)).toBe(a);
      }),
      { numRuns: 30 },
    );
    expect(modInverse(6n, 9n)).toBeUndefined();
    expect(modInverse(4n, 9n)).toBe(7n);
    expect(modPow(5n, 0n, 7n)).toBe(1n);
  });
});
