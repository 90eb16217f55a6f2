/** Contract of PushSubscriptionStore (docs/SERVICE.md §7.3, wake-ups). */
import { describe, expect, it } from 'vitest';
import { randomBytes } from '#functions/domain/crypto.ts';
import type { PushSubscriptionStore, WebPushSubscription } from '#functions/domain/wakeup-ports.ts';
import { newAccount } from '../../unit/functions/fixtures.ts';

const HOUR = 3_600_000;
/** 2026-01-01 00:10 UTC, and the next two whole hours. */
const NOW = 1_767_225_600_000 + 10 * 60_000;
const HOUR_1 = 1_767_225_600_000 + HOUR;
const HOUR_2 = HOUR_1 + HOUR;

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

    it('claims a wake-up until a whole hour, only for the stored generation', async () => {
      const store = await make();
      const d = device();
      expect(await store.claimWake(d, NOW, HOUR_1, false)).toBe(false);
      expect(await store.claimWake(d, NOW, HOUR_1, true)).toBe(false);
      await store.put(d, subscription('https://fcm.googleapis.com/a'), 1000);
      expect(await store.claimWake({ ...d, registrationId: 8 }, NOW, HOUR_1, false)).toBe(false);
      expect(await store.claimWake(d, NOW, HOUR_1, false)).toBe(true);
      // The claim's hour is stored, never the time of the claim.
      expect(await store.get(d)).toMatchObject({ wakeUntil: HOUR_1 });
      expect(await store.claimWake(d, NOW + 1, HOUR_1, false)).toBe(false);
      expect(await store.claimWake(d, HOUR_1 - 1, HOUR_2, false)).toBe(false);
      expect((await store.get(d))?.wakeUntil).toBe(HOUR_1);
      expect(await store.claimWake(d, HOUR_1, HOUR_2, false)).toBe(true);
      expect((await store.get(d))?.wakeUntil).toBe(HOUR_2);
      // A claim never creates a subscription.
      const other = device();
      expect(await store.claimWake(other, NOW, HOUR_1, false)).toBe(false);
      expect(await store.claimWake(other, NOW, HOUR_1, true)).toBe(false);
      expect(await store.get(other)).toBeUndefined();
    });

    it('forces a claim over one still holding, but only for the stored generation', async () => {
      const store = await make();
      const d = device();
      await store.put(d, subscription('https://fcm.googleapis.com/a'), 1000);
      expect(await store.claimWake(d, NOW, HOUR_2, false)).toBe(true);
      expect(await store.claimWake({ ...d, registrationId: 8 }, NOW + 1, HOUR_1, true)).toBe(false);
      expect((await store.get(d))?.wakeUntil).toBe(HOUR_2);
      expect(await store.claimWake(d, NOW + 1, HOUR_1, true)).toBe(true);
      expect((await store.get(d))?.wakeUntil).toBe(HOUR_1);
      expect(await store.claimWake(d, NOW + 2, HOUR_1, false)).toBe(false);
    });

    it('grants exactly one of racing claims', async () => {
      const store = await make();
      const d = device();
      await store.put(d, subscription('https://fcm.googleapis.com/a'), 1000);
      const claims = await Promise.all(
        Array.from({ length: 8 }, () => store.claimWake(d, NOW, HOUR_1, false)),
      );
      expect(claims.filter(Boolean)).toHaveLength(1);
      // Again once the claim has run out.
      const later = await Promise.all(
        Array.from({ length: 8 }, () => store.claimWake(d, HOUR_1, HOUR_2, false)),
      );
      expect(later.filter(Boolean)).toHaveLength(1);
    });

    it('forgets the claim when the subscription is replaced', async () => {
      const store = await make();
      const d = device();
      await store.put(d, subscription('https://fcm.googleapis.com/a'), 1000);
      expect(await store.claimWake(d, NOW, HOUR_1, false)).toBe(true);
      await store.put(d, subscription('https://fcm.googleapis.com/b'), 11_000);
      expect((await store.get(d))?.wakeUntil).toBeUndefined();
      expect(await store.claimWake(d, NOW + 1, HOUR_1, false)).toBe(true);
    });
  });
}
