/**
 * {@link SpentTokens} on DynamoDB: one item per spent token (token-keys.ts), written with one
 * conditional put (`attribute_not_exists(pk) OR bind = :bind`, `ReturnValues: ALL_OLD`), so of
 * any number of concurrent redemptions of one token with distinct bindings exactly one
 * succeeds, and a retry with the same binding is told apart by the old item it overwrote. The
 * item carries its key, the binding (a hash the caller derives from the send's request id)
 * and the TTL, nothing else: no account, no redemption time.
 */
import { type DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  checkRebindArguments,
  checkSpendArguments,
  type SpendResult,
  type SpentTokens,
} from '../../domain/token-ports.ts';
import { B, keyItem, N } from './attributes.ts';
import { isConditionalFailure, translate } from './errors.ts';
import { TTL_ATTRIBUTE } from './keys.ts';
import { spentTokenKey } from './token-keys.ts';

/**
 * Spent tokens in the table named by `SEALPOST_TABLE`.
 *
 * @example
 * const spent = new DynamoSpentTokens(dynamodb, 'sealpost');
 * if ((await spent.spend(tokenId, key.notAfter + MARGIN_MS, bind)) === 'taken') throw spentError();
 */
export class DynamoSpentTokens implements SpentTokens {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async spend(id: Uint8Array, expiresAt: number, bind: Uint8Array): Promise<SpendResult> {
    checkSpendArguments(id, expiresAt, bind);
    try {
      const out = await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: {
            ...keyItem(spentTokenKey(id)),
            bind: B(bind),
            [TTL_ATTRIBUTE]: N(Math.ceil(expiresAt / 1000)),
          },
          // A retry with the same binding rewrites the item unchanged except for the TTL,
          // which is the same for every spend of one token.
          ConditionExpression: 'attribute_not_exists(pk) OR #bind = :bind',
          ExpressionAttributeNames: { '#bind': 'bind' },
          ExpressionAttributeValues: { ':bind': B(bind) },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return out.Attributes?.['pk'] === undefined ? 'spent' : 'again';
    } catch (err) {
      if (isConditionalFailure(err)) return 'taken';
      return translate(err);
    }
  }

  async rebind(id: Uint8Array, from: Uint8Array, to: Uint8Array): Promise<boolean> {
    checkRebindArguments(id, from, to);
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: keyItem(spentTokenKey(id)),
          UpdateExpression: 'SET #bind = :to',
          ConditionExpression: 'attribute_exists(pk) AND #bind = :from',
          ExpressionAttributeNames: { '#bind': 'bind' },
          ExpressionAttributeValues: { ':from': B(from), ':to': B(to) },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalFailure(err)) return false;
      return translate(err);
    }
  }
}
