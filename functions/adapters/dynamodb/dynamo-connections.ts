/**
 * {@link ConnectionRegistry} on DynamoDB (docs/SERVICE.md §7.3): two items per live connection,
 * written and removed together in one transaction, so a connection item exists exactly while
 * its connection is its device's current one:
 * - the device item (connection-keys.ts `deviceConnectionKey`): current connection id,
 *   registration id, connectedAt;
 * - the connection item (`connectionKey`): address, device id, registration id, connectedAt.
 * A replace is conditional on the device item still naming the connection read before it, so of
 * two racing connects exactly one wins each round and the other retries against the winner
 * (and reports it as replaced). Items expire by TTL a few hours after the connect: API Gateway
 * closes every WebSocket connection after 2 hours, and a lost `$disconnect` must not leave a
 * device item behind forever.
 */
import {
  type DynamoDBClient,
  GetItemCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { UnavailableError } from '../../domain/errors.ts';
import type { DeviceRef } from '../../domain/ports.ts';
import type { ConnectionRegistry, LiveConnection } from '../../domain/realtime-ports.ts';
import { checkVersion, type Item, keyItem, N, readN, readS, S } from './attributes.ts';
import { connectionKey, deviceConnectionKey } from './connection-keys.ts';
import { isTransactionConditionFailure, translate } from './errors.ts';
import { TTL_ATTRIBUTE } from './keys.ts';

/** Record version of both connection items. */
const VERSION = 1;

/** Seconds a connection's items live after its connect (API Gateway's limit is 2 hours). */
export const CONNECTION_TTL_SECONDS = 3 * 60 * 60;

/** Rounds of read-then-replace before a put gives up under contention. */
const MAX_PUT_ATTEMPTS = 8;

/**
 * True when a transaction lost to another write of the same items: a failed condition (another
 * connect won) or a conflict with a transaction in flight. Both are answered by reading again.
 */
function lostRace(err: unknown): boolean {
  if (isTransactionConditionFailure(err)) return true;
  if (!(err instanceof Error) || err.name !== 'TransactionCanceledException') return false;
  const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons.some((r) => r.Code === 'TransactionConflict');
}

/**
 * Live connections in the table named by `SEALPOST_TABLE`.
 *
 * @example
 * const connections = new DynamoConnections(dynamodb, 'sealpost');
 * await connections.put(caller.ref, event.requestContext.connectionId, Date.now());
 */
export class DynamoConnections implements ConnectionRegistry {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  /**
   * @throws {UnavailableError} when DynamoDB is throttled or the device's connection keeps
   *   changing under contention.
   */
  async put(
    device: DeviceRef,
    connectionId: string,
    connectedAt: number,
  ): Promise<string | undefined> {
    const live: LiveConnection = { connectionId, device: { ...device }, connectedAt };
    for (let attempt = 0; attempt < MAX_PUT_ATTEMPTS; attempt++) {
      const current = await this.read(deviceConnectionKey(device));
      const previous = current === undefined ? undefined : readS(current, 'connectionId');
      const items: TransactWriteItem[] = [
        { Put: this.devicePut(live, previous) },
        { Put: { TableName: this.table, Item: this.connectionItem(live) } },
      ];
      if (previous !== undefined && previous !== connectionId) {
        items.push({ Delete: { TableName: this.table, Key: keyItem(connectionKey(previous)) } });
      }
      try {
        await this.client.send(new TransactWriteItemsCommand({ TransactItems: items }));
        return previous === connectionId ? undefined : previous;
      } catch (err) {
        // Another connect of the same device won this round: read the winner and replace it.
        if (!lostRace(err)) return translate(err);
      }
    }
    throw new UnavailableError();
  }

  async get(device: { address: string; deviceId: number }): Promise<LiveConnection | undefined> {
    const item = await this.read(deviceConnectionKey(device));
    if (item === undefined) return undefined;
    return {
      connectionId: readS(item, 'connectionId'),
      device: {
        address: device.address,
        deviceId: device.deviceId,
        registrationId: readN(item, 'registrationId'),
      },
      connectedAt: readN(item, 'connectedAt'),
    };
  }

  async remove(connectionId: string): Promise<boolean> {
    const live = await this.byConnection(connectionId);
    if (live === undefined) return false;
    try {
      await this.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Delete: {
                TableName: this.table,
                Key: keyItem(connectionKey(connectionId)),
                ConditionExpression: 'attribute_exists(pk)',
              },
            },
            {
              Delete: {
                TableName: this.table,
                Key: keyItem(deviceConnectionKey(live.device)),
                ConditionExpression: 'connectionId = :id',
                ExpressionAttributeValues: { ':id': S(connectionId) },
              },
            },
          ],
        }),
      );
      return true;
    } catch (err) {
      // Replaced or removed since it was read: the newer connection stays.
      if (isTransactionConditionFailure(err)) return false;
      return translate(err);
    }
  }

  async byConnection(connectionId: string): Promise<LiveConnection | undefined> {
    const item = await this.read(connectionKey(connectionId));
    if (item === undefined) return undefined;
    return {
      connectionId,
      device: {
        address: readS(item, 'address'),
        deviceId: readN(item, 'deviceId'),
        registrationId: readN(item, 'registrationId'),
      },
      connectedAt: readN(item, 'connectedAt'),
    };
  }

  /** The device item's put, conditional on the device's connection read before it. */
  private devicePut(live: LiveConnection, previous: string | undefined) {
    return {
      TableName: this.table,
      Item: {
        ...keyItem(deviceConnectionKey(live.device)),
        ...this.common(live),
        connectionId: S(live.connectionId),
      },
      ...(previous === undefined
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : {
            ConditionExpression: 'connectionId = :previous',
            ExpressionAttributeValues: { ':previous': S(previous) },
          }),
    };
  }

  private connectionItem(live: LiveConnection): Item {
    return {
      ...keyItem(connectionKey(live.connectionId)),
      ...this.common(live),
      address: S(live.device.address),
      deviceId: N(live.device.deviceId),
    };
  }

  private common(live: LiveConnection): Item {
    return {
      v: N(VERSION),
      registrationId: N(live.device.registrationId),
      connectedAt: N(live.connectedAt),
      [TTL_ATTRIBUTE]: N(Math.ceil(live.connectedAt / 1000) + CONNECTION_TTL_SECONDS),
    };
  }

  private async read(key: { pk: string; sk: string }): Promise<Item | undefined> {
    try {
      const { Item: item } = await this.client.send(
        new GetItemCommand({ TableName: this.table, Key: keyItem(key), ConsistentRead: true }),
      );
      if (item === undefined) return undefined;
      checkVersion(item, VERSION);
      return item;
    } catch (err) {
      return translate(err);
    }
  }
}
