/** Contract of MessageIndex: every adapter must pass it. */
import { describe, expect, it } from 'vitest';
import { randomBytes } from '../../../functions/domain/crypto.ts';
import type { IndexEntry, MailboxRecord, MessageIndex } from '../../../functions/domain/ports.ts';
import { createMessageId } from '../../../sdk/wire/api/message-id.ts';
import { newAccount } from '../../unit/functions/fixtures.ts';

// Far ahead of the wall clock: DynamoDB Local runs TTL, and it would delete records whose `ttl`
// (derived from `expiresAt`) is already past while a test still reads them.
const NOW = 4_100_000_000_000;

function entry(t: number, extra: Partial<IndexEntry> = {}): IndexEntry {
  return {
    messageId: createMessageId(t, randomBytes(10)),
    receivedAt: NOW,
    expiresAt: NOW + 1000,
    size: 20,
    objectKey: `env/${t}`,
    ...extra,
  };
}

const message = (e: IndexEntry, position = e.messageId): MailboxRecord => ({
  kind: 'message',
  position,
  entry: e,
});

const newMailbox = () => ({ address: newAccount().address, deviceId: 1, registrationId: 7 });

export function messageIndexContract(name: string, make: () => Promise<MessageIndex>): void {
  describe(`MessageIndex contract: ${name}`, () => {
    it('stores a position once and scans oldest first with paging and ranges', async () => {
      const index = await make();
      const mailbox = newMailbox();
      const entries = [
        entry(NOW + 3),
        entry(NOW + 1, { objectKey: undefined, inline: randomBytes(20) }),
        entry(NOW + 2, { source: { address: newAccount().address, deviceId: 4 } }),
      ];
      for (const e of entries) expect(await index.insert(mailbox, message(e))).toBe(true);
      expect(await index.insert(mailbox, message(entries[0]!))).toBe(false);
      const sorted = [entries[1]!, entries[2]!, entries[0]!].map((e) => message(e));
      const all = await index.scan(mailbox, { limit: 10 });
      expect(all.records).toEqual(sorted);
      expect(all.more).toBe(false);
      expect(all.usage).toEqual({ count: 0, bytes: 0 });
      const first = await index.scan(mailbox, { limit: 2 });
      expect(first.records).toEqual(sorted.slice(0, 2));
      expect(first.more).toBe(true);
      expect(first.usage).toBeUndefined();
      const second = await index.scan(mailbox, { after: sorted[1]!.position, limit: 2 });
      expect(second.records).toEqual(sorted.slice(2));
      expect(second.more).toBe(false);
      const range = await index.scan(mailbox, {
        after: sorted[0]!.position,
        through: sorted[1]!.position,
        limit: 10,
      });
      expect(range.records).toEqual(sorted.slice(1, 2));
      expect(range.usage).toBeUndefined();
      const cut = await index.scan(mailbox, { through: sorted[2]!.position, limit: 1 });
      expect(cut.records).toEqual(sorted.slice(0, 1));
      expect(cut.more).toBe(true);
      expect((await index.scan({ ...mailbox, deviceId: 2 }, { limit: 10 })).records).toEqual([]);
      expect((await index.scan({ ...mailbox, registrationId: 8 }, { limit: 10 })).records).toEqual(
        [],
      );
    });

    it('keeps a late message at another position, with its redirect', async () => {
      const index = await make();
      const mailbox = newMailbox();
      const late = entry(NOW - 3_600_000);
      const target = createMessageId(NOW, randomBytes(10));
      const redirect: MailboxRecord = {
        kind: 'redirect',
        position: late.messageId,
        target,
        expiresAt: late.expiresAt,
      };
      expect(await index.insert(mailbox, redirect)).toBe(true);
      expect(await index.insert(mailbox, message(late, target))).toBe(true);
      expect(await index.get(mailbox, late.messageId)).toEqual(redirect);
      expect(await index.get(mailbox, target)).toEqual(message(late, target));
      expect(await index.get(mailbox, randomBytes(16))).toBeUndefined();
      expect((await index.scan(mailbox, { limit: 10 })).records).toEqual([
        redirect,
        message(late, target),
      ]);
      const moved = createMessageId(NOW + 1, randomBytes(10));
      expect(await index.retarget(mailbox, late.messageId, randomBytes(16), moved)).toBe(false);
      expect(await index.retarget(mailbox, late.messageId, target, moved)).toBe(true);
      expect(await index.get(mailbox, late.messageId)).toEqual({ ...redirect, target: moved });
    });

    it('replaces records with tombstones', async () => {
      const index = await make();
      const mailbox = newMailbox();
      const a = entry(NOW + 1);
      const b = entry(NOW + 2);
      await index.insert(mailbox, message(a));
      await index.insert(mailbox, message(b));
      await index.bury(mailbox, [a.messageId], NOW + 50);
      const tombstone = { kind: 'tombstone', position: a.messageId, expiresAt: NOW + 50 };
      expect((await index.scan(mailbox, { limit: 10 })).records).toEqual([tombstone, message(b)]);
      expect(await index.insert(mailbox, message(a))).toBe(false);
      expect(await index.get(mailbox, a.messageId)).toEqual(tombstone);
    });

    it('writes the cursor only over the revision it read', async () => {
      const index = await make();
      const mailbox = newMailbox();
      expect(await index.cursor(mailbox)).toBeUndefined();
      const acked = [
        createMessageId(NOW + 1, randomBytes(10)),
        createMessageId(NOW + 2, randomBytes(10)),
      ];
      expect(await index.saveCursor(mailbox, { acked, expiresAt: NOW + 5 }, 1)).toBe(false);
      expect(await index.saveCursor(mailbox, { acked, expiresAt: NOW + 5 }, 0)).toBe(true);
      expect(await index.cursor(mailbox)).toEqual({ acked, revision: 1, expiresAt: NOW + 5 });
      expect(await index.saveCursor(mailbox, { acked: [], expiresAt: NOW + 6 }, 0)).toBe(false);
      const watermark = acked[0]!;
      expect(await index.saveCursor(mailbox, { watermark, acked: [], expiresAt: NOW + 6 }, 1)).toBe(
        true,
      );
      expect(await index.cursor(mailbox)).toEqual({
        watermark,
        acked: [],
        revision: 2,
        expiresAt: NOW + 6,
      });
      expect((await index.scan(mailbox, { limit: 10 })).records).toEqual([]);
    });

    it('adds to, overwrites and reports the usage counter', async () => {
      const index = await make();
      const mailbox = newMailbox();
      expect(await index.usage(mailbox)).toBeUndefined();
      await index.addUsage(mailbox, { count: 10, bytes: 600 });
      await index.addUsage(mailbox, { count: -3, bytes: -100 });
      expect(await index.usage(mailbox)).toEqual({ count: 7, bytes: 500 });
      expect((await index.scan(mailbox, { limit: 10 })).usage).toEqual({ count: 7, bytes: 500 });
      await index.setUsage(mailbox, { count: 3, bytes: 7 });
      expect(await index.usage(mailbox)).toEqual({ count: 3, bytes: 7 });
    });
  });
}
