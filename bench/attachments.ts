/**
 * Attachment benchmarks (docs/PROTOCOL.md §10, docs/SERVICE.md §7.6): `npm run bench:attachments`.
 *
 * 1. Cipher throughput: `encryptAttachment` / `decryptAttachment` with their defaults
 *    (256 KiB chunks, the whole stream API, padding, digest) per backend for 1 MiB and 64 MiB
 *    files, against two floors measured in the same process with node:crypto alone over the
 *    same bytes in the same chunk size: AES-256-GCM alone, and AES-256-GCM plus the SHA-256 of
 *    the output that the format needs for its digest.
 * 2. The same in headless Chromium (the WebCrypto backend the browser bundle uses), against
 *    WebCrypto AES-GCM alone.
 * 3. Peak memory above the baseline for a 1 GiB stream: encrypting it, and decrypting it while
 *    it is being encrypted (what a download does), with the defaults.
 * 4. Upload and download throughput through the local server (`startLocalServer`, objects on
 *    disk) with two SDK clients: a form upload and a multipart upload.
 *
 * Every figure is the best of several rounds (a 2-core machine shares its cores); each line
 * also prints the spread. `--json` prints one JSON object per figure. `--quick` uses fewer
 * rounds and skips the 1 GiB memory run.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { startLocalServer } from '../functions/api/local.ts';
import { DEFAULT_CONFIG } from '../functions/domain/config.ts';
import {
  blobLayout,
  DEFAULT_CHUNK_SIZE_LOG2,
  decryptAttachment,
  encryptAttachment,
} from '../sdk/attachments/index.ts';
import { SealpostClient } from '../sdk/client/client.ts';
import type { CryptoBackend } from '../sdk/crypto/backend.ts';
import { nobleBackend } from '../sdk/crypto/noble-backend.ts';
import { nodeBackend } from '../sdk/crypto/node-backend.ts';
import { webBackend } from '../sdk/crypto/web-backend.ts';
import { MemoryStore } from '../sdk/state/memory-store.ts';
import { launchChromium } from '../test/browser/chromium.ts';
import { closeSite, startSite } from '../test/browser/site.ts';

const JSON_OUTPUT = process.argv.includes('--json');
const QUICK = process.argv.includes('--quick');
const MIB = 1024 * 1024;
const CHUNK = 2 ** DEFAULT_CHUNK_SIZE_LOG2;
/** Network reads and file slices arrive in pieces of this size. */
const PIECE = MIB;

function report(name: string, value: number, unit: string, extra: Record<string, unknown> = {}) {
  if (JSON_OUTPUT) {
    console.log(JSON.stringify({ name, value: Number(value.toFixed(3)), unit, ...extra }));
    return;
  }
  const more = Object.entries(extra)
    .map(([k, v]) => `${k} ${typeof v === 'number' ? v.toFixed(2) : String(v)}`)
    .join(', ');
  console.log(
    `${name.padEnd(44)} ${value.toFixed(1).padStart(9)} ${unit}${more ? `  (${more})` : ''}`,
  );
}

const spread = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return `${sorted[0]!.toFixed(0)}..${sorted.at(-1)!.toFixed(0)}`;
};

/** `size` bytes in `PIECE`-sized pieces of one random buffer (no generation cost per read). */
function source(size: number, fill: Uint8Array): ReadableStream<Uint8Array> {
  let left = size;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (left === 0) {
          controller.close();
          return;
        }
        const n = Math.min(PIECE, left);
        left -= n;
        controller.enqueue(fill.subarray(0, n));
      },
    },
    { highWaterMark: 0 },
  );
}

async function drain(stream: ReadableStream<Uint8Array>): Promise<number> {
  let n = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return n;
    n += value.length;
  }
}

async function collect(stream: ReadableStream<Uint8Array>, size: number): Promise<Uint8Array> {
  const out = new Uint8Array(size);
  let at = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return out.subarray(0, at);
    out.set(value, at);
    at += value.length;
  }
}

/** MiB/s of one run of `work` over `bytes`. */
async function rate(bytes: number, work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return bytes / MIB / ((performance.now() - start) / 1000);
}

