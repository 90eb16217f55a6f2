/**
 * Replays test/vectors/franking.json (PROTOCOL.md §11.3.10): key derivation, commitments,
 * the franked message, the franked signature from its recorded random draws (with its
 * intermediate values), one of each forgery, and the invalid cases with their expected
 * verdicts. The generator must reproduce the file byte for byte.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Rng } from '#sdk/crypto/backend.ts';
import { nobleBackend } from '#sdk/crypto/noble-backend.ts';
import { createNodeBackend } from '#sdk/crypto/node-backend.ts';
import {
  checkFrankingCommitment,
  deriveFrankingKeyPair,
  forgeFranking,
  frank,
  frankingCommitment,
  frankingMessage,
  frankingProofValid,
  frankingSessionMessage,
  generateFrankingKeyPair,
  judgeFranking,
  moderatorForgeFranking,
  receiverForgeFranking,
  verifyFranking,
} from '#sdk/franking/index.ts';
import { fromHex, toHex } from '#sdk/util/bytes.ts';
import { frankingVectorsJson } from '../../../scripts/gen-vectors-franking.ts';

interface Expect {
  proofValid: boolean;
  verify: boolean;
  judge: boolean;
}
interface Vectors {
  keyDerivation: { dhPrivate: string; okm: string; secretKey: string; publicKey: string }[];
  moderators: { rng: string; secretKey: string; publicKey: string }[];
  commitments: { name: string; openingKey: string; content: string; commitment: string }[];
  frankingMessage: {
    context: {
      commitment: string;
      senderAddress: string;
      senderDeviceId: number;
      recipientAddress: string;
      recipientDeviceId: number;
      moderatorKeyId: number;
    };
    message: string;
  };
  frankingSession: {
    sessionSeed: string;
    sessionKey: string;
    sessionMessage: string;
    messageSignature: string;
  };
  frank: {
    rng: string;
    signature: string;
    points: Record<'J' | 'R' | 'EJ' | 'ER' | 'A0' | 'A1' | 'B0g' | 'B0j' | 'B1', string>;
    challenges: Record<'ch' | 'cA0' | 'cA1' | 'cB0' | 'cB1', string>;
    scalars: Record<string, string>;
    expect: Expect;
  };
  forgeries: { name: string; rng: string; signature: string; expect: Expect }[];
  invalid: {
    name: string;
    senderPublic: string;
    moderatorPublic: string;
    recipientSecret: string;
    moderatorSecret: string;
    message: string;
    signature: string;
    expect: Expect;
  }[];
}

const text = readFileSync(new URL('../../vectors/franking.json', import.meta.url), 'utf8');
const vectors = JSON.parse(text) as Vectors;

/** An Rng that hands out exactly the recorded bytes, and fails if asked for more. */
function replay(hex: string): Rng & { left(): number } {
  const bytes = fromHex(hex);
  let at = 0;
  const rng = ((n: number) => {
    if (at + n > bytes.length) throw new Error('replay exhausted');
    at += n;
    return bytes.slice(at - n, at);
  }) as Rng & { left(): number };
  rng.left = () => bytes.length - at;
  return rng;
}

const sender = vectors.keyDerivation[0]!;
const recipient = vectors.keyDerivation[1]!;
const moderator = vectors.moderators[0]!;
const message = fromHex(vectors.frankingMessage.message);
const keys = {
  senderPublic: fromHex(sender.publicKey),
  recipientPublic: fromHex(recipient.publicKey),
  moderatorPublic: fromHex(moderator.publicKey),
};

function verdicts(a: {
  senderPublic: Uint8Array;
  moderatorPublic: Uint8Array;
  recipientSecret: Uint8Array;
  moderatorSecret: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
}): Expect {
  return { proofValid: frankingProofValid(a), verify: verifyFranking(a), judge: judgeFranking(a) };
}

const honestSecrets = {
  recipientSecret: fromHex(recipient.secretKey),
  moderatorSecret: fromHex(moderator.secretKey),
};

