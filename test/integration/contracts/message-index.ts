/** Contract of MessageIndex: every adapter must pass it. */
import { describe, expect, it } from 'vitest';
import { randomBytes } from '../../../functions/domain/crypto.ts';
import type { IndexEntry, MessageIndex } from '../../../functions/domain/ports.ts';
import { createMessageId } from '../../../sdk/wire/api/message-id.ts';
import { newAccount } from '../../unit/functions/fixtures.ts';

const NOW = 1_750_000_000_000;

function entry(t: number, extra: Partial<IndexEntry> = {}): IndexEntry {
  const inline = randomBytes(20);
  return {
    messageId: createMessageId(t, randomBytes(10)),
    receivedAt: NOW,
    expiresAt: NOW + 1000,
    size: inline.length,
    inline,
    ...extra,
  };
}

export function messageIndexContract(name: string, make: () => Promise<MessageIndex>): void {
  describe(`MessageIndex contract: ${name}`, () => {
    it('stores an id once and lists oldest first with paging', async () => {
      const index = await make();
      const mailbox = { address: newAccount().address, deviceId: 1, registrationId: 7 };
      const entries = [
        entry(NOW + 3),
        entry(NOW + 1),
        entry(NOW + 2, {
          inline: undefined,
          objectKey: 'env/k',
          source: { address: newAccount().address, deviceId: 4 },
        }),
      ];
      for (const e of entries) expect(await index.put(mailbox, e)).toBe(true);
      expect(await index.put(mailbox, entries[0]!)).toBe(false);
      const sorted = [entries[1]!, entries[2]!, entries[0]!];
      const all = await index.list(mailbox, { limit: 10, now: NOW });
      expect(all.entries).toEqual(sorted);
      expect(all.more).toBe(false);
      const first = await index.list(mailbox, { limit: 2, now: NOW });
      expect(first.entries).toEqual(sorted.slice(0, 2));
      expect(first.more).toBe(true);
      expect(first.usage).toBeUndefined();
      const second = await index.list(mailbox, { limit: 2, after: first.last!, now: NOW });
      expect(second.entries).toEqual(sorted.slice(2));
      expect(second.more).toBe(false);
      const other = await index.list({ ...mailbox, deviceId: 2 }, { limit: 10, now: NOW });
      expect(other.entries).toEqual([]);
      const nextGeneration = await index.list(
        { ...mailbox, registrationId: 8 },
        { limit: 10, now: NOW },
      );
      expect(nextGeneration.entries).toEqual([]);
    });

    it('never lists expired entries but still pages past them', async () => {
      const index = await make();
      const mailbox = { address: newAccount().address, deviceId: 1, registrationId: 7 };
      const old = entry(NOW + 1, { expiresAt: NOW });
      const live = entry(NOW + 2);
      await index.put(mailbox, old);
      await index.put(mailbox, live);
      const page = await index.list(mailbox, { limit: 1, now: NOW });
      expect(page.entries).toEqual([]);
      expect(page.more).toBe(true);
      const next = await index.list(mailbox, { limit: 1, after: page.last!, now: NOW });
      expect(next.entries).toEqual([live]);
    });

    it('removes existing entries and reports exactly those', async () => {
      const index = await make();
      const mailbox = { address: newAccount().address, deviceId: 1, registrationId: 7 };
      const a = entry(NOW + 1);
      const b = entry(NOW + 2, { inline: undefined, objectKey: 'env/x' });
      await index.put(mailbox, a);
      await index.put(mailbox, b);
      const removed = await index.remove(mailbox, [b.messageId, randomBytes(16), a.messageId]);
      expect(removed.map((e) => e.objectKey ?? 'inline').sort()).toEqual(['env/x', 'inline']);
      expect(await index.remove(mailbox, [a.messageId])).toEqual([]);
      expect((await index.list(mailbox, { limit: 10, now: NOW })).entries).toEqual([]);
    });

    it('keeps the usage counter within its limit', async () => {
      const index = await make();
      const mailbox = { address: newAccount().address, deviceId: 1, registrationId: 7 };
      const limit = { count: 2, bytes: 100 };
      expect(await index.reserve(mailbox, { count: 1, bytes: 60 }, limit)).toBe(true);
      expect(await index.reserve(mailbox, { count: 1, bytes: 60 }, limit)).toBe(false);
      expect(await index.reserve(mailbox, { count: 1, bytes: 40 }, limit)).toBe(true);
      expect(await index.reserve(mailbox, { count: 1, bytes: 0 }, limit)).toBe(false);
      expect((await index.list(mailbox, { limit: 10, now: NOW })).usage).toEqual({
        count: 2,
        bytes: 100,
      });
      await index.release(mailbox, { count: 1, bytes: 40 });
      expect((await index.list(mailbox, { limit: 10, now: NOW })).usage).toEqual({
        count: 1,
        bytes: 60,
      });
      await index.release(mailbox, { count: 5, bytes: 500 });
      expect((await index.list(mailbox, { limit: 10, now: NOW })).usage).toEqual({
        count: 0,
        bytes: 0,
      });
      await index.setUsage(mailbox, { count: 3, bytes: 7 });
      expect((await index.list(mailbox, { limit: 10, now: NOW })).usage).toEqual({
        count: 3,
        bytes: 7,
      });
    });
  });
}
