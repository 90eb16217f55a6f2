/**
 * Session state and session record codecs (docs/PROTOCOL.md §5.3). A record is what
 * the store keeps per peer device (`session` namespace, key `${address}.${deviceId}`): the
 * current session state and up to 40 archived ones (PROTOCOL.md §5).
 *
 * Archived states stay encoded (as libsignal keeps its previous sessions serialized): a
 * message normally touches only the current state, so a full archive costs a copy, not 40
 * decodes. Every byte is checked when a state is decoded; any violation is a
 * `StateCorruptError`.
 */

import { ArgumentRangeError } from '../util/argument-errors.ts';
import { assertBytes, ByteWriter, equalBytes, readU32be } from '../util/bytes.ts';
import { BASE_KEY_BYTES, IDENTITY_BUNDLE_BYTES } from '../wire/messages.ts';
import {
  corrupt,
  type DecodeStateOptions,
  decodeSessionState,
  MAX_SESSION_STATE_BYTES,
  planState,
  SESSION_STATE_VERSION,
  writeState,
} from './ratchet-state-codec.ts';

export {
  type DecodeStateOptions,
  decodeSessionState,
  encodeSessionState,
  MAX_ASSOCIATED_DATA_BYTES,
  MAX_SESSION_STATE_BYTES,
  SESSION_STATE_VERSION,
} from './ratchet-state-codec.ts';

import type { SessionState } from './session-state.ts';

export type { PendingPrekey, SessionState } from './session-state.ts';

/** Version byte of an encoded record. */
export const SESSION_RECORD_VERSION = 1;
/** Archived states kept per peer device; the oldest is dropped (PROTOCOL.md §5). */
export const MAX_ARCHIVED_STATES = 40;

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
 * Whether an encoded state is bound to the peer identity `identity` (its `remoteIdentity`,
 * read at its fixed offset after the version and base key, without decoding the state).
 *
 * @example
 * const kept = record.archived.filter((s) => encodedStateHasIdentity(s, pinned));
 */
export function encodedStateHasIdentity(encoded: Uint8Array, identity: Uint8Array): boolean {
  const at = 1 + BASE_KEY_BYTES;
  if (encoded.length < at + IDENTITY_BUNDLE_BYTES || identity.length !== IDENTITY_BUNDLE_BYTES)
    return false;
  for (let i = 0; i < IDENTITY_BUNDLE_BYTES; i++) if (encoded[at + i] !== identity[i]) return false;
  return true;
}

/**
 * The record with only the states bound to `identity` (docs/PROTOCOL.md §5.3: a record never
 * holds states of two identities of one device, so a replaced identity cannot be revived).
 *
 * @example
 * const next = retainIdentity(record, newPin);
 */
export function retainIdentity(record: SessionRecord, identity: Uint8Array): SessionRecord {
  const current =
    record.current !== null && equalBytes(record.current.remoteIdentity, identity)
      ? record.current
      : null;
  return { current, archived: record.archived.filter((s) => encodedStateHasIdentity(s, identity)) };
}

/**
 * Encodes a record: `u8 version=1 || u8 hasCurrent || [u32 len || state] || u8 archivedCount
 * || archivedCount × (u32 len || state)`.
 *
 * @throws {ArgumentTypeError | ArgumentRangeError} on more than 40 archived states or an invalid state.
 * @example
 * const op = { ns: 'session', key: `${address}.${deviceId}`, value: encodeSessionRecord(record) };
 */
export function encodeSessionRecord(record: SessionRecord): Uint8Array {
  if (record.archived.length > MAX_ARCHIVED_STATES)
    throw new ArgumentRangeError('too many archived');
  const current = record.current === null ? undefined : planState(record.current);
  let size = 3 + (current === undefined ? 0 : 4 + current.size);
  for (const s of record.archived) {
    assertBytes(s, 'archived state');
    if (s.length > MAX_SESSION_STATE_BYTES)
      throw new ArgumentRangeError('archived state is too long');
    size += 4 + s.length;
  }
  const w = new ByteWriter(size);
  w.u8(SESSION_RECORD_VERSION);
  w.u8(current === undefined ? 0 : 1);
  if (current !== undefined) {
    w.u32(current.size);
    writeState(current, w);
  }
  w.u8(record.archived.length);
  for (const s of record.archived) {
    w.u32(s.length);
    w.bytes(s);
  }
  return w.finish();
}

/**
 * Decodes a record. The current state is decoded and checked in full; archived states are
 * returned encoded (views into `bytes`, checked when decoded with {@link decodeSessionState}).
 * With `options.inPlace` the current state's fields are views into `bytes` too (for a caller
 * that owns `bytes` and wipes it after use; see {@link DecodeStateOptions}).
 *
 * @throws {StateCorruptError} on any violation of the layout or its limits.
 * @example
 * const record = decodeSessionRecord(await store.get('session', key));
 */
export function decodeSessionRecord(
  bytes: Uint8Array,
  options: DecodeStateOptions = {},
): SessionRecord {
  assertBytes(bytes, 'bytes');
  if (bytes.length < 2) throw corrupt('session record is truncated');
  if (bytes[0] !== SESSION_RECORD_VERSION) throw corrupt('unknown session record version');
  const hasCurrent = bytes[1]!;
  if (hasCurrent > 1) throw corrupt('session record has an invalid flag');
  let offset = 2;
  let current: SessionState | null = null;
  if (hasCurrent === 1) {
    const blob = readStateBlob(bytes, offset);
    offset += 4 + blob.length;
    current = decodeSessionState(blob, options);
  }
  if (offset + 1 > bytes.length) throw corrupt('session record is truncated');
  const count = bytes[offset++]!;
  if (count > MAX_ARCHIVED_STATES) throw corrupt('session record has too many archived states');
  const archived: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const blob = readStateBlob(bytes, offset);
    offset += 4 + blob.length;
    archived.push(blob);
  }
  if (offset !== bytes.length) throw corrupt('session record has trailing bytes');
  return { current, archived };
}

/** The `u32 len || state` at `offset`, as a view (a plain function: this runs per message). */
function readStateBlob(bytes: Uint8Array, offset: number): Uint8Array {
  if (offset + 4 > bytes.length) throw corrupt('session record is truncated');
  const length = readU32be(bytes, offset);
  if (length < 1 + BASE_KEY_BYTES || length > MAX_SESSION_STATE_BYTES) {
    throw corrupt('session record holds a state of invalid length');
  }
  if (offset + 4 + length > bytes.length) throw corrupt('session record is truncated');
  const blob = bytes.subarray(offset + 4, offset + 4 + length);
  if (blob[0] !== SESSION_STATE_VERSION) throw corrupt('unknown session state version');
  return blob;
}

/**
 * Puts `encodedState` at the head of an archive, dropping the oldest beyond 40 (PROTOCOL.md §5).
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
