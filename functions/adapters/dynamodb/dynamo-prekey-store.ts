/**
 * {@link PrekeyStore} on DynamoDB, one partition per device. Claiming follows Signal-Server:
 * read a few candidates, then `DeleteItem` with `ReturnValues: ALL_OLD`; the one caller whose
 * delete returns the old item owns the key, every other caller moves on to the next. The
 * delete is also conditional on the item existing: conditional writes on one item are
 * serialized, which makes the claim exclusive even where unconditional concurrent deletes may
 * both return the old item (DynamoDB Local does; test/integration: 64 parallel fetches).
 */
import {
  DeleteItemCommand,
  type DynamoDBClient,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import { UnavailableError } from '../../domain/errors.ts';
import type {
  DeviceRef,
  PrekeyStore,
  StoredKemPrekey,
  StoredOneTimePrekey,
} from '../../domain/ports.ts';
import { B, checkVersion, type Item, keyItem, N, readB, readN, S } from './attributes.ts';
import { batchWrite } from './batch.ts';
import { isConditionalFailure, translate } from './errors.ts';
import { EC_SK_PREFIX, ecPrekeyKey, PQ_SK_PREFIX, pqPrekeyKey, prekeyPartition } from './keys.ts';

const VERSION = 1;
/** Candidates read per claim round; callers start at a random one to spread contention. */
const CANDIDATES = 8;
/**
 * Deletes tried per round before reading fresh candidates: under contention the rest of a
 * stale candidate list is mostly taken already, and each failed conditional delete costs a
 * write unit.
 */
const TRIES_PER_ROUND = 2;
/** Bound on claim rounds; each lost round means another caller got a key. */
const MAX_ROUNDS = 100;

/** One-time prekeys in the table named by `SEALPOST_TABLE`. */
export class DynamoPrekeyStore implements PrekeyStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    private readonly random: () => number = Math.random,
  ) {}

  async addOneTime(
    ref: DeviceRef,
    ec: readonly StoredOneTimePrekey[],
    pq: readonly StoredKemPrekey[],
  ): Promise<void> {
    const puts: Item[] = [
      ...ec.map((k) => ({
        ...keyItem(ecPrekeyKey(ref, k.id)),
        v: N(VERSION),
        id: N(k.id),
        publicKey: B(k.publicKey),
      })),
      ...pq.map((k) => ({
        ...keyItem(pqPrekeyKey(ref, k.id)),
        v: N(VERSION),
        id: N(k.id),
        publicKey: B(k.publicKey),
        signature: B(k.signature),
      })),
    ];
    await batchWrite(
      this.client,
      this.table,
      puts.map((Item) => ({ PutRequest: { Item } })),
    );
  }

  async count(ref: DeviceRef): Promise<{ ec: number; pq: number }> {
    const [ec, pq] = await Promise.all([
      this.countPrefix(ref, EC_SK_PREFIX),
      this.countPrefix(ref, PQ_SK_PREFIX),
    ]);
    return { ec, pq };
  }

  async claim(ref: DeviceRef): Promise<{ ec?: StoredOneTimePrekey; pq?: StoredKemPrekey }> {
    const [ecItem, pqItem] = await Promise.all([
      this.claimPrefix(ref, EC_SK_PREFIX),
      this.claimPrefix(ref, PQ_SK_PREFIX),
    ]);
    const out: { ec?: StoredOneTimePrekey; pq?: StoredKemPrekey } = {};
    if (ecItem) {
      checkVersion(ecItem, VERSION);
      out.ec = { id: readN(ecItem, 'id'), publicKey: readB(ecItem, 'publicKey') };
    }
    if (pqItem) {
      checkVersion(pqItem, VERSION);
      out.pq = {
        id: readN(pqItem, 'id'),
        publicKey: readB(pqItem, 'publicKey'),
        signature: readB(pqItem, 'signature'),
      };
    }
    return out;
  }

  async deleteAll(ref: DeviceRef): Promise<void> {
    const keys: Item[] = [];
    for (const prefix of [EC_SK_PREFIX, PQ_SK_PREFIX]) {
      await this.queryAll(
        { ...this.prefixQuery(ref, prefix), ProjectionExpression: 'pk, sk' },
        (items) => keys.push(...items),
      );
    }
    await batchWrite(
      this.client,
      this.table,
      keys.map((Key) => ({ DeleteRequest: { Key } })),
    );
  }

  private prefixQuery(ref: DeviceRef, prefix: string): QueryCommandInput {
    return {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: {
        ':pk': S(prekeyPartition(ref)),
        ':prefix': S(prefix),
      },
    };
  }

  private async queryAll(input: QueryCommandInput, onPage: (items: Item[], count: number) => void) {
    let start: Item | undefined;
    try {
      do {
        const out = await this.client.send(
          new QueryCommand({ ...input, ...(start ? { ExclusiveStartKey: start } : {}) }),
        );
        onPage(out.Items ?? [], out.Count ?? 0);
        start = out.LastEvaluatedKey;
      } while (start);
    } catch (err) {
      translate(err);
    }
  }

  private async countPrefix(ref: DeviceRef, prefix: string): Promise<number> {
    let total = 0;
    await this.queryAll({ ...this.prefixQuery(ref, prefix), Select: 'COUNT' }, (_, n) => {
      total += n;
    });
    return total;
  }

  private async claimPrefix(ref: DeviceRef, prefix: string): Promise<Item | undefined> {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      let candidates: Item[];
      try {
        const out = await this.client.send(
          new QueryCommand({
            ...this.prefixQuery(ref, prefix),
            ProjectionExpression: 'pk, sk',
            ConsistentRead: true,
            Limit: CANDIDATES,
          }),
        );
        candidates = out.Items ?? [];
      } catch (err) {
        return translate(err);
      }
      if (candidates.length === 0) return undefined;
      const offset = Math.floor(this.random() * candidates.length);
      for (let i = 0; i < Math.min(TRIES_PER_ROUND, candidates.length); i++) {
        const key = candidates[(offset + i) % candidates.length]!;
        try {
          const out = await this.client.send(
            new DeleteItemCommand({
              TableName: this.table,
              Key: key,
              ConditionExpression: 'attribute_exists(pk)',
              ReturnValues: 'ALL_OLD',
            }),
          );
          if (out.Attributes) return out.Attributes;
        } catch (err) {
          if (!isConditionalFailure(err)) return translate(err);
        }
      }
    }
    throw new UnavailableError('prekey claims are contended; retry');
  }
}
