/**
 * The rules of a mailbox over its {@link MessageIndex} (docs/SERVICE.md §7.2, §8.4).
 *
 * Records sort by position. Acknowledgement writes nothing per message: it moves a per-mailbox
 * watermark over acknowledged records and keeps the acknowledged positions above it in the
 * cursor item, one write per acknowledgement request; the index records stay until the table's
 * TTL removes them (free). The watermark never hides a record that was not acknowledged, because
 * of two rules:
 *
 * - a record lands at a position whose time is at most `lateAfterMs` before the moment it is
 *   written: on time, that is the message id; a message that arrives late gets a position
 *   chosen at arrival, and a redirect at its id keeps retried sends idempotent;
 * - the watermark only passes positions older than `ackHorizonMs` (`lateAfterMs` plus the
 *   longest a write can be in flight), and only over records the acknowledgement read
 *   (strongly consistent) and found acknowledged, expired or redirects.
 *
 * So a record written after an acknowledgement read the mailbox lies above the horizon that
 * acknowledgement used, hence above its watermark.
 */
import { createMessageId, messageIdTimestamp } from '../../sdk/wire/api/message-id.ts';
import type { ServiceConfig } from './config.ts';
import { UnavailableError } from './errors.ts';
import type {
  Clock,
  IndexEntry,
  Mailbox,
  MailboxRecord,
  MailboxUsage,
  MessageIndex,
} from './ports.ts';

/** `n` random bytes (injected so tests are deterministic). */
export type Random = (n: number) => Uint8Array;

/** A message as listed: where it sits and what it holds. */
export interface ListedMessage {
  readonly position: Uint8Array;
  readonly entry: IndexEntry;
}

/** One page of unacknowledged, unexpired messages. */
export interface LogPage {
  readonly messages: ListedMessage[];
  /** Whether messages may follow `last`. */
  readonly more: boolean;
  /** Position of the last record read (the fetch cursor). */
  readonly last?: Uint8Array;
  /** The stored usage counter, when the page reached the end of the mailbox. */
  readonly usage?: MailboxUsage;
}

/** What an acknowledgement did. */
export interface AckOutcome {
  /** Messages acknowledged by this call (not before it). */
  readonly acknowledged: ListedMessage[];
  /** Object keys of every requested message found acknowledged, so a retry finishes deletion. */
  readonly objectKeys: string[];
}

/** Records an acknowledgement reads at most (each ≤ 1 KB; bounded Lambda time and reads). */
const ACK_SCAN_LIMIT = 1000;
/** Acknowledged positions per requested id above which point reads replace the range read. */
const POINT_READ_FACTOR = 16;
/** Optimistic-concurrency rounds before a contended call gives up with a retryable 503. */
const ATTEMPTS = 4;
const ZERO_RANDOM = new Uint8Array(10);

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}

function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

const after = (a: Uint8Array, b: Uint8Array | undefined) => b === undefined || compare(a, b) > 0;

/**
 * Store, list and acknowledge with the watermark rules above.
 *
 * @example new MailboxLog(index, Date.now, randomBytes, DEFAULT_CONFIG).page(mailbox, { limit: 100, now })
 */
export class MailboxLog {
  constructor(
    private readonly index: MessageIndex,
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly config: ServiceConfig,
  ) {}

  private isLate(position: Uint8Array, now: number): boolean {
    return messageIdTimestamp(position) < now - this.config.lateAfterMs;
  }

