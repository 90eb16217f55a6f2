/**
 * Decrypting a blob that is not what its pointer names (docs/PROTOCOL.md §10.5): every
 * tampering is a typed error, and the plaintext stream released nothing past the last chunk
 * that verified (and nothing of the final chunk unless the whole blob matched its digest).
 */
import { describe, expect, it } from 'vitest';
import {
  type AttachmentSecrets,
  chunkNonce,
  decryptAttachment,
  decryptAttachmentBytes,
  deriveAttachmentKeys,
  encodeAttachmentHeader,
  encryptAttachmentBytes,
} from '#sdk/attachments/index.ts';
import type { CryptoBackend } from '#sdk/crypto/backend.ts';
import { nodeBackend } from '#sdk/crypto/node-backend.ts';
import {
  AttachmentCorruptError,
  AttachmentDigestMismatchError,
  AttachmentKeyMismatchError,
  SealpostError,
} from '#sdk/errors.ts';
import { concatBytes, toHex } from '#sdk/util/bytes.ts';
import { backends, C, C16, drain, keyOf, piecesOf, plaintextOf } from './helpers.ts';

const H = 34;
const S = C + 16;
/** A file of exactly four full chunks: the final chunk has the size of the others. */
const N4 = 4 * C;
const plaintext = plaintextOf(N4, 12);
const key = keyOf(3);
const { blob, digest } = await encryptAttachmentBytes(plaintext, {
  key,
  backend: nodeBackend,
  chunkSizeLog2: C16,
});
const chunk = (i: number) => blob.subarray(H + i * S, H + (i + 1) * S);
const header = blob.subarray(0, H);

function flipped(at: number): Uint8Array {
  const out = blob.slice();
  out[at]! ^= 0x01;
  return out;
}

interface Case {
  readonly name: string;
  readonly blob: Uint8Array;
  readonly pointer?: Partial<AttachmentSecrets>;
  readonly error: new (...args: never[]) => SealpostError;
  /** Chunks whose plaintext was released (each verified) before the error. */
  readonly released: number;
}

const other = await encryptAttachmentBytes(plaintextOf(N4, 13), {
  key: keyOf(4),
  backend: nodeBackend,
  chunkSizeLog2: C16,
});
const truncatedAfter3 = blob.subarray(0, H + 3 * S);

const CASES: Case[] = [
  { name: 'version byte', blob: flipped(0), error: AttachmentCorruptError, released: 0 },
  // c = 17 is a valid exponent: the layout changes and the header (the AAD) no longer matches.
  { name: 'chunk size byte', blob: flipped(1), error: AttachmentCorruptError, released: 0 },
  { name: 'commitment byte', blob: flipped(20), error: AttachmentKeyMismatchError, released: 0 },
  { name: 'header only', blob: header, error: AttachmentCorruptError, released: 0 },
  {
    name: 'truncated header',
    blob: blob.subarray(0, 20),
    error: AttachmentCorruptError,
    released: 0,
  },
  { name: 'empty blob', blob: new Uint8Array(0), error: AttachmentCorruptError, released: 0 },
  {
    name: 'ciphertext byte of chunk 0',
    blob: flipped(H + 5),
    error: AttachmentCorruptError,
    released: 0,
  },
  {
    name: 'ciphertext byte of chunk 1',
    blob: flipped(H + S + 999),
    error: AttachmentCorruptError,
    released: 1,
  },
  {
    name: 'tag byte of chunk 2',
    blob: flipped(H + 3 * S - 1),
    error: AttachmentCorruptError,
    released: 2,
  },
  {
    name: 'byte of the final chunk',
    blob: flipped(H + 3 * S + 100),
    error: AttachmentCorruptError,
    released: 3,
  },
  {
    name: 'tag byte of the final chunk',
    blob: flipped(blob.length - 1),
    error: AttachmentCorruptError,
    released: 3,
  },
  {
    name: 'truncated mid chunk 1',
    blob: blob.subarray(0, H + S + 500),
    error: AttachmentCorruptError,
    released: 1,
  },
  {
    name: 'truncated at a chunk boundary',
    blob: truncatedAfter3,
    error: AttachmentCorruptError,
    released: 3,
  },
  {
    name: 'truncated mid final chunk',
    blob: blob.subarray(0, blob.length - 1),
    error: AttachmentCorruptError,
    released: 3,
  },
  {
    name: 'extended by a byte',
    blob: concatBytes(blob, new Uint8Array(1)),
    error: AttachmentCorruptError,
    released: 3,
  },
  {
    name: 'extended by a copy of the final chunk',
    blob: concatBytes(blob, chunk(3)),
    error: AttachmentCorruptError,
    released: 3,
  },
  {
    name: 'chunks 1 and 2 reordered',
    blob: concatBytes(header, chunk(0), chunk(2), chunk(1), chunk(3)),
    error: AttachmentCorruptError,
    released: 1,
  },
  {
    name: 'chunk 1 duplicated (inserted)',
    blob: concatBytes(header, chunk(0), chunk(1), chunk(1), chunk(2), chunk(3)),
    error: AttachmentCorruptError,
    released: 2,
  },
  {
    name: 'chunk 1 duplicated over chunk 2',
    blob: concatBytes(header, chunk(0), chunk(1), chunk(1), chunk(3)),
    error: AttachmentCorruptError,
    released: 2,
  },
  {
    name: 'final chunk swapped with chunk 2',
    blob: concatBytes(header, chunk(0), chunk(1), chunk(3), chunk(2)),
    error: AttachmentCorruptError,
    released: 2,
  },
  {
    name: 'chunk 0 of another attachment',
    blob: concatBytes(header, other.blob.subarray(H, H + S), chunk(1), chunk(2), chunk(3)),
    error: AttachmentCorruptError,
    released: 0,
  },
  {
    // Size and digest agree with the truncated blob: only the last flag of the nonce tells
    // that chunk 2 was not sealed as the end.
    name: 'dropped final chunk, pointer consistent with the rest',
    blob: truncatedAfter3,
    pointer: { size: 3 * C, digest: nodeBackend.sha256(truncatedAfter3) },
    error: AttachmentCorruptError,
    released: 2,
  },
  {
    name: 'wrong key',
    blob,
    pointer: { key: keyOf(5) },
    error: AttachmentKeyMismatchError,
    released: 0,
  },
  {
    name: 'another blob under another key',
    blob: other.blob,
    pointer: { digest: other.digest },
    error: AttachmentKeyMismatchError,
    released: 0,
  },
  {
    name: 'wrong digest',
    blob,
    pointer: { digest: new Uint8Array(32).fill(7) },
    error: AttachmentDigestMismatchError,
    released: 3,
  },
  // The pointer claims one byte less: the file's last byte would be padding, and it is not 0.
  {
    name: 'size one byte short',
    blob,
    pointer: { size: N4 - 1 },
    error: AttachmentCorruptError,
    released: 3,
  },
  // One byte more pads to another length: the blob is shorter than its layout.
  {
    name: 'size one byte long',
    blob,
    pointer: { size: N4 + 1 },
    error: AttachmentCorruptError,
    released: 3,
  },
];