describe('franking vectors (test/vectors/franking.json)', () => {
  it('are reproduced byte for byte by scripts/gen-vectors-franking.ts', () => {
    expect(frankingVectorsJson()).toBe(text);
  });

  it('cover the documented cases', () => {
    expect(vectors.keyDerivation.length).toBe(3);
    expect(vectors.forgeries.map((f) => f.name)).toEqual([
      'forge',
      'receiver-forge',
      'moderator-forge',
    ]);
    expect(vectors.invalid.length).toBeGreaterThanOrEqual(16);
    expect(fromHex(vectors.frank.signature).length).toBe(304);
  });

  it('derive the device keys', () => {
    for (const d of vectors.keyDerivation) {
      const pair = deriveFrankingKeyPair(fromHex(d.dhPrivate));
      expect(toHex(pair.secretKey)).toBe(d.secretKey);
      expect(toHex(pair.publicKey)).toBe(d.publicKey);
    }
  });

  it('generate the moderator keys from their draws', () => {
    for (const m of vectors.moderators) {
      const rng = replay(m.rng);
      const pair = generateFrankingKeyPair(rng);
      expect(rng.left()).toBe(0);
      expect(toHex(pair.secretKey)).toBe(m.secretKey);
      expect(toHex(pair.publicKey)).toBe(m.publicKey);
    }
  });

  it('compute the commitments and the franked message', () => {
    for (const c of vectors.commitments) {
      const got = frankingCommitment(fromHex(c.openingKey), fromHex(c.content));
      expect(toHex(got), c.name).toBe(c.commitment);
      expect(checkFrankingCommitment(got, fromHex(c.openingKey), fromHex(c.content))).toBe(true);
    }
    const ctx = vectors.frankingMessage.context;
    expect(toHex(frankingMessage({ ...ctx, commitment: fromHex(ctx.commitment) }))).toBe(
      vectors.frankingMessage.message,
    );
  });

  it('franking session: the session message and the message signature, on every backend', async () => {
    const { commitment: _commitment, ...devices } = vectors.frankingMessage.context;
    const v = vectors.frankingSession;
    const sessionKey = fromHex(v.sessionKey);
    expect(toHex(frankingSessionMessage({ ...devices, sessionKey }))).toBe(v.sessionMessage);
    const message = fromHex(vectors.frankingMessage.message);
    for (const backend of [nobleBackend, createNodeBackend()]) {
      expect(toHex(await backend.ed25519PublicKey(fromHex(v.sessionSeed)))).toBe(v.sessionKey);
      expect(toHex(await backend.ed25519Sign(fromHex(v.sessionSeed), message))).toBe(
        v.messageSignature,
      );
      expect(await backend.ed25519Verify(sessionKey, message, fromHex(v.messageSignature))).toBe(
        true,
      );
      // Over the session message instead of the message: not the same signature.
      expect(
        await backend.ed25519Verify(
          sessionKey,
          fromHex(v.sessionMessage),
          fromHex(v.messageSignature),
        ),
      ).toBe(false);
    }
  });

  it('frank: reproduce the signature from its draws, with its recorded parts', () => {
    const rng = replay(vectors.frank.rng);
    const sigma = frank(rng, { ...keys, senderSecret: fromHex(sender.secretKey), message });
    expect(rng.left()).toBe(0);
    expect(toHex(sigma)).toBe(vectors.frank.signature);
    const { points, challenges, scalars } = vectors.frank;
    expect(toHex(sigma.subarray(0, 128))).toBe(points.J + points.R + points.EJ + points.ER);
    expect(toHex(sigma.subarray(128, 176))).toBe(challenges.ch + challenges.cA1 + challenges.cB1);
    expect(toHex(sigma.subarray(176))).toBe(scalars.zA0! + scalars.zA1 + scalars.zB0 + scalars.zB1);
    expect(verdicts({ ...keys, ...honestSecrets, message, signature: sigma })).toEqual(
      vectors.frank.expect,
    );
    expect(vectors.frank.expect).toEqual({ proofValid: true, verify: true, judge: true });
  });

  it('forgeries: reproduce each from its draws, with its verdicts', () => {
    const run: Record<string, (rng: Rng) => Uint8Array> = {
      forge: (rng) => forgeFranking(rng, { ...keys, message }),
      'receiver-forge': (rng) =>
        receiverForgeFranking(rng, {
          ...keys,
          recipientSecret: honestSecrets.recipientSecret,
          message,
        }),
      'moderator-forge': (rng) =>
        moderatorForgeFranking(rng, {
          ...keys,
          moderatorSecret: honestSecrets.moderatorSecret,
          message,
        }),
    };
    for (const f of vectors.forgeries) {
      const rng = replay(f.rng);
      const sigma = run[f.name]!(rng);
      expect(rng.left(), f.name).toBe(0);
      expect(toHex(sigma), f.name).toBe(f.signature);
      expect(verdicts({ ...keys, ...honestSecrets, message, signature: sigma }), f.name).toEqual(
        f.expect,
      );
    }
  });

  it('invalid cases: give the expected verdicts', () => {
    for (const c of vectors.invalid) {
      const got = verdicts({
        senderPublic: fromHex(c.senderPublic),
        moderatorPublic: fromHex(c.moderatorPublic),
        recipientSecret: fromHex(c.recipientSecret),
        moderatorSecret: fromHex(c.moderatorSecret),
        message: fromHex(c.message),
        signature: fromHex(c.signature),
      });
      expect(got, c.name).toEqual(c.expect);
      // Every case fails the receiver's check, the judge's, or both.
      expect(got.verify && got.judge, c.name).toBe(false);
    }
  });
});
