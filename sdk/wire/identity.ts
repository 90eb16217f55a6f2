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
import { ArgumentRangeError, ArgumentTypeError } from '../util/argument-errors.ts';
import { base32Encode, tryBase32Decode } from '../util/base32.ts';
import { assertBytes, ByteWriter, concatBytes, isU32, readU32be } from '../util/bytes.ts';
import type { IdentityBundle } from './identity-bundle.ts';
import { LABELS } from './labels.ts';

export type { IdentityBundle } from './identity-bundle.ts';

/** Size of an encoded {@link IdentityBundle} (version 2): 32 + 32 + 32 + 4 + 8 + 64. */
export const IDENTITY_BUNDLE_BYTES = 172;
/** Largest link epoch: a u64 on the wire, limited to what a JS number holds exactly. */
export const MAX_LINK_EPOCH = Number.MAX_SAFE_INTEGER;
/** Raw address size: the first 20 bytes of SHA-256(LABELS.ADDRESS || accountPublic). */
export const ADDRESS_BYTES = 20;
/** Text address length: 20 bytes in unpadded base32 is exactly 32 characters. */
export const ADDRESS_LENGTH = 32;

/** Size of the digest an address is cut from (SHA-256). */
const ADDRESS_DIGEST_BYTES = 32;
const ADDRESS_PATTERN = /^[a-z2-7]{32}$/;

function assertLinkFields(deviceId: number, linkEpoch: number): void {
  if (!isU32(deviceId) || deviceId === 0)
    throw new ArgumentRangeError('deviceId must be a u32 other than 0');
  if (!Number.isSafeInteger(linkEpoch) || linkEpoch < 0)
    throw new ArgumentRangeError('linkEpoch must be a non-negative safe integer');
}

/**
 * Encodes `accountPublic || signingPublic || dhPublic || u32 deviceId || u64 linkEpoch ||
 * linkSignature` (172 bytes, big-endian integers).
 *
 * @example encodeIdentityBundle(bundle).length // 172
 * @throws {ArgumentTypeError | ArgumentRangeError} if a field is not a `Uint8Array` of its exact size, or the
 *   device id or epoch is out of range.
 */
export function encodeIdentityBundle(bundle: IdentityBundle): Uint8Array {
  if (typeof bundle !== 'object' || bundle === null)
    throw new ArgumentTypeError('bundle must be an object');
  assertBytes(bundle.accountPublic, 'accountPublic', ED25519_PUBLIC_BYTES);
  assertBytes(bundle.signingPublic, 'signingPublic', ED25519_PUBLIC_BYTES);
  assertBytes(bundle.dhPublic, 'dhPublic', X25519_KEY_BYTES);
  assertLinkFields(bundle.deviceId, bundle.linkEpoch);
  assertBytes(bundle.linkSignature, 'linkSignature', ED25519_SIGNATURE_BYTES);
  return new ByteWriter(IDENTITY_BUNDLE_BYTES)
    .bytes(bundle.accountPublic)
    .bytes(bundle.signingPublic)
    .bytes(bundle.dhPublic)
    .u32(bundle.deviceId)
    .u64(bundle.linkEpoch)
    .bytes(bundle.linkSignature)
    .finish();
}

/**
 * Strictly decodes a 172-byte identity bundle. Only the layout is checked; the link signature
 * and address are verified by `verifyIdentityBundle` (sdk/protocol/identity.ts).
 *
 * @example decodeIdentityBundle(encodeIdentityBundle(bundle))
 * @throws {ArgumentTypeError} if `bytes` is not a `Uint8Array`.
 * @throws {MalformedEnvelopeError} if `bytes` is not exactly 172 bytes, the device id is 0 or
 *   the epoch exceeds {@link MAX_LINK_EPOCH}.
 */
export function decodeIdentityBundle(bytes: Uint8Array): IdentityBundle {
  assertBytes(bytes, 'bytes');
  if (bytes.length !== IDENTITY_BUNDLE_BYTES) {
    throw new MalformedEnvelopeError(`identity bundle must be ${IDENTITY_BUNDLE_BYTES} bytes`);
  }
  // Runs for every received message: plain offsets rather than a reader.
  const deviceId = readU32be(bytes, 96);
  const epochHigh = readU32be(bytes, 100);
  if (deviceId === 0) throw new MalformedEnvelopeError('identity bundle device id is 0');
  if (epochHigh >= 2 ** 21) throw new MalformedEnvelopeError('identity bundle epoch out of range');
  return {
    accountPublic: bytes.slice(0, 32),
    signingPublic: bytes.slice(32, 64),
    dhPublic: bytes.slice(64, 96),
    deviceId,
    linkEpoch: epochHigh * 2 ** 32 + readU32be(bytes, 104),
    linkSignature: bytes.slice(108, 172),
  };
}

/**
 * The message the account key signs to link a device: `LABELS.DEVICE_LINK || signingPublic ||
 * dhPublic || u32 deviceId || u64 linkEpoch`. Binding both device keys, the device id and the
 * epoch in one signature means none can be swapped alone: a link is valid for one device id
 * only, and an old link cannot be replayed over a newer one (docs/PROTOCOL.md §1.3).
 *
 * @example deviceLinkPayload(signingPublic, dhPublic, 1, Date.now())
 * @throws {ArgumentTypeError | ArgumentRangeError} if a key is not 32 bytes or the id or epoch is out of range.
 */
export function deviceLinkPayload(
  signingPublic: Uint8Array,
  dhPublic: Uint8Array,
  deviceId: number,
  linkEpoch: number,
): Uint8Array {
  assertBytes(signingPublic, 'signingPublic', ED25519_PUBLIC_BYTES);
  assertBytes(dhPublic, 'dhPublic', X25519_KEY_BYTES);
  assertLinkFields(deviceId, linkEpoch);
  return new ByteWriter(LABELS.DEVICE_LINK.length + 76)
    .bytes(LABELS.DEVICE_LINK)
    .bytes(signingPublic)
    .bytes(dhPublic)
    .u32(deviceId)
    .u64(linkEpoch)
    .finish();
}

/**
 * The SHA-256 input an address is derived from: `LABELS.ADDRESS || accountPublic`.
 *
 * @example addressFromDigest(sha256(addressPreimage(accountPublic)))
 * @throws {ArgumentTypeError | ArgumentRangeError} if `accountPublic` is not 32 bytes.
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
 * @throws {ArgumentTypeError | ArgumentRangeError} if `digest` is not 32 bytes.
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
 * @throws {ArgumentTypeError} if `address` is not a well-formed address.
 */
export function addressToBytes(address: string): Uint8Array {
  if (!isAddress(address)) throw new ArgumentTypeError('address is not a valid address');
  const bytes = tryBase32Decode(address);
  if (bytes === undefined || bytes.length !== ADDRESS_BYTES) {
    throw new ArgumentTypeError('address is not a valid address');
  }
  return bytes;
}

/**
 * The text address of 20 raw address bytes.
 *
 * @example addressFromBytes(addressToBytes(address)) === address
 * @throws {ArgumentTypeError | ArgumentRangeError} if `bytes` is not 20 bytes.
 */
export function addressFromBytes(bytes: Uint8Array): string {
  assertBytes(bytes, 'bytes', ADDRESS_BYTES);
  return base32Encode(bytes);
}
