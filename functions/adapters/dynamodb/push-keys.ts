/**
 * Key of the push subscription items (docs/SERVICE.md §7.3), beside the table's other keys
 * (keys.ts, connection-keys.ts): one item per device, like the device's connection item. The
 * partition is a new prefix; no existing key changes.
 */
import type { ItemKey } from './keys.ts';

const pad = (n: number): string => n.toString().padStart(10, '0');

/** The device's push subscription item. */
export const pushSubscriptionKey = (device: { address: string; deviceId: number }): ItemKey => ({
  pk: `push#${device.address}#${pad(device.deviceId)}`,
  sk: 'push',
});
