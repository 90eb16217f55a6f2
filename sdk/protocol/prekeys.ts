/**
 * Prekey generation (docs/PROTOCOL.md §3); the private records and their codecs are in
 * prekey-records.ts and re-exported here.
 *
 * Three kinds, as in Signal: a signed X25519 prekey (SPK, rotated), unsigned one-time X25519
 * prekeys (OPK) and signed ML-KEM-1024 prekeys, one-time or last resort. Private records live in
 * the store namespaces `signedPrekey`, `oneTimePrekey` and `kemPrekey`, keyed by the decimal id.
 */
import {
  type CryptoBackend,
  ED25519_SEED_BYTES,
  MLKEM_SEED_BYTES,
  type Rng,
  X25519_KEY_BYTES,
} from '../crypto/backend.ts';
import { ArgumentRangeError } from '../util/argument-errors.ts';
import { assertBytes } from '../util/bytes.ts';
import {
  assertPrekeyId,
  KEM_KIND_LAST_RESORT,
  KEM_KIND_ONE_TIME,
  type KemPrekey,
  kemPrekeyKind,
  kemPrekeyPayload,
  MAX_PREKEY_ID,
  type OneTimePrekey,
  type SignedPrekey,
  signedPrekeyPayload,
} from '../wire/prekeys.ts';
import type { KemPrekeyRecord, OneTimePrekeyRecord, SignedPrekeyRecord } from './prekey-records.ts';

/** Most one-time prekeys (EC or KEM) generated or uploaded in one batch, as Signal's service. */
export const MAX_PREKEY_BATCH = 100;

/** The signing half of a local identity: prekeys are signed by the device signing key. */
export interface PrekeySigner {
  /** Ed25519 seed of the device signing key (32, secret). */
  readonly signingSeed: Uint8Array;
}

/**
 * The prekey id `offset` places after `id` in the cycle 1..=2^32-1 (0 is skipped because it
 * means "none" in prekey messages). Callers keep the next id in their own state.
 *
 * @example prekeyIdAfter(0xffffffff) // 1
 * @throws {ArgumentRangeError} if `id` is not a valid prekey id or `offset` is not a non-negative integer.
 */
export function prekeyIdAfter(id: number, offset = 1): number {
  assertPrekeyId(id, 'id');
  if (!Number.isSafeInteger(offset) || offset < 0)
    throw new ArgumentRangeError('offset must be >= 0');
  return ((id - 1 + offset) % MAX_PREKEY_ID) + 1;
}

function assertBatch(count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > MAX_PREKEY_BATCH) {
    throw new ArgumentRangeError(`count must be an integer in 1..=${MAX_PREKEY_BATCH}`);
  }
}

function assertTime(nowMs: number): void {
  if (!Number.isSafeInteger(nowMs) || nowMs < 0) throw new ArgumentRangeError('nowMs must be >= 0');
}

function draw(rng: Rng, length: number): Uint8Array {
  const bytes = rng(length);
  assertBytes(bytes, 'rng output', length);
  return bytes;
}

/**
 * Generates a signed prekey: X25519 private key from 32 rng bytes, signature by the device
 * signing key over `LABELS.SIGNED_PREKEY || u32 id || publicKey`.
 *
 * @example const spk = await generateSignedPrekey(backend, systemRng, me, 1, Date.now());
 * @throws {ArgumentRangeError} on an invalid id or time.
 */
export async function generateSignedPrekey(
  backend: CryptoBackend,
  rng: Rng,
  signer: PrekeySigner,
  id: number,
  nowMs: number,
): Promise<SignedPrekeyRecord> {
  assertPrekeyId(id, 'id');
  assertTime(nowMs);
  assertBytes(signer.signingSeed, 'signingSeed', ED25519_SEED_BYTES);
  const privateKey = draw(rng, X25519_KEY_BYTES);
  const publicKey = await backend.x25519PublicKey(privateKey);
  const signature = await backend.ed25519Sign(
    signer.signingSeed,
    signedPrekeyPayload(id, publicKey),
  );
  return { id, privateKey, publicKey, signature, createdAtMs: nowMs };
}

/**
 * Generates `count` one-time X25519 prekeys with ids `firstId`, `prekeyIdAfter(firstId)`, ….
 *
 * @example const opks = await generateOneTimePrekeys(backend, systemRng, nextId, 100);
 * @throws {ArgumentRangeError} on an invalid id or a count outside 1..=100.
 */
