/** In-memory {@link PushSubscriptionStore}: one subscription per device. */
import type { DeviceRef } from '../../domain/ports.ts';
import {
  type DeviceKey,
  type PushSubscriptionRecord,
  type PushSubscriptionStore,
  type StoredPushSubscription,
  subscriptionTarget,
} from '../../domain/wakeup-ports.ts';

const deviceKey = (d: DeviceKey): string => `${d.address}#${d.deviceId}`;

/**
 * Push subscriptions in a `Map` by device. Single-threaded, so {@link claimWake} is atomic.
 *
 * @example
 * const store = new MemoryPushSubscriptions();
 * await store.put(caller.ref, subscription, Date.now());
 */
export class MemoryPushSubscriptions implements PushSubscriptionStore {
  private readonly byDevice = new Map<string, StoredPushSubscription>();

  async put(
    device: DeviceRef,
    subscription: PushSubscriptionRecord,
    createdAt: number,
  ): Promise<void> {
    this.byDevice.set(deviceKey(device), { device: { ...device }, subscription, createdAt });
  }

  async get(device: DeviceKey): Promise<StoredPushSubscription | undefined> {
    return this.byDevice.get(deviceKey(device));
  }

  async remove(device: DeviceKey, only?: PushSubscriptionRecord): Promise<boolean> {
    const key = deviceKey(device);
    const stored = this.byDevice.get(key);
    if (!stored) return false;
    if (only && subscriptionTarget(stored.subscription) !== subscriptionTarget(only)) return false;
    return this.byDevice.delete(key);
  }

  async claimWake(device: DeviceRef, now: number, until: number, force: boolean): Promise<boolean> {
    const key = deviceKey(device);
    const stored = this.byDevice.get(key);
    if (!stored || stored.device.registrationId !== device.registrationId) return false;
    if (!force && stored.wakeUntil !== undefined && stored.wakeUntil > now) return false;
    this.byDevice.set(key, { ...stored, wakeUntil: until });
    return true;
  }

  /** How many devices hold a subscription (for tests and the test kit's assertions). */
  get size(): number {
    return this.byDevice.size;
  }
}