/** The floors: node:crypto AES-256-GCM per chunk, alone and with SHA-256 over its output. */
function floors(size: number, fill: Uint8Array): { gcm: () => void; gcmSha: () => void } {
  const key = fill.subarray(0, 32);
  const nonce = new Uint8Array(12);
  const chunks = Math.ceil(size / CHUNK);
  const seal = (i: number) => {
    const n = Math.min(CHUNK, size - i * CHUNK);
    const c = createCipheriv('aes-256-gcm', key, nonce);
    const out = c.update(fill.subarray(0, n));
    c.final();
    return [out, c.getAuthTag()] as const;
  };
  return {
    gcm: () => {
      for (let i = 0; i < chunks; i++) seal(i);
    },
    gcmSha: () => {
      const h = createHash('sha256');
      for (let i = 0; i < chunks; i++) {
        const [ct, tag] = seal(i);
        h.update(ct).update(tag);
      }
      h.digest();
    },
  };
}

async function cipherThroughput(): Promise<void> {
  const fill = new Uint8Array(randomBytes(PIECE));
  const key = new Uint8Array(randomBytes(32));
  const backends: CryptoBackend[] = [nodeBackend, webBackend, nobleBackend];
  for (const size of [MIB, 64 * MIB]) {
    const label = size === MIB ? '1MiB' : '64MiB';
    const rounds = QUICK ? 3 : size === MIB ? 30 : 5;
    const floor = floors(size, fill);
    const runs = new Map<string, number[]>();
    const add = (name: string, value: number) => runs.set(name, [...(runs.get(name) ?? []), value]);
    const blob = await collect(
      encryptAttachment(source(size, fill), { key, size, backend: nodeBackend }).blob,
      blobLayout(size).blobSize,
    );
    const { digest } = await (async () => {
      const e = encryptAttachment(source(size, fill), { key, size, backend: nodeBackend });
      await drain(e.blob);
      return { digest: await e.digest };
    })();
    const pieces = (b: Uint8Array) => {
      let at = 0;
      return new ReadableStream<Uint8Array>(
        {
          pull(c) {
            if (at >= b.length) return c.close();
            c.enqueue(b.subarray(at, at + PIECE));
            at += PIECE;
          },
        },
        { highWaterMark: 0 },
      );
    };
    // Rounds alternate between cases so a burst of other load lowers one round, not one row.
    for (let r = 0; r < rounds; r++) {
      add('floor.gcm', await rate(size, async () => floor.gcm()));
      add('floor.gcmSha256', await rate(size, async () => floor.gcmSha()));
      for (const backend of backends) {
        if (backend === nobleBackend && (size > MIB ? r > 0 : r > 4)) continue;
        add(
          `${backend.name}.encrypt`,
          await rate(size, async () => {
            const e = encryptAttachment(source(size, fill), { key, size, backend });
            await drain(e.blob);
            await e.digest;
          }),
        );
        add(
          `${backend.name}.decrypt`,
          await rate(size, () =>
            drain(decryptAttachment(pieces(blob), { key, digest, size }, { backend })),
          ),
        );
      }
    }
    const best = (name: string) => Math.max(...(runs.get(name) ?? [0]));
    report(`cipher.${label}.floor.gcm`, best('floor.gcm'), 'MiB/s', {
      spread: spread(runs.get('floor.gcm')!),
    });
    report(`cipher.${label}.floor.gcmSha256`, best('floor.gcmSha256'), 'MiB/s', {
      spread: spread(runs.get('floor.gcmSha256')!),
    });
    for (const backend of backends) {
      for (const op of ['encrypt', 'decrypt']) {
        const name = `${backend.name}.${op}`;
        report(`cipher.${label}.${name}`, best(name), 'MiB/s', {
          ofGcm: best(name) / best('floor.gcm'),
          ofGcmSha256: best(name) / best('floor.gcmSha256'),
          spread: spread(runs.get(name)!),
        });
      }
    }
  }
}

