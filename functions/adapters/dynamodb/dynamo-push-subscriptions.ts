/**
 * {@link PushSubscriptionStore} on DynamoDB (docs/SERVICE.md §7.3): one item per device
 * (push-keys.ts `pushSubscriptionKey`) holding the device generation's registration id, the
 * subscription (`kind`; `target`, the Web Push endpoint; `p256dh` and `auth` as binary),
 * `createdAt` and, once woken, `wakeUntil` (a whole hour). A put replaces the whole item (the
 * claim too). The throttle is one conditional UpdateItem on `wakeUntil`, so of any number of
 * racing unforced claims of a device exactly one succeeds. No `ttl`: an item lives until
 * the device unsubscribes, is removed, or its push service reports the subscription gone.
 */
import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { DeviceRef } from '../../domain/ports.ts';
import {
  type DeviceKey,
  type PushSubscriptionRecord,
  type PushSubscriptionStore,
  type StoredPushSubscription,
  subscriptionTarget,
} from '../../domain/wakeup-ports.ts';
import { B, checkVersion, type Item, keyItem, N, readB, readN, readS, S } from './attributes.ts';
import { isConditionalFailure, translate } from './errors.ts';
import { pushSubscriptionKey } from './push-keys.ts';

/** Record version of the subscription item. */
const VERSION = 1;

/**
 * Push subscriptions in the table named by `SEALPOST_TABLE`.
 *
 * @example
 * const store = new DynamoPushSubscriptions(dynamodb, 'sealpost');
 * if (await store.claimWake(mailbox, Date.now(), 60_000)) await sender.wake(subscription);
 */
export class DynamoPushSubscriptions implements PushSubscriptionStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async put(
    device: DeviceRef,
    subscription: PushSubscriptionRecord,
    createdAt: number,
  ): Promise<void> {
    const item: Item = {
      ...keyItem(pushSubscriptionKey(device)),
      v: N(VERSION),
      registrationId: N(device.registrationId),
      kind: S(subscription.kind),
      target: S(subscriptionTarget(subscription)),
      p256dh: B(subscription.p256dh),
      auth: B(subscription.auth),
      createdAt: N(createdAt),
    };
    try {
      await this.client.send(new PutItemCommand({ TableName: this.table, Item: item }));
    } catch (err) {
      translate(err);
    }
  }

  async get(device: DeviceKey): Promise<StoredPushSubscription | undefined> {
    let item: Item | undefined;
    try {
      ({ Item: item } = await this.client.send(
        new GetItemCommand({
          TableName: this.table,
          Key: keyItem(pushSubscriptionKey(device)),
          ConsistentRead: true,
        }),
      ));
    } catch (err) {
      return translate(err);
    }
    if (item === undefined) return undefined;
    checkVersion(item, VERSION);
    if (readS(item, 'kind') !== 'webpush')
      throw new Error('stored item has a malformed attribute kind');
    const wakeUntil = item['wakeUntil'] === undefined ? undefined : readN(item, 'wakeUntil');
    return {
      device: { ...device, registrationId: readN(item, 'registrationId') },
      subscription: {
        kind: 'webpush',
        endpoint: readS(item, 'target'),
        p256dh: readB(item, 'p256dh'),
        auth: readB(item, 'auth'),
      },
      createdAt: readN(item, 'createdAt'),
      ...(wakeUntil === undefined ? {} : { wakeUntil }),
    };
  }

  async remove(device: DeviceKey, only?: PushSubscriptionRecord): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.table,
          Key: keyItem(pushSubscriptionKey(device)),
          ...(only === undefined
            ? { ConditionExpression: 'attribute_exists(pk)' }
            : {
                ConditionExpression: '#target = :target',
                ExpressionAttributeNames: { '#target': 'target' },
                ExpressionAttributeValues: { ':target': S(subscriptionTarget(only)) },
              }),
        }),
      );
      return true;
    } catch (err) {
      // Nothing stored, or replaced by a newer subscription since it was read.
      if (isConditionalFailure(err)) return false;
      return translate(err);
    }
  }

  async claimWake(device: DeviceRef, now: number, until: number, force: boolean): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: keyItem(pushSubscriptionKey(device)),
          // A whole hour, never the time of the wake-up (README §Security model); an earlier
          // layout's `lastWakeAt` goes with the first claim.
          UpdateExpression: 'SET wakeUntil = :until REMOVE lastWakeAt',
          // No item, another generation's item, or (unless forced) a claim still holding.
          ConditionExpression: force
            ? 'registrationId = :rid'
            : 'registrationId = :rid AND (attribute_not_exists(wakeUntil) OR wakeUntil <= :now)',
          ExpressionAttributeValues: {
            ':until': N(until),
            ':rid': N(device.registrationId),
            ...(force ? {} : { ':now': N(now) }),
          },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalFailure(err)) return false;
      return translate(err);
    }
  }
}
