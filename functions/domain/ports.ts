/**
 * Ports of the mailbox service: the storage and configuration interfaces the domain services
 * depend on. Each has a DynamoDB/S3 adapter and an in-memory adapter that pass the same
 * contract tests (test/integration/contracts). Nothing here knows about HTTP or AWS.
 */
import type { DeviceCapability, FirstContactMode } from 'sealpost/wire/api';

/** Milliseconds since the Unix epoch; injected so tests control time. */
export type Clock = () => number;

/** A signed X25519 prekey as stored. */
export interface StoredSignedPrekey {
  readonly id: number;
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
}

/** An unsigned one-time X25519 prekey as stored. */
export interface StoredOneTimePrekey {
  readonly id: number;
  readonly publicKey: Uint8Array;
}

/** A signed ML-KEM-1024 prekey as stored (one-time or last resort by where it is kept). */
export interface StoredKemPrekey {
  readonly id: number;
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
}

/**
 * One registered device. Ids are 1..=MAX_DEVICES (docs/SERVICE.md §4) and are reused after removal;
 * the registration id tells the generations of one id apart.
 */
export interface DeviceRecord {
  readonly deviceId: number;
  /** The 172-byte IdentityBundle (docs/PROTOCOL.md §1.3). */
  readonly identity: Uint8Array;
  readonly signedPrekey: StoredSignedPrekey;
  readonly lastResortKemPrekey: StoredKemPrekey;
  /**
   * The device's ristretto255 franking public key (docs/PROTOCOL.md §11.1), named in its
   * sender certificates and served with its bundles.
   */
  readonly frankingKey: Uint8Array;
  readonly createdAt: number;
  /**
   * What the device's client announced it can receive (docs/SERVICE.md §4.2): only the known
   * {@link DEVICE_CAPABILITIES}, each once; absent on records written before capabilities.
   */
  readonly capabilities?: readonly DeviceCapability[];
}

/** The account record. No password, no profile: keys, the access-key hash and a setting. */
export interface AccountRecord {
  readonly address: string;
  readonly accountPublic: Uint8Array;
  /** SHA-256 of the 16-byte delivery access key. */
  readonly accessKeyHash: Uint8Array;
  /**
   * Accept sealed sends without an access key: the older spelling of `firstContact: 'anyone'`,
   * kept equal to it by every write (an item written before first-contact modes has only this).
   */
  readonly unrestricted: boolean;
  /**
   * Who may start a conversation (docs/SERVICE.md §15.1). Adapters fill it on read; a record
   * without it reads as `anyone` when `unrestricted`, else `requests` ({@link firstContactOf}).
   */
  readonly firstContact?: FirstContactMode;
  readonly createdAt: number;
  /**
   * Set while an operator has suspended the account (docs/SERVICE.md §14.5): no sender
   * certificates, identified sends or attachment uploads. Written only by the suspension store.
   */
  readonly suspendedAt?: number;
  /** The operator's reason, with `suspendedAt`. */
  readonly suspensionReason?: string;
}

/** What {@link AccountStore.updateSettings} changes. */
export interface AccountSettingsUpdate {
  readonly accessKeyHash?: Uint8Array;
  /** Ignored when `firstContact` is given (which sets it). */
  readonly unrestricted?: boolean;
  readonly firstContact?: FirstContactMode;
}

/**
 * The first-contact mode of an account record: its `firstContact`, or for a record written
 * before modes existed `anyone` when it was unrestricted and `requests` otherwise.
 *
 * @example if (firstContactOf(view.account) === 'contacts') throw notAuthorized();
 */
export function firstContactOf(account: AccountRecord): FirstContactMode {
  return account.firstContact ?? (account.unrestricted ? 'anyone' : 'requests');
}

/** An account with its active devices, ordered by id. */
export interface AccountView {
  readonly account: AccountRecord;
  readonly devices: readonly DeviceRecord[];
}

