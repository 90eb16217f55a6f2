/**
 * Shared payloads of multi-recipient sends on DynamoDB Local and s3rver (docs/PROTOCOL.md
 * §14.8): the port contract on the in-memory and the AWS adapters, then what only the AWS layout shows: the
 * reference set item as stored, exactly one object deletion however many releases race, the
 * interleavings of a retry's `addRefs` with the last release, and the mailbox counter
 * remembering a store's payload id for its retry.
 */
import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  ScanCommand,
  type ScanCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { AwsSharedPayloadStore } from '#functions/adapters/aws-shared-payloads.ts';
import { DynamoMessageIndex, DynamoPayloadRefs } from '#functions/adapters/dynamodb/index.ts';
import { MemoryMessageIndex, MemoryPayloadStore } from '#functions/adapters/memory/index.ts';
import { S3PayloadObjects } from '#functions/adapters/s3/s3-payload-objects.ts';
import { randomBytes } from '#functions/domain/crypto.ts';
import { encodePosition } from '#functions/domain/mailbox-positions.ts';
import type { MessageIndex } from '#functions/domain/ports.ts';
import { useLocalAws } from '../helpers/use-local-aws.ts';
import { newAccount } from '../unit/functions/fixtures.ts';
import { sharedPayloadStoreContract } from './contracts/shared-payload-store.ts';

const local = useLocalAws();

const HOUR = 3_600_000;
const EXPIRES = 1_138_889 * HOUR;

/** Hooks run just before a command of the given class is sent (once each). */
type Hooks = Map<new (...args: never[]) => unknown, () => Promise<void>>;

/**
 * A client that counts the commands it sends by class and runs a hook before one, so a test
 * can place another call exactly between two steps of a release.
 */
function instrumented<C extends DynamoDBClient | S3Client>(client: C, hooks: Hooks) {
  const counts = new Map<string, number>();
  const proxy = {
    async send(command: object) {
      const name = command.constructor.name;
      counts.set(name, (counts.get(name) ?? 0) + 1);
      const hook = [...hooks].find(([type]) => command instanceof type);
      if (hook) {
        hooks.delete(hook[0]);
        await hook[1]();
      }
      return (client.send as (c: object) => Promise<unknown>).call(client, command);
    },
  } as unknown as C;
  return { client: proxy, count: (name: string) => counts.get(name) ?? 0 };
}

function awsStore(hooks: Hooks = new Map()) {
  const dynamo = instrumented(local.aws.dynamodb, hooks);
  const s3 = instrumented(local.aws.s3, hooks);
  const refs = new DynamoPayloadRefs(dynamo.client, local.table);
  const store = new AwsSharedPayloadStore(refs, new S3PayloadObjects(s3.client, local.aws.bucket));
  return { store, dynamo, s3 };
}

/** The reference set item of `id`, read strongly consistent. */
async function setItem(id: Uint8Array) {
  const out = await local.aws.dynamodb.send(
    new GetItemCommand({
      TableName: local.table,
      Key: { pk: { S: `pay#${Buffer.from(id).toString('hex')}` }, sk: { S: 'refs' } },
      ConsistentRead: true,
    }),
  );
  return out.Item;
}

const hexes = (set: Uint8Array[] | undefined) =>
  (set ?? []).map((b) => Buffer.from(b).toString('hex')).sort();

sharedPayloadStoreContract('memory', async () => new MemoryPayloadStore());
sharedPayloadStoreContract('aws', async () => awsStore().store);

