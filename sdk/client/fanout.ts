/**
 * Multi-device fan-out and device-list repair (docs/SDK.md §Sending; Signal's multi-device
 * rule, docs/SERVICE.md §7.1). A send names every active device of the recipient, each with a
 * sealed envelope of its own, or with its header of one shared payload (below). The client
 * remembers each contact's devices; when the server answers
 * `409 DEVICE_MISMATCH` it drops the `extra` devices and starts sessions with the `missing`
 * ones, and on `410 STALE_DEVICES` it starts fresh sessions with the replaced devices, then
 * seals again and retries with the same message id (nothing was stored by the refused send).
 *
 * Copies to the own account's other devices go through the identified route, which lists every
 * device of the account except the sending one (docs/SERVICE.md §7.1); the sealed
 * route would have to name the sending device too.
 *
 * A sealed delivery fetches the recipient's bundles through the sealed routes
 * (`GET /v1/sealed/bundles/...`) with the same authorization as the send (the access key or the
 * token), so the service never sees who looks up a recipient right before a sealed send to it;
 * identified sends and the own devices' copies use the owner-signed routes.
 *
 * A send to two or more devices that all announce `sharedPayload` goes out as one
 * multi-recipient request (docs/PROTOCOL.md §14): the content encrypted once as a shared
 * payload, one sealed header per device. Sealed sends use `PUT /v1/messages/multi` with the
 * account's authorization inside the body; copies to the own devices use
 * `PUT /v1/messages/multi/identified`. A single device, a device without the capability, or an
 * identified send to another account keeps the per-device envelopes.
 */
import type { CryptoBackend } from '../crypto/backend.ts';
import type { ProtocolEngine } from '../protocol/engine.ts';
import { type SealedSharedPayload, sealSharedPayload } from '../protocol/shared-payload.ts';
import { ArgumentRangeError } from '../util/argument-errors.ts';
import { readU32be, wipe } from '../util/bytes.ts';
import { toBase64Url } from '../wire/api/codec.ts';
import type { SendResponse } from '../wire/api/schemas.ts';
import { encodeIdentityBundle, type IdentityBundle } from '../wire/identity.ts';
import type { CallOptions } from './call-options.ts';
import type { CertificateCache } from './certificate-cache.ts';
import {
  type ClientState,
  type KnownDevice,
  knownDevice,
  type Registration,
} from './client-state.ts';
import {
  ApiError,
  DeviceMismatchError,
  deviceRefusalFor,
  SealedSendUnauthorizedError,
  SendFailedError,
  StaleDevicesError,
} from './errors.ts';
import {
  CapabilityCheck,
  multiRecipientAuth,
  sealMultiRecipientBody,
  usesSharedPayload,
} from './fanout-shared.ts';
import type { SealedAuth, SealpostHttpClient } from './http-client.ts';
import { bundleFromJson } from './json.ts';
import type { Moderators } from './moderators.ts';
import { type DeviceChangeListener, removedDeviceOps } from './sender-check.ts';

/** Device-list repairs per send before giving up (each may fetch bundles). */
export const MAX_SEND_REPAIRS = 3;

/**
 * The service's registration id of a device: u32 from the first four bytes (big-endian) of
 * SHA-256 of its 160-byte IdentityBundle (`RegistrationIdField`, sdk/wire/api/schemas.ts).
 *
 * @example registrationIdOf(backend, bundle.identity)
 */
export function registrationIdOf(backend: CryptoBackend, identity: IdentityBundle): number {
  const h = backend.sha256(encodeIdentityBundle(identity));
  return readU32be(h, 0);
}

/**
 * How one fan-out is authorized: sealed with the recipient's access key, a token (a message
 * request) or nothing (a recipient that takes anyone's), or identified.
 */
export type Delivery =
  | { readonly mode: 'sealed'; readonly auth: SealedAuth }
  | { readonly mode: 'identified' };

const IDENTIFIED: Delivery = { mode: 'identified' };

/** How one attempt of a send goes out. */
interface SendContext {
  readonly delivery: Delivery;
  readonly certificate: Uint8Array;
  readonly call: CallOptions | undefined;
}

