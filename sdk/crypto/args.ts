/**
 * The argument checks every backend runs before any work. Shared, so that every backend throws
 * the same `ArgumentTypeError` (not a `Uint8Array`) or `ArgumentRangeError` (wrong fixed size, HKDF length out
 * of range) for the same input (docs/PROTOCOL.md §2.4, test/unit/sdk/crypto/contract.test.ts).
 */

import { DecryptError } from '../errors.ts';
import { ArgumentRangeError } from '../util/argument-errors.ts';
import { assertBytes, constantTimeEqual } from '../util/bytes.ts';
import {
  AEAD_KEY_BYTES,
  AEAD_NONCE_BYTES,
  AES_GCM_KEY_BYTES,
  AES_GCM_NONCE_BYTES,
  AES_GCM_TAG_BYTES,
  type AesGcmCipher,
  ED25519_PUBLIC_BYTES,
  ED25519_SEED_BYTES,
  ED25519_SIGNATURE_BYTES,
  HKDF_SHA256_MAX_LENGTH,
  MLKEM_ENCAPS_SEED_BYTES,
  MLKEM_SEED_BYTES,
  MLKEM1024_CIPHERTEXT_BYTES,
  MLKEM1024_PUBLIC_BYTES,
  MLKEM1024_SECRET_BYTES,
  type Sha256Hasher,
  X25519_KEY_BYTES,
} from './backend.ts';

/** X25519: a 32-byte private key and, for an agreement, a 32-byte peer key. */
export function checkX25519(privateKey: Uint8Array, publicKey?: Uint8Array): void {
  assertBytes(privateKey, 'privateKey', X25519_KEY_BYTES);
  if (publicKey !== undefined) assertBytes(publicKey, 'publicKey', X25519_KEY_BYTES);
}

/** Ed25519 signing: a 32-byte seed and, when signing, a message. */
export function checkEd25519Sign(seed: Uint8Array, message?: Uint8Array): void {
  assertBytes(seed, 'seed', ED25519_SEED_BYTES);
  if (message !== undefined) assertBytes(message, 'message');
}

/**
 * Ed25519 verification takes any bytes: `false` (the caller returns it as the verdict) when
 * the key or signature has the wrong size, `true` when verification should go ahead.
 */
export function ed25519VerifyArgsFit(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  assertBytes(publicKey, 'publicKey');
  assertBytes(message, 'message');
  assertBytes(signature, 'signature');
  return publicKey.length === ED25519_PUBLIC_BYTES && signature.length === ED25519_SIGNATURE_BYTES;
}

/** HMAC-SHA-256: key and data of any length. */
export function checkHmac(key: Uint8Array, data: Uint8Array): void {
  assertBytes(key, 'key');
  assertBytes(data, 'data');
}

/** HKDF-SHA-256: RFC 5869 §2.3 bounds the output to 255 * HashLen = 8160 bytes. */
export function checkHkdf(
  ikm: Uint8Array,
  salt: Uint8Array,
  info: Uint8Array,
  length: number,
): void {
  assertBytes(ikm, 'ikm');
  assertBytes(salt, 'salt');
  assertBytes(info, 'info');
  if (!Number.isInteger(length) || length < 0 || length > HKDF_SHA256_MAX_LENGTH)
    throw new ArgumentRangeError(`length must be an integer in 0..${HKDF_SHA256_MAX_LENGTH}`);
}

/** ChaCha20-Poly1305: a 32-byte key, a 12-byte nonce, the input (`name`) and the AAD. */
export function checkAead(
  key: Uint8Array,
  nonce: Uint8Array,
  input: Uint8Array,
  name: 'plaintext' | 'ciphertext',
  aad: Uint8Array,
): void {
  assertBytes(key, 'key', AEAD_KEY_BYTES);
  assertBytes(nonce, 'nonce', AEAD_NONCE_BYTES);
  assertBytes(input, name);
  assertBytes(aad, 'aad');
}

/** AES-256-GCM: a 32-byte key. */
export function checkAesGcmKey(key: Uint8Array): void {
  assertBytes(key, 'key', AES_GCM_KEY_BYTES);
}

