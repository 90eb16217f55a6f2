/**
 * {@link MessageIndex} on DynamoDB (docs/SERVICE.md §8.1): one partition per device
 * mailbox holding the acknowledgement cursor (`cursor`), one small record per message or
 * redirect keyed `m#hex(position)` (chronological: positions start with their time), and the
 * usage counter (`usage`, after every record). A message record holds no envelope (it is in
 * S3) unless the operator enabled inline storage, so it stays under 1 KB: one write unit.
 * Records are never deleted by acknowledgement; they carry `ttl` and expire for free.
 */
import {
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandOutput,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type {
  AckCursor,
  IndexEntry,
  Mailbox,
  MailboxRecord,
  MailboxUsage,
  MessageIndex,
  ScanPage,
} from '../../domain/ports.ts';
import {
  B,
  BOOL,
  checkVersion,
  type Item,
  keyItem,
  N,
  readB,
  readN,
  readS,
  S,
} from './attributes.ts';
import { batchWrite } from './batch.ts';
import { conditionalPut, isConditionalFailure, translate } from './errors.ts';
import {
  cursorKey,
  MESSAGE_SK_PREFIX,
  mailboxPartition,
  messageKey,
  TTL_ATTRIBUTE,
  USAGE_SK,
  usageKey,
} from './keys.ts';

const VERSION = 1;
const POSITION_BYTES = 16;

const ttl = (expiresAt: number) => N(Math.ceil(expiresAt / 1000));

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function recordItem(mailbox: Mailbox, r: MailboxRecord): Item {
  const base = { ...keyItem(messageKey(mailbox, r.position)), v: N(VERSION) };
  if (r.kind === 'tombstone') {
    return {
      ...base,
      gone: BOOL(true),
      expiresAt: N(r.expiresAt),
      [TTL_ATTRIBUTE]: ttl(r.expiresAt),
    };
  }
  if (r.kind === 'redirect') {
    return {
      ...base,
      to: B(r.target),
      expiresAt: N(r.expiresAt),
      [TTL_ATTRIBUTE]: ttl(r.expiresAt),
    };
  }
  const e = r.entry;
  const item: Item = {
    ...base,
    receivedAt: N(e.receivedAt),
    expiresAt: N(e.expiresAt),
    [TTL_ATTRIBUTE]: ttl(e.expiresAt),
    size: N(e.size),
  };
  // The message id is the position except for a message that arrived late (§8.4).
  if (!sameBytes(e.messageId, r.position)) item['mid'] = B(e.messageId);
  if (e.inline) item['body'] = B(e.inline);
  if (e.objectKey) item['objectKey'] = S(e.objectKey);
  // Present only for identified sends: a sealed send's record names no sender.
  if (e.source) {
    item['sourceAddress'] = S(e.source.address);
    item['sourceDevice'] = N(e.source.deviceId);
  }
  return item;
}

function readRecord(item: Item): MailboxRecord {
  checkVersion(item, VERSION);
  const position = Uint8Array.from(
    Buffer.from(readS(item, 'sk').slice(MESSAGE_SK_PREFIX.length), 'hex'),
  );
  if (position.length !== POSITION_BYTES) throw new Error('stored record has a malformed key');
  if (item['gone']) return { kind: 'tombstone', position, expiresAt: readN(item, 'expiresAt') };
  if (item['to']) {
    return {
      kind: 'redirect',
      position,
      target: readB(item, 'to'),
      expiresAt: readN(item, 'expiresAt'),
    };
  }
  const entry: IndexEntry = {
    messageId: item['mid'] ? readB(item, 'mid') : position,
    receivedAt: readN(item, 'receivedAt'),
    expiresAt: readN(item, 'expiresAt'),
    size: readN(item, 'size'),
    ...(item['body'] ? { inline: readB(item, 'body') } : {}),
    ...(item['objectKey'] ? { objectKey: readS(item, 'objectKey') } : {}),
    ...(item['sourceAddress']
      ? { source: { address: readS(item, 'sourceAddress'), deviceId: readN(item, 'sourceDevice') } }
      : {}),
  };
  if (!entry.inline && !entry.objectKey) throw new Error('stored message has no body');
  return { kind: 'message', position, entry };
}

function readUsage(item: Item): MailboxUsage {
  return { count: readN(item, 'count'), bytes: readN(item, 'bytes') };
}

/** Mailboxes in the table named by `SEALPOST_TABLE`. */
export class DynamoMessageIndex implements MessageIndex {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  insert(mailbox: Mailbox, record: MailboxRecord): Promise<boolean> {
    return conditionalPut(this.client, {
      TableName: this.table,
      Item: recordItem(mailbox, record),
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  }

  async get(mailbox: Mailbox, position: Uint8Array): Promise<MailboxRecord | undefined> {
    try {
      const out = await this.client.send(
        new GetItemCommand({
          TableName: this.table,
          Key: keyItem(messageKey(mailbox, position)),
          ConsistentRead: true,
        }),
      );
      return out.Item ? readRecord(out.Item) : undefined;
    } catch (err) {
      return translate(err);
    }
  }

  async retarget(
    mailbox: Mailbox,
    position: Uint8Array,
    from: Uint8Array,
    to: Uint8Array,
  ): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: keyItem(messageKey(mailbox, position)),
          UpdateExpression: 'SET #to = :to',
          ConditionExpression: '#to = :from',
          ExpressionAttributeNames: { '#to': 'to' },
          ExpressionAttributeValues: { ':to': B(to), ':from': B(from) },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalFailure(err)) return false;
      return translate(err);
    }
  }

  async scan(
    mailbox: Mailbox,
    options: { after?: Uint8Array; through?: Uint8Array; limit: number },
  ): Promise<ScanPage> {
    const pk = S(mailboxPartition(mailbox));
    const afterSk = options.after ? messageKey(mailbox, options.after).sk : undefined;
    let out: QueryCommandOutput;
    try {
      out = await this.client.send(
        new QueryCommand(
          options.through
            ? {
                // BETWEEN is inclusive: the record at `after` itself is read and dropped.
                TableName: this.table,
                KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :through',
                ExpressionAttributeValues: {
                  ':pk': pk,
                  ':from': S(afterSk ?? MESSAGE_SK_PREFIX),
                  ':through': S(messageKey(mailbox, options.through).sk),
                },
                ConsistentRead: true,
                Limit: options.limit + 1,
              }
            : {
                // One more than asked: if it is a record, more follow; if it is the usage
                // counter, the mailbox was read to the end and the counter comes for free.
                TableName: this.table,
                KeyConditionExpression: 'pk = :pk AND sk > :after',
                ExpressionAttributeValues: { ':pk': pk, ':after': S(afterSk ?? MESSAGE_SK_PREFIX) },
                ConsistentRead: true,
                Limit: options.limit + 1,
              },
        ),
      );
    } catch (err) {
      return translate(err);
    }
    const items = out.Items ?? [];
    const recordItems = items.filter((i) => {
      const sk = i['sk']?.S;
      return sk !== undefined && sk !== afterSk && sk.startsWith(MESSAGE_SK_PREFIX);
    });
    const usageItem = items.find((i) => i['sk']?.S === USAGE_SK);
    const records = recordItems.slice(0, options.limit).map(readRecord);
    const more =
      !usageItem && (recordItems.length > options.limit || out.LastEvaluatedKey !== undefined);
    if (more || options.through) return { records, more };
    return { records, more, usage: usageItem ? readUsage(usageItem) : { count: 0, bytes: 0 } };
  }

  async bury(mailbox: Mailbox, positions: readonly Uint8Array[], expiresAt: number): Promise<void> {
    await batchWrite(
      this.client,
      this.table,
      positions.map((position) => ({
        PutRequest: { Item: recordItem(mailbox, { kind: 'tombstone', position, expiresAt }) },
      })),
    );
  }

  async cursor(mailbox: Mailbox): Promise<AckCursor | undefined> {
    let item: Item | undefined;
    try {
      const out = await this.client.send(
        new GetItemCommand({
          TableName: this.table,
          Key: keyItem(cursorKey(mailbox)),
          ConsistentRead: true,
        }),
      );
      item = out.Item;
    } catch (err) {
      return translate(err);
    }
    if (!item) return undefined;
    checkVersion(item, VERSION);
    const packed = item['acked'] ? readB(item, 'acked') : new Uint8Array();
    if (packed.length % POSITION_BYTES !== 0) throw new Error('stored cursor is malformed');
    const acked: Uint8Array[] = [];
    for (let i = 0; i < packed.length; i += POSITION_BYTES) {
      acked.push(packed.slice(i, i + POSITION_BYTES));
    }
    return {
      ...(item['wm'] ? { watermark: readB(item, 'wm') } : {}),
      acked,
      revision: readN(item, 'rev'),
      expiresAt: readN(item, 'expiresAt'),
    };
  }

  async saveCursor(
    mailbox: Mailbox,
    cursor: { watermark?: Uint8Array; acked: readonly Uint8Array[]; expiresAt: number },
    expectedRevision: number,
  ): Promise<boolean> {
    const item: Item = {
      ...keyItem(cursorKey(mailbox)),
      v: N(VERSION),
      rev: N(expectedRevision + 1),
      expiresAt: N(cursor.expiresAt),
      [TTL_ATTRIBUTE]: ttl(cursor.expiresAt),
    };
    if (cursor.watermark) item['wm'] = B(cursor.watermark);
    // Packed 16-byte positions: smaller than a binary set, so the write stays cheap.
    if (cursor.acked.length > 0) {
      const packed = new Uint8Array(cursor.acked.length * POSITION_BYTES);
      cursor.acked.forEach((p, i) => {
        packed.set(p, i * POSITION_BYTES);
      });
      item['acked'] = B(packed);
    }
    return conditionalPut(this.client, {
      TableName: this.table,
      Item: item,
      ...(expectedRevision === 0
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : {
            ConditionExpression: '#rev = :rev',
            ExpressionAttributeNames: { '#rev': 'rev' },
            ExpressionAttributeValues: { ':rev': N(expectedRevision) },
          }),
    });
  }

  async usage(mailbox: Mailbox): Promise<MailboxUsage | undefined> {
    try {
      // Eventually consistent (half a read unit): the quota is approximate by design (§7.1).
      const out = await this.client.send(
        new GetItemCommand({ TableName: this.table, Key: keyItem(usageKey(mailbox)) }),
      );
      return out.Item ? readUsage(out.Item) : undefined;
    } catch (err) {
      return translate(err);
    }
  }

  async addUsage(mailbox: Mailbox, delta: MailboxUsage): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: keyItem(usageKey(mailbox)),
          UpdateExpression: 'SET #v = :v ADD #count :c, #bytes :b',
          ExpressionAttributeNames: { '#v': 'v', '#count': 'count', '#bytes': 'bytes' },
          ExpressionAttributeValues: {
            ':v': N(VERSION),
            ':c': N(delta.count),
            ':b': N(delta.bytes),
          },
        }),
      );
    } catch (err) {
      translate(err);
    }
  }

  async setUsage(mailbox: Mailbox, usage: MailboxUsage): Promise<void> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: {
            ...keyItem(usageKey(mailbox)),
            v: N(VERSION),
            count: N(usage.count),
            bytes: N(usage.bytes),
          },
        }),
      );
    } catch (err) {
      translate(err);
    }
  }
}
