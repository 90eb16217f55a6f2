/**
 * Typed accessors of the protocol's records over the one atomic {@link StateStore}
 * (docs/PROTOCOL.md §9.1): sessions, the local identity, contact pins and verified marks, and
 * private prekeys. Each kind has one namespace and one key form, named here once; reads go
 * straight to the store and writes are {@link StoreOp}s that the caller commits together, so
 * commits stay atomic and conditional exactly as before. The accessors add no allocation and no
 * `await` of their own: the session ones run on every message.
 */
import type { StateStore, StoreOp } from '../state/store.ts';
import { LOCAL_IDENTITY_KEY } from './identity.ts';
import { prekeyStoreKey } from './prekey-records.ts';
import type { PeerAddress } from './ratchet-session.ts';
import { sessionKey } from './session-lock.ts';

/** A write's precondition: the bytes as read, `null` for "absent", `undefined` for none. */
type Expect = Uint8Array | null | undefined;

/**
 * Session records (namespace `session`, key `${address}.${deviceId}`, docs/PROTOCOL.md §5.3.2).
 *
 * @example
 * const key = sessionRecords.key(peer);
 * const raw = await sessionRecords.get(store, key);
 * await store.commit([sessionRecords.put(key, encodeSessionRecord(next), raw ?? null)]);
 */
export const sessionRecords = {
  /**
   * The record key of a peer device.
   *
   * @throws {ArgumentTypeError} on an empty address or a device id that is not a positive u32.
   */
  key: sessionKey,
  /** The encoded record, or undefined. */
  get(store: StateStore, key: string): Promise<Uint8Array | undefined> {
    return store.get('session', key);
  },
  /**
   * Writes (or with `null` deletes) the record, conditional on `expect` when given. `value` is
   * a fresh encoding that nothing else holds, so it is handed to the store (`transfer`).
   */
  put(key: string, value: Uint8Array | null, expect: Expect): StoreOp {
    return { ns: 'session', key, value, expect, transfer: true };
  },
} as const;

/**
 * The device's own identity record (namespace `identity`, key `local`, docs/PROTOCOL.md §1.4).
 *
 * @example
 * await store.commit([localIdentityRecord.put(encodeLocalIdentity(me))]);
 */
export const localIdentityRecord = {
  get(store: StateStore): Promise<Uint8Array | undefined> {
    return store.get('identity', LOCAL_IDENTITY_KEY);
  },
  put(value: Uint8Array): StoreOp {
    return { ns: 'identity', key: LOCAL_IDENTITY_KEY, value };
  },
} as const;

/**
 * Contact pins (namespace `contact`, key as a session's) and verified marks (namespace `meta`,
 * key `verified.<address>`) (docs/PROTOCOL.md §9.6).
 *
 * @example
 * const pin = await pinRecords.get(store, pinRecords.key(peer));
 * await pins.commit([pinRecords.put(pinRecords.key(peer), identity, pin ?? null)]);
 */
export const pinRecords = {
  /** The pin key of a contact device (the same string as its session key). */
  key(peer: PeerAddress): string {
    return `${peer.address}.${peer.deviceId}`;
  },
  /** The pinned `IdentityBundle`, or undefined. */
  get(store: StateStore, key: string): Promise<Uint8Array | undefined> {
    return store.get('contact', key);
  },
  /** Pins `identity`, conditional on `expect` when given. */
  put(key: string, identity: Uint8Array | null, expect?: Expect): StoreOp {
    return expect === undefined
      ? { ns: 'contact', key, value: identity }
      : { ns: 'contact', key, value: identity, expect };
  },
  /** The key of a contact's verified mark. */
  verifiedKey(address: string): string {
    return `verified.${address}`;
  },
  /** The account key the app marked as verified for `address`, or undefined. */
  getVerified(store: StateStore, address: string): Promise<Uint8Array | undefined> {
    return store.get('meta', `verified.${address}`);
  },
  /** Sets (`accountPublic`) or clears (`null`) the verified mark of `address`. */
  putVerified(address: string, accountPublic: Uint8Array | null): StoreOp {
    return { ns: 'meta', key: `verified.${address}`, value: accountPublic };
  },
} as const;

/** One kind of private prekey record, keyed by its decimal id (docs/PROTOCOL.md §3.5). */
export interface PrekeyRecords {
  get(store: StateStore, id: number): Promise<Uint8Array | undefined>;
  put(id: number, value: Uint8Array): StoreOp;
  delete(id: number): StoreOp;
}

function prekeyRecords(ns: 'signedPrekey' | 'oneTimePrekey' | 'kemPrekey'): PrekeyRecords {
  return {
    get: (store, id) => store.get(ns, prekeyStoreKey(id)),
    put: (id, value) => ({ ns, key: prekeyStoreKey(id), value }),
    delete: (id) => ({ ns, key: prekeyStoreKey(id), value: null }),
  };
}

/**
 * Signed, one-time and KEM prekey records (namespaces `signedPrekey`, `oneTimePrekey`,
 * `kemPrekey`).
 *
 * @example
 * const bytes = await prekeyRecordsOf.oneTime.get(store, 42);
 * consumeOps.push(prekeyRecordsOf.oneTime.delete(42));
 * @throws {ArgumentRangeError} from every accessor if `id` is not a prekey id (1..=2^32-1).
 */
export const prekeyRecordsOf = {
  signed: prekeyRecords('signedPrekey'),
  oneTime: prekeyRecords('oneTimePrekey'),
  kem: prekeyRecords('kemPrekey'),
} as const;
