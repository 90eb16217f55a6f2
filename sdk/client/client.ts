/**
 * `SealpostClient`: the high-level SDK client (docs/SDK.md). It registers accounts and devices,
 * keeps prekeys topped up and the sender certificate fresh, sends to every device of a contact
 * and of its own account, and receives with acknowledgement after durable processing. All
 * cryptography is the protocol engine's (`sdk/protocol/engine.ts`); this class is policy and
 * transport only.
 */
import { defaultBackend } from '../crypto/index.ts';
import { ProtocolEngine } from '../protocol/engine.ts';
import type { AccountKey } from '../protocol/identity.ts';
import { ArgumentRangeError, ArgumentTypeError } from '../util/argument-errors.ts';
import type { FirstContactMode, PushSubscriptionBody } from '../wire/api/schemas.ts';
import { isAddress } from '../wire/identity.ts';
import { checkProgress } from './attachments/progress.ts';
import type {
  AttachmentInput,
  DownloadOptions,
  PendingUpload,
  UploadedAttachment,
  UploadOptions,
} from './attachments/types.ts';
import type { CallOptions } from './call-options.ts';
import {
  type ClientOptions,
  callOf,
  engineOptions,
  httpFor,
  type MessageContent,
  type SendOptions,
  type SendResult,
  trustConfig,
} from './client-options.ts';
import { ClientRequests, firstContactMode } from './client-requests.ts';
import { ClientState, type Registration } from './client-state.ts';
import { BlockedContactError, NotRegisteredError, SealedSendUnauthorizedError } from './errors.ts';
import type { SealpostHttpClient } from './http-client.ts';
import { type OutboxFlush, outboxDelays } from './outbox.ts';
import { maintainPrekeys, type PrekeyMaintenance } from './prekey-maintenance.ts';
import { type SubscribePushOptions, subscribePush } from './push.ts';
import type { ReceiveBatch, ReceiveOptions, ReceiveStreamOptions } from './receive-loop.ts';
import type { IncomingMessage } from './receiver.ts';
import { registerDevice, verifyServerTrust } from './registration.ts';
import { reportPolicy } from './report-store.ts';
import { seedSigner } from './request-signing.ts';
import { revocationRefreshMs } from './revocations.ts';
import { assertMessageFits, sendRequestOf } from './sender.ts';
import { tokenPolicy } from './token-wallet.ts';

export type {
  ClientOptions,
  ContactCard,
  MessageContent,
  SendOptions,
  SendResult,
  TrustInput,
} from './client-options.ts';

/**
 * The Sealpost client of one device.
 *
 * @example
 * const alice = await SealpostClient.register({ baseUrl, store: new MemoryStore(), trust: { trustRoot } });
 * await alice.send(bobAddress, 'hello', { identified: true }); // first contact, no access key yet
 * for (const m of (await alice.receiveBatch()).messages) console.log(m.text);
 */
export class SealpostClient extends ClientRequests {
  private constructor(
    engine: ProtocolEngine,
    http: SealpostHttpClient,
    registration: Registration,
    options: ClientOptions,
  ) {
    super(engine, http, registration, options);
  }

  /**
   * Creates a new account with this device as device 1, uploads prekeys and fetches a sender
   * certificate. `firstContact` says who may start a sealed conversation (docs/SDK.md §Message
   * requests; the service's default, `requests`, when absent); `unrestricted: true` is the
   * older spelling of `firstContact: 'anyone'`. The service's server certificate is checked
   * against `trust` first: with a wrong trust root nothing is created, neither on the server
   * nor in the store (docs/SDK.md §Registration). A token refill is scheduled at a random time.
   *
   * @throws {InvalidCertificateError} if the service's certificate does not chain to the pinned
   *   trust root (or its key is revoked or expired): nothing was registered.
   * @throws {RangeError} if the outbox delays are not 0 <= min <= max, the token options are
   *   out of range, or `unrestricted: true` comes with a `firstContact` other than `anyone`
   *   (checked first).
   * @throws {ApiError} e.g. `ACCOUNT_EXISTS`; {@link NetworkError} if the service is unreachable.
   * @example const client = await SealpostClient.register({ baseUrl, store, trust }, { signal });
   */
  static async register(
    options: ClientOptions & {
      readonly unrestricted?: boolean;
      readonly firstContact?: FirstContactMode;
    },
    call?: CallOptions,
  ): Promise<SealpostClient> {
    const firstContact =
      options.firstContact === undefined ? undefined : firstContactMode(options.firstContact);
    if (options.unrestricted === true && firstContact !== undefined && firstContact !== 'anyone') {
      throw new ArgumentRangeError('unrestricted: true means firstContact: anyone');
    }
    return SealpostClient.enroll(
      options,
      undefined,
      { unrestricted: options.unrestricted ?? false, firstContact },
      call,
    );
  }

