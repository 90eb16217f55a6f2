/**
 * The push routes (docs/SERVICE.md §7.3): `GET /v1/push/key` (public), `PUT` and `DELETE
 * /v1/devices/me/push` (owner-signed). Bodies are validated by the route table's schema and by
 * the deployment's endpoint list (400 with the standard error body); without wake-ups the key
 * and a subscription answer 404 `NOT_CONFIGURED`; a removed device's subscription is gone.
 */
import { createECDH } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryPushSubscriptions } from '#functions/adapters/memory/memory-push-subscriptions.ts';
import { randomBytes } from '#functions/domain/crypto.ts';
import { registrationIdOf } from '#functions/domain/records.ts';
import { toBase64Url } from '#sdk/wire/api/codec.ts';
import {
  type CallResult,
  harness,
  memoryPorts,
  signHeaders,
  type TestDevice,
  testMaterial,
} from '../fixtures.ts';
import { TEST_VAPID_PUBLIC_KEY, testWakeups } from '../push-fixture.ts';

const PATH = '/v1/devices/me/push';

const point = () => toBase64Url(new Uint8Array(createECDH('prime256v1').generateKeys()));
const body = (endpoint = 'https://fcm.googleapis.com/fcm/send/abc') => ({
  endpoint,
  keys: { p256dh: point(), auth: toBase64Url(randomBytes(16)) },
});

/** The fixtures' app with wake-ups on (recording), or off (`configured: false`). */
function setup(options: { configured?: boolean; allowLoopback?: boolean } = {}) {
  const on = testWakeups({ allowLoopback: options.allowLoopback ?? false });
  const store = options.configured === false ? new MemoryPushSubscriptions() : on.subscriptions;
  const wakeups =
    options.configured === false ? { subscriptions: store, log: () => undefined } : on;
  const h = harness(memoryPorts(testMaterial()), { wakeups });
  const call = (
    method: string,
    path: string,
    signer?: TestDevice,
    json?: unknown,
  ): Promise<CallResult> =>
    h.call({
      method,
      path,
      ...(signer ? { signer } : {}),
      ...(json === undefined ? {} : { json }),
    });
  return { h, app: h.app, store, call };
}

describe('GET /v1/push/key', () => {
  it('answers the VAPID public key without authentication', async () => {
    const t = setup();
    const res = await t.call('GET', '/v1/push/key');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ applicationServerKey: toBase64Url(TEST_VAPID_PUBLIC_KEY) });
  });

  it('answers 404 NOT_CONFIGURED when wake-ups are off', async () => {
    const t = setup({ configured: false });
    const res = await t.call('GET', '/v1/push/key');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_CONFIGURED');
  });
});

