/**
 * The two processes `npm run bench:browser` drives: headless Chromium (system Chromium where
 * installed, otherwise the build `@sparticuz/chromium` ships on npm; test/browser/chromium.ts)
 * running lib/browser-page.ts from a local HTTP server, and a Node 24 child running
 * lib/browser-node.ts (libsignal's native library). Each is asked for one timed stretch at a
 * time, so the driver decides the order of rounds and nothing runs on both at once.
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { type ChromiumSource, launchChromium } from '../../test/browser/chromium.ts';
import type { BreakdownRow, MlKemReport, PageLibrary } from './browser-page.ts';
import type { CaseName, Sizes } from './browser-timing.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Bundles lib/browser-page.ts for the browser: the SDK's sources under the `sealpost-source`
 * condition (so `#crypto-default` is the WebCrypto backend) and the pure-TS reference.
 *
 * @throws {Error} if esbuild fails.
 * @example const js = await bundlePage();
 */
export async function bundlePage(): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('./browser-page.ts', import.meta.url))],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    conditions: ['sealpost-source'],
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

/** What `globalThis.bench` of the page offers (lib/browser-page.ts). */
interface PageBench {
  init(): Promise<{ backend: string; x25519: boolean; ed25519: boolean; mlkem: boolean }>;
  run(library: PageLibrary, name: CaseName, ms: number): Promise<number>;
  sizes(): Promise<Record<PageLibrary, Sizes>>;
  setupBreakdown(count: number): Promise<{ total: number; rows: BreakdownRow[] }>;
  mlkem(ms: number): Promise<MlKemReport>;
  curves(ms: number): Promise<Record<string, number>>;
}

/** The benchmark page in headless Chromium. */
export interface BenchPage {
  readonly version: string;
  readonly source: ChromiumSource;
  readonly backend: { backend: string; x25519: boolean; ed25519: boolean; mlkem: boolean };
  run(library: PageLibrary, name: CaseName, ms: number): Promise<number>;
  sizes(): Promise<Record<PageLibrary, Sizes>>;
  setupBreakdown(count: number): Promise<{ total: number; rows: BreakdownRow[] }>;
  mlkem(ms: number): Promise<MlKemReport>;
  curves(ms: number): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/**
 * Serves `js` from 127.0.0.1 (a secure context, so `crypto.subtle` is there), opens it in
 * headless Chromium and builds the page's parties.
 *
 * @example const page = await openBenchPage(await bundlePage());
 */
export async function openBenchPage(js: string): Promise<BenchPage> {
  const server: Server = createServer((req, res) => {
    if (req.url === '/') {
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end(
          '<!doctype html><meta charset="utf-8"><title>bench</title><script type="module" src="/bench.js"></script>',
        );
    } else if (req.url === '/bench.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  let browser: Browser | undefined;
  try {
    const launched = await launchChromium();
    browser = launched.browser;
    const page: Page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(String(err)));
    await page.goto(`http://127.0.0.1:${port}/`);
    await page
      .waitForFunction(() => 'bench' in globalThis, undefined, { timeout: 30_000 })
      .catch((err: unknown) => {
        throw new Error(`the bench page did not load: ${errors.join('; ') || String(err)}`);
      });
    const call = <R>(method: keyof PageBench, ...args: unknown[]) =>
      page.evaluate(
        ([m, a]) =>
          (globalThis as unknown as { bench: Record<string, (...x: unknown[]) => unknown> }).bench[
            m as string
          ]!(...(a as unknown[])) as Promise<R>,
        [method, args] as const,
      ) as Promise<R>;
    const backend = await call<Awaited<ReturnType<PageBench['init']>>>('init');
    const b = browser;
    return {
      version: b.version(),
      source: launched.source,
      backend,
      run: (library, name, ms) => call('run', library, name, ms),
      sizes: () => call('sizes'),
      setupBreakdown: (count) => call('setupBreakdown', count),
      mlkem: (ms) => call('mlkem', ms),
      curves: (ms) => call('curves', ms),
      async close() {
        await b.close();
        await new Promise<void>((r) => server.close(() => r()));
      },
    };
  } catch (err) {
    await browser?.close();
    server.close();
    throw err;
  }
}

/** libsignal's native library in the Node 24 child. */
export interface NodeSide {
  readonly node: string;
  readonly libsignal: string;
  run(name: CaseName, ms: number): Promise<number>;
  sizes(): Promise<Sizes>;
  close(): void;
}

/** The Node 24 executable (fetched from npm by scripts/node24.sh on first use). */
function node24(): string {
  return execFileSync('bash', [`${root}scripts/node24.sh`], { encoding: 'utf8' }).trim();
}

/**
 * Starts lib/browser-node.ts on Node 24 (`execPath` overrides it, e.g. `process.execPath`).
 *
 * @example const node = await startNodeSide();
 */
export async function startNodeSide(execPath: string = node24()): Promise<NodeSide> {
  const child: ChildProcess = fork(
    fileURLToPath(new URL('./browser-node.ts', import.meta.url)),
    [],
    {
      cwd: root,
      execPath,
      execArgv: ['--import', 'tsx', '--conditions=sealpost-source'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const waiting = new Map<
    number,
    { resolve: (m: Record<string, unknown>) => void; reject: (e: Error) => void }
  >();
  let ready: () => void;
  let failed: (e: Error) => void;
  const started = new Promise<void>((res, rej) => {
    ready = res;
    failed = rej;
  });
  child.on('message', (message: Record<string, unknown>) => {
    const id = message['id'] as number;
    if (id === 0) return ready();
    const w = waiting.get(id);
    waiting.delete(id);
    if (!w) return;
    if (typeof message['error'] === 'string') w.reject(new Error(message['error']));
    else w.resolve(message);
  });
  child.on('exit', (code) => {
    const err = new Error(`the Node 24 side exited (${code})`);
    failed(err);
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  });
  await started;
  let next = 1;
  const ask = (request: object) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve, reject });
      child.send({ id, ...request });
    });
  const info = await ask({ op: 'info' });
  return {
    node: info['node'] as string,
    libsignal: info['libsignal'] as string,
    run: async (name, ms) => (await ask({ op: 'run', name, ms }))['rate'] as number,
    sizes: async () => (await ask({ op: 'sizes' }))['sizes'] as Sizes,
    close: () => {
      child.disconnect();
    },
  };
}
