/**
 * Franking keys (PROTOCOL.md §11.1): ristretto255 scalars and points.
 *
 * ```
 * device:    okm = HKDF-SHA-256(ikm = dhPrivate, salt = empty, info = "Sealpost-Franking-Key-v1", L = 64)
 *            sk = okm mod l (little-endian), pk = sk*G
 * moderator: sk = random scalar, pk = sk*G
 * ```
 *
 * A device's key is derived from its X25519 identity private key, so there is no new secret to
 * store; the HKDF label separates the domains, so the X25519 key is never used as a ristretto
 * scalar itself.
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { type Rng, X25519_KEY_BYTES } from '../crypto/backend.ts';
import { InvalidKeyError } from '../errors.ts';
import { ArgumentRangeError } from '../util/argument-errors.ts';
import { assertBytes } from '../util/bytes.ts';
import { decodeScalar, FRANKING_PUBLIC_KEY_BYTES, FRANKING_SECRET_KEY_BYTES } from './encoding.ts';
import { encodeScalar, G, mulSecret, randomScalar, reduceWide } from './group.ts';
import { peerKey } from './key-cache.ts';
import { FRANKING_LABELS } from './labels.ts';

const EMPTY = new Uint8Array(0);

/** A franking key pair: a canonical 32-byte scalar and its 32-byte ristretto255 point. */
export interface FrankingKeyPair {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** The scalar of a secret key argument; throws (caller bug) if it is not a valid key. */
export function secretScalar(secretKey: Uint8Array, name: string): bigint {
  assertBytes(secretKey, name, FRANKING_SECRET_KEY_BYTES);
  const k = decodeScalar(secretKey, true);
  if (k === undefined) {
    throw new ArgumentRangeError(`${name} must be a canonical non-zero scalar`);
  }
  return k;
}

function pairOf(sk: bigint): FrankingKeyPair {
  return { secretKey: encodeScalar(sk), publicKey: mulSecret(G, sk).toBytes() };
}

/**
 * The franking key pair of a device, derived from its X25519 identity private key.
 * Deterministic; the derived bytes are wiped.
 *
 * @throws {ArgumentTypeError | ArgumentRangeError} unless `dhPrivate` is 32 bytes.
 * @example const { secretKey, publicKey } = deriveFrankingKeyPair(identity.dhPrivate);
 */
export function deriveFrankingKeyPair(dhPrivate: Uint8Array): FrankingKeyPair {
  assertBytes(dhPrivate, 'dhPrivate', X25519_KEY_BYTES);
  const okm = hkdf(sha256, dhPrivate, EMPTY, FRANKING_LABELS.KEY, 64);
  const sk = reduceWide(okm);
  okm.fill(0);
  // Zero with probability 2^-252: no key exists for such an identity.
  if (sk === 0n) throw new InvalidKeyError('identity key yields no franking key');
  return pairOf(sk);
}

/**
 * A random franking key pair (the moderator's judge key).
 *
 * @throws {ArgumentTypeError | ArgumentRangeError} if `rng` does not return the bytes asked for.
 * @example const moderator = generateFrankingKeyPair(systemRng);
 */
export function generateFrankingKeyPair(rng: Rng): FrankingKeyPair {
  return pairOf(randomScalar(rng));
}

/**
 * The public key of a franking secret key.
 *
 * @throws {ArgumentTypeError | ArgumentRangeError} unless `secretKey` is a canonical non-zero
 *   32-byte scalar.
 * @example frankingPublicKey(pair.secretKey) // equals pair.publicKey
 */
export function frankingPublicKey(secretKey: Uint8Array): Uint8Array {
  return mulSecret(G, secretScalar(secretKey, 'secretKey')).toBytes();
}

/**
 * Checks that `bytes` is a franking public key: 32 bytes, a canonical ristretto255 encoding,
 * not the identity.
 *
 * @throws {ArgumentTypeError} if `bytes` is not a `Uint8Array`.
 * @throws {ArgumentRangeError} if it is not 32 bytes.
 * @throws {InvalidKeyError} if it is not a valid key; the message names `name`.
 * @example assertFrankingPublicKey(certificate.frankingKey, 'frankingKey');
 */
export function assertFrankingPublicKey(bytes: Uint8Array, name: string): void {
  assertBytes(bytes, name, FRANKING_PUBLIC_KEY_BYTES);
  if (peerKey(bytes) === undefined) {
    throw new InvalidKeyError(`${name} is not a valid franking public key`);
  }
}
