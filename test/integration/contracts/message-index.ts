/** Contract of MessageIndex: every adapter must pass it. */
import { describe, expect, it } from 'vitest';
import { randomBytes } from '#functions/domain/crypto.ts';
import { encodePosition } from '#functions/domain/mailbox-positions.ts';
import type { Mailbox, MessageIndex, Reservation, StoredMessage } from '#functions/domain/ports.ts';
import { newAccount } from '../../unit/functions/fixtures.ts';

// Far ahead of the wall clock, in whole hours: DynamoDB Local runs TTL, and it would delete
// records whose `ttl` is already past while a test still reads them.
const HOUR = 3_600_000;
const NOW = 1_138_889 * HOUR;

const newMailbox = (): Mailbox => ({
  address: newAccount().address,
  deviceId: 1,
  registrationId: 7,
});

const reservation = (extra: Partial<Reservation> = {}): Reservation => ({
  retryKey: randomBytes(16),
  random: randomBytes(8),
  size: 100,
  maxMessages: 10,
  maxBytes: 10_000,
  ...extra,
});

function record(position: Uint8Array, extra: Partial<StoredMessage> = {}): StoredMessage {
  return { position, receivedAt: NOW, expiresAt: NOW + 24 * HOUR, size: 20, ...extra };
}

export function messageIndexContract(name: string, make: () => Promise<MessageIndex>): void {
  describe(`MessageIndex contract: ${name}`, () => {
    it('assigns increasing sequence numbers and answers a retry of the last store with its position', async () => {
      const index = await make();
      const mailbox = newMailbox();
      const first = reservation();
      const a = await index.reserve(mailbox, first);
      // A new store counts itself: 1 is a message into an empty mailbox.
      expect(a).toEqual({ kind: 'new', seq: 1n, random: first.random, count: 1 });
      const second = reservation();
      expect(await index.reserve(mailbox, second)).toEqual({
        kind: 'new',
        seq: 2n,
        random: second.random,
        count: 2,
      });
      // The same request again, with other random bytes: the stored tail comes back.
      expect(await index.reserve(mailbox, { ...second, random: randomBytes(8) })).toEqual({
        kind: 'retry',
        seq: 2n,
        random: second.random,
      });
      // Only the last store is recognised; an older request gets a new position.
      expect(await index.reserve(mailbox, { ...first, random: randomBytes(8) })).toMatchObject({
        kind: 'new',
        seq: 3n,
        count: 3,
      });
      // Another mailbox has its own sequence and count.
      expect(await index.reserve({ ...mailbox, registrationId: 8 }, reservation())).toMatchObject({
        kind: 'new',
        seq: 1n,
        count: 1,
      });
    });

    it('counts a store with the messages still pending: 1 again once every one was released', async () => {
      const index = await make();
      const mailbox = newMailbox();
      expect(await index.reserve(mailbox, reservation())).toMatchObject({ kind: 'new', count: 1 });
      expect(await index.reserve(mailbox, reservation())).toMatchObject({ kind: 'new', count: 2 });
      await index.release(mailbox, { count: 1, bytes: 100 });
      expect(await index.reserve(mailbox, reservation())).toMatchObject({ kind: 'new', count: 2 });
      // Every message acknowledged: the next store finds the mailbox empty, its sequence goes on.
      await index.release(mailbox, { count: 2, bytes: 200 });
      expect(await index.reserve(mailbox, reservation())).toMatchObject({
        kind: 'new',
        seq: 4n,
        count: 1,
      });
      // A reconciled count (a full read found none pending) is counted from too.
      await index.reconcile(mailbox, 4n, { count: 0, bytes: 0 });
      expect(await index.reserve(mailbox, reservation())).toMatchObject({
        kind: 'new',
        seq: 5n,
        count: 1,
      });
    });

    it('refuses a store that would pass the message or byte quota, exactly', async () => {
      const index = await make();
      const mailbox = newMailbox();
      const limits = { maxMessages: 3, maxBytes: 250 };
      expect((await index.reserve(mailbox, reservation({ ...limits, size: 100 }))).kind).toBe(
        'new',
      );
      expect((await index.reserve(mailbox, reservation({ ...limits, size: 151 }))).kind).toBe(
        'full',
      );
      expect((await index.reserve(mailbox, reservation({ ...limits, size: 150 }))).kind).toBe(
        'new',
      );
      expect((await index.reserve(mailbox, reservation({ ...limits, size: 0 }))).kind).toBe('new');
      expect((await index.reserve(mailbox, reservation({ ...limits, size: 0 }))).kind).toBe('full');
      await index.release(mailbox, { count: 1, bytes: 100 });
      const last = await index.reserve(mailbox, reservation({ ...limits, size: 100 }));
      // A refused store takes no sequence number.
      expect(last).toMatchObject({ kind: 'new', seq: 4n });
    });

    it('writes a record once and lists records in position order with paging and the counter', async () => {
      const index = await make();
      const mailbox = newMailbox();
      const positions = [1n, 2n, 256n, 65_536n].map((seq) => encodePosition(seq, randomBytes(8)));
      const records = [
        record(positions[0]!, { inline: randomBytes(20) }),
        record(positions[1]!, { source: { address: newAccount().address, deviceId: 4 } }),
        record(positions[2]!),
        record(positions[3]!, { size: 5 }),
      ];
      for (let i = 0; i < 4; i++) await index.reserve(mailbox, reservation({ size: 10 }));
      for (const r of [...records].reverse()) expect(await index.put(mailbox, r)).toBe(true);
      expect(await index.put(mailbox, records[0]!)).toBe(false);
      const all = await index.list(mailbox, { limit: 10 });
      expect(all).toEqual({ records, more: false, counter: { seq: 4n, count: 4, bytes: 40 } });
      const first = await index.list(mailbox, { limit: 2 });
      expect(first).toEqual({ records: records.slice(0, 2), more: true });
      const second = await index.list(mailbox, { after: positions[1]!, limit: 2 });
      expect(second.records).toEqual(records.slice(2));
      expect(second.more).toBe(false);
      expect((await index.list({ ...mailbox, deviceId: 2 }, { limit: 10 })).records).toEqual([]);
    });

    it('removes records, returning only those that existed, and keeps the counter', async () => {
      const index = await make();
      const mailbox = newMailbox();
      const a = record(encodePosition(1n, randomBytes(8)), { size: 30 });
      const b = record(encodePosition(2n, randomBytes(8)), { inline: randomBytes(5), size: 5 });
      await index.reserve(mailbox, reservation({ size: 30 }));
      await index.reserve(mailbox, reservation({ size: 5 }));
      await index.put(mailbox, a);
      await index.put(mailbox, b);
      expect(await index.remove(mailbox, [b.position, randomBytes(16)])).toEqual([b]);
      expect(await index.remove(mailbox, [b.position])).toEqual([]);
      await index.release(mailbox, { count: 1, bytes: 5 });
      expect(await index.list(mailbox, { limit: 10 })).toEqual({
        records: [a],
        more: false,
        counter: { seq: 2n, count: 1, bytes: 30 },
      });
    });

    it('reconciles the usage only if no store took a position since the read', async () => {
      const index = await make();
      const mailbox = newMailbox();
      await index.reserve(mailbox, reservation({ size: 30 }));
      expect(await index.reconcile(mailbox, 0n, { count: 0, bytes: 0 })).toBe(false);
      expect(await index.reconcile(mailbox, 1n, { count: 0, bytes: 0 })).toBe(true);
      expect((await index.list(mailbox, { limit: 10 })).counter).toEqual({
        seq: 1n,
        count: 0,
        bytes: 0,
      });
    });
  });
}
