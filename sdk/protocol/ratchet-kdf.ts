/**
 * The three key derivation functions of the Double Ratchet (PROTOCOL.md §5, Signal Double Ratchet
 * spec rev. 4 §5.2) and the message AEAD around them. All synchronous: per-message work must
 * not pay an async round trip (PROTOCOL.md §2).
 */
import type { CryptoBackend } from '../crypto/backend.ts';
import { DecryptError } from '../errors.ts';
import { wipe } from '../util/bytes.ts';
import { LABELS } from '../wire/labels.ts';

/** Root, chain and message key size. */
export const RATCHET_SECRET_BYTES = 32;
/**
 * The ChaCha20-Poly1305 nonce of every message: all zero. The message key itself is the AEAD
 * key, and each message key encrypts exactly one message (PROTOCOL.md §5.2.1), so a
 * (key, nonce) pair never repeats; the Double Ratchet spec's ENCRYPT lists a constant nonce as
 * one of the sound choices for that reason.
 */
const MESSAGE_NONCE = new Uint8Array(12);

// DR spec §5.2: distinct single-byte HMAC inputs separate the message key from the next chain key.
const MESSAGE_KEY_INPUT = Uint8Array.of(0x01);
const CHAIN_KEY_INPUT = Uint8Array.of(0x02);

/** Output of {@link kdfRoot}: the next root key and a fresh chain key (both owned by the caller). */
export interface RootStep {
  readonly rootKey: Uint8Array;
  readonly chainKey: Uint8Array;
}

/**
 * `KDF_RK(rk, dh) = HKDF(ikm = dh, salt = rk, info = RATCHET_ROOT, 64) -> (rk', ck)`.
 *
 * @example
 * const { rootKey, chainKey } = kdfRoot(backend, rk, dhOutput);
 */
export function kdfRoot(backend: CryptoBackend, rootKey: Uint8Array, dh: Uint8Array): RootStep {
  const out = backend.hkdfSha256(dh, rootKey, LABELS.RATCHET_ROOT, 64);
  const step = { rootKey: out.slice(0, 32), chainKey: out.slice(32, 64) };
  wipe(out);
  return step;
}

/**
 * `mk = HMAC-SHA-256(ck, 0x01)`: the message key at the chain's current index.
 *
 * @example
 * const mk = chainMessageKey(backend, ck);
 */
export function chainMessageKey(backend: CryptoBackend, chainKey: Uint8Array): Uint8Array {
  return backend.hmacSha256(chainKey, MESSAGE_KEY_INPUT);
}

/**
 * `ck' = HMAC-SHA-256(ck, 0x02)`: the chain key one step further.
 *
 * @example
 * const next = nextChainKey(backend, ck);
 */
export function nextChainKey(backend: CryptoBackend, chainKey: Uint8Array): Uint8Array {
  return backend.hmacSha256(chainKey, CHAIN_KEY_INPUT);
}

/**
 * Encrypts `plaintext` under message key `messageKey`: ChaCha20-Poly1305 keyed by `mk` with the
 * all-zero nonce and `aad`. `mk` is already a uniformly random single-use 32-byte key (an HMAC
 * output under the chain key, used for nothing else), so nothing is derived from it first.
 *
 * @example
 * const ct = sealWithMessageKey(backend, mk, plaintext, aad);
 */
export function sealWithMessageKey(
  backend: CryptoBackend,
  messageKey: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
): Uint8Array {
  return backend.aeadSeal(messageKey, MESSAGE_NONCE, plaintext, aad);
}

/**
 * Opens a message ciphertext under `messageKey`, with `aad = associatedData || header`.
 *
 * @throws {DecryptError} on any authentication failure (never says which check failed).
 * @example
 * const plaintext = openWithMessageKey(backend, mk, ad, header, ciphertext);
 */
export function openWithMessageKey(
  backend: CryptoBackend,
  messageKey: Uint8Array,
  associatedData: Uint8Array,
  header: Uint8Array,
  ciphertext: Uint8Array,
): Uint8Array {
  const aad = new Uint8Array(associatedData.length + header.length);
  aad.set(associatedData);
  aad.set(header, associatedData.length);
  try {
    return backend.aeadOpen(messageKey, MESSAGE_NONCE, ciphertext, aad);
  } catch (cause) {
    if (cause instanceof DecryptError) throw cause;
    // Backends promise DecryptError; anything else from a primitive is still only "did not open".
    throw new DecryptError(undefined, { cause });
  }
}
