/**
 * Franking inside the engine (PROTOCOL.md §11.5): the device's franking key (derived from its
 * DH identity), the moderator keys it accepts (validated certificates), the franking keys of
 * peer devices (store namespace `franking`), and the two steps that use them: franking an
 * outgoing plaintext before it is encrypted, and checking, before a received message is
 * handed to the app, that a report of it would verify.
 *
 * Franking sessions (PROTOCOL.md §11.3.2): the asymmetric franking signature is made once per
 * (recipient device, moderator key, recipient franking key) over a fresh Ed25519 session key,
 * which then signs each message. Both sides keep sessions in memory only: the sender starts a
 * new one after {@link FRANKING_SESSION_LIFETIME_MS}, on a restart, or when it holds
 * {@link MAX_FRANKING_SESSIONS}; the receiver remembers the session signatures it verified.
 */
import { type CryptoBackend, ED25519_SEED_BYTES, type Rng } from '../crypto/backend.ts';
import { FrankingUnavailableError, UnreportableMessageError } from '../errors.ts';
import {
  checkFrankingCommitment,
  deriveFrankingKeyPair,
  type FrankingKeyPair,
  type FrankingSessionContext,
  frank,
  frankingCommitment,
  frankingMessage,
  frankingSessionMessage,
  verifyFranking,
} from '../franking/index.ts';
import type { StateStore, StoreOp } from '../state/store.ts';
import { ArgumentTypeError } from '../util/argument-errors.ts';
import { assertBytes, constantTimeEqual } from '../util/bytes.ts';
import type { SenderCertificate } from '../wire/certificates.ts';
import { FRANKING_OPENING_KEY_BYTES, type SealedFranking } from '../wire/sealed.ts';
import { type TrustConfig, validateModeratorCertificate } from './certificates.ts';
import type { PeerAddress } from './ratchet-session.ts';

const NS = 'franking';
const KEY_BYTES = 32;
/** Most moderator certificates held at once (a current key and the ones it replaces). */
export const MAX_MODERATOR_CERTIFICATES = 8;
/** A sender's franking session is replaced after this long (24 hours). */
export const FRANKING_SESSION_LIFETIME_MS = 24 * 60 * 60 * 1000;
/**
 * Most franking sessions held on each side (sending: one per recipient device; receiving: one
 * verified session per sender device); beyond it the oldest is dropped (and, sending, wiped).
 */
export const MAX_FRANKING_SESSIONS = 1024;

/** A sender's franking session with one recipient device. */
interface SendingSession {
  readonly moderatorKeyId: number;
  readonly recipientPublic: Uint8Array;
  readonly seed: Uint8Array;
  readonly sessionKey: Uint8Array;
  readonly signature: Uint8Array;
  readonly startedAt: number;
}

/**
 * A session signature this device verified, with everything the verification depended on (the
 * session message is determined by the session key, both devices and the moderator key id; the
 * devices are the map key).
 */
interface VerifiedSession {
  readonly moderatorKeyId: number;
  readonly moderatorPublic: Uint8Array;
  readonly senderPublic: Uint8Array;
  readonly sessionKey: Uint8Array;
  readonly signature: Uint8Array;
}

