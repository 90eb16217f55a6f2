/**
 * Lambda entry of the bucket emptier (custom resource with the function as service token).
 * Uses the AWS SDK that the Lambda runtime ships.
 */
import {
  DeleteObjectsCommand,
  GetBucketTaggingCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  EMPTY_ON_DELETE_TAG,
  type EmptierEvent,
  type EmptierResponse,
  onEvent,
} from './emptier.ts';

const s3 = new S3Client({});

/** S3 errors that mean "nothing to empty". */
const ABSENT = new Set(['NoSuchBucket', 'NoSuchTagSet', 'NoSuchTagSetError']);

/**
 * Custom resource handler; see {@link onEvent}.
 *
 * @throws Error if the response cannot be delivered to CloudFormation
 * @example
 * ```ts
 * await handler({ RequestType: 'Delete', ResponseURL, StackId, RequestId, LogicalResourceId, ResourceProperties: { BucketName } });
 * ```
 */
export async function handler(event: EmptierEvent): Promise<EmptierResponse> {
  return onEvent(event, {
    isMarked: async (bucket) => {
      try {
        const out = await s3.send(new GetBucketTaggingCommand({ Bucket: bucket }));
        return (out.TagSet ?? []).some((t) => t.Key === EMPTY_ON_DELETE_TAG && t.Value === 'true');
      } catch (err) {
        if (ABSENT.has((err as { name?: string }).name ?? '')) return false;
        throw err;
      }
    },
    listKeys: async (bucket, token) => {
      const out = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }),
      );
      const keys = (out.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : []));
      return out.IsTruncated && out.NextContinuationToken
        ? { keys, next: out.NextContinuationToken }
        : { keys };
    },
    deleteKeys: async (bucket, keys) => {
      const out = await s3.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
        }),
      );
      if (out.Errors && out.Errors.length > 0) {
        throw new Error(`${out.Errors.length} objects could not be deleted`);
      }
    },
    respond: async (url, response) => {
      const body = JSON.stringify(response);
      const res = await fetch(url, {
        method: 'PUT',
        headers: { 'content-type': '', 'content-length': String(Buffer.byteLength(body)) },
        body,
      });
      if (!res.ok) throw new Error(`CloudFormation response rejected: HTTP ${res.status}`);
    },
  });
}