/**
 * A sealed request refused with 401 `UNAUTHORIZED` is the recipient's refusal; a
 * multi-recipient refusal names the refusing accounts (§14.5), and the first one is reported.
 */
function sealedRefusal(err: unknown, address: string, delivery: Delivery): unknown {
  return err instanceof ApiError && err.code === 'UNAUTHORIZED' && delivery.mode === 'sealed'
    ? new SealedSendUnauthorizedError(err.accounts[0]?.address ?? address, { cause: err })
    : err;
}

/** The part of a 409/410 answer that `address` can repair, if the answer is one. */
function deviceRefusal(
  err: unknown,
  address: string,
): DeviceMismatchError | StaleDevicesError | undefined {
  return err instanceof DeviceMismatchError || err instanceof StaleDevicesError
    ? deviceRefusalFor(err, address)
    : undefined;
}

/** Sessions, device lists and the send-with-repair loop. */
export class Fanout {
  private readonly capabilities: CapabilityCheck;

  constructor(
    private readonly ctx: {
      readonly engine: ProtocolEngine;
      readonly http: SealpostHttpClient;
      readonly state: ClientState;
      readonly certificates: CertificateCache;
      readonly backend: CryptoBackend;
      readonly self: Registration;
      readonly onDeviceChange?: DeviceChangeListener | undefined;
      /** Seals with franking, repairing a missing moderator or recipient key once. */
      readonly moderators: Moderators;
    },
  ) {
    this.capabilities = new CapabilityCheck({
      http: ctx.http,
      state: ctx.state,
      now: () => ctx.engine.now(),
    });
  }

  /**
   * Seals `plaintext` for every device of `address` (for the own account: every other device)
   * and sends it, repairing the device list on 409/410. Two or more devices that all take
   * shared payloads get one multi-recipient request (sealed, or identified for the own
   * account); otherwise one envelope per device. Returns undefined when the own account has no
   * other device (nothing to send).
   *
   * @throws {RangeError} if a send to the own account is not identified (the sealed route
   *   cannot leave out the sending device, §7.1).
   * @throws {SealedSendUnauthorizedError} if a sealed send is refused with 401.
   * @throws {IdentityChangedError} if a device presents an identity other than the pinned one.
   * @throws {SendFailedError} if the device list still disagrees after {@link MAX_SEND_REPAIRS}.
   * @throws {ApiError | NetworkError} for other failures (a multi-recipient refusal carries
   *   `accounts`).
   * @example await fanout.send(bob, frame, createRequestId(rng), { mode: 'sealed', auth: { accessKey } });
   */
  async send(
    address: string,
    plaintext: Uint8Array,
    messageId: Uint8Array,
    delivery: Delivery,
    call?: CallOptions,
  ): Promise<{ response: SendResponse; devices: number } | undefined> {
    const own = address === this.ctx.self.address;
    if (own && delivery.mode !== 'identified') {
      throw new ArgumentRangeError('a send to the own account must be identified');
    }
    // Sealed once, at the first multi-recipient attempt, and kept across repairs: a refused
    // request stored nothing, and only the headers are sealed again (docs/PROTOCOL.md §14.5).
    let shared: SealedSharedPayload | undefined;
    try {
      for (let repair = 0; ; repair++) {
        let devices: KnownDevice[];
        try {
          devices = await this.prepare(address, delivery, call);
          if (repair === 0 && delivery.mode === 'sealed') {
            devices = await this.capabilities.check(address, devices, delivery.auth, call);
          }
        } catch (err) {
          throw sealedRefusal(err, address, delivery);
        }
        if (own && devices.length === 0) return undefined;
        const certificate = await this.ctx.certificates.current(call);
        try {
          // A repair resends with the same request id and the same authorization (the same
          // token: the service spends it once, for this request id).
          let response: SendResponse;
          if (usesSharedPayload(devices, delivery.mode === 'sealed' || own)) {
            const { engine } = this.ctx;
            shared ??= sealSharedPayload(engine.backend, engine.rng, plaintext);
            response = await this.sendShared(address, devices, plaintext, shared, messageId, {
              delivery,
              certificate,
              call,
            });
          } else {
            response = await this.sendEnvelopes(address, devices, plaintext, messageId, {
              delivery,
              certificate,
              call,
            });
          }
          return { response, devices: devices.length };
        } catch (err) {
          const refusal = deviceRefusal(err, address);
          if (refusal === undefined) throw sealedRefusal(err, address, delivery);
          if (repair >= MAX_SEND_REPAIRS) {
            throw new SendFailedError('the device list did not settle', { cause: err });
          }
          try {
            await this.repair(address, refusal, delivery, call);
          } catch (repairErr) {
            throw sealedRefusal(repairErr, address, delivery);
          }
        }
      }
    } finally {
      if (shared) wipe(shared.reference.key);
    }
  }

