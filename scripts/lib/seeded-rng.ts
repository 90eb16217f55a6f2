import { sha256 } from '@noble/hashes/sha2.js';
import type { Rng } from '#sdk/crypto/backend.ts';
import { concatBytes, u32be, utf8 } from '#sdk/util/bytes.ts';

/**
 * The deterministic "random" stream every vector generator draws from: SHA-256 in counter
 * mode over a fixed seed, block i = SHA-256(seed || u32 i). Anyone can recompute it.
 */
export function seededRng(seed: string): Rng {
  const prefix = utf8(seed);
  let counter = 0;
  let pool: Uint8Array = new Uint8Array(0);
  return (length) => {
    while (pool.length < length) {
      pool = concatBytes(pool, sha256(concatBytes(prefix, u32be(counter++))));
    }
    const out = pool.slice(0, length);
    pool = pool.slice(length);
    return out;
  };
}
