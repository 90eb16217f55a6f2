/**
 * The exact DynamoDB commands of the moderation adapters (docs/SERVICE.md §8.1, §14.3), with
 * the client mocked: the report transaction and its duplicate condition, the sender counter and
 * its fallbacks (full reporter set, expired item), listings and cursors, decisions, suspensions
 * (account item and index together), the audit log, and the account store reading suspensions.
 */
import {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoAccountStore } from '#functions/adapters/dynamodb/dynamo-account-store.ts';
import { DynamoAuditLog } from '#functions/adapters/dynamodb/dynamo-audit-log.ts';
import { DynamoReports } from '#functions/adapters/dynamodb/dynamo-reports.ts';
import { DynamoSuspensions } from '#functions/adapters/dynamodb/dynamo-suspensions.ts';
import { ServiceError, UnavailableError } from '#functions/domain/errors.ts';
import type { StoredReport } from '#functions/domain/report-ports.ts';

const ddb = mockClient(DynamoDBClient);
const client = new DynamoDBClient({ region: 'us-east-1' });
const TABLE = 'sealpost';
const SENDER = 'abcdefghijklmnopqrstuvwxyz234567';
const REPORTER = 'zyxwvutsrqponmlkjihgfedcba765432';
const ID = 'AQEBAQEBAQEBAQEBAQEBAQ';
const T = 1_750_000_000_123;
const EXPIRES = T + 180 * 86_400_000;
const TTL = String(Math.ceil(EXPIRES / 1000));
const HASH = new Uint8Array(32).fill(7);

const conditionFailed = () =>
  Object.assign(new Error('failed'), { name: 'ConditionalCheckFailedException' });
const cancelled = () =>
  Object.assign(new Error('cancelled'), {
    name: 'TransactionCanceledException',
    CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }],
  });
const throttled = () => Object.assign(new Error('slow'), { name: 'ThrottlingException' });

function report(messages = 2): StoredReport {
  return {
    reportId: ID,
    status: 'open',
    reason: 'spam',
    createdAt: T,
    expiresAt: EXPIRES,
    reporter: { address: REPORTER, deviceId: 2 },
    sender: { address: SENDER, deviceId: 1 },
    messages: Array.from({ length: messages }, (_, i) => ({
      messageId: new Uint8Array(16).fill(i),
      receivedAt: T - 3_600_000 * i,
      stamp: new Uint8Array(32).fill(10 + i),
      content: new Uint8Array(100).fill(20 + i),
    })),
  };
}

const REPORT_ITEM = {
  pk: { S: `rpt#${ID}` },
  sk: { S: 'report' },
  v: { N: '1' },
  status: { S: 'open' },
  reason: { S: 'spam' },
  createdAt: { N: String(T) },
  expiresAt: { N: String(EXPIRES) },
  reporterAddress: { S: REPORTER },
  reporterDevice: { N: '2' },
  senderAddress: { S: SENDER },
  senderDevice: { N: '1' },
  messageCount: { N: '2' },
  ttl: { N: TTL },
};

const messageItem = (i: number) => ({
  pk: { S: `rpt#${ID}` },
  sk: { S: `m#${i}` },
  v: { N: '1' },
  messageId: { B: new Uint8Array(16).fill(i) },
  receivedAt: { N: String(T - 3_600_000 * i) },
  stamp: { B: new Uint8Array(32).fill(10 + i) },
  content: { B: new Uint8Array(100).fill(20 + i) },
  ttl: { N: TTL },
});

const QUEUE_KEY = { pk: { S: 'rptq#open' }, sk: { S: `${String(T).padStart(13, '0')}#${ID}` } };
const QUEUE_ITEM = {
  ...QUEUE_KEY,
  v: { N: '1' },
  reportId: { S: ID },
  reason: { S: 'spam' },
  createdAt: { N: String(T) },
  expiresAt: { N: String(EXPIRES) },
  senderAddress: { S: SENDER },
  senderDevice: { N: '1' },
  messageCount: { N: '2' },
  ttl: { N: TTL },
};

beforeEach(() => {
  ddb.reset();
});

