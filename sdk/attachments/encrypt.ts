/**
 * Encrypting an attachment (docs/PROTOCOL.md §10.4): the file, read as a stream of pieces of
 * any size, becomes the blob, emitted as the header and then one sealed chunk per read.
 * Pull-based: a chunk is read and sealed only when the consumer asks for the next one, so an
 * upload of any size holds about two chunks in memory (the plaintext being sealed and the
 * sealed chunk the consumer holds).
 */
import type { CryptoBackend } from '../crypto/backend.ts';
import { AttachmentSizeError } from '../errors.ts';
import { ArgumentTypeError } from '../util/argument-errors.ts';
import { assertBytes, wipe } from '../util/bytes.ts';
import { type ByteStream, ExactReader } from './byte-source.ts';
import { deriveAttachmentKeys } from './keys.ts';
import {
  ATTACHMENT_KEY_BYTES,
  type BlobLayout,
  blobLayout,
  chunkNonce,
  chunkPlaintextBytes,
  encodeAttachmentHeader,
} from './layout.ts';

/** Options of {@link encryptAttachment}. */
export interface EncryptAttachmentOptions {
  /** The attachment key K: 32 fresh random bytes, never reused for another file. */
  readonly key: Uint8Array;
  /** The exact number of bytes the source yields (the file's size n). */
  readonly size: number;
  readonly backend: CryptoBackend;
  /** c in 16..22: chunks of 2^c bytes. @default DEFAULT_CHUNK_SIZE_LOG2 (18, 256 KiB) */
  readonly chunkSizeLog2?: number;
}

/** What {@link encryptAttachment} returns. */
export interface EncryptedAttachment {
  /** The blob's sizes, known before anything is read: `blobSize` is what to upload. */
  readonly layout: BlobLayout;
  /** The blob: the 34-byte header, then one sealed chunk per piece. */
  readonly blob: ReadableStream<Uint8Array>;
  /**
   * SHA-256 of the blob, for the pointer. Resolves when the blob stream closes; rejects with
   * the stream's error if it fails or with the reason if it is cancelled.
   */
  readonly digest: Promise<Uint8Array>;
}

/** Throws `ArgumentTypeError` unless `backend` has what attachments need. */
export function assertAttachmentBackend(backend: unknown): asserts backend is CryptoBackend {
  const b = backend as Partial<CryptoBackend> | null | undefined;
  if (
    typeof b !== 'object' ||
    b === null ||
    typeof b.aesGcmCipher !== 'function' ||
    typeof b.hkdfSha256 !== 'function' ||
    typeof b.sha256Hasher !== 'function'
  ) {
    throw new ArgumentTypeError('backend must be a CryptoBackend');
  }
}

/**
 * Encrypts a plaintext stream of exactly `size` bytes into the blob stream. Key derivation and
 * the cipher's key import happen on the first read. A source that yields more or fewer than
 * `size` bytes errors the stream with {@link AttachmentSizeError} before the final chunk, so
 * no complete blob is ever emitted for it; cancelling the blob cancels the source.
 *
 * @throws {ArgumentTypeError | ArgumentRangeError} for a bad source, key, size, chunk size or
 *   backend (synchronously, before anything is read)
 * @example
 * ```ts
 * const key = systemRng(ATTACHMENT_KEY_BYTES);
 * const { layout, blob, digest } = encryptAttachment(file.stream(), {
 *   key,
 *   size: file.size,
 *   backend: defaultBackend,
 * });
 * await upload(blob, layout.blobSize);
 * const pointer = { id, key, digest: await digest, size: file.size, contentType: file.type };
 * ```
 */