  /**
   * Links this (new) device to an existing account, given the account key exported by the
   * account's primary device ({@link exportAccountKey}) over a secure channel. The trust root
   * is checked first, as for {@link register}.
   *
   * @throws {InvalidCertificateError} if the service's certificate does not chain to the pinned
   *   trust root: nothing was linked.
   * @throws {ApiError} e.g. `DEVICE_LIMIT`, `NOT_FOUND`.
   * @example const phone = await SealpostClient.link({ baseUrl, store, trust, account });
   */
  static async link(
    options: ClientOptions & { readonly account: AccountKey },
    call?: CallOptions,
  ): Promise<SealpostClient> {
    return SealpostClient.enroll(options, options.account, { unrestricted: false }, call);
  }

  /**
   * Opens a client over a store that holds a registered device.
   *
   * @throws {NotRegisteredError} if the store holds none.
   * @example const client = await SealpostClient.open({ baseUrl, store, trust });
   */
  static async open(options: ClientOptions): Promise<SealpostClient> {
    const registration = await new ClientState(options.store).registration();
    if (!registration) throw new NotRegisteredError();
    const engine = await ProtocolEngine.open(engineOptions(options));
    const client = SealpostClient.assemble(engine, registration, options);
    // A store from before message requests: its conversations are contacts.
    await client.state.seedAccepted();
    // Moderator certificates and the revocation list held before the restart (franking works
    // offline), and the openings store's retention (docs/SDK.md §Reporting).
    await client.reporting.open();
    // Sync copies queued before a restart go out on their schedule (docs/SDK.md §Outbox), and
    // so do the key updates of an unfinished rotation.
    await client.sender.outbox.start();
    await client.keyRotation.start();
    await client.wallet.start();
    return client;
  }

  private static async enroll(
    options: ClientOptions,
    account: AccountKey | undefined,
    access: { unrestricted: boolean; firstContact?: FirstContactMode | undefined },
    call: CallOptions | undefined,
  ): Promise<SealpostClient> {
    outboxDelays(options.outbox);
    tokenPolicy(options.tokens);
    reportPolicy(options);
    revocationRefreshMs(options.revocationRefreshMs);
    const http = httpFor(options);
    const backend = options.backend ?? defaultBackend;
    const now = options.now ?? Date.now;
    // Before any key is made or anything registered: a client pinned to another root could
    // never use the account it would create.
    const server = await verifyServerTrust(
      { http, backend, trust: trustConfig(options.trust), now: now() },
      call,
    );
    const { engine } = await ProtocolEngine.create({
      ...engineOptions(options),
      ...(account ? { account } : {}),
    });
    const registration = await registerDevice({
      engine,
      http,
      state: new ClientState(options.store),
      backend,
      now,
      account,
      unrestricted: access.unrestricted,
      firstContact: access.firstContact,
      call,
    });
    const client = SealpostClient.assemble(engine, registration, options, http);
    // The sender certificate brings the current moderator key; the service lists older ones too.
    await client.reporting.moderators.add(server.moderatorCertificates);
    await client.state.seedAccepted();
    await client.maintainPrekeys(call);
    await client.certificates.current(call);
    // Tokens come ahead of need, at a random time after registration (never at a send).
    await client.wallet.start();
    return client;
  }

