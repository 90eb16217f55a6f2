/**
 * The protocol engine of one device: everything the SDK client (and an app that brings its
 * own transport) needs, over one {@link StateStore}. It ties together identity, prekeys,
 * PQXDH, the session cipher and sealed sender, and owns the rules that span them:
 *
 * - Sessions start only from a bundle whose every signature verified and whose identity hashes
 *   to the address asked for (docs/PROTOCOL.md §4).
 * - A contact device's identity is pinned on first use; a different identity later raises
 *   `IdentityChangedError` until the app confirms it ({@link ProtocolEngine.confirmIdentity}).
 * - A sealed message is accepted only if its certificate validates against the pinned trust
 *   root and names the identity the session is bound to (§6).
 * - Outgoing state is committed before ciphertext is returned; incoming state is committed only
 *   after the caller's handler has durably processed the plaintext, in one atomic commit with
 *   the handler's own ops, under the peer device's lock (§9).
 */
import { type CryptoBackend, type Rng, systemRng } from '../crypto/backend.ts';
import { defaultBackend } from '../crypto/index.ts';
import { IdentityChangedError, NoSessionError, StateCorruptError } from '../errors.ts';
import type { StateStore, StoreOp } from '../state/store.ts';
import { assertBytes, constantTimeEqual } from '../util/bytes.ts';
import type { SenderCertificate } from '../wire/certificates.ts';
import {
  decodeIdentityBundle,
  encodeIdentityBundle,
  type IdentityBundle,
} from '../wire/identity.ts';
import type { MessageType } from '../wire/messages.ts';
import type { PrekeyBundle } from '../wire/prekeys.ts';
import { verifyBundle } from './bundle.ts';
import type { TrustConfig } from './certificates.ts';
import {
  type AccountKey,
  address as addressOf,
  decodeLocalIdentity,
  encodeLocalIdentity,
  generateAccountKey,
  generateDeviceIdentity,
  LOCAL_IDENTITY_KEY,
  type LocalIdentity,
  verifyIdentityBundle,
} from './identity.ts';
import { pqxdhInitiate, storeBackedResponder } from './pqxdh.ts';
import { type PrekeyRequest, type PrekeyUpload, replenishPrekeys } from './prekey-manager.ts';
import { type SafetyNumber, safetyNumber } from './safety-number.ts';
import {
  assertCertificateMatchesIdentity,
  sealedSenderOpen,
  sealedSenderSeal,
} from './sealed-sender.ts';
import {
  type DecryptResult,
  type PeerAddress,
  SessionCipher,
  sessionKey,
} from './session-cipher.ts';

/** Options shared by {@link ProtocolEngine.create} and {@link ProtocolEngine.open}. */
export interface EngineOptions {
  readonly store: StateStore;
  /** The pinned trust root (and revoked server key ids) for sealed sender. */
  readonly trust: TrustConfig;
  /** @default the runtime's fastest backend (`node:crypto` on Node, WebCrypto in browsers) */
  readonly backend?: CryptoBackend;
  /** @default the platform CSPRNG */
  readonly rng?: Rng;
  /** Milliseconds since the epoch. @default Date.now */
  readonly now?: () => number;
}

/** A decrypted incoming message. */
export interface ReceivedMessage {
  readonly sender: PeerAddress;
  readonly plaintext: Uint8Array;
  /** The sender device's identity as bound into the session. */
  readonly senderIdentity: IdentityBundle;
  /** True when this message created a new session (first contact or a re-established one). */
  readonly sessionCreated: boolean;
}

/** Options of {@link ProtocolEngine.unseal}. */
export interface UnsealOptions {
  /**
   * The time (ms) at which the sender certificate must be valid. Default: now. A client passes
   * the server's receipt time: messages wait up to 30 days, certificates live 7, so judging a
   * certificate when the recipient comes online would drop valid offline messages (Signal
   * validates against the envelope's server timestamp for the same reason). The certificate
   * must still be validly signed and name the session's identity.
   */
  readonly validAt?: number;
}

/**
 * Durably processes a decrypted message before its session state is committed; may return
 * extra store ops (e.g. the seen message id) to commit atomically with it.
 */
export type MessageHandler = (message: ReceivedMessage) => Promise<readonly StoreOp[] | undefined>;

const contactKey = sessionKey;

