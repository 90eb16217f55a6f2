/**
 * The types of `ProtocolEngine`'s API, and the key agreement it gives its session cipher
 * (docs/PROTOCOL.md §5.4.4, §9.6).
 */
import type { CryptoBackend, Rng } from '../crypto/backend.ts';
import { UntrustedIdentityError } from '../errors.ts';
import type { StateStore, StoreOp } from '../state/store.ts';
import { decodeIdentityBundle, type IdentityBundle } from '../wire/identity.ts';
import type { TrustConfig } from './certificates.ts';
import type { FrankingState, ReceivedFranking } from './engine-franking.ts';
import { type LocalIdentity, verifyIdentityBundle } from './identity.ts';
import type { PinCache } from './pin-cache.ts';
import { storeBackedResponder } from './pqxdh.ts';
import type { KeyAgreement, PeerAddress } from './ratchet-session.ts';
import type { SessionCipher } from './session-cipher.ts';

/**
 * What the engine's send and receive modules (engine-send.ts, engine-receive.ts) use of one
 * engine. Internal to the SDK.
 */
export interface EngineContext {
  readonly backend: CryptoBackend;
  readonly rng: Rng;
  readonly store: StateStore;
  readonly cipher: SessionCipher;
  /** Contact pins, shared by the engines over the store; every commit goes through it. */
  readonly pins: PinCache;
  /** Remote DH identity per peer device (from the current session), to avoid re-decoding. */
  readonly remoteDh: Map<string, Uint8Array>;
  /** Franking keys and checks (engine-franking.ts). */
  readonly franking: FrankingState;
  /** This device's account address. */
  readonly address: string;
  /** The engine's clock. */
  readonly now: () => number;
  /** This device's identity (it changes on `relink`). */
  local(): LocalIdentity;
}

/** A contact's device list changed: announced to the app, not an identity change. */
export interface DeviceChange {
  /** `added`: a new device id of a known contact; `replaced`: a device id re-linked. */
  readonly kind: 'added' | 'replaced';
  readonly peer: PeerAddress;
  /** The device's new identity (validly linked by the contact's account key). */
  readonly identity: IdentityBundle;
  /** True if the app marked the contact's safety number as verified. */
  readonly verifiedContact: boolean;
}

/** What `ProtocolEngine.startSession` started: the peer, and a device change to announce. */
export interface StartedSession extends PeerAddress {
  readonly deviceChange?: DeviceChange;
}

/** Options shared by `ProtocolEngine.create` and `ProtocolEngine.open`. */
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
  /** Set when this message came from a new or re-linked device of a known contact. */
  readonly deviceChange?: DeviceChange;
  /** For sealed messages: what a report of this message needs (PROTOCOL.md §11.6). */
  readonly franking?: ReceivedFranking;
}

/** Options of `ProtocolEngine.unseal`. */
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

/**
 * The PQXDH responder over `store` for the engine's session cipher: verifies the initiator's
 * identity for the sender's address and for the sender's device id (docs/PROTOCOL.md §1.3),
 * then loads the named prekeys and answers.
 *
 * @throws {UntrustedIdentityError | InvalidSignatureError} (from `respond`) if the identity does
 *   not verify for the sender's address or is linked as another device id.
 * @example new SessionCipher({ store, backend, keyAgreement: engineKeyAgreement(backend, store, () => local) });
 */
export function engineKeyAgreement(
  backend: CryptoBackend,
  store: StateStore,
  local: () => LocalIdentity,
): KeyAgreement {
  const responder = storeBackedResponder(store);
  return {
    async respond({ peer, message }) {
      const remoteIdentity = decodeIdentityBundle(message.identity);
      await verifyIdentityBundle(backend, remoteIdentity, peer.address);
      if (remoteIdentity.deviceId !== peer.deviceId) {
        throw new UntrustedIdentityError(peer.address, 'identity is linked as another device');
      }
      const res = await responder.respond(backend, {
        localIdentity: local(),
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
  };
}
