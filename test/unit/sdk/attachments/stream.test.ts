/**
 * Encrypting and decrypting attachments as streams (docs/PROTOCOL.md §10.4-10.5): round trips
 * over the sizes around every boundary, any input piece sizes, identical bytes on every
 * backend, the blob's emission shape, back-pressure, size mismatches, cancellation and argument
 * checks.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  blobLayout,
  decryptAttachment,
  decryptAttachmentBytes,
  encryptAttachment,
  encryptAttachmentBytes,
} from '#sdk/attachments/index.ts';
import { nodeBackend } from '#sdk/crypto/node-backend.ts';
import { AttachmentSizeError } from '#sdk/errors.ts';
import { ArgumentRangeError, ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import { toHex } from '#sdk/util/bytes.ts';
import { backends, C, C16, drain, keyOf, piecesOf, plaintextOf, webStreamOf } from './helpers.ts';

const SIZES = [0, 1, 1023, 1024, 1025, C - 1, C, C + 1, 3 * C + 12_345, 4 * C];
const backend = nodeBackend;

async function encryptInPieces(plaintext: Uint8Array, sizes: number[], key = keyOf(1)) {
  const { iterable } = piecesOf(plaintext, sizes);
  const encrypted = encryptAttachment(iterable, {
    key,
    size: plaintext.length,
    backend,
    chunkSizeLog2: C16,
  });
  const drained = await drain(encrypted.blob);
  expect(drained.error).toBeUndefined();
  return { ...drained, layout: encrypted.layout, digest: await encrypted.digest };
}

describe('round trips', () => {
  it.each(SIZES)(
    '%i bytes: decrypts to the file, in any piece sizes, on every backend',
    async (n) => {
      const plaintext = plaintextOf(n, n);
      const key = keyOf(n % 7);
      const blobs: string[] = [];
      for (const b of backends) {
        const { blob, digest } = await encryptAttachmentBytes(plaintext, {
          key,
          backend: b,
          chunkSizeLog2: C16,
        });
        expect(blob.length).toBe(blobLayout(n, C16).blobSize);
        expect(toHex(digest)).toBe(toHex(nodeBackend.sha256(blob)));
        blobs.push(toHex(blob));
        // Every backend opens every backend's blob, read in awkward pieces.
        for (const reader of backends) {
          const { iterable } = piecesOf(blob, [1, 33, 0, 65_551, 7_777]);
          const out = await drain(
            decryptAttachment(iterable, { key, digest, size: n }, { backend: reader }),
          );
          expect(out.error).toBeUndefined();
          expect(out.bytes.length).toBe(n);
          expect(toHex(out.bytes) === toHex(plaintext)).toBe(true);
        }
      }
      expect(new Set(blobs).size).toBe(1);
    },
  );

  it('gives the same blob for any input pieces, a web stream or an iterable', async () => {
    const plaintext = plaintextOf(3 * C + 12_345, 9);
    const whole = await encryptAttachmentBytes(plaintext, {
      key: keyOf(1),
      backend,
      chunkSizeLog2: C16,
    });
    for (const sizes of [[1], [C], [C + 1], [0, 17, C - 1, 3], [10 * C]]) {
      const { bytes, digest } = await encryptInPieces(plaintext, sizes);
      expect(toHex(bytes) === toHex(whole.blob)).toBe(true);
      expect(toHex(digest)).toBe(toHex(whole.digest));
    }
    const encrypted = encryptAttachment(webStreamOf(plaintext, 50_000), {
      key: keyOf(1),
      size: plaintext.length,
      backend,
      chunkSizeLog2: C16,
    });
    expect(toHex((await drain(encrypted.blob)).bytes) === toHex(whole.blob)).toBe(true);
    const back = await drain(
      decryptAttachment(
        webStreamOf(whole.blob, 4_096),
        { key: keyOf(1), digest: whole.digest, size: plaintext.length },
        { backend },
      ),
    );
    expect(toHex(back.bytes) === toHex(plaintext)).toBe(true);
  });

  it('round-trips random sizes, chunk sizes and piece sizes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 300_000 }),
        fc.constantFrom(16, 17),
        fc.array(fc.integer({ min: 0, max: 100_000 }), { minLength: 1, maxLength: 4 }),
        async (n, c, sizes) => {
          const plaintext = plaintextOf(n, c);
          const pieceSizes = sizes.some((s) => s > 0) ? sizes : [1];
          const encrypted = encryptAttachment(piecesOf(plaintext, pieceSizes).iterable, {
            key: keyOf(c),
            size: n,
            backend,
            chunkSizeLog2: c,
          });
          const blob = await drain(encrypted.blob);
          expect(blob.bytes.length).toBe(encrypted.layout.blobSize);
          const digest = await encrypted.digest;
          const out = await decryptAttachmentBytes(
            blob.bytes,
            { key: keyOf(c), digest, size: n },
            { backend },
          );
          expect(toHex(out) === toHex(plaintext)).toBe(true);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('skips chunks that hold only padding and still checks them', async () => {
    // 2^24 + 1 bytes pad to 2^24 + 2^19: the last seven 64 KiB chunks are padding alone.
    const n = 2 ** 24 + 1;
    const plaintext = plaintextOf(n, 3);
    const layout = blobLayout(n, C16);
    expect(layout.chunkCount - Math.ceil(n / C)).toBe(7);
    const { blob, digest } = await encryptAttachmentBytes(plaintext, {
      key: keyOf(2),
      backend,
      chunkSizeLog2: C16,
    });
    const out = await drain(
      decryptAttachment(
        piecesOf(blob, [C + 16]).iterable,
        { key: keyOf(2), digest, size: n },
        { backend },
      ),
    );
    expect(out.error).toBeUndefined();
    // One piece per chunk with file bytes; none for the padding-only chunks.
    expect(out.pieces.map((p) => p.length)).toEqual([...new Array(256).fill(C), 1]);
    expect(toHex(out.bytes.subarray(n - 64)) === toHex(plaintext.subarray(n - 64))).toBe(true);
  });
});

describe('blob stream', () => {
  it('emits the header, then one sealed chunk per read', async () => {
    const plaintext = plaintextOf(3 * C + 12_345);
    const { pieces, layout } = await encryptInPieces(plaintext, [1_000]);
    const last = layout.paddedSize - (layout.chunkCount - 1) * C;
    expect(pieces.map((p) => p.length)).toEqual([34, C + 16, C + 16, C + 16, last + 16]);
  });

  it('reads the source only as the consumer pulls: at most one chunk ahead', async () => {
    const plaintext = plaintextOf(4 * C);
    const { iterable, handed } = piecesOf(plaintext, [1_000]);
    const encrypted = encryptAttachment(iterable, {
      key: keyOf(1),
      size: plaintext.length,
      backend,
      chunkSizeLog2: C16,
    });
    const reader = encrypted.blob.getReader();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(handed.bytes).toBe(0);
    await reader.read(); // header
    expect(handed.bytes).toBe(0);
    for (let k = 1; k <= 3; k++) {
      await reader.read();
      // Chunk k - 1 went out; chunk k was read ahead to be sealed while k - 1 was hashed.
      expect(handed.bytes).toBeGreaterThanOrEqual(k * C);
      expect(handed.bytes).toBeLessThan((k + 1) * C + 1_000);
    }
    await reader.cancel();
  });

  it('decryption reads the blob only as the consumer pulls: at most one sealed chunk buffered', async () => {
    const plaintext = plaintextOf(4 * C);
    const { blob, digest } = await encryptAttachmentBytes(plaintext, {
      key: keyOf(1),
      backend,
      chunkSizeLog2: C16,
    });
    const { iterable, handed } = piecesOf(blob, [3_000]);
    const reader = decryptAttachment(
      iterable,
      { key: keyOf(1), digest, size: plaintext.length },
      { backend },
    ).getReader();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(handed.bytes).toBe(0);
    for (let k = 1; k <= 3; k++) {
      const { value } = await reader.read();
      expect(value?.length).toBe(C);
      const read = 34 + k * (C + 16);
      expect(handed.bytes).toBeGreaterThanOrEqual(read);
      expect(handed.bytes).toBeLessThan(read + 3_000);
    }
    await reader.cancel();
    expect(handed.returned).toBe(true);
  });

  it('fails with AttachmentSizeError on a short source, before the final chunk', async () => {
    const plaintext = plaintextOf(3 * C + 5);
    const encrypted = encryptAttachment(
      piecesOf(plaintext.subarray(0, 2 * C + 7), [4_096]).iterable,
      {
        key: keyOf(1),
        size: plaintext.length,
        backend,
        chunkSizeLog2: C16,
      },
    );
    const out = await drain(encrypted.blob);
    expect(out.error).toBeInstanceOf(AttachmentSizeError);
    expect((out.error as AttachmentSizeError).code).toBe('ATTACHMENT_SIZE_MISMATCH');
    expect((out.error as AttachmentSizeError).expected).toBe(plaintext.length);
    expect(out.pieces.map((p) => p.length)).toEqual([34, C + 16, C + 16]);
    await expect(encrypted.digest).rejects.toBe(out.error);
  });

  it('fails with AttachmentSizeError on a long source, without emitting the final chunk', async () => {
    for (const [n, extra] of [
      [3 * C, 1],
      [100, 1],
      [0, 5],
    ] as const) {
      const plaintext = plaintextOf(n + extra);
      const { iterable, handed } = piecesOf(plaintext, [n === 0 ? extra : n]);
      const encrypted = encryptAttachment(iterable, {
        key: keyOf(1),
        size: n,
        backend,
        chunkSizeLog2: C16,
      });
      const out = await drain(encrypted.blob);
      expect(out.error).toBeInstanceOf(AttachmentSizeError);
      expect(out.pieces.length).toBe(blobLayout(n, C16).chunkCount); // header + all but the last
      await expect(encrypted.digest).rejects.toBeInstanceOf(AttachmentSizeError);
      expect(handed.finished || handed.returned).toBe(true);
    }
  });

  it('passes a source failure through and cancels the source when the blob is cancelled', async () => {
    const failing = (async function* () {
      yield new Uint8Array(C + 10);
      throw new Error('disk gone');
    })();
    const encrypted = encryptAttachment(failing, {
      key: keyOf(1),
      size: 3 * C,
      backend,
      chunkSizeLog2: C16,
    });
    const out = await drain(encrypted.blob);
    expect((out.error as Error).message).toBe('disk gone');
    await expect(encrypted.digest).rejects.toThrow('disk gone');

    const { iterable, handed } = piecesOf(plaintextOf(4 * C), [1_000]);
    const cancelled = encryptAttachment(iterable, {
      key: keyOf(1),
      size: 4 * C,
      backend,
      chunkSizeLog2: C16,
    });
    const reader = cancelled.blob.getReader();
    await reader.read();
    await reader.read();
    await reader.cancel('user stopped');
    expect(handed.returned).toBe(true);
    await expect(cancelled.digest).rejects.toBe('user stopped');
  });

  it('errors the stream on a piece that is not a Uint8Array and on a locked source', async () => {
    const bad = async function* () {
      yield 'text' as unknown as Uint8Array;
    };
    const encrypted = encryptAttachment(bad(), { key: keyOf(1), size: 4, backend });
    expect((await drain(encrypted.blob)).error).toBeInstanceOf(ArgumentTypeError);
    const pointer = { key: keyOf(1), digest: new Uint8Array(32), size: 4 };
    const decrypted = decryptAttachment(bad(), pointer, { backend });
    expect((await drain(decrypted)).error).toBeInstanceOf(ArgumentTypeError);
    const locked = webStreamOf(new Uint8Array(4), 4);
    locked.getReader();
    const fromLocked = encryptAttachment(locked, { key: keyOf(1), size: 4, backend });
    expect((await drain(fromLocked.blob)).error).toBeInstanceOf(ArgumentTypeError);
  });
});

describe('arguments', () => {
  const source = () => piecesOf(new Uint8Array(10)).iterable;
  const pointer = { key: keyOf(1), digest: new Uint8Array(32), size: 10 };

  it('are checked synchronously, before anything is read', () => {
    expect(() =>
      encryptAttachment(source(), { key: new Uint8Array(31), size: 10, backend }),
    ).toThrow(ArgumentRangeError);
    expect(() => encryptAttachment(source(), { key: keyOf(1), size: -1, backend })).toThrow(
      ArgumentRangeError,
    );
    expect(() =>
      encryptAttachment(source(), { key: keyOf(1), size: 10, backend, chunkSizeLog2: 23 }),
    ).toThrow(ArgumentRangeError);
    expect(() => encryptAttachment('abc' as never, { key: keyOf(1), size: 10, backend })).toThrow(
      ArgumentTypeError,
    );
    expect(() =>
      encryptAttachment(source(), { key: keyOf(1), size: 10, backend: {} as never }),
    ).toThrow(ArgumentTypeError);
    expect(() =>
      decryptAttachment(source(), { ...pointer, key: new Uint8Array(16) }, { backend }),
    ).toThrow(ArgumentRangeError);
    expect(() =>
      decryptAttachment(source(), { ...pointer, digest: new Uint8Array(31) }, { backend }),
    ).toThrow(ArgumentRangeError);
    expect(() => decryptAttachment(source(), { ...pointer, size: 2 ** 33 }, { backend })).toThrow(
      ArgumentRangeError,
    );
    expect(() => decryptAttachment(42 as never, pointer, { backend })).toThrow(ArgumentTypeError);
  });

  it('are copied: wiping the key after the call changes nothing', async () => {
    const plaintext = plaintextOf(2 * C);
    const key = keyOf(4);
    const expected = await encryptAttachmentBytes(plaintext, {
      key: keyOf(4),
      backend,
      chunkSizeLog2: C16,
    });
    const encrypted = encryptAttachment(piecesOf(plaintext).iterable, {
      key,
      size: plaintext.length,
      backend,
      chunkSizeLog2: C16,
    });
    key.fill(0);
    expect(toHex((await drain(encrypted.blob)).bytes) === toHex(expected.blob)).toBe(true);
    const pointer = { key: keyOf(4), digest: expected.digest, size: plaintext.length };
    const stream = decryptAttachment(piecesOf(expected.blob).iterable, pointer, { backend });
    pointer.key.fill(0);
    pointer.digest.fill(0);
    expect(toHex((await drain(stream)).bytes) === toHex(plaintext)).toBe(true);
  });
});
