/**
 * The page side of `npm run bench:browser`, bundled with esbuild for the browser (the SDK's
 * TypeScript sources, so `#crypto-default` is the WebCrypto backend) and driven by
 * lib/browser-driver.ts through `globalThis.bench`:
 *
 * - the SDK (lib/sealpost.ts, the very code `npm run bench:sdk` times on Node) and
 *   `@privacyresearch/libsignal-protocol-typescript` (lib/browser-privacyresearch.ts), each
 *   case timed for a given stretch by lib/browser-timing.ts;
 * - where session setup time goes: every backend primitive timed while setups run;
 * - ML-KEM-1024 on noble against WebCrypto's own ML-KEM where the browser has it (the WICG
 *   "Modern Algorithms in WebCrypto" additions), with a check that both give identical bytes,
 *   and the backend's ML-KEM (WebCrypto's when its probe passed, else noble's) as sessions use it.
 */
import { nobleBackend } from '../../sdk/crypto/noble-backend.ts';
import { webBackend } from '../../sdk/crypto/web-backend.ts';
import { privacyResearchPair } from './browser-privacyresearch.ts';
import { type CaseName, type CaseSides, type Sizes, timeSide } from './browser-timing.ts';
import type { Side } from './harness.ts';
import { sealpostPair } from './sealpost.ts';

/** The libraries in the page. */
export type PageLibrary = 'sealpost' | 'privacyresearch';

const erase = <T>(side: Side<T>) => side as unknown as Side<unknown>;

let libraries: Record<PageLibrary, CaseSides> | undefined;
let sealpost: Awaited<ReturnType<typeof sealpostPair>> | undefined;
let privacyresearch: Awaited<ReturnType<typeof privacyResearchPair>> | undefined;

async function init(): Promise<{
  backend: string;
  x25519: boolean;
  ed25519: boolean;
  mlkem: boolean;
}> {
  sealpost = await sealpostPair();
  privacyresearch = await privacyResearchPair();
  const s = sealpost;
  const p = privacyresearch;
  libraries = {
    sealpost: {
      oneWay: erase({ run: s.oneWay }),
      alternate: erase({ run: s.alternate }),
      setup: erase({ prepare: s.prepareSetup, run: s.setup, batch: 10 }),
      sealed: erase({ run: s.sealed }),
    },
    privacyresearch: {
      oneWay: erase({ run: p.oneWay }),
      alternate: erase({ run: p.alternate }),
      setup: erase({ prepare: p.prepareSetup, run: p.setup, batch: 10 }),
    },
  };
  const support = await webBackend.support();
  return { backend: webBackend.name, ...support };
}

async function run(library: PageLibrary, name: CaseName, ms: number): Promise<number> {
  const side = libraries?.[library][name];
  if (!side) throw new Error(`${library} has no case ${name}`);
  return timeSide(side, ms);
}

async function sizes(): Promise<Record<PageLibrary, Sizes>> {
  if (!sealpost || !privacyresearch) throw new Error('init() first');
  return {
    sealpost: { message: await sealpost.messageSizes(), sealed: await sealpost.sealedSizes() },
    privacyresearch: { message: await privacyresearch.messageSizes() },
  };
}

/** Which primitive each backend method is counted under in the breakdown. */
const PRIMITIVES: Record<string, string> = {
  mlkemKeygen: 'ML-KEM-1024 keygen',
  mlkemEncapsulate: 'ML-KEM-1024 encapsulate',
  mlkemDecapsulate: 'ML-KEM-1024 decapsulate',
  x25519: 'X25519 agreement (WebCrypto)',
  x25519PublicKey: 'X25519 public key (WebCrypto)',
  ed25519Sign: 'Ed25519 sign (WebCrypto)',
  ed25519Verify: 'Ed25519 verify (WebCrypto)',
  ed25519PublicKey: 'Ed25519 public key (WebCrypto)',
  hkdfSha256: 'HKDF/HMAC/SHA-2 (noble)',
  hmacSha256: 'HKDF/HMAC/SHA-2 (noble)',
  sha256: 'HKDF/HMAC/SHA-2 (noble)',
  sha512: 'HKDF/HMAC/SHA-2 (noble)',
  aeadSeal: 'ChaCha20-Poly1305 (noble)',
  aeadOpen: 'ChaCha20-Poly1305 (noble)',
  aesGcmCipher: 'AES-256-GCM (WebCrypto)',
};

/** One line of the setup breakdown: milliseconds and calls per setup. */
export interface BreakdownRow {
  readonly part: string;
  readonly msPerSetup: number;
  readonly callsPerSetup: number;
}

/**
 * Times every backend primitive while `count` fresh-party setups run (bundle -> first message
 * -> decrypt, parties built outside the timed region as in the benchmark). Asynchronous
 * primitives are timed from call to settlement; the protocol awaits them one at a time, so the
 * parts do not overlap. The rest of the setup's time is `other`: encodings, records, the
 * store, signatures' caches, promise turns.
 */
