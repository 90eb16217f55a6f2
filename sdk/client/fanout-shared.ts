/**
 * The multi-recipient side of the fan-out (docs/PROTOCOL.md §14, docs/SDK.md §Sending): which
 * sends share one payload, how their request is sealed, and how a contact's device
 * capabilities are kept current. `Fanout` (./fanout.ts) runs the send and its repairs.
 *
 * A send shares one payload only when it reaches two or more devices and every one of them
 * announced `sharedPayload` (a device that did not would drop a header it cannot open); a
 * single device keeps the per-device envelope, which is smaller (the payload adds its own
 * 51 bytes and an index record).
 */
import type { SealedSharedPayload } from '../protocol/shared-payload.ts';
import {
  encodeMultiRecipientRequest,
  type MultiRecipientAuth,
  type MultiRecipientDevice,
} from '../wire/multi-recipient.ts';
import type { CallOptions } from './call-options.ts';
import { type ClientState, type KnownDevice, knownDevice } from './client-state.ts';
import { ApiError } from './errors.ts';
import type { SealedAuth, SealpostHttpClient } from './http-client.ts';
import type { Moderators } from './moderators.ts';

/**
 * A contact's device list is re-read for capabilities at most this often per client, and only
 * while some of its devices are not known to take shared payloads.
 */
export const CAPABILITY_CHECK_MS = 24 * 60 * 60 * 1000;

/** Accounts whose last capability check a client remembers (the oldest are forgotten). */
export const MAX_CAPABILITY_CHECKS = 10_000;

/**
 * Whether a send to `devices` goes out as one multi-recipient request: two or more devices,
 * every one announcing `sharedPayload`, and a multi-recipient route for the delivery
 * (`routed`: a sealed send, or the identified copies to the own account, docs/PROTOCOL.md
 * §14.10).
 *
 * @example usesSharedPayload(devices, delivery.mode === 'sealed' || own)
 */
export function usesSharedPayload(devices: readonly KnownDevice[], routed: boolean): boolean {
  return routed && devices.length >= 2 && devices.every((d) => d.sharedPayload === true);
}

/**
 * The `authKind` of a multi-recipient request for a sealed send's authorization (§14.4): the
 * access key (1), the token (2) or none (0).
 *
 * @example multiRecipientAuth({ accessKey }) // { kind: 'accessKey', accessKey }
 */
export function multiRecipientAuth(auth: SealedAuth): MultiRecipientAuth {
  if (auth.accessKey !== undefined) return { kind: 'accessKey', accessKey: auth.accessKey };
  if (auth.token !== undefined) return { kind: 'token', token: auth.token };
  return { kind: 'none' };
}

/** What {@link sealMultiRecipientBody} seals. */
export interface SharedSend {
  readonly address: string;
  readonly devices: readonly KnownDevice[];
  /** The content frame: every header franks it (§14.7), the payload carries it. */
  readonly content: Uint8Array;
  readonly shared: SealedSharedPayload;
  readonly requestId: Uint8Array;
  readonly auth: MultiRecipientAuth;
  readonly certificate: Uint8Array;
}

/**
 * Seals one header per device of `send.address` (each a committed ratchet step, franked for
 * the content, with the franking repairs of {@link Moderators.sealHeader}) and encodes the
 * request naming that account alone with the shared payload.
 *
 * @throws as {@link Moderators.sealHeader}; ArgumentRangeError if the request passes a limit of
 *   §14.4 (more than 12 devices cannot happen: device lists hold at most 12).
 * @example const body = await sealMultiRecipientBody(moderators, { address, devices, content, shared, requestId, auth, certificate });
 */
export async function sealMultiRecipientBody(
  moderators: Pick<Moderators, 'sealHeader'>,
  send: SharedSend,
  call?: CallOptions,
): Promise<Uint8Array> {
  const devices: MultiRecipientDevice[] = [];
  for (const d of send.devices) {
    const peer = { address: send.address, deviceId: d.deviceId };
    const header = await moderators.sealHeader(
      peer,
      send.content,
      send.shared.reference,
      send.certificate,
      call,
    );
    devices.push({ deviceId: d.deviceId, registrationId: d.registrationId, header });
  }
  return encodeMultiRecipientRequest({
    requestId: send.requestId,
    accounts: [{ address: send.address, auth: send.auth, devices }],
    payload: send.shared.payload,
  });
}

/**
 * Keeps contacts' capability flags current. A contact whose devices did not all announce
 * `sharedPayload` when this client learned them may have upgraded since (a device announces it
 * with its next prekey upload; lists stored before capabilities carry no flags at all).
 */
export class CapabilityCheck {
  /** When each account's list was last re-read (the engine clock, ms), oldest first. */
  private readonly checkedAt = new Map<string, number>();

  constructor(
    private readonly ctx: {
      readonly http: Pick<SealpostHttpClient, 'fetchSealedDevices'>;
      readonly state: ClientState;
      readonly now: () => number;
    },
  ) {}

  /**
   * Before a sealed send to two or more devices of `address` not all known to take shared
   * payloads: re-reads the service's device list through the sealed route (authorized by the
   * send's access key, or nothing; never a token, which that route does not take), at most once
   * per {@link CAPABILITY_CHECK_MS} per account, and takes the flags of the devices it lists
   * under the same registration id, in the returned list and the stored one. Any other
   * difference is left to the send's own 409/410. A refused read changes nothing (the send then
   * reports its own refusal).
   *
   * @throws {NetworkError | AbortedError} if the read fails in transport.
   * @example devices = await capabilities.check(bob, devices, { accessKey }, call);
   */
  async check(
    address: string,
    devices: KnownDevice[],
    auth: SealedAuth,
    call?: CallOptions,
  ): Promise<KnownDevice[]> {
    if (auth.token !== undefined) return devices;
    if (devices.length < 2 || devices.every((d) => d.sharedPayload === true)) return devices;
    const now = this.ctx.now();
    const last = this.checkedAt.get(address);
    if (last !== undefined && now - last < CAPABILITY_CHECK_MS) return devices;
    this.remember(address, now);
    let listed: readonly {
      readonly deviceId: number;
      readonly registrationId: number;
      readonly capabilities?: readonly string[] | undefined;
    }[];
    try {
      const read = auth.accessKey === undefined ? {} : { accessKey: auth.accessKey };
      listed = (await this.ctx.http.fetchSealedDevices(address, read, call)).devices;
    } catch (err) {
      if (err instanceof ApiError) return devices;
      throw err;
    }
    const flagged = (d: KnownDevice): KnownDevice => {
      const entry = listed.find(
        (l) => l.deviceId === d.deviceId && l.registrationId === d.registrationId,
      );
      return entry === undefined ? d : knownDevice(d.deviceId, d.registrationId, entry);
    };
    const updated = devices.map(flagged);
    if (updated.every((d, i) => d.sharedPayload === devices[i]?.sharedPayload)) return devices;
    const { state } = this.ctx;
    await state.store.commit([
      state.devicesOp(address, (await state.devices(address)).map(flagged)),
    ]);
    return updated;
  }

  private remember(address: string, now: number): void {
    this.checkedAt.delete(address);
    if (this.checkedAt.size >= MAX_CAPABILITY_CHECKS) {
      const oldest = this.checkedAt.keys().next().value;
      if (oldest !== undefined) this.checkedAt.delete(oldest);
    }
    this.checkedAt.set(address, now);
  }
}
