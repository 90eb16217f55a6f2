/**
 * The exact DynamoDB commands of the token stores (functions/adapters/dynamodb/token-keys.ts),
 * with the client mocked: keys, conditions, TTLs and consistency of the quota counter, the
 * spent-token put and the issuer keys; how a failed condition is answered; throttling and
 * network timeouts as `UnavailableError`; malformed stored items refused, never handed out.
 */
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoSpentTokens } from '#functions/adapters/dynamodb/dynamo-spent-tokens.ts';
import { DynamoTokenKeys } from '#functions/adapters/dynamodb/dynamo-token-keys.ts';
import { DynamoTokenQuota } from '#functions/adapters/dynamodb/dynamo-token-quota.ts';
import { UnavailableError } from '#functions/domain/errors.ts';
import type { StoredTokenKey } from '#functions/domain/token-ports.ts';

const ddb = mockClient(DynamoDBClient);
const client = new DynamoDBClient({ region: 'us-east-1' });
const TABLE = 'sealpost';
const ADDRESS = 'abcdefghijklmnopqrstuvwxyz234567';
const DAY = 20_455;
const DAY_SK = '0000020455';
const CORRUPT = /^stored item has a malformed attribute/;

const conditionFailed = (item?: Record<string, unknown>) =>
  Object.assign(new ConditionalCheckFailedException({ message: 'failed', $metadata: {} }), {
    ...(item ? { Item: item } : {}),
  });
const named = (name: string) => Object.assign(new Error(name), { name });
/** The faults a caller may retry: throttling, and the SDK's network timeout. */
const TRANSIENT = ['ProvisionedThroughputExceededException', 'ThrottlingException', 'TimeoutError'];

beforeEach(() => {
  ddb.reset();
});

