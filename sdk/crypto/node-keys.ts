/**
 * Raw 32-byte X25519 and Ed25519 keys as OpenSSL `KeyObject`s for the `node:crypto` backend.
 * Importing a key costs as much as or more than the operation itself, so imported keys are
 * cached (docs/PROTOCOL.md §2.3): private keys by the identity of the caller's array (checked
 * against its contents on every hit) and, behind that, in a small LRU under a keyed hash of
 * their bytes; public keys by value in a small LRU.
 */
import { Buffer } from 'node:buffer';
import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  type KeyObject,
  randomBytes,
  sign,
} from 'node:crypto';
import { InvalidKeyError } from '../errors.ts';
import { constantTimeEqual, fromBase64Url, fromHex } from '../util/bytes.ts';
import { PKCS8_PREFIX, withDerPrefix } from '../util/der.ts';

/** The curves whose raw keys are imported here, named as `node:crypto` names them. */
export type Curve = 'X25519' | 'Ed25519';

/** Public keys kept per curve. Peers' keys recur (identity, signed prekey, server keys). */
const PUBLIC_CACHE_SIZE = 256;
/**
 * Private keys kept by value per curve. Stored records decode into fresh arrays on every
 * message, so the identity cache misses for a ratchet or signed prekey that comes back from the
 * store; this LRU catches those. Small on purpose: a superseded ratchet key stays importable
 * from memory only until 32 newer private keys of its curve have been used.
 */
const PRIVATE_CACHE_SIZE = 32;

/** A Node Buffer as a plain Uint8Array over the same memory (no copy when it owns its buffer). */
export function plain(buf: Uint8Array): Uint8Array {
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

/**
 * Runs a synchronous key import with V8's stack-trace capture off. `createPrivateKey` and
 * `createPublicKey` on Node 24 find out that their input is not a `KeyObject` or `CryptoKey`
 * by catching two internal exceptions, and capturing their stack traces is most of the cost.
 * The previous limit is restored before
 * any other code runs; errors that escape carry no stack, which nothing here needs.
 */
export function withoutStackTraces<T>(f: () => T): T {
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

// Node 20 builds an OKP private key from JWK `d` alone; its `x` is type-checked but unused, so
// a placeholder saves computing the public key first, and the JWK path avoids OpenSSL 3's
// much slower PKCS#8 decoders. Whether the running Node behaves so is checked once against
// RFC 8032 §7.1 TEST 1; otherwise PKCS#8 is used.
const JWK_X_PLACEHOLDER = 'A'.repeat(43);
let jwkPrivateImportWorks: boolean | undefined;

function importPrivateJwk(curve: Curve, raw: Uint8Array): KeyObject {
  const jwk = { kty: 'OKP', crv: curve, d: base64url(raw), x: JWK_X_PLACEHOLDER };
  return withoutStackTraces(() => createPrivateKey({ key: jwk, format: 'jwk' }));
}

function importPrivatePkcs8(curve: Curve, raw: Uint8Array): KeyObject {
  const der = withDerPrefix(PKCS8_PREFIX[curve], raw);
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
export class KeyObjects {
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
