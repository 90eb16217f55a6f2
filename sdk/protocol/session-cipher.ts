/**
 * The session cipher: Double Ratchet sessions per peer device over the state store port
 * (docs/PROTOCOL.md §5.4). The sealed-sender layer and the client call this, never
 * the ratchet directly.
 *
 * Crash safety is the design (docs/PROTOCOL.md §5.5): operations read the stored record and return
 * the store ops that persist the advanced record instead of writing it. A sender commits
 * those ops before the ciphertext leaves the device (a message key is never reused, even
 * after a crash); a receiver commits them together with its own bookkeeping (the seen message
 * id, the stored plaintext) in one atomic commit, so a crash before the commit means the
 * message decrypts again on redelivery and a crash after it means a duplicate.
 */
import { type CryptoBackend, type Rng, systemRng } from '../crypto/backend.ts';
import type { StateStore, StoreOp } from '../state/store.ts';
import { ArgumentTypeError } from '../util/argument-errors.ts';
import { assertBytes } from '../util/bytes.ts';
import {
  decodePrekeyMessage,
  decodeRatchetMessage,
  MESSAGE_TYPE_PREKEY,
  MESSAGE_TYPE_RATCHET,
  type MessageType,
} from '../wire/messages.ts';
import type { PinSource } from './pin-cache.ts';
import { wipeRatchetState } from './ratchet.ts';
import {
  encryptWithRecord,
  type KeyAgreement,
  openGuard,
  openPrekeyMessage,
  openRatchetMessage,
  type PeerAddress,
  recordAfterOpen,
  type Touched,
} from './ratchet-session.ts';
import { sessionRecords } from './records.ts';
import type { DecryptResult, EncryptResult, SessionCipherOptions } from './session-cipher-types.ts';
import { detach, type Holding, loadRecord, release, releaseHolding } from './session-holding.ts';
import {
  MAX_COMMIT_ATTEMPTS,
  retriesAfter,
  retryOnConflict,
  runExclusive,
  sessionKey,
} from './session-lock.ts';
import { commitOutgoing, type OutgoingSessionParams, outgoingState } from './session-outgoing.ts';
import { encodeSessionRecord, retainIdentity } from './session-record.ts';

export type { KeyAgreement, KeyAgreementResponse, PeerAddress } from './ratchet-session.ts';
export type { DecryptResult, EncryptResult, SessionCipherOptions } from './session-cipher-types.ts';
export { type Holding, releaseHolding } from './session-holding.ts';
export { MAX_COMMIT_ATTEMPTS, retryOnConflict, sessionKey } from './session-lock.ts';
export type { OutgoingSessionParams } from './session-outgoing.ts';

/**
 * Encrypts and decrypts for peer devices. `encrypt` and `decrypt` are the primitives: they
 * take no lock and return ops, so the caller must serialize operations on one peer and commit
 * (or drop) each result's ops before the next operation on that peer, e.g. inside
 * {@link SessionCipher.exclusive}. The `...AndCommit` methods do that themselves.
 *
 * @example
 * const cipher = new SessionCipher({ store, backend: defaultBackend, keyAgreement });
 * const { type, body } = await cipher.encryptAndCommit(peer, plaintext);
 * const received = await cipher.decryptAndCommit(peer, type, body, async (r) => [seenOp]);
 */
export class SessionCipher {
  private readonly store: StateStore;
  private readonly backend: CryptoBackend;
  private readonly keyAgreement: KeyAgreement;
  private readonly rng: Rng;
  private readonly commit: (ops: readonly StoreOp[]) => Promise<void>;

  constructor(options: SessionCipherOptions) {
    this.store = options.store;
    this.backend = options.backend;
    this.keyAgreement = options.keyAgreement;
    this.rng = options.rng ?? systemRng;
    const store = this.store;
    this.commit = options.commit ?? ((ops) => store.commit(ops));
  }

  /**
   * Runs `task` while no other `exclusive` / `...AndCommit` / `initOutgoing` call for the same
   * peer (on any cipher over this store) runs. Not reentrant: do not call the locking methods
   * for the same peer from inside `task`.
   *
   * @example
   * await cipher.exclusive(peer, async () => {
   *   const r = await cipher.decrypt(peer, type, body);
   *   await store.commit([...r.ops, seenOp]);
   * });
   */
  async exclusive<T>(peer: PeerAddress, task: () => Promise<T>): Promise<T> {
    return runExclusive(this.store, sessionKey(peer), task);
  }

