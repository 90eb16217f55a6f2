/**
 * The client side of RSA blind signatures, RSABSSA-SHA384-PSS-Deterministic (RFC 9474 §4, §5):
 * `Blind` and `Finalize` (which ends with an RSASSA-PSS verification, RFC 8017 §8.1.2), on
 * native `BigInt`, with SHA-384 and MGF1-SHA-384 from `@noble/hashes` and a PSS salt of 48
 * bytes. No message randomizer: the message is the 98-byte token input, whose 32-byte nonce
 * already makes it unique (RFC 9578 §6.1).
 *
 * Generic in the modulus size so that the RFC 9474 Appendix A vector (a 4096-bit key) runs
 * through the same code; the token layer accepts 2048-bit keys only.
 *
 * `BigInt` arithmetic is not constant time. The secrets here (the blind `r` and its inverse)
 * protect unlinkability, not a key, and the only party that could gain from a timing leak, the
 * issuer, does not observe the client's computation.
 */
import { sha384 } from '@noble/hashes/sha2.js';
import type { Rng } from '../crypto/backend.ts';
import { ArgumentRangeError } from '../util/argument-errors.ts';
import { concatBytes, constantTimeEqual, toHex } from '../util/bytes.ts';

/** SHA-384 output size (hLen). */
const HASH_BYTES = 48;
/** PSS salt length of the PSS variant (sLen = hLen, RFC 9474 §5). */
export const PSS_SALT_BYTES = 48;
/** Draws of `r` before giving up: each succeeds with probability > 1/2 for a full-size modulus. */
const MAX_BLIND_DRAWS = 128;

/** An RSA public key as integers, with the sizes every step needs. */
export interface RsaPublicKey {
  readonly n: bigint;
  readonly e: bigint;
  /** `k`: the modulus length in bytes. */
  readonly modulusBytes: number;
  /** The modulus length in bits. */
  readonly modulusBits: number;
}

/** The sizes of `n` and `e` as an {@link RsaPublicKey}. */
export function rsaPublicKey(n: bigint, e: bigint): RsaPublicKey {
  const modulusBits = n.toString(2).length;
  return { n, e, modulusBits, modulusBytes: Math.ceil(modulusBits / 8) };
}

