/**
 * How the attachment cipher overlaps its work (sdk/attachments/encrypt.ts, decrypt.ts): the
 * encryptor starts sealing chunk i + 1 before it hashes chunk i and the decryptor starts opening
 * a chunk before it hashes it, so a backend that runs AES-GCM off the main thread works while
 * the main thread hashes; a failure found while reading ahead still comes after the chunks
 * before it; a seal still running when the blob is cancelled is dropped quietly; and the
 * source's pieces, which the cipher reads without copying where it can, are never written.
 */
import { describe, expect, it } from 'vitest';
import { ExactReader } from '#sdk/attachments/byte-source.ts';
import {
  blobLayout,
  decryptAttachment,
  encryptAttachment,
  encryptAttachmentBytes,
} from '#sdk/attachments/index.ts';
import type { AesGcmCipher, CryptoBackend } from '#sdk/crypto/backend.ts';
import { nodeBackend } from '#sdk/crypto/node-backend.ts';
import { toHex } from '#sdk/util/bytes.ts';
import { backends, C, C16, drain, keyOf, piecesOf, plaintextOf } from './helpers.ts';

/** The chunk index a STREAM nonce carries (docs/PROTOCOL.md §10.4). */
const indexOf = (nonce: Uint8Array) =>
  new DataView(nonce.buffer, nonce.byteOffset, nonce.byteLength).getUint32(7);

/**
 * nodeBackend, logging each AES-GCM call (when it is made, not when it ends) and each hash of
 * a chunk; its seals and opens end on a later macrotask, as an off-thread implementation's do.
 */
function recording(log: string[]): CryptoBackend {
  const later = <T>(value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), 1));
  return {
    ...nodeBackend,
    sha256Hasher() {
      const inner = nodeBackend.sha256Hasher();
      let updates = 0;
      const hasher = {
        update(data: Uint8Array) {
          // The first update is the header.
          if (updates++ > 0) log.push(`hash ${updates - 2}`);
          inner.update(data);
          return hasher;
        },
        digest: () => inner.digest(),
      };
      return hasher;
    },
    async aesGcmCipher(key) {
      const inner = await nodeBackend.aesGcmCipher(key);
      return {
        seal(nonce, plaintext, aad) {
          log.push(`seal ${indexOf(nonce)}`);
          return inner.seal(nonce, plaintext, aad).then(later);
        },
        open(nonce, sealed, aad) {
          log.push(`open ${indexOf(nonce)}`);
          return inner.open(nonce, sealed, aad).then(later);
        },
      };
    },
  };
}

describe('overlap', () => {
  it('encryption starts sealing the next chunk before it hashes the current one', async () => {
    const plaintext = plaintextOf(4 * C);
    const log: string[] = [];
    const encrypted = encryptAttachment(piecesOf(plaintext, [10_000]).iterable, {
      key: keyOf(1),
      size: plaintext.length,
      backend: recording(log),
      chunkSizeLog2: C16,
    });
    const out = await drain(encrypted.blob);
    expect(out.error).toBeUndefined();
    expect(log).toEqual([
      'seal 0',
      'seal 1',
      'hash 0',
      'seal 2',
      'hash 1',
      'seal 3',
      'hash 2',
      'hash 3',
    ]);
    // The same bytes as without the overlap.
    const reference = await encryptAttachmentBytes(plaintext, {
      key: keyOf(1),
      backend: nodeBackend,
      chunkSizeLog2: C16,
    });
    expect(toHex(out.bytes) === toHex(reference.blob)).toBe(true);
    expect(toHex(await encrypted.digest)).toBe(toHex(reference.digest));
  });

  it('decryption starts opening each chunk before it hashes it', async () => {
    const plaintext = plaintextOf(3 * C + 5);
    const key = keyOf(2);
    const { blob, digest } = await encryptAttachmentBytes(plaintext, {
      key,
      backend: nodeBackend,
      chunkSizeLog2: C16,
    });
    const log: string[] = [];
    const out = await drain(
      decryptAttachment(
        piecesOf(blob, [7_000]).iterable,
        { key, digest, size: plaintext.length },
        { backend: recording(log) },
      ),
    );
    expect(out.error).toBeUndefined();
    expect(toHex(out.bytes) === toHex(plaintext)).toBe(true);
    const chunks = blobLayout(plaintext.length, C16).chunkCount;
    expect(log).toEqual(
      Array.from({ length: chunks }, (_, i) => [`open ${i}`, `hash ${i}`]).flat(),
    );
  });
});

