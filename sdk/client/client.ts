/**
 * `SealpostClient`: the high-level SDK client (docs/SDK.md). It registers accounts and devices,
 * keeps prekeys topped up and the sender certificate fresh, sends to every device of a contact
 * and of its own account, and receives with acknowledgement after durable processing. All
 * cryptography is the protocol engine's (`sdk/protocol/engine.ts`); this class is policy and
 * transport only.
 */
import { systemRng } from '../crypto/backend.ts';
import { defaultBackend } from '../crypto/index.ts';
import { type IdentityChangedError, NoSessionError } from '../errors.ts';
import { ProtocolEngine } from '../protocol/engine.ts';
import type { AccountKey } from '../protocol/identity.ts';
import type { SafetyNumber } from '../protocol/safety-number.ts';
import { ArgumentRangeError, ArgumentTypeError } from '../util/argument-errors.ts';
import { fromBase64Url, toBase64Url } from '../wire/api/codec.ts';
import { isAddress } from '../wire/identity.ts';
import { CertificateCache } from './certificate-cache.ts';
import {
  type ClientOptions,
  type ContactCard,
  engineOptions,
  httpFor,
  type SendResult,
} from './client-options.ts';
import { ClientState, type KnownDevice, type Registration } from './client-state.ts';
import { AccountKeyRequiredError, NotRegisteredError } from './errors.ts';
import { Fanout } from './fanout.ts';
import type { SealpostHttpClient } from './http-client.ts';
import type { OutboxFlush } from './outbox.ts';
import {
  maintainPrekeys,
  type PrekeyMaintenance,
  type PrekeyPolicy,
} from './prekey-maintenance.ts';
import { type ReceiveBatch, ReceiveLoop, type ReceiveOptions } from './receive-loop.ts';
import { registerDevice } from './registration.ts';
import { seedSigner } from './request-signing.ts';
import { MessageSender } from './sender.ts';

export type { ClientOptions, ContactCard, SendResult, TrustInput } from './client-options.ts';

/**
 * The Sealpost client of one device.
 *
 * @example
 * const alice = await SealpostClient.register({ baseUrl, store: new MemoryStore(), trust: { trustRoot } });
 * await alice.send(bobAddress, 'hello', { identified: true }); // first contact, no access key yet
 * for (const m of (await alice.receiveBatch()).messages) console.log(m.text);
 */
export class SealpostClient {
  /** The typed HTTP client, signed as this device. */
  readonly http: SealpostHttpClient;
  /** The protocol engine (identity, sessions, safety numbers). */
  readonly engine: ProtocolEngine;
  private readonly state: ClientState;
  private readonly registration: Registration;
  private readonly certificates: CertificateCache;
  private readonly sender: MessageSender;
  private readonly loop: ReceiveLoop;
  private readonly now: () => number;
  private readonly prekeyPolicy: PrekeyPolicy;

  private constructor(
    engine: ProtocolEngine,
    http: SealpostHttpClient,
    registration: Registration,
    options: ClientOptions,
  ) {
    const backend = options.backend ?? defaultBackend;
    this.engine = engine;
    this.http = http;
    this.registration = registration;
    this.now = options.now ?? Date.now;
    this.prekeyPolicy = options.prekeys ?? {};
    this.state = new ClientState(options.store);
    this.certificates = new CertificateCache({
      http,
      state: this.state,
      backend,
      trust: engine.trust,
      now: this.now,
      self: registration,
      dhPublic: engine.identity.dhPublic,
    });
    const fanout = new Fanout({
      engine,
      http,
      state: this.state,
      certificates: this.certificates,
      backend,
      self: registration,
      onDeviceChange: options.onDeviceChange,
    });
    this.sender = new MessageSender({
      fanout,
      state: this.state,
      self: registration,
      rng: options.rng ?? systemRng,
      now: this.now,
      outbox: options.outbox,
    });
    this.loop = new ReceiveLoop({
      engine,
      http,
      state: this.state,
      backend,
      self: registration,
      now: this.now,
      onDeviceChange: options.onDeviceChange,
    });
  }

  /**
   * Creates a new account with this device as device 1, uploads prekeys and fetches a sender
   * certificate. `unrestricted` lets anyone send sealed messages without the access key.
   *
   * @throws {ApiError} e.g. `ACCOUNT_EXISTS`; {@link NetworkError} if the service is unreachable.
   * @example const client = await SealpostClient.register({ baseUrl, store, trust });
   */
  static async register(
    options: ClientOptions & { readonly unrestricted?: boolean },
  ): Promise<SealpostClient> {
    return SealpostClient.enroll(options, undefined, options.unrestricted ?? false);
  }

