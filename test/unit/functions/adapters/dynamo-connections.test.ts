/**
 * The exact DynamoDB commands of the connection registry (keys, conditions, TTL, the
 * replace-and-retry of racing connects; single-item writes, no transactions), with the client
 * mocked.
 */
import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  CONNECTION_TTL_SECONDS,
  DynamoConnections,
} from '#functions/adapters/dynamodb/dynamo-connections.ts';
import { UnavailableError } from '#functions/domain/errors.ts';

const ddb = mockClient(DynamoDBClient);
const client = new DynamoDBClient({ region: 'us-east-1' });
const TABLE = 'sealpost';
const ADDRESS = 'abcdefghijklmnopqrstuvwxyz234567';
const DEVICE = { address: ADDRESS, deviceId: 2, registrationId: 77 };
const DEVICE_KEY = { pk: { S: `live#${ADDRESS}#0000000002` }, sk: { S: 'live' } };
const connKey = (id: string) => ({ pk: { S: `conn#${id}` }, sk: { S: 'conn' } });
const AT = 1_750_000_000_000;
const TTL = String(AT / 1000 + CONNECTION_TTL_SECONDS);

const conditionFailed = () =>
  Object.assign(new Error('failed'), { name: 'ConditionalCheckFailedException' });
const puts = () => ddb.commandCalls(PutItemCommand).map((c) => c.args[0].input);
const deletes = () => ddb.commandCalls(DeleteItemCommand).map((c) => c.args[0].input);
const deviceItem = (connectionId: string) => ({
  ...DEVICE_KEY,
  v: { N: '1' },
  connectionId: { S: connectionId },
  registrationId: { N: '77' },
  connectedAt: { N: String(AT - 5) },
  ttl: { N: TTL },
});
const connectionItem = (connectionId: string) => ({
  ...connKey(connectionId),
  v: { N: '1' },
  address: { S: ADDRESS },
  deviceId: { N: '2' },
  registrationId: { N: '77' },
  connectedAt: { N: String(AT) },
  ttl: { N: TTL },
});

beforeEach(() => {
  ddb.reset();
});

