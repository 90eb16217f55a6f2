/**
 * Reports, moderation and suspension end to end on the local stack (docs/SAFETY.md): the local
 * server (`npm start`'s) over DynamoDB Local and s3rver; Alice, Bob and Carol with two devices
 * for Alice and Bob talk sealed; Bob's two devices and Carol report Alice; an operator works
 * through the moderation CLI (`npm run moderate`, a child process): lists, reads the verified
 * report (sender, recipient, times, content), sees the per-sender count from distinct
 * reporters, records a decision, suspends Alice. Then: no new certificate for Alice, her
 * identified sends refused, her sealed message sent under an old certificate dropped by Bob's
 * client once it refreshed the revocation list; the audit log names every action; lifting the
 * suspension restores Alice. Last, a dump of every item, object and log line: the messages
 * nobody reported appear nowhere, reported content appears only in report items and never in
 * a log line, and the stored message records carry exactly the attributes they carried before
 * franking (docs/SERVICE.md §8.1): franking adds no per-message state.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalServer, startLocalServer } from '#functions/api/local.ts';
import {
  ApiError,
  type ClientOptions,
  type IncomingMessage,
  SealpostClient,
  SenderSuspendedError,
} from '#sdk/client/index.ts';
import { MemoryStore } from '#sdk/state/memory-store.ts';
import { utf8 } from '#sdk/util/bytes.ts';
import { type LocalAws, startLocalAws } from '../helpers/local-aws.ts';
import { isMessageRecord } from './dump-checks.ts';
import { dumpServer, encodings, type ServerDump } from './server-dump.ts';
import type { E2eStack } from './stack.ts';

const run = promisify(execFile);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * The attributes of a stored message record (docs/SERVICE.md §8.1), as they were before
 * franking: franking must not add any (the commitment rides in the envelope, the stamp is
 * computed at delivery).
 */
const MESSAGE_RECORD_ATTRIBUTES = ['pk', 'receivedAt', 'size', 'sk', 'ttl', 'v'];
/** Present only on records of identified sends (the sender the service knows anyway). */
const IDENTIFIED_ATTRIBUTES = ['sourceAddress', 'sourceDevice'];
/**
 * Present exactly together, and only on records of multi-recipient sends (docs/SERVICE.md §8.5):
 * the device's header inline and the shared payload's id.
 */
const SHARED_PAYLOAD_ATTRIBUTES = ['body', 'pay'];

let aws: LocalAws;
let server: LocalServer;
let dataDir: string;
const logs: string[] = [];
let offset = 0;
const now = () => Date.now() + offset;

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=sealpost-source',
        'scripts/moderate.ts',
        ...args,
        '--url',
        server.url,
        '--data-dir',
        dataDir,
      ],
      { cwd: process.cwd(), env: { ...process.env, NODE_OPTIONS: '' } },
    );
    return { code: 0, out: stdout, err: stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? 1, out: err.stdout ?? '', err: err.stderr ?? '' };
  }
}

const cliJson = async (...args: string[]) => {
  const res = await cli(...args, '--json');
  expect(res.err, res.err).toBe('');
  expect(res.code).toBe(0);
  return JSON.parse(res.out);
};

beforeAll(async () => {
  aws = await startLocalAws();
  dataDir = await mkdtemp(join(tmpdir(), 'sealpost-moderation-'));
  server = await startLocalServer({
    port: 0,
    dataDir,
    aws: {
      dynamodb: aws.dynamoEndpoint,
      s3: aws.s3Endpoint,
      table: 'moderation-table',
      bucket: 'moderation-bucket',
    },
    objectStorage: 'memory',
    clock: now,
    log: (line) => logs.push(line),
  });
}, 120_000);

