/**
 * Pure-JS backend on the audited `@noble/*` libraries. Runs everywhere; the reference the
 * other backends are checked against, and the provider of ML-KEM and symmetric work in
 * browsers.
 */
import { gcm } from '@noble/ciphers/aes.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { DecryptError, InvalidKeyError } from '../errors.ts';
import { assertBytes, isAllZero } from '../util/bytes.ts';
import {
  checkAead,
  checkAesGcmKey,
  checkEd25519Sign,
  checkedAesGcmCipher,
  checkedSha256Hasher,
  checkHkdf,
  checkHmac,
  checkMlKemDecapsulate,
  checkMlKemEncapsulate,
  checkX25519,
  ed25519VerifyArgsFit,
} from './args.ts';
import {
  AEAD_TAG_BYTES,
  type AesGcmCipher,
  type CryptoBackend,
  MLKEM_SEED_BYTES,
} from './backend.ts';

/**
 * noble returns ML-KEM's K as a view of the 64-byte `K || r` hash output (FIPS 203 Alg. 17/18).
 * Copy it and wipe the rest, so wiping the secret the caller got leaves nothing behind.
 */
function detachSecret(view: Uint8Array, ...inputs: Uint8Array[]): Uint8Array {
  if (view.byteLength === view.buffer.byteLength) return view;
  const out = view.slice();
  if (inputs.every((input) => input.buffer !== view.buffer)) new Uint8Array(view.buffer).fill(0);
  return out;
}

/**
 * AES-256-GCM on `@noble/ciphers`, the fallback where neither OpenSSL nor WebCrypto runs. Its
 * AES uses T-tables, whose cache access pattern can leak key bits to a co-located attacker
 * (docs/PROTOCOL.md §10.8); OpenSSL (AES-NI) and browsers' WebCrypto do not. It checks the tag
 * before decrypting. The key is copied once; each call expands it again, which costs little
 * next to a chunk.
 */
export function nobleAesGcm(key: Uint8Array): AesGcmCipher {
  const own = key.slice();
  return checkedAesGcmCipher({
    seal: (nonce, plaintext, aad) => gcm(own, nonce, aad).encrypt(plaintext),
    open(nonce, ciphertext, aad) {
      try {
        return gcm(own, nonce, aad).decrypt(ciphertext);
      } catch (cause) {
        throw new DecryptError(undefined, { cause });
      }
    },
  });
}

/**
 * noble's ML-KEM-1024 as synchronous calls, arguments checked as the backend interface says:
 * the async backend methods wrap these, and node-mlkem.ts checks OpenSSL against them.
 */
export const nobleMlKem = {
  /** FIPS 203 ML-KEM.Encaps (own randomness) or, with a 32-byte `seed`, Encaps_internal. */
  encapsulate(
    publicKey: Uint8Array,
    seed?: Uint8Array,
  ): { cipherText: Uint8Array; sharedSecret: Uint8Array } {
    checkMlKemEncapsulate(publicKey, seed);
    try {
      // Without a seed noble draws the message from the platform CSPRNG and wipes it.
      const { cipherText, sharedSecret } = ml_kem1024.encapsulate(publicKey, seed);
      const inputs = seed === undefined ? [publicKey] : [publicKey, seed];
      return { cipherText, sharedSecret: detachSecret(sharedSecret, ...inputs) };
    } catch (cause) {
      // FIPS 203 §7.2 modulus check failed: the key is not a valid encapsulation key.
      throw new InvalidKeyError('invalid ML-KEM public key', { cause });
    }
  },
  /** FIPS 203 ML-KEM.Decaps with the expanded key (`keySeed` is only checked against it). */
  decapsulate(cipherText: Uint8Array, secretKey: Uint8Array, keySeed?: Uint8Array): Uint8Array {
    checkMlKemDecapsulate(cipherText, secretKey, keySeed);
    let secret: Uint8Array;
    try {
      secret = ml_kem1024.decapsulate(cipherText, secretKey);
    } catch (cause) {
      // FIPS 203 §7.3 input check: H(ek) inside the decapsulation key does not match ek.
      throw new InvalidKeyError('invalid ML-KEM secret key', { cause });
    }
    return detachSecret(secret, cipherText, secretKey);
  },
};

/** Symmetric primitives and ML-KEM on noble; shared by the noble and WebCrypto backends. */
export const nobleSymmetric: Omit<
  CryptoBackend,
  'name' | 'x25519PublicKey' | 'x25519' | 'ed25519PublicKey' | 'ed25519Sign' | 'ed25519Verify'
> = {
  sha256(data) {
    assertBytes(data, 'data');
    return sha256(data);
  },
  sha512(data) {
    assertBytes(data, 'data');
    return sha512(data);
  },
  sha256Hasher() {
    return checkedSha256Hasher(sha256.create());
  },
  hmacSha256(key, data) {
    checkHmac(key, data);
    return hmac(sha256, key, data);
  },
  hkdfSha256(ikm, salt, info, length) {
    checkHkdf(ikm, salt, info, length);
    return hkdf(sha256, ikm, salt, info, length);
  },
  aeadSeal(key, nonce, plaintext, aad) {
    checkAead(key, nonce, plaintext, 'plaintext', aad);
    return chacha20poly1305(key, nonce, aad).encrypt(plaintext);
  },
  aeadOpen(key, nonce, ciphertext, aad) {
    checkAead(key, nonce, ciphertext, 'ciphertext', aad);
    if (ciphertext.length < AEAD_TAG_BYTES) throw new DecryptError();
    try {
      return chacha20poly1305(key, nonce, aad).decrypt(ciphertext);
    } catch (cause) {
      throw new DecryptError(undefined, { cause });
    }
  },
  async aesGcmCipher(key) {
    checkAesGcmKey(key);
    return nobleAesGcm(key);
  },
  mlkemKeygen(seed) {
    assertBytes(seed, 'seed', MLKEM_SEED_BYTES);
    return ml_kem1024.keygen(seed);
  },
  async mlkemEncapsulate(publicKey, seed) {
    return nobleMlKem.encapsulate(publicKey, seed);
  },
  async mlkemDecapsulate(cipherText, secretKey, keySeed) {
    return nobleMlKem.decapsulate(cipherText, secretKey, keySeed);
  },
};

/** The `@noble/*` backend. */
export const nobleBackend: CryptoBackend = {
  name: 'noble',
  ...nobleSymmetric,
  async x25519PublicKey(privateKey) {
    checkX25519(privateKey);
    return x25519.getPublicKey(privateKey);
  },
  async x25519(privateKey, publicKey) {
    checkX25519(privateKey, publicKey);
    let shared: Uint8Array;
    try {
      shared = x25519.getSharedSecret(privateKey, publicKey);
    } catch (cause) {
      throw new InvalidKeyError('invalid X25519 public key', { cause });
    }
    if (isAllZero(shared)) throw new InvalidKeyError('X25519 public key has low order');
    return shared;
  },
  async ed25519PublicKey(seed) {
    checkEd25519Sign(seed);
    return ed25519.getPublicKey(seed);
  },
  async ed25519Sign(seed, message) {
    checkEd25519Sign(seed, message);
    return ed25519.sign(message, seed);
  },
  async ed25519Verify(publicKey, message, signature) {
    if (!ed25519VerifyArgsFit(publicKey, message, signature)) return false;
    try {
      return ed25519.verify(signature, message, publicKey, { zip215: false });
    } catch {
      return false;
    }
  },
};
