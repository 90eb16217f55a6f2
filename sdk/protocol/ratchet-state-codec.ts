/**
 * Session state codec (docs/PROTOCOL.md §5.3.1). A record is re-encoded on every
 * message, so encoding computes the exact size first and writes once into one allocation, and
 * decoding copies the input once and hands out views of that copy. Every decoding failure is
 * a `StateCorruptError`.
 */
import { StateCorruptError } from '../errors.ts';
import { ArgumentRangeError } from '../util/argument-errors.ts';
import { assertBytes, assertU32, ByteReader, ByteWriter, equalBytes } from '../util/bytes.ts';
import {
  BASE_KEY_BYTES,
  IDENTITY_BUNDLE_BYTES,
  KEM_CIPHERTEXT_BYTES,
  RATCHET_KEY_BYTES,
} from '../wire/messages.ts';
import {
  MAX_RECEIVER_CHAINS,
  MAX_SKIPPED_KEYS,
  type ReceiverChain,
  type SkippedMessageKey,
} from './ratchet-state.ts';
import type { PendingPrekey, SessionState } from './session-state.ts';

/** Version byte of an encoded session state (each archived state carries its own; 2: 172-byte identities). */
export const SESSION_STATE_VERSION = 2;
/** Upper bound of the AD field (PQXDH AD is 344 bytes; the bound only keeps parsing sane). */
export const MAX_ASSOCIATED_DATA_BYTES = 4096;
/** Upper bound of one encoded state (2,000 skipped keys are about 72 KB). */
export const MAX_SESSION_STATE_BYTES = 262_144;

const SECRET = 32;

/** A `StateCorruptError` (the only error a stored record may cause). */
export function corrupt(message: string): StateCorruptError {
  return new StateCorruptError(message);
}

function skippedRuns(skipped: readonly SkippedMessageKey[]): SkippedMessageKey[][] {
  const runs: SkippedMessageKey[][] = [];
  let run: SkippedMessageKey[] | undefined;
  for (const entry of skipped) {
    if (run !== undefined && equalBytes(run[0]!.ratchetKey, entry.ratchetKey)) run.push(entry);
    else {
      run = [entry];
      runs.push(run);
    }
  }
  return runs;
}

/** A state checked for encoding, with its size and its skipped keys grouped in runs. */
export interface StatePlan {
  readonly state: SessionState;
  readonly size: number;
  readonly runs: SkippedMessageKey[][];
}

/**
 * Checks a state for encoding and computes its size.
 *
 * @throws {ArgumentTypeError | ArgumentRangeError} if a field has the wrong size or a limit is exceeded.
 */
