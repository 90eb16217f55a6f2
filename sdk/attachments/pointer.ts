/**
 * The attachment pointer (docs/PROTOCOL.md §10.6): everything a recipient needs to fetch,
 * decrypt and show one attachment. It travels only inside an end-to-end encrypted message
 * (the client's content frame), never to the service in clear.
 *
 * ```
 * u8 version = 1 || id (16) || key (32) || digest (32) || u64 size || u8 flags
 *   || u8 contentTypeLen || contentType                  (ASCII `type/subtype`, 1..127)
 *   || [flags & 1] u16 fileNameLen || fileName          (UTF-8, 1..255 bytes)
 *   || [flags & 2] u32 width || u32 height
 *   || [flags & 4] u32 durationMs
 *   || [flags & 8] u16 thumbnailLen || thumbnail         (1..8192 bytes)
 * ```
 */
import { MalformedEnvelopeError, UnsupportedVersionError } from '../errors.ts';
import { ArgumentRangeError, ArgumentTypeError } from '../util/argument-errors.ts';
import {
  assertBytes,
  assertU32,
  ByteReader,
  ByteWriter,
  fromUtf8,
  toBase64Url,
  tryFromBase64Url,
  utf8,
} from '../util/bytes.ts';
import { ATTACHMENT_ID_BYTES } from '../wire/api/limits.ts';
import {
  ATTACHMENT_DIGEST_BYTES,
  ATTACHMENT_KEY_BYTES,
  assertAttachmentSize,
  MAX_ATTACHMENT_SIZE,
} from './layout.ts';

/** Version byte of the pointer. */
export const ATTACHMENT_POINTER_VERSION = 1;
/** Longest content type, in ASCII characters. */
export const MAX_CONTENT_TYPE_LENGTH = 127;
/** Longest file name, in UTF-8 bytes. */
export const MAX_FILE_NAME_BYTES = 255;
/** Largest thumbnail, in bytes. */
export const MAX_THUMBNAIL_BYTES = 8192;
/** Largest encoded pointer: every optional field present at its largest (8,681 bytes). */
export const MAX_ATTACHMENT_POINTER_BYTES =
  1 +
  ATTACHMENT_ID_BYTES +
  ATTACHMENT_KEY_BYTES +
  ATTACHMENT_DIGEST_BYTES +
  8 +
  1 +
  1 +
  MAX_CONTENT_TYPE_LENGTH +
  2 +
  MAX_FILE_NAME_BYTES +
  8 +
  4 +
  2 +
  MAX_THUMBNAIL_BYTES;

const FLAG_FILE_NAME = 1;
const FLAG_DIMENSIONS = 2;
const FLAG_DURATION = 4;
const FLAG_THUMBNAIL = 8;
const KNOWN_FLAGS = FLAG_FILE_NAME | FLAG_DIMENSIONS | FLAG_DURATION | FLAG_THUMBNAIL;

/**
 * A media type as RFC 6838 §4.2 restricts names, lower case, without parameters: one
 * encoding per type, and nothing a viewer could mistake for markup.
 */
const CONTENT_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/;

/** One attachment, as the sender describes it to the recipient. */
export interface AttachmentPointer {
  /** The service's id of the blob: base64url of 16 bytes (22 characters). */
  readonly id: string;
  /** The attachment key K (32 bytes). */
  readonly key: Uint8Array;
  /** SHA-256 of the whole blob (32 bytes). */
  readonly digest: Uint8Array;
  /** The file's size in bytes, 0..{@link MAX_ATTACHMENT_SIZE}. */
  readonly size: number;
  /** Media type, `type/subtype` in lower case (e.g. `image/jpeg`), 1..127 characters. */
  readonly contentType: string;
  /** The file's name: 1..255 UTF-8 bytes, no NUL or `/`, not `.` or `..`, no leading U+FEFF. */
  readonly fileName?: string;
  /** Pixel width of an image or video (with `height`). */
  readonly width?: number;
  /** Pixel height of an image or video (with `width`). */
  readonly height?: number;
  /** Length of audio or video in milliseconds. */
  readonly durationMs?: number;
  /** A small preview the sender chose (1..8192 bytes, any image format). */
  readonly thumbnail?: Uint8Array;
}

