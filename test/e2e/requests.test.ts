/**
 * Message requests end to end through the SDK on the in-process service (`@sealpost/testing`;
 * docs/SDK.md §Message requests): two strangers start a sealed conversation paid with an
 * anonymous token; the recipient sees a request and its SDK sends the requester nothing until
 * it accepts (or replies); then both directions are sealed with access keys, on a second
 * device too. Also: a recipient that takes contacts only, declining, blocking and reporting a
 * request, an empty wallet, and the recipient's daily request limit.
 */

import { TestSealpost } from '@sealpost/testing';
import { describe, expect, it } from 'vitest';
import type { FetchLike } from '#sdk/client/http-client.ts';
import {
  NoTokensError,
  ReportUnavailableError,
  RequestLimitError,
  SealedSendUnauthorizedError,
  SealpostClient,
} from '#sdk/client/index.ts';
import { MemoryStore } from '#sdk/state/memory-store.ts';

type Start = Parameters<typeof TestSealpost.start>[0];

/** A test service whose requests are logged per client (method and path, never a body). */
async function world(options: Start = {}) {
  const sealpost = await TestSealpost.start(options);
  const logs = new Map<string, string[]>();
  const client = async (
    name: string,
    extra: { firstContact?: 'contacts' | 'requests' | 'anyone'; link?: SealpostClient } = {},
  ) => {
    const log: string[] = [];
    logs.set(name, log);
    const fetch: FetchLike = (url, init) => {
      log.push(`${init.method} ${new URL(url).pathname}`);
      return sealpost.fetch(url, init);
    };
    const base = { ...sealpost.clientOptions(new MemoryStore()), fetch };
    if (extra.link) {
      const account = extra.link.exportAccountKey();
      if (!account) throw new Error('not a primary device');
      return SealpostClient.link({ ...base, account });
    }
    return SealpostClient.register({
      ...base,
      ...(extra.firstContact ? { firstContact: extra.firstContact } : {}),
    });
  };
  const log = (name: string) => logs.get(name) ?? [];
  return { sealpost, client, log };
}

const texts = (b: { messages: { text: string | undefined }[] }) => b.messages.map((m) => m.text);

