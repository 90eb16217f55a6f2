/**
 * Sealed-sender envelope and inner-content codecs (docs/PROTOCOL.md §6,
 * docs/PROTOCOL.md §6). Pure byte layouts, no cryptography.
 *
 * ```
 * envelope = u8 version=2 || commitment(32) || E_pub(32) || encStatic(48) || encInner
 * inner    = u8 contentType || var16(senderCertificate) || openingKey(32) || sessionKey(32)
 *            || signature(304) || messageSignature(64)
 *            || u32 len || message || zero padding
 * ```
 * The commitment is the franking commitment (PROTOCOL.md §11), in clear for the service's
 * stamp and authenticated as the inner layer's associated data.
 * `inner` is padded with zeros to the Padmé length of its unpadded size.
 */
import { MalformedEnvelopeError, UnsupportedVersionError } from '../errors.ts';
import { ArgumentRangeError, ArgumentTypeError } from '../util/argument-errors.ts';
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
export const SEALED_ENVELOPE_VERSION = 2;
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
/** Size of the franking commitment carried in clear in the envelope (PROTOCOL.md §11). */
export const FRANKING_COMMITMENT_BYTES = 32;
/** Size of the key that opens a franking commitment. */
export const FRANKING_OPENING_KEY_BYTES = 32;
/** Size of an asymmetric franking signature (PROTOCOL.md §11.3). */
export const FRANKING_SIGNATURE_BYTES = 304;
/** Size of a franking session key (an Ed25519 public key, PROTOCOL.md §11.3.2). */
export const FRANKING_SESSION_KEY_BYTES = 32;
/** Size of the session key's Ed25519 signature on one message (PROTOCOL.md §11.3.2). */
export const FRANKING_MESSAGE_SIGNATURE_BYTES = 64;
/** The authenticated clear prefix of an envelope (version, commitment): the inner AEAD's AAD. */
export const SEALED_PREFIX_BYTES = 1 + FRANKING_COMMITMENT_BYTES;
/** Bytes before `encInner`: version, commitment, ephemeral key, encrypted static key. */
export const SEALED_HEADER_BYTES = SEALED_PREFIX_BYTES + KEY_BYTES + SEALED_STATIC_BYTES;
/**
 * The franking block of the inner content: opening key, session key, the session's franking
 * signature, the message signature (432 bytes). The moderator key is not named: the receiver
 * finds the accepted key the session verifies under (PROTOCOL.md §11.5).
 */
const FRANKING_BLOCK_BYTES =
  FRANKING_OPENING_KEY_BYTES +
  FRANKING_SESSION_KEY_BYTES +
  FRANKING_SIGNATURE_BYTES +
  FRANKING_MESSAGE_SIGNATURE_BYTES;
/**
 * Inner bytes other than the certificate, message and padding: type, var16 length, franking
 * block, u32 length.
 */
const INNER_FIXED_BYTES = 1 + 2 + FRANKING_BLOCK_BYTES + 4;

/**
 * Largest wrapped message: a prekey message carrying a maximal (96 KiB) plaintext,
 * 98,304 + 1,785 (prekey fields) + 57 (ratchet header and tag) = 100,146 bytes.
 */
export const MAX_SEALED_MESSAGE_BYTES = MAX_PREKEY_MESSAGE_BYTES;
/**
 * Largest envelope accepted (128 KiB). The largest envelope a sender can produce is
 * 102,529 bytes (maximal certificate and message, Padmé-rounded), so this leaves headroom and
 * still lets a receiver or the service reject oversized input before any cryptography.
 */
export const MAX_SEALED_ENVELOPE_BYTES = 128 * 1024;
/** Smallest possible `encInner`: an empty inner header and the tag. */
const MIN_ENC_INNER_BYTES = INNER_FIXED_BYTES + TAG_BYTES;

/** The three parts of a sealed envelope, still encrypted. */
export interface SealedEnvelope {
  /** The franking commitment to the plaintext (PROTOCOL.md §11), in clear for the service. */
  readonly commitment: Uint8Array;
  /** Ephemeral X25519 public key `E_pub`. */
  readonly ephemeralPublic: Uint8Array;
  /** Sender static key under the ephemeral-layer key (48 bytes). */
  readonly encryptedStatic: Uint8Array;
  /** Padded inner content under the static-layer key. */
  readonly encryptedInner: Uint8Array;
}

/** What the inner content carries for reporting (PROTOCOL.md §11.3). */
export interface SealedFranking {
  /** Opens the envelope's commitment to the plaintext. */
  readonly openingKey: Uint8Array;
  /** The franking session's Ed25519 public key (32 bytes). */
  readonly sessionKey: Uint8Array;
  /** The asymmetric franking signature over the session (304 bytes). */
  readonly signature: Uint8Array;
  /** The session key's Ed25519 signature over this message's franked message (64 bytes). */
  readonly messageSignature: Uint8Array;
}

