import { describe, expect, it } from 'vitest';
import { MemoryMessageIndex } from '../../../../functions/adapters/memory/memory-message-index.ts';
import { DEFAULT_CONFIG, type ServiceConfig } from '../../../../functions/domain/config.ts';
import { randomBytes } from '../../../../functions/domain/crypto.ts';
import { MailboxLog } from '../../../../functions/domain/mailbox-log.ts';
import type { IndexEntry } from '../../../../functions/domain/ports.ts';
import { createMessageId } from '../../../../sdk/wire/api/message-id.ts';
import { mailboxLogProperty } from './mailbox-log-model.ts';

const MINUTE = 60_000;
const mailbox = { address: 'a', deviceId: 1, registrationId: 2 };

function setup(config: Partial<ServiceConfig> = {}) {
  const clock = { now: 1_750_000_000_000 };
  const index = new MemoryMessageIndex();
  const log = new MailboxLog(index, () => clock.now, randomBytes, { ...DEFAULT_CONFIG, ...config });
  const entry = (idTime: number): IndexEntry => ({
    messageId: createMessageId(idTime, randomBytes(10)),
    receivedAt: clock.now,
    expiresAt: clock.now + DEFAULT_CONFIG.messageTtlMs,
    size: 3,
    objectKey: `k${idTime}`,
  });
  const ids = async () =>
    (await log.page(mailbox, { limit: 100, now: clock.now })).messages.map(
      (m) => m.entry.messageId,
    );
  return { clock, index, log, entry, ids };
}

