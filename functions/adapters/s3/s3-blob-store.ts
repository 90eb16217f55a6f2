/**
 * {@link BlobStore} on S3. Objects are written with `If-None-Match: *`, so a retried send
 * cannot replace what the first attempt stored (412 means "already there"). Objects carry no
 * user metadata: nothing about the sender, not even the content type of the plaintext.
 */
import { DeleteObjectsCommand, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { UnavailableError } from '../../domain/errors.ts';
import type { BlobStore, Mailbox } from '../../domain/ports.ts';
import { envelopeObjectKey } from './object-keys.ts';
import { isMissingObject, putIfAbsent, translateS3 as translate } from './s3-errors.ts';

const DELETE_CHUNK = 1000;

/** Envelope objects in the bucket named by `SEALPOST_BUCKET`. */
export class S3BlobStore implements BlobStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async put(mailbox: Mailbox, position: Uint8Array, body: Uint8Array): Promise<void> {
    // Found there already: a previous or concurrent attempt of the same send stored it, and the
    // retry continues with the index write.
    await putIfAbsent(this.client, this.bucket, envelopeObjectKey(mailbox, position), body);
  }

  async get(mailbox: Mailbox, position: Uint8Array): Promise<Uint8Array | undefined> {
    const key = envelopeObjectKey(mailbox, position);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return out.Body ? await out.Body.transformToByteArray() : undefined;
    } catch (err) {
      // 403 as well as 404: the function may not list the bucket (see isMissingObject).
      if (isMissingObject(err)) return undefined;
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
