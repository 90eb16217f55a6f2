/**
 * Session-record transitions without storage (PROTOCOL.md §5; docs/PROTOCOL.md §5.4):
 * which state of a record opens an incoming message, where it goes afterwards, and what an
 * outgoing message looks like. `session-cipher.ts` adds the store, the locks and the key
 * agreement around these.
 *
 * Every function returns a new record and leaves its input untouched; the decoded states it
 * creates are listed in `touched` so the caller can wipe them once the result is encoded.
 */
import type { CryptoBackend, Rng } from '../crypto/backend.ts';
import {
  DecryptError,
  DuplicateMessageError,
  NoSessionError,
  SealpostError,
  TooManySkippedError,
} from '../errors.ts';
import type { StoreOp } from '../state/store.ts';
import { ArgumentRangeError } from '../util/argument-errors.ts';
import { assertBytes, equalBytes, wipe } from '../util/bytes.ts';
import {
  encodePrekeyMessage,
  IDENTITY_BUNDLE_BYTES,
  MESSAGE_TYPE_PREKEY,
  MESSAGE_TYPE_RATCHET,
  type MessageType,
  type PrekeyMessage,
} from '../wire/messages.ts';
import {
  type DecryptLimits,
  initBob,
  MAX_ARCHIVED_SKIP,
  MAX_SKIP,
  MAX_SKIP_PER_MESSAGE,
  type RatchetKeyPair,
  ratchetDecrypt,
  ratchetEncrypt,
  type SkipBudget,
  wipeRatchetState,
} from './ratchet.ts';
import {
  archiveState,
  decodeSessionState,
  encodedStateHasBaseKey,
  encodedStateHasIdentity,
  encodeSessionState,
  retainIdentity,
  type SessionRecord,
  type SessionState,
} from './session-record.ts';

/**
 * What an incoming message may use: only states bound to `pin` (the peer device's pinned
 * identity, when there is one; docs/PROTOCOL.md §9.6), within one shared skip budget (§5.2.5),
 * with the jump limit of a current or of an archived state.
 */
export interface OpenGuard {
  readonly pin: Uint8Array | undefined;
  readonly budget: SkipBudget;
  readonly current: DecryptLimits;
  readonly archived: DecryptLimits;
}

/**
 * A fresh guard for one incoming message.
 *
 * @example const outcome = await openRatchetMessage(backend, rng, record, body, touched, openGuard(pin));
 */
export function openGuard(pin?: Uint8Array): OpenGuard {
  const budget = { remaining: MAX_SKIP_PER_MESSAGE };
  return {
    pin,
    budget,
    current: { maxJump: MAX_SKIP, budget },
    archived: { maxJump: MAX_ARCHIVED_SKIP, budget },
  };
}

/** Whether a state's remote identity is `pin` (any identity without a pin). */
function boundTo(identity: Uint8Array, pin: Uint8Array | undefined): boolean {
  return pin === undefined || equalBytes(identity, pin);
}

/** Whether an encoded archived state is bound to `pin` (any without a pin). */
function archivedBoundTo(encoded: Uint8Array, pin: Uint8Array | undefined): boolean {
  return pin === undefined || encodedStateHasIdentity(encoded, pin);
}

/** What the responder side of PQXDH hands back for a new session (PROTOCOL.md §4). */
export interface KeyAgreementResponse {
  /** PQXDH SK (32 bytes); wiped once the ratchet is initialised. */
  readonly sk: Uint8Array;
  /** PQXDH AD, `IdentityBundle_A || IdentityBundle_B` (344 bytes). */
  readonly ad: Uint8Array;
  /** The signed prekey pair named by the message; it becomes the responder's first DHs. */
  readonly spkKeyPair: RatchetKeyPair;
  /** Deletions of the consumed one-time prekeys, committed with the new session. */
  readonly consumedPrekeyOps: readonly StoreOp[];
}

/** A peer device. Its session record lives at `session` / `${address}.${deviceId}`. */
export interface PeerAddress {
  readonly address: string;
  readonly deviceId: number;
}

/**
 * The PQXDH responder, injected so the session cipher stays independent of prekey storage. `respond`
 * must verify the initiator's `IdentityBundle` (and that it belongs to `peer.address`), load
 * the named prekeys, compute SK and AD, and describe (not perform) the one-time prekey
 * deletions. It is called only for a prekey message that matches no stored session.
 */
export interface KeyAgreement {
  respond(request: {
    readonly peer: PeerAddress;
    readonly message: PrekeyMessage;
  }): Promise<KeyAgreementResponse>;
}

/** The state that opened a message, and where it came from. */
export interface OpenOutcome {
  readonly state: SessionState;
  readonly plaintext: Uint8Array;
  /** The current state, an archived one (promoted), or a session created by a prekey message. */
  readonly source: 'current' | 'archived' | 'new';
  /** Index in the archive when `source` is `archived`, else -1. */
  readonly archivedIndex: number;
  /** Store ops from the key agreement (consumed prekeys); empty unless `source` is `new`. */
  readonly consumed: readonly StoreOp[];
}

