import type { CryptoBackend } from '#sdk/crypto/backend.ts';
import {
  initAlice,
  initBob,
  type RatchetState,
  ratchetDecrypt,
  ratchetEncrypt,
} from '#sdk/protocol/ratchet.ts';
import { toHex, utf8 } from '#sdk/util/bytes.ts';
import { seededRng } from './seeded-rng.ts';

/** The seeds of the vector file's fixed inputs and of each party's rng stream. */
export const RATCHET_VECTOR_SEEDS = {
  inputs: 'Sealpost ratchet vectors v1: inputs',
  alice: 'Sealpost ratchet vectors v1: alice',
  bob: 'Sealpost ratchet vectors v1: bob',
} as const;

type Who = 'alice' | 'bob';
export type ScheduleStep =
  | { readonly op: 'send'; readonly from: Who; readonly plaintext: string }
  | { readonly op: 'receive'; readonly to: Who; readonly message: number };

/** Out-of-order delivery within a chain, a skipped key used later, and ratchet steps both ways. */
export const RATCHET_VECTOR_SCHEDULE: readonly ScheduleStep[] = [
  { op: 'send', from: 'alice', plaintext: 'a0' },
  { op: 'send', from: 'alice', plaintext: 'a1' },
  { op: 'send', from: 'alice', plaintext: 'a2' },
  { op: 'receive', to: 'bob', message: 1 },
  { op: 'receive', to: 'bob', message: 0 },
  { op: 'send', from: 'bob', plaintext: 'b0' },
  { op: 'send', from: 'bob', plaintext: 'b1' },
  { op: 'receive', to: 'alice', message: 6 },
  { op: 'send', from: 'alice', plaintext: 'a3 after a ratchet step' },
  { op: 'receive', to: 'bob', message: 8 },
  { op: 'receive', to: 'bob', message: 2 },
  { op: 'receive', to: 'alice', message: 5 },
  { op: 'send', from: 'bob', plaintext: 'b2' },
  { op: 'receive', to: 'alice', message: 12 },
];

export interface PlayedSchedule {
  readonly inputs: { sk: Uint8Array; ad: Uint8Array; bobSignedPrekeyPrivate: Uint8Array };
  /** Per step: the message sent (hex) or the plaintext received (utf8). */
  readonly records: ({ message: string } | { plaintext: string })[];
}

/** Plays the fixed schedule with one backend; every backend must produce the same records. */
export async function playRatchetSchedule(backend: CryptoBackend): Promise<PlayedSchedule> {
  const inputRng = seededRng(RATCHET_VECTOR_SEEDS.inputs);
  const sk = inputRng(32);
  const ad = inputRng(320);
  const bobSignedPrekeyPrivate = inputRng(32);
  const bobSpkPublic = await backend.x25519PublicKey(bobSignedPrekeyPrivate);
  const rngs = {
    alice: seededRng(RATCHET_VECTOR_SEEDS.alice),
    bob: seededRng(RATCHET_VECTOR_SEEDS.bob),
  };
  const states: Record<Who, RatchetState> = {
    alice: await initAlice(backend, rngs.alice, sk, ad, bobSpkPublic),
    bob: initBob(sk, ad, { privateKey: bobSignedPrekeyPrivate, publicKey: bobSpkPublic }),
  };
  const sent: Uint8Array[] = [];
  const records: PlayedSchedule['records'] = [];
  for (const step of RATCHET_VECTOR_SCHEDULE) {
    if (step.op === 'send') {
      const r = ratchetEncrypt(backend, states[step.from], utf8(step.plaintext));
      states[step.from] = r.state;
      sent.push(r.message);
      records.push({ message: toHex(r.message) });
    } else {
      const message = sent[step.message];
      if (!message) throw new Error(`schedule delivers message ${step.message} before it exists`);
      const r = await ratchetDecrypt(backend, rngs[step.to], states[step.to], message);
      states[step.to] = r.state;
      sent.push(new Uint8Array(0));
      records.push({ plaintext: new TextDecoder().decode(r.plaintext) });
    }
  }
  return { inputs: { sk, ad, bobSignedPrekeyPrivate }, records };
}
