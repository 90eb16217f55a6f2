/**
 * The exact DynamoDB commands of the push subscription store (key, item layout, the
 * conditional removal and the conditional UpdateItem of the wake-up throttle, which stores a
 * whole hour), with the client mocked.
 */
import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoPushSubscriptions } from '#functions/adapters/dynamodb/dynamo-push-subscriptions.ts';
import { UnavailableError } from '#functions/domain/errors.ts';

const ddb = mockClient(DynamoDBClient);
const client = new DynamoDBClient({ region: 'us-east-1' });
const TABLE = 'sealpost';
const ADDRESS = 'abcdefghijklmnopqrstuvwxyz234567';
const DEVICE = { address: ADDRESS, deviceId: 2, registrationId: 77 };
const KEY = { pk: { S: `push#${ADDRESS}#0000000002` }, sk: { S: 'push' } };
const P256DH = new Uint8Array(65).fill(4);
const AUTH = new Uint8Array(16).fill(5);
const SUBSCRIPTION = {
  kind: 'webpush' as const,
  endpoint: 'https://fcm.googleapis.com/fcm/send/abc',
  p256dh: P256DH,
  auth: AUTH,
};
const ITEM = {
  ...KEY,
  v: { N: '1' },
  registrationId: { N: '77' },
  kind: { S: 'webpush' },
  target: { S: SUBSCRIPTION.endpoint },
  p256dh: { B: P256DH },
  auth: { B: AUTH },
  createdAt: { N: '1000' },
};
/** 2026-01-01 01:00 UTC, a whole hour. */
const HOUR_MS = 1_767_229_200_000;
const conditionFailed = () =>
  Object.assign(new Error('failed'), { name: 'ConditionalCheckFailedException' });

beforeEach(() => {
  ddb.reset();
});

describe('DynamoPushSubscriptions', () => {
  it('puts the whole item, without a ttl', async () => {
    ddb.on(PutItemCommand).resolves({});
    await new DynamoPushSubscriptions(client, TABLE).put(DEVICE, SUBSCRIPTION, 1000);
    expect(ddb.commandCalls(PutItemCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Item: ITEM,
    });
  });

  it('reads strongly consistent and checks the record version', async () => {
    ddb.on(GetItemCommand).resolves({ Item: { ...ITEM, wakeUntil: { N: String(HOUR_MS) } } });
    const store = new DynamoPushSubscriptions(client, TABLE);
    expect(await store.get({ address: ADDRESS, deviceId: 2 })).toEqual({
      device: DEVICE,
      subscription: SUBSCRIPTION,
      createdAt: 1000,
      wakeUntil: HOUR_MS,
    });
    expect(ddb.commandCalls(GetItemCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Key: KEY,
      ConsistentRead: true,
    });
    // An earlier layout's wake time is not read: the item holds no claim until its next one.
    ddb.on(GetItemCommand).resolves({ Item: { ...ITEM, lastWakeAt: { N: '5000' } } });
    expect(await store.get(DEVICE)).toEqual({
      device: DEVICE,
      subscription: SUBSCRIPTION,
      createdAt: 1000,
    });
    ddb.on(GetItemCommand).resolves({ Item: { ...ITEM, v: { N: '2' } } });
    await expect(store.get(DEVICE)).rejects.toThrow(/malformed attribute v/);
    ddb.on(GetItemCommand).resolves({});
    expect(await store.get(DEVICE)).toBeUndefined();
  });

  it('claims a wake-up until a whole hour with one conditional UpdateItem', async () => {
    ddb.on(UpdateItemCommand).resolves({});
    const store = new DynamoPushSubscriptions(client, TABLE);
    const now = HOUR_MS - 30 * 60_000;
    expect(await store.claimWake(DEVICE, now, HOUR_MS, false)).toBe(true);
    expect(ddb.commandCalls(UpdateItemCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Key: KEY,
      UpdateExpression: 'SET wakeUntil = :until REMOVE lastWakeAt',
      ConditionExpression:
        'registrationId = :rid AND (attribute_not_exists(wakeUntil) OR wakeUntil <= :now)',
      ExpressionAttributeValues: {
        ':until': { N: String(HOUR_MS) },
        ':rid': { N: '77' },
        ':now': { N: String(now) },
      },
    });
    // Forced (a message into an empty mailbox): only the generation is checked, and `now` is
    // not sent at all.
    expect(await store.claimWake(DEVICE, now, HOUR_MS, true)).toBe(true);
    expect(ddb.commandCalls(UpdateItemCommand)[1]!.args[0].input).toEqual({
      TableName: TABLE,
      Key: KEY,
      UpdateExpression: 'SET wakeUntil = :until REMOVE lastWakeAt',
      ConditionExpression: 'registrationId = :rid',
      ExpressionAttributeValues: {
        ':until': { N: String(HOUR_MS) },
        ':rid': { N: '77' },
      },
    });
    ddb.on(UpdateItemCommand).rejects(conditionFailed());
    expect(await store.claimWake(DEVICE, now, HOUR_MS, false)).toBe(false);
    expect(await store.claimWake(DEVICE, now, HOUR_MS, true)).toBe(false);
    ddb
      .on(UpdateItemCommand)
      .rejects(
        Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' }),
      );
    await expect(store.claimWake(DEVICE, now, HOUR_MS, false)).rejects.toBeInstanceOf(
      UnavailableError,
    );
  });

  it('removes only while the named subscription is stored', async () => {
    ddb.on(DeleteItemCommand).resolves({});
    const store = new DynamoPushSubscriptions(client, TABLE);
    expect(await store.remove(DEVICE, SUBSCRIPTION)).toBe(true);
    expect(ddb.commandCalls(DeleteItemCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Key: KEY,
      ConditionExpression: '#target = :target',
      ExpressionAttributeNames: { '#target': 'target' },
      ExpressionAttributeValues: { ':target': { S: SUBSCRIPTION.endpoint } },
    });
    expect(await store.remove(DEVICE)).toBe(true);
    expect(ddb.commandCalls(DeleteItemCommand)[1]!.args[0].input).toEqual({
      TableName: TABLE,
      Key: KEY,
      ConditionExpression: 'attribute_exists(pk)',
    });
    ddb.on(DeleteItemCommand).rejects(conditionFailed());
    expect(await store.remove(DEVICE, SUBSCRIPTION)).toBe(false);
  });
});
