/**
 * Wire form of identities and addresses (docs/PROTOCOL.md §1, PROTOCOL.md §1). Pure codecs
 * and signature-payload builders: no cryptography happens here, so the service can import this
 * module to validate and store identities without pulling in the SDK's crypto.
 */
import {
  ED25519_PUBLIC_BYTES,
  ED25519_SIGNATURE_BYTES,
  X25519_KEY_BYTES,
} from '../crypto/backend.ts';
import { MalformedEnvelopeError } from '../errors.ts';
import { base32Encode, tryBase32Decode } from '../util/base32.ts';
import { assertBytes, concatBytes } from '../util/bytes.ts';
import { LABELS } from './labels.ts';

/** Size of an encoded {@link IdentityBundle}: 32 + 32 + 32 + 64. */
export const IDENTITY_BUNDLE_BYTES = 160;
/** Raw address size: the first 20 bytes of SHA-256(LABELS.ADDRESS || accountPublic). */
export const ADDRESS_BYTES = 20;
/** Text address length: 20 bytes in unpadded base32 is exactly 32 characters. */
export const ADDRESS_LENGTH = 32;

/** Size of the digest an address is cut from (SHA-256). */
const ADDRESS_DIGEST_BYTES = 32;
const ADDRESS_PATTERN = /^[a-z2-7]{32}$/;

/**
 * A device's public identity (PROTOCOL.md §1): the account key, the device's Ed25519 signing key and
 * X25519 DH identity key, and the account key's signature linking the two device keys to it.
 */
export interface IdentityBundle {
  /** Ed25519 account public key (32); the address is derived from it. */
  readonly accountPublic: Uint8Array;
  /** Ed25519 device signing public key (32); signs prekeys. */
  readonly signingPublic: Uint8Array;
  /** X25519 device DH identity public key (32); IK in PQXDH. */
  readonly dhPublic: Uint8Array;
  /** Ed25519 signature (64) by the account key over {@link deviceLinkPayload}. */
  readonly linkSignature: Uint8Array;
}

/**
 * Encodes `accountPublic || signingPublic || dhPublic || linkSignature` (160 bytes).
 *
 * @example encodeIdentityBundle(bundle).length // 160
 * @throws {TypeError | RangeError} if a field is not a `Uint8Array` of its exact size.
 */
export function encodeIdentityBundle(bundle: IdentityBundle): Uint8Array {
  if (typeof bundle !== 'object' || bundle === null)
    throw new TypeError('bundle must be an object');
  assertBytes(bundle.accountPublic, 'accountPublic', ED25519_PUBLIC_BYTES);
  assertBytes(bundle.signingPublic, 'signingPublic', ED25519_PUBLIC_BYTES);
  assertBytes(bundle.dhPublic, 'dhPublic', X25519_KEY_BYTES);
  assertBytes(bundle.linkSignature, 'linkSignature', ED25519_SIGNATURE_BYTES);
  return concatBytes(
    bundle.accountPublic,
    bundle.signingPublic,
    bundle.dhPublic,
    bundle.linkSignature,
  );
}

/**
 * Strictly decodes a 160-byte identity bundle. Only the layout is checked; the link signature
 * and address are verified by `verifyIdentityBundle` (sdk/protocol/identity.ts).
 *
 * @example decodeIdentityBundle(encodeIdentityBundle(bundle))
 * @throws {TypeError} if `bytes` is not a `Uint8Array`.
 * @throws {MalformedEnvelopeError} if `bytes` is not exactly 160 bytes.
 */
export function decodeIdentityBundle(bytes: Uint8Array): IdentityBundle {
  assertBytes(bytes, 'bytes');
  if (bytes.length !== IDENTITY_BUNDLE_BYTES) {
    throw new MalformedEnvelopeError(`identity bundle must be ${IDENTITY_BUNDLE_BYTES} bytes`);
  }
  return {
    accountPublic: bytes.slice(0, 32),
    signingPublic: bytes.slice(32, 64),
    dhPublic: bytes.slice(64, 96),
    linkSignature: bytes.slice(96, 160),
  };
}

/**
 * The message the account key signs to link a device: `LABELS.DEVICE_LINK || signingPublic ||
 * dhPublic`. Binding both device keys in one signature means neither can be swapped alone.
 *
 * @example deviceLinkPayload(signingPublic, dhPublic)
 * @throws {TypeError | RangeError} if a key is not 32 bytes.
 */
export function deviceLinkPayload(signingPublic: Uint8Array, dhPublic: Uint8Array): Uint8Array {
  assertBytes(signingPublic, 'signingPublic', ED25519_PUBLIC_BYTES);
  assertBytes(dhPublic, 'dhPublic', X25519_KEY_BYTES);
  return concatBytes(LABELS.DEVICE_LINK, signingPublic, dhPublic);
}

/**
 * The SHA-256 input an address is derived from: `LABELS.ADDRESS || accountPublic`.
 *
 * @example addressFromDigest(sha256(addressPreimage(accountPublic)))
 * @throws {TypeError | RangeError} if `accountPublic` is not 32 bytes.
 */
export function addressPreimage(accountPublic: Uint8Array): Uint8Array {
  assertBytes(accountPublic, 'accountPublic', ED25519_PUBLIC_BYTES);
  return concatBytes(LABELS.ADDRESS, accountPublic);
}

/**
 * The text address from SHA-256 of {@link addressPreimage}: base32 (lower case, unpadded) of
 * the first 20 bytes. 160 bits keep second preimages out of reach (PROTOCOL.md §1).
 *
 * @example addressFromDigest(digest) // 32 characters of a-z2-7
 * @throws {TypeError | RangeError} if `digest` is not 32 bytes.
 */
export function addressFromDigest(digest: Uint8Array): string {
  assertBytes(digest, 'digest', ADDRESS_DIGEST_BYTES);
  return base32Encode(digest.subarray(0, ADDRESS_BYTES));
}

/**
 * True when `s` is a well-formed text address (32 characters of `a-z2-7`). Every such string
 * decodes to exactly 20 bytes with no unused bits, so the text form is canonical.
 *
 * @example isAddress('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa') // true
 */
export function isAddress(s: unknown): s is string {
  return typeof s === 'string' && ADDRESS_PATTERN.test(s);
}

/**
 * The 20 raw bytes of a text address (`addressBytes` on the wire).
 *
 * @example addressToBytes(address).length // 20
 * @throws {TypeError} if `address` is not a well-formed address.
 */
export function addressToBytes(address: string): Uint8Array {
  if (!isAddress(address)) throw new TypeError('address is not a valid address');
  const bytes = tryBase32Decode(address);
  if (bytes === undefined || bytes.length !== ADDRESS_BYTES) {
    throw new TypeError('address is not a valid address');
  }
  return bytes;
}

/**
 * The text address of 20 raw address bytes.
 *
 * @example addressFromBytes(addressToBytes(address)) === address
 * @throws {TypeError | RangeError} if `bytes` is not 20 bytes.
 */
export function addressFromBytes(bytes: Uint8Array): string {
  assertBytes(bytes, 'bytes', ADDRESS_BYTES);
  return base32Encode(bytes);
}
