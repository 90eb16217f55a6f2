/**
 * {@link MessageIndex} on DynamoDB (docs/SERVICE.md §8.1): one partition per device mailbox
 * holding one small record per pending message, keyed `m#hex(position)` (sequence order), and
 * the counter (`usage`, after every record), which assigns positions and counts usage exactly.
 * A record holds no envelope (it is in S3) unless the operator enabled inline storage, so it
 * stays under 1 KB: one write unit. Acknowledgement deletes records; `ttl` removes the ones
 * that expire unread. The counter has no `ttl`: a mailbox's positions must never repeat.
 *
 * A record of a multi-recipient send (docs/PROTOCOL.md §14.8) holds its device's header inline
 * (`body`) and the shared payload's id (`pay`); the counter remembers, with the retry key of
 * its last store, the payload id that store named (`lastPay`), so a retry of the request finds
 * the payload it stored under.
 */
import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  type QueryCommandOutput,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { equalBytes } from 'sealpost/wire';
import { UnavailableError } from '../../domain/errors.ts';
import {
  type Mailbox,
  type MailboxUsage,
  type MessageIndex,
  type MessagePage,
  PAYLOAD_ID_BYTES,
  POSITION_BYTES,
  type Reservation,
  type Reserved,
  type StoredMessage,
} from '../../domain/ports.ts';
import { B, checkVersion, type Item, keyItem, N, readB, readN, readS, S } from './attributes.ts';
import { conditionalPut, isConditionalFailure, translate } from './errors.ts';
import {
  MESSAGE_SK_PREFIX,
  mailboxPartition,
  messageKey,
  TTL_ATTRIBUTE,
  usageKey,
} from './keys.ts';

/**
 * Layout 2: server-assigned positions, hour-precision times, no client id. The payload id of
 * multi-recipient records (`pay`) and of the counter (`lastPay`) are optional attributes of
 * the same layout, not a layout 3: every record without them reads exactly as before, and a
 * reader that predates them (a function version still running during a deployment, or after
 * a rollback) reads such a record as a plain inline envelope, which is what a client that
 * does not ask for payloads gets anyway (§14.10), instead of failing the whole fetch on an
 * unknown version.
 */
const VERSION = 2;
/** Rounds of a reservation that lost a race with another store before giving up (503). */
const ATTEMPTS = 4;

function recordItem(mailbox: Mailbox, r: StoredMessage): Item {
  const item: Item = {
    ...keyItem(messageKey(mailbox, r.position)),
    v: N(VERSION),
    // Whole hours (docs/SERVICE.md §7.2); `ttl` is in seconds and is also the expiry.
    receivedAt: N(r.receivedAt),
    [TTL_ATTRIBUTE]: N(Math.ceil(r.expiresAt / 1000)),
    size: N(r.size),
  };
  if (r.inline) item['body'] = B(r.inline);
  if (r.payload) item['pay'] = B(checkPayloadId(r.payload, 'record.payload'));
  // Present only for identified sends: a sealed send's record names no sender.
  if (r.source) {
    item['sourceAddress'] = S(r.source.address);
    item['sourceDevice'] = N(r.source.deviceId);
  }
  return item;
}

function checkPayloadId(id: Uint8Array, name: string): Uint8Array {
  if (id.length !== PAYLOAD_ID_BYTES)
    throw new RangeError(`${name} must be ${PAYLOAD_ID_BYTES} bytes`);
  return id;
}

/** A stored payload id (`pay`, `lastPay`), if the item has one. */
function readPayloadId(item: Item, name: string): Uint8Array | undefined {
  if (item[name] === undefined) return undefined;
  const id = readB(item, name);
  if (id.length !== PAYLOAD_ID_BYTES)
    throw new Error(`stored item has a malformed attribute ${name}`);
  return id;
}

/** Layout 1 (before server positions): read so pending messages survive an upgrade. */
const LEGACY_VERSION = 1;

