/**
 * {@link MessageIndex} on DynamoDB: one partition per device mailbox; one item per message
 * keyed `m#hex(messageId)` (chronological: the id starts with its timestamp), holding the
 * envelope inline or the key of its S3 object, plus the `usage` quota counter that sorts after
 * every message. A send is one conditional `PutItem`; an acknowledgement one `DeleteItem` per
 * message with `ReturnValues: ALL_OLD`, which tells exactly what existed (for the quota and the
 * S3 objects) at the same write cost as a batch delete.
 */
import {
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  type QueryCommandOutput,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type {
  IndexEntry,
  IndexPage,
  Mailbox,
  MailboxUsage,
  MessageIndex,
} from '../../domain/ports.ts';
import { B, checkVersion, type Item, keyItem, N, readB, readN, readS, S } from './attributes.ts';
import { isConditionalFailure, translate } from './errors.ts';
import {
  MESSAGE_SK_PREFIX,
  mailboxPartition,
  messageKey,
  TTL_ATTRIBUTE,
  USAGE_SK,
  usageKey,
} from './keys.ts';

const VERSION = 1;
const DELETE_CONCURRENCY = 25;

function entryItem(mailbox: Mailbox, e: IndexEntry): Item {
  const item: Item = {
    ...keyItem(messageKey(mailbox, e.messageId)),
    v: N(VERSION),
    receivedAt: N(e.receivedAt),
    expiresAt: N(e.expiresAt),
    [TTL_ATTRIBUTE]: N(Math.ceil(e.expiresAt / 1000)),
    size: N(e.size),
  };
  if (e.inline) item['body'] = B(e.inline);
  if (e.objectKey) item['objectKey'] = S(e.objectKey);
  // Present only for identified sends: a sealed send's item names no sender.
  if (e.source) {
    item['sourceAddress'] = S(e.source.address);
    item['sourceDevice'] = N(e.source.deviceId);
  }
  return item;
}

function readEntry(item: Item): IndexEntry {
  checkVersion(item, VERSION);
  const sk = readS(item, 'sk');
  const entry: IndexEntry = {
    messageId: Uint8Array.from(Buffer.from(sk.slice(MESSAGE_SK_PREFIX.length), 'hex')),
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
  return entry;
}

/** Mailboxes in the table named by `SEALPOST_TABLE`. */
export class DynamoMessageIndex implements MessageIndex {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async put(mailbox: Mailbox, entry: IndexEntry): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: entryItem(mailbox, entry),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalFailure(err)) return false;
      return translate(err);
    }
  }

  async list(
    mailbox: Mailbox,
    options: { limit: number; after?: Uint8Array; now: number },
  ): Promise<IndexPage> {
    const after = options.after ? messageKey(mailbox, options.after).sk : MESSAGE_SK_PREFIX;
    let out: QueryCommandOutput;
    try {
      // One more than asked: if it is a message, more follow; if it is the usage counter, the
      // mailbox was read to the end and the counter comes for free.
      out = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND sk > :after',
          ExpressionAttributeValues: { ':pk': S(mailboxPartition(mailbox)), ':after': S(after) },
          ConsistentRead: true,
          Limit: options.limit + 1,
        }),
      );
    } catch (err) {
      return translate(err);
    }
    const items = out.Items ?? [];
    const messages = items.filter((i) => i['sk']?.S?.startsWith(MESSAGE_SK_PREFIX));
    const usageItem = items.find((i) => i['sk']?.S === USAGE_SK);
    const scanned = messages.slice(0, options.limit).map(readEntry);
    const more =
      !usageItem && (messages.length > options.limit || out.LastEvaluatedKey !== undefined);
    const page: IndexPage = {
      entries: scanned.filter((e) => e.expiresAt > options.now),
      more,
      ...(scanned.length > 0 ? { last: scanned.at(-1)!.messageId } : {}),
    };
    if (more) return page;
    const usage = usageItem
      ? { count: readN(usageItem, 'count'), bytes: readN(usageItem, 'bytes') }
      : { count: 0, bytes: 0 };
    return { ...page, usage };
  }

  async remove(mailbox: Mailbox, messageIds: readonly Uint8Array[]): Promise<IndexEntry[]> {
    const removed: IndexEntry[] = [];
    let next = 0;
    const worker = async () => {
      while (next < messageIds.length) {
        const id = messageIds[next++]!;
        try {
          const out = await this.client.send(
            new DeleteItemCommand({
              TableName: this.table,
              Key: keyItem(messageKey(mailbox, id)),
              // Conditional so two concurrent acks cannot both count the same message.
              ConditionExpression: 'attribute_exists(pk)',
              ReturnValues: 'ALL_OLD',
            }),
          );
          if (out.Attributes) removed.push(readEntry(out.Attributes));
        } catch (err) {
          if (!isConditionalFailure(err)) translate(err);
        }
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(DELETE_CONCURRENCY, messageIds.length) }, worker),
    );
    return removed;
  }

  async reserve(mailbox: Mailbox, add: MailboxUsage, limit: MailboxUsage): Promise<boolean> {
    if (add.count > limit.count || add.bytes > limit.bytes) return false;
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: keyItem(usageKey(mailbox)),
          UpdateExpression: 'SET #v = :v ADD #count :c, #bytes :b',
          ConditionExpression:
            'attribute_not_exists(#count) OR (#count <= :maxCount AND #bytes <= :maxBytes)',
          ExpressionAttributeNames: { '#v': 'v', '#count': 'count', '#bytes': 'bytes' },
          ExpressionAttributeValues: {
            ':v': N(VERSION),
            ':c': N(add.count),
            ':b': N(add.bytes),
            ':maxCount': N(limit.count - add.count),
            ':maxBytes': N(limit.bytes - add.bytes),
          },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalFailure(err)) return false;
      return translate(err);
    }
  }

  async release(mailbox: Mailbox, sub: MailboxUsage): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: keyItem(usageKey(mailbox)),
          UpdateExpression: 'ADD #count :c, #bytes :b',
          ConditionExpression: '#count >= :sc AND #bytes >= :sb',
          ExpressionAttributeNames: { '#count': 'count', '#bytes': 'bytes' },
          ExpressionAttributeValues: {
            ':c': N(-sub.count),
            ':b': N(-sub.bytes),
            ':sc': N(sub.count),
            ':sb': N(sub.bytes),
          },
        }),
      );
    } catch (err) {
      // The counter drifted below what is being released (expiry, a fault between steps):
      // clamp at zero; the next full fetch sets it to the truth.
      if (isConditionalFailure(err)) return this.setUsage(mailbox, { count: 0, bytes: 0 });
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
