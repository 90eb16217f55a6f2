/**
 * {@link AttachmentQuota} on DynamoDB (docs/SERVICE.md §7.6): one item per account,
 * `attq#<address>`, holding a map of UTC day number to the bytes reserved that day (days older
 * than the retention period are dropped at every reservation) and a version `rev`. A
 * reservation reads the item strongly consistent, applies the rule (`reserveDays`) and writes
 * it back on condition that `rev` is unchanged, retrying a few times when a concurrent
 * reservation of the same account won. Nothing finer than a day is stored, and `ttl` removes
 * the item once its newest day has left the retention period.
 */
import { type AttributeValue, type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  type AttachmentQuota,
  type QuotaLimits,
  releaseDays,
  reserveDays,
  utcDay,
} from '../../domain/attachment-ports.ts';
import { UnavailableError } from '../../domain/errors.ts';
import { checkVersion, type Item, keyItem, N, readN } from './attributes.ts';
import { conditionalPut, translate } from './errors.ts';
import { attachmentQuotaKey, TTL_ATTRIBUTE } from './keys.ts';

/** Record version of the quota item. */
const VERSION = 1;

/** Read-modify-write rounds before a contended account answers `UNAVAILABLE`. */
const MAX_ROUNDS = 8;

const DAY_SECONDS = 24 * 60 * 60;

/** What one read found: the days and the revision to condition the write on (0: no item). */
interface Snapshot {
  readonly days: Map<number, number>;
  readonly rev: number;
  /** The retention the item was last written with (for its `ttl` on a release). */
  readonly retentionDays: number;
}

/**
 * Attachment quotas in the table named by `SEALPOST_TABLE`.
 *
 * @example
 * const quota = new DynamoAttachmentQuota(dynamodb, 'sealpost');
 * await quota.reserve(address, size, { maxBytes, maxBytesPerDay, retentionDays: 30 }, Date.now());
 */
export class DynamoAttachmentQuota implements AttachmentQuota {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async reserve(
    account: string,
    bytes: number,
    limits: QuotaLimits,
    now: number,
  ): Promise<'ok' | 'quota' | 'daily'> {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const snapshot = await this.read(account);
      const { verdict, days } = reserveDays(snapshot.days, bytes, limits, now);
      if (verdict !== 'ok') return verdict;
      if (await this.write(account, snapshot, days, limits.retentionDays)) return 'ok';
    }
    throw new UnavailableError('the attachment quota is busy; retry');
  }

  async release(account: string, bytes: number, reservedAt: number): Promise<void> {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const snapshot = await this.read(account);
      if (!snapshot.days.has(utcDay(reservedAt))) return;
      const days = releaseDays(snapshot.days, bytes, reservedAt);
      if (await this.write(account, snapshot, days, snapshot.retentionDays)) return;
    }
    throw new UnavailableError('the attachment quota is busy; retry');
  }

  private async read(account: string): Promise<Snapshot> {
    let item: Item | undefined;
    try {
      ({ Item: item } = await this.client.send(
        new GetItemCommand({
          TableName: this.table,
          Key: keyItem(attachmentQuotaKey(account)),
          ConsistentRead: true,
        }),
      ));
    } catch (err) {
      return translate(err);
    }
    if (item === undefined) return { days: new Map(), rev: 0, retentionDays: 1 };
    checkVersion(item, VERSION);
    const days = new Map<number, number>();
    for (const [day, value] of Object.entries(item['days']?.M ?? {})) {
      const n = Number(value.N);
      if (!/^\d+$/.test(day) || !Number.isSafeInteger(n)) {
        throw new Error('stored item has a malformed attribute days');
      }
      days.set(Number(day), n);
    }
    return { days, rev: readN(item, 'rev'), retentionDays: readN(item, 'retention') };
  }

  /** Writes the days if the item is still at the snapshot's revision; false if it moved on. */
  private write(
    account: string,
    snapshot: Snapshot,
    days: ReadonlyMap<number, number>,
    retentionDays: number,
  ): Promise<boolean> {
    const map: Record<string, AttributeValue> = {};
    for (const [day, n] of days) map[String(day)] = N(n);
    const newest = Math.max(0, ...days.keys());
    return conditionalPut(this.client, {
      TableName: this.table,
      Item: {
        ...keyItem(attachmentQuotaKey(account)),
        v: N(VERSION),
        rev: N(snapshot.rev + 1),
        retention: N(retentionDays),
        days: { M: map },
        // Gone once its newest day has left the retention period: nothing left to count.
        [TTL_ATTRIBUTE]: N((newest + retentionDays + 1) * DAY_SECONDS),
      },
      ...(snapshot.rev === 0
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : {
            ConditionExpression: '#rev = :rev',
            ExpressionAttributeNames: { '#rev': 'rev' },
            ExpressionAttributeValues: { ':rev': N(snapshot.rev) },
          }),
    });
  }
}
