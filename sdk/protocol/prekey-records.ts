/**
 * The private prekey records and their codecs (docs/PROTOCOL.md §3.5): what the store keeps in
 * the namespaces `signedPrekey`, `oneTimePrekey` and `kemPrekey`, keyed by the decimal id.
 * Every decoding failure is a `StateCorruptError` (or `UnsupportedVersionError`).
 */
import { mlkemSeedFitsKey } from '../crypto/args.ts';
import {
  ED25519_SIGNATURE_BYTES,
  MLKEM_SEED_BYTES,
  MLKEM1024_PUBLIC_BYTES,
  MLKEM1024_SECRET_BYTES,
  X25519_KEY_BYTES,
} from '../crypto/backend.ts';
import { StateCorruptError, UnsupportedVersionError } from '../errors.ts';
import type { StoreOp } from '../state/store.ts';
import { ArgumentRangeError, ArgumentTypeError } from '../util/argument-errors.ts';
import { assertBytes, ByteReader, ByteWriter, constantTimeEqual } from '../util/bytes.ts';
import {
  assertPrekeyId,
  KEM_KIND_LAST_RESORT,
  KEM_KIND_ONE_TIME,
  kemPrekeyKind,
} from '../wire/prekeys.ts';

function assertTime(nowMs: number): void {
  if (!Number.isSafeInteger(nowMs) || nowMs < 0) throw new ArgumentRangeError('nowMs must be >= 0');
}

/** Version byte of every private prekey record (KEM prekey records: without the key seed). */
export const PREKEY_RECORD_VERSION = 1;
/** Version byte of a KEM prekey record that keeps the 64-byte key seed (docs/PROTOCOL.md §3.5). */
export const KEM_PREKEY_RECORD_SEED_VERSION = 2;
/** FIPS 203 Algorithm 16: dk = dk_PKE (384·k bytes, k = 4) || ek || H(ek) || z. */
const MLKEM_DK_EK_OFFSET = 384 * 4;
const embeddedPublicKey = (secretKey: Uint8Array): Uint8Array =>
  secretKey.slice(MLKEM_DK_EK_OFFSET, MLKEM_DK_EK_OFFSET + MLKEM1024_PUBLIC_BYTES);

/** A signed prekey with its private key. */
export interface SignedPrekeyRecord {
  readonly id: number;
  /** X25519 private key (32, secret). */
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
  /** Creation time (ms since the epoch), for rotation. */
  readonly createdAtMs: number;
}

