import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import { base32Decode, base32Encode, tryBase32Decode } from '#sdk/util/base32.ts';

const utf8 = (s: string) => new TextEncoder().encode(s);

describe('base32 (RFC 4648 §6, lower case, unpadded)', () => {
  // RFC 4648 §10 test vectors, lower-cased and with the padding removed.
  const rfc: [string, string][] = [
    ['', ''],
    ['f', 'my'],
    ['fo', 'mzxq'],
    ['foo', 'mzxw6'],
    ['foob', 'mzxw6yq'],
    ['fooba', 'mzxw6ytb'],
    ['foobar', 'mzxw6ytboi'],
  ];

  it.each(rfc)('encodes and decodes %j as %j', (plain, encoded) => {
    expect(base32Encode(utf8(plain))).toBe(encoded);
    expect(base32Decode(encoded)).toEqual(utf8(plain));
  });

  it('round-trips arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        const text = base32Encode(bytes);
        expect(text).toMatch(/^[a-z2-7]*$/);
        expect(base32Decode(text)).toEqual(bytes);
      }),
    );
  });

  it('encodes every bit position (all-ones and single-bit inputs)', () => {
    expect(base32Encode(new Uint8Array(5).fill(0xff))).toBe('77777777');
    expect(base32Encode(new Uint8Array([0x80, 0, 0, 0, 1]))).toBe('qaaaaaab');
  });

  it.each([
    ['upper case', 'MZXW6'],
    ['padding', 'my======'],
    ['digit 0', 'mzxw0'],
    ['digit 1', 'mzxw1'],
    ['digit 8', 'mzxw8'],
    ['non-ASCII', 'mzxwé'],
    ['whitespace', 'mzx w6'],
    ['length 8k+1', 'm'],
    ['length 8k+3', 'mzx'],
    ['length 8k+6', 'mzxw6y'],
    ['non-zero trailing bits', 'mz'],
    ['non-zero trailing bits (4 bytes)', 'mzxw6yr'],
  ])('rejects %s', (_what, text) => {
    expect(tryBase32Decode(text)).toBeUndefined();
    expect(() => base32Decode(text)).toThrow(ArgumentTypeError);
  });

  it('rejects non-string and non-bytes arguments', () => {
    expect(tryBase32Decode(42 as unknown as string)).toBeUndefined();
    expect(() => base32Encode('abc' as unknown as Uint8Array)).toThrow(ArgumentTypeError);
  });
});
