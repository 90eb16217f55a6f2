/**
 * Signature payloads of the service API (docs/SERVICE.md §Authentication). Pure byte
 * builders: the SDK signs them with its crypto backend, the service verifies them. Hashing the
 * body is the caller's job (this module does no cryptography).
 */

import { ArgumentRangeError, ArgumentTypeError } from '../../util/argument-errors.ts';
import { assertBytes, ByteWriter, utf8 } from '../../util/bytes.ts';
import { addressToBytes, IDENTITY_BUNDLE_BYTES } from '../identity.ts';
import { LABELS } from '../labels.ts';
import { NONCE_BYTES } from './limits.ts';

/** Header names of an owner-signed request (lower case, as HTTP/2 and API Gateway deliver them). */
export const AUTH_HEADERS = {
  address: 'x-sealpost-address',
  device: 'x-sealpost-device',
  timestamp: 'x-sealpost-timestamp',
  nonce: 'x-sealpost-nonce',
  signature: 'x-sealpost-signature',
} as const;

/**
 * Header carrying the account key's Ed25519 signature (base64url, 64 bytes) over
 * {@link accountRequestPayload}: required when a device removes another device.
 */
export const ACCOUNT_SIGNATURE_HEADER = 'x-sealpost-account-signature';

/** Header carrying the recipient's 16-byte delivery access key (base64url) on a sealed send. */
export const ACCESS_KEY_HEADER = 'x-sealpost-access-key';

/**
 * Header of an anonymous token (base64url of a Privacy Pass token, RFC 9577 §2.2, type 0x0002):
 * pays for a sealed first message to a recipient that takes message requests, instead of the
 * access key (docs/SERVICE.md §15).
 */
export const TOKEN_HEADER = 'x-sealpost-token';

/**
 * Bytes of the audience every signature names: the deployment's 32-byte trust root public key
 * (docs/SERVICE.md §3.1), which the client pins and the service holds in its signing material.
 */
export const AUDIENCE_BYTES = 32;

/** Bytes of a SHA-256 body hash. */
export const BODY_HASH_BYTES = 32;

/** Largest method + path-and-query accepted in a signature payload (u16 length prefixes). */
export const MAX_SIGNED_PATH_BYTES = 2048;

function assertTimestamp(timestamp: number): void {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new ArgumentRangeError('timestamp must be a non-negative safe integer (ms)');
  }
}

/** The fields an owner signature covers. */
export interface RequestSignatureInput {
  /** The deployment's trust root public key (32 bytes), so a signature is valid at one service. */
  readonly audience: Uint8Array;
  /** HTTP method in upper case (`GET`, `PUT`, ...). */
  readonly method: string;
  /** Path plus query string exactly as sent (`/v1/messages?limit=10`). */
  readonly pathAndQuery: string;
  /** SHA-256 of the exact body bytes (of the empty string when there is no body). */
  readonly bodyHash: Uint8Array;
  /** Milliseconds since the Unix epoch; the server accepts ±5 minutes. */
  readonly timestamp: number;
  /** 16 random bytes, never reused: the server rejects a second use (replay). */
  readonly nonce: Uint8Array;
  /** The signing device's account address. */
  readonly address: string;
  /** The signing device's id. */
  readonly deviceId: number;
}

/**
 * The bytes a device signs with its Ed25519 signing key to authenticate a request:
 * `LABELS.REQUEST_SIGNATURE || audience(32) || var16(method) || var16(pathAndQuery) ||
 * bodyHash(32) || u64 timestamp || nonce(16) || addressBytes(20) || u32 deviceId`. Address and
 * device id are signed so a signature cannot be presented under another identity's headers; the
 * audience, so it cannot be presented to another deployment.
 *
 * @example
 * ```ts
 * const sig = await backend.ed25519Sign(deviceSeed, requestSignaturePayload({ method: 'GET',
 *   pathAndQuery: '/v1/messages', bodyHash: sha256(new Uint8Array()), timestamp: Date.now(),
 *   nonce, address, deviceId: 1 }));
 * ```
 * @throws {TypeError | RangeError} if a field has the wrong type, size or range.
 */