export function encryptAttachment(
  source: ByteStream,
  options: EncryptAttachmentOptions,
): EncryptedAttachment {
  const { size, backend, chunkSizeLog2 } = options;
  assertBytes(options.key, 'key', ATTACHMENT_KEY_BYTES);
  assertAttachmentBackend(backend);
  const layout = blobLayout(size, chunkSizeLog2);
  const input = new ExactReader(source, 'source');
  const key = options.key.slice();

  let resolveDigest!: (digest: Uint8Array) => void;
  let rejectDigest!: (reason: unknown) => void;
  const digest = new Promise<Uint8Array>((resolve, reject) => {
    resolveDigest = resolve;
    rejectDigest = reject;
  });
  // Callers that only read the stream see its error there; no unhandled rejection besides.
  digest.catch(() => undefined);

  let sealer: Awaited<ReturnType<typeof startSealer>> | undefined;
  let next = 0;
  let done = false;
  const finish = () => {
    done = true;
    wipe(key, sealer?.plaintext);
  };

  const blob = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          if (sealer === undefined) {
            sealer = await startSealer(backend, key, layout);
            if (done) return;
            controller.enqueue(sealer.header);
            return;
          }
          const index = next++;
          const last = index === layout.chunkCount - 1;
          const chunk = sealer.plaintext.subarray(0, chunkPlaintextBytes(layout, index));
          const fileBytes = Math.max(0, Math.min(chunk.length, size - index * layout.chunkSize));
          if ((await input.fill(chunk.subarray(0, fileBytes))) < fileBytes) {
            throw new AttachmentSizeError(size);
          }
          // The buffer is reused: whatever is left of the last chunk's bytes must become zeros.
          chunk.fill(0, fileBytes);
          // Read to the end before the final chunk goes out: a longer source yields no blob.
          if (last && (await input.hasMore())) throw new AttachmentSizeError(size);
          const sealed = await sealer.cipher.seal(chunkNonce(index, last), chunk, sealer.header);
          if (done) return;
          sealer.hasher.update(sealed);
          controller.enqueue(sealed);
          if (last) {
            finish();
            controller.close();
            resolveDigest(sealer.hasher.digest());
          }
        } catch (error) {
          if (done) return;
          finish();
          rejectDigest(error);
          controller.error(error);
          await input.cancel(error);
        }
      },
      async cancel(reason) {
        if (done) return;
        finish();
        rejectDigest(reason);
        await input.cancel(reason);
      },
    },
    // No read-ahead: pull runs only when the consumer waits for a piece.
    { highWaterMark: 0 },
  );
  return { layout, blob, digest };
}

/** Derives the keys, imports the cipher and starts the digest with the header. */
async function startSealer(backend: CryptoBackend, key: Uint8Array, layout: BlobLayout) {
  const { encKey, commitment } = deriveAttachmentKeys(backend, key);
  try {
    const cipher = await backend.aesGcmCipher(encKey);
    const header = encodeAttachmentHeader(layout.chunkSizeLog2, commitment);
    const hasher = backend.sha256Hasher().update(header);
    const plaintext = new Uint8Array(Math.min(layout.chunkSize, layout.paddedSize));
    return { cipher, header, hasher, plaintext };
  } finally {
    wipe(encKey);
  }
}

/** Options of {@link encryptAttachmentBytes}. */
export interface EncryptAttachmentBytesOptions {
  /** The attachment key K: 32 fresh random bytes, never reused for another file. */
  readonly key: Uint8Array;
  readonly backend: CryptoBackend;
  /** c in 16..22. @default DEFAULT_CHUNK_SIZE_LOG2 */
  readonly chunkSizeLog2?: number;
}

/**
 * Encrypts a whole file held in memory: {@link encryptAttachment} collected into one array
 * (tests, small files).
 *
 * @throws {ArgumentTypeError | ArgumentRangeError} for a bad argument
 * @example const { blob, digest } = await encryptAttachmentBytes(photo, { key, backend });
 */
export async function encryptAttachmentBytes(
  plaintext: Uint8Array,
  options: EncryptAttachmentBytesOptions,
): Promise<{ blob: Uint8Array; digest: Uint8Array }> {
  assertBytes(plaintext, 'plaintext');
  const encrypted = encryptAttachment(once(plaintext), {
    key: options.key,
    size: plaintext.length,
    backend: options.backend,
    ...(options.chunkSizeLog2 === undefined ? {} : { chunkSizeLog2: options.chunkSizeLog2 }),
  });
  const blob = await collect(encrypted.blob, encrypted.layout.blobSize);
  return { blob, digest: await encrypted.digest };
}

/** An async iterable of one piece. */
export async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/** Reads a stream of known total length into one array. */
export async function collect(stream: ReadableStream<Uint8Array>, length: number) {
  const out = new Uint8Array(length);
  const reader = stream.getReader();
  let offset = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    out.set(value, offset);
    offset += value.length;
  }
  return out;
}