export function planState(state: SessionState): StatePlan {
  const r = state.ratchet;
  assertBytes(state.baseKey, 'baseKey', BASE_KEY_BYTES);
  assertBytes(state.remoteIdentity, 'remoteIdentity', IDENTITY_BUNDLE_BYTES);
  assertBytes(state.localIdentity, 'localIdentity', IDENTITY_BUNDLE_BYTES);
  assertBytes(r.associatedData, 'associatedData');
  if (r.associatedData.length > MAX_ASSOCIATED_DATA_BYTES) {
    throw new ArgumentRangeError('associatedData is too long');
  }
  assertBytes(r.rootKey, 'rootKey', SECRET);
  assertBytes(r.senderRatchetPrivate, 'senderRatchetPrivate', SECRET);
  assertBytes(r.senderRatchetPublic, 'senderRatchetPublic', RATCHET_KEY_BYTES);
  assertU32(r.previousCounter, 'previousCounter');
  let size = 1 + BASE_KEY_BYTES + 2 * IDENTITY_BUNDLE_BYTES + 2 + r.associatedData.length;
  size += 3 * SECRET + 4 + 1 + 1 + 2 + 1;
  if (r.senderChain !== null) {
    assertBytes(r.senderChain.key, 'senderChain.key', SECRET);
    assertU32(r.senderChain.index, 'senderChain.index');
    size += SECRET + 4;
  }
  if (r.receiverChains.length > MAX_RECEIVER_CHAINS)
    throw new ArgumentRangeError('too many chains');
  for (const chain of r.receiverChains) {
    assertBytes(chain.ratchetKey, 'ratchetKey', RATCHET_KEY_BYTES);
    assertBytes(chain.key, 'chain key', SECRET);
    assertU32(chain.index, 'chain index');
    size += RATCHET_KEY_BYTES + SECRET + 4;
  }
  if (r.skippedKeys.length > MAX_SKIPPED_KEYS)
    throw new ArgumentRangeError('too many skipped keys');
  const runs = skippedRuns(r.skippedKeys);
  for (const run of runs) {
    assertBytes(run[0]!.ratchetKey, 'ratchetKey', RATCHET_KEY_BYTES);
    size += RATCHET_KEY_BYTES + 2;
    for (const entry of run) {
      assertBytes(entry.seed, 'skipped key', SECRET);
      assertU32(entry.counter, 'skipped counter');
      size += 4 + SECRET;
    }
  }
  const pending = state.pendingPrekey;
  if (pending !== null) {
    assertBytes(pending.kemCiphertext, 'kemCiphertext', KEM_CIPHERTEXT_BYTES);
    assertBytes(pending.baseKey, 'pending baseKey', BASE_KEY_BYTES);
    assertU32(pending.signedPrekeyId, 'signedPrekeyId');
    assertU32(pending.oneTimePrekeyId, 'oneTimePrekeyId');
    assertU32(pending.kemPrekeyId, 'kemPrekeyId');
    size += 12 + KEM_CIPHERTEXT_BYTES + BASE_KEY_BYTES;
  }
  return { state, size, runs };
}

/** Writes a planned state at the writer's position. */
export function writeState(plan: StatePlan, w: ByteWriter): void {
  const { state, runs } = plan;
  const r = state.ratchet;
  w.u8(SESSION_STATE_VERSION);
  w.bytes(state.baseKey);
  w.bytes(state.remoteIdentity);
  w.bytes(state.localIdentity);
  w.u16(r.associatedData.length);
  w.bytes(r.associatedData);
  w.bytes(r.rootKey);
  w.bytes(r.senderRatchetPrivate);
  w.bytes(r.senderRatchetPublic);
  w.u32(r.previousCounter);
  w.u8(r.senderChain === null ? 0 : 1);
  if (r.senderChain !== null) {
    w.bytes(r.senderChain.key);
    w.u32(r.senderChain.index);
  }
  w.u8(r.receiverChains.length);
  for (const chain of r.receiverChains) {
    w.bytes(chain.ratchetKey);
    w.bytes(chain.key);
    w.u32(chain.index);
  }
  w.u16(runs.length);
  for (const run of runs) {
    w.bytes(run[0]!.ratchetKey);
    w.u16(run.length);
    for (const entry of run) {
      w.u32(entry.counter);
      w.bytes(entry.seed);
    }
  }
  const pending = state.pendingPrekey;
  w.u8(pending === null ? 0 : 1);
  if (pending !== null) {
    w.u32(pending.signedPrekeyId);
    w.u32(pending.oneTimePrekeyId);
    w.u32(pending.kemPrekeyId);
    w.bytes(pending.kemCiphertext);
    w.bytes(pending.baseKey);
  }
}

/**
 * Encodes one session state (layout in docs/PROTOCOL.md §5.3.1).
 *
 * @throws {ArgumentTypeError | ArgumentRangeError} if a field has the wrong size or a limit is exceeded.
 * @example
 * const bytes = encodeSessionState(state);
 */
export function encodeSessionState(state: SessionState): Uint8Array {
  const plan = planState(state);
  const w = new ByteWriter(plan.size);
  writeState(plan, w);
  return w.finish();
}

