/**
 * ristretto255 (RFC 9496) arithmetic for franking, on `@noble/curves`: scalars mod l, random
 * scalars from the injected RNG, the constant-time multiplication used for secret scalars, and
 * three speed-ups for public values (PROTOCOL.md §11.3.8):
 *
 * - {@link linearCombination}: Strauss' interleaved wNAF for `z*B - c*X` with a 128-bit `c`.
 *   A 253-bit `z` on a fixed base is split into two 128-bit halves on `B` and `2^128*B`, so the
 *   doubling chain is 128 steps long instead of 253. Variable time: public scalars only.
 * - {@link doubleAndEncodeBatch}: `encode(2*Q)` for many points with one field inversion
 *   (RFC 9496's encoding needs an inverse square root per point, which costs ~15 times more).
 *   The prover computes every point it publishes as a half (`k/2 * B`) and encodes it this way.
 * - Fixed-base tables: noble's precomputed windows (`precompute(W)`) for the base point and for
 *   cached keys (key-cache.ts).
 */
import { ristretto255 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js';
import type { Rng } from '../crypto/backend.ts';
import { assertBytes } from '../util/bytes.ts';

/** A ristretto255 group element. */
export type Point = InstanceType<typeof ristretto255.Point>;

const RistrettoPoint = ristretto255.Point;
/** The base point G (noble keeps a 6-bit window table for it). */
export const G: Point = RistrettoPoint.BASE;
/** The identity element. */
export const IDENTITY: Point = RistrettoPoint.ZERO;
/** The group order l = 2^252 + 27742317777372353535851937790883648493. */
export const L: bigint = RistrettoPoint.Fn.ORDER;
/** 1/2 mod l: `k * HALF` is the scalar whose point, doubled, is `k * B`. */
export const HALF: bigint = (L + 1n) / 2n;
/** Field modulus p = 2^255 - 19. */
const P: bigint = RistrettoPoint.Fp.ORDER;

/** Bytes of a scalar and of a point encoding. */
export const SCALAR_BYTES = 32;
/** Bytes of a challenge (128 bits). */
export const CHALLENGE_BYTES = 16;
/** Random bytes reduced to one scalar (wide reduction: bias below 2^-250). */
const WIDE_BYTES = 64;

/** `a * b mod l`. */
export const mulL = (a: bigint, b: bigint): bigint => (a * b) % L;
/** `a + b mod l` for reduced inputs. */
export const addL = (a: bigint, b: bigint): bigint => (a + b) % L;

/** The little-endian integer of `bytes` (no reduction). */
export const leInteger = (bytes: Uint8Array): bigint => bytesToNumberLE(bytes);

/** The 32-byte little-endian encoding of a reduced scalar. */
export const encodeScalar = (k: bigint): Uint8Array => numberToBytesLE(k, SCALAR_BYTES);

/** 64 bytes read little-endian and reduced mod l. The caller wipes `bytes` if secret. */
export const reduceWide = (bytes: Uint8Array): bigint => bytesToNumberLE(bytes) % L;

/**
 * A uniform non-zero scalar: 64 bytes from `rng` reduced mod l (PROTOCOL.md §11.1). A zero
 * result (probability 2^-252) is redrawn. The random bytes are wiped.
 *
 * @throws {ArgumentTypeError | ArgumentRangeError} if `rng` returns something other than 64 bytes.
 */
export function randomScalar(rng: Rng): bigint {
  for (;;) {
    const bytes = rng(WIDE_BYTES);
    assertBytes(bytes, 'rng output', WIDE_BYTES);
    const k = reduceWide(bytes);
    bytes.fill(0);
    if (k !== 0n) return k;
  }
}

/** 16 random bytes (a simulated challenge). */
export function randomChallenge(rng: Rng): Uint8Array {
  const bytes = rng(CHALLENGE_BYTES);
  assertBytes(bytes, 'rng output', CHALLENGE_BYTES);
  return bytes.slice();
}

/**
 * `k * p` for a secret scalar `k`, with noble's constant-time multiplication (a fixed number of
 * table additions; the base point is also scalar-blinded). `k` is reduced; 0 (which noble
 * refuses) gives the identity and never happens but with negligible probability.
 */
export function mulSecret(p: Point, k: bigint): Point {
  return k === 0n ? IDENTITY : p.multiply(k);
}

/** `k * p` for a public scalar `k` (variable time). */
export function mulPublic(p: Point, k: bigint): Point {
  return p.multiplyUnsafe(k);
}

// ---- Strauss / wNAF for public scalars --------------------------------------------------------

/** A table of odd multiples `[1p, 3p, 5p, ..., (2^(w-1) - 1)p]` for width-`w` wNAF digits. */
export interface OddMultiples {
  readonly width: number;
  readonly points: readonly Point[];
}

/** The odd multiples of `p` for digits of width `width` (2^(width-2) points). */
export function oddMultiples(p: Point, width: number): OddMultiples {
  const count = 1 << (width - 2);
  const twice = p.double();
  const points: Point[] = [p];
  for (let i = 1; i < count; i++) points.push(points[i - 1]!.add(twice));
  return { width, points };
}

/**
 * Width-`w` non-adjacent form of the little-endian integer `bytes[offset, offset + length)`,
 * least significant digit first: every digit is 0 or odd with |d| < 2^(w-1), and a non-zero
 * digit is followed by at least w-1 zeros. One digit more than the bits, for the final carry.
 */
export function wnafDigits(
  bytes: Uint8Array,
  offset: number,
  length: number,
  width: number,
): Int8Array {
  const bits = length * 8;
  const digits = new Int8Array(bits + 1);
  const size = 1 << width;
  const mask = size - 1;
  const byteAt = (i: number) => (i < length ? bytes[offset + i]! : 0);
  let pos = 0;
  let carry = 0;
  while (pos <= bits) {
    const at = pos >> 3;
    const buffer = byteAt(at) | (byteAt(at + 1) << 8) | (byteAt(at + 2) << 16);
    const window = carry + ((buffer >>> (pos & 7)) & mask);
    if ((window & 1) === 0) {
      pos += 1;
      continue;
    }
    if (window < size >> 1) {
      carry = 0;
      digits[pos] = window;
    } else {
      carry = 1;
      digits[pos] = window - size;
    }
    pos += width;
  }
  return digits;
}

/** One term `k * P` of a linear combination: P's odd multiples and k's wNAF digits. */
export interface Term {
  readonly table: OddMultiples;
  readonly digits: Int8Array;
}

/**
 * `sum k_i * P_i` by Strauss' method: one shared doubling chain as long as the longest digit
 * string, one table addition per non-zero digit. Variable time: public scalars only.
 */
export function linearCombination(terms: readonly Term[]): Point {
  let length = 0;
  for (const t of terms) length = Math.max(length, t.digits.length);
  let acc: Point | undefined;
  for (let i = length - 1; i >= 0; i--) {
    if (acc !== undefined) acc = acc.double();
    for (const t of terms) {
      const d = t.digits[i] ?? 0;
      if (d === 0) continue;
      const q = t.table.points[(d < 0 ? -d : d) >> 1]!;
      if (acc === undefined) acc = d > 0 ? q : q.negate();
      else acc = d > 0 ? acc.add(q) : acc.subtract(q);
    }
  }
  return acc ?? IDENTITY;
}

/** Odd-multiple tables of a fixed base `B` and of `2^128 * B` (a 253-bit scalar in two halves). */
export interface SplitBase {
  readonly low: OddMultiples;
  readonly high: OddMultiples;
}

/** Width of the fixed-base tables (64 points each). */
export const FIXED_WIDTH = 8;
/** Width of the table of a point used once (8 points). */
export const FRESH_WIDTH = 5;
/** Width of the table of a cached sender key (16 points). */
export const CACHED_WIDTH = 6;

/** The split tables of `base` (0.5 ms; build once per fixed base). */
export function splitBase(base: Point): SplitBase {
  let high = base;
  for (let i = 0; i < 128; i++) high = high.double();
  return { low: oddMultiples(base, FIXED_WIDTH), high: oddMultiples(high, FIXED_WIDTH) };
}

let baseTables: SplitBase | undefined;
/** The split tables of G, built on first use. */
export function baseSplit(): SplitBase {
  baseTables ??= splitBase(G);
  return baseTables;
}

/**
 * `z * B - c * X` for a canonical 32-byte scalar `z` on a split fixed base and a 16-byte
 * challenge `c` on `negX` (the odd multiples of `-X`). Public values only.
 */
export function zBMinusCX(
  base: SplitBase,
  z: Uint8Array,
  negX: OddMultiples,
  c: Uint8Array,
): Point {
  return linearCombination([
    { table: base.low, digits: wnafDigits(z, 0, 16, base.low.width) },
    { table: base.high, digits: wnafDigits(z, 16, 16, base.high.width) },
    { table: negX, digits: wnafDigits(c, 0, CHALLENGE_BYTES, negX.width) },
  ]);
}

// ---- Batched double-and-encode ----------------------------------------------------------------

/** Edwards curve constant d (RFC 9496 §4.1, RFC 8032 §5.1). */
export const EDWARDS_D =
  37095705934669439343138083508754565189542113879843219016388785533085940283555n;
/** sqrt(-1) mod p (RFC 9496 §4.1). */
export const SQRT_M1 =
  19681161376707505956807079304988542015446066515923890162744021073123829784752n;
/** 1/sqrt(a - d) mod p with a = -1 (RFC 9496 §4.1). */
export const INVSQRT_A_MINUS_D =
  54469307008909316920995813868745141605393597292927456921205312896311721017578n;

const fmod = (a: bigint): bigint => {
  const r = a % P;
  return r < 0n ? r + P : r;
};
const isNegative = (a: bigint): boolean => (a & 1n) === 1n;

interface Extended {
  readonly X: bigint;
  readonly Y: bigint;
  readonly Z: bigint;
  readonly T: bigint;
}

/**
 * The extended Edwards coordinates of a point's representative. noble keeps them in the
 * wrapper's `ep` field (protected in its types); `undefined` if a future version does not, and
 * the caller falls back to the one-by-one encoding.
 */
function extended(p: Point): Extended | undefined {
  const ep = (p as unknown as { readonly ep?: Partial<Extended> }).ep;
  if (ep === undefined || ep === null) return undefined;
  const { X, Y, Z, T } = ep;
  return typeof X === 'bigint' &&
    typeof Y === 'bigint' &&
    typeof Z === 'bigint' &&
    typeof T === 'bigint'
    ? { X, Y, Z, T }
    : undefined;
}

/**
 * `[encode(2*Q) for Q in points]`, with one field inversion for the whole batch (the batched
 * double-and-encode of the ristretto255 design notes, as in curve25519-dalek's
 * `double_and_compress_batch`). Byte-identical to `Q.double().toBytes()`; a point the formula
 * does not cover (a zero denominator: only torsion representatives, never a prover's output)
 * is encoded the plain way.
 */
export function doubleAndEncodeBatch(points: readonly Point[]): Uint8Array[] {
  interface State {
    e: bigint;
    f: bigint;
    g: bigint;
    h: bigint;
    eg: bigint;
    fh: bigint;
  }
  const states: (State | undefined)[] = points.map((q) => {
    const c = extended(q);
    if (c === undefined) return undefined;
    const xx = fmod(c.X * c.X);
    const yy = fmod(c.Y * c.Y);
    const zz = fmod(c.Z * c.Z);
    const dtt = fmod(fmod(c.T * c.T) * EDWARDS_D);
    const e = fmod(2n * c.X * c.Y);
    const f = fmod(zz + dtt);
    const g = fmod(yy + xx);
    const h = fmod(zz - dtt);
    return { e, f, g, h, eg: fmod(e * g), fh: fmod(f * h) };
  });
  // Montgomery's trick over the non-zero denominators eg*fh.
  const denominators = states.map((s) => (s === undefined ? 0n : fmod(s.eg * s.fh)));
  const prefix: bigint[] = [];
  let acc = 1n;
  for (const d of denominators) {
    prefix.push(acc);
    if (d !== 0n) acc = fmod(acc * d);
  }
  let inv = RistrettoPoint.Fp.inv(acc);
  const inverses: bigint[] = new Array(points.length).fill(0n);
  for (let i = points.length - 1; i >= 0; i--) {
    const d = denominators[i]!;
    if (d === 0n) continue;
    inverses[i] = fmod(inv * prefix[i]!);
    inv = fmod(inv * d);
  }
  return points.map((q, i) => {
    const s = states[i];
    const d = denominators[i]!;
    if (s === undefined || d === 0n) return q.double().toBytes();
    const zInv = fmod(s.eg * inverses[i]!);
    const tInv = fmod(s.fh * inverses[i]!);
    let magic = INVSQRT_A_MINUS_D;
    let { e, g, h } = s;
    if (isNegative(fmod(s.eg * zInv))) {
      const minusE = fmod(-e);
      e = s.g;
      g = minusE;
      h = fmod(s.f * SQRT_M1);
      magic = SQRT_M1;
    }
    if (isNegative(fmod(fmod(h * e) * zInv))) g = fmod(-g);
    let out = fmod(fmod(h - g) * fmod(magic * fmod(g * tInv)));
    if (isNegative(out)) out = fmod(-out);
    return numberToBytesLE(out, SCALAR_BYTES);
  });
}
