/**
 * `client.subscribePush` / `client.unsubscribePush` (docs/SDK.md, "Wake-ups") against the test
 * kit's in-process service: with a service worker registration the SDK subscribes with the
 * service's own VAPID key; a subscription (object or `toJSON()` shape) is checked and
 * normalized before it is sent; bad input is a typed `INVALID_ARGUMENT` error and sends
 * nothing; a deployment without wake-ups answers `NOT_CONFIGURED`.
 */
import { createECDH } from 'node:crypto';
import { TestSealpost } from '@sealpost/testing';
import { describe, expect, it } from 'vitest';
import {
  ApiError,
  type PushRegistrationLike,
  type PushSubscribeOptions,
  pushSubscriptionBody,
  type SubscribePushOptions,
} from '#sdk/client/index.ts';
import { SealpostError } from '#sdk/errors.ts';
import { ArgumentRangeError, ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import { fromBase64Url, toBase64Url } from '#sdk/util/bytes.ts';

const ENDPOINT = 'https://fcm.googleapis.com/fcm/send/device-token';

function browserKeys() {
  const point = new Uint8Array(createECDH('prime256v1').generateKeys());
  return { p256dh: toBase64Url(point), auth: toBase64Url(new Uint8Array(16).fill(1)) };
}

/** A service worker registration whose push manager records what it was asked. */
function fakeRegistration(endpoint = ENDPOINT) {
  const asked: PushSubscribeOptions[] = [];
  const keys = browserKeys();
  const registration: PushRegistrationLike = {
    pushManager: {
      subscribe: async (options) => {
        asked.push(options);
        return { toJSON: () => ({ endpoint, expirationTime: null, keys }) };
      },
    },
  };
  return { registration, asked, keys };
}

describe('client.subscribePush', () => {
  it("takes the browser's own objects (types checked by the compiler)", () => {
    const accepted = (
      registration: ServiceWorkerRegistration,
      subscription: PushSubscription,
      json: PushSubscriptionJSON,
    ): SubscribePushOptions[] => [{ registration }, { subscription }, { subscription: json }];
    expect(accepted).toBeTypeOf('function');
  });

  it('subscribes through the registration with the service key, then registers', async () => {
    const sealpost = await TestSealpost.start();
    const client = await sealpost.register();
    const { registration, asked, keys } = fakeRegistration();
    const registered = await client.subscribePush({ registration });
    const { applicationServerKey } = await client.http.pushKey();
    expect(asked).toEqual([
      { userVisibleOnly: true, applicationServerKey: fromBase64Url(applicationServerKey) },
    ]);
    expect(registered).toEqual({ endpoint: ENDPOINT, keys });
    expect(await sealpost.pushSubscription(client.address, client.deviceId)).toEqual({
      endpoint: ENDPOINT,
    });
    expect(await client.unsubscribePush()).toBe(true);
    expect(await client.unsubscribePush()).toBe(false);
    expect(await sealpost.pushSubscription(client.address, client.deviceId)).toBeUndefined();
  });

  it('registers a subscription object or its JSON, normalizing padded keys', async () => {
    const sealpost = await TestSealpost.start();
    const client = await sealpost.register();
    const keys = browserKeys();
    const padded = { p256dh: `${keys.p256dh}=`, auth: `${keys.auth}==` };
    expect(
      await client.subscribePush({ subscription: { endpoint: ENDPOINT, keys: padded } }),
    ).toEqual({ endpoint: ENDPOINT, keys });
    const other = `${ENDPOINT}-2`;
    await client.subscribePush({ subscription: { toJSON: () => ({ endpoint: other, keys }) } });
    expect(await sealpost.pushSubscription(client.address, client.deviceId)).toEqual({
      endpoint: other,
    });
  });

  it('refuses bad input with INVALID_ARGUMENT before any request', async () => {
    const sealpost = await TestSealpost.start();
    const requests: string[] = [];
    const client = await sealpost.register({ onRequest: (e) => requests.push(e.operation) });
    requests.length = 0;
    const keys = browserKeys();
    const cases: [unknown, typeof ArgumentTypeError | typeof ArgumentRangeError][] = [
      [{ subscription: { keys } }, ArgumentTypeError],
      [{ subscription: { endpoint: ENDPOINT } }, ArgumentTypeError],
      [{ subscription: { endpoint: ENDPOINT, keys: { ...keys, auth: 7 } } }, ArgumentTypeError],
      [
        { subscription: { endpoint: ENDPOINT, keys: { ...keys, auth: 'not*b64' } } },
        ArgumentTypeError,
      ],
      [{ subscription: { endpoint: `${ENDPOINT}/${'a'.repeat(1024)}`, keys } }, ArgumentRangeError],
      [{ subscription: { endpoint: 'fcm.googleapis.com/x', keys } }, ArgumentRangeError],
      [{ subscription: { endpoint: 'ftp://fcm.googleapis.com/x', keys } }, ArgumentRangeError],
      [
        {
          subscription: {
            endpoint: ENDPOINT,
            keys: { ...keys, p256dh: toBase64Url(new Uint8Array(64)) },
          },
        },
        ArgumentRangeError,
      ],
      [
        {
          subscription: {
            endpoint: ENDPOINT,
            keys: { ...keys, p256dh: toBase64Url(new Uint8Array(65).fill(2)) },
          },
        },
        ArgumentRangeError,
      ],
      [
        {
          subscription: {
            endpoint: ENDPOINT,
            keys: { ...keys, auth: toBase64Url(new Uint8Array(15)) },
          },
        },
        ArgumentRangeError,
      ],
      [{ registration: {} }, ArgumentTypeError],
      [{}, ArgumentTypeError],
    ];
    for (const [options, type] of cases) {
      const err = await client
        .subscribePush(options as Parameters<typeof client.subscribePush>[0])
        .catch((e: unknown) => e);
      expect(err, JSON.stringify(options)).toBeInstanceOf(type);
      expect(err).toBeInstanceOf(SealpostError);
      expect((err as SealpostError<string>).code).toBe('INVALID_ARGUMENT');
    }
    expect(requests).toEqual([]);
    expect(() => pushSubscriptionBody(null as never)).toThrow(ArgumentTypeError);
  });

  it('surfaces the service refusals as API errors', async () => {
    const off = await TestSealpost.start({ webPush: false });
    const client = await off.register();
    const err = await client
      .subscribePush({ subscription: { endpoint: ENDPOINT, keys: browserKeys() } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 'NOT_CONFIGURED', status: 404 });
    await expect(
      client.subscribePush({ registration: fakeRegistration().registration }),
    ).rejects.toMatchObject({
      code: 'NOT_CONFIGURED',
    });

    const on = await TestSealpost.start();
    const other = await on.register();
    await expect(
      other.subscribePush({
        subscription: { endpoint: 'https://push.example.com/x', keys: browserKeys() },
      }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST', status: 400 });
  });
});
