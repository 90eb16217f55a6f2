/**
 * `node:crypto` backend (Node only; selected through the `node` condition of the
 * `#crypto-default` import in package.json). OpenSSL does X25519, Ed25519, SHA-2, HMAC and
 * ChaCha20-Poly1305 synchronously: the curves 10-30x and the symmetric work about 2x faster than
 * pure JS on the same machine. Every hash is OpenSSL's or noble's: no primitive is
 * re-implemented here. ML-KEM-1024 is OpenSSL's where the runtime has it (Node >= 24 with
 * OpenSSL 3.5: 5-20x faster than noble) and noble's otherwise (Node 20 and 22); both give the
 * same bytes (docs/PROTOCOL.md §2.2).
 *
 * Raw 32-byte keys become OpenSSL `KeyObject`s. Importing a key costs as much as or more than
 * the operation itself, so imported keys are cached (docs/PROTOCOL.md §2.3): private keys by
 * the identity of the caller's array (checked against its contents on every hit) and, behind
 * that, in a small LRU under a keyed hash of their bytes; public keys by value in a small LRU.
 */
import { Buffer } from 'node:buffer';
import * as nodeCrypto from 'node:crypto';
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  diffieHellman,
  type KeyObject,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import { DecryptError, InvalidKeyError } from '../errors.ts';
import { assertBytes, constantTimeEqual, fromBase64Url, fromHex } from '../util/bytes.ts';
import {
  checkAead,
  checkEd25519Sign,
  checkHkdf,
  checkHmac,
  checkMlKemDecapsulate,
  checkMlKemEncapsulate,
  checkX25519,
  ed25519VerifyArgsFit,
} from './args.ts';
import { AEAD_TAG_BYTES, type CryptoBackend, MLKEM_ENCAPS_SEED_BYTES } from './backend.ts';
import { nobleSymmetric } from './noble-backend.ts';

type Curve = 'X25519' | 'Ed25519';

/** RFC 8410 §7 PKCS#8 prefixes: the 32 raw private-key bytes follow. */
const PKCS8_PREFIX: Record<Curve, Uint8Array> = {
  X25519: fromHex('302e020100300506032b656e04220420'),
  Ed25519: fromHex('302e020100300506032b657004220420'),
};

/** Public keys kept per curve. Peers' keys recur (identity, signed prekey, server keys). */
const PUBLIC_CACHE_SIZE = 256;
/**
 * Private keys kept by value per curve. Stored records decode into fresh arrays on every
 * message, so the identity cache misses for a ratchet or signed prekey that comes back from the
 * store; this LRU catches those. Small on purpose: a superseded ratchet key stays importable
 * from memory only until 32 newer private keys of its curve have been used.
 */
const PRIVATE_CACHE_SIZE = 32;
const SHA256_BYTES = 32;

/** A Node Buffer as a plain Uint8Array over the same memory (no copy when it owns its buffer). */
function plain(buf: Uint8Array): Uint8Array {
  if (buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength) {
    return new Uint8Array(buf.buffer, 0, buf.byteLength);
  }
  // A view into Node's shared pool: copy, so `.buffer` exposes nothing but the result.
  const out = new Uint8Array(buf);
  buf.fill(0);
  return out;
}

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

// Node 20 builds an OKP private key from JWK `d` alone; its `x` is type-checked but unused, so
// a placeholder saves computing the public key first. This is 10x faster than parsing PKCS#8
// (OpenSSL 3 decoders: ~1.5k/s vs ~16k/s). Whether the running Node behaves so is checked once
// against RFC 8032 §7.1 TEST 1; otherwise PKCS#8 is used.
const JWK_X_PLACEHOLDER = 'A'.repeat(43);
let jwkPrivateImportWorks: boolean | undefined;

function importPrivateJwk(curve: Curve, raw: Uint8Array): KeyObject {
  const jwk = { kty: 'OKP', crv: curve, d: base64url(raw), x: JWK_X_PLACEHOLDER };
  return withoutStackTraces(() => createPrivateKey({ key: jwk, format: 'jwk' }));
}

function importPrivatePkcs8(curve: Curve, raw: Uint8Array): KeyObject {
  const prefix = PKCS8_PREFIX[curve];
  const der = new Uint8Array(prefix.length + raw.length);
  der.set(prefix);
  der.set(raw, prefix.length);
  try {
    const key = Buffer.from(der.buffer);
    return withoutStackTraces(() => createPrivateKey({ key, format: 'der', type: 'pkcs8' }));
  } finally {
    der.fill(0);
  }
}

