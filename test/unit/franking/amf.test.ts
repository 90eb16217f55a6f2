/**
 * Frank / Verify / Judge / ProofValid and the forgeries (PROTOCOL.md §11.3): the verdict table of
 * each algorithm, single-bit changes of the signature, the message and every key, wrong secret
 * keys and moderators, and framing: without sk_s, nothing the other parties can compute passes
 * the judge.
 */
import { describe, expect, it } from 'vitest';
import {
  FRANKING_SIGNATURE_BYTES,
  forgeFranking,
  frank,
  frankingProofValid,
  judgeFranking,
  moderatorForgeFranking,
  receiverForgeFranking,
  verifyFranking,
} from '#sdk/franking/index.ts';
import { utf8 } from '#sdk/util/bytes.ts';
import {
  flip,
  messageFor,
  moderator,
  otherModerator,
  publicKeys,
  recipient,
  rng,
  sender,
  stranger,
  type Verdicts,
} from './fixtures.ts';

interface Keys {
  senderPublic: Uint8Array;
  moderatorPublic: Uint8Array;
  recipientSecret: Uint8Array;
  moderatorSecret: Uint8Array;
}

const honestKeys: Keys = {
  senderPublic: sender.publicKey,
  moderatorPublic: moderator.publicKey,
  recipientSecret: recipient.secretKey,
  moderatorSecret: moderator.secretKey,
};

function verdicts(signature: Uint8Array, message: Uint8Array, keys: Partial<Keys> = {}): Verdicts {
  const k = { ...honestKeys, ...keys };
  const base = {
    senderPublic: k.senderPublic,
    moderatorPublic: k.moderatorPublic,
    message,
    signature,
  };
  return {
    proofValid: frankingProofValid(base),
    verify: verifyFranking({ ...base, recipientSecret: k.recipientSecret }),
    judge: judgeFranking({ ...base, moderatorSecret: k.moderatorSecret }),
  };
}

const NONE: Verdicts = { proofValid: false, verify: false, judge: false };
const ALL: Verdicts = { proofValid: true, verify: true, judge: true };

const message = messageFor(utf8('an abusive message'));
const honest = (m: Uint8Array = message) =>
  frank(rng, { ...publicKeys, senderSecret: sender.secretKey, message: m });
const signature = honest();

describe('frank', () => {
  it('makes a 304-byte signature that passes ProofValid, Verify and Judge', () => {
    expect(signature.length).toBe(FRANKING_SIGNATURE_BYTES);
    expect(verdicts(signature, message)).toEqual(ALL);
  });

  it('is randomised: two signatures of one message differ, both valid', () => {
    const again = honest();
    expect(again).not.toEqual(signature);
    expect(verdicts(again, message)).toEqual(ALL);
  });

  it('works for messages of any length up to the limit, including empty', () => {
    for (const m of [new Uint8Array(0), rng(1), rng(4096)]) {
      expect(verdicts(honest(m), m)).toEqual(ALL);
    }
  });

  it('fails everywhere after any single-bit change of the signature', () => {
    // One bit per byte, the bit position rotating, so every field sees all eight positions.
    for (let i = 0; i < signature.length; i++) {
      expect(verdicts(flip(signature, i, (i * 3) % 8), message), `byte ${i}`).toEqual(NONE);
    }
  });

  it('fails everywhere after any single-bit change of the message', () => {
    for (let i = 0; i < message.length; i++) {
      expect(verdicts(signature, flip(message, i, (i * 5) % 8)), `byte ${i}`).toEqual(NONE);
    }
    expect(verdicts(signature, message.subarray(0, message.length - 1))).toEqual(NONE);
  });

  it('fails after a single-bit change of the sender or moderator public key', () => {
    for (let i = 0; i < 32; i++) {
      expect(
        verdicts(signature, message, { senderPublic: flip(sender.publicKey, i, (i * 3) % 8) }),
      ).toEqual(NONE);
      expect(
        verdicts(signature, message, {
          moderatorPublic: flip(moderator.publicKey, i, (i * 5) % 8),
        }),
      ).toEqual(NONE);
    }
  });

  it("fails the receiver's or the judge's check after a single-bit change of its secret", () => {
    const args = { ...publicKeys, message, signature };
    for (let i = 0; i < 32; i++) {
      const recipientSecret = flip(recipient.secretKey, i, i % 8);
      expect(verifyFranking({ ...args, recipientSecret }), `recipient byte ${i}`).toBe(false);
      const moderatorSecret = flip(moderator.secretKey, i, i % 8);
      expect(judgeFranking({ ...args, moderatorSecret }), `moderator byte ${i}`).toBe(false);
    }
  });

  it('binds the recipient: another device cannot verify it, the moderator still judges it', () => {
    expect(verdicts(signature, message, { recipientSecret: stranger.secretKey })).toEqual({
      proofValid: true,
      verify: false,
      judge: true,
    });
  });

  it('binds the moderator: a signature for moderator A fails the judge under B', () => {
    expect(
      verdicts(signature, message, {
        moderatorPublic: otherModerator.publicKey,
        moderatorSecret: otherModerator.secretKey,
      }),
    ).toEqual(NONE);
    // A's public key with B's secret: the proof holds, the judge check does not.
    expect(verdicts(signature, message, { moderatorSecret: otherModerator.secretKey })).toEqual({
      proofValid: true,
      verify: true,
      judge: false,
    });
  });

  it('binds the sender key: under another sender key nothing passes', () => {
    expect(verdicts(signature, message, { senderPublic: stranger.publicKey })).toEqual(NONE);
  });

  it('with a sender key pair that does not match, gives a signature that does not verify', () => {
    const bad = frank(rng, {
      ...publicKeys,
      senderPublic: stranger.publicKey,
      senderSecret: sender.secretKey,
      message,
    });
    expect(verdicts(bad, message, { senderPublic: stranger.publicKey })).toEqual(NONE);
  });
});

