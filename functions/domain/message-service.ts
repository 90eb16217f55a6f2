/**
 * Sending and delivery (docs/protocol/10-service.md §Messages, §Storage).
 *
 * Write order of one envelope: quota reservation, then (large envelopes only) the object with
 * `If-None-Match: *`, then the index entry with a conditional put. The index entry is what
 * makes a message visible, so a fault at any step leaves either nothing visible (an orphaned
 * object that lifecycle removes, an over-counted quota that the next full fetch reconciles)
 * or the whole message; a retry with the same message id completes it and stores it once.
 * Delivery is at least once: entries are deleted only by acknowledgement.
 */
import { fromBase64Url, toBase64Url, tryFromBase64Url } from '../../sdk/wire/api/codec.ts';
import { ACCESS_KEY_BYTES } from '../../sdk/wire/api/limits.ts';
import { messageIdTimestamp } from '../../sdk/wire/api/message-id.ts';
import type {
  AckResponse,
  DeliveredMessage,
  FetchResponse,
  SendRequest,
  SendResponse,
} from '../../sdk/wire/api/schemas.ts';
import type { Caller } from './auth-service.ts';
import type { ServiceConfig } from './config.ts';
import { constantTimeEquals, sha256 } from './crypto.ts';
import { DeviceMismatchError, ServiceError, StaleDevicesError } from './errors.ts';
import type {
  AccountStore,
  AccountView,
  BlobStore,
  Clock,
  DeviceRecord,
  IndexEntry,
  Mailbox,
  MessageIndex,
  MessageSource,
  RateLimiter,
} from './ports.ts';
import { deviceRef, registrationIdOf } from './records.ts';

/** Compared against when the recipient does not exist, so both cases cost the same. */
const UNKNOWN_RECIPIENT_HASH = new Uint8Array(32);

/** Parallel object reads per fetch (bounded so one fetch cannot open 100 sockets). */
const OBJECT_READ_CONCURRENCY = 16;

