/**
 * Accounts and devices (docs/SERVICE.md §Accounts). An account is its
 * self-certifying address; registering it and linking devices needs a fresh proof of
 * possession of the account key. The service stores public keys and the SHA-256 of the
 * delivery access key, nothing else.
 */

import {
  addressFromDigest,
  addressPreimage,
  constantTimeEqual,
  decodeIdentityBundle,
  deviceLinkPayload,
  type IdentityBundle,
} from 'sealpost/wire';
import type {
  AccountSettings,
  AddDeviceRequest,
  DeviceList,
  DeviceRegistered,
  DeviceRemoved,
  FirstContactMode,
  RegisterRequest,
} from 'sealpost/wire/api';
import { fromBase64Url, knownCapabilities, registrationPayload } from 'sealpost/wire/api';
import type { AuthService, Caller } from './auth-service.ts';
import { replayToken, signingPublicOf } from './auth-service.ts';
import type { ServiceConfig } from './config.ts';
import { ed25519Verify, sha256 } from './crypto.ts';
import { DeviceIdTakenError, ServiceError, unauthorized } from './errors.ts';
import type {
  AccountStore,
  AccountView,
  Clock,
  DeviceRecord,
  PrekeyStore,
  RateLimiter,
  ReplayStore,
} from './ports.ts';
import {
  capabilitiesField,
  deviceRef,
  frankingKeyFromJson,
  kemPrekeyFromJson,
  registrationIdOf,
  signedPrekeyFromJson,
  verifyKemPrekey,
  verifySignedPrekey,
} from './records.ts';
import { authorizeSealedRead, type SealedCredentials } from './sealed-access.ts';
import type { PushSubscriptionStore } from './wakeup-ports.ts';

/** Registration and device management. */
export class AccountService {
  constructor(
    private readonly accounts: AccountStore,
    private readonly prekeys: PrekeyStore,
    private readonly replay: ReplayStore,
    private readonly limiter: RateLimiter,
    private readonly auth: AuthService,
    private readonly clock: Clock,
    private readonly config: ServiceConfig,
    /** Where devices' push subscriptions are (wake-ups); removing a device removes its own. */
    private readonly pushSubscriptions?: PushSubscriptionStore,
  ) {}

  /**
   * Registers `address` with its first device (id 1). Retrying an identical registration
   * answers the same; another device 1 for an existing address is a conflict. The account's
   * first-contact mode is `firstContact`, else `anyone` for `unrestricted: true`, else
   * `requests` (docs/SERVICE.md §15.1).
   *
   * @throws {ServiceError} `BAD_REQUEST` (`unrestricted` and `firstContact` disagree),
   *   `INVALID_SIGNATURE` (address, link, proof or prekey signature),
   *   `CLOCK_SKEW` (proof outside the time window), `ACCOUNT_EXISTS`.
   */
  async register(address: string, req: RegisterRequest): Promise<DeviceRegistered> {
    const firstContact = registrationMode(req);
    const now = this.clock();
    const device = await this.provenDevice(address, req, 1, now);
    const bundle = decodeIdentityBundle(device.identity);
    const created = await this.accounts.create(
      {
        address,
        accountPublic: bundle.accountPublic,
        accessKeyHash: sha256(fromBase64Url(req.accessKey, 'accessKey')),
        unrestricted: firstContact === 'anyone',
        firstContact,
        createdAt: now,
      },
      device,
    );
    if (!created) {
      const existing = await this.accounts.get(address);
      const first = existing?.devices.find((d) => d.deviceId === 1);
      if (!first || !constantTimeEqual(first.identity, device.identity)) {
        throw new ServiceError('ACCOUNT_EXISTS', 'the address is already registered');
      }
    }
    return { address, deviceId: 1 };
  }