/** A one-time X25519 prekey with its private key. */
export interface OneTimePrekeyRecord {
  readonly id: number;
  /** X25519 private key (32, secret). */
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** A signed ML-KEM-1024 prekey with its decapsulation key. */
export interface KemPrekeyRecord {
  readonly id: number;
  /**
   * The 64-byte FIPS 203 seed `d || z` the key pair derives from (secret): WebCrypto imports a
   * decapsulation key only in this form. Absent in records written before it was kept (record
   * version 1); those decapsulate with `secretKey` alone, on noble or OpenSSL.
   */
  readonly keySeed?: Uint8Array;
  /** ML-KEM-1024 decapsulation key (3168, secret). */
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
  readonly lastResort: boolean;
  /** Creation time (ms since the epoch), for rotating the last-resort key. */
  readonly createdAtMs: number;
}

/** The store key of a prekey record: its id in decimal. */
export function prekeyStoreKey(id: number): string {
  assertPrekeyId(id, 'id');
  return String(id);
}

function versionedReader(
  record: Uint8Array,
  what: string,
  versions: readonly number[],
): { r: ByteReader; version: number } {
  assertBytes(record, 'record');
  const r = new ByteReader(record, what, (m) => new StateCorruptError(m));
  const version = r.u8();
  if (!versions.includes(version)) throw new UnsupportedVersionError(version, what);
  return { r, version };
}

function reader(record: Uint8Array, what: string): ByteReader {
  return versionedReader(record, what, [PREKEY_RECORD_VERSION]).r;
}

function readId(r: ByteReader, what: string): number {
  const id = r.u32();
  if (id === 0) throw new StateCorruptError(`${what} has id 0`);
  return id;
}

/**
 * Encodes a signed prekey record (contains the private key). Layout: `u8 version=1 || u32 id ||
 * u64 createdAtMs || privateKey(32) || publicKey(32) || signature(64)`.
 *
 * @example signedPrekeyStoreOp(spk) // or encodeSignedPrekeyRecord(spk)
 * @throws {ArgumentTypeError | ArgumentRangeError} on wrong field sizes or ranges.
 */
export function encodeSignedPrekeyRecord(record: SignedPrekeyRecord): Uint8Array {
  assertPrekeyId(record.id, 'id');
  assertTime(record.createdAtMs);
  assertBytes(record.privateKey, 'privateKey', X25519_KEY_BYTES);
  assertBytes(record.publicKey, 'publicKey', X25519_KEY_BYTES);
  assertBytes(record.signature, 'signature', ED25519_SIGNATURE_BYTES);
  return new ByteWriter(141)
    .u8(PREKEY_RECORD_VERSION)
    .u32(record.id)
    .u64(record.createdAtMs)
    .bytes(record.privateKey)
    .bytes(record.publicKey)
    .bytes(record.signature)
    .finish();
}

/**
 * Decodes a signed prekey record.
 *
 * @example decodeSignedPrekeyRecord(await store.get('signedPrekey', '1'))
 * @throws {UnsupportedVersionError} on an unknown version.
 * @throws {StateCorruptError} if truncated, too long or with id 0.
 */
export function decodeSignedPrekeyRecord(record: Uint8Array): SignedPrekeyRecord {
  const what = 'signed prekey record';
  const r = reader(record, what);
  const id = readId(r, what);
  const createdAtMs = r.u64();
  const privateKey = r.bytes(X25519_KEY_BYTES);
  const publicKey = r.bytes(X25519_KEY_BYTES);
  const signature = r.bytes(ED25519_SIGNATURE_BYTES);
  r.end();
  return { id, privateKey, publicKey, signature, createdAtMs };
}

/**
 * Encodes a one-time prekey record (contains the private key). Layout: `u8 version=1 ||
 * u32 id || privateKey(32) || publicKey(32)`.
 *
 * @example encodeOneTimePrekeyRecord(opk)
 * @throws {ArgumentTypeError | ArgumentRangeError} on wrong field sizes or ranges.
 */
export function encodeOneTimePrekeyRecord(record: OneTimePrekeyRecord): Uint8Array {
  assertPrekeyId(record.id, 'id');
  assertBytes(record.privateKey, 'privateKey', X25519_KEY_BYTES);
  assertBytes(record.publicKey, 'publicKey', X25519_KEY_BYTES);
  return new ByteWriter(69)
    .u8(PREKEY_RECORD_VERSION)
    .u32(record.id)
    .bytes(record.privateKey)
    .bytes(record.publicKey)
    .finish();
}

/**
 * Decodes a one-time prekey record.
 *
 * @example decodeOneTimePrekeyRecord(await store.get('oneTimePrekey', '42'))
 * @throws {UnsupportedVersionError} on an unknown version.
 * @throws {StateCorruptError} if truncated, too long or with id 0.
 */
export function decodeOneTimePrekeyRecord(record: Uint8Array): OneTimePrekeyRecord {
  const what = 'one-time prekey record';
  const r = reader(record, what);
  const id = readId(r, what);
  const privateKey = r.bytes(X25519_KEY_BYTES);
  const publicKey = r.bytes(X25519_KEY_BYTES);
  r.end();
  return { id, privateKey, publicKey };
}

/**
 * Encodes a KEM prekey record (contains the decapsulation key). Layout with the key seed:
 * `u8 version=2 || u8 kind || u32 id || u64 createdAtMs || keySeed(64) || secretKey(3168) ||
 * signature(64)`; a record without one (generated before the seed was kept) keeps version 1,
 * the same without `keySeed`. The public key is not stored twice: FIPS 203 places it inside
 * the decapsulation key (bytes 1536..3104).
 *
 * @example encodeKemPrekeyRecord(pqpk)
 * @throws {ArgumentTypeError | ArgumentRangeError} on wrong sizes, if `publicKey` is not the one inside `secretKey`, or if `keySeed` does not end with the `z` inside `secretKey`.
 */
export function encodeKemPrekeyRecord(record: KemPrekeyRecord): Uint8Array {
  assertPrekeyId(record.id, 'id');
  assertTime(record.createdAtMs);
  assertBytes(record.secretKey, 'secretKey', MLKEM1024_SECRET_BYTES);
  assertBytes(record.publicKey, 'publicKey', MLKEM1024_PUBLIC_BYTES);
  assertBytes(record.signature, 'signature', ED25519_SIGNATURE_BYTES);
  if (typeof record.lastResort !== 'boolean')
    throw new ArgumentTypeError('lastResort must be a boolean');
  if (!constantTimeEqual(embeddedPublicKey(record.secretKey), record.publicKey)) {
    throw new ArgumentRangeError('publicKey does not belong to secretKey');
  }
  const { keySeed } = record;
  if (keySeed !== undefined) {
    assertBytes(keySeed, 'keySeed', MLKEM_SEED_BYTES);
    if (!mlkemSeedFitsKey(keySeed, record.secretKey)) {
      throw new ArgumentRangeError('keySeed does not belong to secretKey');
    }
  }
  const seedBytes = keySeed === undefined ? 0 : MLKEM_SEED_BYTES;
  const w = new ByteWriter(14 + seedBytes + MLKEM1024_SECRET_BYTES + ED25519_SIGNATURE_BYTES)
    .u8(keySeed === undefined ? PREKEY_RECORD_VERSION : KEM_PREKEY_RECORD_SEED_VERSION)
    .u8(kemPrekeyKind(record.lastResort))
    .u32(record.id)
    .u64(record.createdAtMs);
  if (keySeed !== undefined) w.bytes(keySeed);
  return w.bytes(record.secretKey).bytes(record.signature).finish();
}

/**
 * Decodes a KEM prekey record, version 2 (with the key seed) or 1 (without).
 *
 * @example decodeKemPrekeyRecord(await store.get('kemPrekey', '7'))
 * @throws {UnsupportedVersionError} on an unknown version.
 * @throws {StateCorruptError} if truncated, too long, with id 0, an unknown kind or a key seed that does not belong to the key.
 */
export function decodeKemPrekeyRecord(record: Uint8Array): KemPrekeyRecord {
  const what = 'KEM prekey record';
  const { r, version } = versionedReader(record, what, [
    PREKEY_RECORD_VERSION,
    KEM_PREKEY_RECORD_SEED_VERSION,
  ]);
  const kind = r.u8();
  if (kind !== KEM_KIND_ONE_TIME && kind !== KEM_KIND_LAST_RESORT) {
    throw new StateCorruptError(`${what} has an unknown kind`);
  }
  const id = readId(r, what);
  const createdAtMs = r.u64();
  const keySeed =
    version === KEM_PREKEY_RECORD_SEED_VERSION ? r.bytes(MLKEM_SEED_BYTES) : undefined;
  const secretKey = r.bytes(MLKEM1024_SECRET_BYTES);
  const signature = r.bytes(ED25519_SIGNATURE_BYTES);
  r.end();
  const publicKey = embeddedPublicKey(secretKey);
  const lastResort = kind === KEM_KIND_LAST_RESORT;
  const fields = { id, secretKey, publicKey, signature, lastResort, createdAtMs };
  if (keySeed === undefined) return fields;
  if (!mlkemSeedFitsKey(keySeed, secretKey)) {
    throw new StateCorruptError(`${what} has a key seed that does not belong to its key`);
  }
  return { keySeed, ...fields };
}

/** The store op saving a signed prekey record (namespace `signedPrekey`). */
export function signedPrekeyStoreOp(rec: SignedPrekeyRecord): StoreOp {
  return { ns: 'signedPrekey', key: prekeyStoreKey(rec.id), value: encodeSignedPrekeyRecord(rec) };
}

/** The store ops saving one-time prekey records (namespace `oneTimePrekey`). */
export function oneTimePrekeyStoreOps(records: readonly OneTimePrekeyRecord[]): StoreOp[] {
  return records.map((rec) => ({
    ns: 'oneTimePrekey',
    key: prekeyStoreKey(rec.id),
    value: encodeOneTimePrekeyRecord(rec),
  }));
}

/** The store ops saving KEM prekey records, one-time or last resort (namespace `kemPrekey`). */
export function kemPrekeyStoreOps(records: readonly KemPrekeyRecord[]): StoreOp[] {
  return records.map((rec) => ({
    ns: 'kemPrekey',
    key: prekeyStoreKey(rec.id),
    value: encodeKemPrekeyRecord(rec),
  }));
}
