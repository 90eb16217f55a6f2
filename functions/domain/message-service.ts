/**
 * Sending and delivery (docs/SERVICE.md §7, §8.4).
 *
 * Store order of one envelope: one conditional update of the mailbox counter assigns the
 * position (`u64 seq || 8 random bytes`) and counts the message against the quota, then the
 * object is written with `If-None-Match: *` (unless the operator enabled inline storage), then
 * the index record with a conditional put. The record is what makes a message visible, so a
 * fault at any step leaves either nothing visible or the whole message; a retry of the request
 * finds its reservation on the counter and completes it at the same position. Acknowledgement
 * deletes the record and the object: nothing of a delivered message stays behind.
 */

import type {
  AckResponse,
  DeliveredMessage,
  FetchResponse,
  SendRequest,
  SendResponse,
} from 'sealpost/wire/api';
import { fromBase64Url, toBase64Url } from 'sealpost/wire/api';
import type { Caller } from './auth-service.ts';
import type { ServiceConfig } from './config.ts';
import { DeviceMismatchError, ServiceError, StaleDevicesError } from './errors.ts';
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
  AccountStore,
  AccountView,
  BlobStore,
  BlockStore,
  Clock,
  DeviceRecord,
  Mailbox,
  MailboxUsage,
  MessageIndex,
  MessageSource,
  RateLimiter,
  StoredMessage,
} from './ports.ts';
import type { NotifyHook } from './realtime-ports.ts';
import { deviceRef, registrationIdOf } from './records.ts';
import { authorizeSealed, type SealedCredentials } from './sealed-access.ts';
import { assertNotSuspended } from './suspension-service.ts';
import type { TokenService } from './token-service.ts';

/** Parallel object reads per fetch (bounded so one fetch cannot open 100 sockets). */
const OBJECT_READ_CONCURRENCY = 16;

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** One envelope of a send, after its mailbox's counter answered. */
interface Reserved {
  readonly mailbox: Mailbox;
  readonly body: Uint8Array;
  readonly retry: boolean;
  readonly position: Uint8Array;
  /** The mailbox held no other message when this one was counted. */
  readonly firstPending: boolean;
}

/** Sealed and identified sends, fetch and acknowledgement. */
export class MessageService {
  constructor(
    private readonly accounts: AccountStore,
    private readonly index: MessageIndex,
    private readonly blobs: BlobStore,
    private readonly limiter: RateLimiter,
    private readonly clock: Clock,
    private readonly config: ServiceConfig,
    private readonly random: Random,
    /** Realtime push after a store (docs/SERVICE.md §7.3); none by default. */
    private readonly notify?: NotifyHook,
    /** Block lists: identified sends from a blocked account are refused (§4.1). */
    private readonly blocks?: BlockStore,
    /**
     * Delivery stamps of franked messages (docs/PROTOCOL.md §11.4): every delivered message
     * whose envelope has a commitment carries one, computed at delivery; none when absent.
     */
    private readonly stamps?: DeliveryStamps,
    /** Anonymous tokens (message requests, docs/SERVICE.md §15); without it every token is invalid. */
    private readonly tokens?: TokenService,
  ) {}

  /**
   * Sealed send: authorized by the recipient's delivery access key, by an anonymous token for
   * a recipient that takes message requests, or by nothing for one that takes anyone's
   * (`authorizeSealed`, docs/SERVICE.md §15). `credentials` is the access key header alone
   * (older callers) or both headers. Nothing about the sender is known, stored or logged. An
   * unknown recipient, a wrong key and a refused mode give the same 401. A token is redeemed
   * only after the device list matched (a 409/410 leaves it unspent for the corrected send).
   *
   * @throws {ServiceError} `BAD_REQUEST`, `INVALID_TOKEN`, `UNAUTHORIZED`, `DEVICE_MISMATCH`,
   *   `STALE_DEVICES`, `TOKEN_SPENT`, `REQUEST_LIMIT`, `MAILBOX_FULL`.
   */
  async sendSealed(
    address: string,
    credentials: string | undefined | SealedCredentials,
    req: SendRequest,
  ): Promise<SendResponse> {
    const presented = typeof credentials === 'object' ? credentials : { accessKey: credentials };
    const { view, grant } = await authorizeSealed(this.accounts, this.tokens, address, presented);
    const tokens = this.tokens;
    // A token grant needs the token service, which verified it.
    if (grant.kind !== 'token' || !tokens) return this.deliver(view, req, undefined);
    const redeem = () =>
      tokens.redeem(grant.token, address, fromBase64Url(req.messageId, 'messageId'));
    return this.deliver(view, req, undefined, undefined, redeem);
  }

