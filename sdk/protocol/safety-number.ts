/**
 * Safety numbers (PROTOCOL.md §1, docs/PROTOCOL.md §1): Signal's numeric fingerprint scheme
 * (libsignal `fingerprint.rs`) computed over the account key and its address, so adding or
 * replacing a device does not change the number users compared.
 */
import { type CryptoBackend, ED25519_PUBLIC_BYTES } from '../crypto/backend.ts';
import { MalformedEnvelopeError, UnsupportedVersionError } from '../errors.ts';
import { ArgumentRangeError } from '../util/argument-errors.ts';
import { assertBytes, concatBytes, constantTimeEqual } from '../util/bytes.ts';
import { addressToBytes } from '../wire/identity.ts';
import { LABELS } from '../wire/labels.ts';
import { address } from './identity.ts';

/** The u16 version hashed into each fingerprint (as Signal: 0). */
export const FINGERPRINT_VERSION = 0;
/** SHA-512 iterations per fingerprint (Signal's value; slows down grinding a near collision). */
export const FINGERPRINT_ITERATIONS = 5200;
/** Version byte of the scannable (QR) payload. */
export const SCANNABLE_VERSION = 1;
/** Bytes of each fingerprint carried in the QR payload. */
export const SCANNABLE_FINGERPRINT_BYTES = 32;
/** Size of the QR payload: u8 version || local(32) || remote(32). */
export const SCANNABLE_BYTES = 1 + 2 * SCANNABLE_FINGERPRINT_BYTES;
/** Digits per party; a safety number is twice this. */
export const FINGERPRINT_DIGITS = 30;

/** A safety number between this account and a contact account. */
export interface SafetyNumber {
  /** 60 decimal digits, identical on both sides (the two halves sorted). */
  readonly displayable: string;
  /** QR payload: `u8 version=1 || localFingerprint[0..32] || remoteFingerprint[0..32]`. */
  readonly scannable: Uint8Array;
}

/**
 * Signal's iterated fingerprint: `h = prefix || u16 version || key || stableId`, then
 * `iterations` times `h = SHA-512(h || key)`. With an empty prefix this is exactly libsignal's
 * `get_fingerprint`, which lets us check it against Signal's published vectors.
 *
 * @example iteratedFingerprint(backend, LABELS.FINGERPRINT, accountPublic, addressBytes, 5200)
 * @throws {ArgumentTypeError | ArgumentRangeError} on non-byte inputs or an iteration count below 1.
 */
export function iteratedFingerprint(
  backend: CryptoBackend,
  prefix: Uint8Array,
  key: Uint8Array,
  stableId: Uint8Array,
  iterations: number,
): Uint8Array {
  assertBytes(prefix, 'prefix');
  assertBytes(key, 'key');
  assertBytes(stableId, 'stableId');
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > 1_000_000) {
    throw new ArgumentRangeError('iterations must be an integer in 1..=1000000');
  }
  const version = new Uint8Array([FINGERPRINT_VERSION >> 8, FINGERPRINT_VERSION & 0xff]);
  let h = concatBytes(prefix, version, key, stableId);
  // Reuse one buffer for h || key; only the 64-byte digest part changes per round.
  const block = new Uint8Array(64 + key.length);
  block.set(key, 64);
  h = backend.sha512(concatBytes(h, key));
  for (let i = 1; i < iterations; i++) {
    block.set(h, 0);
    h = backend.sha512(block);
  }
  return h;
}

/**
 * The 64-byte fingerprint of an account (PROTOCOL.md §1): {@link iteratedFingerprint} with prefix
 * `LABELS.FINGERPRINT`, the account public key, and the 20 address bytes as stable id.
 *
 * @example accountFingerprint(backend, account.publicKey)
 * @throws {ArgumentTypeError | ArgumentRangeError} if `accountPublic` is not 32 bytes.
 */
export function accountFingerprint(backend: CryptoBackend, accountPublic: Uint8Array): Uint8Array {
  assertBytes(accountPublic, 'accountPublic', ED25519_PUBLIC_BYTES);
  const stableId = addressToBytes(address(backend, accountPublic));
  return iteratedFingerprint(
    backend,
    LABELS.FINGERPRINT,
    accountPublic,
    stableId,
    FINGERPRINT_ITERATIONS,
  );
}

/**
 * 30 digits from the first 30 bytes of a fingerprint: six 5-byte big-endian integers, each
 * mod 100000 and zero-padded to 5 digits (libsignal `get_encoded_string`).
 *
 * @example fingerprintDigits(fp) // '300354477692869396892869876765'
 * @throws {ArgumentRangeError} if `fingerprint` is shorter than 30 bytes.
 */
