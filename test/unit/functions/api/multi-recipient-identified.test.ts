/**
 * `PUT /v1/messages/multi/identified` through the app over the in-memory ports (docs/SERVICE.md
 * §7.5): the copies of a message to the caller's own other devices, owner-signed over the
 * binary body; exactly the own account with authorization kind none; the calling device is not
 * a target; every record names the caller as its source; a suspended account is refused.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from '#functions/domain/crypto.ts';
import { fromBase64Url } from '#sdk/wire/api/codec.ts';
import { MULTI_RECIPIENT_CONTENT_TYPE } from '#sdk/wire/api/routes.ts';
import { registrationId, signHeaders } from '../fixtures.ts';
import { byKey, multiWorld, request, sharedPayload, target } from './multi-recipient-fixture.ts';

const NONE = { kind: 'none' } as const;

/** Carol's account as a target of its device 1: devices 2 and 3. */
async function carolSync() {
  const w = await multiWorld();
  const [carol1, carol2, carol3] = w.carol.devices as [
    (typeof w.carol.devices)[number],
    (typeof w.carol.devices)[number],
    (typeof w.carol.devices)[number],
  ];
  const others = [carol2, carol3].map((d) => ({
    deviceId: d.deviceId,
    registrationId: registrationId(d.identity),
  }));
  return { w, carol1, carol2, carol3, others };
}

describe('multi-recipient identified send', () => {
  it("stores one payload for the caller's other devices, each record naming the caller", async () => {
    const { w, carol1, carol2, carol3, others } = await carolSync();
    const { payload } = sharedPayload();
    const own = target(w.carol, NONE, others);
    const res = await w.sendMultiIdentified(carol1, request([own], payload));
    expect(res.status).toBe(200);
    expect(res.body.duplicate).toBe(false);
    expect(w.stored()).toEqual({ records: 2, payloads: 1, sets: 1 });
    for (const device of [carol2, carol3]) {
      const [m] = await w.fetch(device, 'payloads=1');
      expect(m!.source).toEqual({ address: carol1.account.address, deviceId: carol1.deviceId });
      expect(fromBase64Url(m!.envelope)).toEqual(own.headers.get(device.deviceId));
      expect(fromBase64Url(m!.payload!)).toEqual(payload);
    }
    expect(await w.fetch(carol1)).toEqual([]);
  });

  it('verifies the owner signature over the binary body', async () => {
    const { w, carol1, others } = await carolSync();
    const body = request([target(w.carol, NONE, others)], sharedPayload().payload);
    const signed = signHeaders(carol1, 'PUT', '/v1/messages/multi/identified', body, w.h.clock.now);
    const altered = body.slice();
    altered[altered.length - 1]! ^= 1;
    const res = await w.h.call({
      method: 'PUT',
      path: '/v1/messages/multi/identified',
      rawBody: altered,
      headers: { ...signed, 'content-type': MULTI_RECIPIENT_CONTENT_TYPE },
    });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHORIZED');
    const unsigned = await w.sendMulti(body, {
      'content-type': MULTI_RECIPIENT_CONTENT_TYPE,
    });
    // The anonymous route takes the same body: the own account is authorized by nothing there.
    expect(unsigned.status).toBe(401);
    expect(w.stored().records).toBe(0);
  });

  it('treats the calling device as no target, with accounts in the device errors', async () => {
    const { w, carol1, others } = await carolSync();
    const { payload } = sharedPayload();
    const self = { deviceId: carol1.deviceId, registrationId: registrationId(carol1.identity) };
    const withSelf = await w.sendMultiIdentified(
      carol1,
      request([target(w.carol, NONE, [self, ...others])], payload),
    );
    expect(withSelf.status).toBe(409);
    expect(withSelf.body.error.accounts).toEqual([
      { address: carol1.account.address, missing: [], extra: [1] },
    ]);
    const short = await w.sendMultiIdentified(
      carol1,
      request([target(w.carol, NONE, others.slice(0, 1))], payload),
    );
    expect(short.status).toBe(409);
    expect(short.body.error.accounts).toEqual([
      { address: carol1.account.address, missing: [3], extra: [] },
    ]);
    const stale = await w.sendMultiIdentified(
      carol1,
      request([target(w.carol, NONE, [others[0]!, { ...others[1]!, registrationId: 7 }])], payload),
    );
    expect(stale.status).toBe(410);
    expect(stale.body.error.accounts).toEqual([{ address: carol1.account.address, stale: [3] }]);
    expect(w.stored()).toEqual({ records: 0, payloads: 0, sets: 0 });
  });

  it('refuses another account, a second account and an authorization kind other than none', async () => {
    const { w, carol1, others } = await carolSync();
    const { payload } = sharedPayload();
    const own = target(w.carol, NONE, others);
    const bodies = [
      request([target(w.bob, NONE)], payload),
      request([own, target(w.bob, NONE)], payload),
      request([target(w.carol, byKey(w.carol), others)], payload),
    ];
    for (const body of bodies) {
      const res = await w.sendMultiIdentified(carol1, body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('BAD_REQUEST');
      expect(res.body.error.message).toMatch(/^invalid body: an identified multi-recipient send/);
    }
    expect(w.stored()).toEqual({ records: 0, payloads: 0, sets: 0 });
  });

  it('refuses a suspended account', async () => {
    const { w, carol1, others } = await carolSync();
    w.h.ports.accounts.setSuspension(carol1.account.address, {
      suspendedAt: w.h.clock.now,
      suspensionReason: 'abuse',
    });
    const res = await w.sendMultiIdentified(
      carol1,
      request([target(w.carol, NONE, others)], sharedPayload(randomBytes(10)).payload),
    );
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('ACCOUNT_SUSPENDED');
    expect(w.stored()).toEqual({ records: 0, payloads: 0, sets: 0 });
  });
});
