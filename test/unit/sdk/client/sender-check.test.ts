/**
 * How a recipient reads the device list of a sealed message's sender (docs/SDK.md §Device
 * removal): through the sealed route with the sender account's access key (the one the message
 * carried, else the stored one), so no owner-signed request tells the service whose list this
 * account wanted after which message. Owner-signed only when no key is accepted (the sender
 * rotated it) or for an identified message, whose sender the service knows anyway. Also the
 * test kit's `refillTokens`, `tokens` and `firstContact` options.
 */

import { TestSealpost } from '@sealpost/testing';
import { describe, expect, it } from 'vitest';
import type { FetchLike, SealpostClient } from '#sdk/client/index.ts';
import { AUTH_HEADERS } from '#sdk/wire/api/signing.ts';

/** One request a client made: method, path, whether it was owner-signed, and all it named. */
interface Recorded {
  readonly line: string;
  readonly signed: boolean;
  /** Path, header values and body text. */
  readonly text: string;
}

/** A `fetch` over the kit's that records every request. */
function recorder(sealpost: TestSealpost) {
  const requests: Recorded[] = [];
  const fetch: FetchLike = async (url, init) => {
    const { pathname, search } = new URL(url);
    const headers = new Headers(init.headers as HeadersInit);
    const body =
      init.body instanceof Uint8Array
        ? new TextDecoder().decode(init.body)
        : typeof init.body === 'string'
          ? init.body
          : '';
    requests.push({
      line: `${init.method} ${pathname}`,
      signed: headers.has(AUTH_HEADERS.signature),
      text: [`${pathname}${search}`, ...[...headers.values()], body].join('\n'),
    });
    return sealpost.fetch(url, init);
  };
  return { fetch, requests };
}

/** The kit's client with its requests recorded. */
async function recorded(sealpost: TestSealpost) {
  const r = recorder(sealpost);
  const client = await sealpost.register({ fetch: r.fetch });
  return { client, requests: r.requests };
}

const lines = (rs: readonly Recorded[]) => rs.map((r) => r.line);

/** No owner-signed request names `address` (path, headers or body). */
function expectNoSignedMention(rs: readonly Recorded[], address: string) {
  const naming = rs.filter((r) => r.signed && r.text.includes(address));
  expect(naming.map((r) => r.line)).toEqual([]);
}

const received = async (c: SealpostClient) => {
  const batch = await c.receiveBatch();
  expect(batch.failures).toEqual([]);
  return batch.messages;
};

