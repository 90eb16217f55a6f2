/**
 * Fixtures of the attachment tests: the distinct crypto backends, deterministic plaintexts, byte
 * streams cut into pieces of chosen sizes, and a reader that records what a stream released
 * before it failed.
 */
import type { CryptoBackend } from '#sdk/crypto/backend.ts';
import { concatBytes } from '#sdk/util/bytes.ts';
import { backends as allBackends } from '../crypto/helpers.ts';

/** OpenSSL, WebCrypto (Node's) and noble: the three implementations of AES-256-GCM. */
export const backends: readonly CryptoBackend[] = allBackends.filter((b) =>
  ['node', 'webcrypto', 'noble'].includes(b.name),
);

/** A 64 KiB chunk: the smallest chunk size keeps multi-chunk blobs small. */
export const C16 = 16;
export const C = 2 ** C16;

/** `n` bytes that differ from chunk to chunk and are never all zero (padding stays visible). */
export function plaintextOf(n: number, salt = 0): Uint8Array {
  const out = new Uint8Array(n);
  let x = (0x9e3779b9 ^ salt) >>> 0;
  for (let i = 0; i < n; i++) {
    // xorshift32: cheap, deterministic, no long runs of zeros.
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = (x >>> 0) & 0xff || 1;
  }
  return out;
}

/** A fixed attachment key per label. */
export function keyOf(label: number): Uint8Array {
  return Uint8Array.from({ length: 32 }, (_, i) => (i * 17 + label * 101 + 3) & 0xff);
}

/**
 * `bytes` as an async iterable of pieces: the sizes in `sizes` in turn (repeating), 0 meaning an
 * empty piece. Counts the bytes handed out in `handed.bytes`.
 */
export function piecesOf(bytes: Uint8Array, sizes: readonly number[] = [bytes.length || 1]) {
  const handed = { bytes: 0, finished: false, returned: false };
  async function* generate(): AsyncGenerator<Uint8Array> {
    try {
      let offset = 0;
      for (let i = 0; offset < bytes.length; i++) {
        const size = sizes[i % sizes.length]!;
        const piece = bytes.subarray(offset, offset + size);
        offset += piece.length;
        handed.bytes = offset;
        yield piece;
      }
      handed.finished = true;
    } finally {
      if (!handed.finished) handed.returned = true;
    }
  }
  return { iterable: generate(), handed };
}

/** `bytes` as a web ReadableStream of pieces of `size` bytes. */
export function webStreamOf(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.slice(offset, offset + size));
      offset += size;
    },
  });
}

/** Everything a stream yielded (each piece and their concatenation) and how it ended. */
export interface Drained {
  readonly pieces: Uint8Array[];
  readonly bytes: Uint8Array;
  readonly error: unknown;
}

/** Reads `stream` to its end or its error; never throws. */
export async function drain(stream: ReadableStream<Uint8Array>): Promise<Drained> {
  const pieces: Uint8Array[] = [];
  const reader = stream.getReader();
  let error: unknown;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      pieces.push(value.slice());
    }
  } catch (e) {
    error = e;
  }
  return { pieces, bytes: concatBytes(...pieces), error };
}