/** A one-byte boolean of the state layout: 0 or 1, anything else is corruption. */
function flag(reader: ByteReader): boolean {
  const value = reader.u8();
  if (value > 1) throw corrupt('session state has an invalid flag');
  return value === 1;
}

/** Options of {@link decodeSessionState}. */
export interface DecodeStateOptions {
  /**
   * The caller hands `bytes` over (e.g. a record it just read from the store and wipes when
   * done): the fields become views of `bytes` itself instead of a private copy, which saves a
   * copy of every record on every message. Wiping the state then also zeroes `bytes`.
   * @default false
   */
  readonly inPlace?: boolean;
}

/**
 * Decodes one session state. It copies `bytes` once and its fields are views of that copy,
 * owned by the caller (wiping the state never touches `bytes`), unless `options.inPlace`.
 *
 * @throws {StateCorruptError} on any violation of the layout or its limits.
 * @example
 * const state = decodeSessionState(record.archived[0]);
 */
export function decodeSessionState(
  bytes: Uint8Array,
  options: DecodeStateOptions = {},
): SessionState {
  assertBytes(bytes, 'bytes');
  if (bytes.length > MAX_SESSION_STATE_BYTES) throw corrupt('session state is too long');
  const reader = new ByteReader(
    options.inPlace === true ? bytes : bytes.slice(),
    'session state',
    corrupt,
  );
  if (reader.u8() !== SESSION_STATE_VERSION) throw corrupt('unknown session state version');
  const baseKey = reader.bytesView(BASE_KEY_BYTES);
  const remoteIdentity = reader.bytesView(IDENTITY_BUNDLE_BYTES);
  const localIdentity = reader.bytesView(IDENTITY_BUNDLE_BYTES);
  const adLength = reader.u16();
  if (adLength > MAX_ASSOCIATED_DATA_BYTES) throw corrupt('session state AD is too long');
  const associatedData = reader.bytesView(adLength);
  const rootKey = reader.bytesView(SECRET);
  const senderRatchetPrivate = reader.bytesView(SECRET);
  const senderRatchetPublic = reader.bytesView(RATCHET_KEY_BYTES);
  const previousCounter = reader.u32();
  const senderChain = flag(reader) ? { key: reader.bytesView(SECRET), index: reader.u32() } : null;
  const chainCount = reader.u8();
  if (chainCount > MAX_RECEIVER_CHAINS) throw corrupt('session state has too many chains');
  const receiverChains: ReceiverChain[] = [];
  for (let i = 0; i < chainCount; i++) {
    receiverChains.push({
      ratchetKey: reader.bytesView(RATCHET_KEY_BYTES),
      key: reader.bytesView(SECRET),
      index: reader.u32(),
    });
  }
  const runCount = reader.u16();
  const skippedKeys: SkippedMessageKey[] = [];
  for (let i = 0; i < runCount; i++) {
    const ratchetKey = reader.bytesView(RATCHET_KEY_BYTES);
    const n = reader.u16();
    if (n === 0 || skippedKeys.length + n > MAX_SKIPPED_KEYS) {
      throw corrupt('session state has an invalid skipped key run');
    }
    for (let j = 0; j < n; j++) {
      skippedKeys.push({ ratchetKey, counter: reader.u32(), seed: reader.bytesView(SECRET) });
    }
  }
  const pendingPrekey: PendingPrekey | null = flag(reader)
    ? {
        signedPrekeyId: reader.u32(),
        oneTimePrekeyId: reader.u32(),
        kemPrekeyId: reader.u32(),
        kemCiphertext: reader.bytesView(KEM_CIPHERTEXT_BYTES),
        baseKey: reader.bytesView(BASE_KEY_BYTES),
      }
    : null;
  reader.end();
  return {
    ratchet: {
      associatedData,
      rootKey,
      senderRatchetPrivate,
      senderRatchetPublic,
      senderChain,
      previousCounter,
      receiverChains,
      skippedKeys,
    },
    remoteIdentity,
    localIdentity,
    baseKey,
    pendingPrekey,
  };
}