/** Accounts and devices. */
export interface AccountStore {
  /** Creates the account with device 1. False (and no change) if the address exists. */
  create(account: AccountRecord, firstDevice: DeviceRecord): Promise<boolean>;
  /** The account and its devices, or undefined. Strongly consistent. */
  get(address: string): Promise<AccountView | undefined>;
  /**
   * Adds `device` under its id unless a device holds that id (two concurrent adds cannot take
   * one id). False if the id is taken.
   */
  addDevice(address: string, device: DeviceRecord): Promise<boolean>;
  /** Removes a device record. False if it did not exist. */
  removeDevice(address: string, deviceId: number): Promise<boolean>;
  /**
   * Changes settings of an existing account. False if the account does not exist. A
   * `firstContact` is written together with `unrestricted` (`anyone` ⇔ true).
   */
  updateSettings(address: string, settings: AccountSettingsUpdate): Promise<boolean>;
  /** Replaces a device's signed prekey and/or last-resort KEM prekey. False if no such device. */
  updateDeviceKeys(
    address: string,
    deviceId: number,
    keys: {
      signedPrekey?: StoredSignedPrekey;
      lastResortKemPrekey?: StoredKemPrekey;
      /** Replaces the device's capabilities (a prekey upload that announces them). */
      capabilities?: readonly DeviceCapability[];
    },
  ): Promise<boolean>;
}

/**
 * One generation of a device: its id plus its registration id. Mailboxes and one-time prekeys
 * are kept per generation, so a device that reuses a removed device's id never sees the old
 * device's messages or hands out its keys.
 */
export interface DeviceRef {
  readonly address: string;
  readonly deviceId: number;
  /** u32 from the first 4 bytes of SHA-256(IdentityBundle). */
  readonly registrationId: number;
}

/** One-time prekeys of every device generation. */
export interface PrekeyStore {
  /** Stores one-time keys (an existing id is overwritten). */
  addOneTime(
    device: DeviceRef,
    ec: readonly StoredOneTimePrekey[],
    pq: readonly StoredKemPrekey[],
  ): Promise<void>;
  /** How many one-time keys of each kind are stored. */
  count(device: DeviceRef): Promise<{ ec: number; pq: number }>;
  /**
   * Atomically removes and returns one one-time EC key and one one-time KEM key, if any: a key
   * is handed to at most one caller, even under concurrency.
   */
  claim(device: DeviceRef): Promise<{ ec?: StoredOneTimePrekey; pq?: StoredKemPrekey }>;
  /** Deletes every one-time key of a device generation (device removal). */
  deleteAll(device: DeviceRef): Promise<void>;
}

/** A device generation's mailbox. */
export type Mailbox = DeviceRef;

/** The sender of an identified send (never present for a sealed send). */
export interface MessageSource {
  readonly address: string;
  readonly deviceId: number;
}

/** Bytes of a mailbox position: `u64 sequence number || 8 server-random bytes`. */
export const POSITION_BYTES = 16;

/**
 * One stored message of a mailbox (docs/SERVICE.md §8.1). Its envelope is inline (operator
 * option) or in the blob store under a key derived from mailbox and position. No field holds
 * the sender's request id, and every time is a whole hour.
 */
export interface StoredMessage {
  /** Server-assigned: orders the mailbox, and is what the recipient acknowledges. */
  readonly position: Uint8Array;
  /** Receipt time rounded down to the hour. */
  readonly receivedAt: number;
  /** Never returned at or after this time (a whole hour), even before storage removes it. */
  readonly expiresAt: number;
  /** Envelope size in bytes. */
  readonly size: number;
  /**
   * The envelope, when stored inline; otherwise it is in the blob store. For a message of a
   * multi-recipient send, always inline: the device's header (docs/PROTOCOL.md §14.8).
   */
  readonly inline?: Uint8Array;
  /**
   * The id ({@link PAYLOAD_ID_BYTES}) of the shared payload this record's header references
   * (multi-recipient sends only); the payload is in the {@link SharedPayloadStore}.
   */
  readonly payload?: Uint8Array;
  /** Present only for identified sends. */
  readonly source?: MessageSource;
}

/** Exact stored messages and bytes of a mailbox (the quota counter). */
export interface MailboxUsage {
  readonly count: number;
  readonly bytes: number;
}