  /**
   * Identified send by an authenticated sender device; the recipient is told the sender
   * (§7.1). Two uses:
   * - first contact with another account, rate-limited per sender and recipient account;
   * - sync to the caller's own other devices (Signal's rule): the list must name every active
   *   device of the account except the calling device, and naming the calling device is
   *   `extra`. The server learns nothing new (it is the account's own traffic), so these sends
   *   are not counted against the per-pair limit, which would otherwise cap how many messages
   *   a multi-device user can send; they are bounded like sealed sends, by the mailbox quota.
   *
   * An account the recipient blocked is refused with `BLOCKED` (docs/SERVICE.md §4.1), after
   * the rate limit and the recipient lookup, so a blocked sender learns it only from an
   * existing recipient and at the pace of the limit.
   *
   * @throws {ServiceError} `RATE_LIMITED`, `NOT_FOUND`, `BLOCKED`, and the errors of a sealed
   *   send.
   */
  async sendIdentified(caller: Caller, address: string, req: SendRequest): Promise<SendResponse> {
    // A suspended account sends nothing identified, not even copies to its own devices (§14.5).
    assertNotSuspended(caller.view.account);
    const source = { address: caller.address, deviceId: caller.deviceId };
    // The caller's account was read by the authentication of this very request.
    if (address === caller.address) return this.deliver(caller.view, req, source, caller.deviceId);
    const { limit, windowMs } = this.config.identifiedSendRateLimit;
    const key = `ident:${caller.address}:${address}`;
    if (!(await this.limiter.hit(key, limit, windowMs, this.clock()))) {
      throw new ServiceError('RATE_LIMITED', 'too many identified sends to this recipient');
    }
    const view = await this.accounts.get(address);
    if (!view) throw new ServiceError('NOT_FOUND', 'no such account');
    if (await this.blocks?.has(address, caller.address)) {
      throw new ServiceError('BLOCKED', 'the recipient does not accept messages from this account');
    }
    return this.deliver(view, req, source);
  }

  /**
   * The caller device's unacknowledged messages in position order (the order the mailbox
   * counter assigned), at most `limit`, after `cursor` when given. Expired messages are never
   * returned; those the read meets are deleted. `messageId` is the position; `receivedAt` is a
   * whole hour.
   */
  async fetch(caller: Caller, limit: number, cursor?: string): Promise<FetchResponse> {
    const mailbox = caller.ref;
    const after = cursor === undefined ? undefined : fromBase64Url(cursor, 'cursor');
    const page = await this.index.list(mailbox, after ? { after, limit } : { limit });
    const now = this.clock();
    const live = page.records.filter((r) => r.expiresAt > now);
    const expired = page.records.filter((r) => r.expiresAt <= now).map((r) => r.position);
    // Deleted now rather than left to the table's TTL, which lags by up to days and would keep
    // counting them against the quota meanwhile.
    const dropped = expired.length > 0 ? await this.discard(mailbox, expired) : [];
    if (!after && !page.more && page.counter) {
      const gone = { count: dropped.length, bytes: dropped.reduce((n, r) => n + r.size, 0) };
      await this.reconcile(mailbox, live, page.counter, gone);
    }

    const bodies = await mapLimited(live, OBJECT_READ_CONCURRENCY, (r) =>
      r.inline ? Promise.resolve(r.inline) : this.blobs.get(mailbox, r.position),
    );
    const stamper = live.length > 0 ? await this.stamps?.stamper() : undefined;
    const messages: DeliveredMessage[] = [];
    live.forEach((r, i) => {
      const body = bodies[i];
      // A record is written only after its object, and objects are deleted only after their
      // record, so a missing object means a concurrent acknowledgement.
      if (!body) return;
      messages.push(deliveredMessage(r, body, stampOf(stamper, mailbox, r, body)));
    });
    const last = page.records.at(-1);
    return page.more && last ? { messages, cursor: toBase64Url(last.position) } : { messages };
  }

