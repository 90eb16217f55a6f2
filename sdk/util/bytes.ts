/**
 * Byte helpers shared by every layer of the SDK. Plain `Uint8Array` only (no `Buffer`), so
 * the same code runs in browsers.
 */
import { MalformedEnvelopeError } from '../errors.ts';
import { ArgumentRangeError, ArgumentTypeError } from './argument-errors.ts';

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** Throws `TypeError` unless `value` is a `Uint8Array` (optionally of exactly `length` bytes). */
export function assertBytes(
  value: unknown,
  name: string,
  length?: number,
): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new ArgumentTypeError(`${name} must be a Uint8Array`);
  if (length !== undefined && value.length !== length) {
    throw new ArgumentRangeError(`${name} must be ${length} bytes, got ${value.length}`);
  }
}

/** Concatenates byte arrays into a new array. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * Constant-time equality for secrets and MACs: time depends only on the lengths, which are
 * public. Returns false for different lengths.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Overwrites secret bytes with zeros (best effort: JS may have copied them elsewhere). */
export function wipe(...arrays: (Uint8Array | undefined)[]): void {
  for (const a of arrays) a?.fill(0);
}

/** UTF-8 encode. */
export function utf8(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** Strict UTF-8 decode; throws `MalformedEnvelopeError` on invalid sequences. */
export function fromUtf8(bytes: Uint8Array): string {
  try {
    return utf8Decoder.decode(bytes);
  } catch (cause) {
    throw new MalformedEnvelopeError('invalid UTF-8', { cause });
  }
}

const HEX = '0123456789abcdef';

/** Lower-case hex. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += HEX[b >> 4]! + HEX[b & 15]!;
  return s;
}

/** Parses hex (either case); throws `TypeError` on odd length or a non-hex digit. */
export function fromHex(hex: string): Uint8Array {
  if (typeof hex !== 'string' || hex.length % 2 !== 0)
    throw new ArgumentTypeError('hex must have even length');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const byte = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    if (!/^[0-9a-fA-F]{2}$/.test(hex.slice(2 * i, 2 * i + 2)))
      throw new ArgumentTypeError('invalid hex digit');
    out[i] = byte;
  }
  return out;
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64URL_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < B64URL.length; i++) B64URL_INDEX[B64URL.charCodeAt(i)] = i;

