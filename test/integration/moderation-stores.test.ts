/**
 * The moderation ports' contracts (docs/SERVICE.md §14.3) against the in-memory adapters and the
 * DynamoDB adapters on DynamoDB Local (a fresh table per store): reports (stored once, listed
 * newest first by status, decided, expired ones hidden and replaceable, sender counters with the
 * reporter set capped at 1,000), suspensions (on the account record and in the index, together),
 * and the audit log. Then the items as they are in the table: every report item expires with
 * the report, the counter names no reporter, audit entries expire after two years.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  DynamoAccountStore,
  DynamoAuditLog,
  DynamoReports,
  DynamoSuspensions,
} from '#functions/adapters/dynamodb/index.ts';
import {
  MemoryAccountStore,
  MemoryAuditLog,
  MemoryReports,
  MemorySuspensions,
} from '#functions/adapters/memory/index.ts';
import { startLocalServer } from '#functions/api/local.ts';
import { randomBytes } from '#functions/domain/crypto.ts';
import type { AuditEntry, AuditLog } from '#functions/domain/moderation-ports.ts';
import type { AccountStore } from '#functions/domain/ports.ts';
import type { ReportStore, StoredReport } from '#functions/domain/report-ports.ts';
import type { SuspensionStore } from '#functions/domain/suspension-ports.ts';
import { decodeRevocationList } from '#sdk/wire/revocations.ts';
import { useLocalAws } from '../helpers/use-local-aws.ts';
import { newAccount } from '../unit/functions/fixtures.ts';
import { account, device } from './contracts/account-store.ts';

const local = useLocalAws();

/**
 * Now, not a fixed time: DynamoDB Local runs TTL deletion by the wall clock, so items whose
 * `ttl` is in the real past vanish while a test reads them.
 */
const T = Math.floor(Date.now() / 1000) * 1000;
const RETENTION = 180 * 86_400_000;

function storedReport(overrides: Partial<StoredReport> = {}, messages = 2): StoredReport {
  const createdAt = overrides.createdAt ?? T;
  return {
    reportId: Buffer.from(randomBytes(16)).toString('base64url'),
    status: 'open',
    reason: 'harassment',
    createdAt,
    expiresAt: createdAt + RETENTION,
    reporter: { address: newAccount().address, deviceId: 1 },
    sender: { address: newAccount().address, deviceId: 2 },
    messages: Array.from({ length: messages }, (_, i) => ({
      messageId: randomBytes(16),
      receivedAt: T - i * 3_600_000,
      stamp: randomBytes(32),
      content: randomBytes(1000 + i),
    })),
    ...overrides,
  };
}

