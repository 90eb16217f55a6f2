import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArgumentRangeError } from '#sdk/util/argument-errors.ts';
import { padmeLength } from '#sdk/util/padding.ts';

const MAX = 0xffffffff;
// Largest input whose Padmé length still fits in a u32 (2^32 - 2^26, already a multiple of 2^26).
const MAX_PADDABLE = 2 ** 32 - 2 ** 26;
const length = fc.integer({ min: 0, max: MAX_PADDABLE });

describe('padmeLength (PURBs §4)', () => {
  it('matches values computed with the paper algorithm', () => {
    const known: [number, number][] = [
      [0, 0],
      [1, 1],
      [2, 2],
      [5, 5],
      [9, 10],
      [17, 18],
      [100, 104],
      [129, 144],
      [255, 256],
      [256, 256],
      [257, 272],
      [1000, 1024],
      [1328, 1344],
      [4097, 4352],
      [65537, 67584],
      [101296, 102400],
      [1_000_000, 1_015_808],
      [2 ** 31 + 1, 2_214_592_512],
      [MAX_PADDABLE, MAX_PADDABLE],
    ];
    for (const [n, padded] of known) expect([n, padmeLength(n)]).toEqual([n, padded]);
  });

  it('never shrinks and is idempotent', () => {
    fc.assert(
      fc.property(length, (n) => {
        const p = padmeLength(n);
        expect(p).toBeGreaterThanOrEqual(n);
        expect(padmeLength(p)).toBe(p);
      }),
    );
  });

  it('is monotone', () => {
    fc.assert(
      fc.property(length, length, (a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(padmeLength(lo)).toBeLessThanOrEqual(padmeLength(hi));
      }),
    );
  });

  it('costs at most 12% overhead, and below 1/floor(log2 n) for n >= 2', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: MAX_PADDABLE }), (n) => {
        const overhead = (padmeLength(n) - n) / n;
        expect(overhead).toBeLessThanOrEqual(0.12);
        expect(overhead).toBeLessThan(1 / Math.floor(Math.log2(n)));
      }),
    );
    for (let n = 1; n <= 5000; n++) {
      expect(padmeLength(n) - n).toBeLessThanOrEqual(0.12 * n);
    }
  });

  it('keeps only O(log log n) significant bits: the low E - S bits are zero', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: MAX_PADDABLE }), (n) => {
        const e = Math.floor(Math.log2(n));
        const s = Math.floor(Math.log2(e)) + 1;
        expect(padmeLength(n) % 2 ** (e - s)).toBe(0);
      }),
    );
  });

  it('rejects non-integers, negatives and lengths whose padding overflows a u32', () => {
    for (const bad of [-1, 1.5, Number.NaN, MAX + 1, MAX, MAX_PADDABLE + 1]) {
      expect(() => padmeLength(bad)).toThrow(ArgumentRangeError);
    }
  });
});