describe('PUT /v1/devices/me/push', () => {
  it('stores the signing device subscription with its generation', async () => {
    const t = setup();
    const device = await t.h.register();
    const res = await t.call('PUT', PATH, device, body());
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ subscribed: true });
    const stored = await t.store.get({ address: device.account.address, deviceId: 1 });
    expect(stored?.subscription.endpoint).toBe('https://fcm.googleapis.com/fcm/send/abc');
    expect(stored?.device.registrationId).toBe(registrationIdOf(device.identity));
  });

  it('needs the owner signature', async () => {
    const t = setup();
    const device = await t.h.register();
    const unsigned = await t.call('PUT', PATH, undefined, body());
    expect(unsigned.status).toBe(401);
    expect(unsigned.body.error.code).toBe('UNAUTHORIZED');
    // A signature over another body does not carry.
    const headers = signHeaders(device, 'PUT', PATH, new TextEncoder().encode('{}'), t.h.clock.now);
    const res = await t.app.request(PATH, {
      method: 'PUT',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(body()),
    });
    expect(res.status).toBe(401);
    expect(await t.store.get({ address: device.account.address, deviceId: 1 })).toBeUndefined();
  });

  it('refuses malformed bodies and endpoints outside the list with 400 BAD_REQUEST', async () => {
    const t = setup();
    const device = await t.h.register();
    const good = body();
    const bad: [string, unknown][] = [
      ['no keys', { endpoint: good.endpoint }],
      ['extra field', { ...good, expirationTime: null }],
      ['relative endpoint', { ...good, endpoint: '/fcm/send/abc' }],
      ['space in endpoint', { ...good, endpoint: 'https://fcm.googleapis.com/a b' }],
      [
        'backslash in endpoint',
        { ...good, endpoint: 'https://evil.example\\@fcm.googleapis.com/' },
      ],
      [
        'endpoint over 1024',
        { ...good, endpoint: `https://fcm.googleapis.com/${'a'.repeat(1000)}` },
      ],
      ['host not listed', { ...good, endpoint: 'https://push.example.com/abc' }],
      ['metadata address', { ...good, endpoint: 'https://169.254.169.254/latest' }],
      ['plain http', { ...good, endpoint: 'http://fcm.googleapis.com/abc' }],
      ['loopback', { ...good, endpoint: 'http://127.0.0.1:9/notify/x' }],
      ['other port', { ...good, endpoint: 'https://fcm.googleapis.com:444/abc' }],
      [
        'p256dh 64 bytes',
        { ...good, keys: { ...good.keys, p256dh: toBase64Url(randomBytes(64)) } },
      ],
      [
        'p256dh compressed',
        { ...good, keys: { ...good.keys, p256dh: toBase64Url(new Uint8Array(65).fill(2)) } },
      ],
      [
        'p256dh off the curve',
        { ...good, keys: { ...good.keys, p256dh: toBase64Url(new Uint8Array(65).fill(4)) } },
      ],
      ['p256dh padded', { ...good, keys: { ...good.keys, p256dh: `${good.keys.p256dh}=` } }],
      ['auth 15 bytes', { ...good, keys: { ...good.keys, auth: toBase64Url(randomBytes(15)) } }],
      ['auth 17 bytes', { ...good, keys: { ...good.keys, auth: toBase64Url(randomBytes(17)) } }],
    ];
    for (const [label, json] of bad) {
      const res = await t.call('PUT', PATH, device, json);
      expect(res.status, label).toBe(400);
      expect(res.body.error.code, label).toBe('BAD_REQUEST');
      expect(typeof res.body.error.message, label).toBe('string');
    }
    expect(t.store.size).toBe(0);
  });

  it('accepts a loopback endpoint where the deployment allows it', async () => {
    const t = setup({ allowLoopback: true });
    const device = await t.h.register();
    const res = await t.call('PUT', PATH, device, body('http://127.0.0.1:9/notify/x'));
    expect(res.status).toBe(200);
  });

  it('answers 404 NOT_CONFIGURED when wake-ups are off', async () => {
    const t = setup({ configured: false });
    const device = await t.h.register();
    const res = await t.call('PUT', PATH, device, body());
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_CONFIGURED');
  });
});

describe('DELETE /v1/devices/me/push', () => {
  it('removes the signing device subscription, idempotently', async () => {
    const t = setup();
    const first = await t.h.register();
    const second = await t.h.link(first.account);
    await t.call('PUT', PATH, first, body('https://fcm.googleapis.com/first'));
    await t.call('PUT', PATH, second, body('https://fcm.googleapis.com/second'));
    expect((await t.call('DELETE', PATH, second)).body).toEqual({ removed: true });
    expect((await t.call('DELETE', PATH, second)).body).toEqual({ removed: false });
    // The other device's subscription stays.
    expect(
      (await t.store.get({ address: first.account.address, deviceId: 1 }))?.subscription.endpoint,
    ).toBe('https://fcm.googleapis.com/first');
    expect((await t.call('DELETE', PATH)).status).toBe(401);
  });

  it('is where a device removal leaves no subscription behind', async () => {
    const t = setup();
    const first = await t.h.register();
    const second = await t.h.link(first.account);
    await t.call('PUT', PATH, second, body());
    const removed = await t.call('DELETE', '/v1/devices/2', second);
    expect(removed.body).toEqual({ deviceId: 2 });
    expect(await t.store.get({ address: first.account.address, deviceId: 2 })).toBeUndefined();
  });
});
