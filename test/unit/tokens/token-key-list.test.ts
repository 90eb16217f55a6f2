/**
 * The token key list codec (`sdk/wire/token-keys.ts`, docs/PROTOCOL.md §13): the layout byte for
 * byte, the signed payload, round trips, and strict decoding with the SDK's error classes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MalformedEnvelopeError, UnsupportedVersionError } from '#sdk/errors.ts';
import { ArgumentRangeError, ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import { concatBytes, fromHex } from '#sdk/util/bytes.ts';
import { LABELS } from '#sdk/wire/labels.ts';
import {
  decodeTokenKeyList,
  encodeTokenKeyList,
  MAX_TOKEN_KEY_LIST_BYTES,
  MAX_TOKEN_KEYS,
  type TokenKeyList,
  tokenKeyListPayload,
} from '#sdk/wire/token-keys.ts';

const signature = new Uint8Array(64).fill(0x5a);
const list: TokenKeyList = {
  issuedAt: 0x0102_0304_0506,
  issuerName: 'api.example',
  keys: [
    { day: 20_000, notAfter: 0x0a0b_0c0d_0e0f, publicKey: new Uint8Array([1, 2, 3]) },
    { day: 20_001, notAfter: 1, publicKey: new Uint8Array(300).fill(7) },
  ],
  signature,
};

describe('token key list codec', () => {
  it('encodes the layout byte for byte and signs everything before the signature', () => {
    const bytes = encodeTokenKeyList(list);
    const expected = concatBytes(
      fromHex('01'),
      fromHex('0000010203040506'),
      fromHex('0b'),
      new TextEncoder().encode('api.example'),
      fromHex('02'),
      fromHex('00004e20'),
      fromHex('00000a0b0c0d0e0f'),
      fromHex('0003010203'),
      fromHex('00004e21'),
      fromHex('0000000000000001'),
      fromHex('012c'),
      new Uint8Array(300).fill(7),
      signature,
    );
    expect(bytes).toEqual(expected);
    expect(tokenKeyListPayload(list)).toEqual(
      concatBytes(LABELS.TOKEN_KEYS, expected.subarray(0, expected.length - 64)),
    );
    expect(decodeTokenKeyList(bytes)).toEqual(list);
  });

  it('round-trips generated lists', () => {
    const key = fc.record({
      notAfter: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
      publicKey: fc.uint8Array({ minLength: 1, maxLength: 600 }),
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.stringMatching(/^[\x21-\x7e]{1,40}$/),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.array(key, { maxLength: MAX_TOKEN_KEYS }),
        (issuedAt, issuerName, firstDay, keys) => {
          const l: TokenKeyList = {
            issuedAt,
            issuerName,
            keys: keys.map((k, i) => ({ ...k, day: firstDay + 2 * i })),
            signature,
          };
          const bytes = encodeTokenKeyList(l);
          expect(bytes.length).toBeLessThanOrEqual(MAX_TOKEN_KEY_LIST_BYTES);
          expect(decodeTokenKeyList(bytes)).toEqual(l);
        },
      ),
    );
  });

  it('refuses bad fields when encoding', () => {
    const bad = (change: Partial<TokenKeyList>) => () => encodeTokenKeyList({ ...list, ...change });
    expect(bad({ issuedAt: -1 })).toThrow(ArgumentRangeError);
    expect(bad({ issuerName: '' })).toThrow(ArgumentRangeError);
    expect(bad({ issuerName: 'has space' })).toThrow(ArgumentRangeError);
    expect(bad({ issuerName: 'x'.repeat(256) })).toThrow(ArgumentRangeError);
    expect(bad({ issuerName: 7 as unknown as string })).toThrow(ArgumentTypeError);
    expect(bad({ keys: 'x' as unknown as [] })).toThrow(ArgumentTypeError);
    expect(bad({ keys: [list.keys[1]!, list.keys[0]!] })).toThrow(ArgumentRangeError);
    expect(bad({ keys: [list.keys[0]!, list.keys[0]!] })).toThrow(ArgumentRangeError);
    expect(bad({ keys: [{ ...list.keys[0]!, publicKey: new Uint8Array(0) }] })).toThrow(
      ArgumentRangeError,
    );
    expect(bad({ keys: [{ ...list.keys[0]!, day: 2 ** 32 }] })).toThrow(ArgumentRangeError);
    const many = Array.from({ length: MAX_TOKEN_KEYS + 1 }, (_, i) => ({
      ...list.keys[0]!,
      day: i,
    }));
    expect(bad({ keys: many })).toThrow(ArgumentRangeError);
    expect(bad({ signature: new Uint8Array(63) })).toThrow(ArgumentRangeError);
  });

  it('decodes strictly', () => {
    const bytes = encodeTokenKeyList(list);
    const v2 = bytes.slice();
    v2[0] = 2;
    expect(() => decodeTokenKeyList(v2)).toThrow(UnsupportedVersionError);
    expect(() => decodeTokenKeyList(bytes.subarray(0, bytes.length - 1))).toThrow(
      MalformedEnvelopeError,
    );
    expect(() => decodeTokenKeyList(concatBytes(bytes, new Uint8Array(1)))).toThrow(
      MalformedEnvelopeError,
    );
    // Issuer name with a space (offset 10 is its first byte).
    const spaced = bytes.slice();
    spaced[10] = 0x20;
    expect(() => decodeTokenKeyList(spaced)).toThrow(MalformedEnvelopeError);
    // Second key's day set to the first's: out of order.
    const sameDay = bytes.slice();
    const secondDayAt = 1 + 8 + 1 + 11 + 1 + 4 + 8 + 2 + 3;
    sameDay.set(fromHex('00004e20'), secondDayAt);
    expect(() => decodeTokenKeyList(sameDay)).toThrow(MalformedEnvelopeError);
    // A count above the maximum.
    const tooMany = bytes.slice();
    tooMany[1 + 8 + 1 + 11] = MAX_TOKEN_KEYS + 1;
    expect(() => decodeTokenKeyList(tooMany)).toThrow(MalformedEnvelopeError);
    expect(() => decodeTokenKeyList(new Uint8Array(MAX_TOKEN_KEY_LIST_BYTES + 1))).toThrow(
      MalformedEnvelopeError,
    );
    // Random bytes: only the codec's own errors.
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), (b) => {
        try {
          decodeTokenKeyList(b);
        } catch (e) {
          expect(e instanceof MalformedEnvelopeError || e instanceof UnsupportedVersionError).toBe(
            true,
          );
        }
      }),
    );
  });
});
