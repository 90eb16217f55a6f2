/**
 * Micro-benchmark of the crypto backends (docs/protocol/02-crypto.md §3): operations per second,
 * single thread, for the primitives the protocol uses per session and per message.
 *
 *   npx tsx bench/crypto.ts [milliseconds per measurement, default 600]
 */
import type { CryptoBackend } from '../sdk/crypto/backend.ts';
import { nobleBackend } from '../sdk/crypto/noble-backend.ts';
import { createNodeBackend, nodeBackend } from '../sdk/crypto/node-backend.ts';
import { webBackend } from '../sdk/crypto/web-backend.ts';

const budgetMs = Number(process.argv[2] ?? 600);
const random = (n: number) => globalThis.crypto.getRandomValues(new Uint8Array(n));

/**
 * Operations per second of `op`: the best of three rounds after a warm-up, so that a burst of
 * other load on a shared machine lowers one round, not the result.
 */
async function measure(op: () => unknown): Promise<number> {
  const warmUntil = performance.now() + budgetMs / 5;
  while (performance.now() < warmUntil) await op();
  let best = 0;
  for (let round = 0; round < 3; round++) {
    let count = 0;
    const start = performance.now();
    let now = start;
    while (now - start < budgetMs / 3) {
      for (let i = 0; i < 8; i++) await op();
      count += 8;
      now = performance.now();
    }
    best = Math.max(best, (count * 1000) / (now - start));
  }
  return best;
}

async function cases(b: CryptoBackend): Promise<Record<string, () => unknown>> {
  const priv = random(32);
  const peer = await nobleBackend.x25519PublicKey(random(32));
  const seed = random(32);
  const pub = await b.ed25519PublicKey(seed);
  const message = random(100);
  const signature = await b.ed25519Sign(seed, message);
  const key = random(32);
  const nonce = random(12);
  const kib = random(1024);
  const aad = random(64);
  return {
    'X25519 keygen (fresh key)': () => b.x25519PublicKey(random(32)),
    'X25519 DH (fresh private key)': () => b.x25519(random(32), peer),
    'X25519 DH (same keys)': () => b.x25519(priv, peer),
    'Ed25519 sign (same seed)': () => b.ed25519Sign(seed, message),
    'Ed25519 verify (same key)': () => b.ed25519Verify(pub, message, signature),
    'AEAD 1 KiB seal+open': () => b.aeadOpen(key, nonce, b.aeadSeal(key, nonce, kib, aad), aad),
    'HKDF-SHA-256 64 B': () => b.hkdfSha256(key, nonce, aad, 64),
    'HMAC-SHA-256 32 B': () => b.hmacSha256(key, key),
  };
}

const backends: CryptoBackend[] = [
  nodeBackend,
  { ...createNodeBackend({ privateKeyImport: 'pkcs8' }), name: 'node (pkcs8)' },
  webBackend,
  nobleBackend,
];
const results = new Map<string, Map<string, number>>();
for (const backend of backends) {
  for (const [name, op] of Object.entries(await cases(backend))) {
    if (!results.has(name)) results.set(name, new Map());
    results.get(name)!.set(backend.name, await measure(op));
  }
}

const columns = backends.map((b) => b.name);
const pad = (s: string, n: number) => s.padStart(n);
console.log(`node ${process.version}, best of 3 rounds in ${budgetMs} ms per cell, ops/s`);
console.log(['operation'.padEnd(32), ...columns.map((c) => pad(c, 13))].join(''));
for (const [name, row] of results) {
  const cells = columns.map((c) => pad(Math.round(row.get(c) ?? 0).toLocaleString('en'), 13));
  console.log([name.padEnd(32), ...cells].join(''));
}
