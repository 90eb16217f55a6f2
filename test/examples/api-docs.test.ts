/**
 * `npm run docs:api` (scripts/api-docs): TypeDoc builds the API reference of `sealpost` and
 * `@sealpost/testing` with warnings treated as errors, so a broken `{@link}`, a public type
 * that references an unexported one, or a bad tag fails the suite.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/local-process.ts';

function runDocs(out: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(
    process.execPath,
    ['scripts/api-docs/build.mjs', '--treatWarningsAsErrors', '--out', out],
    { cwd: ROOT },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

describe('API reference', () => {
  it('builds from the SDK and test-kit entry points without a warning', async () => {
    const out = mkdtempSync(join(tmpdir(), 'sealpost-api-docs-'));
    try {
      const { code, output } = await runDocs(out);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: TypeDoc colours its output.
      const lines = output.replace(/\x1b\[[0-9;]*m/g, '').split('\n');
      const warnings = lines.filter((l) => /^\[(warning|error)\]/.test(l) && !/Found \d+/.test(l));
      expect(warnings).toEqual([]);
      expect(code).toBe(0);
      expect(existsSync(join(out, 'modules', 'sealpost_wire_api.html'))).toBe(true);
      expect(existsSync(join(out, 'modules', '_sealpost_testing.html'))).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 300_000);
});
