/**
 * The objects of shared payloads (docs/PROTOCOL.md §14.8): one per payload, at
 * {@link payloadObjectKey}, in the bucket that holds the envelopes (a directory bucket when the
 * deployment keeps envelopes in S3 Express One Zone). Written with `If-None-Match: *`, so a
 * retried send cannot replace what its first attempt stored; no user metadata, no content type
 * beyond octets. When an object goes is decided by the reference sets
 * (functions/adapters/aws-shared-payloads.ts); this class only moves bytes.
 */
import { DeleteObjectCommand, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { payloadObjectKey } from './object-keys.ts';
import { isMissingObject, putIfAbsent, translateS3 } from './s3-errors.ts';

/** Shared payload objects in one bucket. */
export class S3PayloadObjects {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  /**
   * Stores `body` as the payload `id`, unless an object of that id exists already.
   *
   * @throws {RangeError} if `id` is not 16 bytes
   * @throws {UnavailableError} on throttling or a transient S3 fault
   * @example await objects.put(id, payload);
   */
  async put(id: Uint8Array, body: Uint8Array): Promise<void> {
    // The id is drawn per request, so only an attempt of the same request writes this key.
    await putIfAbsent(this.client, this.bucket, payloadObjectKey(id), body);
  }

  /**
   * The payload's bytes, or undefined if there is no object of that id.
   *
   * @throws {RangeError} if `id` is not 16 bytes
   * @throws {UnavailableError} on throttling or a transient S3 fault
   * @example const payload = await objects.get(id);
   */
  async get(id: Uint8Array): Promise<Uint8Array | undefined> {
    const key = payloadObjectKey(id);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return out.Body ? await out.Body.transformToByteArray() : undefined;
    } catch (err) {
      if (isMissingObject(err)) return undefined;
      return translateS3(err);
    }
  }

  /**
   * Deletes the payload's object; deleting one that is not there succeeds (S3 answers 204).
   *
   * @throws {RangeError} if `id` is not 16 bytes
   * @throws {UnavailableError} on throttling or a transient S3 fault
   * @example await objects.delete(id);
   */
  async delete(id: Uint8Array): Promise<void> {
    try {
      await this.client.send(
        new DeleteObjectCommand({ Bucket: this.bucket, Key: payloadObjectKey(id) }),
      );
    } catch (err) {
      translateS3(err);
    }
  }
}
