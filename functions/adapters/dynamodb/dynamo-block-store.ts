/**
 * {@link BlockStore} on DynamoDB (docs/SERVICE.md §4.1, §8.1): one partition per blocking
 * account (block-keys.ts) with one item per blocked account (`blocked`, the address) and a
 * count item (`n`). Adding is one transaction: the pair item, conditional on not existing, and
 * `ADD n 1` on the count, conditional on being below the limit; removing deletes the pair and
 * subtracts one in the same way. So the count is exact and the limit holds however many adds
 * race. No `ttl`: a block lasts until it is removed.
 */
import {
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import type { BlockAddResult, BlockStore } from '../../domain/ports.ts';
import { checkVersion, type Item, keyItem, N, readS, S } from './attributes.ts';
import { BLOCKED_SK_PREFIX, blockCountKey, blockKey, blockPartition } from './block-keys.ts';
import { translate } from './errors.ts';

/** Record version of the pair and count items. */
const VERSION = 1;

/** Which items of a cancelled transaction failed their condition (by position). */
function failedConditions(err: unknown): boolean[] | undefined {
  if (!(err instanceof Error) || err.name !== 'TransactionCanceledException') return undefined;
  const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  const failed = reasons.map((r) => r.Code === 'ConditionalCheckFailed');
  return failed.some(Boolean) ? failed : undefined;
}

/**
 * Block lists in the table named by `SEALPOST_TABLE`.
 *
 * @example
 * const blocks = new DynamoBlockStore(dynamodb, 'sealpost');
 * if (await blocks.has(recipient, sender)) throw new ServiceError('BLOCKED', '...');
 */
export class DynamoBlockStore implements BlockStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async add(owner: string, blocked: string, limit: number): Promise<BlockAddResult> {
    try {
      await this.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.table,
                Item: { ...keyItem(blockKey(owner, blocked)), v: N(VERSION), blocked: S(blocked) },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Update: {
                TableName: this.table,
                Key: keyItem(blockCountKey(owner)),
                UpdateExpression: 'SET v = :v ADD n :one',
                ConditionExpression: 'attribute_not_exists(n) OR n < :limit',
                ExpressionAttributeValues: { ':v': N(VERSION), ':one': N(1), ':limit': N(limit) },
              },
            },
          ],
        }),
      );
      return 'added';
    } catch (err) {
      const failed = failedConditions(err);
      if (failed?.[0]) return 'exists';
      if (failed?.[1]) return 'limit';
      return translate(err);
    }
  }

  async remove(owner: string, blocked: string): Promise<boolean> {
    try {
      await this.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Delete: {
                TableName: this.table,
                Key: keyItem(blockKey(owner, blocked)),
                ConditionExpression: 'attribute_exists(pk)',
              },
            },
            {
              Update: {
                TableName: this.table,
                Key: keyItem(blockCountKey(owner)),
                UpdateExpression: 'ADD n :minus',
                ConditionExpression: 'n > :zero',
                ExpressionAttributeValues: { ':minus': N(-1), ':zero': N(0) },
              },
            },
          ],
        }),
      );
      return true;
    } catch (err) {
      if (failedConditions(err)?.[0]) return false;
      return translate(err);
    }
  }

  async has(owner: string, sender: string): Promise<boolean> {
    try {
      const out = await this.client.send(
        new GetItemCommand({
          TableName: this.table,
          Key: keyItem(blockKey(owner, sender)),
          ConsistentRead: true,
          ProjectionExpression: 'pk',
        }),
      );
      return out.Item !== undefined;
    } catch (err) {
      return translate(err);
    }
  }

  async list(owner: string): Promise<string[]> {
    const out: string[] = [];
    let start: Item | undefined;
    try {
      do {
        const page = await this.client.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: {
              ':pk': S(blockPartition(owner)),
              ':prefix': S(BLOCKED_SK_PREFIX),
            },
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        for (const item of page.Items ?? []) {
          checkVersion(item, VERSION);
          out.push(readS(item, 'blocked'));
        }
        start = page.LastEvaluatedKey;
      } while (start);
    } catch (err) {
      return translate(err);
    }
    // Sort keys order the addresses already; sorted again so the contract never rests on it.
    return out.sort();
  }
}