/** Insertion-ordered map bounded at {@link MAX_FRANKING_SESSIONS}; `onDrop` sees evictions. */
function remember<V>(map: Map<string, V>, key: string, value: V, onDrop?: (v: V) => void): void {
  const old = map.get(key);
  if (old !== undefined) {
    map.delete(key);
    if (old !== value) onDrop?.(old);
  }
  map.set(key, value);
  while (map.size > MAX_FRANKING_SESSIONS) {
    const [first, dropped] = map.entries().next().value as [string, V];
    map.delete(first);
    onDrop?.(dropped);
  }
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

const peerKey = (peer: PeerAddress): string => `${peer.address}.${peer.deviceId}`;

/** A moderator key the engine accepts. */
export interface ModeratorKey {
  readonly keyId: number;
  readonly publicKey: Uint8Array;
  readonly notAfter: number;
  /** The encoded certificate, as set. */
  readonly certificate: Uint8Array;
}

/** What an outgoing message carries for franking. */
export interface OutgoingFranking {
  readonly commitment: Uint8Array;
  readonly franking: SealedFranking;
}

/** What a received sealed message carries for a later report (PROTOCOL.md §11.6). */
export interface ReceivedFranking {
  readonly commitment: Uint8Array;
  readonly openingKey: Uint8Array;
  /** The franking session key the message was signed with. */
  readonly sessionKey: Uint8Array;
  /** The asymmetric franking signature over the session. */
  readonly signature: Uint8Array;
  /** The session key's signature over the message. */
  readonly messageSignature: Uint8Array;
  readonly moderatorKeyId: number;
  /** The sender certificate as it was in the envelope. */
  readonly senderCertificate: Uint8Array;
}

/** The engine's franking state. */
export class FrankingState {
  private keyPair: FrankingKeyPair | undefined;
  private moderators: ModeratorKey[] = [];
  private readonly sending = new Map<string, SendingSession>();
  private readonly verified = new Map<string, VerifiedSession>();

  constructor(
    private readonly backend: CryptoBackend,
    private readonly trust: TrustConfig,
    private readonly dhPrivate: () => Uint8Array,
  ) {}

  /** This device's franking key pair, derived once from its DH identity. */
  local(): FrankingKeyPair {
    this.keyPair ??= deriveFrankingKeyPair(this.dhPrivate());
    return this.keyPair;
  }

  /** Drops the derived key and every session (a new identity changes them all). */
  reset(): void {
    this.keyPair?.secretKey.fill(0);
    this.keyPair = undefined;
    for (const session of this.sending.values()) session.seed.fill(0);
    this.sending.clear();
    this.verified.clear();
  }

  /**
   * Replaces the accepted moderator keys with those of `certificates` that validate at `now`.
   * Returns the accepted keys; invalid ones are left out (the error is not fatal: a stale
   * certificate next to a fresh one is normal during a rotation).
   */
  async setModerators(certificates: readonly Uint8Array[], now: number): Promise<ModeratorKey[]> {
    if (!Array.isArray(certificates)) {
      throw new ArgumentTypeError('certificates must be an array of Uint8Array');
    }
    const accepted: ModeratorKey[] = [];
    for (const bytes of certificates.slice(0, MAX_MODERATOR_CERTIFICATES)) {
      assertBytes(bytes, 'certificate');
      try {
        const c = await validateModeratorCertificate(this.backend, bytes, this.trust, now);
        if (accepted.some((m) => m.keyId === c.keyId)) continue;
        accepted.push({
          keyId: c.keyId,
          publicKey: c.moderatorPublic,
          notAfter: c.notAfter,
          certificate: bytes.slice(),
        });
      } catch {
        // Left out: see the doc comment.
      }
    }
    this.moderators = accepted;
    return accepted;
  }

  /** The accepted moderator keys. */
  moderatorKeys(): readonly ModeratorKey[] {
    return this.moderators;
  }

  /** The key a new message is franked for: the accepted one valid longest. */
  current(now: number): ModeratorKey | undefined {
    let best: ModeratorKey | undefined;
    for (const m of this.moderators) {
      if (now > m.notAfter) continue;
      if (best === undefined || m.notAfter > best.notAfter) best = m;
    }
    return best;
  }

  /** The accepted moderator key with this id. */
  moderator(keyId: number): ModeratorKey | undefined {
    return this.moderators.find((m) => m.keyId === keyId);
  }

  /** The stored franking key of a peer device. */
  async peerKey(store: StateStore, peer: PeerAddress): Promise<Uint8Array | undefined> {
    const bytes = await store.get(NS, peerKey(peer));
    return bytes !== undefined && bytes.length === KEY_BYTES ? bytes : undefined;
  }

  /** The op that stores a peer device's franking key. */
  peerKeyOp(peer: PeerAddress, key: Uint8Array): StoreOp {
    assertBytes(key, 'frankingKey', KEY_BYTES);
    return { ns: NS, key: peerKey(peer), value: key.slice() };
  }

  /**
   * Franks `plaintext` for `recipient`: a fresh opening key and the commitment, signed with the
   * franking session's key; the session (and its asymmetric franking signature over the
   * session key) is started when there is none for this recipient device, moderator key and
   * recipient franking key, or when it is older than {@link FRANKING_SESSION_LIFETIME_MS}.
   *
   * @throws {FrankingUnavailableError} without a current moderator key or the recipient
   *   device's franking key (before anything is encrypted).
   */
  async frankFor(
    store: StateStore,
    rng: Rng,
    sender: PeerAddress,
    recipient: PeerAddress,
    plaintext: Uint8Array,
    now: number,
  ): Promise<OutgoingFranking> {
    const moderator = this.current(now);
    if (moderator === undefined) {
      throw new FrankingUnavailableError('no valid moderator certificate is set');
    }
    const recipientPublic = await this.peerKey(store, recipient);
    if (recipientPublic === undefined) {
      throw new FrankingUnavailableError('the recipient device has no known franking key');
    }
    const session = await this.sendingSession(
      rng,
      sender,
      recipient,
      recipientPublic,
      moderator,
      now,
    );
    const openingKey = rng(FRANKING_OPENING_KEY_BYTES);
    assertBytes(openingKey, 'rng output', FRANKING_OPENING_KEY_BYTES);
    const commitment = frankingCommitment(openingKey, plaintext);
    const messageSignature = await this.backend.ed25519Sign(
      session.seed,
      frankingMessage({
        commitment,
        senderAddress: sender.address,
        senderDeviceId: sender.deviceId,
        recipientAddress: recipient.address,
        recipientDeviceId: recipient.deviceId,
        moderatorKeyId: moderator.keyId,
      }),
    );
    return {
      commitment,
      franking: {
        openingKey,
        sessionKey: session.sessionKey,
        signature: session.signature,
        messageSignature,
      },
    };
  }

  /** The live sending session with `recipient`, started when needed. */
  private async sendingSession(
    rng: Rng,
    sender: PeerAddress,
    recipient: PeerAddress,
    recipientPublic: Uint8Array,
    moderator: ModeratorKey,
    now: number,
  ): Promise<SendingSession> {
    const key = peerKey(recipient);
    const held = this.sending.get(key);
    if (
      held !== undefined &&
      held.moderatorKeyId === moderator.keyId &&
      sameBytes(held.recipientPublic, recipientPublic) &&
      now >= held.startedAt &&
      now - held.startedAt < FRANKING_SESSION_LIFETIME_MS
    ) {
      return held;
    }
    const seed = rng(ED25519_SEED_BYTES);
    assertBytes(seed, 'rng output', ED25519_SEED_BYTES);
    const sessionKey = await this.backend.ed25519PublicKey(seed);
    const local = this.local();
    const signature = frank(rng, {
      senderSecret: local.secretKey,
      senderPublic: local.publicKey,
      recipientPublic,
      moderatorPublic: moderator.publicKey,
      message: frankingSessionMessage({
        sessionKey,
        senderAddress: sender.address,
        senderDeviceId: sender.deviceId,
        recipientAddress: recipient.address,
        recipientDeviceId: recipient.deviceId,
        moderatorKeyId: moderator.keyId,
      }),
    });
    const session: SendingSession = {
      moderatorKeyId: moderator.keyId,
      recipientPublic: recipientPublic.slice(),
      seed,
      sessionKey,
      signature,
      startedAt: now,
    };
    remember(this.sending, key, session, (dropped) => dropped.seed.fill(0));
    return session;
  }

  /**
   * Checks that a report of this received message would verify: the commitment opens to
   * `plaintext`, the franking signature over the session verifies for this device under one of
   * the moderator keys this device accepts (the receiver's check of asymmetric message
   * franking; skipped when this exact session signature, for the same keys, verified before),
   * and the session key signed this message for that moderator key. Returns that key's id.
   *
   * @throws {UnreportableMessageError} naming the failed check.
   */
  async check(
    recipient: PeerAddress,
    certificate: SenderCertificate,
    commitment: Uint8Array,
    franking: SealedFranking,
    plaintext: Uint8Array,
  ): Promise<number> {
    if (this.moderators.length === 0) throw new UnreportableMessageError('moderator key');
    if (!checkFrankingCommitment(commitment, franking.openingKey, plaintext)) {
      throw new UnreportableMessageError('commitment');
    }
    const devices = {
      senderAddress: certificate.address,
      senderDeviceId: certificate.deviceId,
      recipientAddress: recipient.address,
      recipientDeviceId: recipient.deviceId,
    };
    const moderator = this.sessionModerator(devices, certificate.frankingKey, franking);
    if (moderator === undefined) throw new UnreportableMessageError('signature');
    const signed = await this.backend.ed25519Verify(
      franking.sessionKey,
      frankingMessage({ commitment, ...devices, moderatorKeyId: moderator.keyId }),
      franking.messageSignature,
    );
    if (!signed) throw new UnreportableMessageError('signature');
    return moderator.keyId;
  }

  /**
   * The accepted moderator key the session's franking signature verifies under, from the
   * verified sessions when this one is known (same sender key, session message, signature and
   * moderator key), else by verifying under each accepted key, newest first.
   */
  private sessionModerator(
    devices: Omit<FrankingSessionContext, 'sessionKey' | 'moderatorKeyId'>,
    senderPublic: Uint8Array,
    franking: SealedFranking,
  ): ModeratorKey | undefined {
    const key = peerKey({ address: devices.senderAddress, deviceId: devices.senderDeviceId });
    const known = this.verified.get(key);
    if (known !== undefined && sameBytes(known.signature, franking.signature)) {
      const moderator = this.moderator(known.moderatorKeyId);
      if (
        moderator !== undefined &&
        sameBytes(known.moderatorPublic, moderator.publicKey) &&
        sameBytes(known.senderPublic, senderPublic) &&
        sameBytes(known.sessionKey, franking.sessionKey)
      ) {
        return moderator;
      }
    }
    const candidates = [...this.moderators].sort((a, b) => b.notAfter - a.notAfter);
    for (const moderator of candidates) {
      const ok = verifyFranking({
        recipientSecret: this.local().secretKey,
        senderPublic,
        moderatorPublic: moderator.publicKey,
        message: frankingSessionMessage({
          sessionKey: franking.sessionKey,
          ...devices,
          moderatorKeyId: moderator.keyId,
        }),
        signature: franking.signature,
      });
      if (!ok) continue;
      remember(this.verified, key, {
        moderatorKeyId: moderator.keyId,
        moderatorPublic: moderator.publicKey,
        senderPublic: senderPublic.slice(),
        sessionKey: franking.sessionKey.slice(),
        signature: franking.signature.slice(),
      });
      return moderator;
    }
    return undefined;
  }

  /** The op storing a sender's certified franking key, when it is new or changed. */
  async learnOp(
    store: StateStore,
    peer: PeerAddress,
    key: Uint8Array,
  ): Promise<StoreOp | undefined> {
    const known = await this.peerKey(store, peer);
    return known !== undefined && constantTimeEqual(known, key)
      ? undefined
      : this.peerKeyOp(peer, key);
  }
}