describe('DynamoReports.add', () => {
  it('writes the report, its messages and its listing item in one conditional transaction, then counts it', async () => {
    ddb.on(TransactWriteItemsCommand).resolves({});
    ddb.on(UpdateItemCommand).resolves({});
    expect(await new DynamoReports(client, TABLE).add(report(), HASH)).toBe(true);
    expect(ddb.commandCalls(TransactWriteItemsCommand)[0]!.args[0].input).toEqual({
      TransactItems: [
        {
          Put: {
            TableName: TABLE,
            Item: REPORT_ITEM,
            ConditionExpression: 'attribute_not_exists(pk) OR #ttl <= :now',
            ExpressionAttributeNames: { '#ttl': 'ttl' },
            ExpressionAttributeValues: { ':now': { N: String(Math.floor(T / 1000)) } },
          },
        },
        { Put: { TableName: TABLE, Item: messageItem(0) } },
        { Put: { TableName: TABLE, Item: messageItem(1) } },
        { Put: { TableName: TABLE, Item: QUEUE_ITEM } },
      ],
    });
    const counter = ddb.commandCalls(UpdateItemCommand)[0]!.args[0].input;
    expect(counter).toMatchObject({
      TableName: TABLE,
      Key: { pk: { S: `rpts#${SENDER}` }, sk: { S: 'rpts' } },
      UpdateExpression: 'SET #v = :v, #last = :at, #ttl = :ttl ADD #reports :one, #reporters :set',
      ExpressionAttributeValues: {
        ':v': { N: '1' },
        ':at': { N: String(T) },
        ':ttl': { N: TTL },
        ':one': { N: '1' },
        ':now': { N: String(Math.floor(T / 1000)) },
        ':set': { BS: [HASH] },
        ':hash': { B: HASH },
        ':cap': { N: '1000' },
      },
    });
    expect(counter.ConditionExpression).toContain('size(#reporters) < :cap');
    expect(counter.ConditionExpression).toContain('contains(#reporters, :hash)');
  });

  it('answers false for a live report with the same id and counts nothing', async () => {
    ddb.on(TransactWriteItemsCommand).rejects(cancelled());
    expect(await new DynamoReports(client, TABLE).add(report(), HASH)).toBe(false);
    expect(ddb.commandCalls(UpdateItemCommand)).toHaveLength(0);
  });

  it('counts the report but not the reporter when the reporter set is full', async () => {
    ddb.on(TransactWriteItemsCommand).resolves({});
    ddb.on(UpdateItemCommand).rejectsOnce(conditionFailed()).resolves({});
    ddb.on(GetItemCommand).resolves({
      Item: { ttl: { N: String(Math.floor(T / 1000) + 10) }, v: { N: '1' } },
    });
    await new DynamoReports(client, TABLE).add(report(), HASH);
    const second = ddb.commandCalls(UpdateItemCommand)[1]!.args[0].input;
    expect(second.UpdateExpression).toBe('SET #v = :v, #last = :at, #ttl = :ttl ADD #reports :one');
    expect(second.ConditionExpression).toBe('#ttl > :now');
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(0);
  });

  it('starts the counter over when the stored one has expired', async () => {
    ddb.on(TransactWriteItemsCommand).resolves({});
    ddb.on(UpdateItemCommand).rejects(conditionFailed());
    ddb.on(GetItemCommand).resolves({ Item: { ttl: { N: '5' }, v: { N: '1' } } });
    ddb.on(PutItemCommand).resolves({});
    await new DynamoReports(client, TABLE).add(report(), HASH);
    expect(ddb.commandCalls(PutItemCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Item: {
        pk: { S: `rpts#${SENDER}` },
        sk: { S: 'rpts' },
        v: { N: '1' },
        verifiedReports: { N: '1' },
        reporters: { BS: [HASH] },
        lastReportAt: { N: String(T) },
        ttl: { N: TTL },
      },
      ConditionExpression: 'attribute_not_exists(#ttl) OR #ttl <= :now',
      ExpressionAttributeNames: { '#ttl': 'ttl' },
      ExpressionAttributeValues: { ':now': { N: String(Math.floor(T / 1000)) } },
    });
  });

  it('turns throttling into UNAVAILABLE', async () => {
    ddb.on(TransactWriteItemsCommand).rejects(throttled());
    await expect(new DynamoReports(client, TABLE).add(report(), HASH)).rejects.toBeInstanceOf(
      UnavailableError,
    );
  });
});

