/**
 * Blocking and access-key rotation end to end through the SDK on the in-process service
 * (`@sealpost/testing`; docs/SDK.md, "Blocking and access keys"): Alice blocks Bob while Carol
 * and Alice's second device keep up with the new key; a rotation alone; a sealed send that raced
 * a key update; and a rotation cut off after the service has the key, finished by the next run.
 */

import { TestSealpost } from '@sealpost/testing';
import { describe, expect, it } from 'vitest';
import {
  ApiError,
  BlockedContactError,
  SealedSendUnauthorizedError,
  SealpostClient,
} from '#sdk/client/index.ts';
import { MemoryStore } from '#sdk/state/memory-store.ts';
import { fromBase64Url, toBase64Url } from '#sdk/util/bytes.ts';

type Client = Awaited<ReturnType<TestSealpost['register']>>;

const texts = (b: { messages: { text: string | undefined }[] }) => b.messages.map((m) => m.text);

/** Each knows the other's key and holds a session both ways. */
async function befriend(a: Client, b: Client): Promise<void> {
  await a.addContact(b.contactCard());
  await b.addContact(a.contactCard());
  await a.send(b.address, `hi from ${a.address.slice(0, 4)}`);
  await b.receiveBatch();
  await b.send(a.address, `hi from ${b.address.slice(0, 4)}`);
  await a.receiveBatch();
}

/** A sealed send with exactly `key`, checked by the service before anything else. */
function sealedWith(from: Client, to: string, key: Uint8Array) {
  const messageId = toBase64Url(crypto.getRandomValues(new Uint8Array(16)));
  return from.http.sendSealed(
    to,
    { messageId, envelopes: [{ deviceId: 1, envelope: toBase64Url(new Uint8Array(64)) }] },
    { accessKey: key },
  );
}

describe('blocking', () => {
  it('drops a blocked sender, rotates the key past it, and keeps everyone else current', async () => {
    const sealpost = await TestSealpost.start();
    const alice = await sealpost.register();
    const phoneStore = new MemoryStore();
    const phone = await sealpost.link(alice, { store: phoneStore });
    const bob = await sealpost.register();
    const carol = await sealpost.register();
    await befriend(alice, bob);
    await befriend(alice, carol);
    const oldKey = fromBase64Url(alice.contactCard().accessKey);

    // Sent before the block, received after it: Alice's SDK drops it.
    await bob.send(alice.address, 'before the block');
    const flush = await alice.block(bob.address);
    expect(flush.errors).toEqual([]);
    // Carol, and the own account (the phone); never Bob.
    expect(flush).toMatchObject({ sent: 2, pending: 0 });
    expect(await alice.blocked()).toEqual([bob.address]);
    expect(alice.contactCard().accessKey).not.toBe(toBase64Url(oldKey));

    const afterBlock = await alice.receiveBatch();
    expect(afterBlock.messages).toEqual([]);
    expect(afterBlock.failures).toEqual([]);
    expect(alice.debugCounters().blockedDropped).toBe(1);
    expect((await alice.http.fetchMessages()).messages).toEqual([]);

    // Bob's sealed send is refused: he never got the new key, and the old one is dead.
    await expect(bob.send(alice.address, 'sealed?')).rejects.toBeInstanceOf(
      SealedSendUnauthorizedError,
    );
    await expect(sealedWith(bob, alice.address, oldKey)).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
    // His identified send is refused by the service, which knows the sender.
    const identified = bob.send(alice.address, 'identified?', { identified: true });
    await expect(identified).rejects.toBeInstanceOf(ApiError);
    await expect(identified).rejects.toMatchObject({ code: 'BLOCKED', status: 403 });
    // Alice's own sends to him are refused before anything is sent.
    await expect(alice.send(bob.address, 'oops')).rejects.toBeInstanceOf(BlockedContactError);
    await expect(alice.send(bob.address, 'oops')).rejects.toMatchObject({
      code: 'BLOCKED_CONTACT',
    });
    expect(await bob.receiveBatch()).toEqual({ messages: [], failures: [] });

    // Carol got the key update (never shown) and keeps sending sealed with the new key.
    const update = await carol.receiveBatch();
    expect(update).toEqual({ messages: [], failures: [] });
    await carol.send(alice.address, 'still here');
    const fromCarol = await alice.receiveBatch();
    expect(texts(fromCarol)).toEqual(['still here']);
    expect(fromCarol.messages[0]).toMatchObject({ sealed: true });

    // The phone learns the key (as the account's own) and the block list with it.
    const phoneBatch = await phone.receiveBatch();
    expect(phoneBatch.failures).toEqual([]);
    // What Bob and Carol wrote to the account; the key update itself is never a message.
    expect(phoneBatch.messages.map((m) => m.text)).toEqual([
      `hi from ${bob.address.slice(0, 4)}`,
      `hi from ${carol.address.slice(0, 4)}`,
      'before the block',
      'still here',
    ]);
    expect(phone.contactCard()).toEqual(alice.contactCard());
    expect(await phone.blocked()).toEqual([bob.address]);
    const reopened = await SealpostClient.open(sealpost.clientOptions(phoneStore));
    expect(reopened.contactCard()).toEqual(alice.contactCard());

    // Unblocked: identified at once; sealed once Alice wrote to him with the new key.
    await alice.unblock(bob.address);
    expect(await alice.blocked()).toEqual([]);
    await bob.send(alice.address, 'identified again', { identified: true });
    expect(texts(await alice.receiveBatch())).toEqual(['identified again']);
    await expect(bob.send(alice.address, 'sealed again?')).rejects.toBeInstanceOf(
      SealedSendUnauthorizedError,
    );
    await alice.send(bob.address, 'welcome back');
    expect(texts(await bob.receiveBatch())).toEqual(['welcome back']);
    await bob.send(alice.address, 'sealed again');
    expect((await alice.receiveBatch()).messages).toMatchObject([
      { text: 'sealed again', sealed: true },
    ]);
    // Unblocking rotated nothing.
    expect(alice.contactCard()).toEqual(phone.contactCard());
  });
});

