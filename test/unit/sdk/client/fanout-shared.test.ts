/**
 * Multi-recipient sends from the client (docs/PROTOCOL.md §14, docs/SDK.md §Sending) through
 * the in-process service, with the recording `fetch` of fanout-net.ts decoding every request:
 * a send to two or more devices that all announce `sharedPayload` is ONE multi-recipient
 * request (one payload, a header per device, the account's authorization inside: access key,
 * token, none for the own copies), a single device or a device without the capability keeps
 * per-device envelopes, 409/410 naming the account are repaired with the same request id and
 * the same payload, a 401 naming it is the recipient's refusal, capabilities learned later
 * are picked up within a day, and end to end every device of two multi-device accounts reads
 * every message while the service holds one payload object per request.
 */
import { TestSealpost } from '@sealpost/testing';
import { describe, expect, it } from 'vitest';
import { SealedSendUnauthorizedError, SendFailedError } from '#sdk/client/errors.ts';
import {
  CAPABILITY_CHECK_MS,
  multiRecipientAuth,
  usesSharedPayload,
} from '#sdk/client/fanout-shared.ts';
import { SealpostClient } from '#sdk/client/index.ts';
import { fromBase64Url } from '#sdk/util/bytes.ts';
import { MULTI_RECIPIENT_TOKEN_BYTES } from '#sdk/wire/multi-recipient.ts';
import {
  errorResponse,
  intercept,
  MULTI_IDENTIFIED_PATH,
  MULTI_PATH,
  type SendCall,
  type StripRule,
} from './fanout-net.ts';

async function setup(options: { strip?: StripRule; bob?: { firstContact?: 'requests' } } = {}) {
  const sealpost = await TestSealpost.start();
  const net = intercept(sealpost, options.strip ? { strip: options.strip } : {});
  const alice = await SealpostClient.register({ ...sealpost.clientOptions(), fetch: net.fetch });
  const bob = await sealpost.register(options.bob ?? {});
  return { sealpost, net, alice, bob };
}

async function contacts(alice: SealpostClient, bob: SealpostClient) {
  await alice.addContact(bob.contactCard());
  await bob.addContact(alice.contactCard());
}

const texts = async (c: SealpostClient) => (await c.receiveBatch()).messages.map((m) => m.text);
const payloadObjects = (sealpost: TestSealpost) => sealpost.ports.payloads.objects.size;
const multiOf = (s: SendCall | undefined) => {
  if (!s?.multi) throw new Error(`not a multi-recipient send: ${s?.path}`);
  return s.multi;
};

