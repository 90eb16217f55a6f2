/**
 * Malformed input (PROTOCOL.md §11.3.4): the verifiers answer false, never throw, for
 * non-canonical scalars, invalid or identity points, wrong sizes and oversized messages, and
 * throw `ArgumentTypeError` only for arguments that are not bytes. Frank and the forgeries
 * throw on bad keys.
 */
import { ristretto255 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import {
  FRANKING_LABELS,
  forgeFranking,
  frank,
  frankingProofValid,
  judgeFranking,
  MAX_FRANKING_MESSAGE_BYTES,
  moderatorForgeFranking,
  receiverForgeFranking,
  verifyFranking,
} from '#sdk/franking/index.ts';
import { proveWithBranches } from '#sdk/franking/proof.ts';
import { ArgumentRangeError, ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import { concatBytes, toHex, u32be, utf8 } from '#sdk/util/bytes.ts';
import { messageFor, moderator, publicKeys, recipient, rng, sender } from './fixtures.ts';

const l = ristretto255.Point.Fn.ORDER;
const p = 2n ** 255n - 19n;
const le = (b: Uint8Array) => BigInt(`0x${toHex(b.slice().reverse())}`);
const le32 = (k: bigint) =>
  Uint8Array.from({ length: 32 }, (_, i) => Number((k >> BigInt(8 * i)) & 0xffn));

const message = messageFor(utf8('malformed'));
const signature = frank(rng, { ...publicKeys, senderSecret: sender.secretKey, message });
const args = {
  senderPublic: sender.publicKey,
  moderatorPublic: moderator.publicKey,
  recipientSecret: recipient.secretKey,
  moderatorSecret: moderator.secretKey,
  message,
  signature,
};

/** All three verdicts, asserting none of them throws. */
function verdicts(a: typeof args): boolean[] {
  return [frankingProofValid(a), verifyFranking(a), judgeFranking(a)];
}

const withSignature = (f: (s: Uint8Array) => void) => {
  const s = signature.slice();
  f(s);
  return { ...args, signature: s };
};

const POINTS = { J: 0, R: 32, EJ: 64, ER: 96 } as const;
const SCALARS = { zA0: 176, zA1: 208, zB0: 240, zB1: 272 } as const;

describe('verifiers on malformed signatures', () => {
  it('start from a valid signature', () => {
    expect(verdicts(args)).toEqual([true, true, true]);
  });

  it.each(Object.entries(SCALARS))('refuse %s + l (the same value, not canonical)', (_n, at) => {
    const a = withSignature((s) => s.set(le32(le(s.subarray(at, at + 32)) + l), at));
    expect(verdicts(a)).toEqual([false, false, false]);
  });

  it.each(Object.entries(SCALARS))('refuse %s with the top bit set', (_n, at) => {
    expect(verdicts(withSignature((s) => (s[at + 31]! |= 0x80)))).toEqual([false, false, false]);
  });

  it.each(Object.entries(POINTS))('refuse %s as the identity', (_n, at) => {
    expect(verdicts(withSignature((s) => s.fill(0, at, at + 32)))).toEqual([false, false, false]);
  });

  it.each(Object.entries(POINTS))('refuse %s as invalid encodings', (_n, at) => {
    const invalid = [
      le32(p + 2n), // a field element >= p
      le32(3n), // negative (odd): never canonical
      le32(p - 1n).map((b, i) => (i === 0 ? b - 1 : b)), // p - 2: even, not a valid point
      new Uint8Array(32).fill(0xff),
    ];
    for (const bytes of invalid) {
      expect(() => ristretto255.Point.fromBytes(bytes)).toThrow();
      expect(verdicts(withSignature((s) => s.set(bytes, at)))).toEqual([false, false, false]);
    }
  });

  it('refuse a valid point in the wrong place', () => {
    const swapped = withSignature((s) => {
      const j = s.slice(0, 32);
      s.set(s.subarray(64, 96), 0);
      s.set(j, 64);
    });
    expect(verdicts(swapped)).toEqual([false, false, false]);
  });

  it('refuse wrong lengths', () => {
    for (const s of [
      new Uint8Array(0),
      signature.subarray(0, 303),
      concatBytes(signature, new Uint8Array(1)),
      concatBytes(signature, signature),
    ]) {
      expect(verdicts({ ...args, signature: s })).toEqual([false, false, false]);
    }
  });

  it('refuse an all-zero and an all-ones signature', () => {
    expect(verdicts({ ...args, signature: new Uint8Array(304) })).toEqual([false, false, false]);
    expect(verdicts({ ...args, signature: new Uint8Array(304).fill(0xff) })).toEqual([
      false,
      false,
      false,
    ]);
  });

  it('refuse a message over the limit', () => {
    const big = new Uint8Array(MAX_FRANKING_MESSAGE_BYTES + 1);
    expect(verdicts({ ...args, message: big })).toEqual([false, false, false]);
  });
});

describe('verifiers on malformed keys', () => {
  const badPublic = [
    new Uint8Array(32), // identity
    le32(p + 2n),
    new Uint8Array(31),
    new Uint8Array(33),
    new Uint8Array(0),
  ];

  it('answer false for invalid sender or moderator public keys', () => {
    for (const k of badPublic) {
      expect(verdicts({ ...args, senderPublic: k })).toEqual([false, false, false]);
      expect(verdicts({ ...args, moderatorPublic: k })).toEqual([false, false, false]);
    }
  });

  it('answer false for zero, non-canonical or wrong-size secret keys', () => {
    const badSecret = [
      new Uint8Array(32),
      le32(l),
      le32(le(recipient.secretKey) + l),
      recipient.secretKey.subarray(1),
      concatBytes(recipient.secretKey, new Uint8Array(1)),
    ];
    for (const k of badSecret) {
      expect(verifyFranking({ ...args, recipientSecret: k })).toBe(false);
      expect(judgeFranking({ ...args, moderatorSecret: k })).toBe(false);
    }
  });

  it('throw ArgumentTypeError only for arguments that are not bytes', () => {
    const notBytes = [undefined, null, 'bytes', [1, 2], new ArrayBuffer(32)] as unknown[];
    for (const v of notBytes) {
      for (const field of ['senderPublic', 'moderatorPublic', 'message', 'signature'] as const) {
        const a = { ...args, [field]: v } as unknown as typeof args;
        expect(() => frankingProofValid(a), field).toThrow(ArgumentTypeError);
        expect(() => verifyFranking(a), field).toThrow(ArgumentTypeError);
        expect(() => judgeFranking(a), field).toThrow(ArgumentTypeError);
      }
      expect(() => verifyFranking({ ...args, recipientSecret: v as Uint8Array })).toThrow(
        ArgumentTypeError,
      );
      expect(() => judgeFranking({ ...args, moderatorSecret: v as Uint8Array })).toThrow(
        ArgumentTypeError,
      );
    }
    expect(() => frankingProofValid(null as unknown as typeof args)).toThrow(ArgumentTypeError);
  });
});

describe('frank and the forgeries on bad arguments', () => {
  const frankArgs = { ...publicKeys, senderSecret: sender.secretKey, message };

  it('frank throws on invalid keys, secrets and oversized messages', () => {
    for (const field of ['senderPublic', 'recipientPublic', 'moderatorPublic'] as const) {
      expect(() => frank(rng, { ...frankArgs, [field]: new Uint8Array(32) }), field).toThrow(
        ArgumentRangeError,
      );
      expect(() => frank(rng, { ...frankArgs, [field]: new Uint8Array(31) }), field).toThrow(
        ArgumentRangeError,
      );
      expect(
        () => frank(rng, { ...frankArgs, [field]: 'key' as unknown as Uint8Array }),
        field,
      ).toThrow(ArgumentTypeError);
    }
    expect(() => frank(rng, { ...frankArgs, senderSecret: new Uint8Array(32) })).toThrow(
      ArgumentRangeError,
    );
    expect(() => frank(rng, { ...frankArgs, senderSecret: le32(l + 1n) })).toThrow(
      ArgumentRangeError,
    );
    expect(() =>
      frank(rng, { ...frankArgs, message: new Uint8Array(MAX_FRANKING_MESSAGE_BYTES + 1) }),
    ).toThrow(ArgumentRangeError);
    expect(() => frank(rng, null as unknown as typeof frankArgs)).toThrow(ArgumentTypeError);
    expect(() => frank(() => new Uint8Array(3), frankArgs)).toThrow(ArgumentRangeError);
  });

  it('the forgeries throw on invalid keys', () => {
    const bad = new Uint8Array(32);
    expect(() => forgeFranking(rng, { ...publicKeys, recipientPublic: bad, message })).toThrow(
      ArgumentRangeError,
    );
    expect(() =>
      receiverForgeFranking(rng, { ...publicKeys, recipientSecret: bad, message }),
    ).toThrow(ArgumentRangeError);
    expect(() =>
      moderatorForgeFranking(rng, { ...publicKeys, moderatorSecret: bad, message }),
    ).toThrow(ArgumentRangeError);
    expect(() =>
      moderatorForgeFranking(rng, {
        ...publicKeys,
        senderPublic: bad,
        moderatorSecret: moderator.secretKey,
        message,
      }),
    ).toThrow(ArgumentRangeError);
  });
});

describe('why the identity is refused', () => {
  const O = ristretto255.Point.ZERO;
  const statement = (points: { J: typeof O; R: typeof O; EJ: typeof O; ER: typeof O }) => ({
    senderPublic: sender.publicKey,
    sender: ristretto255.Point.fromBytes(sender.publicKey),
    moderatorPublic: moderator.publicKey,
    moderator: ristretto255.Point.fromBytes(moderator.publicKey),
    ...points,
  });
  const G = ristretto255.Point.BASE;

  it('J = E_J = O would frame any sender: DL_G(J) = 0 is known and J = sk_j*E_J holds', () => {
    // A proof for branch A1 with witness 0 and branch B0 with witness 0, without sk_s.
    const framed = proveWithBranches(
      rng,
      statement({ J: O, EJ: O, R: G.multiply(5n), ER: G.multiply(7n) }),
      message,
      { branch: 1, witness: 0n },
      { branch: 0, witness: 0n },
    );
    expect(toHex(framed.subarray(0, 32))).toBe('00'.repeat(32));
    expect(proofHoldsWithoutDecodingChecks(framed)).toBe(true);
    expect(verdicts({ ...args, signature: framed })).toEqual([false, false, false]);
  });

  it('R = E_R = O would pass the receiver check with a malformed J', () => {
    const unreportable = proveWithBranches(
      rng,
      statement({ J: G.multiply(11n), EJ: G.multiply(13n), R: O, ER: O }),
      message,
      { branch: 1, witness: 11n },
      { branch: 1, witness: 0n },
    );
    expect(proofHoldsWithoutDecodingChecks(unreportable)).toBe(true);
    expect(verdicts({ ...args, signature: unreportable })).toEqual([false, false, false]);
  });
});

/** ProofValid's equations alone, accepting the identity (what the decoding checks prevent). */
function proofHoldsWithoutDecodingChecks(sigma: Uint8Array): boolean {
  const P = ristretto255.Point;
  const pt = (i: number) => P.fromBytes(sigma.subarray(32 * i, 32 * i + 32));
  const [J, R, EJ] = [pt(0), pt(1), pt(2)];
  const c = (at: number) => le(sigma.subarray(at, at + 16));
  const z = (i: number) => le(sigma.subarray(176 + 32 * i, 208 + 32 * i));
  const ch = sigma.subarray(128, 144);
  const cA0 = le(ch.map((b, i) => b ^ sigma[144 + i]!));
  const cB0 = le(ch.map((b, i) => b ^ sigma[160 + i]!));
  const G = P.BASE;
  const pkS = P.fromBytes(sender.publicKey);
  const pkJ = P.fromBytes(moderator.publicKey);
  const commitments = [
    G.multiplyUnsafe(z(0)).subtract(pkS.multiplyUnsafe(cA0)),
    G.multiplyUnsafe(z(1)).subtract(J.multiplyUnsafe(c(144))),
    G.multiplyUnsafe(z(2)).subtract(EJ.multiplyUnsafe(cB0)),
    pkJ.multiplyUnsafe(z(2)).subtract(J.multiplyUnsafe(cB0)),
    G.multiplyUnsafe(z(3)).subtract(R.multiplyUnsafe(c(160))),
  ];
  const digest = sha256(
    concatBytes(
      FRANKING_LABELS.PROOF,
      sender.publicKey,
      moderator.publicKey,
      sigma.subarray(0, 128),
      ...commitments.map((p) => p.toBytes()),
      u32be(message.length),
      message,
    ),
  );
  return toHex(digest.subarray(0, 16)) === toHex(ch);
}
