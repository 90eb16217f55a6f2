/**
 * `npm run demo` and `npm start` on a machine without Java: they run on the in-memory engine
 * and say so in exactly one line that names the package to install (scripts/local-stack.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chooseEngine, NO_JAVA_NOTICE } from '../../scripts/local-stack.ts';
import { runScript, startServer } from '../helpers/local-process.ts';

const noticeLines = (out: string) => out.split('\n').filter((l) => /in-memory engine/.test(l));

describe('chooseEngine', () => {
  const java = () => true;
  const noJava = () => false;

  it('takes DynamoDB Local when Java runs and memory, with one notice, when it does not', () => {
    expect(chooseEngine({}, java)).toEqual({ engine: 'dynamodb' });
    expect(chooseEngine({}, noJava)).toEqual({ engine: 'memory', notice: NO_JAVA_NOTICE });
    expect(NO_JAVA_NOTICE).not.toContain('\n');
    expect(NO_JAVA_NOTICE).toContain('apt-get install -y openjdk-17-jre-headless');
  });

  it('follows SEALPOST_ENGINE and refuses an unknown engine', () => {
    expect(chooseEngine({ SEALPOST_ENGINE: 'memory' }, java)).toEqual({
      engine: 'memory',
      notice: expect.stringMatching(/^SEALPOST_ENGINE=memory: running on the in-memory engine/),
    });
    expect(chooseEngine({ SEALPOST_ENGINE: 'dynamodb' }, noJava)).toEqual({ engine: 'dynamodb' });
    expect(() => chooseEngine({ SEALPOST_ENGINE: 'mysql' }, java)).toThrow(RangeError);
  });
});

describe('without Java on PATH', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sealpost-nojava-data-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('npm run demo runs on the in-memory engine, says so once, and succeeds', async () => {
    const { code, stdout, stderr } = await runScript('demo.ts', { dataDir, hideJava: true });
    expect(stderr).toBe('');
    expect(noticeLines(stdout)).toEqual([NO_JAVA_NOTICE]);
    expect(stdout).toContain('Sent sealed as a message request to 2 devices');
    expect(stdout).toMatch(
      /Bob laptop ← \[sealed request from \S+ device 1\] Hi Bob, it is Alice!/,
    );
    expect(stdout).toMatch(
      /Bob phone {2}← \[sealed request from \S+ device 1\] Hi Bob, it is Alice!/,
    );
    expect(stdout).toContain('(nothing: every message was acknowledged and deleted)');
    expect(stdout).not.toContain('✗');
    expect(stdout).toContain('✓ They match: no one is in the middle.');
    expect(code).toBe(0);
  }, 120_000);

  it('npm start serves the API on the in-memory engine and stops cleanly', async () => {
    const server = await startServer({ dataDir, hideJava: true });
    try {
      const res = await fetch(`${server.url}/v1/health`);
      expect(await res.json()).toEqual({ status: 'ok' });
      const cert = await (await fetch(`${server.url}/v1/certificates/server`)).json();
      expect(cert.trustRoot).toBe(server.trustRoot);
      expect(noticeLines(server.output())).toEqual([NO_JAVA_NOTICE]);
      expect(server.output()).toContain('Data:       in memory until exit');
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }, 120_000);
});
