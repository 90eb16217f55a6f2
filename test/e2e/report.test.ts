/**
 * Reporting end to end through the in-process service (`@sealpost/testing`, the real app and
 * verifier over memory adapters; docs/SDK.md §Reporting, §Suspended senders): a recipient
 * reports a sealed message with an attachment and earlier messages of its sender, the service
 * verifies and stores it once; what cannot be reported is refused locally; records are the
 * receiving device's own, deleted with the conversation and pruned by age; a message delivered
 * without a stamp is dropped unseen; a suspended sender's messages are dropped, and a
 * revocation list that does not verify is ignored.
 */

import { TestSealpost } from '@sealpost/testing';
import { describe, expect, it } from 'vitest';
import { CONTENT_KIND_MESSAGE, decodeContent } from '#sdk/client/content.ts';
import {
  type FetchLike,
  type IncomingMessage,
  ReportUnavailableError,
  SealpostClient,
  SenderSuspendedError,
} from '#sdk/client/index.ts';
import { UnreportableMessageError } from '#sdk/errors.ts';
import { MemoryStore } from '#sdk/state/memory-store.ts';
import { fromBase64Url, fromUtf8, toBase64Url } from '#sdk/util/bytes.ts';

const DAY = 86_400_000;

async function contacts(...clients: SealpostClient[]) {
  for (const a of clients) {
    for (const b of clients) if (a !== b) await a.addContact(b.contactCard());
  }
}

/** A `fetch` that rewrites the JSON answers of one route. */
function rewriting(
  sealpost: TestSealpost,
  route: string,
  rewrite: (body: Record<string, unknown>) => unknown,
): FetchLike {
  return async (url, init) => {
    const res = await sealpost.fetch(url, init);
    if (`${init.method} ${new URL(url).pathname}` !== route || res.status !== 200) return res;
    const body = rewrite((await res.json()) as Record<string, unknown>);
    return new Response(JSON.stringify(body), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    });
  };
}

const texts = (messages: readonly IncomingMessage[]) => messages.map((m) => m.text);
const contentText = (content: Uint8Array) => {
  const frame = decodeContent(content);
  expect(frame.kind).toBe(CONTENT_KIND_MESSAGE);
  return fromUtf8(frame.body);
};

