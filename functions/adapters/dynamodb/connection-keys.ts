/**
 * Keys of the realtime connection items (docs/SERVICE.md §7.3), beside the table's other keys
 * (keys.ts): one item per device naming its current connection, one per connection naming its
 * device. Both partitions are new prefixes; no existing key changes.
 */
import type { ItemKey } from './keys.ts';

const pad = (n: number): string => n.toString().padStart(10, '0');

/** The device's connection item: which connection is current. */
export const deviceConnectionKey = (device: { address: string; deviceId: number }): ItemKey => ({
  pk: `live#${device.address}#${pad(device.deviceId)}`,
  sk: 'live',
});

/** A connection's item: its device, while it is that device's current connection. */
export const connectionKey = (connectionId: string): ItemKey => ({
  pk: `conn#${connectionId}`,
  sk: 'conn',
});
