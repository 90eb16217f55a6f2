/**
 * The service's only cryptography: SHA-256, Ed25519 sign/verify and randomness,
 * straight from `node:crypto` (the fastest backend on Lambda). Raw 32-byte keys are wrapped in
 * the SDK's fixed DER prefixes (RFC 8410) instead of JWK to avoid base64 round trips; byte
 * comparisons use the SDK's `constantTimeEqual` (`sealpost/wire`).
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  randomBytes as nodeRandomBytes,
  sign,
  verify,
} from 'node:crypto';
import { ED25519_PKCS8_PREFIX, ED25519_SPKI_PREFIX, withDerPrefix } from 'sealpost/wire';

/** `prefix || key` as a Buffer over a fresh array (`node:crypto` takes DER as a Buffer). */
function derBuffer(prefix: Uint8Array, key: Uint8Array): Buffer {
  const der = withDerPrefix(prefix, key);
  return Buffer.from(der.buffer, der.byteOffset, der.byteLength);
}

/**
 * SHA-256 of `data`.
 *
 * @example sha256(new Uint8Array()).length // 32
 */
export function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

/** Parsed public keys: devices, server keys and franking session keys verify again and again. */
const publicKeys = new Map<string, KeyObject>();
/** Keys kept (about 100 bytes each plus OpenSSL's object); the map is emptied when full. */
const PUBLIC_KEY_CACHE_SIZE = 4096;

function publicKeyObject(publicKey: Uint8Array): KeyObject {
  const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString(
    'latin1',
  );
  let key = publicKeys.get(id);
  if (key === undefined) {
    key = createPublicKey({
      key: derBuffer(ED25519_SPKI_PREFIX, publicKey),
      format: 'der',
      type: 'spki',
    });
    if (publicKeys.size >= PUBLIC_KEY_CACHE_SIZE) publicKeys.clear();
    publicKeys.set(id, key);
  }
  return key;
}

/**
 * Verifies an Ed25519 signature (RFC 8032). Returns false, never throws, for a malformed key
 * or signature: callers answer every failure the same way.
 *
 * @example ed25519Verify(devicePublic, payload, signature)
 */
export function ed25519Verify(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    return verify(null, message, publicKeyObject(publicKey), signature);
  } catch {
    return false;
  }
}

/**
 * Signs `message` with the Ed25519 key of a 32-byte seed.
 *
 * @example ed25519Sign(serverSeed, senderCertificatePayload(fields))
 * @throws {RangeError} if `seed` is not 32 bytes.
 */
export function ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array {
  if (seed.length !== 32) throw new RangeError('seed must be 32 bytes');
  const der = derBuffer(ED25519_PKCS8_PREFIX, seed);
  try {
    const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    return new Uint8Array(sign(null, message, key));
  } finally {
    der.fill(0);
  }
}

/**
 * The Ed25519 public key of a 32-byte seed.
 *
 * @example ed25519PublicKey(seed).length // 32
 * @throws {RangeError} if `seed` is not 32 bytes.
 */
export function ed25519PublicKey(seed: Uint8Array): Uint8Array {
  if (seed.length !== 32) throw new RangeError('seed must be 32 bytes');
  const der = derBuffer(ED25519_PKCS8_PREFIX, seed);
  try {
    const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
    return new Uint8Array(spki.subarray(ED25519_SPKI_PREFIX.length));
  } finally {
    der.fill(0);
  }
}

/**
 * `n` bytes from the platform CSPRNG.
 *
 * @example randomBytes(32)
 */
export function randomBytes(n: number): Uint8Array {
  return new Uint8Array(nodeRandomBytes(n));
}

/**
 * Lowercase hex of `bytes`: map keys and storage keys of ids and positions.
 *
 * @example hex(Uint8Array.of(0xab, 1)) // 'ab01'
 */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}