function probeJwkPrivateImport(): boolean {
  const seed = fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
  const expectedPublic = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
  const expectedSignature =
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';
  try {
    const key = importPrivateJwk('Ed25519', seed);
    const x = key.export({ format: 'jwk' }).x;
    const signature = sign(null, new Uint8Array(0), key);
    return (
      x !== undefined &&
      Buffer.from(x, 'base64url').toString('hex') === expectedPublic &&
      signature.toString('hex') === expectedSignature
    );
  } catch {
    return false;
  }
}

interface CachedPrivate {
  /** The bytes the key was imported from, to detect a caller that reused or wiped the array. */
  readonly bytes: Uint8Array;
  readonly key: KeyObject;
}

/** Moves a hit to the young end of a Map used as an LRU (a Map iterates in insertion order). */
function touch<V>(cache: Map<string, V>, key: string, value: V, limit: number): void {
  cache.delete(key);
  cache.set(key, value);
  if (cache.size > limit) cache.delete(cache.keys().next().value as string);
}

/** Imports raw keys as `KeyObject`s, with the caches described in the file header. */
class KeyObjects {
  // Keyed by array identity: an entry lives exactly as long as the caller keeps its key array.
  private readonly privateCache: Record<Curve, WeakMap<Uint8Array, CachedPrivate>> = {
    X25519: new WeakMap(),
    Ed25519: new WeakMap(),
  };
  // Keyed by HMAC(fingerprintKey, bytes) with a per-instance random key: the map's keys reveal
  // nothing about the private keys, and finding an entry requires holding the key's bytes.
  private readonly privateByValue: Record<Curve, Map<string, KeyObject>> = {
    X25519: new Map(),
    Ed25519: new Map(),
  };
  private readonly fingerprintKey = createSecretKey(randomBytes(32));
  private readonly publicCache: Record<Curve, Map<string, KeyObject>> = {
    X25519: new Map(),
    Ed25519: new Map(),
  };

  constructor(private readonly privateKeyImport: 'auto' | 'pkcs8') {}

  private importPrivate(curve: Curve, raw: Uint8Array): KeyObject {
    if (this.privateKeyImport === 'pkcs8') return importPrivatePkcs8(curve, raw);
    jwkPrivateImportWorks ??= probeJwkPrivateImport();
    return jwkPrivateImportWorks ? importPrivateJwk(curve, raw) : importPrivatePkcs8(curve, raw);
  }

  privateKey(curve: Curve, raw: Uint8Array): KeyObject {
    const cache = this.privateCache[curve];
    const hit = cache.get(raw);
    if (hit && constantTimeEqual(hit.bytes, raw)) return hit.key;
    const fingerprint = createHmac('sha256', this.fingerprintKey).update(raw).digest('base64');
    const byValue = this.privateByValue[curve];
    const key = byValue.get(fingerprint) ?? this.importPrivate(curve, raw);
    touch(byValue, fingerprint, key, PRIVATE_CACHE_SIZE);
    cache.set(raw, { bytes: raw.slice(), key });
    return key;
  }

  publicKey(curve: Curve, raw: Uint8Array): KeyObject {
    const cache = this.publicCache[curve];
    const x = base64url(raw);
    const key =
      cache.get(x) ??
      withoutStackTraces(() =>
        createPublicKey({ key: { kty: 'OKP', crv: curve, x }, format: 'jwk' }),
      );
    touch(cache, x, key, PUBLIC_CACHE_SIZE);
    return key;
  }

  publicKeyOf(curve: Curve, privateKey: Uint8Array): Uint8Array {
    const x = this.privateKey(curve, privateKey).export({ format: 'jwk' }).x;
    if (x === undefined) throw new InvalidKeyError('runtime returned no public key');
    return fromBase64Url(x, 'x');
  }
}

function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (const b of bytes) acc |= b;
  return acc === 0;
}

/**
 * Runs a synchronous key import with V8's stack-trace capture off. `createPrivateKey` and
 * `createPublicKey` on Node 24 find out that their input is not a `KeyObject` or `CryptoKey`
 * by catching two internal exceptions, and capturing their stack traces is most of the cost
 * (X25519 public-key import: 33 us with, 13 us without). The previous limit is restored before
 * any other code runs; errors that escape carry no stack, which nothing here needs.
 */