describe('choosing the path', () => {
  it('uses one request with one payload for 2+ capable devices, envelopes for one device', async () => {
    const { sealpost, net, alice, bob } = await setup();
    await contacts(alice, bob);
    await alice.send(bob.address, 'one device');
    expect(net.sends.map((s) => [s.path, s.devices])).toEqual([
      [`/v1/messages/${bob.address}`, [1]],
    ]);
    expect(await texts(bob)).toEqual(['one device']);
    expect(payloadObjects(sealpost)).toBe(0);

    const phone = await sealpost.link(bob);
    const tablet = await sealpost.link(bob);
    net.sends.length = 0;
    const sent = await alice.send(bob.address, 'three devices');
    expect(sent.recipientDevices).toBe(3);
    // The remembered list names one device: the 409 brings the two new ones, both capable, so
    // the retry (same request id) is one multi-recipient request.
    expect(net.sends.map((s) => [s.path, s.devices, s.messageId])).toEqual([
      [`/v1/messages/${bob.address}`, [1], sent.messageId],
      [MULTI_PATH, [1, 2, 3], sent.messageId],
    ]);
    const request = multiOf(net.sends[1]);
    expect(request.accounts).toHaveLength(1);
    const [account] = request.accounts;
    expect(account!.address).toBe(bob.address);
    expect(account!.auth).toEqual({
      kind: 'accessKey',
      accessKey: fromBase64Url(bob.contactCard().accessKey),
    });
    const headers = account!.devices.map((d) => d.header);
    expect(new Set(headers.map((h) => h.join())).size).toBe(3);
    expect(request.payload.length).toBeGreaterThan(0);
    expect(payloadObjects(sealpost)).toBe(1);

    expect(await texts(bob)).toEqual(['three devices']);
    expect(await texts(phone)).toEqual(['three devices']);
    expect(payloadObjects(sealpost)).toBe(1);
    expect(await texts(tablet)).toEqual(['three devices']);
    // The last acknowledgement released the payload.
    expect(payloadObjects(sealpost)).toBe(0);
  });

  it('keeps per-device envelopes when one target device does not announce the capability', async () => {
    const { sealpost, net, alice, bob } = await setup();
    const phone = await sealpost.link(bob);
    net.setStrip((address, deviceId) => address === bob.address && deviceId === phone.deviceId);
    await contacts(alice, bob);
    await alice.send(bob.address, 'mixed');
    expect(net.sends.map((s) => [s.path, s.devices])).toEqual([
      [`/v1/messages/${bob.address}`, [1, 2]],
    ]);
    expect(await alice.knownDevices(bob.address)).toEqual([
      expect.objectContaining({ deviceId: 1, sharedPayload: true }),
      expect.not.objectContaining({ sharedPayload: true }),
    ]);
    expect(payloadObjects(sealpost)).toBe(0);
    expect(await texts(bob)).toEqual(['mixed']);
    expect(await texts(phone)).toEqual(['mixed']);
  });

  it('keeps per-device envelopes for an identified send to another account', async () => {
    const { sealpost, net, alice, bob } = await setup();
    const phone = await sealpost.link(bob);
    await contacts(alice, bob);
    await alice.send(bob.address, 'identified', { identified: true });
    expect(net.sends.map((s) => [s.path, s.devices])).toEqual([
      [`/v1/messages/${bob.address}/identified`, [1, 2]],
    ]);
    expect(await texts(phone)).toEqual(['identified']);
  });

  it('records the capability of a sender device the service vouched for, and uses it', async () => {
    const { sealpost, alice, bob } = await setup();
    await contacts(alice, bob);
    await alice.send(bob.address, 'from the laptop');
    const alicePhone = await sealpost.link(alice);
    await alicePhone.addContact(bob.contactCard());
    await alicePhone.send(bob.address, 'from the phone');
    expect(await texts(bob)).toEqual(['from the laptop', 'from the phone']);
    // Bob learned the phone from the service's list (a sender check), with its capability.
    expect(await bob.knownDevices(alice.address)).toEqual([
      expect.objectContaining({ deviceId: 1, sharedPayload: true }),
      expect.objectContaining({ deviceId: alicePhone.deviceId, sharedPayload: true }),
    ]);
    const before = payloadObjects(sealpost);
    await bob.send(alice.address, 'to both of you');
    expect(payloadObjects(sealpost)).toBe(before + 1);
    expect(await texts(alice)).toEqual(['to both of you']);
    expect((await alicePhone.receiveBatch()).messages.map((m) => m.text)).toContain(
      'to both of you',
    );
  });

  it('maps the delivery authorization to the request’s authKind, and needs 2+ all-capable devices', () => {
    const accessKey = new Uint8Array(16).fill(1);
    const token = new Uint8Array(MULTI_RECIPIENT_TOKEN_BYTES).fill(2);
    expect(multiRecipientAuth({ accessKey })).toEqual({ kind: 'accessKey', accessKey });
    expect(multiRecipientAuth({ token })).toEqual({ kind: 'token', token });
    expect(multiRecipientAuth({})).toEqual({ kind: 'none' });
    const capable = { deviceId: 1, registrationId: 1, sharedPayload: true };
    const other = { deviceId: 2, registrationId: 2, sharedPayload: true };
    expect(usesSharedPayload([capable, other], true)).toBe(true);
    expect(usesSharedPayload([capable, other], false)).toBe(false);
    expect(usesSharedPayload([capable], true)).toBe(false);
    expect(usesSharedPayload([capable, { deviceId: 2, registrationId: 2 }], true)).toBe(false);
  });
});

