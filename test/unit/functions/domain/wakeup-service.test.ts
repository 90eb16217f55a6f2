/**
 * Wake-ups of devices without a live connection (docs/SERVICE.md §7.3), through the same
 * composition as the HTTP function with a WebSocket stage (`composeRealtime` with wake-ups):
 * a message stored for a device the realtime push did not reach wakes it: at once when its
 * mailbox was empty, otherwise at most once until the whole hour after a window, and the stored
 * claim is that whole hour, never the time of a wake-up; a live connection means no wake-up; a subscription the push service reports gone is
 * removed; a failing wake-up never fails the send and is counted in one log line; a removed
 * device's subscription goes with it.
 */
import { createECDH } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryConnections } from '#functions/adapters/memory/memory-connections.ts';
import { MemoryPushSubscriptions } from '#functions/adapters/memory/memory-push-subscriptions.ts';
import { composeRealtime } from '#functions/api/realtime-lambda.ts';
import { DEFAULT_CONFIG } from '#functions/domain/config.ts';
import { randomBytes } from '#functions/domain/crypto.ts';
import { ServiceError } from '#functions/domain/errors.ts';
import type { ConnectionSender } from '#functions/domain/realtime-ports.ts';
import type {
  PushSubscriptionRecord,
  WakeupPorts,
  WakeupSender,
} from '#functions/domain/wakeup-ports.ts';
import { WakeupService } from '#functions/domain/wakeup-service.ts';
import { toBase64Url } from '#sdk/wire/api/codec.ts';
import { createMessageId } from '#sdk/wire/api/message-id.ts';
import type { PushSubscriptionBody } from '#sdk/wire/api/schemas.ts';
import { memoryPorts, testMaterial } from '../fixtures.ts';
import { mailboxFixture } from './mailbox-fixture.ts';

const WINDOW_MS = 60_000;
const HOUR = 3_600_000;
/** 2026-01-01 00:10 UTC: ten minutes into an hour. */
const START = 1_767_225_600_000 + 10 * 60_000;
const KEY = new Uint8Array(65).fill(9);

/** Records wake-ups; answers from `answers` in order, then `sent`. */
class FakeWakeupSender implements WakeupSender {
  readonly woken: PushSubscriptionRecord[] = [];
  answers: (() => Promise<'sent' | 'gone'>)[] = [];

  async wake(subscription: PushSubscriptionRecord): Promise<'sent' | 'gone'> {
    this.woken.push(subscription);
    const answer = this.answers.shift();
    return answer ? answer() : 'sent';
  }
}

/** Frames go to connections unless they are in `gone`. */
class SocketSender implements ConnectionSender {
  readonly sent: string[] = [];
  readonly gone = new Set<string>();

  async send(connectionId: string, frameText: string): Promise<'sent' | 'gone'> {
    if (this.gone.has(connectionId)) return 'gone';
    this.sent.push(frameText);
    return 'sent';
  }

  async close(): Promise<void> {}
}

/** A browser subscription body with a real P-256 point. */
function subscriptionBody(
  endpoint = 'https://fcm.googleapis.com/fcm/send/abc',
): PushSubscriptionBody {
  const ecdh = createECDH('prime256v1');
  return {
    endpoint,
    keys: {
      p256dh: toBase64Url(new Uint8Array(ecdh.generateKeys())),
      auth: toBase64Url(randomBytes(16)),
    },
  };
}

