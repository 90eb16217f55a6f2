/**
 * The byte layout of an encrypted attachment blob (docs/PROTOCOL.md §10.2-10.4): sizes, the
 * 34-byte header and the STREAM nonce of each chunk. Pure arithmetic and codecs, no
 * cryptography.
 *
 * ```
 * header  = u8 version (1) || u8 c || commitment (32)
 * nonce_i = 7 zero bytes || u32be(i) || u8(last ? 1 : 0)
 * blob    = header || sealed_0 || ... || sealed_{N-1}        sealed_i = ciphertext_i || tag_i
 * ```
 */
import { AttachmentCorruptError } from '../errors.ts';
import { ArgumentRangeError } from '../util/argument-errors.ts';
import { assertBytes, writeU32be } from '../util/bytes.ts';
import { padmeLength } from '../util/padding.ts';
import { ATTACHMENT_BLOB_LIMIT } from '../wire/api/limits.ts';

/** Version byte of the blob format. */
export const ATTACHMENT_VERSION = 1;
/** Bytes of an attachment key K (fresh and random per attachment). */
export const ATTACHMENT_KEY_BYTES = 32;
/** Bytes of a blob digest, SHA-256 of the whole blob. */
export const ATTACHMENT_DIGEST_BYTES = 32;
/** Bytes of the key commitment in the header. */
export const ATTACHMENT_COMMITMENT_BYTES = 32;
/** Bytes of the header: version, chunk size exponent, commitment. */
export const ATTACHMENT_HEADER_BYTES = 2 + ATTACHMENT_COMMITMENT_BYTES;
/** Bytes of the AES-GCM tag after each chunk's ciphertext. */
export const ATTACHMENT_TAG_BYTES = 16;
/** Smallest chunk size exponent: 64 KiB chunks. */
export const MIN_CHUNK_SIZE_LOG2 = 16;
/** Largest chunk size exponent: 4 MiB chunks. */
export const MAX_CHUNK_SIZE_LOG2 = 22;
/**
 * Default chunk size exponent: 256 KiB chunks, as fast as any larger size on every backend
 * (64 KiB ones were 13-17% slower), while a reader holds one sealed chunk and a writer about
 * two (docs/PROTOCOL.md §10.7).
 */
export const DEFAULT_CHUNK_SIZE_LOG2 = 18;
/**
 * Every file is padded to at least this many bytes, so small files (a sticker, a voice note of
 * a second) all look alike; above it Padmé rounds the size.
 */
export const ATTACHMENT_MIN_PADDED_BYTES = 1024;
/**
 * Largest file: 2^32 - 2^26 bytes (3.94 GiB), the largest size whose Padmé length fits a u32
 * (Padmé rounds sizes from 2^31 up to multiples of 2^26). Its blob (3.94 GiB and at most
 * 1 MiB of tags) stays under {@link ATTACHMENT_BLOB_LIMIT}; a deployment's own maximum is
 * usually far lower.
 */
export const MAX_ATTACHMENT_SIZE = 2 ** 32 - 2 ** 26;

/** The sizes of one attachment's blob. */
export interface BlobLayout {
  /** The file's size n in bytes. */
  readonly size: number;
  /** P = padmeLength(max(n, 1024)): the file and its zero padding. */
  readonly paddedSize: number;
  /** c: chunks hold 2^c plaintext bytes. */
  readonly chunkSizeLog2: number;
  /** C = 2^c. */
  readonly chunkSize: number;
  /** N = ceil(P / C). */
  readonly chunkCount: number;
  /** 34 + P + 16 N: what is uploaded, stored and downloaded. */
  readonly blobSize: number;
}

/** Throws unless `c` is an integer chunk size exponent in 16..22. */
export function assertChunkSizeLog2(c: number): void {
  if (!Number.isInteger(c) || c < MIN_CHUNK_SIZE_LOG2 || c > MAX_CHUNK_SIZE_LOG2) {
    throw new ArgumentRangeError(
      `chunkSizeLog2 must be an integer in ${MIN_CHUNK_SIZE_LOG2}..${MAX_CHUNK_SIZE_LOG2}`,
    );
  }
}

/** Throws unless `n` is an integer file size in 0..{@link MAX_ATTACHMENT_SIZE}. */
export function assertAttachmentSize(n: number, name = 'size'): void {
  if (!Number.isInteger(n) || n < 0 || n > MAX_ATTACHMENT_SIZE) {
    throw new ArgumentRangeError(`${name} must be an integer in 0..${MAX_ATTACHMENT_SIZE}`);
  }
}

