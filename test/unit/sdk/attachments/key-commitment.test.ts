/**
 * Why the header carries a key commitment (docs/PROTOCOL.md §10.3). AES-GCM is not committing:
 * knowing two keys, anyone can solve one linear equation over GF(2^128) for a ciphertext block
 * that makes a single ciphertext and tag authenticate under both ("invisible salamanders",
 * Dodis, Grubbs, Ristenpart, Woodage, CRYPTO 2018; Albertini et al., USENIX Security 2022).
 * The test builds such a single-chunk blob for the encryption keys of two attachment keys K1
 * and K2, shows that raw AES-GCM opens it under both, and that `decryptAttachment` opens it
 * only under K1, whose commitment the header carries.
 */
import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  blobLayout,
  chunkNonce,
  decryptAttachmentBytes,
  deriveAttachmentKeys,
  encodeAttachmentHeader,
} from '#sdk/attachments/index.ts';
import { AttachmentKeyMismatchError } from '#sdk/errors.ts';
import { concatBytes, toHex } from '#sdk/util/bytes.ts';
import { backends, C16, keyOf, plaintextOf } from './helpers.ts';

// GF(2^128) in GCM's bit order (NIST SP 800-38D §6.3): bit 0 of a block is the most
// significant bit of its first byte, stored here as the most significant bit of a bigint, and
// the field polynomial is x^128 + x^7 + x^2 + x + 1 (R = 11100001 || 0^120).
const R = 0xe1n << 120n;
const ONE = 1n << 127n;

function mul(x: bigint, y: bigint): bigint {
  let z = 0n;
  let v = y;
  for (let i = 127n; i >= 0n; i--) {
    if ((x >> i) & 1n) z ^= v;
    v = v & 1n ? (v >> 1n) ^ R : v >> 1n;
  }
  return z;
}

function pow(x: bigint, e: bigint): bigint {
  let result = ONE;
  let base = x;
  for (let k = e; k > 0n; k >>= 1n) {
    if (k & 1n) result = mul(result, base);
    base = mul(base, base);
  }
  return result;
}

/** x^-1 = x^(2^128 - 2): the multiplicative group has order 2^128 - 1. */
const inverse = (x: bigint) => pow(x, 2n ** 128n - 2n);

const toBig = (block: Uint8Array) => BigInt(`0x${toHex(block) || '0'}`);
const toBlock = (x: bigint) =>
  Uint8Array.from(x.toString(16).padStart(32, '0').match(/../g)!, (h) => Number.parseInt(h, 16));

/** The 16-byte blocks GHASH absorbs: AAD and ciphertext, each zero-padded, then both bit lengths. */
function ghashBlocks(aad: Uint8Array, ciphertext: Uint8Array): bigint[] {
  const padded = (b: Uint8Array) => concatBytes(b, new Uint8Array((16 - (b.length % 16)) % 16));
  const data = concatBytes(padded(aad), padded(ciphertext));
  const blocks: bigint[] = [];
  for (let i = 0; i < data.length; i += 16) blocks.push(toBig(data.subarray(i, i + 16)));
  blocks.push((BigInt(aad.length * 8) << 64n) | BigInt(ciphertext.length * 8));
  return blocks;
}

/** GHASH_H(X_1..X_m) = sum X_i * H^(m - i + 1) (SP 800-38D Alg. 2). */
function ghash(h: bigint, blocks: bigint[]): bigint {
  let y = 0n;
  for (const x of blocks) y = mul(y ^ x, h);
  return y;
}

/** One raw AES-256 block encryption (the test's own, independent of the SDK). */
function aesBlock(key: Uint8Array, block: Uint8Array): bigint {
  const cipher = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
  return toBig(new Uint8Array(cipher.update(block)));
}

