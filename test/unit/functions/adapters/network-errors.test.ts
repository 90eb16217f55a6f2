/**
 * Socket failures that outlive the AWS SDK's retries (a plain Error with a Node `code`) are
 * transient: the DynamoDB and S3 adapters answer them with UnavailableError (503, retry), not a
 * 500, like throttling; other errors still propagate unchanged.
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoSpentTokens } from '#functions/adapters/dynamodb/dynamo-spent-tokens.ts';
import { translate } from '#functions/adapters/dynamodb/errors.ts';
import { isNetworkError } from '#functions/adapters/network-errors.ts';
import { S3BlobStore } from '#functions/adapters/s3/s3-blob-store.ts';
import { UnavailableError } from '#functions/domain/errors.ts';

const socketError = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

describe('network errors', () => {
  const dynamo = mockClient(DynamoDBClient);
  const s3 = mockClient(S3Client);
  afterEach(() => {
    dynamo.reset();
    s3.reset();
  });

  it('classifies Node socket codes only', () => {
    for (const code of ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN']) {
      expect(isNetworkError(socketError(code))).toBe(true);
    }
    expect(isNetworkError(socketError('EACCES'))).toBe(false);
    expect(isNetworkError(new Error('boom'))).toBe(false);
    expect(isNetworkError({ code: 'ECONNRESET' })).toBe(false);
    expect(isNetworkError(undefined)).toBe(false);
  });

  it('DynamoDB: translate answers UnavailableError for a refused connection, rethrows others', () => {
    expect(() => translate(socketError('ECONNREFUSED'))).toThrow(UnavailableError);
    const other = new Error('ValidationException');
    expect(() => translate(other)).toThrow(other);
  });

  it('DynamoDB adapters: a reset connection becomes UnavailableError', async () => {
    dynamo.onAnyCommand().rejects(socketError('ECONNRESET'));
    const spent = new DynamoSpentTokens(new DynamoDBClient({ region: 'us-east-1' }), 'table');
    await expect(
      spent.spend(new Uint8Array(32), Date.now() + 1000, new Uint8Array(16)),
    ).rejects.toBeInstanceOf(UnavailableError);
    expect(dynamo.commandCalls(GetItemCommand)).toHaveLength(0);
  });

  it('S3 adapters: a refused connection becomes UnavailableError', async () => {
    s3.on(GetObjectCommand).rejects(socketError('ECONNREFUSED'));
    const store = new S3BlobStore(new S3Client({ region: 'us-east-1' }), 'bucket');
    const mailbox = { address: 'aebagbafaydqqcikbmga2dqpcaireeyu', deviceId: 1, registrationId: 1 };
    await expect(store.get(mailbox as never, new Uint8Array(16))).rejects.toBeInstanceOf(
      UnavailableError,
    );
  });
});
