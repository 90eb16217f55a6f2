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

/** One message in a mailbox index: the envelope inline, or the key of its object. */
export interface IndexEntry {
  /** 16-byte client-chosen id (u48 ms || random), the sort key: oldest first. */
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

/** Counted messages and bytes of a mailbox (the quota counter). */
export interface MailboxUsage {
  readonly count: number;
  readonly bytes: number;
}

/** One page of a mailbox listing. */
export interface IndexPage {
  readonly entries: IndexEntry[];
  readonly more: boolean;
  readonly last?: Uint8Array;
  readonly usage?: MailboxUsage;
}

/** The per-device message index (and the mailbox's quota counter). */
export interface MessageIndex {
  /** Stores an entry unless one with its id exists. True if stored, false if it existed. */
  put(mailbox: Mailbox, entry: IndexEntry): Promise<boolean>;
  /**
   * Scans up to `limit` entries, oldest first, strictly after `after` when given, and returns
   * the unexpired ones. `more` says whether entries may follow `last`, the id of the last
   * entry scanned (expired or not). `usage` is the stored counter, returned only when the
   * rest of the mailbox was read (so the caller can reconcile it).
   */
  list(
    mailbox: Mailbox,
    options: { limit: number; after?: Uint8Array; now: number },
  ): Promise<IndexPage>;
  /** Deletes entries by id; returns the entries that existed. */
  remove(mailbox: Mailbox, messageIds: readonly Uint8Array[]): Promise<IndexEntry[]>;
  /** Adds to the usage counter unless that would pass a limit. False if it would. */
  reserve(mailbox: Mailbox, add: MailboxUsage, limit: MailboxUsage): Promise<boolean>;
  /** Subtracts from the usage counter (not below zero). */
  release(mailbox: Mailbox, sub: MailboxUsage): Promise<void>;
  /** Overwrites the usage counter (reconciliation after expiry). */
  setUsage(mailbox: Mailbox, usage: MailboxUsage): Promise<void>;
}

/** Envelope objects too large to keep inline in the index. */
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

/** The server's signing material (docs/protocol/10-service.md §Certificates). */
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
