/**
 * The exact DynamoDB commands of the connection registry (keys, conditions, TTL, the
 * replace-and-retry of racing connects), with the client mocked.
 */
import {
  DynamoDBClient,
  GetItemCommand,
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
  Object.assign(new Error('cancelled'), {
    name: 'TransactionCanceledException',
    CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }],
  });
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
  it('writes both items when the device has none, conditional on its absence', async () => {
    ddb.on(GetItemCommand).resolves({});
    ddb.on(TransactWriteItemsCommand).resolves({});
    const registry = new DynamoConnections(client, TABLE);
    expect(await registry.put(DEVICE, 'c1', AT)).toBeUndefined();
    expect(ddb.commandCalls(GetItemCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Key: DEVICE_KEY,
      ConsistentRead: true,
    });
    const [write] = ddb.commandCalls(TransactWriteItemsCommand);
    expect(write!.args[0].input.TransactItems).toEqual([
      {
        Put: {
          TableName: TABLE,
          Item: { ...deviceItem('c1'), connectedAt: { N: String(AT) } },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      { Put: { TableName: TABLE, Item: connectionItem('c1') } },
    ]);
  });

  it('replaces the current connection, deleting its item, and returns it', async () => {
    ddb.on(GetItemCommand).resolves({ Item: deviceItem('old') });
    ddb.on(TransactWriteItemsCommand).resolves({});
    const registry = new DynamoConnections(client, TABLE);
    expect(await registry.put(DEVICE, 'c1', AT)).toBe('old');
    const items = ddb.commandCalls(TransactWriteItemsCommand)[0]!.args[0].input.TransactItems!;
    expect(items[0]!.Put).toMatchObject({
      ConditionExpression: 'connectionId = :previous',
      ExpressionAttributeValues: { ':previous': { S: 'old' } },
    });
    expect(items[2]).toEqual({ Delete: { TableName: TABLE, Key: connKey('old') } });
  });

  it('retries against the winner of a racing connect and reports the winner replaced', async () => {
    ddb
      .on(GetItemCommand)
      .resolvesOnce({})
      .resolves({ Item: deviceItem('winner') });
    ddb.on(TransactWriteItemsCommand).rejectsOnce(conditionFailed()).resolves({});
    const registry = new DynamoConnections(client, TABLE);
    expect(await registry.put(DEVICE, 'c1', AT)).toBe('winner');
    expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(2);
  });

  it('gives up with UnavailableError when the device keeps changing', async () => {
    ddb.on(GetItemCommand).resolves({});
    ddb.on(TransactWriteItemsCommand).rejects(conditionFailed());
    const registry = new DynamoConnections(client, TABLE);
    await expect(registry.put(DEVICE, 'c1', AT)).rejects.toBeInstanceOf(UnavailableError);
  });

  it('returns nothing when the connection is already current', async () => {
    ddb.on(GetItemCommand).resolves({ Item: deviceItem('c1') });
    ddb.on(TransactWriteItemsCommand).resolves({});
    const registry = new DynamoConnections(client, TABLE);
    expect(await registry.put(DEVICE, 'c1', AT)).toBeUndefined();
    const items = ddb.commandCalls(TransactWriteItemsCommand)[0]!.args[0].input.TransactItems!;
    expect(items).toHaveLength(2);
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

  it('removes both items only while the connection is current', async () => {
    ddb.on(GetItemCommand).resolves({ Item: connectionItem('c1') });
    ddb.on(TransactWriteItemsCommand).resolvesOnce({}).rejects(conditionFailed());
    const registry = new DynamoConnections(client, TABLE);
    expect(await registry.remove('c1')).toBe(true);
    expect(ddb.commandCalls(TransactWriteItemsCommand)[0]!.args[0].input.TransactItems).toEqual([
      {
        Delete: {
          TableName: TABLE,
          Key: connKey('c1'),
          ConditionExpression: 'attribute_exists(pk)',
        },
      },
      {
        Delete: {
          TableName: TABLE,
          Key: DEVICE_KEY,
          ConditionExpression: 'connectionId = :id',
          ExpressionAttributeValues: { ':id': { S: 'c1' } },
        },
      },
    ]);
    expect(await registry.remove('c1')).toBe(false);
  });

  it('does not write when the connection is unknown', async () => {
    ddb.on(GetItemCommand).resolves({});
    const registry = new DynamoConnections(client, TABLE);
    expect(await registry.remove('c9')).toBe(false);
    expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(0);
  });

  it('turns throttling into UnavailableError', async () => {
    ddb
      .on(GetItemCommand)
      .rejects(Object.assign(new Error('slow'), { name: 'ThrottlingException' }));
    const registry = new DynamoConnections(client, TABLE);
    await expect(registry.get(DEVICE)).rejects.toBeInstanceOf(UnavailableError);
  });
});
