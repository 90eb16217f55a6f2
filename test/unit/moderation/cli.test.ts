/**
 * The moderation CLI (`npm run moderate`, scripts/moderate.ts) against the in-process local
 * server on a free port: every command in text and JSON, reported text printed escaped, the
 * server's errors with exit code 1, usage errors with 2, the token read from the data
 * directory; `--aws` signs with SigV4 for `execute-api` (checked against an independent
 * computation of the signature); and the script itself runs as `npm run moderate` runs it.
 */
import { spawn } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalServer, startLocalServer } from '#functions/api/local.ts';
import { MODERATOR_TOKEN_FILE } from '#functions/api/moderation/token.ts';
import { randomBytes } from '#functions/domain/crypto.ts';
import { encodeContent } from '#sdk/client/content.ts';
import { runModerate, terminalSafe } from '../../../scripts/moderate.ts';
import { newAccount } from '../functions/fixtures.ts';

let server: LocalServer;
let dataDir: string;
const sender = newAccount();
const reporter = newAccount();
const reportId = Buffer.from(randomBytes(16)).toString('base64url');
const NASTY = 'pay now \u001b[2J\u001b]0;pwned\u0007 \u202eevil\u202c "quoted"';

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'sealpost-moderate-'));
  server = await startLocalServer({
    port: 0,
    dataDir,
    objectStorage: 'memory',
    webPush: false,
    log: () => undefined,
  });
  const memory = server.memory!;
  await memory.accounts.create(
    {
      address: sender.address,
      accountPublic: sender.publicKey,
      accessKeyHash: new Uint8Array(32),
      unrestricted: false,
      createdAt: Date.now(),
    },
    {
      deviceId: 1,
      identity: randomBytes(172),
      signedPrekey: { id: 1, publicKey: randomBytes(32), signature: randomBytes(64) },
      lastResortKemPrekey: { id: 2, publicKey: randomBytes(1568), signature: randomBytes(64) },
      frankingKey: randomBytes(32),
      createdAt: Date.now(),
    } as Parameters<typeof memory.accounts.create>[1],
  );
  const now = Date.now();
  await server.moderation.reports.add(
    {
      reportId,
      status: 'open',
      reason: 'scam',
      createdAt: now,
      expiresAt: now + 86_400_000,
      reporter: { address: reporter.address, deviceId: 1 },
      sender: { address: sender.address, deviceId: 1 },
      messages: [
        {
          messageId: randomBytes(16),
          receivedAt: now - (now % 3_600_000),
          stamp: randomBytes(32),
          content: encodeContent({
            kind: 1,
            text: true,
            senderAccessKey: randomBytes(16),
            sentAt: now - 1000,
            body: new TextEncoder().encode(NASTY),
          }),
        },
      ],
    },
    randomBytes(32),
  );
});