describe('reading ahead', () => {
  it('emits the chunks before a source failure found while reading ahead, then the failure', async () => {
    const failing = (async function* () {
      yield plaintextOf(2 * C + 10);
      throw new Error('disk gone');
    })();
    const encrypted = encryptAttachment(failing, {
      key: keyOf(1),
      size: 4 * C,
      backend: nodeBackend,
      chunkSizeLog2: C16,
    });
    const out = await drain(encrypted.blob);
    expect((out.error as Error).message).toBe('disk gone');
    // The header and the two whole chunks the source delivered; chunk 2 failed while read ahead.
    expect(out.pieces.map((p) => p.length)).toEqual([34, C + 16, C + 16]);
    await expect(encrypted.digest).rejects.toThrow('disk gone');
  });

  it('drops a seal still running when the blob is cancelled, without an unhandled rejection', async () => {
    let failSeal!: (error: Error) => void;
    const stalled: CryptoBackend = {
      ...nodeBackend,
      async aesGcmCipher(key) {
        const inner = await nodeBackend.aesGcmCipher(key);
        const cipher: AesGcmCipher = {
          seal(nonce, plaintext, aad) {
            if (indexOf(nonce) === 0) return inner.seal(nonce, plaintext, aad);
            return new Promise((_, reject) => {
              failSeal = reject;
            });
          },
          open: (nonce, sealed, aad) => inner.open(nonce, sealed, aad),
        };
        return cipher;
      },
    };
    const { iterable, handed } = piecesOf(plaintextOf(4 * C), [C]);
    const encrypted = encryptAttachment(iterable, {
      key: keyOf(1),
      size: 4 * C,
      backend: stalled,
      chunkSizeLog2: C16,
    });
    const reader = encrypted.blob.getReader();
    expect((await reader.read()).value?.length).toBe(34);
    expect((await reader.read()).value?.length).toBe(C + 16);
    // Chunk 1 is being sealed (read ahead) when the consumer stops.
    expect(handed.bytes).toBe(2 * C);
    await reader.cancel('user stopped');
    failSeal(new Error('platform failure after cancel'));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(handed.returned).toBe(true);
    await expect(encrypted.digest).rejects.toBe('user stopped');
  });
});

describe('the source’s pieces', () => {
  it.each(backends.map((b) => [b.name, b] as const))(
    'are read, never written, on encryption and decryption (%s)',
    async (_, backend) => {
      // Whole chunks within a piece are sealed from the piece itself; the last one is padded.
      const n = 3 * C + 100;
      const plaintext = plaintextOf(n, 5);
      const original = plaintext.slice();
      const key = keyOf(3);
      const encrypted = encryptAttachment(piecesOf(plaintext, [2 * C, C + 100]).iterable, {
        key,
        size: n,
        backend,
        chunkSizeLog2: C16,
      });
      const { bytes: blob, error } = await drain(encrypted.blob);
      expect(error).toBeUndefined();
      expect(toHex(plaintext) === toHex(original)).toBe(true);
      const blobCopy = blob.slice();
      const digest = await encrypted.digest;
      const out = await drain(
        decryptAttachment(
          piecesOf(blob, [blob.length]).iterable,
          { key, digest, size: n },
          { backend },
        ),
      );
      expect(out.error).toBeUndefined();
      expect(toHex(out.bytes) === toHex(original)).toBe(true);
      expect(toHex(blob) === toHex(blobCopy)).toBe(true);
    },
  );
});

describe('ExactReader.read', () => {
  async function* pieces(...sizes: number[]) {
    let value = 0;
    for (const size of sizes) {
      yield Uint8Array.from({ length: size }, () => value++ & 0xff);
    }
  }

  it('returns a view of the piece that holds the bytes, and copies across pieces', async () => {
    const source = pieces(10, 4, 6);
    let handed: Uint8Array | undefined;
    const spy = (async function* () {
      for await (const piece of source) {
        handed ??= piece;
        yield piece;
      }
    })();
    const reader = new ExactReader(spy, 'source');
    const scratch = new Uint8Array(8);
    const first = await reader.read(scratch.subarray(0, 6));
    expect([...first]).toEqual([0, 1, 2, 3, 4, 5]);
    expect(first.buffer).toBe(handed!.buffer); // a view: no copy
    const second = await reader.read(scratch.subarray(0, 8));
    expect([...second]).toEqual([6, 7, 8, 9, 10, 11, 12, 13]);
    expect(second.buffer).toBe(scratch.buffer); // spans two pieces: copied
    const rest = await reader.read(scratch);
    expect([...rest]).toEqual([14, 15, 16, 17, 18, 19]); // short only at the end
    expect((await reader.read(scratch)).length).toBe(0);
  });

  it('reads nothing from the source for zero bytes', async () => {
    const { iterable, handed } = piecesOf(new Uint8Array(100), [10]);
    const reader = new ExactReader(iterable, 'source');
    expect((await reader.read(new Uint8Array(0))).length).toBe(0);
    expect(handed.bytes).toBe(0);
  });
});
