/**
 * Prekeys (docs/SERVICE.md §5, docs/PROTOCOL.md §3): uploads with every signature
 * checked, counts for refill, and bundle fetches that claim one one-time EC and one one-time
 * KEM key atomically, falling back to the last-resort KEM key and omitting the EC key.
 */

import type { BundleDevice, BundleResponse, PrekeyCount, PrekeyUpload } from 'sealpost/wire/api';
import { knownCapabilities, toBase64Url } from 'sealpost/wire/api';
import type { Caller } from './auth-service.ts';
import { signingPublicOf } from './auth-service.ts';
import type { ServiceConfig } from './config.ts';
import { ServiceError } from './errors.ts';
import type {
  AccountStore,
  AccountView,
  Clock,
  DeviceRecord,
  PrekeyStore,
  RateLimiter,
} from './ports.ts';
import {
  capabilitiesField,
  deviceRef,
  kemPrekeyFromJson,
  kemPrekeyToJson,
  oneTimePrekeyFromJson,
  oneTimePrekeyToJson,
  signedPrekeyFromJson,
  signedPrekeyToJson,
  verifyKemPrekey,
  verifySignedPrekey,
} from './records.ts';
import { authorizeSealed, type SealedCredentials } from './sealed-access.ts';
import type { TokenService } from './token-service.ts';

/** Prekey upload, count and bundle fetch. */
export class PrekeyService {
  constructor(
    private readonly accounts: AccountStore,
    private readonly prekeys: PrekeyStore,
    private readonly limiter: RateLimiter,
    private readonly clock: Clock,
    private readonly config: ServiceConfig,
    /** Anonymous tokens for sealed bundle fetches; without it every token is invalid. */
    private readonly tokens?: TokenService,
  ) {}

  /**
   * Stores the caller device's prekeys after verifying every signature; nothing is stored if
   * one fails. `capabilities`, when given, replaces the device's (the known names only; an
   * empty list, or only unknown names, leaves it none: docs/SERVICE.md §4.2).
   *
   * @throws {ServiceError} `INVALID_SIGNATURE` (422), `PREKEY_LIMIT` (422), `NOT_FOUND`.
   */
  async upload(caller: Caller, req: PrekeyUpload): Promise<PrekeyCount> {
    const signingPublic = signingPublicOf(caller.device.identity);
    const signedPrekey = req.signedPrekey && signedPrekeyFromJson(req.signedPrekey);
    const lastResort = req.lastResortKemPrekey && kemPrekeyFromJson(req.lastResortKemPrekey);
    const ec = (req.oneTimePrekeys ?? []).map(oneTimePrekeyFromJson);
    const pq = (req.kemPrekeys ?? []).map(kemPrekeyFromJson);
    if (signedPrekey) verifySignedPrekey(signingPublic, signedPrekey);
    if (lastResort) verifyKemPrekey(signingPublic, lastResort, true);
    for (const k of pq) verifyKemPrekey(signingPublic, k, false);
    if (
      new Set(ec.map((k) => k.id)).size !== ec.length ||
      new Set(pq.map((k) => k.id)).size !== pq.length
    ) {
      throw new ServiceError('BAD_REQUEST', 'prekey ids must be unique within an upload');
    }

    const before = await this.prekeys.count(caller.ref);
    const max = this.config.maxStoredPrekeys;
    if (before.ec + ec.length > max || before.pq + pq.length > max) {
      throw new ServiceError(
        'PREKEY_LIMIT',
        `at most ${max} one-time prekeys of each kind are kept`,
      );
    }
    if (signedPrekey || lastResort || req.capabilities !== undefined) {
      const keys: Parameters<AccountStore['updateDeviceKeys']>[2] = {};
      if (signedPrekey) keys.signedPrekey = signedPrekey;
      if (lastResort) keys.lastResortKemPrekey = lastResort;
      if (req.capabilities !== undefined) keys.capabilities = knownCapabilities(req.capabilities);
      if (!(await this.accounts.updateDeviceKeys(caller.address, caller.deviceId, keys))) {
        throw new ServiceError('NOT_FOUND', 'no such device');
      }
    }
    if (ec.length > 0 || pq.length > 0) {
      await this.prekeys.addOneTime(caller.ref, ec, pq);
    }
    return this.prekeys.count(caller.ref);
  }

