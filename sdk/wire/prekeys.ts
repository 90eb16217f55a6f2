/**
 * Wire form of prekeys and prekey bundles (docs/PROTOCOL.md §3, PROTOCOL.md §3). Pure
 * signature-payload builders and structural validation: signatures are verified by
 * `verifyBundle` (sdk/protocol/bundle.ts); the service uses these checks on uploads.
 */
import {
  ED25519_SIGNATURE_BYTES,
  MLKEM1024_PUBLIC_BYTES,
  X25519_KEY_BYTES,
} from '../crypto/backend.ts';
import { InvalidBundleError } from '../errors.ts';
import { ArgumentRangeError } from '../util/argument-errors.ts';
import { assertBytes, ByteWriter } from '../util/bytes.ts';
import { encodeIdentityBundle, type IdentityBundle, isAddress } from './identity.ts';
import { LABELS } from './labels.ts';

/** KEM prekey kind byte for a one-time ML-KEM prekey (deleted after one use). */
export const KEM_KIND_ONE_TIME = 1;
/** KEM prekey kind byte for the last-resort ML-KEM prekey (served when one-time keys run out). */
export const KEM_KIND_LAST_RESORT = 2;
/** Largest prekey id (u32). Id 0 is reserved for "none" in prekey messages. */
export const MAX_PREKEY_ID = 0xffffffff;
/** Largest device id a bundle may carry (u32; the service enforces its own smaller limit). */
export const MAX_DEVICE_ID = 0xffffffff;

/** An X25519 signed prekey as uploaded and served (PROTOCOL.md §3). */
export interface SignedPrekey {
  readonly id: number;
  /** X25519 public key (32). */
  readonly publicKey: Uint8Array;
  /** Ed25519 signature (64) by the device signing key over {@link signedPrekeyPayload}. */
  readonly signature: Uint8Array;
}

/** An unsigned one-time X25519 prekey. */
export interface OneTimePrekey {
  readonly id: number;
  /** X25519 public key (32). */
  readonly publicKey: Uint8Array;
}

/** A signed ML-KEM-1024 prekey: one-time, or the last-resort key when `lastResort`. */
export interface KemPrekey {
  readonly id: number;
  /** ML-KEM-1024 encapsulation key (1568). */
  readonly publicKey: Uint8Array;
  /** Ed25519 signature (64) by the device signing key over {@link kemPrekeyPayload}. */
  readonly signature: Uint8Array;
  /** Whether this is the last-resort key; signed as the kind byte, so it cannot be flipped. */
  readonly lastResort: boolean;
}

/** Everything an initiator needs to start a PQXDH session with one device (PROTOCOL.md §3). */
export interface PrekeyBundle {
  readonly address: string;
  readonly deviceId: number;
  readonly identity: IdentityBundle;
  readonly signedPrekey: SignedPrekey;
  readonly oneTimePrekey?: OneTimePrekey;
  readonly kemPrekey: KemPrekey;
  /**
   * The device's ristretto255 franking public key (PROTOCOL.md §11.1), which senders need to
   * frank messages for it. Served by the service with the bundle; not signed by the identity
   * (a wrong key only makes the device drop what is franked for it).
   */
  readonly frankingKey?: Uint8Array;
}

/**
 * True when `id` is a valid prekey id: an integer in 1..=2^32-1.
 *
 * @example isPrekeyId(0) // false: 0 means "none" in prekey messages
 */
export function isPrekeyId(id: unknown): id is number {
  return typeof id === 'number' && Number.isInteger(id) && id >= 1 && id <= MAX_PREKEY_ID;
}

/**
 * Argument check for prekey ids.
 *
 * @example assertPrekeyId(7, 'id')
 * @throws {ArgumentRangeError} naming `name` unless `id` is an integer in 1..=2^32-1.
 */
export function assertPrekeyId(id: number, name = 'id'): void {
  if (!isPrekeyId(id)) throw new ArgumentRangeError(`${name} must be an integer in 1..=4294967295`);
}

/**
 * The message a signed prekey's signature covers: `LABELS.SIGNED_PREKEY || u32 id ||
 * publicKey`. The id is signed so the server cannot relabel one key as another.
 *
 * @example signedPrekeyPayload(1, spkPublic)
 * @throws {ArgumentTypeError | ArgumentRangeError} on an invalid id or a key that is not 32 bytes.
 */
export function signedPrekeyPayload(id: number, publicKey: Uint8Array): Uint8Array {
  assertPrekeyId(id, 'id');
  assertBytes(publicKey, 'publicKey', X25519_KEY_BYTES);
  return new ByteWriter(LABELS.SIGNED_PREKEY.length + 4 + X25519_KEY_BYTES)
    .bytes(LABELS.SIGNED_PREKEY)
    .u32(id)
    .bytes(publicKey)
    .finish();
}