  /** One sealed envelope per device, in one request (`sendSealed` / `sendIdentified`). */
  private async sendEnvelopes(
    address: string,
    devices: readonly KnownDevice[],
    plaintext: Uint8Array,
    messageId: Uint8Array,
    how: SendContext,
  ): Promise<SendResponse> {
    const envelopes: { deviceId: number; registrationId: number; envelope: string }[] = [];
    for (const d of devices) {
      const peer = { address, deviceId: d.deviceId };
      const sealed = await this.ctx.moderators.seal(peer, plaintext, how.certificate, how.call);
      envelopes.push({
        deviceId: d.deviceId,
        registrationId: d.registrationId,
        envelope: toBase64Url(sealed),
      });
    }
    const body = { messageId: toBase64Url(messageId), envelopes };
    const { delivery } = how;
    return delivery.mode === 'sealed'
      ? this.ctx.http.sendSealed(address, body, delivery.auth, how.call)
      : this.ctx.http.sendIdentified(address, body, how.call);
  }

  /**
   * The shared payload and one header per device, in one multi-recipient request naming
   * `address` alone (`sendMulti` with the delivery's authorization, or `sendMultiIdentified`
   * for the own account's other devices, authorization kind none).
   */
  private async sendShared(
    address: string,
    devices: readonly KnownDevice[],
    plaintext: Uint8Array,
    shared: SealedSharedPayload,
    messageId: Uint8Array,
    how: SendContext,
  ): Promise<SendResponse> {
    const { delivery } = how;
    const body = await sealMultiRecipientBody(
      this.ctx.moderators,
      {
        address,
        devices,
        content: plaintext,
        shared,
        requestId: messageId,
        auth: delivery.mode === 'sealed' ? multiRecipientAuth(delivery.auth) : { kind: 'none' },
        certificate: how.certificate,
      },
      how.call,
    );
    return delivery.mode === 'sealed'
      ? this.ctx.http.sendMulti(body, how.call)
      : this.ctx.http.sendMultiIdentified(body, how.call);
  }

  /**
   * The devices of `address` to encrypt for, each with a session: the remembered list (all
   * devices' bundles are fetched when there is none), minus this device itself.
   */
  async prepare(
    address: string,
    delivery: Delivery = IDENTIFIED,
    call?: CallOptions,
  ): Promise<KnownDevice[]> {
    const own = address === this.ctx.self.address;
    let known = await this.ctx.state.devices(address);
    if (known.length === 0 && !own) known = await this.fetchAll(address, delivery, call);
    const out: KnownDevice[] = [];
    const needBundle: number[] = [];
    for (const d of known) {
      if (own && d.deviceId === this.ctx.self.deviceId) continue;
      if (await this.ctx.engine.hasSession({ address, deviceId: d.deviceId })) out.push(d);
      else needBundle.push(d.deviceId);
    }
    if (needBundle.length > 0) {
      out.push(...(await this.fetchDevices(address, needBundle, delivery, call)));
    }
    return out.sort((a, b) => a.deviceId - b.deviceId);
  }

  /** Applies a 409/410 answer to the remembered device list. */
  async repair(
    address: string,
    err: DeviceMismatchError | StaleDevicesError,
    delivery: Delivery = IDENTIFIED,
    call?: CallOptions,
  ): Promise<void> {
    const current = await this.ctx.state.devices(address);
    const drop = new Set(err instanceof DeviceMismatchError ? err.extra : err.stale);
    // The dropped generations are removed devices: a message from one is refused from now on
    // (docs/SDK.md §Device removal).
    const removed = current.filter((d) => drop.has(d.deviceId));
    await this.ctx.state.store.commit(await removedDeviceOps(this.ctx.state, address, removed));
    const fetch = (err instanceof DeviceMismatchError ? err.missing : err.stale).filter(
      (id) => !(address === this.ctx.self.address && id === this.ctx.self.deviceId),
    );
    if (fetch.length > 0) await this.fetchDevices(address, fetch, delivery, call);
  }

