/**
 * The write path of every send (docs/SERVICE.md §8.4, §8.5): mailbox counters first, then the
 * shared payload of a multi-recipient send (its reference set, then its object), then the
 * index records, which make the messages visible; realtime pushes ride alongside (§7.3).
 */
import type { DeliveredMessage } from 'sealpost/wire/api';
import { toBase64Url } from 'sealpost/wire/api';
import type { ServiceConfig } from './config.ts';
import { hex } from './crypto.ts';
import type { DeliveryStamps, FrankingStamper } from './franking-stamp.ts';
import {
  ceilHour,
  encodePosition,
  floorHour,
  POSITION_RANDOM_BYTES,
  type Random,
  retryKey,
} from './mailbox-positions.ts';
import type {
  BlobStore,
  Clock,
  Mailbox,
  MessageIndex,
  MessageSource,
  SharedPayloadStore,
  StoredMessage,
} from './ports.ts';
import type { NotifyHook } from './realtime-ports.ts';

/** One message of a send, before its mailbox's counter answered. */
export interface Outgoing {
  readonly mailbox: Mailbox;
  /** The envelope, or the device's header of a multi-recipient send. */
  readonly body: Uint8Array;
}

/** One message of a send, after its mailbox's counter answered. */
export interface Reserved extends Outgoing {
  readonly retry: boolean;
  readonly position: Uint8Array;
  /** The mailbox held no other message when this one was counted. */
  readonly firstPending: boolean;
  /** The shared payload the record references (multi-recipient sends). */
  readonly payloadId?: Uint8Array;
}

/** A multi-recipient send's payload, as {@link MailboxWriter.store} writes it. */
export interface SharedWrite {
  readonly payloads: SharedPayloadStore;
  readonly payload: Uint8Array;
}

/** Reserves positions and writes messages into mailboxes. */
export class MailboxWriter {
  constructor(
    private readonly index: MessageIndex,
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
    private readonly config: ServiceConfig,
    private readonly random: Random,
    /** Realtime push after a store (docs/SERVICE.md §7.3); none by default. */
    private readonly notify?: NotifyHook,
    /** Delivery stamps of franked messages (docs/PROTOCOL.md §11.4). */
    private readonly stamps?: DeliveryStamps,
  ) {}

  /**
   * Writes the reserved messages of one send: pushes each new one early to a live connection,
   * stores the shared payload when there is one (its reference set, then its object), then
   * writes the records and announces them. True if every record existed already (a retry of
   * a completed send).
   */
  async store(
    reserved: readonly Reserved[],
    source: MessageSource | undefined,
    shared?: SharedWrite,
  ): Promise<boolean> {
    const now = this.clock();
    const times = {
      receivedAt: floorHour(now),
      expiresAt: ceilHour(now + this.config.messageTtlMs),
    };
    const stamper = await this.stamps?.stamper();
    const planned = reserved.map((r) => {
      let record: StoredMessage = {
        position: r.position,
        ...times,
        size: r.body.length + (shared?.payload.length ?? 0),
      };
      if (r.payloadId) record = { ...record, inline: r.body, payload: r.payloadId };
      if (source) record = { ...record, source };
      const stamp = stampOf(stamper, r.mailbox, record, r.body);
      return { record, message: deliveredMessage(record, r.body, stamp, shared?.payload) };
    });
    // The push does not wait for the writes (docs/SERVICE.md §7.3): a failed store answers the
    // sender with an error, and its retry stores the message under the same position, which the
    // device already holds and drops by id. A retry is not pushed early.
    const early = reserved.map((r, i) =>
      r.retry ? undefined : this.pushEarly(r.mailbox, planned[i]!.message),
    );
    let unnotified = 0;
    let created: boolean[];
    try {
      if (shared) await this.storePayload(shared.payloads, reserved, shared.payload, times);
      created = await Promise.all(
        reserved.map(async (r, i) => {
          let { record } = planned[i]!;
          if (!r.payloadId) {
            if (r.body.length > this.config.inlineMaxBytes) {
              await this.blobs.put(r.mailbox, r.position, r.body);
            } else {
              record = { ...record, inline: r.body };
            }
          }
          const written = await this.index.put(r.mailbox, record);
          const pushed = (await early[i]) === 'pushed';
          if (written && !(await this.announce(r.mailbox, planned[i]!.message, r, pushed))) {
            unnotified++;
          }
          return written || !r.retry;
        }),
      );
    } finally {
      await Promise.all(early);
    }
    // A count only: which mailbox or message is never logged.
    if (unnotified > 0) this.notify?.log(JSON.stringify({ realtimeNotifyFailed: unnotified }));
    return created.every((c) => !c);
  }

