/**
 * `node:crypto` backend (Node only; selected through the `node` condition of the
 * `#crypto-default` import in package.json). OpenSSL does X25519, Ed25519, SHA-2, HMAC and
 * ChaCha20-Poly1305 synchronously: the curves 10-30x and the symmetric work about 2x faster than
 * pure JS on the same machine. ML-KEM-1024 comes from noble because Node 20 has none
 * (docs/protocol/02-crypto.md §2).
 *
 * Raw 32-byte keys become OpenSSL `KeyObject`s. Importing a key costs as much as or more than
 * the operation itself, so imported keys are cached (§3 of the same document): private keys by
 * the identity of the caller's array (checked against its contents on every hit) and, behind
 * that, in a small LRU under a keyed hash of their bytes; public keys by value in a small LRU.
 */
import { Buffer } from 'node:buffer';
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  type KeyObject,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import { DecryptError, InvalidKeyError } from '../errors.ts';
import { assertBytes, constantTimeEqual, fromBase64Url, fromHex } from '../util/bytes.ts';
import {
  AEAD_KEY_BYTES,
  AEAD_NONCE_BYTES,
  AEAD_TAG_BYTES,
  type CryptoBackend,
  ED25519_PUBLIC_BYTES,
  ED25519_SEED_BYTES,
  ED25519_SIGNATURE_BYTES,
  HKDF_SHA256_MAX_LENGTH,
  X25519_KEY_BYTES,
} from './backend.ts';
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
  return createPrivateKey({
    key: { kty: 'OKP', crv: curve, d: base64url(raw), x: JWK_X_PLACEHOLDER },
    format: 'jwk',
  });
}

function importPrivatePkcs8(curve: Curve, raw: Uint8Array): KeyObject {
  const prefix = PKCS8_PREFIX[curve];
  const der = new Uint8Array(prefix.length + raw.length);
  der.set(prefix);
  der.set(raw, prefix.length);
  try {
    return createPrivateKey({ key: Buffer.from(der.buffer), format: 'der', type: 'pkcs8' });
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
  private readonly fingerprintKey = scheduleKey(randomBytes(32), newSchedule());
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
    const fingerprint = base64url(smallHmac(this.fingerprintKey, [raw], raw.length));
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
      cache.get(x) ?? createPublicKey({ key: { kty: 'OKP', crv: curve, x }, format: 'jwk' });
    touch(cache, x, key, PUBLIC_CACHE_SIZE);
    return key;
  }

  publicKeyOf(curve: Curve, privateKey: Uint8Array): Uint8Array {
    const x = this.privateKey(curve, privateKey).export({ format: 'jwk' }).x;
    if (x === undefined) throw new InvalidKeyError('runtime returned no public key');
    return fromBase64Url(x, 'x');
  }
}

// SHA-256 (FIPS 180-4 §6.2) for short HMAC inputs. No table is indexed by secret data, so the
// timing depends only on the input lengths, as in OpenSSL's portable C.
const SHA256_BLOCK_BYTES = 64;
/** Above this many message bytes OpenSSL's SHA-256 wins despite its per-call setup. */
const SMALL_HMAC_MAX_BYTES = 1024;
// FIPS 180-4 §4.2.2 and §5.3.3; Int32Array stores each word modulo 2^32.
// biome-ignore format: a table of 32-bit words reads best eight to a line
const SHA256_K = Int32Array.of(
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
);
// biome-ignore format: a table of 32-bit words reads best eight to a line
const SHA256_IV = Int32Array.of(
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
);
// Scratch space of the one synchronous caller at a time; wiped after every MAC.
const shaW = new Int32Array(64);
const innerState = new Int32Array(8);
const outerState = new Int32Array(8);
const shaBlock = new Uint8Array(SHA256_BLOCK_BYTES);
const innerDigest = new Uint8Array(SHA256_BYTES);
const callSchedule = newSchedule();
const prkSchedule = newSchedule();

function sha256Compress(state: Int32Array, input: Uint8Array, offset: number): void {
  const w = shaW;
  for (let i = 0; i < 16; i++) {
    const j = offset + 4 * i;
    w[i] = (input[j]! << 24) | (input[j + 1]! << 16) | (input[j + 2]! << 8) | input[j + 3]!;
  }
  for (let i = 16; i < 64; i++) {
    const a = w[i - 15]!;
    const b = w[i - 2]!;
    const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
    const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
    w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
  }
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  let e = state[4]!;
  let f = state[5]!;
  let g = state[6]!;
  let h = state[7]!;
  for (let i = 0; i < 64; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + s1 + ((e & f) ^ (~e & g)) + SHA256_K[i]! + w[i]!) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
  state[4] = (state[4]! + e) | 0;
  state[5] = (state[5]! + f) | 0;
  state[6] = (state[6]! + g) | 0;
  state[7] = (state[7]! + h) | 0;
}

function writeWords(state: Int32Array, out: Uint8Array): void {
  for (let i = 0; i < 8; i++) {
    const v = state[i]!;
    out[4 * i] = v >>> 24;
    out[4 * i + 1] = v >>> 16;
    out[4 * i + 2] = v >>> 8;
    out[4 * i + 3] = v;
  }
}

