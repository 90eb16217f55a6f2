/**
 * The exact DynamoDB commands of the account, prekey, replay and rate-limit adapters (keys,
 * conditions, TTL), with the client mocked; the mailbox index has its own file.
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  DynamoAccountStore,
  DynamoPrekeyStore,
  DynamoRateLimiter,
  DynamoReplayStore,
} from '#functions/adapters/dynamodb/index.ts';

const ddb = mockClient(DynamoDBClient);
const client = new DynamoDBClient({ region: 'us-east-1' });
const TABLE = 'sealpost';
const ADDRESS = 'abcdefghijklmnopqrstuvwxyz234567';
const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'failed', $metadata: {} });

beforeEach(() => {
  ddb.reset();
});

describe('DynamoPrekeyStore', () => {
  it('claims by reading candidates and deleting one conditionally with ALL_OLD', async () => {
    const store = new DynamoPrekeyStore(client, TABLE, () => 0);
    const key = { pk: { S: `otk#${ADDRESS}#1#5` }, sk: { S: 'ec#0000000005' } };
    ddb
      .on(QueryCommand, {
        ExpressionAttributeValues: { ':pk': { S: `otk#${ADDRESS}#1#5` }, ':prefix': { S: 'ec#' } },
      })
      .resolves({ Items: [key] })
      .on(QueryCommand, {
        ExpressionAttributeValues: { ':pk': { S: `otk#${ADDRESS}#1#5` }, ':prefix': { S: 'pq#' } },
      })
      .resolves({ Items: [] });
    ddb.on(DeleteItemCommand).resolves({
      Attributes: {
        ...key,
        v: { N: '1' },
        id: { N: '5' },
        publicKey: { B: new Uint8Array(32).fill(1) },
      },
    });
    expect(await store.claim({ address: ADDRESS, deviceId: 1, registrationId: 5 })).toEqual({
      ec: { id: 5, publicKey: new Uint8Array(32).fill(1) },
    });
    expect(ddb.commandCalls(QueryCommand)[0]!.args[0].input).toMatchObject({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ProjectionExpression: 'pk, sk',
      ConsistentRead: true,
      Limit: 8,
    });
    expect(ddb.commandCalls(DeleteItemCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Key: key,
      ConditionExpression: 'attribute_exists(pk)',
      ReturnValues: 'ALL_OLD',
    });
  });

  it('moves on to the next candidate when another caller won the delete', async () => {
    const store = new DynamoPrekeyStore(client, TABLE, () => 0);
    const k1 = { pk: { S: 'p' }, sk: { S: 'ec#0000000001' } };
    const k2 = { pk: { S: 'p' }, sk: { S: 'ec#0000000002' } };
    ddb
      .on(QueryCommand)
      .resolves({ Items: [] })
      .on(QueryCommand, {
        ExpressionAttributeValues: { ':pk': { S: `otk#${ADDRESS}#1#5` }, ':prefix': { S: 'ec#' } },
      })
      .resolves({ Items: [k1, k2] });
    ddb
      .on(DeleteItemCommand, { Key: k1 })
      .rejects(conditionFailed())
      .on(DeleteItemCommand, { Key: k2 })
      .resolves({
        Attributes: { ...k2, v: { N: '1' }, id: { N: '2' }, publicKey: { B: new Uint8Array(32) } },
      });
    const claimed = await store.claim({ address: ADDRESS, deviceId: 1, registrationId: 5 });
    expect(claimed.ec?.id).toBe(2);
  });
});

describe('DynamoAccountStore', () => {
  it('links a device with a put conditional on its id being free', async () => {
    ddb.on(PutItemCommand).resolvesOnce({}).rejectsOnce(conditionFailed());
    const store = new DynamoAccountStore(client, TABLE);
    const device = {
      deviceId: 4,
      identity: new Uint8Array(160),
      signedPrekey: { id: 1, publicKey: new Uint8Array(32), signature: new Uint8Array(64) },
      lastResortKemPrekey: {
        id: 2,
        publicKey: new Uint8Array(1568),
        signature: new Uint8Array(64),
      },
      frankingKey: new Uint8Array(32).fill(3),
      createdAt: 9,
    };
    expect(await store.addDevice(ADDRESS, device)).toBe(true);
    expect(await store.addDevice(ADDRESS, device)).toBe(false);
    expect(ddb.commandCalls(PutItemCommand)[0]!.args[0].input).toMatchObject({
      TableName: TABLE,
      Item: {
        pk: { S: `acct#${ADDRESS}` },
        sk: { S: 'dev#0000000004' },
        v: { N: '2' },
        deviceId: { N: '4' },
        frankingKey: { B: new Uint8Array(32).fill(3) },
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  });

  it('reports a lost transaction race as false', async () => {
    ddb.on(TransactWriteItemsCommand).rejects(
      Object.assign(new Error('cancelled'), {
        name: 'TransactionCanceledException',
        CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }],
      }),
    );
    const store = new DynamoAccountStore(client, TABLE);
    expect(
      await store.create(
        {
          address: ADDRESS,
          accountPublic: new Uint8Array(32),
          accessKeyHash: new Uint8Array(32),
          unrestricted: false,
          createdAt: 1,
        },
        {
          deviceId: 1,
          identity: new Uint8Array(160),
          signedPrekey: { id: 1, publicKey: new Uint8Array(32), signature: new Uint8Array(64) },
          lastResortKemPrekey: {
            id: 1,
            publicKey: new Uint8Array(1568),
            signature: new Uint8Array(64),
          },
          frankingKey: new Uint8Array(32).fill(3),
          createdAt: 1,
        },
      ),
    ).toBe(false);
  });
});

describe('DynamoReplayStore and DynamoRateLimiter', () => {
  it('records a nonce with a conditional put and a TTL', async () => {
    ddb.on(PutItemCommand).resolvesOnce({}).rejectsOnce(conditionFailed());
    const store = new DynamoReplayStore(client, TABLE);
    expect(await store.consume('n:a:1:xyz', 1_700_000_300_000, 1_700_000_000_000)).toBe(true);
    expect(await store.consume('n:a:1:xyz', 1_700_000_300_000, 1_700_000_000_000)).toBe(false);
    expect(ddb.commandCalls(PutItemCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Item: {
        pk: { S: 'once#n:a:1:xyz' },
        sk: { S: 'once' },
        expiresAt: { N: '1700000300000' },
        ttl: { N: '1700000300' },
      },
      ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
      ExpressionAttributeValues: { ':now': { N: '1700000000000' } },
    });
  });

  it('counts hits in a fixed window with a conditional ADD and a TTL at the window end', async () => {
    ddb.on(UpdateItemCommand).resolvesOnce({}).rejectsOnce(conditionFailed());
    const limiter = new DynamoRateLimiter(client, TABLE);
    expect(await limiter.hit('bundle:a:b', 6, 600_000, 1_200_000)).toBe(true);
    expect(await limiter.hit('bundle:a:b', 6, 600_000, 1_200_000)).toBe(false);
    expect(ddb.commandCalls(UpdateItemCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Key: { pk: { S: 'rate#bundle:a:b#2' }, sk: { S: 'rate' } },
      UpdateExpression: 'ADD #n :one SET #ttl = :ttl',
      ConditionExpression: 'attribute_not_exists(#n) OR #n < :limit',
      ExpressionAttributeNames: { '#n': 'hits', '#ttl': 'ttl' },
      ExpressionAttributeValues: {
        ':one': { N: '1' },
        ':limit': { N: '6' },
        ':ttl': { N: '1800' },
      },
    });
  });
});
