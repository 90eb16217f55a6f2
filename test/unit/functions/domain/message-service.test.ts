import { describe, expect, it } from 'vitest';
import { MemoryAccountStore } from '#functions/adapters/memory/memory-account-store.ts';
import { MemoryBlobStore } from '#functions/adapters/memory/memory-blob-store.ts';
import { MemoryMessageIndex } from '#functions/adapters/memory/memory-message-index.ts';
import { MemoryRateLimiter } from '#functions/adapters/memory/memory-rate-limiter.ts';
import { randomBytes } from '#functions/domain/crypto.ts';
import { fromBase64Url } from '#sdk/wire/api/codec.ts';
import { RECEIVED_AT_PRECISION_MS } from '#sdk/wire/api/limits.ts';
import { createMessageId } from '#sdk/wire/api/message-id.ts';
import { mailboxFixture } from './mailbox-fixture.ts';

const HOUR = RECEIVED_AT_PRECISION_MS;

function memory() {
  return {
    accounts: new MemoryAccountStore(),
    index: new MemoryMessageIndex(),
    blobs: new MemoryBlobStore(),
    limiter: new MemoryRateLimiter(),
  };
}

const ids = (messages: readonly { messageId: string }[]) => messages.map((m) => m.messageId);

describe('MessageService mailbox', () => {
  it('delivers messages sent in sequence in that order, named by server positions', async () => {
    const ports = memory();
    const f = await mailboxFixture(ports);
    const bodies = Array.from({ length: 30 }, (_, i) => new Uint8Array(10).fill(i));
    const requestIds: Uint8Array[] = [];
    for (const [i, body] of bodies.entries()) {
      // Request ids in descending time order: the server must not order by them.
      const requestId = createMessageId(f.clock.now - i * 1000, randomBytes(10));
      requestIds.push(requestId);
      await f.send(requestId, [body]);
    }
    const fetched = await f.fetchAll(f.callers[0]!, 7);
    expect(fetched.map((m) => fromBase64Url(m.envelope))).toEqual(bodies);
    for (const [i, m] of fetched.entries()) {
      const position = fromBase64Url(m.messageId);
      expect(position).not.toEqual(requestIds[i]);
      // u64 sequence number first: 1, 2, 3, ...
      expect(new DataView(position.buffer).getBigUint64(0)).toBe(BigInt(i + 1));
    }
  });

  it('reports receipt time rounded down to the hour and stores only whole hours', async () => {
    const ports = memory();
    const f = await mailboxFixture(ports, { start: 1_767_225_600_000 + 59 * 60_000 + 59_999 });
    await f.send(randomBytes(16), [randomBytes(10)]);
    const [m] = await f.fetchAll(f.callers[0]!);
    expect(m!.receivedAt).toBe(1_767_225_600_000);
    const [record] = ports.index.dump().records;
    expect(record!.receivedAt % HOUR).toBe(0);
    expect(record!.expiresAt % HOUR).toBe(0);
    expect(record!.expiresAt).toBeGreaterThanOrEqual(f.clock.now + 30 * 24 * HOUR);
  });

  it('stores a retried request once, at the same position, and counts it once', async () => {
    const ports = memory();
    const f = await mailboxFixture(ports, { devices: 2 });
    const requestId = randomBytes(16);
    const body = [randomBytes(50), randomBytes(60)];
    expect((await f.send(requestId, body)).duplicate).toBe(false);
    expect((await f.send(requestId, body)).duplicate).toBe(true);
    for (const caller of f.callers) expect(await f.fetchAll(caller)).toHaveLength(1);
    expect(ports.index.dump().counters.map((c) => c.count)).toEqual([1, 1]);
  });

  it('completes a retried request whose record write failed, at its reserved position', async () => {
    const ports = memory();
    const f = await mailboxFixture(ports);
    const requestId = randomBytes(16);
    const put = ports.index.put.bind(ports.index);
    ports.index.put = async () => {
      throw new Error('lost');
    };
    await expect(f.send(requestId, [randomBytes(5000)])).rejects.toThrow('lost');
    ports.index.put = put;
    expect((await f.send(requestId, [randomBytes(5000)])).duplicate).toBe(false);
    const fetched = await f.fetchAll(f.callers[0]!);
    expect(fetched).toHaveLength(1);
    expect(new DataView(fromBase64Url(fetched[0]!.messageId).buffer).getBigUint64(0)).toBe(1n);
  });

  it('acknowledges by position: deletes record, object and usage, idempotently', async () => {
    const ports = memory();
    const f = await mailboxFixture(ports, { config: { inlineMaxBytes: 100 } });
    await f.send(randomBytes(16), [randomBytes(50)]);
    await f.send(randomBytes(16), [randomBytes(500)]);
    await f.send(randomBytes(16), [randomBytes(600)]);
    const fetched = await f.fetchAll(f.callers[0]!);
    expect(ports.blobs.objects.size).toBe(2);
    const caller = f.callers[0]!;
    const acked = ids(fetched).slice(0, 2);
    expect(await f.service.ack(caller, [...acked, acked[0]!])).toEqual({ acknowledged: 2 });
    expect(await f.service.ack(caller, acked)).toEqual({ acknowledged: 0 });
    expect(ids(await f.fetchAll(caller))).toEqual(ids(fetched).slice(2));
    expect(ports.blobs.objects.size).toBe(1);
    const dump = ports.index.dump();
    expect(dump.records).toHaveLength(1);
    expect(dump.counters.map((c) => [c.count, c.bytes])).toEqual([[1, 600]]);
  });

  it('refuses a send that would pass the exact quota, in every mailbox or none', async () => {
    const ports = memory();
    const f = await mailboxFixture(ports, { devices: 2, config: { mailboxMaxMessages: 2 } });
    await f.send(randomBytes(16), [randomBytes(10), randomBytes(10)]);
    const [phone] = await f.fetchAll(f.callers[1]!);
    await f.service.ack(f.callers[1]!, [phone!.messageId]);
    await f.send(randomBytes(16), [randomBytes(10), randomBytes(10)]);
    await expect(f.send(randomBytes(16), [randomBytes(10), randomBytes(10)])).rejects.toMatchObject(
      {
        code: 'MAILBOX_FULL',
      },
    );
    expect(await f.fetchAll(f.callers[0]!)).toHaveLength(2);
    expect(await f.fetchAll(f.callers[1]!)).toHaveLength(1);
  });

  it('never returns expired messages, deletes those it meets and frees their quota', async () => {
    const ports = memory();
    const f = await mailboxFixture(ports, { config: { mailboxMaxMessages: 1 } });
    await f.send(randomBytes(16), [randomBytes(5000)]);
    await expect(f.send(randomBytes(16), [randomBytes(10)])).rejects.toMatchObject({
      code: 'MAILBOX_FULL',
    });
    f.clock.now += 30 * 24 * HOUR + HOUR;
    expect(await f.fetchAll(f.callers[0]!)).toEqual([]);
    expect(ports.index.dump().records).toEqual([]);
    expect(ports.blobs.objects.size).toBe(0);
    expect(ports.index.dump().counters.map((c) => c.count)).toEqual([0]);
    expect((await f.send(randomBytes(16), [randomBytes(10)])).duplicate).toBe(false);
  });

  it('reconciles the counter after storage removed records it never subtracted', async () => {
    const ports = memory();
    const f = await mailboxFixture(ports, { config: { mailboxMaxMessages: 1 } });
    await f.send(randomBytes(16), [randomBytes(10)]);
    // The table's TTL deletes an expired record without touching the counter.
    const [record] = ports.index.dump().records;
    await ports.index.remove(f.callers[0]!.ref, [record!.position]);
    await expect(f.send(randomBytes(16), [randomBytes(10)])).rejects.toMatchObject({
      code: 'MAILBOX_FULL',
    });
    expect(await f.fetchAll(f.callers[0]!)).toEqual([]);
    expect((await f.send(randomBytes(16), [randomBytes(10)])).duplicate).toBe(false);
  });
});
