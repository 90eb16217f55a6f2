/**
 * {@link ReportStore} on DynamoDB (docs/SERVICE.md §8.1, §14.3). A report is one partition
 * (`rpt#<id>`): the report item and one item per message (content as binary; a message is at
 * most 96 KiB, so no item nears the 400 KB limit however many messages a report has). A listing
 * item per report in the partition of its status (`rptq#open`, `rptq#decided`) serves the
 * newest-first listings without a scan or an index. All are written in one transaction whose
 * condition (no live report with this id) makes a repeated report a no-op. The sender's counter
 * item (`rpts#<address>`) is updated after it: verified reports, a binary set of reporter
 * hashes (at most 1,000) and the last report time. Every item carries `ttl` = the report's
 * expiry (the counter: its last report's), and reads skip expired items (TTL deletion lags).
 */
import {
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { ReportReason } from 'sealpost/wire/api';
import { UnavailableError } from '../../domain/errors.ts';
import {
  decodeCursor,
  encodeCursor,
  MAX_TRACKED_REPORTERS,
  type Page,
  type ReportDecision,
  type ReportDecisionKind,
  type ReportStatus,
  type ReportStore,
  type ReportSummary,
  type SenderReportStats,
  type StoredReport,
  type StoredReportMessage,
} from '../../domain/report-ports.ts';
import { B, checkVersion, type Item, keyItem, N, readB, readN, readS, S } from './attributes.ts';
import { isConditionalFailure, isTransactionConditionFailure, translate } from './errors.ts';
import { TTL_ATTRIBUTE } from './keys.ts';
import {
  REPORT_MESSAGE_SK_PREFIX,
  REPORT_SK,
  reportKey,
  reportMessageKey,
  reportPartition,
  reportQueueKey,
  reportQueuePartition,
  senderReportsKey,
} from './moderation-keys.ts';

/** Record version of every report item. */
const VERSION = 1;
/** Rounds of the counter update before giving up (each loses only to a concurrent report). */
const COUNTER_ROUNDS = 4;

const ttlOf = (expiresAt: number): number => Math.ceil(expiresAt / 1000);
const seconds = (ms: number): number => Math.floor(ms / 1000);

function decisionAttributes(d: ReportDecision | undefined, withActor: boolean): Item {
  if (!d) return {};
  return {
    decision: S(d.decision),
    decidedAt: N(d.decidedAt),
    ...(withActor ? { decidedBy: S(d.actor) } : {}),
    ...(withActor && d.note !== undefined ? { note: S(d.note) } : {}),
  };
}

function reportItem(r: StoredReport): Item {
  return {
    ...keyItem(reportKey(r.reportId)),
    v: N(VERSION),
    status: S(r.status),
    reason: S(r.reason),
    createdAt: N(r.createdAt),
    expiresAt: N(r.expiresAt),
    reporterAddress: S(r.reporter.address),
    reporterDevice: N(r.reporter.deviceId),
    senderAddress: S(r.sender.address),
    senderDevice: N(r.sender.deviceId),
    messageCount: N(r.messages.length),
    [TTL_ATTRIBUTE]: N(ttlOf(r.expiresAt)),
    ...decisionAttributes(r.decision, true),
  };
}

function messageItem(r: StoredReport, index: number, m: StoredReportMessage): Item {
  return {
    ...keyItem(reportMessageKey(r.reportId, index)),
    v: N(VERSION),
    messageId: B(m.messageId),
    receivedAt: N(m.receivedAt),
    stamp: B(m.stamp),
    content: B(m.content),
    [TTL_ATTRIBUTE]: N(ttlOf(r.expiresAt)),
  };
}

/** The listing item of a report in the partition of `status`. */
function queueItem(
  status: ReportStatus,
  r: Pick<
    StoredReport,
    'reportId' | 'reason' | 'createdAt' | 'expiresAt' | 'sender' | 'decision'
  > & { messageCount: number },
): Item {
  return {
    ...keyItem(reportQueueKey(status, r.createdAt, r.reportId)),
    v: N(VERSION),
    reportId: S(r.reportId),
    reason: S(r.reason),
    createdAt: N(r.createdAt),
    expiresAt: N(r.expiresAt),
    senderAddress: S(r.sender.address),
    senderDevice: N(r.sender.deviceId),
    messageCount: N(r.messageCount),
    [TTL_ATTRIBUTE]: N(ttlOf(r.expiresAt)),
    ...decisionAttributes(r.decision, false),
  };
}

function readStatus(item: Item): ReportStatus {
  const status = readS(item, 'status');
  if (status !== 'open' && status !== 'decided') throw new Error('stored report has a bad status');
  return status;
}

function readDecision(item: Item, withActor: boolean): ReportDecision | undefined {
  const decision = item['decision']?.S;
  if (decision === undefined) return undefined;
  if (decision !== 'dismiss' && decision !== 'violation') {
    throw new Error('stored report has a bad decision');
  }
  const note = item['note']?.S;
  return {
    decision: decision as ReportDecisionKind,
    decidedAt: readN(item, 'decidedAt'),
    actor: withActor ? readS(item, 'decidedBy') : '',
    ...(withActor && note !== undefined ? { note } : {}),
  };
}

function readSummary(status: ReportStatus, item: Item): ReportSummary {
  checkVersion(item, VERSION);
  const decision = readDecision(item, false);
  return {
    reportId: readS(item, 'reportId'),
    status,
    reason: readS(item, 'reason') as ReportReason,
    createdAt: readN(item, 'createdAt'),
    expiresAt: readN(item, 'expiresAt'),
    sender: { address: readS(item, 'senderAddress'), deviceId: readN(item, 'senderDevice') },
    messageCount: readN(item, 'messageCount'),
    ...(decision
      ? { decision: { decision: decision.decision, decidedAt: decision.decidedAt } }
      : {}),
  };
}

/** Reports and sender counters in the table named by `SEALPOST_TABLE`. */
export class DynamoReports implements ReportStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async add(report: StoredReport, reporterHash: Uint8Array): Promise<boolean> {
    const nowSeconds = seconds(report.createdAt);
    const items: TransactWriteItem[] = [
      {
        Put: {
          TableName: this.table,
          Item: reportItem({ ...report, status: 'open' }),
          // An expired report TTL has not removed yet does not make a new one a duplicate.
          ConditionExpression: 'attribute_not_exists(pk) OR #ttl <= :now',
          ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
          ExpressionAttributeValues: { ':now': N(nowSeconds) },
        },
      },
      ...report.messages.map((m, i) => ({
        Put: { TableName: this.table, Item: messageItem(report, i, m) },
      })),
      {
        Put: {
          TableName: this.table,
          Item: queueItem('open', { ...report, messageCount: report.messages.length }),
        },
      },
    ];
    try {
      await this.client.send(new TransactWriteItemsCommand({ TransactItems: items }));
    } catch (err) {
      if (isTransactionConditionFailure(err)) return false;
      return translate(err);
    }
    await this.count(report, reporterHash);
    return true;
  }

  async get(reportId: string, now: number): Promise<StoredReport | undefined> {
    let items: Item[];
    try {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': S(reportPartition(reportId)) },
          ConsistentRead: true,
        }),
      );
      items = out.Items ?? [];
    } catch (err) {
      return translate(err);
    }
    const item = items.find((i) => i['sk']?.S === REPORT_SK);
    if (!item) return undefined;
    checkVersion(item, VERSION);
    const expiresAt = readN(item, 'expiresAt');
    if (expiresAt <= now) return undefined;
    const count = readN(item, 'messageCount');
    const messages: StoredReportMessage[] = [];
    // Only this report's messages: a shorter report that replaced an expired one leaves the
    // old one's higher-numbered message items until their TTL removes them.
    for (let i = 0; i < count; i++) {
      const m = items.find((x) => x['sk']?.S === `${REPORT_MESSAGE_SK_PREFIX}${i}`);
      if (!m) throw new Error('stored report is missing a message');
      checkVersion(m, VERSION);
      messages.push({
        messageId: readB(m, 'messageId'),
        receivedAt: readN(m, 'receivedAt'),
        stamp: readB(m, 'stamp'),
        content: readB(m, 'content'),
      });
    }
    const decision = readDecision(item, true);
    return {
      reportId,
      status: readStatus(item),
      reason: readS(item, 'reason') as ReportReason,
      createdAt: readN(item, 'createdAt'),
      expiresAt,
      reporter: {
        address: readS(item, 'reporterAddress'),
        deviceId: readN(item, 'reporterDevice'),
      },
      sender: { address: readS(item, 'senderAddress'), deviceId: readN(item, 'senderDevice') },
      messages,
      ...(decision ? { decision } : {}),
    };
  }

  async list(
    status: ReportStatus,
    options: { limit: number; cursor?: string; now: number },
  ): Promise<Page<ReportSummary>> {
    const pk = reportQueuePartition(status);
    const start = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
    try {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': S(pk) },
          ScanIndexForward: false,
          Limit: options.limit,
          ConsistentRead: true,
          ...(start === undefined ? {} : { ExclusiveStartKey: { pk: S(pk), sk: S(start) } }),
        }),
      );
      const items = (out.Items ?? [])
        .map((i) => readSummary(status, i))
        .filter((r) => r.expiresAt > options.now);
      const last = out.LastEvaluatedKey?.['sk']?.S;
      return { items, ...(last === undefined ? {} : { cursor: encodeCursor(last) }) };
    } catch (err) {
      return translate(err);
    }
  }

  async decide(reportId: string, decision: ReportDecision, now: number): Promise<boolean> {
    let item: Item | undefined;
    try {
      ({ Item: item } = await this.client.send(
        new GetItemCommand({
          TableName: this.table,
          Key: keyItem(reportKey(reportId)),
          ConsistentRead: true,
        }),
      ));
    } catch (err) {
      return translate(err);
    }
    if (!item) return false;
    checkVersion(item, VERSION);
    const summary = {
      reportId,
      reason: readS(item, 'reason') as ReportReason,
      createdAt: readN(item, 'createdAt'),
      expiresAt: readN(item, 'expiresAt'),
      sender: { address: readS(item, 'senderAddress'), deviceId: readN(item, 'senderDevice') },
      messageCount: readN(item, 'messageCount'),
      decision,
    };
    if (summary.expiresAt <= now) return false;
    const names: Record<string, string> = {
      '#status': 'status',
      '#decision': 'decision',
      '#decidedAt': 'decidedAt',
      '#decidedBy': 'decidedBy',
      '#note': 'note',
      '#createdAt': 'createdAt',
    };
    const values: Item = {
      ':decided': S('decided'),
      ':decision': S(decision.decision),
      ':at': N(decision.decidedAt),
      ':by': S(decision.actor),
      ':created': N(summary.createdAt),
    };
    let update =
      'SET #status = :decided, #decision = :decision, #decidedAt = :at, #decidedBy = :by';
    if (decision.note === undefined) update += ' REMOVE #note';
    else {
      update += ', #note = :note';
      values[':note'] = S(decision.note);
    }
    const items: TransactWriteItem[] = [
      {
        Update: {
          TableName: this.table,
          Key: keyItem(reportKey(reportId)),
          UpdateExpression: update,
          // The same report: not one that replaced it after it expired.
          ConditionExpression: '#createdAt = :created',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        },
      },
      { Put: { TableName: this.table, Item: queueItem('decided', summary) } },
    ];
    if (readStatus(item) === 'open') {
      items.push({
        Delete: {
          TableName: this.table,
          Key: keyItem(reportQueueKey('open', summary.createdAt, reportId)),
        },
      });
    }
    try {
      await this.client.send(new TransactWriteItemsCommand({ TransactItems: items }));
      return true;
    } catch (err) {
      if (isTransactionConditionFailure(err)) return false;
      return translate(err);
    }
  }

  async senderStats(address: string, now: number): Promise<SenderReportStats | undefined> {
    const item = await this.counter(address);
    if (!item || readN(item, TTL_ATTRIBUTE) <= seconds(now)) return undefined;
    checkVersion(item, VERSION);
    return {
      address,
      verifiedReports: readN(item, 'verifiedReports'),
      distinctReporters: item['reporters']?.BS?.length ?? 0,
      lastReportAt: readN(item, 'lastReportAt'),
    };
  }

  private async counter(address: string): Promise<Item | undefined> {
    try {
      const out = await this.client.send(
        new GetItemCommand({
          TableName: this.table,
          Key: keyItem(senderReportsKey(address)),
          ConsistentRead: true,
        }),
      );
      return out.Item;
    } catch (err) {
      return translate(err);
    }
  }

  /**
   * Counts a stored report for its sender: one conditional update while the counter is live
   * and its reporter set has room (or already holds this reporter); else, by what a read finds,
   * an update without the set (full) or a fresh item (absent or expired).
   */
  private async count(report: StoredReport, reporterHash: Uint8Array): Promise<void> {
    const key = keyItem(senderReportsKey(report.sender.address));
    const now = N(seconds(report.createdAt));
    const names = {
      '#v': 'v',
      '#last': 'lastReportAt',
      '#ttl': TTL_ATTRIBUTE,
      '#reports': 'verifiedReports',
    };
    const common = {
      ':v': N(VERSION),
      ':at': N(report.createdAt),
      ':ttl': N(ttlOf(report.expiresAt)),
      ':one': N(1),
      ':now': now,
    };
    for (let round = 0; round < COUNTER_ROUNDS; round++) {
      try {
        await this.client.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: key,
            UpdateExpression:
              'SET #v = :v, #last = :at, #ttl = :ttl ADD #reports :one, #reporters :set',
            ConditionExpression:
              '(attribute_not_exists(#ttl) OR #ttl > :now) AND ' +
              '(attribute_not_exists(#reporters) OR size(#reporters) < :cap OR contains(#reporters, :hash))',
            ExpressionAttributeNames: { ...names, '#reporters': 'reporters' },
            ExpressionAttributeValues: {
              ...common,
              ':set': { BS: [reporterHash] },
              ':hash': B(reporterHash),
              ':cap': N(MAX_TRACKED_REPORTERS),
            },
          }),
        );
        return;
      } catch (err) {
        if (!isConditionalFailure(err)) return translate(err);
      }
      const item = await this.counter(report.sender.address);
      const live = item !== undefined && readN(item, TTL_ATTRIBUTE) > seconds(report.createdAt);
      try {
        if (live) {
          // The reporter set is full: count the report, not the reporter.
          await this.client.send(
            new UpdateItemCommand({
              TableName: this.table,
              Key: key,
              UpdateExpression: 'SET #v = :v, #last = :at, #ttl = :ttl ADD #reports :one',
              ConditionExpression: '#ttl > :now',
              ExpressionAttributeNames: names,
              ExpressionAttributeValues: common,
            }),
          );
        } else {
          // Expired (TTL has not removed it yet): start over.
          await this.client.send(
            new PutItemCommand({
              TableName: this.table,
              Item: {
                ...key,
                v: N(VERSION),
                verifiedReports: N(1),
                reporters: { BS: [reporterHash] },
                lastReportAt: N(report.createdAt),
                [TTL_ATTRIBUTE]: N(ttlOf(report.expiresAt)),
              },
              ConditionExpression: 'attribute_not_exists(#ttl) OR #ttl <= :now',
              ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
              ExpressionAttributeValues: { ':now': now },
            }),
          );
        }
        return;
      } catch (err) {
        if (!isConditionalFailure(err)) return translate(err);
      }
    }
    throw new UnavailableError('report counter is contended');
  }
}
