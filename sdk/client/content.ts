/**
 * The client content frame: what the SDK client puts inside a Double Ratchet plaintext
 * (docs/SDK.md §Content frame). The protocol engine treats plaintext as opaque bytes; this frame
 * carries what the client needs end to end and the server must not see:
 *
 * ```
 * u8 version = 1 || u8 kind || u8 flags || senderAccessKey(16) || u64 sentAtMs
 *   || destinationAddressBytes(20)                    (kind 2 only)
 *   || u8 count || count x (u16 len || pointer)       (flags bit 1 only; count 1..32)
 *   || body                                           (the rest)
 * ```
 *
 * - kind 1 = a message to the recipient; kind 2 = a sync transcript to the sender's own other
 *   devices of a message it sent to `destination`; kind 3 = a key update (docs/SDK.md, "Blocking
 *   and access keys"): no flags and an empty body, only `senderAccessKey` (the sender's new
 *   key) counts; never shown to the app, sent to contacts and to the own other devices alike.
 * - flags bit 0 = the body is UTF-8 text; bit 1 = the frame carries attachment pointers
 *   (docs/PROTOCOL.md §10: id, key, digest, size and metadata of each encrypted blob); every
 *   other bit must be zero.
 * - `senderAccessKey` is the sending account's delivery access key, so the recipient can answer
 *   sealed (Signal shares its profile key the same way, inside encrypted content).
 * - The whole frame of either kind fits {@link MAX_PLAINTEXT_BYTES}: the limit is checked as if
 *   every frame carried a destination, so a message that can be sent can also be copied to the
 *   own devices.
 */
import {
  type AttachmentPointer,
  decodeAttachmentPointer,
  encodeAttachmentPointer,
} from '../attachments/index.ts';
import { MalformedEnvelopeError, UnsupportedVersionError } from '../errors.ts';
import { ArgumentRangeError, ArgumentTypeError } from '../util/argument-errors.ts';
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
/** A key update: the sender's new access key, and nothing else. */
export const CONTENT_KIND_KEY_UPDATE = 3;
const FLAG_TEXT = 0x01;
const FLAG_ATTACHMENTS = 0x02;
const FIXED_BYTES = 3 + ACCESS_KEY_BYTES + 8;
/**
 * Largest body of one message without attachments: the protocol plaintext limit minus the
 * largest frame header. Attachment pointers take their encoded size (plus 2 bytes each and a
 * count byte) off it.
 */
export const MAX_MESSAGE_BYTES = MAX_PLAINTEXT_BYTES - FIXED_BYTES - ADDRESS_BYTES;
/** Most attachments one message carries. */
export const MAX_ATTACHMENTS = 32;

/** A decoded content frame. */
export interface Content {
  readonly kind:
    | typeof CONTENT_KIND_MESSAGE
    | typeof CONTENT_KIND_SYNC
    | typeof CONTENT_KIND_KEY_UPDATE;
  /** True when `body` is UTF-8 text (the app sent a string). */
  readonly text: boolean;
  readonly senderAccessKey: Uint8Array;
  readonly sentAt: number;
  /** The conversation's other party, for sync transcripts. */
  readonly destination?: string;
  /** Pointers to the message's encrypted attachments (1..32); absent when it has none. */
  readonly attachments?: readonly AttachmentPointer[];
  readonly body: Uint8Array;
}

/**
 * Encodes a content frame. An empty `attachments` list is the same as none.
 *
 * @example encodeContent({ kind: 1, text: true, senderAccessKey, sentAt: Date.now(), body })
 * @throws {RangeError} if the kind is unknown, the frame would pass {@link MAX_PLAINTEXT_BYTES}
 *   (a body over {@link MAX_MESSAGE_BYTES}, or body and attachment pointers together), there are
 *   more than {@link MAX_ATTACHMENTS} attachments or a pointer is invalid, `sentAt` is not a u64,
 *   a sync frame has no destination or a message frame has one, or a key update has a
 *   destination, text, attachments or a body.
 * @throws {TypeError} if a byte field is not a `Uint8Array` or the destination is not an address.
 */
export function encodeContent(c: Content): Uint8Array {
  if (!isContentKind(c.kind)) {
    throw new ArgumentRangeError(
      'kind must be CONTENT_KIND_MESSAGE, CONTENT_KIND_SYNC or CONTENT_KIND_KEY_UPDATE',
    );
  }
  // Only a sync frame carries a destination; dropping one silently would lose what the caller meant.
  if (c.kind !== CONTENT_KIND_SYNC && c.destination !== undefined) {
    throw new ArgumentRangeError('only a sync frame has a destination');
  }
  if (
    c.kind === CONTENT_KIND_KEY_UPDATE &&
    (c.text || c.body.length > 0 || (c.attachments !== undefined && c.attachments.length > 0))
  ) {
    throw new ArgumentRangeError('a key update carries no text, body or attachments');
  }
  assertBytes(c.senderAccessKey, 'senderAccessKey', ACCESS_KEY_BYTES);
  assertBytes(c.body, 'body');
  if (c.body.length > MAX_MESSAGE_BYTES) {
    throw new ArgumentRangeError(`message body must be at most ${MAX_MESSAGE_BYTES} bytes`);
  }
  const pointers = encodePointers(c.attachments);
  const attached = pointers.reduce((n, p) => n + 2 + p.length, pointers.length > 0 ? 1 : 0);
  // Checked with the destination whatever the kind: the sync copy of a message must fit too.
  const largest = FIXED_BYTES + ADDRESS_BYTES + attached + c.body.length;
  if (largest > MAX_PLAINTEXT_BYTES) {
    throw new ArgumentRangeError(
      `message body (${c.body.length} bytes) and attachment pointers (${attached} bytes) must fit in ${MAX_MESSAGE_BYTES} bytes`,
    );
  }
  const flags = (c.text ? FLAG_TEXT : 0) | (pointers.length > 0 ? FLAG_ATTACHMENTS : 0);
  const w = new ByteWriter(largest)
    .u8(CONTENT_VERSION)
    .u8(c.kind)
    .u8(flags)
    .bytes(c.senderAccessKey)
    .u64(c.sentAt);
  if (c.kind === CONTENT_KIND_SYNC) {
    if (c.destination === undefined)
      throw new ArgumentRangeError('a sync frame needs a destination');
    w.bytes(addressToBytes(c.destination));
  }
  if (pointers.length > 0) {
    w.u8(pointers.length);
    for (const p of pointers) w.var16(p);
  }
  return w.bytes(c.body).finish();
}

