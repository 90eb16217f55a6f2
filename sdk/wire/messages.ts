/**
 * Wire codecs of the two session message types (docs/PROTOCOL.md §5.1): the Double
 * Ratchet message (`type 2`) and the prekey message (`type 1`) that carries the PQXDH
 * parameters in front of a ratchet message. Pure byte layouts, no cryptography.
 *
 * Decoders are strict (PROTOCOL.md §7): exact sizes, every length bounded, no trailing bytes, and
 * only `MalformedEnvelopeError` / `UnsupportedVersionError` for bad input. For speed on the
 * per-message path the decoded byte fields are views into the input (`subarray`), not copies:
 * copy what you keep beyond the input's lifetime.
 */
import { MalformedEnvelopeError, UnsupportedVersionError } from '../errors.ts';
import { ArgumentRangeError } from '../util/argument-errors.ts';
import { assertBytes, assertU32, readU32be, writeU32be } from '../util/bytes.ts';
import { IDENTITY_BUNDLE_BYTES } from './identity.ts';

/** Version byte of both message types. */
export const MESSAGE_VERSION = 1;
/** Largest plaintext one message may carry: 96 KiB, Signal's per-device content limit. */
export const MAX_PLAINTEXT_BYTES = 98_304;
/** X25519 ratchet public key in a ratchet message header. */
export const RATCHET_KEY_BYTES = 32;
/** `u8 version || ratchetPublic(32) || u32 PN || u32 N`: the bytes authenticated as header. */
export const RATCHET_HEADER_BYTES = 41;
/** Poly1305 tag that ends every ciphertext. */
export const MESSAGE_TAG_BYTES = 16;
/** Smallest ratchet message: header and a tag over an empty plaintext. */
export const MIN_RATCHET_MESSAGE_BYTES = RATCHET_HEADER_BYTES + MESSAGE_TAG_BYTES;
/** Largest ratchet message: header, the largest plaintext and its tag. */
export const MAX_RATCHET_MESSAGE_BYTES =
  RATCHET_HEADER_BYTES + MAX_PLAINTEXT_BYTES + MESSAGE_TAG_BYTES;
/** Device public identity (`IdentityBundle`, PROTOCOL.md §1), opaque at this layer. */
export { IDENTITY_BUNDLE_BYTES };
/** ML-KEM-1024 ciphertext (FIPS 203 Table 3). */
export const KEM_CIPHERTEXT_BYTES = 1568;
/** PQXDH ephemeral X25519 public key EK_A. */
export const BASE_KEY_BYTES = 32;
/** Fixed part of a prekey message before the embedded ratchet message. */
export const PREKEY_PREFIX_BYTES = 1 + IDENTITY_BUNDLE_BYTES + 12 + KEM_CIPHERTEXT_BYTES + 32;
/** Largest prekey message. */
export const MAX_PREKEY_MESSAGE_BYTES = PREKEY_PREFIX_BYTES + MAX_RATCHET_MESSAGE_BYTES;

/** Message types as they travel inside a sealed envelope (PROTOCOL.md §6 `contentType`). */
export const MESSAGE_TYPE_PREKEY = 1;
/** Plain Double Ratchet message. */
export const MESSAGE_TYPE_RATCHET = 2;
/** `1` prekey message, `2` ratchet message. */
export type MessageType = typeof MESSAGE_TYPE_PREKEY | typeof MESSAGE_TYPE_RATCHET;

/** A decoded Double Ratchet message (PROTOCOL.md §5). */
export interface RatchetMessage {
  /** Sender's current ratchet public key (32 bytes). */
  readonly ratchetKey: Uint8Array;
  /** PN: length of the sender's previous sending chain. */
  readonly previousCounter: number;
  /** N: index of this message in the sending chain. */
  readonly counter: number;
  /** ChaCha20-Poly1305 ciphertext and tag (at least 16 bytes). */
  readonly ciphertext: Uint8Array;
}

/** A decoded prekey message (PROTOCOL.md §5). */
export interface PrekeyMessage {
  /** Initiator's `IdentityBundle` (172 bytes), verified by the key agreement, not here. */
  readonly identity: Uint8Array;
  /** Responder's signed prekey id (never 0). */
  readonly signedPrekeyId: number;
  /** Responder's one-time prekey id, or 0 when none was used. */
  readonly oneTimePrekeyId: number;
  /** Responder's KEM prekey id (never 0). */
  readonly kemPrekeyId: number;
  /** ML-KEM-1024 ciphertext (1568 bytes). */
  readonly kemCiphertext: Uint8Array;
  /** Initiator's ephemeral EK_A (32 bytes). */
  readonly baseKey: Uint8Array;
  /** The embedded ratchet message, already checked to decode. */
  readonly message: Uint8Array;
}