function readRecord(item: Item): StoredMessage {
  if (item['v']?.N !== String(LEGACY_VERSION)) checkVersion(item, VERSION);
  const position = Uint8Array.from(
    Buffer.from(readS(item, 'sk').slice(MESSAGE_SK_PREFIX.length), 'hex'),
  );
  if (position.length !== POSITION_BYTES) throw new Error('stored record has a malformed key');
  const payload = readPayloadId(item, 'pay');
  return {
    position,
    receivedAt: readN(item, 'receivedAt'),
    expiresAt: item['expiresAt'] ? readN(item, 'expiresAt') : readN(item, TTL_ATTRIBUTE) * 1000,
    size: readN(item, 'size'),
    ...(item['body'] ? { inline: readB(item, 'body') } : {}),
    ...(payload ? { payload } : {}),
    ...(item['sourceAddress']
      ? { source: { address: readS(item, 'sourceAddress'), deviceId: readN(item, 'sourceDevice') } }
      : {}),
  };
}

function readSeq(item: Item): bigint {
  const raw = item['seq']?.N;
  if (raw === undefined || !/^[0-9]+$/.test(raw)) throw new Error('stored counter is malformed');
  return BigInt(raw);
}

function readCounter(item: Item): MailboxUsage & { seq: bigint } {
  checkVersion(item, VERSION);
  return { seq: readSeq(item), count: readN(item, 'count'), bytes: readN(item, 'bytes') };
}

const sameBytes = (a: Uint8Array | undefined, b: Uint8Array) => a !== undefined && equalBytes(a, b);

