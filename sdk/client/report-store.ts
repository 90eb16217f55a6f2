/**
 * The openings store (docs/SDK.md §Reporting): for every message from another account that the
 * client hands to the app, what a later report of it needs (docs/PROTOCOL.md §11.6), committed
 * with the message itself. Without a record a message cannot be reported: the opening key and
 * the stamp exist nowhere else.
 *
 * | namespace | key | value |
 * |---|---|---|
 * | report | `<address>.<receivedAt, 16 digits>.<messageId, 32 hex digits>` | see {@link encodeReportRecord} |
 *
 * The key sorts one sender's records by receipt (then mailbox position) and lists them by
 * prefix without reading a value; the hex id keeps the mailbox's byte order, which base64url
 * would not. Bounded by age (`reportRetentionDays`, by `receivedAt`) and by count
 * (`maxReportableMessages`, the oldest go first); pruning runs at open, after stored messages
 * and on receive batches.
 */
import { StateCorruptError } from '../errors.ts';
import type { StateStore, StoreOp } from '../state/store.ts';
import { ArgumentRangeError, ArgumentTypeError } from '../util/argument-errors.ts';
import { assertBytes, ByteReader, ByteWriter, fromHex, toHex } from '../util/bytes.ts';
import { tryFromBase64Url } from '../wire/api/codec.ts';
import { MESSAGE_ID_BYTES } from '../wire/api/limits.ts';
import { MAX_SENDER_CERTIFICATE_BYTES } from '../wire/certificates.ts';
import { ADDRESS_BYTES, addressFromBytes, addressToBytes, isAddress } from '../wire/identity.ts';
import { MAX_PLAINTEXT_BYTES } from '../wire/messages.ts';
import {
  FRANKING_COMMITMENT_BYTES as COMMITMENT_BYTES,
  FRANKING_MESSAGE_SIGNATURE_BYTES as MESSAGE_SIGNATURE_BYTES,
  FRANKING_OPENING_KEY_BYTES as OPENING_KEY_BYTES,
  FRANKING_SESSION_KEY_BYTES as SESSION_KEY_BYTES,
  FRANKING_SIGNATURE_BYTES as SIGNATURE_BYTES,
} from '../wire/sealed.ts';

/** Version byte of a report record. */
export const REPORT_RECORD_VERSION = 1;
/** Days a record is kept after the message's `receivedAt`. @default */
export const DEFAULT_REPORT_RETENTION_DAYS = 30;
/** Longest retention an app may choose (days). */
export const MAX_REPORT_RETENTION_DAYS = 180;
/** Records kept at most. @default */
export const DEFAULT_MAX_REPORTABLE_MESSAGES = 5_000;
/** Largest `maxReportableMessages` an app may choose. */
export const MAX_REPORTABLE_MESSAGES_LIMIT = 100_000;

const NS = 'report';
const DAY_MS = 86_400_000;
const STAMP_BYTES = 32;
/** Digits of `receivedAt` in a key: every safe integer fits. */
const TIME_DIGITS = 16;
/** Retention pruning runs at most this often when nothing else asks for it. */
const PRUNE_INTERVAL_MS = 60 * 60 * 1000;
const FIXED_BYTES =
  1 +
  ADDRESS_BYTES +
  4 +
  MESSAGE_ID_BYTES +
  8 +
  8 +
  STAMP_BYTES +
  COMMITMENT_BYTES +
  OPENING_KEY_BYTES +
  4 +
  SESSION_KEY_BYTES +
  SIGNATURE_BYTES +
  MESSAGE_SIGNATURE_BYTES;

/** What a report of one received message needs, and whose it is. */
export interface ReportRecord {
  /** The message's position in this device's mailbox (16 bytes, the delivered `messageId`). */
  readonly messageId: Uint8Array;
  /** The server's receipt time, rounded down to the hour (ms). */
  readonly receivedAt: number;
  /** This device's clock when the record was stored (ms). */
  readonly storedAt: number;
  /** The sender device, as its certificate names it. */
  readonly sender: { readonly address: string; readonly deviceId: number };
  /** The service's delivery stamp (32 bytes). */
  readonly stamp: Uint8Array;
  /** The franking commitment (32 bytes) and its opening key (32 bytes). */
  readonly commitment: Uint8Array;
  readonly openingKey: Uint8Array;
  /** The decrypted plaintext: the content frame the commitment opens to. */
  readonly content: Uint8Array;
  /** The sender certificate from the envelope. */
  readonly senderCertificate: Uint8Array;
  readonly moderatorKeyId: number;
  /** The franking session key (32 bytes). */
  readonly sessionKey: Uint8Array;
  /** The asymmetric franking signature over the session (304 bytes). */
  readonly signature: Uint8Array;
  /** The session key's Ed25519 signature over the message (64 bytes). */
  readonly messageSignature: Uint8Array;
}

