/**
 * Fan-out and device-list repair (docs/SDK.md §Sending) against the in-process service, with a
 * `fetch` in front of it that records every request and can answer sends itself: on 409 the
 * client fetches the bundles of `missing` devices and drops `extra` ones, on 410 it fetches
 * fresh bundles of `stale` devices, and it retries with the same message id; after 3 repairs it
 * gives up. Copies to the own devices go through the identified route, without this device.
 *
 * Every device here looks like a device of an older client (the fetch removes `capabilities`
 * from bundles and device lists), so these are the per-device envelopes; the multi-recipient
 * path is in fanout-shared.test.ts.
 */

import { TestSealpost } from '@sealpost/testing';
import { describe, expect, it } from 'vitest';
import { DeviceMismatchError, SendFailedError } from '#sdk/client/errors.ts';
import { SealpostClient } from '#sdk/client/index.ts';
import { fromBase64Url } from '#sdk/util/bytes.ts';
import { messageIdTimestamp } from '#sdk/wire/api/message-id.ts';
import { errorResponse, intercept } from './fanout-net.ts';

async function setup() {
  const sealpost = await TestSealpost.start();
  const net = intercept(sealpost, { strip: () => true });
  const alice = await SealpostClient.register({ ...sealpost.clientOptions(), fetch: net.fetch });
  const bob = await sealpost.register();
  await alice.addContact(bob.contactCard());
  await bob.addContact(alice.contactCard());
  return { sealpost, net, alice, bob };
}

const texts = async (c: SealpostClient) => (await c.receiveBatch()).messages.map((m) => m.text);

describe('fan-out repair', () => {
  it('answers 409 with the missing bundles, 410 with fresh ones, and keeps the message id', async () => {
    const { sealpost, net, alice, bob } = await setup();
    await alice.send(bob.address, 'hello');
    expect(await texts(bob)).toEqual(['hello']);
    const phone = await sealpost.link(bob);
    await alice.send(bob.address, 'hello both');
    expect(await texts(bob)).toEqual(['hello both']);
    expect(await texts(phone)).toEqual(['hello both']);
    net.log.length = 0;
    net.sends.length = 0;

    net.fakes.push(
      () => errorResponse(409, { code: 'DEVICE_MISMATCH', missing: [2], extra: [] }),
      () => errorResponse(410, { code: 'STALE_DEVICES', stale: [1] }),
    );
    // Alice's list names both devices; the fake answers claim device 2 is new and device 1
    // was replaced, so she must fetch both bundles again, one repair at a time.
    const sent = await alice.send(bob.address, 'repaired');
    expect(sent.recipientDevices).toBe(2);
    const toBob = net.sends.filter((s) => s.path === `/v1/messages/${bob.address}`);
    expect(toBob).toHaveLength(3);
    expect(new Set(toBob.map((s) => s.messageId))).toEqual(new Set([sent.messageId]));
    // Sealed sends fetch through the sealed routes, authorized like the send.
    const bundleFetches = net.log.filter((l) => l.startsWith('GET /v1/sealed/bundles/'));
    expect(bundleFetches).toEqual([
      `GET /v1/sealed/bundles/${bob.address}/2`,
      `GET /v1/sealed/bundles/${bob.address}/1`,
    ]);
    expect(net.log.filter((l) => l.startsWith('GET /v1/bundles/'))).toEqual([]);
    // Each bundle fetch came right after the refusal it repairs.
    const sendsAndFetches = net.log.filter(
      (l) => l.startsWith('GET /v1/sealed/bundles/') || l === `PUT /v1/messages/${bob.address}`,
    );
    expect(sendsAndFetches).toEqual([
      `PUT /v1/messages/${bob.address}`,
      `GET /v1/sealed/bundles/${bob.address}/2`,
      `PUT /v1/messages/${bob.address}`,
      `GET /v1/sealed/bundles/${bob.address}/1`,
      `PUT /v1/messages/${bob.address}`,
    ]);
    expect(toBob.map((s) => s.devices)).toEqual([
      [1, 2],
      [1, 2],
      [1, 2],
    ]);
    expect(await texts(bob)).toEqual(['repaired']);
    expect(await texts(phone)).toEqual(['repaired']);
  });

  it('learns a new device from a real 409 and forgets a removed one', async () => {
    const { sealpost, net, alice, bob } = await setup();
    await alice.send(bob.address, 'one device');
    await bob.receiveBatch();
    const phone = await sealpost.link(bob);
    net.sends.length = 0;
    await alice.send(bob.address, 'two devices');
    expect(net.sends.map((s) => s.devices)).toEqual([[1], [1, 2]]);
    expect(await texts(phone)).toEqual(['two devices']);

    await bob.removeDevice(phone.deviceId);
    net.sends.length = 0;
    const sent = await alice.send(bob.address, 'one again');
    expect(sent.recipientDevices).toBe(1);
    expect(net.sends.map((s) => s.devices)).toEqual([[1, 2], [1]]);
    expect((await alice.knownDevices(bob.address)).map((d) => d.deviceId)).toEqual([1]);
    expect(await texts(bob)).toEqual(['two devices', 'one again']);
  });

  it('gives up with SendFailedError after 3 repairs, having stored nothing', async () => {
    const { net, alice, bob } = await setup();
    for (let i = 0; i < 4; i++) {
      net.fakes.push(() => errorResponse(409, { code: 'DEVICE_MISMATCH', missing: [], extra: [] }));
    }
    const err = await alice.send(bob.address, 'never').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SendFailedError);
    expect(err).toMatchObject({ code: 'SEND_FAILED', retryable: true });
    expect((err as SendFailedError).cause).toBeInstanceOf(DeviceMismatchError);
    expect(net.sends).toHaveLength(4);
    expect(new Set(net.sends.map((s) => s.messageId)).size).toBe(1);
    expect(net.fakes).toHaveLength(0);
    expect((await bob.receiveBatch()).messages).toEqual([]);
  });

  it('settles on the third repair', async () => {
    const { net, alice, bob } = await setup();
    for (let i = 0; i < 3; i++) {
      net.fakes.push(() => errorResponse(409, { code: 'DEVICE_MISMATCH', missing: [], extra: [] }));
    }
    await alice.send(bob.address, 'finally');
    expect(net.sends).toHaveLength(4);
    expect(await texts(bob)).toEqual(['finally']);
  });
});

