/**
 * The exact DynamoDB commands of the mailbox index (keys, conditions, TTL, consistency), with
 * the client mocked.
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoMessageIndex } from '#functions/adapters/dynamodb/index.ts';
import { UnavailableError } from '#functions/domain/errors.ts';
import { encodePosition } from '#functions/domain/mailbox-positions.ts';

const ddb = mockClient(DynamoDBClient);
const client = new DynamoDBClient({ region: 'us-east-1' });
const TABLE = 'sealpost';
const ADDRESS = 'abcdefghijklmnopqrstuvwxyz234567';
const mailbox = { address: ADDRESS, deviceId: 3, registrationId: 77 };
const HOUR = 3_600_000;
const conditionFailed = (item?: Record<string, unknown>) =>
  Object.assign(new ConditionalCheckFailedException({ message: 'failed', $metadata: {} }), {
    ...(item ? { Item: item } : {}),
  });

beforeEach(() => {
  ddb.reset();
});

describe('DynamoMessageIndex', () => {
  const index = new DynamoMessageIndex(client, TABLE);
  const random = new Uint8Array(8).fill(0xab);
  const position = encodePosition(0x0102n, random);
  const pk = { S: `mbx#${ADDRESS}#3#77` };
  const sk = { S: 'm#0000000000000102abababababababab' };
  const counterKey = { pk, sk: { S: 'usage' } };
  const retryKey = new Uint8Array(16).fill(7);
  const reservation = { retryKey, random, size: 2048, maxMessages: 5000, maxBytes: 1_000_000 };

  it('reserves a position with one conditional update of the counter', async () => {
    // UPDATED_NEW returns the counter after the store: `count` counts this message too.
    ddb.on(UpdateItemCommand).resolves({ Attributes: { seq: { N: '258' }, count: { N: '3' } } });
    expect(await index.reserve(mailbox, reservation)).toEqual({
      kind: 'new',
      seq: 258n,
      random,
      count: 3,
    });
    expect(ddb.commandCalls(UpdateItemCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Key: counterKey,
      // A store that names no payload removes the previous store's id with its retry key.
      UpdateExpression:
        'SET #v = :v, #last = :key, #rand = :rand ' +
        'ADD #seq :one, #count :one, #bytes :size REMOVE #pay',
      ConditionExpression:
        '(attribute_not_exists(#last) OR #last <> :key) AND ' +
        '(attribute_not_exists(#count) OR (#count < :maxCount AND #bytes <= :maxBytes))',
      ExpressionAttributeNames: {
        '#v': 'v',
        '#last': 'lastId',
        '#rand': 'lastRand',
        '#seq': 'seq',
        '#count': 'count',
        '#bytes': 'bytes',
        '#pay': 'lastPay',
      },
      ExpressionAttributeValues: {
        ':v': { N: '2' },
        ':key': { B: retryKey },
        ':rand': { B: random },
        ':one': { N: '1' },
        ':size': { N: '2048' },
        ':maxCount': { N: '5000' },
        ':maxBytes': { N: String(1_000_000 - 2048) },
      },
      ReturnValues: 'UPDATED_NEW',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
  });

  it('answers a failed condition from the item it returns: retry of the last store, or full', async () => {
    const stored = (last: Uint8Array, count: number) => ({
      v: { N: '2' },
      seq: { N: '9' },
      count: { N: String(count) },
      bytes: { N: '100' },
      lastId: { B: last },
      lastRand: { B: new Uint8Array(8).fill(1) },
    });
    ddb
      .on(UpdateItemCommand)
      .rejectsOnce(conditionFailed(stored(retryKey, 1)))
      .rejectsOnce(conditionFailed(stored(new Uint8Array(16), 5000)));
    expect(await index.reserve(mailbox, reservation)).toEqual({
      kind: 'retry',
      seq: 9n,
      random: new Uint8Array(8).fill(1),
    });
    expect(await index.reserve(mailbox, reservation)).toEqual({ kind: 'full' });
    expect(ddb.commandCalls(GetItemCommand)).toHaveLength(0);
  });

  it('reads the counter strongly consistent when the failure returns no item', async () => {
    ddb.on(UpdateItemCommand).rejects(conditionFailed());
    ddb.on(GetItemCommand).resolves({
      Item: {
        v: { N: '2' },
        seq: { N: '3' },
        count: { N: '1' },
        bytes: { N: '999000' },
        lastId: { B: new Uint8Array(16) },
        lastRand: { B: random },
      },
    });
    expect(await index.reserve(mailbox, reservation)).toEqual({ kind: 'full' });
    expect(ddb.commandCalls(GetItemCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Key: counterKey,
      ConsistentRead: true,
    });
  });

  it('writes a record conditionally with whole-hour times, TTL in seconds and no client id', async () => {
    ddb.on(PutItemCommand).resolves({});
    const record = {
      position,
      receivedAt: 470_000 * HOUR,
      expiresAt: 470_721 * HOUR,
      size: 2048,
      source: { address: ADDRESS, deviceId: 2 },
    };
    expect(await index.put(mailbox, record)).toBe(true);
    expect(ddb.commandCalls(PutItemCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Item: {
        pk,
        sk,
        v: { N: '2' },
        receivedAt: { N: String(470_000 * HOUR) },
        ttl: { N: String(470_721 * 3600) },
        size: { N: '2048' },
        sourceAddress: { S: ADDRESS },
        sourceDevice: { N: '2' },
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  });

  it('lists with one eventually consistent query, limit + 1, and reads the counter at the end', async () => {
    ddb.on(QueryCommand).resolves({
      Items: [
        {
          pk,
          sk,
          v: { N: '2' },
          receivedAt: { N: String(HOUR) },
          ttl: { N: '7200' },
          size: { N: '3' },
          body: { B: new Uint8Array([1, 2, 3]) },
        },
        { ...counterKey, v: { N: '2' }, seq: { N: '258' }, count: { N: '1' }, bytes: { N: '3' } },
      ],
    });
    const page = await index.list(mailbox, { after: new Uint8Array(16), limit: 5 });
    expect(page).toEqual({
      records: [
        {
          position,
          receivedAt: HOUR,
          expiresAt: 2 * HOUR,
          size: 3,
          inline: new Uint8Array([1, 2, 3]),
        },
      ],
      more: false,
      counter: { seq: 258n, count: 1, bytes: 3 },
    });
    expect(ddb.commandCalls(QueryCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      KeyConditionExpression: 'pk = :pk AND sk > :after',
      ExpressionAttributeValues: { ':pk': pk, ':after': { S: `m#${'00'.repeat(16)}` } },
      Limit: 6,
    });
  });

  it('reads pending messages of layout 1 at their old id and skips its tombstones', async () => {
    const legacy = { S: 'm#000102030405abababababababababab' };
    ddb.on(QueryCommand).resolves({
      Items: [
        {
          pk,
          sk: legacy,
          v: { N: '1' },
          receivedAt: { N: '1234' },
          expiresAt: { N: '5678' },
          ttl: { N: '6' },
          size: { N: '9' },
          objectKey: { S: 'env/x' },
        },
        {
          pk,
          sk: { S: 'm#000102030406abababababababababab' },
          v: { N: '1' },
          gone: { BOOL: true },
          expiresAt: { N: '5678' },
          ttl: { N: '6' },
        },
      ],
    });
    const page = await index.list(mailbox, { limit: 5 });
    expect(page.records).toEqual([
      {
        position: Uint8Array.from(Buffer.from('000102030405abababababababababab', 'hex')),
        receivedAt: 1234,
        expiresAt: 5678,
        size: 9,
      },
    ]);
  });

  it('removes records one DeleteItem each, returning the old items that existed', async () => {
    const other = encodePosition(1n, random);
    ddb.on(DeleteItemCommand, { Key: { pk, sk } }).resolves({
      Attributes: {
        pk,
        sk,
        v: { N: '2' },
        receivedAt: { N: '0' },
        ttl: { N: '3600' },
        size: { N: '9' },
      },
    });
    ddb
      .on(DeleteItemCommand, { Key: { pk, sk: { S: 'm#0000000000000001abababababababab' } } })
      .resolves({});
    expect(await index.remove(mailbox, [position, other])).toEqual([
      { position, receivedAt: 0, expiresAt: HOUR, size: 9 },
    ]);
    const calls = ddb.commandCalls(DeleteItemCommand).map((c) => c.args[0].input);
    expect(calls[0]).toEqual({ TableName: TABLE, Key: { pk, sk }, ReturnValues: 'ALL_OLD' });
    expect(calls).toHaveLength(2);
  });

  it('releases with one ADD and reconciles only over the sequence number it read', async () => {
    ddb.on(UpdateItemCommand).resolvesOnce({}).resolvesOnce({}).rejectsOnce(conditionFailed());
    await index.release(mailbox, { count: 2, bytes: 300 });
    expect(ddb.commandCalls(UpdateItemCommand)[0]!.args[0].input).toMatchObject({
      Key: counterKey,
      UpdateExpression: 'ADD #count :c, #bytes :b',
      ExpressionAttributeValues: { ':c': { N: '-2' }, ':b': { N: '-300' } },
    });
    expect(await index.reconcile(mailbox, 12n, { count: 0, bytes: 0 })).toBe(true);
    expect(await index.reconcile(mailbox, 12n, { count: 0, bytes: 0 })).toBe(false);
    expect(ddb.commandCalls(UpdateItemCommand)[1]!.args[0].input).toMatchObject({
      UpdateExpression: 'SET #count = :c, #bytes = :b',
      ConditionExpression: '#seq = :seq',
      ExpressionAttributeValues: { ':seq': { N: '12' } },
    });
  });

  it("remembers the reservation's payload id with the retry key in the same update", async () => {
    const payload = new Uint8Array(16).fill(0x5a);
    ddb.on(UpdateItemCommand).resolves({ Attributes: { seq: { N: '4' }, count: { N: '1' } } });
    expect(await index.reserve(mailbox, { ...reservation, payload })).toEqual({
      kind: 'new',
      seq: 4n,
      random,
      count: 1,
    });
    const input = ddb.commandCalls(UpdateItemCommand)[0]!.args[0].input;
    expect(input.UpdateExpression).toBe(
      'SET #v = :v, #last = :key, #rand = :rand, #pay = :pay ' +
        'ADD #seq :one, #count :one, #bytes :size',
    );
    expect(input.ExpressionAttributeNames?.['#pay']).toBe('lastPay');
    expect(input.ExpressionAttributeValues?.[':pay']).toEqual({ B: payload });
    // The condition is unchanged: the payload id plays no part in retry detection or quota.
    expect(input.ConditionExpression).toBe(
      '(attribute_not_exists(#last) OR #last <> :key) AND ' +
        '(attribute_not_exists(#count) OR (#count < :maxCount AND #bytes <= :maxBytes))',
    );
  });

  it('answers a retry with the payload id its earlier store remembered, and none without one', async () => {
    const remembered = new Uint8Array(16).fill(0x33);
    const counter = (extra: Record<string, unknown>) => ({
      v: { N: '2' },
      seq: { N: '9' },
      count: { N: '1' },
      bytes: { N: '100' },
      lastId: { B: retryKey },
      lastRand: { B: random },
      ...extra,
    });
    ddb
      .on(UpdateItemCommand)
      .rejectsOnce(conditionFailed(counter({ lastPay: { B: remembered } })))
      .rejectsOnce(conditionFailed(counter({})));
    // The retry names another (fresh) id; the remembered one wins.
    const fresh = new Uint8Array(16).fill(0x44);
    expect(await index.reserve(mailbox, { ...reservation, payload: fresh })).toEqual({
      kind: 'retry',
      seq: 9n,
      random,
      payload: remembered,
    });
    const retried = await index.reserve(mailbox, { ...reservation, payload: fresh });
    expect(retried).toEqual({ kind: 'retry', seq: 9n, random });
    expect(retried).not.toHaveProperty('payload');
  });

  it('refuses a payload id that is not 16 bytes before writing, and a stored one on reading', async () => {
    await expect(
      index.reserve(mailbox, { ...reservation, payload: new Uint8Array(15) }),
    ).rejects.toThrow(RangeError);
    await expect(
      index.put(mailbox, {
        position,
        receivedAt: 0,
        expiresAt: HOUR,
        size: 1,
        payload: new Uint8Array(17),
      }),
    ).rejects.toThrow(RangeError);
    expect(ddb.calls()).toHaveLength(0);
    ddb.on(UpdateItemCommand).rejects(
      conditionFailed({
        v: { N: '2' },
        seq: { N: '9' },
        count: { N: '1' },
        bytes: { N: '1' },
        lastId: { B: retryKey },
        lastRand: { B: random },
        lastPay: { B: new Uint8Array(3) },
      }),
    );
    await expect(index.reserve(mailbox, reservation)).rejects.toThrow(/lastPay/);
  });

  it('writes and reads a multi-recipient record: the header inline and the payload id', async () => {
    const payload = new Uint8Array(16).fill(0x77);
    const header = new Uint8Array(993).fill(2);
    ddb.on(PutItemCommand).resolves({});
    const record = {
      position,
      receivedAt: 10 * HOUR,
      expiresAt: 20 * HOUR,
      size: 993 + 1137,
      inline: header,
      payload,
    };
    expect(await index.put(mailbox, record)).toBe(true);
    const item = ddb.commandCalls(PutItemCommand)[0]!.args[0].input.Item!;
    expect(item['body']).toEqual({ B: header });
    expect(item['pay']).toEqual({ B: payload });
    expect(item['v']).toEqual({ N: '2' });
    ddb.on(QueryCommand).resolves({ Items: [item] });
    expect((await index.list(mailbox, { limit: 5 })).records).toEqual([record]);
    ddb.on(QueryCommand).resolves({ Items: [{ ...item, pay: { B: new Uint8Array(8) } }] });
    await expect(index.list(mailbox, { limit: 5 })).rejects.toThrow(/pay/);
  });

  it('returns the payload id of a removed record, so its reference can be released', async () => {
    const payload = new Uint8Array(16).fill(0x78);
    ddb.on(DeleteItemCommand).resolves({
      Attributes: {
        pk,
        sk,
        v: { N: '2' },
        receivedAt: { N: '0' },
        ttl: { N: '3600' },
        size: { N: '9' },
        body: { B: new Uint8Array([1]) },
        pay: { B: payload },
      },
    });
    expect(await index.remove(mailbox, [position])).toEqual([
      { position, receivedAt: 0, expiresAt: HOUR, size: 9, inline: new Uint8Array([1]), payload },
    ]);
  });

  it('turns throttling into UnavailableError', async () => {
    const throttled = Object.assign(new Error('slow down'), {
      name: 'ProvisionedThroughputExceededException',
    });
    ddb.on(PutItemCommand).rejects(throttled);
    ddb.on(DeleteItemCommand).rejects(throttled);
    const record = { position, receivedAt: 0, expiresAt: HOUR, size: 1 };
    await expect(index.put(mailbox, record)).rejects.toBeInstanceOf(UnavailableError);
    await expect(index.remove(mailbox, [position])).rejects.toBeInstanceOf(UnavailableError);
  });
});
