/**
 * The revocation list codec (`sdk/wire/revocations.ts`, docs/SERVICE.md §14.6): the layout byte
 * for byte, the signed payload, round trips of generated lists, and strict decoding (version,
 * length, count, repeated addresses) with the SDK's error classes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MalformedEnvelopeError, UnsupportedVersionError } from '#sdk/errors.ts';
import { ArgumentRangeError, ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import { concatBytes, fromHex } from '#sdk/util/bytes.ts';
import { addressFromBytes, addressToBytes } from '#sdk/wire/identity.ts';
import { LABELS } from '#sdk/wire/labels.ts';
import {
  decodeRevocationList,
  encodeRevocationList,
  MAX_REVOCATION_LIST_BYTES,
  MAX_REVOCATIONS,
  REVOCATION_ENTRY_BYTES,
  type RevocationList,
  revocationListPayload,
} from '#sdk/wire/revocations.ts';

const A = 'aebagbafaydqqcikbmga2dqpcaireeyu';
const B = 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzq';
const signature = new Uint8Array(64).fill(0x5a);

const base32Char = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz234567');
/** A canonical address: 32 characters whose last one carries no trailing bits. */
const address = fc
  .tuple(fc.array(base32Char, { minLength: 31, maxLength: 31 }), fc.constantFrom(...'aq'))
  .map(([head, last]) => head.join('') + last);
const time = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });

describe('revocation list codec', () => {
  it('encodes the layout byte for byte', () => {
    const list: RevocationList = {
      issuedAt: 0x0102_0304_0506,
      revocations: [
        { address: A, suspendedAt: 0x0a0b_0c0d_0e0f },
        { address: B, suspendedAt: 1 },
      ],
      signature,
    };
    const bytes = encodeRevocationList(list);
    expect(bytes).toEqual(
      concatBytes(
        fromHex('01' + '0000010203040506' + '0002'),
        addressToBytes(A),
        fromHex('00000a0b0c0d0e0f'),
        addressToBytes(B),
        fromHex('0000000000000001'),
        signature,
      ),
    );
    expect(bytes.length).toBe(11 + 2 * REVOCATION_ENTRY_BYTES + 64);
    expect(revocationListPayload(list)).toEqual(
      concatBytes(LABELS.REVOCATIONS, bytes.subarray(0, bytes.length - 64)),
    );
    expect(new TextDecoder().decode(LABELS.REVOCATIONS)).toBe('Sealpost-Revocations-v1');
    expect(decodeRevocationList(bytes)).toEqual(list);
  });

  it('round-trips generated lists, and the largest one fits its bound', () => {
    fc.assert(
      fc.property(
        time,
        fc.uniqueArray(fc.record({ address, suspendedAt: time }), {
          maxLength: 40,
          selector: (r) => r.address,
        }),
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        (issuedAt, revocations, sig) => {
          const list = { issuedAt, revocations, signature: sig };
          expect(decodeRevocationList(encodeRevocationList(list))).toEqual(list);
        },
      ),
    );
    const full = Array.from({ length: MAX_REVOCATIONS }, (_, i) => {
      const raw = new Uint8Array(20);
      new DataView(raw.buffer).setUint32(16, i);
      return { address: addressFromBytes(raw), suspendedAt: i };
    });
    const bytes = encodeRevocationList({ issuedAt: 1, revocations: full, signature });
    expect(bytes.length).toBe(MAX_REVOCATION_LIST_BYTES);
    expect(decodeRevocationList(bytes).revocations).toEqual(full);
    expect(MAX_REVOCATION_LIST_BYTES).toBe(11 + 1000 * 28 + 64);
  });

  it('refuses another version, a wrong length, too many entries and a repeated address', () => {
    const good = encodeRevocationList({
      issuedAt: 5,
      revocations: [{ address: A, suspendedAt: 1 }],
      signature,
    });
    const version = good.slice();
    version[0] = 2;
    expect(() => decodeRevocationList(version)).toThrow(UnsupportedVersionError);
    expect(() => decodeRevocationList(good.subarray(0, good.length - 1))).toThrow(
      MalformedEnvelopeError,
    );
    expect(() => decodeRevocationList(concatBytes(good, new Uint8Array(1)))).toThrow(
      MalformedEnvelopeError,
    );
    const countUp = good.slice();
    countUp[10] = 2; // claims two entries, holds one
    expect(() => decodeRevocationList(countUp)).toThrow(MalformedEnvelopeError);
    const tooMany = concatBytes(fromHex('01' + '0000000000000000' + '03e9'), signature);
    expect(() => decodeRevocationList(tooMany)).toThrow('too long');
    const entry = concatBytes(addressToBytes(A), fromHex('0000000000000001'));
    const twice = concatBytes(fromHex('01' + '0000000000000000' + '0002'), entry, entry, signature);
    expect(() => decodeRevocationList(twice)).toThrow('repeats an address');
    const hugeTime = concatBytes(fromHex('01' + 'ffffffffffffffff' + '0000'), signature);
    expect(() => decodeRevocationList(hugeTime)).toThrow(MalformedEnvelopeError);
  });

  it('refuses to encode what it could not decode', () => {
    const entry = { address: A, suspendedAt: 1 };
    expect(() =>
      encodeRevocationList({ issuedAt: 1, revocations: [entry, entry], signature }),
    ).toThrow(ArgumentRangeError);
    expect(() =>
      encodeRevocationList({
        issuedAt: 1,
        revocations: Array.from({ length: 1001 }, () => entry),
        signature,
      }),
    ).toThrow(ArgumentRangeError);
    expect(() => encodeRevocationList({ issuedAt: -1, revocations: [], signature })).toThrow(
      ArgumentRangeError,
    );
    expect(() =>
      encodeRevocationList({
        issuedAt: 1,
        revocations: [{ address: A, suspendedAt: 0.5 }],
        signature,
      }),
    ).toThrow(ArgumentRangeError);
    expect(() =>
      encodeRevocationList({
        issuedAt: 1,
        revocations: [{ address: 'nope', suspendedAt: 1 }],
        signature,
      }),
    ).toThrow(ArgumentTypeError);
    expect(() =>
      encodeRevocationList({ issuedAt: 1, revocations: [], signature: new Uint8Array(63) }),
    ).toThrow();
  });
});
