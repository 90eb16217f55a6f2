/**
 * Session state and session record codecs (docs/protocol/05-ratchet.md §3). A record is what
 * the store keeps per peer device (`session` namespace, key `${address}.${deviceId}`): the
 * current session state and up to 40 archived ones (design §5).
 *
 * Archived states stay encoded (as libsignal keeps its previous sessions serialized): a
 * message normally touches only the current state, so a full archive costs a copy, not 40
 * decodes. Every byte is checked when a state is decoded; any violation is a
 * `StateCorruptError`.
 */
import { StateCorruptError } from '../errors.ts';
import { assertBytes, ByteReader, ByteWriter } from '../util/bytes.ts';
import {
  BASE_KEY_BYTES,
  IDENTITY_BUNDLE_BYTES,
  KEM_CIPHERTEXT_BYTES,
  RATCHET_KEY_BYTES,
} from '../wire/messages.ts';
import {
  MAX_RECEIVER_CHAINS,
  MAX_SKIPPED_KEYS,
  type RatchetState,
  type ReceiverChain,
  type SkippedMessageKey,
} from './ratchet.ts';

/** Version byte of an encoded record. */
export const SESSION_RECORD_VERSION = 1;
/** Version byte of an encoded session state (each archived state carries its own). */
export const SESSION_STATE_VERSION = 1;
/** Archived states kept per peer device; the oldest is dropped (design §5). */
export const MAX_ARCHIVED_STATES = 40;
/** Upper bound of the AD field (PQXDH AD is 320 bytes; the bound only keeps parsing sane). */
export const MAX_ASSOCIATED_DATA_BYTES = 4096;
/** Upper bound of one encoded state (2,000 skipped keys are about 140 KB). */
export const MAX_SESSION_STATE_BYTES = 262_144;

const SECRET = 32;

/** PQXDH parameters the initiator repeats on every message until the peer has answered. */
export interface PendingPrekey {
  readonly signedPrekeyId: number;
  /** 0 when the bundle had no one-time prekey. */
  readonly oneTimePrekeyId: number;
  readonly kemPrekeyId: number;
  readonly kemCiphertext: Uint8Array;
  readonly baseKey: Uint8Array;
}

/** One session with a peer device: a ratchet plus what binds it to the two identities. */
export interface SessionState {
  /** Holds the AD (`ratchet.associatedData`). */
  readonly ratchet: RatchetState;
  /** Peer's `IdentityBundle` (160 bytes). */
  readonly remoteIdentity: Uint8Array;
  /** Our `IdentityBundle` (160 bytes). */
  readonly localIdentity: Uint8Array;
  /** The initiator's PQXDH ephemeral key EK_A, which names the session (design §5). */
  readonly baseKey: Uint8Array;
  /** Set for an initiator until it decrypts a message from the peer. */
  readonly pendingPrekey: PendingPrekey | null;
}

/** Everything stored for one peer device. */
export interface SessionRecord {
  readonly current: SessionState | null;
  /**
   * Encoded archived states, newest first, at most {@link MAX_ARCHIVED_STATES}. Decode one
   * with {@link decodeSessionState}. After {@link decodeSessionRecord} these are views into
   * its input.
   */
  readonly archived: readonly Uint8Array[];
}

function corrupt(message: string): StateCorruptError {
  return new StateCorruptError(message);
}

