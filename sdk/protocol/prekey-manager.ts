/**
 * Prekey replenishment and rotation for one device (docs/PROTOCOL.md §3): generates the
 * private records, commits them together with the id counters in one atomic store commit,
 * and returns the public forms to upload. Old signed prekeys and last-resort KEM prekeys are
 * kept for a grace period after rotation, because a prekey message naming them may still be
 * queued on the server (messages live up to 30 days).
 */
import type { CryptoBackend, Rng } from '../crypto/backend.ts';
import { StateCorruptError } from '../errors.ts';
import type { StateStore, StoreOp } from '../state/store.ts';
import { ArgumentRangeError } from '../util/argument-errors.ts';
import { ByteReader, ByteWriter } from '../util/bytes.ts';
import type { KemPrekey, OneTimePrekey, SignedPrekey } from '../wire/prekeys.ts';
import {
  decodeKemPrekeyRecord,
  decodeSignedPrekeyRecord,
  generateKemPrekeys,
  generateLastResortKemPrekey,
  generateOneTimePrekeys,
  generateSignedPrekey,
  kemPrekeyStoreOps,
  MAX_PREKEY_BATCH,
  oneTimePrekeyStoreOps,
  type PrekeySigner,
  prekeyIdAfter,
  signedPrekeyStoreOp,
  toKemPrekey,
  toOneTimePrekey,
  toSignedPrekey,
} from './prekeys.ts';
import { prekeyRecordsOf } from './records.ts';

/** Store key (namespace `meta`) of the prekey id counters. */
export const PREKEY_COUNTERS_KEY = 'prekey-counters';
const COUNTERS_VERSION = 1;
/** Superseded signed and last-resort prekeys are deleted this long after their successor. */
export const PREKEY_GRACE_MS = 45 * 24 * 3600 * 1000;

/** What to generate. Counts are capped at 100 (the service's per-upload limit). */
export interface PrekeyRequest {
  /** One-time X25519 prekeys to add. */
  readonly oneTime?: number;
  /** One-time ML-KEM-1024 prekeys to add. */
  readonly kem?: number;
  /** Generate a new signed prekey (the first call always does). */
  readonly rotateSignedPrekey?: boolean;
  /** Generate a new last-resort KEM prekey (the first call always does). */
  readonly rotateLastResort?: boolean;
}

/** The public half of what was generated: the upload body for the service. */
export interface PrekeyUpload {
  readonly signedPrekey?: SignedPrekey;
  readonly lastResortKemPrekey?: KemPrekey;
  readonly oneTimePrekeys: OneTimePrekey[];
  readonly kemPrekeys: KemPrekey[];
}

interface Counters {
  nextSigned: number;
  nextOneTime: number;
  nextKem: number;
  currentSigned: number;
  currentLastResort: number;
}

function encodeCounters(c: Counters): Uint8Array {
  return new ByteWriter(21)
    .u8(COUNTERS_VERSION)
    .u32(c.nextSigned)
    .u32(c.nextOneTime)
    .u32(c.nextKem)
    .u32(c.currentSigned)
    .u32(c.currentLastResort)
    .finish();
}

function decodeCounters(bytes: Uint8Array): Counters {
  const r = new ByteReader(bytes, 'prekey counters', (m) => new StateCorruptError(m));
  if (r.u8() !== COUNTERS_VERSION) throw new StateCorruptError('prekey counters version');
  const c = {
    nextSigned: r.u32(),
    nextOneTime: r.u32(),
    nextKem: r.u32(),
    currentSigned: r.u32(),
    currentLastResort: r.u32(),
  };
  r.end();
  return c;
}

function assertCount(n: number | undefined, name: string): number {
  const v = n ?? 0;
  if (!Number.isInteger(v) || v < 0 || v > MAX_PREKEY_BATCH) {
    throw new ArgumentRangeError(`${name} must be an integer in 0..=${MAX_PREKEY_BATCH}`);
  }
  return v;
}

/**
 * Generates and stores prekeys, returning the public upload form. One atomic commit holds the
 * private records, the advanced id counters and the deletion of superseded keys past their
 * grace period, so a crash never hands out an id twice or loses a key that was uploaded.
 *
 * @throws {ArgumentRangeError} if a count is not in 0..=100.
 * @throws {StateCorruptError} if the stored counters do not decode.
 * @example
 * const upload = await replenishPrekeys(ctx, { oneTime: 100, kem: 100 });
 * await api.uploadPrekeys(upload);
 */
