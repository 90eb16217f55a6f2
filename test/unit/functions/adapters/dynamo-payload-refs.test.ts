/**
 * The exact DynamoDB commands of the shared payloads' reference sets (key, set operations,
 * conditions, return values, TTL) and how each answer is read, with the client mocked.
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoPayloadRefs } from '#functions/adapters/dynamodb/index.ts';
import { UnavailableError } from '#functions/domain/errors.ts';

const ddb = mockClient(DynamoDBClient);
const refs = new DynamoPayloadRefs(new DynamoDBClient({ region: 'us-east-1' }), 'sealpost');
const id = Uint8Array.from({ length: 16 }, (_, i) => i);
const key = { pk: { S: `pay#${'000102030405060708090a0b0c0d0e0f'}` }, sk: { S: 'refs' } };
const ref = (n: number) => new Uint8Array(16).fill(n);
const HOUR = 3_600_000;
const conditionFailed = (item?: Record<string, unknown>) =>
  Object.assign(new ConditionalCheckFailedException({ message: 'failed', $metadata: {} }), {
    ...(item ? { Item: item } : {}),
  });
const throttled = () =>
  Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' });

beforeEach(() => {
  ddb.reset();
});

describe('DynamoPayloadRefs.add', () => {
  it('adds the positions as a set union and sets ttl (expiry + 1 day, s) only if absent', async () => {
    ddb.on(UpdateItemCommand).resolves({});
    await refs.add(id, [ref(1), ref(2), ref(1)], 470_721 * HOUR + 1);
    expect(ddb.commandCalls(UpdateItemCommand)[0]!.args[0].input).toEqual({
      TableName: 'sealpost',
      Key: key,
      UpdateExpression: 'SET #v = :v, #ttl = if_not_exists(#ttl, :ttl) ADD #refs :refs',
      ExpressionAttributeNames: { '#v': 'v', '#ttl': 'ttl', '#refs': 'refs' },
      ExpressionAttributeValues: {
        ':v': { N: '1' },
        // Rounded up to the second, then one day more.
        ':ttl': { N: String(470_721 * 3600 + 1 + 86_400) },
        // A set holds a value once: DynamoDB refuses a request that repeats one.
        ':refs': { BS: [ref(1), ref(2)] },
      },
    });
  });

  it('refuses a malformed id, no positions or a malformed position before any request', async () => {
    await expect(refs.add(new Uint8Array(15), [ref(1)], HOUR)).rejects.toThrow(RangeError);
    await expect(refs.add(id, [], HOUR)).rejects.toThrow(/refs/);
    await expect(refs.add(id, [ref(1), new Uint8Array(8)], HOUR)).rejects.toThrow(/ref/);
    await expect(refs.add(id, [ref(1)], Number.NaN)).rejects.toThrow(/expiresAt/);
    expect(ddb.calls()).toHaveLength(0);
  });

  it('turns throttling into UnavailableError', async () => {
    ddb.on(UpdateItemCommand).rejects(throttled());
    await expect(refs.add(id, [ref(1)], HOUR)).rejects.toBeInstanceOf(UnavailableError);
  });
});

describe('DynamoPayloadRefs.release', () => {
  it('removes the position only if the set holds it, and keeps the item while others remain', async () => {
    ddb.on(UpdateItemCommand).resolves({ Attributes: { ...key, refs: { BS: [ref(2)] } } });
    expect(await refs.release(id, ref(1))).toBe('kept');
    expect(ddb.commandCalls(UpdateItemCommand)[0]!.args[0].input).toEqual({
      TableName: 'sealpost',
      Key: key,
      UpdateExpression: 'DELETE #refs :refs',
      ConditionExpression: 'contains(#refs, :ref)',
      ExpressionAttributeNames: { '#refs': 'refs' },
      ExpressionAttributeValues: { ':refs': { BS: [ref(1)] }, ':ref': { B: ref(1) } },
      ReturnValues: 'ALL_NEW',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    expect(ddb.commandCalls(DeleteItemCommand)).toHaveLength(0);
  });

  it('deletes the item when the set became empty, unless refs came back in between', async () => {
    // DynamoDB removes an empty set: the new item has no `refs`.
    ddb.on(UpdateItemCommand).resolves({ Attributes: { ...key, v: { N: '1' } } });
    ddb.on(DeleteItemCommand).resolvesOnce({}).rejectsOnce(conditionFailed());
    expect(await refs.release(id, ref(1))).toBe('emptied');
    expect(ddb.commandCalls(DeleteItemCommand)[0]!.args[0].input).toEqual({
      TableName: 'sealpost',
      Key: key,
      ConditionExpression: 'attribute_not_exists(#refs)',
      ExpressionAttributeNames: { '#refs': 'refs' },
    });
    expect(await refs.release(id, ref(1))).toBe('kept');
  });

  it('reads a failed condition: kept if the item exists, absent if there is none', async () => {
    ddb
      .on(UpdateItemCommand)
      .rejectsOnce(conditionFailed({ ...key, refs: { BS: [ref(3)] } }))
      .rejectsOnce(conditionFailed())
      .rejectsOnce(conditionFailed());
    ddb
      .on(GetItemCommand)
      .resolvesOnce({})
      .resolvesOnce({ Item: { ...key, v: { N: '1' } } });
    expect(await refs.release(id, ref(1))).toBe('kept');
    expect(ddb.commandCalls(GetItemCommand)).toHaveLength(0);
    // No item returned with the failure: one strongly consistent read decides.
    expect(await refs.release(id, ref(1))).toBe('absent');
    expect(ddb.commandCalls(GetItemCommand)[0]!.args[0].input).toEqual({
      TableName: 'sealpost',
      Key: key,
      ConsistentRead: true,
    });
    // An item without refs: another release emptied it and is deleting it.
    expect(await refs.release(id, ref(1))).toBe('kept');
    expect(ddb.commandCalls(DeleteItemCommand)).toHaveLength(0);
  });

  it('turns throttling into UnavailableError at each step, and refuses malformed arguments', async () => {
    ddb.on(UpdateItemCommand).rejectsOnce(throttled());
    await expect(refs.release(id, ref(1))).rejects.toBeInstanceOf(UnavailableError);
    ddb.on(UpdateItemCommand).resolves({ Attributes: key });
    ddb.on(DeleteItemCommand).rejects(throttled());
    await expect(refs.release(id, ref(1))).rejects.toBeInstanceOf(UnavailableError);
    ddb.on(UpdateItemCommand).rejects(conditionFailed());
    ddb.on(GetItemCommand).rejects(throttled());
    await expect(refs.release(id, ref(1))).rejects.toBeInstanceOf(UnavailableError);
    ddb.reset();
    await expect(refs.release(id, new Uint8Array(15))).rejects.toThrow(RangeError);
    await expect(refs.release(new Uint8Array(17), ref(1))).rejects.toThrow(RangeError);
    expect(ddb.calls()).toHaveLength(0);
  });
});