/** What a store asks of the mailbox counter (docs/SERVICE.md §8.4). */
export interface Reservation {
  /** 16-byte retry key of the send request, already keyed to this mailbox (not the raw id). */
  readonly retryKey: Uint8Array;
  /** 8 fresh random bytes: the position's tail if this is a new store. */
  readonly random: Uint8Array;
  readonly size: number;
  readonly maxMessages: number;
  readonly maxBytes: number;
  /**
   * The shared payload id the store will reference (multi-recipient sends): remembered with
   * the retry key, so a retry of the request finds the id it stored under.
   */
  readonly payload?: Uint8Array;
}

/**
 * The counter's answer: a fresh sequence number (`new`), the position of the mailbox's last
 * store because it was made with the same retry key (`retry`), or `full`.
 */
export type Reserved =
  | {
      readonly kind: 'new' | 'retry';
      readonly seq: bigint;
      readonly random: Uint8Array;
      /** After a new store: the messages counted with this one (1: the mailbox was empty). */
      readonly count?: number;
      /** For a retry: the payload id the earlier store reserved with, if it named one. */
      readonly payload?: Uint8Array;
    }
  | { readonly kind: 'full' };

/** One page of a mailbox read. */
export interface MessagePage {
  /** Records in position order, expired ones included. */
  readonly records: StoredMessage[];
  /** Whether records may follow the last one. */
  readonly more: boolean;
  /**
   * When the read reached the end of the mailbox: the counter as read with it (absent if the
   * mailbox never stored anything).
   */
  readonly counter?: MailboxUsage & { readonly seq: bigint };
}

/**
 * A mailbox per device generation: message records in position order and a counter item that
 * assigns positions and counts usage exactly. Acknowledged records are deleted, not hidden.
 */
export interface MessageIndex {
  /**
   * In one conditional write: takes the next sequence number and adds the message to the usage,
   * unless the last store used the same retry key (a retry: its position is returned) or the
   * message would pass a quota. The counter never expires, so positions never repeat.
   */
  reserve(mailbox: Mailbox, reservation: Reservation): Promise<Reserved>;
  /** Writes a record unless one exists at its position. True if written. */
  put(mailbox: Mailbox, record: StoredMessage): Promise<boolean>;
  /**
   * Up to `limit` records strictly after `after` (from the start when absent), in position
   * order, eventually consistent.
   */
  list(mailbox: Mailbox, options: { after?: Uint8Array; limit: number }): Promise<MessagePage>;
  /** Deletes the records at `positions`; returns the ones that existed. */
  remove(mailbox: Mailbox, positions: readonly Uint8Array[]): Promise<StoredMessage[]>;
  /** Subtracts removed messages from the usage counter. */
  release(mailbox: Mailbox, usage: MailboxUsage): Promise<void>;
  /**
   * Sets the usage to what a full read found, only if no store took a sequence number since
   * (the counter's `seq` is still `seq`). False otherwise.
   */
  reconcile(mailbox: Mailbox, seq: bigint, usage: MailboxUsage): Promise<boolean>;
}

/**
 * Envelope objects (every envelope unless the operator enabled inline storage), keyed by
 * mailbox and position, so deleting one needs no read.
 */
export interface BlobStore {
  /** Stores the envelope unless its object exists already (a retry). */
  put(mailbox: Mailbox, position: Uint8Array, body: Uint8Array): Promise<void>;
  /** The object's bytes, or undefined if it does not exist. */
  get(mailbox: Mailbox, position: Uint8Array): Promise<Uint8Array | undefined>;
  /** Deletes the objects of `positions`; missing ones are ignored. */
  deleteMany(mailbox: Mailbox, positions: readonly Uint8Array[]): Promise<void>;
}

/** Bytes of a shared payload's id: 16 random bytes the service draws per request (§14.8). */
export const PAYLOAD_ID_BYTES = 16;

/**
 * Shared payloads of multi-recipient sends (docs/PROTOCOL.md §14.8, docs/SERVICE.md §8.5): one
 * object per payload, and a reference set per payload naming the positions (16 bytes each) of
 * the records that reference it. The set, not a count, so that adding is idempotent (a retry
 * adds nothing twice) and removing one record's reference twice removes it once.
 */