describe('copies to the own devices', () => {
  it('go identified to every other own device, later, under an unrelated random id', async () => {
    const { sealpost, net, alice, bob } = await setup();
    const laptop = await SealpostClient.link({
      ...sealpost.clientOptions(),
      account: alice.exportAccountKey()!,
    });
    net.sends.length = 0;
    const sent = await alice.send(bob.address, 'with a copy');
    expect(sent).toEqual({ messageId: sent.messageId, recipientDevices: 1, sync: 'queued' });
    // The sealed send went out alone: the copy waits in the outbox.
    expect(net.sends).toEqual([
      { path: `/v1/messages/${bob.address}`, messageId: sent.messageId, devices: [1] },
    ]);
    expect(await alice.pendingSyncCopies()).toBe(1);
    expect((await laptop.receiveBatch()).messages).toEqual([]);

    expect(await alice.flushOutbox()).toEqual({ sent: 1, pending: 0, errors: [] });
    expect(net.sends.slice(1)).toEqual([
      {
        path: `/v1/messages/${alice.address}/identified`,
        messageId: expect.any(String),
        devices: [laptop.deviceId],
      },
    ]);
    // Random ids: no clock in either, nothing shared between the two requests.
    const ids = net.sends.map((s) => fromBase64Url(s.messageId));
    expect(ids[0]).not.toEqual(ids[1]);
    for (const id of ids) {
      expect(Math.abs(messageIdTimestamp(id) - sealpost.now())).toBeGreaterThan(60_000);
    }
    const copy = (await laptop.receiveBatch()).messages;
    expect(copy).toMatchObject([
      {
        text: 'with a copy',
        sync: { destination: bob.address },
        sealed: false,
        sender: { address: alice.address, deviceId: alice.deviceId },
      },
    ]);
    expect((await alice.http.fetchMessages()).messages).toEqual([]);
  });

  it('sends no copy when the account has no other device', async () => {
    const { net, alice, bob } = await setup();
    net.sends.length = 0;
    // The first copy reads the own device list and finds no other device: nothing goes out.
    expect(await alice.send(bob.address, 'alone')).toMatchObject({ sync: 'queued' });
    expect(await alice.flushOutbox()).toEqual({ sent: 1, pending: 0, errors: [] });
    // With the list read recently, nothing is queued at all.
    expect(await alice.send(bob.address, 'still alone')).toMatchObject({ sync: 'none' });
    expect(await alice.pendingSyncCopies()).toBe(0);
    expect(net.sends.map((s) => s.path)).toEqual([
      `/v1/messages/${bob.address}`,
      `/v1/messages/${bob.address}`,
    ]);
  });
});
