/**
 * {@link AuditLog} on DynamoDB (docs/SERVICE.md §14.4): one partition (`audit`), one item per
 * operator action with the entry id as sort key (time first, so a descending Query is newest
 * first). Each entry expires two years after it was written (`AUDIT_RETENTION_MS`). Operator
 * actions are rare (a few per report), far below one partition's write rate.
 */
import { type DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import {
  AUDIT_RETENTION_MS,
  type AuditAction,
  type AuditEntry,
  type AuditLog,
} from '../../domain/moderation-ports.ts';
import { decodeCursor, encodeCursor, type Page } from '../../domain/report-ports.ts';
import { checkVersion, type Item, keyItem, N, readN, readS, S } from './attributes.ts';
import { translate } from './errors.ts';
import { TTL_ATTRIBUTE } from './keys.ts';
import { AUDIT_PARTITION, auditKey } from './moderation-keys.ts';

/** Record version of an audit item. */
const VERSION = 1;
const ACTIONS: readonly string[] = ['decision', 'suspend', 'lift'];

function readEntry(item: Item): AuditEntry {
  checkVersion(item, VERSION);
  const action = readS(item, 'action');
  if (!ACTIONS.includes(action)) throw new Error('stored audit entry has a bad action');
  const decision = item['decision']?.S;
  const note = item['note']?.S;
  return {
    id: readS(item, 'sk'),
    time: readN(item, 'time'),
    actor: readS(item, 'actor'),
    action: action as AuditAction,
    target: readS(item, 'target'),
    ...(decision === 'dismiss' || decision === 'violation' ? { decision } : {}),
    ...(note === undefined ? {} : { note }),
  };
}

/** The audit log in the table named by `SEALPOST_TABLE`. */
export class DynamoAuditLog implements AuditLog {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async append(entry: AuditEntry): Promise<void> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: {
            ...keyItem(auditKey(entry.id)),
            v: N(VERSION),
            time: N(entry.time),
            actor: S(entry.actor),
            action: S(entry.action),
            target: S(entry.target),
            ...(entry.decision === undefined ? {} : { decision: S(entry.decision) }),
            ...(entry.note === undefined ? {} : { note: S(entry.note) }),
            [TTL_ATTRIBUTE]: N(Math.ceil((entry.time + AUDIT_RETENTION_MS) / 1000)),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (err) {
      translate(err);
    }
  }

  async list(options: { limit: number; cursor?: string }): Promise<Page<AuditEntry>> {
    const start = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
    try {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': S(AUDIT_PARTITION) },
          ScanIndexForward: false,
          Limit: options.limit,
          ConsistentRead: true,
          ...(start === undefined
            ? {}
            : { ExclusiveStartKey: { pk: S(AUDIT_PARTITION), sk: S(start) } }),
        }),
      );
      const last = out.LastEvaluatedKey?.['sk']?.S;
      return {
        items: (out.Items ?? []).map(readEntry),
        ...(last === undefined ? {} : { cursor: encodeCursor(last) }),
      };
    } catch (err) {
      return translate(err);
    }
  }
}
