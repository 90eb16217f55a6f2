/**
 * End to end through the local HTTP server with the real adapters (DynamoDB Local, s3rver):
 * SDK clients register, send and receive over real HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CERTIFICATE_REFRESH_MARGIN_MS,
  NoTokensError,
  SealpostClient,
  SealpostHttpClient,
} from '#sdk/client/index.ts';
import { DecryptError } from '#sdk/errors.ts';
import type { DeviceChange } from '#sdk/protocol/engine.ts';
import { fromBase64Url, toBase64Url } from '#sdk/util/bytes.ts';
import { SENDER_CERTIFICATE_LIFETIME_MS } from '#sdk/wire/api/limits.ts';
import { type E2eStack, introduce, rewritingFetch, startE2eStack } from './stack.ts';

const HOUR = 3_600_000;
let stack: E2eStack;

beforeAll(async () => {
  stack = await startE2eStack();
});
afterAll(async () => {
  await stack?.stop();
});

const texts = (b: { messages: { text: string | undefined }[] }) => b.messages.map((m) => m.text);

describe('messaging through the local server', () => {
  it('fans out to every recipient device and copies to the sender’s other devices', async () => {
    const alice = await stack.register();
    const alicePhone = await stack.link(alice);
    const bob = await stack.register();
    const bobPhone = await stack.link(bob);
    await introduce(alice, bob);
    await alicePhone.addContact(bob.contactCard());

    const sent = await alice.send(bob.address, 'to all of Bob');
    expect(sent).toMatchObject({ recipientDevices: 2, sync: 'queued' });
    expect(texts(await bob.receiveBatch())).toEqual(['to all of Bob']);
    expect(texts(await bobPhone.receiveBatch())).toEqual(['to all of Bob']);
    expect(await alice.flushOutbox()).toEqual({ sent: 1, pending: 0, errors: [] });
    const copy = await alicePhone.receiveBatch();
    expect(copy.messages).toHaveLength(1);
    expect(copy.messages[0]).toMatchObject({
      text: 'to all of Bob',
      sync: { destination: bob.address },
      sender: { address: alice.address, deviceId: alice.deviceId },
      // The copy went through the identified route: the server names the account's own device.
      sealed: false,
    });
    // Nothing was stored for the sending device itself.
    expect((await alice.http.fetchMessages()).messages).toEqual([]);

    // The phone's reply reaches Bob and, as a copy, the first device.
    const reply = await alicePhone.send(bob.address, 'from the phone');
    expect(reply).toMatchObject({ recipientDevices: 2, sync: 'queued' });
    expect(await alicePhone.flushOutbox()).toEqual({ sent: 1, pending: 0, errors: [] });
    expect((await alice.receiveBatch()).messages).toMatchObject([
      { text: 'from the phone', sync: { destination: bob.address } },
    ]);
    expect((await alicePhone.http.fetchMessages()).messages).toEqual([]);
  });

  it('never downgrades a sealed send; identified only on request; replies are sealed', async () => {
    const alice = await stack.register();
    const bob = await stack.register();
    // Without Bob's key the send is a message request; with no token held it fails, and is
    // never sent identified instead (docs/SDK.md §Message requests).
    await expect(alice.send(bob.address, 'sealed?')).rejects.toBeInstanceOf(NoTokensError);
    expect((await bob.receiveBatch()).messages).toEqual([]);

    await alice.send(bob.address, 'first contact', { identified: true });
    const got = await bob.receiveBatch();
    expect(got.messages).toMatchObject([{ text: 'first contact', sealed: false }]);
    await bob.send(alice.address, 'answer');
    expect((await alice.receiveBatch()).messages).toMatchObject([{ text: 'answer', sealed: true }]);
    await alice.send(bob.address, 'now sealed');
    expect((await bob.receiveBatch()).messages).toMatchObject([
      { text: 'now sealed', sealed: true },
    ]);
  });

  it('delivers to an offline device later, exactly once, and deletes on acknowledgement', async () => {
    const alice = await stack.register();
    const bob = await stack.register();
    await introduce(alice, bob);
    for (const t of ['one', 'two', 'three']) await alice.send(bob.address, t);
    const bytes = new Uint8Array(20_000).map((_, i) => i & 0xff);
    await alice.send(bob.address, bytes);

    const batch = await bob.receiveBatch();
    expect(texts(batch).slice(0, 3)).toEqual(['one', 'two', 'three']);
    expect(batch.messages[3]?.body).toEqual(bytes);
    expect(batch.messages[3]?.text).toBeUndefined();
    expect(await bob.receiveBatch()).toEqual({ messages: [], failures: [] });
    expect((await bob.http.fetchMessages()).messages).toEqual([]);
  });

  it('decrypts messages delivered out of order', async () => {
    const alice = await stack.register();
    const reverse = rewritingFetch((body) => body.messages.reverse());
    const bob = await stack.register({ fetch: reverse });
    await introduce(alice, bob);
    await alice.send(bob.address, 'hello');
    expect(texts(await bob.receiveBatch())).toEqual(['hello']);
    await bob.send(alice.address, 'hi');
    await alice.receiveBatch();
    for (let i = 1; i <= 5; i++) await alice.send(bob.address, `m${i}`);
    const batch = await bob.receiveBatch();
    expect(batch.failures).toEqual([]);
    expect(texts(batch)).toEqual(['m5', 'm4', 'm3', 'm2', 'm1']);
  });

  it('falls back to the last-resort KEM key when one-time prekeys run out, then refills', async () => {
    const bob = await stack.register({ prekeys: { batch: 1, threshold: 1 } });
    expect(await bob.http.countPrekeys()).toEqual({ ec: 1, pq: 1 });
    const senders = [await stack.register(), await stack.register(), await stack.register()];
    for (const s of senders) await introduce(s, bob);
    for (const [i, s] of senders.entries()) await s.send(bob.address, `from sender ${i}`);
    expect(await bob.http.countPrekeys()).toEqual({ ec: 0, pq: 0 });

    const probe = senders[0]!.http;
    const bundle = await probe.fetchDeviceBundle(bob.address, 1);
    expect(bundle.devices[0]?.kemPrekey.lastResort).toBe(true);
    expect(bundle.devices[0]?.oneTimePrekey).toBeUndefined();

    const batch = await bob.receiveBatch();
    expect(batch.failures).toEqual([]);
    expect(texts(batch).sort()).toEqual(['from sender 0', 'from sender 1', 'from sender 2']);
    const run = await bob.maintainPrekeys();
    expect(run).toMatchObject({ uploadedOneTime: 1, uploadedKem: 1, count: { ec: 1, pq: 1 } });
  });

  it('rejects a tampered envelope, acknowledges it, and keeps the session working', async () => {
    let tamper = true;
    const flip = rewritingFetch((body) => {
      const m = body.messages[0];
      if (!tamper || !m) return;
      const bytes = fromBase64Url(m.envelope);
      bytes[bytes.length - 20]! ^= 0x01;
      m.envelope = toBase64Url(bytes);
    });
    const alice = await stack.register();
    const bob = await stack.register({ fetch: flip });
    await introduce(alice, bob);
    await alice.send(bob.address, 'tampered on the way');
    const bad = await bob.receiveBatch();
    expect(bad.messages).toEqual([]);
    expect(bad.failures).toHaveLength(1);
    expect(bad.failures[0]?.error).toBeInstanceOf(DecryptError);
    expect(bad.failures[0]?.acknowledged).toBe(true);
    tamper = false;
    expect((await bob.http.fetchMessages()).messages).toEqual([]);
    await alice.send(bob.address, 'intact');
    expect(texts(await bob.receiveBatch())).toEqual(['intact']);
  });

  it('refreshes a sender certificate before it expires', async () => {
    const alice = await stack.register();
    const bob = await stack.register();
    await introduce(alice, bob);
    const before = await alice.senderCertificate();
    await alice.send(bob.address, 'early');
    stack.advance(SENDER_CERTIFICATE_LIFETIME_MS - CERTIFICATE_REFRESH_MARGIN_MS + HOUR);
    const after = await alice.senderCertificate();
    expect(toBase64Url(after)).not.toBe(toBase64Url(before));
    stack.advance(CERTIFICATE_REFRESH_MARGIN_MS);
    // The first certificate is now expired for Bob; the refreshed one is what Alice seals with.
    await alice.send(bob.address, 'late');
    const batch = await bob.receiveBatch();
    expect(batch.failures).toEqual([]);
    expect(texts(batch)).toEqual(['early', 'late']);
  });

  it('reaches a device added in the middle of a conversation', async () => {
    const alice = await stack.register();
    const bob = await stack.register();
    await introduce(alice, bob);
    await alice.send(bob.address, 'before');
    expect(texts(await bob.receiveBatch())).toEqual(['before']);
    const bobTablet = await stack.link(bob);
    const sent = await alice.send(bob.address, 'after');
    expect(sent.recipientDevices).toBe(2);
    expect((await alice.knownDevices(bob.address)).map((d) => d.deviceId)).toEqual([1, 2]);
    expect(texts(await bob.receiveBatch())).toEqual(['after']);
    expect(texts(await bobTablet.receiveBatch())).toEqual(['after']);
  });

  it('announces a contact’s re-linked device as a device change, not an identity change', async () => {
    const changes: DeviceChange[] = [];
    const alice = await SealpostClient.register({
      ...stack.options(),
      onDeviceChange: (c) => changes.push(c),
    });
    const dave = await stack.register();
    const bob = await stack.register();
    const bobOld = await stack.link(bob);
    await introduce(alice, bob);
    await introduce(dave, bob);
    await alice.send(bob.address, 'hello both');
    await dave.send(bob.address, 'hello from Dave');
    await bob.removeDevice(bobOld.deviceId);
    const bobNew = await stack.link(bob);
    expect(bobNew.deviceId).toBe(bobOld.deviceId);

    // Sending: the 410 names the re-used id; the new device's bundle is a newer link by Bob's
    // account key, so it is announced and the message goes out at once.
    expect(await alice.send(bob.address, 'new phone?')).toMatchObject({ recipientDevices: 2 });
    expect(changes).toMatchObject([
      { kind: 'replaced', peer: { address: bob.address, deviceId: bobNew.deviceId } },
    ]);
    expect(texts(await bob.receiveBatch())).toEqual([
      'hello both',
      'hello from Dave',
      'new phone?',
    ]);
    expect(texts(await bobNew.receiveBatch())).toEqual(['new phone?']);

    // Receiving: the new device's first message reaches Dave with the change attached.
    await bobNew.addContact(dave.contactCard());
    await bobNew.send(dave.address, 'new phone, same Bob');
    const got = await dave.receiveBatch();
    expect(got.failures).toEqual([]);
    expect(got.messages).toMatchObject([
      {
        text: 'new phone, same Bob',
        deviceChange: { kind: 'replaced', peer: { address: bob.address, deviceId: 2 } },
      },
    ]);
    expect((await dave.knownDevices(bob.address)).map((d) => d.deviceId)).toEqual([1, 2]);
  });

  it('answers a server error code with a typed error', async () => {
    const http = new SealpostHttpClient({ baseUrl: stack.url });
    await expect(http.countPrekeys()).rejects.toMatchObject({ code: 'NOT_REGISTERED' });
    const alice = await stack.register();
    await expect(alice.http.fetchDeviceBundle(alice.address, 5)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      status: 404,
    });
  });
});