  /** One-time keys left for the caller's device. */
  count(caller: Caller): Promise<PrekeyCount> {
    return this.prekeys.count(caller.ref);
  }

  /**
   * Bundles of every device of `address` (or of `deviceId` only), each claiming one-time keys.
   * Rate-limited per requester account and target account.
   *
   * @throws {ServiceError} `RATE_LIMITED`, `NOT_FOUND`.
   */
  async fetch(caller: Caller, address: string, deviceId?: number): Promise<BundleResponse> {
    const { limit, windowMs } = this.config.bundleRateLimit;
    const key = `bundle:${caller.address}:${address}`;
    if (!(await this.limiter.hit(key, limit, windowMs, this.clock()))) {
      throw new ServiceError('RATE_LIMITED', 'too many bundle fetches for this recipient');
    }
    const view = await this.accounts.get(address);
    if (!view) throw new ServiceError('NOT_FOUND', 'no such account');
    return this.bundles(view, deviceId);
  }

  /**
   * Sealed bundle fetch (docs/SERVICE.md §15.4): the same answer as {@link fetch}, claiming
   * one-time keys, without naming the caller. Authorized like a sealed send
   * (`authorizeSealed`: the access key, a token for a recipient that takes requests, nothing
   * for one that takes anyone's; an unknown recipient is `UNAUTHORIZED`, never `NOT_FOUND`).
   * A token is not spent: it pays for at most `bundleFetchesPerToken` fetches; the other
   * fetches are counted per recipient (`sealedBundleRateLimit`).
   *
   * @throws {ServiceError} `BAD_REQUEST`, `INVALID_TOKEN`, `UNAUTHORIZED`, `RATE_LIMITED`,
   *   `NOT_FOUND` (no such device).
   */
  async fetchSealed(
    address: string,
    credentials: SealedCredentials,
    deviceId?: number,
  ): Promise<BundleResponse> {
    const { view, grant } = await authorizeSealed(this.accounts, this.tokens, address, credentials);
    if (grant.kind === 'token' && this.tokens) {
      await this.tokens.countFetch(grant.token);
    } else {
      const { limit, windowMs } = this.config.sealedBundleRateLimit;
      if (!(await this.limiter.hit(`sealedbundle:${address}`, limit, windowMs, this.clock()))) {
        throw new ServiceError('RATE_LIMITED', 'too many bundle fetches for this recipient');
      }
    }
    return this.bundles(view, deviceId);
  }

  private async bundles(view: AccountView, deviceId?: number): Promise<BundleResponse> {
    const address = view.account.address;
    const devices =
      deviceId === undefined ? view.devices : view.devices.filter((d) => d.deviceId === deviceId);
    if (devices.length === 0) throw new ServiceError('NOT_FOUND', 'no such device');
    const bundles = await Promise.all(devices.map((d) => this.bundleOf(address, d)));
    return { address, devices: bundles };
  }

  private async bundleOf(address: string, device: DeviceRecord): Promise<BundleDevice> {
    const ref = deviceRef(address, device);
    const claimed = await this.prekeys.claim(ref);
    const kem = claimed.pq ?? device.lastResortKemPrekey;
    const bundle: BundleDevice = {
      deviceId: device.deviceId,
      registrationId: ref.registrationId,
      identity: toBase64Url(device.identity),
      signedPrekey: signedPrekeyToJson(device.signedPrekey),
      kemPrekey: { ...kemPrekeyToJson(kem), lastResort: claimed.pq === undefined },
      frankingKey: toBase64Url(device.frankingKey),
      ...capabilitiesField(device),
    };
    return claimed.ec ? { ...bundle, oneTimePrekey: oneTimePrekeyToJson(claimed.ec) } : bundle;
  }
}