/**
 * Writes the 41-byte ratchet header at `offset` of `target`. Used by the ratchet to build a
 * message and its AAD without intermediate copies.
 *
 * @throws {ArgumentRangeError} if a counter is not a u32 or `target` is too short.
 * @example
 * const header = new Uint8Array(RATCHET_HEADER_BYTES);
 * writeRatchetHeader(header, 0, ratchetPublic, 0, 7);
 */
export function writeRatchetHeader(
  target: Uint8Array,
  offset: number,
  ratchetKey: Uint8Array,
  previousCounter: number,
  counter: number,
): void {
  assertBytes(ratchetKey, 'ratchetKey', RATCHET_KEY_BYTES);
  assertU32(previousCounter, 'previousCounter');
  assertU32(counter, 'counter');
  if (offset < 0 || offset + RATCHET_HEADER_BYTES > target.length) {
    throw new ArgumentRangeError('target is too short for a ratchet header');
  }
  target[offset] = MESSAGE_VERSION;
  target.set(ratchetKey, offset + 1);
  writeU32be(target, offset + 33, previousCounter);
  writeU32be(target, offset + 37, counter);
}

/**
 * Encodes a ratchet message: `u8 version=1 || ratchetPublic(32) || u32 PN || u32 N || ciphertext`.
 *
 * @throws {ArgumentTypeError | ArgumentRangeError} on a wrong-sized field or a ciphertext outside 16..98,320 bytes.
 * @example
 * const bytes = encodeRatchetMessage({ ratchetKey, previousCounter: 0, counter: 0, ciphertext });
 */
export function encodeRatchetMessage(message: RatchetMessage): Uint8Array {
  assertBytes(message.ciphertext, 'ciphertext');
  const ctLength = message.ciphertext.length;
  if (ctLength < MESSAGE_TAG_BYTES || ctLength > MAX_PLAINTEXT_BYTES + MESSAGE_TAG_BYTES) {
    throw new ArgumentRangeError('ciphertext length out of range');
  }
  const out = new Uint8Array(RATCHET_HEADER_BYTES + ctLength);
  writeRatchetHeader(out, 0, message.ratchetKey, message.previousCounter, message.counter);
  out.set(message.ciphertext, RATCHET_HEADER_BYTES);
  return out;
}

/**
 * Decodes a ratchet message. Fields are views into `bytes`.
 *
 * @throws {UnsupportedVersionError} if the version byte is not 1.
 * @throws {MalformedEnvelopeError} if the size is outside 57..98,361 bytes.
 * @example
 * const { ratchetKey, counter, ciphertext } = decodeRatchetMessage(bytes);
 */
export function decodeRatchetMessage(bytes: Uint8Array): RatchetMessage {
  assertBytes(bytes, 'bytes');
  if (bytes.length === 0) throw new MalformedEnvelopeError('ratchet message is empty');
  if (bytes[0] !== MESSAGE_VERSION) throw new UnsupportedVersionError(bytes[0]!, 'message');
  if (bytes.length < MIN_RATCHET_MESSAGE_BYTES) {
    throw new MalformedEnvelopeError('ratchet message is truncated');
  }
  if (bytes.length > MAX_RATCHET_MESSAGE_BYTES) {
    throw new MalformedEnvelopeError('ratchet message is too long');
  }
  return {
    ratchetKey: bytes.subarray(1, 33),
    previousCounter: readU32be(bytes, 33),
    counter: readU32be(bytes, 37),
    ciphertext: bytes.subarray(RATCHET_HEADER_BYTES),
  };
}

/**
 * The 41 header bytes of an encoded ratchet message (a view), which the AEAD authenticates
 * after the session AD (PROTOCOL.md §5: `aad = AD || header`).
 *
 * @throws {MalformedEnvelopeError} if `bytes` is shorter than a header.
 * @example
 * const aadTail = ratchetMessageHeader(bytes);
 */
export function ratchetMessageHeader(bytes: Uint8Array): Uint8Array {
  assertBytes(bytes, 'bytes');
  if (bytes.length < RATCHET_HEADER_BYTES) {
    throw new MalformedEnvelopeError('ratchet message is truncated');
  }
  return bytes.subarray(0, RATCHET_HEADER_BYTES);
}

