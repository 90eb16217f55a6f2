/**
 * Receiving multi-recipient messages through the app over the in-memory ports (docs/SERVICE.md
 * §7.2, §8.5): the header alone without `payloads=1`, each distinct payload read once with it;
 * `ack=` acknowledging before the read; the payload deleted with its last reference (by
 * acknowledgement or expiry) and never before, also when two devices acknowledge at once; a
 * record whose payload is gone deleted instead of delivered.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from '#functions/domain/crypto.ts';
import { MAX_FETCH_RESPONSE_BYTES } from '#functions/domain/message-service.ts';
import { fromBase64Url } from '#sdk/wire/api/codec.ts';
import { MAX_SHARED_PAYLOAD_CONTENT_BYTES } from '#sdk/wire/multi-recipient-payload.ts';
import { byKey, multiWorld, request, sharedPayload, target } from './multi-recipient-fixture.ts';

const DAY_MS = 86_400_000;

/** A world where one request reached Bob (2 devices) and Carol (3 devices). */
async function sentToBobAndCarol(options: Parameters<typeof multiWorld>[0] = {}) {
  const w = await multiWorld(options);
  const { payload } = sharedPayload();
  const accounts = [target(w.bob, byKey(w.bob)), target(w.carol, byKey(w.carol))];
  const res = await w.sendMulti(request(accounts, payload));
  if (res.status !== 200) throw new Error(`send: ${JSON.stringify(res.body)}`);
  return { w, payload, accounts, devices: [...w.bob.devices, ...w.carol.devices] };
}

