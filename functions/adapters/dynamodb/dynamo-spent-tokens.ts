/**
 * {@link SpentTokens} on DynamoDB: one item per spent token (token-keys.ts), written with a
 * conditional put so of any number of concurrent redemptions of one token exactly one succeeds.
 * The item carries its key and the TTL and nothing else: no account, no redemption time.
 */
import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { checkSpendArguments, type SpentTokens } from '../../domain/token-ports.ts';
import { keyItem, N } from './attributes.ts';
import { isConditionalFailure, translate } from './errors.ts';
import { TTL_ATTRIBUTE } from './keys.ts';
import { spentTokenKey } from './token-keys.ts';

/**
 * Spent tokens in the table named by `SEALPOST_TABLE`.
 *
 * @example
 * const spent = new DynamoSpentTokens(dynamodb, 'sealpost');
 * if (!(await spent.spend(tokenId, key.notAfter + MARGIN_MS))) throw alreadySpent();
 */
export class DynamoSpentTokens implements SpentTokens {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async spend(id: Uint8Array, expiresAt: number): Promise<boolean> {
    checkSpendArguments(id, expiresAt);
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: {
            ...keyItem(spentTokenKey(id)),
            [TTL_ATTRIBUTE]: N(Math.ceil(expiresAt / 1000)),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalFailure(err)) return false;
      return translate(err);
    }
  }
}