function withoutStackTraces<T>(f: () => T): T {
  const limit = Error.stackTraceLimit;
  try {
    Error.stackTraceLimit = 0;
  } catch {
    // Frozen intrinsics (`node --frozen-intrinsics`): the limit cannot change; just run.
    return f();
  }
  try {
    return f();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * How a raw secret key reaches `createHmac`/`createCipheriv`. Node 24 decides whether a key
 * argument is a `KeyObject` or `CryptoKey` by catching exceptions, so a plain array costs two
 * thrown errors per call (HMAC 26 us instead of 6 us, ChaCha20-Poly1305 on 1 KiB 33 us instead
 * of 10 us); wrapping it in a `KeyObject` first takes the fast branch. Node 20 and 22 are
 * faster with the array itself. Both give the same bytes.
 */
type SecretKeyMode = 'buffer' | 'keyObject';
type Secret = (key: Uint8Array) => Uint8Array | KeyObject;

const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

const asBuffer: Secret = (key) => key;
const asKeyObject: Secret = (key) => createSecretKey(key);

/** HMAC-SHA-256 (RFC 2104) of `data`, through OpenSSL. */
function hmacSha256(secret: Secret, key: Uint8Array, data: Uint8Array): Uint8Array {
  return plain(createHmac('sha256', secret(key)).update(data).digest());
}

/** The all-zero HKDF salt of RFC 5869 §2.2 when none is given. */
const ZERO_SALT = new Uint8Array(SHA256_BYTES);

/**
 * HKDF-SHA-256 (RFC 5869 §2.2-2.3) composed from OpenSSL's HMAC. Faster than `hkdfSync` for the
 * 32-64 byte outputs the protocol derives (it imports no key per call) and without its
 * 1,024-byte limit on `info`. Runs twice per message (docs/PROTOCOL.md §5), so the blocks
 * are written straight into the exact-size output and intermediate digests stay Buffers that
 * are zeroed here, not wrapped.
 */
function hkdfSha256(
  secret: Secret,
  ikm: Uint8Array,
  salt: Uint8Array,
  info: Uint8Array,
  length: number,
): Uint8Array {
  const prk = createHmac('sha256', secret(salt.length === 0 ? ZERO_SALT : salt))
    .update(ikm)
    .digest();
  const prkKey = secret(prk);
  const okm = new Uint8Array(length);
  const counter = new Uint8Array(1);
  // T(0) is empty; T(i) = HMAC(PRK, T(i-1) || info || i).
  let previous: Uint8Array | undefined;
  try {
    for (let i = 1, offset = 0; offset < length; i++, offset += SHA256_BYTES) {
      counter[0] = i;
      const mac = createHmac('sha256', prkKey);
      if (previous !== undefined) mac.update(previous);
      const block = mac.update(info).update(counter).digest();
      previous?.fill(0);
      previous = block;
      const take = Math.min(SHA256_BYTES, length - offset);
      okm.set(take === SHA256_BYTES ? block : block.subarray(0, take), offset);
    }
  } finally {
    previous?.fill(0);
    prk.fill(0);
  }
  return okm;
}

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
  const secretKeys = options.secretKeys ?? 'auto';
  const secret =
    secretKeys === 'keyObject' || (secretKeys === 'auto' && NODE_MAJOR >= 24)
      ? asKeyObject
      : asBuffer;
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
      const cipher = createCipheriv('chacha20-poly1305', secret(key), nonce, {
        authTagLength: AEAD_TAG_BYTES,
      });
      cipher.setAAD(aad, { plaintextLength: plaintext.length });
      const out = new Uint8Array(plaintext.length + AEAD_TAG_BYTES);
      out.set(cipher.update(plaintext));
      cipher.final();
      out.set(cipher.getAuthTag(), plaintext.length);
      return out;
    },

    aeadOpen(key, nonce, ciphertext, aad) {
      checkAead(key, nonce, ciphertext, 'ciphertext', aad);
      if (ciphertext.length < AEAD_TAG_BYTES) throw new DecryptError();
      const bodyLength = ciphertext.length - AEAD_TAG_BYTES;
      const decipher = createDecipheriv('chacha20-poly1305', secret(key), nonce, {
        authTagLength: AEAD_TAG_BYTES,
      });
      decipher.setAuthTag(ciphertext.subarray(bodyLength));
      decipher.setAAD(aad, { plaintextLength: bodyLength });
      const plaintext = plain(decipher.update(ciphertext.subarray(0, bodyLength)));
      try {
        decipher.final();
      } catch (cause) {
        // The tag check happens after decryption: unauthenticated plaintext must not survive.
        plaintext.fill(0);
        throw new DecryptError(undefined, { cause });
      }
      return plaintext;
    },

    // Key generation stays on noble: it is deterministic from the seed, so both
    // implementations give the same keys, and it runs only when prekeys are replenished.
    mlkemKeygen: nobleSymmetric.mlkemKeygen,

    mlkemEncapsulate(publicKey, seed) {
      if (seed !== undefined || kem === undefined || !kem.works()) {
        return nobleSymmetric.mlkemEncapsulate(publicKey, seed);
      }
      checkMlKemEncapsulate(publicKey);
      return kem.encapsulate(publicKey);
    },

    mlkemDecapsulate(cipherText, secretKey) {
      if (kem === undefined || !kem.works()) {
        return nobleSymmetric.mlkemDecapsulate(cipherText, secretKey);
      }
      checkMlKemDecapsulate(cipherText, secretKey);
      return kem.decapsulate(cipherText, secretKey);
    },
  };
}