describe('fetching multi-recipient messages', () => {
  it('gives the header alone without payloads=1 and reads no payload', async () => {
    const { w, accounts } = await sentToBobAndCarol();
    const store = w.h.ports.payloads;
    const get = store.get.bind(store);
    let reads = 0;
    store.get = (id) => {
      reads++;
      return get(id);
    };
    const bob1 = w.bob.devices[0]!;
    const [message] = await w.fetch(bob1);
    expect(fromBase64Url(message!.envelope)).toEqual(accounts[0]!.headers.get(1));
    expect(message!.payload).toBeUndefined();
    expect(message!.stamp).toBeDefined();
    expect(reads).toBe(0);
    // The message stays until acknowledged, and comes with its payload when asked.
    const [again] = await w.fetch(bob1, 'payloads=1');
    expect(again!.messageId).toBe(message!.messageId);
    expect(again!.payload).toBeDefined();
    expect(reads).toBe(1);
  });

  it('reads each distinct payload once per batch and leaves legacy messages without one', async () => {
    const w = await multiWorld();
    const payloads = [sharedPayload().payload, sharedPayload().payload];
    for (const payload of payloads) {
      await w.sendMulti(request([target(w.bob, byKey(w.bob))], payload));
    }
    await w.h.call({
      method: 'PUT',
      path: `/v1/messages/${w.bob.devices[0]!.account.address}`,
      json: {
        messageId: 'AAAAAAAAAAAAAAAAAAAAAA',
        envelopes: w.bob.devices.map((d) => ({ deviceId: d.deviceId, envelope: 'AQID' })),
      },
      headers: { 'x-sealpost-access-key': 'BwcHBwcHBwcHBwcHBwcHBw' },
    });
    const store = w.h.ports.payloads;
    const get = store.get.bind(store);
    const reads: string[] = [];
    store.get = (id) => {
      reads.push(Buffer.from(id).toString('hex'));
      return get(id);
    };
    const messages = await w.fetch(w.bob.devices[1]!, 'payloads=1');
    expect(messages.map((m) => m.payload && fromBase64Url(m.payload))).toEqual([
      payloads[0],
      payloads[1],
      undefined,
    ]);
    expect(reads).toHaveLength(2);
    expect(new Set(reads).size).toBe(2);
  });

  it('stops a page before its stored bytes pass the response cap and continues with the cursor', async () => {
    const w = await multiWorld();
    // 40 payloads of the largest content: 4.06 MB, more than the cap allows in one page.
    const sent: Uint8Array[] = [];
    for (let i = 0; i < 40; i++) {
      const { payload } = sharedPayload(randomBytes(MAX_SHARED_PAYLOAD_CONTENT_BYTES));
      const res = await w.sendMulti(request([target(w.bob, byKey(w.bob))], payload));
      expect(res.status).toBe(200);
      sent.push(payload);
    }
    const bob1 = w.bob.devices[0]!;
    const first = await w.h.call({ method: 'GET', path: '/v1/messages?payloads=1', signer: bob1 });
    expect(first.status).toBe(200);
    const page1 = first.body.messages as { payload: string; envelope: string }[];
    const bytes = page1.reduce(
      (n, m) => n + fromBase64Url(m.payload).length + fromBase64Url(m.envelope).length,
      0,
    );
    expect(page1.length).toBeGreaterThan(0);
    expect(page1.length).toBeLessThan(40);
    expect(bytes).toBeLessThanOrEqual(MAX_FETCH_RESPONSE_BYTES);
    expect(JSON.stringify(first.body).length).toBeLessThan(6_000_000);
    expect(first.body.cursor).toBeDefined();
    const rest = await w.fetch(bob1, `payloads=1&cursor=${first.body.cursor}`);
    expect([...page1, ...rest].map((m) => fromBase64Url(m.payload!))).toEqual(sent);
  });

  it('acknowledges the ids of ack= before the read, as POST /v1/messages/ack does', async () => {
    const w = await multiWorld();
    for (let i = 0; i < 3; i++) {
      await w.sendMulti(request([target(w.bob, byKey(w.bob))], sharedPayload().payload));
    }
    const bob1 = w.bob.devices[0]!;
    const first = await w.fetch(bob1, 'payloads=1');
    expect(first).toHaveLength(3);
    const acked = first.slice(0, 2).map((m) => m.messageId);
    const rest = await w.fetch(bob1, `payloads=1&ack=${acked.join(',')}`);
    expect(rest.map((m) => m.messageId)).toEqual([first[2]!.messageId]);
    // Bob's other device still references every payload.
    expect(w.stored()).toEqual({ records: 4, payloads: 3, sets: 3 });
    const twice = await w.h.call({
      method: 'GET',
      path: `/v1/messages?ack=${acked[0]},${acked[0]}`,
      signer: bob1,
    });
    expect(twice.status).toBe(400);
  });

  it('deletes the payload and its set with the last acknowledgement, and not before', async () => {
    const { w, devices } = await sentToBobAndCarol();
    const acked: string[] = [];
    for (const [i, device] of devices.entries()) {
      expect(w.stored().payloads).toBe(1);
      const [m] = await w.fetch(device, 'payloads=1');
      expect(m!.payload).toBeDefined();
      expect((await w.ack(device, [m!.messageId])).body.acknowledged).toBe(1);
      acked.push(m!.messageId);
      const left = devices.length - i - 1;
      expect(w.stored()).toEqual({ records: left, payloads: left ? 1 : 0, sets: left ? 1 : 0 });
    }
    // A repeated acknowledgement changes nothing.
    expect((await w.ack(devices[0]!, [acked[0]!])).body.acknowledged).toBe(0);
    expect(w.h.ports.index.dump().counters.every((c) => c.count === 0 && c.bytes === 0)).toBe(true);
  });

  it('releases the payload when expired records are deleted by a fetch', async () => {
    const { w, devices } = await sentToBobAndCarol();
    w.h.clock.now += 31 * DAY_MS;
    for (const [i, device] of devices.entries()) {
      expect(await w.fetch(device, 'payloads=1')).toEqual([]);
      const left = devices.length - i - 1;
      expect(w.stored()).toEqual({ records: left, payloads: left ? 1 : 0, sets: left ? 1 : 0 });
    }
  });

  it('deletes a record whose payload is gone instead of delivering it', async () => {
    const { w } = await sentToBobAndCarol();
    w.h.ports.payloads.objects.clear();
    const bob1 = w.bob.devices[0]!;
    expect(await w.fetch(bob1, 'payloads=1')).toEqual([]);
    expect(w.stored().records).toBe(4);
    const counter = w.h.ports.index.dump().counters.find((c) => c.count === 0);
    expect(counter?.bytes).toBe(0);
  });

  it('deletes the payload exactly once when the last two devices acknowledge at once', async () => {
    const { w, devices } = await sentToBobAndCarol();
    const store = w.h.ports.payloads;
    const last = devices.slice(-2);
    const ids = new Map<(typeof devices)[number], string>();
    for (const device of devices) ids.set(device, (await w.fetch(device))[0]!.messageId);
    for (const device of devices.slice(0, -2)) await w.ack(device, [ids.get(device)!]);

    let deletes = 0;
    const del = store.objects.delete.bind(store.objects);
    store.objects.delete = (key) => {
      if (store.objects.has(key)) deletes++;
      return del(key);
    };
    // Both releases wait until both acknowledgements deleted their records, then run.
    const release = store.release.bind(store);
    const exists: boolean[] = [];
    let arrived = 0;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    store.release = async (id, ref) => {
      if (++arrived === 2) open();
      await gate;
      expect(w.h.ports.index.dump().records).toEqual([]);
      // The in-memory release runs to its end when called: look right after it.
      const released = release(id, ref);
      exists.push(store.objects.size === 1);
      await released;
    };
    const answers = await Promise.all(last.map((d) => w.ack(d, [ids.get(d)!])));
    expect(answers.map((a) => a.body.acknowledged)).toEqual([1, 1]);
    expect(exists).toEqual([true, false]);
    expect(deletes).toBe(1);
    expect(w.stored()).toEqual({ records: 0, payloads: 0, sets: 0 });
  });

  it('counts header and payload against the quota and refuses a payload over it', async () => {
    const { payload } = sharedPayload(randomBytes(4000));
    const w = await multiWorld({ config: { mailboxMaxBytes: 993 + payload.length - 1 } });
    const res = await w.sendMulti(request([target(w.bob, byKey(w.bob))], payload));
    expect(res.status).toBe(429);
    expect(res.body.error.code).toBe('MAILBOX_FULL');
  });
});