  /**
   * Links another device under exactly the id the request names (the id the new device's link
   * signature covers, docs/SERVICE.md §4): ids of removed devices are reused, the registration
   * id tells the generations apart. The identity's account key must be the account's registered
   * key. Re-sending the same device answers its existing id; a proof is accepted once, so a
   * captured request cannot re-add a device after it was removed.
   *
   * @throws {ServiceError} `INVALID_SIGNATURE`, `CLOCK_SKEW`, `UNAUTHORIZED` (proof reused),
   *   `NOT_FOUND`, `DEVICE_LIMIT`, `BAD_REQUEST` (id above the device limit),
   *   {@link DeviceIdTakenError} `DEVICE_ID_TAKEN`.
   */
  async addDevice(address: string, req: AddDeviceRequest): Promise<DeviceRegistered> {
    const now = this.clock();
    const deviceId = req.deviceId;
    const device = await this.provenDevice(address, req, deviceId, now);
    const view = await this.accounts.get(address);
    if (!view) throw new ServiceError('NOT_FOUND', 'no such account');
    // PROTOCOL.md §1: every device of an account is linked by the one account key the address
    // hashes; a bundle under another key (even one hashing to the same address) is refused.
    const bundle = decodeIdentityBundle(device.identity);
    if (!constantTimeEqual(bundle.accountPublic, view.account.accountPublic)) {
      throw new ServiceError('INVALID_SIGNATURE', 'the account key is not the registered one');
    }
    const same = view.devices.find((d) => constantTimeEqual(d.identity, device.identity));
    if (same) return { address, deviceId: same.deviceId };
    const fresh = await this.replay.consume(
      replayToken(`r:${address}:${req.proof}`),
      this.auth.replayExpiry(req.timestamp),
      now,
    );
    if (!fresh) throw unauthorized();
    // Design §1: ids are 1..=maxDevices; the conditional put refuses an id in use, also one a
    // concurrent link took first.
    if (deviceId <= this.config.maxDevices && (await this.accounts.addDevice(address, device))) {
      return { address, deviceId };
    }
    const latest = deviceId <= this.config.maxDevices ? await this.accounts.get(address) : view;
    const free = this.freeIds(latest ?? view);
    if (free.length === 0) {
      throw new ServiceError(
        'DEVICE_LIMIT',
        `an account has at most ${this.config.maxDevices} devices`,
      );
    }
    if (deviceId > this.config.maxDevices) {
      throw new ServiceError('BAD_REQUEST', `deviceId must be in 1..${this.config.maxDevices}`);
    }
    throw new DeviceIdTakenError(free);
  }

  private freeIds(view: AccountView): number[] {
    const taken = new Set(view.devices.map((d) => d.deviceId));
    const free: number[] = [];
    for (let id = 1; id <= this.config.maxDevices; id++) if (!taken.has(id)) free.push(id);
    return free;
  }

  /**
   * The active device ids of `address`, for fan-out. Callers must be authenticated devices;
   * lists of other accounts are rate-limited per requester account and target account, like
   * bundle fetches (docs/SERVICE.md §9), because an answer confirms the account exists.
   *
   * @throws {ServiceError} `RATE_LIMITED`, `NOT_FOUND`.
   */
  async listDevices(caller: Caller, address: string): Promise<DeviceList> {
    if (caller.address !== address) {
      const { limit, windowMs } = this.config.deviceListRateLimit;
      const key = `devices:${caller.address}:${address}`;
      if (!(await this.limiter.hit(key, limit, windowMs, this.clock()))) {
        throw new ServiceError('RATE_LIMITED', 'too many device lists for this account');
      }
    }
    const view = await this.accounts.get(address);
    if (!view) throw new ServiceError('NOT_FOUND', 'no such account');
    return deviceListOf(view);
  }

