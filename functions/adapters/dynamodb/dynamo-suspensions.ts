/**
 * {@link SuspensionStore} on DynamoDB (docs/SERVICE.md §14.5): `suspendedAt` and
 * `suspensionReason` on the account item (keys.ts `accountKey`; DynamoAccountStore reads them
 * with the account), and an index item per suspension in force (`susp` partition, sort key
 * `<suspendedAt>#<address>`) for the revocation list. A suspension and a lift change both in one
 * transaction conditional on the account item's state as read, so the index never disagrees with
 * the account. Index items expire after the longest revocation window any deployment can have
 * (a certificate's lifetime, the longest message lifetime and an hour; suspension-service.ts),
 * plus a day; reads filter by time anyway, so the expiry is cleanup only.
 */
import {
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { RECEIVED_AT_PRECISION_MS, SENDER_CERTIFICATE_LIFETIME_MS } from 'sealpost/wire/api';
import { MAX_MESSAGE_TTL_DAYS } from '../../deployment.ts';
import { UnavailableError } from '../../domain/errors.ts';
import type {
  Suspension,
  SuspensionEntry,
  SuspensionStore,
} from '../../domain/suspension-ports.ts';
import { checkVersion, type Item, keyItem, N, readN, readS, S } from './attributes.ts';
import { isConditionalFailure, isTransactionConditionFailure, translate } from './errors.ts';
import { accountKey, TTL_ATTRIBUTE } from './keys.ts';
import {
  SUSPENSION_PARTITION,
  suspensionIndexFloor,
  suspensionIndexKey,
} from './moderation-keys.ts';

/** Record version of the index item. */
const VERSION = 1;
/** Rounds before giving up when concurrent suspensions of one account keep racing. */
const ROUNDS = 4;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Index items outlive the longest revocation window by a day (cleanup only). */
const INDEX_LIFETIME_MS =
  SENDER_CERTIFICATE_LIFETIME_MS +
  MAX_MESSAGE_TTL_DAYS * DAY_MS +
  RECEIVED_AT_PRECISION_MS +
  DAY_MS;

/** Suspensions in the table named by `SEALPOST_TABLE`. */
export class DynamoSuspensions implements SuspensionStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async suspend(
    address: string,
    suspendedAt: number,
    reason: string,
  ): Promise<Suspension | undefined> {
    for (let round = 0; round < ROUNDS; round++) {
      const state = await this.read(address);
      if (!state) return undefined;
      try {
        if (state.suspendedAt !== undefined) {
          // Suspended already: a new reason, the first time kept (and its index item).
          await this.client.send(
            new UpdateItemCommand({
              TableName: this.table,
              Key: keyItem(accountKey(address)),
              UpdateExpression: 'SET #reason = :reason',
              ConditionExpression: '#at = :at',
              ExpressionAttributeNames: { '#reason': 'suspensionReason', '#at': 'suspendedAt' },
              ExpressionAttributeValues: { ':reason': S(reason), ':at': N(state.suspendedAt) },
            }),
          );
          return { address, suspendedAt: state.suspendedAt, reason };
        }
        await this.client.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              {
                Update: {
                  TableName: this.table,
                  Key: keyItem(accountKey(address)),
                  UpdateExpression: 'SET #at = :at, #reason = :reason',
                  ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#at)',
                  ExpressionAttributeNames: { '#reason': 'suspensionReason', '#at': 'suspendedAt' },
                  ExpressionAttributeValues: { ':reason': S(reason), ':at': N(suspendedAt) },
                },
              },
              {
                Put: {
                  TableName: this.table,
                  Item: {
                    ...keyItem(suspensionIndexKey(suspendedAt, address)),
                    v: N(VERSION),
                    address: S(address),
                    suspendedAt: N(suspendedAt),
                    [TTL_ATTRIBUTE]: N(Math.ceil((suspendedAt + INDEX_LIFETIME_MS) / 1000)),
                  },
                },
              },
            ],
          }),
        );
        return { address, suspendedAt, reason };
      } catch (err) {
        if (!isConditionalFailure(err) && !isTransactionConditionFailure(err)) {
          return translate(err);
        }
      }
    }
    throw new UnavailableError('suspension of this account is contended');
  }

  async lift(address: string): Promise<Suspension | undefined> {
    for (let round = 0; round < ROUNDS; round++) {
      const state = await this.read(address);
      if (state?.suspendedAt === undefined) return undefined;
      try {
        await this.client.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              {
                Update: {
                  TableName: this.table,
                  Key: keyItem(accountKey(address)),
                  UpdateExpression: 'REMOVE #at, #reason',
                  ConditionExpression: '#at = :at',
                  ExpressionAttributeNames: { '#reason': 'suspensionReason', '#at': 'suspendedAt' },
                  ExpressionAttributeValues: { ':at': N(state.suspendedAt) },
                },
              },
              {
                Delete: {
                  TableName: this.table,
                  Key: keyItem(suspensionIndexKey(state.suspendedAt, address)),
                },
              },
            ],
          }),
        );
        return { address, suspendedAt: state.suspendedAt, reason: state.reason ?? '' };
      } catch (err) {
        if (!isTransactionConditionFailure(err)) return translate(err);
      }
    }
    throw new UnavailableError('suspension of this account is contended');
  }

  async recent(since: number, limit: number): Promise<SuspensionEntry[]> {
    const out: SuspensionEntry[] = [];
    let start: Item | undefined;
    try {
      do {
        const page = await this.client.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk AND sk > :floor',
            ExpressionAttributeValues: {
              ':pk': S(SUSPENSION_PARTITION),
              ':floor': S(suspensionIndexFloor(since)),
            },
            ScanIndexForward: false,
            ConsistentRead: true,
            Limit: limit - out.length,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        for (const item of page.Items ?? []) {
          checkVersion(item, VERSION);
          out.push({ address: readS(item, 'address'), suspendedAt: readN(item, 'suspendedAt') });
        }
        start = page.LastEvaluatedKey;
      } while (start && out.length < limit);
    } catch (err) {
      return translate(err);
    }
    return out;
  }

  /** The account's suspension fields, or undefined when there is no account item. */
  private async read(
    address: string,
  ): Promise<{ suspendedAt?: number; reason?: string } | undefined> {
    let item: Item | undefined;
    try {
      ({ Item: item } = await this.client.send(
        new GetItemCommand({
          TableName: this.table,
          Key: keyItem(accountKey(address)),
          ConsistentRead: true,
          ProjectionExpression: 'pk, #at, #reason',
          ExpressionAttributeNames: { '#reason': 'suspensionReason', '#at': 'suspendedAt' },
        }),
      ));
    } catch (err) {
      return translate(err);
    }
    if (!item) return undefined;
    const at = item['suspendedAt']?.N;
    const reason = item['suspensionReason']?.S;
    return {
      ...(at === undefined ? {} : { suspendedAt: Number(at) }),
      ...(reason === undefined ? {} : { reason }),
    };
  }
}
