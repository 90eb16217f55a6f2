/**
 * The protocol engine of one device: everything the SDK client (and an app that brings its
 * own transport) needs, over one {@link StateStore}. It ties together identity, prekeys,
 * PQXDH, the session cipher and sealed sender, and owns the rules that span them:
 *
 * - Sessions start only from a bundle whose every signature verified and whose identity hashes
 *   to the address asked for (docs/PROTOCOL.md §4).
 * - A contact device's identity is pinned on first use. Every message sent and received uses
 *   only a session bound to the pin; a device re-linked by the same account key (a newer link
 *   epoch) replaces the pin and drops the old sessions, and is announced as a device change;
 *   an older link is refused (`StaleDeviceLinkError`); another account key raises
 *   `IdentityChangedError` until the app confirms it (docs/PROTOCOL.md §9.6).
 * - A sealed message is accepted only if its certificate validates against the pinned trust
 *   root and names the identity the session is bound to (§6).
 * - Outgoing state is committed before ciphertext is returned; incoming state is committed only
 *   after the caller's handler has durably processed the plaintext, in one atomic commit with
 *   the handler's own ops, under the peer device's lock (§9).
 */
import { type CryptoBackend, type Rng, systemRng } from '../crypto/backend.ts';
import { defaultBackend } from '../crypto/index.ts';
import { MalformedEnvelopeError, StateCorruptError } from '../errors.ts';
import type { StateStore, StoreOp } from '../state/store.ts';
import { ArgumentRangeError } from '../util/argument-errors.ts';
import { assertBytes } from '../util/bytes.ts';
import type { SenderCertificate } from '../wire/certificates.ts';
import { decodeIdentityBundle, type IdentityBundle } from '../wire/identity.ts';
import type { MessageType } from '../wire/messages.ts';
import { isPayloadReference, type PayloadReference } from '../wire/multi-recipient-payload.ts';
import type { PrekeyBundle } from '../wire/prekeys.ts';
import type { TrustConfig } from './certificates.ts';
import { confirmPin, markVerifiedOp } from './contacts.ts';
import { FrankingState, type ModeratorKey } from './engine-franking.ts';
import { sealHeaderFor, unsealWithPayload } from './engine-multi.ts';
import { receiveMessage, unsealEnvelope } from './engine-receive.ts';
import { sealFor, startSessionWith } from './engine-send.ts';
import {
  type EngineContext,
  type EngineOptions,
  engineKeyAgreement,
  type MessageHandler,
  type ReceivedMessage,
  type StartedSession,
  type UnsealOptions,
} from './engine-types.ts';
import {
  type AccountKey,
  address as addressOf,
  type DeviceLink,
  decodeLocalIdentity,
  encodeLocalIdentity,
  generateAccountKey,
  generateDeviceIdentity,
  type LocalIdentity,
  relinkLocalIdentity,
} from './identity.ts';
import { PinCache } from './pin-cache.ts';
import { type PrekeyRequest, type PrekeyUpload, replenishPrekeys } from './prekey-manager.ts';
import { localIdentityRecord, pinRecords } from './records.ts';
import { type SafetyNumber, safetyNumber } from './safety-number.ts';
import { type PeerAddress, SessionCipher } from './session-cipher.ts';

export type { DeviceChange } from './contacts.ts';
export type {
  EngineOptions,
  MessageHandler,
  ReceivedMessage,
  StartedSession,
  UnsealOptions,
} from './engine-types.ts';

/**
 * The content of a per-device envelope is its ratchet plaintext; a payload reference there is
 * the header of a multi-recipient message delivered without its payload (docs/PROTOCOL.md
 * §14.6), refused before the franking checks so that nothing is committed.
 *
 * @throws {MalformedEnvelopeError} for a payload reference.
 */
function contentOfEnvelope(plaintext: Uint8Array): Uint8Array {
  if (isPayloadReference(plaintext)) {
    throw new MalformedEnvelopeError('a payload reference was delivered without its payload');
  }
  return plaintext;
}

/**
 * The protocol engine of one device.
 *
 * @example
 * const { engine } = await ProtocolEngine.create({ store, trust });
 * await engine.startSession(bob, bundleOfBob);
 * const sealed = await engine.seal(bob, utf8('hi'), myCertificate);
 */