export function requestSignaturePayload(input: RequestSignatureInput): Uint8Array {
  return signedRequestBytes(LABELS.REQUEST_SIGNATURE, input);
}

/**
 * The bytes the **account** key signs to co-sign one request (removing another device):
 * `LABELS.ACCOUNT_REQUEST || <the same fields as requestSignaturePayload>`. The distinct label
 * keeps a device signature from ever standing in for an account signature; the shared fields
 * bind the co-signature to this exact request, nonce and signing device.
 *
 * @example
 * ```ts
 * const accountSig = await backend.ed25519Sign(accountSeed, accountRequestPayload(input));
 * ```
 * @throws {TypeError | RangeError} if a field has the wrong type, size or range.
 */
export function accountRequestPayload(input: RequestSignatureInput): Uint8Array {
  return signedRequestBytes(LABELS.ACCOUNT_REQUEST, input);
}

function signedRequestBytes(label: Uint8Array, input: RequestSignatureInput): Uint8Array {
  if (typeof input.method !== 'string' || !/^[A-Z]{1,16}$/.test(input.method)) {
    throw new ArgumentTypeError('method must be an upper-case HTTP method');
  }
  if (typeof input.pathAndQuery !== 'string' || !input.pathAndQuery.startsWith('/')) {
    throw new ArgumentTypeError('pathAndQuery must start with /');
  }
  const path = utf8(input.pathAndQuery);
  if (path.length > MAX_SIGNED_PATH_BYTES) throw new ArgumentRangeError('pathAndQuery is too long');
  assertBytes(input.audience, 'audience', AUDIENCE_BYTES);
  assertBytes(input.bodyHash, 'bodyHash', BODY_HASH_BYTES);
  assertBytes(input.nonce, 'nonce', NONCE_BYTES);
  assertTimestamp(input.timestamp);
  if (!Number.isInteger(input.deviceId) || input.deviceId < 1 || input.deviceId > 0xffffffff) {
    throw new ArgumentRangeError('deviceId must be an integer in 1..=4294967295');
  }
  const address = addressToBytes(input.address);
  return new ByteWriter(160 + path.length)
    .bytes(label)
    .bytes(input.audience)
    .var16(utf8(input.method))
    .var16(path)
    .bytes(input.bodyHash)
    .u64(input.timestamp)
    .bytes(input.nonce)
    .bytes(address)
    .u32(input.deviceId)
    .finish();
}

/**
 * The bytes the account key signs to prove possession when registering an account or adding a
 * device: `LABELS.REGISTRATION || audience(32) || addressBytes(20) || identityBundle(IDENTITY_BUNDLE_BYTES) ||
 * u64 timestamp`. The timestamp bounds a captured proof to the signature window, the audience
 * to one deployment; the service also refuses a second use of the same proof.
 *
 * @example
 * ```ts
 * const proof = await backend.ed25519Sign(accountSeed, registrationPayload(address, bundle, Date.now(), trustRoot));
 * ```
 * @throws {TypeError | RangeError} if the address is malformed, the bundle is not IDENTITY_BUNDLE_BYTES long,
 *   the audience is not 32 bytes or the timestamp is not a non-negative safe integer.
 */
export function registrationPayload(
  address: string,
  identityBundle: Uint8Array,
  timestamp: number,
  audience: Uint8Array,
): Uint8Array {
  assertBytes(identityBundle, 'identityBundle', IDENTITY_BUNDLE_BYTES);
  assertBytes(audience, 'audience', AUDIENCE_BYTES);
  assertTimestamp(timestamp);
  return new ByteWriter(96 + IDENTITY_BUNDLE_BYTES)
    .bytes(LABELS.REGISTRATION)
    .bytes(audience)
    .bytes(addressToBytes(address))
    .bytes(identityBundle)
    .u64(timestamp)
    .finish();
}
