/**
 * The published packages as a new user gets them: `npm pack` of `sealpost` and
 * `@sealpost/testing`, installed into a throwaway app from the tarball files, then used with
 * plain `node` on Node 20 and on the Node 24 runtime `npm test` installs, with `require`, with
 * `tsc` under the app's own strict options (bundler and node16 resolution, no extra flags), and
 * bundled by esbuild for the browser. Prints the installed dependency count and the bundle
 * sizes the README quotes.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BROWSER_APP,
  CJS_APP,
  NODE_APP,
  TS_APP,
  TSCONFIG_BUNDLER,
  TSCONFIG_NODE16,
} from './consumer-app.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const tsc = join(root, 'node_modules', '.bin', 'tsc');

/** What no published tarball may contain. */
const FORBIDDEN_IN_TARBALL =
  /(^|\/)(test|tests|vectors|bench|infra|scripts|examples)\/|\.test\.|(^|\/)src\/.*\.ts$/;

let work: string;
let tarballs: { sdk: string; kit: string };

async function npmIn(cwd: string, args: string[]) {
  return run(npm, args, {
    cwd,
    maxBuffer: 64 * 1024 * 1024,
    env: {
      ...process.env,
      npm_config_fund: 'false',
      npm_config_audit: 'false',
      npm_config_update_notifier: 'false',
    },
  });
}

async function tarballFiles(file: string): Promise<string[]> {
  const { stdout } = await run('tar', ['-tzf', file]);
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((p) => p.replace(/^package\//, ''));
}

/** Installed packages under an app's node_modules (scoped ones counted one by one). */
function installedPackages(app: string): string[] {
  const top = join(app, 'node_modules');
  return readdirSync(top)
    .filter((name) => !name.startsWith('.'))
    .flatMap((name) =>
      name.startsWith('@') ? readdirSync(join(top, name)).map((n) => `${name}/${n}`) : [name],
    );
}

async function installApp(name: string, packages: string[]): Promise<string> {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: `consumer-${name}`, private: true, type: 'module' }, null, 2),
  );
  await npmIn(dir, ['install', '--prefer-offline', '--no-package-lock', ...packages]);
  return dir;
}

function node24(): string | undefined {
  return process.env['SEALPOST_NODE24'];
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'sealpost-consumer-'));
  await run(process.execPath, [join(root, 'scripts', 'build-packages.mjs')], { cwd: root });
  const { stdout } = await npmIn(root, [
    'pack',
    '--json',
    '--pack-destination',
    work,
    '-w',
    'sealpost',
    '-w',
    '@sealpost/testing',
  ]);
  const packed = JSON.parse(stdout) as { name: string; filename: string }[];
  const file = (name: string) =>
    join(work, packed.find((p) => p.name === name)!.filename.replace(/^@sealpost\//, 'sealpost-'));
  tarballs = { sdk: file('sealpost'), kit: file('@sealpost/testing') };
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('packed tarballs', () => {
  it('contain the build, the licence and the policies, and no tests, vectors, bench or infra', async () => {
    for (const file of [tarballs.sdk, tarballs.kit]) {
      const files = await tarballFiles(file);
      expect(files.filter((f) => FORBIDDEN_IN_TARBALL.test(f))).toEqual([]);
      expect(files).toEqual(
        expect.arrayContaining([
          'package.json',
          'LICENSE',
          'CHANGELOG.md',
          'SECURITY.md',
          'dist/index.js',
        ]),
      );
      expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    }
  });

  it('install the SDK alone with only client dependencies', async () => {
    const app = await installApp('sdk-only', [tarballs.sdk]);
    const installed = installedPackages(app).sort();
    console.log(
      `[consumer] npm install sealpost: ${installed.length} packages (${installed.join(', ')})`,
    );
    expect(installed).toContain('sealpost');
    expect(installed.filter((p) => /aws-sdk|smithy|hono/.test(p))).toEqual([]);
    expect(installed.length).toBeLessThanOrEqual(8);
  }, 300_000);
});

describe('a throwaway app using the packed SDK and test kit', () => {
  let app: string;
  beforeAll(async () => {
    app = await installApp('full', [tarballs.sdk, tarballs.kit]);
    writeFileSync(join(app, 'app.mjs'), NODE_APP);
    writeFileSync(join(app, 'app.cjs'), CJS_APP);
    writeFileSync(join(app, 'app.ts'), TS_APP);
    writeFileSync(join(app, 'browser.mjs'), BROWSER_APP);
    // The app's own @types/node (the repository's copy; installing it again adds nothing).
    symlinkSync(join(root, 'node_modules', '@types'), join(app, 'node_modules', '@types'));
  }, 300_000);

  it('runs with plain node on Node 20+', async () => {
    const { stdout } = await run(process.execPath, ['app.mjs'], { cwd: app });
    const out = JSON.parse(stdout.trim());
    console.log(`[consumer] node ${out.node}: ${stdout.trim()}`);
    expect(out).toMatchObject({ text: 'hello from a packed tarball', ok: true });
  }, 120_000);

  it('runs with plain node on the Node 24 runtime', async () => {
    const node = node24();
    expect(
      node,
      'no Node 24 runtime: run `npm test`, which installs one (SEALPOST_NODE24)',
    ).toMatch(/node/);
    const { stdout } = await run(node!, ['app.mjs'], { cwd: app });
    const out = JSON.parse(stdout.trim());
    console.log(`[consumer] node ${out.node}: ${stdout.trim()}`);
    expect(out.node).toMatch(/^24\./);
    expect(out).toMatchObject({ text: 'hello from a packed tarball', ok: true });
  }, 120_000);

  it('loads through require() (ESM package, no separate CommonJS build)', async () => {
    const { stdout } = await run(process.execPath, ['app.cjs'], { cwd: app });
    expect(JSON.parse(stdout.trim())).toEqual({ client: 'function', wire: 'function' });
  });

  it.each([
    ['node16', TSCONFIG_NODE16],
    ['bundler', TSCONFIG_BUNDLER],
  ])(
    'type-checks with tsc under %s resolution, strict and exactOptionalPropertyTypes',
    async (name, config) => {
      const file = join(app, `tsconfig.${name}.json`);
      writeFileSync(file, JSON.stringify(config, null, 2));
      const result = await run(tsc, ['-p', file], { cwd: app }).then(
        () => ({ code: 0, out: '' }),
        (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
      );
      expect(result.out).toBe('');
      expect(result.code).toBe(0);
    },
    120_000,
  );

  it('bundles for the browser with no node: import', async () => {
    const result = await build({
      entryPoints: [join(app, 'browser.mjs')],
      absWorkingDir: app,
      bundle: true,
      minify: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      write: false,
      logLevel: 'silent',
    });
    const js = result.outputFiles[0]!.contents;
    const text = new TextDecoder().decode(js);
    expect(text).not.toMatch(/["']node:/);
    const gzip = gzipSync(js).length;
    console.log(
      `[consumer] browser bundle of SealpostClient: ${(js.length / 1024).toFixed(1)} KiB minified, ${(gzip / 1024).toFixed(1)} KiB gzip`,
    );
    expect(js.length).toBeGreaterThan(10_000);
  }, 120_000);
});
