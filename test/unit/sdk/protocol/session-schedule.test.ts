/**
 * Random delivery schedules between two parties (both sending) through the session cipher:
 * reordering, drops, replays, decryptions that crash before their commit, and restarts from
 * the stored records (each restart re-encodes the record and checks it is unchanged).
 *
 * An abstract model of each receiver (its receiving chains by ratchet key, their next
 * counters, the skipped counters) predicts every outcome: a message within the window
 * decrypts exactly once to its plaintext, a second delivery is a `DuplicateMessageError`,
 * and a message whose chain was dropped (more than five newer chains, PROTOCOL.md §5) is a
 * `DecryptError`, never a wrong plaintext.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultBackend } from '#sdk/crypto/index.ts';
import { DecryptError, DuplicateMessageError } from '#sdk/errors.ts';
import { MAX_RECEIVER_CHAINS } from '#sdk/protocol/ratchet.ts';
import { sessionKey } from '#sdk/protocol/session-cipher.ts';
import { decodeSessionRecord, encodeSessionRecord } from '#sdk/protocol/session-record.ts';
import type { StateStore } from '#sdk/state/store.ts';
import { toHex } from '#sdk/util/bytes.ts';
import { MESSAGE_TYPE_PREKEY, type MessageType, PREKEY_PREFIX_BYTES } from '#sdk/wire/messages.ts';
import { seededRng } from '../../../../scripts/lib/seeded-rng.ts';
import { cloneStore, initiate, makeParty, restart, type TestParty } from './session-fixtures.ts';

const backend = defaultBackend;
const RUNS = 1000;

type Who = 0 | 1;
type Action =
  | { kind: 'send'; from: Who }
  | { kind: 'turn'; from: Who }
  | { kind: 'deliver' | 'drop' | 'replay' | 'uncommitted'; pick: number }
  | { kind: 'restart'; who: Who };

const who = fc.constantFrom<Who>(0, 1);
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('send' as const), from: who }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('turn' as const), from: who }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('replay' as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('uncommitted' as const), pick: fc.nat() }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const), who }) },
);

interface Sent {
  readonly from: Who;
  readonly type: MessageType;
  readonly body: Uint8Array;
  readonly plaintext: string;
  readonly chain: string;
  readonly counter: number;
}

/** What a receiver has durably committed, abstractly: chains, next counters, skipped keys. */
class ReceiverModel {
  chains: string[] = [];
  next = new Map<string, number>();
  skipped = new Set<string>();

  predict(m: Sent): 'ok' | 'duplicate' | 'lost' {
    if (this.skipped.has(`${m.chain}:${m.counter}`)) return 'ok';
    const next = this.next.get(m.chain);
    if (next === undefined) return 'ok';
    if (!this.chains.slice(-MAX_RECEIVER_CHAINS).includes(m.chain)) return 'lost';
    return m.counter < next ? 'duplicate' : 'ok';
  }

  commit(m: Sent): void {
    if (this.skipped.delete(`${m.chain}:${m.counter}`)) return;
    let next = this.next.get(m.chain);
    if (next === undefined) {
      this.chains.push(m.chain);
      next = 0;
    }
    for (let c = next; c < m.counter; c++) this.skipped.add(`${m.chain}:${c}`);
    this.next.set(m.chain, m.counter + 1);
  }
}

function header(type: MessageType, body: Uint8Array): { chain: string; counter: number } {
  const h = type === MESSAGE_TYPE_PREKEY ? body.subarray(PREKEY_PREFIX_BYTES) : body;
  return {
    chain: toHex(h.subarray(1, 33)),
    counter: new DataView(h.buffer, h.byteOffset).getUint32(37),
  };
}

