/**
 * The Double Ratchet (Signal Double Ratchet spec rev. 4; PROTOCOL.md §5), over the PQXDH shared
 * secret. Functions are pure in the state: they never mutate the state they are given and
 * return a new one, so a failed decryption cannot corrupt a session and the caller decides
 * when the advanced state becomes durable (docs/PROTOCOL.md §5.5).
 *
 * As in libsignal, a state keeps up to {@link MAX_RECEIVER_CHAINS} receiving chains (their
 * chain keys, not just skipped message keys), so a late message of an older chain is derived
 * on demand; PN is carried for the wire format but not needed to find keys.
 */
import type { CryptoBackend, Rng } from '../crypto/backend.ts';
import {
  DecryptError,
  DuplicateMessageError,
  InvalidKeyError,
  NoSessionError,
  TooManySkippedError,
} from '../errors.ts';
import { ArgumentRangeError } from '../util/argument-errors.ts';
import { assertBytes, equalBytes, wipe } from '../util/bytes.ts';
import {
  decodeRatchetMessage,
  MAX_PLAINTEXT_BYTES,
  RATCHET_HEADER_BYTES,
  RATCHET_KEY_BYTES,
  writeRatchetHeader,
} from '../wire/messages.ts';
import {
  chainMessageKey,
  kdfRoot,
  nextChainKey,
  openWithMessageKey,
  sealWithMessageKey,
} from './ratchet-kdf.ts';
import {
  DH_STEP_COST,
  MAX_CHAIN_INDEX,
  MAX_RECEIVER_CHAINS,
  MAX_SKIP,
  MAX_SKIPPED_KEYS,
  type RatchetState,
  type SkippedMessageKey,
} from './ratchet-state.ts';

export {
  DH_STEP_COST,
  initAlice,
  initBob,
  MAX_ARCHIVED_SKIP,
  MAX_CHAIN_INDEX,
  MAX_RECEIVER_CHAINS,
  MAX_SKIP,
  MAX_SKIP_PER_MESSAGE,
  MAX_SKIPPED_KEYS,
  type RatchetKeyPair,
  type RatchetState,
  type ReceiverChain,
  type SenderChain,
  type SkippedMessageKey,
  wipeRatchetState,
} from './ratchet-state.ts';

/**
 * Chain steps (HMACs) one incoming message may still cost before it authenticates, shared by
 * every state it is tried against (docs/PROTOCOL.md §5.2.5). Mutable: each attempt subtracts
 * the jump it walks.
 */
export interface SkipBudget {
  remaining: number;
}

/** Bounds of one {@link ratchetDecrypt} attempt on one state. */
export interface DecryptLimits {
  /** Largest jump inside one chain for this state (at most {@link MAX_SKIP}). */
  readonly maxJump: number;
  /** The message's remaining total across states. */
  readonly budget: SkipBudget;
}

/**
 * Charges a jump of `jump` chain steps (one HMAC each, plus one per skipped key kept) and, for
 * a new chain, a DH step against `limits`, before any of it is computed.
 */
function chargeJump(limits: DecryptLimits | undefined, jump: number, dhStep = false): void {
  const max = limits === undefined ? MAX_SKIP : Math.min(MAX_SKIP, limits.maxJump);
  if (jump > max) throw new TooManySkippedError();
  if (limits === undefined) return;
  const cost = jump + Math.min(jump, MAX_SKIPPED_KEYS) + (dhStep ? DH_STEP_COST : 0);
  if (cost > limits.budget.remaining) throw new TooManySkippedError();
  limits.budget.remaining -= cost;
}

/** Result of {@link ratchetEncrypt}. */
export interface RatchetEncryptResult {
  readonly state: RatchetState;
  /** The encoded ratchet message (wire `type 2`). */
  readonly message: Uint8Array;
}

/** Result of {@link ratchetDecrypt}. */
export interface RatchetDecryptResult {
  readonly state: RatchetState;
  readonly plaintext: Uint8Array;
}

async function ratchetDh(
  backend: CryptoBackend,
  privateKey: Uint8Array,
  publicKey: Uint8Array,
): Promise<Uint8Array> {
  try {
    return await backend.x25519(privateKey, publicKey);
  } catch (cause) {
    // A low-order ratchet key is a forged message: report it like any other (PROTOCOL.md §7).
    if (cause instanceof InvalidKeyError) throw new DecryptError(undefined, { cause });
    throw cause;
  }
}

/**
 * Encrypts one message on the sending chain (DR spec §3.4 RatchetEncrypt). Synchronous: the
 * DH ratchet step happens when a message is received, so sending needs no randomness.
 *
 * @throws {ArgumentTypeError} if `plaintext` is not bytes.
 * @throws {ArgumentRangeError} if `plaintext` exceeds 98,304 bytes or the chain reached 2^32 messages.
 * @throws {NoSessionError} if the state cannot send yet (responder before its first message).
 * @example
 * const { state: next, message } = ratchetEncrypt(backend, state, utf8('hi'));
 */