  /**
   * The shared payload of a send, before any record references it: per payload id (a retry may
   * complete a send under the id its first attempt reserved with, and new reservations under a
   * fresh one), the positions that will reference it, then the object.
   */
  private async storePayload(
    payloads: SharedPayloadStore,
    reserved: readonly Reserved[],
    payload: Uint8Array,
    times: { expiresAt: number },
  ): Promise<void> {
    const groups = new Map<string, { id: Uint8Array; positions: Uint8Array[] }>();
    for (const r of reserved) {
      const id = r.payloadId!;
      const group = groups.get(hex(id)) ?? { id, positions: [] };
      group.positions.push(r.position);
      groups.set(hex(id), group);
    }
    await Promise.all(
      [...groups.values()].map(async ({ id, positions }) => {
        await payloads.addRefs(id, positions, times.expiresAt);
        await payloads.put(id, payload);
      }),
    );
  }

  /**
   * Tells the notifier about a stored message; false if it failed. The message is stored
   * whatever happens here, and the next drain or poll delivers it.
   */
  private async announce(
    mailbox: Mailbox,
    message: DeliveredMessage,
    reserved: Reserved,
    pushed: boolean,
  ): Promise<boolean> {
    if (!this.notify) return true;
    try {
      await this.notify.notifier.notify(mailbox, message, {
        firstPending: reserved.firstPending,
        pushed,
      });
      return true;
    } catch {
      return false;
    }
  }

  /** The notifier's early push of a message being stored; never rejects. */
  private async pushEarly(
    mailbox: Mailbox,
    message: DeliveredMessage,
  ): Promise<'pushed' | 'offline' | 'failed'> {
    const push = this.notify?.notifier.pushEarly;
    if (!push) return 'offline';
    try {
      return await push.call(this.notify?.notifier, mailbox, message);
    } catch {
      return 'failed';
    }
  }

  /**
   * The position of one message, or undefined when its mailbox is full. `shared` counts the
   * shared payload against the quota too, and names the payload id a new store reserves with.
   */
  async reserve(
    item: Outgoing,
    requestId: Uint8Array,
    shared?: { id: Uint8Array; bytes: number },
  ): Promise<Reserved | undefined> {
    const { mailbox } = item;
    const r = await this.index.reserve(mailbox, {
      retryKey: retryKey(mailbox, requestId),
      random: this.random(POSITION_RANDOM_BYTES),
      size: item.body.length + (shared?.bytes ?? 0),
      maxMessages: this.config.mailboxMaxMessages,
      maxBytes: this.config.mailboxMaxBytes,
      ...(shared ? { payload: shared.id } : {}),
    });
    if (r.kind === 'full') return undefined;
    const reserved: Reserved = {
      ...item,
      retry: r.kind === 'retry',
      position: encodePosition(r.seq, r.random),
      firstPending: r.kind === 'new' && r.count === 1,
    };
    if (!shared) return reserved;
    return { ...reserved, payloadId: (r.kind === 'retry' && r.payload) || shared.id };
  }
}

/**
 * The delivery stamp of a stored message (docs/PROTOCOL.md §11.4), computed from the record and
 * its envelope (a multi-recipient message's header); undefined without stamps or when the
 * envelope has no franking commitment.
 */
export function stampOf(
  stamper: FrankingStamper | undefined,
  mailbox: Mailbox,
  record: StoredMessage,
  body: Uint8Array,
): Uint8Array | undefined {
  return stamper?.forDelivery(mailbox, record.position, record.receivedAt, body);
}

/**
 * A stored message as `GET /v1/messages` returns it (and a realtime frame carries it), with
 * the shared payload when the caller asked for it.
 */
export function deliveredMessage(
  record: StoredMessage,
  body: Uint8Array,
  stamp?: Uint8Array,
  payload?: Uint8Array,
): DeliveredMessage {
  const m: DeliveredMessage = {
    messageId: toBase64Url(record.position),
    receivedAt: record.receivedAt,
    envelope: toBase64Url(body),
  };
  if (record.source) m.source = { ...record.source };
  if (stamp) m.stamp = toBase64Url(stamp);
  if (payload) m.payload = toBase64Url(payload);
  return m;
}