afterAll(async () => {
  await server?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function run(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runModerate([...argv, '--url', server.url, '--data-dir', dataDir], {
    env: {},
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
  });
  return { code, stdout, stderr };
}

describe('moderation CLI on the local server', () => {
  it('keeps the token the server generated in the data directory, readable by its owner only', async () => {
    const token = (await readFile(join(dataDir, MODERATOR_TOKEN_FILE), 'utf8')).trim();
    expect(token).toBe(server.moderatorToken);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await stat(join(dataDir, MODERATOR_TOKEN_FILE))).mode & 0o777).toBe(0o600);
  });

  it('lists reports as text and as JSON', async () => {
    const text = await run('list');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(reportId);
    expect(text.stdout).toContain(`open  scam`);
    expect(text.stdout).toContain(`sender ${sender.address}/1  1 message(s)`);
    const json = await run('list', '--json', '--status', 'open', '--limit', '5');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      reports: [{ reportId, status: 'open', reason: 'scam', messages: 1 }],
    });
    expect((await run('list', '--status', 'decided')).stdout).toBe('no reports\n');
  });

  it('shows a report with its text escaped: no control or direction character reaches the terminal', async () => {
    const { code, stdout } = await run('show', reportId);
    expect(code).toBe(0);
    expect(stdout).toContain(`report ${reportId} (open, verified)`);
    expect(stdout).toContain(`sender:     ${sender.address} device 1`);
    expect(stdout).toContain(`reporter:   ${reporter.address} device 1`);
    expect(stdout).toContain(
      'text:       "pay now \\u{1b}[2J\\u{1b}]0;pwned\\u{7} \\u{202e}evil\\u{202c} \\"quoted\\""',
    );
    const raw = [...stdout].filter((ch) => ch !== '\n' && terminalSafe(ch) !== ch);
    expect(raw).toEqual([]);
    const json = JSON.parse((await run('show', reportId, '--json')).stdout);
    expect(json.message.preview.text).toBe(NASTY);
  });

  it('decides, shows the sender, suspends and lifts, and lists the audit log', async () => {
    const decided = await run('decide', reportId, 'violation', '--note', 'fraud');
    expect(decided.code, decided.stderr).toBe(0);
    expect(decided.stdout).toMatch(new RegExp(`^decided ${reportId}: violation at \\d{4}-`));
    const who = await run('sender', sender.address);
    expect(who.stdout).toContain('verified reports:   1');
    expect(who.stdout).toContain('distinct reporters: 1');
    expect(who.stdout).toContain('suspended:          no');
    const suspended = await run('suspend', sender.address, '--reason', 'fraud ring');
    expect(suspended.code).toBe(0);
    expect(suspended.stdout).toMatch(
      new RegExp(`^suspended ${sender.address} since .*: "fraud ring"\\n$`),
    );
    expect((await run('sender', sender.address)).stdout).toContain('suspended:          since');
    expect((await run('lift', sender.address)).stdout).toBe(
      `lifted the suspension of ${sender.address}\n`,
    );
    expect((await run('lift', sender.address)).stdout).toBe(
      `${sender.address} was not suspended\n`,
    );
    const audit = await run('audit');
    const lines = audit.stdout.trim().split('\n');
    expect(lines.map((l) => l.split('  ').slice(1, 4))).toEqual([
      ['local', 'lift', sender.address],
      ['local', 'suspend', sender.address],
      ['local', 'decision', reportId],
    ]);
    expect(lines[2]).toContain('violation  "fraud"');
    const page = JSON.parse((await run('audit', '--limit', '2', '--json')).stdout);
    expect(page.entries).toHaveLength(2);
    const rest = JSON.parse((await run('audit', '--cursor', page.cursor, '--json')).stdout);
    expect(rest.entries.map((e: { action: string }) => e.action)).toEqual(['decision']);
  });

  it('prints the server’s error and exits 1', async () => {
    const unknown = await run('show', Buffer.alloc(16, 1).toString('base64url'));
    expect(unknown).toEqual({ code: 1, stdout: '', stderr: 'error: NOT_FOUND: no such report\n' });
    // Report ids are base64url: one in 64 begins with '-', and is an id, not an option.
    const dashed = await run('show', Buffer.alloc(16, 0xf8).toString('base64url'));
    expect(Buffer.alloc(16, 0xf8).toString('base64url')).toMatch(/^-/);
    expect(dashed).toEqual({ code: 1, stdout: '', stderr: 'error: NOT_FOUND: no such report\n' });
    const missing = await run('suspend', newAccount().address, '--reason', 'x');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('error: NOT_FOUND: no such account\n');
    const json = await run('suspend', newAccount().address, '--reason', 'x', '--json');
    expect(JSON.parse(json.stderr)).toEqual({
      error: { code: 'NOT_FOUND', message: 'no such account' },
    });
  });

  it('exits 1 without the right token', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'sealpost-moderate-empty-'));
    try {
      let stderr = '';
      const none = await runModerate(['list', '--url', server.url, '--data-dir', empty], {
        env: {},
        stdout: () => undefined,
        stderr: (t) => {
          stderr += t;
        },
      });
      expect(none).toBe(1);
      expect(stderr).toContain('no moderator token');
      await writeFile(join(empty, MODERATOR_TOKEN_FILE), `${'B'.repeat(43)}\n`, { mode: 0o600 });
      stderr = '';
      const wrong = await runModerate(['list', '--url', server.url], {
        env: { SEALPOST_DATA_DIR: empty },
        stdout: () => undefined,
        stderr: (t) => {
          stderr += t;
        },
      });
      expect(wrong).toBe(1);
      expect(stderr).toBe('error: UNAUTHORIZED: the moderation API needs operator credentials\n');
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('exits 2 on a usage error, 1 when the server is unreachable', async () => {
    for (const argv of [
      [],
      ['ban', 'x'],
      ['show'],
      ['show', 'not-an-id'],
      ['decide', reportId, 'maybe'],
      ['suspend', sender.address],
      ['sender', 'Not-An-Address'],
      ['list', '--colour'],
      ['list', 'extra'],
    ]) {
      const res = await run(...argv);
      expect(res.code, argv.join(' ')).toBe(2);
      expect(res.stderr).toMatch(/^error: /);
      expect(res.stderr).toContain('Usage: npm run moderate');
    }
    let stderr = '';
    const code = await runModerate(['list', '--url', 'http://127.0.0.1:9', '--data-dir', dataDir], {
      env: {},
      stdout: () => undefined,
      stderr: (t) => {
        stderr += t;
      },
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/^error: cannot reach http:\/\/127\.0\.0\.1:9: /);
  });

  it('runs as the npm script runs it', async () => {
    // Asynchronously: the server answering it runs in this process.
    const script = (...argv: string[]) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', '--conditions=sealpost-source', 'scripts/moderate.ts', ...argv],
          { env: { ...process.env, SEALPOST_URL: server.url, SEALPOST_DATA_DIR: dataDir } },
        );
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => {
          stdout += d;
        });
        child.stderr.on('data', (d) => {
          stderr += d;
        });
        child.on('close', (status) => resolve({ status, stdout, stderr }));
      });
    const out = await script('list', '--json', '--status', 'decided');
    expect(out.status, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout).reports.map((r: { reportId: string }) => r.reportId)).toEqual([
      reportId,
    ]);
    expect((await script('lift', 'x')).status).toBe(2);
    expect((await script('show', Buffer.alloc(16, 2).toString('base64url'))).status).toBe(1);
  });
});