describe('access key rotation', () => {
  it('refuses the old key at once while contacts keep working with the new one', async () => {
    const sealpost = await TestSealpost.start();
    const alice = await sealpost.register();
    const carol = await sealpost.register();
    const dave = await sealpost.register();
    await befriend(alice, carol);
    await befriend(alice, dave);
    const oldKey = fromBase64Url(alice.contactCard().accessKey);

    // Pending for Dave, sent before the rotation: it must reach his app after the retry below.
    await alice.send(dave.address, 'before the rotation');
    expect(await alice.rotateAccessKey()).toEqual({ sent: 3, pending: 0, errors: [] });
    const newKey = fromBase64Url(alice.contactCard().accessKey);
    expect(newKey).not.toEqual(oldKey);
    await expect(sealedWith(carol, alice.address, oldKey)).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
    await expect(sealedWith(carol, alice.address, newKey)).resolves.toMatchObject({
      duplicate: false,
    });
    await alice.http.ackMessages(
      (await alice.http.fetchMessages()).messages.map((m) => m.messageId),
    );

    await carol.receiveBatch();
    await carol.send(alice.address, 'from Carol');
    // Dave has not received the update: his first attempt is refused, the SDK finds the update
    // among his pending messages and sends again. The message for his app stays pending.
    await dave.send(alice.address, 'from Dave');
    expect(texts(await alice.receiveBatch())).toEqual(['from Carol', 'from Dave']);
    expect(texts(await dave.receiveBatch())).toEqual(['before the rotation']);
    expect(await dave.receiveBatch()).toEqual({ messages: [], failures: [] });
  });
});

describe('crash safety of a rotation', () => {
  it('finishes the deliveries of a rotation cut off after the service call, on the next run', async () => {
    const sealpost = await TestSealpost.start();
    let failSends = true;
    const flaky: typeof sealpost.fetch = async (url, init) => {
      const { pathname } = new URL(url);
      if (failSends && init?.method === 'PUT' && pathname.startsWith('/v1/messages/')) {
        throw new TypeError('fetch failed');
      }
      return sealpost.fetch(url, init);
    };
    const store = new MemoryStore();
    const alice = await sealpost.register({ store });
    const carol = await sealpost.register();
    await befriend(alice, carol);
    const oldKey = fromBase64Url(alice.contactCard().accessKey);

    const cut = await SealpostClient.open({
      ...sealpost.clientOptions(store),
      fetch: flaky,
      retries: 0,
    });
    const first = await cut.rotateAccessKey();
    // The service has the new key; the update for Carol failed and stays queued.
    expect(first.pending).toBe(1);
    expect(first.errors).toHaveLength(1);
    await expect(sealedWith(carol, alice.address, oldKey)).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
    expect(await carol.receiveBatch()).toEqual({ messages: [], failures: [] });
    cut.close();

    // The next run over the same store: the queue survived and goes out.
    failSends = false;
    const next = await SealpostClient.open(sealpost.clientOptions(store));
    expect(next.contactCard()).toEqual(cut.contactCard());
    expect(await next.pendingKeyUpdates()).toBe(1);
    expect(await next.flushKeyUpdates()).toEqual({ sent: 1, pending: 0, errors: [] });
    await carol.receiveBatch();
    await carol.send(alice.address, 'after the crash');
    expect(texts(await next.receiveBatch())).toEqual(['after the crash']);
  });

  it('gives the service the key first when the rotation could not, then delivers', async () => {
    const sealpost = await TestSealpost.start();
    let failSettings = true;
    const flaky: typeof sealpost.fetch = async (url, init) => {
      if (failSettings && new URL(url).pathname === '/v1/account/settings') {
        throw new TypeError('fetch failed');
      }
      return sealpost.fetch(url, init);
    };
    const store = new MemoryStore();
    const alice = await sealpost.register({ store });
    const carol = await sealpost.register();
    await befriend(alice, carol);
    const oldKey = fromBase64Url(alice.contactCard().accessKey);

    const cut = await SealpostClient.open({
      ...sealpost.clientOptions(store),
      fetch: flaky,
      retries: 0,
    });
    await expect(cut.rotateAccessKey()).rejects.toMatchObject({ code: 'NETWORK' });
    // Nothing was delivered while the service may not have the key.
    expect(await carol.receiveBatch()).toEqual({ messages: [], failures: [] });
    await expect(sealedWith(carol, alice.address, oldKey)).resolves.toBeDefined();
    cut.close();

    failSettings = false;
    const next = await SealpostClient.open(sealpost.clientOptions(store));
    expect(await next.flushKeyUpdates()).toEqual({ sent: 2, pending: 0, errors: [] });
    await expect(sealedWith(carol, alice.address, oldKey)).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
    await next.http.ackMessages((await next.http.fetchMessages()).messages.map((m) => m.messageId));
    await carol.receiveBatch();
    await carol.send(alice.address, 'new key');
    expect(texts(await next.receiveBatch())).toEqual(['new key']);
  });
});
