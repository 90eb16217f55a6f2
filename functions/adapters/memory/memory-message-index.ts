/**
 * In-memory {@link MessageIndex}: per-mailbox maps keyed by the hex position, which sorts in
 * sequence order exactly like the DynamoDB sort key. Same contract as the DynamoDB adapter
 * (test/integration/contracts/message-index.ts).
 */

import { hex } from '../../domain/crypto.ts';
import type {
  Mailbox,
  MailboxUsage,
  MessageIndex,
  MessagePage,
  Reservation,
  Reserved,
  StoredMessage,
} from '../../domain/ports.ts';

const mailboxKey = (m: Mailbox): string => `${m.address}/${m.deviceId}/${m.registrationId}`;

/** The counter item: never removed, so positions never repeat. */
export interface MemoryCounter {
  seq: bigint;
  count: number;
  bytes: number;
  lastKey: string;
  lastRandom: Uint8Array;
  /** The payload id the last store reserved with (multi-recipient sends), if any. */
  lastPayload?: Uint8Array;
}

interface Box {
  readonly records: Map<string, StoredMessage>;
  counter?: MemoryCounter;
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

  /** Every stored record and counter, for tests that inspect what storage keeps. */
  dump(): { records: StoredMessage[]; counters: MemoryCounter[] } {
    const boxes = [...this.boxes.values()];
    return {
      records: boxes.flatMap((b) => [...b.records.values()].map((r) => structuredClone(r))),
      counters: boxes.flatMap((b) => (b.counter ? [structuredClone(b.counter)] : [])),
    };
  }

  async reserve(mailbox: Mailbox, r: Reservation): Promise<Reserved> {
    const b = this.box(mailbox);
    const c = b.counter;
    const key = hex(r.retryKey);
    if (c && c.lastKey === key) {
      const retry = { kind: 'retry', seq: c.seq, random: c.lastRandom.slice() } as const;
      return c.lastPayload ? { ...retry, payload: c.lastPayload.slice() } : retry;
    }
    const count = c?.count ?? 0;
    const bytes = c?.bytes ?? 0;
    if (count + 1 > r.maxMessages || bytes + r.size > r.maxBytes) return { kind: 'full' };
    const seq = (c?.seq ?? 0n) + 1n;
    b.counter = {
      seq,
      count: count + 1,
      bytes: bytes + r.size,
      lastKey: key,
      lastRandom: r.random.slice(),
      ...(r.payload ? { lastPayload: r.payload.slice() } : {}),
    };
    return { kind: 'new', seq, random: r.random.slice(), count: count + 1 };
  }

  async put(mailbox: Mailbox, record: StoredMessage): Promise<boolean> {
    const records = this.box(mailbox).records;
    const k = hex(record.position);
    if (records.has(k)) return false;
    records.set(k, structuredClone(record));
    return true;
  }

  async list(
    mailbox: Mailbox,
    options: { after?: Uint8Array; limit: number },
  ): Promise<MessagePage> {
    const b = this.box(mailbox);
    const after = options.after ? hex(options.after) : '';
    const keys = [...b.records.keys()].filter((k) => k > after).sort();
    const records = keys.slice(0, options.limit).map((k) => structuredClone(b.records.get(k)!));
    const more = keys.length > options.limit;
    if (more || !b.counter) return { records, more };
    const { seq, count, bytes } = b.counter;
    return { records, more, counter: { seq, count, bytes } };
  }

  async remove(mailbox: Mailbox, positions: readonly Uint8Array[]): Promise<StoredMessage[]> {
    const records = this.box(mailbox).records;
    const removed: StoredMessage[] = [];
    for (const p of positions) {
      const r = records.get(hex(p));
      if (!r) continue;
      records.delete(hex(p));
      removed.push(r);
    }
    return removed;
  }

  async release(mailbox: Mailbox, usage: MailboxUsage): Promise<void> {
    const c = this.box(mailbox).counter;
    if (!c) return;
    c.count -= usage.count;
    c.bytes -= usage.bytes;
  }

  async reconcile(mailbox: Mailbox, seq: bigint, usage: MailboxUsage): Promise<boolean> {
    const c = this.box(mailbox).counter;
    if (!c || c.seq !== seq) return false;
    c.count = usage.count;
    c.bytes = usage.bytes;
    return true;
  }
}