export async function generateOneTimePrekeys(
  backend: CryptoBackend,
  rng: Rng,
  firstId: number,
  count: number,
): Promise<OneTimePrekeyRecord[]> {
  assertPrekeyId(firstId, 'firstId');
  assertBatch(count);
  const out: OneTimePrekeyRecord[] = [];
  for (let i = 0; i < count; i++) {
    const privateKey = draw(rng, X25519_KEY_BYTES);
    const publicKey = await backend.x25519PublicKey(privateKey);
    out.push({ id: prekeyIdAfter(firstId, i), privateKey, publicKey });
  }
  return out;
}

async function generateKemPrekey(
  backend: CryptoBackend,
  rng: Rng,
  signer: PrekeySigner,
  id: number,
  lastResort: boolean,
  nowMs: number,
): Promise<KemPrekeyRecord> {
  assertTime(nowMs);
  assertBytes(signer.signingSeed, 'signingSeed', ED25519_SEED_BYTES);
  // The seed stays in the record: WebCrypto decapsulates only from it (docs/PROTOCOL.md §3.5).
  const keySeed = draw(rng, MLKEM_SEED_BYTES);
  const { publicKey, secretKey } = backend.mlkemKeygen(keySeed);
  const payload = kemPrekeyPayload(kemPrekeyKind(lastResort), id, publicKey);
  const signature = await backend.ed25519Sign(signer.signingSeed, payload);
  return { id, keySeed, secretKey, publicKey, signature, lastResort, createdAtMs: nowMs };
}

/**
 * Generates `count` signed one-time ML-KEM-1024 prekeys (64 rng bytes of key seed each),
 * signed with kind {@link KEM_KIND_ONE_TIME}.
 *
 * @example const pqpks = await generateKemPrekeys(backend, systemRng, me, nextKemId, 100, Date.now());
 * @throws {ArgumentRangeError} on an invalid id or time or a count outside 1..=100.
 */
export async function generateKemPrekeys(
  backend: CryptoBackend,
  rng: Rng,
  signer: PrekeySigner,
  firstId: number,
  count: number,
  nowMs: number,
): Promise<KemPrekeyRecord[]> {
  assertPrekeyId(firstId, 'firstId');
  assertBatch(count);
  const out: KemPrekeyRecord[] = [];
  for (let i = 0; i < count; i++) {
    const id = prekeyIdAfter(firstId, i);
    out.push(await generateKemPrekey(backend, rng, signer, id, false, nowMs));
  }
  return out;
}

/**
 * Generates the signed last-resort ML-KEM-1024 prekey (kind {@link KEM_KIND_LAST_RESORT}),
 * served when the one-time KEM prekeys run out and never deleted on use.
 *
 * @example const lastResort = await generateLastResortKemPrekey(backend, systemRng, me, id, Date.now());
 * @throws {ArgumentRangeError} on an invalid id or time.
 */
export async function generateLastResortKemPrekey(
  backend: CryptoBackend,
  rng: Rng,
  signer: PrekeySigner,
  id: number,
  nowMs: number,
): Promise<KemPrekeyRecord> {
  assertPrekeyId(id, 'id');
  return generateKemPrekey(backend, rng, signer, id, true, nowMs);
}

/** The public upload form of a signed prekey record. */
export function toSignedPrekey(record: SignedPrekeyRecord): SignedPrekey {
  return { id: record.id, publicKey: record.publicKey, signature: record.signature };
}

/** The public upload form of a one-time prekey record. */
export function toOneTimePrekey(record: OneTimePrekeyRecord): OneTimePrekey {
  return { id: record.id, publicKey: record.publicKey };
}

/** The public upload form of a KEM prekey record. */
export function toKemPrekey(record: KemPrekeyRecord): KemPrekey {
  return {
    id: record.id,
    publicKey: record.publicKey,
    signature: record.signature,
    lastResort: record.lastResort,
  };
}

export {
  decodeKemPrekeyRecord,
  decodeOneTimePrekeyRecord,
  decodeSignedPrekeyRecord,
  encodeKemPrekeyRecord,
  encodeOneTimePrekeyRecord,
  encodeSignedPrekeyRecord,
  KEM_PREKEY_RECORD_SEED_VERSION,
  type KemPrekeyRecord,
  kemPrekeyStoreOps,
  type OneTimePrekeyRecord,
  oneTimePrekeyStoreOps,
  PREKEY_RECORD_VERSION,
  prekeyStoreKey,
  type SignedPrekeyRecord,
  signedPrekeyStoreOp,
} from './prekey-records.ts';