function notAuthorized(): ServiceError {
  return new ServiceError('UNAUTHORIZED', 'not authorized to send to this recipient');
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
  ) {}

  /**
   * Sealed send: authorized by the recipient's delivery access key (or its unrestricted
   * setting). Nothing about the sender is known, stored or logged. An unknown recipient and a
   * wrong key give the same 401.
   *
   * @throws {ServiceError} `UNAUTHORIZED`, `DEVICE_MISMATCH`, `STALE_DEVICES`,
   *   `INVALID_MESSAGE_ID`, `MAILBOX_FULL`.
   */
  async sendSealed(
    address: string,
    accessKey: string | undefined,
    req: SendRequest,
  ): Promise<SendResponse> {
    const view = await this.accounts.get(address);
    const presented = accessKey === undefined ? undefined : tryFromBase64Url(accessKey);
    const keyOk =
      presented !== undefined &&
      presented.length === ACCESS_KEY_BYTES &&
      constantTimeEquals(sha256(presented), view?.account.accessKeyHash ?? UNKNOWN_RECIPIENT_HASH);
    if (!view || !(keyOk || view.account.unrestricted)) throw notAuthorized();
    return this.deliver(view, req, undefined);
  }

  /**
   * Identified send for first contact, by an authenticated sender device, rate-limited per
   * sender and recipient account. The recipient is told the sender.
   *
   * @throws {ServiceError} `RATE_LIMITED`, `NOT_FOUND`, and the errors of a sealed send.
   */
  async sendIdentified(caller: Caller, address: string, req: SendRequest): Promise<SendResponse> {
    const { limit, windowMs } = this.config.identifiedSendRateLimit;
    const key = `ident:${caller.address}:${address}`;
    if (!(await this.limiter.hit(key, limit, windowMs, this.clock()))) {
      throw new ServiceError('RATE_LIMITED', 'too many identified sends to this recipient');
    }
    const view = await this.accounts.get(address);
    if (!view) throw new ServiceError('NOT_FOUND', 'no such account');
    return this.deliver(view, req, { address: caller.address, deviceId: caller.deviceId });
  }

  /**
   * The caller device's messages, oldest first, at most `limit`, after `cursor` when given.
   * Expired messages are never returned.
   */
  async fetch(caller: Caller, limit: number, cursor?: string): Promise<FetchResponse> {
    const mailbox = caller.ref;
    const now = this.clock();
    const after = cursor === undefined ? undefined : fromBase64Url(cursor, 'cursor');
    const page = await this.index.list(mailbox, after ? { limit, after, now } : { limit, now });
    if (!after && !page.more && page.usage) await this.reconcile(mailbox, page.entries, page.usage);

    const bodies = await mapLimited(page.entries, OBJECT_READ_CONCURRENCY, (e) =>
      e.inline ? Promise.resolve(e.inline) : this.blobs.get(e.objectKey ?? ''),
    );
    const messages: DeliveredMessage[] = [];
    page.entries.forEach((e, i) => {
      const body = bodies[i];
      // An index entry is written only after its object, so a missing object means it was
      // acknowledged concurrently; skipping it is the at-least-once answer.
      if (!body) return;
      const m: DeliveredMessage = {
        messageId: toBase64Url(e.messageId),
        receivedAt: e.receivedAt,
        envelope: toBase64Url(body),
      };
      messages.push(e.source ? { ...m, source: { ...e.source } } : m);
    });
    return page.more && page.last ? { messages, cursor: toBase64Url(page.last) } : { messages };
  }

  /**
   * Deletes acknowledged messages of the caller's device: index entries first (the message is
   * gone for the client), then their objects. Unknown ids are ignored.
   */
  async ack(caller: Caller, messageIds: readonly string[]): Promise<AckResponse> {
    const mailbox = caller.ref;
    const ids = messageIds.map((id) => fromBase64Url(id, 'messageId'));
    const removed = await this.index.remove(mailbox, ids);
    if (removed.length > 0) {
      const bytes = removed.reduce((n, e) => n + e.size, 0);
      await this.index.release(mailbox, { count: removed.length, bytes });
      const keys = removed.flatMap((e) => (e.objectKey ? [e.objectKey] : []));
      if (keys.length > 0) await this.blobs.deleteMany(keys);
    }
    return { acknowledged: removed.length };
  }

  private async deliver(
    view: AccountView,
    req: SendRequest,
    source: MessageSource | undefined,
  ): Promise<SendResponse> {
    const devices = checkDevices(view, req.envelopes);
    const messageId = fromBase64Url(req.messageId, 'messageId');
    const now = this.clock();
    const sentAt = messageIdTimestamp(messageId);
    if (sentAt > now + this.config.signatureWindowMs || sentAt < now - this.config.messageTtlMs) {
      throw new ServiceError('INVALID_MESSAGE_ID', 'message id timestamp is out of range');
    }
    const items = req.envelopes.map((e, i) => ({
      mailbox: deviceRef(view.account.address, devices[i]!),
      body: fromBase64Url(e.envelope, 'envelope'),
    }));
    await this.reserveAll(items);
    const entryBase = { messageId, receivedAt: now, expiresAt: now + this.config.messageTtlMs };
    const stored = await Promise.all(
      items.map(async ({ mailbox, body }) => {
        const usage = { count: 1, bytes: body.length };
        try {
          let entry: IndexEntry = { ...entryBase, size: body.length };
          if (source) entry = { ...entry, source };
          if (body.length > this.config.inlineMaxBytes) {
            entry = { ...entry, objectKey: await this.blobs.putIfAbsent(mailbox, messageId, body) };
          } else {
            entry = { ...entry, inline: body };
          }
          const created = await this.index.put(mailbox, entry);
          if (!created) await this.index.release(mailbox, usage);
          return created;
        } catch (cause) {
          await this.index.release(mailbox, usage).catch(() => undefined);
          throw cause;
        }
      }),
    );
    return { messageId: req.messageId, duplicate: stored.every((created) => !created) };
  }

  /** Reserves quota in every target mailbox, or in none. */
  private async reserveAll(items: readonly { mailbox: Mailbox; body: Uint8Array }[]) {
    const limit = { count: this.config.mailboxMaxMessages, bytes: this.config.mailboxMaxBytes };
    const granted = await Promise.all(
      items.map((i) => this.index.reserve(i.mailbox, { count: 1, bytes: i.body.length }, limit)),
    );
    if (granted.every(Boolean)) return;
    await Promise.all(
      items.map((i, k) =>
        granted[k] ? this.index.release(i.mailbox, { count: 1, bytes: i.body.length }) : undefined,
      ),
    );
    throw new ServiceError('MAILBOX_FULL', "the recipient's mailbox is full");
  }

  /** After a full read: counters drift when messages expire unread, so set them to the truth. */
  private async reconcile(
    mailbox: Mailbox,
    live: readonly IndexEntry[],
    usage: { count: number; bytes: number },
  ): Promise<void> {
    const bytes = live.reduce((n, e) => n + e.size, 0);
    if (usage.count !== live.length || usage.bytes !== bytes) {
      await this.index.setUsage(mailbox, { count: live.length, bytes });
    }
  }
}

/**
 * Signal's multi-device rule: a send lists exactly the active devices (409 with `missing` and
 * `extra`, checked first), and an envelope that names a registration id must be for the device
 * that holds its id now (410 with `stale`: the id was reused by a new device). Returns the
 * listed devices in request order.
 */
function checkDevices(
  view: AccountView,
  listed: readonly { deviceId: number; registrationId?: number | undefined }[],
): DeviceRecord[] {
  const active = new Map(view.devices.map((d) => [d.deviceId, d]));
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
