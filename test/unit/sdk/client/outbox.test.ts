/**
 * The sync-copy outbox (docs/SDK.md §Outbox): a copy is queued durably, sent by the timer after
 * a random delay from the configured range, retried with backoff, and sent after a restart.
 * The timer is a fake that records what was scheduled and fires only when the test says so.
 */

import { TestSealpost } from '@sealpost/testing';
import { describe, expect, it } from 'vitest';
import { type FetchLike, type OutboxTimer, SealpostClient } from '#sdk/client/index.ts';
import { FIRST_RETRY_DELAY_MS } from '#sdk/client/outbox.ts';
import { MemoryStore } from '#sdk/state/memory-store.ts';
import { ArgumentRangeError } from '#sdk/util/argument-errors.ts';

function fakeTimer() {
  const scheduled: { fire: () => void; delayMs: number; done: boolean }[] = [];
  const timer: OutboxTimer = (callback, delayMs) => {
    const entry = {
      delayMs,
      done: false,
      fire: () => {
        entry.done = true;
        callback();
      },
    };
    scheduled.push(entry);
    return () => {
      entry.done = true;
    };
  };
  /** Timers neither fired nor cancelled. */
  const live = () => scheduled.filter((e) => !e.done);
  return { timer, scheduled, live };
}

/** Identified sends to the own account fail with a 500 while `failing` is set. */
function flakySync(sealpost: TestSealpost) {
  const state = { failing: false, syncSends: 0 };
  const fetch: FetchLike = async (url, init) => {
    if (init.method === 'PUT' && new URL(url).pathname.endsWith('/identified')) {
      state.syncSends++;
      if (state.failing) {
        return new Response(JSON.stringify({ error: { code: 'INTERNAL', message: 'down' } }), {
          status: 500,
          headers: { 'content-type': 'application/json' },
        });
      }
    }
    return sealpost.fetch(url, init);
  };
  return { fetch, state };
}

async function setup(outbox: { minDelayMs?: number; maxDelayMs?: number } = {}) {
  const sealpost = await TestSealpost.start();
  const clock = fakeTimer();
  const net = flakySync(sealpost);
  const store = new MemoryStore();
  const options = {
    ...sealpost.clientOptions(store),
    fetch: net.fetch,
    outbox: { ...outbox, timer: clock.timer },
    // The token wallet's refills would share the fake timer; these tests count its timers.
    tokens: { autoRefill: false },
  };
  const alice = await SealpostClient.register(options);
  const laptop = await sealpost.link(alice);
  const bob = await sealpost.register();
  await alice.addContact(bob.contactCard());
  return { sealpost, clock, net, store, options, alice, laptop, bob };
}

const texts = async (c: SealpostClient) => (await c.receiveBatch()).messages.map((m) => m.text);

describe('the sync-copy outbox', () => {
  it('sends a copy when its timer fires, after a delay drawn from the range', async () => {
    const { sealpost, clock, alice, laptop, bob } = await setup({
      minDelayMs: 5_000,
      maxDelayMs: 9_000,
    });
    await alice.send(bob.address, 'one');
    expect(clock.live()).toHaveLength(1);
    const [first] = clock.live();
    expect(first!.delayMs).toBeGreaterThanOrEqual(5_000);
    expect(first!.delayMs).toBeLessThanOrEqual(9_000);
    expect(await texts(laptop)).toEqual([]);

    sealpost.advance(first!.delayMs);
    first!.fire();
    // flushOutbox runs after the timer's flush and finds nothing left.
    expect(await alice.flushOutbox()).toEqual({ sent: 0, pending: 0, errors: [] });
    expect(await texts(laptop)).toEqual(['one']);
    expect(await texts(bob)).toEqual(['one']);
    expect(clock.live()).toHaveLength(0);
  });

  it('draws a fresh delay per copy from the whole range', async () => {
    const { clock, alice, bob } = await setup({ minDelayMs: 0, maxDelayMs: 1_000_000 });
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      await alice.send(bob.address, `m${i}`);
      expect(clock.live()).toHaveLength(1);
      delays.push(clock.live()[0]!.delayMs);
      await alice.flushOutbox();
    }
    expect(new Set(delays).size).toBe(4);
    for (const d of delays) expect(d).toBeLessThanOrEqual(1_000_000);
  });

  it('keeps a failed copy with backoff and sends it on the next attempt', async () => {
    const { sealpost, clock, net, alice, laptop, bob } = await setup();
    await alice.send(bob.address, 'retry me');
    net.state.failing = true;
    const failed = await alice.flushOutbox();
    expect(failed).toMatchObject({ sent: 0, pending: 1 });
    expect(failed.errors).toHaveLength(1);
    expect(failed.errors[0]).toMatchObject({ code: 'INTERNAL' });
    expect(clock.live().map((e) => e.delayMs)).toEqual([FIRST_RETRY_DELAY_MS]);

    net.state.failing = false;
    sealpost.advance(FIRST_RETRY_DELAY_MS);
    clock.live()[0]!.fire();
    expect(await alice.flushOutbox()).toEqual({ sent: 0, pending: 0, errors: [] });
    expect(await texts(laptop)).toEqual(['retry me']);
  });

  it('sends what was queued before a restart', async () => {
    const { sealpost, clock, options, alice, laptop, bob } = await setup();
    await alice.send(bob.address, 'before the restart');
    alice.close();
    expect(clock.live()).toHaveLength(0);

    const reopened = await SealpostClient.open(options);
    expect(await reopened.pendingSyncCopies()).toBe(1);
    expect(clock.live()).toHaveLength(1);
    sealpost.advance(clock.live()[0]!.delayMs);
    clock.live()[0]!.fire();
    expect(await reopened.flushOutbox()).toEqual({ sent: 0, pending: 0, errors: [] });
    expect(await texts(laptop)).toEqual(['before the restart']);
  });

  it('queues nothing when the send fails', async () => {
    const { sealpost, alice, bob } = await setup();
    const stranger = await sealpost.register();
    // A message request with an empty token wallet fails before anything is sent.
    await expect(alice.send(stranger.address, 'nobody')).rejects.toMatchObject({
      code: 'NO_TOKENS',
    });
    expect(await alice.pendingSyncCopies()).toBe(0);
    await alice.send(bob.address, 'somebody');
    expect(await alice.pendingSyncCopies()).toBe(1);
  });

  it('refuses a delay range with min above max before registering anything', async () => {
    const sealpost = await TestSealpost.start();
    const requests: string[] = [];
    const fetch: FetchLike = (url, init) => {
      requests.push(`${init.method} ${new URL(url).pathname}`);
      return sealpost.fetch(url, init);
    };
    await expect(
      SealpostClient.register({
        ...sealpost.clientOptions(),
        fetch,
        outbox: { minDelayMs: 10, maxDelayMs: 5 },
      }),
    ).rejects.toBeInstanceOf(ArgumentRangeError);
    expect(requests).toEqual([]);
  });
});
