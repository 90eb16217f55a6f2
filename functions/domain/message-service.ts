/**
 * Sending and delivery (docs/SERVICE.md §7, §8.4, §8.5).
 *
 * Store order of one envelope: one conditional update of the mailbox counter assigns the
 * position (`u64 seq || 8 random bytes`) and counts the message against the quota, then the
 * object is written with `If-None-Match: *` (unless the operator enabled inline storage), then
 * the index record with a conditional put. The record is what makes a message visible, so a
 * fault at any step leaves either nothing visible or the whole message; a retry of the request
 * finds its reservation on the counter and completes it at the same position. Acknowledgement
 * deletes the record and the object: nothing of a delivered message stays behind.
 *
 * A multi-recipient send (§7.5) stores its shared payload once: every counter first (each
 * remembering the payload id), then the payload's reference set, the payload object, and the
 * records, each holding its device's header inline and the payload id. Deleting a record
 * releases its reference; the last release deletes the payload.
 */

import type { MultiRecipientRequest } from 'sealpost/wire';
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
import { hex } from './crypto.ts';
import { MultiRecipientError, ServiceError } from './errors.ts';
import type { DeliveryStamps } from './franking-stamp.ts';
import type { Random } from './mailbox-positions.ts';
import {
  deliveredMessage,
  MailboxWriter,
  type Outgoing,
  type Reserved,
  stampOf,
} from './mailbox-writer.ts';
import { mapLimited } from './map-limited.ts';
import {
  type AccountStore,
  type AccountView,
  type BlobStore,
  type BlockStore,
  type Clock,
  type DeviceRecord,
  type Mailbox,
  type MailboxUsage,
  type MessageIndex,
  type MessageSource,
  PAYLOAD_ID_BYTES,
  type RateLimiter,
  type SharedPayloadStore,
  type StoredMessage,
} from './ports.ts';
import type { NotifyHook } from './realtime-ports.ts';
import { deviceRef } from './records.ts';
import { authorizeSealed, type SealedCredentials } from './sealed-access.ts';
import {
  authorizeAccounts,
  checkDeviceLists,
  checkDevices,
  decodeMultiRecipientBody,
  redeemTokens,
} from './send-admission.ts';
import { assertNotSuspended } from './suspension-service.ts';
import type { TokenService } from './token-service.ts';

/**
 * Stored bytes (envelopes, headers and payloads) one fetch returns at most, unless its first
 * message alone is larger: 4/3 of it in base64 plus the JSON stays under Lambda's 6 MB response
 * limit. The rest of the page follows with the returned cursor.
 */
export const MAX_FETCH_RESPONSE_BYTES = 3_500_000;

/** Parallel object reads per fetch (bounded so one fetch cannot open 100 sockets). */
const OBJECT_READ_CONCURRENCY = 16;

/** Options of {@link MessageService.fetch}. */
export interface FetchOptions {
  /**
   * Deliver multi-recipient messages with their shared payload (`payloads=1`); without it such
   * a message comes as its header alone (docs/PROTOCOL.md §14.10).
   */
  readonly payloads?: boolean;
  /** Positions (base64url) to acknowledge before the read, as {@link MessageService.ack}. */
  readonly ack?: readonly string[];
}

/** Sealed and identified sends, fetch and acknowledgement. */
export class MessageService {
  private readonly writer: MailboxWriter;

