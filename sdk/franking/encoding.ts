/**
 * Codecs of franking (PROTOCOL.md §11.1, §11.3): canonical scalars, ristretto255 points and the
 * 304-byte signature layout. Decoders are strict and never throw on bad bytes: they return
 * `undefined`, so a verifier turns any malformed input into `false`.
 *
 * ```
 * sigma = J || R || E_J || E_R || ch || cA1 || cB1 || zA0 || zA1 || zB0 || zB1
 *         32   32   32    32    16    16    16    32    32    32    32        = 304 bytes
 * ```
 */

import { ristretto255 } from '@noble/curves/ed25519.js';
import {
  FRANKING_COMMITMENT_BYTES,
  FRANKING_MESSAGE_SIGNATURE_BYTES,
  FRANKING_OPENING_KEY_BYTES,
  FRANKING_SESSION_KEY_BYTES,
  FRANKING_SIGNATURE_BYTES,
} from '../wire/sealed.ts';
import { CHALLENGE_BYTES, L, leInteger, type Point, SCALAR_BYTES } from './group.ts';

/** Size of a franking public key (a ristretto255 encoding). */
export const FRANKING_PUBLIC_KEY_BYTES = 32;
/** Size of a franking secret key (a canonical little-endian scalar). */
export const FRANKING_SECRET_KEY_BYTES = 32;

/** Byte offsets of the signature fields. */
export const SIG = {
  J: 0,
  R: 32,
  EJ: 64,
  ER: 96,
  CH: 128,
  CA1: 144,
  CB1: 160,
  ZA0: 176,
  ZA1: 208,
  ZB0: 240,
  ZB1: 272,
} as const;

/**
 * The canonical scalar in `bytes` (32 bytes, little-endian, < l), or `undefined`.
 * `nonZero` also refuses 0 (secret keys).
 */
export function decodeScalar(bytes: Uint8Array, nonZero = false): bigint | undefined {
  if (bytes.length !== SCALAR_BYTES) return undefined;
  const k = leInteger(bytes);
  if (k >= L || (nonZero && k === 0n)) return undefined;
  return k;
}

/**
 * The point encoded by `bytes` (32 bytes, a canonical ristretto255 encoding, RFC 9496 §4.3.1),
 * or `undefined` for anything else, including the identity (never a valid key or signature
 * element: a key or nonce of 0).
 */
export function decodePoint(bytes: Uint8Array): Point | undefined {
  if (bytes.length !== 32) return undefined;
  let zero = 0;
  for (const b of bytes) zero |= b;
  if (zero === 0) return undefined;
  try {
    return ristretto255.Point.fromBytes(bytes);
  } catch {
    return undefined;
  }
}

/** `a XOR b` for two 16-byte challenges (the OR split over {0,1}^128). */
export function xorChallenge(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(CHALLENGE_BYTES);
  for (let i = 0; i < CHALLENGE_BYTES; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** A 16-byte challenge as a scalar (< 2^128 < l). */
export const challengeScalar = (c: Uint8Array): bigint => leInteger(c);

/** The fields of a signature, as views into it (PROTOCOL.md §11.3). */
export interface SignatureFields {
  readonly J: Uint8Array;
  readonly R: Uint8Array;
  readonly EJ: Uint8Array;
  readonly ER: Uint8Array;
  readonly ch: Uint8Array;
  readonly cA1: Uint8Array;
  readonly cB1: Uint8Array;
  readonly zA0: Uint8Array;
  readonly zA1: Uint8Array;
  readonly zB0: Uint8Array;
  readonly zB1: Uint8Array;
}

/** Splits a 304-byte signature into its fields (views, no copy); no validation. */
export function signatureFields(sigma: Uint8Array): SignatureFields {
  const at = (offset: number, length: number) => sigma.subarray(offset, offset + length);
  return {
    J: at(SIG.J, 32),
    R: at(SIG.R, 32),
    EJ: at(SIG.EJ, 32),
    ER: at(SIG.ER, 32),
    ch: at(SIG.CH, CHALLENGE_BYTES),
    cA1: at(SIG.CA1, CHALLENGE_BYTES),
    cB1: at(SIG.CB1, CHALLENGE_BYTES),
    zA0: at(SIG.ZA0, SCALAR_BYTES),
    zA1: at(SIG.ZA1, SCALAR_BYTES),
    zB0: at(SIG.ZB0, SCALAR_BYTES),
    zB1: at(SIG.ZB1, SCALAR_BYTES),
  };
}

/** Lays out a signature from its fields (PROTOCOL.md §11.3). */
export function encodeSignature(f: SignatureFields): Uint8Array {
  const out = new Uint8Array(FRANKING_SIGNATURE_BYTES);
  out.set(f.J, SIG.J);
  out.set(f.R, SIG.R);
  out.set(f.EJ, SIG.EJ);
  out.set(f.ER, SIG.ER);
  out.set(f.ch, SIG.CH);
  out.set(f.cA1, SIG.CA1);
  out.set(f.cB1, SIG.CB1);
  out.set(f.zA0, SIG.ZA0);
  out.set(f.zA1, SIG.ZA1);
  out.set(f.zB0, SIG.ZB0);
  out.set(f.zB1, SIG.ZB1);
  return out;
}

// The sizes are part of the envelope layout (sdk/wire/sealed.ts); one definition each.
export {
  FRANKING_COMMITMENT_BYTES,
  FRANKING_MESSAGE_SIGNATURE_BYTES,
  FRANKING_OPENING_KEY_BYTES,
  FRANKING_SESSION_KEY_BYTES,
  FRANKING_SIGNATURE_BYTES,
};