/** Retention and size of the openings store, checked by {@link reportPolicy}. */
export interface ReportPolicy {
  readonly retentionMs: number;
  readonly maxRecords: number;
}

/**
 * The policy of the client options `reportRetentionDays` (1..180, default 30) and
 * `maxReportableMessages` (1..100,000, default 5,000).
 *
 * @example reportPolicy({ reportRetentionDays: 7 }) // { retentionMs: 604800000, maxRecords: 5000 }
 * @throws {ArgumentRangeError} for a value out of range or not an integer.
 */
export function reportPolicy(options: {
  readonly reportRetentionDays?: number | undefined;
  readonly maxReportableMessages?: number | undefined;
}): ReportPolicy {
  const days = options.reportRetentionDays ?? DEFAULT_REPORT_RETENTION_DAYS;
  if (!Number.isInteger(days) || days < 1 || days > MAX_REPORT_RETENTION_DAYS) {
    throw new ArgumentRangeError(
      `reportRetentionDays must be an integer from 1 to ${MAX_REPORT_RETENTION_DAYS}`,
    );
  }
  const max = options.maxReportableMessages ?? DEFAULT_MAX_REPORTABLE_MESSAGES;
  if (!Number.isInteger(max) || max < 1 || max > MAX_REPORTABLE_MESSAGES_LIMIT) {
    throw new ArgumentRangeError(
      `maxReportableMessages must be an integer from 1 to ${MAX_REPORTABLE_MESSAGES_LIMIT}`,
    );
  }
  return { retentionMs: days * DAY_MS, maxRecords: max };
}

/**
 * Encodes a record: `u8 1 || address(20) || u32 deviceId || messageId(16) || u64 receivedAt
 * || u64 storedAt || stamp(32) || commitment(32) || openingKey(32) || u32 moderatorKeyId
 * || sessionKey(32) || signature(304) || messageSignature(64) || var16(senderCertificate)
 * || var32(content)`.
 *
 * @example const value = encodeReportRecord(record);
 * @throws {ArgumentTypeError | ArgumentRangeError} naming a field of the wrong type or size.
 */
export function encodeReportRecord(r: ReportRecord): Uint8Array {
  assertBytes(r.messageId, 'messageId', MESSAGE_ID_BYTES);
  assertBytes(r.stamp, 'stamp', STAMP_BYTES);
  assertBytes(r.commitment, 'commitment', COMMITMENT_BYTES);
  assertBytes(r.openingKey, 'openingKey', OPENING_KEY_BYTES);
  assertBytes(r.sessionKey, 'sessionKey', SESSION_KEY_BYTES);
  assertBytes(r.signature, 'signature', SIGNATURE_BYTES);
  assertBytes(r.messageSignature, 'messageSignature', MESSAGE_SIGNATURE_BYTES);
  assertBytes(r.senderCertificate, 'senderCertificate');
  assertBytes(r.content, 'content');
  if (r.senderCertificate.length > MAX_SENDER_CERTIFICATE_BYTES) {
    throw new ArgumentRangeError('senderCertificate is too long');
  }
  if (r.content.length > MAX_PLAINTEXT_BYTES) throw new ArgumentRangeError('content is too long');
  return new ByteWriter(FIXED_BYTES + 6 + r.senderCertificate.length + r.content.length)
    .u8(REPORT_RECORD_VERSION)
    .bytes(addressToBytes(r.sender.address))
    .u32(r.sender.deviceId)
    .bytes(r.messageId)
    .u64(r.receivedAt)
    .u64(r.storedAt)
    .bytes(r.stamp)
    .bytes(r.commitment)
    .bytes(r.openingKey)
    .u32(r.moderatorKeyId)
    .bytes(r.sessionKey)
    .bytes(r.signature)
    .bytes(r.messageSignature)
    .var16(r.senderCertificate)
    .var32(r.content)
    .finish();
}