describe('MailboxLog', () => {
  it('acknowledges with one cursor write and no record deletion', async () => {
    const { clock, index, log, entry, ids } = setup();
    const [a, b, c] = [entry(clock.now), entry(clock.now + 1), entry(clock.now + 2)];
    for (const e of [a, b, c]) expect(await log.store(mailbox, e)).toBe(true);
    const out = await log.acknowledge(mailbox, [a.messageId, c.messageId, randomBytes(16)]);
    expect(out.acknowledged.map((m) => m.entry)).toEqual([a, c]);
    expect(out.objectKeys.sort()).toEqual([a.objectKey, c.objectKey].sort());
    expect(await ids()).toEqual([b.messageId]);
    expect((await index.scan(mailbox, { limit: 10 })).records).toHaveLength(3);
    expect(await index.cursor(mailbox)).toMatchObject({
      acked: [a.messageId, c.messageId],
      revision: 1,
    });
    // A retried acknowledgement counts nothing but still names the objects to delete.
    const again = await log.acknowledge(mailbox, [a.messageId]);
    expect(again).toEqual({ acknowledged: [], objectKeys: [a.objectKey] });
    expect((await index.cursor(mailbox))?.revision).toBe(1);
  });

  it('moves the watermark only past the horizon, and then past acknowledged records only', async () => {
    const { clock, index, log, entry, ids } = setup();
    const [a, b, c] = [entry(clock.now), entry(clock.now + 1), entry(clock.now + 2)];
    for (const e of [a, b, c]) await log.store(mailbox, e);
    await log.acknowledge(mailbox, [a.messageId, c.messageId]);
    expect((await index.cursor(mailbox))?.watermark).toBeUndefined();
    // A sender whose clock is four minutes slow: its id sorts before the acknowledged ones.
    const skewed = entry(clock.now - 4 * MINUTE);
    expect(await log.store(mailbox, skewed)).toBe(true);
    expect(await ids()).toEqual([skewed.messageId, b.messageId]);
    clock.now += DEFAULT_CONFIG.ackHorizonMs + 10;
    await log.acknowledge(mailbox, [skewed.messageId]);
    const cursor = await index.cursor(mailbox);
    expect(cursor?.watermark).toEqual(a.messageId);
    expect(cursor?.acked).toEqual([c.messageId]);
    await log.acknowledge(mailbox, [b.messageId]);
    expect(await index.cursor(mailbox)).toMatchObject({ watermark: c.messageId, acked: [] });
    expect(await ids()).toEqual([]);
  });

  it('lets a fetch move the watermark past acknowledged records that fell below the horizon', async () => {
    const { clock, index, log, entry, ids } = setup();
    const [a, b, c] = [entry(clock.now), entry(clock.now + 1), entry(clock.now + 2)];
    for (const e of [a, b, c]) await log.store(mailbox, e);
    await log.acknowledge(mailbox, [a.messageId, b.messageId]);
    expect(await ids()).toEqual([c.messageId]);
    expect((await index.cursor(mailbox))?.revision).toBe(1);
    clock.now += DEFAULT_CONFIG.ackHorizonMs + 10;
    expect(await ids()).toEqual([c.messageId]);
    expect(await index.cursor(mailbox)).toMatchObject({
      watermark: b.messageId,
      acked: [],
      revision: 2,
    });
    // Nothing left to pass: later fetches do not write.
    expect(await ids()).toEqual([c.messageId]);
    expect((await index.cursor(mailbox))?.revision).toBe(2);
  });

  it('stores a late message at a new position behind a redirect, once', async () => {
    const { clock, index, log, entry, ids } = setup();
    const first = entry(clock.now);
    await log.store(mailbox, first);
    clock.now += DEFAULT_CONFIG.ackHorizonMs + 1;
    await log.acknowledge(mailbox, [first.messageId]);
    expect((await index.cursor(mailbox))?.watermark).toEqual(first.messageId);
    // Sent before `first` but stored after the watermark passed it: a retry after an outage.
    const late = entry(clock.now - 20 * MINUTE);
    expect(await log.store(mailbox, late)).toBe(true);
    expect(await log.store(mailbox, late)).toBe(false);
    expect(await ids()).toEqual([late.messageId]);
    const redirect = await index.get(mailbox, late.messageId);
    expect(redirect?.kind).toBe('redirect');
    const out = await log.acknowledge(mailbox, [late.messageId]);
    expect(out.acknowledged.map((m) => m.entry)).toEqual([late]);
    expect(await ids()).toEqual([]);
    expect(await log.store(mailbox, late)).toBe(false);
  });

  it('completes a late store whose record write failed, even after its target went stale', async () => {
    const { clock, index, log, entry, ids } = setup();
    const late = entry(clock.now - 20 * MINUTE);
    const staleTarget = createMessageId(clock.now, randomBytes(10));
    // What a first attempt leaves when it fails between the redirect and the record.
    await index.insert(mailbox, {
      kind: 'redirect',
      position: late.messageId,
      target: staleTarget,
      expiresAt: late.expiresAt,
    });
    clock.now += 3 * DEFAULT_CONFIG.ackHorizonMs;
    expect(await log.store(mailbox, late)).toBe(true);
    const redirect = await index.get(mailbox, late.messageId);
    expect(redirect?.kind === 'redirect' && redirect.target).not.toEqual(staleTarget);
    expect(await ids()).toEqual([late.messageId]);
    expect(await log.store(mailbox, late)).toBe(false);
  });

  it('buries the oldest acknowledged records once the cursor is full', async () => {
    const { clock, index, log, entry, ids } = setup({ maxAckedAhead: 2 });
    const entries = [0, 1, 2, 3, 4].map((i) => entry(clock.now + i));
    for (const e of entries) await log.store(mailbox, e);
    const out = await log.acknowledge(
      mailbox,
      entries.slice(0, 4).map((e) => e.messageId),
    );
    expect(out.acknowledged).toHaveLength(4);
    expect((await index.cursor(mailbox))?.acked).toEqual([
      entries[2]!.messageId,
      entries[3]!.messageId,
    ]);
    const kinds = (await index.scan(mailbox, { limit: 10 })).records.map((r) => r.kind);
    expect(kinds).toEqual(['tombstone', 'tombstone', 'message', 'message', 'message']);
    expect(await ids()).toEqual([entries[4]!.messageId]);
    // A retried send of a buried message is still a duplicate.
    expect(await log.store(mailbox, entries[0]!)).toBe(false);
  });

  it('counts both of two concurrent acknowledgements', async () => {
    const { clock, log, entry, ids } = setup();
    const [a, b] = [entry(clock.now), entry(clock.now + 1)];
    await log.store(mailbox, a);
    await log.store(mailbox, b);
    const [x, y] = await Promise.all([
      log.acknowledge(mailbox, [a.messageId]),
      log.acknowledge(mailbox, [b.messageId]),
    ]);
    expect(x.acknowledged.length + y.acknowledged.length).toBe(2);
    expect(await ids()).toEqual([]);
  });

  it('never lists expired messages and lets the watermark pass them', async () => {
    const { clock, index, log, entry, ids } = setup();
    const old = { ...entry(clock.now), expiresAt: clock.now + 10 * MINUTE };
    const live = entry(clock.now + 1);
    await log.store(mailbox, old);
    await log.store(mailbox, live);
    clock.now += 10 * MINUTE;
    expect(await ids()).toEqual([live.messageId]);
    const out = await log.acknowledge(mailbox, [old.messageId, live.messageId]);
    expect(out.acknowledged.map((m) => m.entry)).toEqual([live]);
    expect((await index.cursor(mailbox))?.watermark).toEqual(live.messageId);
  });

  it('acknowledges by point reads when many acknowledged records lie ahead', async () => {
    const { clock, index, log, entry, ids } = setup();
    const entries = Array.from({ length: 20 }, (_, i) => entry(clock.now + i));
    for (const e of entries) await log.store(mailbox, e);
    for (const e of entries.slice(0, 18)) await log.acknowledge(mailbox, [e.messageId]);
    const out = await log.acknowledge(mailbox, [entries[19]!.messageId, randomBytes(16)]);
    expect(out.acknowledged.map((m) => m.entry)).toEqual([entries[19]]);
    expect((await index.cursor(mailbox))?.acked).toHaveLength(19);
    expect(await ids()).toEqual([entries[18]!.messageId]);
  });

  it('holds the model property on the in-memory index', async () => {
    await mailboxLogProperty(new MemoryMessageIndex(), { runs: 150, maxOps: 40 });
    await mailboxLogProperty(new MemoryMessageIndex(), {
      runs: 100,
      maxOps: 120,
      maxAckedAhead: 512,
    });
  });
});
