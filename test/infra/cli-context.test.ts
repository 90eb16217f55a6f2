/**
 * `npx cdk synth` with invalid context, as an operator would type it: one message listing
 * every problem, a failing exit code, and no JavaScript stack trace.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
let outdir: string;
let exitCode: number;
let stdout: string;
let stderr: string;

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'sealpost-cli-context-'));
  const env: NodeJS.ProcessEnv = { CDK_DISABLE_VERSION_CHECK: '1' };
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('AWS_') && !k.startsWith('CDK_')) env[k] = v;
  }
  const args = ['cdk', 'synth', '--quiet', '--output', outdir];
  for (const c of ['stage=Prod', 'logLevel=trace', 'messageTtlDays=0', 'throttleRate=fast']) {
    args.push('-c', c);
  }
  try {
    const res = await run('npx', args, { env });
    exitCode = 0;
    stdout = res.stdout;
    stderr = res.stderr;
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    exitCode = e.code ?? -1;
    stdout = e.stdout ?? '';
    stderr = e.stderr ?? '';
  }
}, 120_000);
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('npx cdk synth with invalid context', () => {
  it('fails with exit code 1 and writes nothing to stdout', () => {
    expect(exitCode).toBe(1);
    expect(stdout).toBe('');
  });

  it('lists every problem in one message', () => {
    const start = stderr.indexOf('Invalid Sealpost context');
    expect(start).toBeGreaterThanOrEqual(0);
    expect(stderr.slice(start).split('\n').slice(0, 5)).toEqual([
      'Invalid Sealpost context (4 problems; docs/DEPLOY.md lists every key):',
      '  - stage must be 1-20 characters of a-z, 0-9 and -, starting with a-z',
      '  - throttleRate must be an integer in 1..100000',
      '  - messageTtlDays must be an integer in 1..365',
      '  - logLevel must be one of: debug, info, warn, error',
    ]);
  });

  it('prints no JavaScript stack trace', () => {
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(stderr).not.toMatch(/ContextError|\.ts:\d+/);
  });
});