function idBytes(id: unknown): Uint8Array {
  if (typeof id !== 'string') throw new ArgumentTypeError('id must be a string');
  const bytes = tryFromBase64Url(id);
  if (bytes === undefined || bytes.length !== ATTACHMENT_ID_BYTES) {
    throw new ArgumentRangeError(`id must be base64url of ${ATTACHMENT_ID_BYTES} bytes`);
  }
  return bytes;
}

function isContentType(value: string): boolean {
  return value.length <= MAX_CONTENT_TYPE_LENGTH && CONTENT_TYPE.test(value);
}

/**
 * File names a recipient can save as they are: no path separator or parent reference. A
 * leading U+FEFF is refused because UTF-8 decoders drop it as a byte order mark, which would
 * give the name two encodings.
 */
function isFileName(value: string, bytes: Uint8Array): boolean {
  return (
    bytes.length >= 1 &&
    bytes.length <= MAX_FILE_NAME_BYTES &&
    !value.includes('\0') &&
    !value.includes('/') &&
    !value.startsWith('\uFEFF') &&
    value !== '.' &&
    value !== '..'
  );
}

/** Whether `value` has no lone surrogate, so that its UTF-8 encoding decodes back to it. */
function isWellFormed(value: string): boolean {
  return !/\p{Surrogate}/u.test(value);
}

/**
 * Encodes a pointer, checking every field first.
 *
 * @throws {ArgumentTypeError} for a field of the wrong type or a file name with a lone
 *   surrogate (not encodable as UTF-8)
 * @throws {ArgumentRangeError} for an id that is not base64url of 16 bytes, a key or digest
 *   that is not 32 bytes, a size out of range, a content type that is not a lower-case
 *   `type/subtype`, a file name outside the rules, only one of width and height, a number that
 *   is not a u32, or a thumbnail of 0 or more than 8192 bytes
 * @example
 * ```ts
 * const bytes = encodeAttachmentPointer({
 *   id, key, digest, size: file.size, contentType: 'image/jpeg', width: 1280, height: 960,
 * });
 * ```
 */
export function encodeAttachmentPointer(pointer: AttachmentPointer): Uint8Array {
  if (typeof pointer !== 'object' || pointer === null) {
    throw new ArgumentTypeError('pointer must be an object');
  }
  const id = idBytes(pointer.id);
  assertBytes(pointer.key, 'key', ATTACHMENT_KEY_BYTES);
  assertBytes(pointer.digest, 'digest', ATTACHMENT_DIGEST_BYTES);
  assertAttachmentSize(pointer.size);
  const { contentType, fileName, width, height, durationMs, thumbnail } = pointer;
  if (typeof contentType !== 'string') throw new ArgumentTypeError('contentType must be a string');
  if (!isContentType(contentType)) {
    throw new ArgumentRangeError(
      `contentType must be a lower-case type/subtype of at most ${MAX_CONTENT_TYPE_LENGTH} characters`,
    );
  }
  let flags = 0;
  let name: Uint8Array | undefined;
  if (fileName !== undefined) {
    if (typeof fileName !== 'string' || !isWellFormed(fileName)) {
      throw new ArgumentTypeError('fileName must be a well-formed string');
    }
    name = utf8(fileName);
    if (!isFileName(fileName, name)) {
      throw new ArgumentRangeError(
        `fileName must be 1..${MAX_FILE_NAME_BYTES} UTF-8 bytes without NUL or '/', and not '.' or '..'`,
      );
    }
    flags |= FLAG_FILE_NAME;
  }
  if ((width === undefined) !== (height === undefined)) {
    throw new ArgumentRangeError('width and height go together');
  }
  if (width !== undefined && height !== undefined) {
    assertU32(width, 'width');
    assertU32(height, 'height');
    flags |= FLAG_DIMENSIONS;
  }
  if (durationMs !== undefined) {
    assertU32(durationMs, 'durationMs');
    flags |= FLAG_DURATION;
  }
  if (thumbnail !== undefined) {
    assertBytes(thumbnail, 'thumbnail');
    if (thumbnail.length < 1 || thumbnail.length > MAX_THUMBNAIL_BYTES) {
      throw new ArgumentRangeError(`thumbnail must be 1..${MAX_THUMBNAIL_BYTES} bytes`);
    }
    flags |= FLAG_THUMBNAIL;
  }
  const w = new ByteWriter(256)
    .u8(ATTACHMENT_POINTER_VERSION)
    .bytes(id)
    .bytes(pointer.key)
    .bytes(pointer.digest)
    .u64(pointer.size)
    .u8(flags)
    .u8(contentType.length)
    .bytes(utf8(contentType));
  if (name !== undefined) w.var16(name);
  if (width !== undefined && height !== undefined) w.u32(width).u32(height);
  if (durationMs !== undefined) w.u32(durationMs);
  if (thumbnail !== undefined) w.var16(thumbnail);
  return w.finish();
}