describe('key commitment', () => {
  it('GHASH arithmetic here agrees with AES-GCM (the tag of a sealed chunk recomputed)', async () => {
    const encKey = keyOf(9);
    const nonce = chunkNonce(0, true);
    const aad = new Uint8Array(34).fill(3);
    const plaintext = plaintextOf(100);
    const sealed = await (await backends[0]!.aesGcmCipher(encKey)).seal(nonce, plaintext, aad);
    const h = aesBlock(encKey, new Uint8Array(16));
    const s = aesBlock(encKey, concatBytes(nonce, Uint8Array.of(0, 0, 0, 1)));
    const tag = ghash(h, ghashBlocks(aad, sealed.subarray(0, 100))) ^ s;
    expect(toHex(toBlock(tag))).toBe(toHex(sealed.subarray(100)));
    expect(mul(inverse(h), h)).toBe(ONE);
  });

  it('a chunk that authenticates under the GCM keys of K1 and K2 opens only under K1', async () => {
    const k1 = keyOf(1);
    const k2 = keyOf(2);
    const backend = backends[0]!;
    const keys1 = deriveAttachmentKeys(backend, k1);
    const keys2 = deriveAttachmentKeys(backend, k2);
    // A 1,024-byte file fills the one chunk exactly: no padding rule gets in the way.
    const n = 1024;
    expect(blobLayout(n, C16)).toMatchObject({ paddedSize: 1024, chunkCount: 1 });
    const header = encodeAttachmentHeader(C16, keys1.commitment);
    const nonce = chunkNonce(0, true);
    const j0 = concatBytes(nonce, Uint8Array.of(0, 0, 0, 1));
    const [h1, h2] = [keys1, keys2].map((k) => aesBlock(k.encKey, new Uint8Array(16))) as [
      bigint,
      bigint,
    ];
    const [s1, s2] = [keys1, keys2].map((k) => aesBlock(k.encKey, j0)) as [bigint, bigint];

    // Any ciphertext, with its first block left free: blocks are 3 of AAD (34 bytes), 64 of
    // ciphertext and the length block, so the free block X_4 is multiplied by H^(68 - 4 + 1).
    const ciphertext = plaintextOf(n, 77);
    ciphertext.fill(0, 0, 16);
    const blocks = ghashBlocks(header, ciphertext);
    expect(blocks.length).toBe(68);
    const e = 65n;
    // tag_k = GHASH_k(rest) + X * H_k^e + E_k(J0); equal tags when
    // X = (GHASH_1(rest) + GHASH_2(rest) + E_1(J0) + E_2(J0)) / (H_1^e + H_2^e).
    const free = mul(
      ghash(h1, blocks) ^ ghash(h2, blocks) ^ s1 ^ s2,
      inverse(pow(h1, e) ^ pow(h2, e)),
    );
    ciphertext.set(toBlock(free), 0);
    const tag = toBlock(ghash(h1, ghashBlocks(header, ciphertext)) ^ s1);
    expect(toHex(tag)).toBe(toHex(toBlock(ghash(h2, ghashBlocks(header, ciphertext)) ^ s2)));
    const sealed = concatBytes(ciphertext, tag);
    const blob = concatBytes(header, sealed);

    // Raw AES-GCM accepts the chunk under both keys, on every backend, with different plaintexts.
    for (const b of backends) {
      const under1 = await (await b.aesGcmCipher(keys1.encKey)).open(nonce, sealed, header);
      const under2 = await (await b.aesGcmCipher(keys2.encKey)).open(nonce, sealed, header);
      expect(under1.length).toBe(n);
      expect(toHex(under1)).not.toBe(toHex(under2));

      // The attachment format does not: the header commits to K1.
      const digest = b.sha256(blob);
      await expect(
        decryptAttachmentBytes(blob, { key: k2, digest, size: n }, { backend: b }),
      ).rejects.toBeInstanceOf(AttachmentKeyMismatchError);
      const opened = await decryptAttachmentBytes(
        blob,
        { key: k1, digest, size: n },
        { backend: b },
      );
      expect(toHex(opened)).toBe(toHex(under1));
    }

    // Moving the header to K2's commitment changes the AAD, and with it both tags.
    const header2 = encodeAttachmentHeader(C16, keys2.commitment);
    const blob2 = concatBytes(header2, sealed);
    await expect(
      decryptAttachmentBytes(
        blob2,
        { key: k2, digest: backend.sha256(blob2), size: n },
        { backend },
      ),
    ).rejects.toThrow('attachment is corrupt');
  });
});