  constructor(
    private readonly accounts: AccountStore,
    private readonly index: MessageIndex,
    private readonly blobs: BlobStore,
    private readonly limiter: RateLimiter,
    private readonly clock: Clock,
    private readonly config: ServiceConfig,
    private readonly random: Random,
    /** Realtime push after a store (docs/SERVICE.md §7.3); none by default. */
    notify?: NotifyHook,
    /** Block lists: identified sends from a blocked account are refused (§4.1). */
    private readonly blocks?: BlockStore,
    /**
     * Delivery stamps of franked messages (docs/PROTOCOL.md §11.4): every delivered message
     * whose envelope has a commitment carries one, computed at delivery; none when absent.
     */
    private readonly stamps?: DeliveryStamps,
    /** Anonymous tokens (message requests, docs/SERVICE.md §15); without it every token is invalid. */
    private readonly tokens?: TokenService,
    /**
     * Shared payloads of multi-recipient sends (docs/SERVICE.md §8.5); without it those sends
     * answer `NOT_CONFIGURED`.
     */
    private readonly payloads?: SharedPayloadStore,
  ) {
    this.writer = new MailboxWriter(index, blobs, clock, config, random, notify, stamps);
  }

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
   * Multi-recipient sealed send (`PUT /v1/messages/multi`, docs/SERVICE.md §7.5): one shared
   * payload for the devices of up to 256 accounts, each account authorized on its own. Checks
   * run in order, each over every account before the next, and a refusal stores and spends
   * nothing: authorization, device lists, token spends, mailbox quotas; the refusal names every
   * account that failed its check. Nothing about the sender is known, stored or logged.
   *
   * @example await messages.sendMulti(encodeMultiRecipientRequest(request))
   * @throws {ServiceError} `BAD_REQUEST` (a body the decoder refuses), `NOT_CONFIGURED`.
   * @throws {MultiRecipientError} `INVALID_TOKEN`, `UNAUTHORIZED`, `DEVICE_MISMATCH`,
   *   `STALE_DEVICES`, `TOKEN_SPENT`, `REQUEST_LIMIT`, `MAILBOX_FULL`, with `accounts`.
   */
  async sendMulti(bytes: Uint8Array): Promise<SendResponse> {
    const request = decodeMultiRecipientBody(bytes);
    const payloads = this.payloadStore();
    const authorized = await authorizeAccounts(this.accounts, this.tokens, request.accounts);
    const views = authorized.map((a) => a.view);
    const devices = checkDeviceLists(request.accounts, views);
    await redeemTokens(this.tokens, request.accounts, authorized, request.requestId);
    return this.deliverShared(payloads, request, views, devices, undefined);
  }

  /**
   * Multi-recipient identified send (`PUT /v1/messages/multi/identified`): the copies of a
   * message to the caller's own other devices, with one shared payload. The body names exactly
   * one account, the caller's, with authorization kind none; its devices follow
   * {@link sendIdentified}'s sync rule (every active device except the calling one); every
   * record carries the caller as `source`. A suspended account is refused, as for any
   * identified send.
   *
   * @example await messages.sendMultiIdentified(caller, encodeMultiRecipientRequest(request))
   * @throws {ServiceError} `BAD_REQUEST`, `ACCOUNT_SUSPENDED`, `NOT_CONFIGURED`.
   * @throws {MultiRecipientError} `DEVICE_MISMATCH`, `STALE_DEVICES`, `MAILBOX_FULL`.
   */
  async sendMultiIdentified(caller: Caller, bytes: Uint8Array): Promise<SendResponse> {
    const request = decodeMultiRecipientBody(bytes);
    const payloads = this.payloadStore();
    assertNotSuspended(caller.view.account);
    const [account, ...others] = request.accounts;
    if (!account || others.length > 0 || account.address !== caller.address) {
      throw new ServiceError(
        'BAD_REQUEST',
        'invalid body: an identified multi-recipient send names exactly the own account',
      );
    }
    if (account.auth.kind !== 'none') {
      throw new ServiceError(
        'BAD_REQUEST',
        'invalid body: an identified multi-recipient send takes authorization kind none',
      );
    }
    const views = [caller.view];
    const devices = checkDeviceLists(request.accounts, views, caller.deviceId);
    const source = { address: caller.address, deviceId: caller.deviceId };
    return this.deliverShared(payloads, request, views, devices, source);
  }

