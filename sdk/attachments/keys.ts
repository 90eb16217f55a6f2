/**
 * The keys of one attachment (docs/PROTOCOL.md §10.3): from the 32-byte attachment key K,
 *
 * ```
 * okm = HKDF-SHA-256(ikm = K, salt = 32 zero bytes, info = "Sealpost attachment v1", L = 64)
 * encKey = okm[0..32]        the AES-256-GCM key of every chunk
 * commitment = okm[32..64]   written into the header; a blob opens only under a key whose
 *                            commitment it carries
 * ```
 */
import type { CryptoBackend } from '../crypto/backend.ts';
import { assertBytes, wipe } from '../util/bytes.ts';
import { LABELS } from '../wire/labels.ts';
import { ATTACHMENT_COMMITMENT_BYTES, ATTACHMENT_KEY_BYTES } from './layout.ts';

const ZERO_SALT = new Uint8Array(32);

/** The two values derived from an attachment key. */
export interface AttachmentKeys {
  /** AES-256-GCM key of every chunk. */
  readonly encKey: Uint8Array;
  /** The header's key commitment. */
  readonly commitment: Uint8Array;
}

/**
 * Derives the chunk key and the key commitment of attachment key `key`.
 *
 * @throws {ArgumentRangeError} unless `key` is 32 bytes
 * @example const { encKey, commitment } = deriveAttachmentKeys(backend, key);
 */
export function deriveAttachmentKeys(backend: CryptoBackend, key: Uint8Array): AttachmentKeys {
  assertBytes(key, 'key', ATTACHMENT_KEY_BYTES);
  const okm = backend.hkdfSha256(
    key,
    ZERO_SALT,
    LABELS.ATTACHMENT,
    ATTACHMENT_KEY_BYTES + ATTACHMENT_COMMITMENT_BYTES,
  );
  const keys = {
    encKey: okm.slice(0, ATTACHMENT_KEY_BYTES),
    commitment: okm.slice(ATTACHMENT_KEY_BYTES),
  };
  wipe(okm);
  return keys;
}
