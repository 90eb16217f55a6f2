/**
 * Sending and delivery (docs/SERVICE.md §7, §8).
 *
 * Write order of one envelope: quota check (a read), then the object with `If-None-Match: *`
 * (unless the operator enabled inline storage), then the index record with a conditional put,
 * then, for one stored message in `quotaSampleEvery`, the usage counter. The index record is
 * what makes a message visible, so a fault at any step leaves either nothing visible (an
 * orphaned object that lifecycle removes) or the whole message; a retry with the same message
 * id completes it and stores it once. Delivery is at least once: a message stops being
 * delivered only when it is acknowledged (or expires).
 */
import { fromBase64Url, toBase64Url, tryFromBase64Url } from '../../sdk/wire/api/codec.ts';
import { ACCESS_KEY_BYTES, MAX_ENVELOPE_BYTES } from '../../sdk/wire/api/limits.ts';
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
import { type ListedMessage, MailboxLog, type Random } from './mailbox-log.ts';
import type {
  AccountStore,
  AccountView,
  BlobStore,
  Clock,
  DeviceRecord,
  IndexEntry,
  Mailbox,
  MailboxUsage,
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
  private readonly log: MailboxLog;

  constructor(
    private readonly accounts: AccountStore,
    private readonly index: MessageIndex,
    private readonly blobs: BlobStore,
    private readonly limiter: RateLimiter,
    private readonly clock: Clock,
    private readonly config: ServiceConfig,
    private readonly random: Random,
  ) {
    this.log = new MailboxLog(index, clock, random, config);
  }

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
   * Identified send by an authenticated sender device; the recipient is told the sender
   * (§7.1). Two uses:
   * - first contact with another account, rate-limited per sender and recipient account;
   * - sync to the caller's own other devices (Signal's rule): the list must name every active
   *   device of the account except the calling device, and naming the calling device is
   *   `extra`. The server learns nothing new (it is the account's own traffic), so these sends
   *   are not counted against the per-pair limit, which would otherwise cap how many messages
   *   a multi-device user can send; they are bounded like sealed sends, by the mailbox quota.
   *
   * @throws {ServiceError} `RATE_LIMITED`, `NOT_FOUND`, and the errors of a sealed send.
   */
  async sendIdentified(caller: Caller, address: string, req: SendRequest): Promise<SendResponse> {
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
    return this.deliver(view, req, source);
  }

  /**
   * The caller device's unacknowledged messages, oldest first, at most `limit`, after `cursor`
   * when given. Expired messages are never returned.
   */
  async fetch(caller: Caller, limit: number, cursor?: string): Promise<FetchResponse> {
    const mailbox = caller.ref;
    const now = this.clock();
    const from = cursor === undefined ? undefined : fromBase64Url(cursor, 'cursor');
    const page = await this.log.page(mailbox, from ? { limit, from, now } : { limit, now });
    if (!from && !page.more && page.usage) await this.reconcile(mailbox, page.messages, page.usage);

    const bodies = await mapLimited(page.messages, OBJECT_READ_CONCURRENCY, ({ entry }) =>
      entry.inline ? Promise.resolve(entry.inline) : this.blobs.get(entry.objectKey ?? ''),
    );
    const messages: DeliveredMessage[] = [];
    page.messages.forEach(({ entry: e }, i) => {
      const body = bodies[i];
      // An index record is written only after its object, and objects are deleted only after
      // their message is acknowledged, so a missing object means a concurrent acknowledgement.
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
   * Acknowledges messages of the caller's device: one cursor write hides them (§7.2), then the
   * usage counter is decremented and their objects deleted. Unknown ids are ignored.
   *
   * @throws {ServiceError} `UNAVAILABLE` when concurrent acknowledgements keep colliding.
   */
  async ack(caller: Caller, messageIds: readonly string[]): Promise<AckResponse> {
    const mailbox = caller.ref;
    const ids = messageIds.map((id) => fromBase64Url(id, 'messageId'));
    const { acknowledged, objectKeys } = await this.log.acknowledge(mailbox, ids);
    if (acknowledged.length > 0) {
      const bytes = acknowledged.reduce((n, m) => n + m.entry.size, 0);
      await this.index.addUsage(mailbox, { count: -acknowledged.length, bytes: -bytes });
    }
    if (objectKeys.length > 0) await this.blobs.deleteMany(objectKeys);
    return { acknowledged: acknowledged.length };
  }

  private async deliver(
    view: AccountView,
    req: SendRequest,
    source: MessageSource | undefined,
    exclude?: number,
  ): Promise<SendResponse> {
    const devices = checkDevices(view, req.envelopes, exclude);
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
    await this.checkQuota(items);
    const entryBase = { messageId, receivedAt: now, expiresAt: now + this.config.messageTtlMs };
    const stored = await Promise.all(
      items.map(async ({ mailbox, body }) => {
        let entry: IndexEntry = { ...entryBase, size: body.length };
        if (source) entry = { ...entry, source };
        if (body.length > this.config.inlineMaxBytes) {
          entry = { ...entry, objectKey: await this.blobs.putIfAbsent(mailbox, messageId, body) };
        } else {
          entry = { ...entry, inline: body };
        }
        const created = await this.log.store(mailbox, entry);
        if (created) await this.count(mailbox, body.length);
        return created;
      }),
    );
    return { messageId: req.messageId, duplicate: stored.every((created) => !created) };
  }

  /**
   * Refuses the send if any target mailbox is full by its counter (all or none, before
   * anything is written). The counter is read eventually consistent and moved by sampled
   * writes, so the quota is approximate (§7.1).
   */
  private async checkQuota(items: readonly { mailbox: Mailbox; body: Uint8Array }[]) {
    const usages = await Promise.all(items.map((i) => this.index.usage(i.mailbox)));
    const full = items.some((item, k) => {
      const count = Math.max(0, usages[k]?.count ?? 0);
      const bytes = Math.max(0, usages[k]?.bytes ?? 0);
      return (
        count + 1 > this.config.mailboxMaxMessages ||
        bytes + item.body.length > this.config.mailboxMaxBytes
      );
    });
    if (full) throw new ServiceError('MAILBOX_FULL', "the recipient's mailbox is full");
  }

  /**
   * Counts a stored message: one in `quotaSampleEvery` (chosen with server randomness, so a
   * sender cannot pick ids that are never counted) adds that many, an unbiased estimate.
   */
  private async count(mailbox: Mailbox, size: number): Promise<void> {
    const k = this.config.quotaSampleEvery;
    if (k > 1) {
      const r = this.random(4);
      const draw = ((r[0]! << 24) | (r[1]! << 16) | (r[2]! << 8) | r[3]!) >>> 0;
      if (draw >= 2 ** 32 / k) return;
    }
    await this.index.addUsage(mailbox, { count: k, bytes: k * size });
  }

  /**
   * After a read of the whole unacknowledged mailbox: messages that expire unread are never
   * subtracted and sampling adds noise, so set the counter to the truth once it is off by a
   * sample or more (smaller differences are noise; rewriting them would cost a write a fetch).
   */
  private async reconcile(
    mailbox: Mailbox,
    live: readonly ListedMessage[],
    usage: MailboxUsage,
  ): Promise<void> {
    const bytes = live.reduce((n, m) => n + m.entry.size, 0);
    const k = this.config.quotaSampleEvery;
    const countOff = Math.abs(usage.count - live.length) >= k;
    const bytesOff = Math.abs(usage.bytes - bytes) >= Math.max(1, (k - 1) * MAX_ENVELOPE_BYTES);
    if (countOff || bytesOff) await this.index.setUsage(mailbox, { count: live.length, bytes });
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