/**
 * The protocol engine of one device.
 *
 * @example
 * const { engine } = await ProtocolEngine.create({ store, trust });
 * await engine.startSession(bundleOfBob);
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
  private readonly local: LocalIdentity;
  private readonly cipher: SessionCipher;
  /** Remote DH identity per peer device (from the current session), to avoid re-decoding. */
  private readonly remoteDh = new Map<string, Uint8Array>();

  private constructor(options: EngineOptions, local: LocalIdentity) {
    this.store = options.store;
    this.trust = options.trust;
    this.backend = options.backend ?? defaultBackend;
    this.rng = options.rng ?? systemRng;
    this.now = options.now ?? Date.now;
    this.local = local;
    this.address = addressOf(this.backend, local.bundle.accountPublic);
    const responder = storeBackedResponder(this.store);
    this.cipher = new SessionCipher({
      store: this.store,
      backend: this.backend,
      rng: this.rng,
      keyAgreement: {
        respond: async ({ peer, message }) => {
          const remoteIdentity = decodeIdentityBundle(message.identity);
          await verifyIdentityBundle(this.backend, remoteIdentity, peer.address);
          const res = await responder.respond(this.backend, {
            localIdentity: this.local,
            remoteIdentity,
            prekeyFields: message,
          });
          return {
            sk: res.sharedSecret,
            ad: res.associatedData,
            spkKeyPair: {
              privateKey: res.signedPrekey.privateKey,
              publicKey: res.signedPrekey.publicKey,
            },
            consumedPrekeyOps: res.consumeOps,
          };
        },
      },
    });
  }

  /**
   * Creates a new account (or, with `account`, a new device of an existing account) and
   * stores its identity. The account seed is kept on this device only if `retainAccountSeed`
   * (the primary device, which links further devices).
   *
   * @throws {RangeError} if `account.publicKey` does not match `account.seed`.
   * @example const { engine, account } = await ProtocolEngine.create({ store, trust });
   */
  static async create(
    options: EngineOptions & { account?: AccountKey; retainAccountSeed?: boolean },
  ): Promise<{ engine: ProtocolEngine; account: AccountKey }> {
    const backend = options.backend ?? defaultBackend;
    const rng = options.rng ?? systemRng;
    const account = options.account ?? (await generateAccountKey(backend, rng));
    const local = await generateDeviceIdentity(backend, rng, account, {
      retainAccountSeed: options.retainAccountSeed ?? options.account === undefined,
    });
    await options.store.commit([
      { ns: 'identity', key: LOCAL_IDENTITY_KEY, value: encodeLocalIdentity(local) },
    ]);
    return { engine: new ProtocolEngine(options, local), account };
  }

  /**
   * Opens the engine over a store that already holds this device's identity.
   *
   * @throws {StateCorruptError} if the store holds no identity or it does not decode.
   * @example const engine = await ProtocolEngine.open({ store, trust });
   */
  static async open(options: EngineOptions): Promise<ProtocolEngine> {
    const bytes = await options.store.get('identity', LOCAL_IDENTITY_KEY);
    if (bytes === undefined) throw new StateCorruptError('the store holds no device identity');
    return new ProtocolEngine(options, decodeLocalIdentity(bytes));
  }

  /** This device's public identity (what bundles and prekey messages carry). */
  get identity(): IdentityBundle {
    return this.local.bundle;
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
   * @throws {RangeError} if a count is not in 0..=100.
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
   * Verifies `bundle` for its address and starts a PQXDH session with that device (archiving
   * any current one). A device whose pinned identity differs raises `IdentityChangedError`.
   *
   * @throws {InvalidBundleError | UntrustedIdentityError} if the bundle does not verify.
   * @throws {IdentityChangedError} if the device's identity differs from the pinned one.
   * @example await engine.startSession(await api.fetchBundle(bob, 1));
   */
  async startSession(bundle: PrekeyBundle): Promise<PeerAddress> {
    const verified = await verifyBundle(this.backend, bundle, bundle.address);
    const peer = { address: verified.address, deviceId: verified.deviceId };
    const identityBytes = encodeIdentityBundle(verified.identity);
    await this.checkPinned(peer, identityBytes);
    const init = await pqxdhInitiate(this.backend, this.rng, {
      localIdentity: this.local,
      bundle: verified,
    });
    await this.cipher.initOutgoing(peer, {
      sk: init.sharedSecret,
      ad: init.associatedData,
      remoteSpkPublic: init.remoteSignedPrekeyPublic,
      remoteIdentity: identityBytes,
      pendingPrekey: init.prekeyFields,
    });
    await this.store.commit([{ ns: 'contact', key: contactKey(peer), value: identityBytes }]);
    this.remoteDh.set(sessionKey(peer), verified.identity.dhPublic);
    return peer;
  }

  /**
   * Encrypts for `peer` and commits the advanced session before returning (a crash after this
   * call at worst skips one message key; none is ever reused).
   *
   * @throws {NoSessionError} without a session.
   * @example const { type, body } = await engine.encrypt(peer, bytes);
   */
  encrypt(
    peer: PeerAddress,
    plaintext: Uint8Array,
  ): Promise<{ type: MessageType; body: Uint8Array }> {
    return this.cipher.encryptAndCommit(peer, plaintext);
  }

  /**
   * Encrypts for `peer` and seals it so that only the recipient learns the sender.
   *
   * @throws {NoSessionError} without a session.
   * @example const envelope = await engine.seal(peer, bytes, certificate);
   */
  async seal(
    peer: PeerAddress,
    plaintext: Uint8Array,
    senderCertificate: Uint8Array,
  ): Promise<Uint8Array> {
    assertBytes(senderCertificate, 'senderCertificate');
    const recipientDhPublic = await this.remoteDhPublic(peer);
    const { type, body } = await this.cipher.encryptAndCommit(peer, plaintext);
    return sealedSenderSeal(this.backend, this.rng, {
      senderIdentity: { dhPrivate: this.local.dhPrivate, dhPublic: this.local.bundle.dhPublic },
      recipientDhPublic,
      senderCertificate,
      contentType: type,
      message: body,
    });
  }

  /**
   * Opens a sealed envelope and decrypts the message inside, then, under the sender device's
   * lock, calls `handle` (where the app durably stores the plaintext; it may return extra
   * store ops such as the seen message id) and commits everything in one atomic commit. If
   * `handle` throws, nothing is committed and the message decrypts again on redelivery.
   *
   * @throws {DecryptError | MalformedEnvelopeError | InvalidCertificateError | DuplicateMessageError
   *   | IdentityChangedError | UntrustedIdentityError | PrekeyNotFoundError | NoSessionError}, and
   *   whatever `handle` throws.
   * @example const msg = await engine.unseal(envelope, async (m) => { await inbox.save(m.plaintext); });
   */
  async unseal(
    envelope: Uint8Array,
    handle?: MessageHandler,
    options: UnsealOptions = {},
  ): Promise<ReceivedMessage & { certificate: SenderCertificate }> {
    const opened = await sealedSenderOpen(this.backend, {
      recipientIdentity: { dhPrivate: this.local.dhPrivate, dhPublic: this.local.bundle.dhPublic },
      envelope,
      trust: this.trust,
      now: options.validAt ?? this.now(),
    });
    const sender = { address: opened.senderAddress, deviceId: opened.senderDeviceId };
    const received = await this.receive(sender, opened.contentType, opened.message, async (m) => {
      // Sealed sender §6: the certificate must name the identity the session is bound to.
      assertCertificateMatchesIdentity(opened.certificate, m.senderIdentity.dhPublic);
      return handle ? handle(m) : undefined;
    });
    return { ...received, certificate: opened.certificate };
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

  /** Decrypt, check, handle and commit under the sender device's lock (no interleaved encrypt). */
  private receive(
    sender: PeerAddress,
    type: MessageType,
    body: Uint8Array,
    handle: MessageHandler | undefined,
  ): Promise<ReceivedMessage> {
    return this.cipher.exclusive(sender, async () => {
      const result: DecryptResult = await this.cipher.decrypt(sender, type, body);
      const senderIdentity = decodeIdentityBundle(result.remoteIdentity);
      const ops = [...result.ops];
      if (result.sessionCreated) {
        await this.checkPinned(sender, result.remoteIdentity);
        ops.push({ ns: 'contact', key: contactKey(sender), value: result.remoteIdentity.slice() });
      }
      const received: ReceivedMessage = {
        sender,
        plaintext: result.plaintext,
        senderIdentity,
        sessionCreated: result.sessionCreated,
      };
      const extra = handle ? await handle(received) : undefined;
      await this.store.commit(extra ? [...ops, ...extra] : ops);
      // The state that opened the message is now current (it may be a promoted archived one).
      this.remoteDh.set(sessionKey(sender), senderIdentity.dhPublic);
      return received;
    });
  }

  /**
   * Commits store ops atomically (those of a received message plus the caller's own).
   *
   * @example await engine.commit([...msg.ops, seenOp]);
   */
  commit(ops: readonly StoreOp[]): Promise<void> {
    return this.store.commit(ops);
  }

  /**
   * Accepts `identity` as the new identity of a contact device after the user confirmed it
   * (e.g. compared safety numbers). The next session start or message is then accepted.
   *
   * @example await engine.confirmIdentity(peer, changedError.identity);
   */
  async confirmIdentity(peer: PeerAddress, identity: IdentityBundle): Promise<void> {
    await verifyIdentityBundle(this.backend, identity, peer.address);
    await this.store.commit([
      { ns: 'contact', key: contactKey(peer), value: encodeIdentityBundle(identity) },
    ]);
  }

  /** The pinned identity of a contact device, if any. */
  async pinnedIdentity(peer: PeerAddress): Promise<IdentityBundle | undefined> {
    const bytes = await this.store.get('contact', contactKey(peer));
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

  /** Same account key, maybe another device: pins are per device, safety numbers per account. */
  private async checkPinned(peer: PeerAddress, identity: Uint8Array): Promise<void> {
    const pinned = await this.store.get('contact', contactKey(peer));
    if (pinned !== undefined && !constantTimeEqual(pinned, identity)) {
      throw new IdentityChangedError(peer.address, peer.deviceId, decodeIdentityBundle(identity));
    }
  }

  private async remoteDhPublic(peer: PeerAddress): Promise<Uint8Array> {
    const key = sessionKey(peer);
    const cached = this.remoteDh.get(key);
    if (cached) return cached;
    const identity = await this.cipher.remoteIdentity(peer);
    if (!identity) throw new NoSessionError();
    const dh = decodeIdentityBundle(identity).dhPublic;
    this.remoteDh.set(key, dh);
    return dh;
  }
}
