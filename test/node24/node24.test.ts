/**
 * The SDK's crypto and protocol tests (test/node24/vitest.config.ts) once more on Node >= 24,
 * where the node:crypto backend runs OpenSSL's ML-KEM and passes secret keys as KeyObjects
 * (docs/PROTOCOL.md §2.2): the cross-backend tests there prove those paths give the same bytes
 * as noble. `npm test` installs that runtime from the npm registry and names it in
 * SEALPOST_NODE24 (scripts/test.sh); on a Node >= 24 host the current runtime is used.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const major = (version: string) => Number(version.replace(/^v/, '').split('.')[0]);

function runtime(): string | undefined {
  const installed = process.env['SEALPOST_NODE24'];
  if (installed) return installed;
  return major(process.versions.node) >= 24 ? process.execPath : undefined;
}

interface JsonReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  testResults: { assertionResults: { fullName: string; status: string }[] }[];
}

describe('SDK on Node >= 24', () => {
  it("passes the crypto and protocol tests with OpenSSL's ML-KEM", async () => {
    const node = runtime();
    if (node === undefined)
      throw new Error('no Node >= 24 runtime: run `npm test`, which installs one');
    const { stdout: version } = await run(node, ['-p', 'process.versions.node']);
    expect(major(version.trim())).toBeGreaterThanOrEqual(24);

    const dir = mkdtempSync(join(tmpdir(), 'sealpost-node24-'));
    const report = join(dir, 'report.json');
    // A clean environment for the inner run: no variables of this vitest worker.
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'NODE_OPTIONS'),
    );
    try {
      const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
      const args = [vitest, 'run', '--config', 'test/node24/vitest.config.ts'];
      args.push('--reporter=json', `--outputFile=${report}`);
      const status = await run(node, args, { cwd: root, env, maxBuffer: 64 << 20 }).then(
        () => 0,
        (e: { code?: number }) => e.code ?? 1,
      );
      const result = JSON.parse(readFileSync(report, 'utf8')) as JsonReport;
      const failed = result.testResults
        .flatMap((f) => f.assertionResults)
        .filter((a) => a.status !== 'passed')
        .map((a) => a.fullName);
      expect(failed).toEqual([]);
      expect(status).toBe(0);
      expect(result.numFailedTests).toBe(0);
      expect(result.numPendingTests).toBe(0);
      expect(result.numPassedTests).toBeGreaterThan(250);
      const names = result.testResults.flatMap((f) => f.assertionResults.map((a) => a.fullName));
      expect(names).toContain(
        "cross-backend equivalence runs OpenSSL's ML-KEM exactly when the runtime has one",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
