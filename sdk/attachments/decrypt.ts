/**
 * Decrypting an attachment (docs/PROTOCOL.md §10.5). The blob arrives in pieces of any size
 * (network reads); the plaintext stream releases a chunk's bytes only after its tag verified,
 * and the final chunk's only after the blob ended where its layout says and its SHA-256 equals
 * the pointer's digest. Anything else errors the stream with a typed error instead of closing
 * it, so an app that sees `close` holds exactly the file the sender encrypted.
 */
import type { AesGcmCipher, CryptoBackend, Sha256Hasher } from '../crypto/backend.ts';
import {
  AttachmentCorruptError,
  AttachmentDigestMismatchError,
  AttachmentKeyMismatchError,
  DecryptError,
} from '../errors.ts';
import { assertBytes, constantTimeEqual, isAllZero, wipe } from '../util/bytes.ts';
import { type ByteStream, ExactReader } from './byte-source.ts';
import { assertAttachmentBackend, collect, once } from './encrypt.ts';
import { deriveAttachmentKeys } from './keys.ts';
import {
  ATTACHMENT_DIGEST_BYTES,
  ATTACHMENT_HEADER_BYTES,
  ATTACHMENT_KEY_BYTES,
  ATTACHMENT_TAG_BYTES,
  assertAttachmentSize,
  type BlobLayout,
  blobLayout,
  chunkNonce,
  chunkPlaintextBytes,
  parseAttachmentHeader,
} from './layout.ts';

/** What decryption needs from an attachment pointer. */
export interface AttachmentSecrets {
  /** The attachment key K. */
  readonly key: Uint8Array;
  /** SHA-256 of the whole blob. */
  readonly digest: Uint8Array;
  /** The file's size n. */
  readonly size: number;
}

/** Options of {@link decryptAttachment}. */
export interface DecryptAttachmentOptions {
  readonly backend: CryptoBackend;
}

interface Opener {
  readonly layout: BlobLayout;
  readonly cipher: AesGcmCipher;
  readonly header: Uint8Array;
  readonly hasher: Sha256Hasher;
  /** Room for one sealed chunk where the blob's pieces do not hold it whole, reused. */
  readonly sealed: Uint8Array;
}

/**
 * Decrypts and verifies a blob against its pointer; the stream yields only verified plaintext
 * (exactly `size` bytes in all) and errors otherwise:
 * {@link AttachmentKeyMismatchError} if the blob commits to another key,
 * {@link AttachmentCorruptError} for a bad header, a chunk that does not authenticate (tampered,
 * reordered, duplicated, swapped), a blob that is shorter or longer than its layout or non-zero
 * padding, {@link AttachmentDigestMismatchError} if everything verified but the blob is not the
 * one the pointer names (the final chunk is withheld). Pull-based: the blob is read only as the
 * plaintext is, and at most one sealed chunk is buffered. A source's own error passes through;
 * cancelling the plaintext stream cancels the blob.
 *
 * @throws {ArgumentTypeError | ArgumentRangeError} for a bad blob, key, digest, size or backend
 *   (synchronously)
 * @example
 * ```ts
 * const response = await fetch(download.url);
 * const plaintext = decryptAttachment(response.body!, pointer, { backend: defaultBackend });
 * await plaintext.pipeTo(fileWritable);
 * ```
 */
export function decryptAttachment(
  blob: ByteStream,
  pointer: AttachmentSecrets,
  options: DecryptAttachmentOptions,
): ReadableStream<Uint8Array> {
  const { size } = pointer;
  const { backend } = options;
  assertBytes(pointer.key, 'key', ATTACHMENT_KEY_BYTES);
  assertBytes(pointer.digest, 'digest', ATTACHMENT_DIGEST_BYTES);
  assertAttachmentSize(size);
  assertAttachmentBackend(backend);
  const input = new ExactReader(blob, 'blob');
  const key = pointer.key.slice();
  const digest = pointer.digest.slice();

  let opener: Opener | undefined;
  let next = 0;
  let done = false;
  const finish = () => {
    done = true;
    wipe(key);
  };

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          opener ??= await startOpener(input, backend, key, size);
          const { layout } = opener;
          // Chunks of padding alone release nothing: go on until there is plaintext or the end.
          for (;;) {
            const index = next++;
            const last = index === layout.chunkCount - 1;
            const plaintext = await openChunk(input, opener, index, last, size);
            if (done) {
              wipe(plaintext);
              return;
            }
            if (!last) {
              if (plaintext.length === 0) continue;
              controller.enqueue(plaintext);
              return;
            }
            if (await input.hasMore()) throw new AttachmentCorruptError();
            if (!constantTimeEqual(opener.hasher.digest(), digest)) {
              wipe(plaintext);
              throw new AttachmentDigestMismatchError();
            }
            finish();
            if (plaintext.length > 0) controller.enqueue(plaintext);
            controller.close();
            return;
          }
        } catch (error) {
          if (done) return;
          finish();
          controller.error(error);
          await input.cancel(error);
        }
      },
      async cancel(reason) {
        if (done) return;
        finish();
        await input.cancel(reason);
      },
    },
    // No read-ahead: the blob is read only while the consumer waits for plaintext.
    { highWaterMark: 0 },
  );
}