  private static assemble(
    engine: ProtocolEngine,
    registration: Registration,
    options: ClientOptions,
    http = httpFor(options),
  ): SealpostClient {
    http.setSigner(
      seedSigner(
        options.backend ?? defaultBackend,
        registration.address,
        registration.deviceId,
        engine.signer.signingSeed,
      ),
    );
    return new SealpostClient(engine, http, registration, options);
  }

  /**
   * Sends `content` to every device of `recipient` and queues the copy for this account's other
   * devices (sent later on its own, docs/SDK.md §Outbox). Sealed by default: with the
   * recipient's access key when the client holds it, else as a message request paid with an
   * anonymous token from the wallet (docs/SDK.md §Message requests). It never falls back to an
   * identified send: `{ identified: true }` is the app's explicit choice (the server learns the
   * sender). The recipient becomes a contact (a reply accepts its request).
   *
   * `content` is text, bytes, or `{ text?, body?, attachments? }`: attachment inputs are
   * uploaded first, one after the other (`onProgress` counts over all of them), then the
   * message carries their pointers, and so does its sync copy (docs/SDK.md §Attachments).
   * Everything is checked before the first upload, the message's size with its pointers
   * included.
   *
   * A sealed send refused while the client held the recipient's access key is tried once more
   * if the pending messages hold a key update of the recipient (it rotated its key, docs/SDK.md
   * "Blocking and access keys"); other pending messages stay for the app's receive.
   *
   * @throws {BlockedContactError} if the recipient is blocked (nothing is uploaded or sent).
   * @throws {SealedSendUnauthorizedError} if the recipient does not authorize a sealed send (a
   *   request to an account that takes contacts only).
   * @throws {NoTokensError} for a request with an empty wallet (a refill is scheduled).
   * @throws {RequestLimitError} if the recipient takes no more requests today.
   * @throws {IdentityChangedError} if a device of the recipient presents a new identity key:
   *   nothing was sent; confirm with {@link confirmIdentity} and send again.
   * @throws {ArgumentTypeError | ArgumentRangeError} for bad content (before any upload).
   * @throws {ApiError | NetworkError | SendFailedError | TransferFailedError} for other failures.
   * @example await client.send(bob, 'hi', { signal: AbortSignal.timeout(10_000) });
   * @example await client.send(bob, { text: 'look', attachments: [{ data: file, fileName: file.name, contentType: file.type }] });
   */
  async send(
    recipient: string,
    content: Uint8Array | string | MessageContent,
    options: SendOptions = {},
  ): Promise<SendResult> {
    if (!isAddress(recipient)) throw new ArgumentTypeError('recipient is not an address');
    if (recipient === this.address) throw new ArgumentRangeError('send to another account');
    const request = sendRequestOf(content);
    const onProgress = checkProgress(options.onProgress);
    const plan = this.attachments.plan(request.attachments);
    assertMessageFits({ ...request, attachments: plan.placeholders });
    if (await this.state.isBlocked(recipient)) throw new BlockedContactError(recipient);
    // Writing to an account makes it a contact: a reply accepts a request (docs/SDK.md
    // §Message requests).
    if (!(await this.state.isAccepted(recipient))) {
      await this.state.store.commit([this.state.acceptOp(recipient)]);
    }
    const call = callOf(options);
    const attachments = await plan.upload(onProgress, call);
    const identified = options.identified ?? false;
    const message = { text: request.text, body: request.body, attachments };
    const held = !identified && (await this.state.accessKey(recipient)) !== undefined;
    try {
      return await this.sender.send(recipient, message, identified, call);
    } catch (err) {
      if (!(held && err instanceof SealedSendUnauthorizedError)) throw err;
      // The refusal is the answer the app gets when the pull fails or finds no new key.
      const arrived = await this.keyUpdateArrived(recipient, call).catch(() => false);
      if (!arrived) throw err;
      return this.sender.send(recipient, message, identified, call);
    }
  }

