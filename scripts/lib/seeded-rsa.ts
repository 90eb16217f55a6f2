/**
 * RSA keys from a deterministic stream, for vector generators only (never for real keys):
 * 1024-bit primes searched from the stream's bytes, an RSA-2048 key with e = 65537 and
 * d = e^-1 mod lcm(p-1, q-1), exported as PKCS#8 through `node:crypto`. Also the BigInt
 * helpers the generators use to check RSA results independently of OpenSSL.
 */
import { createPrivateKey } from 'node:crypto';
import type { Rng } from '#sdk/crypto/backend.ts';
import { fromHex, toHex } from '#sdk/util/bytes.ts';

/** The public exponent of every key made here. */
export const E = 65537n;

/** Big-endian bytes as an integer. */
export const big = (b: Uint8Array): bigint => (b.length === 0 ? 0n : BigInt(`0x${toHex(b)}`));

/** An integer as exactly `length` big-endian bytes. */
export const intBytes = (x: bigint, length: number): Uint8Array =>
  fromHex(x.toString(16).padStart(2 * length, '0'));

/** An integer as unpadded base64url (JWK). */
function b64u(x: bigint): string {
  const hex = x.toString(16);
  return Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex').toString('base64url');
}

/** `base^exponent mod m` by right-to-left square and multiply. */
export function modPow(base: bigint, exponent: bigint, m: bigint): bigint {
  let result = 1n;
  let b = base % m;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % m;
    b = (b * b) % m;
  }
  return result;
}

/** `a^-1 mod m`; throws if there is none. */
export function inverse(a: bigint, m: bigint): bigint {
  let [r0, r1, t0, t1] = [m, a % m, 0n, 1n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1, t0, t1] = [r1, r0 - q * r1, t1, t0 - q * t1];
  }
  if (r0 !== 1n) throw new Error('not invertible');
  return ((t0 % m) + m) % m;
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

const SMALL_PRIMES = (() => {
  const out: bigint[] = [];
  for (let i = 3n; out.length < 1000; i += 2n) if (out.every((p) => i % p !== 0n)) out.push(i);
  return out;
})();
const WITNESSES = SMALL_PRIMES.slice(0, 40);

/** Miller-Rabin with the first 40 odd primes as witnesses, after trial division. */
function isProbablePrime(n: bigint): boolean {
  for (const p of SMALL_PRIMES) if (n % p === 0n) return false;
  let d = n - 1n;
  let s = 0;
  while ((d & 1n) === 0n) {
    d >>= 1n;
    s++;
  }
  for (const a of WITNESSES) {
    let x = modPow(a, d, n);
    if (x === 1n || x === n - 1n) continue;
    let composite = true;
    for (let i = 1; i < s && composite; i++) {
      x = (x * x) % n;
      if (x === n - 1n) composite = false;
    }
    if (composite) return false;
  }
  return true;
}

/** A 1024-bit prime from the stream: top two bits set (so p*q has 2048 bits), gcd(e, p-1) = 1. */
function streamPrime(stream: Rng): bigint {
  for (;;) {
    const b = stream(128);
    b[0]! |= 0xc0;
    b[127]! |= 1;
    const p = big(b);
    if ((p - 1n) % E !== 0n && isProbablePrime(p)) return p;
  }
}

/**
 * An RSA-2048 key (e = 65537) drawn from `stream`, with its PKCS#8 encoding.
 *
 * @example const { n, d, pkcs8 } = seededRsaKey(seededRng('vectors'));
 */
export function seededRsaKey(stream: Rng) {
  const p = streamPrime(stream);
  const q = streamPrime(stream);
  const d = inverse(E, ((p - 1n) * (q - 1n)) / gcd(p - 1n, q - 1n));
  const n = p * q;
  const jwk = {
    kty: 'RSA',
    n: b64u(n),
    e: b64u(E),
    d: b64u(d),
    p: b64u(p),
    q: b64u(q),
    dp: b64u(d % (p - 1n)),
    dq: b64u(d % (q - 1n)),
    qi: b64u(inverse(q, p)),
  };
  const pkcs8 = new Uint8Array(
    createPrivateKey({ key: jwk, format: 'jwk' }).export({ format: 'der', type: 'pkcs8' }),
  );
  return { p, q, n, d, pkcs8 };
}