function reportStoreContract(name: string, make: () => Promise<ReportStore>): void {
  describe(`ReportStore contract: ${name}`, () => {
    it('stores a report once and reads it back exactly', async () => {
      const store = await make();
      const r = storedReport({}, 6);
      expect(await store.add(r, randomBytes(32))).toBe(true);
      expect(
        await store.add(
          { ...r, reason: 'spam', messages: r.messages.slice(0, 1) },
          randomBytes(32),
        ),
      ).toBe(false);
      expect(await store.get(r.reportId, T)).toEqual(r);
      expect(
        await store.get(Buffer.from(randomBytes(16)).toString('base64url'), T),
      ).toBeUndefined();
    });

    it('stores the largest messages (96 KiB each, six of them)', async () => {
      const store = await make();
      const r = storedReport();
      const big = {
        ...r,
        messages: Array.from({ length: 6 }, () => ({
          ...r.messages[0]!,
          content: randomBytes(98_304),
        })),
      };
      expect(await store.add(big, randomBytes(32))).toBe(true);
      expect((await store.get(r.reportId, T))?.messages).toEqual(big.messages);
    });

    it('lists each status newest first, page by page', async () => {
      const store = await make();
      const reports = [0, 1, 2, 3].map((i) => storedReport({ createdAt: T + i * 1000 }));
      for (const r of reports) await store.add(r, randomBytes(32));
      const ids = (rs: { reportId: string }[]) => rs.map((r) => r.reportId);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.list('open', { limit: 3, now: T, ...(cursor ? { cursor } : {}) });
        seen.push(...ids(page.items));
        cursor = page.cursor;
      } while (cursor);
      expect(seen).toEqual(ids([...reports].reverse()));
      const first = (await store.list('open', { limit: 10, now: T })).items[0];
      expect(first).toEqual({
        reportId: reports[3]!.reportId,
        status: 'open',
        reason: 'harassment',
        createdAt: T + 3000,
        expiresAt: T + 3000 + RETENTION,
        sender: reports[3]!.sender,
        messageCount: 2,
      });
    });

    it('decides a report, moving it between the lists, and changes a decision', async () => {
      const store = await make();
      const r = storedReport();
      await store.add(r, randomBytes(32));
      const decision = {
        decision: 'violation' as const,
        decidedAt: T + 5,
        actor: 'arn:aws:iam::1:user/a',
        note: 'n',
      };
      expect(await store.decide(r.reportId, decision, T + 5)).toBe(true);
      expect(await store.get(r.reportId, T + 5)).toEqual({ ...r, status: 'decided', decision });
      expect((await store.list('open', { limit: 10, now: T + 5 })).items).toEqual([]);
      expect((await store.list('decided', { limit: 10, now: T + 5 })).items).toEqual([
        expect.objectContaining({
          reportId: r.reportId,
          status: 'decided',
          decision: { decision: 'violation', decidedAt: T + 5 },
        }),
      ]);
      const changed = { decision: 'dismiss' as const, decidedAt: T + 9, actor: 'local' };
      expect(await store.decide(r.reportId, changed, T + 9)).toBe(true);
      expect((await store.get(r.reportId, T + 9))?.decision).toEqual(changed);
      expect((await store.list('decided', { limit: 10, now: T + 9 })).items).toHaveLength(1);
      expect(
        await store.decide(Buffer.from(randomBytes(16)).toString('base64url'), changed, T),
      ).toBe(false);
    });

    it('hides an expired report and stores a new one under its id', async () => {
      const store = await make();
      const r = storedReport({}, 3);
      await store.add(r, randomBytes(32));
      const end = r.expiresAt + 1000;
      expect(await store.get(r.reportId, end)).toBeUndefined();
      expect((await store.list('open', { limit: 10, now: end })).items).toEqual([]);
      expect(
        await store.decide(r.reportId, { decision: 'dismiss', decidedAt: end, actor: 'x' }, end),
      ).toBe(false);
      const again = {
        ...r,
        createdAt: end,
        expiresAt: end + RETENTION,
        messages: r.messages.slice(0, 1),
      };
      expect(await store.add(again, randomBytes(32))).toBe(true);
      expect(await store.get(r.reportId, end)).toEqual(again);
    });

    it('counts reports and distinct reporters per sender', async () => {
      const store = await make();
      const sender = { address: newAccount().address, deviceId: 1 };
      const one = randomBytes(32);
      const two = randomBytes(32);
      await store.add(storedReport({ sender }), one);
      await store.add(storedReport({ sender, createdAt: T + 10 }), one);
      await store.add(storedReport({ sender: { ...sender, deviceId: 3 }, createdAt: T + 20 }), two);
      expect(await store.senderStats(sender.address, T + 20)).toEqual({
        address: sender.address,
        verifiedReports: 3,
        distinctReporters: 2,
        lastReportAt: T + 20,
      });
      expect(await store.senderStats(newAccount().address, T)).toBeUndefined();
      expect(await store.senderStats(sender.address, T + 20 + RETENTION + 1000)).toBeUndefined();
    });
  });
}

