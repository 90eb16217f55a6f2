/**
 * The non-interactive proof inside a franking signature (PROTOCOL.md §11.3): two OR clauses
 * composed by Cramer-Damgård-Schoenmakers over 128-bit challenges, made non-interactive by
 * Fiat-Shamir over one transcript.
 *
 * ```
 * A:  DL_G(pk_s)                  OR  DL_G(J)
 * B:  DL_G(E_J) == DL_{pk_j}(J)   OR  DL_G(R)
 * ch = SHA-256("Sealpost-Franking-Proof-v1" || pk_s || pk_j || J || R || E_J || E_R
 *              || A0 || A1 || B0g || B0j || B1 || u32be(len m) || m)[0..16]
 * ```
 *
 * {@link checkProof} is ProofValid; {@link proveWithBranches} is the generic prover behind the
 * three forgeries (and the reference the optimised `frank` is tested against).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import type { Rng } from '../crypto/backend.ts';
import { constantTimeEqual, u32be } from '../util/bytes.ts';
import {
  challengeScalar,
  decodePoint,
  decodeScalar,
  encodeSignature,
  FRANKING_SIGNATURE_BYTES,
  type SignatureFields,
  signatureFields,
  xorChallenge,
} from './encoding.ts';
import {
  addL,
  baseSplit,
  CHALLENGE_BYTES,
  encodeScalar,
  FRESH_WIDTH,
  G,
  mulL,
  mulPublic,
  mulSecret,
  oddMultiples,
  type Point,
  randomChallenge,
  randomScalar,
  zBMinusCX,
} from './group.ts';
import type { CachedModeratorKey, CachedPeerKey } from './key-cache.ts';
import { FRANKING_LABELS } from './labels.ts';

/** Largest franked message `m` (a franking message is 112 bytes; the rest is headroom). */
export const MAX_FRANKING_MESSAGE_BYTES = 65_536;

/** The five commitments of the proof, encoded, in transcript order. */
export interface Commitments {
  readonly A0: Uint8Array;
  readonly A1: Uint8Array;
  readonly B0g: Uint8Array;
  readonly B0j: Uint8Array;
  readonly B1: Uint8Array;
}

/** The Fiat-Shamir challenge of a transcript (16 bytes). */
export function transcriptChallenge(
  senderPublic: Uint8Array,
  moderatorPublic: Uint8Array,
  statement: { J: Uint8Array; R: Uint8Array; EJ: Uint8Array; ER: Uint8Array },
  c: Commitments,
  message: Uint8Array,
): Uint8Array {
  return sha256
    .create()
    .update(FRANKING_LABELS.PROOF)
    .update(senderPublic)
    .update(moderatorPublic)
    .update(statement.J)
    .update(statement.R)
    .update(statement.EJ)
    .update(statement.ER)
    .update(c.A0)
    .update(c.A1)
    .update(c.B0g)
    .update(c.B0j)
    .update(c.B1)
    .update(u32be(message.length))
    .update(message)
    .digest()
    .subarray(0, CHALLENGE_BYTES);
}

/** A signature whose proof verified, with the decoded points Verify and Judge need. */
export interface CheckedProof {
  readonly fields: SignatureFields;
  readonly EJ: Point;
  readonly ER: Point;
}

/**
 * ProofValid: decodes `sigma` strictly (length, canonical points other than the identity,
 * canonical scalars) and recomputes the commitments from the responses:
 *
 * ```
 * A0  = zA0*G - cA0*pk_s      A1 = zA1*G - cA1*J
 * B0g = zB0*G - cB0*E_J       B0j = zB0*pk_j - cB0*J      B1 = zB1*G - cB1*R
 * ```
 *
 * with cA0 = ch ^ cA1, cB0 = ch ^ cB1; accepts iff the transcript hashes to ch. All values are
 * public, so everything runs in variable time ({@link zBMinusCX}). `undefined` if not valid.
 */
