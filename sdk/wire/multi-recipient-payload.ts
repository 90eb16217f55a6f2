/**
 * Shared payload and payload reference layouts of multi-recipient sends (docs/PROTOCOL.md §14).
 * Pure byte layouts, no cryptography: `sdk/protocol/shared-payload.ts` encrypts and opens.
 *
 * ```
 * payload   = u8 version=1 || keyCommitment(32) || ChaCha20-Poly1305(encKey, 0^12, body, aad = payload[0..33])
 * body      = u32 n || content(n) || zeros up to padmeLength(4 + n)
 * reference = u8 tag=0xA1 || payloadKey(32) || payloadDigest(32)          (a Double Ratchet plaintext)
 * ```
 */
import { MalformedEnvelopeError, UnsupportedVersionError } from '../errors.ts';
import { ArgumentRangeError } from '../util/argument-errors.ts';
import { assertBytes, ByteReader, ByteWriter } from '../util/bytes.ts';
import { padmeLength } from '../util/padding.ts';

/** Version byte of the shared payload. */
export const SHARED_PAYLOAD_VERSION = 1;
/** Size of the payload key `K` and of the key commitment derived from it. */
export const SHARED_PAYLOAD_KEY_BYTES = 32;
/** Size of the key commitment in the payload's header. */
export const SHARED_PAYLOAD_COMMITMENT_BYTES = 32;
/** Size of a payload digest (SHA-256 of the whole payload). */
export const SHARED_PAYLOAD_DIGEST_BYTES = 32;
/** The payload's clear header, `version || keyCommitment`: the AEAD's associated data. */
export const SHARED_PAYLOAD_HEADER_BYTES = 1 + SHARED_PAYLOAD_COMMITMENT_BYTES;
const TAG_BYTES = 16;
/** The body's length prefix. */
const LENGTH_BYTES = 4;
/**
 * Largest content a payload carries: the protocol's plaintext limit, 96 KiB (PROTOCOL.md §8),
 * the same content frame a per-device envelope carries today.
 */
export const MAX_SHARED_PAYLOAD_CONTENT_BYTES = 98_304;
/**
 * Largest payload accepted (128 KiB). The largest one a sender builds is
 * 33 + padmeLength(4 + 98,304) + 16 = 33 + 100,352 + 16 = 100,401 bytes; like the sealed
 * envelope's, the bound leaves headroom and lets a decoder refuse before any cryptography.
 */
export const MAX_SHARED_PAYLOAD_BYTES = 128 * 1024;
/** Smallest payload: header, the padded body of empty content (4 bytes), tag. */
export const MIN_SHARED_PAYLOAD_BYTES = SHARED_PAYLOAD_HEADER_BYTES + LENGTH_BYTES + TAG_BYTES;

/**
 * First byte of a payload reference. A Double Ratchet plaintext is either a content frame
 * (first byte: its version, 1; docs/SDK.md) or a reference; 0xA1 can never be a content frame
 * version below 0x80, so a receiver that does not know references refuses one as malformed
 * instead of misreading it.
 */
export const PAYLOAD_REFERENCE_TAG = 0xa1;
/** Size of an encoded payload reference. */
export const PAYLOAD_REFERENCE_BYTES = 1 + SHARED_PAYLOAD_KEY_BYTES + SHARED_PAYLOAD_DIGEST_BYTES;

/** A shared payload's two parts, still encrypted. */
export interface SharedPayload {
  /** `HKDF(K)[32..64]`: commits the payload to one key (PROTOCOL.md §14.2). */
  readonly keyCommitment: Uint8Array;
  /** The padded body under ChaCha20-Poly1305, with its 16-byte tag. */
  readonly ciphertext: Uint8Array;
}

/** What a per-device envelope carries instead of the content: the key and digest of the payload. */
export interface PayloadReference {
  /** The payload key `K` (32 bytes, fresh per message). */
  readonly key: Uint8Array;
  /** SHA-256 of the whole payload (32 bytes). */
  readonly digest: Uint8Array;
}

/**
 * Encodes a shared payload from its parts.
 *
 * @throws ArgumentTypeError / ArgumentRangeError on a commitment other than 32 bytes, a
 *   ciphertext shorter than the smallest body and tag, or a result over
 *   {@link MAX_SHARED_PAYLOAD_BYTES}
 * @example const bytes = encodeSharedPayload({ keyCommitment, ciphertext });
 */
export function encodeSharedPayload(p: SharedPayload): Uint8Array {
  assertBytes(p.keyCommitment, 'keyCommitment', SHARED_PAYLOAD_COMMITMENT_BYTES);
  assertBytes(p.ciphertext, 'ciphertext');
  const total = SHARED_PAYLOAD_HEADER_BYTES + p.ciphertext.length;
  if (total < MIN_SHARED_PAYLOAD_BYTES) {
    throw new ArgumentRangeError(
      `ciphertext must be at least ${MIN_SHARED_PAYLOAD_BYTES - SHARED_PAYLOAD_HEADER_BYTES} bytes`,
    );
  }
  if (total > MAX_SHARED_PAYLOAD_BYTES) {
    throw new ArgumentRangeError(`payload must be at most ${MAX_SHARED_PAYLOAD_BYTES} bytes`);
  }
  return new ByteWriter(total)
    .u8(SHARED_PAYLOAD_VERSION)
    .bytes(p.keyCommitment)
    .bytes(p.ciphertext)
    .finish();
}