describe('message requests', () => {
  it('two strangers start a sealed conversation through a request', async () => {
    const { client, log } = await world();
    const alice = await client('alice');
    const bob = await client('bob');
    const bobPhone = await client('bobPhone', { link: bob });

    expect(await alice.tokenCount()).toBe(0);
    // A new account's daily quota (5) is smaller than a batch (10): the wallet takes what fits.
    expect(await alice.refillTokens()).toBe(5);
    log('alice').length = 0;

    const sent = await alice.send(bob.address, 'hello stranger');
    expect(sent.recipientDevices).toBe(2);
    expect(await alice.tokenCount()).toBe(4);
    // Sealed all the way: the bundles through the sealed route, the send without a signature
    // (one multi-recipient request for Bob's two devices, the token inside its body).
    expect(log('alice')).toEqual([
      `GET /v1/sealed/bundles/${bob.address}`,
      'PUT /v1/messages/multi',
    ]);
    // The service names no sender for it.
    const stored = await bob.http.fetchMessages();
    expect(stored.messages).toHaveLength(1);
    expect(stored.messages[0]!.source).toBeUndefined();

    const request = await bob.receiveBatch();
    expect(request.failures).toEqual([]);
    expect(request.messages).toHaveLength(1);
    expect(request.messages[0]).toMatchObject({
      text: 'hello stranger',
      sealed: true,
      request: true,
      sender: { address: alice.address },
    });
    expect(await bob.isContact(alice.address)).toBe(false);
    const onPhone = await bobPhone.receiveBatch();
    expect(onPhone.messages.map((m) => [m.text, m.request])).toEqual([['hello stranger', true]]);

    // Until Bob accepts, his SDK sends Alice nothing: not even the key update of a rotation.
    const rotated = await bob.rotateAccessKey();
    expect(rotated).toMatchObject({ sent: 1, pending: 0, errors: [] }); // his own account only
    expect(await bob.flushOutbox()).toMatchObject({ pending: 0 });
    expect(await bobPhone.flushOutbox()).toMatchObject({ pending: 0 });
    log('alice').length = 0;
    expect(await alice.receiveBatch()).toEqual({ messages: [], failures: [] });
    expect((await alice.http.fetchMessages()).messages).toEqual([]);
    // The phone picks up the new key from its own account.
    expect(await bobPhone.receiveBatch()).toEqual({ messages: [], failures: [] });

    // Bob accepts and answers: sealed with the access key Alice's message carried.
    await bob.acceptRequest(alice.address);
    expect(await bob.isContact(alice.address)).toBe(true);
    log('bob').length = 0;
    await bob.send(alice.address, 'hello Alice');
    // (The session came with her message: nothing to fetch.)
    expect(log('bob')).toEqual([`PUT /v1/messages/${alice.address}`]);
    await bob.flushOutbox();
    const reply = await alice.receiveBatch();
    expect(reply.messages.map((m) => [m.text, m.sealed, m.request])).toEqual([
      ['hello Alice', true, false],
    ]);
    // The sync copy made Alice a contact on the phone as well.
    const copy = await bobPhone.receiveBatch();
    expect(copy.messages.map((m) => m.sync?.destination)).toEqual([alice.address]);
    expect(await bobPhone.isContact(alice.address)).toBe(true);

    // From now on Alice writes with Bob's (new) access key: no token is spent.
    log('alice').length = 0;
    await alice.send(bob.address, 'and again');
    expect(await alice.tokenCount()).toBe(4);
    expect(log('alice')).toEqual(['PUT /v1/messages/multi']);
    for (const device of [bob, bobPhone]) {
      const again = await device.receiveBatch();
      expect(again.messages.map((m) => [m.text, m.sealed, m.request])).toEqual([
        ['and again', true, false],
      ]);
    }
    // And the phone answers sealed too.
    await bobPhone.send(alice.address, 'from the phone');
    expect((await alice.receiveBatch()).messages.map((m) => [m.text, m.sealed, m.request])).toEqual(
      [['from the phone', true, false]],
    );
  });

  it('a reply accepts the request', async () => {
    const { client } = await world();
    const alice = await client('alice');
    const bob = await client('bob');
    await alice.refillTokens();
    await alice.send(bob.address, 'hi');
    expect((await bob.receiveBatch()).messages[0]?.request).toBe(true);
    await bob.send(alice.address, 'hi yourself');
    expect(await bob.isContact(alice.address)).toBe(true);
    await alice.send(bob.address, 'how are you');
    const next = await bob.receiveBatch();
    expect(next.messages.map((m) => [m.text, m.request])).toEqual([['how are you', false]]);
    expect(texts(await alice.receiveBatch())).toEqual(['hi yourself']);
  });

  it('a recipient that takes contacts only refuses a request as a wrong access key', async () => {
    const { client, log } = await world();
    const alice = await client('alice');
    const carol = await client('carol', { firstContact: 'contacts' });
    await alice.refillTokens();
    const held = await alice.tokenCount();
    await expect(alice.send(carol.address, 'hi')).rejects.toBeInstanceOf(
      SealedSendUnauthorizedError,
    );
    // The token was taken for that message and is not reused for another.
    expect(await alice.tokenCount()).toBe(held - 1);
    expect(log('alice').filter((l) => l.startsWith('PUT /v1/messages/'))).toEqual([]);
    expect(await carol.receiveBatch()).toEqual({ messages: [], failures: [] });
    // The explicit identified route stays open.
    await alice.send(carol.address, 'identified hi', { identified: true });
    const got = await carol.receiveBatch();
    expect(got.messages.map((m) => [m.text, m.sealed, m.request])).toEqual([
      ['identified hi', false, true],
    ]);
  });

  it('the recipient can switch modes later', async () => {
    const { client } = await world();
    const alice = await client('alice');
    const bob = await client('bob');
    await alice.refillTokens();
    await bob.setFirstContact('contacts');
    await expect(alice.send(bob.address, 'no')).rejects.toBeInstanceOf(SealedSendUnauthorizedError);
    await bob.setFirstContact('requests');
    await alice.send(bob.address, 'yes');
    expect((await bob.receiveBatch()).messages.map((m) => m.request)).toEqual([true]);
  });

  it('declining forgets the conversation; later messages are requests again', async () => {
    const { client } = await world();
    const alice = await client('alice');
    const bob = await client('bob');
    await alice.refillTokens();
    await alice.send(bob.address, 'first');
    const [first] = (await bob.receiveBatch()).messages;
    expect(first?.request).toBe(true);
    await bob.acceptRequest(alice.address);
    expect(await bob.declineRequest(alice.address)).toBe(1);
    expect(await bob.isContact(alice.address)).toBe(false);
    // What a report needed is gone.
    await expect(bob.report(first!, { reason: 'spam' })).rejects.toBeInstanceOf(
      ReportUnavailableError,
    );
    await alice.send(bob.address, 'second');
    const second = await bob.receiveBatch();
    expect(second.messages.map((m) => [m.text, m.request])).toEqual([['second', true]]);
  });

  it('block and report work on a request', async () => {
    const { sealpost, client } = await world();
    const alice = await client('alice');
    const bob = await client('bob');
    await alice.refillTokens();
    await alice.send(bob.address, 'buy now');
    const [spam] = (await bob.receiveBatch()).messages;
    expect(spam?.request).toBe(true);
    const { reportId } = await bob.report(spam!, { reason: 'spam' });
    expect(reportId).toEqual(expect.any(String));
    expect(await sealpost.moderation.reports.get(reportId, sealpost.now())).toBeDefined();
    const flush = await bob.block(alice.address);
    expect(flush).toMatchObject({ sent: 1, errors: [] }); // his own account, never Alice
    expect(await alice.receiveBatch()).toEqual({ messages: [], failures: [] });
    // Another request of hers (a token spent) is dropped before Bob's app sees it.
    await alice.send(bob.address, 'buy now!!');
    expect(await bob.receiveBatch()).toEqual({ messages: [], failures: [] });
    expect(bob.debugCounters().blockedDropped).toBe(1);
  });

  it('a request with an empty wallet fails with NO_TOKENS and sends nothing', async () => {
    const { client, log } = await world();
    const alice = await client('alice');
    const bob = await client('bob');
    log('alice').length = 0;
    const failed = alice.send(bob.address, 'hi');
    await expect(failed).rejects.toBeInstanceOf(NoTokensError);
    await expect(failed).rejects.toMatchObject({ code: 'NO_TOKENS', retryable: true });
    expect(log('alice')).toEqual([]);
    expect(await bob.receiveBatch()).toEqual({ messages: [], failures: [] });
  });

  it("surfaces the recipient's daily request limit as RequestLimitError", async () => {
    const { client } = await world({ config: { requestsPerRecipientPerDay: 1 } });
    const alice = await client('alice');
    const dave = await client('dave');
    const bob = await client('bob');
    await alice.refillTokens();
    await dave.refillTokens();
    await alice.send(bob.address, 'one');
    const limited = dave.send(bob.address, 'two');
    await expect(limited).rejects.toBeInstanceOf(RequestLimitError);
    await expect(limited).rejects.toMatchObject({ code: 'REQUEST_LIMIT', recipient: bob.address });
    expect(texts(await bob.receiveBatch())).toEqual(['one']);
  });
});
