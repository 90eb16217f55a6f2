/**
 * Shared setup of the anonymous-token tests: two issuer keys generated for this run, the
 * Sealpost-shaped challenge, a replaying Rng, and one honest issuance.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import {
  blindSign,
  generateTokenIssuerKey,
  type TokenIssuerKey,
} from '#functions/domain/token-issuer.ts';
import { type Rng, systemRng } from '#sdk/crypto/backend.ts';
import { beginToken, finishToken, TokenError, tokenChallenge } from '#sdk/tokens/index.ts';

export const issuerKey: TokenIssuerKey = generateTokenIssuerKey();
export const otherKey: TokenIssuerKey = generateTokenIssuerKey();
export const challenge = tokenChallenge({ issuerName: 'api.sealpost.example' });
export const challengeDigest = sha256(challenge);
export const expected = { challengeDigest, keyId: issuerKey.keyId };

/** An Rng that hands out exactly `bytes`, and fails if asked for more. */
export function replay(bytes: Uint8Array): Rng & { left(): number } {
  let at = 0;
  const rng = ((n: number) => {
    if (at + n > bytes.length) throw new Error('replay exhausted');
    at += n;
    return bytes.slice(at - n, at);
  }) as Rng & { left(): number };
  rng.left = () => bytes.length - at;
  return rng;
}

/** An Rng over `rng` that records the size of every draw. */
export function counting(rng: Rng): Rng & { sizes: number[] } {
  const sizes: number[] = [];
  const out = ((n: number) => {
    sizes.push(n);
    return rng(n);
  }) as Rng & { sizes: number[] };
  out.sizes = sizes;
  return out;
}

/** One honest issuance under `key`: the request, its pending state, the response, the token. */
export function issue(key: TokenIssuerKey = issuerKey, rng: Rng = systemRng) {
  const { request, pending } = beginToken(rng, { publicKey: key.publicKey, challenge });
  const response = blindSign(key, request);
  if (response === undefined) throw new Error('honest request refused');
  return { request, pending, response, token: finishToken(pending, response) };
}

/**
 * The outcome of `f`: `'ok'`, or the code of the `TokenError` it threw. Any other throw
 * propagates and fails the test.
 */
export function tokenOutcome(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (err) {
    if (err instanceof TokenError) return err.code;
    throw err;
  }
}

/** Big-endian bytes as an integer. */
export const big = (b: Uint8Array): bigint =>
  b.length === 0 ? 0n : BigInt(`0x${Buffer.from(b).toString('hex')}`);

/** An integer as exactly `length` big-endian bytes. */
export const bytesOf = (x: bigint, length = 256): Uint8Array =>
  new Uint8Array(Buffer.from(x.toString(16).padStart(2 * length, '0'), 'hex'));
