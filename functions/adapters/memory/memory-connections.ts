/** In-memory {@link ConnectionRegistry}: one live connection per device. */
import type { DeviceRef } from '../../domain/ports.ts';
import type {
  ConnectionOptions,
  ConnectionRegistry,
  LiveConnection,
} from '../../domain/realtime-ports.ts';

const deviceKey = (d: { address: string; deviceId: number }): string =>
  `${d.address}#${d.deviceId}`;

/**
 * Live connections in two `Map`s: by device, and connection id to device.
 *
 * @example
 * const connections = new MemoryConnections();
 * await connections.put(caller.ref, 'c1', Date.now()); // undefined: nothing replaced
 */
export class MemoryConnections implements ConnectionRegistry {
  private readonly byDevice = new Map<string, LiveConnection>();
  private readonly devices = new Map<string, string>();

  async put(
    device: DeviceRef,
    connectionId: string,
    connectedAt: number,
    options?: ConnectionOptions,
  ): Promise<string | undefined> {
    const key = deviceKey(device);
    const previous = this.byDevice.get(key);
    if (previous) this.devices.delete(previous.connectionId);
    this.byDevice.set(key, {
      connectionId,
      device: { ...device },
      connectedAt,
      ...(options?.payloads ? { payloads: true } : {}),
    });
    this.devices.set(connectionId, key);
    return previous && previous.connectionId !== connectionId ? previous.connectionId : undefined;
  }

  async get(device: { address: string; deviceId: number }): Promise<LiveConnection | undefined> {
    return this.byDevice.get(deviceKey(device));
  }

  async remove(connectionId: string): Promise<boolean> {
    const key = this.devices.get(connectionId);
    if (key === undefined || this.byDevice.get(key)?.connectionId !== connectionId) return false;
    this.devices.delete(connectionId);
    this.byDevice.delete(key);
    return true;
  }

  async byConnection(connectionId: string): Promise<LiveConnection | undefined> {
    const key = this.devices.get(connectionId);
    const live = key === undefined ? undefined : this.byDevice.get(key);
    return live?.connectionId === connectionId ? live : undefined;
  }
}
