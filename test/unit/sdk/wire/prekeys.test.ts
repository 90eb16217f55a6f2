import { describe, expect, it } from 'vitest';
import { InvalidBundleError } from '#sdk/errors.ts';
import { ArgumentRangeError } from '#sdk/util/argument-errors.ts';
import { concatBytes } from '#sdk/util/bytes.ts';
import { LABELS } from '#sdk/wire/labels.ts';
import {
  assertPrekeyId,
  isPrekeyId,
  KEM_KIND_LAST_RESORT,
  KEM_KIND_ONE_TIME,
  kemPrekeyKind,
  kemPrekeyPayload,
  type PrekeyBundle,
  signedPrekeyPayload,
  validateKemPrekey,
  validateOneTimePrekey,
  validatePrekeyBundle,
  validateSignedPrekey,
} from '#sdk/wire/prekeys.ts';

const filled = (n: number, v: number) => new Uint8Array(n).fill(v);

const bundle: PrekeyBundle = {
  address: 'a'.repeat(32),
  deviceId: 1,
  identity: {
    accountPublic: filled(32, 1),
    signingPublic: filled(32, 2),
    dhPublic: filled(32, 3),
    deviceId: 1,
    linkEpoch: 0,
    linkSignature: filled(64, 4),
  },
  signedPrekey: { id: 5, publicKey: filled(32, 5), signature: filled(64, 5) },
  oneTimePrekey: { id: 6, publicKey: filled(32, 6) },
  kemPrekey: { id: 7, publicKey: filled(1568, 7), signature: filled(64, 7), lastResort: false },
};

describe('prekey ids', () => {
  it('accepts 1..=2^32-1 only', () => {
    for (const ok of [1, 2, 0xffffffff]) expect(isPrekeyId(ok)).toBe(true);
    for (const bad of [0, -1, 1.5, 2 ** 32, Number.NaN, '1', undefined]) {
      expect(isPrekeyId(bad)).toBe(false);
    }
    expect(() => assertPrekeyId(0, 'signedPrekeyId')).toThrow(/signedPrekeyId/);
    expect(() => assertPrekeyId(2 ** 32)).toThrow(ArgumentRangeError);
  });
});

describe('signature payloads', () => {
  it('signed prekey: LABELS.SIGNED_PREKEY || u32 id || public', () => {
    expect(signedPrekeyPayload(0x01020304, filled(32, 9))).toEqual(
      concatBytes(LABELS.SIGNED_PREKEY, new Uint8Array([1, 2, 3, 4]), filled(32, 9)),
    );
  });

  it('KEM prekey: LABELS.KEM_PREKEY || u8 kind || u32 id || public', () => {
    expect(KEM_KIND_ONE_TIME).toBe(1);
    expect(KEM_KIND_LAST_RESORT).toBe(2);
    expect(kemPrekeyPayload(KEM_KIND_LAST_RESORT, 0xa0b0c0d0, filled(1568, 8))).toEqual(
      concatBytes(LABELS.KEM_PREKEY, new Uint8Array([2, 0xa0, 0xb0, 0xc0, 0xd0]), filled(1568, 8)),
    );
    expect(kemPrekeyKind(true)).toBe(KEM_KIND_LAST_RESORT);
    expect(kemPrekeyKind(false)).toBe(KEM_KIND_ONE_TIME);
  });

  it('rejects bad ids, kinds and key sizes', () => {
    expect(() => signedPrekeyPayload(0, filled(32, 0))).toThrow(ArgumentRangeError);
    expect(() => signedPrekeyPayload(1, filled(33, 0))).toThrow(ArgumentRangeError);
    expect(() => kemPrekeyPayload(0, 1, filled(1568, 0))).toThrow(ArgumentRangeError);
    expect(() => kemPrekeyPayload(3, 1, filled(1568, 0))).toThrow(ArgumentRangeError);
    expect(() => kemPrekeyPayload(1, 0, filled(1568, 0))).toThrow(ArgumentRangeError);
    expect(() => kemPrekeyPayload(1, 1, filled(1184, 0))).toThrow(ArgumentRangeError);
  });
});

describe('structural validation', () => {
  it('accepts a well-formed bundle with and without a one-time prekey', () => {
    expect(validatePrekeyBundle(bundle)).toBe(bundle);
    const { oneTimePrekey: _omit, ...rest } = bundle;
    expect(validatePrekeyBundle(rest)).toBe(rest);
  });

  const broken: [string, unknown][] = [
    ['not an object', null],
    ['address', { ...bundle, address: 'A'.repeat(32) }],
    ['deviceId 0', { ...bundle, deviceId: 0 }],
    ['deviceId 2^32', { ...bundle, deviceId: 2 ** 32 }],
    ['deviceId fractional', { ...bundle, deviceId: 1.5 }],
    [
      'identity field size',
      { ...bundle, identity: { ...bundle.identity, dhPublic: filled(33, 0) } },
    ],
    ['identity missing', { ...bundle, identity: undefined }],
    ['signed prekey id 0', { ...bundle, signedPrekey: { ...bundle.signedPrekey, id: 0 } }],
    [
      'signed prekey key size',
      { ...bundle, signedPrekey: { ...bundle.signedPrekey, publicKey: filled(31, 0) } },
    ],
    [
      'signed prekey signature size',
      { ...bundle, signedPrekey: { ...bundle.signedPrekey, signature: filled(63, 0) } },
    ],
    ['one-time prekey id 0', { ...bundle, oneTimePrekey: { id: 0, publicKey: filled(32, 0) } }],
    ['one-time prekey key size', { ...bundle, oneTimePrekey: { id: 1, publicKey: filled(64, 0) } }],
    ['KEM prekey id 0', { ...bundle, kemPrekey: { ...bundle.kemPrekey, id: 0 } }],
    [
      'KEM prekey key size',
      { ...bundle, kemPrekey: { ...bundle.kemPrekey, publicKey: filled(1567, 0) } },
    ],
    [
      'KEM prekey signature size',
      { ...bundle, kemPrekey: { ...bundle.kemPrekey, signature: filled(65, 0) } },
    ],
    ['KEM prekey flag type', { ...bundle, kemPrekey: { ...bundle.kemPrekey, lastResort: 1 } }],
    ['KEM prekey missing', { ...bundle, kemPrekey: undefined }],
  ];
  it.each(broken)('rejects %s with InvalidBundleError', (_what, value) => {
    expect(() => validatePrekeyBundle(value)).toThrow(InvalidBundleError);
  });

  it('validates single uploaded prekeys and names the bad field', () => {
    expect(validateSignedPrekey(bundle.signedPrekey)).toBe(bundle.signedPrekey);
    expect(validateOneTimePrekey(bundle.oneTimePrekey)).toBe(bundle.oneTimePrekey);
    expect(validateKemPrekey(bundle.kemPrekey)).toBe(bundle.kemPrekey);
    expect(() => validateOneTimePrekey({ id: 3, publicKey: 'x' }, 'oneTimePrekeys[3]')).toThrow(
      'oneTimePrekeys[3].publicKey is invalid',
    );
  });
});
