import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StateCorruptError } from '#sdk/errors.ts';
import type { RatchetState } from '#sdk/protocol/ratchet.ts';
import {
  archiveState,
  decodeSessionRecord,
  decodeSessionState,
  encodedStateHasBaseKey,
  encodeSessionRecord,
  encodeSessionState,
  MAX_ARCHIVED_STATES,
  type SessionRecord,
  type SessionState,
} from '#sdk/protocol/session-record.ts';
import { ArgumentRangeError } from '#sdk/util/argument-errors.ts';
import { concatBytes } from '#sdk/util/bytes.ts';

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const u32 = fc.nat({ max: 0xffffffff });
// Large fields from a short random head (generating 1,568 independent bytes is slow).
const largeBytes = (n: number) =>
  bytes(16).map((head) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 16) out.set(head.subarray(0, Math.min(16, n - i)), i);
    return out;
  });

// A small pool of ratchet keys so that skipped keys form runs, as they do in practice.
const ratchetKeyPool = fc.array(bytes(32), { minLength: 1, maxLength: 3 });

const ratchetState: fc.Arbitrary<RatchetState> = ratchetKeyPool.chain((pool) =>
  fc.record({
    associatedData: fc.uint8Array({ maxLength: 400 }),
    rootKey: bytes(32),
    senderRatchetPrivate: bytes(32),
    senderRatchetPublic: bytes(32),
    senderChain: fc.option(fc.record({ key: bytes(32), index: u32 }), { nil: null }),
    previousCounter: u32,
    receiverChains: fc.array(
      fc.record({ ratchetKey: fc.constantFrom(...pool), key: bytes(32), index: u32 }),
      { maxLength: 5 },
    ),
    skippedKeys: fc.array(
      fc.record({ ratchetKey: fc.constantFrom(...pool), counter: u32, seed: bytes(32) }),
      { maxLength: 40 },
    ),
  }),
);

const sessionState: fc.Arbitrary<SessionState> = fc.record({
  ratchet: ratchetState,
  remoteIdentity: largeBytes(172),
  localIdentity: largeBytes(172),
  baseKey: bytes(32),
  pendingPrekey: fc.option(
    fc.record({
      signedPrekeyId: u32,
      oneTimePrekeyId: u32,
      kemPrekeyId: u32,
      kemCiphertext: largeBytes(1568),
      baseKey: bytes(32),
    }),
    { nil: null },
  ),
});

const sessionRecord: fc.Arbitrary<SessionRecord> = fc.record({
  current: fc.option(sessionState, { nil: null }),
  archived: fc.array(sessionState.map(encodeSessionState), { maxLength: 3 }),
});

/** Structural equality; vitest's `toEqual` only runs (for its diff) when they differ. */
function expectSame(actual: unknown, expected: unknown): void {
  if (!isDeepStrictEqual(actual, expected)) expect(actual).toEqual(expected);
}

function sampleState(seed: number): SessionState {
  return fc.sample(sessionState, { numRuns: 1, seed })[0]!;
}

function expectCorrupt(
  input: Uint8Array,
  decode: (b: Uint8Array) => unknown = decodeSessionRecord,
): void {
  expect(() => decode(input)).toThrow(StateCorruptError);
}

