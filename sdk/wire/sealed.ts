/**
 * Sealed-sender envelope and inner-content codecs (docs/PROTOCOL.md §6,
 * docs/PROTOCOL.md §6). Pure byte layouts, no cryptography.
 *
 * ```
 * envelope = u8 version=1 || E_pub(32) || encStatic(48) || encInner
 * inner    = u8 contentType || var16(senderCertificate) || u32 len || message || zero padding
 * ```
 * `inner` is padded with zeros to the Padmé length of its unpadded size.
 */
import { MalformedEnvelopeError, UnsupportedVersionError } from '../errors.ts';
import { ArgumentRangeError } from '../util/argument-errors.ts';
import { assertBytes, ByteReader, ByteWriter } from '../util/bytes.ts';
import { padmeLength } from '../util/padding.ts';
import { MAX_SENDER_CERTIFICATE_BYTES } from './certificates.ts';
import {
  MAX_PREKEY_MESSAGE_BYTES,
  MESSAGE_TYPE_PREKEY,
  MESSAGE_TYPE_RATCHET,
  type MessageType,
} from './messages.ts';

/** Version byte of the sealed envelope. */
export const SEALED_ENVELOPE_VERSION = 1;
/** Inner content type: the wrapped message is a prekey message (PROTOCOL.md §5, type 1). */
export const SEALED_CONTENT_PREKEY = MESSAGE_TYPE_PREKEY;
/** Inner content type: the wrapped message is a ratchet message (PROTOCOL.md §5, type 2). */
export const SEALED_CONTENT_RATCHET = MESSAGE_TYPE_RATCHET;
/** Inner content type: the session message types of `sdk/wire/messages.ts`. */
export type SealedContentType = MessageType;

const KEY_BYTES = 32;
const TAG_BYTES = 16;
/** `encStatic`: the sender's 32-byte static key plus a ChaCha20-Poly1305 tag. */
export const SEALED_STATIC_BYTES = KEY_BYTES + TAG_BYTES;
/** Bytes before `encInner`: version, ephemeral key, encrypted static key. */
export const SEALED_HEADER_BYTES = 1 + KEY_BYTES + SEALED_STATIC_BYTES;
/** Inner bytes other than the certificate, message and padding: type, var16 length, u32 length. */
const INNER_FIXED_BYTES = 1 + 2 + 4;

/**
 * Largest wrapped message: a prekey message carrying a maximal (96 KiB) plaintext,
 * 98,304 + 1,785 (prekey fields) + 57 (ratchet header and tag) = 100,146 bytes.
 */
export const MAX_SEALED_MESSAGE_BYTES = MAX_PREKEY_MESSAGE_BYTES;
/**
 * Largest envelope accepted (128 KiB). The largest envelope a sender can produce is
 * 102,497 bytes (maximal certificate and message, Padmé-rounded), so this leaves headroom and
 * still lets a receiver or the service reject oversized input before any cryptography.
 */
export const MAX_SEALED_ENVELOPE_BYTES = 128 * 1024;
/** Smallest possible `encInner`: an empty inner header and the tag. */
const MIN_ENC_INNER_BYTES = INNER_FIXED_BYTES + TAG_BYTES;

/** The three parts of a sealed envelope, still encrypted. */
export interface SealedEnvelope {
  /** Ephemeral X25519 public key `E_pub`. */
  readonly ephemeralPublic: Uint8Array;
  /** Sender static key under the ephemeral-layer key (48 bytes). */
  readonly encryptedStatic: Uint8Array;
  /** Padded inner content under the static-layer key. */
  readonly encryptedInner: Uint8Array;
}

/** The decrypted inner content of a sealed envelope. */
export interface SealedContent {
  /** 1 = prekey message, 2 = ratchet message. */
  readonly contentType: SealedContentType;
  /** Encoded sender certificate. */
  readonly senderCertificate: Uint8Array;
  /** The wrapped prekey or ratchet message. */
  readonly message: Uint8Array;
}

/**
 * Encodes an envelope from its parts.
 *
 * @throws ArgumentTypeError / RangeError if a part has the wrong size or the result exceeds
 *   {@link MAX_SEALED_ENVELOPE_BYTES}
 * @example
 * ```ts
 * const bytes = encodeSealedEnvelope({ ephemeralPublic, encryptedStatic, encryptedInner });
 * ```
 */
export function encodeSealedEnvelope(e: SealedEnvelope): Uint8Array {
  assertBytes(e.ephemeralPublic, 'ephemeralPublic', KEY_BYTES);
  assertBytes(e.encryptedStatic, 'encryptedStatic', SEALED_STATIC_BYTES);
  assertBytes(e.encryptedInner, 'encryptedInner');
  if (e.encryptedInner.length < MIN_ENC_INNER_BYTES) {
    throw new ArgumentRangeError(`encryptedInner must be at least ${MIN_ENC_INNER_BYTES} bytes`);
  }
  const total = SEALED_HEADER_BYTES + e.encryptedInner.length;
  if (total > MAX_SEALED_ENVELOPE_BYTES) {
    throw new ArgumentRangeError(`envelope must be at most ${MAX_SEALED_ENVELOPE_BYTES} bytes`);
  }
  return new ByteWriter(total)
    .u8(SEALED_ENVELOPE_VERSION)
    .bytes(e.ephemeralPublic)
    .bytes(e.encryptedStatic)
    .bytes(e.encryptedInner)
    .finish();
}