export function fingerprintDigits(fingerprint: Uint8Array): string {
  assertBytes(fingerprint, 'fingerprint');
  if (fingerprint.length < 30)
    throw new ArgumentRangeError('fingerprint must be at least 30 bytes');
  let out = '';
  for (let chunk = 0; chunk < 6; chunk++) {
    let n = 0;
    // 40-bit values stay exact in a double (< 2^53).
    for (let i = 0; i < 5; i++) n = n * 256 + fingerprint[chunk * 5 + i]!;
    out += String(n % 100_000).padStart(5, '0');
  }
  return out;
}

/**
 * The 60-digit displayable safety number from two fingerprints: the two 30-digit halves in
 * ascending string order, so both parties see the same number.
 *
 * @example displayableSafetyNumber(localFp, remoteFp)
 * @throws {ArgumentRangeError} if a fingerprint is shorter than 30 bytes.
 */
export function displayableSafetyNumber(localFp: Uint8Array, remoteFp: Uint8Array): string {
  const local = fingerprintDigits(localFp);
  const remote = fingerprintDigits(remoteFp);
  return local < remote ? local + remote : remote + local;
}

/**
 * The QR payload: `u8 version=1 || localFp[0..32] || remoteFp[0..32]` (65 bytes).
 *
 * @example scannableSafetyNumber(localFp, remoteFp).length // 65
 * @throws {ArgumentRangeError} if a fingerprint is shorter than 32 bytes.
 */
export function scannableSafetyNumber(localFp: Uint8Array, remoteFp: Uint8Array): Uint8Array {
  assertBytes(localFp, 'localFp');
  assertBytes(remoteFp, 'remoteFp');
  if (
    localFp.length < SCANNABLE_FINGERPRINT_BYTES ||
    remoteFp.length < SCANNABLE_FINGERPRINT_BYTES
  ) {
    throw new ArgumentRangeError('fingerprints must be at least 32 bytes');
  }
  return concatBytes(
    new Uint8Array([SCANNABLE_VERSION]),
    localFp.subarray(0, SCANNABLE_FINGERPRINT_BYTES),
    remoteFp.subarray(0, SCANNABLE_FINGERPRINT_BYTES),
  );
}

/**
 * The safety number between the local account and a contact account.
 *
 * @example const { displayable, scannable } = safetyNumber(backend, me.bundle.accountPublic, them.accountPublic);
 * @throws {ArgumentTypeError | ArgumentRangeError} if a key is not 32 bytes.
 */
export function safetyNumber(
  backend: CryptoBackend,
  localAccountPublic: Uint8Array,
  remoteAccountPublic: Uint8Array,
): SafetyNumber {
  const localFp = accountFingerprint(backend, localAccountPublic);
  const remoteFp = accountFingerprint(backend, remoteAccountPublic);
  return {
    displayable: displayableSafetyNumber(localFp, remoteFp),
    scannable: scannableSafetyNumber(localFp, remoteFp),
  };
}

/**
 * Compares our QR payload with one scanned from the contact's screen. Their payload lists the
 * fingerprints the other way round, so it matches when their local half equals our remote half
 * and their remote half equals our local half (compared in constant time).
 *
 * @example if (compareScannable(mine.scannable, scannedBytes)) markVerified();
 * @returns true when both fingerprints match; false when they differ (possible interception or
 *   a stale key: the app must not mark the contact verified).
 * @throws {MalformedEnvelopeError} if `scanned` is not a 65-byte payload.
 * @throws {UnsupportedVersionError} if `scanned` carries another payload version.
 * @throws {ArgumentTypeError | ArgumentRangeError} if `local` is not a 65-byte payload of this version.
 */
export function compareScannable(local: Uint8Array, scanned: Uint8Array): boolean {
  assertBytes(local, 'local', SCANNABLE_BYTES);
  if (local[0] !== SCANNABLE_VERSION)
    throw new ArgumentRangeError('local payload has another version');
  assertBytes(scanned, 'scanned');
  if (scanned.length < 1) throw new MalformedEnvelopeError('scanned safety number is empty');
  if (scanned[0] !== SCANNABLE_VERSION) {
    throw new UnsupportedVersionError(scanned[0]!, 'safety number');
  }
  if (scanned.length !== SCANNABLE_BYTES) {
    throw new MalformedEnvelopeError('scanned safety number has the wrong length');
  }
  const n = SCANNABLE_FINGERPRINT_BYTES;
  const sameA = constantTimeEqual(scanned.subarray(1, 1 + n), local.subarray(1 + n));
  const sameB = constantTimeEqual(scanned.subarray(1 + n), local.subarray(1, 1 + n));
  return sameA && sameB;
}
