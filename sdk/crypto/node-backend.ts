/**
 * `node:crypto` backend (Node only; selected through the `node` condition of the
 * `#crypto-default` import in package.json). OpenSSL does X25519, Ed25519, SHA-2, HMAC,
 * ChaCha20-Poly1305 and AES-256-GCM synchronously and several times faster than pure JS on the same machine.
 * Every hash is OpenSSL's or noble's: no primitive is re-implemented here. ML-KEM-1024 is
 * OpenSSL's where the runtime has it (Node >= 24 with OpenSSL 3.5) and noble's otherwise (Node
 * 20 and 22); both give the same bytes (docs/PROTOCOL.md §2.2).
 *
 * By concern: raw keys as cached `KeyObject`s in node-keys.ts, HMAC/HKDF/AEAD/AES-GCM in
 * node-symmetric.ts, OpenSSL's ML-KEM in node-mlkem.ts; this file checks arguments and composes.
 */
import { createHash, diffieHellman, sign, verify } from 'node:crypto';
import { InvalidKeyError } from '../errors.ts';
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
import type { CryptoBackend } from './backend.ts';
import { nobleMlKem, nobleSymmetric } from './noble-backend.ts';
import { KeyObjects, plain } from './node-keys.ts';
import { nativeMlKem } from './node-mlkem.ts';
import {
  aeadOpen,
  aeadSeal,
  aesGcm,
  hkdfSha256,
  hmacSha256,
  type SecretKeyMode,
  secretKeyHandling,
} from './node-symmetric.ts';

export type { SecretKeyMode } from './node-symmetric.ts';

/** Options of {@link createNodeBackend}. */
export interface NodeBackendOptions {
  /**
   * How raw private keys become OpenSSL keys: `auto` uses the fast JWK import when a
   * known-answer test shows the runtime supports it, `pkcs8` always parses PKCS#8 DER.
   * @default 'auto'
   */
  readonly privateKeyImport?: 'auto' | 'pkcs8';
  /**
   * How raw HMAC and AEAD keys are handed to OpenSSL (see `SecretKeyMode` above): `auto` wraps
   * them in `KeyObject`s on Node >= 24 and passes the arrays on older runtimes.
   * @default 'auto'
   */
  readonly secretKeys?: 'auto' | SecretKeyMode;
  /**
   * Which ML-KEM-1024 implementation runs: `auto` uses OpenSSL's (`crypto.encapsulate`, Node
   * >= 24 with OpenSSL 3.5) once a known-answer check against noble passes, and noble's
   * otherwise; `noble` always uses noble's. Encapsulation with a caller-given seed (test
   * vectors) always runs on noble, since OpenSSL draws its own.
   * @default 'auto'
   */
  readonly mlkem?: 'auto' | 'noble';
}

/** A `node:crypto` backend; it also says which ML-KEM implementation it runs. */
export interface NodeBackend extends CryptoBackend {
  /** `openssl` when the runtime's ML-KEM passed the check against noble, else `noble`. */
  mlkemImplementation(): 'openssl' | 'noble';
}

/**
 * Builds a `node:crypto` backend with its own key caches. Byte-identical to the noble backend
 * for every input (test/unit/sdk/crypto).
 *
 * @example
 * ```ts
 * const backend = createNodeBackend();
 * const shared = await backend.x25519(myPrivate, theirPublic);
 * ```
 */
