/**
 * Encrypting an attachment (docs/PROTOCOL.md §10.4): the file, read as a stream of pieces of
 * any size, becomes the blob, emitted as the header and then one sealed chunk per read.
 * Pull-based with one chunk of read-ahead: when the consumer asks for chunk i, chunk i + 1 is
 * read and its sealing started before chunk i is hashed and emitted, so a backend that seals
 * off the main thread (Firefox's WebCrypto, Node's; Chromium's seals on the calling thread)
 * works while this thread hashes. An upload of any size holds about three chunks in memory (the
 * chunk being sealed, the sealed chunk being hashed and the one the consumer holds).
 */
import type { AesGcmCipher, CryptoBackend, Sha256Hasher } from '../crypto/backend.ts';
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

  let sealer: Sealer | undefined;
  /** The index of the next chunk to emit. */
  let next = 0;
  /** Chunk `next` being sealed, started by the previous read. */
  let sealing: Promise<Uint8Array> | undefined;
  /** Why reading ahead failed: raised by the next read, after the chunk before it went out. */
  let failure: { readonly error: unknown } | undefined;
  let done = false;
  const finish = () => {
    done = true;
    wipe(key, sealer?.plaintext);
  };
  /** After a read that ended once the stream was cancelled: leave no plaintext behind. */
  const stopped = () => {
    if (done) wipe(sealer?.plaintext);
    return done;
  };

  /**
   * Reads chunk `index` and starts sealing it. Full chunks are sealed straight from the source's
   * piece when it holds them; the last chunk's padding is zeros written after the file's bytes.
   * The cipher has what it needs once `seal` returns, so the buffer is free again at once.
   */
  async function readAndSeal(s: Sealer, index: number): Promise<{ sealed: Promise<Uint8Array> }> {
    const last = index === layout.chunkCount - 1;
    const buffer = s.plaintext.subarray(0, chunkPlaintextBytes(layout, index));
    const fileBytes = Math.max(0, Math.min(buffer.length, size - index * layout.chunkSize));
    let chunk: Uint8Array;
    if (fileBytes === buffer.length) {
      chunk = await input.read(buffer);
      if (chunk.length < buffer.length) throw new AttachmentSizeError(size);
    } else {
      if ((await input.fill(buffer.subarray(0, fileBytes))) < fileBytes) {
        throw new AttachmentSizeError(size);
      }
      // The buffer is reused: whatever is left of an earlier chunk's bytes must become zeros.
      buffer.fill(0, fileBytes);
      chunk = buffer;
    }
    // Read to the end before the final chunk goes out: a longer source yields no blob.
    if (last && (await input.hasMore())) throw new AttachmentSizeError(size);
    const sealed = s.cipher.seal(chunkNonce(index, last), chunk, s.header);
    // Awaited by the next read; nobody awaits it if the stream ends first.
    sealed.catch(() => undefined);
    return { sealed };
  }

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
          if (failure !== undefined) throw failure.error;
          const s = sealer;
          const index = next++;
          const last = index === layout.chunkCount - 1;
          const sealed = await (sealing ?? (await readAndSeal(s, index)).sealed);
          sealing = undefined;
          if (stopped()) return;
          if (!last) {
            // Read ahead one chunk and start sealing it before hashing this one (the module
            // comment). A failure there is raised on the next read, so the chunks before it
            // still go out, as they would without the read-ahead.
            try {
              sealing = (await readAndSeal(s, index + 1)).sealed;
            } catch (error) {
              failure = { error };
            }
            if (stopped()) return;
          }
          s.hasher.update(sealed);
          controller.enqueue(sealed);
          if (last) {
            finish();
            controller.close();
            resolveDigest(s.hasher.digest());
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
    // No queue: pull runs only when the consumer waits for a piece (the read-ahead is in pull).
    { highWaterMark: 0 },
  );
  return { layout, blob, digest };
}

interface Sealer {
  readonly cipher: AesGcmCipher;
  readonly header: Uint8Array;
  readonly hasher: Sha256Hasher;
  /** Room for one chunk's plaintext where the source's pieces do not hold it whole, reused. */
  readonly plaintext: Uint8Array;
}

/** Derives the keys, imports the cipher and starts the digest with the header. */
async function startSealer(
  backend: CryptoBackend,
  key: Uint8Array,
  layout: BlobLayout,
): Promise<Sealer> {
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
