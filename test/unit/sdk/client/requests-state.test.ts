/**
 * Who counts as a contact (docs/SDK.md §Message requests), on the in-process service: a store
 * from before message requests keeps its conversations as contacts; a key update queued for an
 * account that is declined before it goes out is never sent; the own account's copies are
 * never requests; the checks of the accept and decline arguments.
 */
import { TestSealpost } from '@sealpost/testing';
import { describe, expect, it } from 'vitest';
import type { FetchLike } from '#sdk/client/http-client.ts';
import { SealpostClient } from '#sdk/client/index.ts';
import { MemoryStore } from '#sdk/state/memory-store.ts';
import { ArgumentRangeError, ArgumentTypeError } from '#sdk/util/argument-errors.ts';

async function friends() {
  const sealpost = await TestSealpost.start();
  const store = new MemoryStore();
  /** Refuse sends to these addresses (a delivery that fails). */
  const refuse = new Set<string>();
  const fetch: FetchLike = (url, init) => {
    const path = new URL(url).pathname;
    if (init.method === 'PUT' && [...refuse].some((a) => path.startsWith(`/v1/messages/${a}`))) {
      return Promise.resolve(
        new Response(JSON.stringify({ error: { code: 'UNAVAILABLE', message: 'down' } }), {
          status: 503,
          headers: { 'content-type': 'application/json' },
        }),
      );
    }
    return sealpost.fetch(url, init);
  };
  const options = { ...sealpost.clientOptions(store), fetch, retries: 0 };
  const bob = await SealpostClient.register(options);
  const alice = await sealpost.register();
  await alice.addContact(bob.contactCard());
  await bob.addContact(alice.contactCard());
  await alice.send(bob.address, 'hi');
  await bob.receiveBatch();
  return { sealpost, store, options, refuse, alice, bob };
}

describe('contacts and requests state', () => {
  it('counts the conversations of a store from before message requests as contacts', async () => {
    const { store, options, alice, bob } = await friends();
    bob.close();
    // What an older version left: no contact records and no mark.
    const ops = (await store.keys('meta'))
      .filter((k) => k.startsWith('accepted:') || k === 'requests')
      .map((key) => ({ ns: 'meta' as const, key, value: null }));
    expect(ops.length).toBe(2);
    await store.commit(ops);
    const reopened = await SealpostClient.open(options);
    expect(await reopened.isContact(alice.address)).toBe(true);
    await alice.send(bob.address, 'after the upgrade');
    const got = await reopened.receiveBatch();
    expect(got.messages.map((m) => [m.text, m.request])).toEqual([['after the upgrade', false]]);
    // Seeded once: a later decline holds across a reopen.
    await reopened.declineRequest(alice.address);
    reopened.close();
    const again = await SealpostClient.open(options);
    expect(await again.isContact(alice.address)).toBe(false);
    again.close();
  });

  it('never sends a queued key update to an account declined before it went out', async () => {
    const { refuse, alice, bob } = await friends();
    refuse.add(alice.address);
    const rotated = await bob.rotateAccessKey();
    expect(rotated.pending).toBe(1);
    refuse.clear();
    await bob.declineRequest(alice.address);
    const flushed = await bob.flushKeyUpdates();
    expect(flushed).toMatchObject({ sent: 0, pending: 0, errors: [] });
    expect(await alice.receiveBatch()).toEqual({ messages: [], failures: [] });
    bob.close();
  });

  it('never marks the own account a request, and checks its arguments', async () => {
    const { sealpost, alice, bob } = await friends();
    const phone = await sealpost.link(bob);
    await bob.send(alice.address, 'hello');
    await bob.flushOutbox();
    const copies = await phone.receiveBatch();
    expect(copies.messages.map((m) => [m.sync?.destination, m.request])).toEqual([
      [alice.address, false],
    ]);
    expect(await phone.isContact(bob.address)).toBe(true);
    await expect(bob.acceptRequest(bob.address)).rejects.toBeInstanceOf(ArgumentRangeError);
    await expect(bob.declineRequest(bob.address)).rejects.toBeInstanceOf(ArgumentRangeError);
    await expect(bob.acceptRequest('nope')).rejects.toBeInstanceOf(ArgumentTypeError);
    expect(() => bob.isContact('nope')).toThrow(ArgumentTypeError);
    await expect(bob.setFirstContact('everyone' as never)).rejects.toBeInstanceOf(
      ArgumentRangeError,
    );
    await expect(
      SealpostClient.register({
        ...sealpost.clientOptions(),
        unrestricted: true,
        firstContact: 'contacts',
      }),
    ).rejects.toBeInstanceOf(ArgumentRangeError);
    bob.close();
  });
});
