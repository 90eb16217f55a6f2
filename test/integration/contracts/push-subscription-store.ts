/** Contract of PushSubscriptionStore (docs/SERVICE.md §7.3, wake-ups). */
import { describe, expect, it } from 'vitest';
import { randomBytes } from '#functions/domain/crypto.ts';
import type { PushSubscriptionStore, WebPushSubscription } from '#functions/domain/wakeup-ports.ts';
import { newAccount } from '../../unit/functions/fixtures.ts';

const WINDOW = 60_000;

export function pushSubscriptionStoreContract(
  name: string,
  make: () => Promise<PushSubscriptionStore>,
): void {
  describe(`PushSubscriptionStore contract: ${name}`, () => {
    const device = () => ({ address: newAccount().address, deviceId: 2, registrationId: 9 });
    const subscription = (endpoint: string): WebPushSubscription => ({
      kind: 'webpush',
      endpoint,
      p256dh: randomBytes(65),
      auth: randomBytes(16),
    });

    it('keeps one subscription per device, with its generation, and replaces it', async () => {
      const store = await make();
      const d = device();
      const first = subscription('https://fcm.googleapis.com/a');
      await store.put(d, first, 1000);
      expect(await store.get(d)).toEqual({ device: d, subscription: first, createdAt: 1000 });
      const second = subscription('https://fcm.googleapis.com/b');
      await store.put({ ...d, registrationId: 10 }, second, 2000);
      expect(await store.get(d)).toEqual({
        device: { ...d, registrationId: 10 },
        subscription: second,
        createdAt: 2000,
      });
      expect(await store.get({ ...d, deviceId: 3 })).toBeUndefined();
    });

    it('removes, and with a subscription named only while it is still stored', async () => {
      const store = await make();
      const d = device();
      const old = subscription('https://fcm.googleapis.com/old');
      const current = subscription('https://fcm.googleapis.com/new');
      await store.put(d, current, 1000);
      expect(await store.remove(d, old)).toBe(false);
      expect((await store.get(d))?.subscription.endpoint).toBe('https://fcm.googleapis.com/new');
      expect(await store.remove(d, current)).toBe(true);
      expect(await store.get(d)).toBeUndefined();
      expect(await store.remove(d)).toBe(false);
      await store.put(d, current, 1000);
      expect(await store.remove(d)).toBe(true);
      expect(await store.get(d)).toBeUndefined();
    });

    it('claims a wake-up at most once per window, only for the stored generation', async () => {
      const store = await make();
      const d = device();
      expect(await store.claimWake(d, 10_000, WINDOW)).toBe(false);
      await store.put(d, subscription('https://fcm.googleapis.com/a'), 1000);
      expect(await store.claimWake({ ...d, registrationId: 8 }, 10_000, WINDOW)).toBe(false);
      expect(await store.claimWake(d, 10_000, WINDOW)).toBe(true);
      expect((await store.get(d))?.lastWakeAt).toBe(10_000);
      expect(await store.claimWake(d, 10_000 + WINDOW - 1, WINDOW)).toBe(false);
      expect(await store.claimWake(d, 10_000 + WINDOW, WINDOW)).toBe(true);
      expect((await store.get(d))?.lastWakeAt).toBe(10_000 + WINDOW);
      // A claim never creates a subscription.
      const other = device();
      expect(await store.claimWake(other, 10_000, WINDOW)).toBe(false);
      expect(await store.get(other)).toBeUndefined();
    });

    it('grants exactly one of racing claims', async () => {
      const store = await make();
      const d = device();
      await store.put(d, subscription('https://fcm.googleapis.com/a'), 1000);
      const claims = await Promise.all(
        Array.from({ length: 8 }, () => store.claimWake(d, 50_000, WINDOW)),
      );
      expect(claims.filter(Boolean)).toHaveLength(1);
    });

    it('forgets the wake time when the subscription is replaced', async () => {
      const store = await make();
      const d = device();
      await store.put(d, subscription('https://fcm.googleapis.com/a'), 1000);
      expect(await store.claimWake(d, 10_000, WINDOW)).toBe(true);
      await store.put(d, subscription('https://fcm.googleapis.com/b'), 11_000);
      expect((await store.get(d))?.lastWakeAt).toBeUndefined();
      expect(await store.claimWake(d, 12_000, WINDOW)).toBe(true);
    });
  });
}