export function ratchetEncrypt(
  backend: CryptoBackend,
  state: RatchetState,
  plaintext: Uint8Array,
): RatchetEncryptResult {
  assertBytes(plaintext, 'plaintext');
  if (plaintext.length > MAX_PLAINTEXT_BYTES) {
    throw new ArgumentRangeError(`plaintext must be at most ${MAX_PLAINTEXT_BYTES} bytes`);
  }
  const chain = state.senderChain;
  if (chain === null) throw new NoSessionError('session cannot send before it has received');
  if (chain.index >= MAX_CHAIN_INDEX) throw new ArgumentRangeError('sending chain is exhausted');
  const ad = state.associatedData;
  const aad = new Uint8Array(ad.length + RATCHET_HEADER_BYTES);
  aad.set(ad);
  writeRatchetHeader(aad, ad.length, state.senderRatchetPublic, state.previousCounter, chain.index);
  const messageKey = chainMessageKey(backend, chain.key);
  let sealed: Uint8Array;
  try {
    sealed = sealWithMessageKey(backend, messageKey, plaintext, aad);
  } finally {
    wipe(messageKey);
  }
  const message = new Uint8Array(RATCHET_HEADER_BYTES + sealed.length);
  message.set(aad.subarray(ad.length));
  message.set(sealed, RATCHET_HEADER_BYTES);
  return {
    state: {
      ...state,
      senderChain: { key: nextChainKey(backend, chain.key), index: chain.index + 1 },
    },
    message,
  };
}

interface ChainAdvance {
  readonly messageKey: Uint8Array;
  readonly nextKey: Uint8Array;
  readonly skipped: SkippedMessageKey[];
}

/**
 * Walks a receiving chain from `from` to `to` (DR spec §3.5 SkipMessageKeys): returns the
 * message key at `to`, the chain key after it, and the skipped keys worth storing. Keys that
 * would be evicted at once (more than {@link MAX_SKIPPED_KEYS} behind) are never derived.
 * Never wipes `chainKey`, which belongs to the caller's state.
 */
function advanceChain(
  backend: CryptoBackend,
  ratchetKey: Uint8Array,
  chainKey: Uint8Array,
  from: number,
  to: number,
): ChainAdvance {
  const skipped: SkippedMessageKey[] = [];
  const storeFrom = Math.max(from, to - MAX_SKIPPED_KEYS);
  let key = chainKey;
  for (let i = from; i < to; i++) {
    if (i >= storeFrom) {
      skipped.push({ ratchetKey, counter: i, seed: chainMessageKey(backend, key) });
    }
    const next = nextChainKey(backend, key);
    if (key !== chainKey) wipe(key);
    key = next;
  }
  const messageKey = chainMessageKey(backend, key);
  const nextKey = nextChainKey(backend, key);
  if (key !== chainKey) wipe(key);
  return { messageKey, nextKey, skipped };
}

function wipeAdvance(advance: ChainAdvance): void {
  wipe(advance.messageKey, advance.nextKey);
  for (const s of advance.skipped) wipe(s.seed);
}

function appendSkipped(
  existing: readonly SkippedMessageKey[],
  added: readonly SkippedMessageKey[],
): readonly SkippedMessageKey[] {
  if (added.length === 0) return existing;
  const all = existing.concat(added);
  // PROTOCOL.md §5: at most 2,000 stored keys per state, oldest evicted first.
  return all.length > MAX_SKIPPED_KEYS ? all.slice(all.length - MAX_SKIPPED_KEYS) : all;
}

function findSkipped(
  skipped: readonly SkippedMessageKey[],
  ratchetKey: Uint8Array,
  counter: number,
): number {
  for (let i = 0; i < skipped.length; i++) {
    const s = skipped[i]!;
    if (s.counter === counter && equalBytes(s.ratchetKey, ratchetKey)) return i;
  }
  return -1;
}

/**
 * Opens `ciphertext` with the message key at `counter` of a receiving chain whose key is
 * `chainKey` at index `index`, returning the plaintext and the advanced chain.
 */
function openOnChain(
  backend: CryptoBackend,
  state: RatchetState,
  ratchetKey: Uint8Array,
  chainKey: Uint8Array,
  index: number,
  counter: number,
  header: Uint8Array,
  ciphertext: Uint8Array,
  limits: DecryptLimits | undefined,
): { plaintext: Uint8Array; advance: ChainAdvance } {
  if (counter < index) throw new DuplicateMessageError();
  chargeJump(limits, counter - index);
  const advance = advanceChain(backend, ratchetKey, chainKey, index, counter);
  try {
    const plaintext = openWithMessageKey(
      backend,
      advance.messageKey,
      state.associatedData,
      header,
      ciphertext,
    );
    wipe(advance.messageKey);
    return { plaintext, advance };
  } catch (error) {
    wipeAdvance(advance);
    throw error;
  }
}