describe('DynamoTokenQuota', () => {
  const quota = new DynamoTokenQuota(client, TABLE);
  const Key = { pk: { S: `tq#${ADDRESS}` }, sk: { S: DAY_SK } };
  const counter = (n: number | string, v = '1') => ({
    ...Key,
    v: { N: v },
    n: { N: String(n) },
    ttl: { N: '1' },
  });

  it('adds the count with one conditional update that cannot pass the limit', async () => {
    ddb.on(UpdateItemCommand).resolves({ Attributes: counter(7) });
    expect(await quota.take(ADDRESS, DAY, 5, 20)).toEqual({ granted: true, used: 7 });
    expect(ddb.calls()).toHaveLength(1);
    expect(ddb.commandCalls(UpdateItemCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Key,
      UpdateExpression: 'SET v = :v, #ttl = :ttl ADD n :c',
      ConditionExpression: 'attribute_not_exists(n) OR n <= :max',
      ExpressionAttributeNames: { '#ttl': 'ttl' },
      ExpressionAttributeValues: {
        ':v': { N: '1' },
        ':c': { N: '5' },
        ':max': { N: '15' },
        // The end of the day plus two days, in seconds.
        ':ttl': { N: String((DAY + 3) * 86_400) },
      },
      ReturnValues: 'ALL_NEW',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
  });

  it('answers a refusal with the counter the failed condition returned', async () => {
    ddb.on(UpdateItemCommand).rejects(conditionFailed(counter(18)));
    expect(await quota.take(ADDRESS, DAY, 3, 20)).toEqual({ granted: false, used: 18 });
    expect(ddb.commandCalls(GetItemCommand)).toHaveLength(0);
  });

  it('reads the counter strongly consistent when the refusal returns no item', async () => {
    ddb.on(UpdateItemCommand).rejects(conditionFailed());
    ddb.on(GetItemCommand).resolves({ Item: counter(20) });
    expect(await quota.take(ADDRESS, DAY, 1, 20)).toEqual({ granted: false, used: 20 });
    expect(ddb.commandCalls(GetItemCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Key,
      ConsistentRead: true,
    });
  });

  it('tries again when a refused counter is gone by the time it is read', async () => {
    ddb
      .on(UpdateItemCommand)
      .rejectsOnce(conditionFailed())
      .resolves({ Attributes: counter(1) });
    ddb.on(GetItemCommand).resolves({});
    expect(await quota.take(ADDRESS, DAY, 1, 20)).toEqual({ granted: true, used: 1 });
    expect(ddb.commandCalls(UpdateItemCommand)).toHaveLength(2);
    ddb.on(UpdateItemCommand).rejects(conditionFailed());
    await expect(quota.take(ADDRESS, DAY, 1, 20)).rejects.toBeInstanceOf(UnavailableError);
  });

  it('refuses more than the limit at once without writing', async () => {
    ddb
      .on(GetItemCommand)
      .resolvesOnce({})
      .resolves({ Item: counter(4) });
    expect(await quota.take(ADDRESS, DAY, 21, 20)).toEqual({ granted: false, used: 0 });
    expect(await quota.take(ADDRESS, DAY, 21, 20)).toEqual({ granted: false, used: 4 });
    expect(ddb.commandCalls(UpdateItemCommand)).toHaveLength(0);
  });

  it('turns throttling and timeouts into UnavailableError, and lets other faults through', async () => {
    for (const name of TRANSIENT) {
      ddb.on(UpdateItemCommand).rejects(named(name));
      await expect(quota.take(ADDRESS, DAY, 1, 20)).rejects.toBeInstanceOf(UnavailableError);
    }
    ddb.on(UpdateItemCommand).rejects(conditionFailed());
    ddb.on(GetItemCommand).rejects(named('ThrottlingException'));
    await expect(quota.take(ADDRESS, DAY, 1, 20)).rejects.toBeInstanceOf(UnavailableError);
    ddb.on(UpdateItemCommand).rejects(named('ValidationException'));
    const err = await quota.take(ADDRESS, DAY, 1, 20).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(UnavailableError);
    expect(err).toMatchObject({ name: 'ValidationException' });
  });

  it('refuses malformed stored counters', async () => {
    for (const bad of [counter('x'), counter(-1), counter(1.5), counter(3, '2')]) {
      ddb.reset();
      ddb.on(UpdateItemCommand).rejects(conditionFailed(bad));
      await expect(quota.take(ADDRESS, DAY, 1, 20)).rejects.toThrow(CORRUPT);
    }
    ddb.reset();
    ddb.on(UpdateItemCommand).rejects(conditionFailed({ ...Key, v: { N: '1' }, n: { S: '3' } }));
    await expect(quota.take(ADDRESS, DAY, 1, 20)).rejects.toThrow(CORRUPT);
  });

  it('refuses malformed arguments without a request, naming no address', async () => {
    const err = await quota.take('Not an address!', DAY, 1, 20).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as Error).message).not.toContain('Not an address');
    await expect(quota.take(ADDRESS, 10_000_000_000, 1, 20)).rejects.toThrow(RangeError);
    await expect(quota.take(ADDRESS, DAY, 2, 1000.5)).rejects.toThrow(RangeError);
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe('DynamoSpentTokens', () => {
  const spent = new DynamoSpentTokens(client, TABLE);
  const id = new Uint8Array(32).map((_, i) => i * 7);
  const bind = new Uint8Array(32).fill(9);
  const pk = `spent#${Buffer.from(id).toString('base64url')}`;

  it('puts the token item, keyed by its id, with its binding and nothing else', async () => {
    ddb.on(PutItemCommand).resolves({});
    expect(await spent.spend(id, 1_750_000_000_001, bind)).toBe('spent');
    expect(ddb.commandCalls(PutItemCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Item: {
        pk: { S: pk },
        sk: { S: 'spent' },
        bind: { B: bind },
        // Seconds, rounded up: never removed before the caller's expiry.
        ttl: { N: '1750000001' },
      },
      ConditionExpression: 'attribute_not_exists(pk) OR #bind = :bind',
      ExpressionAttributeNames: { '#bind': 'bind' },
      ExpressionAttributeValues: { ':bind': { B: bind } },
      ReturnValues: 'ALL_OLD',
    });
    expect(pk).toHaveLength('spent#'.length + 43);
  });

  it('answers `again` when the put replaced an item (same binding)', async () => {
    ddb.on(PutItemCommand).resolves({ Attributes: { pk: { S: pk }, bind: { B: bind } } });
    expect(await spent.spend(id, 1_750_000_000_000, bind)).toBe('again');
  });

  it('answers `taken` when the token was spent with another binding', async () => {
    ddb.on(PutItemCommand).rejects(conditionFailed());
    expect(await spent.spend(id, 1_750_000_000_000, bind)).toBe('taken');
  });

  it('rebinds with one conditional update', async () => {
    const to = new Uint8Array(32).fill(4);
    ddb.on(UpdateItemCommand).resolves({});
    expect(await spent.rebind(id, bind, to)).toBe(true);
    expect(ddb.commandCalls(UpdateItemCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Key: { pk: { S: pk }, sk: { S: 'spent' } },
      UpdateExpression: 'SET #bind = :to',
      ConditionExpression: 'attribute_exists(pk) AND #bind = :from',
      ExpressionAttributeNames: { '#bind': 'bind' },
      ExpressionAttributeValues: { ':from': { B: bind }, ':to': { B: to } },
    });
    ddb.on(UpdateItemCommand).rejects(conditionFailed());
    expect(await spent.rebind(id, bind, to)).toBe(false);
  });

  it('turns throttling and timeouts into UnavailableError', async () => {
    for (const name of TRANSIENT) {
      ddb.on(PutItemCommand).rejects(named(name));
      await expect(spent.spend(id, 1_750_000_000_000, bind)).rejects.toBeInstanceOf(
        UnavailableError,
      );
    }
    ddb.on(PutItemCommand).rejects(named('ResourceNotFoundException'));
    await expect(spent.spend(id, 1_750_000_000_000, bind)).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  it('refuses an id that is not 32 bytes, or a bad binding, without a request', async () => {
    await expect(spent.spend(id.subarray(1), 1, bind)).rejects.toThrow(RangeError);
    await expect(spent.spend(id, 2 ** 53, bind)).rejects.toThrow(RangeError);
    await expect(spent.spend(id, 1, bind.subarray(17))).rejects.toThrow(RangeError);
    await expect(spent.rebind(id, bind, new Uint8Array(40))).rejects.toThrow(RangeError);
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe('DynamoTokenKeys', () => {
  const keys = new DynamoTokenKeys(client, TABLE);
  const key: StoredTokenKey = {
    day: DAY,
    keyId: new Uint8Array(32).fill(1),
    publicKey: new Uint8Array(422).fill(2),
    wrappedPrivateKey: new Uint8Array(1266).fill(3),
    notAfter: 1_767_225_599_999,
  };
  const Key = { pk: { S: 'tkey' }, sk: { S: DAY_SK } };
  const item = (k: StoredTokenKey = key) => ({
    pk: { S: 'tkey' },
    sk: { S: String(k.day).padStart(10, '0') },
    v: { N: '1' },
    keyId: { B: k.keyId },
    publicKey: { B: k.publicKey },
    wrappedPrivateKey: { B: k.wrappedPrivateKey },
    notAfter: { N: String(k.notAfter) },
    ttl: { N: String(Math.ceil(k.notAfter / 1000) + 7 * 86_400) },
  });

  it('puts a day’s key unless one exists, expiring a week after its last use', async () => {
    ddb.on(PutItemCommand).resolves({});
    expect(await keys.putIfAbsent(key)).toEqual(key);
    expect(ddb.commandCalls(PutItemCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Item: { ...item(), ttl: { N: String(1_767_225_600 + 604_800) } },
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
  });

  it('answers the stored key when another writer was first', async () => {
    const other = { ...key, keyId: new Uint8Array(32).fill(9) };
    ddb.on(PutItemCommand).rejects(conditionFailed(item(other)));
    expect(await keys.putIfAbsent(key)).toEqual(other);
    expect(ddb.commandCalls(GetItemCommand)).toHaveLength(0);
    ddb.on(PutItemCommand).rejects(conditionFailed());
    ddb.on(GetItemCommand).resolves({ Item: item(other) });
    expect(await keys.putIfAbsent(key)).toEqual(other);
    expect(ddb.commandCalls(GetItemCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Key,
      ConsistentRead: true,
    });
  });

  it('reads a day’s key strongly consistent', async () => {
    ddb.on(GetItemCommand).resolvesOnce({ Item: item() }).resolves({});
    expect(await keys.get(DAY)).toEqual(key);
    expect(await keys.get(DAY)).toBeUndefined();
    expect(ddb.commandCalls(GetItemCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Key,
      ConsistentRead: true,
    });
  });

  it('queries a range of days oldest first, across pages', async () => {
    const next = { ...key, day: DAY + 1, keyId: new Uint8Array(32).fill(5) };
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [item()], LastEvaluatedKey: Key })
      .resolves({ Items: [item(next)] });
    expect(await keys.range(DAY - 7, DAY + 1)).toEqual([key, next]);
    const calls = ddb.commandCalls(QueryCommand).map((c) => c.args[0].input);
    const query = {
      TableName: TABLE,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: {
        ':pk': { S: 'tkey' },
        ':from': { S: '0000020448' },
        ':to': { S: '0000020456' },
      },
      ScanIndexForward: true,
      ConsistentRead: true,
    };
    expect(calls).toEqual([query, { ...query, ExclusiveStartKey: Key }]);
  });

  it('answers an empty range without a request', async () => {
    expect(await keys.range(DAY + 1, DAY)).toEqual([]);
    expect(ddb.calls()).toHaveLength(0);
  });

  it('refuses malformed stored keys', async () => {
    const bad = [
      { ...item(), v: { N: '2' } },
      { ...item(), keyId: { B: new Uint8Array(31) } },
      { ...item(), publicKey: { S: 'AAAA' } },
      { ...item(), wrappedPrivateKey: { B: new Uint8Array() } },
      { ...item(), notAfter: { N: '-5' } },
      { ...item(), sk: { S: 'day' } },
      // An item of another day under this day's key.
      { ...item(), sk: { S: '0000020454' } },
    ];
    for (const b of bad) {
      ddb.reset();
      ddb.on(GetItemCommand).resolves({ Item: b });
      await expect(keys.get(DAY)).rejects.toThrow(CORRUPT);
      ddb.on(PutItemCommand).rejects(conditionFailed(b));
      await expect(keys.putIfAbsent(key)).rejects.toThrow(CORRUPT);
    }
    ddb.reset();
    ddb.on(QueryCommand).resolves({ Items: [item(), { ...item(), keyId: { N: '1' } }] });
    await expect(keys.range(DAY, DAY + 1)).rejects.toThrow(CORRUPT);
  });

  it('turns throttling and timeouts into UnavailableError', async () => {
    for (const name of TRANSIENT) {
      ddb.reset();
      ddb.on(GetItemCommand).rejects(named(name));
      ddb.on(PutItemCommand).rejects(named(name));
      ddb.on(QueryCommand).rejects(named(name));
      await expect(keys.get(DAY)).rejects.toBeInstanceOf(UnavailableError);
      await expect(keys.putIfAbsent(key)).rejects.toBeInstanceOf(UnavailableError);
      await expect(keys.range(DAY, DAY)).rejects.toBeInstanceOf(UnavailableError);
    }
  });

  it('refuses a malformed key without a request', async () => {
    await expect(keys.putIfAbsent({ ...key, keyId: new Uint8Array(16) })).rejects.toThrow(
      RangeError,
    );
    await expect(keys.putIfAbsent({ ...key, day: 0.5 })).rejects.toThrow(RangeError);
    await expect(keys.range(0, 2 ** 40)).rejects.toThrow(RangeError);
    expect(ddb.calls()).toHaveLength(0);
  });
});
