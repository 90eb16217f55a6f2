/**
 * Which sender devices a client accepts (docs/SDK.md §Device removal). A removed device keeps
 * its sender certificate until it expires and the service still stores a sealed send from it
 * (the send is unsigned), so the recipient decides:
 *
 * - a device it learned was removed (409 `extra`, 410, a device-list read) is refused at once;
 * - a device it already encrypts for is accepted (until the sender certificate expires, at most
 *   `SENDER_CERTIFICATE_LIFETIME_MS` after the removal);
 * - any other device (a new id, or a known id with another registration id) is accepted only if
 *   the service lists it with that registration id now. A failed read leaves the message on
 *   the server for a later attempt.
 *
 * A sender never adds itself to a device list on its own say-so: only the service's list does.
 *
 * The list of a sealed message's sender is read through the sealed route with the sender
 * account's access key (the one the message carried, else the one stored for the contact), so
 * the service does not learn whose list this account wanted after which message (docs/SDK.md
 * §Device removal). Only when no key is accepted (the sender rotated it, or its account is
 * gone) or for an identified message, whose sender the service knows anyway, is the list read
 * owner-signed.
 */
import type { DeviceChange } from '../protocol/engine.ts';
import type { StoreOp } from '../state/store.ts';
import { constantTimeEqual } from '../util/bytes.ts';
import type { CallOptions } from './call-options.ts';
import { type ClientState, type KnownDevice, sharesPayload } from './client-state.ts';
import { ApiError, DeviceRemovedError } from './errors.ts';
import type { SealpostHttpClient } from './http-client.ts';

/** Receives device-list changes of contacts (the app's `onDeviceChange`). */
export type DeviceChangeListener = (change: DeviceChange) => void;

/** How the message being checked reached this device. */
export interface SenderSource {
  /** Sealed: the service does not know who sent it (false for an identified send). */
  readonly sealed: boolean;
  /** The sender account's access key as the message carried it (its content frame). */
  readonly accessKey?: Uint8Array | undefined;
}

const same = (a: KnownDevice, b: KnownDevice) =>
  a.deviceId === b.deviceId && a.registrationId === b.registrationId;

/**
 * Ops that record `removed` as removed devices of `address` and drop them from its device list
 * (empty when nothing changes).
 *
 * @example await state.store.commit(await removedDeviceOps(state, bob, [{ deviceId: 2, registrationId }]));
 */
export async function removedDeviceOps(
  state: ClientState,
  address: string,
  removed: readonly KnownDevice[],
): Promise<StoreOp[]> {
  if (removed.length === 0) return [];
  const ops: StoreOp[] = [];
  const op = await state.removedOp(address, removed);
  if (op) ops.push(op);
  const known = await state.devices(address);
  const kept = known.filter((k) => !removed.some((r) => same(k, r)));
  if (kept.length !== known.length) ops.push(state.devicesOp(address, kept));
  return ops;
}

/** Accepts or refuses sender devices for one client. */
export class SenderCheck {
  constructor(
    private readonly ctx: {
      readonly http: SealpostHttpClient;
      readonly state: ClientState;
    },
  ) {}

  /**
   * Decides on a message from `sender`; returns the ops to commit with the message (the sender
   * recorded as a device of its account when the service vouched for it).
   *
   * @throws {DeviceRemovedError} if the device is removed or not listed by the service (the
   *   refusal is recorded at once).
   * @throws {ApiError | NetworkError} if the service's device list could not be read (e.g.
   *   `RATE_LIMITED`): retryable, the message stays on the server.
   * @example const ops = await senders.check(address, device, { sealed: true, accessKey }, call);
   */
  async check(
    address: string,
    sender: KnownDevice,
    source: SenderSource,
    call?: CallOptions,
  ): Promise<StoreOp[]> {
    const { state } = this.ctx;
    if ((await state.removedDevices(address)).some((d) => same(d, sender))) {
      throw new DeviceRemovedError(address, sender.deviceId);
    }
    const known = await state.devices(address);
    if (known.some((d) => same(d, sender))) return [];
    const listed = await this.listed(address, source, call);
    const gone = known.filter((k) => !listed.some((l) => same(k, l)));
    if (!listed.some((l) => same(l, sender))) {
      await state.store.commit(await removedDeviceOps(state, address, [...gone, sender]));
      throw new DeviceRemovedError(address, sender.deviceId);
    }
    const kept = known.filter((k) => !gone.includes(k) && k.deviceId !== sender.deviceId);
    // Recorded with the capabilities the service lists for it (docs/PROTOCOL.md §14.10).
    const vouched = listed.find((l) => same(l, sender));
    const recorded =
      vouched && sharesPayload(vouched) ? { ...sender, sharedPayload: true } : sender;
    const ops = [state.devicesOp(address, [...kept, recorded])];
    const removed = await state.removedOp(address, gone);
    if (removed) ops.push(removed);
    return ops;
  }

  /**
   * The service's device list of `address`: sealed with each access key this client has for
   * it (the message's, then the stored one), and owner-signed only when neither is accepted,
   * none is known, or the message was identified.
   */
  private async listed(
    address: string,
    source: SenderSource,
    call?: CallOptions,
  ): Promise<readonly (KnownDevice & { readonly capabilities?: readonly string[] })[]> {
    const { http, state } = this.ctx;
    if (source.sealed) {
      const keys: Uint8Array[] = [];
      for (const key of [source.accessKey, await state.accessKey(address)]) {
        if (key && !keys.some((k) => constantTimeEqual(k, key))) keys.push(key);
      }
      for (const accessKey of keys) {
        try {
          return (await http.fetchSealedDevices(address, { accessKey }, call)).devices;
        } catch (err) {
          // A rotated key, or an account that is gone (the sealed route does not tell which).
          if (!(err instanceof ApiError && err.code === 'UNAUTHORIZED')) throw err;
        }
      }
    }
    try {
      return (await http.listDevices(address, call)).devices;
    } catch (err) {
      // The account is gone: none of its devices is active.
      if (err instanceof ApiError && err.code === 'NOT_FOUND') return [];
      throw err;
    }
  }
}