/** `crypto.encapsulate` / `crypto.decapsulate`: Node >= 24 built with OpenSSL 3.5. */
interface NodeKemApi {
  encapsulate(key: KeyObject): { sharedKey: Buffer; ciphertext: Buffer };
  decapsulate(key: KeyObject, ciphertext: Uint8Array): Buffer;
}

/**
 * DER wrappers for raw ML-KEM-1024 keys (the IETF LAMPS X.509 profile for ML-KEM, algorithm
 * `id-alg-ml-kem-1024` = 2.16.840.1.101.3.4.4.3): SubjectPublicKeyInfo with the 1,568-byte key
 * in the BIT STRING, and PKCS#8 with the `expandedKey` choice (the 3,168-byte decapsulation key
 * of FIPS 203, the form noble and our prekey records use).
 */
const MLKEM1024_SPKI_PREFIX = fromHex('30820632300b06096086480165030404030382062100');
const MLKEM1024_PKCS8_PREFIX = fromHex('30820c78020100300b060960864801650304040304820c6404820c60');

/** ML-KEM-1024 encapsulation with the implementation's own randomness, and decapsulation. */
interface KemOps {
  encapsulate(publicKey: Uint8Array): { cipherText: Uint8Array; sharedSecret: Uint8Array };
  decapsulate(cipherText: Uint8Array, secretKey: Uint8Array): Uint8Array;
}

function withPrefix(prefix: Uint8Array, raw: Uint8Array): Buffer {
  const der = Buffer.allocUnsafeSlow(prefix.length + raw.length);
  der.set(prefix);
  der.set(raw, prefix.length);
  return der;
}

/**
 * OpenSSL's ML-KEM-1024, or undefined when the runtime has none. Whether it agrees with noble
 * is checked once, on first use, with a fixed key and message: OpenSSL decapsulates noble's
 * ciphertext to noble's secret and noble decapsulates OpenSSL's. Until then, and forever if
 * the check fails, the backend uses noble.
 */
function nativeMlKem() {
  const api = nodeCrypto as unknown as Partial<NodeKemApi>;
  const { encapsulate, decapsulate } = api;
  if (typeof encapsulate !== 'function' || typeof decapsulate !== 'function') return undefined;
  let verdict: boolean | undefined;

  function importPublic(publicKey: Uint8Array): KeyObject {
    const key = withPrefix(MLKEM1024_SPKI_PREFIX, publicKey);
    try {
      return withoutStackTraces(() => createPublicKey({ key, format: 'der', type: 'spki' }));
    } catch (cause) {
      // OpenSSL runs the FIPS 203 §7.2 modulus check when it parses the key.
      throw new InvalidKeyError('invalid ML-KEM public key', { cause });
    }
  }

  function importSecret(secretKey: Uint8Array): KeyObject {
    const der = withPrefix(MLKEM1024_PKCS8_PREFIX, secretKey);
    try {
      return withoutStackTraces(() => createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
    } catch (cause) {
      // FIPS 203 §7.3 input check: H(ek) inside the decapsulation key does not match ek.
      throw new InvalidKeyError('invalid ML-KEM secret key', { cause });
    } finally {
      der.fill(0);
    }
  }

  const impl: KemOps & { works(): boolean } = {
    encapsulate(publicKey) {
      const { sharedKey, ciphertext } = encapsulate(importPublic(publicKey));
      return { cipherText: plain(ciphertext), sharedSecret: plain(sharedKey) };
    },
    decapsulate(cipherText, secretKey) {
      return plain(decapsulate(importSecret(secretKey), cipherText));
    },
    works() {
      verdict ??= agreesWithNoble(impl);
      return verdict;
    },
  };
  return impl;
}

function agreesWithNoble(impl: KemOps): boolean {
  try {
    const seed = new Uint8Array(64).map((_, i) => i);
    const message = new Uint8Array(MLKEM_ENCAPS_SEED_BYTES).fill(0x5a);
    const { publicKey, secretKey } = nobleSymmetric.mlkemKeygen(seed);
    const ours = nobleSymmetric.mlkemEncapsulate(publicKey, message);
    const theirs = impl.encapsulate(publicKey);
    return (
      constantTimeEqual(impl.decapsulate(ours.cipherText, secretKey), ours.sharedSecret) &&
      constantTimeEqual(
        nobleSymmetric.mlkemDecapsulate(theirs.cipherText, secretKey),
        theirs.sharedSecret,
      )
    );
  } catch {
    return false;
  }
}

/** The `node:crypto` backend: OpenSSL for everything the runtime has, noble for the rest. */
export const nodeBackend: NodeBackend = createNodeBackend();

/** The backend `#crypto-default` resolves to on Node. */
export const defaultBackend: CryptoBackend = nodeBackend;