  /**
   * Whether a current session exists with `peer`.
   *
   * @throws {StateCorruptError} if the stored record does not decode.
   * @example
   * if (!(await cipher.hasSession(peer))) await startPqxdh(peer);
   */
  async hasSession(peer: PeerAddress): Promise<boolean> {
    const { record, raw } = await loadRecord(this.store, sessionKey(peer));
    const result = record?.current != null;
    release(raw, [record?.current]);
    return result;
  }

  /**
   * The peer's `IdentityBundle` in the current session, or undefined without one.
   *
   * @throws {StateCorruptError} if the stored record does not decode.
   * @example
   * const identity = await cipher.remoteIdentity(peer);
   */
  async remoteIdentity(peer: PeerAddress): Promise<Uint8Array | undefined> {
    const { record, raw } = await loadRecord(this.store, sessionKey(peer));
    const identity = record?.current?.remoteIdentity.slice();
    release(raw, [record?.current]);
    return identity;
  }

  /**
   * Creates and commits the initiator's session from a completed PQXDH initiation
   * (docs/PROTOCOL.md §5.2.2), archiving any current session bound to the same identity and dropping every state
   * bound to another (docs/PROTOCOL.md §5.3). Its messages are prekey messages until the peer's
   * first message is decrypted. `extraOps` (e.g. the new pin) land in the same atomic commit.
   *
   * @throws {ArgumentTypeError | ArgumentRangeError} on wrong-sized inputs, invalid prekey ids or an AD that is
   *   not `IdentityBundle_A || remoteIdentity`.
   * @throws {InvalidKeyError} if `remoteSpkPublic` is of low order.
   * @throws {StateCorruptError} if the stored record does not decode.
   * @throws {StoreConflictError} if the commit kept losing to another writer (§9.1).
   * @example
   * await cipher.initOutgoing(peer, { sk, ad, remoteSpkPublic, remoteIdentity, pendingPrekey });
   */
  async initOutgoing(
    peer: PeerAddress,
    params: OutgoingSessionParams,
    extraOps: readonly StoreOp[] = [],
  ): Promise<void> {
    const key = sessionKey(peer);
    const state = await outgoingState(this.backend, this.rng, params);
    try {
      await runExclusive(this.store, key, () =>
        commitOutgoing(this.store, this.commit, key, state, extraOps),
      );
    } finally {
      wipeRatchetState(state.ratchet);
    }
  }

  /**
   * Encrypts `plaintext` for `peer`: a prekey message (`type 1`) while the session is still
   * unacknowledged, else a ratchet message (`type 2`). Commit `ops` before sending `body`.
   * Takes no lock (see the class note).
   *
   * The op is conditional on the record being unchanged since it was read (`expect`), so of
   * two writers that read the same state only one can commit its message key (§9.1).
   *
   * @throws {NoSessionError} without a current session, or (with `pin`) if the current session
   *   is bound to another identity than `pin`.
   * @throws {ArgumentRangeError} if `plaintext` exceeds 98,304 bytes.
   * @throws {StateCorruptError} if the stored record does not decode.
   * @example
   * const { type, body, ops } = await cipher.encrypt(peer, plaintext);
   * await store.commit(ops);
   * await send(type, body);
   */
  async encrypt(
    peer: PeerAddress,
    plaintext: Uint8Array,
    pin?: Uint8Array,
  ): Promise<EncryptResult> {
    const held = await this.encryptHolding(peer, plaintext, pin);
    try {
      return { type: held.type, body: held.body, ops: detach(held.ops) };
    } finally {
      releaseHolding(held);
    }
  }