  /**
   * Stores a message unless its id is stored already. True if this call stored it.
   *
   * @throws {UnavailableError} if concurrent deliveries of the same id keep colliding.
   */
  async store(mailbox: Mailbox, entry: IndexEntry): Promise<boolean> {
    // The clock is read right before the write: the horizon argument bounds the time between.
    if (!this.isLate(entry.messageId, this.clock())) {
      return this.index.insert(mailbox, { kind: 'message', position: entry.messageId, entry });
    }
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const found = await this.index.get(mailbox, entry.messageId);
      if (found && found.kind !== 'redirect') return false;
      const now = this.clock();
      const fresh = createMessageId(now, this.random(10));
      const at = (position: Uint8Array) =>
        this.index.insert(mailbox, { kind: 'message', position, entry });
      if (!found) {
        const redirect = { kind: 'redirect' as const, position: entry.messageId, target: fresh };
        if (await this.index.insert(mailbox, { ...redirect, expiresAt: entry.expiresAt })) {
          return at(fresh);
        }
        continue;
      }
      // A previous attempt wrote the redirect. While its target is on time, complete it.
      if (!this.isLate(found.target, now)) return at(found.target);
      // The attempt that chose the target ended long ago (lateAfterMs exceeds any write's time
      // in flight): if its record is not there now it never will be, so choose a new position.
      if (await this.index.get(mailbox, found.target)) return false;
      if (await this.index.retarget(mailbox, entry.messageId, found.target, fresh)) {
        return at(fresh);
      }
    }
    throw new UnavailableError('concurrent deliveries of one message id');
  }

  /**
   * The position below which the watermark may move, from a clock read taken before the
   * mailbox is read (see the file comment).
   */
  private horizon(now: number): Uint8Array {
    return createMessageId(Math.max(0, now - this.config.ackHorizonMs), ZERO_RANDOM);
  }

  /**
   * The new watermark: past `records` (read contiguously after `wm`, strongly consistent) as
   * long as they lie below the horizon and nobody will be shown them.
   */
  private advance(
    records: readonly MailboxRecord[],
    wm: Uint8Array | undefined,
    acked: ReadonlyMap<string, Uint8Array>,
    horizon: Uint8Array,
    now: number,
  ): Uint8Array | undefined {
    let watermark = wm;
    for (const r of records) {
      if (compare(r.position, horizon) >= 0) break;
      const hidden = r.kind !== 'message' || acked.has(hex(r.position)) || r.entry.expiresAt <= now;
      if (!hidden) break;
      watermark = r.position;
    }
    return watermark;
  }

  /**
   * Up to `limit` unacknowledged, unexpired messages after the watermark (and after `from`,
   * the position a previous page ended at), oldest first.
   */
  async page(
    mailbox: Mailbox,
    options: { limit: number; from?: Uint8Array; now: number },
  ): Promise<LogPage> {
    const cursor = await this.index.cursor(mailbox);
    const wm = cursor?.watermark;
    const start = options.from && after(options.from, wm) ? options.from : wm;
    const acked = new Set((cursor?.acked ?? []).filter((p) => after(p, start)).map((p) => hex(p)));
    // Acknowledged records are skipped, so read that many more.
    const scan = await this.index.scan(mailbox, {
      ...(start ? { after: start } : {}),
      limit: options.limit + acked.size,
    });
    const messages: ListedMessage[] = [];
    let consumed = 0;
    let last: Uint8Array | undefined;
    for (const r of scan.records) {
      if (messages.length === options.limit) break;
      consumed++;
      last = r.position;
      if (r.kind !== 'message' || acked.has(hex(r.position))) continue;
      if (r.entry.expiresAt > options.now) messages.push({ position: r.position, entry: r.entry });
    }
    const more = consumed < scan.records.length || scan.more;
    // Acknowledged positions that fell below the horizon since the last acknowledgement would
    // be read by every fetch (an idle mailbox is polled); pass them now, one write.
    const horizon = this.horizon(options.now);
    if (cursor && start === wm && cursor.acked.some((p) => compare(p, horizon) < 0)) {
      const all = new Map(cursor.acked.map((p) => [hex(p), p]));
      const watermark = this.advance(scan.records, wm, all, horizon, options.now);
      if (watermark !== wm) {
        // Losing a race with an acknowledgement is fine: the next read tries again.
        await this.index.saveCursor(
          mailbox,
          {
            ...(watermark ? { watermark } : {}),
            acked: [...all.values()].filter((p) => after(p, watermark)),
            expiresAt: cursor.expiresAt,
          },
          cursor.revision,
        );
      }
    }
    return {
      messages,
      more,
      ...(last ? { last } : {}),
      ...(!more && scan.usage ? { usage: scan.usage } : {}),
    };
  }

  /**
   * Acknowledges messages by id with one cursor write. Unknown and already acknowledged ids
   * are not counted.
   *
   * @throws {UnavailableError} if concurrent acknowledgements keep colliding.
   */
  async acknowledge(mailbox: Mailbox, ids: readonly Uint8Array[]): Promise<AckOutcome> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const outcome = await this.tryAcknowledge(mailbox, ids, this.clock());
      if (outcome) return outcome;
    }
    throw new UnavailableError('concurrent acknowledgements of one mailbox');
  }

  private async tryAcknowledge(
    mailbox: Mailbox,
    ids: readonly Uint8Array[],
    now: number,
  ): Promise<AckOutcome | undefined> {
    const horizon = this.horizon(now);
    const cursor = await this.index.cursor(mailbox);
    const wm = cursor?.watermark;
    const acked = new Map((cursor?.acked ?? []).map((p) => [hex(p), p]));
    const want = new Map(ids.map((id) => [hex(id), id]));
    const done = new Set<string>();
    const acknowledged: ListedMessage[] = [];
    const objectKeys: string[] = [];
    const settle = (position: Uint8Array, entry: IndexEntry) => {
      done.add(hex(entry.messageId));
      if (entry.objectKey) objectKeys.push(entry.objectKey);
      const key = hex(position);
      if (!after(position, wm) || acked.has(key) || entry.expiresAt <= now) return;
      acked.set(key, position);
      acknowledged.push({ position, entry });
    };

    // Read through the highest requested id, and through acknowledged positions old enough
    // for the watermark to pass, so the cursor sheds them.
    const passable = [...acked.values()].filter((p) => compare(p, horizon) < 0);
    const max = [...ids, ...passable].reduce((a, b) => (compare(a, b) >= 0 ? a : b));
    // When the watermark cannot move, the read only finds the requested records: point reads
    // are cheaper than reading past many acknowledged records (a record is ~250 bytes, so a
    // strongly consistent read unit covers ~16 of them in a range read, 1 in a point read).
    const scanned =
      after(max, wm) && (passable.length > 0 || acked.size <= POINT_READ_FACTOR * ids.length);
    const scan = scanned
      ? await this.index.scan(mailbox, {
          ...(wm ? { after: wm } : {}),
          through: max,
          limit: ACK_SCAN_LIMIT,
        })
      : { records: [], more: false };
    const redirects = new Map<string, Uint8Array>();
    for (const r of scan.records) {
      if (r.kind === 'message' && want.has(hex(r.entry.messageId))) settle(r.position, r.entry);
      else if (r.kind === 'redirect' && want.has(hex(r.position))) {
        redirects.set(hex(r.position), r.target);
      }
    }
    // Ids the scan did not settle: a late message's redirect, ids at or below the watermark
    // (already acknowledged unless redirected), or beyond a truncated scan.
    const lastRead = scan.records.at(-1)?.position;
    for (const [key, id] of want) {
      if (done.has(key)) continue;
      let target = redirects.get(key);
      if (!target) {
        const read = scanned && after(id, wm) && (!scan.more || (lastRead && !after(id, lastRead)));
        if (read) continue;
        const found = await this.index.get(mailbox, id);
        if (found?.kind === 'message') settle(found.position, found.entry);
        if (found?.kind !== 'redirect') continue;
        target = found.target;
      }
      const moved = await this.index.get(mailbox, target);
      if (moved?.kind === 'message') settle(moved.position, moved.entry);
    }

    const watermark = this.advance(scan.records, wm, acked, horizon, now);
    let ahead = [...acked.values()].filter((p) => after(p, watermark)).sort(compare);
    const evict = ahead.length - this.config.maxAckedAhead;
    if (evict > 0) {
      // Beyond the cursor's bound, acknowledged records become tombstones instead (one write
      // each, §7.2): hidden like acknowledged ones, and a retried send still sees them.
      await this.index.bury(mailbox, ahead.slice(0, evict), now + this.config.messageTtlMs);
      ahead = ahead.slice(evict);
    }
    if (acknowledged.length === 0 && evict <= 0 && watermark === wm) {
      return { acknowledged, objectKeys };
    }
    const saved = await this.index.saveCursor(
      mailbox,
      {
        ...(watermark ? { watermark } : {}),
        acked: ahead,
        // Every record the cursor covers was stored before this write, so it has expired by
        // the time the cursor does (§7.2).
        expiresAt: now + this.config.messageTtlMs,
      },
      cursor?.revision ?? 0,
    );
    if (!saved) return undefined;
    // An identified send's record names its sender. Once acknowledged it becomes a tombstone
    // (one write each; identified sends are first contacts and own-device sync copies) instead
    // of keeping that name until its TTL. Best effort: the acknowledgement already stands, and
    // the TTL removes the record anyway, so a failure here is not the client's to retry.
    const named = acknowledged.filter((m) => m.entry.source !== undefined).map((m) => m.position);
    if (named.length > 0) {
      await this.index.bury(mailbox, named, now + this.config.messageTtlMs).catch(() => undefined);
    }
    return { acknowledged, objectKeys };
  }
}
