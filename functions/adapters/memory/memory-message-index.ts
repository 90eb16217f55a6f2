/**
 * In-memory {@link MessageIndex}: per-mailbox maps keyed by the hex position, which sorts
 * oldest first exactly like the DynamoDB sort key. Same contract as the DynamoDB adapter
 * (test/integration/contracts/message-index.ts).
 */
import type {
  AckCursor,
  Mailbox,
  MailboxRecord,
  MailboxUsage,
  MessageIndex,
  ScanPage,
} from '../../domain/ports.ts';

const hex = (id: Uint8Array): string => Buffer.from(id).toString('hex');
const mailboxKey = (m: Mailbox): string => `${m.address}/${m.deviceId}/${m.registrationId}`;

interface Box {
  readonly records: Map<string, MailboxRecord>;
  cursor?: AckCursor;
  usage?: MailboxUsage;
}

/** Mailboxes in `Map`s. */
export class MemoryMessageIndex implements MessageIndex {
  private readonly boxes = new Map<string, Box>();

  private box(m: Mailbox): Box {
    let b = this.boxes.get(mailboxKey(m));
    if (!b) {
      b = { records: new Map() };
      this.boxes.set(mailboxKey(m), b);
    }
    return b;
  }

  async insert(mailbox: Mailbox, record: MailboxRecord): Promise<boolean> {
    const records = this.box(mailbox).records;
    const k = hex(record.position);
    if (records.has(k)) return false;
    records.set(k, structuredClone(record));
    return true;
  }

  async get(mailbox: Mailbox, position: Uint8Array): Promise<MailboxRecord | undefined> {
    const r = this.box(mailbox).records.get(hex(position));
    return r ? structuredClone(r) : undefined;
  }

  async retarget(
    mailbox: Mailbox,
    position: Uint8Array,
    from: Uint8Array,
    to: Uint8Array,
  ): Promise<boolean> {
    const records = this.box(mailbox).records;
    const r = records.get(hex(position));
    if (r?.kind !== 'redirect' || hex(r.target) !== hex(from)) return false;
    records.set(hex(position), { ...r, target: to.slice() });
    return true;
  }

  async scan(
    mailbox: Mailbox,
    options: { after?: Uint8Array; through?: Uint8Array; limit: number },
  ): Promise<ScanPage> {
    const b = this.box(mailbox);
    const after = options.after ? hex(options.after) : '';
    const through = options.through ? hex(options.through) : undefined;
    const keys = [...b.records.keys()]
      .filter((k) => k > after && (through === undefined || k <= through))
      .sort();
    const records = keys.slice(0, options.limit).map((k) => structuredClone(b.records.get(k)!));
    const more = keys.length > options.limit;
    if (more || through !== undefined) return { records, more };
    return { records, more, usage: { ...(b.usage ?? { count: 0, bytes: 0 }) } };
  }

  async bury(mailbox: Mailbox, positions: readonly Uint8Array[], expiresAt: number): Promise<void> {
    const records = this.box(mailbox).records;
    for (const p of positions) {
      records.set(hex(p), { kind: 'tombstone', position: p.slice(), expiresAt });
    }
  }

  async cursor(mailbox: Mailbox): Promise<AckCursor | undefined> {
    const c = this.box(mailbox).cursor;
    return c ? structuredClone(c) : undefined;
  }

  async saveCursor(
    mailbox: Mailbox,
    cursor: { watermark?: Uint8Array; acked: readonly Uint8Array[]; expiresAt: number },
    expectedRevision: number,
  ): Promise<boolean> {
    const b = this.box(mailbox);
    if ((b.cursor?.revision ?? 0) !== expectedRevision) return false;
    b.cursor = structuredClone({
      ...cursor,
      acked: [...cursor.acked],
      revision: expectedRevision + 1,
    });
    return true;
  }

  async usage(mailbox: Mailbox): Promise<MailboxUsage | undefined> {
    const u = this.box(mailbox).usage;
    return u ? { ...u } : undefined;
  }

  async addUsage(mailbox: Mailbox, delta: MailboxUsage): Promise<void> {
    const b = this.box(mailbox);
    const u = b.usage ?? { count: 0, bytes: 0 };
    b.usage = { count: u.count + delta.count, bytes: u.bytes + delta.bytes };
  }

  async setUsage(mailbox: Mailbox, usage: MailboxUsage): Promise<void> {
    this.box(mailbox).usage = { ...usage };
  }
}