  /**
   * Encrypts and uploads one attachment and returns its pointer, to put into messages
   * (`send(to, { attachments: [uploaded] })`, as often as wanted). The key is fresh; the blob
   * goes straight to the object store (one form POST up to the deployment's multipart
   * threshold, else part by part, one part in memory at a time); the service learns only its
   * padded size. While it runs its state is in the store: after a failure or a restart,
   * {@link pendingUploads} lists it and `uploadAttachment(sameInput, { resume: resumeId })`
   * uploads only what is missing (docs/SDK.md §Attachments, "Resume").
   *
   * @throws {ArgumentTypeError | ArgumentRangeError} for a bad input (before any request).
   * @throws {AttachmentResumeMismatchError} if `resume` is given other data.
   * @throws {AbortedError} when `signal` aborts: the upload is abandoned on the service too.
   * @throws {ApiError} `ATTACHMENT_TOO_LARGE`, `RATE_LIMITED`, `QUOTA_EXCEEDED`, ...
   * @throws {NetworkError | TransferFailedError} when a transfer fails after its retries (the
   *   upload stays pending).
   * @example
   * const photo = await client.uploadAttachment(
   *   { data: file, fileName: file.name, contentType: file.type },
   *   { onProgress: (sent, total) => bar.set(sent / total) },
   * );
   */
  uploadAttachment(
    input: AttachmentInput,
    options: UploadOptions = {},
  ): Promise<UploadedAttachment> {
    return this.attachments.upload(input, options);
  }

  /**
   * Uploads started and not finished (failed, or cut off by a restart), oldest first.
   *
   * @example for (const p of await client.pendingUploads()) console.log(p.fileName, p.size);
   */
  pendingUploads(): Promise<PendingUpload[]> {
    return this.attachments.pendingUploads();
  }

  /**
   * Abandons a pending upload on the service (its storage is released) and forgets it.
   * Resolves false when no such upload is pending.
   *
   * @throws {ApiError | NetworkError} if the service could not be told (it stays pending).
   * @example await client.discardUpload(pending.resumeId);
   */
  discardUpload(resumeId: string, call?: CallOptions): Promise<boolean> {
    return this.attachments.discard(resumeId, callOf(call));
  }

  /**
   * Downloads an attachment by its pointer (from `message.attachments[i].pointer`, stored by
   * the app, or an upload's result) as a stream of verified bytes. The stream errors, instead
   * of ending, if the blob does not verify (the cipher's `AttachmentCorruptError`,
   * `AttachmentKeyMismatchError`, `AttachmentDigestMismatchError`) or the transfer breaks.
   *
   * @throws {AttachmentNotFoundError} if the blob expired or was never uploaded.
   * @throws {TransferFailedError | NetworkError | AbortedError} if it cannot be fetched.
   * @example
   * const stream = await client.downloadAttachment(pointer, { onProgress: (n, total) => show(n / total) });
   * await stream.pipeTo(writable);
   */
  downloadAttachment(
    pointer: UploadedAttachment,
    options: DownloadOptions = {},
  ): Promise<ReadableStream<Uint8Array>> {
    return this.attachments.download(pointer, options);
  }

  /**
   * Sends every queued sync copy now instead of after its random delay, and reports what is
   * left (failed copies stay queued with backoff). Call it before a short-lived process exits;
   * tests call it instead of waiting. An aborted `signal` stops the flush (the copy in flight
   * stays queued unchanged) and rejects.
   *
   * @example const { sent, pending, errors } = await client.flushOutbox();
   */
  flushOutbox(call?: CallOptions): Promise<OutboxFlush> {
    return this.sender.outbox.flush(true, callOf(call));
  }

  /** Sync copies waiting in the outbox. */
  pendingSyncCopies(): Promise<number> {
    return this.sender.outbox.size();
  }

  /**
   * Stops background work (the outbox, key-update and token-refill timers); queued copies and
   * key updates go out, and refills are scheduled, when the store is reopened.
   */
  close(): void {
    this.sender.outbox.stop();
    this.keyRotation.stop();
    this.wallet.stop();
  }