/** The page's benchmark: the same cases with the browser's WebCrypto backend. */
const PAGE_ENTRY = `
import { encryptAttachment, decryptAttachment, blobLayout } from './sdk/attachments/index.ts';
import { webBackend } from './sdk/crypto/web-backend.ts';
const MIB = 1024 * 1024;
const src = (size, fill) => { let left = size; return new ReadableStream({ pull(c) {
  if (left === 0) return c.close(); const n = Math.min(MIB, left); left -= n; c.enqueue(fill.subarray(0, n)); } }, { highWaterMark: 0 }); };
const drain = async (s) => { const r = s.getReader(); let n = 0; for (;;) { const { done, value } = await r.read(); if (done) return n; n += value.length; } };
const rate = async (bytes, f) => { const t = performance.now(); await f(); return bytes / MIB / ((performance.now() - t) / 1000); };
globalThis.runBench = async (size, rounds) => {
  const fill = new Uint8Array(MIB); for (let o = 0; o < MIB; o += 65536) crypto.getRandomValues(fill.subarray(o, o + 65536));
  const key = crypto.getRandomValues(new Uint8Array(32));
  const e = encryptAttachment(src(size, fill), { key, size, backend: webBackend });
  const blob = new Uint8Array(blobLayout(size).blobSize); let at = 0;
  const r = e.blob.getReader(); for (;;) { const { done, value } = await r.read(); if (done) break; blob.set(value, at); at += value.length; }
  const digest = await e.digest;
  const cryptoKey = await crypto.subtle.importKey('raw', key, 'AES-GCM', false, ['encrypt']);
  const chunk = 256 * 1024; const iv = new Uint8Array(12);
  const out = { encrypt: [], decrypt: [], floor: [], floorSha: [] };
  for (let i = 0; i < rounds; i++) {
    out.floor.push(await rate(size, async () => { for (let o = 0; o < size; o += chunk)
      await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, cryptoKey, fill.subarray(0, Math.min(chunk, size - o))); }));
    out.floorSha.push(await rate(size, async () => { const h = webBackend.sha256Hasher(); for (let o = 0; o < size; o += chunk)
      h.update(new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, cryptoKey, fill.subarray(0, Math.min(chunk, size - o))))); h.digest(); }));
    out.encrypt.push(await rate(size, async () => { const x = encryptAttachment(src(size, fill), { key, size, backend: webBackend }); await drain(x.blob); await x.digest; }));
    out.decrypt.push(await rate(size, async () => { let o = 0; const s = new ReadableStream({ pull(c) {
      if (o >= blob.length) return c.close(); c.enqueue(blob.subarray(o, o + MIB)); o += MIB; } }, { highWaterMark: 0 });
      await drain(decryptAttachment(s, { key, digest, size }, { backend: webBackend })); }));
  }
  return out;
};
globalThis.benchReady = true;
`;

async function browserThroughput(): Promise<void> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const bundled = await build({
    stdin: { contents: PAGE_ENTRY, resolveDir: root, loader: 'ts', sourcefile: 'bench-page.ts' },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    conditions: ['sealpost-source'],
    write: false,
    logLevel: 'silent',
  });
  const js = bundled.outputFiles[0]!.text;
  // The browser tests' page server; the bench reaches no API through it.
  const { server, origin } = await startSite('http://127.0.0.1:9', js);
  const launched = await launchChromium();
  try {
    const page = await launched.browser.newPage();
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => (globalThis as { benchReady?: boolean }).benchReady === true);
    const version = launched.browser.version();
    for (const size of [MIB, 64 * MIB]) {
      const label = size === MIB ? '1MiB' : '64MiB';
      const rounds = QUICK ? 2 : size === MIB ? 20 : 4;
      const out = (await page.evaluate(
        ([s, r]) =>
          (
            globalThis as unknown as {
              runBench(s: number, r: number): Promise<Record<string, number[]>>;
            }
          ).runBench(s!, r!),
        [size, rounds],
      )) as Record<'encrypt' | 'decrypt' | 'floor' | 'floorSha', number[]>;
      const floor = Math.max(...out.floor);
      const floorSha = Math.max(...out.floorSha);
      report(`browser.${label}.floor.webcryptoGcm`, floor, 'MiB/s', {
        spread: spread(out.floor),
        chromium: version,
      });
      report(`browser.${label}.floor.webcryptoGcmNobleSha256`, floorSha, 'MiB/s', {
        spread: spread(out.floorSha),
      });
      for (const op of ['encrypt', 'decrypt'] as const) {
        const best = Math.max(...out[op]);
        report(`browser.${label}.webcrypto.${op}`, best, 'MiB/s', {
          ofGcm: best / floor,
          ofGcmSha256: best / floorSha,
          spread: spread(out[op]),
        });
      }
    }
  } finally {
    await launched.browser.close();
    await closeSite(server);
  }
}

/**
 * Peak RSS growth (MiB) while `work` runs, sampled every 5 ms, after a GC when exposed. With
 * `collect`, a full GC runs before each sample, so the figure is what the code keeps alive
 * rather than what V8 lets accumulate before it collects (it collects buffers outside its heap
 * only after about 64 MiB of them were allocated).
 */
