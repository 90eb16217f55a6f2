/**
 * {@link SharedPayloadStore} on AWS (docs/PROTOCOL.md §14.8): the reference sets in the table
 * ({@link DynamoPayloadRefs}), the payloads in the envelopes' bucket ({@link S3PayloadObjects}).
 * The order of the store's writes (references, then the object, then the records) and of a
 * release's deletions (the set, then the object) keeps the one invariant that matters: an
 * object is not deleted while a record written after its references still points at it.
 */
import type { SharedPayloadStore } from '../domain/ports.ts';
import type { DynamoPayloadRefs } from './dynamodb/dynamo-payload-refs.ts';
import type { S3PayloadObjects } from './s3/s3-payload-objects.ts';

/**
 * Shared payloads over a reference-set table and an object bucket.
 *
 * @example
 * ```ts
 * const payloads = new AwsSharedPayloadStore(
 *   new DynamoPayloadRefs(dynamodb, table),
 *   new S3PayloadObjects(s3, bucket),
 * );
 * await payloads.addRefs(id, positions, expiresAt);
 * await payloads.put(id, payload);
 * ```
 */
export class AwsSharedPayloadStore implements SharedPayloadStore {
  constructor(
    private readonly refs: DynamoPayloadRefs,
    private readonly objects: S3PayloadObjects,
  ) {}

  addRefs(id: Uint8Array, refs: readonly Uint8Array[], expiresAt: number): Promise<void> {
    return this.refs.add(id, refs, expiresAt);
  }

  put(id: Uint8Array, body: Uint8Array): Promise<void> {
    return this.objects.put(id, body);
  }

  get(id: Uint8Array): Promise<Uint8Array | undefined> {
    return this.objects.get(id);
  }

  /**
   * Releases `ref`; deletes the object when this call emptied the set, and also when there is
   * no set at all (a deletion a fault interrupted, or a set past its `ttl`: see
   * {@link DynamoPayloadRefs.release} for why no record can still need the object then). If
   * the object's deletion fails after the set's, the bucket's lifecycle removes it (§14.8).
   */
  async release(id: Uint8Array, ref: Uint8Array): Promise<void> {
    const released = await this.refs.release(id, ref);
    if (released !== 'kept') await this.objects.delete(id);
  }
}
