/**
 * How the session cipher holds a loaded record (docs/PROTOCOL.md §5.5, §9.1): the stored bytes
 * are decoded in place and serve as the expectation of the successor's conditional commit, so
 * nothing is copied twice; once the commit is done (or dropped) the bytes and every decoded
 * secret are wiped.
 */
import type { StateStore, StoreOp } from '../state/store.ts';
import { wipe } from '../util/bytes.ts';
import { type Touched, wipeTouched } from './ratchet-session.ts';
import { sessionRecords } from './records.ts';
import { decodeSessionRecord, type SessionRecord } from './session-record.ts';

/**
 * The record, the bytes it was decoded from, and the expectation a commit of its successor
 * must carry (docs/PROTOCOL.md §9.1): `raw` itself, which stays the stored bytes until
 * `release` wipes it, or `null` for no record. A result that outlives `release` must carry a
 * copy ({@link detach}).
 *
 * @throws {StateCorruptError} if the stored record does not decode.
 * @example const { record, raw, expect } = await loadRecord(store, sessionKey(peer));
 */
export async function loadRecord(
  store: StateStore,
  key: string,
): Promise<{ record: SessionRecord | null; raw?: Uint8Array; expect: Uint8Array | null }> {
  const raw = await sessionRecords.get(store, key);
  if (raw === undefined) return { record: null, expect: null };
  try {
    // `raw` is this call's own copy and is wiped by `release` once the result is committed
    // or handed out, so the current state may live in it rather than in a second copy.
    return { record: decodeSessionRecord(raw, { inPlace: true }), raw, expect: raw };
  } catch (error) {
    wipe(raw);
    throw error;
  }
}

/**
 * A result whose ops may reference the loaded record (`loaded`): commit or drop them, then
 * pass it to {@link releaseHolding}, which wipes the loaded secrets.
 */
export type Holding<T> = T & {
  readonly loaded: { readonly raw: Uint8Array | undefined; readonly touched: Touched };
};

/**
 * Wipes what a {@link Holding} result loaded; its ops' expectations are invalid afterwards.
 *
 * @example try { await store.commit(held.ops); } finally { releaseHolding(held); }
 */
export function releaseHolding(held: Holding<unknown>): void {
  release(held.loaded.raw, held.loaded.touched);
}

/**
 * The ops with private copies of their expectations (for results that outlive `release`).
 *
 * @example return { ...result, ops: detach(held.ops) };
 */
export function detach(ops: readonly StoreOp[]): StoreOp[] {
  return ops.map((op) =>
    op.expect === undefined || op.expect === null ? op : { ...op, expect: op.expect.slice() },
  );
}

/**
 * Drops the secrets a call decoded, once its result is encoded (archived views die with `raw`).
 *
 * @example release(raw, [record?.current]);
 */
export function release(raw: Uint8Array | undefined, touched: Touched): void {
  wipeTouched(touched);
  wipe(raw);
}
