/**
 * Ports of the mailbox service: the storage and configuration interfaces the domain services
 * depend on. Each has a DynamoDB/S3 adapter and an in-memory adapter that pass the same
 * contract tests (test/integration/contracts). Nothing here knows about HTTP or AWS.
 */

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
 * One registered device. Ids are 1..=MAX_DEVICES (design §1) and are reused after removal;
 * the registration id tells the generations of one id apart.
 */
export interface DeviceRecord {
  readonly deviceId: number;
  /** The 160-byte IdentityBundle (design §1). */
  readonly identity: Uint8Array;
  readonly signedPrekey: StoredSignedPrekey;
  readonly lastResortKemPrekey: StoredKemPrekey;
  readonly createdAt: number;
}

/** The account record. No password, no profile: keys, the access-key hash and a setting. */
export interface AccountRecord {
  readonly address: string;
  readonly accountPublic: Uint8Array;
  /** SHA-256 of the 16-byte delivery access key. */
  readonly accessKeyHash: Uint8Array;
  /** Accept sealed sends without an access key. */
  readonly unrestricted: boolean;
  readonly createdAt: number;
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
  /** Changes settings of an existing account. False if the account does not exist. */
  updateSettings(
    address: string,
    settings: { accessKeyHash?: Uint8Array; unrestricted?: boolean },
  ): Promise<boolean>;
  /** Replaces a device's signed prekey and/or last-resort KEM prekey. False if no such device. */
  updateDeviceKeys(
    address: string,
    deviceId: number,
    keys: { signedPrekey?: StoredSignedPrekey; lastResortKemPrekey?: StoredKemPrekey },
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

/** One stored message: the envelope inline (operator option), or the key of its object. */
export interface IndexEntry {
  /** 16-byte client-chosen id (u48 ms || random): what the sender retries with and what the
   * recipient acknowledges. */
  readonly messageId: Uint8Array;
  readonly receivedAt: number;
  /** The message is never returned at or after this time, even before storage removes it. */
  readonly expiresAt: number;
  /** Envelope size in bytes. */
  readonly size: number;
  readonly inline?: Uint8Array;
  readonly objectKey?: string;
  readonly source?: MessageSource;
}

/**
 * One record of a mailbox's message range, at a 16-byte position that sorts like a message id
 * (u48 ms || 80 bits). A message sits at its own id, or, when it arrived late, at a position
 * the service chose at arrival; a redirect sits at the late message's id and names that
 * position, so a retried send still finds it; a tombstone replaces an acknowledged message the
 * cursor had no room for, so a retried send still finds that it was stored
 * (docs/SERVICE.md §7.2, §8.4).
 */
export type MailboxRecord =
  | { readonly kind: 'message'; readonly position: Uint8Array; readonly entry: IndexEntry }
  | {
      readonly kind: 'redirect';
      readonly position: Uint8Array;
      readonly target: Uint8Array;
      readonly expiresAt: number;
    }
  | { readonly kind: 'tombstone'; readonly position: Uint8Array; readonly expiresAt: number };

/** Counted messages and bytes of a mailbox (the approximate quota counter). */
export interface MailboxUsage {
  readonly count: number;
  readonly bytes: number;
}

/** A mailbox's acknowledgement state (docs/SERVICE.md §7.2). */
export interface AckCursor {
  /** Every record at or before this position is acknowledged, expired or a redirect. */
  readonly watermark?: Uint8Array;
  /** Acknowledged positions after the watermark, ascending. */
  readonly acked: readonly Uint8Array[];
  /** Bumped by every write (optimistic concurrency); 0 when none is stored. */
  readonly revision: number;
  readonly expiresAt: number;
}

/** One page of a range read of a mailbox. */
export interface ScanPage {
  /** Records in position order, expired ones included. */
  readonly records: MailboxRecord[];
  /** Whether records may follow the last one within the range. */
  readonly more: boolean;
  /** The stored counter, when an open-ended scan reached the end of the mailbox. */
  readonly usage?: MailboxUsage;
}

/**
 * A mailbox per device generation: message records, the acknowledgement cursor and the usage
 * counter. Storage only; the watermark rules live in the domain (`mailbox-log.ts`).
 */
export interface MessageIndex {
  /** Stores a record unless one exists at its position. True if stored. */
  insert(mailbox: Mailbox, record: MailboxRecord): Promise<boolean>;
  /** The record at `position`, strongly consistent. */
  get(mailbox: Mailbox, position: Uint8Array): Promise<MailboxRecord | undefined>;
  /**
   * Moves a redirect from `from` to `to`, only if it still names `from`. False otherwise.
   */
  retarget(
    mailbox: Mailbox,
    position: Uint8Array,
    from: Uint8Array,
    to: Uint8Array,
  ): Promise<boolean>;
  /**
   * Up to `limit` records strictly after `after` (from the start when absent) and at most
   * `through` (to the end when absent), oldest first, strongly consistent.
   */
  scan(
    mailbox: Mailbox,
    options: { after?: Uint8Array; through?: Uint8Array; limit: number },
  ): Promise<ScanPage>;
  /** Replaces the records at `positions` with tombstones that expire at `expiresAt`. */
  bury(mailbox: Mailbox, positions: readonly Uint8Array[], expiresAt: number): Promise<void>;
  /** The acknowledgement cursor, strongly consistent; undefined if none is stored. */
  cursor(mailbox: Mailbox): Promise<AckCursor | undefined>;
  /**
   * Writes the cursor with revision `expectedRevision + 1` if the stored revision is still
   * `expectedRevision` (0: none stored). False on a concurrent write.
   */
  saveCursor(
    mailbox: Mailbox,
    cursor: { watermark?: Uint8Array; acked: readonly Uint8Array[]; expiresAt: number },
    expectedRevision: number,
  ): Promise<boolean>;
  /** The usage counter, eventually consistent (quota checks are approximate by design). */
  usage(mailbox: Mailbox): Promise<MailboxUsage | undefined>;
  /** Adds (or with negative values subtracts) to the usage counter. */
  addUsage(mailbox: Mailbox, delta: MailboxUsage): Promise<void>;
  /** Overwrites the usage counter (reconciliation after a full read). */
  setUsage(mailbox: Mailbox, usage: MailboxUsage): Promise<void>;
}

/** Envelope objects (every envelope unless the operator enabled inline storage). */
export interface BlobStore {
  /**
   * Stores the envelope under a key derived from mailbox and message id, unless that object
   * exists already (a retry). Returns the key.
   */
  putIfAbsent(mailbox: Mailbox, messageId: Uint8Array, body: Uint8Array): Promise<string>;
  /** The object's bytes, or undefined if it does not exist. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Deletes objects; missing ones are ignored. */
  deleteMany(keys: readonly string[]): Promise<void>;
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
  /** Encoded ServerCertificate (design §6) endorsing the server key. */
  readonly serverCertificate: Uint8Array;
  /** 32-byte Ed25519 trust root public key. */
  readonly trustRoot: Uint8Array;
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
}
