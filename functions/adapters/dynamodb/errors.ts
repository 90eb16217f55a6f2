/**
 * Translation of AWS errors into domain terms. Conditional failures are answered by
 * each adapter where they mean something; throttling and transient faults become
 * {@link UnavailableError} (503, safe to retry); everything else propagates as a 500.
 */
import {
  type DynamoDBClient,
  PutItemCommand,
  type PutItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { UnavailableError } from '../../domain/errors.ts';
import { isNetworkError } from '../network-errors.ts';

const TRANSIENT = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TransactionConflictException',
  'TransactionInProgressException',
  'SlowDown',
  'InternalError',
  'TimeoutError',
  'TransactionCanceledException',
]);

/** True for `ConditionalCheckFailedException`. */
export function isConditionalFailure(err: unknown): boolean {
  return err instanceof Error && err.name === 'ConditionalCheckFailedException';
}

/** True for a cancelled transaction in which some condition failed. */
export function isTransactionConditionFailure(err: unknown): boolean {
  if (!(err instanceof Error) || err.name !== 'TransactionCanceledException') return false;
  const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons.some((r) => r.Code === 'ConditionalCheckFailed');
}

/** Rethrows `err`, as {@link UnavailableError} when it is transient. */
export function translate(err: unknown): never {
  if ((err instanceof Error && TRANSIENT.has(err.name)) || isNetworkError(err)) {
    throw new UnavailableError(undefined, { cause: err });
  }
  throw err;
}

/**
 * A conditional put: true when written, false when its condition failed (the item exists, or
 * changed since it was read); every other AWS error is translated.
 */
export async function conditionalPut(
  client: DynamoDBClient,
  input: PutItemCommandInput,
): Promise<boolean> {
  try {
    await client.send(new PutItemCommand(input));
    return true;
  } catch (err) {
    if (isConditionalFailure(err)) return false;
    return translate(err);
  }
}