/**
 * Strictly decodes an envelope: size limit first (before any other work), then the version,
 * then the fixed-size parts.
 *
 * @throws UnsupportedVersionError if the version byte is not 1
 * @throws MalformedEnvelopeError if the envelope is empty, too short or too long
 * @example
 * ```ts
 * const { ephemeralPublic } = decodeSealedEnvelope(bytes);
 * ```
 */
export function decodeSealedEnvelope(bytes: Uint8Array): SealedEnvelope {
  assertBytes(bytes, 'bytes');
  if (bytes.length > MAX_SEALED_ENVELOPE_BYTES) {
    throw new MalformedEnvelopeError('sealed envelope is too long');
  }
  const r = new ByteReader(bytes, 'sealed envelope');
  const version = r.u8();
  if (version !== SEALED_ENVELOPE_VERSION) {
    throw new UnsupportedVersionError(version, 'sealed envelope');
  }
  const ephemeralPublic = r.bytes(KEY_BYTES);
  const encryptedStatic = r.bytes(SEALED_STATIC_BYTES);
  if (r.remaining < MIN_ENC_INNER_BYTES)
    throw new MalformedEnvelopeError('sealed envelope is truncated');
  const encryptedInner = r.rest();
  return { ephemeralPublic, encryptedStatic, encryptedInner };
}

function checkContentType(t: unknown): asserts t is SealedContentType {
  if (t !== SEALED_CONTENT_PREKEY && t !== SEALED_CONTENT_RATCHET) {
    throw new ArgumentRangeError('contentType must be 1 (prekey) or 2 (ratchet)');
  }
}

/**
 * Encodes and pads the inner content: `contentType || var16(cert) || u32 len || message`,
 * then zeros up to the Padmé length of that size.
 *
 * @throws ArgumentTypeError / RangeError on a bad content type, a certificate longer than
 *   `MAX_SENDER_CERTIFICATE_BYTES` or a message longer than {@link MAX_SEALED_MESSAGE_BYTES}
 * @example
 * ```ts
 * const inner = encodeSealedContent({ contentType: 2, senderCertificate, message });
 * ```
 */
export function encodeSealedContent(c: SealedContent): Uint8Array {
  checkContentType(c.contentType);
  assertBytes(c.senderCertificate, 'senderCertificate');
  assertBytes(c.message, 'message');
  if (c.senderCertificate.length > MAX_SENDER_CERTIFICATE_BYTES) {
    throw new ArgumentRangeError(
      `senderCertificate must be at most ${MAX_SENDER_CERTIFICATE_BYTES} bytes`,
    );
  }
  if (c.message.length > MAX_SEALED_MESSAGE_BYTES) {
    throw new ArgumentRangeError(`message must be at most ${MAX_SEALED_MESSAGE_BYTES} bytes`);
  }
  const unpadded = INNER_FIXED_BYTES + c.senderCertificate.length + c.message.length;
  const padded = padmeLength(unpadded);
  return new ByteWriter(padded)
    .u8(c.contentType)
    .var16(c.senderCertificate)
    .var32(c.message)
    .bytes(new Uint8Array(padded - unpadded))
    .finish();
}

/**
 * Strictly decodes padded inner content: known content type, bounded certificate and message,
 * total length exactly the Padmé length of the unpadded size, padding all zero.
 *
 * @throws MalformedEnvelopeError on any violation
 * @example
 * ```ts
 * const { contentType, senderCertificate, message } = decodeSealedContent(inner);
 * ```
 */
export function decodeSealedContent(bytes: Uint8Array): SealedContent {
  assertBytes(bytes, 'bytes');
  const r = new ByteReader(bytes, 'sealed content');
  const contentType = r.u8();
  if (contentType !== SEALED_CONTENT_PREKEY && contentType !== SEALED_CONTENT_RATCHET) {
    throw new MalformedEnvelopeError('sealed content has an unknown content type');
  }
  const senderCertificate = r.var16(MAX_SENDER_CERTIFICATE_BYTES);
  const message = r.var32(MAX_SEALED_MESSAGE_BYTES);
  const unpadded = r.offset;
  if (bytes.length !== padmeLength(unpadded)) {
    throw new MalformedEnvelopeError('sealed content has wrong padding');
  }
  let nonZero = 0;
  for (let i = unpadded; i < bytes.length; i++) nonZero |= bytes[i]!;
  if (nonZero !== 0) throw new MalformedEnvelopeError('sealed content has wrong padding');
  return { contentType, senderCertificate, message };
}
