/**
 * A second, independent ProofValid written here straight from the formulas of PROTOCOL.md §11.3
 * with plain noble points (no caches, no tables, no batching), held against the SDK's on honest,
 * forged and damaged signatures; and the optimised prover held against the generic one and
 * against itself with cold and warm key caches.
 */
import { ristretto255 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import type { Rng } from '#sdk/crypto/backend.ts';
import {
  clearFrankingKeyCaches,
  deriveFrankingKeyPair,
  forgeFranking,
  frank,
  frankingKeyCacheSizes,
  frankingProofValid,
  moderatorForgeFranking,
  PEER_CACHE_SIZE,
  receiverForgeFranking,
} from '#sdk/franking/index.ts';
import { proveWithBranches } from '#sdk/franking/proof.ts';
import { concatBytes, toHex, u32be, utf8 } from '#sdk/util/bytes.ts';
import { seededRng } from '../../../scripts/lib/seeded-rng.ts';
import { flip, messageFor, moderator, publicKeys, recipient, rng, sender } from './fixtures.ts';

const Point = ristretto255.Point;
const G = Point.BASE;
const l = Point.Fn.ORDER;
const le = (b: Uint8Array) => BigInt(`0x${toHex(b.slice().reverse()) || '0'}`);

/** ProofValid from the spec, with nothing shared with sdk/franking. */
function referenceProofValid(pkS: Uint8Array, pkJ: Uint8Array, m: Uint8Array, sigma: Uint8Array) {
  if (sigma.length !== 304) return false;
  let sender: InstanceType<typeof Point>;
  let mod: InstanceType<typeof Point>;
  const pts: InstanceType<typeof Point>[] = [];
  try {
    sender = Point.fromBytes(pkS);
    mod = Point.fromBytes(pkJ);
    for (let i = 0; i < 4; i++) pts.push(Point.fromBytes(sigma.subarray(32 * i, 32 * i + 32)));
  } catch {
    return false;
  }
  if ([sender, mod, ...pts].some((p) => p.equals(Point.ZERO))) return false;
  const [J, R, EJ] = pts as [typeof sender, typeof sender, typeof sender];
  const ch = sigma.subarray(128, 144);
  const cA1 = sigma.subarray(144, 160);
  const cB1 = sigma.subarray(160, 176);
  const z = [0, 1, 2, 3].map((i) => le(sigma.subarray(176 + 32 * i, 208 + 32 * i)));
  if (z.some((v) => v >= l)) return false;
  const [zA0, zA1, zB0, zB1] = z as [bigint, bigint, bigint, bigint];
  const cA0 = le(ch.map((b, i) => b ^ cA1[i]!));
  const cB0 = le(ch.map((b, i) => b ^ cB1[i]!));
  const mul = (p: typeof sender, k: bigint) => p.multiplyUnsafe(k % l);
  const A0 = mul(G, zA0).subtract(mul(sender, cA0));
  const A1 = mul(G, zA1).subtract(mul(J, le(cA1)));
  const B0g = mul(G, zB0).subtract(mul(EJ, cB0));
  const B0j = mul(mod, zB0).subtract(mul(J, cB0));
  const B1 = mul(G, zB1).subtract(mul(R, le(cB1)));
  const digest = sha256(
    concatBytes(
      utf8('Sealpost-Franking-Proof-v1'),
      pkS,
      pkJ,
      sigma.subarray(0, 128),
      ...[A0, A1, B0g, B0j, B1].map((p) => p.toBytes()),
      u32be(m.length),
      m,
    ),
  );
  return toHex(digest.subarray(0, 16)) === toHex(ch);
}

const message = messageFor(utf8('reference'));
const sdkProofValid = (s: Uint8Array, m = message) =>
  frankingProofValid({ ...publicKeys, message: m, signature: s });

describe('the reference ProofValid', () => {
  const signatures = {
    frank: frank(rng, { ...publicKeys, senderSecret: sender.secretKey, message }),
    forge: forgeFranking(rng, { ...publicKeys, message }),
    rforge: receiverForgeFranking(rng, {
      ...publicKeys,
      recipientSecret: recipient.secretKey,
      message,
    }),
    jforge: moderatorForgeFranking(rng, {
      ...publicKeys,
      moderatorSecret: moderator.secretKey,
      message,
    }),
  };

  it.each(Object.entries(signatures))('accepts the %s signature, like the SDK', (_n, s) => {
    expect(referenceProofValid(sender.publicKey, moderator.publicKey, message, s)).toBe(true);
    expect(sdkProofValid(s)).toBe(true);
  });

  it('agrees with the SDK on damaged signatures and other messages', () => {
    const other = messageFor(utf8('another'));
    for (const s of Object.values(signatures)) {
      for (let i = 0; i < 304; i += 7) {
        const bent = flip(s, i, i % 8);
        const want = referenceProofValid(sender.publicKey, moderator.publicKey, message, bent);
        expect(sdkProofValid(bent), `byte ${i}`).toBe(want);
        expect(want).toBe(false);
      }
      expect(referenceProofValid(sender.publicKey, moderator.publicKey, other, s)).toBe(false);
      expect(sdkProofValid(s, other)).toBe(false);
    }
  });
});

/** Two identical streams: one drives the SDK, the other the cross-check. */
function twinStreams(seed: string): [Rng, Rng] {
  return [seededRng(seed), seededRng(seed)];
}

describe('the optimised prover', () => {
  it('equals the generic OR prover with both honest branches, from the same random draws', () => {
    for (let i = 0; i < 4; i++) {
      const [a, b] = twinStreams(`generic prover ${i}`);
      const m = messageFor(utf8(`generic ${i}`));
      const fast = frank(a, { ...publicKeys, senderSecret: sender.secretKey, message: m });
      const scalar = () => le(b(64)) % l;
      const alpha = scalar();
      const beta = scalar();
      const pkJ = Point.fromBytes(moderator.publicKey);
      const generic = proveWithBranches(
        b,
        {
          senderPublic: sender.publicKey,
          sender: Point.fromBytes(sender.publicKey),
          moderatorPublic: moderator.publicKey,
          moderator: pkJ,
          J: pkJ.multiply(alpha),
          R: Point.fromBytes(recipient.publicKey).multiply(beta),
          EJ: G.multiply(alpha),
          ER: G.multiply(beta),
        },
        m,
        { branch: 0, witness: le(sender.secretKey) },
        { branch: 0, witness: alpha },
      );
      expect(toHex(fast)).toBe(toHex(generic));
    }
  });

  it('gives the same bytes with cold caches, a new recipient key and a windowed one', () => {
    const target = deriveFrankingKeyPair(new Uint8Array(32).fill(0x42)).publicKey;
    const results: string[] = [];
    for (const cold of [true, false, false, false]) {
      if (cold) clearFrankingKeyCaches();
      const [a] = twinStreams('cache independence');
      results.push(
        toHex(
          frank(a, {
            ...publicKeys,
            recipientPublic: target,
            senderSecret: sender.secretKey,
            message,
          }),
        ),
      );
    }
    expect(new Set(results).size).toBe(1);
  });

  it('keeps the peer key cache bounded', () => {
    clearFrankingKeyCaches();
    const keyRng = seededRng('many peers');
    for (let i = 0; i < PEER_CACHE_SIZE + 8; i++) {
      const peer = deriveFrankingKeyPair(keyRng(32)).publicKey;
      frankingProofValid({
        ...publicKeys,
        senderPublic: peer,
        message,
        signature: new Uint8Array(304),
      });
    }
    expect(frankingKeyCacheSizes().peers).toBe(PEER_CACHE_SIZE);
    expect(frankingKeyCacheSizes().moderators).toBe(1);
  });
});
