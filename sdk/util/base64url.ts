/**
 * base64url without padding (RFC 4648 §5), the encoding of every byte field on the wire.
 * Strict on input: no padding, no whitespace, canonical trailing bits.
 */
import { ArgumentTypeError } from './argument-errors.ts';

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

/** Strict base64url decode; throws `ArgumentTypeError` naming the field on invalid input. */
export function fromBase64Url(text: string, name = 'value'): Uint8Array {
  const out = tryFromBase64Url(text);
  if (out === undefined) throw new ArgumentTypeError(`${name} is not valid unpadded base64url`);
  return out;
}
