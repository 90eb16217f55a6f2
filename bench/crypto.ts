/**
 * Micro-benchmark of the crypto backends (docs/PROTOCOL.md §2.3): operations per second,
 * single thread, for the primitives the protocol uses per session and per message.
 *
 *   npx tsx bench/crypto.ts [milliseconds per cell, default 600]
 */
import type { CryptoBackend } from '../sdk/crypto/backend.ts';
import { nobleBackend } from '../sdk/crypto/noble-backend.ts';
import { createNodeBackend, nodeBackend } from '../sdk/crypto/node-backend.ts';
import { webBackend } from '../sdk/crypto/web-backend.ts';

const budgetMs = Number(process.argv[2] ?? 600);
const random = (n: number) => globalThis.crypto.getRandomValues(new Uint8Array(n));

const ROUNDS = 5;

/** Operations per second of one timed round of `op` lasting about `ms`. */
async function round(op: () => unknown, ms: number): Promise<number> {
  let count = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 8; i++) await op();
    count += 8;
    now = performance.now();
  }
  return (count * 1000) / (now - start);
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
// Rounds alternate between backends and the best round counts, so a burst of other load on a
// shared machine lowers one round of one backend, not a whole row.
const table = await Promise.all(backends.map(cases));
const results = new Map<string, Map<string, number>>();
for (const name of Object.keys(table[0]!)) {
  const row = new Map<string, number>();
  for (const ops of table) await round(ops[name]!, budgetMs / 10);
  for (let r = 0; r < ROUNDS; r++) {
    for (const [i, b] of backends.entries()) {
      const opsPerSecond = await round(table[i]![name]!, budgetMs / ROUNDS);
      row.set(b.name, Math.max(row.get(b.name) ?? 0, opsPerSecond));
    }
  }
  results.set(name, row);
}

const columns = backends.map((b) => b.name);
const pad = (s: string, n: number) => s.padStart(n);
console.log(`node ${process.version}, best of ${ROUNDS} rounds in ${budgetMs} ms per cell, ops/s`);
console.log(['operation'.padEnd(32), ...columns.map((c) => pad(c, 13))].join(''));
for (const [name, row] of results) {
  const cells = columns.map((c) => pad(Math.round(row.get(c) ?? 0).toLocaleString('en'), 13));
  console.log([name.padEnd(32), ...cells].join(''));
}