export class ProtocolEngine {
  readonly backend: CryptoBackend;
  readonly rng: Rng;
  readonly store: StateStore;
  readonly trust: TrustConfig;
  readonly now: () => number;
  /** This device's address (self-certifying, from the account key). */
  readonly address: string;
  private local: LocalIdentity;
  private readonly cipher: SessionCipher;
  /** Contact pins, shared by the engines over this store; every commit goes through it. */
  private readonly pins: PinCache;
  /** Remote DH identity per peer device (from the current session), to avoid re-decoding. */
  private readonly remoteDh = new Map<string, Uint8Array>();
  /** What the send and receive modules use (engine-send.ts, engine-receive.ts). */
  private readonly context: EngineContext;
  private readonly franking: FrankingState;

  private constructor(options: EngineOptions, local: LocalIdentity) {
    this.store = options.store;
    this.trust = options.trust;
    this.backend = options.backend ?? defaultBackend;
    this.rng = options.rng ?? systemRng;
    this.now = options.now ?? Date.now;
    this.local = local;
    this.address = addressOf(this.backend, local.bundle.accountPublic);
    this.franking = new FrankingState(this.backend, this.trust, () => this.local.dhPrivate);
    const pins = PinCache.of(this.store);
    this.pins = pins;
    this.cipher = new SessionCipher({
      store: this.store,
      backend: this.backend,
      rng: this.rng,
      keyAgreement: engineKeyAgreement(this.backend, this.store, () => this.local),
      commit: (ops) => pins.commit(ops),
    });
    this.context = {
      backend: this.backend,
      rng: this.rng,
      store: this.store,
      cipher: this.cipher,
      pins,
      remoteDh: this.remoteDh,
      local: () => this.local,
      franking: this.franking,
      address: this.address,
      now: this.now,
    };
  }

  /**
   * Creates a new account (or, with `account`, a new device of an existing account) and
   * stores its identity, linked as `link` (default: device 1 at `now()`; once the server
   * assigns another id, call {@link relink} while the account seed is at hand). The account
   * seed is kept on this device only if `retainAccountSeed` (the primary device, which links
   * further devices).
   *
   * @throws {ArgumentRangeError} if `account.publicKey` does not match `account.seed`.
   * @example const { engine, account } = await ProtocolEngine.create({ store, trust });
   */
  static async create(
    options: EngineOptions & {
      account?: AccountKey;
      retainAccountSeed?: boolean;
      link?: DeviceLink;
    },
  ): Promise<{ engine: ProtocolEngine; account: AccountKey }> {
    const backend = options.backend ?? defaultBackend;
    const rng = options.rng ?? systemRng;
    const account = options.account ?? (await generateAccountKey(backend, rng));
    const now = options.now ?? Date.now;
    const local = await generateDeviceIdentity(backend, rng, account, {
      retainAccountSeed: options.retainAccountSeed ?? options.account === undefined,
      link: options.link ?? { deviceId: 1, linkEpoch: Math.floor(now()) },
    });
    await options.store.commit([localIdentityRecord.put(encodeLocalIdentity(local))]);
    return { engine: new ProtocolEngine(options, local), account };
  }

  /**
   * Opens the engine over a store that already holds this device's identity.
   *
   * @throws {StateCorruptError} if the store holds no identity or it does not decode.
   * @example const engine = await ProtocolEngine.open({ store, trust });
   */
  static async open(options: EngineOptions): Promise<ProtocolEngine> {
    const bytes = await localIdentityRecord.get(options.store);
    if (bytes === undefined) throw new StateCorruptError('the store holds no device identity');
    return new ProtocolEngine(options, decodeLocalIdentity(bytes));
  }

  /** This device's public identity (what bundles and prekey messages carry). */
  get identity(): IdentityBundle {
    return this.local.bundle;
  }