/** Mailboxes in the table named by `SEALPOST_TABLE`. */
export class DynamoMessageIndex implements MessageIndex {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async reserve(mailbox: Mailbox, r: Reservation): Promise<Reserved> {
    if (r.size > r.maxBytes || r.maxMessages < 1) return { kind: 'full' };
    if (r.payload) checkPayloadId(r.payload, 'reservation.payload');
    // The payload id is remembered with the retry key, or removed with it: a store that names
    // none must not leave the previous store's id for its own retries.
    const pay = r.payload ? ', #pay = :pay' : '';
    const removePay = r.payload ? '' : ' REMOVE #pay';
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      let old: Item | undefined;
      try {
        // One write: next sequence number, exact usage under the quota, and the retry key,
        // random tail and payload id of this store, unless the last store had the same retry key.
        const out = await this.client.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: keyItem(usageKey(mailbox)),
            UpdateExpression:
              `SET #v = :v, #last = :key, #rand = :rand${pay} ` +
              `ADD #seq :one, #count :one, #bytes :size${removePay}`,
            ConditionExpression:
              '(attribute_not_exists(#last) OR #last <> :key) AND ' +
              '(attribute_not_exists(#count) OR (#count < :maxCount AND #bytes <= :maxBytes))',
            ExpressionAttributeNames: {
              '#v': 'v',
              '#last': 'lastId',
              '#rand': 'lastRand',
              '#seq': 'seq',
              '#count': 'count',
              '#bytes': 'bytes',
              '#pay': 'lastPay',
            },
            ExpressionAttributeValues: {
              ':v': N(VERSION),
              ':key': B(r.retryKey),
              ':rand': B(r.random),
              ...(r.payload ? { ':pay': B(r.payload) } : {}),
              ':one': N(1),
              ':size': N(r.size),
              ':maxCount': N(r.maxMessages),
              ':maxBytes': N(r.maxBytes - r.size),
            },
            ReturnValues: 'UPDATED_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        const attributes = out.Attributes ?? {};
        return {
          kind: 'new',
          seq: readSeq(attributes),
          random: r.random,
          count: readN(attributes, 'count'),
        };
      } catch (err) {
        if (!isConditionalFailure(err)) return translate(err);
        old = (err as { Item?: Item }).Item ?? (await this.counterItem(mailbox));
      }
      if (!old) continue;
      if (sameBytes(old['lastId']?.B, r.retryKey)) {
        const payload = readPayloadId(old, 'lastPay');
        return {
          kind: 'retry',
          seq: readSeq(old),
          random: readB(old, 'lastRand'),
          ...(payload ? { payload } : {}),
        };
      }
      const { count, bytes } = readCounter(old);
      if (count + 1 > r.maxMessages || bytes + r.size > r.maxBytes) return { kind: 'full' };
      // Neither: another store changed the counter between the condition and the read.
    }
    throw new UnavailableError('concurrent stores to one mailbox');
  }

  private async counterItem(mailbox: Mailbox): Promise<Item | undefined> {
    try {
      const out = await this.client.send(
        new GetItemCommand({
          TableName: this.table,
          Key: keyItem(usageKey(mailbox)),
          ConsistentRead: true,
        }),
      );
      return out.Item;
    } catch (err) {
      return translate(err);
    }
  }

  async put(mailbox: Mailbox, record: StoredMessage): Promise<boolean> {
    return conditionalPut(this.client, {
      TableName: this.table,
      Item: recordItem(mailbox, record),
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  }

  async list(
    mailbox: Mailbox,
    options: { after?: Uint8Array; limit: number },
  ): Promise<MessagePage> {
    const after = options.after ? messageKey(mailbox, options.after).sk : MESSAGE_SK_PREFIX;
    let out: QueryCommandOutput;
    try {
      // Eventually consistent (half the read units): a record deleted a moment ago and read
      // again is delivered twice, and the client drops it by its position (§7.2). One item
      // more than asked: if it is the counter, the mailbox was read to the end.
      out = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND sk > :after',
          ExpressionAttributeValues: { ':pk': S(mailboxPartition(mailbox)), ':after': S(after) },
          Limit: options.limit + 1,
        }),
      );
    } catch (err) {
      return translate(err);
    }
    const items = out.Items ?? [];
    const recordItems = items.filter((i) => i['sk']?.S?.startsWith(MESSAGE_SK_PREFIX));
    const counterItem = items.find((i) => i['sk']?.S === usageKey(mailbox).sk);
    // Layout-1 tombstones and redirects (`gone`, `to`) hold no message; layout-1 messages sit
    // at their old id, which is also their object's key (docs/SERVICE.md §8.1).
    const records = recordItems
      .slice(0, options.limit)
      .filter((i) => !i['gone'] && !i['to'])
      .map(readRecord);
    const more =
      !counterItem && (recordItems.length > options.limit || out.LastEvaluatedKey !== undefined);
    if (more || !counterItem) return { records, more };
    return { records, more, counter: readCounter(counterItem) };
  }

  async remove(mailbox: Mailbox, positions: readonly Uint8Array[]): Promise<StoredMessage[]> {
    // One DeleteItem per record (a batch delete cannot tell which items existed).
    const old = await Promise.all(
      positions.map(async (position) => {
        try {
          const out = await this.client.send(
            new DeleteItemCommand({
              TableName: this.table,
              Key: keyItem(messageKey(mailbox, position)),
              ReturnValues: 'ALL_OLD',
            }),
          );
          const old = out.Attributes;
          return old && !old['gone'] && !old['to'] ? readRecord(old) : undefined;
        } catch (err) {
          return translate(err);
        }
      }),
    );
    return old.filter((r) => r !== undefined);
  }

  async release(mailbox: Mailbox, usage: MailboxUsage): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: keyItem(usageKey(mailbox)),
          UpdateExpression: 'ADD #count :c, #bytes :b',
          ConditionExpression: 'attribute_exists(#seq)',
          ExpressionAttributeNames: { '#count': 'count', '#bytes': 'bytes', '#seq': 'seq' },
          ExpressionAttributeValues: { ':c': N(-usage.count), ':b': N(-usage.bytes) },
        }),
      );
    } catch (err) {
      if (!isConditionalFailure(err)) translate(err);
    }
  }

  async reconcile(mailbox: Mailbox, seq: bigint, usage: MailboxUsage): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: keyItem(usageKey(mailbox)),
          UpdateExpression: 'SET #count = :c, #bytes = :b',
          ConditionExpression: '#seq = :seq',
          ExpressionAttributeNames: { '#count': 'count', '#bytes': 'bytes', '#seq': 'seq' },
          ExpressionAttributeValues: {
            ':c': N(usage.count),
            ':b': N(usage.bytes),
            ':seq': { N: seq.toString() },
          },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalFailure(err)) return false;
      return translate(err);
    }
  }
}
