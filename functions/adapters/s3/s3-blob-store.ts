/**
 * {@link BlobStore} on S3. Objects are written with `If-None-Match: *`, so a retried send
 * cannot replace what the first attempt stored (412 means "already there"). Objects carry no
 * user metadata: nothing about the sender, not even the content type of the plaintext.
 */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { UnavailableError } from '../../domain/errors.ts';
import type { BlobStore, Mailbox } from '../../domain/ports.ts';
import { isNetworkError } from '../network-errors.ts';
import { envelopeObjectKey } from './object-keys.ts';

const TRANSIENT = new Set([
  'SlowDown',
  'InternalError',
  'ServiceUnavailable',
  'RequestTimeout',
  'TimeoutError',
]);
const DELETE_CHUNK = 1000;

function status(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

function translate(err: unknown): never {
  if (
    (err instanceof Error && (TRANSIENT.has(err.name) || (status(err) ?? 0) >= 500)) ||
    isNetworkError(err)
  ) {
    throw new UnavailableError(undefined, { cause: err });
  }
  throw err;
}

/** Envelope objects in the bucket named by `SEALPOST_BUCKET`. */
export class S3BlobStore implements BlobStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async put(mailbox: Mailbox, position: Uint8Array, body: Uint8Array): Promise<void> {
    const key = envelopeObjectKey(mailbox, position);
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentLength: body.length,
          ContentType: 'application/octet-stream',
          IfNoneMatch: '*',
        }),
      );
    } catch (err) {
      // 412: a previous attempt stored it. 409: a concurrent attempt is storing it right now;
      // either way the retry continues with the index write.
      const code = status(err);
      if (code !== 412 && code !== 409) translate(err);
    }
  }

  async get(mailbox: Mailbox, position: Uint8Array): Promise<Uint8Array | undefined> {
    const key = envelopeObjectKey(mailbox, position);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return out.Body ? await out.Body.transformToByteArray() : undefined;
    } catch (err) {
      // Without s3:ListBucket (the function has none) S3 answers a GET of a missing key with
      // 403 AccessDenied, not 404 NoSuchKey; both mean the object is not there.
      if (
        err instanceof Error &&
        (err.name === 'NoSuchKey' || status(err) === 404 || status(err) === 403)
      )
        return undefined;
      return translate(err);
    }
  }

  async deleteMany(mailbox: Mailbox, positions: readonly Uint8Array[]): Promise<void> {
    const keys = positions.map((p) => envelopeObjectKey(mailbox, p));
    for (let i = 0; i < keys.length; i += DELETE_CHUNK) {
      const chunk = keys.slice(i, i + DELETE_CHUNK);
      try {
        const out = await this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true },
          }),
        );
        if (out.Errors && out.Errors.length > 0) {
          throw new UnavailableError('some envelope objects were not deleted');
        }
      } catch (err) {
        translate(err);
      }
    }
  }
}
