/**
 * Padmé length padding (Nikitin, Barman, Lueks, Underwood, Hubaux, Ford, "Reducing Metadata
 * Leakage from Encrypted Files and Communication with PURBs", PoPETs 2019, §4).
 *
 * A length `L` with `E = floor(log2 L)` is rounded up so that its low `E - S` bits are zero,
 * where `S = floor(log2 E) + 1`. Only `O(log log L)` bits of the length remain visible, and
 * the overhead is below `2^-S < 1/E` (at most 11.7%, reached at L = 129). Sealed sender pads
 * its inner content with it (docs/PROTOCOL.md §6 §Padding).
 */
import { ArgumentRangeError } from './argument-errors.ts';

/** Largest input accepted: lengths are u32 on the wire. */
const MAX_LENGTH = 0xffffffff;

/** `floor(log2 n)` for an integer `1 <= n <= 2^32 - 1`. */
function floorLog2(n: number): number {
  return 31 - Math.clz32(n);
}

/**
 * The Padmé length of `n` bytes: the smallest length `>= n` whose low `E - S` bits are zero
 * (PURBs §4, Algorithm 1). Lengths 0, 1 and 2 map to themselves.
 *
 * @param n - unpadded length in bytes, an integer in `[0, 2^32 - 1]`
 * @returns the padded length, `>= n`
 * @throws ArgumentRangeError if `n` is not an integer in range, or the padded length would not fit in a u32
 * @example
 * ```ts
 * padmeLength(1328); // 1344
 * ```
 */
export function padmeLength(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > MAX_LENGTH) {
    throw new ArgumentRangeError('n must be an integer in [0, 2^32 - 1]');
  }
  if (n < 2) return n;
  const e = floorLog2(n);
  const s = floorLog2(e) + 1;
  const lastBits = e - s;
  // Arithmetic on doubles, not 32-bit bitwise ops: the rounded value may exceed 2^31.
  const unit = 2 ** lastBits;
  const padded = Math.ceil(n / unit) * unit;
  if (padded > MAX_LENGTH) throw new ArgumentRangeError('padded length does not fit in a u32');
  return padded;
}