async function setupBreakdown(count: number): Promise<{ total: number; rows: BreakdownRow[] }> {
  if (!sealpost) throw new Error('init() first');
  const s = sealpost;
  const inputs = [];
  for (let i = 0; i < count; i++) inputs.push(await s.prepareSetup());
  const spent = new Map<string, { ms: number; calls: number }>();
  const target = webBackend as unknown as Record<string, (...args: unknown[]) => unknown>;
  const originals = new Map<string, (...args: unknown[]) => unknown>();
  let depth = 0;
  for (const [method, part] of Object.entries(PRIMITIVES)) {
    const original = target[method]!;
    originals.set(method, original);
    target[method] = function timed(this: unknown, ...args: unknown[]) {
      // Only the outermost primitive counts (a backend may call another through itself).
      if (depth > 0) return original.apply(this, args);
      depth++;
      const start = performance.now();
      const add = () => {
        const entry = spent.get(part) ?? { ms: 0, calls: 0 };
        entry.ms += performance.now() - start;
        entry.calls++;
        spent.set(part, entry);
      };
      let result: unknown;
      try {
        result = original.apply(this, args);
      } finally {
        depth--;
      }
      if (result instanceof Promise) return result.finally(add);
      add();
      return result;
    };
  }
  let total = 0;
  try {
    const start = performance.now();
    for (const input of inputs) await s.setup(input);
    total = performance.now() - start;
  } finally {
    for (const [method, original] of originals) target[method] = original;
  }
  const rows: BreakdownRow[] = [...spent.entries()]
    .map(([part, { ms, calls }]) => ({
      part,
      msPerSetup: ms / count,
      callsPerSetup: calls / count,
    }))
    .sort((a, b) => b.msPerSetup - a.msPerSetup);
  const counted = rows.reduce((n, r) => n + r.msPerSetup, 0);
  rows.push({
    part: 'other (encodings, records, store, protocol)',
    msPerSetup: total / count - counted,
    callsPerSetup: 0,
  });
  return { total: total / count, rows };
}

/** The WICG "Modern Algorithms in WebCrypto" KEM calls (not in TypeScript's DOM library yet). */
interface KemSubtle {
  importKey(
    format: 'raw-public' | 'raw-seed',
    key: BufferSource,
    algorithm: { name: string },
    extractable: boolean,
    usages: string[],
  ): Promise<CryptoKey>;
  exportKey(format: 'raw-public', key: CryptoKey): Promise<ArrayBuffer>;
  encapsulateBits(
    algorithm: { name: string },
    key: CryptoKey,
  ): Promise<{ ciphertext: ArrayBuffer; sharedKey: ArrayBuffer }>;
  decapsulateBits(
    algorithm: { name: string },
    key: CryptoKey,
    ciphertext: BufferSource,
  ): Promise<ArrayBuffer>;
  getPublicKey?(key: CryptoKey, usages: string[]): Promise<CryptoKey>;
}

/** What {@link mlkem} found. */
export interface MlKemReport {
  /** Whether `crypto.subtle` has ML-KEM-1024 (encapsulateBits with an imported public key). */
  readonly webCrypto: boolean;
  /** Why not, when it has not. */
  readonly reason?: string;
  /**
   * Identical bytes: the key pair from the same 64-byte seed, each side decapsulating the
   * other's ciphertext to the other's secret.
   */
  readonly identical?: {
    readonly publicKey: boolean;
    readonly nobleToWebCrypto: boolean;
    readonly webCryptoToNoble: boolean;
  };
  /** Whether WebCrypto imports the 3,168-byte expanded decapsulation key our records hold. */
  readonly expandedKeyImport?: string;
  /** Operations per second of each implementation. */
  readonly rates: Record<string, number>;
}

const equal = (a: Uint8Array, b: Uint8Array) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** DER PKCS#8 of an ML-KEM-1024 key in the `expandedKey` form (IETF LAMPS ML-KEM profile). */
const MLKEM1024_PKCS8_EXPANDED_PREFIX = Uint8Array.from(
  '30820c78020100300b060960864801650304040304820c6404820c60'
    .match(/../g)!
    .map((h) => Number.parseInt(h, 16)),
);