describe('DynamoReports reads and decisions', () => {
  it('reads a report and exactly its messages, strongly consistent; hides an expired one', async () => {
    const stale = { ...messageItem(2), sk: { S: 'm#2' } };
    ddb.on(QueryCommand).resolves({ Items: [messageItem(0), messageItem(1), stale, REPORT_ITEM] });
    const got = await new DynamoReports(client, TABLE).get(ID, T);
    expect(ddb.commandCalls(QueryCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: `rpt#${ID}` } },
      ConsistentRead: true,
    });
    expect(got).toEqual(report());
    expect(await new DynamoReports(client, TABLE).get(ID, EXPIRES)).toBeUndefined();
  });

  it('lists newest first from the status partition and hands the last key back as the cursor', async () => {
    const last = { pk: { S: 'rptq#open' }, sk: { S: '0000000000001#x' } };
    ddb.on(QueryCommand).resolves({ Items: [QUEUE_ITEM], LastEvaluatedKey: last });
    const store = new DynamoReports(client, TABLE);
    const page = await store.list('open', { limit: 10, now: T });
    expect(page.items).toEqual([
      {
        reportId: ID,
        status: 'open',
        reason: 'spam',
        createdAt: T,
        expiresAt: EXPIRES,
        sender: { address: SENDER, deviceId: 1 },
        messageCount: 2,
      },
    ]);
    expect(Buffer.from(page.cursor!, 'base64url').toString()).toBe('0000000000001#x');
    await store.list('open', { limit: 10, now: T, cursor: page.cursor! });
    expect(ddb.commandCalls(QueryCommand)[1]!.args[0].input).toEqual({
      TableName: TABLE,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: 'rptq#open' } },
      ScanIndexForward: false,
      Limit: 10,
      ConsistentRead: true,
      ExclusiveStartKey: last,
    });
    await expect(store.list('open', { limit: 10, now: T, cursor: '!!' })).rejects.toBeInstanceOf(
      ServiceError,
    );
    expect((await store.list('open', { limit: 10, now: EXPIRES })).items).toEqual([]);
  });

  it('decides an open report: updates it, lists it as decided, removes it from the open list', async () => {
    ddb.on(GetItemCommand).resolves({ Item: REPORT_ITEM });
    ddb.on(TransactWriteItemsCommand).resolves({});
    const decision = {
      decision: 'violation' as const,
      decidedAt: T + 5,
      actor: 'arn:x',
      note: 'n',
    };
    expect(await new DynamoReports(client, TABLE).decide(ID, decision, T)).toBe(true);
    const items = ddb.commandCalls(TransactWriteItemsCommand)[0]!.args[0].input.TransactItems!;
    expect(items[0]!.Update).toMatchObject({
      Key: { pk: { S: `rpt#${ID}` }, sk: { S: 'report' } },
      UpdateExpression:
        'SET #status = :decided, #decision = :decision, #decidedAt = :at, #decidedBy = :by, #note = :note',
      ConditionExpression: '#createdAt = :created',
    });
    expect(items[1]!.Put!.Item).toEqual({
      ...QUEUE_ITEM,
      pk: { S: 'rptq#decided' },
      decision: { S: 'violation' },
      decidedAt: { N: String(T + 5) },
    });
    expect(items[2]!.Delete!.Key).toEqual(QUEUE_KEY);
  });

  it('changes a decision without a note by removing the old one, and leaves the open list alone', async () => {
    ddb.on(GetItemCommand).resolves({
      Item: { ...REPORT_ITEM, status: { S: 'decided' }, decision: { S: 'violation' } },
    });
    ddb.on(TransactWriteItemsCommand).resolves({});
    const decision = { decision: 'dismiss' as const, decidedAt: T + 9, actor: 'local' };
    await new DynamoReports(client, TABLE).decide(ID, decision, T);
    const items = ddb.commandCalls(TransactWriteItemsCommand)[0]!.args[0].input.TransactItems!;
    expect(items).toHaveLength(2);
    expect(items[0]!.Update!.UpdateExpression).toBe(
      'SET #status = :decided, #decision = :decision, #decidedAt = :at, #decidedBy = :by REMOVE #note',
    );
  });

  it('does not decide an unknown or expired report', async () => {
    ddb.on(GetItemCommand).resolvesOnce({}).resolves({ Item: REPORT_ITEM });
    const decision = { decision: 'dismiss' as const, decidedAt: T, actor: 'local' };
    const store = new DynamoReports(client, TABLE);
    expect(await store.decide(ID, decision, T)).toBe(false);
    expect(await store.decide(ID, decision, EXPIRES)).toBe(false);
    expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(0);
  });

  it('reads the sender counters, the reporter set as a count', async () => {
    ddb.on(GetItemCommand).resolves({
      Item: {
        v: { N: '1' },
        verifiedReports: { N: '7' },
        reporters: { BS: [HASH, new Uint8Array(32)] },
        lastReportAt: { N: String(T) },
        ttl: { N: TTL },
      },
    });
    const store = new DynamoReports(client, TABLE);
    expect(await store.senderStats(SENDER, T)).toEqual({
      address: SENDER,
      verifiedReports: 7,
      distinctReporters: 2,
      lastReportAt: T,
    });
    // The counter lives until its ttl (whole seconds).
    expect(await store.senderStats(SENDER, Number(TTL) * 1000)).toBeUndefined();
  });
});

