/**
 * Generates test/vectors/ratchet.json: Double Ratchet known-answer vectors (PROTOCOL.md §5).
 * A fixed SK, AD and responder signed prekey start a session; each party draws its ratchet
 * keys from its own seeded stream (scripts/lib/seeded-rng.ts). The script plays a schedule
 * with out-of-order delivery and ratchet steps both ways and records every message's bytes.
 * Another implementation reproduces the file by following the same schedule.
 *
 * Run: `npx tsx scripts/gen-vectors-ratchet.ts`
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nobleBackend } from '#sdk/crypto/index.ts';
import { toHex } from '#sdk/util/bytes.ts';
import {
  playRatchetSchedule,
  RATCHET_VECTOR_SCHEDULE,
  RATCHET_VECTOR_SEEDS,
} from './lib/ratchet-schedule.ts';

const result = await playRatchetSchedule(nobleBackend);
const file = {
  description:
    'Double Ratchet vectors: session from sk/ad/bobSignedPrekeyPrivate; rng streams per party are SHA-256(seed || u32 counter) blocks; steps run in order; "send" lists the encoded ratchet message, "receive" the index of the message delivered.',
  seeds: RATCHET_VECTOR_SEEDS,
  inputs: Object.fromEntries(Object.entries(result.inputs).map(([k, v]) => [k, toHex(v)])),
  steps: RATCHET_VECTOR_SCHEDULE.map((step, i) => ({ ...step, ...result.records[i] })),
};
const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'vectors', 'ratchet.json');
writeFileSync(out, `${JSON.stringify(file, null, 2)}\n`);
console.log(`wrote ${file.steps.length} steps to ${out}`);