  /** {@link encrypt} whose ops' expectation is the loaded record itself, until released. */
  private async encryptHolding(
    peer: PeerAddress,
    plaintext: Uint8Array,
    pin: Uint8Array | undefined,
  ): Promise<Holding<EncryptResult>> {
    const key = sessionKey(peer);
    const { record, raw, expect } = await loadRecord(this.store, key);
    const touched: Touched = [record?.current];
    try {
      const result = encryptWithRecord(this.backend, record, plaintext, pin);
      touched.push(result.record.current);
      const value = encodeSessionRecord(result.record);
      const ops: StoreOp[] = [sessionRecords.put(key, value, expect)];
      return { type: result.type, body: result.body, ops, loaded: { raw, touched } };
    } catch (error) {
      release(raw, touched);
      throw error;
    }
  }

  /**
   * {@link encrypt} and commit, under the peer's lock. The returned body may be sent at once.
   * A commit lost to another writer of the store is retried on the fresh state (bounded). With
   * `pin`, only a session bound to the pin it reads is used, and the commit is conditional on
   * the pin too; an attempt whose pin may have been stale is repeated on a fresh one.
   *
   * @throws Same as {@link encrypt}, plus whatever the store's commit throws
   *   ({@link StoreConflictError} after {@link MAX_COMMIT_ATTEMPTS} lost races).
   * @example
   * const { type, body } = await cipher.encryptAndCommit(peer, plaintext);
   */
  encryptAndCommit(
    peer: PeerAddress,
    plaintext: Uint8Array,
    pin?: PinSource,
  ): Promise<{ type: MessageType; body: Uint8Array }> {
    return this.exclusive(peer, async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          const read = pin?.read();
          const pinned = read instanceof Promise ? await read : read;
          const held = await this.encryptHolding(peer, plaintext, pinned?.pin);
          try {
            await this.commit(pinned ? [...held.ops, pinned.check] : held.ops);
            return { type: held.type, body: held.body };
          } finally {
            releaseHolding(held);
          }
        } catch (error) {
          if (retriesAfter(error, attempt)) continue;
          // Any other failure may come from a stale pin held in memory: once more, read afresh.
          if (attempt >= MAX_COMMIT_ATTEMPTS || (await pin?.stale()) !== true) throw error;
        }
      }
    });
  }

  /**
   * The op that drops every state of `peer`'s record not bound to `identity` (conditional on
   * the record as read), or none if nothing would change.
   *
   * @throws {StateCorruptError} if the stored record does not decode.
   * @example
   * await store.commit([pinOp, ...(await cipher.retainIdentityOps(peer, newPin))]);
   */
  async retainIdentityOps(peer: PeerAddress, identity: Uint8Array): Promise<StoreOp[]> {
    const key = sessionKey(peer);
    const { record, raw, expect } = await loadRecord(this.store, key);
    try {
      if (record === null) return [];
      const next = retainIdentity(record, identity);
      if (next.current === record.current && next.archived.length === record.archived.length)
        return [];
      const value =
        next.current === null && next.archived.length === 0 ? null : encodeSessionRecord(next);
      return [sessionRecords.put(key, value, expect?.slice() ?? null)];
    } finally {
      release(raw, [record?.current]);
    }
  }

  /**
   * Decrypts a message from `peer`. A prekey message whose base key matches a stored session
   * reuses it; otherwise the key agreement creates a new session and the current one is
   * archived. A ratchet message tries the current session, then the archived ones, promoting
   * the one that opens it (PROTOCOL.md §5). Nothing is written: commit `ops` (new record, consumed
   * prekeys) with your own ops once the plaintext is durably processed. Takes no lock. With
   * `pin`, only states bound to that identity are tried; every chain walk of the message is
   * charged to one budget across all states (docs/PROTOCOL.md §5.2.5). The session op is
   * conditional on the record being unchanged since it was read.
   *
   * @throws {MalformedEnvelopeError | UnsupportedVersionError} if `body` does not parse.
   * @throws {NoSessionError} for a ratchet message without any session.
   * @throws {DuplicateMessageError} if the message was already decrypted.
   * @throws {TooManySkippedError} if it jumps further than the state's limit or the budget.
   * @throws {DecryptError} if it opens under no session.
   * @throws {StateCorruptError} if the stored record does not decode.
   * @throws Whatever {@link KeyAgreement.respond} throws (e.g. `PrekeyNotFoundError`).
   * @example
   * const { plaintext, ops } = await cipher.decrypt(peer, type, body);
   * await store.commit([...ops, seenOp]);
   */
  async decrypt(
    peer: PeerAddress,
    type: MessageType,
    body: Uint8Array,
    pin?: Uint8Array,
  ): Promise<DecryptResult> {
    const held = await this.decryptHolding(peer, type, body, pin);
    try {
      const { plaintext, remoteIdentity, sessionCreated } = held;
      return { plaintext, remoteIdentity, sessionCreated, ops: detach(held.ops) };
    } finally {
      releaseHolding(held);
    }
  }

  /**
   * {@link decrypt} whose session op's expectation is the loaded record itself: commit (or
   * drop) the ops, then call {@link releaseHolding}, which wipes the loaded secrets. Internal to the SDK
   * (the engine commits a received message this way without a copy of the record).
   *
   * @throws Same as {@link decrypt}.
   * @example
   * const held = await cipher.decryptHolding(peer, type, body, pin);
   * try { await store.commit(held.ops); } finally { releaseHolding(held); }
   */
  async decryptHolding(
    peer: PeerAddress,
    type: MessageType,
    body: Uint8Array,
    pin?: Uint8Array,
  ): Promise<Holding<DecryptResult>> {
    const key = sessionKey(peer);
    assertBytes(body, 'body');
    if (type !== MESSAGE_TYPE_PREKEY && type !== MESSAGE_TYPE_RATCHET) {
      throw new ArgumentTypeError('type must be 1 (prekey) or 2 (ratchet)');
    }
    // Parse first: malformed input fails the same way with or without a session.
    const prekey = type === MESSAGE_TYPE_PREKEY ? decodePrekeyMessage(body) : undefined;
    if (!prekey) decodeRatchetMessage(body);
    const { record, raw, expect } = await loadRecord(this.store, key);
    const touched: Touched = [record?.current];
    const guard = openGuard(pin);
    try {
      const outcome = prekey
        ? await openPrekeyMessage(
            this.backend,
            this.rng,
            record,
            prekey,
            () => this.keyAgreement.respond({ peer, message: prekey }),
            touched,
            guard,
          )
        : await openRatchetMessage(this.backend, this.rng, record, body, touched, guard);
      touched.push(outcome.state);
      const value = encodeSessionRecord(recordAfterOpen(record, outcome));
      return {
        plaintext: outcome.plaintext,
        remoteIdentity: outcome.state.remoteIdentity.slice(),
        sessionCreated: outcome.source === 'new',
        ops: [...outcome.consumed, sessionRecords.put(key, value, expect)],
        loaded: { raw, touched },
      };
    } catch (error) {
      release(raw, touched);
      throw error;
    }
  }

  /**
   * {@link decrypt} under the peer's lock, then one atomic commit of its ops plus the ops
   * `handle` returns. `handle` is where the plaintext is durably processed; if it throws,
   * nothing is committed and the message will decrypt again on redelivery. If the commit loses
   * a race with another writer, the message is decrypted again on the fresh state and `handle`
   * runs again (as on a redelivery; bounded by {@link MAX_COMMIT_ATTEMPTS}).
   *
   * @throws Same as {@link decrypt}, whatever `handle` throws, and the store's commit errors.
   * @example
   * await cipher.decryptAndCommit(peer, type, body, async ({ plaintext }) => {
   *   await inbox.save(plaintext);
   *   return [{ ns: 'seen', key: messageId, value: new Uint8Array(0) }];
   * });
   */
  decryptAndCommit(
    peer: PeerAddress,
    type: MessageType,
    body: Uint8Array,
    handle?: (
      result: DecryptResult,
    ) => readonly StoreOp[] | undefined | Promise<readonly StoreOp[] | undefined>,
  ): Promise<DecryptResult> {
    return this.exclusive(peer, () =>
      retryOnConflict(async () => {
        const held = await this.decryptHolding(peer, type, body);
        try {
          const { plaintext, remoteIdentity, sessionCreated } = held;
          const result = { plaintext, remoteIdentity, sessionCreated, ops: held.ops };
          const extra = handle ? await handle(result) : undefined;
          await this.commit(extra ? [...held.ops, ...extra] : held.ops);
          return { ...result, ops: detach(held.ops) };
        } finally {
          releaseHolding(held);
        }
      }),
    );
  }
}
