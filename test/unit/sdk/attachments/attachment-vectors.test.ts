/**
 * Attachment known answers (test/vectors/attachment.json, docs/PROTOCOL.md §10.9) through every
 * crypto backend: derived keys, header, layout, every chunk's tag, the digest and the blob, and
 * the decryption of every valid blob; every invalid blob must fail with its error code.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  blobLayout,
  decryptAttachmentBytes,
  deriveAttachmentKeys,
  encryptAttachmentBytes,
} from '#sdk/attachments/index.ts';
import { SealpostError } from '#sdk/errors.ts';
import { concatBytes, fromHex, toHex, u32be, utf8 } from '#sdk/util/bytes.ts';
import { LABELS } from '#sdk/wire/labels.ts';
import { backends } from './helpers.ts';

interface ValidCase {
  name: string;
  key: string;
  size: number;
  chunkSizeLog2: number;
  plaintextSeed: string;
  plaintext?: string;
  plaintextSha256?: string;
  encKey: string;
  commitment: string;
  header: string;
  paddedSize: number;
  chunkCount: number;
  blobSize: number;
  tags: string[];
  digest: string;
  blob?: string;
}

interface InvalidCase {
  name: string;
  key: string;
  size: number;
  digest: string;
  blob: string;
  error: string;
}

const vectors = JSON.parse(
  readFileSync(new URL('../../../vectors/attachment.json', import.meta.url), 'utf8'),
) as { kdfInfo: string; valid: ValidCase[]; invalid: InvalidCase[] };

/** The documented plaintext stream: SHA-256(seed || u32be(0)) || SHA-256(seed || u32be(1)) || … */
function plaintextOf(c: ValidCase, sha256: (data: Uint8Array) => Uint8Array): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (let i = 0; i * 32 < c.size; i++)
    blocks.push(sha256(concatBytes(utf8(c.plaintextSeed), u32be(i))));
  return concatBytes(...blocks).subarray(0, c.size);
}

describe('attachment vectors (test/vectors/attachment.json)', () => {
  it('covers the documented cases', () => {
    expect(vectors.kdfInfo).toBe(new TextDecoder().decode(LABELS.ATTACHMENT));
    expect(vectors.kdfInfo).toBe('Sealpost attachment v1');
    expect(vectors.valid.map((c) => c.size)).toEqual([
      0, 1, 1000, 1024, 65_535, 65_536, 65_537, 200_000, 300_000,
    ]);
    expect(vectors.invalid.map((c) => c.error)).toContain('ATTACHMENT_DIGEST_MISMATCH');
    expect(vectors.invalid.length).toBeGreaterThanOrEqual(11);
    expect(backends.map((b) => b.name)).toEqual(['node', 'webcrypto', 'noble']);
  });

  describe.each(backends)('backend $name', (backend) => {
    it.each(vectors.valid.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      const key = fromHex(c.key);
      const plaintext = plaintextOf(c, (d) => backend.sha256(d));
      if (c.plaintext !== undefined) expect(toHex(plaintext)).toBe(c.plaintext);
      else expect(toHex(backend.sha256(plaintext))).toBe(c.plaintextSha256);

      const { encKey, commitment } = deriveAttachmentKeys(backend, key);
      expect(toHex(encKey)).toBe(c.encKey);
      expect(toHex(commitment)).toBe(c.commitment);
      expect(blobLayout(c.size, c.chunkSizeLog2)).toMatchObject({
        paddedSize: c.paddedSize,
        chunkCount: c.chunkCount,
        blobSize: c.blobSize,
      });

      const { blob, digest } = await encryptAttachmentBytes(plaintext, {
        key,
        backend,
        chunkSizeLog2: c.chunkSizeLog2,
      });
      expect(toHex(blob.subarray(0, 34))).toBe(c.header);
      const chunk = 2 ** c.chunkSizeLog2 + 16;
      const tags = c.tags.map((_, i) => {
        const end = Math.min(34 + (i + 1) * chunk, blob.length);
        return toHex(blob.subarray(end - 16, end));
      });
      expect(tags).toEqual(c.tags);
      expect(toHex(digest)).toBe(c.digest);
      expect(blob.length).toBe(c.blobSize);
      if (c.blob !== undefined) expect(toHex(blob)).toBe(c.blob);

      const opened = await decryptAttachmentBytes(
        blob,
        { key, digest: fromHex(c.digest), size: c.size },
        { backend },
      );
      expect(toHex(opened) === toHex(plaintext)).toBe(true);
    });

    it.each(vectors.invalid.map((c) => [c.name, c] as const))('invalid: %s', async (_name, c) => {
      const pointer = { key: fromHex(c.key), digest: fromHex(c.digest), size: c.size };
      const error = await decryptAttachmentBytes(fromHex(c.blob), pointer, { backend }).then(
        () => 'opened',
        (e: unknown) => (e instanceof SealpostError ? e.code : String(e)),
      );
      expect(error).toBe(c.error);
    });
  });
});