  /**
   * Re-signs this device's link as `link.deviceId` at `link.linkEpoch` (default: now) with the
   * account seed (the retained one, or `accountSeed`), and stores it. Call it before
   * registering once the device id is known (docs/PROTOCOL.md §1.3), and before sessions
   * exist: peers pin the identity their first session carried.
   *
   * @throws {ArgumentRangeError} without an account seed, with one of another account, or with an id
   *   or epoch out of range.
   * @example await engine.relink({ deviceId: 2 }, account.seed);
   */
  async relink(
    link: { deviceId: number; linkEpoch?: number },
    accountSeed?: Uint8Array,
  ): Promise<IdentityBundle> {
    const seed = accountSeed ?? this.local.accountSeed;
    if (seed === undefined) throw new ArgumentRangeError('re-linking needs the account seed');
    const linkEpoch = link.linkEpoch ?? Math.floor(this.now());
    const next = await relinkLocalIdentity(this.backend, this.local, seed, {
      deviceId: link.deviceId,
      linkEpoch,
    });
    await this.store.commit([localIdentityRecord.put(encodeLocalIdentity(next))]);
    this.local = next;
    return next.bundle;
  }

  /** This device's ristretto255 franking public key (registered with the service). */
  get frankingPublicKey(): Uint8Array {
    return this.franking.local().publicKey.slice();
  }

  /**
   * Sets the moderator certificates this device franks for and accepts (PROTOCOL.md §11.2):
   * each is validated against the trust root at the engine's clock; invalid ones are left out.
   * New messages are franked for the accepted key valid longest.
   *
   * @returns the key ids accepted
   * @example await engine.setModeratorCertificates([moderatorCertificate]);
   */
  async setModeratorCertificates(certificates: readonly Uint8Array[]): Promise<number[]> {
    const accepted = await this.franking.setModerators(certificates, this.now());
    return accepted.map((m) => m.keyId);
  }

  /** The accepted moderator keys (PROTOCOL.md §11.2). */
  moderatorKeys(): readonly ModeratorKey[] {
    return this.franking.moderatorKeys();
  }

  /**
   * Stores the franking key of a peer device (the service serves it with the device's bundle;
   * certificates of sealed messages carry it too and are stored on receipt).
   *
   * @example await engine.setPeerFrankingKey(peer, bundle.frankingKey);
   */
  async setPeerFrankingKey(peer: PeerAddress, key: Uint8Array): Promise<void> {
    await this.store.commit([this.franking.peerKeyOp(peer, key)]);
  }

  /** The stored franking key of a peer device, if any. */
  peerFrankingKey(peer: PeerAddress): Promise<Uint8Array | undefined> {
    return this.franking.peerKey(this.store, peer);
  }

  /** The secrets prekey generation signs with. Internal to the SDK. */
  get signer(): { readonly signingSeed: Uint8Array } {
    return { signingSeed: this.local.signingSeed };
  }

  /** The account seed, present only on the device that created the account. */
  get accountSeed(): Uint8Array | undefined {
    return this.local.accountSeed;
  }

  /**
   * Generates prekeys (and on the first call, or when asked, a new signed prekey and a new
   * last-resort KEM prekey), stores the private halves and returns the upload body.
   *
   * @throws {ArgumentRangeError} if a count is not in 0..=100.
   * @example const upload = await engine.generatePrekeys({ oneTime: 100, kem: 100 });
   */
  generatePrekeys(request: PrekeyRequest): Promise<PrekeyUpload> {
    return replenishPrekeys(
      {
        backend: this.backend,
        rng: this.rng,
        store: this.store,
        signer: this.signer,
        now: this.now,
      },
      request,
    );
  }

  /**
   * Whether a current session with `peer` exists.
   *
   * @example if (!(await engine.hasSession(peer))) await engine.startSession(bundle);
   */
  hasSession(peer: PeerAddress): Promise<boolean> {
    return this.cipher.hasSession(peer);
  }

  /**
   * Verifies `bundle` for `expectedAddress` (the address the app asked the server for, never
   * the one written in the bundle) and starts a PQXDH session with that device, archiving any
   * current one bound to the same identity and dropping every state bound to another. A new
   * device of a known contact, or a device re-linked by the same account key with a newer
   * epoch, is pinned and reported as `deviceChange` (docs/PROTOCOL.md §9.6).
   *
   * @throws {InvalidBundleError | UntrustedIdentityError} if the bundle does not verify for
   *   `expectedAddress` (including an identity linked as another device id).
   * @throws {StaleDeviceLinkError} if the identity differs from the pin but is not newer.
   * @throws {IdentityChangedError} if the account key differs from the pinned one.
   * @throws {StoreConflictError} if another writer changed the pin meanwhile (nothing started).
   * @example await engine.startSession(bob, await api.fetchBundle(bob, 1));
   */
  startSession(expectedAddress: string, bundle: PrekeyBundle): Promise<StartedSession> {
    return startSessionWith(this.context, expectedAddress, bundle);
  }