/**
 * Decrypts one encoded ratchet message (DR spec §3.5 RatchetDecrypt): a stored skipped key,
 * else a known receiving chain, else a DH ratchet step to the sender's new ratchet key. The
 * new sending key pair is generated only after the message authenticated, so a forged message
 * costs one DH, not three. `state` is never modified; on any error nothing changed.
 *
 * @throws {MalformedEnvelopeError | UnsupportedVersionError} if the bytes do not parse.
 * @throws {DuplicateMessageError} if the counter was already used and no skipped key is stored.
 * With `limits`, the jump is also bounded by `limits.maxJump` and charged to the message's
 * shared budget before any chain step is computed (docs/PROTOCOL.md §5.2.5).
 *
 * @throws {TooManySkippedError} if the counter is more than 25,000 (or `limits.maxJump`) past
 *   the chain's index, or the jump exceeds what is left of `limits.budget`.
 * @throws {DecryptError} if the message does not authenticate.
 * @example
 * const { state: next, plaintext } = await ratchetDecrypt(backend, systemRng, state, bytes);
 */
export async function ratchetDecrypt(
  backend: CryptoBackend,
  rng: Rng,
  state: RatchetState,
  messageBytes: Uint8Array,
  limits?: DecryptLimits,
): Promise<RatchetDecryptResult> {
  const message = decodeRatchetMessage(messageBytes);
  const header = messageBytes.subarray(0, RATCHET_HEADER_BYTES);
  const { ratchetKey, counter, ciphertext } = message;

  const skippedAt = findSkipped(state.skippedKeys, ratchetKey, counter);
  if (skippedAt >= 0) {
    const seed = state.skippedKeys[skippedAt]!.seed;
    const plaintext = openWithMessageKey(backend, seed, state.associatedData, header, ciphertext);
    const skippedKeys = state.skippedKeys.filter((_, i) => i !== skippedAt);
    return { state: { ...state, skippedKeys }, plaintext };
  }

  const chains = state.receiverChains;
  for (let c = 0; c < chains.length; c++) {
    const chain = chains[c]!;
    if (!equalBytes(chain.ratchetKey, ratchetKey)) continue;
    const { plaintext, advance } = openOnChain(
      backend,
      state,
      chain.ratchetKey,
      chain.key,
      chain.index,
      counter,
      header,
      ciphertext,
      limits,
    );
    const receiverChains = chains.slice();
    receiverChains[c] = { ratchetKey: chain.ratchetKey, key: advance.nextKey, index: counter + 1 };
    return {
      state: {
        ...state,
        receiverChains,
        skippedKeys: appendSkipped(state.skippedKeys, advance.skipped),
      },
      plaintext,
    };
  }

  // DR spec §3.5 DHRatchet: a ratchet key we have not seen starts a new receiving chain.
  // Charged before the DH, so a state that cannot afford the jump costs nothing.
  chargeJump(limits, counter, true);
  const theirKey = ratchetKey.slice();
  const dhReceive = await ratchetDh(backend, state.senderRatchetPrivate, theirKey);
  const receiveStep = kdfRoot(backend, state.rootKey, dhReceive);
  wipe(dhReceive);
  let opened: { plaintext: Uint8Array; advance: ChainAdvance };
  try {
    opened = openOnChain(
      backend,
      state,
      theirKey,
      receiveStep.chainKey,
      0,
      counter,
      header,
      ciphertext,
      undefined,
    );
  } catch (error) {
    wipe(receiveStep.rootKey, receiveStep.chainKey);
    throw error;
  }
  wipe(receiveStep.chainKey);

  const privateKey = rng(RATCHET_KEY_BYTES);
  assertBytes(privateKey, 'rng output', RATCHET_KEY_BYTES);
  const publicKey = await backend.x25519PublicKey(privateKey);
  const dhSend = await backend.x25519(privateKey, theirKey);
  const sendStep = kdfRoot(backend, receiveStep.rootKey, dhSend);
  wipe(dhSend, receiveStep.rootKey);

  const receiverChains = chains.concat({
    ratchetKey: theirKey,
    key: opened.advance.nextKey,
    index: counter + 1,
  });
  return {
    state: {
      associatedData: state.associatedData,
      rootKey: sendStep.rootKey,
      senderRatchetPrivate: privateKey,
      senderRatchetPublic: publicKey,
      senderChain: { key: sendStep.chainKey, index: 0 },
      previousCounter: state.senderChain?.index ?? 0,
      // PROTOCOL.md §5: five receiving chains, oldest dropped.
      receiverChains:
        receiverChains.length > MAX_RECEIVER_CHAINS
          ? receiverChains.slice(receiverChains.length - MAX_RECEIVER_CHAINS)
          : receiverChains,
      skippedKeys: appendSkipped(state.skippedKeys, opened.advance.skipped),
    },
    plaintext: opened.plaintext,
  };
}
