import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { defaultBackend, systemRng } from '#sdk/crypto/index.ts';
import {
  InvalidSignatureError,
  StateCorruptError,
  UnsupportedVersionError,
  UntrustedIdentityError,
} from '#sdk/errors.ts';
import {
  address,
  decodeLocalIdentity,
  encodeLocalIdentity,
  generateAccountKey,
  generateDeviceIdentity,
  relinkLocalIdentity,
  signDeviceLink,
  verifyIdentityBundle,
} from '#sdk/protocol/identity.ts';
import { ArgumentRangeError, ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import { base32Encode } from '#sdk/util/base32.ts';
import { concatBytes } from '#sdk/util/bytes.ts';
import { deviceLinkPayload, encodeIdentityBundle } from '#sdk/wire/identity.ts';
import { LABELS } from '#sdk/wire/labels.ts';

const backend = defaultBackend;

/** Replays the given byte strings, in order, as rng output. */
function queueRng(...values: Uint8Array[]) {
  return (n: number) => {
    const next = values.shift();
    if (!next || next.length !== n) throw new Error('unexpected rng draw');
    return next.slice();
  };
}

describe('account keys and addresses', () => {
  it('derives the account key from 32 rng bytes', async () => {
    const seed = new Uint8Array(32).fill(0x11);
    const account = await generateAccountKey(backend, queueRng(seed));
    expect(account.seed).toEqual(seed);
    expect(account.publicKey).toEqual(ed25519.getPublicKey(seed));
  });

  it('address = base32lower(SHA-256(LABELS.ADDRESS || accountPublic)[0..20])', async () => {
    const account = await generateAccountKey(backend, systemRng);
    const digest = sha256(
      concatBytes(new TextEncoder().encode('Sealpost-Address-v1'), account.publicKey),
    );
    const expected = base32Encode(digest.subarray(0, 20));
    expect(address(backend, account.publicKey)).toBe(expected);
    expect(expected).toMatch(/^[a-z2-7]{32}$/);
  });

  it('gives different accounts different addresses', async () => {
    const a = await generateAccountKey(backend, systemRng);
    const b = await generateAccountKey(backend, systemRng);
    expect(address(backend, a.publicKey)).not.toBe(address(backend, b.publicKey));
  });
});

describe('device identities', () => {
  it('links signing and DH keys drawn in that order under the account key', async () => {
    const account = await generateAccountKey(backend, systemRng);
    const signingSeed = new Uint8Array(32).fill(0x22);
    const dhPrivate = new Uint8Array(32).fill(0x33);
    const me = await generateDeviceIdentity(backend, queueRng(signingSeed, dhPrivate), account);
    expect(me.signingSeed).toEqual(signingSeed);
    expect(me.dhPrivate).toEqual(dhPrivate);
    expect(me.accountSeed).toBeUndefined();
    expect(me.bundle.accountPublic).toEqual(account.publicKey);
    expect(me.bundle.signingPublic).toEqual(ed25519.getPublicKey(signingSeed));
    expect(me.bundle.dhPublic).toEqual(await backend.x25519PublicKey(dhPrivate));
    expect([me.bundle.deviceId, me.bundle.linkEpoch]).toEqual([1, 0]);
    const link = new Uint8Array(12);
    link[3] = 1;
    const payload = concatBytes(
      LABELS.DEVICE_LINK,
      me.bundle.signingPublic,
      me.bundle.dhPublic,
      link,
    );
    expect(ed25519.verify(me.bundle.linkSignature, payload, account.publicKey)).toBe(true);
    expect(await verifyIdentityBundle(backend, me.bundle)).toBe(
      address(backend, account.publicKey),
    );
  });

  it('retains the account seed only when asked', async () => {
    const account = await generateAccountKey(backend, systemRng);
    const me = await generateDeviceIdentity(backend, systemRng, account, {
      retainAccountSeed: true,
    });
    expect(me.accountSeed).toEqual(account.seed);
  });

  it('refuses an account whose public key does not match its seed', async () => {
    const a = await generateAccountKey(backend, systemRng);
    const b = await generateAccountKey(backend, systemRng);
    await expect(
      generateDeviceIdentity(backend, systemRng, { seed: a.seed, publicKey: b.publicKey }),
    ).rejects.toThrow(ArgumentRangeError);
  });

  it('lets a primary device link keys generated elsewhere', async () => {
    const account = await generateAccountKey(backend, systemRng);
    const other = await generateDeviceIdentity(backend, systemRng, account);
    const sig = await signDeviceLink(
      backend,
      account.seed,
      other.bundle.signingPublic,
      other.bundle.dhPublic,
      { deviceId: 1, linkEpoch: 0 },
    );
    expect(sig).toEqual(other.bundle.linkSignature);
  });

  it('re-links the same keys as another device id and epoch, and the signature covers both', async () => {
    const account = await generateAccountKey(backend, systemRng);
    const me = await generateDeviceIdentity(backend, systemRng, account);
    const addr = address(backend, account.publicKey);
    const relinked = await relinkLocalIdentity(backend, me, account.seed, {
      deviceId: 3,
      linkEpoch: 1_700_000_000_000,
    });
    expect(relinked.bundle.dhPublic).toEqual(me.bundle.dhPublic);
    expect([relinked.bundle.deviceId, relinked.bundle.linkEpoch]).toEqual([3, 1_700_000_000_000]);
    await expect(verifyIdentityBundle(backend, relinked.bundle, addr)).resolves.toBe(addr);
    // The old signature does not carry over to another device id or epoch.
    const moved = { ...relinked.bundle, deviceId: 4 };
    await expect(verifyIdentityBundle(backend, moved, addr)).rejects.toThrow(InvalidSignatureError);
    const older = { ...relinked.bundle, linkEpoch: 1 };
    await expect(verifyIdentityBundle(backend, older, addr)).rejects.toThrow(InvalidSignatureError);
    const stranger = await generateAccountKey(backend, systemRng);
    await expect(
      relinkLocalIdentity(backend, me, stranger.seed, { deviceId: 2, linkEpoch: 1 }),
    ).rejects.toThrow(ArgumentRangeError);
  });
});

describe('verifyIdentityBundle', () => {
  async function fixture() {
    const account = await generateAccountKey(backend, systemRng);
    const me = await generateDeviceIdentity(backend, systemRng, account);
    return { account, me, addr: address(backend, account.publicKey) };
  }

  it('accepts the identity for its own address', async () => {
    const { me, addr } = await fixture();
    await expect(verifyIdentityBundle(backend, me.bundle, addr)).resolves.toBe(addr);
  });

  it('rejects an identity that does not hash to the expected address', async () => {
    const { me } = await fixture();
    const other = await fixture();
    const err = await verifyIdentityBundle(backend, me.bundle, other.addr).catch((e) => e);
    expect(err).toBeInstanceOf(UntrustedIdentityError);
    expect(err.address).toBe(other.addr);
  });

  it.each([
    ['link signature', 'linkSignature'],
    ['DH key', 'dhPublic'],
    ['signing key', 'signingPublic'],
  ] as const)('rejects a tampered %s', async (_what, field) => {
    const { me, addr } = await fixture();
    const tampered = { ...me.bundle, [field]: me.bundle[field].slice() };
    tampered[field][0]! ^= 1;
    await expect(verifyIdentityBundle(backend, tampered, addr)).rejects.toThrow(
      InvalidSignatureError,
    );
  });

  it('rejects device keys linked by another account (address checked first)', async () => {
    const { me, addr } = await fixture();
    const mallory = await generateAccountKey(backend, systemRng);
    const linkSignature = await backend.ed25519Sign(
      mallory.seed,
      deviceLinkPayload(
        me.bundle.signingPublic,
        me.bundle.dhPublic,
        me.bundle.deviceId,
        me.bundle.linkEpoch,
      ),
    );
    const forged = { ...me.bundle, linkSignature };
    await expect(verifyIdentityBundle(backend, forged, addr)).rejects.toThrow(
      InvalidSignatureError,
    );
    const claimed = { ...forged, accountPublic: mallory.publicKey };
    await expect(verifyIdentityBundle(backend, claimed, addr)).rejects.toThrow(
      UntrustedIdentityError,
    );
  });

  it('rejects malformed arguments', async () => {
    const { me } = await fixture();
    await expect(verifyIdentityBundle(backend, me.bundle, 'not-an-address')).rejects.toThrow(
      ArgumentTypeError,
    );
    await expect(
      verifyIdentityBundle(backend, { ...me.bundle, dhPublic: new Uint8Array(31) }),
    ).rejects.toThrow(ArgumentRangeError);
  });
});

describe('local identity record', () => {
  it('round-trips with and without the account seed', async () => {
    const account = await generateAccountKey(backend, systemRng);
    for (const retainAccountSeed of [false, true]) {
      const me = await generateDeviceIdentity(backend, systemRng, account, { retainAccountSeed });
      const record = encodeLocalIdentity(me);
      expect(record.length).toBe(retainAccountSeed ? 270 : 238);
      expect(record[0]).toBe(2);
      expect(record[1]).toBe(retainAccountSeed ? 1 : 0);
      expect(record.subarray(2, 174)).toEqual(encodeIdentityBundle(me.bundle));
      expect(decodeLocalIdentity(record)).toEqual(me);
    }
  });

  it('rejects unknown versions, flags, truncation and trailing bytes', async () => {
    const account = await generateAccountKey(backend, systemRng);
    const record = encodeLocalIdentity(await generateDeviceIdentity(backend, systemRng, account));
    const v2 = record.slice();
    v2[0] = 1;
    expect(() => decodeLocalIdentity(v2)).toThrow(UnsupportedVersionError);
    const flags = record.slice();
    flags[1] = 2;
    expect(() => decodeLocalIdentity(flags)).toThrow(StateCorruptError);
    const seedFlagWithoutSeed = record.slice();
    seedFlagWithoutSeed[1] = 1;
    expect(() => decodeLocalIdentity(seedFlagWithoutSeed)).toThrow(StateCorruptError);
    expect(() => decodeLocalIdentity(record.subarray(0, 237))).toThrow(StateCorruptError);
    expect(() => decodeLocalIdentity(concatBytes(record, new Uint8Array(1)))).toThrow(
      StateCorruptError,
    );
    expect(() => decodeLocalIdentity(new Uint8Array(0))).toThrow(StateCorruptError);
  });
});