describe('session state codec', () => {
  it('decode(encode(state)) is the identity', () => {
    fc.assert(
      fc.property(sessionState, (state) => {
        const encoded = encodeSessionState(state);
        expectSame(decodeSessionState(encoded), state);
        expect(encodedStateHasBaseKey(encoded, state.baseKey)).toBe(true);
        expectSame(encodeSessionState(decodeSessionState(encoded)), encoded);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps 2,000 skipped keys and refuses more', () => {
    const base = sampleState(1);
    const key = new Uint8Array(32).fill(4);
    const skippedKeys = Array.from({ length: 2000 }, (_, i) => ({
      ratchetKey: key,
      counter: i,
      seed: new Uint8Array(32).fill(i & 0xff),
    }));
    const full = { ...base, ratchet: { ...base.ratchet, skippedKeys } };
    expectSame(decodeSessionState(encodeSessionState(full)), full);
    const over = {
      ...base,
      ratchet: { ...base.ratchet, skippedKeys: [...skippedKeys, skippedKeys[0]!] },
    };
    expect(() => encodeSessionState(over)).toThrow(ArgumentRangeError);
  });

  it('rejects every truncation, trailing bytes, bad versions, flags and counts', () => {
    const state = { ...sampleState(2), pendingPrekey: null };
    const encoded = encodeSessionState(state);
    for (let cut = 0; cut < encoded.length; cut++) {
      expectCorrupt(encoded.subarray(0, cut), decodeSessionState);
    }
    expectCorrupt(concatBytes(encoded, Uint8Array.of(0)), decodeSessionState);
    const badVersion = encoded.slice();
    badVersion[0] = 1;
    expectCorrupt(badVersion, decodeSessionState);
    const badPending = encoded.slice();
    badPending[badPending.length - 1] = 2;
    expectCorrupt(badPending, decodeSessionState);
    // The sender-chain flag follows the fixed fields and the AD.
    const senderFlagAt = 1 + 32 + 344 + 2 + state.ratchet.associatedData.length + 96 + 4;
    const badFlag = encoded.slice();
    badFlag[senderFlagAt] = 7;
    expectCorrupt(badFlag, decodeSessionState);
    const chainsAt = senderFlagAt + 1 + (state.ratchet.senderChain ? 36 : 0);
    const tooManyChains = encoded.slice();
    tooManyChains[chainsAt] = 6;
    expectCorrupt(tooManyChains, decodeSessionState);
  });

  it('throws only StateCorruptError on arbitrary or mutated input', () => {
    const valid = encodeSessionState(sampleState(3));
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 3000 }),
          fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([at, x]) => {
            const m = valid.slice();
            m[at % m.length]! ^= x;
            return m;
          }),
        ),
        (input) => {
          try {
            decodeSessionState(input);
          } catch (error) {
            expect(error).toBeInstanceOf(StateCorruptError);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('session record codec', () => {
  it('decode(encode(record)) is the identity, and so is encode(decode(bytes))', () => {
    fc.assert(
      fc.property(sessionRecord, (record) => {
        const encoded = encodeSessionRecord(record);
        const decoded = decodeSessionRecord(encoded);
        expectSame(decoded.current, record.current);
        expect(decoded.archived.length).toBe(record.archived.length);
        for (const [i, a] of decoded.archived.entries()) {
          expectSame(new Uint8Array(a), record.archived[i]);
        }
        expectSame(encodeSessionRecord(decoded), encoded);
      }),
      { numRuns: 100 },
    );
  });

  it('holds 40 archived states; archiveState drops the oldest', () => {
    const states = Array.from({ length: MAX_ARCHIVED_STATES + 1 }, (_, i) =>
      encodeSessionState({ ...sampleState(10 + (i % 3)), baseKey: new Uint8Array(32).fill(i) }),
    );
    const full = { current: null, archived: states.slice(0, MAX_ARCHIVED_STATES) };
    expect(decodeSessionRecord(encodeSessionRecord(full)).archived).toEqual(full.archived);
    expect(() => encodeSessionRecord({ current: null, archived: states })).toThrow(
      ArgumentRangeError,
    );
    const pushed = archiveState(full.archived, states[MAX_ARCHIVED_STATES]!);
    expect(pushed).toHaveLength(MAX_ARCHIVED_STATES);
    expect(encodedStateHasBaseKey(pushed[0]!, new Uint8Array(32).fill(40))).toBe(true);
    expect(encodedStateHasBaseKey(pushed[39]!, new Uint8Array(32).fill(38))).toBe(true);
    const tooMany = encodeSessionRecord(full);
    const countAt = 2;
    const patched = tooMany.slice();
    patched[countAt] = MAX_ARCHIVED_STATES + 1;
    expectCorrupt(patched);
  });

  it('rejects every truncation, trailing bytes, bad versions and flags', () => {
    const record: SessionRecord = {
      current: sampleState(4),
      archived: [encodeSessionState(sampleState(5))],
    };
    const encoded = encodeSessionRecord(record);
    for (let cut = 0; cut < encoded.length; cut += cut < 200 ? 1 : 97) {
      expectCorrupt(encoded.subarray(0, cut));
    }
    expectCorrupt(concatBytes(encoded, Uint8Array.of(0)));
    for (const [at, value] of [
      [0, 2],
      [1, 2],
      [6, 9],
    ] as const) {
      const bad = encoded.slice();
      bad[at] = value;
      expectCorrupt(bad);
    }
    // A length prefix too short to hold a state's version and base key.
    expectCorrupt(Uint8Array.of(1, 1, 0, 0, 0, 1, 1, 0));
    expect(decodeSessionRecord(Uint8Array.of(1, 0, 0))).toEqual({ current: null, archived: [] });
  });

  it('checks archived states when they are decoded', () => {
    const archivedState = encodeSessionState(sampleState(6));
    const damaged = archivedState.slice(0, archivedState.length - 1);
    const record = decodeSessionRecord(encodeSessionRecord({ current: null, archived: [damaged] }));
    expect(record.archived).toHaveLength(1);
    expectCorrupt(record.archived[0]!, decodeSessionState);
  });
});