/** OS2IP (RFC 8017 §4.2): big-endian bytes to a non-negative integer. */
export function os2ip(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${toHex(bytes)}`);
}

/** I2OSP (RFC 8017 §4.1): `x` as exactly `length` big-endian bytes; `x` must fit. */
export function i2osp(x: bigint, length: number): Uint8Array {
  const hex = x.toString(16);
  if (x < 0n || hex.length > 2 * length) throw new ArgumentRangeError('integer too large');
  const out = new Uint8Array(length);
  const offset = length - Math.ceil(hex.length / 2);
  const padded = hex.length % 2 === 0 ? hex : `0${hex}`;
  for (let i = 0; i < padded.length / 2; i++) {
    out[offset + i] = Number.parseInt(padded.slice(2 * i, 2 * i + 2), 16);
  }
  return out;
}

/** `base^exponent mod modulus` by left-to-right square and multiply. */
export function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  const b = base % modulus;
  for (let bit = exponent.toString(2), i = 0; i < bit.length; i++) {
    result = (result * result) % modulus;
    if (bit[i] === '1') result = (result * b) % modulus;
  }
  return result;
}

/** `a^-1 mod m` by the extended Euclidean algorithm, or `undefined` if gcd(a, m) != 1. */
export function modInverse(a: bigint, m: bigint): bigint | undefined {
  let [r0, r1] = [m, ((a % m) + m) % m];
  let [t0, t1] = [0n, 1n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [t0, t1] = [t1, t0 - q * t1];
  }
  if (r0 !== 1n) return undefined;
  return t0 < 0n ? t0 + m : t0;
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/** MGF1 with SHA-384 (RFC 8017 §B.2.1). */
function mgf1(seed: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(Math.ceil(length / HASH_BYTES) * HASH_BYTES);
  const input = new Uint8Array(seed.length + 4);
  input.set(seed);
  for (let counter = 0, at = 0; at < length; counter++, at += HASH_BYTES) {
    input[seed.length] = counter >>> 24;
    input[seed.length + 1] = (counter >>> 16) & 0xff;
    input[seed.length + 2] = (counter >>> 8) & 0xff;
    input[seed.length + 3] = counter & 0xff;
    out.set(sha384(input), at);
  }
  return out.subarray(0, length);
}

/** `H = Hash(0x00 * 8 || Hash(M) || salt)` (RFC 8017 §9.1.1 steps 2, 5, 6). */
function pssDigest(message: Uint8Array, salt: Uint8Array): Uint8Array {
  return sha384(concatBytes(new Uint8Array(8), sha384(message), salt));
}

/**
 * EMSA-PSS-ENCODE (RFC 8017 §9.1.1) with SHA-384, MGF1-SHA-384 and the given salt, for
 * `emBits = modulusBits - 1`.
 */
export function emsaPssEncode(message: Uint8Array, emBits: number, salt: Uint8Array): Uint8Array {
  const emLen = Math.ceil(emBits / 8);
  // Step 3: never reached for the sizes used here (emLen >= 256).
  if (emLen < HASH_BYTES + salt.length + 2) throw new ArgumentRangeError('modulus too small');
  const h = pssDigest(message, salt);
  const dbLen = emLen - HASH_BYTES - 1;
  const db = new Uint8Array(dbLen);
  db[dbLen - salt.length - 1] = 0x01;
  db.set(salt, dbLen - salt.length);
  const mask = mgf1(h, dbLen);
  for (let i = 0; i < dbLen; i++) db[i]! ^= mask[i]!;
  db[0]! &= 0xff >>> (8 * emLen - emBits);
  const em = new Uint8Array(emLen);
  em.set(db);
  em.set(h, dbLen);
  em[emLen - 1] = 0xbc;
  return em;
}

/** EMSA-PSS-VERIFY (RFC 8017 §9.1.2) with SHA-384, MGF1-SHA-384 and a 48-byte salt. */
export function emsaPssVerify(message: Uint8Array, em: Uint8Array, emBits: number): boolean {
  const emLen = Math.ceil(emBits / 8);
  if (em.length !== emLen || emLen < HASH_BYTES + PSS_SALT_BYTES + 2) return false;
  if (em[emLen - 1] !== 0xbc) return false;
  const dbLen = emLen - HASH_BYTES - 1;
  const topMask = 0xff >>> (8 * emLen - emBits);
  if ((em[0]! & ~topMask) !== 0) return false;
  const h = em.subarray(dbLen, dbLen + HASH_BYTES);
  const db = mgf1(h, dbLen).slice();
  for (let i = 0; i < dbLen; i++) db[i]! ^= em[i]!;
  db[0]! &= topMask;
  const psLen = dbLen - PSS_SALT_BYTES - 1;
  let bad = db[psLen]! ^ 0x01;
  for (let i = 0; i < psLen; i++) bad |= db[i]!;
  if (bad !== 0) return false;
  return constantTimeEqual(pssDigest(message, db.subarray(psLen + 1)), h);
}

/**
 * RSASSA-PSS-VERIFY (RFC 8017 §8.1.2) with SHA-384, MGF1-SHA-384 and a 48-byte salt: whether
 * `signature` is valid for `message` under `key`.
 */
export function rsassaPssVerify(
  key: RsaPublicKey,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (signature.length !== key.modulusBytes) return false;
  const s = os2ip(signature);
  if (s >= key.n) return false;
  const emBits = key.modulusBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const m = modPow(s, key.e, key.n);
  if (m >> BigInt(8 * emLen) !== 0n) return false;
  return emsaPssVerify(message, i2osp(m, emLen), emBits);
}

/** The output of {@link blind}: the blinded message for the issuer and the inverse to keep. */
export interface Blinded {
  readonly blindedMessage: Uint8Array;
  /** `r^-1 mod n`: unblinds the issuer's answer; links request and token, so never sent. */
  readonly inverse: bigint;
}

/**
 * RFC 9474 §4.2 `Blind`: draws the 48-byte PSS salt, then the blind `r` uniformly in [1, n)
 * with gcd(r, n) = 1 (rejection sampling over `modulusBytes` draws, as the RFC's test
 * vectors and the reference implementations do, so fixed draws reproduce them).
 *
 * @throws {ArgumentRangeError} if `message` is not coprime with `n` (it would reveal a
 *   factor of `n`), or `rng` yields no usable blind in 128 draws.
 */
export function blind(rng: Rng, key: RsaPublicKey, message: Uint8Array): Blinded {
  const salt = rng(PSS_SALT_BYTES);
  const m = os2ip(emsaPssEncode(message, key.modulusBits - 1, salt));
  if (gcd(m, key.n) !== 1n) throw new ArgumentRangeError('message is not coprime with n');
  for (let draw = 0; draw < MAX_BLIND_DRAWS; draw++) {
    const bytes = rng(key.modulusBytes);
    const r = os2ip(bytes);
    bytes.fill(0);
    if (r === 0n || r >= key.n) continue;
    const inverse = modInverse(r, key.n);
    if (inverse === undefined) continue;
    const z = (m * modPow(r, key.e, key.n)) % key.n;
    return { blindedMessage: i2osp(z, key.modulusBytes), inverse };
  }
  throw new ArgumentRangeError('rng yielded no blind in [1, n)');
}

/**
 * RFC 9474 §4.3 `Finalize`: unblinds the issuer's blind signature and verifies the result as
 * an RSASSA-PSS signature over `message`. `undefined` if the answer has the wrong length, is
 * not below `n`, or does not unblind to a valid signature.
 */
export function finalize(
  key: RsaPublicKey,
  message: Uint8Array,
  blindSignature: Uint8Array,
  inverse: bigint,
): Uint8Array | undefined {
  if (blindSignature.length !== key.modulusBytes) return undefined;
  const z = os2ip(blindSignature);
  if (z >= key.n) return undefined;
  const signature = i2osp((z * inverse) % key.n, key.modulusBytes);
  return rsassaPssVerify(key, message, signature) ? signature : undefined;
}