afterAll(async () => {
  await server?.close();
  await aws?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('reports and moderation on the local stack', () => {
  it('reports, verifies, decides and suspends through the CLI, and keeps nothing else', async () => {
    const options = (): ClientOptions => ({
      baseUrl: server.url,
      store: new MemoryStore(),
      trust: { trustRoot: server.trustRoot },
      now,
    });
    const alice = await SealpostClient.register(options());
    const alicePhone = await SealpostClient.link({
      ...options(),
      account: alice.exportAccountKey()!,
    });
    const bob = await SealpostClient.register(options());
    const bobPhone = await SealpostClient.link({ ...options(), account: bob.exportAccountKey()! });
    const carol = await SealpostClient.register(options());
    for (const [a, b] of [
      [alice, bob],
      [alice, carol],
      [bob, carol],
    ] as const) {
      for (const x of a === alice ? [alice, alicePhone] : a === bob ? [bob, bobPhone] : [a]) {
        await x.addContact(b.contactCard());
      }
      for (const y of b === bob ? [bob, bobPhone] : [b]) await y.addContact(a.contactCard());
    }

    const threat = 'hand it over or else, this is your last warning';
    const photo = crypto.getRandomValues(new Uint8Array(3_000));
    for (const t of ['hey', 'answer me']) await alice.send(bob.address, t);
    await alice.send(bob.address, {
      text: threat,
      attachments: [{ data: photo, contentType: 'image/jpeg' }],
    });
    await alice.send(carol.address, 'you too, carol');
    const unreported = [
      'carol to bob: the keys are under the mat',
      'bob to alice: please stop writing to me',
    ];
    await carol.send(bob.address, unreported[0]!);
    await bob.send(alice.address, unreported[1]!);

    const received = async (c: SealpostClient) => {
      const { messages, failures } = await c.receiveBatch();
      expect(failures).toEqual([]);
      return messages;
    };
    const byText = (ms: readonly IncomingMessage[], text: string) =>
      ms.find((m) => m.text === text)!;
    const bobSaw = await received(bob);
    const bobPhoneSaw = await received(bobPhone);
    const carolSaw = await received(carol);
    await received(alice);
    await received(alicePhone);
    expect(bobSaw.map((m) => m.text)).toEqual(['hey', 'answer me', threat, unreported[0]]);
    expect(byText(bobSaw, threat).reportable).toBe(true);

    // Two devices of one account and another account report Alice.
    const report = await bob.report(byText(bobSaw, threat), {
      reason: 'harassment',
      includePrevious: 2,
    });
    expect(report.duplicate).toBe(false);
    const fromPhone = await bobPhone.report(byText(bobPhoneSaw, threat), { reason: 'harassment' });
    expect(fromPhone.reportId).not.toBe(report.reportId);
    await carol.report(byText(carolSaw, 'you too, carol'), { reason: 'spam' });

    // The operator, through the CLI.
    const listed = await cliJson('list');
    expect(listed.reports.map((r: { reportId: string }) => r.reportId)).toEqual(
      expect.arrayContaining([report.reportId, fromPhone.reportId]),
    );
    expect(listed.reports).toHaveLength(3);
    const shown = await cliJson('show', report.reportId);
    const shownText = JSON.stringify(shown);
    expect(shownText).toContain(alice.address);
    expect(shownText).toContain(bob.address);
    expect(shownText).toContain(threat);
    expect(shownText).toContain('answer me');
    expect(shownText).not.toContain(unreported[0]);
    const readable = await cli('show', report.reportId);
    expect(readable.code).toBe(0);
    expect(readable.out).toContain('harassment');
    const stats = await cliJson('sender', alice.address);
    expect(stats).toMatchObject({
      address: alice.address,
      verifiedReports: 3,
      distinctReporters: 2,
    });
    expect((await cli('decide', report.reportId, 'violation', '--note', 'threats')).code).toBe(0);
    expect((await cli('suspend', alice.address, '--reason', 'threats after a warning')).code).toBe(
      0,
    );
    const refused = await cli('show', 'AAAAAAAAAAAAAAAAAAAAAA');
    expect(refused.code).toBe(1);

    // Alice's sealed send still works at the service (it cannot tell who sends sealed), under
    // the certificate she holds; Bob's client drops it once its revocation list is fresh.
    await alice.send(bob.address, 'after the suspension');
    offset += 11 * MINUTE;
    const after = await bob.receiveBatch();
    expect(after.messages.map((m) => m.text)).not.toContain('after the suspension');
    expect(after.failures.map((f) => f.error)).toEqual([expect.any(SenderSuspendedError)]);
    // No new certificate once hers expires, and her identified sends are refused.
    offset += 25 * HOUR;
    const refusedSend = await alice.send(bob.address, 'a day later').catch((e: unknown) => e);
    expect(refusedSend).toBeInstanceOf(ApiError);
    expect((refusedSend as ApiError).code).toBe('ACCOUNT_SUSPENDED');
    const identified = await alice
      .send(carol.address, 'identified', { identified: true })
      .catch((e: unknown) => e);
    expect((identified as ApiError).code).toBe('ACCOUNT_SUSPENDED');

    const audit = await cliJson('audit');
    const actions = audit.entries.map((e: { action: string; actor: string }) => [
      e.action,
      e.actor,
    ]);
    expect(actions).toEqual(
      expect.arrayContaining([
        [expect.stringMatching(/decision|decide/), 'local'],
        [expect.stringMatching(/suspend/), 'local'],
      ]),
    );

    expect((await cli('lift', alice.address)).code).toBe(0);
    await alice.send(bob.address, 'sorry');
    expect((await bob.receiveBatch()).messages.map((m) => m.text)).toEqual(['sorry']);
    await received(carol);

    // Everything the server keeps.
    const dump = await dumpServer({
      aws,
      table: 'moderation-table',
      bucket: 'moderation-bucket',
      logs,
      objects: server.objectStorage,
      objectsDir: undefined,
    } as unknown as E2eStack);
    checkDump(dump, { reported: [threat, 'answer me', 'you too, carol'], unreported });
  }, 300_000);
});

function checkDump(
  dump: ServerDump,
  texts: { reported: readonly string[]; unreported: readonly string[] },
): void {
  const all = [...dump.items, ...dump.objects, ...dump.logs, ...dump.files];
  const forms = (t: string) => [t, ...encodings(utf8(t))];
  const holding = (t: string) =>
    all.filter((r) => forms(t).some((f) => r.text.includes(f))).map((r) => `${r.kind} ${r.where}`);
  // Messages nobody reported: nowhere at all.
  for (const t of texts.unreported) expect(holding(t), t).toEqual([]);
  // Reported content: in report items (a positive control: the dump sees plaintext), in no
  // log line and in no other item or object.
  for (const t of texts.reported) {
    const where = holding(t);
    expect(where.length, t).toBeGreaterThan(0);
    expect(
      where.filter((w) => !w.startsWith('item rpt#')),
      t,
    ).toEqual([]);
  }
  // Franking adds no per-message state: message records keep exactly their attributes.
  const records = dump.items.filter((r) => isMessageRecord(r) && r.where.startsWith('mbx#'));
  expect(records.length).toBeGreaterThan(0);
  for (const r of records) {
    const all = r.names ?? [];
    const shared = SHARED_PAYLOAD_ATTRIBUTES.filter((n) => all.includes(n));
    expect(shared.length === 0 || shared.length === SHARED_PAYLOAD_ATTRIBUTES.length, r.where).toBe(
      true,
    );
    const names = all.filter(
      (n) => !IDENTIFIED_ATTRIBUTES.includes(n) && !SHARED_PAYLOAD_ATTRIBUTES.includes(n),
    );
    expect(names.sort(), r.where).toEqual(MESSAGE_RECORD_ATTRIBUTES);
  }
}
