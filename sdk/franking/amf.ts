/**
 * Asymmetric message franking (Tyagi, Grubbs, Len, Miers, Ristenpart, CRYPTO 2019, eprint
 * 2019/565, Fig. 5) on ristretto255: Frank, Verify (receiver), Judge (moderator), the public
 * ProofValid, and the three forgeries that make the evidence deniable (PROTOCOL.md §11.3).
 *
 * Verify, Judge and ProofValid return `false` for any malformed key, message or signature
 * bytes and throw only for arguments that are not `Uint8Array`s (caller bugs). Frank and the
 * forgeries throw on any bad argument.
 */
import type { Rng } from '../crypto/backend.ts';
import { ArgumentRangeError, ArgumentTypeError } from '../util/argument-errors.ts';
import { assertBytes, constantTimeEqual } from '../util/bytes.ts';
import {
  challengeScalar,
  decodeScalar,
  encodeSignature,
  FRANKING_PUBLIC_KEY_BYTES,
  xorChallenge,
} from './encoding.ts';
import {
  addL,
  baseSplit,
  doubleAndEncodeBatch,
  encodeScalar,
  FRESH_WIDTH,
  G,
  HALF,
  mulL,
  mulPublic,
  mulSecret,
  oddMultiples,
  type Point,
  randomChallenge,
  randomScalar,
  zBMinusCX,
} from './group.ts';
import { type CachedModeratorKey, type CachedPeerKey, moderatorKey, peerKey } from './key-cache.ts';
import { secretScalar } from './keys.ts';
import {
  type CheckedProof,
  checkProof,
  MAX_FRANKING_MESSAGE_BYTES,
  proveWithBranches,
  transcriptChallenge,
} from './proof.ts';

function assertArgs(a: unknown): asserts a is Record<string, unknown> {
  if (typeof a !== 'object' || a === null)
    throw new ArgumentTypeError('arguments must be an object');
}

function peerArg(bytes: Uint8Array, name: string): CachedPeerKey {
  assertBytes(bytes, name, FRANKING_PUBLIC_KEY_BYTES);
  const key = peerKey(bytes);
  if (key === undefined) throw new ArgumentRangeError(`${name} is not a valid franking public key`);
  return key;
}

function moderatorArg(bytes: Uint8Array, name: string): CachedModeratorKey {
  assertBytes(bytes, name, FRANKING_PUBLIC_KEY_BYTES);
  const key = moderatorKey(bytes);
  if (key === undefined) throw new ArgumentRangeError(`${name} is not a valid franking public key`);
  return key;
}

function messageArg(message: Uint8Array): void {
  assertBytes(message, 'message');
  if (message.length > MAX_FRANKING_MESSAGE_BYTES) {
    throw new ArgumentRangeError(`message must be at most ${MAX_FRANKING_MESSAGE_BYTES} bytes`);
  }
}

const half = (k: bigint): bigint => mulL(k, HALF);

/**
 * Franks `message` (normally {@link frankingMessage}'s output) from the sender to the
 * recipient, for the moderator: a 304-byte signature that the recipient can verify, that only
 * the moderator can tell from a forgery, and that binds the sender.
 *
 * Draws from `rng`, in order: alpha, beta, r_A, r_B (64 bytes each), cA1 (16), zA1 (64), cB1
 * (16), zB1 (64); so a fixed `rng` gives fixed bytes (test/vectors/franking.json).
 * `senderPublic` must be `frankingPublicKey(senderSecret)`; a mismatched pair gives a
 * signature that does not verify.
 *
 * @throws {ArgumentTypeError | ArgumentRangeError} if a key is not a valid franking key, the
 *   message exceeds {@link MAX_FRANKING_MESSAGE_BYTES}, or `rng` misbehaves.
 * @example
 * const signature = frank(systemRng, { senderSecret, senderPublic, recipientPublic,
 *   moderatorPublic, message: frankingMessage(ctx) });
 */