/**
 * Decodes a record strictly: the version, every fixed size, the length limits, nothing after
 * the content.
 *
 * @example const record = decodeReportRecord(await store.get('report', key));
 * @throws {StateCorruptError} if the bytes are not a version-1 record.
 */
export function decodeReportRecord(bytes: Uint8Array): ReportRecord {
  const r = new ByteReader(bytes, 'report record', (m) => new StateCorruptError(m));
  if (r.u8() !== REPORT_RECORD_VERSION) throw new StateCorruptError('report record version');
  const address = addressFromBytes(r.bytes(ADDRESS_BYTES));
  const deviceId = r.u32();
  const record: ReportRecord = {
    sender: { address, deviceId },
    messageId: r.bytes(MESSAGE_ID_BYTES),
    receivedAt: r.u64(),
    storedAt: r.u64(),
    stamp: r.bytes(STAMP_BYTES),
    commitment: r.bytes(COMMITMENT_BYTES),
    openingKey: r.bytes(OPENING_KEY_BYTES),
    moderatorKeyId: r.u32(),
    sessionKey: r.bytes(SESSION_KEY_BYTES),
    signature: r.bytes(SIGNATURE_BYTES),
    messageSignature: r.bytes(MESSAGE_SIGNATURE_BYTES),
    senderCertificate: r.var16(MAX_SENDER_CERTIFICATE_BYTES),
    content: r.var32(MAX_PLAINTEXT_BYTES),
  };
  r.end();
  return record;
}

/** A parsed record key. */
export interface ReportKey {
  readonly key: string;
  readonly address: string;
  readonly receivedAt: number;
  /** The message id as 32 lower-case hex digits. */
  readonly idHex: string;
}

/**
 * The key of a record: `<address>.<receivedAt zero-padded to 16 digits>.<messageId hex>`.
 *
 * @example reportKey(bob, 1_700_000_000_000, messageId) // 'abc….0001700000000000.00ff…'
 */
export function reportKey(address: string, receivedAt: number, messageId: Uint8Array): string {
  if (!isAddress(address)) throw new ArgumentTypeError('address is not an address');
  if (!Number.isSafeInteger(receivedAt) || receivedAt < 0) {
    throw new ArgumentRangeError('receivedAt must be a non-negative safe integer');
  }
  assertBytes(messageId, 'messageId', MESSAGE_ID_BYTES);
  return `${address}.${String(receivedAt).padStart(TIME_DIGITS, '0')}.${toHex(messageId)}`;
}

const KEY_PATTERN = /^([a-z2-7]{32})\.(\d{16})\.([0-9a-f]{32})$/;

/** The parts of a record key, or undefined for a key this store never writes. */
export function parseReportKey(key: string): ReportKey | undefined {
  const m = KEY_PATTERN.exec(key);
  if (!m || !isAddress(m[1])) return undefined;
  const receivedAt = Number(m[2]);
  if (!Number.isSafeInteger(receivedAt)) return undefined;
  return { key, address: m[1] as string, receivedAt, idHex: m[3] as string };
}

/** Oldest first: by receipt, then by mailbox position. */
const byAge = (a: ReportKey, b: ReportKey) =>
  a.receivedAt - b.receivedAt || (a.idHex < b.idHex ? -1 : a.idHex > b.idHex ? 1 : 0);