/**
 * Strictly decodes a shared payload: the size bound first (before anything else), then the
 * version, then the minimum size.
 *
 * @throws MalformedEnvelopeError if the payload is too long or too short
 * @throws UnsupportedVersionError if the version byte is not 1
 * @example const { keyCommitment, ciphertext } = decodeSharedPayload(bytes);
 */
export function decodeSharedPayload(bytes: Uint8Array): SharedPayload {
  assertBytes(bytes, 'bytes');
  if (bytes.length > MAX_SHARED_PAYLOAD_BYTES) {
    throw new MalformedEnvelopeError('shared payload is too long');
  }
  const r = new ByteReader(bytes, 'shared payload');
  const version = r.u8();
  if (version !== SHARED_PAYLOAD_VERSION) {
    throw new UnsupportedVersionError(version, 'shared payload');
  }
  if (bytes.length < MIN_SHARED_PAYLOAD_BYTES) {
    throw new MalformedEnvelopeError('shared payload is truncated');
  }
  const keyCommitment = r.bytes(SHARED_PAYLOAD_COMMITMENT_BYTES);
  const ciphertext = r.rest();
  return { keyCommitment, ciphertext };
}

/**
 * The plaintext body of a payload: `u32 n || content || zeros`, padded to `padmeLength(4 + n)`.
 *
 * @throws ArgumentTypeError / ArgumentRangeError if `content` is not bytes or is longer than
 *   {@link MAX_SHARED_PAYLOAD_CONTENT_BYTES}
 * @example const body = encodeSharedPayloadBody(contentFrame);
 */
export function encodeSharedPayloadBody(content: Uint8Array): Uint8Array {
  assertBytes(content, 'content');
  if (content.length > MAX_SHARED_PAYLOAD_CONTENT_BYTES) {
    throw new ArgumentRangeError(
      `content must be at most ${MAX_SHARED_PAYLOAD_CONTENT_BYTES} bytes`,
    );
  }
  const unpadded = LENGTH_BYTES + content.length;
  const padded = padmeLength(unpadded);
  // The writer is sized exactly and zero-initialised: the padding is the unwritten tail.
  const w = new ByteWriter(padded).var32(content);
  return w.bytes(new Uint8Array(padded - unpadded)).finish();
}

/**
 * Strictly decodes a decrypted body: a length within the content limit, total length exactly
 * the Padmé length of `4 + n`, padding all zero (one encoding per content).
 *
 * @throws MalformedEnvelopeError on any violation
 * @example const content = decodeSharedPayloadBody(body);
 */
export function decodeSharedPayloadBody(bytes: Uint8Array): Uint8Array {
  assertBytes(bytes, 'bytes');
  const r = new ByteReader(bytes, 'shared payload body');
  const content = r.var32(MAX_SHARED_PAYLOAD_CONTENT_BYTES);
  const unpadded = r.offset;
  if (bytes.length !== padmeLength(unpadded)) {
    throw new MalformedEnvelopeError('shared payload body has wrong padding');
  }
  let nonZero = 0;
  for (let i = unpadded; i < bytes.length; i++) nonZero |= bytes[i]!;
  if (nonZero !== 0) throw new MalformedEnvelopeError('shared payload body has wrong padding');
  return content;
}

/**
 * Encodes a payload reference, the Double Ratchet plaintext of a per-device envelope that
 * points at a shared payload: `0xA1 || key(32) || digest(32)`.
 *
 * @throws ArgumentTypeError / ArgumentRangeError unless key and digest are 32 bytes each
 * @example const plaintext = encodePayloadReference({ key, digest });
 */
export function encodePayloadReference(ref: PayloadReference): Uint8Array {
  assertBytes(ref.key, 'key', SHARED_PAYLOAD_KEY_BYTES);
  assertBytes(ref.digest, 'digest', SHARED_PAYLOAD_DIGEST_BYTES);
  return new ByteWriter(PAYLOAD_REFERENCE_BYTES)
    .u8(PAYLOAD_REFERENCE_TAG)
    .bytes(ref.key)
    .bytes(ref.digest)
    .finish();
}

/**
 * True when a Double Ratchet plaintext is a payload reference (by its first byte); the
 * receiver then requires the message to have been delivered with a payload, and a content
 * frame to have been delivered without one (PROTOCOL.md §14.6).
 *
 * @example if (isPayloadReference(plaintext)) content = openSharedPayload(...);
 */
export function isPayloadReference(plaintext: Uint8Array): boolean {
  assertBytes(plaintext, 'plaintext');
  return plaintext.length > 0 && plaintext[0] === PAYLOAD_REFERENCE_TAG;
}

/**
 * Strictly decodes a payload reference: the tag and exactly 65 bytes.
 *
 * @throws MalformedEnvelopeError on another first byte or another length
 * @example const { key, digest } = decodePayloadReference(plaintext);
 */
export function decodePayloadReference(bytes: Uint8Array): PayloadReference {
  assertBytes(bytes, 'bytes');
  const r = new ByteReader(bytes, 'payload reference');
  if (r.u8() !== PAYLOAD_REFERENCE_TAG) {
    throw new MalformedEnvelopeError('payload reference has an unknown tag');
  }
  const key = r.bytes(SHARED_PAYLOAD_KEY_BYTES);
  const digest = r.bytes(SHARED_PAYLOAD_DIGEST_BYTES);
  r.end();
  return { key, digest };
}