async function setup(options: { allowedHosts?: string[] } = {}) {
  const ports = memoryPorts(testMaterial());
  const f = await mailboxFixture(ports, { devices: 2, start: START });
  await ports.accounts.updateSettings(f.address, { unrestricted: true });
  const store = new MemoryPushSubscriptions();
  const push = new FakeWakeupSender();
  const sockets = new SocketSender();
  const connections = new MemoryConnections();
  const logs: string[] = [];
  const webPush = {
    applicationServerKey: async () => KEY,
    endpoints: {
      allowedHosts: options.allowedHosts ?? ['fcm.googleapis.com', '*.push.apple.com'],
      allowLoopback: false,
    },
  };
  const wakeups: WakeupPorts & { log: (l: string) => void } = {
    subscriptions: store,
    sender: push,
    webPush,
    log: (l) => logs.push(l),
  };
  const { services, realtime } = composeRealtime(
    ports,
    { connections, sender: sockets },
    {
      config: { ...DEFAULT_CONFIG, wakeWindowMs: WINDOW_MS },
      clock: () => f.clock.now,
      log: (l) => logs.push(l),
      wakeups,
    },
  );
  /** A sealed send of one envelope to each of the account's two devices. */
  const send = () =>
    services.messages.sendSealed(f.address, undefined, {
      messageId: toBase64Url(createMessageId(f.clock.now, randomBytes(10))),
      envelopes: [1, 2].map((deviceId) => ({ deviceId, envelope: toBase64Url(randomBytes(40)) })),
    });
  const [first, second] = f.callers as [(typeof f.callers)[0], (typeof f.callers)[0]];
  /** Fetches and acknowledges every pending message of the second device: its mailbox empties. */
  const ackAll = async () => {
    const ids = (await f.fetchAll(second)).map((m) => m.messageId);
    if (ids.length > 0) await services.messages.ack(second, ids);
  };
  return {
    ackAll,
    ports,
    f,
    store,
    push,
    sockets,
    connections,
    logs,
    services,
    realtime,
    send,
    first,
    second,
    webPush,
  };
}