  /**
   * Links this (new) device to an existing account, given the account key exported by the
   * account's primary device ({@link exportAccountKey}) over a secure channel.
   *
   * @throws {ApiError} e.g. `DEVICE_LIMIT`, `NOT_FOUND`.
   * @example const phone = await SealpostClient.link({ baseUrl, store, trust, account });
   */
  static async link(
    options: ClientOptions & { readonly account: AccountKey },
  ): Promise<SealpostClient> {
    return SealpostClient.enroll(options, options.account, false);
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
    // Sync copies queued before a restart go out on their schedule (docs/SDK.md §Outbox).
    await client.sender.outbox.start();
    return client;
  }

  private static async enroll(
    options: ClientOptions,
    account: AccountKey | undefined,
    unrestricted: boolean,
  ): Promise<SealpostClient> {
    const { engine } = await ProtocolEngine.create({
      ...engineOptions(options),
      ...(account ? { account } : {}),
    });
    const http = httpFor(options);
    const registration = await registerDevice({
      engine,
      http,
      state: new ClientState(options.store),
      backend: options.backend ?? defaultBackend,
      now: options.now ?? Date.now,
      account,
      unrestricted,
    });
    const client = SealpostClient.assemble(engine, registration, options, http);
    await client.maintainPrekeys();
    await client.certificates.current();
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

  /** This account's address (self-certifying). */
  get address(): string {
    return this.registration.address;
  }

  /** This device's id. */
  get deviceId(): number {
    return this.registration.deviceId;
  }

  /**
   * The account key, present only on the device that created the account. Hand it to a new
   * device over a secure channel to link it; whoever holds it controls the account.
   *
   * Returns undefined on linked devices.
   */
  exportAccountKey(): AccountKey | undefined {
    const seed = this.engine.accountSeed;
    return seed ? { seed, publicKey: this.engine.identity.accountPublic } : undefined;
  }

  /** This account's contact card (address and delivery access key). */
  contactCard(): ContactCard {
    return { address: this.address, accessKey: toBase64Url(this.registration.accessKey) };
  }

  /**
   * Stores a contact's card so sealed sends to it are authorized from the first message.
   *
   * @throws {TypeError | RangeError} if the card is malformed.
   */
  async addContact(card: ContactCard): Promise<void> {
    if (!isAddress(card.address)) throw new ArgumentTypeError('card.address is not an address');
    const key = fromBase64Url(card.accessKey, 'card.accessKey');
    if (key.length !== 16) throw new ArgumentRangeError('card.accessKey must be 16 bytes');
    await this.state.store.commit([this.state.accessKeyOp(card.address, key)]);
  }

  /**
   * Sends `content` to every device of `recipient` and queues the copy for this account's other
   * devices (sent later on its own, docs/SDK.md §Outbox). Sealed by default; without the
   * recipient's access key that fails and never falls back: `{ identified: true }` is the app's
   * explicit choice (the server learns the sender; for first contact).
   *
   * @throws {SealedSendUnauthorizedError} if the recipient does not authorize a sealed send.
   * @throws {IdentityChangedError} if a device of the recipient presents a new identity key:
   *   nothing was sent; confirm with {@link confirmIdentity} and send again.
   * @throws {ApiError | NetworkError | SendFailedError | RangeError} for other failures.
   * @example await client.send(bob, 'hi');
   */
  async send(
    recipient: string,
    content: Uint8Array | string,
    options: { readonly identified?: boolean } = {},
  ): Promise<SendResult> {
    if (!isAddress(recipient)) throw new ArgumentTypeError('recipient is not an address');
    if (recipient === this.address) throw new ArgumentRangeError('send to another account');
    return this.sender.send(recipient, content, options.identified ?? false);
  }

  /**
   * Sends every queued sync copy now instead of after its random delay, and reports what is
   * left (failed copies stay queued with backoff). Call it before a short-lived process exits;
   * tests call it instead of waiting.
   *
   * @example const { sent, pending, errors } = await client.flushOutbox();
   */
  flushOutbox(): Promise<OutboxFlush> {
    return this.sender.outbox.flush(true);
  }

  /** Sync copies waiting in the outbox. */
  pendingSyncCopies(): Promise<number> {
    return this.sender.outbox.size();
  }

  /** Stops background work (the outbox timer); queued copies go out when the store is reopened. */
  close(): void {
    this.sender.outbox.stop();
  }

  /**
   * Fetches, decrypts and acknowledges one batch. `onMessage` runs for each message before its
   * state is committed; if it throws, the message stays on the server and comes again.
   *
   * @example const { messages, failures } = await client.receiveBatch();
   */
  receiveBatch(options: ReceiveOptions = {}): Promise<ReceiveBatch> {
    return this.loop.batch(options);
  }

  /**
   * Messages as they arrive, polling while the mailbox is empty. A message is committed and
   * acknowledged when the loop asks for the next one, so a message whose loop body did not
   * finish (the loop was left by `break`, `return` or an exception) comes again later.
   * Failures go to `onFailure`.
   *
   * @example for await (const m of client.receive({ signal })) console.log(m.text);
   */
  receive(
    options: {
      readonly signal?: AbortSignal;
      readonly pollIntervalMs?: number;
      readonly onFailure?: ReceiveOptions['onFailure'];
    } = {},
  ) {
    return this.loop.iterate(options);
  }

  /**
   * Counts the one-time prekeys left, refills below the threshold, rotates old signed keys.
   *
   * @throws {ApiError | NetworkError} if the service cannot be reached.
   */
  maintainPrekeys(): Promise<PrekeyMaintenance> {
    return maintainPrekeys(
      { engine: this.engine, http: this.http, now: this.now },
      this.prekeyPolicy,
    );
  }

  /**
   * The sender certificate, refreshed when less than a day of its lifetime is left.
   *
   * @throws {InvalidCertificateError | ApiError | NetworkError}
   */
  senderCertificate(): Promise<Uint8Array> {
    return this.certificates.current();
  }

  /**
   * Accepts the new identity of a contact device after the user confirmed it (compared safety
   * numbers). Messages held because of the change are read at the next receive.
   *
   * @throws {UntrustedIdentityError} if the identity does not belong to the address.
   */
  async confirmIdentity(error: IdentityChangedError): Promise<void> {
    if (!error.identity) throw new ArgumentTypeError('the error carries no identity');
    await this.engine.confirmIdentity(
      { address: error.address, deviceId: error.deviceId },
      error.identity,
    );
  }

  /**
   * The safety number with a contact (compare it in person or scan its QR payload).
   *
   * @throws {NoSessionError} if no identity of the contact is known yet.
   */
  async safetyNumber(contact: string): Promise<SafetyNumber> {
    return this.engine.safetyNumber(await this.accountKeyOf(contact));
  }

  /**
   * Marks a contact's safety number as verified (after comparing it in person or scanning its
   * QR code); a new or re-linked device of a verified contact is then announced with
   * `verifiedContact: true`. Pass `false` to take the mark back.
   *
   * @throws {NoSessionError} if no identity of the contact is known yet.
   */
  async markVerified(contact: string, verified = true): Promise<void> {
    await this.engine.markVerified(contact, await this.accountKeyOf(contact), verified);
  }

  /** The contact's account key, from any pinned device identity. */
  private async accountKeyOf(contact: string): Promise<Uint8Array> {
    for (const d of await this.state.devices(contact)) {
      const identity = await this.engine.pinnedIdentity({ address: contact, deviceId: d.deviceId });
      if (identity) return identity.accountPublic;
    }
    throw new NoSessionError('no identity of this contact is known yet');
  }

  /** The devices of `address` this client currently encrypts for. */
  knownDevices(address: string): Promise<KnownDevice[]> {
    return this.state.devices(address);
  }

  /**
   * Changes whether anyone may send sealed messages to this account without the access key.
   *
   * @throws {ApiError | NetworkError}
   */
  async setUnrestricted(unrestricted: boolean): Promise<void> {
    await this.http.updateSettings({ unrestricted });
  }

  /**
   * Removes a device of this account (e.g. a lost phone). Removing another device is signed
   * with the account key, which only the account's first device holds; a device may always
   * remove itself.
   *
   * @throws {AccountKeyRequiredError} if `deviceId` is another device and this one holds no
   *   account key.
   * @throws {ApiError} `NOT_FOUND` if no such device.
   */
  async removeDevice(deviceId: number): Promise<void> {
    if (deviceId === this.deviceId) {
      await this.http.removeDevice(deviceId);
    } else {
      const accountSeed = this.engine.accountSeed;
      if (!accountSeed) {
        throw new AccountKeyRequiredError('removing another device needs the account key');
      }
      await this.http.removeDevice(deviceId, { accountSeed });
    }
    this.sender.ownDevicesChanged();
  }
}
