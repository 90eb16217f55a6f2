/**
 * {@link ReplayStore} on DynamoDB: one item per token, written with a conditional put so two
 * concurrent uses cannot both succeed; TTL removes it after the signature window. A token
 * whose item outlived its expiry (TTL lags up to ~2 days) counts as unused.
 */
import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { ReplayStore } from '../../domain/ports.ts';
import { keyItem, N } from './attributes.ts';
import { isConditionalFailure, translate } from './errors.ts';
import { replayKey, TTL_ATTRIBUTE } from './keys.ts';

/** Tokens in the table named by `SEALPOST_TABLE`. */
export class DynamoReplayStore implements ReplayStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async consume(token: string, expiresAt: number, now: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: {
            ...keyItem(replayKey(token)),
            expiresAt: N(expiresAt),
            [TTL_ATTRIBUTE]: N(Math.ceil(expiresAt / 1000)),
          },
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
          ExpressionAttributeValues: { ':now': N(now) },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalFailure(err)) return false;
      return translate(err);
    }
  }
}
