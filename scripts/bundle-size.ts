/**
 * The size of the SDK's client entry in a browser app, and the budget CI holds it to.
 *
 * What is measured is what a web app that registers a client ships: `SealpostClient` and
 * `MemoryStore` from `sealpost`, bundled by esbuild for the browser as ESM for ES2022,
 * minified and tree-shaken (the package declares `sideEffects: false`), then gzipped. The SDK
 * comes from its TypeScript sources through the `sealpost-source` condition, which resolve to
 * the same modules as the published `dist/` (tsc's output of the same files differs from
 * esbuild's type stripping by well under 1%); `#crypto-default` is the WebCrypto backend, as in
 * every browser bundle. test/package/bundle-size.test.ts runs this in `npm test`.
 *
 * Usage: npm run size [-- --json]   (exit 1 above the budget; `SEALPOST_BUNDLE_BUDGET`
 * overrides the budget in bytes)
 */
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

/**
 * Budget of the gzipped client entry, in bytes: about 6% above what it measured when the check
 * was added (97.7 KiB), so that growth fails CI. The target is 60 KB; lower the budget as the
 * bundle shrinks toward it, and never raise it without a reason in the commit.
 */
export const CLIENT_GZIP_BUDGET = 104 * 1024;

/** The app's import: what `SealpostClient.register` in a browser needs. */
export const CLIENT_ENTRY = "export { MemoryStore, SealpostClient } from 'sealpost';";

const root = fileURLToPath(new URL('..', import.meta.url));

/** What {@link measureClientBundle} measured. */
export interface ClientBundle {
  /** Bytes of the minified bundle. */
  readonly minified: number;
  /** Bytes of the minified bundle gzipped (zlib's default level, as servers send it). */
  readonly gzip: number;
  /** The minified bundle. */
  readonly text: string;
  /** Bytes of the minified output from each package or SDK directory, largest first. */
  readonly parts: Readonly<Record<string, number>>;
}

/**
 * The budget in force: {@link CLIENT_GZIP_BUDGET}, or `SEALPOST_BUNDLE_BUDGET` (bytes) when set.
 *
 * @throws {Error} if the override is not a positive integer.
 * @example const budget = gzipBudget(process.env['SEALPOST_BUNDLE_BUDGET']);
 */
export function gzipBudget(override: string | undefined): number {
  if (override === undefined || override === '') return CLIENT_GZIP_BUDGET;
  const n = Number(override);
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new Error(`SEALPOST_BUNDLE_BUDGET must be a positive integer, not ${override}`);
  }
  return n;
}

/**
 * Bundles {@link CLIENT_ENTRY} as a browser app would and measures it.
 *
 * @returns bytes minified and gzipped, the bundle's text, and the bytes each input (package or
 *   SDK directory) contributes to the minified output.
 * @example const { minified, gzip } = await measureClientBundle();
 */
export async function measureClientBundle(): Promise<ClientBundle> {
  const result = await build({
    stdin: { contents: CLIENT_ENTRY, resolveDir: root, loader: 'js', sourcefile: 'app.js' },
    bundle: true,
    minify: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    conditions: ['sealpost-source'],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const js = result.outputFiles[0]!.contents;
  const inputs = Object.values(result.metafile.outputs)[0]!.inputs;
  const parts: Record<string, number> = {};
  for (const [file, { bytesInOutput }] of Object.entries(inputs)) {
    const part = file
      .replace(/^(?:.*\/)?node_modules\/((?:@[^/]+\/)?[^/]+)\/.*$/, '$1')
      .replace(/^(sdk\/[^/]+)\/.*$/, '$1');
    parts[part] = (parts[part] ?? 0) + bytesInOutput;
  }
  return {
    minified: js.length,
    gzip: gzipSync(js).length,
    text: new TextDecoder().decode(js),
    parts: Object.fromEntries(
      Object.entries(parts)
        .filter(([, n]) => n > 0)
        .sort((a, b) => b[1] - a[1]),
    ),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const budget = gzipBudget(process.env['SEALPOST_BUNDLE_BUDGET']);
  const { minified, gzip, parts } = await measureClientBundle();
  const over = gzip > budget;
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ minified, gzip, budget, parts }));
  } else {
    const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
    console.log(
      `client entry (SealpostClient + MemoryStore, browser, esbuild): ${kb(minified)} minified, ` +
        `${kb(gzip)} gzip; budget ${kb(budget)} gzip${over ? ' EXCEEDED' : ''}`,
    );
    for (const [part, n] of Object.entries(parts)) {
      console.log(`  ${part.padEnd(28)} ${kb(n).padStart(10)} minified`);
    }
  }
  if (over) process.exitCode = 1;
}
