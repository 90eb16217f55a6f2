/**
 * {@link ConnectionRegistry} on DynamoDB (docs/SERVICE.md §7.3): two items per live connection,
 * written and removed with single-item writes (no transactions: a transactional write costs
 * twice the units, and every device reconnects about 380 times a month):
 * - the device item (connection-keys.ts `deviceConnectionKey`): current connection id,
 *   registration id, connectedAt, payloads (true, or absent). It is the truth: a connection is
 *   current exactly while this item names it.
 * - the connection item (`connectionKey`): address, device id, registration id, connectedAt,
 *   payloads; the way from a connection id (all a frame or a disconnect carries) to its device.
 * A connect writes its connection item, then replaces the device item conditionally on the
 * connection read before it, so of two racing connects exactly one wins each round and the
 * other retries against the winner (and reports it as replaced); then it deletes the replaced
 * connection's item. A disconnect deletes the device item only while it still names the
 * connection, then the connection item. Between two of these writes, or after a failure between
 * them, a replaced connection's item may outlive the replace for a moment: it only ever points
 * at its own device, whose connection is being closed, so a frame read through it acts for the
 * right device. Items expire by TTL a few hours after the connect: API Gateway closes every
 * WebSocket connection after 2 hours, and a lost `$disconnect` must not leave items forever.
 */
import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { UnavailableError } from '../../domain/errors.ts';
import type { DeviceRef } from '../../domain/ports.ts';
import type {
  ConnectionOptions,
  ConnectionRegistry,
  LiveConnection,
} from '../../domain/realtime-ports.ts';
import {
  BOOL,
  checkVersion,
  type Item,
  keyItem,
  N,
  readBool,
  readN,
  readS,
  S,
} from './attributes.ts';
import { connectionKey, deviceConnectionKey } from './connection-keys.ts';
import { isConditionalFailure, translate } from './errors.ts';
import { TTL_ATTRIBUTE } from './keys.ts';

/** Record version of both connection items. */
const VERSION = 1;

/** Seconds a connection's items live after its connect (API Gateway's limit is 2 hours). */
export const CONNECTION_TTL_SECONDS = 3 * 60 * 60;

/**
 * A connection item's options: `payloads` (a BOOL, written only when true; items without it,
 * also those written before the attribute existed, are connections without payloads).
 */
function readOptions(item: Item): { payloads?: boolean } {
  return item['payloads'] !== undefined && readBool(item, 'payloads') ? { payloads: true } : {};
}

/** Rounds of read-then-replace before a put gives up under contention. */
const MAX_PUT_ATTEMPTS = 8;

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
    options?: ConnectionOptions,
  ): Promise<string | undefined> {
    const live: LiveConnection = {
      connectionId,
      device: { ...device },
      connectedAt,
      ...(options?.payloads ? { payloads: true } : {}),
    };
    await this.write(
      new PutItemCommand({ TableName: this.table, Item: this.connectionItem(live) }),
    );
    for (let attempt = 0; attempt < MAX_PUT_ATTEMPTS; attempt++) {
      const current = await this.read(deviceConnectionKey(device));
      const previous = current === undefined ? undefined : readS(current, 'connectionId');
      try {
        await this.client.send(new PutItemCommand(this.devicePut(live, previous)));
      } catch (err) {
        // Another connect of the same device won this round: read the winner and replace it.
        if (isConditionalFailure(err)) continue;
        return translate(err);
      }
      if (previous === undefined || previous === connectionId) return undefined;
      // The replaced connection's item; left behind, its own disconnect or the TTL removes it.
      await this.client
        .send(
          new DeleteItemCommand({ TableName: this.table, Key: keyItem(connectionKey(previous)) }),
        )
        .catch(() => undefined);
      return previous;
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
      ...readOptions(item),
    };
  }

  async remove(connectionId: string): Promise<boolean> {
    const live = await this.byConnection(connectionId);
    if (live === undefined) return false;
    let current = true;
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.table,
          Key: keyItem(deviceConnectionKey(live.device)),
          ConditionExpression: 'connectionId = :id',
          ExpressionAttributeValues: { ':id': S(connectionId) },
        }),
      );
    } catch (err) {
      // Replaced since: the newer connection stays; this one's item goes all the same.
      if (!isConditionalFailure(err)) return translate(err);
      current = false;
    }
    await this.write(
      new DeleteItemCommand({ TableName: this.table, Key: keyItem(connectionKey(connectionId)) }),
    );
    return current;
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
      ...readOptions(item),
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
      // Both items: the push reads the device item, a drain the connection item.
      ...(live.payloads ? { payloads: BOOL(true) } : {}),
      [TTL_ATTRIBUTE]: N(Math.ceil(live.connectedAt / 1000) + CONNECTION_TTL_SECONDS),
    };
  }

  private async write(command: PutItemCommand | DeleteItemCommand): Promise<void> {
    try {
      await (command instanceof PutItemCommand
        ? this.client.send(command)
        : this.client.send(command));
    } catch (err) {
      translate(err);
    }
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
