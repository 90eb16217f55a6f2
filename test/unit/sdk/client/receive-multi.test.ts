/**
 * Receiving multi-recipient messages through the client (docs/PROTOCOL.md §14.6, §14.7;
 * docs/SDK.md §Receiving), against the in-process service: the client fetches with
 * `payloads=1`, every device of the recipient opens its header with the shared payload, the
 * message is reportable and a report of it verifies like any other; a header that comes
 * without its payload, or a per-device envelope that comes with one, is unreadable,
 * acknowledged and reported to the app, and nothing of it is committed.
 */

import { TestSealpost } from '@sealpost/testing';
import { describe, expect, it } from 'vitest';
import { decodeContent } from '#sdk/client/content.ts';
import type { FetchLike, IncomingMessage, ReceiveFailure } from '#sdk/client/index.ts';
import { MalformedEnvelopeError } from '#sdk/errors.ts';
import { fromUtf8, toBase64Url } from '#sdk/util/bytes.ts';
import { sendPerDevice, sendShared } from './multi-fixtures.ts';

/** A `fetch` over the service that records request URLs and may rewrite fetch answers. */
function recording(sealpost: TestSealpost) {
  const urls: URL[] = [];
  const state: {
    rewrite?: ((body: { messages: Record<string, unknown>[] }) => void) | undefined;
    /** Answers acknowledgements without passing them on (the messages stay queued). */
    dropAcks?: boolean;
  } = {};
  const fetch: FetchLike = async (url, init) => {
    const parsed = new URL(url);
    urls.push(parsed);
    if (state.dropAcks && init.method === 'POST' && parsed.pathname === '/v1/messages/ack') {
      return new Response(JSON.stringify({ acknowledged: 0 }), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      });
    }
    const res = await sealpost.fetch(url, init);
    if (init.method !== 'GET' || parsed.pathname !== '/v1/messages' || !state.rewrite) return res;
    const body = (await res.json()) as { messages: Record<string, unknown>[] };
    state.rewrite(body);
    return new Response(JSON.stringify(body), {
      status: res.status,
      headers: { 'content-type': 'application/json' },
    });
  };
  return { fetch, urls, state };
}

/** Alice, and Bob with a second device; both of Bob's record their requests. */
async function setup() {
  const sealpost = await TestSealpost.start();
  const alice = await sealpost.register();
  const laptop = recording(sealpost);
  const bob = await sealpost.register({ fetch: laptop.fetch });
  const phone = recording(sealpost);
  const bobPhone = await sealpost.link(bob, { fetch: phone.fetch });
  await alice.addContact(bob.contactCard());
  await bob.addContact(alice.contactCard());
  // Sessions with both of Bob's devices, and their franking keys, come with a first send.
  await alice.send(bob.address, 'hello');
  await bob.receiveBatch();
  await bobPhone.receiveBatch();
  return { sealpost, alice, bob, bobPhone, laptop, phone };
}

const fetches = (urls: readonly URL[]) =>
  urls.filter((u) => u.pathname === '/v1/messages').map((u) => u.searchParams.get('payloads'));

