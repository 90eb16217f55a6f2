/**
 * The group arithmetic behind the speed-ups (sdk/franking/group.ts, PROTOCOL.md §11.3.8):
 * the batched double-and-encode against noble's one-by-one encoding, wNAF recoding, the Strauss
 * combination against plain multiplication, and the RFC 9496 constants.
 */
import { ed25519, ristretto255 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  baseSplit,
  doubleAndEncodeBatch,
  EDWARDS_D,
  encodeScalar,
  FRESH_WIDTH,
  G,
  HALF,
  INVSQRT_A_MINUS_D,
  L,
  linearCombination,
  oddMultiples,
  SQRT_M1,
  wnafDigits,
  zBMinusCX,
} from '#sdk/franking/group.ts';
import { toHex } from '#sdk/util/bytes.ts';

const Fp = ristretto255.Point.Fp;
const p = Fp.ORDER;
const scalarArb = fc.bigInt({ min: 1n, max: L - 1n });

describe('constants', () => {
  it('are those of RFC 9496 §4.1 and the curve', () => {
    expect(EDWARDS_D).toBe(ed25519.Point.CURVE().d);
    expect(Fp.mul(SQRT_M1, SQRT_M1)).toBe(p - 1n);
    // INVSQRT_A_MINUS_D^2 * (a - d) == 1 with a = -1
    expect(Fp.mul(Fp.sqr(INVSQRT_A_MINUS_D), Fp.sub(p - 1n, EDWARDS_D))).toBe(1n);
    expect((HALF * 2n) % L).toBe(1n);
    expect(L).toBe(2n ** 252n + 27742317777372353535851937790883648493n);
  });
});

describe('doubleAndEncodeBatch', () => {
  it('equals encode(2Q) for random points, one batch', () => {
    const points = fc.sample(scalarArb, { numRuns: 120, seed: 1 }).map((k) => G.multiply(k));
    const batch = doubleAndEncodeBatch(points);
    points.forEach((q, i) => {
      expect(toHex(batch[i]!)).toBe(q.double().toHex());
    });
  });

  it('equals encode(2Q) for points with other representatives (sums, negations, decodings)', () => {
    fc.assert(
      fc.property(scalarArb, scalarArb, (a, b) => {
        const x = G.multiply(a);
        const y = ristretto255.Point.fromBytes(G.multiply(b).toBytes());
        const points = [x.add(y), x.subtract(y), y.negate(), y, x.double().add(x)];
        const batch = doubleAndEncodeBatch(points);
        return points.every((q, i) => toHex(batch[i]!) === q.double().toHex());
      }),
      { numRuns: 40, seed: 2 },
    );
  });

  it('handles the identity and an empty batch', () => {
    const points = [G, ristretto255.Point.ZERO, G.double()];
    const batch = doubleAndEncodeBatch(points);
    expect(toHex(batch[1]!)).toBe('00'.repeat(32));
    expect(toHex(batch[0]!)).toBe(G.double().toHex());
    expect(toHex(batch[2]!)).toBe(G.double().double().toHex());
    expect(doubleAndEncodeBatch([])).toEqual([]);
  });

  it('gives encode(P) from the half of P', () => {
    fc.assert(
      fc.property(scalarArb, (k) => {
        const [enc] = doubleAndEncodeBatch([G.multiply((k * HALF) % L)]);
        return toHex(enc!) === G.multiply(k).toHex();
      }),
      { numRuns: 30, seed: 3 },
    );
  });
});

describe('wnafDigits', () => {
  it('recodes a 128-bit chunk into odd digits below 2^(w-1), w-1 zeros apart, summing to it', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.integer({ min: 2, max: 8 }),
        fc.constantFrom(0, 16),
        (bytes, w, offset) => {
          const digits = wnafDigits(bytes, offset, 16, w);
          let value = 0n;
          let lastNonZero = -w;
          for (let i = digits.length - 1; i >= 0; i--) value = value * 2n + BigInt(digits[i]!);
          for (let i = 0; i < digits.length; i++) {
            const d = digits[i]!;
            if (d === 0) continue;
            if (d % 2 === 0 || Math.abs(d) >= 2 ** (w - 1)) return false;
            if (i - lastNonZero < w) return false;
            lastNonZero = i;
          }
          const want = BigInt(`0x${toHex(bytes.slice(offset, offset + 16).reverse())}`);
          return value === want;
        },
      ),
      { numRuns: 300, seed: 4 },
    );
  });

  it('handles all-ones (the longest carry) and zero', () => {
    const ones = new Uint8Array(16).fill(0xff);
    const d = wnafDigits(ones, 0, 16, 5);
    let value = 0n;
    for (let i = d.length - 1; i >= 0; i--) value = value * 2n + BigInt(d[i]!);
    expect(value).toBe(2n ** 128n - 1n);
    expect(wnafDigits(new Uint8Array(16), 0, 16, 5).every((x) => x === 0)).toBe(true);
  });
});

describe('linear combinations', () => {
  it('zBMinusCX equals z*B - c*X', () => {
    fc.assert(
      fc.property(
        scalarArb,
        scalarArb,
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        (z, x, c) => {
          const X = G.multiply(x);
          const got = zBMinusCX(
            baseSplit(),
            encodeScalar(z),
            oddMultiples(X.negate(), FRESH_WIDTH),
            c,
          );
          const cInt = BigInt(`0x${toHex(c.slice().reverse()) || '0'}`);
          const want = G.multiply(z).subtract(X.multiplyUnsafe(cInt));
          return got.equals(want);
        },
      ),
      { numRuns: 40, seed: 5 },
    );
  });

  it('covers the extremes: z = l - 1, c = 2^128 - 1, zeros', () => {
    const X = G.multiply(12345n);
    const neg = oddMultiples(X.negate(), FRESH_WIDTH);
    const max = zBMinusCX(baseSplit(), encodeScalar(L - 1n), neg, new Uint8Array(16).fill(0xff));
    expect(max.equals(G.multiply(L - 1n).subtract(X.multiplyUnsafe(2n ** 128n - 1n)))).toBe(true);
    const zero = zBMinusCX(baseSplit(), encodeScalar(0n), neg, new Uint8Array(16));
    expect(zero.equals(ristretto255.Point.ZERO)).toBe(true);
    expect(linearCombination([]).equals(ristretto255.Point.ZERO)).toBe(true);
  });
});