describe('session schedules', () => {
  let alice: TestParty;
  let bob: TestParty;
  let initial: [StateStore, StateStore];

  beforeAll(async () => {
    const rng = seededRng('session 42');
    alice = await makeParty(backend, rng, 'alice');
    bob = await makeParty(backend, rng, 'bob');
    await initiate(backend, rng, alice, bob, 1);
    initial = [alice.store, bob.store];
  });

  it(`delivers every message exactly once across ${RUNS} random schedules`, async () => {
    const seen = {
      delivered: 0,
      duplicates: 0,
      lost: 0,
      chains: 0,
      uncommitted: 0,
      restarts: 0,
    };
    await fc.assert(
      fc.asyncProperty(
        fc.integer(),
        fc.array(action, { minLength: 8, maxLength: 48 }),
        async (seed, actions) => {
          const rng = seededRng(`session ${seed}`);
          const parties = [alice, bob] as const;
          restart(alice, backend, rng, await cloneStore(initial[0]));
          restart(bob, backend, rng, await cloneStore(initial[1]));
          const models = [new ReceiverModel(), new ReceiverModel()];
          const canSend = [true, false];
          const inFlight: Sent[] = [];
          const done: Sent[] = [];
          let count = 0;

          const open = async (m: Sent, commit: boolean) => {
            const to = parties[1 - m.from]!;
            const from = parties[m.from]!;
            const expected = models[1 - m.from]!.predict(m);
            const attempt = commit
              ? to.cipher.decryptAndCommit(from.peer, m.type, m.body)
              : to.cipher.decrypt(from.peer, m.type, m.body);
            if (expected === 'ok') {
              const result = await attempt;
              expect(new TextDecoder().decode(result.plaintext)).toBe(m.plaintext);
              expect(isDeepStrictEqual(result.remoteIdentity, from.identity)).toBe(true);
              if (commit) {
                models[1 - m.from]!.commit(m);
                canSend[1 - m.from] = true;
                seen.delivered++;
              }
            } else {
              const error = await attempt.catch((e: unknown) => e);
              expect(error).toBeInstanceOf(
                expected === 'duplicate' ? DuplicateMessageError : DecryptError,
              );
              seen[expected === 'duplicate' ? 'duplicates' : 'lost']++;
            }
            return expected;
          };

          const send = async (from: Who): Promise<Sent | undefined> => {
            if (!canSend[from]) return undefined;
            const plaintext = `${from}:${count++}`;
            const sent = await parties[from]!.cipher.encryptAndCommit(
              parties[1 - from]!.peer,
              new TextEncoder().encode(plaintext),
            );
            return { ...sent, from, plaintext, ...header(sent.type, sent.body) };
          };

          for (const a of actions) {
            if (a.kind === 'send') {
              const m = await send(a.from);
              if (m) inFlight.push(m);
            } else if (a.kind === 'turn') {
              // A round trip delivered at once: moves both ratchets a step while older
              // messages wait in flight.
              for (const from of [a.from, (1 - a.from) as Who]) {
                const m = await send(from);
                if (m && (await open(m, true)) === 'ok') done.push(m);
              }
            } else if (a.kind === 'restart') {
              const party = parties[a.who]!;
              const peer = parties[1 - a.who]!;
              const stored = await party.store.get('session', sessionKey(peer.peer));
              if (stored) {
                const again = encodeSessionRecord(decodeSessionRecord(stored.slice()));
                expect(isDeepStrictEqual(again, stored)).toBe(true);
              }
              restart(party, backend, rng, await cloneStore(party.store));
              seen.restarts++;
            } else if (a.kind === 'replay') {
              if (done.length > 0) await open(done[a.pick % done.length]!, true);
            } else if (inFlight.length > 0) {
              const index = a.pick % inFlight.length;
              const m = inFlight[index]!;
              if (a.kind === 'uncommitted') {
                seen.uncommitted++;
                await open(m, false);
                continue;
              }
              inFlight.splice(index, 1);
              if (a.kind === 'deliver' && (await open(m, true)) === 'ok') done.push(m);
            }
          }
          seen.chains += models[0]!.chains.length + models[1]!.chains.length;
          // Everything still in flight is delivered at the end, in reverse order.
          for (const m of inFlight.reverse()) if ((await open(m, true)) === 'ok') done.push(m);
          // Both directions still work afterwards.
          for (const from of [0, 1] as const) {
            if (!canSend[from]) continue;
            const [sender, receiver] = [parties[from]!, parties[1 - from]!];
            const last = await sender.cipher.encryptAndCommit(receiver.peer, Uint8Array.of(from));
            const opened = await receiver.cipher.decryptAndCommit(
              sender.peer,
              last.type,
              last.body,
            );
            expect(opened.plaintext).toEqual(Uint8Array.of(from));
            canSend[1 - from] = true;
          }
        },
      ),
      { numRuns: RUNS },
    );
    // The generator must really exercise what it claims to (counts from a typical run are
    // about 7,400 deliveries, 700 duplicates, 4,200 chains, 450 uncommitted, 1,100 restarts).
    expect(seen.delivered).toBeGreaterThan(RUNS * 4);
    expect(seen.duplicates).toBeGreaterThan(RUNS / 4);
    expect(seen.chains).toBeGreaterThan(RUNS * 2);
    expect(seen.uncommitted).toBeGreaterThan(RUNS / 5);
    expect(seen.restarts).toBeGreaterThan(RUNS / 2);
  });
});