/**
 * The encoded size of a content frame's attachment section for `attachments` (0 for none): a
 * count byte and a length-prefixed pointer each. Lets a sender check that a message will fit
 * before it uploads anything.
 *
 * @example attachmentSectionBytes([pointer]) // 1 + 2 + encodeAttachmentPointer(pointer).length
 * @throws {RangeError | TypeError} as {@link encodeContent} for the attachments.
 */
export function attachmentSectionBytes(attachments: readonly AttachmentPointer[]): number {
  const pointers = encodePointers(attachments);
  return pointers.reduce((n, p) => n + 2 + p.length, pointers.length > 0 ? 1 : 0);
}

function encodePointers(attachments: readonly AttachmentPointer[] | undefined): Uint8Array[] {
  if (attachments === undefined) return [];
  if (!Array.isArray(attachments)) throw new ArgumentTypeError('attachments must be an array');
  if (attachments.length > MAX_ATTACHMENTS) {
    throw new ArgumentRangeError(`a message carries at most ${MAX_ATTACHMENTS} attachments`);
  }
  return attachments.map((a) => encodeAttachmentPointer(a));
}

/**
 * Decodes a content frame strictly.
 *
 * @example const content = decodeContent(received.plaintext);
 * @throws {UnsupportedVersionError} on another version byte (of the frame or of a pointer).
 * @throws {MalformedEnvelopeError} on an unknown kind or flag, a truncated frame, an attachment
 *   count outside 1..32, or an attachment pointer that does not decode exactly.
 */
export function decodeContent(bytes: Uint8Array): Content {
  const r = new ByteReader(bytes, 'content');
  const version = r.u8();
  if (version !== CONTENT_VERSION) throw new UnsupportedVersionError(version, 'content');
  const kind = r.u8();
  if (!isContentKind(kind)) throw new MalformedEnvelopeError('unknown content kind');
  const flags = r.u8();
  if ((flags & ~(FLAG_TEXT | FLAG_ATTACHMENTS)) !== 0) {
    throw new MalformedEnvelopeError('unknown content flags');
  }
  // One encoding only: a key update with flags or a body would be a second form of it.
  if (kind === CONTENT_KIND_KEY_UPDATE && (flags !== 0 || r.remaining !== 8 + ACCESS_KEY_BYTES)) {
    throw new MalformedEnvelopeError('a key update carries no flags and no body');
  }
  const senderAccessKey = r.bytes(ACCESS_KEY_BYTES);
  const sentAt = r.u64();
  const destination =
    kind === CONTENT_KIND_SYNC ? addressFromBytes(r.bytes(ADDRESS_BYTES)) : undefined;
  const attachments = (flags & FLAG_ATTACHMENTS) !== 0 ? decodePointers(r) : undefined;
  const body = r.rest();
  const base = { kind, text: (flags & FLAG_TEXT) !== 0, senderAccessKey, sentAt, body } as const;
  const withDestination = destination === undefined ? base : { ...base, destination };
  return attachments === undefined ? withDestination : { ...withDestination, attachments };
}

function isContentKind(kind: number): kind is Content['kind'] {
  return (
    kind === CONTENT_KIND_MESSAGE || kind === CONTENT_KIND_SYNC || kind === CONTENT_KIND_KEY_UPDATE
  );
}

function decodePointers(r: ByteReader): AttachmentPointer[] {
  const count = r.u8();
  // The flag promises at least one; an empty list would be a second encoding of "none".
  if (count === 0 || count > MAX_ATTACHMENTS) {
    throw new MalformedEnvelopeError('attachment count out of range');
  }
  const out: AttachmentPointer[] = [];
  for (let i = 0; i < count; i++) {
    const bytes = r.var16();
    try {
      out.push(decodeAttachmentPointer(bytes));
    } catch (cause) {
      // Whatever the pointer decoder raised, to the receiver it is one malformed frame.
      if (cause instanceof MalformedEnvelopeError || cause instanceof UnsupportedVersionError) {
        throw cause;
      }
      throw new MalformedEnvelopeError('malformed attachment pointer', { cause });
    }
  }
  return out;
}
