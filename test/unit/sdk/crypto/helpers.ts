/**
 * Shared fixtures for the crypto backend tests: every backend this runtime has, and a loader for
 * the Wycheproof files in test/vectors/wycheproof (see test/vectors/README.md).
 */
import { readFileSync } from 'node:fs';
import type { CryptoBackend } from '#sdk/crypto/backend.ts';
import { nobleBackend } from '#sdk/crypto/noble-backend.ts';
import { createNodeBackend, nodeBackend } from '#sdk/crypto/node-backend.ts';
import { webBackend } from '#sdk/crypto/web-backend.ts';
import { fromHex } from '#sdk/util/bytes.ts';

/** Node >= 24 hands secret keys to OpenSSL as KeyObjects by default; older Node as arrays. */
const otherSecretKeyMode =
  Number(process.versions.node.split('.')[0]) >= 24 ? 'buffer' : 'keyObject';

/**
 * The backends under test. `node (pkcs8)` covers the slower private-key import path,
 * `node (<mode> keys)` the secret-key handling the runtime does not use by default, and
 * `node (noble ML-KEM)` the fallback where the runtime has OpenSSL's ML-KEM.
 */
export const backends: readonly CryptoBackend[] = [
  nodeBackend,
  { ...createNodeBackend({ privateKeyImport: 'pkcs8' }), name: 'node (pkcs8)' },
  {
    ...createNodeBackend({ secretKeys: otherSecretKeyMode }),
    name: `node (${otherSecretKeyMode} keys)`,
  },
  { ...createNodeBackend({ mlkem: 'noble' }), name: 'node (noble ML-KEM)' },
  webBackend,
  nobleBackend,
];

export interface WycheproofTest {
  readonly tcId: number;
  readonly comment?: string;
  readonly flags?: readonly string[];
  readonly result: 'valid' | 'invalid' | 'acceptable';
  readonly [field: string]: unknown;
}

export interface WycheproofGroup {
  readonly tests: readonly WycheproofTest[];
  readonly [field: string]: unknown;
}

export interface WycheproofFile {
  readonly algorithm: string;
  readonly numberOfTests: number;
  readonly testGroups: readonly WycheproofGroup[];
}

/** Parses `test/vectors/wycheproof/<name>`. */
export function loadWycheproof(name: string): WycheproofFile {
  const url = new URL(`../../../vectors/wycheproof/${name}`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as WycheproofFile;
}

/** Every test of a file with its group, checking that none was lost in parsing. */
export function allTests(file: WycheproofFile): { group: WycheproofGroup; test: WycheproofTest }[] {
  const out = file.testGroups.flatMap((group) => group.tests.map((test) => ({ group, test })));
  if (out.length !== file.numberOfTests) {
    throw new Error(`${file.algorithm}: ${out.length} tests, header says ${file.numberOfTests}`);
  }
  return out;
}

/** Hex field of a Wycheproof test as bytes. */
export function hexField(test: WycheproofTest, field: string): Uint8Array {
  const value = test[field];
  if (typeof value !== 'string') throw new Error(`tcId ${test.tcId}: no hex field ${field}`);
  return fromHex(value);
}