describe('DynamoConnections.put', () => {
  it('writes the connection item, then the device item conditional on its absence', async () => {
    ddb.on(GetItemCommand).resolves({});
    ddb.on(PutItemCommand).resolves({});
    const registry = new DynamoConnections(client, TABLE);
    expect(await registry.put(DEVICE, 'c1', AT)).toBeUndefined();
    expect(ddb.commandCalls(GetItemCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Key: DEVICE_KEY,
      ConsistentRead: true,
    });
    expect(puts()).toEqual([
      { TableName: TABLE, Item: connectionItem('c1') },
      {
        TableName: TABLE,
        Item: { ...deviceItem('c1'), connectedAt: { N: String(AT) } },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    ]);
    expect(deletes()).toEqual([]);
    // Two single-item writes: no transaction (which would cost twice the write units).
    expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(0);
  });

  it('replaces the current connection, deleting its item, and returns it', async () => {
    ddb.on(GetItemCommand).resolves({ Item: deviceItem('old') });
    ddb.on(PutItemCommand).resolves({});
    ddb.on(DeleteItemCommand).resolves({});
    const registry = new DynamoConnections(client, TABLE);
    expect(await registry.put(DEVICE, 'c1', AT)).toBe('old');
    expect(puts()[1]).toMatchObject({
      ConditionExpression: 'connectionId = :previous',
      ExpressionAttributeValues: { ':previous': { S: 'old' } },
    });
    expect(deletes()).toEqual([{ TableName: TABLE, Key: connKey('old') }]);
  });

  it('still reports the replaced connection when deleting its item fails', async () => {
    ddb.on(GetItemCommand).resolves({ Item: deviceItem('old') });
    ddb.on(PutItemCommand).resolves({});
    ddb
      .on(DeleteItemCommand)
      .rejects(Object.assign(new Error('slow'), { name: 'ThrottlingException' }));
    const registry = new DynamoConnections(client, TABLE);
    expect(await registry.put(DEVICE, 'c1', AT)).toBe('old');
  });

  it('retries against the winner of a racing connect and reports the winner replaced', async () => {
    ddb
      .on(GetItemCommand)
      .resolvesOnce({})
      .resolves({ Item: deviceItem('winner') });
    ddb.on(PutItemCommand).resolvesOnce({}).rejectsOnce(conditionFailed()).resolves({});
    ddb.on(DeleteItemCommand).resolves({});
    const registry = new DynamoConnections(client, TABLE);
    expect(await registry.put(DEVICE, 'c1', AT)).toBe('winner');
    // The connection item once, the device item twice (lost, then won).
    expect(puts().map((p) => p.Item?.['pk'])).toEqual([
      connKey('c1').pk,
      DEVICE_KEY.pk,
      DEVICE_KEY.pk,
    ]);
    expect(deletes()).toEqual([{ TableName: TABLE, Key: connKey('winner') }]);
  });

  it('gives up with UnavailableError when the device keeps changing', async () => {
    ddb.on(GetItemCommand).resolves({});
    ddb.on(PutItemCommand, { Item: connectionItem('c1') }).resolves({});
    ddb
      .on(PutItemCommand, { ConditionExpression: 'attribute_not_exists(pk)' })
      .rejects(conditionFailed());
    const registry = new DynamoConnections(client, TABLE);
    await expect(registry.put(DEVICE, 'c1', AT)).rejects.toBeInstanceOf(UnavailableError);
  });

  it('returns nothing and deletes nothing when the connection is already current', async () => {
    ddb.on(GetItemCommand).resolves({ Item: deviceItem('c1') });
    ddb.on(PutItemCommand).resolves({});
    const registry = new DynamoConnections(client, TABLE);
    expect(await registry.put(DEVICE, 'c1', AT)).toBeUndefined();
    expect(puts()).toHaveLength(2);
    expect(deletes()).toEqual([]);
  });
});

describe('DynamoConnections reads and remove', () => {
  it('reads the device current connection and a connection by id', async () => {
    ddb.on(GetItemCommand, { Key: DEVICE_KEY }).resolves({ Item: deviceItem('c1') });
    ddb.on(GetItemCommand, { Key: connKey('c1') }).resolves({ Item: connectionItem('c1') });
    ddb.on(GetItemCommand, { Key: connKey('c9') }).resolves({});
    const registry = new DynamoConnections(client, TABLE);
    expect(await registry.get(DEVICE)).toEqual({
      connectionId: 'c1',
      device: DEVICE,
      connectedAt: AT - 5,
    });
    expect(await registry.byConnection('c1')).toEqual({
      connectionId: 'c1',
      device: DEVICE,
      connectedAt: AT,
    });
    expect(await registry.byConnection('c9')).toBeUndefined();
  });

  it('removes the device item only while the connection is current, its own item always', async () => {
    ddb.on(GetItemCommand).resolves({ Item: connectionItem('c1') });
    ddb.on(DeleteItemCommand, { Key: DEVICE_KEY }).resolvesOnce({}).rejects(conditionFailed());
    ddb.on(DeleteItemCommand, { Key: connKey('c1') }).resolves({});
    const registry = new DynamoConnections(client, TABLE);
    expect(await registry.remove('c1')).toBe(true);
    expect(deletes()).toEqual([
      {
        TableName: TABLE,
        Key: DEVICE_KEY,
        ConditionExpression: 'connectionId = :id',
        ExpressionAttributeValues: { ':id': { S: 'c1' } },
      },
      { TableName: TABLE, Key: connKey('c1') },
    ]);
    // Replaced since: the device item stays (the condition fails), the stale item goes.
    expect(await registry.remove('c1')).toBe(false);
    expect(deletes().slice(2)).toEqual([
      expect.objectContaining({ Key: DEVICE_KEY }),
      { TableName: TABLE, Key: connKey('c1') },
    ]);
    expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(0);
  });

  it('does not write when the connection is unknown', async () => {
    ddb.on(GetItemCommand).resolves({});
    const registry = new DynamoConnections(client, TABLE);
    expect(await registry.remove('c9')).toBe(false);
    expect(deletes()).toHaveLength(0);
  });

  it('turns throttling into UnavailableError', async () => {
    ddb
      .on(GetItemCommand)
      .rejects(Object.assign(new Error('slow'), { name: 'ThrottlingException' }));
    const registry = new DynamoConnections(client, TABLE);
    await expect(registry.get(DEVICE)).rejects.toBeInstanceOf(UnavailableError);
  });
});