function suspensionContract(
  name: string,
  make: () => Promise<{ accounts: AccountStore; suspensions: SuspensionStore }>,
): void {
  describe(`SuspensionStore contract: ${name}`, () => {
    it('suspends on the account record and in the index, keeps the first time, and lifts both', async () => {
      const { accounts, suspensions } = await make();
      const a = account();
      await accounts.create(a, device(1));
      expect(await suspensions.suspend(newAccount().address, T, 'x')).toBeUndefined();
      expect(await suspensions.suspend(a.address, T, 'first')).toEqual({
        address: a.address,
        suspendedAt: T,
        reason: 'first',
      });
      expect((await accounts.get(a.address))?.account).toEqual({
        ...a,
        suspendedAt: T,
        suspensionReason: 'first',
      });
      expect(await suspensions.suspend(a.address, T + 50, 'second')).toEqual({
        address: a.address,
        suspendedAt: T,
        reason: 'second',
      });
      expect(await suspensions.recent(T - 1, 10)).toEqual([{ address: a.address, suspendedAt: T }]);
      expect(await suspensions.recent(T, 10)).toEqual([]);
      expect(await suspensions.lift(a.address)).toEqual({
        address: a.address,
        suspendedAt: T,
        reason: 'second',
      });
      expect((await accounts.get(a.address))?.account).toEqual(a);
      expect(await suspensions.recent(T - 1, 10)).toEqual([]);
      expect(await suspensions.lift(a.address)).toBeUndefined();
      // Settings changes leave a suspension alone.
      await suspensions.suspend(a.address, T + 100, 'third');
      await accounts.updateSettings(a.address, { unrestricted: true });
      expect((await accounts.get(a.address))?.account.suspendedAt).toBe(T + 100);
    });

    it('lists the newest suspensions after a time, at most the limit', async () => {
      const { accounts, suspensions } = await make();
      const addresses: string[] = [];
      for (let i = 0; i < 5; i++) {
        const a = account();
        await accounts.create(a, device(1));
        await suspensions.suspend(a.address, T + i * 10, 'r');
        addresses.push(a.address);
      }
      expect(await suspensions.recent(T + 5, 3)).toEqual([
        { address: addresses[4], suspendedAt: T + 40 },
        { address: addresses[3], suspendedAt: T + 30 },
        { address: addresses[2], suspendedAt: T + 20 },
      ]);
      expect((await suspensions.recent(T + 15, 100)).map((e) => e.address)).toEqual([
        addresses[4],
        addresses[3],
        addresses[2],
      ]);
    });
  });
}

function auditContract(name: string, make: () => Promise<AuditLog>): void {
  describe(`AuditLog contract: ${name}`, () => {
    it('lists entries newest first, page by page, exactly as appended', async () => {
      const log = await make();
      const entries: AuditEntry[] = Array.from({ length: 5 }, (_, i) => ({
        id: `${String(T + i).padStart(13, '0')}-${Buffer.from(randomBytes(8)).toString('hex')}`,
        time: T + i,
        actor: i % 2 ? 'local' : 'arn:aws:sts::123456789012:assumed-role/Mods/jane',
        action: (['decision', 'suspend', 'lift'] as const)[i % 3]!,
        target: newAccount().address,
        ...(i % 3 === 0 ? { decision: 'violation' as const } : {}),
        ...(i === 1 ? { note: 'with a note' } : {}),
      }));
      for (const e of entries) await log.append(e);
      const page1 = await log.list({ limit: 3 });
      expect(page1.items).toEqual([entries[4], entries[3], entries[2]]);
      const page2 = await log.list({ limit: 3, cursor: page1.cursor! });
      expect(page2.items).toEqual([entries[1], entries[0]]);
      if (page2.cursor)
        expect((await log.list({ limit: 3, cursor: page2.cursor })).items).toEqual([]);
    });
  });
}

reportStoreContract('memory', async () => new MemoryReports());
reportStoreContract(
  'dynamodb',
  async () => new DynamoReports(local.aws.dynamodb, await local.aws.createTable()),
);
suspensionContract('memory', async () => {
  const accounts = new MemoryAccountStore();
  return { accounts, suspensions: new MemorySuspensions(accounts) };
});
suspensionContract('dynamodb', async () => {
  const table = await local.aws.createTable();
  return {
    accounts: new DynamoAccountStore(local.aws.dynamodb, table),
    suspensions: new DynamoSuspensions(local.aws.dynamodb, table),
  };
});
auditContract('memory', async () => new MemoryAuditLog());
auditContract(
  'dynamodb',
  async () => new DynamoAuditLog(local.aws.dynamodb, await local.aws.createTable()),
);

describe('reporter set cap', () => {
  it('counts at most 1,000 distinct reporters (memory)', async () => {
    const store = new MemoryReports();
    const sender = { address: newAccount().address, deviceId: 1 };
    for (let i = 0; i < 1001; i++) await store.add(storedReport({ sender }), randomBytes(32));
    expect(await store.senderStats(sender.address, T)).toMatchObject({
      verifiedReports: 1001,
      distinctReporters: 1000,
    });
  });

  it('counts at most 1,000 distinct reporters, but every report (dynamodb)', async () => {
    const table = await local.aws.createTable();
    const store = new DynamoReports(local.aws.dynamodb, table);
    const sender = { address: newAccount().address, deviceId: 1 };
    const known = randomBytes(32);
    const full = [known, ...Array.from({ length: 999 }, () => randomBytes(32))];
    await local.aws.dynamodb.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          pk: { S: `rpts#${sender.address}` },
          sk: { S: 'rpts' },
          v: { N: '1' },
          verifiedReports: { N: '1000' },
          reporters: { BS: full },
          lastReportAt: { N: String(T) },
          ttl: { N: String(Math.ceil((T + RETENTION) / 1000)) },
        },
      }),
    );
    await store.add(storedReport({ sender, createdAt: T + 1 }), randomBytes(32));
    await store.add(storedReport({ sender, createdAt: T + 2 }), known);
    expect(await store.senderStats(sender.address, T + 2)).toEqual({
      address: sender.address,
      verifiedReports: 1002,
      distinctReporters: 1000,
      lastReportAt: T + 2,
    });
  });
});