function readFlag(reader: ByteReader): boolean {
  const flag = reader.u8();
  if (flag > 1) throw corrupt('session state has an invalid flag');
  return flag === 1;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function skippedRuns(skipped: readonly SkippedMessageKey[]): SkippedMessageKey[][] {
  const runs: SkippedMessageKey[][] = [];
  let run: SkippedMessageKey[] | undefined;
  for (const entry of skipped) {
    if (run !== undefined && sameBytes(run[0]!.ratchetKey, entry.ratchetKey)) run.push(entry);
    else {
      run = [entry];
      runs.push(run);
    }
  }
  return runs;
}

/**
 * Encodes one session state (layout in docs/protocol/05-ratchet.md §3.1).
 *
 * @throws {RangeError | TypeError} if a field has the wrong size or a limit is exceeded.
 * @example
 * const bytes = encodeSessionState(state);
 */
export function encodeSessionState(state: SessionState): Uint8Array {
  const r = state.ratchet;
  assertBytes(state.baseKey, 'baseKey', BASE_KEY_BYTES);
  assertBytes(state.remoteIdentity, 'remoteIdentity', IDENTITY_BUNDLE_BYTES);
  assertBytes(state.localIdentity, 'localIdentity', IDENTITY_BUNDLE_BYTES);
  assertBytes(r.associatedData, 'associatedData');
  if (r.associatedData.length > MAX_ASSOCIATED_DATA_BYTES) {
    throw new RangeError('associatedData is too long');
  }
  assertBytes(r.rootKey, 'rootKey', SECRET);
  assertBytes(r.senderRatchetPrivate, 'senderRatchetPrivate', SECRET);
  assertBytes(r.senderRatchetPublic, 'senderRatchetPublic', RATCHET_KEY_BYTES);
  if (r.receiverChains.length > MAX_RECEIVER_CHAINS) throw new RangeError('too many chains');
  if (r.skippedKeys.length > MAX_SKIPPED_KEYS) throw new RangeError('too many skipped keys');
  const w = new ByteWriter(
    1600 + r.associatedData.length + 68 * r.receiverChains.length + 70 * r.skippedKeys.length,
  );
  w.u8(SESSION_STATE_VERSION)
    .bytes(state.baseKey)
    .bytes(state.remoteIdentity)
    .bytes(state.localIdentity)
    .var16(r.associatedData)
    .bytes(r.rootKey)
    .bytes(r.senderRatchetPrivate)
    .bytes(r.senderRatchetPublic)
    .u32(r.previousCounter);
  if (r.senderChain === null) w.u8(0);
  else {
    assertBytes(r.senderChain.key, 'senderChain.key', SECRET);
    w.u8(1).bytes(r.senderChain.key).u32(r.senderChain.index);
  }
  w.u8(r.receiverChains.length);
  for (const chain of r.receiverChains) {
    assertBytes(chain.ratchetKey, 'ratchetKey', RATCHET_KEY_BYTES);
    assertBytes(chain.key, 'chain key', SECRET);
    w.bytes(chain.ratchetKey).bytes(chain.key).u32(chain.index);
  }
  const runs = skippedRuns(r.skippedKeys);
  w.u16(runs.length);
  for (const run of runs) {
    assertBytes(run[0]!.ratchetKey, 'ratchetKey', RATCHET_KEY_BYTES);
    w.bytes(run[0]!.ratchetKey).u16(run.length);
    for (const entry of run) {
      assertBytes(entry.seed, 'skipped key', SECRET);
      w.u32(entry.counter).bytes(entry.seed);
    }
  }
  const pending = state.pendingPrekey;
  if (pending === null) w.u8(0);
  else {
    assertBytes(pending.kemCiphertext, 'kemCiphertext', KEM_CIPHERTEXT_BYTES);
    assertBytes(pending.baseKey, 'pending baseKey', BASE_KEY_BYTES);
    w.u8(1)
      .u32(pending.signedPrekeyId)
      .u32(pending.oneTimePrekeyId)
      .u32(pending.kemPrekeyId)
      .bytes(pending.kemCiphertext)
      .bytes(pending.baseKey);
  }
  return w.finish();
}

/**
 * Decodes one session state. Every field is a fresh copy owned by the caller.
 *
 * @throws {StateCorruptError} on any violation of the layout or its limits.
 * @example
 * const state = decodeSessionState(record.archived[0]);
 */
export function decodeSessionState(bytes: Uint8Array): SessionState {
  assertBytes(bytes, 'bytes');
  if (bytes.length > MAX_SESSION_STATE_BYTES) throw corrupt('session state is too long');
  const reader = new ByteReader(bytes, 'session state', corrupt);
  const version = reader.u8();
  if (version !== SESSION_STATE_VERSION) throw corrupt('unknown session state version');
  const baseKey = reader.bytes(BASE_KEY_BYTES);
  const remoteIdentity = reader.bytes(IDENTITY_BUNDLE_BYTES);
  const localIdentity = reader.bytes(IDENTITY_BUNDLE_BYTES);
  const associatedData = reader.var16(MAX_ASSOCIATED_DATA_BYTES);
  const rootKey = reader.bytes(SECRET);
  const senderRatchetPrivate = reader.bytes(SECRET);
  const senderRatchetPublic = reader.bytes(RATCHET_KEY_BYTES);
  const previousCounter = reader.u32();
  const senderChain = readFlag(reader) ? { key: reader.bytes(SECRET), index: reader.u32() } : null;
  const chainCount = reader.u8();
  if (chainCount > MAX_RECEIVER_CHAINS) throw corrupt('session state has too many chains');
  const receiverChains: ReceiverChain[] = [];
  for (let i = 0; i < chainCount; i++) {
    receiverChains.push({
      ratchetKey: reader.bytes(RATCHET_KEY_BYTES),
      key: reader.bytes(SECRET),
      index: reader.u32(),
    });
  }
  const runCount = reader.u16();
  const skippedKeys: SkippedMessageKey[] = [];
  for (let i = 0; i < runCount; i++) {
    const ratchetKey = reader.bytes(RATCHET_KEY_BYTES);
    const n = reader.u16();
    if (n === 0 || skippedKeys.length + n > MAX_SKIPPED_KEYS) {
      throw corrupt('session state has an invalid skipped key run');
    }
    for (let j = 0; j < n; j++) {
      skippedKeys.push({ ratchetKey, counter: reader.u32(), seed: reader.bytes(SECRET) });
    }
  }
  const pendingPrekey: PendingPrekey | null = readFlag(reader)
    ? {
        signedPrekeyId: reader.u32(),
        oneTimePrekeyId: reader.u32(),
        kemPrekeyId: reader.u32(),
        kemCiphertext: reader.bytes(KEM_CIPHERTEXT_BYTES),
        baseKey: reader.bytes(BASE_KEY_BYTES),
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

/**
 * Whether an encoded state belongs to the session named by `baseKey`, read straight from its
 * fixed offset (so matching a repeated prekey message never decodes the archive).
 *
 * @example
 * const i = record.archived.findIndex((s) => encodedStateHasBaseKey(s, message.baseKey));
 */
export function encodedStateHasBaseKey(encoded: Uint8Array, baseKey: Uint8Array): boolean {
  if (encoded.length < 1 + BASE_KEY_BYTES || baseKey.length !== BASE_KEY_BYTES) return false;
  for (let i = 0; i < BASE_KEY_BYTES; i++) if (encoded[1 + i] !== baseKey[i]) return false;
  return true;
}

/**
 * Encodes a record: `u8 version=1 || u8 hasCurrent || [u32 len || state] || u8 archivedCount
 * || archivedCount × (u32 len || state)`.
 *
 * @throws {RangeError | TypeError} on more than 40 archived states or an invalid state.
 * @example
 * const op = { ns: 'session', key: `${address}.${deviceId}`, value: encodeSessionRecord(record) };
 */
export function encodeSessionRecord(record: SessionRecord): Uint8Array {
  if (record.archived.length > MAX_ARCHIVED_STATES) throw new RangeError('too many archived');
  const current = record.current === null ? undefined : encodeSessionState(record.current);
  let size = 3 + (current === undefined ? 0 : 4 + current.length);
  for (const s of record.archived) {
    assertBytes(s, 'archived state');
    if (s.length > MAX_SESSION_STATE_BYTES) throw new RangeError('archived state is too long');
    size += 4 + s.length;
  }
  const w = new ByteWriter(size);
  w.u8(SESSION_RECORD_VERSION);
  if (current === undefined) w.u8(0);
  else w.u8(1).var32(current);
  w.u8(record.archived.length);
  for (const s of record.archived) w.var32(s);
  return w.finish();
}

/**
 * Decodes a record. The current state is decoded and checked in full; archived states are
 * returned encoded (views into `bytes`, checked when decoded with {@link decodeSessionState}).
 *
 * @throws {StateCorruptError} on any violation of the layout or its limits.
 * @example
 * const record = decodeSessionRecord(await store.get('session', key));
 */
export function decodeSessionRecord(bytes: Uint8Array): SessionRecord {
  assertBytes(bytes, 'bytes');
  let offset = 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (n: number): void => {
    if (offset + n > bytes.length) throw corrupt('session record is truncated');
  };
  const readBlob = (): Uint8Array => {
    need(4);
    const length = view.getUint32(offset);
    offset += 4;
    if (length < 1 + BASE_KEY_BYTES || length > MAX_SESSION_STATE_BYTES) {
      throw corrupt('session record holds a state of invalid length');
    }
    need(length);
    const blob = bytes.subarray(offset, offset + length);
    offset += length;
    if (blob[0] !== SESSION_STATE_VERSION) throw corrupt('unknown session state version');
    return blob;
  };
  need(2);
  if (bytes[0] !== SESSION_RECORD_VERSION) throw corrupt('unknown session record version');
  const hasCurrent = bytes[1]!;
  offset = 2;
  if (hasCurrent > 1) throw corrupt('session record has an invalid flag');
  const current = hasCurrent === 1 ? decodeSessionState(readBlob()) : null;
  need(1);
  const count = bytes[offset++]!;
  if (count > MAX_ARCHIVED_STATES) throw corrupt('session record has too many archived states');
  const archived: Uint8Array[] = [];
  for (let i = 0; i < count; i++) archived.push(readBlob());
  if (offset !== bytes.length) throw corrupt('session record has trailing bytes');
  return { current, archived };
}

/**
 * Puts `encodedState` at the head of an archive, dropping the oldest beyond 40 (design §5).
 *
 * @example
 * const archived = archiveState(record.archived, encodeSessionState(record.current));
 */
export function archiveState(
  archived: readonly Uint8Array[],
  encodedState: Uint8Array,
): Uint8Array[] {
  const next = [encodedState, ...archived];
  if (next.length > MAX_ARCHIVED_STATES) next.length = MAX_ARCHIVED_STATES;
  return next;
}