async function mlkem(ms: number): Promise<MlKemReport> {
  const noble = nobleBackend;
  const seed = crypto.getRandomValues(new Uint8Array(64));
  const pair = noble.mlkemKeygen(seed);
  const rates: Record<string, number> = {
    'noble keygen': await timeSide({ run: () => noble.mlkemKeygen(seed) }, ms),
    'noble encapsulate': await timeSide({ run: () => noble.mlkemEncapsulate(pair.publicKey) }, ms),
  };
  const ct = await noble.mlkemEncapsulate(pair.publicKey);
  rates['noble decapsulate'] = await timeSide(
    { run: () => noble.mlkemDecapsulate(ct.cipherText, pair.secretKey) },
    ms,
  );
  // What a session setup runs: the backend's choice, decapsulating with the record's seed.
  rates['backend encapsulate'] = await timeSide(
    { run: () => webBackend.mlkemEncapsulate(pair.publicKey) },
    ms,
  );
  rates['backend decapsulate (with key seed)'] = await timeSide(
    { run: () => webBackend.mlkemDecapsulate(ct.cipherText, pair.secretKey, seed) },
    ms,
  );
  const subtle = crypto.subtle as unknown as Partial<KemSubtle>;
  if (
    typeof subtle.encapsulateBits !== 'function' ||
    typeof subtle.decapsulateBits !== 'function'
  ) {
    return {
      webCrypto: false,
      reason: 'crypto.subtle has no encapsulateBits/decapsulateBits',
      rates,
    };
  }
  const s = subtle as KemSubtle;
  const alg = { name: 'ML-KEM-1024' };
  let publicKey: CryptoKey;
  let privateKey: CryptoKey;
  try {
    publicKey = await s.importKey('raw-public', pair.publicKey as BufferSource, alg, true, [
      'encapsulateBits',
    ]);
    privateKey = await s.importKey('raw-seed', seed, alg, false, ['decapsulateBits']);
  } catch (err) {
    return { webCrypto: false, reason: `ML-KEM-1024 import failed: ${String(err)}`, rates };
  }
  const exported = new Uint8Array(
    await s.exportKey(
      'raw-public',
      s.getPublicKey ? await s.getPublicKey(privateKey, ['encapsulateBits']) : publicKey,
    ),
  );
  const webDecap = new Uint8Array(
    await s.decapsulateBits(alg, privateKey, ct.cipherText as BufferSource),
  );
  const theirs = await s.encapsulateBits(alg, publicKey);
  const nobleDecap = await noble.mlkemDecapsulate(
    new Uint8Array(theirs.ciphertext),
    pair.secretKey,
  );
  let expandedKeyImport: string;
  try {
    const der = new Uint8Array(MLKEM1024_PKCS8_EXPANDED_PREFIX.length + pair.secretKey.length);
    der.set(MLKEM1024_PKCS8_EXPANDED_PREFIX);
    der.set(pair.secretKey, MLKEM1024_PKCS8_EXPANDED_PREFIX.length);
    await crypto.subtle.importKey('pkcs8', der, alg, false, ['decapsulateBits' as KeyUsage]);
    expandedKeyImport = 'accepted';
  } catch (err) {
    expandedKeyImport = `refused (${(err as Error).name}: ${(err as Error).message})`;
  }
  rates['WebCrypto import public + encapsulate'] = await timeSide(
    {
      run: async () =>
        s.encapsulateBits(
          alg,
          await s.importKey('raw-public', pair.publicKey as BufferSource, alg, false, [
            'encapsulateBits',
          ]),
        ),
    },
    ms,
  );
  rates['WebCrypto encapsulate (key imported once)'] = await timeSide(
    { run: () => s.encapsulateBits(alg, publicKey) },
    ms,
  );
  rates['WebCrypto decapsulate (key imported once)'] = await timeSide(
    { run: () => s.decapsulateBits(alg, privateKey, ct.cipherText as BufferSource) },
    ms,
  );
  rates['WebCrypto import seed + decapsulate'] = await timeSide(
    {
      run: async () =>
        s.decapsulateBits(
          alg,
          await s.importKey('raw-seed', seed, alg, false, ['decapsulateBits']),
          ct.cipherText as BufferSource,
        ),
    },
    ms,
  );
  return {
    webCrypto: true,
    identical: {
      publicKey: equal(exported, pair.publicKey),
      nobleToWebCrypto: equal(webDecap, ct.sharedSecret),
      webCryptoToNoble: equal(nobleDecap, new Uint8Array(theirs.sharedKey)),
    },
    expandedKeyImport,
    rates,
  };
}

/**
 * Operations per second of the curve primitives a setup calls, on the backend's WebCrypto path
 * and on noble, with the same keys (peer keys already imported, as in a steady session).
 */
async function curves(ms: number): Promise<Record<string, number>> {
  const a = crypto.getRandomValues(new Uint8Array(32));
  const b = await nobleBackend.x25519PublicKey(crypto.getRandomValues(new Uint8Array(32)));
  const seed = crypto.getRandomValues(new Uint8Array(32));
  const message = crypto.getRandomValues(new Uint8Array(1600));
  const publicKey = await nobleBackend.ed25519PublicKey(seed);
  const signature = await nobleBackend.ed25519Sign(seed, message);
  const out: Record<string, number> = {};
  for (const [name, backend] of [
    ['WebCrypto', webBackend],
    ['noble', nobleBackend],
  ] as const) {
    out[`X25519 agreement (${name})`] = await timeSide({ run: () => backend.x25519(a, b) }, ms);
    out[`X25519 public key (${name})`] = await timeSide(
      { run: () => backend.x25519PublicKey(crypto.getRandomValues(new Uint8Array(32))) },
      ms,
    );
    out[`Ed25519 verify, 1,600-byte message (${name})`] = await timeSide(
      { run: () => backend.ed25519Verify(publicKey, message, signature) },
      ms,
    );
  }
  return out;
}

(globalThis as unknown as { bench: unknown }).bench = {
  init,
  run,
  sizes,
  setupBreakdown,
  mlkem,
  curves,
};
