/**
 * Checks an {@link AttachmentInput} before anything is uploaded (docs/SDK.md §Attachments):
 * the data's kind and size, the size limit of the blob it becomes, and the metadata, by the
 * pointer codec itself (a placeholder pointer is encoded), so nothing the pointer would refuse
 * after an upload gets that far.
 */
import {
  ATTACHMENT_DIGEST_BYTES,
  ATTACHMENT_KEY_BYTES,
  type AttachmentPointer,
  type BlobLayout,
  blobLayout,
  encodeAttachmentPointer,
} from '../../attachments/index.ts';
import { ArgumentRangeError, ArgumentTypeError } from '../../util/argument-errors.ts';
import { ATTACHMENT_BLOB_LIMIT } from '../../wire/api/limits.ts';
import type { AttachmentInput } from './types.ts';

/** The content type of an input that names none. */
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/** A pointer's id before the service assigned one (16 zero bytes): encodes like any other. */
const PLACEHOLDER_ID = 'A'.repeat(22);

/** The metadata of an attachment: everything of its pointer but id, key, digest and size. */
export type AttachmentMeta = Omit<AttachmentPointer, 'id' | 'key' | 'digest' | 'size'>;

/** A checked input. */
export interface PreparedInput {
  /** The file's size in bytes. */
  readonly size: number;
  readonly meta: AttachmentMeta;
  /** The blob it becomes (sizes of the padded, encrypted form). */
  readonly layout: BlobLayout;
  /**
   * The data from its start: a fresh read of bytes or a `Blob` each time; a stream only once
   * (a second call throws `ArgumentTypeError`).
   */
  open(): ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;
}

function isBlob(value: unknown): value is Blob {
  return typeof Blob !== 'undefined' && value instanceof Blob;
}

function isStream(value: unknown): value is ReadableStream<Uint8Array> {
  return typeof ReadableStream !== 'undefined' && value instanceof ReadableStream;
}

function optionalNumber(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number') throw new ArgumentTypeError(`${name} must be a number`);
  return value;
}

/**
 * The pointer an input will have once uploaded, with placeholder id, key and digest: the same
 * encoded length as the real one (id, key and digest are fixed-size), so a message's size can
 * be checked before any upload.
 *
 * @example attachmentSectionBytes([placeholderPointer(prepareInput(input))])
 */
export function placeholderPointer(prepared: PreparedInput): AttachmentPointer {
  return {
    ...prepared.meta,
    id: PLACEHOLDER_ID,
    key: new Uint8Array(ATTACHMENT_KEY_BYTES),
    digest: new Uint8Array(ATTACHMENT_DIGEST_BYTES),
    size: prepared.size,
  };
}

/**
 * Checks `input` and returns its size, metadata, blob layout and a way to read it.
 *
 * @example const { size, layout } = prepareInput({ data: bytes, contentType: 'image/png' });
 * @throws {ArgumentTypeError} if `input` or `data` has the wrong type, a stream is locked, or
 *   metadata has the wrong type or format.
 * @throws {ArgumentRangeError} if the size is missing (stream), differs from the data's, or
 *   makes a blob over the largest attachment; or metadata is out of range (a file name over
 *   255 bytes, a thumbnail over 8192 bytes, width without height, ...).
 */
export function prepareInput(input: AttachmentInput): PreparedInput {
  if (typeof input !== 'object' || input === null) {
    throw new ArgumentTypeError('attachment must be an object with data');
  }
  const data: unknown = input.data;
  const given = optionalNumber(input.size, 'attachment size');
  let size: number;
  let open: PreparedInput['open'];
  if (data instanceof Uint8Array) {
    size = data.length;
    open = () => single(data);
  } else if (isBlob(data)) {
    size = data.size;
    open = () => data.stream();
  } else if (isStream(data)) {
    if (given === undefined) throw new ArgumentRangeError('a stream attachment needs its size');
    if (data.locked) throw new ArgumentTypeError('attachment stream is locked');
    size = given;
    let opened = false;
    open = () => {
      if (opened) throw new ArgumentTypeError('a stream attachment can be read only once');
      opened = true;
      return data;
    };
  } else {
    throw new ArgumentTypeError('attachment data must be a Uint8Array, a Blob or a ReadableStream');
  }
  if (given !== undefined && given !== size) {
    throw new ArgumentRangeError(`attachment size ${given} differs from the data's ${size} bytes`);
  }
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new ArgumentRangeError('attachment size must be a non-negative integer');
  }
  const layout = layoutOf(size);
  const meta = metaOf(input);
  const prepared: PreparedInput = { size, meta, layout, open };
  // The pointer codec is the one judge of metadata; it runs now, not after the upload.
  encodeAttachmentPointer(placeholderPointer(prepared));
  return prepared;
}

function layoutOf(size: number): BlobLayout {
  let layout: BlobLayout;
  try {
    layout = blobLayout(size);
  } catch (cause) {
    throw new ArgumentRangeError('attachment is too large', { cause });
  }
  if (layout.blobSize > ATTACHMENT_BLOB_LIMIT) {
    throw new ArgumentRangeError(
      `attachment is too large: its blob would be ${layout.blobSize} bytes, at most ${ATTACHMENT_BLOB_LIMIT}`,
    );
  }
  return layout;
}

function metaOf(input: AttachmentInput): AttachmentMeta {
  const contentType: unknown = input.contentType ?? DEFAULT_CONTENT_TYPE;
  if (typeof contentType !== 'string') throw new ArgumentTypeError('contentType must be a string');
  if (input.fileName !== undefined && typeof input.fileName !== 'string') {
    throw new ArgumentTypeError('fileName must be a string');
  }
  const width = optionalNumber(input.width, 'width');
  const height = optionalNumber(input.height, 'height');
  if ((width === undefined) !== (height === undefined)) {
    throw new ArgumentRangeError('width and height must be given together');
  }
  const durationMs = optionalNumber(input.durationMs, 'durationMs');
  if (input.thumbnail !== undefined && !(input.thumbnail instanceof Uint8Array)) {
    throw new ArgumentTypeError('thumbnail must be a Uint8Array');
  }
  return {
    // Media types are case-insensitive (RFC 6838 §4.2); the pointer carries them lower-case.
    contentType: contentType.toLowerCase(),
    ...(input.fileName === undefined ? {} : { fileName: input.fileName }),
    ...(width === undefined ? {} : { width }),
    ...(height === undefined ? {} : { height }),
    ...(durationMs === undefined ? {} : { durationMs }),
    ...(input.thumbnail === undefined ? {} : { thumbnail: input.thumbnail }),
  };
}

async function* single(bytes: Uint8Array): AsyncGenerator<Uint8Array, void, undefined> {
  yield bytes;
}