describe('repairs and refusals of a multi-recipient send', () => {
  it('repairs 409/410 naming the account with the same request id and payload, fresh headers', async () => {
    const { sealpost, net, alice, bob } = await setup();
    const phone = await sealpost.link(bob);
    await contacts(alice, bob);
    await alice.send(bob.address, 'settled');
    expect(net.sends.map((s) => s.path)).toEqual([MULTI_PATH]);
    await texts(bob);
    await texts(phone);
    net.sends.length = 0;
    net.log.length = 0;

    net.fakes.push(
      () =>
        errorResponse(409, {
          code: 'DEVICE_MISMATCH',
          accounts: [{ address: bob.address, missing: [2], extra: [] }],
        }),
      () =>
        errorResponse(410, {
          code: 'STALE_DEVICES',
          accounts: [{ address: bob.address, stale: [1] }],
        }),
    );
    const sent = await alice.send(bob.address, 'repaired');
    expect(net.sends.map((s) => [s.path, s.messageId, s.devices])).toEqual([
      [MULTI_PATH, sent.messageId, [1, 2]],
      [MULTI_PATH, sent.messageId, [1, 2]],
      [MULTI_PATH, sent.messageId, [1, 2]],
    ]);
    const requests = net.sends.map(multiOf);
    // A refused request stored nothing: the payload stays, every header is sealed again.
    expect(requests[1]!.payload).toEqual(requests[0]!.payload);
    expect(requests[2]!.payload).toEqual(requests[0]!.payload);
    const first = requests[0]!.accounts[0]!.devices[0]!.header;
    expect(requests[2]!.accounts[0]!.devices[0]!.header).not.toEqual(first);
    expect(net.log.filter((l) => l.startsWith('GET /v1/sealed/bundles/'))).toEqual([
      `GET /v1/sealed/bundles/${bob.address}/2`,
      `GET /v1/sealed/bundles/${bob.address}/1`,
    ]);
    expect(await texts(bob)).toEqual(['repaired']);
    expect(await texts(phone)).toEqual(['repaired']);
    expect(payloadObjects(sealpost)).toBe(0);
  });

  it('gives up after 3 repairs, and a refusal naming only another account is not repaired', async () => {
    const { sealpost, net, alice, bob } = await setup();
    await sealpost.link(bob);
    await contacts(alice, bob);
    const refusal = () =>
      errorResponse(409, {
        code: 'DEVICE_MISMATCH',
        accounts: [{ address: bob.address, missing: [], extra: [] }],
      });
    net.fakes.push(refusal, refusal, refusal, refusal);
    const err = await alice.send(bob.address, 'never').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SendFailedError);
    expect(net.sends).toHaveLength(4);
    expect(new Set(net.sends.map((s) => s.messageId)).size).toBe(1);

    net.sends.length = 0;
    net.fakes.push(() =>
      errorResponse(409, {
        code: 'DEVICE_MISMATCH',
        accounts: [{ address: alice.address, missing: [3], extra: [] }],
      }),
    );
    const other = await alice.send(bob.address, 'not ours').catch((e: unknown) => e);
    expect(other).toMatchObject({ code: 'DEVICE_MISMATCH' });
    expect(net.sends).toHaveLength(1);
    expect(payloadObjects(sealpost)).toBe(0);
  });

  it('turns a 401 naming the account into SealedSendUnauthorizedError for it', async () => {
    const { sealpost, net, alice, bob } = await setup();
    await sealpost.link(bob);
    await contacts(alice, bob);
    net.fakes.push(() =>
      errorResponse(401, { code: 'UNAUTHORIZED', accounts: [{ address: bob.address }] }),
    );
    const err = await alice.send(bob.address, 'refused').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SealedSendUnauthorizedError);
    expect(err).toMatchObject({ code: 'SEALED_SEND_UNAUTHORIZED', recipient: bob.address });
    expect(net.sends.map((s) => s.path)).toEqual([MULTI_PATH]);
  });

  it('pays a message request with a token inside the body, another one after INVALID_TOKEN', async () => {
    const { sealpost, net, alice, bob } = await setup({ bob: { firstContact: 'requests' } });
    const phone = await sealpost.link(bob);
    await alice.refillTokens();
    net.fakes.push(() =>
      errorResponse(401, { code: 'INVALID_TOKEN', accounts: [{ address: bob.address }] }),
    );
    const sent = await alice.send(bob.address, 'hello stranger');
    expect(net.sends.map((s) => [s.path, s.messageId])).toEqual([
      [MULTI_PATH, sent.messageId],
      [MULTI_PATH, sent.messageId],
    ]);
    const auths = net.sends.map((s) => multiOf(s).accounts[0]!.auth);
    for (const auth of auths) {
      expect(auth.kind).toBe('token');
      if (auth.kind === 'token') expect(auth.token).toHaveLength(MULTI_RECIPIENT_TOKEN_BYTES);
    }
    expect(auths[0]).not.toEqual(auths[1]);
    for (const device of [bob, phone]) {
      const { messages } = await device.receiveBatch();
      expect(messages).toMatchObject([{ text: 'hello stranger', request: true }]);
    }
  });
});

describe('copies to the own devices', () => {
  it('go as one identified multi-recipient request to 2+ other devices, as envelopes to one', async () => {
    const { sealpost, net, alice, bob } = await setup();
    await contacts(alice, bob);
    const laptop = await sealpost.link(alice);
    const tablet = await sealpost.link(alice);
    await alice.send(bob.address, 'with copies');
    expect(await alice.flushOutbox()).toEqual({ sent: 1, pending: 0, errors: [] });
    const copy = net.sends.at(-1);
    expect(copy?.path).toBe(MULTI_IDENTIFIED_PATH);
    expect(multiOf(copy).accounts).toEqual([
      {
        address: alice.address,
        auth: { kind: 'none' },
        devices: [
          expect.objectContaining({ deviceId: laptop.deviceId }),
          expect.objectContaining({ deviceId: tablet.deviceId }),
        ],
      },
    ]);
    expect(payloadObjects(sealpost)).toBe(1);
    for (const device of [laptop, tablet]) {
      const { messages } = await device.receiveBatch();
      expect(messages).toMatchObject([
        {
          text: 'with copies',
          sync: { destination: bob.address },
          sender: { address: alice.address, deviceId: alice.deviceId },
        },
      ]);
    }
    expect(await texts(bob)).toEqual(['with copies']);
    expect(payloadObjects(sealpost)).toBe(0);

    await alice.removeDevice(tablet.deviceId);
    net.sends.length = 0;
    await alice.send(bob.address, 'one copy');
    await alice.flushOutbox();
    expect(net.sends.at(-1)).toEqual({
      path: `/v1/messages/${alice.address}/identified`,
      messageId: expect.any(String),
      devices: [laptop.deviceId],
    });
    expect(await texts(laptop)).toEqual(['one copy']);
  });
});