describe('moderation CLI against AWS (--aws)', () => {
  const credentials = {
    accessKeyId: 'AKIDEXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    sessionToken: 'session-token',
  };

  /** SigV4 computed from its specification, independently of the signer the CLI uses. */
  function expectedSignature(
    method: string,
    url: URL,
    headers: Headers,
    signedHeaders: string[],
    body: string,
    region: string,
  ): string {
    const amzDate = headers.get('x-amz-date')!;
    const date = amzDate.slice(0, 8);
    const query = [...url.searchParams]
      .map(([k, v]) => [encodeURIComponent(k), encodeURIComponent(v)])
      .sort(([a], [b]) => (a! < b! ? -1 : 1))
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
    const canonical = [
      method,
      url.pathname,
      query,
      ...signedHeaders.map((h) => `${h}:${headers.get(h)!.trim()}`),
      '',
      signedHeaders.join(';'),
      createHash('sha256').update(body).digest('hex'),
    ].join('\n');
    const scope = `${date}/${region}/execute-api/aws4_request`;
    const toSign = [
      'AWS4-HMAC-SHA256',
      amzDate,
      scope,
      createHash('sha256').update(canonical).digest('hex'),
    ].join('\n');
    let key: Buffer = createHmac('sha256', `AWS4${credentials.secretAccessKey}`)
      .update(date)
      .digest();
    for (const part of [region, 'execute-api', 'aws4_request']) {
      key = createHmac('sha256', key).update(part).digest();
    }
    return createHmac('sha256', key).update(toSign).digest('hex');
  }

  it('signs every request with SigV4 for execute-api in the URL’s region', async () => {
    const seen: { url: URL; method: string; headers: Headers; body: string }[] = [];
    const fakeFetch = (async (input: URL | RequestInfo, init?: RequestInit) => {
      seen.push({
        url: new URL(String(input)),
        method: init!.method!,
        headers: new Headers(init!.headers as Record<string, string>),
        body: (init!.body as string | undefined) ?? '',
      });
      return new Response(
        JSON.stringify({ address: sender.address, suspendedAt: 1, reason: 'r' }),
        {
          status: 200,
        },
      );
    }) as typeof fetch;
    const base = 'https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com';
    let stdout = '';
    for (const argv of [
      ['suspend', sender.address, '--reason', 'spam wave'],
      ['list', '--status', 'decided', '--limit', '10'],
    ]) {
      const code = await runModerate([...argv, '--aws', '--url', base], {
        env: {},
        stdout: (t) => {
          stdout += t;
        },
        stderr: (t) => {
          throw new Error(t);
        },
        fetch: fakeFetch,
        credentials: async () => credentials,
      });
      expect(code).toBe(0);
    }
    expect(stdout).toContain(`suspended ${sender.address}`);
    expect(seen).toHaveLength(2);
    expect(seen.map((r) => [r.method, r.url.pathname + r.url.search])).toEqual([
      ['PUT', `/v1/moderation/accounts/${sender.address}/suspension`],
      ['GET', '/v1/moderation/reports?status=decided&limit=10'],
    ]);
    for (const req of seen) {
      expect(req.headers.get('authorization')).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, /,
      );
      expect(req.headers.get('x-amz-security-token')).toBe('session-token');
    }
    expect(JSON.parse(seen[0]!.body)).toEqual({ reason: 'spam wave' });
    expect(seen[0]!.headers.get('content-type')).toBe('application/json');
  });

  it('computes the signature the specification gives', async () => {
    const seen: { url: URL; method: string; headers: Headers; body: string }[] = [];
    const fakeFetch = (async (input: URL | RequestInfo, init?: RequestInit) => {
      seen.push({
        url: new URL(String(input)),
        method: init!.method!,
        headers: new Headers(init!.headers as Record<string, string>),
        body: (init!.body as string | undefined) ?? '',
      });
      return new Response('{"reports":[]}', { status: 200 });
    }) as typeof fetch;
    const code = await runModerate(
      [
        'list',
        '--status',
        'decided',
        '--aws',
        '--url',
        'https://api.example.com',
        '--region',
        'us-west-2',
      ],
      {
        env: {},
        stdout: () => undefined,
        stderr: () => undefined,
        fetch: fakeFetch,
        credentials: async () => credentials,
      },
    );
    expect(code).toBe(0);
    const req = seen[0]!;
    const auth = req.headers.get('authorization')!;
    const match =
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/(\d{8})\/us-west-2\/execute-api\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
        auth,
      );
    expect(match, auth).not.toBeNull();
    const signed = match![2]!.split(';');
    expect(signed).toEqual(expect.arrayContaining(['host', 'x-amz-date', 'x-amz-security-token']));
    expect(req.headers.get('x-amz-security-token')).toBe('session-token');
    expect(match![3]).toBe(
      expectedSignature('GET', req.url, req.headers, signed, req.body, 'us-west-2'),
    );
  });

  it('needs a region', async () => {
    let stderr = '';
    const code = await runModerate(['list', '--aws', '--url', 'https://api.example.com'], {
      env: {},
      stdout: () => undefined,
      stderr: (t) => {
        stderr += t;
      },
      credentials: async () => credentials,
    });
    expect(code).toBe(2);
    expect(stderr).toContain('--aws needs a region');
  });
});

describe('terminalSafe', () => {
  it('escapes control, line-separator and direction characters and nothing else', () => {
    expect(terminalSafe('a\u0000b\nc\u009bd\u2028e\u2066f\ufeffg é 😀')).toBe(
      'a\\u{0}b\\u{a}c\\u{9b}d\\u{2028}e\\u{2066}f\\u{feff}g é 😀',
    );
  });
});
