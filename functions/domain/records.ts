/**
 * Conversions between the JSON wire shapes (already schema-validated, bytes as base64url) and
 * stored records, plus the prekey signature checks every upload path shares (docs/PROTOCOL.md §3.2).
 */

import { assertFrankingPublicKey } from 'sealpost/franking';
import {
  KEM_KIND_LAST_RESORT,
  KEM_KIND_ONE_TIME,
  kemPrekeyPayload,
  readU32be,
  signedPrekeyPayload,
} from 'sealpost/wire';
import type {
  DeviceCapability,
  KemPrekeyJson,
  OneTimePrekeyJson,
  SignedPrekeyJson,
} from 'sealpost/wire/api';
import { fromBase64Url, toBase64Url } from 'sealpost/wire/api';
import { ed25519Verify, sha256 } from './crypto.ts';
import { ServiceError } from './errors.ts';
import type {
  DeviceRecord,
  DeviceRef,
  StoredKemPrekey,
  StoredOneTimePrekey,
  StoredSignedPrekey,
} from './ports.ts';

/**
 * The registration id of a device: u32 from the first 4 bytes (big-endian) of SHA-256 of its
 * IdentityBundle. Clients can compute it from the identity they pinned; the service returns it
 * in bundles and device lists.
 *
 * @example registrationIdOf(device.identity) // 0..2^32-1
 */
export function registrationIdOf(identity: Uint8Array): number {
  const digest = sha256(identity);
  return readU32be(digest, 0);
}

/**
 * The generation reference of a device (mailbox and prekey partition).
 *
 * @example deviceRef(address, device).registrationId
 */
export function deviceRef(address: string, device: DeviceRecord): DeviceRef {
  return { address, deviceId: device.deviceId, registrationId: registrationIdOf(device.identity) };
}

/**
 * The `capabilities` field of a device in device lists and bundles (docs/SERVICE.md §4.2):
 * present only for a device that announced a capability, so answers about devices of older
 * clients keep their earlier shape.
 *
 * @example { deviceId: 1, ...capabilitiesField(device) } // { deviceId: 1, capabilities: ['sharedPayload'] }
 */
export function capabilitiesField(device: DeviceRecord): { capabilities?: DeviceCapability[] } {
  return device.capabilities && device.capabilities.length > 0
    ? { capabilities: [...device.capabilities] }
    : {};
}

/** Decodes a validated signed prekey. */
export function signedPrekeyFromJson(json: SignedPrekeyJson): StoredSignedPrekey {
  return {
    id: json.id,
    publicKey: fromBase64Url(json.publicKey, 'publicKey'),
    signature: fromBase64Url(json.signature, 'signature'),
  };
}

/** Decodes a validated one-time prekey. */
export function oneTimePrekeyFromJson(json: OneTimePrekeyJson): StoredOneTimePrekey {
  return { id: json.id, publicKey: fromBase64Url(json.publicKey, 'publicKey') };
}

/** Decodes a validated KEM prekey. */
export function kemPrekeyFromJson(json: KemPrekeyJson): StoredKemPrekey {
  return {
    id: json.id,
    publicKey: fromBase64Url(json.publicKey, 'publicKey'),
    signature: fromBase64Url(json.signature, 'signature'),
  };
}

/**
 * Decodes a validated device franking key and checks it is a ristretto255 public key
 * (docs/PROTOCOL.md §11.1): a canonical encoding of a point other than the identity. A key
 * that is not could never verify a franking signature, so the device's messages could not be
 * reported; it is refused at registration instead.
 *
 * @example frankingKeyFromJson(req.frankingKey)
 * @throws {ServiceError} `BAD_REQUEST` (400) naming the field.
 */
export function frankingKeyFromJson(text: string): Uint8Array {
  const key = fromBase64Url(text, 'frankingKey');
  try {
    assertFrankingPublicKey(key, 'frankingKey');
  } catch {
    throw new ServiceError(
      'BAD_REQUEST',
      'invalid field frankingKey: not a ristretto255 public key other than the identity',
    );
  }
  return key;
}

/** Encodes a signed prekey for the wire. */
export function signedPrekeyToJson(k: StoredSignedPrekey): SignedPrekeyJson {
  return { id: k.id, publicKey: toBase64Url(k.publicKey), signature: toBase64Url(k.signature) };
}

/** Encodes a one-time prekey for the wire. */
export function oneTimePrekeyToJson(k: StoredOneTimePrekey): OneTimePrekeyJson {
  return { id: k.id, publicKey: toBase64Url(k.publicKey) };
}

/** Encodes a KEM prekey for the wire. */
export function kemPrekeyToJson(k: StoredKemPrekey): KemPrekeyJson {
  return { id: k.id, publicKey: toBase64Url(k.publicKey), signature: toBase64Url(k.signature) };
}

function badSignature(what: string): ServiceError {
  return new ServiceError('INVALID_SIGNATURE', `${what} signature does not verify`);
}

/**
 * Checks a signed prekey's signature under the device signing key (docs/PROTOCOL.md §3.2).
 *
 * @throws {ServiceError} `INVALID_SIGNATURE` (422).
 */
export function verifySignedPrekey(signingPublic: Uint8Array, k: StoredSignedPrekey): void {
  if (!ed25519Verify(signingPublic, signedPrekeyPayload(k.id, k.publicKey), k.signature)) {
    throw badSignature('signed prekey');
  }
}

/**
 * Checks a KEM prekey's signature, binding its kind so a one-time key cannot be served as the
 * last-resort key or the other way round (docs/PROTOCOL.md §3.2).
 *
 * @throws {ServiceError} `INVALID_SIGNATURE` (422).
 */
export function verifyKemPrekey(
  signingPublic: Uint8Array,
  k: StoredKemPrekey,
  lastResort: boolean,
): void {
  const kind = lastResort ? KEM_KIND_LAST_RESORT : KEM_KIND_ONE_TIME;
  if (!ed25519Verify(signingPublic, kemPrekeyPayload(kind, k.id, k.publicKey), k.signature)) {
    throw badSignature(lastResort ? 'last-resort KEM prekey' : 'KEM prekey');
  }
}
