/**
 * In-memory {@link AccountStore} for tests and the local server: same contract as the
 * DynamoDB adapter (test/integration/contracts), records copied in and out so callers cannot
 * mutate stored state.
 */
import type {
  AccountRecord,
  AccountSettingsUpdate,
  AccountStore,
  AccountView,
  DeviceRecord,
} from '../../domain/ports.ts';

type DeviceKeysUpdate = Parameters<AccountStore['updateDeviceKeys']>[2];

interface Entry {
  account: AccountRecord;
  devices: Map<number, DeviceRecord>;
}

const copyDevice = (d: DeviceRecord): DeviceRecord => structuredClone(d);

/** Accounts in a `Map`. */
export class MemoryAccountStore implements AccountStore {
  private readonly entries = new Map<string, Entry>();

  async create(account: AccountRecord, firstDevice: DeviceRecord): Promise<boolean> {
    if (this.entries.has(account.address)) return false;
    this.entries.set(account.address, {
      account: structuredClone(account),
      devices: new Map([[firstDevice.deviceId, copyDevice(firstDevice)]]),
    });
    return true;
  }

  async get(address: string): Promise<AccountView | undefined> {
    const e = this.entries.get(address);
    if (!e) return undefined;
    const devices = [...e.devices.values()].sort((a, b) => a.deviceId - b.deviceId).map(copyDevice);
    return { account: structuredClone(e.account), devices };
  }

  async addDevice(address: string, device: DeviceRecord): Promise<boolean> {
    const e = this.entries.get(address);
    if (!e || e.devices.has(device.deviceId)) return false;
    e.devices.set(device.deviceId, copyDevice(device));
    return true;
  }

  async removeDevice(address: string, deviceId: number): Promise<boolean> {
    return this.entries.get(address)?.devices.delete(deviceId) ?? false;
  }

  async updateSettings(address: string, settings: AccountSettingsUpdate): Promise<boolean> {
    const e = this.entries.get(address);
    if (!e) return false;
    // As the DynamoDB adapter: the mode and `unrestricted` are written together, and an older
    // caller's `unrestricted: false` is `contacts`.
    const mode =
      settings.firstContact ??
      (settings.unrestricted === undefined
        ? undefined
        : settings.unrestricted
          ? 'anyone'
          : 'contacts');
    e.account = {
      ...e.account,
      ...(settings.accessKeyHash ? { accessKeyHash: settings.accessKeyHash.slice() } : {}),
      ...(mode !== undefined ? { firstContact: mode, unrestricted: mode === 'anyone' } : {}),
    };
    return true;
  }

  /**
   * Sets or (with `undefined`) clears the account's suspension fields; false if there is no
   * such account. For the in-memory suspension store (memory-suspensions.ts), which keeps the
   * suspension index beside it; not part of the `AccountStore` port.
   */
  setSuspension(
    address: string,
    suspension: { suspendedAt: number; suspensionReason: string } | undefined,
  ): boolean {
    const e = this.entries.get(address);
    if (!e) return false;
    const { suspendedAt: _at, suspensionReason: _reason, ...rest } = e.account;
    e.account = suspension ? { ...rest, ...suspension } : rest;
    return true;
  }

  async updateDeviceKeys(
    address: string,
    deviceId: number,
    keys: DeviceKeysUpdate,
  ): Promise<boolean> {
    const devices = this.entries.get(address)?.devices;
    const d = devices?.get(deviceId);
    if (!devices || !d) return false;
    const { capabilities, ...prekeys } = keys;
    const { capabilities: before, ...rest } = { ...d, ...prekeys };
    // As the DynamoDB adapter: a given list replaces the device's; an empty one removes it.
    const after = capabilities ?? before;
    devices.set(
      deviceId,
      copyDevice(after && after.length > 0 ? { ...rest, capabilities: [...after] } : rest),
    );
    return true;
  }
}
