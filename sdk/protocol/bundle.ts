/**
 * Prekey bundle verification (PROTOCOL.md §3, docs/PROTOCOL.md §3). A bundle comes from the
 * untrusted service: only the address the caller asked for is trusted. Every check runs before
 * any key in the bundle is used (PQXDH §3.3: "Alice verifies the prekey signatures and aborts
 * the protocol if verification fails").
 */
import type { CryptoBackend } from '../crypto/backend.ts';
import { InvalidBundleError, InvalidSignatureError, SealpostError } from '../errors.ts';
import { ArgumentTypeError } from '../util/argument-errors.ts';
import { isAddress } from '../wire/identity.ts';
import {
  kemPrekeyKind,
  kemPrekeyPayload,
  type PrekeyBundle,
  signedPrekeyPayload,
  validatePrekeyBundle,
} from '../wire/prekeys.ts';
import { verifyIdentityBundle } from './identity.ts';

declare const verifiedBundle: unique symbol;

/**
 * A bundle that passed {@link verifyBundle}: a private copy, so later changes to the object the
 * caller passed in cannot reach the keys that were checked. Only `verifyBundle` produces it,
 * so `pqxdhInitiate` cannot be handed an unchecked bundle by accident.
 */
export type VerifiedBundle = PrekeyBundle & { readonly [verifiedBundle]: true };

function signatureFailure(what: string): InvalidBundleError {
  return new InvalidBundleError(`${what} signature does not verify`, {
    cause: new InvalidSignatureError(),
  });
}

function copyBundle(b: PrekeyBundle): PrekeyBundle {
  const identity = {
    accountPublic: b.identity.accountPublic.slice(),
    signingPublic: b.identity.signingPublic.slice(),
    dhPublic: b.identity.dhPublic.slice(),
    deviceId: b.identity.deviceId,
    linkEpoch: b.identity.linkEpoch,
    linkSignature: b.identity.linkSignature.slice(),
  };
  const signedPrekey = {
    id: b.signedPrekey.id,
    publicKey: b.signedPrekey.publicKey.slice(),
    signature: b.signedPrekey.signature.slice(),
  };
  const kemPrekey = {
    id: b.kemPrekey.id,
    publicKey: b.kemPrekey.publicKey.slice(),
    signature: b.kemPrekey.signature.slice(),
    lastResort: b.kemPrekey.lastResort,
  };
  const base = { address: b.address, deviceId: b.deviceId, identity, signedPrekey, kemPrekey };
  return b.oneTimePrekey === undefined
    ? base
    : {
        ...base,
        oneTimePrekey: { id: b.oneTimePrekey.id, publicKey: b.oneTimePrekey.publicKey.slice() },
      };
}

/**
 * Verifies a prekey bundle for `expectedAddress`: structure (address form, device id, ids
 * non-zero u32, key and signature sizes), the address named in the bundle, the device id the
 * identity's link signature covers (must be the bundle's), the identity's
 * account key hashing to the address, the account's device link signature, the signed prekey
 * signature and the KEM prekey signature (over its kind, so the last-resort flag is
 * authenticated). Returns a verified private copy.
 *
 * @example const verified = await verifyBundle(backend, await api.fetchBundle(addr, 1), addr);
 * @throws {UntrustedIdentityError} if the identity's account key does not hash to `expectedAddress`.
 * @throws {InvalidBundleError} for anything else wrong; `cause` holds the underlying error.
 * @throws {ArgumentTypeError} if `expectedAddress` is not a valid address.
 */
export async function verifyBundle(
  backend: CryptoBackend,
  bundle: PrekeyBundle,
  expectedAddress: string,
): Promise<VerifiedBundle> {
  if (!isAddress(expectedAddress))
    throw new ArgumentTypeError('expectedAddress is not a valid address');
  validatePrekeyBundle(bundle);
  const b = copyBundle(bundle);
  if (b.address !== expectedAddress) {
    throw new InvalidBundleError('bundle is for a different address');
  }
  // docs/PROTOCOL.md §1.3: a link is valid only for the device id it was signed for.
  if (b.identity.deviceId !== b.deviceId) {
    throw new InvalidBundleError('identity is linked as another device id');
  }
  try {
    await verifyIdentityBundle(backend, b.identity, expectedAddress);
  } catch (cause) {
    if (cause instanceof SealpostError && cause.code === 'UNTRUSTED_IDENTITY') throw cause;
    throw new InvalidBundleError('identity does not verify', { cause });
  }
  const signer = b.identity.signingPublic;
  const spk = b.signedPrekey;
  const spkPayload = signedPrekeyPayload(spk.id, spk.publicKey);
  if (!(await backend.ed25519Verify(signer, spkPayload, spk.signature))) {
    throw signatureFailure('signed prekey');
  }
  const kem = b.kemPrekey;
  const kemPayload = kemPrekeyPayload(kemPrekeyKind(kem.lastResort), kem.id, kem.publicKey);
  if (!(await backend.ed25519Verify(signer, kemPayload, kem.signature))) {
    throw signatureFailure('KEM prekey');
  }
  return b as VerifiedBundle;
}
