import { sha256 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MalformedEnvelopeError } from '#sdk/errors.ts';
import { ArgumentRangeError, ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import { base32Encode } from '#sdk/util/base32.ts';
import { concatBytes } from '#sdk/util/bytes.ts';
import {
  ADDRESS_BYTES,
  ADDRESS_LENGTH,
  addressFromBytes,
  addressFromDigest,
  addressPreimage,
  addressToBytes,
  decodeIdentityBundle,
  deviceLinkPayload,
  encodeIdentityBundle,
  IDENTITY_BUNDLE_BYTES,
  type IdentityBundle,
  isAddress,
} from '#sdk/wire/identity.ts';
import { LABELS } from '#sdk/wire/labels.ts';

const filled = (n: number, v: number) => new Uint8Array(n).fill(v);
const sample: IdentityBundle = {
  accountPublic: filled(32, 1),
  signingPublic: filled(32, 2),
  dhPublic: filled(32, 3),
  deviceId: 5,
  linkEpoch: 2 ** 40 + 7,
  linkSignature: filled(64, 4),
};

describe('identity bundle codec', () => {
  it('lays out accountPublic || signingPublic || dhPublic || u32 deviceId || u64 linkEpoch || linkSignature', () => {
    const bytes = encodeIdentityBundle(sample);
    expect(IDENTITY_BUNDLE_BYTES).toBe(172);
    const link = new Uint8Array([0, 0, 0, 5, 0, 0, 1, 0, 0, 0, 0, 7]);
    expect(bytes).toEqual(
      concatBytes(filled(32, 1), filled(32, 2), filled(32, 3), link, filled(64, 4)),
    );
    expect(decodeIdentityBundle(bytes)).toEqual(sample);
  });

  it('round-trips arbitrary 172-byte inputs with a non-zero device id and a safe epoch', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 172, maxLength: 172 }),
        fc.integer({ min: 1, max: 0xffffffff }),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        (bytes, deviceId, epoch) => {
          const view = new DataView(bytes.buffer);
          view.setUint32(96, deviceId);
          view.setUint32(100, Math.floor(epoch / 2 ** 32));
          view.setUint32(104, epoch % 2 ** 32);
          expect(encodeIdentityBundle(decodeIdentityBundle(bytes))).toEqual(bytes);
        },
      ),
    );
  });

  it('rejects an epoch beyond 2^53 - 1 as malformed', () => {
    const bytes = encodeIdentityBundle(sample);
    bytes[100] = 0x00;
    bytes[101] = 0x20;
    expect(() => decodeIdentityBundle(bytes)).toThrow(MalformedEnvelopeError);
  });

  it('decodes into copies independent of the input buffer', () => {
    const bytes = encodeIdentityBundle(sample);
    const decoded = decodeIdentityBundle(bytes);
    bytes.fill(0);
    expect(decoded.accountPublic).toEqual(filled(32, 1));
  });

  it.each([0, 160, 171, 173, 344])('rejects %d bytes with MalformedEnvelopeError', (n) => {
    expect(() => decodeIdentityBundle(new Uint8Array(n))).toThrow(MalformedEnvelopeError);
  });

  it('rejects non-bytes input and wrong field sizes as argument errors', () => {
    expect(() => decodeIdentityBundle([1, 2] as unknown as Uint8Array)).toThrow(ArgumentTypeError);
    expect(() => encodeIdentityBundle({ ...sample, dhPublic: filled(31, 3) })).toThrow(
      ArgumentRangeError,
    );
    expect(() => encodeIdentityBundle({ ...sample, linkSignature: filled(65, 4) })).toThrow(
      ArgumentRangeError,
    );
    expect(() => encodeIdentityBundle(null as unknown as IdentityBundle)).toThrow(
      ArgumentTypeError,
    );
  });
});

describe('signature payloads', () => {
  it('deviceLinkPayload is LABELS.DEVICE_LINK || signingPublic || dhPublic || u32 id || u64 epoch', () => {
    expect(deviceLinkPayload(filled(32, 2), filled(32, 3), 0x01020304, 2 ** 32 + 5)).toEqual(
      concatBytes(
        new TextEncoder().encode('Sealpost-DeviceLink-v2'),
        filled(32, 2),
        filled(32, 3),
        new Uint8Array([1, 2, 3, 4, 0, 0, 0, 1, 0, 0, 0, 5]),
      ),
    );
    expect(() => deviceLinkPayload(filled(33, 2), filled(32, 3), 1, 0)).toThrow(ArgumentRangeError);
    expect(() => deviceLinkPayload(filled(32, 2), filled(32, 3), 0, 0)).toThrow(ArgumentRangeError);
    expect(() => deviceLinkPayload(filled(32, 2), filled(32, 3), 1, -1)).toThrow(
      ArgumentRangeError,
    );
  });

  it('encodes device id and epoch at bytes 96..108 and refuses device id 0 on decode', () => {
    const bytes = encodeIdentityBundle(sample);
    expect(bytes.length).toBe(172);
    expect([...bytes.subarray(96, 108)]).toEqual([0, 0, 0, 5, 0, 0, 1, 0, 0, 0, 0, 7]);
    expect(decodeIdentityBundle(bytes)).toEqual(sample);
    bytes.fill(0, 96, 100);
    expect(() => decodeIdentityBundle(bytes)).toThrow(MalformedEnvelopeError);
  });

  it('addressPreimage is LABELS.ADDRESS || accountPublic', () => {
    expect(addressPreimage(filled(32, 9))).toEqual(concatBytes(LABELS.ADDRESS, filled(32, 9)));
    expect(() => addressPreimage(filled(31, 9))).toThrow(ArgumentRangeError);
  });
});

describe('addresses', () => {
  it('is base32 of the first 20 digest bytes (32 characters)', () => {
    const digest = sha256(addressPreimage(filled(32, 7)));
    const addr = addressFromDigest(digest);
    expect(addr).toHaveLength(ADDRESS_LENGTH);
    expect(addr).toBe(base32Encode(digest.subarray(0, 20)));
    const tail = digest.slice();
    tail[31]! ^= 1;
    expect(addressFromDigest(tail)).toBe(addr);
    const head = digest.slice();
    head[19]! ^= 1;
    expect(addressFromDigest(head)).not.toBe(addr);
  });

  it('round-trips between text and the 20 raw bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), (bytes) => {
        const addr = addressFromBytes(bytes);
        expect(isAddress(addr)).toBe(true);
        expect(addressToBytes(addr)).toEqual(bytes);
      }),
    );
    expect(addressToBytes(addressFromBytes(filled(ADDRESS_BYTES, 0xab)))).toEqual(filled(20, 0xab));
  });

  it.each([
    ['31 characters', 'a'.repeat(31)],
    ['33 characters', 'a'.repeat(33)],
    ['upper case', 'A'.repeat(32)],
    ['a digit outside the alphabet', `${'a'.repeat(31)}1`],
    ['padding', `${'a'.repeat(31)}=`],
    ['empty', ''],
  ])('rejects %s', (_what, text) => {
    expect(isAddress(text)).toBe(false);
    expect(() => addressToBytes(text)).toThrow(ArgumentTypeError);
  });

  it('rejects non-strings and wrong raw sizes', () => {
    expect(isAddress(undefined)).toBe(false);
    expect(isAddress(12)).toBe(false);
    expect(() => addressFromBytes(filled(19, 0))).toThrow(ArgumentRangeError);
    expect(() => addressFromDigest(filled(20, 0))).toThrow(ArgumentRangeError);
  });
});