/** The decrypted inner content of a sealed envelope. */
export interface SealedContent {
  /** 1 = prekey message, 2 = ratchet message. */
  readonly contentType: SealedContentType;
  /** Encoded sender certificate. */
  readonly senderCertificate: Uint8Array;
  /** The franking opening and signature (PROTOCOL.md §11). */
  readonly franking: SealedFranking;
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
 * const bytes = encodeSealedEnvelope({ commitment, ephemeralPublic, encryptedStatic, encryptedInner });
 * ```
 */
export function encodeSealedEnvelope(e: SealedEnvelope): Uint8Array {
  assertBytes(e.commitment, 'commitment', FRANKING_COMMITMENT_BYTES);
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
    .bytes(e.commitment)
    .bytes(e.ephemeralPublic)
    .bytes(e.encryptedStatic)
    .bytes(e.encryptedInner)
    .finish();
}

/**
 * Strictly decodes an envelope: size limit first (before any other work), then the version,
 * then the fixed-size parts.
 *
 * @throws UnsupportedVersionError if the version byte is not 2
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
  if (r.remaining < SEALED_HEADER_BYTES - 1 + MIN_ENC_INNER_BYTES) {
    throw new MalformedEnvelopeError('sealed envelope is truncated');
  }
  const commitment = r.bytes(FRANKING_COMMITMENT_BYTES);
  const ephemeralPublic = r.bytes(KEY_BYTES);
  const encryptedStatic = r.bytes(SEALED_STATIC_BYTES);
  const encryptedInner = r.rest();
  return { commitment, ephemeralPublic, encryptedStatic, encryptedInner };
}

/**
 * The franking commitment of an envelope as the service reads it: bytes 1..33 when the
 * version byte is 2 and the envelope is long enough to be one, else `undefined` (the service
 * stores envelopes it cannot parse further, and delivers them without a stamp).
 *
 * @example const commitment = envelopeCommitment(envelopeBytes);
 */
export function envelopeCommitment(bytes: Uint8Array): Uint8Array | undefined {
  if (bytes.length < SEALED_HEADER_BYTES + MIN_ENC_INNER_BYTES) return undefined;
  if (bytes.length > MAX_SEALED_ENVELOPE_BYTES) return undefined;
  if (bytes[0] !== SEALED_ENVELOPE_VERSION) return undefined;
  return bytes.subarray(1, SEALED_PREFIX_BYTES);
}

function checkContentType(t: unknown): asserts t is SealedContentType {
  if (t !== SEALED_CONTENT_PREKEY && t !== SEALED_CONTENT_RATCHET) {
    throw new ArgumentRangeError('contentType must be 1 (prekey) or 2 (ratchet)');
  }
}

/**
 * Encodes and pads the inner content: `contentType || var16(cert) || openingKey(32)
 * || sessionKey(32) || signature(304) || messageSignature(64) || u32 len || message`,
 * then zeros up to the Padmé length of that size.
 *
 * @throws ArgumentTypeError / RangeError on a bad content type, a certificate longer than
 *   `MAX_SENDER_CERTIFICATE_BYTES` or a message longer than {@link MAX_SEALED_MESSAGE_BYTES}
 * @example
 * ```ts
 * const inner = encodeSealedContent({ contentType: 2, senderCertificate, franking, message });
 * ```
 */
export function encodeSealedContent(c: SealedContent): Uint8Array {
  checkContentType(c.contentType);
  assertBytes(c.senderCertificate, 'senderCertificate');
  assertBytes(c.message, 'message');
  if (typeof c.franking !== 'object' || c.franking === null) {
    throw new ArgumentTypeError('franking must be an object');
  }
  assertBytes(c.franking.openingKey, 'franking.openingKey', FRANKING_OPENING_KEY_BYTES);
  assertBytes(c.franking.sessionKey, 'franking.sessionKey', FRANKING_SESSION_KEY_BYTES);
  assertBytes(c.franking.signature, 'franking.signature', FRANKING_SIGNATURE_BYTES);
  assertBytes(
    c.franking.messageSignature,
    'franking.messageSignature',
    FRANKING_MESSAGE_SIGNATURE_BYTES,
  );
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
    .bytes(c.franking.openingKey)
    .bytes(c.franking.sessionKey)
    .bytes(c.franking.signature)
    .bytes(c.franking.messageSignature)
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
  const openingKey = r.bytes(FRANKING_OPENING_KEY_BYTES);
  const sessionKey = r.bytes(FRANKING_SESSION_KEY_BYTES);
  const signature = r.bytes(FRANKING_SIGNATURE_BYTES);
  const messageSignature = r.bytes(FRANKING_MESSAGE_SIGNATURE_BYTES);
  const message = r.var32(MAX_SEALED_MESSAGE_BYTES);
  const unpadded = r.offset;
  if (bytes.length !== padmeLength(unpadded)) {
    throw new MalformedEnvelopeError('sealed content has wrong padding');
  }
  let nonZero = 0;
  for (let i = unpadded; i < bytes.length; i++) nonZero |= bytes[i]!;
  if (nonZero !== 0) throw new MalformedEnvelopeError('sealed content has wrong padding');
  return {
    contentType,
    senderCertificate,
    franking: { openingKey, sessionKey, signature, messageSignature },
    message,
  };
}