export async function replenishPrekeys(
  ctx: {
    readonly backend: CryptoBackend;
    readonly rng: Rng;
    readonly store: StateStore;
    readonly signer: PrekeySigner;
    readonly now: () => number;
  },
  request: PrekeyRequest,
): Promise<PrekeyUpload> {
  const oneTimeCount = assertCount(request.oneTime, 'oneTime');
  const kemCount = assertCount(request.kem, 'kem');
  const { backend, rng, store, signer } = ctx;
  const now = ctx.now();
  const stored = await store.get('meta', PREKEY_COUNTERS_KEY);
  const c: Counters = stored
    ? decodeCounters(stored)
    : { nextSigned: 1, nextOneTime: 1, nextKem: 1, currentSigned: 0, currentLastResort: 0 };
  const ops: StoreOp[] = [];
  let signedPrekey: SignedPrekey | undefined;
  let lastResortKemPrekey: KemPrekey | undefined;

  if (request.rotateSignedPrekey || c.currentSigned === 0) {
    const rec = await generateSignedPrekey(backend, rng, signer, c.nextSigned, now);
    ops.push(signedPrekeyStoreOp(rec));
    signedPrekey = toSignedPrekey(rec);
    c.currentSigned = rec.id;
    c.nextSigned = prekeyIdAfter(rec.id);
    ops.push(...(await expiredSignedPrekeys(store, now)));
  }
  if (request.rotateLastResort || c.currentLastResort === 0) {
    const rec = await generateLastResortKemPrekey(backend, rng, signer, c.nextKem, now);
    ops.push(...kemPrekeyStoreOps([rec]));
    lastResortKemPrekey = toKemPrekey(rec);
    c.currentLastResort = rec.id;
    c.nextKem = prekeyIdAfter(rec.id);
    ops.push(...(await expiredLastResortPrekeys(store, now)));
  }
  const oneTime =
    oneTimeCount > 0 ? await generateOneTimePrekeys(backend, rng, c.nextOneTime, oneTimeCount) : [];
  if (oneTime.length > 0) c.nextOneTime = prekeyIdAfter(oneTime.at(-1)!.id);
  const kem =
    kemCount > 0 ? await generateKemPrekeys(backend, rng, signer, c.nextKem, kemCount, now) : [];
  if (kem.length > 0) c.nextKem = prekeyIdAfter(kem.at(-1)!.id);

  ops.push(...oneTimePrekeyStoreOps(oneTime), ...kemPrekeyStoreOps(kem));
  ops.push({ ns: 'meta', key: PREKEY_COUNTERS_KEY, value: encodeCounters(c) });
  await store.commit(ops);
  return {
    ...(signedPrekey ? { signedPrekey } : {}),
    ...(lastResortKemPrekey ? { lastResortKemPrekey } : {}),
    oneTimePrekeys: oneTime.map(toOneTimePrekey),
    kemPrekeys: kem.map(toKemPrekey),
  };
}

/** The current signed prekey's creation time, for rotation schedules (undefined before any). */
export async function signedPrekeyCreatedAt(store: StateStore): Promise<number | undefined> {
  const stored = await store.get('meta', PREKEY_COUNTERS_KEY);
  if (!stored) return undefined;
  const { currentSigned } = decodeCounters(stored);
  if (currentSigned === 0) return undefined;
  const rec = await prekeyRecordsOf.signed.get(store, currentSigned);
  return rec ? decodeSignedPrekeyRecord(rec).createdAtMs : undefined;
}

/**
 * Superseded keys to delete: a key goes once its successor (the next newer key of its kind)
 * has existed for the grace period, so every bundle handed out before the rotation has had
 * the message lifetime to be used. The newest stored key is kept (the caller's new key
 * supersedes it only now).
 */
function supersededOps(
  ns: 'signedPrekey' | 'kemPrekey',
  keys: readonly { readonly key: string; readonly createdAtMs: number }[],
  now: number,
): StoreOp[] {
  const sorted = [...keys].sort((a, b) => a.createdAtMs - b.createdAtMs);
  const ops: StoreOp[] = [];
  for (let i = 0; i + 1 < sorted.length; i++) {
    if (sorted[i + 1]!.createdAtMs < now - PREKEY_GRACE_MS)
      ops.push({ ns, key: sorted[i]!.key, value: null });
  }
  return ops;
}

async function expiredSignedPrekeys(store: StateStore, now: number): Promise<StoreOp[]> {
  const keys: { key: string; createdAtMs: number }[] = [];
  for (const key of await store.keys('signedPrekey')) {
    const bytes = await store.get('signedPrekey', key);
    if (bytes) keys.push({ key, createdAtMs: decodeSignedPrekeyRecord(bytes).createdAtMs });
  }
  const ops = supersededOps('signedPrekey', keys, now);
  if (ops.length === 0) return ops;
  // docs/PROTOCOL.md §3.5: consumed base keys live exactly as long as their signed prekey.
  const gone = new Set(ops.map((op) => `${op.key}.`));
  for (const key of await store.keys('baseKey')) {
    if (gone.has(key.slice(0, key.indexOf('.') + 1))) ops.push({ ns: 'baseKey', key, value: null });
  }
  return ops;
}

async function expiredLastResortPrekeys(store: StateStore, now: number): Promise<StoreOp[]> {
  const keys: { key: string; createdAtMs: number }[] = [];
  for (const key of await store.keys('kemPrekey')) {
    const bytes = await store.get('kemPrekey', key);
    if (!bytes) continue;
    const rec = decodeKemPrekeyRecord(bytes);
    if (rec.lastResort) keys.push({ key, createdAtMs: rec.createdAtMs });
  }
  return supersededOps('kemPrekey', keys, now);
}
