/**
 * Franking inside the engine (PROTOCOL.md §11.5): the device's franking key (derived from its
 * DH identity), the moderator keys it accepts (validated certificates), the franking keys of
 * peer devices (store namespace `franking`), and the two steps that use them: franking an
 * outgoing plaintext before it is encrypted, and checking, before a received message is
 * handed to the app, that a report of it would verify.
 */
import type { CryptoBackend, Rng } from '../crypto/backend.ts';
import { FrankingUnavailableError, UnreportableMessageError } from '../errors.ts';
import {
  checkFrankingCommitment,
  deriveFrankingKeyPair,
  type FrankingKeyPair,
  frank,
  frankingCommitment,
  frankingMessage,
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
  readonly signature: Uint8Array;
  readonly moderatorKeyId: number;
  /** The sender certificate as it was in the envelope. */
  readonly senderCertificate: Uint8Array;
}

/** The engine's franking state. */
export class FrankingState {
  private keyPair: FrankingKeyPair | undefined;
  private moderators: ModeratorKey[] = [];

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

  /** Drops the derived key (after a re-link changes nothing, but a new identity would). */
  reset(): void {
    this.keyPair?.secretKey.fill(0);
    this.keyPair = undefined;
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
   * Franks `plaintext` for `recipient`: a fresh opening key, the commitment, and the
   * asymmetric franking signature over the §11.3 message.
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
    const openingKey = rng(FRANKING_OPENING_KEY_BYTES);
    assertBytes(openingKey, 'rng output', FRANKING_OPENING_KEY_BYTES);
    const commitment = frankingCommitment(openingKey, plaintext);
    const local = this.local();
    const signature = frank(rng, {
      senderSecret: local.secretKey,
      senderPublic: local.publicKey,
      recipientPublic,
      moderatorPublic: moderator.publicKey,
      message: frankingMessage({
        commitment,
        senderAddress: sender.address,
        senderDeviceId: sender.deviceId,
        recipientAddress: recipient.address,
        recipientDeviceId: recipient.deviceId,
        moderatorKeyId: moderator.keyId,
      }),
    });
    return { commitment, franking: { moderatorKeyId: moderator.keyId, openingKey, signature } };
  }

  /**
   * Checks that a report of this received message would verify: the moderator key is one this
   * device accepts, the commitment opens to `plaintext`, and the franking signature verifies
   * for this device (the receiver's check of asymmetric message franking).
   *
   * @throws {UnreportableMessageError} naming the failed check.
   */
  check(
    recipient: PeerAddress,
    certificate: SenderCertificate,
    commitment: Uint8Array,
    franking: SealedFranking,
    plaintext: Uint8Array,
  ): void {
    const moderator = this.moderator(franking.moderatorKeyId);
    if (moderator === undefined) throw new UnreportableMessageError('moderator key');
    if (!checkFrankingCommitment(commitment, franking.openingKey, plaintext)) {
      throw new UnreportableMessageError('commitment');
    }
    const ok = verifyFranking({
      recipientSecret: this.local().secretKey,
      senderPublic: certificate.frankingKey,
      moderatorPublic: moderator.publicKey,
      message: frankingMessage({
        commitment,
        senderAddress: certificate.address,
        senderDeviceId: certificate.deviceId,
        recipientAddress: recipient.address,
        recipientDeviceId: recipient.deviceId,
        moderatorKeyId: franking.moderatorKeyId,
      }),
      signature: franking.signature,
    });
    if (!ok) throw new UnreportableMessageError('signature');
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
