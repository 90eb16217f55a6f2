/**
 * The test kit `@sealpost/testing` (the in-process service) and the client's receive semantics
 * that are easiest to drive there: the iterator's commit-on-next, handler failures,
 * duplicate suppression after a lost acknowledgement, prekey rotation and response checking.
 */

import { TestSealpost } from '@sealpost/testing';
import { describe, expect, it } from 'vitest';
import {
  ApiError,
  type IncomingMessage,
  InvalidResponseError,
  SealpostClient,
  SealpostHttpClient,
} from '#sdk/client/index.ts';
import { MemoryStore } from '#sdk/state/memory-store.ts';

const DAY = 86_400_000;

async function pair(sealpost: TestSealpost) {
  const alice = await sealpost.register();
  const bob = await sealpost.register();
  await alice.addContact(bob.contactCard());
  await bob.addContact(alice.contactCard());
  return { alice, bob };
}

describe('@sealpost/testing', () => {
  it('runs the documented example: two clients talk with no network', async () => {
    const sealpost = await TestSealpost.start();
    const { alice, bob } = await pair(sealpost);
    await alice.send(bob.address, 'hi Bob');
    const { messages } = await bob.receiveBatch();
    expect(messages.map((m) => m.text)).toEqual(['hi Bob']);
    expect(messages[0]?.sender.address).toBe(alice.address);
  });

  it('copies sends to the own other devices, repairs the own list, and is not rate-limited', async () => {
    // One identified send per pair: sync copies to the own account must not count.
    const sealpost = await TestSealpost.start({
      config: { identifiedSendRateLimit: { limit: 1, windowMs: 600_000 } },
    });
    const { alice, bob } = await pair(sealpost);
    const phone = await sealpost.link(alice);
    for (const t of ['one', 'two', 'three']) {
      expect(await alice.send(bob.address, t)).toMatchObject({
        recipientDevices: 1,
        sync: 'queued',
      });
    }
    expect(await alice.flushOutbox()).toEqual({ sent: 3, pending: 0, errors: [] });
    // Linked after the sender last read its device list: the service answers 409 `missing`.
    const tablet = await sealpost.link(alice);
    expect(await alice.send(bob.address, 'four')).toMatchObject({ recipientDevices: 1 });
    expect(await alice.flushOutbox()).toEqual({ sent: 1, pending: 0, errors: [] });
    expect((await alice.knownDevices(alice.address)).map((d) => d.deviceId)).toEqual([1, 2, 3]);

    const copies = await phone.receiveBatch();
    expect(copies.failures).toEqual([]);
    expect(copies.messages.map((m) => [m.text, m.sync?.destination, m.sealed])).toEqual(
      ['one', 'two', 'three', 'four'].map((t) => [t, bob.address, false]),
    );
    expect((await tablet.receiveBatch()).messages.map((m) => m.text)).toEqual(['four']);
    expect((await bob.receiveBatch()).messages).toHaveLength(4);
    expect((await alice.http.fetchMessages()).messages).toEqual([]);

    await alice.removeDevice(tablet.deviceId);
    await alice.send(bob.address, 'five');
    expect(await alice.flushOutbox()).toEqual({ sent: 1, pending: 0, errors: [] });
    expect((await phone.receiveBatch()).messages.map((m) => m.text)).toEqual(['five']);
  });

  it('reopens a registered store and keeps talking', async () => {
    const sealpost = await TestSealpost.start();
    const store = new MemoryStore();
    const alice = await sealpost.register({ store });
    const bob = await sealpost.register();
    await bob.addContact(alice.contactCard());
    await bob.send(alice.address, 'before restart');
    const reopened = await SealpostClient.open(sealpost.clientOptions(store));
    expect(reopened.address).toBe(alice.address);
    expect((await reopened.receiveBatch()).messages.map((m) => m.text)).toEqual(['before restart']);
    await expect(SealpostClient.open(sealpost.clientOptions())).rejects.toMatchObject({
      code: 'NOT_REGISTERED',
    });
  });

  it('commits an iterated message only when the next one is asked for', async () => {
    const sealpost = await TestSealpost.start();
    const { alice, bob } = await pair(sealpost);
    for (const t of ['a', 'b', 'c']) await alice.send(bob.address, t);
    const seen: string[] = [];
    const abort = new AbortController();
    for await (const m of bob.receive({ signal: abort.signal, pollIntervalMs: 10 })) {
      seen.push(m.text ?? '');
      if (m.text === 'b') break; // 'b' was not finished: it must come again
    }
    expect(seen).toEqual(['a', 'b']);
    const rest = await bob.receiveBatch();
    expect(rest.messages.map((m) => m.text)).toEqual(['b', 'c']);
  });

  it('keeps a message whose handler throws and delivers it once when the handler succeeds', async () => {
    const sealpost = await TestSealpost.start();
    const { alice, bob } = await pair(sealpost);
    await alice.send(bob.address, 'important');
    const failing = await bob.receiveBatch({
      onMessage: () => {
        throw new Error('disk full');
      },
    });
    expect(failing.messages).toEqual([]);
    expect(failing.failures).toMatchObject([{ acknowledged: false }]);
    const saved: IncomingMessage[] = [];
    const ok = await bob.receiveBatch({ onMessage: (m) => void saved.push(m) });
    expect(saved.map((m) => m.text)).toEqual(['important']);
    expect(ok.messages.map((m) => m.text)).toEqual(['important']);
    expect((await bob.receiveBatch()).messages).toEqual([]);
  });

  it('suppresses a message redelivered after its acknowledgement was lost', async () => {
    const sealpost = await TestSealpost.start();
    let dropAck = true;
    const lossy: typeof sealpost.fetch = async (url, init) => {
      if (dropAck && new URL(url).pathname === '/v1/messages/ack') {
        dropAck = false;
        throw new TypeError('connection reset');
      }
      return sealpost.fetch(url, init);
    };
    const alice = await sealpost.register();
    const bob = await SealpostClient.register({
      ...sealpost.clientOptions(),
      fetch: lossy,
    });
    await alice.addContact(bob.contactCard());
    await alice.send(bob.address, 'once');
    // The first ack attempt fails; the HTTP client retries it, so the batch still succeeds.
    expect((await bob.receiveBatch()).messages.map((m) => m.text)).toEqual(['once']);
    await alice.send(bob.address, 'twice?');
    const second = await bob.receiveBatch();
    expect(second.messages.map((m) => m.text)).toEqual(['twice?']);
    expect((await bob.receiveBatch()).messages).toEqual([]);
  });

  it('recognises an already processed message id when the server delivers it again', async () => {
    const sealpost = await TestSealpost.start();
    let failAcks = true;
    const noAck: typeof sealpost.fetch = async (url, init) => {
      if (failAcks && new URL(url).pathname === '/v1/messages/ack') {
        return new Response(JSON.stringify({ error: { code: 'INTERNAL', message: 'x' } }), {
          status: 500,
          headers: { 'content-type': 'application/json' },
        });
      }
      return sealpost.fetch(url, init);
    };
    const alice = await sealpost.register();
    const bob = await SealpostClient.register({ ...sealpost.clientOptions(), fetch: noAck });
    await alice.addContact(bob.contactCard());
    await alice.send(bob.address, 'exactly once');
    const saved: string[] = [];
    await expect(
      bob.receiveBatch({ onMessage: (m) => void saved.push(m.text ?? '') }),
    ).rejects.toBeInstanceOf(ApiError);
    failAcks = false;
    const again = await bob.receiveBatch({ onMessage: (m) => void saved.push(m.text ?? '') });
    expect(again.messages).toEqual([]);
    expect(saved).toEqual(['exactly once']);
    expect((await bob.http.fetchMessages()).messages).toEqual([]);
  });

  it('rotates the signed prekey on schedule and refills one-time keys', async () => {
    const sealpost = await TestSealpost.start();
    const bob = await sealpost.register({ prekeys: { threshold: 150 } });
    const fresh = await bob.maintainPrekeys();
    expect(fresh).toMatchObject({ rotated: false, uploadedOneTime: 100, count: { ec: 200 } });
    sealpost.advance(8 * DAY);
    const later = await bob.maintainPrekeys();
    expect(later.rotated).toBe(true);
    const alice = await sealpost.register();
    await alice.addContact(bob.contactCard());
    await alice.send(bob.address, 'after rotation');
    expect((await bob.receiveBatch()).messages.map((m) => m.text)).toEqual(['after rotation']);
  });

  it('refuses a response that does not match the API contract', async () => {
    const http = new SealpostHttpClient({
      baseUrl: 'http://sealpost.test',
      fetch: async () =>
        new Response(JSON.stringify({ status: 'ok', extra: 1 }), {
          headers: { 'content-type': 'application/json' },
        }),
    });
    await expect(http.health()).rejects.toBeInstanceOf(InvalidResponseError);
  });
});
