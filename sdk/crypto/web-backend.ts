/**
 * WebCrypto backend for browsers (and any runtime with `crypto.subtle`): X25519, Ed25519,
 * AES-256-GCM and, where the runtime has it, ML-KEM-1024 encapsulation and decapsulation
 * through SubtleCrypto, everything else through noble. Per-message symmetric work stays on
 * noble because WebCrypto has no ChaCha20-Poly1305 and its per-call overhead (~0.1 ms) costs
 * more than the work itself on small inputs (docs/PROTOCOL.md §2.2). AES-256-GCM is for
 * attachments: one call per chunk of 64 KiB or more, where WebCrypto's native AES is many
 * times faster than JavaScript (§10). ML-KEM-1024 is in WebCrypto since the WICG "Modern
 * Algorithms in WebCrypto" additions (Chromium 156 has it; Chromium 153 has not); WebCrypto
 * imports a decapsulation key only as its 64-byte seed, so decapsulation runs natively only
 * when the caller passes that seed (KEM prekey records keep it, §3.5).
 *
 * Whether the runtime implements X25519, Ed25519 and ML-KEM-1024 correctly is detected once
 * per algorithm with a known-answer test (ML-KEM against noble); an algorithm that fails falls
 * back to noble, so the backend works everywhere.
 * No Node API here: this file is what browser bundles get for `#crypto-default`.
 */
import { sha3_256 } from '@noble/hashes/sha3.js';
import { DecryptError, InvalidKeyError } from '../errors.ts';
import {
  constantTimeEqual,
  fromBase64Url,
  fromHex,
  isAllZero,
  toBase64Url,
} from '../util/bytes.ts';
import { PKCS8_PREFIX, withDerPrefix } from '../util/der.ts';
import {
  checkAesGcmKey,
  checkEd25519Sign,
  checkedAesGcmCipher,
  checkMlKemDecapsulate,
  checkMlKemEncapsulate,
  checkX25519,
  ed25519VerifyArgsFit,
} from './args.ts';
import {
  AES_GCM_TAG_BYTES,
  type CryptoBackend,
  MLKEM_ENCAPS_SEED_BYTES,
  MLKEM_SEED_BYTES,
  MLKEM1024_PUBLIC_BYTES,
  X25519_KEY_BYTES,
} from './backend.ts';
import { nobleAesGcm, nobleBackend, nobleMlKem, nobleSymmetric } from './noble-backend.ts';

type Curve = 'X25519' | 'Ed25519';

/** Which algorithms this runtime's WebCrypto passed the known-answer test for. */
export interface WebCryptoSupport {
  readonly x25519: boolean;
  readonly ed25519: boolean;
  /** ML-KEM-1024 (`encapsulateBits` / `decapsulateBits`), checked against noble. */
  readonly mlkem: boolean;
}

/** A {@link CryptoBackend} that can report which algorithms run on WebCrypto. */
export interface WebCryptoBackend extends CryptoBackend {
  /** Runs (once) and reports the known-answer tests that choose WebCrypto or noble. */
  support(): Promise<WebCryptoSupport>;
}

/**
 * A WebCrypto key, named through the global `crypto` (like {@link Subtle}) so that the
 * declaration resolves without the DOM library.
 */
export type WebKey = Awaited<ReturnType<Subtle['importKey']>>;

/**
 * The ML-KEM calls of the WICG "Modern Algorithms in WebCrypto" draft, which TypeScript's DOM
 * library does not declare yet: raw key import (`raw-public` for the 1,568-byte encapsulation
 * key, `raw-seed` for the 64-byte seed `d || z`), `encapsulateBits` and `decapsulateBits`.
 */
