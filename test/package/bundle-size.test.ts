/**
 * The client entry's size budget (scripts/bundle-size.ts): `SealpostClient` and `MemoryStore`
 * bundled for the browser as an app would (esbuild, minified, tree-shaken, gzip) must stay
 * within the budget, be the WebCrypto build without Node built-ins, and the check itself
 * must fail, with exit code 1, when the bundle is over its budget.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CLIENT_GZIP_BUDGET,
  type ClientBundle,
  gzipBudget,
  measureClientBundle,
} from '../../scripts/bundle-size.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const script = join(root, 'scripts', 'bundle-size.ts');

let bundle: ClientBundle;

beforeAll(async () => {
  bundle = await measureClientBundle();
});

describe('the client entry bundle', () => {
  it(`stays within ${CLIENT_GZIP_BUDGET} bytes gzip`, () => {
    console.log(
      `[bundle-size] client entry: ${bundle.minified} B minified, ${bundle.gzip} B gzip (budget ${CLIENT_GZIP_BUDGET})`,
    );
    expect(bundle.gzip).toBeGreaterThan(10_000);
    expect(bundle.gzip).toBeLessThan(bundle.minified);
    expect(bundle.gzip).toBeLessThanOrEqual(CLIENT_GZIP_BUDGET);
  });

  it('is the browser build: WebCrypto backend, no Node built-ins, no server code', () => {
    expect(bundle.text).not.toMatch(/["']node:/);
    expect(bundle.text).toMatch(/webcrypto/);
    expect(Object.keys(bundle.parts)).not.toContain('sdk/testing');
    expect(Object.keys(bundle.parts).some((p) => p.startsWith('functions'))).toBe(false);
    expect(Object.keys(bundle.parts).some((p) => p.startsWith('@aws-sdk'))).toBe(false);
  });

  it('reads a budget override and refuses a malformed one', () => {
    expect(gzipBudget(undefined)).toBe(CLIENT_GZIP_BUDGET);
    expect(gzipBudget('')).toBe(CLIENT_GZIP_BUDGET);
    expect(gzipBudget('50000')).toBe(50_000);
    expect(() => gzipBudget('60KB')).toThrow(/positive integer/);
    expect(() => gzipBudget('0')).toThrow(/positive integer/);
  });

  it('exits 1 when the bundle is over the budget, 0 within it', async () => {
    const over = await run(tsx, [script, '--json'], {
      cwd: root,
      env: { ...process.env, SEALPOST_BUNDLE_BUDGET: '1000' },
    }).then(
      () => ({ code: 0, stdout: '' }),
      (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
    );
    expect(over.code).toBe(1);
    const measured = JSON.parse(over.stdout) as { gzip: number; budget: number };
    expect(measured.budget).toBe(1000);
    expect(measured.gzip).toBeGreaterThan(1000);

    const within = await run(tsx, [script, '--json'], {
      cwd: root,
      env: { ...process.env, SEALPOST_BUNDLE_BUDGET: String(100 * 1024 * 1024) },
    });
    expect(JSON.parse(within.stdout)).toMatchObject({ budget: 100 * 1024 * 1024 });
  }, 60_000);
});