  /**
   * Acknowledges messages of the caller's device by position: deletes their records (learning
   * which existed and their sizes), subtracts those from the usage counter in one update, then
   * deletes their objects. Unknown ids are ignored; a retry after a fault finishes the deletion.
   */
  async ack(caller: Caller, messageIds: readonly string[]): Promise<AckResponse> {
    const unique = new Map<string, Uint8Array>();
    for (const id of messageIds) {
      const position = fromBase64Url(id, 'messageId');
      unique.set(hex(position), position);
    }
    const removed = await this.discard(caller.ref, [...unique.values()]);
    return { acknowledged: removed.length };
  }

  /** Deletes records, their usage and their objects; returns the records that existed. */
  private async discard(
    mailbox: Mailbox,
    positions: readonly Uint8Array[],
  ): Promise<StoredMessage[]> {
    const removed = await this.index.remove(mailbox, positions);
    if (removed.length > 0) {
      const bytes = removed.reduce((n, r) => n + r.size, 0);
      await this.index.release(mailbox, { count: removed.length, bytes });
    }
    // Object keys derive from mailbox and position, so every requested message's object is
    // deleted (S3 deletes are free) unless its record said it was inline: a retry after a
    // fault between the two deletions finds no record but still removes the object.
    const inline = new Set(removed.filter((r) => r.inline).map((r) => hex(r.position)));
    const objects = positions.filter((p) => !inline.has(hex(p)));
    if (objects.length > 0) await this.blobs.deleteMany(mailbox, objects);
    return removed;
  }

  private async deliver(
    view: AccountView,
    req: SendRequest,
    source: MessageSource | undefined,
    exclude?: number,
    /** Runs after the device list matched and before anything is stored (token redemption). */
    admit?: () => Promise<void>,
  ): Promise<SendResponse> {
    const devices = checkDevices(view, req.envelopes, exclude);
    if (admit) await admit();
    // The request id only deduplicates retries: no time is read from it and it is not stored.
    const requestId = fromBase64Url(req.messageId, 'messageId');
    const items = req.envelopes.map((e, i) => ({
      mailbox: deviceRef(view.account.address, devices[i]!),
      body: fromBase64Url(e.envelope, 'envelope'),
    }));
    // Every counter first: a full mailbox refuses the whole send before any record is written
    // (a reservation taken in another mailbox is completed by the sender's retry, or set right
    // by the next full read's reconciliation).
    const reserved = await Promise.all(
      items.map((i) => this.reserve(i.mailbox, requestId, i.body)),
    );
    if (reserved.some((r) => r === undefined)) {
      throw new ServiceError('MAILBOX_FULL', "the recipient's mailbox is full");
    }
    const now = this.clock();
    const times = {
      receivedAt: floorHour(now),
      expiresAt: ceilHour(now + this.config.messageTtlMs),
    };
    const stamper = await this.stamps?.stamper();
    let unnotified = 0;
    const created = await Promise.all(
      (reserved as Reserved[]).map(async ({ mailbox, body, position, retry, firstPending }) => {
        let record: StoredMessage = { position, ...times, size: body.length };
        if (source) record = { ...record, source };
        const message = deliveredMessage(record, body, stampOf(stamper, mailbox, record, body));
        // The push does not wait for the writes (docs/SERVICE.md §7.3): a failed store answers
        // the sender with an error, and its retry stores the message under the same position,
        // which the device already holds and drops by id. A retry is not pushed early.
        const early = retry ? undefined : this.pushEarly(mailbox, message);
        let written: boolean;
        try {
          if (body.length > this.config.inlineMaxBytes) {
            await this.blobs.put(mailbox, position, body);
          } else {
            record = { ...record, inline: body };
          }
          written = await this.index.put(mailbox, record);
        } finally {
          await early;
        }
        const pushed = (await early) === 'pushed';
        if (written && !(await this.announce(mailbox, message, firstPending, pushed))) {
          unnotified++;
        }
        return written || !retry;
      }),
    );
    // A count only: which mailbox or message is never logged.
    if (unnotified > 0) this.notify?.log(JSON.stringify({ realtimeNotifyFailed: unnotified }));
    return { messageId: req.messageId, duplicate: created.every((c) => !c) };
  }