describe('receiving a multi-recipient message', () => {
  it('every device of the recipient opens it, fetching with payloads=1', async () => {
    const { sealpost, alice, bob, bobPhone, laptop, phone } = await setup();
    await sendShared(sealpost, alice, bob, [bob, bobPhone], 'for both of you');

    for (const device of [bob, bobPhone]) {
      const { messages, failures } = await device.receiveBatch();
      expect(failures).toEqual([]);
      expect(messages.map((m) => [m.text, m.sender.address, m.sealed, m.reportable])).toEqual([
        ['for both of you', alice.address, true, true],
      ]);
      // Acknowledged: nothing comes again.
      expect((await device.receiveBatch()).messages).toEqual([]);
    }
    for (const { urls } of [laptop, phone]) {
      expect(fetches(urls).length).toBeGreaterThan(0);
      expect(fetches(urls).every((p) => p === '1')).toBe(true);
    }
  });

  it('comes through the receive loop like any other message', async () => {
    const { sealpost, alice, bob, bobPhone } = await setup();
    await sendShared(sealpost, alice, bob, [bob, bobPhone], 'streamed');
    const abort = new AbortController();
    const texts: string[] = [];
    for await (const m of bobPhone.receive({ signal: abort.signal, pollIntervalMs: 5 })) {
      texts.push(m.text ?? '');
      abort.abort();
    }
    expect(texts).toEqual(['streamed']);
    expect((await bobPhone.receiveBatch()).messages).toEqual([]);
  });

  it('is reported exactly like a per-device message (PROTOCOL.md §14.7)', async () => {
    const { sealpost, alice, bob, bobPhone } = await setup();
    await sendPerDevice(sealpost, alice, bob, [bob, bobPhone], 'before');
    await sendShared(sealpost, alice, bob, [bob, bobPhone], 'the bad one');
    const { messages } = await bob.receiveBatch();
    expect(messages.map((m) => m.text)).toEqual(['before', 'the bad one']);
    const bad = messages[1] as IncomingMessage;

    const report = await bob.report(bad, { reason: 'harassment', includePrevious: 1 });
    expect(report.duplicate).toBe(false);
    const stored = await sealpost.moderation.reports.get(report.reportId, sealpost.now());
    expect(stored).toMatchObject({
      reason: 'harassment',
      reporter: { address: bob.address, deviceId: bob.deviceId },
      sender: { address: alice.address, deviceId: alice.deviceId },
    });
    // The service verified the stamp and the commitment over the content the payload held,
    // and the per-device message before it alike.
    expect(stored?.messages.map((m) => fromUtf8(decodeContent(m.content).body))).toEqual([
      'the bad one',
      'before',
    ]);
    expect(toBase64Url(stored?.messages[0]?.messageId ?? new Uint8Array())).toBe(bad.id);
  });

  it('refuses a header delivered without its payload and commits nothing of it', async () => {
    const { sealpost, alice, bob, bobPhone, laptop } = await setup();
    await sendShared(sealpost, alice, bob, [bob, bobPhone], 'shared');
    laptop.state.rewrite = (body) => {
      for (const m of body.messages) delete m.payload;
    };
    laptop.state.dropAcks = true;
    const failures: ReceiveFailure[] = [];
    const batch = await bob.receiveBatch({ onFailure: (f) => failures.push(f) });
    expect(batch.messages).toEqual([]);
    expect(failures).toHaveLength(1);
    expect(failures[0]?.error).toBeInstanceOf(MalformedEnvelopeError);
    // Unreadable as delivered: acknowledged, so it would not come again.
    expect(failures[0]?.acknowledged).toBe(true);
    // Delivered again with its payload (the acknowledgement was held back): neither the
    // ratchet step nor the seen id was committed, so it opens now, once.
    laptop.state.rewrite = undefined;
    laptop.state.dropAcks = false;
    expect((await bob.receiveBatch()).messages.map((m) => m.text)).toEqual(['shared']);
    expect((await bob.receiveBatch()).messages).toEqual([]);
  });

  it('refuses a per-device envelope delivered with a payload and commits nothing of it', async () => {
    const { sealpost, alice, bob, bobPhone, laptop } = await setup();
    // A payload from a multi-recipient message, attached to a per-device message.
    await sendShared(sealpost, alice, bob, [bob, bobPhone], 'donor');
    const donor = (await bob.http.fetchMessages()).messages[0]?.payload;
    expect(donor).toBeDefined();
    await bob.receiveBatch();
    await sendPerDevice(sealpost, alice, bob, [bob, bobPhone], 'per device');
    laptop.state.rewrite = (body) => {
      for (const m of body.messages) m.payload = donor;
    };
    laptop.state.dropAcks = true;
    const { messages, failures } = await bob.receiveBatch();
    expect(messages).toEqual([]);
    expect(
      failures.map((f) => [f.error instanceof MalformedEnvelopeError, f.acknowledged]),
    ).toEqual([[true, true]]);
    // Delivered again as it was stored: it opens now, once.
    laptop.state.rewrite = undefined;
    laptop.state.dropAcks = false;
    expect((await bob.receiveBatch()).messages.map((m) => m.text)).toEqual(['per device']);
    expect((await bob.receiveBatch()).messages).toEqual([]);
  });
});
