/**
 * The one interface every cryptographic primitive goes through. Three implementations:
 * `node:crypto` (Node, fastest here), WebCrypto (browsers, asymmetric only) and `@noble/*`
 * (everywhere; the reference and the fallback). All produce identical bytes for identical
 * inputs, which `test/unit/sdk/crypto/cross-backend.test.ts` proves.
 *
 * Asymmetric operations are async because WebCrypto is; symmetric ones are synchronous
 * because per-message work must not pay WebCrypto's per-call overhead (docs/PROTOCOL.md §2).
 * Key generation takes caller-supplied random bytes so that vectors are reproducible.
 */

/** X25519 private and public key size (RFC 7748 §5). */
export const X25519_KEY_BYTES = 32;
/** Ed25519 private key (seed) size (RFC 8032 §5.1.5). */
export const ED25519_SEED_BYTES = 32;
/** Ed25519 public key size (RFC 8032 §5.1.5). */
export const ED25519_PUBLIC_BYTES = 32;
/** Ed25519 signature size (RFC 8032 §5.1.6). */
export const ED25519_SIGNATURE_BYTES = 64;
/** ML-KEM-1024 encapsulation key size (FIPS 203 Table 3). */
export const MLKEM1024_PUBLIC_BYTES = 1568;
/** ML-KEM-1024 decapsulation key size (FIPS 203 Table 3). */
export const MLKEM1024_SECRET_BYTES = 3168;
/** ML-KEM-1024 ciphertext size (FIPS 203 Table 3). */
export const MLKEM1024_CIPHERTEXT_BYTES = 1568;
/** ML-KEM key-generation seed `d || z` (FIPS 203 Alg. 16). */
export const MLKEM_SEED_BYTES = 64;
/** ML-KEM encapsulation message `m` (FIPS 203 Alg. 17). */
export const MLKEM_ENCAPS_SEED_BYTES = 32;
/** ChaCha20-Poly1305 key size (RFC 8439 §2.8). */
export const AEAD_KEY_BYTES = 32;
/** ChaCha20-Poly1305 nonce size (RFC 8439 §2.8). */
export const AEAD_NONCE_BYTES = 12;
/** Poly1305 tag size, appended to every ciphertext (RFC 8439 §2.8). */
export const AEAD_TAG_BYTES = 16;
/** HKDF-SHA-256 output limit, 255 * HashLen (RFC 5869 §2.3). */
export const HKDF_SHA256_MAX_LENGTH = 8160;
/** AES-256-GCM key size (NIST SP 800-38D with AES-256, FIPS 197). */
export const AES_GCM_KEY_BYTES = 32;
/** AES-GCM nonce size: the 96-bit IV of NIST SP 800-38D §8.2.1, the only one accepted. */
export const AES_GCM_NONCE_BYTES = 12;
/** AES-GCM tag size, appended to every ciphertext: the full 128 bits (SP 800-38D §5.2.1.2). */
export const AES_GCM_TAG_BYTES = 16;

/** Source of cryptographically secure random bytes. Injected so tests can be deterministic. */
export type Rng = (length: number) => Uint8Array;

/** The platform CSPRNG (`crypto.getRandomValues`, present in Node >= 20 and browsers). */
export const systemRng: Rng = (length) => {
  const out = new Uint8Array(length);
  // getRandomValues fills at most 65,536 bytes per call.
  for (let i = 0; i < length; i += 65536) {
    globalThis.crypto.getRandomValues(out.subarray(i, Math.min(length, i + 65536)));
  }
  return out;
};

/**
 * A uniform draw in [0, 1) from four bytes of `rng` (32 bits of resolution), for jittered
 * delays.
 *
 * @example const delay = min + randomFraction(systemRng) * (max - min);
 */
