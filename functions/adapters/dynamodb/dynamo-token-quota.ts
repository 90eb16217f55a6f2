/**
 * {@link TokenQuota} on DynamoDB: one counter item per account and UTC day (token-keys.ts),
 * bumped by a conditional `ADD` that never passes the limit however many issuances race, and
 * removed by TTL two days after its day ends. The item holds the count and nothing else.
 */
import { type DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { UnavailableError } from '../../domain/errors.ts';
import { checkQuotaArguments, type TokenQuota } from '../../domain/token-ports.ts';
import { checkVersion, type Item, keyItem, N, readN } from './attributes.ts';
import { isConditionalFailure, translate } from './errors.ts';
import { TTL_ATTRIBUTE } from './keys.ts';
import { tokenQuotaKey } from './token-keys.ts';

/** Record version of the counter item. */
const VERSION = 1;
/** Rounds before giving up when a refused counter is gone by the time it is read. */
const ROUNDS = 3;
const DAY_SECONDS = 24 * 60 * 60;

/** The count of a counter item. */
function readCount(item: Item): number {
  checkVersion(item, VERSION);
  const n = readN(item, 'n');
  if (!Number.isSafeInteger(n) || n < 0) throw new Error('stored item has a malformed attribute n');
  return n;
}

/**
 * Daily token issuance counters in the table named by `SEALPOST_TABLE`.
 *
 * @example
 * const quota = new DynamoTokenQuota(dynamodb, 'sealpost');
 * const { granted, used } = await quota.take(address, utcDay(Date.now()), 20, 100);
 */
export class DynamoTokenQuota implements TokenQuota {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async take(
    address: string,
    day: number,
    count: number,
    limit: number,
  ): Promise<{ granted: boolean; used: number }> {
    checkQuotaArguments(address, day, count, limit);
    // More than the limit at once can never be granted (and `:max` would be negative, which
    // the condition's attribute_not_exists branch would not catch).
    if (count > limit) return { granted: false, used: await this.current(address, day) };
    for (let round = 0; round < ROUNDS; round++) {
      let old: Item | undefined;
      try {
        const out = await this.client.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: keyItem(tokenQuotaKey(address, day)),
            UpdateExpression: 'SET v = :v, #ttl = :ttl ADD n :c',
            ConditionExpression: 'attribute_not_exists(n) OR n <= :max',
            ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
            ExpressionAttributeValues: {
              ':v': N(VERSION),
              ':c': N(count),
              ':max': N(limit - count),
              // The end of the day plus two days: a counter outlives every issuance it counts.
              ':ttl': N((day + 3) * DAY_SECONDS),
            },
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return { granted: true, used: readCount(out.Attributes ?? {}) };
      } catch (err) {
        if (!isConditionalFailure(err)) return translate(err);
        old = (err as { Item?: Item }).Item ?? (await this.item(address, day));
      }
      if (old) return { granted: false, used: readCount(old) };
      // The counter was removed between the refusal and the read (its TTL ran out): again.
    }
    throw new UnavailableError('the token quota is busy; retry');
  }

  private async current(address: string, day: number): Promise<number> {
    const item = await this.item(address, day);
    return item ? readCount(item) : 0;
  }

  private async item(address: string, day: number): Promise<Item | undefined> {
    try {
      const out = await this.client.send(
        new GetItemCommand({
          TableName: this.table,
          Key: keyItem(tokenQuotaKey(address, day)),
          ConsistentRead: true,
        }),
      );
      return out.Item;
    } catch (err) {
      return translate(err);
    }
  }
}