export function checkProof(
  senderPublic: Uint8Array,
  sender: CachedPeerKey,
  moderatorPublic: Uint8Array,
  moderator: CachedModeratorKey,
  message: Uint8Array,
  sigma: Uint8Array,
): CheckedProof | undefined {
  if (sigma.length !== FRANKING_SIGNATURE_BYTES || message.length > MAX_FRANKING_MESSAGE_BYTES) {
    return undefined;
  }
  const f = signatureFields(sigma);
  for (const z of [f.zA0, f.zA1, f.zB0, f.zB1]) if (decodeScalar(z) === undefined) return undefined;
  const J = decodePoint(f.J);
  const R = decodePoint(f.R);
  const EJ = decodePoint(f.EJ);
  const ER = decodePoint(f.ER);
  if (J === undefined || R === undefined || EJ === undefined || ER === undefined) return undefined;
  const cA0 = xorChallenge(f.ch, f.cA1);
  const cB0 = xorChallenge(f.ch, f.cB1);
  const g = baseSplit();
  const negJ = oddMultiples(J.negate(), FRESH_WIDTH);
  const points = [
    zBMinusCX(g, f.zA0, sender.negatedTable(), cA0),
    zBMinusCX(g, f.zA1, negJ, f.cA1),
    zBMinusCX(g, f.zB0, oddMultiples(EJ.negate(), FRESH_WIDTH), cB0),
    zBMinusCX(moderator.splitTables(), f.zB0, negJ, cB0),
    zBMinusCX(g, f.zB1, oddMultiples(R.negate(), FRESH_WIDTH), f.cB1),
  ].map((p) => p.toBytes());
  const [A0, A1, B0g, B0j, B1] = points as [
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
  ];
  const ch = transcriptChallenge(
    senderPublic,
    moderatorPublic,
    f,
    { A0, A1, B0g, B0j, B1 },
    message,
  );
  return constantTimeEqual(ch, f.ch) ? { fields: f, EJ, ER } : undefined;
}

/** The statement a proof is about: the two public keys and the four published points. */
export interface Statement {
  readonly senderPublic: Uint8Array;
  readonly sender: Point;
  readonly moderatorPublic: Uint8Array;
  readonly moderator: Point;
  readonly J: Point;
  readonly R: Point;
  readonly EJ: Point;
  readonly ER: Point;
}

/** Which branch of a clause the prover knows a witness for, and the witness. */
export interface Branch {
  readonly branch: 0 | 1;
  readonly witness: bigint;
}

/**
 * The generic OR prover: a real Schnorr (clause A) or Chaum-Pedersen/Schnorr (clause B) proof for
 * the known branch, a simulated one for the other. Draws from `rng`, in order: r_A, r_B (nonces
 * of the real branches), c and z of clause A's simulated branch, c and z of clause B's. Secret
 * nonces and witnesses go through constant-time multiplications; simulated commitments only
 * involve published values.
 */
export function proveWithBranches(
  rng: Rng,
  st: Statement,
  message: Uint8Array,
  a: Branch,
  b: Branch,
): Uint8Array {
  const rA = randomScalar(rng);
  const rB = randomScalar(rng);
  const cSimA = randomChallenge(rng);
  const zSimA = randomScalar(rng);
  const cSimB = randomChallenge(rng);
  const zSimB = randomScalar(rng);
  const sim = (z: bigint, base: Point, c: Uint8Array, x: Point) =>
    mulPublic(base, z).subtract(mulPublic(x, challengeScalar(c)));

  let A0: Point;
  let A1: Point;
  if (a.branch === 0) {
    A0 = mulSecret(G, rA);
    A1 = sim(zSimA, G, cSimA, st.J);
  } else {
    A0 = sim(zSimA, G, cSimA, st.sender);
    A1 = mulSecret(G, rA);
  }
  let B0g: Point;
  let B0j: Point;
  let B1: Point;
  if (b.branch === 0) {
    B0g = mulSecret(G, rB);
    B0j = mulSecret(st.moderator, rB);
    B1 = sim(zSimB, G, cSimB, st.R);
  } else {
    B0g = sim(zSimB, G, cSimB, st.EJ);
    B0j = sim(zSimB, st.moderator, cSimB, st.J);
    B1 = mulSecret(G, rB);
  }
  const statement = {
    J: st.J.toBytes(),
    R: st.R.toBytes(),
    EJ: st.EJ.toBytes(),
    ER: st.ER.toBytes(),
  };
  const commitments = {
    A0: A0.toBytes(),
    A1: A1.toBytes(),
    B0g: B0g.toBytes(),
    B0j: B0j.toBytes(),
    B1: B1.toBytes(),
  };
  const ch = transcriptChallenge(
    st.senderPublic,
    st.moderatorPublic,
    statement,
    commitments,
    message,
  );
  const cRealA = xorChallenge(ch, cSimA);
  const cRealB = xorChallenge(ch, cSimB);
  const zRealA = addL(rA, mulL(challengeScalar(cRealA), a.witness));
  const zRealB = addL(rB, mulL(challengeScalar(cRealB), b.witness));
  const zA = a.branch === 0 ? [zRealA, zSimA] : [zSimA, zRealA];
  const zB = b.branch === 0 ? [zRealB, zSimB] : [zSimB, zRealB];
  return encodeSignature({
    ...statement,
    ch,
    cA1: a.branch === 0 ? cSimA : cRealA,
    cB1: b.branch === 0 ? cSimB : cRealB,
    zA0: encodeScalar(zA[0]!),
    zA1: encodeScalar(zA[1]!),
    zB0: encodeScalar(zB[0]!),
    zB1: encodeScalar(zB[1]!),
  });
}
