/**
 * What mailbox storage keeps (docs/SERVICE.md §8.1): while messages are pending, no item and
 * no object holds the sender's request id or a time finer than an hour; once they are
 * acknowledged, neither their items nor their objects remain. Checked on the in-memory
 * adapters and on DynamoDB Local + s3rver by reading everything stored (table scan, bucket
 * listing).
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { DynamoAccountStore, DynamoMessageIndex } from '#functions/adapters/dynamodb/index.ts';
import { MemoryAccountStore } from '#functions/adapters/memory/memory-account-store.ts';
import { MemoryBlobStore } from '#functions/adapters/memory/memory-blob-store.ts';
import { MemoryMessageIndex } from '#functions/adapters/memory/memory-message-index.ts';
import { MemoryRateLimiter } from '#functions/adapters/memory/memory-rate-limiter.ts';
import { S3BlobStore } from '#functions/adapters/s3/s3-blob-store.ts';
import { randomBytes } from '#functions/domain/crypto.ts';
import type { Ports } from '#functions/domain/ports.ts';
import { toBase64Url } from '#sdk/wire/api/codec.ts';
import { createMessageId } from '#sdk/wire/api/message-id.ts';
import { useLocalAws } from '../helpers/use-local-aws.ts';
import { mailboxFixture } from '../unit/functions/domain/mailbox-fixture.ts';

const HOUR_MS = 3_600_000;
type StoragePorts = Pick<Ports, 'accounts' | 'index' | 'blobs' | 'limiter'>;

/** Everything stored for one account's mailboxes, as plain values. */
interface Stored {
  /** Every attribute value of every mailbox item: bytes, strings and numbers. */
  readonly values: (Uint8Array | string | number | bigint)[];
  /** Number of message records and of objects. */
  readonly records: number;
  readonly objects: number;
  /** Object keys. */
  readonly keys: string[];
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack).includes(Buffer.from(needle));
}

/** Sends, acknowledges part, and checks what storage holds before and after. */
async function exercise(ports: StoragePorts, dump: (address: string) => Promise<Stored>) {
  const f = await mailboxFixture(ports, { devices: 2, config: { inlineMaxBytes: 100 } });
  // Old-style request ids carry the client clock; the service must not keep it anywhere.
  const requestIds = [
    createMessageId(f.clock.now, randomBytes(10)),
    createMessageId(f.clock.now + 1, randomBytes(10)),
    randomBytes(16),
  ];
  await f.send(requestIds[0]!, [randomBytes(50), randomBytes(60)]);
  await f.send(requestIds[1]!, [randomBytes(5000), randomBytes(5000)]);
  // An own-device sync copy: identified, so its record names the sender until acknowledged.
  await f.service.sendIdentified(f.callers[0]!, f.address, {
    messageId: toBase64Url(requestIds[2]!),
    envelopes: [{ deviceId: 2, envelope: toBase64Url(randomBytes(700)) }],
  });

  const pending = await dump(f.address);
  expect(pending.records).toBe(5);
  expect(pending.objects).toBe(3);
  for (const v of pending.values) {
    for (const id of requestIds) {
      if (v instanceof Uint8Array) expect(contains(v, id)).toBe(false);
      if (typeof v === 'string') {
        expect(v).not.toContain(Buffer.from(id).toString('hex'));
        expect(v).not.toContain(toBase64Url(id));
      }
    }
    // Anything that could be a time (seconds or milliseconds since 2001) is a whole hour.
    if (typeof v === 'number' && v >= 1e9) {
      expect(v % (v >= 1e12 ? HOUR_MS : 3600)).toBe(0);
    }
  }
  for (const key of pending.keys) {
    for (const id of requestIds) expect(key).not.toContain(Buffer.from(id).toString('hex'));
  }
  expect(pending.values).toContain(f.address);

  for (const caller of f.callers) {
    const messages = await f.fetchAll(caller);
    await f.service.ack(
      caller,
      messages.map((m) => m.messageId),
    );
  }
  const after = await dump(f.address);
  expect({ records: after.records, objects: after.objects }).toEqual({ records: 0, objects: 0 });
  // The identified sender's address is gone with its record.
  expect(after.values.filter((v) => typeof v === 'string' && v === f.address)).toEqual([]);
}

describe('mailbox storage on the in-memory adapters', () => {
  it('keeps no request id and no sub-hour time, and nothing once acknowledged', async () => {
    const ports = {
      accounts: new MemoryAccountStore(),
      index: new MemoryMessageIndex(),
      blobs: new MemoryBlobStore(),
      limiter: new MemoryRateLimiter(),
    };
    await exercise(ports, async () => {
      const { records, counters } = ports.index.dump();
      const values: Stored['values'] = [];
      for (const r of records) {
        values.push(r.position, r.receivedAt, r.expiresAt, r.size);
        if (r.inline) values.push(r.inline);
        if (r.source) values.push(r.source.address, r.source.deviceId);
      }
      for (const c of counters) values.push(c.seq, c.count, c.bytes, c.lastKey, c.lastRandom);
      const keys = [...ports.blobs.objects.keys()];
      values.push(...ports.blobs.objects.values());
      return { values, records: records.length, objects: keys.length, keys };
    });
  });
});

describe('mailbox storage on DynamoDB Local and s3rver', () => {
  const local = useLocalAws();

  it('keeps no request id and no sub-hour time, and nothing once acknowledged', async () => {
    const ports = {
      accounts: new DynamoAccountStore(local.aws.dynamodb, local.table),
      index: new DynamoMessageIndex(local.aws.dynamodb, local.table),
      blobs: new S3BlobStore(local.aws.s3, local.aws.bucket),
      limiter: new MemoryRateLimiter(),
    };
    await exercise(ports, async (address) => {
      const values: Stored['values'] = [];
      let records = 0;
      let start: Record<string, never> | undefined;
      do {
        const out = await local.aws.dynamodb.send(
          new ScanCommand({
            TableName: local.table,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        for (const item of out.Items ?? []) {
          const pk = item['pk']?.S ?? '';
          if (!pk.startsWith(`mbx#${address}#`)) continue;
          if (item['sk']?.S?.startsWith('m#')) records++;
          for (const [name, v] of Object.entries(item)) {
            if (name === 'pk') continue;
            if (v.B) values.push(v.B);
            if (v.S !== undefined) values.push(v.S);
            if (v.N !== undefined) values.push(Number(v.N));
          }
        }
        start = out.LastEvaluatedKey as typeof start;
      } while (start);
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const out = await local.aws.s3.send(
          new ListObjectsV2Command({
            Bucket: local.aws.bucket,
            ...(token ? { ContinuationToken: token } : {}),
          }),
        );
        keys.push(
          ...(out.Contents ?? []).flatMap((o) => (o.Key?.includes(address) ? [o.Key] : [])),
        );
        token = out.NextContinuationToken;
      } while (token);
      return { values, records, objects: keys.length, keys };
    });
  });
});
