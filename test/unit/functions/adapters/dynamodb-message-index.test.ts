/**
 * The exact DynamoDB commands of the mailbox index (keys, conditions, TTL, consistency), with
 * the client mocked.
 */
import {
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoMessageIndex } from '../../../../functions/adapters/dynamodb/index.ts';
import { UnavailableError } from '../../../../functions/domain/errors.ts';
import { createMessageId } from '../../../../sdk/wire/api/message-id.ts';

const ddb = mockClient(DynamoDBClient);
const client = new DynamoDBClient({ region: 'us-east-1' });
const TABLE = 'sealpost';
const ADDRESS = 'abcdefghijklmnopqrstuvwxyz234567';
const mailbox = { address: ADDRESS, deviceId: 3, registrationId: 77 };
const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'failed', $metadata: {} });

beforeEach(() => {
  ddb.reset();
});

describe('DynamoMessageIndex', () => {
  const index = new DynamoMessageIndex(client, TABLE);
  const id = createMessageId(0x0102030405, new Uint8Array(10).fill(0xab));
  const moved = createMessageId(0x0102030406, new Uint8Array(10).fill(0xcd));
  const pk = { S: `mbx#${ADDRESS}#3#77` };
  const sk = { S: 'm#000102030405abababababababababab' };
  const movedSk = { S: 'm#000102030406cdcdcdcdcdcdcdcdcdcd' };

  it('inserts a small message record conditionally, keyed by hex id, with expiry and TTL in seconds', async () => {
    ddb.on(PutItemCommand).resolves({});
    const entry = {
      messageId: id,
      receivedAt: 1000,
      expiresAt: 2_592_001_500,
      size: 2048,
      objectKey: 'env/abcd/x',
    };
    expect(await index.insert(mailbox, { kind: 'message', position: id, entry })).toBe(true);
    expect(ddb.commandCalls(PutItemCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Item: {
        pk,
        sk,
        v: { N: '1' },
        receivedAt: { N: '1000' },
        expiresAt: { N: '2592001500' },
        ttl: { N: '2592002' },
        size: { N: '2048' },
        objectKey: { S: 'env/abcd/x' },
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  });

  it('keeps a late message at its new position with its id, and a redirect at the id', async () => {
    ddb.on(PutItemCommand).resolves({});
    const entry = { messageId: id, receivedAt: 5, expiresAt: 9_000, size: 1, objectKey: 'env/k' };
    await index.insert(mailbox, { kind: 'message', position: moved, entry });
    await index.insert(mailbox, {
      kind: 'redirect',
      position: id,
      target: moved,
      expiresAt: 9_000,
    });
    const items = ddb.commandCalls(PutItemCommand).map((c) => c.args[0].input);
    expect(items[0]).toMatchObject({
      Item: { pk, sk: movedSk, mid: { B: id }, objectKey: { S: 'env/k' } },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(items[1]).toEqual({
      TableName: TABLE,
      Item: { pk, sk, v: { N: '1' }, to: { B: moved }, expiresAt: { N: '9000' }, ttl: { N: '9' } },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  });

  it('answers a duplicate insert with false and a throttled one with UnavailableError', async () => {
    ddb
      .on(PutItemCommand)
      .rejectsOnce(conditionFailed())
      .rejectsOnce(
        Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' }),
      );
    const entry = { messageId: id, receivedAt: 1, expiresAt: 2, size: 1, objectKey: 'env/x' };
    const record = { kind: 'message' as const, position: id, entry };
    expect(await index.insert(mailbox, record)).toBe(false);
    await expect(index.insert(mailbox, record)).rejects.toBeInstanceOf(UnavailableError);
  });

  it('reads one record strongly consistent and retargets a redirect conditionally', async () => {
    ddb.on(GetItemCommand).resolves({
      Item: { pk, sk, v: { N: '1' }, to: { B: moved }, expiresAt: { N: '9' } },
    });
    ddb.on(UpdateItemCommand).resolves({});
    expect(await index.get(mailbox, id)).toEqual({
      kind: 'redirect',
      position: id,
      target: moved,
      expiresAt: 9,
    });
    expect(ddb.commandCalls(GetItemCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Key: { pk, sk },
      ConsistentRead: true,
    });
    expect(await index.retarget(mailbox, id, moved, id)).toBe(true);
    expect(ddb.commandCalls(UpdateItemCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Key: { pk, sk },
      UpdateExpression: 'SET #to = :to',
      ConditionExpression: '#to = :from',
      ExpressionAttributeNames: { '#to': 'to' },
      ExpressionAttributeValues: { ':to': { B: id }, ':from': { B: moved } },
    });
  });

  it('scans with one consistent query past a position, limit + 1, or through a position', async () => {
    ddb.on(QueryCommand).resolves({
      Items: [{ pk, sk: { S: 'usage' }, v: { N: '1' }, count: { N: '4' }, bytes: { N: '9' } }],
    });
    const page = await index.scan(mailbox, { limit: 10, after: id });
    expect(page).toEqual({ records: [], more: false, usage: { count: 4, bytes: 9 } });
    expect(ddb.commandCalls(QueryCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      KeyConditionExpression: 'pk = :pk AND sk > :after',
      ExpressionAttributeValues: { ':pk': pk, ':after': sk },
      ConsistentRead: true,
      Limit: 11,
    });
    ddb.on(QueryCommand).resolves({
      Items: [{ pk, sk, v: { N: '1' }, gone: { BOOL: true }, expiresAt: { N: '7' } }],
    });
    const range = await index.scan(mailbox, { limit: 5, after: id, through: moved });
    expect(range).toEqual({ records: [], more: false });
    expect(ddb.commandCalls(QueryCommand)[1]!.args[0].input).toEqual({
      TableName: TABLE,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :through',
      ExpressionAttributeValues: { ':pk': pk, ':from': sk, ':through': movedSk },
      ConsistentRead: true,
      Limit: 6,
    });
  });

  it('buries records with batched puts of tombstones that keep a TTL', async () => {
    ddb.on(BatchWriteItemCommand).resolves({});
    await index.bury(mailbox, [id], 10_000);
    expect(ddb.commandCalls(BatchWriteItemCommand)[0]!.args[0].input).toEqual({
      RequestItems: {
        [TABLE]: [
          {
            PutRequest: {
              Item: {
                pk,
                sk,
                v: { N: '1' },
                gone: { BOOL: true },
                expiresAt: { N: '10000' },
                ttl: { N: '10' },
              },
            },
          },
        ],
      },
    });
  });

  it('writes the cursor with packed positions, conditional on the revision it read', async () => {
    ddb.on(PutItemCommand).resolves({});
    await index.saveCursor(mailbox, { acked: [id], expiresAt: 4_000 }, 0);
    await index.saveCursor(mailbox, { watermark: id, acked: [moved, id], expiresAt: 5_000 }, 3);
    const calls = ddb.commandCalls(PutItemCommand).map((c) => c.args[0].input);
    const cursorKey = { pk, sk: { S: 'cursor' } };
    expect(calls[0]).toEqual({
      TableName: TABLE,
      Item: {
        ...cursorKey,
        v: { N: '1' },
        rev: { N: '1' },
        expiresAt: { N: '4000' },
        ttl: { N: '4' },
        acked: { B: id },
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    const packed = new Uint8Array(32);
    packed.set(moved, 0);
    packed.set(id, 16);
    expect(calls[1]).toEqual({
      TableName: TABLE,
      Item: {
        ...cursorKey,
        v: { N: '1' },
        rev: { N: '4' },
        expiresAt: { N: '5000' },
        ttl: { N: '5' },
        wm: { B: id },
        acked: { B: packed },
      },
      ConditionExpression: '#rev = :rev',
      ExpressionAttributeNames: { '#rev': 'rev' },
      ExpressionAttributeValues: { ':rev': { N: '3' } },
    });
    ddb.on(GetItemCommand).resolves({ Item: calls[1]!.Item });
    expect(await index.cursor(mailbox)).toEqual({
      watermark: id,
      acked: [moved, id],
      revision: 4,
      expiresAt: 5000,
    });
    expect(ddb.commandCalls(GetItemCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Key: cursorKey,
      ConsistentRead: true,
    });
  });

  it('reads the usage counter eventually consistent and moves it with an unconditional ADD', async () => {
    ddb.on(GetItemCommand).resolves({});
    ddb.on(UpdateItemCommand).resolves({});
    expect(await index.usage(mailbox)).toBeUndefined();
    expect(ddb.commandCalls(GetItemCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Key: { pk, sk: { S: 'usage' } },
    });
    await index.addUsage(mailbox, { count: 10, bytes: 20_480 });
    expect(ddb.commandCalls(UpdateItemCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Key: { pk, sk: { S: 'usage' } },
      UpdateExpression: 'SET #v = :v ADD #count :c, #bytes :b',
      ExpressionAttributeNames: { '#v': 'v', '#count': 'count', '#bytes': 'bytes' },
      ExpressionAttributeValues: { ':v': { N: '1' }, ':c': { N: '10' }, ':b': { N: '20480' } },
    });
  });
});