/**
 * Encodes a prekey message: `u8 version=1 || IdentityBundle_A(172) || u32 spkId || u32 opkId ||
 * u32 kemPrekeyId || kemCiphertext(1568) || baseKey(32) || ratchetMessage`.
 *
 * @throws {ArgumentTypeError | ArgumentRangeError} on a wrong-sized field, an id 0 where 0 is not allowed, or
 *   an embedded message outside the ratchet message size range.
 * @example
 * const body = encodePrekeyMessage({ identity, signedPrekeyId: 1, oneTimePrekeyId: 0,
 *   kemPrekeyId: 9, kemCiphertext, baseKey, message });
 */
export function encodePrekeyMessage(message: PrekeyMessage): Uint8Array {
  assertBytes(message.identity, 'identity', IDENTITY_BUNDLE_BYTES);
  assertBytes(message.kemCiphertext, 'kemCiphertext', KEM_CIPHERTEXT_BYTES);
  assertBytes(message.baseKey, 'baseKey', BASE_KEY_BYTES);
  assertBytes(message.message, 'message');
  assertU32(message.signedPrekeyId, 'signedPrekeyId');
  assertU32(message.oneTimePrekeyId, 'oneTimePrekeyId');
  assertU32(message.kemPrekeyId, 'kemPrekeyId');
  if (message.signedPrekeyId === 0) throw new ArgumentRangeError('signedPrekeyId must not be 0');
  if (message.kemPrekeyId === 0) throw new ArgumentRangeError('kemPrekeyId must not be 0');
  const inner = message.message.length;
  if (inner < MIN_RATCHET_MESSAGE_BYTES || inner > MAX_RATCHET_MESSAGE_BYTES) {
    throw new ArgumentRangeError('embedded ratchet message length out of range');
  }
  const out = new Uint8Array(PREKEY_PREFIX_BYTES + inner);
  out[0] = MESSAGE_VERSION;
  let o = 1;
  out.set(message.identity, o);
  o += IDENTITY_BUNDLE_BYTES;
  writeU32be(out, o, message.signedPrekeyId);
  writeU32be(out, o + 4, message.oneTimePrekeyId);
  writeU32be(out, o + 8, message.kemPrekeyId);
  o += 12;
  out.set(message.kemCiphertext, o);
  o += KEM_CIPHERTEXT_BYTES;
  out.set(message.baseKey, o);
  o += BASE_KEY_BYTES;
  out.set(message.message, o);
  return out;
}

/**
 * Decodes a prekey message and checks that the embedded ratchet message decodes too. Fields
 * are views into `bytes`.
 *
 * @throws {UnsupportedVersionError} if either version byte is not 1.
 * @throws {MalformedEnvelopeError} on a wrong size or a zero signed/KEM prekey id.
 * @example
 * const { baseKey, signedPrekeyId, message } = decodePrekeyMessage(body);
 */
export function decodePrekeyMessage(bytes: Uint8Array): PrekeyMessage {
  assertBytes(bytes, 'bytes');
  if (bytes.length === 0) throw new MalformedEnvelopeError('prekey message is empty');
  if (bytes[0] !== MESSAGE_VERSION) throw new UnsupportedVersionError(bytes[0]!, 'message');
  if (bytes.length < PREKEY_PREFIX_BYTES + MIN_RATCHET_MESSAGE_BYTES) {
    throw new MalformedEnvelopeError('prekey message is truncated');
  }
  if (bytes.length > MAX_PREKEY_MESSAGE_BYTES) {
    throw new MalformedEnvelopeError('prekey message is too long');
  }
  let o = 1;
  const identity = bytes.subarray(o, o + IDENTITY_BUNDLE_BYTES);
  o += IDENTITY_BUNDLE_BYTES;
  const signedPrekeyId = readU32be(bytes, o);
  const oneTimePrekeyId = readU32be(bytes, o + 4);
  const kemPrekeyId = readU32be(bytes, o + 8);
  o += 12;
  // PROTOCOL.md §3: ids are never 0; 0 only means "no one-time prekey".
  if (signedPrekeyId === 0 || kemPrekeyId === 0) {
    throw new MalformedEnvelopeError('prekey message names prekey id 0');
  }
  const kemCiphertext = bytes.subarray(o, o + KEM_CIPHERTEXT_BYTES);
  o += KEM_CIPHERTEXT_BYTES;
  const baseKey = bytes.subarray(o, o + BASE_KEY_BYTES);
  o += BASE_KEY_BYTES;
  const message = bytes.subarray(o);
  decodeRatchetMessage(message);
  return {
    identity,
    signedPrekeyId,
    oneTimePrekeyId,
    kemPrekeyId,
    kemCiphertext,
    baseKey,
    message,
  };
}
