/**
 * The SDK's one writer and one reader of binary layouts (docs/PROTOCOL.md). Big-endian
 * integers, length-prefixed fields, and bounds checks that raise the SDK's own errors.
 */
import { MalformedEnvelopeError } from '../errors.ts';
import { ArgumentRangeError } from './argument-errors.ts';
import { isU32 } from './u32.ts';

/**
 * Append-only writer for wire structures. Grows as needed; `finish()` returns the exact bytes.
 * Sized exactly (the usual case for fixed layouts), `finish()` hands over its buffer instead of
 * copying it; a later write or `finish()` works on a copy, so the result is never changed.
 */
export class ByteWriter {
  private buf: Uint8Array;
  private pos = 0;
  private handedOver = false;
  constructor(initialCapacity = 256) {
    // No DataView: integers are written byte by byte, so a writer is one allocation (session
    // records are encoded on every message).
    this.buf = new Uint8Array(initialCapacity);
  }
  private ensure(n: number): void {
    if (this.handedOver) {
      this.handedOver = false;
      this.buf = this.buf.slice();
    }
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }
  /** Big-endian u32 at `pos` (the value is already checked). */
  private put32(n: number): void {
    const b = this.buf;
    const p = this.pos;
    b[p] = n >>> 24;
    b[p + 1] = (n >>> 16) & 0xff;
    b[p + 2] = (n >>> 8) & 0xff;
    b[p + 3] = n & 0xff;
    this.pos = p + 4;
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
    this.buf[this.pos++] = n >>> 8;
    this.buf[this.pos++] = n & 0xff;
    return this;
  }
  u32(n: number): this {
    if (!isU32(n)) throw new ArgumentRangeError('u32 out of range');
    this.ensure(4);
    this.put32(n);
    return this;
  }
  /** Unsigned 64-bit from a safe integer (timestamps in ms). */
  u64(n: number): this {
    if (!Number.isSafeInteger(n) || n < 0) throw new ArgumentRangeError('u64 out of range');
    this.ensure(8);
    this.put32(Math.floor(n / 2 ** 32));
    this.put32(n >>> 0);
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