  /**
   * Fetches, decrypts and acknowledges one batch. `onMessage` runs for each message before its
   * state is committed; if it throws, the message stays on the server and comes again.
   * `signal` and `timeoutMs` apply to every request of the batch.
   *
   * @throws {ApiError | NetworkError} if the fetch or the acknowledgement fails.
   * @example const { messages, failures } = await client.receiveBatch({ signal });
   */
  receiveBatch(options: ReceiveOptions = {}): Promise<ReceiveBatch> {
    return this.loop.batch(options);
  }

  /**
   * Messages as they arrive: pushed over the device's WebSocket when the client has a
   * WebSocket class (`ClientOptions.webSocket`), else polled while the mailbox is empty
   * (docs/SDK.md §Receiving, "Realtime"; `onConnectionState` tells which). A message is committed and
   * acknowledged when the loop asks for the next one, so a message whose loop body did not
   * finish (the loop was left by `break`, `return` or an exception) comes again later.
   * Messages that fail go to `onFailure`. Transient failures of the service (network errors,
   * timeouts, `UNAVAILABLE`, `RATE_LIMITED`) do not end the loop: they go to `onRetry` and the
   * loop tries again after a jittered exponential backoff (docs/SDK.md §Receiving). It ends
   * when `signal` aborts, or by throwing a failure that is not transient.
   *
   * @throws {SealpostClientError} a failure that is not transient, e.g. `ApiError`
   *   `UNAUTHORIZED` once this device was removed.
   * @example
   * for await (const m of client.receive({ signal, onRetry: (r) => log(r.error.code) })) {
   *   console.log(m.text);
   * }
   */
  receive(options: ReceiveStreamOptions = {}): AsyncGenerator<IncomingMessage, void, undefined> {
    return this.loop.iterate(options);
  }

  /**
   * Counts the one-time prekeys left, refills below the threshold, rotates old signed keys.
   *
   * @throws {ApiError | NetworkError} if the service cannot be reached.
   * @example const { uploadedOneTime } = await client.maintainPrekeys({ timeoutMs: 5_000 });
   */
  maintainPrekeys(call?: CallOptions): Promise<PrekeyMaintenance> {
    return maintainPrekeys(
      { engine: this.engine, http: this.http, now: this.now },
      this.prekeyPolicy,
      callOf(call),
    );
  }

  /**
   * The sender certificate, refreshed when less than 12 hours of its lifetime are left.
   *
   * @throws {InvalidCertificateError | ApiError | NetworkError}
   * @example const certificate = await client.senderCertificate();
   */
  senderCertificate(call?: CallOptions): Promise<Uint8Array> {
    return this.certificates.current(callOf(call));
  }

  /**
   * Registers this device for wake-ups (docs/SDK.md, "Wake-ups"): while it has no live
   * connection, a message stored for it makes the service send it a Web Push message with no
   * content: at once into an empty mailbox, then at most one an hour while messages wait. Pass
   * the service worker's registration (the SDK fetches the service's VAPID key and calls
   * `pushManager.subscribe({ userVisibleOnly: true, applicationServerKey })`), or a
   * subscription the app already made with that key. Registering again replaces the device's
   * subscription. Returns what was registered.
   *
   * @throws {ArgumentTypeError | ArgumentRangeError} on a malformed subscription or a
   *   registration without `pushManager`.
   * @throws {ApiError} `NOT_CONFIGURED` if the deployment has no wake-ups; `BAD_REQUEST` if it
   *   does not post to the subscription's push service.
   * @example await client.subscribePush({ registration: await navigator.serviceWorker.ready });
   */
  subscribePush(options: SubscribePushOptions): Promise<PushSubscriptionBody> {
    return subscribePush(this.http, options, callOf(options));
  }

  /**
   * Removes this device's push subscription from the service: it is no longer woken. Resolves
   * whether one was registered. (The browser's own subscription is the app's to end, with
   * `PushSubscription.unsubscribe()`.)
   *
   * @throws {ApiError | NetworkError}
   * @example await client.unsubscribePush(); // true
   */
  async unsubscribePush(call?: CallOptions): Promise<boolean> {
    return (await this.http.unsubscribePush(callOf(call))).removed;
  }
}
