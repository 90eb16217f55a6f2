/**
 * The shared payload of a multi-recipient send (docs/PROTOCOL.md §14.2): the content encrypted
 * once under a fresh key, with a key commitment, for every recipient device; each device's
 * sealed envelope carries only the key and the payload's digest (a payload reference).
 *
 * ```
 * K         = 32 random bytes per message
 * okm       = HKDF-SHA-256(ikm = K, salt = 0x00 * 32, info = LABELS.SHARED_PAYLOAD, L = 64)
 * encKey    = okm[0..32],  keyCommitment = okm[32..64]
 * header    = u8 version=1 || keyCommitment
 * payload   = header || ChaCha20-Poly1305(encKey, 0x00 * 12, u32 n || content || zeros, aad = header)
 * digest    = SHA-256(payload)
 * ```
 * Only the backend's synchronous symmetric primitives run here (HKDF, the AEAD, SHA-256), so
 * every backend gives the same bytes.
 */
import type { CryptoBackend, Rng } from '../crypto/backend.ts';
import { DecryptError } from '../errors.ts';
import { ArgumentTypeError } from '../util/argument-errors.ts';
import { assertBytes, concatBytes, constantTimeEqual, wipe } from '../util/bytes.ts';
import { LABELS } from '../wire/labels.ts';
import {
  decodeSharedPayload,
  decodeSharedPayloadBody,
  encodeSharedPayload,
  encodeSharedPayloadBody,
  type PayloadReference,
  SHARED_PAYLOAD_DIGEST_BYTES,
  SHARED_PAYLOAD_KEY_BYTES,
  SHARED_PAYLOAD_VERSION,
} from '../wire/multi-recipient-payload.ts';

/** `K` encrypts exactly one body, so a fixed zero nonce is safe (PROTOCOL.md §14.2). */
const ZERO_NONCE = new Uint8Array(12);
const ZERO_SALT = new Uint8Array(32);

/** The two keys derived from a payload key. */
export interface SharedPayloadKeys {
  /** ChaCha20-Poly1305 key of the body. */
  readonly encKey: Uint8Array;
  /** Written into the payload's header; commits the payload to `K`. */
  readonly keyCommitment: Uint8Array;
}

/** A sealed shared payload and the reference every recipient device gets. */
export interface SealedSharedPayload {
  /** The payload bytes the service stores once. */
  readonly payload: Uint8Array;
  /** The key and the digest, for the per-device envelopes. */
  readonly reference: PayloadReference;
}

/**
 * Derives the body key and the key commitment from a payload key.
 *
 * @throws ArgumentTypeError / ArgumentRangeError unless `key` is 32 bytes
 * @example const { encKey, keyCommitment } = deriveSharedPayloadKeys(backend, key);
 */
export function deriveSharedPayloadKeys(
  backend: CryptoBackend,
  key: Uint8Array,
): SharedPayloadKeys {
  assertBytes(key, 'key', SHARED_PAYLOAD_KEY_BYTES);
  const okm = backend.hkdfSha256(key, ZERO_SALT, LABELS.SHARED_PAYLOAD, 64);
  const keys = { encKey: okm.slice(0, 32), keyCommitment: okm.slice(32, 64) };
  wipe(okm);
  return keys;
}

function headerOf(keyCommitment: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(SHARED_PAYLOAD_VERSION), keyCommitment);
}

/**
 * Encrypts `content` (a content frame, at most 98,304 bytes) once for every recipient device
 * of a send: draws a fresh 32-byte key from `rng`, pads the content with Padmé, seals it and
 * returns the payload with its reference (key and SHA-256 digest).
 *
 * @param rng - source of the 32-byte payload key
 * @throws ArgumentTypeError / ArgumentRangeError if `content` is not bytes or is too long
 * @example
 * ```ts
 * const { payload, reference } = sealSharedPayload(backend, systemRng, contentFrame);
 * ```
 */
export function sealSharedPayload(
  backend: CryptoBackend,
  rng: Rng,
  content: Uint8Array,
): SealedSharedPayload {
  if (typeof backend !== 'object' || backend === null) {
    throw new ArgumentTypeError('backend must be a CryptoBackend');
  }
  if (typeof rng !== 'function') throw new ArgumentTypeError('rng must be a function');
  // Encoding first validates the content before any key is drawn.
  const body = encodeSharedPayloadBody(content);
  const key = rng(SHARED_PAYLOAD_KEY_BYTES);
  assertBytes(key, 'rng output', SHARED_PAYLOAD_KEY_BYTES);
  let keys: SharedPayloadKeys | undefined;
  try {
    keys = deriveSharedPayloadKeys(backend, key);
    const header = headerOf(keys.keyCommitment);
    const ciphertext = backend.aeadSeal(keys.encKey, ZERO_NONCE, body, header);
    const payload = encodeSharedPayload({ keyCommitment: keys.keyCommitment, ciphertext });
    return { payload, reference: { key: key.slice(), digest: backend.sha256(payload) } };
  } finally {
    wipe(key, keys?.encKey, body);
  }
}

/**
 * Opens a shared payload with the reference a per-device envelope carried, in this order: the
 * layout (before any cryptography), the digest, the key commitment, the AEAD, then the body's
 * length and padding.
 *
 * @returns the content (the content frame)
 * @throws MalformedEnvelopeError if the payload does not parse, or if its decrypted body has a
 *   bad length or non-zero padding (only the holder of `K`, the sender, can cause the latter)
 * @throws UnsupportedVersionError if the payload's version byte is not 1
 * @throws DecryptError if the digest differs, the payload commits to another key, or the body
 *   does not authenticate (which one is not said)
 * @throws ArgumentTypeError / ArgumentRangeError on a malformed argument
 * @example
 * ```ts
 * const content = openSharedPayload(backend, payload, decodePayloadReference(plaintext));
 * ```
 */
export function openSharedPayload(
  backend: CryptoBackend,
  payload: Uint8Array,
  reference: PayloadReference,
): Uint8Array {
  if (typeof reference !== 'object' || reference === null) {
    throw new ArgumentTypeError('reference must be an object');
  }
  assertBytes(reference.key, 'reference.key', SHARED_PAYLOAD_KEY_BYTES);
  assertBytes(reference.digest, 'reference.digest', SHARED_PAYLOAD_DIGEST_BYTES);
  const { keyCommitment, ciphertext } = decodeSharedPayload(payload);
  // The digest names one exact byte string and the commitment one key: together they fix the
  // content, so every recipient device (and a moderator) reads the same content from one payload.
  if (!constantTimeEqual(backend.sha256(payload), reference.digest)) throw new DecryptError();
  let keys: SharedPayloadKeys | undefined;
  let body: Uint8Array | undefined;
  try {
    keys = deriveSharedPayloadKeys(backend, reference.key);
    if (!constantTimeEqual(keys.keyCommitment, keyCommitment)) throw new DecryptError();
    try {
      body = backend.aeadOpen(keys.encKey, ZERO_NONCE, ciphertext, headerOf(keyCommitment));
    } catch (cause) {
      if (cause instanceof DecryptError) throw new DecryptError();
      throw cause;
    }
    return decodeSharedPayloadBody(body);
  } finally {
    wipe(keys?.encKey, body);
  }
}
