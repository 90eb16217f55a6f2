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
/** `key(32) || nonce(12)` expanded from one message key. */
const MESSAGE_KEY_MATERIAL_BYTES = 44;

// DR spec §5.2: distinct single-byte HMAC inputs separate the message key from the next chain key.
const MESSAGE_KEY_INPUT = Uint8Array.of(0x01);
const CHAIN_KEY_INPUT = Uint8Array.of(0x02);
const ZERO_SALT = new Uint8Array(32);

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

function expandMessageKey(backend: CryptoBackend, messageKey: Uint8Array): Uint8Array {
  return backend.hkdfSha256(messageKey, ZERO_SALT, LABELS.MESSAGE_KEYS, MESSAGE_KEY_MATERIAL_BYTES);
}

/**
 * Encrypts `plaintext` under message key `messageKey`: `key || nonce = HKDF(mk, 0^32,
 * MESSAGE_KEYS, 44)`, ChaCha20-Poly1305 with `aad`. Each message key is used once, so the
 * derived nonce never repeats under a key.
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
  const material = expandMessageKey(backend, messageKey);
  try {
    return backend.aeadSeal(material.subarray(0, 32), material.subarray(32, 44), plaintext, aad);
  } finally {
    wipe(material);
  }
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
  const material = expandMessageKey(backend, messageKey);
  try {
    return backend.aeadOpen(material.subarray(0, 32), material.subarray(32, 44), ciphertext, aad);
  } catch (cause) {
    if (cause instanceof DecryptError) throw cause;
    // Backends promise DecryptError; anything else from a primitive is still only "did not open".
    throw new DecryptError(undefined, { cause });
  } finally {
    wipe(material);
  }
}