/**
 * The message a KEM prekey's signature covers: `LABELS.KEM_PREKEY || u8 kind || u32 id ||
 * publicKey`. The kind byte stops a one-time key being replayed as a last-resort key (or back).
 *
 * @example kemPrekeyPayload(KEM_KIND_LAST_RESORT, 1, kemPublic)
 * @throws {ArgumentTypeError | ArgumentRangeError} on an unknown kind, an invalid id or a key that is not 1568 bytes.
 */
export function kemPrekeyPayload(kind: number, id: number, publicKey: Uint8Array): Uint8Array {
  if (kind !== KEM_KIND_ONE_TIME && kind !== KEM_KIND_LAST_RESORT) {
    throw new ArgumentRangeError('kind must be KEM_KIND_ONE_TIME or KEM_KIND_LAST_RESORT');
  }
  assertPrekeyId(id, 'id');
  assertBytes(publicKey, 'publicKey', MLKEM1024_PUBLIC_BYTES);
  return new ByteWriter(LABELS.KEM_PREKEY.length + 5 + MLKEM1024_PUBLIC_BYTES)
    .bytes(LABELS.KEM_PREKEY)
    .u8(kind)
    .u32(id)
    .bytes(publicKey)
    .finish();
}

/**
 * The kind byte signed for a KEM prekey.
 *
 * @example kemPrekeyKind(true) // KEM_KIND_LAST_RESORT
 */
export function kemPrekeyKind(lastResort: boolean): number {
  return lastResort ? KEM_KIND_LAST_RESORT : KEM_KIND_ONE_TIME;
}

function isBytes(value: unknown, length: number): value is Uint8Array {
  return value instanceof Uint8Array && value.length === length;
}

function fail(what: string): never {
  throw new InvalidBundleError(`${what} is invalid`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * Structural check of a signed prekey (id range, key and signature sizes). No signature check.
 *
 * @example validateSignedPrekey(upload.signedPrekey)
 * @throws {InvalidBundleError} naming the field that is wrong.
 */
export function validateSignedPrekey(value: unknown, what = 'signedPrekey'): SignedPrekey {
  if (!isObject(value)) fail(what);
  if (!isPrekeyId(value.id)) fail(`${what}.id`);
  if (!isBytes(value.publicKey, X25519_KEY_BYTES)) fail(`${what}.publicKey`);
  if (!isBytes(value.signature, ED25519_SIGNATURE_BYTES)) fail(`${what}.signature`);
  return value as unknown as SignedPrekey;
}

/**
 * Structural check of a one-time prekey (id range, key size).
 *
 * @example validateOneTimePrekey(upload.oneTimePrekeys[0])
 * @throws {InvalidBundleError} naming the field that is wrong.
 */
export function validateOneTimePrekey(value: unknown, what = 'oneTimePrekey'): OneTimePrekey {
  if (!isObject(value)) fail(what);
  if (!isPrekeyId(value.id)) fail(`${what}.id`);
  if (!isBytes(value.publicKey, X25519_KEY_BYTES)) fail(`${what}.publicKey`);
  return value as unknown as OneTimePrekey;
}

/**
 * Structural check of a KEM prekey (id range, key and signature sizes, boolean flag).
 *
 * @example validateKemPrekey(upload.lastResortKemPrekey)
 * @throws {InvalidBundleError} naming the field that is wrong.
 */
export function validateKemPrekey(value: unknown, what = 'kemPrekey'): KemPrekey {
  if (!isObject(value)) fail(what);
  if (!isPrekeyId(value.id)) fail(`${what}.id`);
  if (!isBytes(value.publicKey, MLKEM1024_PUBLIC_BYTES)) fail(`${what}.publicKey`);
  if (!isBytes(value.signature, ED25519_SIGNATURE_BYTES)) fail(`${what}.signature`);
  if (typeof value.lastResort !== 'boolean') fail(`${what}.lastResort`);
  return value as unknown as KemPrekey;
}

/**
 * Structural check of a whole bundle: address form, device id (u32, non-zero), identity field
 * sizes, and every prekey. Signatures and the address binding are checked by `verifyBundle`.
 *
 * @example validatePrekeyBundle(bundle)
 * @throws {InvalidBundleError} naming the field that is wrong.
 */
export function validatePrekeyBundle(value: unknown): PrekeyBundle {
  if (!isObject(value)) fail('bundle');
  if (!isAddress(value.address)) fail('address');
  const deviceId = value.deviceId;
  if (typeof deviceId !== 'number' || !Number.isInteger(deviceId)) fail('deviceId');
  if (deviceId < 1 || deviceId > MAX_DEVICE_ID) fail('deviceId');
  if (!isObject(value.identity)) fail('identity');
  try {
    encodeIdentityBundle(value.identity as unknown as IdentityBundle);
  } catch {
    fail('identity');
  }
  validateSignedPrekey(value.signedPrekey);
  if (value.oneTimePrekey !== undefined) validateOneTimePrekey(value.oneTimePrekey);
  validateKemPrekey(value.kemPrekey);
  return value as unknown as PrekeyBundle;
}