async function peakRss(work: () => Promise<unknown>, collect = false): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => {
    if (collect) gc?.();
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  peak = Math.max(peak, process.memoryUsage().rss);
  return (peak - base) / MIB;
}

async function memoryOfOneGiB(): Promise<void> {
  const size = 1024 * MIB;
  const fill = new Uint8Array(randomBytes(PIECE));
  const key = new Uint8Array(randomBytes(32));
  let digest!: Uint8Array;
  const encryptMiB = await peakRss(async () => {
    const e = encryptAttachment(source(size, fill), { key, size, backend: nodeBackend });
    await drain(e.blob);
    digest = await e.digest;
  });
  report('memory.1GiB.encrypt.peakRssGrowth', encryptMiB, 'MiB', { target: '< 64' });
  let plaintext = 0;
  const bothMiB = await peakRss(async () => {
    const e = encryptAttachment(source(size, fill), { key, size, backend: nodeBackend });
    plaintext = await drain(
      decryptAttachment(e.blob, { key, digest, size }, { backend: nodeBackend }),
    );
  });
  if (plaintext !== size) throw new Error(`decrypted ${plaintext} bytes of ${size}`);
  report('memory.1GiB.encryptIntoDecrypt.peakRssGrowth', bothMiB, 'MiB', { target: '< 64' });
  if (!(globalThis as { gc?: () => void }).gc) return;
  const liveMiB = await peakRss(async () => {
    const e = encryptAttachment(source(size, fill), { key, size, backend: nodeBackend });
    await drain(decryptAttachment(e.blob, { key, digest, size }, { backend: nodeBackend }));
  }, true);
  report('memory.1GiB.encryptIntoDecrypt.liveRssGrowth', liveMiB, 'MiB', {
    note: 'a full GC before each sample',
  });
}

/**
 * Upload and download through the local server (in-memory engine, blobs on disk) with two SDK
 * clients and the defaults: a 48 MiB file (one form POST) and a 256 MiB file (16 parts of
 * 16 MiB). MiB/s of the file's size, encryption and decryption included.
 */
async function throughLocalServer(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sealpost-bench-'));
  const server = await startLocalServer({
    port: 0,
    dataDir,
    objectStorage: 'directory',
    config: DEFAULT_CONFIG,
    webPush: false,
    log: () => undefined,
  });
  try {
    const options = () => ({
      baseUrl: server.url,
      store: new MemoryStore(),
      trust: { trustRoot: server.trustRoot },
    });
    const alice = await SealpostClient.register(options());
    const bob = await SealpostClient.register(options());
    const fill = new Uint8Array(randomBytes(PIECE));
    const rounds = QUICK ? 1 : 3;
    for (const [label, size] of [
      ['48MiB.form', 48 * MIB],
      ['256MiB.multipart', 256 * MIB],
    ] as const) {
      const up: number[] = [];
      const down: number[] = [];
      for (let r = 0; r < rounds; r++) {
        let pointer!: Awaited<ReturnType<typeof alice.uploadAttachment>>;
        up.push(
          await rate(size, async () => {
            pointer = await alice.uploadAttachment({
              data: source(size, fill),
              size,
              contentType: 'application/octet-stream',
            });
          }),
        );
        down.push(
          await rate(size, async () => {
            const n = await drain(await bob.downloadAttachment(pointer));
            if (n !== size) throw new Error(`downloaded ${n} of ${size} bytes`);
          }),
        );
      }
      report(`local.${label}.upload`, Math.max(...up), 'MiB/s', { spread: spread(up) });
      report(`local.${label}.download`, Math.max(...down), 'MiB/s', { spread: spread(down) });
    }
  } finally {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export const sections = { cipherThroughput, browserThroughput, memoryOfOneGiB, throughLocalServer };

async function main(): Promise<void> {
  const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7);
  const run = async (name: string, f: () => Promise<void>) => {
    if (only && only !== name) return;
    if (!JSON_OUTPUT) console.log(`\n## ${name}`);
    await f();
  };
  if (!JSON_OUTPUT) {
    console.log(`Node ${process.version}, ${process.arch}; chunk ${CHUNK / 1024} KiB`);
  }
  await run('cipher', cipherThroughput);
  await run('browser', browserThroughput);
  if (!QUICK) await run('memory', memoryOfOneGiB);
  await run('local', throughLocalServer);
}

await main();
