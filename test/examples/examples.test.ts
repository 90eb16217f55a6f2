/**
 * The examples in examples/, run the way their READMEs say, against `npm start` on the
 * in-memory engine: two node-chat processes (one interactive, one scripted) exchange messages,
 * the browser page talks to a node-chat in Chromium from the npm registry (the browser the
 * suite falls back to without a system Chromium), receiving over the WebSocket endpoint, and
 * the example app's own vitest passes.
 */
import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExampleSite } from '../../examples/browser/serve.mjs';
import { launchChromium } from '../browser/chromium.ts';
import { ROOT, type StartedServer, startServer } from '../helpers/local-process.ts';

const run = promisify(execFile);
const CHAT = ['--import', 'tsx', '--conditions=sealpost-source', 'examples/node-chat/chat.mjs'];

let dir: string;
let server: StartedServer;

/** Runs one scripted node-chat command to its end; returns what it printed. */
async function chat(name: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    [...CHAT, '--name', name, '--dir', join(dir, name), ...connection(), ...args],
    { cwd: ROOT },
  );
  return stdout;
}

const connection = () => ['--server', server.url, '--trust-root', server.trustRoot];
const cardIn = (out: string) => /^sealpost-card:\S+$/m.exec(out)?.[0] ?? '';

/** Resolves once `read()` satisfies `done`, polling; fails after `ms` with what was read. */
async function until(read: () => string, done: (s: string) => boolean, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (!done(read())) {
    if (Date.now() > deadline) throw new Error(`timed out; got:\n${read()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealpost-examples-'));
  server = await startServer({ dataDir: join(dir, 'server'), env: { SEALPOST_ENGINE: 'memory' } });
});

afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('examples/node-chat', () => {
  it('two processes exchange messages: one interactive, one scripted', async () => {
    const bobCard = cardIn(await chat('bob', '--print-card'));
    expect(bobCard).toMatch(/^sealpost-card:/);

    const bob: ChildProcessWithoutNullStreams = spawn(
      process.execPath,
      [...CHAT, '--name', 'bob', '--dir', join(dir, 'bob'), ...connection()],
      { cwd: ROOT },
    );
    let bobOut = '';
    bob.stdout.on('data', (d: Buffer) => (bobOut += d.toString()));
    bob.stderr.on('data', (d: Buffer) => (bobOut += d.toString()));
    const bobExit = new Promise<number | null>((r) => bob.once('close', (code) => r(code)));
    await until(
      () => bobOut,
      (s) => s.includes('Commands:'),
    );

    expect(await chat('alice', '--add', bobCard, '--to', 'bob', '--send', 'hi bob')).toContain(
      'Sent to bob (1 device(s)).',
    );
    await until(
      () => bobOut,
      (s) => /: hi bob$/m.test(s),
    );

    const aliceCard = cardIn(await chat('alice', '--print-card'));
    bob.stdin.write(`/add ${aliceCard}\nhi alice\n`);
    const got = await chat('alice', '--receive-once', '--wait', '20');
    expect(got.trim().split('\n')).toEqual(['bob: hi alice']);

    bob.stdin.write('/quit\n');
    expect(await bobExit).toBe(0);
    expect(bobOut).toContain('Added alice; you are now talking to alice.');
    expect(bobOut).not.toContain('error');
  }, 90_000);
});

describe('examples/browser', () => {
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
  });

  it('the page registers in Chromium from npm and chats with a node-chat', async () => {
    const site = await startExampleSite({ api: server.url, trustRoot: server.trustRoot });
    try {
      ({ browser } = await launchChromium({ kind: 'npm' }));
      const page = await browser.newPage();
      await page.goto(`${site.url}/`);
      await page.waitForSelector('body[data-ready="true"]');
      const pageCard = (await page.textContent('#card')) ?? '';
      expect(pageCard).toMatch(/^sealpost-card:/);
      // The page receives over the API's WebSocket endpoint, not by polling.
      await page.waitForSelector('#connection:text-is("open")');

      await chat('carol', '--add', pageCard, '--to', 'browser', '--send', 'hi browser');
      await page.waitForSelector('#messages li:has-text(": hi browser")');
      expect(await page.textContent('#connection')).toBe('open');

      await page.fill('#add-card', cardIn(await chat('carol', '--print-card')));
      await page.click('#add');
      await page.waitForSelector('#messages li:has-text("Added carol.")');
      await page.fill('#message', 'hi carol, from the page');
      await page.click('#send');
      await page.waitForSelector('#messages li:has-text("you to carol")');

      const got = await chat('carol', '--receive-once', '--wait', '20');
      expect(got.trim().split('\n')).toEqual(['browser: hi carol, from the page']);
      expect(await page.getAttribute('body', 'data-error')).toBeNull();
    } finally {
      await site.close();
    }
  }, 120_000);
});

describe('examples/vitest', () => {
  it('the example app type-checks against the packages it imports', async () => {
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const { stdout } = await run(
      process.execPath,
      [tsc, '--noEmit', '-p', 'examples/vitest/tsconfig.json'],
      { cwd: ROOT },
    );
    expect(stdout).toBe('');
  }, 90_000);

  it("the app's own tests pass with the test kit", async () => {
    const report = join(dir, 'vitest-report.json');
    const args = ['vitest', 'run', '--config', 'examples/vitest/vitest.config.ts'];
    args.push('--reporter=json', `--outputFile=${report}`);
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'NODE_OPTIONS'),
    );
    const status = await run('npx', args, { cwd: ROOT, env }).then(
      () => 0,
      (e: { code?: number }) => e.code ?? 1,
    );
    const result = JSON.parse(await readFile(report, 'utf8')) as {
      numPassedTests: number;
      numFailedTests: number;
    };
    expect(result).toMatchObject({ numPassedTests: 2, numFailedTests: 0 });
    expect(status).toBe(0);
  }, 90_000);
});
