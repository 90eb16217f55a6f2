/**
 * Unsigned 32-bit integers, the width of every counter, id and length prefix on the wire
 * (docs/PROTOCOL.md): one check and one big-endian codec for the whole SDK.
 */
import { ArgumentRangeError } from './argument-errors.ts';

/** Largest u32. */
export const U32_MAX = 0xffffffff;

/**
 * Whether `n` is an integer from 0 to 2^32 - 1.
 *
 * @example isU32(7) // true; isU32(-1), isU32(2 ** 32), isU32(1.5) and isU32('7') are false
 */
export function isU32(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= U32_MAX;
}

/**
 * Checks that `n` is a u32.
 *
 * @example assertU32(deviceId, 'deviceId');
 * @throws {ArgumentRangeError} `${name} must be a u32` otherwise.
 */
export function assertU32(n: unknown, name: string): asserts n is number {
  if (!isU32(n)) throw new ArgumentRangeError(`${name} must be a u32`);
}

/**
 * Big-endian u32 as four new bytes.
 *
 * @example u32be(1) // Uint8Array [0, 0, 0, 1]
 * @throws {ArgumentRangeError} if `n` is not a u32.
 */
export function u32be(n: number): Uint8Array {
  if (!isU32(n)) throw new ArgumentRangeError('u32 out of range');
  const out = new Uint8Array(4);
  writeU32be(out, 0, n);
  return out;
}

/**
 * Reads a big-endian u32 at `offset`. The caller has checked that four bytes are there (fixed
 * layouts whose length was checked first).
 *
 * @example readU32be(Uint8Array.of(0, 0, 1, 0), 0) // 256
 */
export function readU32be(bytes: Uint8Array, offset: number): number {
  return (
    ((bytes[offset]! << 24) |
      (bytes[offset + 1]! << 16) |
      (bytes[offset + 2]! << 8) |
      bytes[offset + 3]!) >>>
    0
  );
}

/**
 * Writes `n` as a big-endian u32 at `offset`. The caller has checked `n` and the room.
 *
 * @example writeU32be(header, 33, previousCounter);
 */
export function writeU32be(bytes: Uint8Array, offset: number, n: number): void {
  bytes[offset] = n >>> 24;
  bytes[offset + 1] = (n >>> 16) & 0xff;
  bytes[offset + 2] = (n >>> 8) & 0xff;
  bytes[offset + 3] = n & 0xff;
}