describe('the device list of a sealed sender', () => {
  it('is read sealed for a message request, with the key its first message carried', async () => {
    const sealpost = await TestSealpost.start();
    const alice = await sealpost.register({ refillTokens: true });
    const { client: bob, requests } = await recorded(sealpost);
    const bobPhone = await sealpost.link(bob);
    await alice.send(bob.address, 'hello stranger');

    const [request] = await received(bob);
    expect(request).toMatchObject({ text: 'hello stranger', request: true, sealed: true });
    expect(lines(requests)).toContain(`GET /v1/sealed/devices/${alice.address}`);
    expect(lines(requests)).not.toContain(`GET /v1/accounts/${alice.address}/devices`);
    expectNoSignedMention(requests, alice.address);
    const sealedRead = requests.find((r) => r.line.startsWith('GET /v1/sealed/devices/'));
    expect(sealedRead?.signed).toBe(false);
    // Bob now knows Alice's device from the service's list.
    expect((await bob.knownDevices(alice.address)).map((d) => d.deviceId)).toEqual([1]);
    expect((await received(bobPhone)).map((m) => m.request)).toEqual([true]);
  });

  it('is read sealed for a contact’s message from a new device', async () => {
    const sealpost = await TestSealpost.start();
    const alice = await sealpost.register();
    const { client: bob, requests } = await recorded(sealpost);
    await alice.addContact(bob.contactCard());
    await bob.addContact(alice.contactCard());
    await alice.send(bob.address, 'from the laptop');
    await received(bob);
    const phone = await sealpost.link(alice);
    await phone.addContact(bob.contactCard());
    requests.length = 0;

    await phone.send(bob.address, 'from the phone');
    const [message] = await received(bob);
    expect(message).toMatchObject({ text: 'from the phone', sealed: true, request: false });
    expect(message?.deviceChange).toMatchObject({
      kind: 'added',
      peer: { address: alice.address, deviceId: phone.deviceId },
    });
    expect(lines(requests).filter((l) => l.includes('/devices'))).toEqual([
      `GET /v1/sealed/devices/${alice.address}`,
    ]);
    expectNoSignedMention(requests, alice.address);
    expect((await bob.knownDevices(alice.address)).map((d) => d.deviceId)).toEqual([1, 2]);
  });

  it('tries the stored key when the message carried an older one', async () => {
    const sealpost = await TestSealpost.start();
    const alice = await sealpost.register();
    const { client: bob, requests } = await recorded(sealpost);
    const phone = await sealpost.link(alice);
    for (const a of [alice, phone]) await a.addContact(bob.contactCard());
    await bob.addContact(alice.contactCard());
    await alice.send(bob.address, 'laptop');
    // Alice rotates; Bob gets the new key, the phone has not heard of it yet.
    expect(await alice.rotateAccessKey()).toMatchObject({ errors: [] });
    expect((await bob.receiveBatch()).failures).toEqual([]);
    requests.length = 0;

    await phone.send(bob.address, 'phone, old key inside');
    expect((await received(bob)).map((m) => m.text)).toEqual(['phone, old key inside']);
    // First the key the message carried (refused), then the stored one: nothing signed.
    expect(lines(requests).filter((l) => l.includes('/devices'))).toEqual([
      `GET /v1/sealed/devices/${alice.address}`,
      `GET /v1/sealed/devices/${alice.address}`,
    ]);
    expectNoSignedMention(requests, alice.address);
  });

  it('falls back to the owner-signed read when no key is accepted (a rotated key)', async () => {
    const sealpost = await TestSealpost.start();
    const alice = await sealpost.register();
    const { client: bob, requests } = await recorded(sealpost);
    const phone = await sealpost.link(alice);
    for (const a of [alice, phone]) await a.addContact(bob.contactCard());
    await bob.addContact(alice.contactCard());
    await alice.send(bob.address, 'laptop');
    await received(bob);
    // The phone writes with the old key inside; Alice rotates before Bob reads it.
    await phone.send(bob.address, 'sent before the rotation');
    expect(await alice.rotateAccessKey()).toMatchObject({ errors: [] });
    requests.length = 0;

    const batch = await bob.receiveBatch();
    expect(batch.failures).toEqual([]);
    expect(batch.messages.map((m) => m.text)).toEqual(['sent before the rotation']);
    const reads = requests.filter((r) => r.line.includes('/devices'));
    expect(reads.map((r) => [r.line, r.signed])).toEqual([
      [`GET /v1/sealed/devices/${alice.address}`, false],
      [`GET /v1/accounts/${alice.address}/devices`, true],
    ]);
    expect((await bob.knownDevices(alice.address)).map((d) => d.deviceId)).toEqual([1, 2]);
  });

  it('is read owner-signed for an identified message (the service knows its sender)', async () => {
    const sealpost = await TestSealpost.start();
    const alice = await sealpost.register();
    const { client: bob, requests } = await recorded(sealpost);
    await alice.send(bob.address, 'identified hello', { identified: true });
    const [message] = await received(bob);
    expect(message).toMatchObject({ sealed: false, request: true });
    const reads = requests.filter((r) => r.line.includes('/devices'));
    expect(reads.map((r) => [r.line, r.signed])).toEqual([
      [`GET /v1/accounts/${alice.address}/devices`, true],
    ]);
  });
});

describe('the test kit’s request options', () => {
  it('fills the wallet at once with refillTokens, sized by tokens, on register and link', async () => {
    const sealpost = await TestSealpost.start();
    const alice = await sealpost.register({ refillTokens: true, tokens: { batchSize: 2 } });
    expect(await alice.tokenCount()).toBe(2);
    const phone = await sealpost.link(alice, { refillTokens: true, tokens: { batchSize: 3 } });
    // The account's daily quota (5 while it is new) is shared by its devices.
    expect(await phone.tokenCount()).toBe(3);
    const plain = await sealpost.register();
    expect(await plain.tokenCount()).toBe(0);
    // Nothing refills on its own in tests.
    sealpost.advance(60 * 60 * 1000);
    expect(await plain.tokenCount()).toBe(0);
  });

  it('registers with the firstContact mode asked for', async () => {
    const sealpost = await TestSealpost.start();
    const alice = await sealpost.register({ refillTokens: true });
    const carol = await sealpost.register({ firstContact: 'contacts' });
    await expect(alice.send(carol.address, 'hi')).rejects.toMatchObject({
      code: 'SEALED_SEND_UNAUTHORIZED',
    });
    const dave = await sealpost.register({ firstContact: 'anyone' });
    const stored = await sealpost.ports.accounts.get(dave.address);
    expect(stored?.account.firstContact).toBe('anyone');
  });
});