describe('moderation items in the table', () => {
  it('keep report content as binary with the report’s expiry on every item; the counter names no reporter', async () => {
    const table = await local.aws.createTable();
    const reports = new DynamoReports(local.aws.dynamodb, table);
    const audit = new DynamoAuditLog(local.aws.dynamodb, table);
    const r = storedReport({}, 2);
    await reports.add(r, randomBytes(32));
    await audit.append({
      id: `${T}-x`,
      time: T,
      actor: 'local',
      action: 'lift',
      target: r.sender.address,
    });
    const { Items = [] } = await local.aws.dynamodb.send(new ScanCommand({ TableName: table }));
    const byKey = new Map(Items.map((i) => [`${i['pk']!.S}|${i['sk']!.S}`, i]));
    const reportTtl = String(Math.ceil(r.expiresAt / 1000));
    expect([...byKey.keys()].sort()).toEqual(
      [
        `audit|${T}-x`,
        `rpt#${r.reportId}|m#0`,
        `rpt#${r.reportId}|m#1`,
        `rpt#${r.reportId}|report`,
        `rptq#open|${String(T).padStart(13, '0')}#${r.reportId}`,
        `rpts#${r.sender.address}|rpts`,
      ].sort(),
    );
    for (const [key, item] of byKey) {
      if (key.startsWith('audit|')) {
        expect(item['ttl']!.N).toBe(String(Math.ceil((T + 730 * 86_400_000) / 1000)));
      } else {
        expect(item['ttl']!.N, key).toBe(reportTtl);
      }
    }
    expect(byKey.get(`rpt#${r.reportId}|m#1`)!['content']!.B).toEqual(r.messages[1]!.content);
    const counter = JSON.stringify(byKey.get(`rpts#${r.sender.address}|rpts`));
    expect(counter).not.toContain(r.reporter.address);
    const listing = JSON.stringify(
      byKey.get(`rptq#open|${String(T).padStart(13, '0')}#${r.reportId}`),
    );
    expect(listing).not.toContain(r.reporter.address);
  });
});

describe('local server over DynamoDB Local', () => {
  it('serves the moderation API with its token and suspends on the account item', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sealpost-moderation-'));
    const table = `moderation-${Date.now()}`;
    const server = await startLocalServer({
      port: 0,
      dataDir,
      aws: {
        dynamodb: local.aws.dynamoEndpoint,
        s3: local.aws.s3Endpoint,
        table,
        bucket: local.aws.bucket,
      },
      objectStorage: 'memory',
      webPush: false,
      log: () => undefined,
    });
    try {
      const accounts = new DynamoAccountStore(local.aws.dynamodb, table);
      const a = account();
      await accounts.create(a, device(1));
      const path = `/v1/moderation/accounts/${a.address}/suspension`;
      const refused = await fetch(`${server.url}${path}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'x' }),
      });
      expect(refused.status).toBe(401);
      const res = await fetch(`${server.url}${path}`, {
        method: 'PUT',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${server.moderatorToken}`,
        },
        body: JSON.stringify({ reason: 'spam wave' }),
      });
      expect(res.status).toBe(200);
      const { suspendedAt } = (await res.json()) as { suspendedAt: number };
      expect((await accounts.get(a.address))?.account).toMatchObject({
        suspendedAt,
        suspensionReason: 'spam wave',
      });
      const list = (await (await fetch(`${server.url}/v1/certificates/revocations`)).json()) as {
        revocations: string;
      };
      const decoded = decodeRevocationList(Buffer.from(list.revocations, 'base64url'));
      expect(decoded.revocations).toEqual([{ address: a.address, suspendedAt }]);
      const audit = await fetch(`${server.url}/v1/moderation/audit`, {
        headers: { authorization: `Bearer ${server.moderatorToken}` },
      });
      expect(((await audit.json()) as { entries: unknown[] }).entries).toEqual([
        expect.objectContaining({ actor: 'local', action: 'suspend', target: a.address }),
      ]);
    } finally {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