describe('wake-ups after a store', () => {
  it('wakes at once into an empty mailbox, then at most once until the hour after a window', async () => {
    const t = await setup();
    await t.services.push.subscribe(t.second, subscriptionBody());
    await t.send();
    expect(t.push.woken.map((s) => s.endpoint)).toEqual([
      'https://fcm.googleapis.com/fcm/send/abc',
    ]);
    // The claim holds until 01:00, the whole hour after now + window: never the time of the wake.
    expect((await t.store.get(t.second))?.wakeUntil).toBe(START - 10 * 60_000 + HOUR);
    // The first message still waits: later ones do not wake, past the window too, until 01:00.
    t.f.clock.now += WINDOW_MS;
    await t.send();
    t.f.clock.now = START - 10 * 60_000 + HOUR - 1;
    await t.send();
    expect(t.push.woken).toHaveLength(1);
    t.f.clock.now += 1;
    await t.send();
    expect(t.push.woken).toHaveLength(2);
    expect((await t.store.get(t.second))?.wakeUntil).toBe(START - 10 * 60_000 + 2 * HOUR);
    t.f.clock.now += 30 * 60_000;
    await t.send();
    expect(t.push.woken).toHaveLength(2);
    // Every message is stored whatever the wake-ups did.
    expect(await t.f.fetchAll(t.second)).toHaveLength(5);
    // The device without a subscription is never woken, and nothing was logged.
    expect(t.logs).toEqual([]);
  });

  it('wakes again at once after the device acknowledged everything, whatever the claim', async () => {
    const t = await setup();
    await t.services.push.subscribe(t.second, subscriptionBody());
    await t.send();
    await t.send();
    expect(t.push.woken).toHaveLength(1);
    await t.ackAll();
    t.f.clock.now += 60_000;
    await t.send();
    expect(t.push.woken).toHaveLength(2);
    // The forced claim still stores a whole hour, and the next message waits for it.
    const claim = (await t.store.get(t.second))?.wakeUntil;
    expect(claim).toBe(START - 10 * 60_000 + HOUR);
    await t.send();
    expect(t.push.woken).toHaveLength(2);
    // Acknowledging only part of the mailbox does not re-arm.
    const [oldest] = await t.f.fetchAll(t.second);
    await t.services.messages.ack(t.second, [oldest!.messageId]);
    await t.send();
    expect(t.push.woken).toHaveLength(2);
  });

  it('claims a whole hour a window ahead when the window crosses the hour', async () => {
    const t = await setup();
    await t.services.push.subscribe(t.second, subscriptionBody());
    // 00:59:30: now + window is past 01:00, so the claim holds until 02:00.
    t.f.clock.now = START - 10 * 60_000 + HOUR - 30_000;
    await t.send();
    const claim = (await t.store.get(t.second))?.wakeUntil;
    expect(claim).toBe(START - 10 * 60_000 + 2 * HOUR);
    expect((claim ?? 1) % HOUR).toBe(0);
    t.f.clock.now += 31_000;
    await t.send();
    expect(t.push.woken).toHaveLength(1);
  });

  it('wakes once when concurrent sends race for the same device', async () => {
    const t = await setup();
    await t.services.push.subscribe(t.second, subscriptionBody());
    // A burst into an empty mailbox: one wake-up.
    await Promise.all(Array.from({ length: 6 }, () => t.send()));
    expect(t.push.woken).toHaveLength(1);
    // Messages still wait at the hour: the racing unforced claims give one winner.
    t.f.clock.now = START - 10 * 60_000 + HOUR;
    await Promise.all(Array.from({ length: 6 }, () => t.send()));
    expect(t.push.woken).toHaveLength(2);
    expect(await t.f.fetchAll(t.second)).toHaveLength(12);
  });

  it('does not wake a device whose live connection got the message, and wakes it once the connection is gone', async () => {
    const t = await setup();
    await t.services.push.subscribe(t.second, subscriptionBody());
    await t.realtime.connected(t.second, 'c2');
    await t.send();
    expect(t.sockets.sent).toHaveLength(1);
    expect(t.push.woken).toEqual([]);
    // The socket died without a disconnect: the push finds it gone, removes it and wakes.
    t.sockets.gone.add('c2');
    await t.send();
    expect(t.push.woken).toHaveLength(1);
    expect(await t.connections.get(t.second)).toBeUndefined();
  });

  it('removes a subscription the push service reports gone, and wakes nothing after', async () => {
    const t = await setup();
    await t.services.push.subscribe(t.second, subscriptionBody());
    t.push.answers.push(async () => 'gone');
    await t.send();
    expect(t.push.woken).toHaveLength(1);
    expect(await t.store.get(t.second)).toBeUndefined();
    t.f.clock.now += HOUR;
    await t.send();
    expect(t.push.woken).toHaveLength(1);
    expect(t.logs).toEqual([]);
  });

  it('keeps a newer subscription made while a wake-up to the old one was in flight', async () => {
    const t = await setup();
    await t.services.push.subscribe(t.second, subscriptionBody('https://fcm.googleapis.com/old'));
    t.push.answers.push(async () => {
      await t.services.push.subscribe(t.second, subscriptionBody('https://fcm.googleapis.com/new'));
      return 'gone';
    });
    await t.send();
    expect((await t.store.get(t.second))?.subscription.endpoint).toBe(
      'https://fcm.googleapis.com/new',
    );
  });

  it('never fails a send because of a wake-up, and counts the failure in one line', async () => {
    const t = await setup();
    const body = subscriptionBody('https://fcm.googleapis.com/fcm/send/secret-endpoint');
    await t.services.push.subscribe(t.second, body);
    t.push.answers.push(async () => {
      throw new Error('push service unreachable');
    });
    await expect(t.send()).resolves.toMatchObject({ duplicate: false });
    expect(t.logs).toEqual([JSON.stringify({ wakeupFailed: 1 })]);
    // A failing store is swallowed the same way: one line per device whose wake-up failed
    // (both devices' subscriptions are looked up).
    t.store.get = async () => {
      throw new Error('storage down');
    };
    t.f.clock.now += WINDOW_MS;
    await expect(t.send()).resolves.toMatchObject({ duplicate: false });
    expect(t.logs).toEqual(Array(3).fill(JSON.stringify({ wakeupFailed: 1 })));
    expect(await t.f.fetchAll(t.second)).toHaveLength(2);
    // Nothing identifying in the log: no address, device, endpoint or key.
    const text = t.logs.join('\n');
    for (const secret of [t.f.address, 'secret-endpoint', body.keys.p256dh, body.keys.auth]) {
      expect(text).not.toContain(secret);
    }
  });

  it('does not wake a subscription of an earlier generation of the device id', async () => {
    const t = await setup();
    const stale = { ...t.second.ref, registrationId: (t.second.ref.registrationId + 1) >>> 0 };
    await t.store.put(
      stale,
      {
        kind: 'webpush',
        endpoint: 'https://fcm.googleapis.com/x',
        p256dh: KEY,
        auth: new Uint8Array(16),
      },
      0,
    );
    await t.send();
    expect(t.push.woken).toEqual([]);
  });

  it('stops waking hosts a deployment dropped from its list', async () => {
    const t = await setup();
    await t.services.push.subscribe(t.second, subscriptionBody('https://web.push.apple.com/abc'));
    (t.webPush.endpoints as { allowedHosts: string[] }).allowedHosts = ['fcm.googleapis.com'];
    await t.send();
    expect(t.push.woken).toEqual([]);
  });

  it('removes the subscription of a removed device', async () => {
    const t = await setup();
    await t.services.push.subscribe(t.second, subscriptionBody());
    await t.services.accounts.removeDevice(t.second, t.second.deviceId);
    expect(await t.store.get(t.second)).toBeUndefined();
  });
});

