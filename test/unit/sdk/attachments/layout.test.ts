/**
 * Blob layout arithmetic, header codec and STREAM nonces (docs/PROTOCOL.md §10.2-10.4).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ATTACHMENT_HEADER_BYTES,
  blobLayout,
  chunkNonce,
  DEFAULT_CHUNK_SIZE_LOG2,
  encodeAttachmentHeader,
  MAX_ATTACHMENT_SIZE,
  parseAttachmentHeader,
} from '#sdk/attachments/index.ts';
import { AttachmentCorruptError } from '#sdk/errors.ts';
import { ArgumentRangeError, ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import { toHex } from '#sdk/util/bytes.ts';
import { padmeLength } from '#sdk/util/padding.ts';
import { ATTACHMENT_BLOB_LIMIT } from '#sdk/wire/api/limits.ts';

describe('blobLayout', () => {
  it('pads to at least 1 KiB, then to the Padmé length, in chunks of 2^c', () => {
    expect(blobLayout(0, 16)).toEqual({
      size: 0,
      paddedSize: 1024,
      chunkSizeLog2: 16,
      chunkSize: 65536,
      chunkCount: 1,
      blobSize: 34 + 1024 + 16,
    });
    expect(blobLayout(1024, 16).blobSize).toBe(1074);
    expect(blobLayout(1025, 16).paddedSize).toBe(padmeLength(1025));
    // C + 1 bytes: Padmé rounds 65,537 to 67,584 (a multiple of 2^11): two chunks.
    expect(blobLayout(65537, 16)).toMatchObject({ paddedSize: 67584, chunkCount: 2 });
    expect(blobLayout(65537, 16).blobSize).toBe(34 + 67584 + 32);
    expect(blobLayout(1_000_000)).toEqual({
      size: 1_000_000,
      paddedSize: 1_015_808,
      chunkSizeLog2: 18,
      chunkSize: 262_144,
      chunkCount: 4,
      blobSize: 1_015_906,
    });
  });

  it('defaults to 256 KiB chunks', () => {
    expect(DEFAULT_CHUNK_SIZE_LOG2).toBe(18);
    expect(blobLayout(5).chunkSize).toBe(262_144);
  });

  it('holds for every size: blobSize = 34 + P + 16 N, N = ceil(P / C), and depends on n only through P', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: MAX_ATTACHMENT_SIZE }),
        fc.integer({ min: 16, max: 22 }),
        (n, c) => {
          const l = blobLayout(n, c);
          expect(l.paddedSize).toBe(padmeLength(Math.max(n, 1024)));
          expect(l.chunkCount).toBe(Math.ceil(l.paddedSize / 2 ** c));
          expect(l.blobSize).toBe(ATTACHMENT_HEADER_BYTES + l.paddedSize + 16 * l.chunkCount);
          expect(l.blobSize).toBeLessThanOrEqual(ATTACHMENT_BLOB_LIMIT);
          expect(blobLayout(l.paddedSize, c).blobSize).toBe(l.blobSize);
        },
      ),
    );
  });

  it('accepts files up to 2^32 - 2^26 bytes, whose blob stays under the 4 GiB limit', () => {
    const largest = blobLayout(MAX_ATTACHMENT_SIZE, 16);
    expect(largest.paddedSize).toBe(MAX_ATTACHMENT_SIZE);
    expect(largest.chunkCount).toBe(64_512);
    expect(largest.blobSize).toBe(34 + MAX_ATTACHMENT_SIZE + 16 * 64_512);
    expect(largest.blobSize).toBeLessThan(ATTACHMENT_BLOB_LIMIT);
    expect(() => blobLayout(MAX_ATTACHMENT_SIZE + 1)).toThrow(ArgumentRangeError);
  });

  it('refuses sizes and chunk sizes out of range', () => {
    for (const n of [-1, 1.5, Number.NaN, 2 ** 40]) {
      expect(() => blobLayout(n)).toThrow(ArgumentRangeError);
    }
    for (const c of [15, 23, 18.5, Number.NaN]) {
      expect(() => blobLayout(10, c)).toThrow(ArgumentRangeError);
    }
  });
});

describe('header', () => {
  const commitment = Uint8Array.from({ length: 32 }, (_, i) => i);

  it('is version 1, c, commitment: 34 bytes that parse back', () => {
    const header = encodeAttachmentHeader(18, commitment);
    expect(toHex(header)).toBe(`0112${toHex(commitment)}`);
    expect(parseAttachmentHeader(header)).toEqual({ chunkSizeLog2: 18, commitment });
  });

  it('refuses another version, a chunk size out of range and another length', () => {
    const header = encodeAttachmentHeader(16, commitment);
    const withByte = (i: number, v: number) => {
      const h = header.slice();
      h[i] = v;
      return h;
    };
    for (const bad of [
      withByte(0, 2),
      withByte(0, 0),
      withByte(1, 15),
      withByte(1, 23),
      header.subarray(0, 33),
      new Uint8Array([...header, 0]),
    ]) {
      expect(() => parseAttachmentHeader(bad)).toThrow(AttachmentCorruptError);
    }
  });

  it('checks its arguments when encoding', () => {
    expect(() => encodeAttachmentHeader(24, commitment)).toThrow(ArgumentRangeError);
    expect(() => encodeAttachmentHeader(16, commitment.subarray(1))).toThrow(ArgumentRangeError);
    expect(() => encodeAttachmentHeader(16, [1] as unknown as Uint8Array)).toThrow(
      ArgumentTypeError,
    );
  });
});

describe('chunkNonce', () => {
  it('is 7 zero bytes, the big-endian index and the last flag', () => {
    expect(toHex(chunkNonce(0, false))).toBe('000000000000000000000000');
    expect(toHex(chunkNonce(0, true))).toBe('000000000000000000000001');
    expect(toHex(chunkNonce(0x01020304, false))).toBe('000000000000000102030400');
    expect(toHex(chunkNonce(64_511, true))).toBe('000000000000000000fbff01');
  });
});