describe('DynamoSuspensions', () => {
  const ACCOUNT_KEY = { pk: { S: `acct#${SENDER}` }, sk: { S: 'account' } };
  const NAMES = { '#reason': 'suspensionReason', '#at': 'suspendedAt' };

  it('suspends: the account fields and the index item in one transaction', async () => {
    ddb.on(GetItemCommand).resolves({ Item: { pk: ACCOUNT_KEY.pk } });
    ddb.on(TransactWriteItemsCommand).resolves({});
    expect(await new DynamoSuspensions(client, TABLE).suspend(SENDER, T, 'spam')).toEqual({
      address: SENDER,
      suspendedAt: T,
      reason: 'spam',
    });
    expect(ddb.commandCalls(GetItemCommand)[0]!.args[0].input).toMatchObject({
      Key: ACCOUNT_KEY,
      ConsistentRead: true,
    });
    expect(ddb.commandCalls(TransactWriteItemsCommand)[0]!.args[0].input).toEqual({
      TransactItems: [
        {
          Update: {
            TableName: TABLE,
            Key: ACCOUNT_KEY,
            UpdateExpression: 'SET #at = :at, #reason = :reason',
            ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#at)',
            ExpressionAttributeNames: NAMES,
            ExpressionAttributeValues: { ':reason': { S: 'spam' }, ':at': { N: String(T) } },
          },
        },
        {
          Put: {
            TableName: TABLE,
            Item: {
              pk: { S: 'susp' },
              sk: { S: `${String(T).padStart(13, '0')}#${SENDER}` },
              v: { N: '1' },
              address: { S: SENDER },
              suspendedAt: { N: String(T) },
              // The longest revocation window (a day, 365 days of messages, an hour) and a day.
              ttl: { N: String(Math.ceil((T + 367 * 86_400_000 + 3_600_000) / 1000)) },
            },
          },
        },
      ],
    });
  });

  it('keeps the time of a suspension in force and replaces its reason, retrying a lost race', async () => {
    ddb
      .on(GetItemCommand)
      .resolvesOnce({ Item: { pk: ACCOUNT_KEY.pk } })
      .resolves({
        Item: { pk: ACCOUNT_KEY.pk, suspendedAt: { N: '99' }, suspensionReason: { S: 'a' } },
      });
    ddb.on(TransactWriteItemsCommand).rejects(cancelled());
    ddb.on(UpdateItemCommand).resolves({});
    expect(await new DynamoSuspensions(client, TABLE).suspend(SENDER, T, 'b')).toEqual({
      address: SENDER,
      suspendedAt: 99,
      reason: 'b',
    });
    expect(ddb.commandCalls(UpdateItemCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Key: ACCOUNT_KEY,
      UpdateExpression: 'SET #reason = :reason',
      ConditionExpression: '#at = :at',
      ExpressionAttributeNames: NAMES,
      ExpressionAttributeValues: { ':reason': { S: 'b' }, ':at': { N: '99' } },
    });
  });

  it('writes nothing for an unknown account', async () => {
    ddb.on(GetItemCommand).resolves({});
    expect(await new DynamoSuspensions(client, TABLE).suspend(SENDER, T, 'x')).toBeUndefined();
    expect(await new DynamoSuspensions(client, TABLE).lift(SENDER)).toBeUndefined();
    expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(0);
    expect(ddb.commandCalls(UpdateItemCommand)).toHaveLength(0);
  });

  it('lifts: removes the fields and the index item of that suspension together', async () => {
    ddb.on(GetItemCommand).resolves({
      Item: { pk: ACCOUNT_KEY.pk, suspendedAt: { N: String(T) }, suspensionReason: { S: 'r' } },
    });
    ddb.on(TransactWriteItemsCommand).resolves({});
    expect(await new DynamoSuspensions(client, TABLE).lift(SENDER)).toEqual({
      address: SENDER,
      suspendedAt: T,
      reason: 'r',
    });
    expect(ddb.commandCalls(TransactWriteItemsCommand)[0]!.args[0].input).toEqual({
      TransactItems: [
        {
          Update: {
            TableName: TABLE,
            Key: ACCOUNT_KEY,
            UpdateExpression: 'REMOVE #at, #reason',
            ConditionExpression: '#at = :at',
            ExpressionAttributeNames: NAMES,
            ExpressionAttributeValues: { ':at': { N: String(T) } },
          },
        },
        {
          Delete: {
            TableName: TABLE,
            Key: { pk: { S: 'susp' }, sk: { S: `${String(T).padStart(13, '0')}#${SENDER}` } },
          },
        },
      ],
    });
  });

  it('reads the index after a time, newest first, page by page up to the limit', async () => {
    const entry = (at: number) => ({
      v: { N: '1' },
      address: { S: SENDER },
      suspendedAt: { N: String(at) },
    });
    ddb
      .on(QueryCommand)
      .resolvesOnce({
        Items: [entry(3), entry(2)],
        LastEvaluatedKey: { pk: { S: 'susp' }, sk: { S: 'k' } },
      })
      .resolves({ Items: [entry(1)] });
    const out = await new DynamoSuspensions(client, TABLE).recent(T, 5);
    expect(out.map((e) => e.suspendedAt)).toEqual([3, 2, 1]);
    const [first, second] = ddb.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(first).toEqual({
      TableName: TABLE,
      KeyConditionExpression: 'pk = :pk AND sk > :floor',
      ExpressionAttributeValues: {
        ':pk': { S: 'susp' },
        ':floor': { S: `${String(T).padStart(13, '0')}#~` },
      },
      ScanIndexForward: false,
      ConsistentRead: true,
      Limit: 5,
    });
    expect(second).toMatchObject({
      Limit: 3,
      ExclusiveStartKey: { pk: { S: 'susp' }, sk: { S: 'k' } },
    });
  });
});

