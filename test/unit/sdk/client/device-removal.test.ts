/**
 * A removed device keeps its sender certificate and the service still stores its sealed sends
 * (they are unsigned), so the recipient decides (docs/SDK.md §Device removal): a device it
 * knows is removed is refused at once, a device it has never seen is checked against the
 * service's device list, and no sender ever adds itself to a contact's device list.
 */

import { TestSealpost } from '@sealpost/testing';
import { describe, expect, it } from 'vitest';
import {
  AccountKeyRequiredError,
  DeviceRemovedError,
  type FetchLike,
  SealpostClient,
} from '#sdk/client/index.ts';
import type { DeviceChange } from '#sdk/protocol/engine.ts';

const ids = async (c: SealpostClient, address: string) =>
  (await c.knownDevices(address)).map((d) => d.deviceId);
const texts = async (c: SealpostClient) => (await c.receiveBatch()).messages.map((m) => m.text);

/** A `fetch` that answers device-list reads (sealed or signed) with 429 while `limited` is set. */
function rateLimitedLists(sealpost: TestSealpost) {
  const state = { limited: false, reads: 0 };
  const fetch: FetchLike = async (url, init) => {
    const path = new URL(url).pathname;
    if (
      init.method === 'GET' &&
      /^\/v1\/(accounts\/[^/]+\/devices|sealed\/devices\/[^/]+)$/.test(path)
    ) {
      state.reads++;
      if (state.limited) {
        return new Response(
          JSON.stringify({ error: { code: 'RATE_LIMITED', message: 'slow down' } }),
          { status: 429, headers: { 'content-type': 'application/json' } },
        );
      }
    }
    return sealpost.fetch(url, init);
  };
  return { fetch, state };
}

async function setup() {
  const sealpost = await TestSealpost.start();
  const lists = rateLimitedLists(sealpost);
  const changes: DeviceChange[] = [];
  const alice = await sealpost.register();
  const phone = await sealpost.link(alice);
  const bob = await SealpostClient.register({
    ...sealpost.clientOptions(),
    fetch: lists.fetch,
    onDeviceChange: (c) => changes.push(c),
  });
  for (const a of [alice, phone]) await a.addContact(bob.contactCard());
  await bob.addContact(alice.contactCard());
  return { sealpost, lists, changes, alice, phone, bob };
}

describe('messages from removed devices', () => {
  it('refuses a device the contact has never seen once the service no longer lists it', async () => {
    const { alice, phone, bob } = await setup();
    await alice.send(bob.address, 'from the laptop');
    expect(await texts(bob)).toEqual(['from the laptop']);
    // The phone has a session with Bob (it sent before the removal) and a cached certificate.
    await phone.send(bob.address, 'sent before the removal');
    await alice.removeDevice(phone.deviceId);
    await phone.send(bob.address, 'sent after the removal');

    const batch = await bob.receiveBatch();
    expect(batch.messages).toEqual([]);
    expect(batch.failures.map((f) => [f.error.constructor, f.acknowledged])).toEqual([
      [DeviceRemovedError, true],
      [DeviceRemovedError, true],
    ]);
    expect(batch.failures[0]?.error).toMatchObject({
      code: 'DEVICE_REMOVED',
      address: alice.address,
      deviceId: phone.deviceId,
    });
    expect(await ids(bob, alice.address)).toEqual([alice.deviceId]);
    expect((await bob.http.fetchMessages()).messages).toEqual([]);
  });

  it('refuses a device it knew, at once, after learning of the removal from a 409', async () => {
    const { alice, phone, bob } = await setup();
    await bob.send(alice.address, 'hi both');
    expect(await texts(phone)).toEqual(['hi both']);
    await phone.send(bob.address, 'from the phone');
    expect(await texts(bob)).toEqual(['from the phone']);
    expect(await ids(bob, alice.address)).toEqual([1, 2]);

    await alice.removeDevice(phone.deviceId);
    // Bob's next send is answered 409 extra [2]: from then on the phone is a removed device.
    expect(await bob.send(alice.address, 'only the laptop now')).toMatchObject({
      recipientDevices: 1,
    });
    await phone.send(bob.address, 'still me?');
    const batch = await bob.receiveBatch();
    expect(batch.messages).toEqual([]);
    expect(batch.failures).toHaveLength(1);
    expect(batch.failures[0]).toMatchObject({ acknowledged: true });
    expect(batch.failures[0]?.error).toBeInstanceOf(DeviceRemovedError);
    // The refused message did not put the phone back on Bob's list.
    expect(await ids(bob, alice.address)).toEqual([1]);
    expect(await bob.send(alice.address, 'still one device')).toMatchObject({
      recipientDevices: 1,
    });
  });

  it('accepts a new device the service lists, records it, and announces it as verified', async () => {
    const { changes, alice, phone, bob } = await setup();
    await alice.send(bob.address, 'laptop');
    await bob.receiveBatch();
    await bob.markVerified(alice.address);
    await phone.send(bob.address, 'phone');
    const batch = await bob.receiveBatch();
    expect(batch.messages.map((m) => m.text)).toEqual(['phone']);
    expect(batch.messages[0]?.deviceChange).toMatchObject({
      kind: 'added',
      peer: { address: alice.address, deviceId: phone.deviceId },
      verifiedContact: true,
    });
    expect(changes.map((c) => [c.kind, c.peer.deviceId])).toEqual([['added', phone.deviceId]]);
    expect(await ids(bob, alice.address)).toEqual([1, 2]);
  });

  it('leaves the message on the server while the device list cannot be read', async () => {
    const { lists, alice, phone, bob } = await setup();
    await alice.send(bob.address, 'laptop');
    await bob.receiveBatch();
    await phone.send(bob.address, 'phone');
    lists.state.limited = true;
    const held = await bob.receiveBatch();
    expect(held.messages).toEqual([]);
    expect(held.failures).toHaveLength(1);
    expect(held.failures[0]).toMatchObject({ acknowledged: false });
    expect(held.failures[0]?.error).toMatchObject({ code: 'RATE_LIMITED', retryable: true });
    expect(await ids(bob, alice.address)).toEqual([1]);

    lists.state.limited = false;
    expect(await texts(bob)).toEqual(['phone']);
  });
});

describe('removeDevice', () => {
  it('needs the account key to remove another device, not to remove itself', async () => {
    const sealpost = await TestSealpost.start();
    const alice = await sealpost.register();
    const phone = await sealpost.link(alice);
    const tablet = await sealpost.link(alice);
    await expect(phone.removeDevice(tablet.deviceId)).rejects.toBeInstanceOf(
      AccountKeyRequiredError,
    );
    await expect(phone.removeDevice(tablet.deviceId)).rejects.toMatchObject({
      code: 'ACCOUNT_KEY_REQUIRED',
    });
    await alice.removeDevice(tablet.deviceId);
    await phone.removeDevice(phone.deviceId);
    const list = await alice.http.listDevices(alice.address);
    expect(list.devices.map((d) => d.deviceId)).toEqual([alice.deviceId]);
  });
});