export interface KemSubtle {
  importKey(
    format: 'raw-public' | 'raw-seed',
    keyData: Uint8Array<ArrayBuffer>,
    algorithm: { readonly name: string },
    extractable: boolean,
    keyUsages: string[],
  ): Promise<WebKey>;
  encapsulateBits(
    algorithm: { readonly name: string },
    encapsulationKey: WebKey,
  ): Promise<{ ciphertext: ArrayBuffer; sharedKey: ArrayBuffer }>;
  decapsulateBits(
    algorithm: { readonly name: string },
    decapsulationKey: WebKey,
    ciphertext: Uint8Array<ArrayBuffer>,
  ): Promise<ArrayBuffer>;
}

/**
 * WebCrypto's `SubtleCrypto`, named through the global `crypto` so that the declaration also
 * resolves for apps compiled without the DOM library (Node's types declare that global).
 */
export type Subtle = typeof globalThis.crypto.subtle;

/** Options of {@link createWebBackend}. */
export interface WebBackendOptions {
  /**
   * The SubtleCrypto to use. Defaults to `globalThis.crypto.subtle`; `undefined` (given
   * explicitly) means none, so every curve runs on noble.
   */
  readonly subtle?: Subtle | undefined;
  /**
   * Which ML-KEM-1024 runs: `auto` uses WebCrypto's where the runtime has it and it passes a
   * known-answer check against noble, `noble` always noble's. Encapsulation with a given
   * message and decapsulation without the key's seed always run on noble.
   * @default 'auto'
   */
  readonly mlkem?: 'auto' | 'noble';
}

const PRIVATE_USAGES: Record<Curve, KeyUsage[]> = { X25519: ['deriveBits'], Ed25519: ['sign'] };
const PUBLIC_USAGES: Record<Curve, KeyUsage[]> = { X25519: [], Ed25519: ['verify'] };
const PUBLIC_CACHE_SIZE = 256;

// Known answers: RFC 7748 §6.1 (Alice's key pair, Bob's public key, the shared secret) and
// RFC 8032 §7.1 TEST 1 (seed, public key, signature of the empty message).
const KAT = {
  x25519Private: '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a',
  x25519Public: '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
  x25519Peer: 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
  x25519Shared: '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742',
  ed25519Seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
  ed25519Public: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
  ed25519Signature:
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
} as const;

const MLKEM: { readonly name: string } = { name: 'ML-KEM-1024' };
/** FIPS 203 Alg. 16: dk = dk_PKE (384·k bytes, k = 4) || ek || H(ek) || z. */
const MLKEM_DK_EK_OFFSET = 384 * 4;
const MLKEM_DK_HASH_OFFSET = MLKEM_DK_EK_OFFSET + MLKEM1024_PUBLIC_BYTES;

/**
 * The FIPS 203 §7.3 hash check of a decapsulation key: H(ek) inside it matches ek. WebCrypto
 * decapsulates from the seed and never reads the expanded key, so the check runs here to give
 * the verdict noble and OpenSSL give for the same key.
 */
function hasValidKeyHash(secretKey: Uint8Array): boolean {
  const ek = secretKey.subarray(MLKEM_DK_EK_OFFSET, MLKEM_DK_HASH_OFFSET);
  const h = secretKey.subarray(MLKEM_DK_HASH_OFFSET, MLKEM_DK_HASH_OFFSET + 32);
  return constantTimeEqual(sha3_256(ek), h);
}

/** The runtime's ML-KEM calls, when `subtle` has them. */
function kemSubtleOf(subtle: Subtle | undefined): KemSubtle | undefined {
  const s = subtle as Partial<KemSubtle> | undefined;
  if (typeof s?.encapsulateBits !== 'function' || typeof s.decapsulateBits !== 'function') {
    return undefined;
  }
  return s as KemSubtle;
}