  /**
   * Encrypts for `peer` and commits the advanced session before returning (a crash after this
   * call at worst skips one message key; none is ever reused).
   *
   * Only a session bound to the device's pinned identity is used.
   *
   * @throws {NoSessionError} without a session bound to the pinned identity.
   * @example const { type, body } = await engine.encrypt(peer, bytes);
   */
  encrypt(
    peer: PeerAddress,
    plaintext: Uint8Array,
  ): Promise<{ type: MessageType; body: Uint8Array }> {
    return this.cipher.encryptAndCommit(peer, plaintext, this.pins.source(pinRecords.key(peer)));
  }

  /**
   * Encrypts for `peer` and seals it so that only the recipient learns the sender.
   *
   * @throws {NoSessionError} without a session bound to the pinned identity.
   * @throws {FrankingUnavailableError} without a valid moderator certificate or the recipient
   *   device's franking key (PROTOCOL.md §11.5); nothing was encrypted.
   * @example const envelope = await engine.seal(peer, bytes, certificate);
   */
  async seal(
    peer: PeerAddress,
    plaintext: Uint8Array,
    senderCertificate: Uint8Array,
  ): Promise<Uint8Array> {
    assertBytes(senderCertificate, 'senderCertificate');
    return sealFor(this.context, peer, plaintext, senderCertificate);
  }

  /**
   * Seals `peer`'s header of a multi-recipient send (PROTOCOL.md §14.3): franks `content` for
   * the device, encrypts `reference` (the payload key and digest from `sealSharedPayload`) with
   * its session, one committed ratchet step, and seals it as {@link seal} does.
   *
   * @throws {NoSessionError} without a session bound to the pinned identity.
   * @throws {FrankingUnavailableError} without a valid moderator certificate or the recipient
   *   device's franking key; nothing was encrypted.
   * @example
   * const { payload, reference } = sealSharedPayload(engine.backend, engine.rng, content);
   * const header = await engine.sealHeader(peer, content, reference, certificate);
   */
  sealHeader(
    peer: PeerAddress,
    content: Uint8Array,
    reference: PayloadReference,
    senderCertificate: Uint8Array,
  ): Promise<Uint8Array> {
    return sealHeaderFor(this.context, peer, content, reference, senderCertificate);
  }

  /**
   * Opens a sealed envelope and decrypts the message inside, then, under the sender device's
   * lock, calls `handle` (where the app durably stores the plaintext; it may return extra
   * store ops such as the seen message id) and commits everything in one atomic commit. If
   * `handle` throws, nothing is committed and the message decrypts again on redelivery.
   *
   * @throws {UnreportableMessageError} if a report of the message would not verify
   *   (PROTOCOL.md §11.5); the handler is not called and nothing is committed.
   * @throws {MalformedEnvelopeError} if the ratchet plaintext is a payload reference (the header
   *   of a multi-recipient message, which only {@link unsealWithPayload} opens, PROTOCOL.md
   *   §14.6); the handler is not called and nothing is committed.
   * @throws {DecryptError | MalformedEnvelopeError | InvalidCertificateError | DuplicateMessageError
   *   | IdentityChangedError | StaleDeviceLinkError | UntrustedIdentityError | PrekeyNotFoundError
   *   | NoSessionError | TooManySkippedError | StoreConflictError}, and whatever `handle` throws.
   *   Only sessions bound to the sender device's pin are tried (docs/PROTOCOL.md §9.6); if the
   *   commit loses a race with another writer, the message is decrypted again on the fresh state
   *   and `handle` runs again (at most 4 attempts).
   * @example const msg = await engine.unseal(envelope, async (m) => { await inbox.save(m.plaintext); });
   */
  unseal(
    envelope: Uint8Array,
    handle?: MessageHandler,
    options: UnsealOptions = {},
  ): Promise<ReceivedMessage & { certificate: SenderCertificate }> {
    return unsealEnvelope(this.context, this.trust, envelope, contentOfEnvelope, handle, options);
  }

