/**
 * Double Ratchet state, limits and initialisation (PROTOCOL.md §5; Signal Double Ratchet spec
 * rev. 4 §3.3). The state is a plain immutable value so that it can be encoded by
 * `session-record.ts` and advanced by `ratchet.ts` without side effects.
 */
import type { CryptoBackend, Rng } from '../crypto/backend.ts';
import { assertBytes, wipe } from '../util/bytes.ts';
import { RATCHET_KEY_BYTES } from '../wire/messages.ts';
import { kdfRoot, RATCHET_SECRET_BYTES } from './ratchet-kdf.ts';

/**
 * Largest forward jump inside one receiving chain (docs/PROTOCOL.md §5.2.5; Signal's
 * MAX_FORWARD_JUMPS is 25,000, lowered so the unauthenticated work of one message stays small).
 */
export const MAX_SKIP = 10_000;
/** Most skipped message keys a state stores; the oldest are evicted first (PROTOCOL.md §5). */
export const MAX_SKIPPED_KEYS = 2_000;
/**
 * What one DH ratchet step of an unauthenticated message is charged, in HMAC-equivalents (an
 * X25519 with a fresh private key costs about as much as this many chain HMACs on Node).
 */
export const DH_STEP_COST = 200;
/**
 * HMAC-equivalents one incoming message may cost before it authenticates, across every state
 * it is tried on (docs/PROTOCOL.md §5.2.5): exactly one full-size jump on a new chain of the
 * current state (its chain walk, the stored skipped keys and the DH step).
 */
export const MAX_SKIP_PER_MESSAGE = MAX_SKIP + MAX_SKIPPED_KEYS + DH_STEP_COST;
/** Largest forward jump in an archived state (§5.2.5): archives only catch late messages. */
export const MAX_ARCHIVED_SKIP = 200;
/** Receiving chains kept per state; the oldest is dropped first (PROTOCOL.md §5). */
export const MAX_RECEIVER_CHAINS = 5;
/** Largest chain index that still fits the u32 counter on the wire. */
export const MAX_CHAIN_INDEX = 0xffffffff;

/** A sending chain: chain key and the index of the next message key. */
export interface SenderChain {
  readonly key: Uint8Array;
  readonly index: number;
}

/** A receiving chain, identified by the peer's ratchet public key. */
export interface ReceiverChain {
  readonly ratchetKey: Uint8Array;
  readonly key: Uint8Array;
  readonly index: number;
}

/** A message key derived past while skipping ahead, kept for a late message. */
export interface SkippedMessageKey {
  readonly ratchetKey: Uint8Array;
  readonly counter: number;
  /** The message key `mk`; expanded to key and nonce only when used. */
  readonly seed: Uint8Array;
}

/**
 * One Double Ratchet state. Immutable by convention: every operation returns a new object and
 * may share unchanged byte arrays with its input, so wipe a state (see
 * {@link wipeRatchetState}) only once neither it nor any state derived from it is needed.
 */
export interface RatchetState {
  /** PQXDH AD (`IdentityBundle_A || IdentityBundle_B`), prefixed to every message's AAD. */
  readonly associatedData: Uint8Array;
  readonly rootKey: Uint8Array;
  /** Our current ratchet key pair (DHs). */
  readonly senderRatchetPrivate: Uint8Array;
  readonly senderRatchetPublic: Uint8Array;
  /** Null only for the responder before its first decryption (it cannot send yet). */
  readonly senderChain: SenderChain | null;
  /** PN: length of our previous sending chain. */
  readonly previousCounter: number;
  /** Oldest first, at most {@link MAX_RECEIVER_CHAINS}. */
  readonly receiverChains: readonly ReceiverChain[];
  /** Oldest first, at most {@link MAX_SKIPPED_KEYS}. */
  readonly skippedKeys: readonly SkippedMessageKey[];
}

/** X25519 key pair (the responder's signed prekey when it starts a ratchet). */
export interface RatchetKeyPair {
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/**
 * Starts the initiator's ratchet: `DHs = new X25519, DHr = SPK_B,
 * (RK, CKs) = KDF_RK(SK, DH(DHs, SPK_B))` (PROTOCOL.md §5). Copies its inputs.
 *
 * @throws {ArgumentTypeError | ArgumentRangeError} on wrong-sized inputs.
 * @throws {InvalidKeyError} if `remoteSignedPrekey` is of low order.
 * @example
 * const alice = await initAlice(backend, systemRng, sk, ad, bundle.signedPrekey.publicKey);
 */
export async function initAlice(
  backend: CryptoBackend,
  rng: Rng,
  sharedSecret: Uint8Array,
  associatedData: Uint8Array,
  remoteSignedPrekey: Uint8Array,
): Promise<RatchetState> {
  assertBytes(sharedSecret, 'sharedSecret', RATCHET_SECRET_BYTES);
  assertBytes(associatedData, 'associatedData');
  assertBytes(remoteSignedPrekey, 'remoteSignedPrekey', RATCHET_KEY_BYTES);
  const privateKey = rng(RATCHET_KEY_BYTES);
  assertBytes(privateKey, 'rng output', RATCHET_KEY_BYTES);
  const publicKey = await backend.x25519PublicKey(privateKey);
  const dh = await backend.x25519(privateKey, remoteSignedPrekey);
  const step = kdfRoot(backend, sharedSecret, dh);
  wipe(dh);
  return {
    associatedData: associatedData.slice(),
    rootKey: step.rootKey,
    senderRatchetPrivate: privateKey,
    senderRatchetPublic: publicKey,
    senderChain: { key: step.chainKey, index: 0 },
    previousCounter: 0,
    receiverChains: [],
    skippedKeys: [],
  };
}

/**
 * Starts the responder's ratchet: `DHs = SPK_B key pair, RK = SK` (PROTOCOL.md §5). It can send
 * only after decrypting the initiator's first message. Copies its inputs.
 *
 * @throws {ArgumentTypeError | ArgumentRangeError} on wrong-sized inputs.
 * @example
 * const bob = initBob(sk, ad, { privateKey: spkPrivate, publicKey: spkPublic });
 */
export function initBob(
  sharedSecret: Uint8Array,
  associatedData: Uint8Array,
  signedPrekey: RatchetKeyPair,
): RatchetState {
  assertBytes(sharedSecret, 'sharedSecret', RATCHET_SECRET_BYTES);
  assertBytes(associatedData, 'associatedData');
  assertBytes(signedPrekey.privateKey, 'signedPrekey.privateKey', RATCHET_KEY_BYTES);
  assertBytes(signedPrekey.publicKey, 'signedPrekey.publicKey', RATCHET_KEY_BYTES);
  return {
    associatedData: associatedData.slice(),
    rootKey: sharedSecret.slice(),
    senderRatchetPrivate: signedPrekey.privateKey.slice(),
    senderRatchetPublic: signedPrekey.publicKey.slice(),
    senderChain: null,
    previousCounter: 0,
    receiverChains: [],
    skippedKeys: [],
  };
}

/**
 * Best-effort zeroing of every secret in a state. States share unchanged arrays with the
 * states they were derived from: call this only when all of them are dropped.
 *
 * @example
 * wipeRatchetState(oldState); wipeRatchetState(newState); // both encoded and persisted
 */
export function wipeRatchetState(state: RatchetState): void {
  wipe(state.rootKey, state.senderRatchetPrivate, state.senderChain?.key);
  for (const chain of state.receiverChains) wipe(chain.key);
  for (const skipped of state.skippedKeys) wipe(skipped.seed);
}