/** The decrypted stream's outcome for a case, read in pieces of `pieceSize` bytes. */
async function attempt(backend: CryptoBackend, c: Case, pieceSize: number) {
  const pointer = { key, digest, size: N4, ...c.pointer };
  return drain(decryptAttachment(piecesOf(c.blob, [pieceSize]).iterable, pointer, { backend }));
}

describe.each(backends)('tampered blobs: $name', (backend) => {
  it('opens the untouched blob', async () => {
    const out = await attempt(
      backend,
      { name: 'intact', blob, error: SealpostError, released: 4 },
      10_000,
    );
    expect(out.error).toBeUndefined();
    expect(toHex(out.bytes) === toHex(plaintext)).toBe(true);
  });

  it.each(CASES.map((c) => [c.name, c] as const))(
    '%s: typed error, nothing unverified released',
    async (_n, c) => {
      for (const pieceSize of [S, 4_099]) {
        const out = await attempt(backend, c, pieceSize);
        expect(out.error).toBeInstanceOf(c.error);
        // What came out is the file's first chunks, exactly those that verified before the
        // failure (the final chunk never, since it waits for the end and the digest).
        expect(out.bytes.length).toBe(c.released * C);
        expect(toHex(out.bytes) === toHex(plaintext.subarray(0, out.bytes.length))).toBe(true);
      }
    },
  );

  it('the whole-buffer decryption raises the same errors', async () => {
    for (const c of CASES) {
      const pointer = { key, digest, size: N4, ...c.pointer };
      await expect(
        decryptAttachmentBytes(c.blob, pointer, { backend }),
        c.name,
      ).rejects.toBeInstanceOf(c.error);
    }
  });

  it('refuses non-zero padding, releasing no padding byte and nothing of the chunk that holds it', async () => {
    // Built by hand (docs/PROTOCOL.md §10.4) with padding bytes that are not zero: every tag
    // verifies and the digest matches, so only the padding rule rejects the blob.
    const n = C + 1; // P = 67,584: chunk 0 is file, chunk 1 holds 1 file byte and 2,047 padding
    const file = plaintextOf(n, 5);
    const { encKey, commitment } = deriveAttachmentKeys(backend, key);
    const head = encodeAttachmentHeader(C16, commitment);
    const cipher = await backend.aesGcmCipher(encKey);
    const second = new Uint8Array(2048);
    second[0] = file[C]!;
    second[2047] = 1;
    const forged = concatBytes(
      head,
      await cipher.seal(chunkNonce(0, false), file.subarray(0, C), head),
      await cipher.seal(chunkNonce(1, true), second, head),
    );
    const pointer = { key, digest: backend.sha256(forged), size: n };
    const out = await drain(
      decryptAttachment(piecesOf(forged, [777]).iterable, pointer, { backend }),
    );
    expect(out.error).toBeInstanceOf(AttachmentCorruptError);
    expect(toHex(out.bytes) === toHex(file.subarray(0, C))).toBe(true);
    // The same bytes with zero padding open: the check is the padding rule, nothing else.
    second[2047] = 0;
    const honest = concatBytes(
      head,
      await cipher.seal(chunkNonce(0, false), file.subarray(0, C), head),
      await cipher.seal(chunkNonce(1, true), second, head),
    );
    const opened = await decryptAttachmentBytes(
      honest,
      { ...pointer, digest: backend.sha256(honest) },
      { backend },
    );
    expect(toHex(opened) === toHex(file)).toBe(true);
  });
});

describe('error messages', () => {
  it('name no key, digest or plaintext bytes', async () => {
    const secrets = [toHex(key), toHex(digest), toHex(plaintext.subarray(0, 16))];
    for (const c of CASES) {
      const out = await attempt(nodeBackend, c, S);
      const text = `${(out.error as Error).message} ${String(out.error)}`;
      for (const secret of secrets) expect(text).not.toContain(secret);
    }
  });
});