describe('capabilities learned later', () => {
  it('re-reads a contact’s device list at most once a day and then shares the payload', async () => {
    const { sealpost, net, alice, bob } = await setup({ strip: () => true });
    const phone = await sealpost.link(bob);
    await contacts(alice, bob);
    const reads = () => net.log.filter((l) => l === `GET /v1/sealed/devices/${bob.address}`);
    await alice.send(bob.address, 'old clients');
    expect(net.sends.map((s) => s.path)).toEqual([`/v1/messages/${bob.address}`]);
    expect(reads()).toHaveLength(1);

    // The devices announce the capability now; within a day the stored flags are used.
    net.setStrip(undefined);
    await alice.send(bob.address, 'still envelopes');
    expect(net.sends.map((s) => s.path)).toEqual([
      `/v1/messages/${bob.address}`,
      `/v1/messages/${bob.address}`,
    ]);
    expect(reads()).toHaveLength(1);

    sealpost.advance(CAPABILITY_CHECK_MS);
    await alice.send(bob.address, 'shared now');
    expect(reads()).toHaveLength(2);
    expect(net.sends.at(-1)?.path).toBe(MULTI_PATH);
    expect(await alice.knownDevices(bob.address)).toEqual([
      expect.objectContaining({ deviceId: 1, sharedPayload: true }),
      expect.objectContaining({ deviceId: phone.deviceId, sharedPayload: true }),
    ]);
    // Known to be capable: no further reads.
    sealpost.advance(CAPABILITY_CHECK_MS);
    await alice.send(bob.address, 'no read');
    expect(reads()).toHaveLength(2);
    for (const device of [bob, phone]) {
      expect(await texts(device)).toEqual([
        'old clients',
        'still envelopes',
        'shared now',
        'no read',
      ]);
    }
  });
});

describe('end to end: two accounts of 2 and 3 devices', () => {
  it('every device reads every message; the service holds one payload per request', async () => {
    const { sealpost, net, alice, bob } = await setup();
    await contacts(alice, bob);
    const alicePhone = await sealpost.link(alice);
    const bobPhone = await sealpost.link(bob);
    const bobTablet = await sealpost.link(bob);
    const bobs = [bob, bobPhone, bobTablet];

    await alice.send(bob.address, 'hello all of you');
    expect(net.sends.filter((s) => s.path === MULTI_PATH)).toHaveLength(1);
    expect(payloadObjects(sealpost)).toBe(1);
    // Alice's copy: one other device, so one envelope, no payload.
    await alice.flushOutbox();
    expect(net.sends.at(-1)?.path).toBe(`/v1/messages/${alice.address}/identified`);
    expect(payloadObjects(sealpost)).toBe(1);
    for (const device of bobs) expect(await texts(device)).toEqual(['hello all of you']);
    expect((await alicePhone.receiveBatch()).messages).toMatchObject([
      { text: 'hello all of you', sync: { destination: bob.address } },
    ]);
    expect(payloadObjects(sealpost)).toBe(0);

    // Bob answers from his tablet: one sealed request to Alice's two devices, then his copy as
    // one identified request to his other two.
    await bobTablet.addContact(alice.contactCard());
    await bobTablet.send(alice.address, 'hi back');
    expect(payloadObjects(sealpost)).toBe(1);
    await bobTablet.flushOutbox();
    expect(payloadObjects(sealpost)).toBe(2);
    for (const device of [alice, alicePhone]) expect(await texts(device)).toEqual(['hi back']);
    expect(payloadObjects(sealpost)).toBe(1);
    for (const device of [bob, bobPhone]) {
      expect((await device.receiveBatch()).messages).toMatchObject([
        { text: 'hi back', sync: { destination: alice.address } },
      ]);
    }
    expect(payloadObjects(sealpost)).toBe(0);
    expect(sealpost.ports.payloads.references.size).toBe(0);
  });
});
