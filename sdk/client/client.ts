/**
 * `SealpostClient`: the high-level SDK client (docs/SDK.md). It registers accounts and devices,
 * keeps prekeys topped up and the sender certificate fresh, sends to every device of a contact
 * and of its own account, and receives with acknowledgement after durable processing. All
 * cryptography is the protocol engine's (`sdk/protocol/engine.ts`); this class is policy and
 * transport only.
 */
import { type Rng, systemRng } from '../crypto/backend.ts';
import { defaultBackend } from '../crypto/index.ts';
import { type IdentityChangedError, NoSessionError } from '../errors.ts';
import { ProtocolEngine } from '../protocol/engine.ts';
import type { AccountKey } from '../protocol/identity.ts';
import type { SafetyNumber } from '../protocol/safety-number.ts';
import { utf8 } from '../util/bytes.ts';
import { fromBase64Url, toBase64Url } from '../wire/api/codec.ts';
import { createMessageId, MESSAGE_ID_RANDOM_BYTES } from '../wire/api/message-id.ts';
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
import { CONTENT_KIND_MESSAGE, CONTENT_KIND_SYNC, encodeContent } from './content.ts';
import { NotRegisteredError } from './errors.ts';
import { Fanout } from './fanout.ts';
import type { SealpostHttpClient } from './http-client.ts';
import {
  maintainPrekeys,
  type PrekeyMaintenance,
  type PrekeyPolicy,
} from './prekey-maintenance.ts';
import { type ReceiveBatch, ReceiveLoop, type ReceiveOptions } from './receive-loop.ts';
import { registerDevice } from './registration.ts';
import { seedSigner } from './request-signing.ts';

export type { ClientOptions, ContactCard, SendResult, TrustInput } from './client-options.ts';

/** Own device lists are re-read from the service at most this often before a send. */
const OWN_DEVICES_REFRESH_MS = 5 * 60 * 1000;

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
  private readonly fanout: Fanout;
  private readonly loop: ReceiveLoop;
  private readonly rng: Rng;
  private readonly now: () => number;
  private readonly prekeyPolicy: PrekeyPolicy;
  private ownDevicesCheckedAt = Number.NEGATIVE_INFINITY;
  private lastIdTime = 0;

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
    this.rng = options.rng ?? systemRng;
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
    this.fanout = new Fanout({
      engine,
      http,
      state: this.state,
      certificates: this.certificates,
      backend,
      self: registration,
    });
    this.loop = new ReceiveLoop({
      engine,
      http,
      state: this.state,
      backend,
      self: registration,
      now: this.now,
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
    return SealpostClient.assemble(engine, registration, options);
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
    if (!isAddress(card.address)) throw new TypeError('card.address is not an address');
    const key = fromBase64Url(card.accessKey, 'card.accessKey');
    if (key.length !== 16) throw new RangeError('card.accessKey must be 16 bytes');
    await this.state.store.commit([this.state.accessKeyOp(card.address, key)]);
  }

  /**
   * Sends `content` to every device of `recipient` and a copy to this account's other devices.
   * Sealed by default: the server does not learn the sender. Without the recipient's access key
   * (from a contact card or an earlier message) a sealed send fails with
   * {@link SealedSendUnauthorizedError}; the SDK never falls back on its own. Pass
   * `{ identified: true }` to send identified (the server learns the sender; for first contact).
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
    if (!isAddress(recipient)) throw new TypeError('recipient is not an address');
    if (recipient === this.address) throw new RangeError('send to another account');
    const text = typeof content === 'string';
    const body = text ? utf8(content) : content;
    const sentAt = this.now();
    const frame = { text, senderAccessKey: this.registration.accessKey, sentAt, body };
    const messageId = this.newMessageId(sentAt);
    const delivery = options.identified
      ? ({ mode: 'identified' } as const)
      : ({ mode: 'sealed', accessKey: await this.state.accessKey(recipient) } as const);
    const plaintext = encodeContent({ ...frame, kind: CONTENT_KIND_MESSAGE });
    const sent = await this.fanout.send(recipient, plaintext, messageId, delivery);
    const result = {
      messageId: toBase64Url(messageId),
      recipientDevices: sent?.devices ?? 0,
    };
    try {
      const own = await this.syncToOwnDevices(
        encodeContent({ ...frame, kind: CONTENT_KIND_SYNC, destination: recipient }),
        sentAt,
      );
      return { ...result, ownDevices: own };
    } catch (syncError) {
      return { ...result, ownDevices: 0, syncError: syncError as Error };
    }
  }

  private async syncToOwnDevices(plaintext: Uint8Array, sentAt: number): Promise<number> {
    if (this.now() - this.ownDevicesCheckedAt >= OWN_DEVICES_REFRESH_MS) {
      await this.fanout.refreshOwnDevices();
      this.ownDevicesCheckedAt = this.now();
    }
    const others = (await this.state.devices(this.address)).filter(
      (d) => d.deviceId !== this.deviceId,
    );
    if (others.length === 0) return 0;
    // Identified: the service lists the own account's devices except this one (§7.1), and the
    // sender is the account itself, so the server learns nothing it did not know.
    const sent = await this.fanout.send(this.address, plaintext, this.newMessageId(sentAt), {
      mode: 'identified',
    });
    return sent?.devices ?? 0;
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
    if (!error.identity) throw new TypeError('the error carries no identity');
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
    for (const d of await this.state.devices(contact)) {
      const identity = await this.engine.pinnedIdentity({ address: contact, deviceId: d.deviceId });
      if (identity) return this.engine.safetyNumber(identity.accountPublic);
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
   * Removes a device of this account (e.g. a lost phone).
   *
   * @throws {ApiError} `NOT_FOUND` if no such device.
   */
  async removeDevice(deviceId: number): Promise<void> {
    await this.http.removeDevice(deviceId);
    this.ownDevicesCheckedAt = Number.NEGATIVE_INFINITY;
  }

  /**
   * Message ids sort by their time prefix (docs/SERVICE.md §7.1), so ids of one
   * client strictly increase: two sends in the same millisecond keep their order.
   */
  private newMessageId(at: number): Uint8Array {
    this.lastIdTime = Math.max(Math.floor(at), this.lastIdTime + 1);
    return createMessageId(this.lastIdTime, this.rng(MESSAGE_ID_RANDOM_BYTES));
  }
}