/** Reads and checks the header, derives the keys, checks the commitment, imports the cipher. */
async function startOpener(
  input: ExactReader,
  backend: CryptoBackend,
  key: Uint8Array,
  size: number,
): Promise<Opener> {
  const header = new Uint8Array(ATTACHMENT_HEADER_BYTES);
  if ((await input.fill(header)) < header.length) throw new AttachmentCorruptError();
  const { chunkSizeLog2, commitment } = parseAttachmentHeader(header);
  const keys = deriveAttachmentKeys(backend, key);
  try {
    if (!constantTimeEqual(keys.commitment, commitment)) throw new AttachmentKeyMismatchError();
    const layout = blobLayout(size, chunkSizeLog2);
    const cipher = await backend.aesGcmCipher(keys.encKey);
    const hasher = backend.sha256Hasher().update(header);
    const sealed = new Uint8Array(
      Math.min(layout.chunkSize, layout.paddedSize) + ATTACHMENT_TAG_BYTES,
    );
    return { layout, cipher, header, hasher, sealed };
  } finally {
    wipe(keys.encKey);
  }
}

/**
 * Reads, hashes and opens chunk `index`; returns its file bytes (its padding checked and cut).
 * STREAM: the nonce carries the chunk's position and whether it is the last, so a chunk moved,
 * repeated, dropped or presented as the end fails its tag (docs/PROTOCOL.md §10.4).
 */
async function openChunk(
  input: ExactReader,
  opener: Opener,
  index: number,
  last: boolean,
  size: number,
): Promise<Uint8Array> {
  const { layout } = opener;
  const length = chunkPlaintextBytes(layout, index);
  const sealed = await input.read(opener.sealed.subarray(0, length + ATTACHMENT_TAG_BYTES));
  if (sealed.length < length + ATTACHMENT_TAG_BYTES) throw new AttachmentCorruptError();
  // Start opening before hashing: the cipher has its input once `open` returns, and a backend
  // that decrypts off the main thread (Firefox's WebCrypto, Node's) works while this thread
  // hashes. The order changes nothing else: no plaintext goes out before its tag verified.
  const opening = opener.cipher.open(chunkNonce(index, last), sealed, opener.header);
  opener.hasher.update(sealed);
  let plaintext: Uint8Array;
  try {
    plaintext = await opening;
  } catch (error) {
    if (error instanceof DecryptError) throw new AttachmentCorruptError();
    throw error;
  }
  const fileBytes = Math.max(0, Math.min(length, size - index * layout.chunkSize));
  if (fileBytes === length) return plaintext;
  // One encoding per file: the padding after it is all zero (docs/PROTOCOL.md §10.2).
  const zero = isAllZero(plaintext.subarray(fileBytes));
  const file = zero ? plaintext.slice(0, fileBytes) : undefined;
  wipe(plaintext);
  if (file === undefined) throw new AttachmentCorruptError();
  return file;
}

/** Options of {@link decryptAttachmentBytes}. */
export interface DecryptAttachmentBytesOptions {
  readonly backend: CryptoBackend;
}

/**
 * Decrypts and verifies a whole blob held in memory: {@link decryptAttachment} collected into
 * one array of `pointer.size` bytes, with the same checks and errors.
 *
 * @throws {AttachmentKeyMismatchError | AttachmentCorruptError | AttachmentDigestMismatchError}
 *   as {@link decryptAttachment}
 * @throws {ArgumentTypeError | ArgumentRangeError} for a bad argument
 * @example const photo = await decryptAttachmentBytes(blob, pointer, { backend });
 */
export async function decryptAttachmentBytes(
  blob: Uint8Array,
  pointer: AttachmentSecrets,
  options: DecryptAttachmentBytesOptions,
): Promise<Uint8Array> {
  assertBytes(blob, 'blob');
  return collect(decryptAttachment(once(blob), pointer, options), pointer.size);
}