/**
 * The blob layout of a file of `size` bytes in chunks of 2^`chunkSizeLog2` bytes. The blob size
 * is what `POST /v1/attachments` asks for; it depends on the file's size only through its Padmé
 * length, so the service learns about `log log n` bits of it.
 *
 * @param size - the file's size n, an integer in 0..{@link MAX_ATTACHMENT_SIZE}
 * @param chunkSizeLog2 - c in 16..22, default {@link DEFAULT_CHUNK_SIZE_LOG2}
 * @throws {ArgumentRangeError} if either is out of range
 * @example
 * ```ts
 * blobLayout(1_000_000);
 * // { size: 1000000, paddedSize: 1015808, chunkSizeLog2: 18, chunkSize: 262144,
 * //   chunkCount: 4, blobSize: 1015906 }
 * ```
 */
export function blobLayout(size: number, chunkSizeLog2 = DEFAULT_CHUNK_SIZE_LOG2): BlobLayout {
  assertAttachmentSize(size);
  assertChunkSizeLog2(chunkSizeLog2);
  const paddedSize = padmeLength(Math.max(size, ATTACHMENT_MIN_PADDED_BYTES));
  const chunkSize = 2 ** chunkSizeLog2;
  const chunkCount = Math.ceil(paddedSize / chunkSize);
  const blobSize = ATTACHMENT_HEADER_BYTES + paddedSize + ATTACHMENT_TAG_BYTES * chunkCount;
  // Unreachable for sizes up to MAX_ATTACHMENT_SIZE; kept so the limit cannot drift apart.
  if (blobSize > ATTACHMENT_BLOB_LIMIT) {
    throw new ArgumentRangeError(`the blob would pass ${ATTACHMENT_BLOB_LIMIT} bytes`);
  }
  return { size, paddedSize, chunkSizeLog2, chunkSize, chunkCount, blobSize };
}

/** Plaintext bytes (file and padding) of chunk `index`: C, or the rest of P for the last. */
export function chunkPlaintextBytes(layout: BlobLayout, index: number): number {
  return index === layout.chunkCount - 1
    ? layout.paddedSize - index * layout.chunkSize
    : layout.chunkSize;
}

/** The decoded header of a blob. */
export interface AttachmentHeader {
  readonly chunkSizeLog2: number;
  readonly commitment: Uint8Array;
}

/**
 * Encodes a blob header.
 *
 * @throws {ArgumentRangeError} for a chunk size exponent out of range or a commitment that is
 *   not 32 bytes
 * @example const header = encodeAttachmentHeader(18, commitment); // 34 bytes
 */
export function encodeAttachmentHeader(chunkSizeLog2: number, commitment: Uint8Array): Uint8Array {
  assertChunkSizeLog2(chunkSizeLog2);
  assertBytes(commitment, 'commitment', ATTACHMENT_COMMITMENT_BYTES);
  const out = new Uint8Array(ATTACHMENT_HEADER_BYTES);
  out[0] = ATTACHMENT_VERSION;
  out[1] = chunkSizeLog2;
  out.set(commitment, 2);
  return out;
}

/**
 * Parses the 34-byte header at the start of a blob. Nothing in it is authenticated yet: it is
 * the AAD of every chunk, so the first chunk that opens vouches for it.
 *
 * @throws {AttachmentCorruptError} for another length, an unknown version or a chunk size
 *   exponent outside 16..22
 * @example const { chunkSizeLog2, commitment } = parseAttachmentHeader(blob.subarray(0, 34));
 */
export function parseAttachmentHeader(bytes: Uint8Array): AttachmentHeader {
  assertBytes(bytes, 'header');
  if (bytes.length !== ATTACHMENT_HEADER_BYTES) {
    throw new AttachmentCorruptError('attachment header is truncated');
  }
  if (bytes[0] !== ATTACHMENT_VERSION) {
    throw new AttachmentCorruptError('unsupported attachment version');
  }
  const chunkSizeLog2 = bytes[1]!;
  if (chunkSizeLog2 < MIN_CHUNK_SIZE_LOG2 || chunkSizeLog2 > MAX_CHUNK_SIZE_LOG2) {
    throw new AttachmentCorruptError('attachment chunk size out of range');
  }
  return { chunkSizeLog2, commitment: bytes.slice(2) };
}

/**
 * The STREAM nonce of chunk `index` (Hoang, Reyhanitabar, Rogaway, Vizár, "Online
 * Authenticated-Encryption and its Nonce-Reuse Misuse-Resistance", CRYPTO 2015, §7):
 * 7 zero bytes || u32be(index) || u8(last). The counter fixes each chunk's position, the flag
 * which chunk ends the blob.
 *
 * @example chunkNonce(0, true) // 00000000000000 00000000 01
 */
export function chunkNonce(index: number, last: boolean): Uint8Array {
  const nonce = new Uint8Array(12);
  writeU32be(nonce, 7, index);
  nonce[11] = last ? 1 : 0;
  return nonce;
}