describe('subscriptions', () => {
  it('stores the caller generation and replaces an earlier subscription with its wake time', async () => {
    const t = await setup();
    await t.services.push.subscribe(t.second, subscriptionBody('https://fcm.googleapis.com/a'));
    await t.send();
    await t.services.push.subscribe(t.second, subscriptionBody('https://fcm.googleapis.com/b'));
    const stored = await t.store.get(t.second);
    expect(stored).toMatchObject({
      device: t.second.ref,
      subscription: { endpoint: 'https://fcm.googleapis.com/b' },
    });
    expect(stored?.wakeUntil).toBeUndefined();
    // A new endpoint is woken at the next message, whatever the old one's claim (the first
    // message still waits, so this wake-up is not forced).
    await t.send();
    expect(t.push.woken.map((s) => s.endpoint)).toEqual([
      'https://fcm.googleapis.com/a',
      'https://fcm.googleapis.com/b',
    ]);
  });

  it('refuses endpoints outside the list and keys off the curve, naming no endpoint', async () => {
    const t = await setup();
    const refused = [
      'https://evil.example/fcm.googleapis.com',
      'https://fcm.googleapis.com.evil.example/x',
      'https://fcm.googleapis.com:8443/x',
      'https://user@fcm.googleapis.com/x',
      'http://fcm.googleapis.com/x',
      'http://localhost:8080/x',
      'https://push.apple.com/x',
    ];
    for (const endpoint of refused) {
      const err = await t.services.push
        .subscribe(t.second, subscriptionBody(endpoint))
        .catch((e) => e);
      expect(err, endpoint).toBeInstanceOf(ServiceError);
      expect((err as ServiceError).code).toBe('BAD_REQUEST');
      expect((err as ServiceError).message).not.toContain('evil');
    }
    const offCurve = {
      ...subscriptionBody(),
      keys: { p256dh: toBase64Url(new Uint8Array(65).fill(4)), auth: toBase64Url(randomBytes(16)) },
    };
    await expect(t.services.push.subscribe(t.second, offCurve)).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    expect(await t.store.get(t.second)).toBeUndefined();
  });

  it('unsubscribes, also when nothing is stored', async () => {
    const t = await setup();
    await t.services.push.subscribe(t.second, subscriptionBody());
    expect(await t.services.push.unsubscribe(t.second)).toEqual({ removed: true });
    expect(await t.services.push.unsubscribe(t.second)).toEqual({ removed: false });
    await t.send();
    expect(t.push.woken).toEqual([]);
  });

  it('answers NOT_CONFIGURED without a sender, but still removes', async () => {
    const store = new MemoryPushSubscriptions();
    const off = new WakeupService(
      { subscriptions: store },
      () => 0,
      DEFAULT_CONFIG,
      () => undefined,
    );
    const t = await setup();
    await expect(off.pushKey()).rejects.toMatchObject({ code: 'NOT_CONFIGURED' });
    await expect(off.subscribe(t.second, subscriptionBody())).rejects.toMatchObject({
      code: 'NOT_CONFIGURED',
    });
    await store.put(
      t.second.ref,
      {
        kind: 'webpush',
        endpoint: 'https://fcm.googleapis.com/x',
        p256dh: KEY,
        auth: new Uint8Array(16),
      },
      0,
    );
    expect(await off.wake(t.second.ref)).toBe('none');
    expect(await off.unsubscribe(t.second)).toEqual({ removed: true });
  });

  it('serves the application server key as base64url', async () => {
    const t = await setup();
    expect(await t.services.push.pushKey()).toEqual({ applicationServerKey: toBase64Url(KEY) });
  });
});
