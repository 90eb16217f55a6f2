/**
 * Generates test/vectors/franking.json: asymmetric message franking known-answer vectors
 * (PROTOCOL.md §11). Every random input comes from a SHA-256 counter-mode stream over a fixed
 * seed, so rerunning the script reproduces the file byte for byte; the bytes each algorithm
 * drew are written out, so a test replays them without the stream.
 *
 * Keys, commitments, franked messages and the franked signature are computed by the SDK and,
 * independently, from the formulas of PROTOCOL.md §11 with bare `@noble/*` primitives; the
 * script refuses to write vectors if the two disagree. The intermediate scalars and points of
 * the franked signature are recorded so another implementation can locate a mismatch.
 *
 * Run: `npx tsx --conditions=sealpost-source scripts/gen-vectors-franking.ts`
 * (test/unit/franking/vectors.test.ts checks that the output equals the committed file).
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ed25519, ristretto255 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { Rng } from '#sdk/crypto/backend.ts';
import {
  checkFrankingCommitment,
  clearFrankingKeyCaches,
  deriveFrankingKeyPair,
  type FrankingContext,
  type FrankingKeyPair,
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
import { concatBytes, constantTimeEqual, fromHex, toHex, u32be, utf8 } from '#sdk/util/bytes.ts';
import { addressToBytes } from '#sdk/wire/identity.ts';
import { seededRng } from './lib/seeded-rng.ts';

const SEED = 'Sealpost franking vectors v1';
const Point = ristretto255.Point;
const G = Point.BASE;
const l = Point.Fn.ORDER;

const le = (b: Uint8Array): bigint => BigInt(`0x${toHex(b.slice().reverse()) || '0'}`);
const le32 = (k: bigint): Uint8Array => {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((k >> BigInt(8 * i)) & 0xffn);
  return out;
};

/** An Rng over a seeded stream that remembers what it handed out. */
function recording(rng: Rng) {
  const drawn: Uint8Array[] = [];
  const take: Rng = (n) => {
    const out = rng(n);
    drawn.push(out.slice());
    return out;
  };
  return { rng: take, drawn: () => concatBytes(...drawn) };
}

/** PROTOCOL.md §11.1 with bare primitives. */
function keyBySpec(dhPrivate: Uint8Array) {
  const okm = hkdf(sha256, dhPrivate, new Uint8Array(0), utf8('Sealpost-Franking-Key-v1'), 64);
  const sk = le(okm) % l;
  return { okm, secretKey: le32(sk), publicKey: G.multiply(sk).toBytes() };
}

/** PROTOCOL.md §11.3 Frank with bare primitives, from the same random draws. */
function frankBySpec(
  draws: Uint8Array,
  s: FrankingKeyPair,
  recipientPublic: Uint8Array,
  moderatorPublic: Uint8Array,
  m: Uint8Array,
) {
  let at = 0;
  const take = (n: number) => {
    at += n;
    return draws.subarray(at - n, at);
  };
  const scalar = () => le(take(64)) % l;
  const [alpha, beta, rA, rB] = [scalar(), scalar(), scalar(), scalar()];
  const cA1 = take(16).slice();
  const zA1 = scalar();
  const cB1 = take(16).slice();
  const zB1 = scalar();
  const pkR = Point.fromBytes(recipientPublic);
  const pkJ = Point.fromBytes(moderatorPublic);
  const J = pkJ.multiply(alpha);
  const R = pkR.multiply(beta);
  const EJ = G.multiply(alpha);
  const ER = G.multiply(beta);
  const points = {
    J,
    R,
    EJ,
    ER,
    A0: G.multiply(rA),
    A1: G.multiply(zA1).subtract(J.multiply(le(cA1))),
    B0g: G.multiply(rB),
    B0j: pkJ.multiply(rB),
    B1: G.multiply(zB1).subtract(R.multiply(le(cB1))),
  };
  const enc = Object.fromEntries(
    Object.entries(points).map(([k, p]) => [k, p.toBytes()]),
  ) as Record<keyof typeof points, Uint8Array>;
  const ch = sha256(
    concatBytes(
      utf8('Sealpost-Franking-Proof-v1'),
      s.publicKey,
      moderatorPublic,
      enc.J,
      enc.R,
      enc.EJ,
      enc.ER,
      enc.A0,
      enc.A1,
      enc.B0g,
      enc.B0j,
      enc.B1,
      u32be(m.length),
      m,
    ),
  ).slice(0, 16);
  const cA0 = ch.map((b, i) => b ^ cA1[i]!);
  const cB0 = ch.map((b, i) => b ^ cB1[i]!);
  const zA0 = (rA + le(cA0) * le(s.secretKey)) % l;
  const zB0 = (rB + le(cB0) * alpha) % l;
  const signature = concatBytes(
    enc.J,
    enc.R,
    enc.EJ,
    enc.ER,
    ch,
    cA1,
    cB1,
    le32(zA0),
    le32(zA1),
    le32(zB0),
    le32(zB1),
  );
  const scalars = { alpha, beta, rA, rB, zA1, zB1, zA0, zB0 };
  return {
    signature,
    scalars: Object.fromEntries(Object.entries(scalars).map(([k, v]) => [k, toHex(le32(v))])),
    points: Object.fromEntries(Object.entries(enc).map(([k, v]) => [k, toHex(v)])),
    challenges: {
      ch: toHex(ch),
      cA0: toHex(cA0),
      cA1: toHex(cA1),
      cB0: toHex(cB0),
      cB1: toHex(cB1),
    },
  };
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`${what}: implementation and specification disagree`);
}

