/**
 * Prints the cost of anonymous tokens (RFC 9578 token type 0x0002, blind RSA-2048): the
 * client's work per token (sdk/tokens, BigInt), the issuer's blind signature per token and per
 * batch of 20 (functions/domain/token-issuer.ts, node:crypto), verifications per second, and
 * the sizes on the wire. Not a test and not a benchmark suite: one process, one thread, the
 * median of several rounds.
 *
 * Run: `npx tsx --conditions=sealpost-source scripts/token-speed.ts [iterations]`
 * (Node 24: `"$(bash scripts/node24.sh)" --import tsx --conditions=sealpost-source scripts/token-speed.ts`)
 */
import { loadavg } from 'node:os';
import {
  blindSign,
  generateTokenIssuerKey,
  tokenVerifierKey,
  verifyToken,
} from '#functions/domain/token-issuer.ts';
import { systemRng } from '#sdk/crypto/backend.ts';
import {
  beginToken,
  finishToken,
  TOKEN_BYTES,
  TOKEN_KEY_BYTES,
  TOKEN_REQUEST_BYTES,
  TOKEN_RESPONSE_BYTES,
  tokenChallenge,
  tokenChallengeDigest,
} from '#sdk/tokens/index.ts';
import { type Timing, time } from './lib/timing.ts';

const iterations = Number(process.argv[2] ?? 200);
const ROUNDS = 5;
const BATCH = 20;

const keyStart = performance.now();
const key = generateTokenIssuerKey();
const keygenMs = performance.now() - keyStart;
const challenge = tokenChallenge({ issuerName: 'api.sealpost.example' });
const expected = { challengeDigest: tokenChallengeDigest(challenge), keyId: key.keyId };
const verifier = tokenVerifierKey(key.publicKey);

const begin = () => beginToken(systemRng, { publicKey: key.publicKey, challenge });
const batch = Array.from({ length: BATCH }, () => begin());
const responses = batch.map(({ request }) => blindSign(key, request)!);
const token = finishToken(batch[0]!.pending, responses[0]!);
if (!verifyToken(verifier, token, expected)) throw new Error('token does not verify');

let next = 0;
const rows: [string, Timing][] = [
  ['client: beginToken', time(iterations, begin)],
  [
    'client: finishToken (unblind + verify)',
    time(iterations, () => {
      const i = next++ % BATCH;
      return finishToken(batch[i]!.pending, responses[i]!);
    }),
  ],
  [
    'client: begin + finish, one token',
    time(iterations, () => {
      const { request, pending } = begin();
      return finishToken(pending, blindSign(key, request)!);
    }),
  ],
  ['issuer: blindSign, one request', time(iterations, () => blindSign(key, batch[0]!.request))],
  [
    `issuer: blindSign, batch of ${BATCH}`,
    time(Math.max(10, iterations >> 2), () => batch.map(({ request }) => blindSign(key, request))),
  ],
  ['verifier: verifyToken', time(iterations * 10, () => verifyToken(verifier, token, expected))],
];
// The client row above includes one blindSign; report the client's own share.
const both = rows[2]![1];
const sign = rows[3]![1];
rows[2] = [
  'client: begin + finish, one token (issuer excluded)',
  { wall: both.wall - sign.wall, cpu: both.cpu - sign.cpu },
];

console.log(
  `Node ${process.versions.node}, ${iterations} iterations x ${ROUNDS} rounds (median), ` +
    `load ${loadavg()[0]!.toFixed(2)}, key generation ${keygenMs.toFixed(0)} ms`,
);
console.log(
  `${'operation'.padEnd(52)} ${'wall ms'.padStart(8)} ${'cpu ms'.padStart(8)} ${'per s'.padStart(7)}`,
);
for (const [name, t] of rows) {
  const perSecond = (1000 / t.wall).toFixed(0);
  console.log(
    `${name.padEnd(52)} ${t.wall.toFixed(3).padStart(8)} ${t.cpu.toFixed(3).padStart(8)} ${perSecond.padStart(7)}`,
  );
}
console.log(
  `bytes: token ${TOKEN_BYTES}, request ${TOKEN_REQUEST_BYTES}, response ${TOKEN_RESPONSE_BYTES}, ` +
    `issuer key ${TOKEN_KEY_BYTES}`,
);