export function frank(
  rng: Rng,
  a: {
    senderSecret: Uint8Array;
    senderPublic: Uint8Array;
    recipientPublic: Uint8Array;
    moderatorPublic: Uint8Array;
    message: Uint8Array;
  },
): Uint8Array {
  assertArgs(a);
  const skS = secretScalar(a.senderSecret, 'senderSecret');
  peerArg(a.senderPublic, 'senderPublic');
  const recipient = peerArg(a.recipientPublic, 'recipientPublic');
  const moderator = moderatorArg(a.moderatorPublic, 'moderatorPublic');
  messageArg(a.message);
  const alpha = randomScalar(rng);
  const beta = randomScalar(rng);
  const rA = randomScalar(rng);
  const rB = randomScalar(rng);
  const cA1 = randomChallenge(rng);
  const zA1 = randomScalar(rng);
  const cB1 = randomChallenge(rng);
  const zB1 = randomScalar(rng);

  // Every published point P is computed as P/2 (scalars times 1/2 mod l) and encoded with the
  // batched double-and-encode: one field inversion instead of nine inverse square roots.
  // The simulated commitments use bases with known relations, J = alpha*pk_j and
  // R = beta*pk_r, so that they too are fixed-base multiplications (spec note).
  const pkJ = moderator.point;
  const pkR = recipient.point;
  const windowed = recipient.useAsRecipient();
  const rHalf = mulSecret(pkR, half(beta));
  const halves: Point[] = [
    mulSecret(pkJ, half(alpha)), // J
    rHalf, // R
    mulSecret(G, half(alpha)), // E_J
    mulSecret(G, half(beta)), // E_R
    mulSecret(G, half(rA)), // A0
    mulPublic(G, half(zA1)).subtract(mulSecret(pkJ, half(mulL(challengeScalar(cA1), alpha)))), // A1
    mulSecret(G, half(rB)), // B0g
    mulSecret(pkJ, half(rB)), // B0j
  ];
  let b1: Uint8Array | undefined;
  if (windowed) {
    halves.push(
      mulPublic(G, half(zB1)).subtract(mulSecret(pkR, half(mulL(challengeScalar(cB1), beta)))),
    );
  } else {
    // Without a window table for pk_r, a secret multiplication by it costs as much as four
    // with one: use the published R and the public zB1, cB1 in one variable-time combination.
    const negR = oddMultiples(rHalf.double().negate(), FRESH_WIDTH);
    b1 = zBMinusCX(baseSplit(), encodeScalar(zB1), negR, cB1).toBytes();
  }
  const [J, R, EJ, ER, A0, A1, B0g, B0j, B1] = doubleAndEncodeBatch(halves) as Uint8Array[];
  const statement = { J: J!, R: R!, EJ: EJ!, ER: ER! };
  const commitments = { A0: A0!, A1: A1!, B0g: B0g!, B0j: B0j!, B1: b1 ?? B1! };
  const ch = transcriptChallenge(
    a.senderPublic,
    a.moderatorPublic,
    statement,
    commitments,
    a.message,
  );
  const cA0 = challengeScalar(xorChallenge(ch, cA1));
  const cB0 = challengeScalar(xorChallenge(ch, cB1));
  return encodeSignature({
    ...statement,
    ch,
    cA1,
    cB1,
    zA0: encodeScalar(addL(rA, mulL(cA0, skS))),
    zA1: encodeScalar(zA1),
    zB0: encodeScalar(addL(rB, mulL(cB0, alpha))),
    zB1: encodeScalar(zB1),
  });
}

/**
 * The verifiers' common part: type checks (throwing), then the secret key (if any) and the
 * proof, `undefined` for bytes of the wrong form or a proof that does not verify.
 */
