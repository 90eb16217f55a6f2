/**
 * Accounts and devices (docs/SERVICE.md §Accounts). An account is its
 * self-certifying address; registering it and linking devices needs a fresh proof of
 * possession of the account key. The service stores public keys and the SHA-256 of the
 * delivery access key, nothing else.
 */
import { fromBase64Url } from '../../sdk/wire/api/codec.ts';
import type {
  AccountSettings,
  AddDeviceRequest,
  DeviceList,
  DeviceRegistered,
  DeviceRemoved,
  RegisterRequest,
} from '../../sdk/wire/api/schemas.ts';
import { registrationPayload } from '../../sdk/wire/api/signing.ts';
import {
  addressFromDigest,
  addressPreimage,
  decodeIdentityBundle,
  deviceLinkPayload,
  type IdentityBundle,
} from '../../sdk/wire/identity.ts';
import type { AuthService, Caller } from './auth-service.ts';
import { signingPublicOf } from './auth-service.ts';
import type { ServiceConfig } from './config.ts';
import { constantTimeEquals, ed25519Verify, sha256 } from './crypto.ts';
import { ServiceError, unauthorized } from './errors.ts';
import type { AccountStore, Clock, DeviceRecord, PrekeyStore, ReplayStore } from './ports.ts';
import {
  deviceRef,
  kemPrekeyFromJson,
  registrationIdOf,
  signedPrekeyFromJson,
  verifyKemPrekey,
  verifySignedPrekey,
} from './records.ts';

/** Registration and device management. */
export class AccountService {
  constructor(
    private readonly accounts: AccountStore,
    private readonly prekeys: PrekeyStore,
    private readonly replay: ReplayStore,
    private readonly auth: AuthService,
    private readonly clock: Clock,
    private readonly config: ServiceConfig,
  ) {}

  /**
   * Registers `address` with its first device (id 1). Retrying an identical registration
   * answers the same; another device 1 for an existing address is a conflict.
   *
   * @throws {ServiceError} `INVALID_SIGNATURE` (address, link, proof or prekey signature),
   *   `UNAUTHORIZED` (proof outside the time window), `ACCOUNT_EXISTS`.
   */
  async register(address: string, req: RegisterRequest): Promise<DeviceRegistered> {
    const now = this.clock();
    const device = this.provenDevice(address, req, 1, now);
    const bundle = decodeIdentityBundle(device.identity);
    const created = await this.accounts.create(
      {
        address,
        accountPublic: bundle.accountPublic,
        accessKeyHash: sha256(fromBase64Url(req.accessKey, 'accessKey')),
        unrestricted: req.unrestricted ?? false,
        createdAt: now,
      },
      device,
    );
    if (!created) {
      const existing = await this.accounts.get(address);
      const first = existing?.devices.find((d) => d.deviceId === 1);
      if (!first || !constantTimeEquals(first.identity, device.identity)) {
        throw new ServiceError('ACCOUNT_EXISTS', 'the address is already registered');
      }
    }
    return { address, deviceId: 1 };
  }

  /**
   * Links another device under the smallest free id (ids of removed devices are reused; the
   * registration id tells the generations apart). Re-sending the same device answers its
   * existing id; a proof is
   * accepted once, so a captured request cannot re-add a device after it was removed.
   *
   * @throws {ServiceError} `INVALID_SIGNATURE`, `UNAUTHORIZED`, `NOT_FOUND`, `DEVICE_LIMIT`.
   */
  async addDevice(address: string, req: AddDeviceRequest): Promise<DeviceRegistered> {
    const now = this.clock();
    const candidate = this.provenDevice(address, req, 0, now);
    const token = `r:${address}:${req.proof}`;
    for (let attempt = 0; attempt < 5; attempt++) {
      const view = await this.accounts.get(address);
      if (!view) throw new ServiceError('NOT_FOUND', 'no such account');
      const same = view.devices.find((d) => constantTimeEquals(d.identity, candidate.identity));
      if (same) return { address, deviceId: same.deviceId };
      if (attempt === 0) {
        const fresh = await this.replay.consume(
          token,
          req.timestamp + this.config.signatureWindowMs,
          now,
        );
        if (!fresh) throw unauthorized();
      }
      // Design §1: ids are 1..=MAX_DEVICES, so a new device takes the smallest free one.
      const taken = new Set(view.devices.map((d) => d.deviceId));
      let free = 1;
      while (taken.has(free)) free++;
      if (free > this.config.maxDevices) {
        throw new ServiceError(
          'DEVICE_LIMIT',
          `an account has at most ${this.config.maxDevices} devices`,
        );
      }
      const device = { ...candidate, deviceId: free };
      if (await this.accounts.addDevice(address, device)) return { address, deviceId: free };
    }
    throw new ServiceError('UNAVAILABLE', 'too much contention adding a device; retry');
  }

