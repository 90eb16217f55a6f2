/**
 * Model-based property of the mailbox log (docs/SERVICE.md §7.2, §8.4), shared by
 * the in-memory unit test and the DynamoDB Local integration test: under any sequence of
 * sends (on time, skewed or late), retried sends, acknowledgements (with unknown and repeated
 * ids) and clock steps, a full read returns exactly the stored, unacknowledged messages, each
 * once; a retried send is always a duplicate; an acknowledgement counts exactly the messages
 * it hid.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { DEFAULT_CONFIG, type ServiceConfig } from '../../../../functions/domain/config.ts';
import { randomBytes } from '../../../../functions/domain/crypto.ts';
import { MailboxLog } from '../../../../functions/domain/mailbox-log.ts';
import type { IndexEntry, MessageIndex } from '../../../../functions/domain/ports.ts';
import { createMessageId } from '../../../../sdk/wire/api/message-id.ts';

const MINUTE = 60_000;

type Op =
  | { t: 'send'; offset: number }
  | { t: 'retry'; pick: number }
  | { t: 'ack'; picks: number[]; unknown: boolean; again: boolean }
  | { t: 'tick'; ms: number }
  | { t: 'page'; limit: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('send' as const),
      offset: fc.integer({ min: -8 * MINUTE, max: 5 * MINUTE }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('retry' as const), pick: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('ack' as const),
      picks: fc.array(fc.nat(), { minLength: 1, maxLength: 6 }),
      unknown: fc.boolean(),
      again: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('tick' as const),
      ms: fc.integer({ min: 0, max: 10 * MINUTE }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('page' as const),
      limit: fc.integer({ min: 1, max: 4 }),
    }),
  },
);

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Runs the property against fresh mailboxes of `index`. */
export async function mailboxLogProperty(
  index: MessageIndex,
  options: { runs: number; maxOps: number; maxAckedAhead?: number },
): Promise<void> {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: options.maxOps }), async (ops) => {
      // Ahead of the wall clock, so DynamoDB Local's TTL never removes a live record mid-run.
      const clock = { now: 4_100_000_000_000 };
      const config: ServiceConfig = {
        ...DEFAULT_CONFIG,
        maxAckedAhead: options.maxAckedAhead ?? 3,
      };
      const log = new MailboxLog(index, () => clock.now, randomBytes, config);
      const mailbox = { address: `m${hex(randomBytes(8))}`, deviceId: 1, registrationId: 1 };
      const sent: IndexEntry[] = [];
      const live = new Map<string, IndexEntry>();

      const readAll = async (limit: number) => {
        const seen: string[] = [];
        let from: Uint8Array | undefined;
        for (let pages = 0; pages < 200; pages++) {
          const page = await log.page(mailbox, {
            limit,
            now: clock.now,
            ...(from ? { from } : {}),
          });
          expect(page.messages.length).toBeLessThanOrEqual(limit);
          seen.push(...page.messages.map((m) => hex(m.entry.messageId)));
          if (!page.more) return seen;
          from = page.last;
        }
        throw new Error('paging did not end');
      };
      const check = async (limit: number) => {
        const seen = await readAll(limit);
        expect(new Set(seen).size).toBe(seen.length);
        expect(new Set(seen)).toEqual(new Set(live.keys()));
      };

      for (const o of ops) {
        if (o.t === 'send') {
          const e: IndexEntry = {
            messageId: createMessageId(clock.now + o.offset, randomBytes(10)),
            receivedAt: clock.now,
            expiresAt: clock.now + config.messageTtlMs,
            size: 10,
            objectKey: `k${sent.length}`,
          };
          expect(await log.store(mailbox, e)).toBe(true);
          sent.push(e);
          live.set(hex(e.messageId), e);
        } else if (o.t === 'retry' && sent.length > 0) {
          expect(await log.store(mailbox, sent[o.pick % sent.length]!)).toBe(false);
        } else if (o.t === 'ack' && sent.length > 0) {
          const ids = o.picks.map((p) => sent[p % sent.length]!.messageId);
          if (o.unknown) ids.push(randomBytes(16));
          const expected = new Set(ids.map(hex).filter((k) => live.has(k)));
          const out = await log.acknowledge(mailbox, ids);
          expect(new Set(out.acknowledged.map((m) => hex(m.entry.messageId)))).toEqual(expected);
          for (const k of expected) live.delete(k);
          if (o.again) expect((await log.acknowledge(mailbox, ids)).acknowledged).toEqual([]);
        } else if (o.t === 'tick') {
          clock.now += o.ms;
        } else if (o.t === 'page') {
          await check(o.limit);
        }
      }
      await check(100);
    }),
    { numRuns: options.runs },
  );
}