/** The SHA-256 states after absorbing the key block XOR ipad and XOR opad (RFC 2104 §2). */
interface KeySchedule {
  readonly inner: Int32Array;
  readonly outer: Int32Array;
}

function newSchedule(): KeySchedule {
  return { inner: new Int32Array(8), outer: new Int32Array(8) };
}

function absorbKey(state: Int32Array, key: Uint8Array, pad: number): void {
  state.set(SHA256_IV);
  shaBlock.fill(pad);
  for (let i = 0; i < key.length; i++) shaBlock[i] = key[i]! ^ pad;
  sha256Compress(state, shaBlock, 0);
}

/**
 * Absorbs `parts` (`length` bytes in all) and the FIPS 180-4 §5.1.1 padding into `state`, which
 * has already absorbed `prefixBytes` (0 or one key block). At most 1024 bytes.
 */
function absorbFinal(
  state: Int32Array,
  parts: readonly Uint8Array[],
  length: number,
  prefixBytes: number,
): void {
  let fill = 0;
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) {
      shaBlock[fill++] = part[i]!;
      if (fill === SHA256_BLOCK_BYTES) {
        sha256Compress(state, shaBlock, 0);
        fill = 0;
      }
    }
  }
  // 0x80, zeros, then the message length in bits as a u64 (below 2^32 here).
  shaBlock[fill++] = 0x80;
  if (fill > 56) {
    shaBlock.fill(0, fill);
    sha256Compress(state, shaBlock, 0);
    fill = 0;
  }
  shaBlock.fill(0, fill, 60);
  const bits = (prefixBytes + length) * 8;
  shaBlock[60] = bits >>> 24;
  shaBlock[61] = bits >>> 16;
  shaBlock[62] = bits >>> 8;
  shaBlock[63] = bits;
  sha256Compress(state, shaBlock, 0);
}

function wipeScratch(): void {
  shaBlock.fill(0);
  shaW.fill(0);
  innerState.fill(0);
  outerState.fill(0);
}

/** RFC 2104 §2: a key longer than a block is replaced by its hash (at most 1024 bytes here). */
function scheduleKey(key: Uint8Array, into: KeySchedule): KeySchedule {
  if (key.length <= SHA256_BLOCK_BYTES) {
    absorbKey(into.inner, key, 0x36);
    absorbKey(into.outer, key, 0x5c);
    return into;
  }
  innerState.set(SHA256_IV);
  absorbFinal(innerState, [key], key.length, 0);
  const hashed = new Uint8Array(SHA256_BYTES);
  writeWords(innerState, hashed);
  absorbKey(into.inner, hashed, 0x36);
  absorbKey(into.outer, hashed, 0x5c);
  hashed.fill(0);
  wipeScratch();
  return into;
}

function wipeSchedule(schedule: KeySchedule): void {
  schedule.inner.fill(0);
  schedule.outer.fill(0);
}

/** HMAC-SHA-256 under a scheduled key over `parts` (`length` bytes, at most 1024). */
function smallHmac(key: KeySchedule, parts: readonly Uint8Array[], length: number): Uint8Array {
  innerState.set(key.inner);
  absorbFinal(innerState, parts, length, SHA256_BLOCK_BYTES);
  writeWords(innerState, innerDigest);
  outerState.set(key.outer);
  absorbFinal(outerState, [innerDigest], SHA256_BYTES, SHA256_BLOCK_BYTES);
  const out = new Uint8Array(SHA256_BYTES);
  writeWords(outerState, out);
  innerDigest.fill(0);
  wipeScratch();
  return out;
}

function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (const b of bytes) acc |= b;
  return acc === 0;
}

/**
 * HMAC-SHA-256 (RFC 2104) over `parts` concatenated: in JavaScript for the short inputs the
 * protocol MACs (chain keys, HKDF blocks, cache fingerprints), through OpenSSL otherwise.
 * `createHmac` pays ~5 µs of per-call setup (a JS stream object and an OpenSSL 3 algorithm
 * fetch) while a 64-byte SHA-256 block costs well under 1 µs in JavaScript, so a ratchet
 * message's ten HMACs ran several times faster here (docs/protocol/02-crypto.md §3).
 */
function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  if (key.length <= SMALL_HMAC_MAX_BYTES && length <= SMALL_HMAC_MAX_BYTES) {
    try {
      return smallHmac(scheduleKey(key, callSchedule), parts, length);
    } finally {
      wipeSchedule(callSchedule);
    }
  }
  const mac = createHmac('sha256', key);
  for (const part of parts) mac.update(part);
  return plain(mac.digest());
}

/**
 * HKDF-SHA-256 (RFC 5869 §2.2-2.3) composed from HMAC. Several times faster than `hkdfSync`
 * for the 32-64 byte outputs the protocol derives (no per-call key import) and without its
 * 1,024-byte limit on `info`.
 */
