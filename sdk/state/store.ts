/**
 * The client state storage port. Deliberately tiny: namespaced byte records plus one atomic
 * multi-record commit. Everything the protocol needs to persist (identity, prekeys, sessions,
 * seen message ids, pinned contact identities) is a versioned record encoded by its owner.
 *
 * Atomicity is the whole point: decrypting a message changes a session *and* may consume a
 * one-time prekey *and* marks the message id seen; those must land together or not at all
 * (docs/PROTOCOL.md, "Crash safety").
 */

/** Record namespaces. Keys inside a namespace are short ASCII strings. */
export type StoreNamespace =
  | 'identity'
  | 'signedPrekey'
  | 'oneTimePrekey'
  | 'kemPrekey'
  | 'session'
  | 'seen'
  | 'contact'
  | 'meta';

/** Put (value is bytes) or delete (value is null). */
export interface StoreOp {
  readonly ns: StoreNamespace;
  readonly key: string;
  readonly value: Uint8Array | null;
}

export interface StateStore {
  /** The record, or undefined. Returned bytes are the caller's to keep (a copy). */
  get(ns: StoreNamespace, key: string): Promise<Uint8Array | undefined>;
  /** Every key in a namespace, in no particular order. */
  keys(ns: StoreNamespace): Promise<string[]>;
  /** Applies every op or none (all-or-nothing even across a crash for durable stores). */
  commit(ops: readonly StoreOp[]): Promise<void>;
}

/** Limits that keep one record key sane; stores reject anything else with `TypeError`. */
export const MAX_STORE_KEY_LENGTH = 256;

/** Lone surrogates cannot round-trip through UTF-8 (durable stores), so no store accepts them. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Checks one record key against the rules every store shares.
 *
 * @throws {TypeError} if `key` is not a string of 1 to 256 characters, or has a lone surrogate.
 */
export function assertStoreKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_STORE_KEY_LENGTH) {
    throw new TypeError('store key must be a non-empty string of at most 256 characters');
  }
  if (LONE_SURROGATE.test(key)) throw new TypeError('store key must be well-formed Unicode');
}

/**
 * Checks every op of a commit up front, so that a bad op fails the commit before anything of it
 * is applied (the all-or-nothing rule of {@link StateStore.commit}).
 *
 * @throws {TypeError} for an invalid key, or a value that is neither bytes nor `null`.
 */
export function assertStoreOps(ops: readonly StoreOp[]): void {
  for (const op of ops) {
    assertStoreKey(op.key);
    if (op.value !== null && !(op.value instanceof Uint8Array))
      throw new TypeError('store value must be bytes or null');
  }
}