/** WebCrypto encapsulation: raw public key import (with the §7.2 modulus check) and encaps. */
async function webEncapsulate(
  k: KemSubtle,
  publicKey: Uint8Array,
): Promise<{ cipherText: Uint8Array; sharedSecret: Uint8Array }> {
  let key: CryptoKey;
  try {
    key = await k.importKey('raw-public', source(publicKey), MLKEM, false, ['encapsulateBits']);
  } catch (cause) {
    // DataError: the key fails the FIPS 203 §7.2 modulus check (checked by the probe below).
    throw new InvalidKeyError('invalid ML-KEM public key', { cause });
  }
  const { ciphertext, sharedKey } = await k.encapsulateBits(MLKEM, key);
  return { cipherText: new Uint8Array(ciphertext), sharedSecret: new Uint8Array(sharedKey) };
}

/** WebCrypto decapsulation with a key imported from its seed (importKey copies the seed). */
async function webDecapsulate(
  k: KemSubtle,
  cipherText: Uint8Array,
  keySeed: Uint8Array,
): Promise<Uint8Array> {
  const key = await k.importKey('raw-seed', source(keySeed), MLKEM, false, ['decapsulateBits']);
  return new Uint8Array(await k.decapsulateBits(MLKEM, key, source(cipherText)));
}

/**
 * Whether the runtime's ML-KEM-1024 gives noble's bytes, with a fixed seed and message: it
 * decapsulates noble's ciphertext, and a ciphertext with one bit flipped (implicit rejection),
 * to noble's secrets from the seed alone; noble decapsulates its ciphertext to its secret; and
 * it refuses an encapsulation key with an unreduced coefficient (FIPS 203 §7.2).
 */
async function probeMlKem(k: KemSubtle): Promise<boolean> {
  try {
    const seed = new Uint8Array(MLKEM_SEED_BYTES).map((_, i) => i);
    const message = new Uint8Array(MLKEM_ENCAPS_SEED_BYTES).fill(0x5a);
    const { publicKey, secretKey } = nobleSymmetric.mlkemKeygen(seed);
    const ours = nobleMlKem.encapsulate(publicKey, message);
    const forged = ours.cipherText.slice();
    forged[0]! ^= 1;
    const theirs = await webEncapsulate(k, publicKey);
    const unreduced = publicKey.slice();
    // The first 12-bit coefficient becomes 4095 >= q = 3329.
    unreduced[0] = 0xff;
    unreduced[1]! |= 0x0f;
    let refused = false;
    try {
      await webEncapsulate(k, unreduced);
    } catch (err) {
      refused = err instanceof InvalidKeyError;
    }
    return (
      refused &&
      constantTimeEqual(await webDecapsulate(k, ours.cipherText, seed), ours.sharedSecret) &&
      constantTimeEqual(
        await webDecapsulate(k, forged, seed),
        nobleMlKem.decapsulate(forged, secretKey),
      ) &&
      constantTimeEqual(nobleMlKem.decapsulate(theirs.cipherText, secretKey), theirs.sharedSecret)
    );
  } catch {
    return false;
  }
}

/** The group order L of edwards25519, little-endian (RFC 8032 §5.1). */
const ED25519_L = fromHex('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010');

// WebCrypto's TypeScript types want ArrayBuffer-backed views; ours are at runtime.
const source = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => bytes as Uint8Array<ArrayBuffer>;

/** Little-endian `a < b` for equal-length arrays (public values only). */
function lessThanLe(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = a.length - 1; i >= 0; i--) {
    if (a[i]! !== b[i]!) return a[i]! < b[i]!;
  }
  return false;
}

/** RFC 8032 §5.1.3 step 1: the y coordinate (sign bit cleared) must be below p = 2^255 - 19. */
function isCanonicalPoint(encoded: Uint8Array): boolean {
  if ((encoded[31]! & 0x7f) !== 0x7f) return true;
  for (let i = 30; i >= 1; i--) if (encoded[i] !== 0xff) return true;
  return encoded[0]! < 0xed;
}

/**
 * Encoding checks of strict RFC 8032 §5.1.7 that browsers' verifiers do not all make: S < L
 * and canonical A and R. Running them first gives one verdict on every runtime.
 */