describe('forgeries', () => {
  it('Forge (public keys only): passes ProofValid, fails Verify and Judge', () => {
    const forged = forgeFranking(rng, { ...publicKeys, message });
    expect(forged.length).toBe(FRANKING_SIGNATURE_BYTES);
    expect(verdicts(forged, message)).toEqual({ proofValid: true, verify: false, judge: false });
  });

  it("RForge (the recipient's secret): passes Verify, fails Judge", () => {
    const forged = receiverForgeFranking(rng, {
      ...publicKeys,
      recipientSecret: recipient.secretKey,
      message,
    });
    expect(verdicts(forged, message)).toEqual({ proofValid: true, verify: true, judge: false });
  });

  it("JForge (the moderator's secret): passes Judge and Verify for any sender", () => {
    for (const s of [sender, stranger]) {
      const forged = moderatorForgeFranking(rng, {
        senderPublic: s.publicKey,
        recipientPublic: recipient.publicKey,
        moderatorSecret: moderator.secretKey,
        message,
      });
      expect(verdicts(forged, message, { senderPublic: s.publicKey })).toEqual(ALL);
      // The forger used moderator A's key: under moderator B it is worthless.
      expect(
        verdicts(forged, message, {
          senderPublic: s.publicKey,
          moderatorPublic: otherModerator.publicKey,
          moderatorSecret: otherModerator.secretKey,
        }),
      ).toEqual(NONE);
    }
  });

  it('are bound to their message like real signatures', () => {
    const other = messageFor(utf8('other'));
    const forged = receiverForgeFranking(rng, {
      ...publicKeys,
      recipientSecret: recipient.secretKey,
      message,
    });
    expect(verdicts(forged, other)).toEqual(NONE);
  });
});

describe('framing', () => {
  it('a recipient holding pk_s and its own sk_r never produces a judge-valid signature', () => {
    for (let i = 0; i < 12; i++) {
      const m = messageFor(utf8(`framed message ${i}`));
      const byRecipient = receiverForgeFranking(rng, {
        ...publicKeys,
        recipientSecret: recipient.secretKey,
        message: m,
      });
      const byAnyone = forgeFranking(rng, { ...publicKeys, message: m });
      for (const forged of [byRecipient, byAnyone]) {
        expect(frankingProofValid({ ...publicKeys, message: m, signature: forged })).toBe(true);
        expect(
          judgeFranking({
            ...publicKeys,
            moderatorSecret: moderator.secretKey,
            message: m,
            signature: forged,
          }),
        ).toBe(false);
      }
    }
  });

  it('a stranger franking with its own key under the victim key fails the judge', () => {
    const forged = frank(rng, {
      ...publicKeys,
      senderPublic: stranger.publicKey,
      senderSecret: stranger.secretKey,
      message,
    });
    expect(verdicts(forged, message, { senderPublic: stranger.publicKey })).toEqual(ALL);
    expect(verdicts(forged, message)).toEqual(NONE);
  });
});