export function createNodeBackend(options: NodeBackendOptions = {}): NodeBackend {
  const keys = new KeyObjects(options.privateKeyImport ?? 'auto');
  const secret = secretKeyHandling(options.secretKeys ?? 'auto');
  const kem = options.mlkem === 'noble' ? undefined : nativeMlKem();
  return {
    name: 'node',
    mlkemImplementation: () => (kem?.works() ? 'openssl' : 'noble'),

    async x25519PublicKey(privateKey) {
      checkX25519(privateKey);
      return keys.publicKeyOf('X25519', privateKey);
    },

    async x25519(privateKey, publicKey) {
      checkX25519(privateKey, publicKey);
      const keyPair = {
        privateKey: keys.privateKey('X25519', privateKey),
        publicKey: keys.publicKey('X25519', publicKey),
      };
      let shared: Uint8Array;
      try {
        shared = plain(diffieHellman(keyPair));
      } catch (cause) {
        // OpenSSL refuses to derive an all-zero secret (RFC 7748 §6.1): a low-order peer key.
        throw new InvalidKeyError('X25519 public key has low order', { cause });
      }
      if (isAllZero(shared)) throw new InvalidKeyError('X25519 public key has low order');
      return shared;
    },

    async ed25519PublicKey(seed) {
      checkEd25519Sign(seed);
      return keys.publicKeyOf('Ed25519', seed);
    },

    async ed25519Sign(seed, message) {
      checkEd25519Sign(seed, message);
      return plain(sign(null, message, keys.privateKey('Ed25519', seed)));
    },

    async ed25519Verify(publicKey, message, signature) {
      if (!ed25519VerifyArgsFit(publicKey, message, signature)) return false;
      try {
        // OpenSSL verifies per RFC 8032 §5.1.7 with S < L and canonical encodings (strict).
        return verify(null, message, keys.publicKey('Ed25519', publicKey), signature);
      } catch {
        return false;
      }
    },

    sha256(data) {
      assertBytes(data, 'data');
      return plain(createHash('sha256').update(data).digest());
    },

    sha512(data) {
      assertBytes(data, 'data');
      return plain(createHash('sha512').update(data).digest());
    },

    sha256Hasher() {
      const hash = createHash('sha256');
      return checkedSha256Hasher({
        update: (data) => hash.update(data),
        digest: () => plain(hash.digest()),
      });
    },

    hmacSha256(key, data) {
      checkHmac(key, data);
      return hmacSha256(secret, key, data);
    },

    hkdfSha256(ikm, salt, info, length) {
      checkHkdf(ikm, salt, info, length);
      return hkdfSha256(secret, ikm, salt, info, length);
    },

    aeadSeal(key, nonce, plaintext, aad) {
      checkAead(key, nonce, plaintext, 'plaintext', aad);
      return aeadSeal(secret, key, nonce, plaintext, aad);
    },

    aeadOpen(key, nonce, ciphertext, aad) {
      checkAead(key, nonce, ciphertext, 'ciphertext', aad);
      return aeadOpen(secret, key, nonce, ciphertext, aad);
    },

    async aesGcmCipher(key) {
      checkAesGcmKey(key);
      return checkedAesGcmCipher(aesGcm(key));
    },

    // Key generation stays on noble: it is deterministic from the seed, so both
    // implementations give the same keys, and it runs only when prekeys are replenished.
    mlkemKeygen: nobleSymmetric.mlkemKeygen,

    async mlkemEncapsulate(publicKey, seed) {
      if (seed !== undefined || kem === undefined || !kem.works()) {
        return nobleMlKem.encapsulate(publicKey, seed);
      }
      checkMlKemEncapsulate(publicKey);
      return kem.encapsulate(publicKey);
    },

    // OpenSSL takes the expanded key (PKCS#8 `expandedKey`); the seed is only checked.
    async mlkemDecapsulate(cipherText, secretKey, keySeed) {
      if (kem === undefined || !kem.works()) {
        return nobleMlKem.decapsulate(cipherText, secretKey, keySeed);
      }
      checkMlKemDecapsulate(cipherText, secretKey, keySeed);
      return kem.decapsulate(cipherText, secretKey);
    },
  };
}

/** The `node:crypto` backend: OpenSSL for everything the runtime has, noble for the rest. */
export const nodeBackend: NodeBackend = createNodeBackend();

/** The backend `#crypto-default` resolves to on Node. */
export const defaultBackend: CryptoBackend = nodeBackend;
