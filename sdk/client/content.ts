/**
 * The client content frame: what the SDK client puts inside a Double Ratchet plaintext
 * (docs/SDK.md §Content frame). The protocol engine treats plaintext as opaque bytes; this frame
 * carries what the client needs end to end and the server must not see:
 *
 * ```
 * u8 version = 1 || u8 kind || u8 flags || senderAccessKey(16) || u64 sentAtMs
 *   || destinationAddressBytes(20)      (kind 2 only)
 *   || body                             (the rest)
 * ```
 *
 * - kind 1 = a message to the recipient; kind 2 = a sync transcript to the sender's own other
 *   devices of a message it sent to `destination`.
 * - flags bit 0 = the body is UTF-8 text; every other bit must be zero.
 * - `senderAccessKey` is the sending account's delivery access key, so the recipient can answer
 *   sealed (Signal shares its profile key the same way, inside encrypted content).
 */
import { MalformedEnvelopeError, UnsupportedVersionError } from '../errors.ts';
import { ArgumentRangeError } from '../util/argument-errors.ts';
import { assertBytes, ByteReader, ByteWriter } from '../util/bytes.ts';
import { ACCESS_KEY_BYTES } from '../wire/api/limits.ts';
import { ADDRESS_BYTES, addressFromBytes, addressToBytes } from '../wire/identity.ts';
import { MAX_PLAINTEXT_BYTES } from '../wire/messages.ts';

/** Version byte of the content frame. */
export const CONTENT_VERSION = 1;
/** A message to the recipient. */
export const CONTENT_KIND_MESSAGE = 1;
/** A copy of a sent message for the sender's own other devices. */
export const CONTENT_KIND_SYNC = 2;
const FLAG_TEXT = 0x01;
const FIXED_BYTES = 3 + ACCESS_KEY_BYTES + 8;
/** Largest body of one message: the protocol plaintext limit minus the largest frame header. */
export const MAX_MESSAGE_BYTES = MAX_PLAINTEXT_BYTES - FIXED_BYTES - ADDRESS_BYTES;

/** A decoded content frame. */
export interface Content {
  readonly kind: typeof CONTENT_KIND_MESSAGE | typeof CONTENT_KIND_SYNC;
  /** True when `body` is UTF-8 text (the app sent a string). */
  readonly text: boolean;
  readonly senderAccessKey: Uint8Array;
  readonly sentAt: number;
  /** The conversation's other party, for sync transcripts. */
  readonly destination?: string;
  readonly body: Uint8Array;
}

/**
 * Encodes a content frame.
 *
 * @example encodeContent({ kind: 1, text: true, senderAccessKey, sentAt: Date.now(), body })
 * @throws {RangeError} if the kind is unknown, the body is larger than {@link MAX_MESSAGE_BYTES},
 *   `sentAt` is not a u64, a sync frame has no destination or a message frame has one.
 * @throws {TypeError} if a byte field is not a `Uint8Array` or the destination is not an address.
 */
export function encodeContent(c: Content): Uint8Array {
  if (c.kind !== CONTENT_KIND_MESSAGE && c.kind !== CONTENT_KIND_SYNC) {
    throw new ArgumentRangeError('kind must be CONTENT_KIND_MESSAGE or CONTENT_KIND_SYNC');
  }
  // Only a sync frame carries a destination; dropping one silently would lose what the caller meant.
  if (c.kind === CONTENT_KIND_MESSAGE && c.destination !== undefined) {
    throw new ArgumentRangeError('only a sync frame has a destination');
  }
  assertBytes(c.senderAccessKey, 'senderAccessKey', ACCESS_KEY_BYTES);
  assertBytes(c.body, 'body');
  if (c.body.length > MAX_MESSAGE_BYTES) {
    throw new ArgumentRangeError(`message body must be at most ${MAX_MESSAGE_BYTES} bytes`);
  }
  const w = new ByteWriter(FIXED_BYTES + ADDRESS_BYTES + c.body.length)
    .u8(CONTENT_VERSION)
    .u8(c.kind)
    .u8(c.text ? FLAG_TEXT : 0)
    .bytes(c.senderAccessKey)
    .u64(c.sentAt);
  if (c.kind === CONTENT_KIND_SYNC) {
    if (c.destination === undefined)
      throw new ArgumentRangeError('a sync frame needs a destination');
    w.bytes(addressToBytes(c.destination));
  }
  return w.bytes(c.body).finish();
}

/**
 * Decodes a content frame strictly.
 *
 * @example const content = decodeContent(received.plaintext);
 * @throws {UnsupportedVersionError} on another version byte.
 * @throws {MalformedEnvelopeError} on an unknown kind or flag, or a truncated frame.
 */
export function decodeContent(bytes: Uint8Array): Content {
  const r = new ByteReader(bytes, 'content');
  const version = r.u8();
  if (version !== CONTENT_VERSION) throw new UnsupportedVersionError(version, 'content');
  const kind = r.u8();
  if (kind !== CONTENT_KIND_MESSAGE && kind !== CONTENT_KIND_SYNC) {
    throw new MalformedEnvelopeError('unknown content kind');
  }
  const flags = r.u8();
  if ((flags & ~FLAG_TEXT) !== 0) throw new MalformedEnvelopeError('unknown content flags');
  const senderAccessKey = r.bytes(ACCESS_KEY_BYTES);
  const sentAt = r.u64();
  const destination =
    kind === CONTENT_KIND_SYNC ? addressFromBytes(r.bytes(ADDRESS_BYTES)) : undefined;
  const body = r.rest();
  const base = { kind, text: (flags & FLAG_TEXT) !== 0, senderAccessKey, sentAt, body } as const;
  return destination === undefined ? base : { ...base, destination };
}
