/**
 * Prints the time per franking operation (sdk/franking, PROTOCOL.md §11.3), to choose defaults
 * and to fill in the figures of the docs. Not a test and not a benchmark suite: one process,
 * one thread, the median of several rounds.
 *
 * Run: `npx tsx --conditions=sealpost-source scripts/franking-speed.ts [iterations]`
 * (Node 24: `"$(bash scripts/node24.sh)" --import tsx --conditions=sealpost-source scripts/franking-speed.ts`)
 */
import { loadavg } from 'node:os';
import { systemRng } from '#sdk/crypto/backend.ts';
import { defaultBackend } from '#sdk/crypto/index.ts';
import {
  checkFrankingCommitment,
  clearFrankingKeyCaches,
  deriveFrankingKeyPair,
  forgeFranking,
  frank,
  frankingCommitment,
  frankingMessage,
  frankingProofValid,
  generateFrankingKeyPair,
  judgeFranking,
  moderatorForgeFranking,
  receiverForgeFranking,
  verifyFranking,
} from '#sdk/franking/index.ts';
import { cpuMs, median, type Timing, time, timeAsync } from './lib/timing.ts';

const iterations = Number(process.argv[2] ?? 200);
const ROUNDS = 5;

const sender = deriveFrankingKeyPair(systemRng(32));
const recipient = deriveFrankingKeyPair(systemRng(32));
const moderator = generateFrankingKeyPair(systemRng);
const commitment = frankingCommitment(systemRng(32), systemRng(1024));
const context = {
  senderAddress: 'aebagbafaydqqcikbmga2dqpcaireeyu',
  senderDeviceId: 1,
  recipientAddress: 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
  recipientDeviceId: 2,
  moderatorKeyId: 7,
};
const message = frankingMessage({ commitment, ...context });
const keys = {
  senderPublic: sender.publicKey,
  recipientPublic: recipient.publicKey,
  moderatorPublic: moderator.publicKey,
  message,
};
const franked = () => frank(systemRng, { ...keys, senderSecret: sender.secretKey });
const signature = franked();
const verifyArgs = { ...keys, signature };

/** One cold call (caches emptied first), repeated; setup outside the clock. */
function timeCold(n: number, setup: () => void, f: () => unknown): Timing {
  const runs: Timing[] = [];
  for (let i = 0; i < n; i++) {
    setup();
    const wall = performance.now();
    const cpu = cpuMs();
    f();
    runs.push({ wall: performance.now() - wall, cpu: cpuMs() - cpu });
  }
  return median(runs);
}

const freshKeys = Array.from({ length: 64 }, () => deriveFrankingKeyPair(systemRng(32)).publicKey);
let nextFresh = 0;
const fresh = () => freshKeys[nextFresh++ % freshKeys.length]!;
// Per message inside a franking session (PROTOCOL.md §11.3.2), with the platform's backend:
// the sender commits and signs with the session key, the recipient checks both.
const sessionSeed = systemRng(32);
const sessionKey = await defaultBackend.ed25519PublicKey(sessionSeed);
const content = systemRng(1024);
const perMessageSend = async () => {
  const openingKey = systemRng(32);
  const c = frankingCommitment(openingKey, content);
  return defaultBackend.ed25519Sign(sessionSeed, frankingMessage({ ...context, commitment: c }));
};
const sentKey = systemRng(32);
const sentCommitment = frankingCommitment(sentKey, content);
const sentSignature = await defaultBackend.ed25519Sign(
  sessionSeed,
  frankingMessage({ ...context, commitment: sentCommitment }),
);
const perMessageReceive = async () =>
  checkFrankingCommitment(sentCommitment, sentKey, content) &&
  defaultBackend.ed25519Verify(
    sessionKey,
    frankingMessage({ ...context, commitment: sentCommitment }),
    sentSignature,
  );
const sessionRows: [string, Timing][] = [
  [
    'per message in a session: sender (commit + sign)',
    await timeAsync(iterations * 10, perMessageSend),
  ],
  [
    'per message in a session: recipient (open + verify)',
    await timeAsync(iterations * 10, perMessageReceive),
  ],
];

const rows: [string, Timing][] = [
  ...sessionRows,
  ['frank (recipient key cached with its table)', time(iterations, franked)],
  [
    'frank (new recipient key each time)',
    // 64 keys in turn through a 32-entry cache: every one is a miss, with no window table.
    time(iterations, () =>
      frank(systemRng, { ...keys, recipientPublic: fresh(), senderSecret: sender.secretKey }),
    ),
  ],
  [
    'frank (cold caches: moderator table built)',
    timeCold(10, clearFrankingKeyCaches, () => franked()),
  ],
  ['proofValid', time(iterations, () => frankingProofValid(verifyArgs))],
  [
    'verify (receiver)',
    time(iterations, () => verifyFranking({ ...verifyArgs, recipientSecret: recipient.secretKey })),
  ],
  [
    'judge (moderator)',
    time(iterations, () => judgeFranking({ ...verifyArgs, moderatorSecret: moderator.secretKey })),
  ],
  [
    'judge (cold caches)',
    timeCold(10, clearFrankingKeyCaches, () =>
      judgeFranking({ ...verifyArgs, moderatorSecret: moderator.secretKey }),
    ),
  ],
  ['forge', time(Math.max(10, iterations >> 2), () => forgeFranking(systemRng, keys))],
  [
    'receiver forge',
    time(Math.max(10, iterations >> 2), () =>
      receiverForgeFranking(systemRng, { ...keys, recipientSecret: recipient.secretKey }),
    ),
  ],
  [
    'moderator forge',
    time(Math.max(10, iterations >> 2), () =>
      moderatorForgeFranking(systemRng, { ...keys, moderatorSecret: moderator.secretKey }),
    ),
  ],
];

console.log(
  `Node ${process.versions.node}, ${iterations} iterations x ${ROUNDS} rounds (median; ` +
    `per-message rows ${iterations * 10}), load ${loadavg()[0]!.toFixed(2)}`,
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
