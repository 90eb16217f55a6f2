/**
 * Wake-ups end to end (docs/SERVICE.md §7.3): the test kit's local server posts real Web Push
 * requests (VAPID-signed, `aes128gcm`) to the `web-push-testing` stand-in, which verifies the
 * signature, decrypts what it receives and stores it. Bob's SDK client registers a subscription
 * the stand-in handed out; while his socket is open a message reaches him over it and nobody is
 * woken; once he is offline, a message wakes him exactly once with a notification that carries
 * no content; while it waits, later messages wake nobody until the whole hour after a window;
 * once he has acknowledged everything the next message wakes him at once; and a subscription
 * the stand-in has expired (410) is removed by the next wake-up.
 */
import { TestSealpost } from '@sealpost/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { SealpostClient } from '#sdk/client/index.ts';
import { MemoryStore } from '#sdk/state/memory-store.ts';
import { type PushStandIn, startPushStandIn } from '../helpers/push-stand-in.ts';

const WINDOW_MS = 60_000;
const HOUR = 3_600_000;
/** Ten minutes into the current hour (VAPID tokens are dated by the real clock). */
const START = Math.floor(Date.now() / HOUR) * HOUR + 10 * 60_000;

let standIn: PushStandIn;

beforeAll(async () => {
  // The stand-in reports a push it refuses with console.error; none is expected here.
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
  standIn = await startPushStandIn();
});

afterAll(async () => {
  await standIn?.close();
  vi.restoreAllMocks();
});

describe('wake-ups through a Web Push stand-in', () => {
  it('wakes an offline device once per waiting period and hour with no content, and drops an expired subscription', async () => {
    const logs: string[] = [];
    const sealpost = await TestSealpost.start({
      startTime: START,
      config: { wakeWindowMs: WINDOW_MS },
      log: (line) => logs.push(line),
    });
    const listening = await sealpost.listen();
    try {
      const base = { baseUrl: listening.url, trust: sealpost.trust, now: sealpost.now };
      const alice = await SealpostClient.register({ ...base, store: new MemoryStore() });
      const bob = await SealpostClient.register({
        ...base,
        store: new MemoryStore(),
        webSocket: WebSocket,
      });
      await alice.addContact(bob.contactCard());
      await bob.addContact(alice.contactCard());

      // The stand-in plays Bob's browser: it subscribes with the service's key.
      const { applicationServerKey } = await bob.http.pushKey();
      const subscription = await standIn.subscribe(applicationServerKey);
      const registered = await bob.subscribePush({
        subscription: { endpoint: subscription.endpoint, keys: subscription.keys },
      });
      expect(registered.endpoint).toBe(subscription.endpoint);
      expect(await sealpost.pushSubscription(bob.address, bob.deviceId)).toEqual({
        endpoint: subscription.endpoint,
      });

      // Online: the message goes over Bob's socket, nobody is woken.
      const abort = new AbortController();
      let opened!: () => void;
      const open = new Promise<void>((resolve) => {
        opened = resolve;
      });
      const online = (async () => {
        const texts: string[] = [];
        for await (const m of bob.receive({
          signal: abort.signal,
          onConnectionState: (s) => s === 'open' && opened(),
        })) {
          texts.push(m.text ?? '');
          abort.abort();
        }
        return texts;
      })();
      await open;
      await alice.send(bob.address, 'while online');
      expect(await online).toEqual(['while online']);
      expect(standIn.pushRequests()).toBe(0);

      // Offline: the socket is gone on the server's side too.
      listening.dropConnections();
      await alice.send(bob.address, 'offline one');
      expect(standIn.pushRequests()).toBe(1);
      // Exactly one notification, and it carries nothing: its decrypted payload is empty.
      expect(await standIn.notifications(subscription.clientHash)).toEqual(['']);

      // While 'offline one' waits: stored, nobody woken, past the window too, until the whole
      // hour after it (the claim holds until START's next hour).
      sealpost.advance(WINDOW_MS);
      await alice.send(bob.address, 'offline two');
      const nextHour = START - 10 * 60_000 + HOUR;
      sealpost.advance(nextHour - 1 - sealpost.now());
      await alice.send(bob.address, 'offline three');
      expect(standIn.pushRequests()).toBe(1);
      expect(await standIn.notifications(subscription.clientHash)).toEqual(['']);
      // At the hour, with messages still waiting: woken once more.
      sealpost.advance(1);
      await alice.send(bob.address, 'offline four');
      expect(standIn.pushRequests()).toBe(2);
      expect(await standIn.notifications(subscription.clientHash)).toEqual(['', '']);
      await alice.send(bob.address, 'offline five');
      expect(standIn.pushRequests()).toBe(2);

      // Bob takes and acknowledges everything: the next message wakes him at once, though the
      // last claim still holds; the one after it waits again.
      const first = await bob.receiveBatch();
      expect(first.messages.map((m) => m.text)).toEqual([
        'offline one',
        'offline two',
        'offline three',
        'offline four',
        'offline five',
      ]);
      await alice.send(bob.address, 'offline six');
      expect(standIn.pushRequests()).toBe(3);
      await alice.send(bob.address, 'offline seven');
      expect(standIn.pushRequests()).toBe(3);
      expect(await standIn.notifications(subscription.clientHash)).toEqual(['', '', '']);

      // The browser dropped the subscription: the next wake-up (re-armed by acknowledging
      // everything) gets 410 and removes it.
      expect((await bob.receiveBatch()).messages.map((m) => m.text)).toEqual([
        'offline six',
        'offline seven',
      ]);
      await standIn.expire(subscription.clientHash);
      await alice.send(bob.address, 'offline eight');
      expect(standIn.pushRequests()).toBe(4);
      expect(await sealpost.pushSubscription(bob.address, bob.deviceId)).toBeUndefined();
      sealpost.advance(HOUR + WINDOW_MS);
      await alice.send(bob.address, 'offline nine');
      expect(standIn.pushRequests()).toBe(4);
      expect(await standIn.notifications(subscription.clientHash)).toEqual(['', '', '']);

      // Nothing failed along the way, and every message waits for Bob.
      expect(logs.filter((l) => l.includes('wakeupFailed'))).toEqual([]);
      const { messages } = await bob.receiveBatch();
      expect(messages.map((m) => m.text)).toEqual(['offline eight', 'offline nine']);
    } finally {
      await listening.close();
    }
  });
});
