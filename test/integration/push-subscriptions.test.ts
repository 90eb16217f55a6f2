/**
 * The push subscription store's contract (wake-ups, docs/SERVICE.md §7.3) against the
 * in-memory adapter and the DynamoDB adapter on DynamoDB Local, like contracts.test.ts.
 */
import { DynamoPushSubscriptions } from '#functions/adapters/dynamodb/dynamo-push-subscriptions.ts';
import { MemoryPushSubscriptions } from '#functions/adapters/memory/memory-push-subscriptions.ts';
import { useLocalAws } from '../helpers/use-local-aws.ts';
import { pushSubscriptionStoreContract } from './contracts/push-subscription-store.ts';

const local = useLocalAws();

pushSubscriptionStoreContract('memory', async () => new MemoryPushSubscriptions());
pushSubscriptionStoreContract(
  'dynamodb',
  async () => new DynamoPushSubscriptions(local.aws.dynamodb, local.table),
);
