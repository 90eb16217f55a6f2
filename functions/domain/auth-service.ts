/**
 * Owner authentication (docs/SERVICE.md §Authentication): a request is signed by a
 * device's Ed25519 signing key over `requestSignaturePayload`, within ±window of the server
 * clock, and its nonce is accepted once. No passwords or bearer tokens are stored.
 */
import { tryFromBase64Url } from '../../sdk/wire/api/codec.ts';
import { NONCE_BYTES } from '../../sdk/wire/api/limits.ts';
import { AUTH_HEADERS, requestSignaturePayload } from '../../sdk/wire/api/signing.ts';
import { isAddress } from '../../sdk/wire/identity.ts';
import type { ServiceConfig } from './config.ts';
import { ed25519Verify, sha256 } from './crypto.ts';
import { unauthorized } from './errors.ts';
import type {
  AccountStore,
  AccountView,
  Clock,
  DeviceRecord,
  DeviceRef,
  ReplayStore,
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
}

const DEVICE_PATTERN = /^[1-9][0-9]{0,9}$/;
const TIMESTAMP_PATTERN = /^[0-9]{1,16}$/;

/** The signing public key inside a 160-byte IdentityBundle (bytes 32..64, design §1). */
export function signingPublicOf(identity: Uint8Array): Uint8Array {
  return identity.subarray(32, 64);
}

/** Verifies owner signatures and consumes nonces. */
export class AuthService {
  constructor(
    private readonly accounts: AccountStore,
    private readonly replay: ReplayStore,
    private readonly clock: Clock,
    private readonly config: ServiceConfig,
  ) {}

  /**
   * Authenticates a signed request. Every failure (missing or malformed header, stale
   * timestamp, unknown device, bad signature, reused nonce) is the same 401.
   *
   * @throws {ServiceError} `UNAUTHORIZED`.
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
    const now = this.clock();
    if (Math.abs(now - timestamp) > this.config.signatureWindowMs) throw unauthorized();

    const view = await this.accounts.get(address);
    const device = view?.devices.find((d) => d.deviceId === deviceId);
    if (!view || !device) throw unauthorized();
    let payload: Uint8Array;
    try {
      payload = requestSignaturePayload({
        method: req.method,
        pathAndQuery: req.pathAndQuery,
        bodyHash: sha256(req.body),
        timestamp,
        nonce,
        address,
        deviceId,
      });
    } catch {
      throw unauthorized();
    }
    if (!ed25519Verify(signingPublicOf(device.identity), payload, signature)) throw unauthorized();
    // Consumed only after the signature verifies, so nobody but the device can burn its nonces.
    const token = `n:${address}:${deviceId}:${nonceText}`;
    const fresh = await this.replay.consume(token, timestamp + this.config.signatureWindowMs, now);
    if (!fresh) throw unauthorized();
    return { address, deviceId, device, ref: deviceRef(address, device), view };
  }

  /** True when `timestamp` is within the signature window of the server clock. */
  isFresh(timestamp: number): boolean {
    return Math.abs(this.clock() - timestamp) <= this.config.signatureWindowMs;
  }
}