/** Secrets decoded during a call; wipe them with {@link wipeTouched} after encoding. */
export type Touched = (SessionState | null | undefined)[];

/**
 * Splits a PQXDH AD into the initiator's and the responder's `IdentityBundle` (PROTOCOL.md §4).
 *
 * @throws {ArgumentTypeError | ArgumentRangeError} unless `ad` is 344 bytes.
 * @example
 * const { initiator, responder } = splitAssociatedData(ad);
 */
export function splitAssociatedData(ad: Uint8Array): {
  initiator: Uint8Array;
  responder: Uint8Array;
} {
  assertBytes(ad, 'ad', 2 * IDENTITY_BUNDLE_BYTES);
  return {
    initiator: ad.slice(0, IDENTITY_BUNDLE_BYTES),
    responder: ad.slice(IDENTITY_BUNDLE_BYTES),
  };
}

/**
 * Zeroes the ratchet secrets of every state in `touched` (best effort).
 *
 * @example
 * try { ... } finally { wipeTouched(touched); }
 */
export function wipeTouched(touched: Touched): void {
  for (const state of touched) if (state) wipeRatchetState(state.ratchet);
}

async function openWith(
  backend: CryptoBackend,
  rng: Rng,
  state: SessionState,
  ratchetBytes: Uint8Array,
  limits: DecryptLimits,
): Promise<{ state: SessionState; plaintext: Uint8Array }> {
  const result = await ratchetDecrypt(backend, rng, state.ratchet, ratchetBytes, limits);
  // PROTOCOL.md §5: a message from the peer acknowledges the session; stop sending prekey messages.
  return {
    state: { ...state, ratchet: result.state, pendingPrekey: null },
    plaintext: result.plaintext,
  };
}

/**
 * Opens a ratchet message with the current state, then each archived state (newest first),
 * as libsignal does, skipping every state not bound to `guard.pin` and charging every chain
 * walk to `guard.budget`. A duplicate is definitive: only the state holding that chain can
 * say so.
 *
 * @throws {NoSessionError} if the record holds no state (bound to the pin) at all.
 * @throws {DuplicateMessageError} if the state holding the chain already used the counter.
 * @throws {TooManySkippedError} if no state opened it and one refused the jump.
 * @throws {DecryptError} if no state opened it.
 * @throws {StateCorruptError} if an archived state does not decode.
 * @example
 * const outcome = await openRatchetMessage(backend, rng, record, body, touched, openGuard(pin));
 */
export async function openRatchetMessage(
  backend: CryptoBackend,
  rng: Rng,
  record: SessionRecord | null,
  body: Uint8Array,
  touched: Touched,
  guard: OpenGuard = openGuard(),
): Promise<OpenOutcome> {
  const pin = guard.pin;
  const current =
    record?.current && boundTo(record.current.remoteIdentity, pin) ? record.current : null;
  let usable = current !== null;
  for (let i = 0; !usable && record && i < record.archived.length; i++) {
    usable = archivedBoundTo(record.archived[i]!, pin);
  }
  if (!usable) throw new NoSessionError();
  let tooFar = false;
  if (current) {
    try {
      const opened = await openWith(backend, rng, current, body, guard.current);
      return { ...opened, source: 'current', archivedIndex: -1, consumed: [] };
    } catch (error) {
      tooFar = triedState(error) || tooFar;
    }
  }
  for (let i = 0; i < record!.archived.length; i++) {
    const encoded = record!.archived[i]!;
    if (!archivedBoundTo(encoded, pin)) continue;
    const state = decodeSessionState(encoded);
    touched.push(state);
    try {
      const opened = await openWith(backend, rng, state, body, guard.archived);
      return { ...opened, source: 'archived', archivedIndex: i, consumed: [] };
    } catch (error) {
      tooFar = triedState(error) || tooFar;
    }
  }
  throw tooFar ? new TooManySkippedError() : new DecryptError();
}

/**
 * A state failed to open a ratchet message: rethrows what ends the search (a duplicate, or
 * anything that is not a protocol error), else says whether the state refused the jump.
 */
function triedState(error: unknown): boolean {
  if (error instanceof DuplicateMessageError || !(error instanceof SealpostError)) throw error;
  return error instanceof TooManySkippedError;
}

/**
 * Opens a prekey message. A stored state bound to `guard.pin` with the message's base key (a
 * repeated prekey message, PROTOCOL.md §5) opens it; otherwise `respond` runs the key
 * agreement and a new responder state opens it (its identity is the caller's to judge).
 *
 * @throws {DuplicateMessageError | TooManySkippedError | DecryptError} as for ratchet messages.
 * @throws {ArgumentRangeError} if the key agreement returns an AD that does not start with the
 *   message's identity.
 * @throws Whatever `respond` throws.
 * @example
 * const outcome = await openPrekeyMessage(backend, rng, record, message, respond, touched, guard);
 */