  /**
   * The active device ids of `address`, for fan-out. Callers must be authenticated devices.
   *
   * @throws {ServiceError} `NOT_FOUND`.
   */
  async listDevices(address: string): Promise<DeviceList> {
    const view = await this.accounts.get(address);
    if (!view) throw new ServiceError('NOT_FOUND', 'no such account');
    return {
      address,
      devices: view.devices.map((d) => ({
        deviceId: d.deviceId,
        registrationId: registrationIdOf(d.identity),
      })),
    };
  }

  /**
   * Removes a device of the caller's own account and its one-time prekeys. Its queued
   * messages become unreachable at once (mailboxes are per registration id, so a device that
   * later reuses the id starts empty) and expire by TTL.
   *
   * @throws {ServiceError} `NOT_FOUND`.
   */
  async removeDevice(caller: Caller, deviceId: number): Promise<DeviceRemoved> {
    const device = caller.view.devices.find((d) => d.deviceId === deviceId);
    if (!device || !(await this.accounts.removeDevice(caller.address, deviceId))) {
      throw new ServiceError('NOT_FOUND', 'no such device');
    }
    await this.prekeys.deleteAll(deviceRef(caller.address, device));
    return { deviceId };
  }

  /**
   * Rotates the delivery access key and/or changes the unrestricted setting.
   *
   * @throws {ServiceError} `NOT_FOUND` if the account vanished meanwhile.
   */
  async updateSettings(caller: Caller, req: AccountSettings): Promise<AccountSettings> {
    if (req.accessKey === undefined && req.unrestricted === undefined) return {};
    const settings: { accessKeyHash?: Uint8Array; unrestricted?: boolean } = {};
    if (req.accessKey !== undefined)
      settings.accessKeyHash = sha256(fromBase64Url(req.accessKey, 'accessKey'));
    if (req.unrestricted !== undefined) settings.unrestricted = req.unrestricted;
    if (!(await this.accounts.updateSettings(caller.address, settings))) {
      throw new ServiceError('NOT_FOUND', 'no such account');
    }
    const result: { unrestricted?: boolean } = {};
    if (req.unrestricted !== undefined) result.unrestricted = req.unrestricted;
    return result;
  }

  /**
   * Every check of a registration or device-link request: the address is the hash of the
   * account key, the account key linked the device keys, the proof is fresh and signed by the
   * account key, and both prekeys are signed by the device.
   */
  private provenDevice(
    address: string,
    req: AddDeviceRequest,
    deviceId: number,
    now: number,
  ): DeviceRecord {
    const identity = fromBase64Url(req.identity, 'identity');
    const bundle: IdentityBundle = decodeIdentityBundle(identity);
    if (addressFromDigest(sha256(addressPreimage(bundle.accountPublic))) !== address) {
      throw new ServiceError('INVALID_SIGNATURE', 'the account key does not match the address');
    }
    const link = deviceLinkPayload(bundle.signingPublic, bundle.dhPublic);
    if (!ed25519Verify(bundle.accountPublic, link, bundle.linkSignature)) {
      throw new ServiceError('INVALID_SIGNATURE', 'device link signature does not verify');
    }
    if (!this.auth.isFresh(req.timestamp)) throw unauthorized();
    const proof = fromBase64Url(req.proof, 'proof');
    if (
      !ed25519Verify(
        bundle.accountPublic,
        registrationPayload(address, identity, req.timestamp),
        proof,
      )
    ) {
      throw new ServiceError('INVALID_SIGNATURE', 'registration proof does not verify');
    }
    const signedPrekey = signedPrekeyFromJson(req.signedPrekey);
    const lastResortKemPrekey = kemPrekeyFromJson(req.lastResortKemPrekey);
    verifySignedPrekey(signingPublicOf(identity), signedPrekey);
    verifyKemPrekey(signingPublicOf(identity), lastResortKemPrekey, true);
    return { deviceId, identity, signedPrekey, lastResortKemPrekey, createdAt: now };
  }
}
