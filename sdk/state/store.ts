/**
 * The client state storage port. Deliberately tiny: namespaced byte records plus one atomic
 * multi-record commit. Everything the protocol needs to persist (identity, prekeys, sessions,
 * seen message ids, pinned contact identities) is a versioned record encoded by its owner.
 *
 * Atomicity is the whole point: decrypting a message changes a session *and* may consume a
 * one-time prekey *and* marks the message id seen; those must land together or not at all
 * (docs/PROTOCOL.md, "Crash safety").
 */
import { StoreConflictError } from '../errors.ts';
import { ArgumentTypeError } from '../util/argument-errors.ts';
import { equalBytes } from '../util/bytes.ts';

export { StoreConflictError };

/** Record namespaces. Keys inside a namespace are short ASCII strings. */
export type StoreNamespace =
  | 'identity'
  | 'signedPrekey'
  | 'oneTimePrekey'
  | 'kemPrekey'
  | 'session'
  | 'seen'
  | 'contact'
  | 'baseKey'
  | 'meta'
  | 'upload'
  | 'franking'
  | 'report'
  | 'token';

/**
 * Put (value is bytes) or delete (value is null). With `expect`, the op is conditional: the
 * whole commit applies only if the record currently holds exactly `expect` (`null`: the record
 * is absent), compared byte for byte at commit time (docs/PROTOCOL.md §9.1). An op whose
 * `value` is its `expect` (the same bytes object, or both `null`) is a check only: it changes
 * nothing, so stores write nothing for it (`isCheckOnly`).
 */
export interface StoreOp {
  readonly ns: StoreNamespace;
  readonly key: string;
  readonly value: Uint8Array | null;
  /** The value the record must still hold for the commit to apply; absent: unconditional. */
  readonly expect?: Uint8Array | null;
  /**
   * The caller hands `value` over: nobody reads or changes that array after the commit, so an
   * in-memory store may keep it instead of a copy. The SDK sets it on the session records it
   * encodes for each message; an app should not set it on arrays it still uses.
   * @default false
   */
  readonly transfer?: boolean;
}

export interface StateStore {
  /** The record, or undefined. Returned bytes are the caller's to keep (a copy). */
  get(ns: StoreNamespace, key: string): Promise<Uint8Array | undefined>;
  /** Every key in a namespace, in no particular order. */
  keys(ns: StoreNamespace): Promise<string[]>;
  /**
   * Applies every op or none (all-or-nothing even across a crash for durable stores). If any
   * op carries `expect` and the record no longer holds it, nothing is applied and the commit
   * rejects with {@link StoreConflictError}. The check and the write are one atomic step for
   * every writer of the store (other engines over the same store, other processes over the same
   * durable state): this is what makes a message key single-use with more than one writer.
   *
   * @throws {StoreConflictError} if an expectation does not hold (nothing was applied).
   */
  commit(ops: readonly StoreOp[]): Promise<void>;
}

/**
 * Whether `op` only checks its record (its value is its expectation) and writes nothing.
 *
 * @example const writes = ops.filter((op) => !isCheckOnly(op));
 */
export function isCheckOnly(op: StoreOp): boolean {
  return op.expect !== undefined && op.value === op.expect;
}

/**
 * Whether `op`'s expectation (if any) holds for `current`, the record as stored now.
 *
 * @example if (!expectationHolds(op, data.get(op.ns)?.get(op.key))) throw new StoreConflictError(op.ns, op.key);
 */
export function expectationHolds(op: StoreOp, current: Uint8Array | undefined): boolean {
  const expected = op.expect;
  if (expected === undefined) return true;
  if (expected === null) return current === undefined;
  return current !== undefined && equalBytes(current, expected);
}

/**
 * The first op whose expectation `current` does not meet, or undefined when all hold.
 * `current(ns, key)` returns the record as stored now (not a copy: it is only compared).
 *
 * @example
 * const failed = firstConflict(ops, (ns, key) => data.get(ns)?.get(key));
 * if (failed) throw new StoreConflictError(failed.ns, failed.key);
 */
export function firstConflict(
  ops: readonly StoreOp[],
  current: (ns: StoreNamespace, key: string) => Uint8Array | undefined,
): StoreOp | undefined {
  for (const op of ops) {
    if (op.expect !== undefined && !expectationHolds(op, current(op.ns, op.key))) return op;
  }
  return undefined;
}

/** Limits that keep one record key sane; stores reject anything else with `ArgumentTypeError`. */
export const MAX_STORE_KEY_LENGTH = 256;

/** Lone surrogates cannot round-trip through UTF-8 (durable stores), so no store accepts them. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Checks one record key against the rules every store shares.
 *
 * @throws {ArgumentTypeError} if `key` is not a string of 1 to 256 characters, or has a lone surrogate.
 */
export function assertStoreKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_STORE_KEY_LENGTH) {
    throw new ArgumentTypeError('store key must be a non-empty string of at most 256 characters');
  }
  if (LONE_SURROGATE.test(key))
    throw new ArgumentTypeError('store key must be well-formed Unicode');
}

/**
 * Checks every op of a commit up front, so that a bad op fails the commit before anything of it
 * is applied (the all-or-nothing rule of {@link StateStore.commit}).
 *
 * @throws {ArgumentTypeError} for an invalid key, or a value that is neither bytes nor `null`.
 */
export function assertStoreOps(ops: readonly StoreOp[]): void {
  for (const op of ops) {
    assertStoreKey(op.key);
    if (op.value !== null && !(op.value instanceof Uint8Array))
      throw new ArgumentTypeError('store value must be bytes or null');
    if (op.expect !== undefined && op.expect !== null && !(op.expect instanceof Uint8Array))
      throw new ArgumentTypeError('store expectation must be bytes, null or absent');
  }
}
