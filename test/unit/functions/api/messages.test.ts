import { describe, expect, it } from 'vitest';
import { randomBytes } from '#functions/domain/crypto.ts';
import { fromBase64Url, toBase64Url } from '#sdk/wire/api/codec.ts';
import { createMessageId } from '#sdk/wire/api/message-id.ts';
import {
  accessHeaders,
  aliceAndBob,
  newAccount,
  newMessageId,
  registrationId,
  sendBody,
} from '../fixtures.ts';

describe('sealed send and delivery', () => {
  it('delivers to every device in order, under server positions, and deletes on acknowledgement', async () => {
    const { h, bob } = await aliceAndBob();
    const bob2 = await h.link(bob.account);
    const sent: string[] = [];
    const delivered = new Map<string, string[]>();
    for (let i = 0; i < 3; i++) {
      const id = newMessageId(h.clock.now + i);
      sent.push(id);
      const env = new Uint8Array(100 + i).fill(i);
      const res = await h.call({
        method: 'PUT',
        path: `/v1/messages/${bob.account.address}`,
        json: sendBody(id, [
          [1, env],
          [2, env],
        ]),
        headers: accessHeaders(),
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ messageId: id, duplicate: false });
    }
    for (const device of [bob, bob2]) {
      const fetched = await h.call({ method: 'GET', path: '/v1/messages', signer: device });
      expect(fetched.status).toBe(200);
      const ids = fetched.body.messages.map((m: { messageId: string }) => m.messageId);
      delivered.set(device === bob ? 'bob' : 'bob2', ids);
      // Server positions: nothing in common with the request ids.
      for (const id of ids) expect(sent).not.toContain(id);
      expect(
        fetched.body.messages.map((m: { envelope: string }) => fromBase64Url(m.envelope)[0]),
      ).toEqual([0, 1, 2]);
      expect(fetched.body.messages[0]?.source).toBeUndefined();
      expect((fetched.body.messages[0]?.receivedAt ?? -1) % 3_600_000).toBe(0);
      expect(fetched.body.cursor).toBeUndefined();
    }
    // Each device's mailbox numbers its own positions: the copies share no id.
    expect(delivered.get('bob')!.some((id) => delivered.get('bob2')!.includes(id))).toBe(false);
    const again = await h.call({ method: 'GET', path: '/v1/messages', signer: bob });
    expect(again.body.messages).toHaveLength(3);
    const bobIds = delivered.get('bob')!;
    const ack = await h.call({
      method: 'POST',
      path: '/v1/messages/ack',
      json: { messageIds: bobIds.slice(0, 2) },
      signer: bob,
    });
    expect(ack.body).toEqual({ acknowledged: 2 });
    const rest = await h.call({ method: 'GET', path: '/v1/messages', signer: bob });
    expect(rest.body.messages.map((m: { messageId: string }) => m.messageId)).toEqual([bobIds[2]]);
    const other = await h.call({ method: 'GET', path: '/v1/messages', signer: bob2 });
    expect(other.body.messages).toHaveLength(3);
  });

  it('stores a retried send once', async () => {
    const { h, bob } = await aliceAndBob();
    const id = newMessageId(h.clock.now);
    const call = () =>
      h.call({
        method: 'PUT',
        path: `/v1/messages/${bob.account.address}`,
        json: sendBody(id, [[1, new Uint8Array(50)]]),
        headers: accessHeaders(),
      });
    expect((await call()).body.duplicate).toBe(false);
    expect((await call()).body.duplicate).toBe(true);
    const fetched = await h.call({ method: 'GET', path: '/v1/messages', signer: bob });
    expect(fetched.body.messages).toHaveLength(1);
  });

  it('keeps large envelopes in the blob store and small ones inline', async () => {
    const { h, bob } = await aliceAndBob({ inlineMaxBytes: 1000 });
    const small = newMessageId(h.clock.now);
    const large = newMessageId(h.clock.now + 1);
    const big = randomBytes(5000);
    for (const [id, env] of [
      [small, new Uint8Array(1000)],
      [large, big],
    ] as const) {
      await h.call({
        method: 'PUT',
        path: `/v1/messages/${bob.account.address}`,
        json: sendBody(id, [[1, env]]),
        headers: accessHeaders(),
      });
    }
    expect(h.ports.blobs.objects.size).toBe(1);
    const fetched = await h.call({ method: 'GET', path: '/v1/messages', signer: bob });
    expect(fromBase64Url(fetched.body.messages[1]?.envelope ?? '')).toEqual(big);
    await h.call({
      method: 'POST',
      path: '/v1/messages/ack',
      json: { messageIds: fetched.body.messages.map((m: { messageId: string }) => m.messageId) },
      signer: bob,
    });
    expect(h.ports.blobs.objects.size).toBe(0);
  });

  it('answers an unknown recipient and a wrong key with the same 401', async () => {
    const { h, bob } = await aliceAndBob();
    const body = sendBody(newMessageId(h.clock.now), [[1, new Uint8Array(10)]]);
    const wrong = await h.call({
      method: 'PUT',
      path: `/v1/messages/${bob.account.address}`,
      json: body,
      headers: accessHeaders(new Uint8Array(16)),
    });
    const unknown = await h.call({
      method: 'PUT',
      path: `/v1/messages/${newAccount().address}`,
      json: body,
      headers: accessHeaders(),
    });
    const none = await h.call({
      method: 'PUT',
      path: `/v1/messages/${bob.account.address}`,
      json: body,
    });
    for (const r of [wrong, unknown, none]) {
      expect(r.status).toBe(401);
      expect(r.body).toEqual(wrong.body);
    }
  });

  it('accepts any sender for an unrestricted recipient', async () => {
    const { h, bob } = await aliceAndBob();
    await h.call({
      method: 'PUT',
      path: '/v1/account/settings',
      json: { unrestricted: true },
      signer: bob,
    });
    const body = sendBody(newMessageId(h.clock.now), [[1, new Uint8Array(10)]]);
    const res = await h.call({
      method: 'PUT',
      path: `/v1/messages/${bob.account.address}`,
      json: body,
    });
    expect(res.status).toBe(200);
  });

  it('answers 409 with missing and extra devices and 410 when an id now names another device', async () => {
    const { h, bob } = await aliceAndBob();
    const bob2 = await h.link(bob.account);
    const send = (entries: [number, number?][]) =>
      h.call({
        method: 'PUT',
        path: `/v1/messages/${bob.account.address}`,
        json: {
          messageId: newMessageId(h.clock.now),
          envelopes: entries.map(([deviceId, registrationId]) => ({
            deviceId,
            envelope: toBase64Url(new Uint8Array(8)),
            ...(registrationId === undefined ? {} : { registrationId }),
          })),
        },
        headers: accessHeaders(),
      });
    const mismatch = await send([[1], [9]]);
    expect(mismatch.status).toBe(409);
    expect(mismatch.body.error).toMatchObject({
      code: 'DEVICE_MISMATCH',
      missing: [2],
      extra: [9],
    });

    const oldId = registrationId(bob2.identity);
    const removed = await h.call({
      method: 'DELETE',
      path: '/v1/devices/2',
      signer: bob,
      accountSeed: bob.account.seed,
    });
    expect(removed.status).toBe(200);
    const replacement = await h.link(bob.account);
    expect(replacement.deviceId).toBe(2);
    const stale = await send([
      [1, registrationId(bob.identity)],
      [2, oldId],
    ]);
    expect(stale.status).toBe(410);
    expect(stale.body.error).toMatchObject({ code: 'STALE_DEVICES', stale: [2] });
    expect((await send([[1], [2, registrationId(replacement.identity)]])).status).toBe(200);
    expect((await send([[1], [2]])).status).toBe(200);
  });

  it('pages with a cursor and never returns expired messages', async () => {
    const { h, bob } = await aliceAndBob();
    for (let i = 0; i < 5; i++) {
      await h.call({
        method: 'PUT',
        path: `/v1/messages/${bob.account.address}`,
        json: sendBody(newMessageId(h.clock.now - i * 1000), [[1, new Uint8Array(4).fill(i)]]),
        headers: accessHeaders(),
      });
    }
    const firstByte = (page: { body: { messages: { envelope: string }[] } }) =>
      page.body.messages.map((m) => fromBase64Url(m.envelope)[0]);
    const first = await h.call({ method: 'GET', path: '/v1/messages?limit=2', signer: bob });
    expect(firstByte(first)).toEqual([0, 1]);
    const second = await h.call({
      method: 'GET',
      path: `/v1/messages?limit=2&cursor=${first.body.cursor}`,
      signer: bob,
    });
    expect(firstByte(second)).toEqual([2, 3]);
    // Expiry is rounded up to the hour (docs/SERVICE.md §7.2).
    h.clock.now += 30 * 24 * 3600_000 + 3600_000;
    const expired = await h.call({ method: 'GET', path: '/v1/messages', signer: bob });
    expect(expired.body.messages).toEqual([]);
  });

  it('reads no time from a request id: any 16 bytes are accepted', async () => {
    const { h, bob } = await aliceAndBob();
    for (const t of [h.clock.now + 6 * 60_000, h.clock.now - 31 * 24 * 3600_000]) {
      const id = toBase64Url(createMessageId(t, randomBytes(10)));
      const res = await h.call({
        method: 'PUT',
        path: `/v1/messages/${bob.account.address}`,
        json: sendBody(id, [[1, new Uint8Array(4)]]),
        headers: accessHeaders(),
      });
      expect(res.status).toBe(200);
    }
    const short = await h.call({
      method: 'PUT',
      path: `/v1/messages/${bob.account.address}`,
      json: sendBody(toBase64Url(randomBytes(15)), [[1, new Uint8Array(4)]]),
      headers: accessHeaders(),
    });
    expect(short.status).toBe(400);
  });

  it('keeps every envelope in the blob store by default', async () => {
    const { h, bob } = await aliceAndBob();
    for (const size of [1, 4096]) {
      await h.call({
        method: 'PUT',
        path: `/v1/messages/${bob.account.address}`,
        json: sendBody(newMessageId(h.clock.now), [[1, new Uint8Array(size)]]),
        headers: accessHeaders(),
      });
    }
    expect(h.ports.blobs.objects.size).toBe(2);
  });

  it('enforces the mailbox quota and reconciles it after expiry', async () => {
    const { h, bob } = await aliceAndBob({ mailboxMaxMessages: 2 });
    const send = () =>
      h.call({
        method: 'PUT',
        path: `/v1/messages/${bob.account.address}`,
        json: sendBody(newMessageId(h.clock.now), [[1, new Uint8Array(4)]]),
        headers: accessHeaders(),
      });
    expect((await send()).status).toBe(200);
    expect((await send()).status).toBe(200);
    const full = await send();
    expect(full.status).toBe(429);
    expect(full.body.error.code).toBe('MAILBOX_FULL');
    h.clock.now += 31 * 24 * 3600_000;
    expect(
      (await h.call({ method: 'GET', path: '/v1/messages', signer: bob })).body.messages,
    ).toEqual([]);
    expect((await send()).status).toBe(200);
  });
});