function hkdfSha256(
  ikm: Uint8Array,
  salt: Uint8Array,
  info: Uint8Array,
  length: number,
): Uint8Array {
  const prk = hmacSha256(salt.length === 0 ? new Uint8Array(SHA256_BYTES) : salt, ikm);
  const blocks = Math.ceil(length / SHA256_BYTES);
  const okm = new Uint8Array(blocks * SHA256_BYTES);
  const counter = new Uint8Array(1);
  // The PRK keys every block: absorb it once (a block is one HMAC with a 32-byte key).
  const small = SHA256_BYTES + info.length + 1 <= SMALL_HMAC_MAX_BYTES;
  if (small) scheduleKey(prk, prkSchedule);
  // T(0) is empty; T(i) = HMAC(PRK, T(i-1) || info || i).
  let previous: Uint8Array = new Uint8Array(0);
  try {
    for (let i = 1; i <= blocks; i++) {
      counter[0] = i;
      const block = small
        ? smallHmac(prkSchedule, [previous, info, counter], previous.length + info.length + 1)
        : hmacSha256(prk, previous, info, counter);
      previous.fill(0);
      okm.set(block, (i - 1) * SHA256_BYTES);
      previous = block;
    }
  } finally {
    wipeSchedule(prkSchedule);
    previous.fill(0);
    prk.fill(0);
  }
  if (okm.length === length) return okm;
  const out = okm.slice(0, length);
  okm.fill(0);
  return out;
}

/** Options of {@link createNodeBackend}. */
export interface NodeBackendOptions {
  /**
   * How raw private keys become OpenSSL keys: `auto` uses the fast JWK import when a
   * known-answer test shows the runtime supports it, `pkcs8` always parses PKCS#8 DER.
   * @default 'auto'
   */
  readonly privateKeyImport?: 'auto' | 'pkcs8';
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
export function createNodeBackend(options: NodeBackendOptions = {}): CryptoBackend {
  const keys = new KeyObjects(options.privateKeyImport ?? 'auto');
  return {
    name: 'node',

    async x25519PublicKey(privateKey) {
      assertBytes(privateKey, 'privateKey', X25519_KEY_BYTES);
      return keys.publicKeyOf('X25519', privateKey);
    },

    async x25519(privateKey, publicKey) {
      assertBytes(privateKey, 'privateKey', X25519_KEY_BYTES);
      assertBytes(publicKey, 'publicKey', X25519_KEY_BYTES);
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
      assertBytes(seed, 'seed', ED25519_SEED_BYTES);
      return keys.publicKeyOf('Ed25519', seed);
    },

    async ed25519Sign(seed, message) {
      assertBytes(seed, 'seed', ED25519_SEED_BYTES);
      assertBytes(message, 'message');
      return plain(sign(null, message, keys.privateKey('Ed25519', seed)));
    },

    async ed25519Verify(publicKey, message, signature) {
      assertBytes(publicKey, 'publicKey');
      assertBytes(message, 'message');
      assertBytes(signature, 'signature');
      if (publicKey.length !== ED25519_PUBLIC_BYTES || signature.length !== ED25519_SIGNATURE_BYTES)
        return false;
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
      assertBytes(key, 'key');
      assertBytes(data, 'data');
      return hmacSha256(key, data);
    },

    hkdfSha256(ikm, salt, info, length) {
      assertBytes(ikm, 'ikm');
      assertBytes(salt, 'salt');
      assertBytes(info, 'info');
      if (!Number.isInteger(length) || length < 0 || length > HKDF_SHA256_MAX_LENGTH)
        throw new RangeError(`length must be an integer in 0..${HKDF_SHA256_MAX_LENGTH}`);
      return hkdfSha256(ikm, salt, info, length);
    },

    aeadSeal(key, nonce, plaintext, aad) {
      assertBytes(key, 'key', AEAD_KEY_BYTES);
      assertBytes(nonce, 'nonce', AEAD_NONCE_BYTES);
      assertBytes(plaintext, 'plaintext');
      assertBytes(aad, 'aad');
      const cipher = createCipheriv('chacha20-poly1305', key, nonce, {
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
      assertBytes(key, 'key', AEAD_KEY_BYTES);
      assertBytes(nonce, 'nonce', AEAD_NONCE_BYTES);
      assertBytes(ciphertext, 'ciphertext');
      assertBytes(aad, 'aad');
      if (ciphertext.length < AEAD_TAG_BYTES) throw new DecryptError();
      const bodyLength = ciphertext.length - AEAD_TAG_BYTES;
      const decipher = createDecipheriv('chacha20-poly1305', key, nonce, {
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

    mlkemKeygen: nobleSymmetric.mlkemKeygen,
    mlkemEncapsulate: nobleSymmetric.mlkemEncapsulate,
    mlkemDecapsulate: nobleSymmetric.mlkemDecapsulate,
  };
}

/** The `node:crypto` backend: OpenSSL for everything Node 20 has, noble's ML-KEM-1024. */
export const nodeBackend: CryptoBackend = createNodeBackend();

/** The backend `#crypto-default` resolves to on Node. */
export const defaultBackend: CryptoBackend = nodeBackend;
