/**
 * The reference sets of shared payloads (docs/PROTOCOL.md §14.8) on DynamoDB: one item per
 * payload, `pay#<hex id>` / `refs` ({@link payloadRefsKey}), whose `refs` is a Binary Set of
 * the positions (16 bytes each) of the index records that reference the payload, and whose
 * `ttl` is the messages' expiry plus {@link PAYLOAD_GRACE_DAYS}. A set rather than a count:
 * adding is a union (a retry adds nothing twice) and each position leaves it once, so two
 * releases of one record cannot take the set below the records that still need the payload.
 * The item names no mailbox, only positions: a payload's records sit in distinct mailboxes, and
 * each reservation draws its own 8 random bytes for its position's tail, so two records of one
 * payload share a position with probability below 2^-44 even at 1,024 devices.
 *
 * Cost: an update is billed by the item's size, about 16 bytes per position, so a send to up to
 * about 50 devices (every 1:1 send: at most 12) costs one write unit per add and per release; a
 * larger group's releases cost more each, shrinking as the set does.
 */
import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { PAYLOAD_GRACE_DAYS } from '../../deployment.ts';
import { PAYLOAD_ID_BYTES, POSITION_BYTES } from '../../domain/ports.ts';
import { B, type Item, keyItem, N } from './attributes.ts';
import { isConditionalFailure, translate } from './errors.ts';
import { payloadRefsKey, TTL_ATTRIBUTE } from './keys.ts';

/** Record version of the reference set item. */
const VERSION = 1;

const DAY_SECONDS = 86_400;

/**
 * What a release did: `kept` (other references remain, or the reference was not in the set),
 * `emptied` (this call removed the last reference and deleted the set: the object must go),
 * or `absent` (there is no set: see {@link DynamoPayloadRefs.release}).
 */
export type RefsRelease = 'kept' | 'emptied' | 'absent';

function checkId(id: Uint8Array): void {
  if (!(id instanceof Uint8Array) || id.length !== PAYLOAD_ID_BYTES) {
    throw new RangeError(`id must be ${PAYLOAD_ID_BYTES} bytes`);
  }
}

function checkRef(ref: Uint8Array, name: string): void {
  if (!(ref instanceof Uint8Array) || ref.length !== POSITION_BYTES) {
    throw new RangeError(`${name} must be ${POSITION_BYTES} bytes`);
  }
}

/** Reference sets in the table named by `SEALPOST_TABLE`. */
export class DynamoPayloadRefs {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  /**
   * Adds `refs` to the payload's set, creating the item if needed: one `UpdateItem` with
   * `ADD refs` (a set union, so a retry changes nothing) and `ttl` set only if absent (the
   * first store's expiry, which the payload object's lifecycle also counts from).
   *
   * @throws {RangeError} if `id` is not 16 bytes, `refs` is empty or a ref is not 16 bytes
   * @throws {UnavailableError} on throttling or a transient fault
   * @example await refs.add(id, positions, expiresAt);
   */
  async add(id: Uint8Array, refs: readonly Uint8Array[], expiresAt: number): Promise<void> {
    checkId(id);
    if (refs.length === 0) throw new RangeError('refs must name at least one position');
    // A Binary Set may not hold one value twice: DynamoDB refuses the whole request.
    const distinct = new Map<string, Uint8Array>();
    for (const ref of refs) {
      checkRef(ref, 'ref');
      distinct.set(Buffer.from(ref).toString('hex'), ref);
    }
    if (!Number.isFinite(expiresAt)) throw new RangeError('expiresAt must be a time in ms');
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: keyItem(payloadRefsKey(id)),
          UpdateExpression: 'SET #v = :v, #ttl = if_not_exists(#ttl, :ttl) ADD #refs :refs',
          ExpressionAttributeNames: { '#v': 'v', '#ttl': TTL_ATTRIBUTE, '#refs': 'refs' },
          ExpressionAttributeValues: {
            ':v': N(VERSION),
            ':ttl': N(Math.ceil(expiresAt / 1000) + PAYLOAD_GRACE_DAYS * DAY_SECONDS),
            ':refs': { BS: [...distinct.values()] },
          },
        }),
      );
    } catch (err) {
      translate(err);
    }
  }

  /**
   * Removes `ref` from the payload's set. The `UpdateItem` is conditional on the set holding
   * `ref` (`contains`), so of several releases exactly the one that removes the last reference
   * sees the set gone from the new item (DynamoDB drops an empty set); that call then deletes
   * the item, conditional on `refs` still being absent: an `add` that came in between (a retry
   * of the store re-adding its positions) wins, and the answer is `kept`.
   *
   * `absent` means no item exists. A release follows the deletion of a record, which was
   * written after its `add` (write order: add, put object, records), so the set existed; it
   * is gone only because every reference was released (every record that referenced the
   * payload is deleted: their devices had the message) or because its `ttl` passed (so did the
   * records' expiry, and the object's lifecycle counts from the same first store). Either
   * way no record can still need the object, and the caller deletes it as cleanup of a
   * deletion a fault interrupted. The one store that can race this is a retry of the request
   * re-adding positions whose records were already acknowledged; if its PUT finds the old
   * object just before that delete, its records point at nothing and the fetch discards them
   * (§14.8: their devices had those messages).
   *
   * @throws {RangeError} if `id` or `ref` is not 16 bytes
   * @throws {UnavailableError} on throttling or a transient fault
   * @example if ((await refs.release(id, position)) !== 'kept') await objects.delete(id);
   */
  async release(id: Uint8Array, ref: Uint8Array): Promise<RefsRelease> {
    checkId(id);
    checkRef(ref, 'ref');
    const key = keyItem(payloadRefsKey(id));
    let after: Item;
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: key,
          UpdateExpression: 'DELETE #refs :refs',
          ConditionExpression: 'contains(#refs, :ref)',
          ExpressionAttributeNames: { '#refs': 'refs' },
          ExpressionAttributeValues: { ':refs': { BS: [ref] }, ':ref': B(ref) },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      after = out.Attributes ?? {};
    } catch (err) {
      if (!isConditionalFailure(err)) return translate(err);
      // Not in the set: released before, never added, or no set at all.
      const old = (err as { Item?: Item }).Item ?? (await this.item(key));
      return old ? 'kept' : 'absent';
    }
    if (after['refs'] !== undefined) return 'kept';
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.table,
          Key: key,
          ConditionExpression: 'attribute_not_exists(#refs)',
          ExpressionAttributeNames: { '#refs': 'refs' },
        }),
      );
      return 'emptied';
    } catch (err) {
      if (isConditionalFailure(err)) return 'kept';
      return translate(err);
    }
  }

  /** The item, read strongly consistent (a failed condition may not return it). */
  private async item(key: Item): Promise<Item | undefined> {
    try {
      const out = await this.client.send(
        new GetItemCommand({ TableName: this.table, Key: key, ConsistentRead: true }),
      );
      return out.Item;
    } catch (err) {
      return translate(err);
    }
  }
}
