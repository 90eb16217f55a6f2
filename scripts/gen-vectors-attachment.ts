/**
 * Generates test/vectors/attachment.json: attachment blob known-answer vectors
 * (docs/PROTOCOL.md §10.9). Keys and plaintexts come from fixed seeded streams, so rerunning the
 * script reproduces the file byte for byte.
 *
 * Every blob is produced by the SDK and, independently, from PROTOCOL.md §10 with bare
 * primitives; the script refuses to write vectors if the two disagree. Small blobs are written
 * out in full; for larger ones the digest (SHA-256 of the blob) and every chunk's tag pin the
 * bytes and locate a mismatch.
 *
 * Run: `npx tsx --conditions=sealpost-source scripts/gen-vectors-attachment.ts`
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  blobLayout,
  decryptAttachmentBytes,
  encryptAttachmentBytes,
} from '#sdk/attachments/index.ts';
import { type CryptoBackend, nobleBackend } from '#sdk/crypto/index.ts';
import { SealpostError } from '#sdk/errors.ts';
import { concatBytes, equalBytes, fromHex, toHex, u32be } from '#sdk/util/bytes.ts';
import { padmeLength } from '#sdk/util/padding.ts';
import { LABELS } from '#sdk/wire/labels.ts';
import { seededRng } from './lib/seeded-rng.ts';

const backend: CryptoBackend = nobleBackend;
const rng = seededRng('Sealpost attachment vectors v1');
/** Blobs up to this size are written in full. */
const FULL_BLOB_BYTES = 4096;
/** Plaintexts up to this size are written in full. */
const FULL_PLAINTEXT_BYTES = 1024;

const plaintextSeed = (name: string) => `Sealpost attachment vectors v1 plaintext ${name}`;

/** PROTOCOL.md §10 with bare primitives, independent of sdk/attachments. */
async function encryptBySpec(key: Uint8Array, file: Uint8Array, c: number, padding?: Uint8Array) {
  const okm = backend.hkdfSha256(key, new Uint8Array(32), LABELS.ATTACHMENT, 64);
  const encKey = okm.slice(0, 32);
  const commitment = okm.slice(32);
  const header = concatBytes(Uint8Array.of(1, c), commitment);
  const paddedSize = padmeLength(Math.max(file.length, 1024));
  const padded = new Uint8Array(paddedSize);
  padded.set(file);
  if (padding) padded.set(padding, file.length);
  const chunkSize = 2 ** c;
  const count = Math.ceil(paddedSize / chunkSize);
  const cipher = await backend.aesGcmCipher(encKey);
  const sealed: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const nonce = concatBytes(new Uint8Array(7), u32be(i), Uint8Array.of(i === count - 1 ? 1 : 0));
    const chunk = padded.subarray(i * chunkSize, Math.min((i + 1) * chunkSize, paddedSize));
    sealed.push(await cipher.seal(nonce, chunk, header));
  }
  const blob = concatBytes(header, ...sealed);
  return { encKey, commitment, header, sealed, blob, digest: backend.sha256(blob) };
}

async function makeCase(name: string, size: number, chunkSizeLog2: number) {
  const key = rng(32);
  const plaintext = seededRng(plaintextSeed(name))(size);
  const spec = await encryptBySpec(key, plaintext, chunkSizeLog2);
  const sdk = await encryptAttachmentBytes(plaintext, { key, backend, chunkSizeLog2 });
  if (!equalBytes(sdk.blob, spec.blob) || !equalBytes(sdk.digest, spec.digest)) {
    throw new Error(`${name}: implementation and specification disagree`);
  }
  const opened = await decryptAttachmentBytes(
    sdk.blob,
    { key, digest: sdk.digest, size },
    { backend },
  );
  if (!equalBytes(opened, plaintext)) throw new Error(`${name}: does not decrypt`);
  const { paddedSize, chunkCount, blobSize } = blobLayout(size, chunkSizeLog2);
  return {
    name,
    key: toHex(key),
    size,
    chunkSizeLog2,
    plaintextSeed: plaintextSeed(name),
    ...(size <= FULL_PLAINTEXT_BYTES
      ? { plaintext: toHex(plaintext) }
      : { plaintextSha256: toHex(backend.sha256(plaintext)) }),
    encKey: toHex(spec.encKey),
    commitment: toHex(spec.commitment),
    header: toHex(spec.header),
    paddedSize,
    chunkCount,
    blobSize,
    tags: spec.sealed.map((s) => toHex(s.subarray(s.length - 16))),
    digest: toHex(spec.digest),
    ...(blobSize <= FULL_BLOB_BYTES ? { blob: toHex(spec.blob) } : {}),
  };
}