function checkedProof(
  a: unknown,
  secretName?: 'recipientSecret' | 'moderatorSecret',
): { proof: CheckedProof; secret: bigint } | undefined {
  assertArgs(a);
  const { senderPublic, moderatorPublic, message, signature } = a;
  assertBytes(senderPublic, 'senderPublic');
  assertBytes(moderatorPublic, 'moderatorPublic');
  assertBytes(message, 'message');
  assertBytes(signature, 'signature');
  let secret = 0n;
  if (secretName !== undefined) {
    const bytes = a[secretName];
    assertBytes(bytes, secretName);
    const k = decodeScalar(bytes, true);
    if (k === undefined) return undefined;
    secret = k;
  }
  const sender = peerKey(senderPublic);
  const moderator = moderatorKey(moderatorPublic);
  if (sender === undefined || moderator === undefined) return undefined;
  const proof = checkProof(senderPublic, sender, moderatorPublic, moderator, message, signature);
  return proof === undefined ? undefined : { proof, secret };
}

/**
 * ProofValid: whether `signature` carries a valid proof for the sender and moderator keys and
 * `message`. Anyone can check this, and anyone can make a signature that passes it
 * ({@link forgeFranking}); it proves nothing alone.
 *
 * @throws {ArgumentTypeError} if an argument is not a `Uint8Array`.
 * @example frankingProofValid({ senderPublic, moderatorPublic, message, signature })
 */
export function frankingProofValid(a: {
  senderPublic: Uint8Array;
  moderatorPublic: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
}): boolean {
  return checkedProof(a) !== undefined;
}

/**
 * The receiver's check: ProofValid and `R == sk_r * E_R`. True means a moderator's Judge will
 * accept the signature too (receiver binding), unless the sender holds the moderator key.
 *
 * @throws {ArgumentTypeError} if an argument is not a `Uint8Array`.
 * @example if (!verifyFranking({ recipientSecret, senderPublic, moderatorPublic, message, signature })) drop();
 */
export function verifyFranking(a: {
  recipientSecret: Uint8Array;
  senderPublic: Uint8Array;
  moderatorPublic: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
}): boolean {
  const c = checkedProof(a, 'recipientSecret');
  if (c === undefined) return false;
  // sk_r * E_R is a Diffie-Hellman value of the receiver's key: constant-time throughout.
  return constantTimeEqual(mulSecret(c.proof.ER, c.secret).toBytes(), c.proof.fields.R);
}

/**
 * The moderator's check: ProofValid and `J == sk_j * E_J`. True means the sender's key signed
 * (sender binding): nobody without `sk_s` or `sk_j` can make such a signature.
 *
 * @throws {ArgumentTypeError} if an argument is not a `Uint8Array`.
 * @example judgeFranking({ moderatorSecret, senderPublic, moderatorPublic, message, signature })
 */
export function judgeFranking(a: {
  moderatorSecret: Uint8Array;
  senderPublic: Uint8Array;
  moderatorPublic: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
}): boolean {
  const c = checkedProof(a, 'moderatorSecret');
  if (c === undefined) return false;
  return constantTimeEqual(mulSecret(c.proof.EJ, c.secret).toBytes(), c.proof.fields.J);
}

/** The public keys of a forgery's statement, checked. */
function statementKeys(senderPublic: Uint8Array, moderatorPublic: Uint8Array) {
  return {
    senderPublic,
    sender: peerArg(senderPublic, 'senderPublic').point,
    moderatorPublic,
    moderator: moderatorArg(moderatorPublic, 'moderatorPublic').point,
  };
}

/**
 * Forge: a signature anyone can make from public keys alone. It passes ProofValid and fails
 * both Verify and Judge; under DDH it looks like a real one to whoever holds neither `sk_r` nor
 * `sk_j` (deniability). Draws gamma, delta, alpha, beta, then the prover's values.
 *
 * @throws {ArgumentTypeError | ArgumentRangeError} on an invalid key or message.
 * @example forgeFranking(systemRng, { senderPublic, recipientPublic, moderatorPublic, message })
 */
