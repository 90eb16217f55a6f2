/**
 * RFC 4648 §6 base32 in lower case without padding: the text form of addresses
 * (docs/PROTOCOL.md §1). Lower case because addresses are typed and read by people
 * and compared as strings; no padding because every address is exactly 20 bytes (32 characters).
 *
 * Pure code with no dependencies, so the wire layer can use it as well.
 */
import { ArgumentTypeError } from './argument-errors.ts';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const INDEX = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) INDEX[ALPHABET.charCodeAt(i)] = i;

/**
 * Encodes bytes as lower-case base32 without padding (RFC 4648 §6 alphabet).
 *
 * @example base32Encode(new TextEncoder().encode('foobar')) // 'mzxw6ytboi'
 * @throws {ArgumentTypeError} if `bytes` is not a `Uint8Array`.
 */
export function base32Encode(bytes: Uint8Array): string {
  if (!(bytes instanceof Uint8Array)) throw new ArgumentTypeError('bytes must be a Uint8Array');
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const b of bytes) {
    buffer = ((buffer << 8) | b) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(buffer >> bits) & 31]!;
    }
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31]!;
  return out;
}

/**
 * Strict decode of lower-case unpadded base32. Returns `undefined` on any violation so that
 * callers choose their own error: a character outside `a-z2-7` (upper case and `=` included),
 * a length no encoding produces (8k+1, 8k+3, 8k+6), or non-zero unused trailing bits (so every
 * byte string has exactly one accepted text form).
 *
 * @example tryBase32Decode('mzxw6') // Uint8Array of 'foo'
 */
export function tryBase32Decode(text: string): Uint8Array | undefined {
  if (typeof text !== 'string') return undefined;
  const rem = text.length % 8;
  if (rem === 1 || rem === 3 || rem === 6) return undefined;
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let buffer = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? INDEX[c]! : -1;
    if (v < 0) return undefined;
    buffer = ((buffer << 5) | v) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (buffer >> bits) & 0xff;
    }
  }
  // RFC 4648 §3.5: pad bits must be zero for a canonical encoding.
  if ((buffer & ((1 << bits) - 1)) !== 0) return undefined;
  return out;
}

/**
 * Strict decode of lower-case unpadded base32 (see {@link tryBase32Decode} for the rules).
 *
 * @example base32Decode('mzxw6ytboi') // bytes of 'foobar'
 * @throws {ArgumentTypeError} if `text` is not canonical lower-case unpadded base32.
 */
export function base32Decode(text: string): Uint8Array {
  const out = tryBase32Decode(text);
  if (out === undefined) throw new ArgumentTypeError('text is not canonical lower-case base32');
  return out;
}
