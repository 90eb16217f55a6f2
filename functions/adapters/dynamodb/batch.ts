/**
 * BatchWriteItem in chunks of 25 (the API limit), re-sending unprocessed items with
 * exponential backoff; gives up as {@link UnavailableError} rather than dropping a write.
 */
import {
  BatchWriteItemCommand,
  type DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { UnavailableError } from '../../domain/errors.ts';
import { translate } from './errors.ts';

const CHUNK = 25;
const MAX_ATTEMPTS = 6;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Writes every request.
 *
 * @throws {UnavailableError} if some requests stay unprocessed after retries.
 */
export async function batchWrite(
  client: DynamoDBClient,
  table: string,
  requests: readonly WriteRequest[],
): Promise<void> {
  for (let i = 0; i < requests.length; i += CHUNK) {
    let pending: WriteRequest[] = requests.slice(i, i + CHUNK);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= MAX_ATTEMPTS) throw new UnavailableError('batch write left unprocessed items');
      if (attempt > 0) await sleep(20 * 2 ** attempt);
      try {
        const out = await client.send(
          new BatchWriteItemCommand({ RequestItems: { [table]: pending } }),
        );
        pending = out.UnprocessedItems?.[table] ?? [];
      } catch (err) {
        translate(err);
      }
    }
  }
}