export interface SharedPayloadStore {
  /**
   * Adds `refs` (record positions) to the payload's reference set, creating it to expire with
   * the messages (`expiresAt`, ms); a set union, so a retry changes nothing.
   */
  addRefs(id: Uint8Array, refs: readonly Uint8Array[], expiresAt: number): Promise<void>;
  /** Stores the payload unless its object exists already (a retry). */
  put(id: Uint8Array, body: Uint8Array): Promise<void>;
  /** The payload's bytes, or undefined if it does not exist. */
  get(id: Uint8Array): Promise<Uint8Array | undefined>;
  /**
   * Removes `ref` from the payload's set; when no reference remains, deletes the set and the
   * object. Removing a reference that is not in the set changes nothing else.
   */
  release(id: Uint8Array, ref: Uint8Array): Promise<void>;
}

/** What {@link BlockStore.add} did. */
export type BlockAddResult = 'added' | 'exists' | 'limit';

/**
 * Which accounts an account blocks (docs/SERVICE.md §4.1): one record per (owner, blocked)
 * pair and an exact count per owner, so the limit holds under concurrent adds.
 */
export interface BlockStore {
  /**
   * Records that `owner` blocks `blocked`, unless it does already (`exists`) or already blocks
   * `limit` accounts (`limit`, nothing changed).
   */
  add(owner: string, blocked: string, limit: number): Promise<BlockAddResult>;
  /** Removes the pair; false if `owner` did not block `blocked`. */
  remove(owner: string, blocked: string): Promise<boolean>;
  /** Whether `owner` blocks `sender`. Strongly consistent. */
  has(owner: string, sender: string): Promise<boolean>;
  /** Every account `owner` blocks, in address order. */
  list(owner: string): Promise<string[]>;
}

/** Single-use tokens (request nonces, registration proofs). */
export interface ReplayStore {
  /**
   * Records `token` until `expiresAt`. True on first use; false if it was recorded before and
   * has not expired (a replay).
   */
  consume(token: string, expiresAt: number, now: number): Promise<boolean>;
}

/** Fixed-window rate limiting. */
export interface RateLimiter {
  /** Counts one event for `key` in the window containing `now`; false if over `limit`. */
  hit(key: string, limit: number, windowMs: number, now: number): Promise<boolean>;
}

/** The server's signing material (docs/SERVICE.md §Certificates). */
export interface SigningMaterial {
  readonly keyId: number;
  /** 32-byte Ed25519 seed of the server key. Never logged. */
  readonly serverSeed: Uint8Array;
  /** Encoded ServerCertificate (docs/PROTOCOL.md §6.2) endorsing the server key. */
  readonly serverCertificate: Uint8Array;
  /** 32-byte Ed25519 trust root public key. */
  readonly trustRoot: Uint8Array;
  /** Key id of the moderator (franking judge) key (docs/PROTOCOL.md §11.2). */
  readonly moderatorKeyId: number;
  /** 32-byte ristretto255 scalar of the moderator key. Never logged. */
  readonly moderatorSecret: Uint8Array;
  /** Its public key (derived from `moderatorSecret`). */
  readonly moderatorPublic: Uint8Array;
  /** Encoded ModeratorCertificate (109 bytes) by the trust root, naming the moderator key. */
  readonly moderatorCertificate: Uint8Array;
  /** 32 random bytes the delivery stamp keys derive from (docs/PROTOCOL.md §11.4). Never logged. */
  readonly stampSecret: Uint8Array;
}

/** Source of the signing material (Secrets Manager on AWS, a local file in development). */
export interface SigningKeyProvider {
  get(): Promise<SigningMaterial>;
}

/** Every port the domain services need (one adapter set per environment). */
export interface Ports {
  readonly accounts: AccountStore;
  readonly prekeys: PrekeyStore;
  readonly index: MessageIndex;
  readonly blobs: BlobStore;
  readonly replay: ReplayStore;
  readonly limiter: RateLimiter;
  readonly signingKeys: SigningKeyProvider;
  /** Block lists (docs/SERVICE.md §4.1). */
  readonly blocks: BlockStore;
  /** Shared payloads of multi-recipient sends (docs/SERVICE.md §8.5). */
  readonly payloads: SharedPayloadStore;
}