export async function openPrekeyMessage(
  backend: CryptoBackend,
  rng: Rng,
  record: SessionRecord | null,
  message: PrekeyMessage,
  respond: () => Promise<KeyAgreementResponse>,
  touched: Touched,
  guard: OpenGuard = openGuard(),
): Promise<OpenOutcome> {
  const pin = guard.pin;
  if (
    record?.current &&
    equalBytes(record.current.baseKey, message.baseKey) &&
    boundTo(record.current.remoteIdentity, pin)
  ) {
    const opened = await openWith(backend, rng, record.current, message.message, guard.current);
    return { ...opened, source: 'current', archivedIndex: -1, consumed: [] };
  }
  const index = record
    ? record.archived.findIndex(
        (s) => encodedStateHasBaseKey(s, message.baseKey) && archivedBoundTo(s, pin),
      )
    : -1;
  if (record && index >= 0) {
    const state = decodeSessionState(record.archived[index]!);
    touched.push(state);
    const opened = await openWith(backend, rng, state, message.message, guard.archived);
    return { ...opened, source: 'archived', archivedIndex: index, consumed: [] };
  }
  const agreed = await respond();
  let fresh: SessionState;
  try {
    const { initiator, responder } = splitAssociatedData(agreed.ad);
    if (!equalBytes(initiator, message.identity)) {
      throw new ArgumentRangeError('key agreement AD must start with the initiator identity');
    }
    fresh = {
      ratchet: initBob(agreed.sk, agreed.ad, agreed.spkKeyPair),
      remoteIdentity: initiator,
      localIdentity: responder,
      baseKey: message.baseKey.slice(),
      pendingPrekey: null,
    };
  } finally {
    wipe(agreed.sk);
  }
  // The responder's first step is always a DH ratchet step, so the opened state shares no
  // secret with `fresh` and `fresh` can be wiped by the caller.
  touched.push(fresh);
  const opened = await openWith(backend, rng, fresh, message.message, guard.current);
  return {
    ...opened,
    source: 'new',
    archivedIndex: -1,
    consumed: agreed.consumedPrekeyOps,
  };
}

/**
 * The record after `outcome` (PROTOCOL.md §5): the state that opened the message becomes
 * current; a promoted archived state leaves the archive; the previous current state is
 * archived at the head unless it was the one that opened the message. A new session keeps
 * only the states bound to its own identity (a replaced device identity is dropped, §5.3).
 *
 * @example
 * const next = recordAfterOpen(record, outcome);
 */
export function recordAfterOpen(record: SessionRecord | null, outcome: OpenOutcome): SessionRecord {
  if (outcome.source === 'current' && record) {
    return { current: outcome.state, archived: record.archived };
  }
  const archived = record?.archived ?? [];
  const rest =
    outcome.source === 'archived'
      ? archived.filter((_, i) => i !== outcome.archivedIndex)
      : archived.slice();
  const next = {
    current: outcome.state,
    archived: record?.current ? archiveState(rest, encodeSessionState(record.current)) : rest,
  };
  if (outcome.source !== 'new') return next;
  const kept = retainIdentity(next, outcome.state.remoteIdentity);
  return { current: outcome.state, archived: kept.archived };
}

/**
 * Encrypts with the current state: a prekey message (`type 1`) while the initiator's
 * prekey fields are pending, else a ratchet message (`type 2`).
 *
 * @throws {NoSessionError} without a current state, or (with `pin`) one bound to another identity.
 * @throws {ArgumentRangeError} if `plaintext` exceeds 98,304 bytes.
 * @example
 * const { type, body, record: next } = encryptWithRecord(backend, record, plaintext);
 */
export function encryptWithRecord(
  backend: CryptoBackend,
  record: SessionRecord | null,
  plaintext: Uint8Array,
  pin?: Uint8Array,
): { type: MessageType; body: Uint8Array; record: SessionRecord } {
  const current = record?.current;
  if (!record || !current) throw new NoSessionError();
  // docs/PROTOCOL.md §9.6: never encrypt for an identity that is not the pinned one.
  if (pin !== undefined && !equalBytes(current.remoteIdentity, pin)) {
    throw new NoSessionError('no session with the pinned identity of this device');
  }
  const { state, message } = ratchetEncrypt(backend, current.ratchet, plaintext);
  const pending = current.pendingPrekey;
  const next = { current: { ...current, ratchet: state }, archived: record.archived };
  if (pending === null) return { type: MESSAGE_TYPE_RATCHET, body: message, record: next };
  const body = encodePrekeyMessage({
    identity: current.localIdentity,
    signedPrekeyId: pending.signedPrekeyId,
    oneTimePrekeyId: pending.oneTimePrekeyId,
    kemPrekeyId: pending.kemPrekeyId,
    kemCiphertext: pending.kemCiphertext,
    baseKey: pending.baseKey,
    message,
  });
  return { type: MESSAGE_TYPE_PREKEY, body, record: next };
}