describe('shared payloads on DynamoDB Local and s3rver', () => {
  it('stores one item per payload: the id in the key, the positions as a set, ttl a day past expiry', async () => {
    const { store } = awsStore();
    const id = randomBytes(16);
    const [a, b, c] = [randomBytes(16), randomBytes(16), randomBytes(16)];
    await store.addRefs(id, [a, b], EXPIRES);
    // A retry: the same positions and one more, with its own later expiry.
    await store.addRefs(id, [b, a, c], EXPIRES + 5 * HOUR);
    const item = await setItem(id);
    expect(Object.keys(item ?? {}).sort()).toEqual(['pk', 'refs', 'sk', 'ttl', 'v']);
    expect(hexes(item?.['refs']?.BS)).toEqual(hexes([a, b, c]));
    // The first store's expiry stays: the object's lifecycle counts from the first PUT too.
    expect(item?.['ttl']).toEqual({ N: String(EXPIRES / 1000 + 86_400) });
  });

  it('deletes the object exactly once when every reference is released concurrently', async () => {
    const { store, s3, dynamo } = awsStore();
    const id = randomBytes(16);
    const positions = Array.from({ length: 40 }, () => randomBytes(16));
    await store.addRefs(id, positions, EXPIRES);
    await store.put(id, randomBytes(2000));
    await Promise.all(positions.map((ref) => store.release(id, ref)));
    expect(s3.count('DeleteObjectCommand')).toBe(1);
    expect(dynamo.count('DeleteItemCommand')).toBe(1);
    expect(await setItem(id)).toBeUndefined();
    expect(await store.get(id)).toBeUndefined();
  });

  it('keeps set and object when a retry re-adds between the last release and the set deletion', async () => {
    const hooks: Hooks = new Map();
    const { store, s3 } = awsStore(hooks);
    const id = randomBytes(16);
    const [last, retried] = [randomBytes(16), randomBytes(16)];
    const body = randomBytes(300);
    await store.addRefs(id, [last], EXPIRES);
    await store.put(id, body);
    // The set is empty (its attribute gone) when the release goes to delete the item.
    hooks.set(DeleteItemCommand, () => store.addRefs(id, [retried], EXPIRES));
    await store.release(id, last);
    expect(hexes((await setItem(id))?.['refs']?.BS)).toEqual(hexes([retried]));
    expect(s3.count('DeleteObjectCommand')).toBe(0);
    expect(await store.get(id)).toEqual(body);
    await store.release(id, retried);
    expect(await setItem(id)).toBeUndefined();
    expect(await store.get(id)).toBeUndefined();
  });

  it('lets a retry that re-adds after the set is deleted store the payload again', async () => {
    const hooks: Hooks = new Map();
    const { store } = awsStore(hooks);
    const id = randomBytes(16);
    const [last, retried] = [randomBytes(16), randomBytes(16)];
    const body = randomBytes(300);
    await store.addRefs(id, [last], EXPIRES);
    await store.put(id, body);
    // Between the set's deletion and the object's: the retry's addRefs makes a new set; its
    // PUT comes after the object is gone and stores it again.
    hooks.set(DeleteObjectCommand, () => store.addRefs(id, [retried], EXPIRES));
    await store.release(id, last);
    expect(hexes((await setItem(id))?.['refs']?.BS)).toEqual(hexes([retried]));
    expect(await store.get(id)).toBeUndefined();
    await store.put(id, body);
    expect(await store.get(id)).toEqual(body);
    await store.release(id, retried);
    expect(await store.get(id)).toBeUndefined();
  });

  it('deletes the object of a release that finds no set (cleanup of an interrupted deletion)', async () => {
    const { store } = awsStore();
    const id = randomBytes(16);
    const ref = randomBytes(16);
    await store.addRefs(id, [ref], EXPIRES);
    await store.put(id, randomBytes(100));
    // A fault after the set's deletion left the object behind.
    await local.aws.dynamodb.send(
      new DeleteItemCommand({
        TableName: local.table,
        Key: { pk: { S: `pay#${Buffer.from(id).toString('hex')}` }, sk: { S: 'refs' } },
      }),
    );
    await store.release(id, ref);
    expect(await store.get(id)).toBeUndefined();
    // And it leaves no item behind either (a release never creates one).
    expect(await setItem(id)).toBeUndefined();
  });

  it('leaves no set items once every payload is released', async () => {
    const { store } = awsStore();
    const ids = [randomBytes(16), randomBytes(16)];
    const refsOf = ids.map(() => [randomBytes(16), randomBytes(16)]);
    for (const [i, id] of ids.entries()) {
      await store.addRefs(id, refsOf[i]!, EXPIRES);
      await store.put(id, randomBytes(60));
    }
    await Promise.all(ids.flatMap((id, i) => refsOf[i]!.map((ref) => store.release(id, ref))));
    const keys = new Set(ids.map((id) => `pay#${Buffer.from(id).toString('hex')}`));
    let start: ScanCommandOutput['LastEvaluatedKey'];
    const left: string[] = [];
    do {
      const page = await local.aws.dynamodb.send(
        new ScanCommand({ TableName: local.table, ConsistentRead: true, ExclusiveStartKey: start }),
      );
      for (const item of page.Items ?? []) {
        if (keys.has(item['pk']?.S ?? '')) left.push(item['pk']!.S!);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    expect(left).toEqual([]);
  });
});

describe.each([
  ['in memory', (): MessageIndex => new MemoryMessageIndex()],
  [
    'on DynamoDB Local',
    (): MessageIndex => new DynamoMessageIndex(local.aws.dynamodb, local.table),
  ],
])('mailbox counter and records with payloads %s', (_name, makeIndex) => {
  const mailbox = () => ({ address: newAccount().address, deviceId: 1, registrationId: 5 });
  const reservation = (payload?: Uint8Array) => ({
    retryKey: randomBytes(16),
    random: randomBytes(8),
    size: 2130,
    maxMessages: 10,
    maxBytes: 100_000,
    ...(payload ? { payload } : {}),
  });

  it('remembers the payload id with the retry key and returns it to the retry', async () => {
    const index = makeIndex();
    const box = mailbox();
    const payload = randomBytes(16);
    const first = reservation(payload);
    expect(await index.reserve(box, first)).toEqual({
      kind: 'new',
      seq: 1n,
      random: first.random,
      count: 1,
    });
    // The retry draws a fresh id; the counter answers with the one its first attempt stored.
    const retry = await index.reserve(box, {
      ...first,
      payload: randomBytes(16),
      random: randomBytes(8),
    });
    expect(retry).toEqual({ kind: 'retry', seq: 1n, random: first.random, payload });
  });

  it('forgets the payload id when a later store names none', async () => {
    const index = makeIndex();
    const box = mailbox();
    await index.reserve(box, reservation(randomBytes(16)));
    const plain = reservation();
    expect(await index.reserve(box, plain)).toMatchObject({ kind: 'new', seq: 2n });
    const retry = await index.reserve(box, plain);
    expect(retry).toEqual({ kind: 'retry', seq: 2n, random: plain.random });
    // A later multi-recipient store remembers its own id again.
    const other = randomBytes(16);
    const third = reservation(other);
    await index.reserve(box, third);
    expect(await index.reserve(box, third)).toMatchObject({ kind: 'retry', payload: other });
  });

  it('writes, lists and removes a record holding a header and a payload id', async () => {
    const index = makeIndex();
    const box = mailbox();
    const r = reservation(randomBytes(16));
    const reserved = await index.reserve(box, r);
    if (reserved.kind !== 'new') throw new Error('expected a new reservation');
    const record = {
      position: encodePosition(reserved.seq, reserved.random),
      receivedAt: EXPIRES - 24 * HOUR,
      expiresAt: EXPIRES,
      size: 2130,
      inline: randomBytes(993),
      payload: r.payload!,
    };
    const plain = {
      position: encodePosition(reserved.seq + 1n, randomBytes(8)),
      receivedAt: EXPIRES - 24 * HOUR,
      expiresAt: EXPIRES,
      size: 40,
      inline: randomBytes(40),
    };
    expect(await index.put(box, record)).toBe(true);
    expect(await index.put(box, plain)).toBe(true);
    const page = await index.list(box, { limit: 10 });
    expect(page.records).toEqual([record, plain]);
    expect(page.records[1]).not.toHaveProperty('payload');
    // The deletion hands back the payload id: what the service releases.
    expect(await index.remove(box, [record.position])).toEqual([record]);
  });
});