  /**
   * The same list as {@link listDevices} without naming the caller (docs/SERVICE.md §15.6): a
   * recipient checks the device of a sealed message against its sender's list without telling
   * the service whose list it wanted after which message. Authorized by the listed account's
   * access key, or by nothing for an `anyone` account (`authorizeSealedRead`: no token; an
   * unknown account answers like a wrong key, never `NOT_FOUND`), then counted per listed
   * account (`sealedDeviceListRateLimit`).
   *
   * @throws {ServiceError} `UNAUTHORIZED`, `RATE_LIMITED`.
   */
  async listDevicesSealed(address: string, credentials: SealedCredentials): Promise<DeviceList> {
    const { view } = await authorizeSealedRead(this.accounts, address, credentials);
    const { limit, windowMs } = this.config.sealedDeviceListRateLimit;
    if (!(await this.limiter.hit(`sealeddevices:${address}`, limit, windowMs, this.clock()))) {
      throw new ServiceError('RATE_LIMITED', 'too many device lists for this account');
    }
    return deviceListOf(view);
  }

  /**
   * Removes a device of the caller's own account, its one-time prekeys and its push
   * subscription (a removed device is never woken). A device may remove
   * itself; removing another device also needs the account key's co-signature of the request
   * (`caller.accountSigned`), so a stolen device cannot lock the owner's others out. Its queued
   * messages become unreachable at once (mailboxes are per registration id, so a device that
   * later reuses the id starts empty) and expire by TTL.
   *
   * @throws {ServiceError} `FORBIDDEN` (another device, no valid account signature),
   *   `NOT_FOUND`.
   */
  async removeDevice(caller: Caller, deviceId: number): Promise<DeviceRemoved> {
    if (deviceId !== caller.deviceId && !caller.accountSigned) {
      throw new ServiceError(
        'FORBIDDEN',
        'removing another device needs the account signature (x-sealpost-account-signature)',
      );
    }
    const device = caller.view.devices.find((d) => d.deviceId === deviceId);
    if (!device || !(await this.accounts.removeDevice(caller.address, deviceId))) {
      throw new ServiceError('NOT_FOUND', 'no such device');
    }
    await this.prekeys.deleteAll(deviceRef(caller.address, device));
    await this.pushSubscriptions?.remove({ address: caller.address, deviceId });
    return { deviceId };
  }

  /**
   * Rotates the delivery access key and/or changes who may start a conversation
   * (`firstContact`; `unrestricted: true` is the older spelling of `anyone`, `false` of
   * `contacts`). Answers the mode when it was set (and `unrestricted` when that was given).
   *
   * @throws {ServiceError} `BAD_REQUEST` (`unrestricted` and `firstContact` disagree),
   *   `NOT_FOUND` if the account vanished meanwhile.
   */
  async updateSettings(caller: Caller, req: AccountSettings): Promise<AccountSettings> {
    const mode = settingsMode(req);
    if (req.accessKey === undefined && mode === undefined) return {};
    const settings: { accessKeyHash?: Uint8Array; firstContact?: FirstContactMode } = {};
    if (req.accessKey !== undefined)
      settings.accessKeyHash = sha256(fromBase64Url(req.accessKey, 'accessKey'));
    if (mode !== undefined) settings.firstContact = mode;
    if (!(await this.accounts.updateSettings(caller.address, settings))) {
      throw new ServiceError('NOT_FOUND', 'no such account');
    }
    const result: AccountSettings = {};
    if (mode !== undefined) result.firstContact = mode;
    if (req.unrestricted !== undefined) result.unrestricted = mode === 'anyone';
    return result;
  }

