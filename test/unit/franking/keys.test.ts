/**
 * Franking keys (PROTOCOL.md §11.1): derivation from the X25519 identity key against the spec
 * formula computed here with @noble/hashes and @noble/curves directly, random moderator keys,
 * public keys, and the public-key check.
 */
import { ristretto255 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { InvalidKeyError } from '#sdk/errors.ts';
import {
  assertFrankingPublicKey,
  deriveFrankingKeyPair,
  FRANKING_PUBLIC_KEY_BYTES,
  FRANKING_SECRET_KEY_BYTES,
  frankingPublicKey,
  generateFrankingKeyPair,
} from '#sdk/franking/index.ts';
import { ArgumentRangeError, ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import { toHex } from '#sdk/util/bytes.ts';
import { seededRng } from '../../../scripts/lib/seeded-rng.ts';

const l = ristretto255.Point.Fn.ORDER;
const le = (b: Uint8Array) => BigInt(`0x${toHex(b.slice().reverse())}`);
const le32 = (k: bigint) =>
  Uint8Array.from({ length: 32 }, (_, i) => Number((k >> BigInt(8 * i)) & 0xffn));

describe('deriveFrankingKeyPair', () => {
  const rng = seededRng('franking key derivation');

  it('matches HKDF-SHA-256(dhPrivate, empty salt, "Sealpost-Franking-Key-v1", 64) mod l', () => {
    for (let i = 0; i < 8; i++) {
      const dh = rng(32);
      const okm = hkdf(
        sha256,
        dh,
        new Uint8Array(0),
        new TextEncoder().encode('Sealpost-Franking-Key-v1'),
        64,
      );
      const sk = le(okm) % l;
      const pair = deriveFrankingKeyPair(dh);
      expect(toHex(pair.secretKey)).toBe(toHex(le32(sk)));
      expect(toHex(pair.publicKey)).toBe(ristretto255.Point.BASE.multiply(sk).toHex());
    }
  });

  it('is deterministic and differs per input', () => {
    const dh = rng(32);
    const a = deriveFrankingKeyPair(dh);
    const b = deriveFrankingKeyPair(dh.slice());
    expect(toHex(a.secretKey)).toBe(toHex(b.secretKey));
    expect(toHex(a.publicKey)).toBe(toHex(b.publicKey));
    const other = dh.slice();
    other[31]! ^= 0x80;
    expect(toHex(deriveFrankingKeyPair(other).publicKey)).not.toBe(toHex(a.publicKey));
    expect(a.secretKey.length).toBe(FRANKING_SECRET_KEY_BYTES);
    expect(a.publicKey.length).toBe(FRANKING_PUBLIC_KEY_BYTES);
  });

  it('does not use the X25519 key as the scalar', () => {
    const dh = rng(32);
    expect(toHex(deriveFrankingKeyPair(dh).secretKey)).not.toBe(toHex(le32(le(dh) % l)));
  });

  it('refuses anything but 32 bytes', () => {
    expect(() => deriveFrankingKeyPair(new Uint8Array(31))).toThrow(ArgumentRangeError);
    expect(() => deriveFrankingKeyPair('key' as unknown as Uint8Array)).toThrow(ArgumentTypeError);
  });
});

describe('generateFrankingKeyPair', () => {
  it('reduces 64 random bytes mod l and redraws a zero scalar', () => {
    const draws = [new Uint8Array(64), le32(l).slice(), new Uint8Array(64).fill(0xff)];
    // 64 zero bytes and l (padded to 64 bytes) both reduce to 0: redrawn.
    const padded = new Uint8Array(64);
    padded.set(draws[1]!);
    const queue = [draws[0]!, padded, draws[2]!];
    const pair = generateFrankingKeyPair(() => queue.shift()!.slice());
    expect(queue.length).toBe(0);
    expect(toHex(pair.secretKey)).toBe(toHex(le32((2n ** 512n - 1n) % l)));
    expect(toHex(frankingPublicKey(pair.secretKey))).toBe(toHex(pair.publicKey));
  });

  it('wipes the random bytes it drew', () => {
    const drawn: Uint8Array[] = [];
    const rng = seededRng('franking wipe');
    generateFrankingKeyPair((n) => {
      const b = rng(n);
      drawn.push(b);
      return b;
    });
    expect(drawn.length).toBe(1);
    expect(drawn[0]!.every((b) => b === 0)).toBe(true);
  });

  it('refuses an rng that returns the wrong size', () => {
    expect(() => generateFrankingKeyPair(() => new Uint8Array(32))).toThrow(ArgumentRangeError);
  });
});

describe('frankingPublicKey', () => {
  it('refuses zero, non-canonical and wrong-size secrets', () => {
    expect(() => frankingPublicKey(new Uint8Array(32))).toThrow(ArgumentRangeError);
    expect(() => frankingPublicKey(le32(l))).toThrow(ArgumentRangeError);
    expect(() => frankingPublicKey(le32(l + 5n))).toThrow(ArgumentRangeError);
    expect(() => frankingPublicKey(new Uint8Array(33))).toThrow(ArgumentRangeError);
    expect(() => frankingPublicKey([1] as unknown as Uint8Array)).toThrow(ArgumentTypeError);
    expect(toHex(frankingPublicKey(le32(1n)))).toBe(ristretto255.Point.BASE.toHex());
  });
});

describe('assertFrankingPublicKey', () => {
  const good = deriveFrankingKeyPair(new Uint8Array(32).fill(9)).publicKey;

  it('accepts a valid key', () => {
    expect(() => assertFrankingPublicKey(good, 'frankingKey')).not.toThrow();
  });

  it('refuses the identity, invalid encodings and wrong sizes, naming the argument', () => {
    expect(() => assertFrankingPublicKey(new Uint8Array(32), 'frankingKey')).toThrow(
      InvalidKeyError,
    );
    expect(() => assertFrankingPublicKey(new Uint8Array(32), 'frankingKey')).toThrow(/frankingKey/);
    const odd = good.slice();
    odd[0]! ^= 1; // a negative field element: never a canonical encoding
    expect(() => assertFrankingPublicKey(odd, 'k')).toThrow(InvalidKeyError);
    const big = new Uint8Array(32).fill(0xff);
    big[31] = 0x7f; // 2^255 - 1 >= p: not canonical
    expect(() => assertFrankingPublicKey(big, 'k')).toThrow(InvalidKeyError);
    expect(() => assertFrankingPublicKey(good.subarray(1), 'k')).toThrow(ArgumentRangeError);
    expect(() => assertFrankingPublicKey('x' as unknown as Uint8Array, 'k')).toThrow(
      ArgumentTypeError,
    );
  });
});
