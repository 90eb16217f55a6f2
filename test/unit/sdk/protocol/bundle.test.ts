import { describe, expect, it } from 'vitest';
import { defaultBackend } from '#sdk/crypto/index.ts';
import { InvalidBundleError, InvalidSignatureError, UntrustedIdentityError } from '#sdk/errors.ts';
import { verifyBundle } from '#sdk/protocol/bundle.ts';
import { ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import type { PrekeyBundle } from '#sdk/wire/prekeys.ts';
import { makeDevice } from './device-fixtures.ts';

const backend = defaultBackend;

const good = (await makeDevice()).unverifiedBundle(true);
const other = (await makeDevice()).unverifiedBundle(true);

function flip(bytes: Uint8Array, index = 0): Uint8Array {
  const out = bytes.slice();
  out[index]! ^= 0x01;
  return out;
}

async function rejection(bundle: PrekeyBundle, expected = good.address): Promise<unknown> {
  return verifyBundle(backend, bundle, expected).then(
    () => expect.unreachable('bundle was accepted'),
    (e: unknown) => e,
  );
}

describe('verifyBundle', () => {
  it('accepts a genuine bundle and returns a private copy', async () => {
    const copy = structuredClone(good);
    const verified = await verifyBundle(backend, copy, good.address);
    expect(verified).toEqual(good);
    copy.signedPrekey.publicKey.fill(0);
    copy.kemPrekey.publicKey.fill(0);
    expect(verified.signedPrekey.publicKey).toEqual(good.signedPrekey.publicKey);
    expect(verified.kemPrekey.publicKey).toEqual(good.kemPrekey.publicKey);
  });

  it('accepts a bundle without a one-time prekey and with a last-resort KEM prekey', async () => {
    const bundle = (await makeDevice()).unverifiedBundle(false, true);
    const verified = await verifyBundle(backend, bundle, bundle.address);
    expect(verified.oneTimePrekey).toBeUndefined();
    expect(verified.kemPrekey.lastResort).toBe(true);
  });

  it('rejects an identity that does not hash to the expected address', async () => {
    // The service answers with another account's (fully valid) bundle under our address.
    const err = await rejection({ ...other, address: good.address });
    expect(err).toBeInstanceOf(UntrustedIdentityError);
  });

  it('rejects a bundle that names another address', async () => {
    expect(await rejection(good, other.address)).toBeInstanceOf(InvalidBundleError);
  });

  const tampered: [string, (b: PrekeyBundle) => PrekeyBundle][] = [
    [
      'link signature',
      (b) => ({ ...b, identity: { ...b.identity, linkSignature: flip(b.identity.linkSignature) } }),
    ],
    [
      'device DH key',
      (b) => ({ ...b, identity: { ...b.identity, dhPublic: flip(b.identity.dhPublic) } }),
    ],
    [
      'device signing key',
      (b) => ({ ...b, identity: { ...b.identity, signingPublic: flip(b.identity.signingPublic) } }),
    ],
    [
      'signed prekey signature',
      (b) => ({
        ...b,
        signedPrekey: { ...b.signedPrekey, signature: flip(b.signedPrekey.signature, 5) },
      }),
    ],
    [
      'signed prekey public key',
      (b) => ({
        ...b,
        signedPrekey: { ...b.signedPrekey, publicKey: flip(b.signedPrekey.publicKey) },
      }),
    ],
    [
      'signed prekey id',
      (b) => ({ ...b, signedPrekey: { ...b.signedPrekey, id: b.signedPrekey.id + 1 } }),
    ],
    [
      'KEM prekey signature',
      (b) => ({ ...b, kemPrekey: { ...b.kemPrekey, signature: flip(b.kemPrekey.signature, 40) } }),
    ],
    [
      'KEM prekey public key',
      (b) => ({
        ...b,
        kemPrekey: { ...b.kemPrekey, publicKey: flip(b.kemPrekey.publicKey, 1000) },
      }),
    ],
    ['KEM prekey id', (b) => ({ ...b, kemPrekey: { ...b.kemPrekey, id: b.kemPrekey.id + 1 } })],
    [
      'KEM prekey kind (one-time shown as last resort)',
      (b) => ({ ...b, kemPrekey: { ...b.kemPrekey, lastResort: true } }),
    ],
    [
      'signed prekey replaced by another device’s',
      (b) => ({ ...b, signedPrekey: other.signedPrekey }),
    ],
    ['KEM prekey replaced by another device’s', (b) => ({ ...b, kemPrekey: other.kemPrekey })],
  ];
  it.each(tampered)(
    'rejects a tampered %s with InvalidBundleError (signature cause)',
    async (_w, edit) => {
      const err = await rejection(edit(good));
      expect(err).toBeInstanceOf(InvalidBundleError);
      expect((err as InvalidBundleError).cause).toBeInstanceOf(InvalidSignatureError);
    },
  );

  const malformed: [string, (b: PrekeyBundle) => unknown][] = [
    ['signed prekey id 0', (b) => ({ ...b, signedPrekey: { ...b.signedPrekey, id: 0 } })],
    [
      'one-time prekey id 0',
      (b) => ({ ...b, oneTimePrekey: { id: 0, publicKey: b.oneTimePrekey!.publicKey } }),
    ],
    ['KEM prekey id 0', (b) => ({ ...b, kemPrekey: { ...b.kemPrekey, id: 0 } })],
    ['device id 0', (b) => ({ ...b, deviceId: 0 })],
    [
      'signed prekey id above u32',
      (b) => ({ ...b, signedPrekey: { ...b.signedPrekey, id: 2 ** 32 } }),
    ],
    [
      'short signed prekey',
      (b) => ({
        ...b,
        signedPrekey: { ...b.signedPrekey, publicKey: b.signedPrekey.publicKey.subarray(1) },
      }),
    ],
    [
      'short one-time prekey',
      (b) => ({ ...b, oneTimePrekey: { id: 2, publicKey: new Uint8Array(31) } }),
    ],
    [
      'long KEM prekey',
      (b) => ({ ...b, kemPrekey: { ...b.kemPrekey, publicKey: new Uint8Array(1569) } }),
    ],
    [
      'short KEM signature',
      (b) => ({
        ...b,
        kemPrekey: { ...b.kemPrekey, signature: b.kemPrekey.signature.subarray(1) },
      }),
    ],
    [
      'long identity key',
      (b) => ({ ...b, identity: { ...b.identity, accountPublic: new Uint8Array(33) } }),
    ],
    ['malformed address', (b) => ({ ...b, address: b.address.toUpperCase() })],
  ];
  it.each(malformed)('rejects a bundle with %s', async (_w, edit) => {
    expect(await rejection(edit(good) as PrekeyBundle)).toBeInstanceOf(InvalidBundleError);
  });

  it('rejects a malformed expected address as an argument error', async () => {
    await expect(verifyBundle(backend, good, 'nope')).rejects.toThrow(ArgumentTypeError);
  });
});