/**
 * Decodes a pointer strictly: exact lengths, every field within its rules, no unknown flag,
 * no trailing byte, so each pointer has one encoding. The key, digest and thumbnail are
 * copies the caller owns.
 *
 * @throws {UnsupportedVersionError} for another version byte
 * @throws {MalformedEnvelopeError} for anything else that is not a valid pointer
 * @example const pointer = decodeAttachmentPointer(bytes);
 */
export function decodeAttachmentPointer(bytes: Uint8Array): AttachmentPointer {
  assertBytes(bytes, 'bytes');
  if (bytes.length > MAX_ATTACHMENT_POINTER_BYTES) {
    throw new MalformedEnvelopeError('attachment pointer is too long');
  }
  const r = new ByteReader(bytes, 'attachment pointer');
  const version = r.u8();
  if (version !== ATTACHMENT_POINTER_VERSION) {
    throw new UnsupportedVersionError(version, 'attachment pointer');
  }
  const id = toBase64Url(r.bytesView(ATTACHMENT_ID_BYTES));
  const key = r.bytes(ATTACHMENT_KEY_BYTES);
  const digest = r.bytes(ATTACHMENT_DIGEST_BYTES);
  const size = r.u64();
  if (size > MAX_ATTACHMENT_SIZE) throw new MalformedEnvelopeError('attachment size out of range');
  const flags = r.u8();
  if ((flags & ~KNOWN_FLAGS) !== 0) {
    throw new MalformedEnvelopeError('unknown attachment pointer flags');
  }
  const typeBytes = r.bytesView(r.u8());
  // Only ASCII passes the pattern, so the decoded string has one byte per character.
  const contentType = String.fromCharCode(...typeBytes);
  if (!isContentType(contentType)) throw new MalformedEnvelopeError('invalid content type');
  let pointer: AttachmentPointer = { id, key, digest, size, contentType };
  if (flags & FLAG_FILE_NAME) {
    const name = r.bytesView(r.u16());
    const fileName = fromUtf8(name);
    // fromUtf8 drops a leading byte order mark: such a name would not re-encode to its bytes.
    if (!isFileName(fileName, name) || utf8(fileName).length !== name.length) {
      throw new MalformedEnvelopeError('invalid file name');
    }
    pointer = { ...pointer, fileName };
  }
  if (flags & FLAG_DIMENSIONS) pointer = { ...pointer, width: r.u32(), height: r.u32() };
  if (flags & FLAG_DURATION) pointer = { ...pointer, durationMs: r.u32() };
  if (flags & FLAG_THUMBNAIL) {
    const thumbnail = r.var16(MAX_THUMBNAIL_BYTES);
    if (thumbnail.length === 0) throw new MalformedEnvelopeError('empty thumbnail');
    pointer = { ...pointer, thumbnail };
  }
  r.end();
  return pointer;
}
