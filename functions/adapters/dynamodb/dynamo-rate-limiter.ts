/**
 * Fixed-window {@link RateLimiter} on DynamoDB: one counter item per key and window, bumped
 * with a conditional `ADD` (one write per check) and removed by TTL after the window.
 */
import { type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { RateLimiter } from '../../domain/ports.ts';
import { keyItem, N } from './attributes.ts';
import { isConditionalFailure, translate } from './errors.ts';
import { rateKey, TTL_ATTRIBUTE } from './keys.ts';

/** Counters in the table named by `SEALPOST_TABLE`. */
export class DynamoRateLimiter implements RateLimiter {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async hit(key: string, limit: number, windowMs: number, now: number): Promise<boolean> {
    const window = Math.floor(now / windowMs);
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: keyItem(rateKey(key, window)),
          UpdateExpression: 'ADD #n :one SET #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(#n) OR #n < :limit',
          ExpressionAttributeNames: { '#n': 'hits', '#ttl': TTL_ATTRIBUTE },
          ExpressionAttributeValues: {
            ':one': N(1),
            ':limit': N(limit),
            ':ttl': N(Math.ceil(((window + 1) * windowMs) / 1000)),
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