  /** Re-reads the own account's devices from the service (new linked devices, removals). */
  async refreshOwnDevices(call?: CallOptions): Promise<KnownDevice[]> {
    const list = await this.ctx.http.listDevices(this.ctx.self.address, call);
    const devices = list.devices.map((d) => knownDevice(d.deviceId, d.registrationId, d));
    const previous = new Map(
      (await this.ctx.state.devices(this.ctx.self.address)).map((d) => [d.deviceId, d]),
    );
    // A device whose registration id changed is a new device under a reused id: its session
    // must be rebuilt from a fresh bundle (prepare does so when it finds no matching entry).
    const unchanged = devices.filter(
      (d) => previous.get(d.deviceId)?.registrationId === d.registrationId,
    );
    const removed = [...previous.values()].filter(
      (p) => !unchanged.some((d) => d.deviceId === p.deviceId),
    );
    await this.ctx.state.store.commit([
      ...(await removedDeviceOps(this.ctx.state, this.ctx.self.address, removed)),
      this.ctx.state.devicesOp(this.ctx.self.address, unchanged),
    ]);
    const fresh = devices
      .filter((d) => !unchanged.includes(d) && d.deviceId !== this.ctx.self.deviceId)
      .map((d) => d.deviceId);
    if (fresh.length > 0) {
      await this.fetchDevices(this.ctx.self.address, fresh, IDENTIFIED, call);
    }
    return this.ctx.state.devices(this.ctx.self.address);
  }

  private async fetchAll(
    address: string,
    delivery: Delivery,
    call: CallOptions | undefined,
  ): Promise<KnownDevice[]> {
    const { http } = this.ctx;
    const res =
      delivery.mode === 'sealed'
        ? await http.fetchSealedBundles(address, delivery.auth, call)
        : await http.fetchBundles(address, call);
    return this.startSessions(address, res.devices);
  }

  private async fetchDevices(
    address: string,
    ids: readonly number[],
    delivery: Delivery,
    call: CallOptions | undefined,
  ): Promise<KnownDevice[]> {
    const { http } = this.ctx;
    const all: Parameters<typeof bundleFromJson>[1][] = [];
    for (const id of ids) {
      try {
        const res =
          delivery.mode === 'sealed'
            ? await http.fetchSealedDeviceBundle(address, id, delivery.auth, call)
            : await http.fetchDeviceBundle(address, id, call);
        all.push(...res.devices);
      } catch (err) {
        // A device removed between the 409 and this fetch: the next send reports it as extra.
        if (!(err instanceof ApiError && err.code === 'NOT_FOUND')) throw err;
      }
    }
    return this.startSessions(address, all);
  }

  /** Verifies each bundle (in the engine), starts sessions, and records the devices. */
  private async startSessions(
    address: string,
    bundles: readonly Parameters<typeof bundleFromJson>[1][],
  ): Promise<KnownDevice[]> {
    const started: KnownDevice[] = [];
    // At first contact every device is new: there is no change of a known list to announce.
    const firstContact = (await this.ctx.state.devices(address)).length === 0;
    for (const json of bundles) {
      if (address === this.ctx.self.address && json.deviceId === this.ctx.self.deviceId) continue;
      const bundle = bundleFromJson(address, json);
      // Verified for the address asked for, never the one the bundle names.
      const session = await this.ctx.engine.startSession(address, bundle);
      if (session.deviceChange && !firstContact) this.ctx.onDeviceChange?.(session.deviceChange);
      started.push(
        knownDevice(bundle.deviceId, registrationIdOf(this.ctx.backend, bundle.identity), json),
      );
    }
    const current = await this.ctx.state.devices(address);
    await this.ctx.state.store.commit([
      this.ctx.state.devicesOp(address, [...current, ...started]),
    ]);
    return started;
  }
}
