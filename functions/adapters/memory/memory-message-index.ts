/**
 * In-memory {@link MessageIndex}: per-mailbox maps keyed by the hex message id, which sorts
 * oldest first exactly like the DynamoDB sort key.
 */
import type {
  IndexEntry,
  IndexPage,
  Mailbox,
  MailboxUsage,
  MessageIndex,
} from '../../domain/ports.ts';

const hex = (id: Uint8Array): string => Buffer.from(id).toString('hex');
const mailboxKey = (m: Mailbox): string => `${m.address}/${m.deviceId}/${m.registrationId}`;

/** Mailboxes in `Map`s. */
export class MemoryMessageIndex implements MessageIndex {
  private readonly boxes = new Map<string, Map<string, IndexEntry>>();
  private readonly usage = new Map<string, MailboxUsage>();

  private box(m: Mailbox): Map<string, IndexEntry> {
    let b = this.boxes.get(mailboxKey(m));
    if (!b) {
      b = new Map();
      this.boxes.set(mailboxKey(m), b);
    }
    return b;
  }

  async put(mailbox: Mailbox, entry: IndexEntry): Promise<boolean> {
    const b = this.box(mailbox);
    const k = hex(entry.messageId);
    if (b.has(k)) return false;
    b.set(k, structuredClone(entry));
    return true;
  }

  async list(
    mailbox: Mailbox,
    options: { limit: number; after?: Uint8Array; now: number },
  ): Promise<IndexPage> {
    const after = options.after ? hex(options.after) : '';
    const keys = [...this.box(mailbox).keys()].filter((k) => k > after).sort();
    const page = keys.slice(0, options.limit);
    const more = keys.length > options.limit;
    const entries = page
      .map((k) => this.box(mailbox).get(k)!)
      .filter((e) => e.expiresAt > options.now)
      .map((e) => structuredClone(e));
    const lastKey = page.at(-1);
    const last =
      lastKey === undefined ? {} : { last: Uint8Array.from(Buffer.from(lastKey, 'hex')) };
    if (more) return { entries, more, ...last };
    const usage = this.usage.get(mailboxKey(mailbox)) ?? { count: 0, bytes: 0 };
    return { entries, more, ...last, usage: { ...usage } };
  }

  async remove(mailbox: Mailbox, messageIds: readonly Uint8Array[]): Promise<IndexEntry[]> {
    const b = this.box(mailbox);
    const removed: IndexEntry[] = [];
    for (const id of messageIds) {
      const k = hex(id);
      const e = b.get(k);
      if (e && b.delete(k)) removed.push(e);
    }
    return removed;
  }

  async reserve(mailbox: Mailbox, add: MailboxUsage, limit: MailboxUsage): Promise<boolean> {
    const u = this.usage.get(mailboxKey(mailbox)) ?? { count: 0, bytes: 0 };
    if (u.count + add.count > limit.count || u.bytes + add.bytes > limit.bytes) return false;
    this.usage.set(mailboxKey(mailbox), { count: u.count + add.count, bytes: u.bytes + add.bytes });
    return true;
  }

  async release(mailbox: Mailbox, sub: MailboxUsage): Promise<void> {
    const u = this.usage.get(mailboxKey(mailbox)) ?? { count: 0, bytes: 0 };
    this.usage.set(mailboxKey(mailbox), {
      count: Math.max(0, u.count - sub.count),
      bytes: Math.max(0, u.bytes - sub.bytes),
    });
  }

  async setUsage(mailbox: Mailbox, usage: MailboxUsage): Promise<void> {
    this.usage.set(mailboxKey(mailbox), { ...usage });
  }
}