function hasCanonicalEncodings(publicKey: Uint8Array, signature: Uint8Array): boolean {
  return (
    lessThanLe(signature.subarray(32), ED25519_L) &&
    isCanonicalPoint(publicKey) &&
    isCanonicalPoint(signature.subarray(0, 32))
  );
}

interface CachedPrivate {
  readonly bytes: Uint8Array;
  readonly key: Promise<CryptoKey>;
}

/**
 * Builds a WebCrypto backend over `options.subtle` (tests pass a limited SubtleCrypto to
 * exercise the noble fallback).
 *
 * @example
 * ```ts
 * const backend = createWebBackend();
 * const { x25519, ed25519 } = await backend.support();
 * ```
 */
export function createWebBackend(options: WebBackendOptions = {}): WebCryptoBackend {
  const subtle = 'subtle' in options ? options.subtle : globalThis.crypto?.subtle;
  const kemSubtle = options.mlkem === 'noble' ? undefined : kemSubtleOf(subtle);

  // Private keys are cached by the identity of the caller's array (checked against its bytes
  // on every hit): a PKCS#8 import costs several times the operation itself.
  const privateCache: Record<Curve, WeakMap<Uint8Array, CachedPrivate>> = {
    X25519: new WeakMap(),
    Ed25519: new WeakMap(),
  };
  const publicCache: Record<Curve, Map<string, Promise<CryptoKey>>> = {
    X25519: new Map(),
    Ed25519: new Map(),
  };

  function importPrivate(s: SubtleCrypto, curve: Curve, raw: Uint8Array): Promise<CryptoKey> {
    const der = withDerPrefix(PKCS8_PREFIX[curve], raw);
    // Extractable so that the public key can be read back as JWK `x`.
    const key = s.importKey('pkcs8', source(der), { name: curve }, true, PRIVATE_USAGES[curve]);
    // importKey copies its input before returning (WebCrypto, SubtleCrypto.importKey step 2).
    der.fill(0);
    return key;
  }

  function importedPrivate(s: SubtleCrypto, curve: Curve, raw: Uint8Array): Promise<CryptoKey> {
    const cache = privateCache[curve];
    const hit = cache.get(raw);
    if (hit && constantTimeEqual(hit.bytes, raw)) return hit.key;
    const key = importPrivate(s, curve, raw);
    const entry = { bytes: raw.slice(), key };
    cache.set(raw, entry);
    key.catch(() => {
      if (cache.get(raw) === entry) cache.delete(raw);
    });
    return key;
  }

  function importedPublic(s: SubtleCrypto, curve: Curve, raw: Uint8Array): Promise<CryptoKey> {
    const cache = publicCache[curve];
    const id = toBase64Url(raw);
    const hit = cache.get(id);
    if (hit) {
      cache.delete(id);
      cache.set(id, hit);
      return hit;
    }
    const key = s.importKey('raw', source(raw), { name: curve }, false, PUBLIC_USAGES[curve]);
    if (cache.size >= PUBLIC_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    cache.set(id, key);
    key.catch(() => {
      if (cache.get(id) === key) cache.delete(id);
    });
    return key;
  }

  async function publicKeyOf(s: SubtleCrypto, curve: Curve, raw: Uint8Array): Promise<Uint8Array> {
    const jwk = await s.exportKey('jwk', await importedPrivate(s, curve, raw));
    if (typeof jwk.x !== 'string') throw new InvalidKeyError('runtime returned no public key');
    return fromBase64Url(jwk.x, 'x');
  }

  async function deriveX25519(s: SubtleCrypto, priv: Uint8Array, pub: Uint8Array) {
    const [privKey, pubKey] = await Promise.all([
      importedPrivate(s, 'X25519', priv),
      importedPublic(s, 'X25519', pub),
    ]);
    let shared: Uint8Array;
    try {
      shared = new Uint8Array(
        await s.deriveBits({ name: 'X25519', public: pubKey }, privKey, X25519_KEY_BYTES * 8),
      );
    } catch (cause) {
      // WebCrypto refuses an all-zero secret with OperationError (RFC 7748 §6.1): low order.
      throw new InvalidKeyError('X25519 public key has low order', { cause });
    }
    if (isAllZero(shared)) throw new InvalidKeyError('X25519 public key has low order');
    return shared;
  }

  async function probeX25519(s: SubtleCrypto): Promise<boolean> {
    try {
      const priv = fromHex(KAT.x25519Private);
      const shared = await deriveX25519(s, priv, fromHex(KAT.x25519Peer));
      const pub = await publicKeyOf(s, 'X25519', priv);
      return (
        constantTimeEqual(shared, fromHex(KAT.x25519Shared)) &&
        constantTimeEqual(pub, fromHex(KAT.x25519Public))
      );
    } catch {
      return false;
    }
  }

  async function probeEd25519(s: SubtleCrypto): Promise<boolean> {
    try {
      const seed = fromHex(KAT.ed25519Seed);
      const expected = fromHex(KAT.ed25519Signature);
      const empty = new Uint8Array(0);
      const signature = new Uint8Array(
        await s.sign({ name: 'Ed25519' }, await importedPrivate(s, 'Ed25519', seed), empty),
      );
      const pub = await publicKeyOf(s, 'Ed25519', seed);
      const verifyKey = await importedPublic(s, 'Ed25519', pub);
      const tampered = expected.slice();
      tampered[0]! ^= 1;
      return (
        constantTimeEqual(signature, expected) &&
        constantTimeEqual(pub, fromHex(KAT.ed25519Public)) &&
        (await s.verify({ name: 'Ed25519' }, verifyKey, source(expected), empty)) &&
        !(await s.verify({ name: 'Ed25519' }, verifyKey, source(tampered), empty))
      );
    } catch {
      return false;
    }
  }

  const probes: Partial<Record<Curve, Promise<boolean>>> = {};
  /** The SubtleCrypto to use for a curve, or undefined for noble. */
  async function subtleFor(curve: Curve): Promise<SubtleCrypto | undefined> {
    if (!subtle) return undefined;
    let probe = probes[curve];
    if (!probe) {
      probe = curve === 'X25519' ? probeX25519(subtle) : probeEd25519(subtle);
      probes[curve] = probe;
    }
    return (await probe) ? subtle : undefined;
  }

  let kemProbe: Promise<boolean> | undefined;
  /** The runtime's ML-KEM once it passed its probe, or undefined for noble. */
  async function kemFor(): Promise<KemSubtle | undefined> {
    if (!kemSubtle) return undefined;
    kemProbe ??= probeMlKem(kemSubtle);
    return (await kemProbe) ? kemSubtle : undefined;
  }

  return {
    name: 'webcrypto',
    ...nobleSymmetric,

    async support() {
      return {
        x25519: (await subtleFor('X25519')) !== undefined,
        ed25519: (await subtleFor('Ed25519')) !== undefined,
        mlkem: (await kemFor()) !== undefined,
      };
    },

    async mlkemEncapsulate(publicKey, seed) {
      // A given message (test vectors) is FIPS 203 Encaps_internal, which WebCrypto lacks.
      const k = seed === undefined ? await kemFor() : undefined;
      if (!k) return nobleMlKem.encapsulate(publicKey, seed);
      checkMlKemEncapsulate(publicKey);
      return webEncapsulate(k, publicKey);
    },

    async mlkemDecapsulate(cipherText, secretKey, keySeed) {
      // WebCrypto refuses the 3,168-byte expanded key (PKCS#8 import DataError): seed only.
      const k = keySeed === undefined ? undefined : await kemFor();
      if (!k || keySeed === undefined) {
        return nobleMlKem.decapsulate(cipherText, secretKey, keySeed);
      }
      checkMlKemDecapsulate(cipherText, secretKey, keySeed);
      if (!hasValidKeyHash(secretKey)) throw new InvalidKeyError('invalid ML-KEM secret key');
      return webDecapsulate(k, cipherText, keySeed);
    },

    async x25519PublicKey(privateKey) {
      checkX25519(privateKey);
      const s = await subtleFor('X25519');
      if (!s) return nobleBackend.x25519PublicKey(privateKey);
      return publicKeyOf(s, 'X25519', privateKey);
    },

    async x25519(privateKey, publicKey) {
      checkX25519(privateKey, publicKey);
      const s = await subtleFor('X25519');
      if (!s) return nobleBackend.x25519(privateKey, publicKey);
      return deriveX25519(s, privateKey, publicKey);
    },

    async aesGcmCipher(key) {
      checkAesGcmKey(key);
      // AES-GCM is in every WebCrypto since the first (unlike the curves, no known-answer
      // probe); without a SubtleCrypto (an insecure browser context) noble runs it.
      if (!subtle) return nobleAesGcm(key);
      // Imported once per attachment, not extractable; importKey copies the bytes.
      const cryptoKey = await subtle.importKey('raw', source(key), 'AES-GCM', false, [
        'encrypt',
        'decrypt',
      ]);
      const params = (nonce: Uint8Array, aad: Uint8Array): AesGcmParams => ({
        name: 'AES-GCM',
        iv: source(nonce),
        additionalData: source(aad),
        tagLength: AES_GCM_TAG_BYTES * 8,
      });
      return checkedAesGcmCipher({
        // encrypt/decrypt copy their inputs before returning the promise (WebCrypto §14.3).
        seal: async (nonce, plaintext, aad) =>
          new Uint8Array(await subtle.encrypt(params(nonce, aad), cryptoKey, source(plaintext))),
        async open(nonce, ciphertext, aad) {
          let plaintext: ArrayBuffer;
          try {
            plaintext = await subtle.decrypt(params(nonce, aad), cryptoKey, source(ciphertext));
          } catch (cause) {
            // OperationError: the tag did not verify. WebCrypto returns no plaintext then.
            throw new DecryptError(undefined, { cause });
          }
          return new Uint8Array(plaintext);
        },
      });
    },

    async ed25519PublicKey(seed) {
      checkEd25519Sign(seed);
      const s = await subtleFor('Ed25519');
      if (!s) return nobleBackend.ed25519PublicKey(seed);
      return publicKeyOf(s, 'Ed25519', seed);
    },

    async ed25519Sign(seed, message) {
      checkEd25519Sign(seed, message);
      const s = await subtleFor('Ed25519');
      if (!s) return nobleBackend.ed25519Sign(seed, message);
      const key = await importedPrivate(s, 'Ed25519', seed);
      return new Uint8Array(await s.sign({ name: 'Ed25519' }, key, source(message)));
    },

    async ed25519Verify(publicKey, message, signature) {
      if (!ed25519VerifyArgsFit(publicKey, message, signature)) return false;
      const s = await subtleFor('Ed25519');
      if (!s) return nobleBackend.ed25519Verify(publicKey, message, signature);
      if (!hasCanonicalEncodings(publicKey, signature)) return false;
      try {
        const key = await importedPublic(s, 'Ed25519', publicKey);
        return await s.verify({ name: 'Ed25519' }, key, source(signature), source(message));
      } catch {
        // Some runtimes reject points off the curve at import time: that is a false, not an error.
        return false;
      }
    },
  };
}

/**
 * WebCrypto X25519/Ed25519/AES-GCM/ML-KEM with noble for everything else (and for any
 * algorithm the runtime lacks). Runtime-neutral: safe to import in Node and in browsers.
 */
export const webBackend: WebCryptoBackend = createWebBackend();

/** The backend `#crypto-default` resolves to outside Node. */
export const defaultBackend: CryptoBackend = webBackend;
