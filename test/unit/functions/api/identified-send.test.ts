import { describe, expect, it } from 'vitest';
import { fromBase64Url, toBase64Url } from '#sdk/wire/api/codec.ts';
import { accessHeaders, aliceAndBob, newMessageId, registrationId, sendBody } from '../fixtures.ts';

describe('identified send', () => {
  it('tells the recipient the sender and is rate-limited per sender and recipient', async () => {
    const { h, bob, alice } = await aliceAndBob({
      identifiedSendRateLimit: { limit: 2, windowMs: 60_000 },
    });
    const send = () =>
      h.call({
        method: 'PUT',
        path: `/v1/messages/${bob.account.address}/identified`,
        json: sendBody(newMessageId(h.clock.now), [[1, new Uint8Array(4)]]),
        signer: alice,
      });
    expect((await send()).status).toBe(200);
    expect((await send()).status).toBe(200);
    const limited = await send();
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    const fetched = await h.call({ method: 'GET', path: '/v1/messages', signer: bob });
    expect(fetched.body.messages[0]?.source).toEqual({
      address: alice.account.address,
      deviceId: 1,
    });
    h.clock.now += 60_000;
    expect((await send()).status).toBe(200);
  });

  it('syncs to the own account: every device but the caller, which is extra if listed', async () => {
    const { h, bob } = await aliceAndBob();
    const alone = await h.call({
      method: 'PUT',
      path: `/v1/messages/${bob.account.address}/identified`,
      json: sendBody(newMessageId(h.clock.now), [[1, new Uint8Array(4)]]),
      signer: bob,
    });
    expect(alone.status).toBe(409);
    expect(alone.body.error).toMatchObject({ code: 'DEVICE_MISMATCH', missing: [], extra: [1] });

    const bob2 = await h.link(bob.account);
    const bob3 = await h.link(bob.account);
    const send = (entries: [number, number?][], signer = bob2) =>
      h.call({
        method: 'PUT',
        path: `/v1/messages/${bob.account.address}/identified`,
        json: {
          messageId: newMessageId(h.clock.now),
          envelopes: entries.map(([deviceId, regId]) => ({
            deviceId,
            envelope: toBase64Url(new Uint8Array([deviceId])),
            ...(regId === undefined ? {} : { registrationId: regId }),
          })),
        },
        signer,
      });
    const withSelf = await send([[1], [2], [3]]);
    expect(withSelf.status).toBe(409);
    expect(withSelf.body.error).toMatchObject({ missing: [], extra: [2] });
    const short = await send([[1]]);
    expect(short.status).toBe(409);
    expect(short.body.error).toMatchObject({ missing: [3], extra: [] });

    const ok = await send([
      [1, registrationId(bob.identity)],
      [3, registrationId(bob3.identity)],
    ]);
    expect(ok.status).toBe(200);
    for (const device of [bob, bob3]) {
      const fetched = await h.call({ method: 'GET', path: '/v1/messages', signer: device });
      expect(fetched.body.messages).toHaveLength(1);
      expect(fetched.body.messages[0]?.source).toEqual({
        address: bob.account.address,
        deviceId: 2,
      });
      expect(fromBase64Url(fetched.body.messages[0]?.envelope ?? '')).toEqual(
        new Uint8Array([device.deviceId]),
      );
    }
    const own = await h.call({ method: 'GET', path: '/v1/messages', signer: bob2 });
    expect(own.body.messages).toEqual([]);

    // A reused id is still told apart by its registration id.
    const oldId = registrationId(bob3.identity);
    const removed = await h.call({
      method: 'DELETE',
      path: '/v1/devices/3',
      signer: bob,
      accountSeed: bob.account.seed,
    });
    expect(removed.status).toBe(200);
    expect((await h.link(bob.account)).deviceId).toBe(3);
    const stale = await send([[1], [3, oldId]]);
    expect(stale.status).toBe(410);
    expect(stale.body.error).toMatchObject({ code: 'STALE_DEVICES', stale: [3] });
  });

  it('keeps the sealed route unchanged for the own account: the sender device must be listed', async () => {
    const { h, bob } = await aliceAndBob();
    await h.link(bob.account);
    const send = (ids: number[]) =>
      h.call({
        method: 'PUT',
        path: `/v1/messages/${bob.account.address}`,
        json: sendBody(
          newMessageId(h.clock.now),
          ids.map((id) => [id, new Uint8Array(4)]),
        ),
        headers: accessHeaders(),
      });
    const without = await send([2]);
    expect(without.status).toBe(409);
    expect(without.body.error).toMatchObject({ missing: [1], extra: [] });
    expect((await send([1, 2])).status).toBe(200);
  });

  it('does not count sends to the own account against the per-pair limit', async () => {
    const { h, bob, alice } = await aliceAndBob({
      identifiedSendRateLimit: { limit: 2, windowMs: 60_000 },
    });
    await h.link(bob.account);
    const send = (to: string, device: number) =>
      h.call({
        method: 'PUT',
        path: `/v1/messages/${to}/identified`,
        json: sendBody(newMessageId(h.clock.now), [[device, new Uint8Array(4)]]),
        signer: bob,
      });
    for (let i = 0; i < 5; i++) expect((await send(bob.account.address, 2)).status).toBe(200);
    expect((await send(alice.account.address, 1)).status).toBe(200);
    expect((await send(alice.account.address, 1)).status).toBe(200);
    expect((await send(alice.account.address, 1)).status).toBe(429);
    expect((await send(bob.account.address, 2)).status).toBe(200);
  });

  it('requires a sender signature', async () => {
    const { h, bob } = await aliceAndBob();
    const res = await h.call({
      method: 'PUT',
      path: `/v1/messages/${bob.account.address}/identified`,
      json: sendBody(newMessageId(h.clock.now), [[1, new Uint8Array(4)]]),
    });
    expect(res.status).toBe(401);
  });
});

describe('acknowledged identified sends', () => {
  it('leave nothing, not even a tombstone, in the mailbox index', async () => {
    const { h, bob, alice } = await aliceAndBob();
    const messageId = newMessageId(h.clock.now);
    const sent = await h.call({
      method: 'PUT',
      path: `/v1/messages/${bob.account.address}/identified`,
      json: sendBody(messageId, [[1, new Uint8Array(4)]]),
      signer: alice,
    });
    expect(sent.status).toBe(200);
    const [before] = h.ports.index.dump().records;
    expect(before?.source?.address).toBe(alice.account.address);
    const fetched = await h.call({ method: 'GET', path: '/v1/messages', signer: bob });
    const delivered = fetched.body.messages[0]?.messageId;
    expect(delivered).not.toBe(messageId);

    const ack = await h.call({
      method: 'POST',
      path: '/v1/messages/ack',
      json: { messageIds: [delivered] },
      signer: bob,
    });
    expect(ack.status).toBe(200);
    expect(ack.body.acknowledged).toBe(1);
    expect(h.ports.index.dump().records).toEqual([]);
    expect(
      JSON.stringify(h.ports.index.dump(), (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
    ).not.toContain(alice.account.address);
  });
});