  /**
   * The caller device's unacknowledged messages in position order (the order the mailbox
   * counter assigned), at most `limit`, after `cursor` when given. Expired messages are never
   * returned; those the read meets are deleted. `messageId` is the position; `receivedAt` is a
   * whole hour. `options.ack` is acknowledged first, exactly as {@link ack}; with
   * `options.payloads` a message of a multi-recipient send carries its shared payload, each
   * distinct payload read once per batch, and a message whose payload is gone is deleted
   * instead of delivered (docs/SERVICE.md §8.5).
   *
   * @example await messages.fetch(caller, 100, undefined, { payloads: true, ack: [id] })
   * @throws {ServiceError} `BAD_REQUEST` (an invalid cursor or id), `UNAVAILABLE`.
   */
  async fetch(
    caller: Caller,
    limit: number,
    cursor?: string,
    options: FetchOptions = {},
  ): Promise<FetchResponse> {
    const mailbox = caller.ref;
    const after = cursor === undefined ? undefined : fromBase64Url(cursor, 'cursor');
    if (options.ack && options.ack.length > 0) await this.ack(caller, options.ack);
    const page = await this.index.list(mailbox, after ? { after, limit } : { limit });
    const now = this.clock();
    let live = page.records.filter((r) => r.expiresAt > now);
    const expired = page.records.filter((r) => r.expiresAt <= now).map((r) => r.position);
    // Deleted now rather than left to the table's TTL, which lags by up to days and would keep
    // counting them against the quota meanwhile.
    const dropped = expired.length > 0 ? await this.discard(mailbox, expired) : [];
    if (!after && !page.more && page.counter) {
      const gone = { count: dropped.length, bytes: dropped.reduce((n, r) => n + r.size, 0) };
      await this.reconcile(mailbox, live, page.counter, gone);
    }

    // A page stops before the response could pass Lambda's 6 MB (base64 and JSON add a third):
    // at least one message, then only while the stored bytes stay under the cap.
    const fits = pageFits(live);
    const cut = fits < live.length ? live[fits - 1] : undefined;
    if (cut) live = live.slice(0, fits);
    const [bodies, shared] = await Promise.all([
      mapLimited(live, OBJECT_READ_CONCURRENCY, (r) =>
        r.inline ? Promise.resolve(r.inline) : this.blobs.get(mailbox, r.position),
      ),
      options.payloads && this.payloads ? this.readPayloads(this.payloads, live) : undefined,
    ]);
    // Payloads are deleted only after the last record referencing them, and written before
    // any, so a missing one means its record was acknowledged already (a retried store that
    // raced the acknowledgement): the device had the message.
    const orphans = shared
      ? live.filter((r) => r.payload && !shared.get(hex(r.payload))).map((r) => r.position)
      : [];
    if (orphans.length > 0) await this.discard(mailbox, orphans);
    const stamper = live.length > 0 ? await this.stamps?.stamper() : undefined;
    const messages: DeliveredMessage[] = [];
    live.forEach((r, i) => {
      const body = bodies[i];
      // A record is written only after its object, and objects are deleted only after their
      // record, so a missing object means a concurrent acknowledgement.
      if (!body) return;
      const payload = r.payload && shared ? shared.get(hex(r.payload)) : undefined;
      if (r.payload && shared && !payload) return;
      messages.push(deliveredMessage(r, body, stampOf(stamper, mailbox, r, body), payload));
    });
    if (cut) return { messages, cursor: toBase64Url(cut.position) };
    const last = page.records.at(-1);
    return page.more && last ? { messages, cursor: toBase64Url(last.position) } : { messages };
  }

  /**
   * Acknowledges messages of the caller's device by position: deletes their records (learning
   * which existed and their sizes), subtracts those from the usage counter in one update, then
   * deletes their objects and releases their shared payloads. Unknown ids are ignored; a retry
   * after a fault finishes the deletion.
   *
   * @example await messages.ack(caller, [messageId]) // { acknowledged: 1 }
   * @throws {ServiceError} `BAD_REQUEST` (an invalid id), `UNAVAILABLE`.
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

  /** Every distinct shared payload of `records`, read once each, by hex id. */
  private async readPayloads(
    store: SharedPayloadStore,
    records: readonly StoredMessage[],
  ): Promise<Map<string, Uint8Array | undefined>> {
    const ids = new Map<string, Uint8Array>();
    for (const r of records) if (r.payload) ids.set(hex(r.payload), r.payload);
    const found = await mapLimited([...ids.values()], OBJECT_READ_CONCURRENCY, (id) =>
      store.get(id),
    );
    return new Map([...ids.keys()].map((k, i) => [k, found[i]]));
  }