/** base64url without padding (RFC 4648 §5), the encoding of every byte field on the wire. */
export function toBase64Url(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out +=
      B64URL[(n >> 18) & 63]! + B64URL[(n >> 12) & 63]! + B64URL[(n >> 6) & 63]! + B64URL[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += B64URL[(n >> 18) & 63]! + B64URL[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += B64URL[(n >> 18) & 63]! + B64URL[(n >> 12) & 63]! + B64URL[(n >> 6) & 63]!;
  }
  return out;
}

/**
 * Strict base64url decode: no padding, no whitespace, canonical trailing bits. Returns
 * `undefined` on any violation so callers choose their own error.
 */
export function tryFromBase64Url(text: string): Uint8Array | undefined {
  if (typeof text !== 'string') return undefined;
  const len = text.length;
  if (len % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((len * 3) / 4));
  let o = 0;
  let i = 0;
  const val = (k: number): number => {
    const c = text.charCodeAt(k);
    return c < 128 ? B64URL_INDEX[c]! : -1;
  };
  for (; i + 3 < len; i += 4) {
    const a = val(i);
    const b = val(i + 1);
    const c = val(i + 2);
    const d = val(i + 3);
    if ((a | b | c | d) < 0) return undefined;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = n >> 16;
    out[o++] = (n >> 8) & 255;
    out[o++] = n & 255;
  }
  const rest = len - i;
  if (rest === 2) {
    const a = val(i);
    const b = val(i + 1);
    if ((a | b) < 0 || (b & 15) !== 0) return undefined;
    out[o++] = (a << 2) | (b >> 4);
  } else if (rest === 3) {
    const a = val(i);
    const b = val(i + 1);
    const c = val(i + 2);
    if ((a | b | c) < 0 || (c & 3) !== 0) return undefined;
    const n = (a << 18) | (b << 12) | (c << 6);
    out[o++] = n >> 16;
    out[o++] = (n >> 8) & 255;
  }
  return out;
}

/** Strict base64url decode; throws `TypeError` naming the field on invalid input. */
export function fromBase64Url(text: string, name = 'value'): Uint8Array {
  const out = tryFromBase64Url(text);
  if (out === undefined) throw new ArgumentTypeError(`${name} is not valid unpadded base64url`);
  return out;
}

/**
 * A compact string that identifies `bytes` exactly, for use as a `Map` or `Set` key (not an
 * encoding: the string is not printable). Two byte strings give the same key only if they are
 * equal: the length comes first, then one UTF-16 code unit per pair of bytes. About three times
 * cheaper to build than base64url, which matters for caches consulted on every message.
 *
 * @example cache.get(bytesKey(publicKey))
 */
export function bytesKey(bytes: Uint8Array): string {
  let key = `${bytes.length}:`;
  let i = 0;
  for (; i + 1 < bytes.length; i += 2) key += String.fromCharCode((bytes[i]! << 8) | bytes[i + 1]!);
  if (i < bytes.length) key += String.fromCharCode(bytes[i]!);
  return key;
}

/** Big-endian u32. */
export function u32be(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff)
    throw new ArgumentRangeError('u32 out of range');
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

/**
 * Append-only writer for wire structures. Grows as needed; `finish()` returns the exact bytes.
 * Sized exactly (the usual case for fixed layouts), `finish()` hands over its buffer instead of
 * copying it; a later write or `finish()` works on a copy, so the result is never changed.
 */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;
  private handedOver = false;
  constructor(initialCapacity = 256) {
    this.buf = new Uint8Array(initialCapacity);
    this.view = new DataView(this.buf.buffer);
  }
  private ensure(n: number): void {
    if (this.handedOver) {
      this.handedOver = false;
      this.buf = this.buf.slice();
      this.view = new DataView(this.buf.buffer);
    }
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(n: number): this {
    if (!Number.isInteger(n) || n < 0 || n > 0xff) throw new ArgumentRangeError('u8 out of range');
    this.ensure(1);
    this.buf[this.pos++] = n;
    return this;
  }
  u16(n: number): this {
    if (!Number.isInteger(n) || n < 0 || n > 0xffff)
      throw new ArgumentRangeError('u16 out of range');
    this.ensure(2);
    this.view.setUint16(this.pos, n);
    this.pos += 2;
    return this;
  }
  u32(n: number): this {
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff)
      throw new ArgumentRangeError('u32 out of range');
    this.ensure(4);
    this.view.setUint32(this.pos, n);
    this.pos += 4;
    return this;
  }
  /** Unsigned 64-bit from a safe integer (timestamps in ms). */
  u64(n: number): this {
    if (!Number.isSafeInteger(n) || n < 0) throw new ArgumentRangeError('u64 out of range');
    this.ensure(8);
    this.view.setUint32(this.pos, Math.floor(n / 2 ** 32));
    this.view.setUint32(this.pos + 4, n >>> 0);
    this.pos += 8;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }
  /** u16 length prefix then the bytes. */
  var16(b: Uint8Array): this {
    return this.u16(b.length).bytes(b);
  }
  /** u32 length prefix then the bytes. */
  var32(b: Uint8Array): this {
    return this.u32(b.length).bytes(b);
  }
  get length(): number {
    return this.pos;
  }
  finish(): Uint8Array {
    if (this.handedOver || this.pos !== this.buf.length) return this.buf.slice(0, this.pos);
    this.handedOver = true;
    return this.buf;
  }
}

/**
 * Bounds-checked reader. Every read past the end, and any trailing bytes at `end()`, throw
 * `MalformedEnvelopeError` (or the error class given), never a `RangeError` from the engine.
 */
export class ByteReader {
  private pos = 0;
  private readonly view: DataView;
  constructor(
    private readonly buf: Uint8Array,
    private readonly what = 'envelope',
    private readonly makeError: (message: string) => Error = (m) => new MalformedEnvelopeError(m),
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  private need(n: number): void {
    if (n < 0 || this.pos + n > this.buf.length) throw this.makeError(`${this.what} is truncated`);
  }
  get remaining(): number {
    return this.buf.length - this.pos;
  }
  get offset(): number {
    return this.pos;
  }
  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }
  u64(): number {
    this.need(8);
    const hi = this.view.getUint32(this.pos);
    const lo = this.view.getUint32(this.pos + 4);
    if (hi >= 2 ** 21) throw this.makeError(`${this.what} has a 64-bit value out of range`);
    this.pos += 8;
    return hi * 2 ** 32 + lo;
  }
  /** Exactly `n` bytes as a view of the buffer (no copy: for decoders whose output owns it). */
  bytesView(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  /** Exactly `n` bytes (a copy, so callers may keep or wipe it independently). */
  bytes(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  /** u16-length-prefixed bytes with an upper bound. */
  var16(max = 0xffff): Uint8Array {
    const n = this.u16();
    if (n > max) throw this.makeError(`${this.what} field too long`);
    return this.bytes(n);
  }
  /** u32-length-prefixed bytes with an upper bound. */
  var32(max: number): Uint8Array {
    const n = this.u32();
    if (n > max) throw this.makeError(`${this.what} field too long`);
    return this.bytes(n);
  }
  /** The rest of the buffer. */
  rest(): Uint8Array {
    return this.bytes(this.remaining);
  }
  /** Asserts that every byte was consumed. */
  end(): void {
    if (this.pos !== this.buf.length) throw this.makeError(`${this.what} has trailing bytes`);
  }
}