export function forgeFranking(
  rng: Rng,
  a: {
    senderPublic: Uint8Array;
    recipientPublic: Uint8Array;
    moderatorPublic: Uint8Array;
    message: Uint8Array;
  },
): Uint8Array {
  assertArgs(a);
  peerArg(a.recipientPublic, 'recipientPublic');
  messageArg(a.message);
  const keys = statementKeys(a.senderPublic, a.moderatorPublic);
  const gamma = randomScalar(rng);
  const delta = randomScalar(rng);
  const alpha = randomScalar(rng);
  const beta = randomScalar(rng);
  const st = {
    ...keys,
    J: mulSecret(G, gamma),
    R: mulSecret(G, delta),
    EJ: mulSecret(G, alpha),
    ER: mulSecret(G, beta),
  };
  return proveWithBranches(
    rng,
    st,
    a.message,
    { branch: 1, witness: gamma },
    { branch: 1, witness: delta },
  );
}

/**
 * RForge: the receiver's forgery. It passes the receiver's own Verify and fails Judge, so a
 * recipient can make "evidence" that convinces nobody but itself. Draws gamma, alpha, beta,
 * then the prover's values.
 *
 * @throws {ArgumentTypeError | ArgumentRangeError} on an invalid key or message.
 * @example receiverForgeFranking(systemRng, { recipientSecret, senderPublic, moderatorPublic, message })
 */
export function receiverForgeFranking(
  rng: Rng,
  a: {
    recipientSecret: Uint8Array;
    senderPublic: Uint8Array;
    moderatorPublic: Uint8Array;
    message: Uint8Array;
  },
): Uint8Array {
  assertArgs(a);
  const skR = secretScalar(a.recipientSecret, 'recipientSecret');
  messageArg(a.message);
  const keys = statementKeys(a.senderPublic, a.moderatorPublic);
  const gamma = randomScalar(rng);
  const alpha = randomScalar(rng);
  const beta = randomScalar(rng);
  // R = beta*pk_r = (beta*sk_r)*G: the receiver knows DL_G(R) and proves branch B1 with it.
  const rWitness = mulL(beta, skR);
  const st = {
    ...keys,
    J: mulSecret(G, gamma),
    R: mulSecret(G, rWitness),
    EJ: mulSecret(G, alpha),
    ER: mulSecret(G, beta),
  };
  return proveWithBranches(
    rng,
    st,
    a.message,
    { branch: 1, witness: gamma },
    { branch: 1, witness: rWitness },
  );
}

/**
 * JForge: the moderator's forgery. It passes Judge (and the recipient's Verify) for any
 * sender: whoever holds `sk_j` can fabricate judge-valid evidence, which is why a report also
 * needs the service's delivery stamp. Draws alpha, beta, then the prover's values.
 *
 * @throws {ArgumentTypeError | ArgumentRangeError} on an invalid key or message.
 * @example moderatorForgeFranking(systemRng, { moderatorSecret, senderPublic, recipientPublic, message })
 */
export function moderatorForgeFranking(
  rng: Rng,
  a: {
    moderatorSecret: Uint8Array;
    senderPublic: Uint8Array;
    recipientPublic: Uint8Array;
    message: Uint8Array;
  },
): Uint8Array {
  assertArgs(a);
  const skJ = secretScalar(a.moderatorSecret, 'moderatorSecret');
  const recipient = peerArg(a.recipientPublic, 'recipientPublic');
  messageArg(a.message);
  const moderatorPublic = mulSecret(G, skJ).toBytes();
  const keys = statementKeys(a.senderPublic, moderatorPublic);
  const alpha = randomScalar(rng);
  const beta = randomScalar(rng);
  // J = alpha*pk_j = (alpha*sk_j)*G: the judge knows DL_G(J) and proves branch A1 with it.
  const jWitness = mulL(alpha, skJ);
  const st = {
    ...keys,
    J: mulSecret(G, jWitness),
    R: mulSecret(recipient.point, beta),
    EJ: mulSecret(G, alpha),
    ER: mulSecret(G, beta),
  };
  return proveWithBranches(
    rng,
    st,
    a.message,
    { branch: 1, witness: jWitness },
    { branch: 0, witness: alpha },
  );
}
