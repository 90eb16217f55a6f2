/**
 * The exact DynamoDB commands of the block store (docs/SERVICE.md §4.1, §8.1), with the client
 * mocked: one item per pair and a count item in the blocking account's partition, the
 * transaction that keeps the count exact, and how cancelled transactions are read.
 */
import {
  DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoBlockStore } from '#functions/adapters/dynamodb/dynamo-block-store.ts';
import { UnavailableError } from '#functions/domain/errors.ts';

const ddb = mockClient(DynamoDBClient);
const client = new DynamoDBClient({ region: 'us-east-1' });
const TABLE = 'sealpost';
const OWNER = 'abcdefghijklmnopqrstuvwxyz234567';
const BLOCKED = '234567abcdefghijklmnopqrstuvwxyz';
const OTHER = 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz';
const PAIR_KEY = { pk: { S: `blk#${OWNER}` }, sk: { S: `b#${BLOCKED}` } };
const COUNT_KEY = { pk: { S: `blk#${OWNER}` }, sk: { S: 'count' } };

/** A cancelled transaction whose items answered `codes`, as the SDK raises it. */
const cancelled = (...codes: string[]) =>
  Object.assign(new Error('Transaction cancelled'), {
    name: 'TransactionCanceledException',
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

beforeEach(() => {
  ddb.reset();
});

describe('DynamoBlockStore', () => {
  it('adds the pair item and counts it in one transaction, bounded by the limit', async () => {
    ddb.on(TransactWriteItemsCommand).resolves({});
    expect(await new DynamoBlockStore(client, TABLE).add(OWNER, BLOCKED, 10_000)).toBe('added');
    expect(ddb.commandCalls(TransactWriteItemsCommand)[0]!.args[0].input).toEqual({
      TransactItems: [
        {
          Put: {
            TableName: TABLE,
            Item: { ...PAIR_KEY, v: { N: '1' }, blocked: { S: BLOCKED } },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          Update: {
            TableName: TABLE,
            Key: COUNT_KEY,
            UpdateExpression: 'SET v = :v ADD n :one',
            ConditionExpression: 'attribute_not_exists(n) OR n < :limit',
            ExpressionAttributeValues: {
              ':v': { N: '1' },
              ':one': { N: '1' },
              ':limit': { N: '10000' },
            },
          },
        },
      ],
    });
  });

  it('reads which condition cancelled an add: the pair exists, or the limit is reached', async () => {
    const store = new DynamoBlockStore(client, TABLE);
    ddb.on(TransactWriteItemsCommand).rejects(cancelled('ConditionalCheckFailed', 'None'));
    expect(await store.add(OWNER, BLOCKED, 5)).toBe('exists');
    ddb.on(TransactWriteItemsCommand).rejects(cancelled('None', 'ConditionalCheckFailed'));
    expect(await store.add(OWNER, BLOCKED, 5)).toBe('limit');
    // Both: it is blocked already, which is the answer that changes nothing.
    ddb
      .on(TransactWriteItemsCommand)
      .rejects(cancelled('ConditionalCheckFailed', 'ConditionalCheckFailed'));
    expect(await store.add(OWNER, BLOCKED, 5)).toBe('exists');
    // A conflict with another transaction is transient: 503, safe to retry.
    ddb.on(TransactWriteItemsCommand).rejects(cancelled('TransactionConflict', 'None'));
    await expect(store.add(OWNER, BLOCKED, 5)).rejects.toBeInstanceOf(UnavailableError);
  });

  it('removes the pair and subtracts it in one transaction; false when it was not blocked', async () => {
    const store = new DynamoBlockStore(client, TABLE);
    ddb.on(TransactWriteItemsCommand).resolves({});
    expect(await store.remove(OWNER, BLOCKED)).toBe(true);
    expect(ddb.commandCalls(TransactWriteItemsCommand)[0]!.args[0].input).toEqual({
      TransactItems: [
        {
          Delete: {
            TableName: TABLE,
            Key: PAIR_KEY,
            ConditionExpression: 'attribute_exists(pk)',
          },
        },
        {
          Update: {
            TableName: TABLE,
            Key: COUNT_KEY,
            UpdateExpression: 'ADD n :minus',
            ConditionExpression: 'n > :zero',
            ExpressionAttributeValues: { ':minus': { N: '-1' }, ':zero': { N: '0' } },
          },
        },
      ],
    });
    ddb.on(TransactWriteItemsCommand).rejects(cancelled('ConditionalCheckFailed', 'None'));
    expect(await store.remove(OWNER, BLOCKED)).toBe(false);
  });

  it('checks one pair with a strongly consistent GetItem of its key only', async () => {
    const store = new DynamoBlockStore(client, TABLE);
    ddb.on(GetItemCommand).resolves({ Item: { pk: PAIR_KEY.pk } });
    expect(await store.has(OWNER, BLOCKED)).toBe(true);
    expect(ddb.commandCalls(GetItemCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Key: PAIR_KEY,
      ConsistentRead: true,
      ProjectionExpression: 'pk',
    });
    ddb.on(GetItemCommand).resolves({});
    expect(await store.has(OWNER, BLOCKED)).toBe(false);
    ddb
      .on(GetItemCommand)
      .rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
    await expect(store.has(OWNER, BLOCKED)).rejects.toBeInstanceOf(UnavailableError);
  });

  it('lists the pair items page by page (never the count item) and checks their version', async () => {
    const item = (blocked: string) => ({
      pk: { S: `blk#${OWNER}` },
      sk: { S: `b#${blocked}` },
      v: { N: '1' },
      blocked: { S: blocked },
    });
    const store = new DynamoBlockStore(client, TABLE);
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [item(OTHER)], LastEvaluatedKey: PAIR_KEY })
      .resolvesOnce({ Items: [item(BLOCKED)] });
    expect(await store.list(OWNER)).toEqual([BLOCKED, OTHER]);
    const inputs = ddb.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(inputs[0]).toEqual({
      TableName: TABLE,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': { S: `blk#${OWNER}` }, ':prefix': { S: 'b#' } },
      ConsistentRead: true,
    });
    expect(inputs[1]?.ExclusiveStartKey).toEqual(PAIR_KEY);

    ddb.reset();
    ddb.on(QueryCommand).resolves({ Items: [{ ...item(BLOCKED), v: { N: '2' } }] });
    await expect(store.list(OWNER)).rejects.toThrow(/malformed attribute v/);
  });
});