  /**
   * Tells the notifier about a stored message; false if it failed. The message is stored
   * whatever happens here, and the next drain or poll delivers it.
   */
  private async announce(
    mailbox: Mailbox,
    message: DeliveredMessage,
    firstPending: boolean,
    pushed: boolean,
  ): Promise<boolean> {
    if (!this.notify) return true;
    try {
      await this.notify.notifier.notify(mailbox, message, { firstPending, pushed });
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

  /** The position of one envelope, or undefined when its mailbox is full. */
  private async reserve(
    mailbox: Mailbox,
    requestId: Uint8Array,
    body: Uint8Array,
  ): Promise<Reserved | undefined> {
    const r = await this.index.reserve(mailbox, {
      retryKey: retryKey(mailbox, requestId),
      random: this.random(POSITION_RANDOM_BYTES),
      size: body.length,
      maxMessages: this.config.mailboxMaxMessages,
      maxBytes: this.config.mailboxMaxBytes,
    });
    if (r.kind === 'full') return undefined;
    return {
      mailbox,
      body,
      retry: r.kind === 'retry',
      position: encodePosition(r.seq, r.random),
      firstPending: r.kind === 'new' && r.count === 1,
    };
  }

  /**
   * After a read of the whole mailbox: messages that expired unread and were removed by the
   * table's TTL were never subtracted, and a reservation whose send was abandoned is counted
   * without a record, so set the counter to what is stored (`live`), unless a store took a
   * position since the read. `gone` is what this fetch already subtracted.
   */
  private async reconcile(
    mailbox: Mailbox,
    live: readonly StoredMessage[],
    counter: MailboxUsage & { seq: bigint },
    gone: MailboxUsage,
  ): Promise<void> {
    const bytes = live.reduce((n, r) => n + r.size, 0);
    const count = counter.count - gone.count;
    if (count === live.length && counter.bytes - gone.bytes === bytes) return;
    await this.index.reconcile(mailbox, counter.seq, { count: live.length, bytes });
  }
}

/**
 * Signal's multi-device rule: a send lists exactly the active devices (409 with `missing` and
 * `extra`, checked first), and an envelope that names a registration id must be for the device
 * that holds its id now (410 with `stale`: the id was reused by a new device). `exclude` is the
 * sending device of an identified send to its own account: it is not a target, so it is never
 * `missing` and listing it is `extra`. Returns the listed devices in request order.
 */
function checkDevices(
  view: AccountView,
  listed: readonly { deviceId: number; registrationId?: number | undefined }[],
  exclude?: number,
): DeviceRecord[] {
  const active = new Map(
    view.devices.filter((d) => d.deviceId !== exclude).map((d) => [d.deviceId, d]),
  );
  const requested = new Set(listed.map((e) => e.deviceId));
  const byId = (a: number, b: number) => a - b;
  const missing = [...active.keys()].filter((id) => !requested.has(id)).sort(byId);
  const extra = listed
    .map((e) => e.deviceId)
    .filter((id) => !active.has(id))
    .sort(byId);
  if (missing.length > 0 || extra.length > 0) throw new DeviceMismatchError(missing, extra);
  const devices = listed.map((e) => active.get(e.deviceId)!);
  const stale = listed
    .filter(
      (e, i) =>
        e.registrationId !== undefined &&
        e.registrationId !== registrationIdOf(devices[i]!.identity),
    )
    .map((e) => e.deviceId)
    .sort(byId);
  if (stale.length > 0) throw new StaleDevicesError(stale);
  return devices;
}

async function mapLimited<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}

/**
 * The delivery stamp of a stored message (docs/PROTOCOL.md §11.4), computed from the record and
 * its envelope; undefined without stamps or when the envelope has no franking commitment.
 */
function stampOf(
  stamper: FrankingStamper | undefined,
  mailbox: Mailbox,
  record: StoredMessage,
  body: Uint8Array,
): Uint8Array | undefined {
  return stamper?.forDelivery(mailbox, record.position, record.receivedAt, body);
}

/** A stored message as `GET /v1/messages` returns it (and a realtime frame carries it). */
function deliveredMessage(
  record: StoredMessage,
  body: Uint8Array,
  stamp?: Uint8Array,
): DeliveredMessage {
  const m: DeliveredMessage = {
    messageId: toBase64Url(record.position),
    receivedAt: record.receivedAt,
    envelope: toBase64Url(body),
  };
  if (record.source) m.source = { ...record.source };
  if (stamp) m.stamp = toBase64Url(stamp);
  return m;
}
