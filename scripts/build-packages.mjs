#!/usr/bin/env node
/**
 * Builds the workspace's published packages into their `dist/`:
 *   sdk/               -> `sealpost`: ESM JavaScript, declarations and source maps (tsc)
 *   functions/testing/ -> `@sealpost/testing`: one ESM bundle of the in-memory service
 *                         (esbuild; `sealpost`, `valibot` and `ws` stay dependencies) and
 *                         declarations
 * and copies LICENSE, CHANGELOG.md and SECURITY.md into each package.
 *
 * Usage: node scripts/build-packages.mjs [sdk|testing]...   (default: both, in that order)
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = join(root, 'node_modules', '.bin', 'tsc');
const SHARED_FILES = ['LICENSE', 'CHANGELOG.md', 'SECURITY.md'];

/** Every file under `dir`. */
function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

/**
 * Declarations keep the sources' `./x.ts` specifiers; a consumer's compiler (without
 * `allowImportingTsExtensions`) wants `./x.js`. Rewrites them, then checks that no emitted file
 * still names a `.ts` module.
 */
function fixSpecifiers(dist) {
  const relativeTs = /((?:from|import)\s*\(?\s*['"])(\.{1,2}\/[^'"]+)\.ts(['"])/g;
  for (const file of walk(dist)) {
    if (!/\.(d\.ts|js)$/.test(file)) continue;
    const text = readFileSync(file, 'utf8');
    const fixed = text.replace(relativeTs, '$1$2.js$3');
    if (fixed !== text) writeFileSync(file, fixed);
    if (relativeTs.test(fixed)) throw new Error(`${file} still imports a .ts module`);
  }
}

function copyShared(dir) {
  for (const name of SHARED_FILES) copyFileSync(join(root, name), join(dir, name));
}

function buildSdk() {
  const dir = join(root, 'sdk');
  rmSync(join(dir, 'dist'), { recursive: true, force: true });
  execFileSync(tsc, ['-p', join(dir, 'tsconfig.build.json')], { stdio: 'inherit' });
  fixSpecifiers(join(dir, 'dist'));
  copyShared(dir);
}

async function buildTestKit() {
  const dir = join(root, 'functions', 'testing');
  rmSync(join(dir, 'dist'), { recursive: true, force: true });
  await build({
    entryPoints: [join(dir, 'index.ts')],
    outfile: join(dir, 'dist', 'index.js'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    external: ['sealpost', 'sealpost/*', 'valibot', 'ws'],
    // web-push (bundled, loaded at the first wake-up) is CommonJS that requires Node built-ins;
    // ESM output has no `require`, so the bundle recreates it, as the Lambda bundles do.
    banner: {
      js: "import { createRequire as __sealpostCreateRequire } from 'node:module'; const require = __sealpostCreateRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
  // Declarations against the SDK's published declarations (sdk/dist), not its sources.
  execFileSync(tsc, ['-p', join(dir, 'tsconfig.build.json')], { stdio: 'inherit' });
  fixSpecifiers(join(dir, 'dist'));
  copyShared(dir);
}

const wanted = process.argv.slice(2);
const all = wanted.length === 0;
if (all || wanted.includes('sdk')) buildSdk();
if (all || wanted.includes('testing')) await buildTestKit();