  /**
   * Every check of a registration or device-link request: the proof is fresh (first, before
   * any signature, so `CLOCK_SKEW` reveals nothing), the address is the hash of the account
   * key, the account key linked the device keys, the proof is signed by the account key for
   * this deployment, and both prekeys are signed by the device.
   */
  private async provenDevice(
    address: string,
    req: Omit<AddDeviceRequest, 'deviceId'>,
    deviceId: number,
    now: number,
  ): Promise<DeviceRecord> {
    this.auth.assertFresh(req.timestamp);
    const identity = fromBase64Url(req.identity, 'identity');
    let bundle: IdentityBundle;
    try {
      bundle = decodeIdentityBundle(identity);
    } catch {
      // Device id 0 or an epoch beyond 2^53: bytes the schema's length check lets through.
      throw new ServiceError('BAD_REQUEST', 'invalid field identity: not an IdentityBundle');
    }
    const frankingKey = frankingKeyFromJson(req.frankingKey);
    if (addressFromDigest(sha256(addressPreimage(bundle.accountPublic))) !== address) {
      throw new ServiceError('INVALID_SIGNATURE', 'the account key does not match the address');
    }
    const link = deviceLinkPayload(
      bundle.signingPublic,
      bundle.dhPublic,
      bundle.deviceId,
      bundle.linkEpoch,
    );
    if (!ed25519Verify(bundle.accountPublic, link, bundle.linkSignature)) {
      throw new ServiceError('INVALID_SIGNATURE', 'device link signature does not verify');
    }
    // PROTOCOL.md §1: the link signature covers the device id, so the identity is valid only
    // under the id the service assigns (1 at registration, the requested one when linking).
    if (bundle.deviceId !== deviceId) {
      throw new ServiceError('INVALID_SIGNATURE', 'the device link names another device id');
    }
    const proof = fromBase64Url(req.proof, 'proof');
    const audience = await this.auth.audience();
    if (
      !ed25519Verify(
        bundle.accountPublic,
        registrationPayload(address, identity, req.timestamp, audience),
        proof,
      )
    ) {
      throw new ServiceError('INVALID_SIGNATURE', 'registration proof does not verify');
    }
    const signedPrekey = signedPrekeyFromJson(req.signedPrekey);
    const lastResortKemPrekey = kemPrekeyFromJson(req.lastResortKemPrekey);
    verifySignedPrekey(signingPublicOf(identity), signedPrekey);
    verifyKemPrekey(signingPublicOf(identity), lastResortKemPrekey, true);
    // docs/SERVICE.md §4.2: only the names this version knows are kept; none, no field.
    const capabilities = knownCapabilities(req.capabilities);
    return {
      deviceId,
      identity,
      signedPrekey,
      lastResortKemPrekey,
      frankingKey,
      createdAt: now,
      ...(capabilities.length > 0 ? { capabilities } : {}),
    };
  }
}

/**
 * The active devices of an account with their registration ids and, for a device that
 * announced any, its capabilities (absent otherwise: docs/SERVICE.md §4.2).
 */
function deviceListOf(view: AccountView): DeviceList {
  return {
    address: view.account.address,
    devices: view.devices.map((d) => ({
      deviceId: d.deviceId,
      registrationId: registrationIdOf(d.identity),
      ...capabilitiesField(d),
    })),
  };
}

function disagree(): ServiceError {
  return new ServiceError('BAD_REQUEST', 'unrestricted and firstContact disagree');
}

/**
 * The mode a registration asks for: `firstContact`, else `anyone` for `unrestricted: true`,
 * else `requests` (the default). Given both, `unrestricted` must be true exactly for `anyone`.
 */
function registrationMode(req: RegisterRequest): FirstContactMode {
  if (req.firstContact === undefined) return req.unrestricted ? 'anyone' : 'requests';
  if (req.unrestricted !== undefined && req.unrestricted !== (req.firstContact === 'anyone')) {
    throw disagree();
  }
  return req.firstContact;
}

/**
 * The mode a settings change asks for, if any: `firstContact`, or `anyone`/`contacts` for
 * `unrestricted` true/false (its meaning before modes existed). Given both, they must agree.
 */
function settingsMode(req: AccountSettings): FirstContactMode | undefined {
  const legacy =
    req.unrestricted === undefined ? undefined : req.unrestricted ? 'anyone' : 'contacts';
  if (req.firstContact !== undefined && legacy !== undefined && legacy !== req.firstContact) {
    throw disagree();
  }
  return req.firstContact ?? legacy;
}