describe('DynamoAuditLog', () => {
  it('appends an entry that expires after two years, listed newest first', async () => {
    ddb.on(PutItemCommand).resolves({});
    ddb.on(QueryCommand).resolves({
      Items: [
        {
          pk: { S: 'audit' },
          sk: { S: 'id-2' },
          v: { N: '1' },
          time: { N: '5' },
          actor: { S: 'local' },
          action: { S: 'lift' },
          target: { S: SENDER },
        },
      ],
    });
    const log = new DynamoAuditLog(client, TABLE);
    await log.append({
      id: 'id-1',
      time: T,
      actor: 'arn:aws:iam::1:user/x',
      action: 'decision',
      target: ID,
      decision: 'violation',
      note: 'n',
    });
    expect(ddb.commandCalls(PutItemCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Item: {
        pk: { S: 'audit' },
        sk: { S: 'id-1' },
        v: { N: '1' },
        time: { N: String(T) },
        actor: { S: 'arn:aws:iam::1:user/x' },
        action: { S: 'decision' },
        target: { S: ID },
        decision: { S: 'violation' },
        note: { S: 'n' },
        ttl: { N: String(Math.ceil((T + 730 * 86_400_000) / 1000)) },
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    const page = await log.list({ limit: 3, cursor: Buffer.from('id-9').toString('base64url') });
    expect(page).toEqual({
      items: [{ id: 'id-2', time: 5, actor: 'local', action: 'lift', target: SENDER }],
    });
    expect(ddb.commandCalls(QueryCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: 'audit' } },
      ScanIndexForward: false,
      Limit: 3,
      ConsistentRead: true,
      ExclusiveStartKey: { pk: { S: 'audit' }, sk: { S: 'id-9' } },
    });
  });
});

describe('DynamoAccountStore', () => {
  it('reads the suspension fields with the account', async () => {
    ddb.on(QueryCommand).resolves({
      Items: [
        {
          pk: { S: `acct#${SENDER}` },
          sk: { S: 'account' },
          v: { N: '1' },
          accountPublic: { B: new Uint8Array(32) },
          accessKeyHash: { B: new Uint8Array(32) },
          unrestricted: { BOOL: false },
          createdAt: { N: '1' },
          suspendedAt: { N: String(T) },
          suspensionReason: { S: 'spam' },
        },
      ],
    });
    const view = await new DynamoAccountStore(client, TABLE).get(SENDER);
    expect(view?.account).toMatchObject({ suspendedAt: T, suspensionReason: 'spam' });
  });
});