/** The vectors as the JSON text of test/vectors/franking.json. */
export function frankingVectorsJson(): string {
  clearFrankingKeyCaches();
  const stream = seededRng(SEED);

  const derivations = [stream(32), stream(32), stream(32)].map((dhPrivate, i) => {
    const pair = deriveFrankingKeyPair(dhPrivate);
    const spec = keyBySpec(dhPrivate);
    check(constantTimeEqual(pair.secretKey, spec.secretKey), `derivation ${i} secret`);
    check(constantTimeEqual(pair.publicKey, spec.publicKey), `derivation ${i} public`);
    return {
      dhPrivate: toHex(dhPrivate),
      okm: toHex(spec.okm),
      secretKey: toHex(pair.secretKey),
      publicKey: toHex(pair.publicKey),
    };
  });
  const pairOf = (i: number): FrankingKeyPair => {
    const d = derivations[i]!;
    return deriveFrankingKeyPair(fromHex(d.dhPrivate));
  };
  const sender = pairOf(0);
  const recipient = pairOf(1);
  const other = pairOf(2);

  const moderators = [0, 1].map(() => {
    const r = recording(stream);
    const pair = generateFrankingKeyPair(r.rng);
    const drawn = r.drawn();
    check(
      constantTimeEqual(pair.secretKey, le32(le(drawn) % l)) &&
        constantTimeEqual(pair.publicKey, G.multiply(le(drawn) % l).toBytes()),
      'moderator key',
    );
    return { pair, rng: toHex(drawn) };
  });
  const moderator = moderators[0]!.pair;
  const otherModerator = moderators[1]!.pair;

  const commitments = [
    { name: 'text', content: utf8('Hello from the franking vectors') },
    { name: 'empty', content: new Uint8Array(0) },
    { name: 'binary-1kib', content: stream(1024) },
  ].map(({ name, content }) => {
    const openingKey = stream(32);
    const commitment = frankingCommitment(openingKey, content);
    const spec = hmac(
      sha256,
      openingKey,
      concatBytes(utf8('Sealpost-Franking-Commit-v1'), content),
    );
    check(
      constantTimeEqual(commitment, spec) &&
        checkFrankingCommitment(commitment, openingKey, content),
      name,
    );
    return {
      name,
      openingKey: toHex(openingKey),
      content: toHex(content),
      commitment: toHex(commitment),
    };
  });

  const context: FrankingContext = {
    commitment: fromHex(commitments[0]!.commitment),
    senderAddress: 'aebagbafaydqqcikbmga2dqpcaireeyu',
    senderDeviceId: 1,
    recipientAddress: '6dypb4hq6dypb4hq6dypb4hq6dypb4hq',
    recipientDeviceId: 3,
    moderatorKeyId: 7,
  };
  const message = frankingMessage(context);
  check(
    constantTimeEqual(
      message,
      concatBytes(
        utf8('Sealpost-Franking-Message-v1'),
        context.commitment,
        addressToBytes(context.senderAddress),
        u32be(context.senderDeviceId),
        addressToBytes(context.recipientAddress),
        u32be(context.recipientDeviceId),
        u32be(context.moderatorKeyId),
      ),
    ),
    'franking message',
  );

  // A franking session (PROTOCOL.md §11.3.2): the session message over an Ed25519 session key
  // (its seed is a hash of a fixed string, so the other vectors' draws are unchanged), and the
  // session key's deterministic RFC 8032 signature over the message above.
  const sessionSeed = sha256(utf8('Sealpost franking vectors: session seed'));
  const sessionKey = ed25519.getPublicKey(sessionSeed);
  const { commitment: _commitment, ...devices } = context;
  const sessionMessage = frankingSessionMessage({ ...devices, sessionKey });
  check(
    constantTimeEqual(
      sessionMessage,
      concatBytes(
        utf8('Sealpost-Franking-Session-v1'),
        sessionKey,
        addressToBytes(context.senderAddress),
        u32be(context.senderDeviceId),
        addressToBytes(context.recipientAddress),
        u32be(context.recipientDeviceId),
        u32be(context.moderatorKeyId),
      ),
    ),
    'franking session message',
  );
  const messageSignature = ed25519.sign(message, sessionSeed);

  const parties = {
    senderPublic: sender.publicKey,
    recipientPublic: recipient.publicKey,
    moderatorPublic: moderator.publicKey,
  };
  const verdicts = (signature: Uint8Array, m: Uint8Array = message) => ({
    proofValid: frankingProofValid({ ...parties, message: m, signature }),
    verify: verifyFranking({
      ...parties,
      recipientSecret: recipient.secretKey,
      message: m,
      signature,
    }),
    judge: judgeFranking({
      ...parties,
      moderatorSecret: moderator.secretKey,
      message: m,
      signature,
    }),
  });

  const franked = recording(stream);
  const signature = frank(franked.rng, { ...parties, senderSecret: sender.secretKey, message });
  const spec = frankBySpec(
    franked.drawn(),
    sender,
    recipient.publicKey,
    moderator.publicKey,
    message,
  );
  check(constantTimeEqual(signature, spec.signature), 'frank');

  const forgeries = [
    {
      name: 'forge',
      run: (rng: Rng) => forgeFranking(rng, { ...parties, message }),
      expect: { proofValid: true, verify: false, judge: false },
    },
    {
      name: 'receiver-forge',
      run: (rng: Rng) =>
        receiverForgeFranking(rng, { ...parties, recipientSecret: recipient.secretKey, message }),
      expect: { proofValid: true, verify: true, judge: false },
    },
    {
      name: 'moderator-forge',
      run: (rng: Rng) =>
        moderatorForgeFranking(rng, { ...parties, moderatorSecret: moderator.secretKey, message }),
      expect: { proofValid: true, verify: true, judge: true },
    },
  ].map(({ name, run, expect }) => {
    const r = recording(stream);
    const sig = run(r.rng);
    const got = verdicts(sig);
    check(JSON.stringify(got) === JSON.stringify(expect), name);
    return { name, rng: toHex(r.drawn()), signature: toHex(sig), expect };
  });

  const mutate = (f: (s: Uint8Array) => void) => {
    const s = signature.slice();
    f(s);
    return s;
  };
  const addL = (offset: number) =>
    mutate((s) => s.set(le32(le(s.subarray(offset, offset + 32)) + l), offset));
  const p = 2n ** 255n - 19n;
  const none = { proofValid: false, verify: false, judge: false };
  const invalidCases: {
    name: string;
    signature: Uint8Array;
    message?: Uint8Array;
    keys?: object;
    expect?: { proofValid: boolean; verify: boolean; judge: boolean };
  }[] = [
    { name: 'challenge-bit', signature: mutate((s) => (s[128]! ^= 0x01)) },
    { name: 'cA1-bit', signature: mutate((s) => (s[150]! ^= 0x10)) },
    { name: 'cB1-bit', signature: mutate((s) => (s[175]! ^= 0x80)) },
    { name: 'zA0-plus-l', signature: addL(176) },
    { name: 'zB1-plus-l', signature: addL(272) },
    { name: 'J-identity', signature: mutate((s) => s.fill(0, 0, 32)) },
    { name: 'E_R-identity', signature: mutate((s) => s.fill(0, 96, 128)) },
    { name: 'R-negative-encoding', signature: mutate((s) => (s[32]! ^= 0x01)) },
    { name: 'E_J-non-canonical', signature: mutate((s) => s.set(le32(p + 2n), 64)) },
    { name: 'truncated', signature: signature.subarray(0, 303) },
    { name: 'extended', signature: concatBytes(signature, new Uint8Array(1)) },
    {
      name: 'other-message',
      signature,
      message: frankingMessage({ ...context, recipientDeviceId: 4 }),
    },
    {
      name: 'other-sender-key',
      signature,
      keys: { senderPublic: other.publicKey },
    },
    {
      name: 'other-recipient-secret',
      signature,
      keys: { recipientSecret: other.secretKey },
      expect: { proofValid: true, verify: false, judge: true },
    },
    {
      name: 'other-moderator',
      signature,
      keys: {
        moderatorPublic: otherModerator.publicKey,
        moderatorSecret: otherModerator.secretKey,
      },
    },
    {
      name: 'other-moderator-secret',
      signature,
      keys: { moderatorSecret: otherModerator.secretKey },
      expect: { proofValid: true, verify: true, judge: false },
    },
  ];
  const invalid = invalidCases.map((c) => {
    const keys = {
      ...parties,
      recipientSecret: recipient.secretKey,
      moderatorSecret: moderator.secretKey,
      ...(c.keys ?? {}),
    };
    const m = c.message ?? message;
    const args = { ...keys, message: m, signature: c.signature };
    const expect = {
      proofValid: frankingProofValid(args),
      verify: verifyFranking(args),
      judge: judgeFranking(args),
    };
    check(JSON.stringify(expect) === JSON.stringify(c.expect ?? none), c.name);
    return {
      name: c.name,
      senderPublic: toHex(keys.senderPublic),
      moderatorPublic: toHex(keys.moderatorPublic),
      recipientSecret: toHex(keys.recipientSecret),
      moderatorSecret: toHex(keys.moderatorSecret),
      message: toHex(m),
      signature: toHex(c.signature),
      expect,
    };
  });

  const vectors = {
    description:
      'Sealpost asymmetric message franking v1 on ristretto255 (PROTOCOL.md §11). Byte strings are hex; scalars are 32-byte little-endian; "rng" is every byte the algorithm drew, in order.',
    generator: 'scripts/gen-vectors-franking.ts',
    seed: SEED,
    keyDerivation: derivations,
    moderators: moderators.map((m) => ({
      rng: m.rng,
      secretKey: toHex(m.pair.secretKey),
      publicKey: toHex(m.pair.publicKey),
    })),
    parties: {
      sender: 'keyDerivation[0]',
      recipient: 'keyDerivation[1]',
      other: 'keyDerivation[2]',
      moderator: 'moderators[0]',
      otherModerator: 'moderators[1]',
    },
    commitments,
    frankingMessage: {
      context: { ...context, commitment: toHex(context.commitment) },
      message: toHex(message),
    },
    frankingSession: {
      sessionSeed: toHex(sessionSeed),
      sessionKey: toHex(sessionKey),
      sessionMessage: toHex(sessionMessage),
      messageSignature: toHex(messageSignature),
    },
    frank: {
      rng: toHex(franked.drawn()),
      signature: toHex(signature),
      scalars: spec.scalars,
      challenges: spec.challenges,
      points: spec.points,
      expect: verdicts(signature),
    },
    forgeries,
    invalid,
  };
  return `${JSON.stringify(vectors, null, 2)}\n`;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = join(
    dirname(fileURLToPath(import.meta.url)),
    '..',
    'test',
    'vectors',
    'franking.json',
  );
  writeFileSync(out, frankingVectorsJson());
  console.log(`wrote ${out}`);
}