describe('reporting a received message', () => {
  it('reports a sealed message with an attachment and two earlier ones, once', async () => {
    const sealpost = await TestSealpost.start();
    const alice = await sealpost.register();
    const alicePhone = await sealpost.link(alice);
    const bob = await sealpost.register();
    await contacts(alice, bob);
    for (const t of ['one', 'two', 'three']) await alice.send(bob.address, t);
    const photo = crypto.getRandomValues(new Uint8Array(5_000));
    await alice.send(bob.address, {
      text: 'the bad one',
      attachments: [{ data: photo, contentType: 'image/png', fileName: 'x.png' }],
    });

    const { messages, failures } = await bob.receiveBatch();
    expect(failures).toEqual([]);
    expect(texts(messages)).toEqual(['one', 'two', 'three', 'the bad one']);
    expect(messages.every((m) => m.reportable && m.sealed)).toBe(true);
    const bad = messages[3] as IncomingMessage;
    expect(bad.attachments).toHaveLength(1);

    const first = await bob.report(bad, { reason: 'harassment', includePrevious: 2 });
    expect(first.duplicate).toBe(false);
    expect(fromBase64Url(first.reportId)).toHaveLength(16);
    const stored = await sealpost.moderation.reports.get(first.reportId, sealpost.now());
    expect(stored).toMatchObject({
      reason: 'harassment',
      reporter: { address: bob.address, deviceId: bob.deviceId },
      sender: { address: alice.address, deviceId: alice.deviceId },
    });
    // The reported message first, then the two received just before it.
    expect(stored?.messages.map((m) => contentText(m.content))).toEqual([
      'the bad one',
      'two',
      'three',
    ]);
    expect(toBase64Url(stored?.messages[0]?.messageId ?? new Uint8Array())).toBe(bad.id);
    // The operator can read the attachment's pointer (and so fetch and decrypt the blob).
    expect(
      decodeContent(stored?.messages[0]?.content ?? new Uint8Array()).attachments,
    ).toHaveLength(1);

    // The same report again, by id this time: the same report, stored once.
    const again = await bob.report(bad.id, { reason: 'harassment', includePrevious: 2 });
    expect(again).toEqual({ reportId: first.reportId, duplicate: true });

    // The own account's copy is not reportable; an unknown id has nothing to report with.
    await alice.flushOutbox();
    const copies = await alicePhone.receiveBatch();
    expect(copies.messages.map((m) => [m.text, m.reportable])).toEqual([
      ['one', false],
      ['two', false],
      ['three', false],
      ['the bad one', false],
    ]);
    await expect(
      alicePhone.report(copies.messages[0] as IncomingMessage, { reason: 'spam' }),
    ).rejects.toBeInstanceOf(ReportUnavailableError);
    const unknown = toBase64Url(crypto.getRandomValues(new Uint8Array(16)));
    await expect(bob.report(unknown, { reason: 'spam' })).rejects.toMatchObject({
      code: 'REPORT_UNAVAILABLE',
    });
    await expect(bob.report(bad, { reason: 'rude' as 'spam' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(bob.report(bad, { reason: 'spam', includePrevious: 6 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });

    // Deleting the conversation deletes what reports need.
    expect(await bob.deleteConversation(alice.address)).toBe(4);
    await expect(bob.report(bad, { reason: 'harassment' })).rejects.toBeInstanceOf(
      ReportUnavailableError,
    );
    expect(await bob.engine.store.keys('report')).toEqual([]);
  });

  it('keeps each device’s record to itself', async () => {
    const sealpost = await TestSealpost.start();
    const alice = await sealpost.register();
    const bob = await sealpost.register();
    const bobPhone = await sealpost.link(bob);
    await contacts(alice, bob);
    await alice.send(bob.address, 'to both of Bob');
    const [onLaptop] = (await bob.receiveBatch()).messages;
    const [onPhone] = (await bobPhone.receiveBatch()).messages;
    if (!onLaptop || !onPhone) throw new Error('a copy is missing');
    expect(onPhone.id).not.toBe(onLaptop.id);

    // The phone never saw the laptop's stamp or position: it cannot report that copy.
    await expect(bobPhone.report(onLaptop.id, { reason: 'spam' })).rejects.toBeInstanceOf(
      ReportUnavailableError,
    );
    const fromPhone = await bobPhone.report(onPhone, { reason: 'spam' });
    const fromLaptop = await bob.report(onLaptop, { reason: 'spam' });
    expect(fromPhone.duplicate).toBe(false);
    expect(fromLaptop.duplicate).toBe(false);
    expect(fromPhone.reportId).not.toBe(fromLaptop.reportId);
  });

  it('prunes records past the retention', async () => {
    const sealpost = await TestSealpost.start();
    const alice = await sealpost.register();
    const bob = await SealpostClient.register({
      ...sealpost.clientOptions(new MemoryStore()),
      reportRetentionDays: 1,
    });
    await contacts(alice, bob);
    await alice.send(bob.address, 'old');
    const [old] = (await bob.receiveBatch()).messages;
    if (!old) throw new Error('no message');
    expect(old.reportable).toBe(true);

    sealpost.advance(2 * DAY);
    await alice.send(bob.address, 'new');
    const [fresh] = (await bob.receiveBatch()).messages;
    if (!fresh) throw new Error('no message');
    // The batch pruned the old record: one record is left.
    expect(await bob.engine.store.keys('report')).toHaveLength(1);
    await expect(bob.report(old, { reason: 'spam' })).rejects.toBeInstanceOf(
      ReportUnavailableError,
    );
    await expect(bob.report(fresh, { reason: 'spam' })).resolves.toMatchObject({
      duplicate: false,
    });
  });

  it('refuses retention and size options out of range before registering', async () => {
    const sealpost = await TestSealpost.start();
    for (const bad of [{ reportRetentionDays: 181 }, { maxReportableMessages: 0 }]) {
      const store = new MemoryStore();
      await expect(
        SealpostClient.register({ ...sealpost.clientOptions(store), ...bad }),
      ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect(await store.keys('meta')).toEqual([]);
    }
  });
});

describe('moderator certificates', () => {
  it('survive a restart, and a device that lost them fetches them to send and to receive', async () => {
    const sealpost = await TestSealpost.start();
    const store = new MemoryStore();
    const alice = await sealpost.register({ store });
    const bob = await sealpost.register();
    await contacts(alice, bob);

    // Reopened over its store, Alice franks with no request for certificates.
    const requests: string[] = [];
    const counting: FetchLike = (url, init) => {
      requests.push(`${init.method} ${new URL(url).pathname}`);
      return sealpost.fetch(url, init);
    };
    const reopened = await SealpostClient.open({
      ...sealpost.clientOptions(store),
      fetch: counting,
    });
    expect(reopened.engine.moderatorKeys().length).toBeGreaterThan(0);
    await reopened.send(bob.address, 'after a restart');
    expect(requests).not.toContain('GET /v1/certificates/server');

    // Bob forgot the moderator keys: the message names an unknown key, the client fetches the
    // certificates once and opens it.
    await bob.engine.setModeratorCertificates([]);
    const got = await bob.receiveBatch();
    expect(got.failures).toEqual([]);
    expect(texts(got.messages)).toEqual(['after a restart']);

    // Alice forgot them too: the send fetches them before it franks.
    await reopened.engine.setModeratorCertificates([]);
    await reopened.send(bob.address, 'franked again');
    expect(requests.filter((r) => r === 'GET /v1/certificates/server')).toHaveLength(1);
    expect(texts((await bob.receiveBatch()).messages)).toEqual(['franked again']);
  });
});

describe('messages that could not be reported', () => {
  it('drops a message delivered without a stamp before the app sees it', async () => {
    const sealpost = await TestSealpost.start();
    const alice = await sealpost.register();
    const stripping = rewriting(sealpost, 'GET /v1/messages', (body) => ({
      ...body,
      messages: (body.messages as Record<string, unknown>[]).map(({ stamp: _s, ...m }) => m),
    }));
    const bob = await SealpostClient.register({
      ...sealpost.clientOptions(),
      fetch: stripping,
    });
    await contacts(alice, bob);
    await alice.send(bob.address, 'unstamped');
    const seen: IncomingMessage[] = [];
    const batch = await bob.receiveBatch({ onMessage: (m) => void seen.push(m) });
    expect(seen).toEqual([]);
    expect(batch.messages).toEqual([]);
    expect(batch.failures).toHaveLength(1);
    const failure = batch.failures[0];
    expect(failure?.acknowledged).toBe(true);
    expect(failure?.error).toBeInstanceOf(UnreportableMessageError);
    expect(failure?.error).toMatchObject({ reason: 'stamp' });
    expect(await bob.engine.store.keys('report')).toEqual([]);
  });
});

describe('suspended senders', () => {
  async function suspend(sealpost: TestSealpost, address: string) {
    const res = await sealpost.fetch(
      `${sealpost.baseUrl}/v1/moderation/accounts/${address}/suspension`,
      {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${sealpost.moderatorToken}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ reason: 'spam wave' }),
      },
    );
    expect(res.status).toBe(200);
  }

  it('drops what a listed account sends, and ignores a list that does not verify', async () => {
    const sealpost = await TestSealpost.start();
    const mallory = await sealpost.register();
    const carol = await sealpost.register();
    const bob = await sealpost.register();
    // Bob's twin device sees the list with a broken signature.
    const tampering = rewriting(sealpost, 'GET /v1/certificates/revocations', (body) => {
      const bytes = fromBase64Url(body.revocations as string);
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1;
      return { revocations: toBase64Url(bytes) };
    });
    const twin = await SealpostClient.link({
      ...sealpost.clientOptions(),
      fetch: tampering,
      account: bob.exportAccountKey() ?? (undefined as never),
    });
    await contacts(mallory, carol, bob);

    await mallory.send(bob.address, 'before the suspension');
    await suspend(sealpost, mallory.address);
    sealpost.advance(61_000); // past the list's cache in the service
    // Mallory's certificate is still valid: the service cannot refuse a sealed send.
    await mallory.send(bob.address, 'after the suspension');
    await carol.send(bob.address, 'from Carol');

    const seen: string[] = [];
    const batch = await bob.receiveBatch({ onMessage: (m) => void seen.push(m.text ?? '') });
    expect(seen).toEqual(['from Carol']);
    expect(texts(batch.messages)).toEqual(['from Carol']);
    // Received in the hour of the suspension or after: both are dropped, and acknowledged.
    expect(batch.failures.map((f) => [f.error.constructor, f.acknowledged])).toEqual([
      [SenderSuspendedError, true],
      [SenderSuspendedError, true],
    ]);
    expect(batch.failures[0]?.error).toMatchObject({ address: mallory.address });

    // The streaming receive checks the list too (its first page fetches it).
    const streaming = await SealpostClient.link({
      ...sealpost.clientOptions(),
      webSocket: false,
      account: bob.exportAccountKey() ?? (undefined as never),
    });
    await mallory.send(bob.address, 'to the new device');
    await carol.send(bob.address, 'to the new device too');
    const abort = new AbortController();
    const streamed: string[] = [];
    const streamFailures: Error[] = [];
    for await (const m of streaming.receive({
      signal: abort.signal,
      pollIntervalMs: 5,
      onFailure: (f) => streamFailures.push(f.error),
    })) {
      streamed.push(m.text ?? '');
      abort.abort();
    }
    expect(streamed).toEqual(['to the new device too']);
    expect(streamFailures.map((e) => e.constructor)).toEqual([SenderSuspendedError]);

    const onTwin = await twin.receiveBatch();
    expect(texts(onTwin.messages)).toEqual([
      'before the suspension',
      'after the suspension',
      'from Carol',
      'to the new device',
      'to the new device too',
    ]);
    expect(onTwin.failures).toEqual([]);
  });
});