/** The records of one device, in its state store. */
export class ReportStore {
  /** Records in the store as last counted (undefined until first needed). */
  private count: number | undefined;
  private prunedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly ctx: {
      readonly store: StateStore;
      readonly now: () => number;
      readonly policy: ReportPolicy;
    },
  ) {}

  /** The op storing `record` (committed with the message it belongs to). */
  recordOp(record: ReportRecord): StoreOp {
    return {
      ns: NS,
      key: reportKey(record.sender.address, record.receivedAt, record.messageId),
      value: encodeReportRecord(record),
    };
  }

  /**
   * Called after a record was committed: keeps the count, and prunes when the store holds more
   * than `maxReportableMessages` or retention pruning is due.
   */
  async stored(): Promise<void> {
    if (this.count !== undefined) this.count += 1;
    const count = this.count ?? (await this.ctx.store.keys(NS)).length;
    this.count = count;
    if (count > this.ctx.policy.maxRecords || this.ctx.now() - this.prunedAt >= PRUNE_INTERVAL_MS) {
      await this.prune();
    }
  }

  /**
   * Deletes records past the retention (by `receivedAt`), then the oldest beyond
   * `maxReportableMessages`, and keys this store never writes. Returns how many it deleted.
   */
  async prune(): Promise<number> {
    const now = this.ctx.now();
    this.prunedAt = now;
    const cutoff = now - this.ctx.policy.retentionMs;
    const deletes: string[] = [];
    const kept: ReportKey[] = [];
    for (const key of await this.ctx.store.keys(NS)) {
      const parsed = parseReportKey(key);
      if (parsed === undefined || parsed.receivedAt < cutoff) deletes.push(key);
      else kept.push(parsed);
    }
    const excess = kept.length - this.ctx.policy.maxRecords;
    if (excess > 0)
      deletes.push(
        ...kept
          .sort(byAge)
          .slice(0, excess)
          .map((k) => k.key),
      );
    this.count = kept.length - Math.max(0, excess);
    if (deletes.length > 0) {
      await this.ctx.store.commit(deletes.map((key) => ({ ns: NS, key, value: null })));
    }
    return deletes.length;
  }

  /**
   * The record of a delivered message id (base64url), looked up under `sender` when the caller
   * knows it, else among every key. Undefined when there is none, or it is past the retention
   * (then it is deleted).
   *
   * @throws {StateCorruptError} if the stored record does not decode.
   */
  async find(
    messageId: string,
    sender?: string,
  ): Promise<{ key: ReportKey; record: ReportRecord } | undefined> {
    const id = tryFromBase64Url(messageId);
    if (id === undefined || id.length !== MESSAGE_ID_BYTES) return undefined;
    const suffix = `.${toHex(id)}`;
    const prefix = sender === undefined ? '' : `${sender}.`;
    const key = (await this.ctx.store.keys(NS)).find(
      (k) => k.startsWith(prefix) && k.endsWith(suffix),
    );
    const parsed = key === undefined ? undefined : parseReportKey(key);
    if (parsed === undefined) return undefined;
    if (parsed.receivedAt < this.ctx.now() - this.ctx.policy.retentionMs) {
      await this.ctx.store.commit([{ ns: NS, key: parsed.key, value: null }]);
      return undefined;
    }
    const record = await this.read(parsed.key);
    return record === undefined ? undefined : { key: parsed, record };
  }

  /**
   * Up to `n` records of the same sender account received before `main` (the most recent of
   * them, oldest first), within the retention.
   *
   * @throws {StateCorruptError} if a stored record does not decode.
   */
  async previous(main: ReportKey, n: number): Promise<ReportRecord[]> {
    if (n <= 0) return [];
    const cutoff = this.ctx.now() - this.ctx.policy.retentionMs;
    const before = (await this.listSender(main.address))
      .filter((k) => k.receivedAt >= cutoff && byAge(k, main) < 0)
      .sort(byAge)
      .slice(-n);
    const out: ReportRecord[] = [];
    for (const k of before) {
      const record = await this.read(k.key);
      if (record) out.push(record);
    }
    return out;
  }

  /** Deletes every record of messages from `address`; returns how many there were. */
  async deleteSender(address: string): Promise<number> {
    if (!isAddress(address)) throw new ArgumentTypeError('address is not an address');
    const keys = (await this.listSender(address)).map((k) => k.key);
    if (keys.length > 0) {
      await this.ctx.store.commit(keys.map((key) => ({ ns: NS, key, value: null })));
      if (this.count !== undefined) this.count = Math.max(0, this.count - keys.length);
    }
    return keys.length;
  }

  private async listSender(address: string): Promise<ReportKey[]> {
    const prefix = `${address}.`;
    const out: ReportKey[] = [];
    for (const key of await this.ctx.store.keys(NS)) {
      if (!key.startsWith(prefix)) continue;
      const parsed = parseReportKey(key);
      if (parsed) out.push(parsed);
    }
    return out;
  }

  private async read(key: string): Promise<ReportRecord | undefined> {
    const bytes = await this.ctx.store.get(NS, key);
    return bytes === undefined ? undefined : decodeReportRecord(bytes);
  }
}

/** The message id of a record key as bytes (for tests and tools). */
export function reportKeyMessageId(key: ReportKey): Uint8Array {
  return fromHex(key.idHex);
}