/** AES-GCM with a key imported before: a 12-byte nonce, the input (`name`) and the AAD. */
export function checkAesGcm(
  nonce: Uint8Array,
  input: Uint8Array,
  name: 'plaintext' | 'ciphertext',
  aad: Uint8Array,
): void {
  assertBytes(nonce, 'nonce', AES_GCM_NONCE_BYTES);
  assertBytes(input, name);
  assertBytes(aad, 'aad');
}

/**
 * Wraps a backend's AES-GCM under one key with the shared contract: every argument checked
 * before any work, and a ciphertext shorter than a tag refused as `DecryptError` by every
 * backend alike (the implementation's `open` raises `DecryptError` for a failed tag itself).
 */
export function checkedAesGcmCipher(inner: {
  seal(nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array | Promise<Uint8Array>;
  open(
    nonce: Uint8Array,
    ciphertext: Uint8Array,
    aad: Uint8Array,
  ): Uint8Array | Promise<Uint8Array>;
}): AesGcmCipher {
  return {
    async seal(nonce, plaintext, aad) {
      checkAesGcm(nonce, plaintext, 'plaintext', aad);
      return inner.seal(nonce, plaintext, aad);
    },
    async open(nonce, ciphertext, aad) {
      checkAesGcm(nonce, ciphertext, 'ciphertext', aad);
      if (ciphertext.length < AES_GCM_TAG_BYTES) throw new DecryptError();
      return inner.open(nonce, ciphertext, aad);
    },
  };
}

/**
 * Wraps a backend's incremental SHA-256 with the shared contract: `update` takes only
 * `Uint8Array`s, and nothing may follow `digest()` (OpenSSL and noble would fail differently).
 */
export function checkedSha256Hasher(inner: {
  update(data: Uint8Array): unknown;
  digest(): Uint8Array;
}): Sha256Hasher {
  let done = false;
  const live = () => {
    if (done) throw new ArgumentRangeError('the SHA-256 hasher was already digested');
  };
  const hasher: Sha256Hasher = {
    update(data) {
      assertBytes(data, 'data');
      live();
      inner.update(data);
      return hasher;
    },
    digest() {
      live();
      done = true;
      return inner.digest();
    },
  };
  return hasher;
}

/** ML-KEM-1024 encapsulation: a 1568-byte key and, if given, a 32-byte message. */
export function checkMlKemEncapsulate(publicKey: Uint8Array, seed?: Uint8Array): void {
  assertBytes(publicKey, 'publicKey', MLKEM1024_PUBLIC_BYTES);
  if (seed !== undefined) assertBytes(seed, 'seed', MLKEM_ENCAPS_SEED_BYTES);
}

/** FIPS 203 Alg. 16: the decapsulation key ends with `z`, the second half of the seed `d || z`. */
const MLKEM_Z_BYTES = MLKEM_SEED_BYTES / 2;

/**
 * Whether a 64-byte key seed `d || z` and a 3,168-byte decapsulation key agree on `z` (the
 * last 32 bytes of both, FIPS 203 Alg. 16). A cheap check that the two belong together: `d`
 * cannot be checked without deriving the key pair again.
 *
 * @example mlkemSeedFitsKey(record.keySeed, record.secretKey) // true
 */
export function mlkemSeedFitsKey(keySeed: Uint8Array, secretKey: Uint8Array): boolean {
  return constantTimeEqual(
    keySeed.subarray(MLKEM_SEED_BYTES - MLKEM_Z_BYTES),
    secretKey.subarray(secretKey.length - MLKEM_Z_BYTES),
  );
}

/**
 * ML-KEM-1024 decapsulation: a 1568-byte ciphertext, a 3168-byte decapsulation key and, if
 * given, the 64-byte seed of that key (its `z` half must be the one inside the key).
 */
export function checkMlKemDecapsulate(
  cipherText: Uint8Array,
  secretKey: Uint8Array,
  keySeed?: Uint8Array,
): void {
  assertBytes(cipherText, 'cipherText', MLKEM1024_CIPHERTEXT_BYTES);
  assertBytes(secretKey, 'secretKey', MLKEM1024_SECRET_BYTES);
  if (keySeed !== undefined) {
    assertBytes(keySeed, 'keySeed', MLKEM_SEED_BYTES);
    if (!mlkemSeedFitsKey(keySeed, secretKey)) {
      throw new ArgumentRangeError('keySeed does not belong to secretKey');
    }
  }
}