const valid = [
  await makeCase('empty', 0, 16),
  await makeCase('one-byte', 1, 16),
  await makeCase('small', 1000, 16),
  await makeCase('one-kib', 1024, 16),
  await makeCase('chunk-minus-one', 65_535, 16),
  await makeCase('chunk', 65_536, 16),
  await makeCase('chunk-plus-one', 65_537, 16),
  await makeCase('several-chunks', 200_000, 16),
  await makeCase('default-chunk-size', 300_000, 18),
];

// Invalid blobs, all derived from the `small` case (1,000 bytes, one chunk of 1,024).
const small = valid[2]!;
const smallKey = fromHex(small.key);
const smallPlaintext = seededRng(plaintextSeed('small'))(1000);
const base = fromHex(small.blob!);
const mutate = (f: (b: Uint8Array) => void) => {
  const b = base.slice();
  f(b);
  return b;
};
/** The small case sealed with a non-final nonce (a blob truncated after its true end). */
async function notLast(): Promise<Uint8Array> {
  const spec = await encryptBySpec(smallKey, smallPlaintext, 16);
  const cipher = await backend.aesGcmCipher(spec.encKey);
  const padded = new Uint8Array(1024);
  padded.set(smallPlaintext);
  return concatBytes(spec.header, await cipher.seal(new Uint8Array(12), padded, spec.header));
}
const nonZeroPadding = (await encryptBySpec(smallKey, smallPlaintext, 16, Uint8Array.of(0, 0, 1)))
  .blob;

const invalidInputs: { name: string; blob: Uint8Array; digest?: Uint8Array; key?: Uint8Array }[] = [
  { name: 'version-2', blob: mutate((b) => (b[0] = 2)) },
  { name: 'chunk-size-23', blob: mutate((b) => (b[1] = 23)) },
  { name: 'commitment-bit', blob: mutate((b) => (b[2]! ^= 1)) },
  { name: 'ciphertext-bit', blob: mutate((b) => (b[40]! ^= 1)) },
  { name: 'tag-bit', blob: mutate((b) => (b[b.length - 1]! ^= 0x80)) },
  { name: 'truncated', blob: base.subarray(0, base.length - 1) },
  { name: 'extended', blob: concatBytes(base, new Uint8Array(1)) },
  { name: 'not-sealed-as-last', blob: await notLast() },
  { name: 'non-zero-padding', blob: nonZeroPadding },
  { name: 'wrong-digest', blob: base, digest: backend.sha256(concatBytes(base, base)) },
  { name: 'wrong-key', blob: base, key: rng(32) },
];
const invalid = [];
for (const input of invalidInputs) {
  const key = input.key ?? smallKey;
  // Each blob's own digest unless the case is about the digest: the other checks must hold.
  const digest = input.digest ?? backend.sha256(input.blob);
  const error = await decryptAttachmentBytes(
    input.blob,
    { key, digest, size: 1000 },
    { backend },
  ).then(
    () => {
      throw new Error(`${input.name}: opened`);
    },
    (e: unknown) => {
      if (!(e instanceof SealpostError)) throw e;
      return e.code;
    },
  );
  invalid.push({
    name: input.name,
    key: toHex(key),
    size: 1000,
    digest: toHex(digest),
    blob: toHex(input.blob),
    error,
  });
}

const vectors = {
  description:
    "Sealpost attachment blobs v1 (docs/PROTOCOL.md §10). Byte strings are hex. A plaintext is the first `size` bytes of the stream SHA-256(plaintextSeed || u32be(0)) || SHA-256(plaintextSeed || u32be(1)) || ... (seed as UTF-8); small ones are also given in full. `blob` is given up to 4,096 bytes; `digest` (SHA-256 of the blob) and `tags` (each chunk's AES-GCM tag) pin the others.",
  generator: 'scripts/gen-vectors-attachment.ts',
  kdfInfo: new TextDecoder().decode(LABELS.ATTACHMENT),
  valid,
  invalid,
};

const out = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'test',
  'vectors',
  'attachment.json',
);
writeFileSync(out, `${JSON.stringify(vectors, null, 2)}\n`);
console.log(`wrote ${valid.length} valid and ${invalid.length} invalid vectors to ${out}`);
