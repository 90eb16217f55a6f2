/**
 * Owner authentication (docs/SERVICE.md §3.1): a request is signed by a device's Ed25519
 * signing key over `requestSignaturePayload` (which names this deployment's trust root as its
 * audience), within ±window of the server clock, and its nonce is accepted once. No passwords
 * or bearer tokens are stored.
 */

import { isAddress } from 'sealpost/wire';
import {
  ACCOUNT_SIGNATURE_HEADER,
  AUTH_HEADERS,
  accountRequestPayload,
  NONCE_BYTES,
  type RequestSignatureInput,
  requestSignaturePayload,
  toBase64Url,
  tryFromBase64Url,
} from 'sealpost/wire/api';
import type { ServiceConfig } from './config.ts';
import { ed25519Verify, sha256 } from './crypto.ts';
import { ClockSkewError, unauthorized } from './errors.ts';
import { ceilHour } from './mailbox-positions.ts';
import type {
  AccountStore,
  AccountView,
  Clock,
  DeviceRecord,
  DeviceRef,
  ReplayStore,
  SigningKeyProvider,
} from './ports.ts';
import { deviceRef } from './records.ts';

/** What the authenticator needs from an HTTP request. */
export interface SignedRequest {
  /** Upper-case method. */
  readonly method: string;
  /** Path plus query exactly as received. */
  readonly pathAndQuery: string;
  /** Exact body bytes (empty for none). */
  readonly body: Uint8Array;
  /** Header lookup (case-insensitive). */
  header(name: string): string | undefined;
}

/** An authenticated device. */
export interface Caller {
  readonly address: string;
  readonly deviceId: number;
  readonly device: DeviceRecord;
  /** The device generation: its mailbox and one-time prekeys. */
  readonly ref: DeviceRef;
  readonly view: AccountView;
  /**
   * True when the request also carried a valid `x-sealpost-account-signature`: the account key
   * co-signed this exact request (docs/SERVICE.md §3.1). Required to act on another device.
   */
  readonly accountSigned: boolean;
}

/**
 * How long a nonce record outlives the end of the signature window. A request is fresh while
 * `|now - timestamp| <= window`, so its record must still exist at `timestamp + window`
 * (inclusive); the margin also covers clock differences between server instances, which
 * compare the record's expiry against their own clocks.
 */
export const REPLAY_MARGIN_MS = 60_000;

/**
 * The stored form of a single-use token: SHA-256 of what identifies it (signer and nonce, or
 * account and proof), base64url. A stored token names no account or device, so the replay
 * records of an account's signed requests (the own-device sync copy's among them) cannot be
 * told apart from anyone else's in a dump of the table (docs/SERVICE.md §3.1).
 */
export function replayToken(parts: string): string {
  return toBase64Url(sha256(new TextEncoder().encode(parts)));
}

const DEVICE_PATTERN = /^[1-9][0-9]{0,9}$/;
const TIMESTAMP_PATTERN = /^[0-9]{1,16}$/;

/** The signing public key inside an IdentityBundle (bytes 32..64, PROTOCOL.md §1). */
export function signingPublicOf(identity: Uint8Array): Uint8Array {
  return identity.subarray(32, 64);
}

/** Verifies owner signatures and consumes nonces. */
export class AuthService {
  constructor(
    private readonly accounts: AccountStore,
    private readonly replay: ReplayStore,
    private readonly signingKeys: SigningKeyProvider,
    private readonly clock: Clock,
    private readonly config: ServiceConfig,
  ) {}

  /**
   * The audience every signature names: this deployment's trust root public key (32 bytes),
   * the key clients pin (docs/SERVICE.md §3.1).
   */
  async audience(): Promise<Uint8Array> {
    return (await this.signingKeys.get()).trustRoot;
  }

  /**
   * Authenticates a signed request. A timestamp outside the window is `CLOCK_SKEW` (with the
   * server time), checked before the device lookup, the signature and the nonce, so it reveals
   * nothing; every other failure (missing or malformed header, unknown device, bad signature,
   * reused nonce) is the same `UNAUTHORIZED`. An account co-signature is checked when present;
   * a bad one only leaves `accountSigned` false.
   *
   * @throws {ServiceError} `UNAUTHORIZED`, {@link ClockSkewError} `CLOCK_SKEW`.
   */
  async authenticate(req: SignedRequest): Promise<Caller> {
    const address = req.header(AUTH_HEADERS.address);
    const deviceText = req.header(AUTH_HEADERS.device);
    const timestampText = req.header(AUTH_HEADERS.timestamp);
    const nonceText = req.header(AUTH_HEADERS.nonce);
    const signatureText = req.header(AUTH_HEADERS.signature);
    if (!isAddress(address) || !deviceText || !DEVICE_PATTERN.test(deviceText))
      throw unauthorized();
    if (!timestampText || !TIMESTAMP_PATTERN.test(timestampText)) throw unauthorized();
    const deviceId = Number(deviceText);
    const timestamp = Number(timestampText);
    const nonce = nonceText === undefined ? undefined : tryFromBase64Url(nonceText);
    const signature = signatureText === undefined ? undefined : tryFromBase64Url(signatureText);
    if (deviceId > 0xffffffff || !Number.isSafeInteger(timestamp)) throw unauthorized();
    if (nonce?.length !== NONCE_BYTES || signature?.length !== 64) throw unauthorized();
    const now = this.assertFresh(timestamp);

    const view = await this.accounts.get(address);
    const device = view?.devices.find((d) => d.deviceId === deviceId);
    if (!view || !device) throw unauthorized();
    let input: RequestSignatureInput;
    let payload: Uint8Array;
    try {
      input = {
        audience: await this.audience(),
        method: req.method,
        pathAndQuery: req.pathAndQuery,
        bodyHash: sha256(req.body),
        timestamp,
        nonce,
        address,
        deviceId,
      };
      payload = requestSignaturePayload(input);
    } catch {
      throw unauthorized();
    }
    if (!ed25519Verify(signingPublicOf(device.identity), payload, signature)) throw unauthorized();
    // Consumed only after the signature verifies, so nobody but the device can burn its nonces.
    const token = replayToken(`n:${address}:${deviceId}:${nonceText}`);
    const fresh = await this.replay.consume(token, this.replayExpiry(timestamp), now);
    if (!fresh) throw unauthorized();
    const accountSignature = tryFromBase64Url(req.header(ACCOUNT_SIGNATURE_HEADER) ?? '');
    const accountSigned =
      accountSignature?.length === 64 &&
      ed25519Verify(view.account.accountPublic, accountRequestPayload(input), accountSignature);
    return { address, deviceId, device, ref: deviceRef(address, device), view, accountSigned };
  }

  /**
   * The server time, if `timestamp` is within the signature window of it.
   *
   * @throws {ClockSkewError} `CLOCK_SKEW` otherwise.
   */
  assertFresh(timestamp: number): number {
    const now = this.clock();
    if (Math.abs(now - timestamp) > this.config.signatureWindowMs) throw new ClockSkewError(now);
    return now;
  }

  /**
   * When the replay record of a request or proof signed at `timestamp` may expire: after the
   * last instant the timestamp is fresh, plus {@link REPLAY_MARGIN_MS}.
   */
  replayExpiry(timestamp: number): number {
    // Rounded up to the hour: a later expiry only protects longer, and no stored time of a
    // signed request is finer than the hour (docs/SERVICE.md §3.1).
    return ceilHour(timestamp + this.config.signatureWindowMs + REPLAY_MARGIN_MS);
  }
}
