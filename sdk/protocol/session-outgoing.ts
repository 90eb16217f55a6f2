/**
 * What starting an outgoing session takes from a completed PQXDH initiation, and its checks
 * (docs/PROTOCOL.md §3, §4): the AD must name the identity the session is bound to, and the
 * pending prekey fields must be of the sizes and id ranges a prekey message carries.
 */
import type { CryptoBackend, Rng } from '../crypto/backend.ts';
import type { InvalidKeyError } from '../errors.ts';
import type { StateStore, StoreOp } from '../state/store.ts';
import { ArgumentRangeError } from '../util/argument-errors.ts';
import { assertBytes, equalBytes } from '../util/bytes.ts';
import { BASE_KEY_BYTES, IDENTITY_BUNDLE_BYTES, KEM_CIPHERTEXT_BYTES } from '../wire/messages.ts';
import { initAlice } from './ratchet.ts';
import { splitAssociatedData } from './ratchet-session.ts';
import { sessionRecords } from './records.ts';
import { loadRecord, release } from './session-holding.ts';
import { retryOnConflict } from './session-lock.ts';
import {
  archiveState,
  encodeSessionRecord,
  encodeSessionState,
  type PendingPrekey,
  retainIdentity,
  type SessionState,
} from './session-record.ts';

/** Everything `SessionCipher.initOutgoing` needs from a completed PQXDH initiation. */
export interface OutgoingSessionParams {
  readonly sk: Uint8Array;
  /** `IdentityBundle_A (ours) || IdentityBundle_B (theirs)`, 344 bytes. */
  readonly ad: Uint8Array;
  readonly remoteSpkPublic: Uint8Array;
  readonly remoteIdentity: Uint8Array;
  readonly pendingPrekey: PendingPrekey;
}

/**
 * Checks `params` and returns the two identities of its AD and a private copy of the pending
 * prekey fields.
 *
 * @throws {ArgumentTypeError | ArgumentRangeError} on wrong-sized inputs, invalid prekey ids or an AD that is
 *   not `IdentityBundle_A || remoteIdentity`.
 * @example const { initiator, responder, pendingPrekey } = checkOutgoing(params);
 */
export function checkOutgoing(params: OutgoingSessionParams): {
  initiator: Uint8Array;
  responder: Uint8Array;
  pendingPrekey: PendingPrekey;
} {
  const { initiator, responder } = splitAssociatedData(params.ad);
  assertBytes(params.remoteIdentity, 'remoteIdentity', IDENTITY_BUNDLE_BYTES);
  if (!equalBytes(responder, params.remoteIdentity)) {
    throw new ArgumentRangeError('ad must be IdentityBundle_A || remoteIdentity');
  }
  const p = params.pendingPrekey;
  assertBytes(p.kemCiphertext, 'pendingPrekey.kemCiphertext', KEM_CIPHERTEXT_BYTES);
  assertBytes(p.baseKey, 'pendingPrekey.baseKey', BASE_KEY_BYTES);
  // PROTOCOL.md §3: prekey ids are u32 and never 0; 0 only means "no one-time prekey".
  for (const [name, id, zeroAllowed] of [
    ['signedPrekeyId', p.signedPrekeyId, false],
    ['oneTimePrekeyId', p.oneTimePrekeyId, true],
    ['kemPrekeyId', p.kemPrekeyId, false],
  ] as const) {
    if (!Number.isInteger(id) || id < (zeroAllowed ? 0 : 1) || id > 0xffffffff) {
      throw new ArgumentRangeError(`pendingPrekey.${name} is not a valid prekey id`);
    }
  }
  const pendingPrekey: PendingPrekey = {
    signedPrekeyId: p.signedPrekeyId,
    oneTimePrekeyId: p.oneTimePrekeyId,
    kemPrekeyId: p.kemPrekeyId,
    kemCiphertext: p.kemCiphertext.slice(),
    baseKey: p.baseKey.slice(),
  };
  return { initiator, responder, pendingPrekey };
}

/**
 * The initiator's first session state from a completed PQXDH initiation (docs/PROTOCOL.md
 * §5.2.2), after {@link checkOutgoing}. The caller wipes its ratchet when done.
 *
 * @throws Same as {@link checkOutgoing}, plus {@link InvalidKeyError} if `remoteSpkPublic` is of
 *   low order.
 * @example const state = await outgoingState(backend, rng, params);
 */
export async function outgoingState(
  backend: CryptoBackend,
  rng: Rng,
  params: OutgoingSessionParams,
): Promise<SessionState> {
  const { initiator, responder, pendingPrekey } = checkOutgoing(params);
  const ratchet = await initAlice(backend, rng, params.sk, params.ad, params.remoteSpkPublic);
  return {
    ratchet,
    remoteIdentity: responder,
    localIdentity: initiator,
    baseKey: pendingPrekey.baseKey,
    pendingPrekey,
  };
}

/**
 * Commits `state` as the current session of record `key`, archiving a current session bound to
 * the same identity and dropping every state bound to another (docs/PROTOCOL.md §5.3), with
 * `extraOps` in the same commit; retried on a lost conditional commit (§9.1). Call under the
 * peer's lock.
 *
 * @throws {StateCorruptError} if the stored record does not decode.
 * @throws {StoreConflictError} if the commit kept losing to another writer.
 * @example await commitOutgoing(store, (ops) => store.commit(ops), key, state, pinOps);
 */
export function commitOutgoing(
  store: StateStore,
  commit: (ops: readonly StoreOp[]) => Promise<void>,
  key: string,
  state: SessionState,
  extraOps: readonly StoreOp[],
): Promise<void> {
  return retryOnConflict(async () => {
    const { record, raw, expect } = await loadRecord(store, key);
    try {
      const previous = record ? retainIdentity(record, state.remoteIdentity) : null;
      const archived = previous?.current
        ? archiveState(previous.archived, encodeSessionState(previous.current))
        : (previous?.archived ?? []);
      const value = encodeSessionRecord({ current: state, archived });
      await commit([sessionRecords.put(key, value, expect), ...extraOps]);
    } finally {
      release(raw, [record?.current]);
    }
  });
}