  /**
   * Opens the header of a multi-recipient message delivered with its shared payload
   * (docs/PROTOCOL.md §14.6) exactly as {@link unseal} opens an envelope: the same sealed-sender
   * checks, the same lock, duplicate detection and atomic commit; in between, the ratchet
   * plaintext must be a payload reference, the payload must open under it, and the franking
   * checks run on the content. `handle` gets the content as `plaintext`. Any failure commits
   * nothing.
   *
   * @throws {MalformedEnvelopeError} if the ratchet plaintext is a content frame instead of a
   *   payload reference, or the payload does not parse.
   * @throws {DecryptError} if the payload does not open under the reference.
   * @throws the errors of {@link unseal}, and whatever `handle` throws.
   * @example const msg = await engine.unsealWithPayload(header, payload, async (m) => { await inbox.save(m.plaintext); });
   */
  unsealWithPayload(
    envelope: Uint8Array,
    payload: Uint8Array,
    handle?: MessageHandler,
    options: UnsealOptions = {},
  ): Promise<ReceivedMessage & { certificate: SenderCertificate }> {
    return unsealWithPayload(this.context, this.trust, envelope, payload, handle, options);
  }

  /**
   * Decrypts an identified (unsealed) message from `sender`; `handle` and the commit as in
   * {@link unseal}.
   *
   * @throws the same errors as {@link unseal} except certificate errors.
   * @example const msg = await engine.decrypt(peer, 1, body);
   */
  decrypt(
    sender: PeerAddress,
    type: MessageType,
    body: Uint8Array,
    handle?: MessageHandler,
  ): Promise<ReceivedMessage> {
    return this.receive(sender, type, body, handle);
  }

  /** Decrypt, check, handle and commit under the sender device's lock (engine-receive.ts). */
  private receive(
    sender: PeerAddress,
    type: MessageType,
    body: Uint8Array,
    handle: MessageHandler | undefined,
  ): Promise<ReceivedMessage> {
    return receiveMessage(this.context, sender, type, body, handle);
  }

  /**
   * Commits store ops atomically (those of a received message plus the caller's own).
   *
   * @example await engine.commit([...msg.ops, seenOp]);
   */
  commit(ops: readonly StoreOp[]): Promise<void> {
    return this.pins.commit(ops);
  }

  /**
   * Accepts `identity` as the new identity of a contact device after the user confirmed it
   * (e.g. compared safety numbers). In the same atomic commit every session state of that
   * device bound to another identity is deleted, so nothing is sent to or accepted from the
   * old identity again (docs/PROTOCOL.md §9.6); the next session start or message under
   * `identity` is accepted.
   *
   * @throws {UntrustedIdentityError | InvalidSignatureError} if `identity` does not verify for
   *   `peer.address`, or is linked as another device id.
   * @example await engine.confirmIdentity(peer, changedError.identity);
   */
  confirmIdentity(peer: PeerAddress, identity: IdentityBundle): Promise<void> {
    return confirmPin(this.context, peer, identity);
  }

  /**
   * Marks (or, with `verified: false`, unmarks) a contact's safety number as verified by the
   * user. A new or re-linked device of a verified contact is then announced with
   * `verifiedContact: true` (docs/PROTOCOL.md §9.6). The mark names the account key, which an
   * address cannot change.
   *
   * @throws {UntrustedIdentityError} if `accountPublic` does not hash to `address`.
   * @example await engine.markVerified(bob, bobIdentity.accountPublic);
   */
  async markVerified(address: string, accountPublic: Uint8Array, verified = true): Promise<void> {
    await this.pins.commit([markVerifiedOp(this.backend, address, accountPublic, verified)]);
  }

  /** Whether the app marked `address`'s safety number as verified ({@link markVerified}). */
  async isVerified(address: string): Promise<boolean> {
    return (await pinRecords.getVerified(this.store, address)) !== undefined;
  }

  /** The pinned identity of a contact device, if any. */
  async pinnedIdentity(peer: PeerAddress): Promise<IdentityBundle | undefined> {
    const bytes = await pinRecords.get(this.store, pinRecords.key(peer));
    return bytes === undefined ? undefined : decodeIdentityBundle(bytes);
  }

  /**
   * The safety number between this account and a contact's account key.
   *
   * @example const { displayable } = engine.safetyNumber(contactIdentity.accountPublic);
   */
  safetyNumber(remoteAccountPublic: Uint8Array): SafetyNumber {
    return safetyNumber(this.backend, this.local.bundle.accountPublic, remoteAccountPublic);
  }
}