  /**
   * Deletes records, their usage, their objects and their payload references; returns the
   * records that existed.
   */
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
    // deleted (S3 deletes are free) unless its record said it was inline (the header of a
    // multi-recipient message always is): a retry after a fault between the two deletions
    // finds no record but still removes the object.
    const inline = new Set(removed.filter((r) => r.inline).map((r) => hex(r.position)));
    const objects = positions.filter((p) => !inline.has(hex(p)));
    if (objects.length > 0) await this.blobs.deleteMany(mailbox, objects);
    // Only the call whose removal found the record releases its reference (the record's
    // deletion returns it once), after the record is gone: a payload never loses a reference
    // while a record still points at it.
    const shared = removed.filter((r) => r.payload);
    const payloads = this.payloads;
    if (payloads && shared.length > 0) {
      await mapLimited(shared, OBJECT_READ_CONCURRENCY, (r) =>
        payloads.release(r.payload!, r.position),
      );
    }
    return removed;
  }

  private payloadStore(): SharedPayloadStore {
    if (!this.payloads) {
      throw new ServiceError('NOT_CONFIGURED', 'multi-recipient sends are not configured');
    }
    return this.payloads;
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
    const reserved = await Promise.all(items.map((i) => this.writer.reserve(i, requestId)));
    if (reserved.some((r) => r === undefined)) {
      throw new ServiceError('MAILBOX_FULL', "the recipient's mailbox is full");
    }
    const duplicate = await this.writer.store(reserved as Reserved[], source);
    return { messageId: req.messageId, duplicate };
  }

  /**
   * Stores an admitted multi-recipient request: every counter (each remembering the payload
   * id it reserves with), then the payload's reference set and object, then the records.
   */
  private async deliverShared(
    payloads: SharedPayloadStore,
    request: MultiRecipientRequest,
    views: readonly AccountView[],
    devices: readonly DeviceRecord[][],
    source: MessageSource | undefined,
  ): Promise<SendResponse> {
    const { requestId, payload } = request;
    const accountOf: string[] = [];
    const items: Outgoing[] = [];
    views.forEach((view, i) => {
      const address = view.account.address;
      const listed = request.accounts[i]!.devices;
      for (const [j, device] of devices[i]!.entries()) {
        accountOf.push(address);
        items.push({ mailbox: deviceRef(address, device), body: listed[j]!.header });
      }
    });
    // Drawn per request, never derived from the request id; a retry's counters return the id
    // its first attempt reserved with, so it completes the same payload.
    const fresh = this.random(PAYLOAD_ID_BYTES);
    const reserved = await Promise.all(
      items.map((i) => this.writer.reserve(i, requestId, { id: fresh, bytes: payload.length })),
    );
    const full = [...new Set(accountOf.filter((_, i) => reserved[i] === undefined))];
    if (full.length > 0) {
      throw new MultiRecipientError(
        'MAILBOX_FULL',
        "a recipient's mailbox is full",
        full.map((address) => ({ address })),
      );
    }
    const duplicate = await this.writer.store(reserved as Reserved[], source, {
      payloads,
      payload,
    });
    return { messageId: toBase64Url(requestId), duplicate };
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

/** How many of `records` one page returns: at least one, then while under the byte cap. */
function pageFits(records: readonly StoredMessage[]): number {
  let bytes = 0;
  for (let i = 0; i < records.length; i++) {
    bytes += records[i]!.size;
    if (i > 0 && bytes > MAX_FETCH_RESPONSE_BYTES) return i;
  }
  return records.length;
}