export function randomFraction(rng: Rng): number {
  const b = rng(4);
  return (((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0) / 2 ** 32;
}

/**
 * AES-256-GCM under one key, imported once (a WebCrypto `importKey`, an OpenSSL `KeyObject`)
 * and then used for many nonces: attachments seal every chunk of a file under one key
 * (docs/PROTOCOL.md §10). Both operations are async because WebCrypto is; each is one call
 * into the platform per chunk. Arguments are checked like every primitive's: a 12-byte nonce
 * (`ArgumentRangeError` otherwise) and `Uint8Array`s (`ArgumentTypeError`). The caller may
 * reuse or wipe its buffers as soon as a call has returned its promise.
 */
export interface AesGcmCipher {
  /** AES-256-GCM encryption: ciphertext || 16-byte tag. */
  seal(nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Promise<Uint8Array>;
  /**
   * AES-256-GCM decryption of ciphertext || tag. Rejects with `DecryptError` if the input is
   * shorter than a tag or does not authenticate; no unauthenticated plaintext is returned.
   */
  open(nonce: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array): Promise<Uint8Array>;
}

/**
 * Incremental SHA-256 (FIPS 180-4) of input that arrives in pieces, such as a blob read from
 * the network. `digest()` ends it: a later `update` or `digest` is an `ArgumentRangeError`.
 */
export interface Sha256Hasher {
  /** Absorbs `data` (`ArgumentTypeError` unless a `Uint8Array`); returns the hasher. */
  update(data: Uint8Array): Sha256Hasher;
  /** The 32-byte digest of everything absorbed. */
  digest(): Uint8Array;
}

/** An ML-KEM-1024 key pair (encapsulation key 1568 bytes, decapsulation key 3168 bytes). */
export interface MlKemKeyPair {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

/**
 * Every primitive the protocol uses. Implementations validate arguments up front: `ArgumentTypeError`
 * for a non-`Uint8Array`, `ArgumentRangeError` for a wrong fixed length or an out-of-range number.
 */
export interface CryptoBackend {
  /** `node`, `webcrypto` or `noble` (or a composite such as `webcrypto+noble`). */
  readonly name: string;

  /** X25519 public key of a 32-byte private key (clamped per RFC 7748 §5). */
  x25519PublicKey(privateKey: Uint8Array): Promise<Uint8Array>;
  /**
   * X25519 shared secret. Throws `InvalidKeyError` if the result is all zero (the peer key is
   * of low order), as PQXDH and the Double Ratchet require (RFC 7748 §6.1).
   */
  x25519(privateKey: Uint8Array, publicKey: Uint8Array): Promise<Uint8Array>;

  /** Ed25519 public key of a 32-byte seed (RFC 8032 §5.1.5). */
  ed25519PublicKey(seed: Uint8Array): Promise<Uint8Array>;
  /** Deterministic Ed25519 signature (RFC 8032 §5.1.6). */
  ed25519Sign(seed: Uint8Array, message: Uint8Array): Promise<Uint8Array>;
  /**
   * Strict RFC 8032 verification (canonical S, canonical point encodings; not ZIP-215).
   * Returns false, never throws, for any malformed key or signature of the right type.
   */
  ed25519Verify(
    publicKey: Uint8Array,
    message: Uint8Array,
    signature: Uint8Array,
  ): Promise<boolean>;

  sha256(data: Uint8Array): Uint8Array;
  sha512(data: Uint8Array): Uint8Array;
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array;
  /** HKDF-SHA-256 (RFC 5869). `ArgumentRangeError` unless `length` is an integer in 0..8160. */
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array;

  /** An incremental SHA-256, byte-identical to {@link CryptoBackend.sha256} of the concatenation. */
  sha256Hasher(): Sha256Hasher;

  /** ChaCha20-Poly1305 seal: ciphertext || 16-byte tag. */
  aeadSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
  /** ChaCha20-Poly1305 open. Throws `DecryptError` on any authentication failure. */
  aeadOpen(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array): Uint8Array;

  /**
   * An AES-256-GCM cipher under a 32-byte key (`ArgumentRangeError` otherwise), for bulk data
   * (attachments, docs/PROTOCOL.md §10). Node uses OpenSSL, WebCrypto its `AES-GCM`, noble
   * `@noble/ciphers`; all give the same bytes. The cipher keeps its own copy of the key.
   */
  aesGcmCipher(key: Uint8Array): Promise<AesGcmCipher>;

  /** ML-KEM-1024 key pair from a 64-byte seed (FIPS 203 ML-KEM.KeyGen_internal(d, z)). */
  mlkemKeygen(seed: Uint8Array): MlKemKeyPair;
  /**
   * ML-KEM-1024 encapsulation. With a 32-byte message `seed` it is FIPS 203
   * ML-KEM.Encaps_internal and deterministic (test vectors); without one it is ML-KEM.Encaps
   * and the implementation draws the message from its own CSPRNG. Async because WebCrypto's
   * ML-KEM is (`encapsulateBits`); the bytes are the same on every backend.
   * `InvalidKeyError` if the key fails the FIPS 203 §7.2 modulus check.
   */
  mlkemEncapsulate(
    publicKey: Uint8Array,
    seed?: Uint8Array,
  ): Promise<{ cipherText: Uint8Array; sharedSecret: Uint8Array }>;
  /**
   * ML-KEM-1024 decapsulation (implicit rejection: a bad ciphertext yields a pseudorandom
   * secret) with the 3,168-byte decapsulation key. `keySeed`, when the caller has it, is the
   * 64-byte seed `d || z` the key pair was generated from ({@link CryptoBackend.mlkemKeygen}):
   * WebCrypto imports only that form, so the WebCrypto backend needs it to run natively; the
   * others use `secretKey`. A `keySeed` whose `z` half is not the one inside `secretKey` is an
   * `ArgumentRangeError` on every backend. `InvalidKeyError` if the key fails the FIPS 203
   * §7.3 hash check.
   */
  mlkemDecapsulate(
    cipherText: Uint8Array,
    secretKey: Uint8Array,
    keySeed?: Uint8Array,
  ): Promise<Uint8Array>;
}
