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
import { ArgumentRangeError, ArgumentTypeError } from '../util/argument-errors.ts';
import { assertBytes, wipe } from '../util/bytes.ts';
import {
  BASE_KEY_BYTES,
  decodePrekeyMessage,
  decodeRatchetMessage,
  IDENTITY_BUNDLE_BYTES,
  KEM_CIPHERTEXT_BYTES,
  MESSAGE_TYPE_PREKEY,
  MESSAGE_TYPE_RATCHET,
  type MessageType,
} from '../wire/messages.ts';
import { initAlice, wipeRatchetState } from './ratchet.ts';
import {
  encryptWithRecord,
  type KeyAgreement,
  openGuard,
  openPrekeyMessage,
  openRatchetMessage,
  type PeerAddress,
  recordAfterOpen,
  splitAssociatedData,
  type Touched,
  wipeTouched,
} from './ratchet-session.ts';
import { retriesAfter, retryOnConflict, runExclusive, sessionKey } from './session-lock.ts';
import {
  archiveState,
  decodeSessionRecord,
  encodeSessionRecord,
  encodeSessionState,
  type PendingPrekey,
  retainIdentity,
  type SessionRecord,
  type SessionState,
} from './session-record.ts';

export type { KeyAgreement, KeyAgreementResponse, PeerAddress } from './ratchet-session.ts';
export { MAX_COMMIT_ATTEMPTS, retryOnConflict, sessionKey } from './session-lock.ts';

/** Everything {@link SessionCipher.initOutgoing} needs from a completed PQXDH initiation. */
export interface OutgoingSessionParams {
  readonly sk: Uint8Array;
  /** `IdentityBundle_A (ours) || IdentityBundle_B (theirs)`, 344 bytes. */
  readonly ad: Uint8Array;
  readonly remoteSpkPublic: Uint8Array;
  readonly remoteIdentity: Uint8Array;
  readonly pendingPrekey: PendingPrekey;
}

/** An encrypted message and the ops that must be committed before it is sent. */
export interface EncryptResult {
  readonly type: MessageType;
  readonly body: Uint8Array;
  readonly ops: readonly StoreOp[];
}

/** A decrypted message and the ops to commit once the plaintext is durably processed. */
export interface DecryptResult {
  readonly plaintext: Uint8Array;
  /** The sending device's `IdentityBundle` as bound into the session's AD. */
  readonly remoteIdentity: Uint8Array;
  /** True if this prekey message created a new session (a new or changed identity). */
  readonly sessionCreated: boolean;
  readonly ops: readonly StoreOp[];
}

/** Options of {@link SessionCipher}. */
export interface SessionCipherOptions {
  readonly store: StateStore;
  readonly backend: CryptoBackend;
  readonly keyAgreement: KeyAgreement;
  /** @default systemRng */
  readonly rng?: Rng;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

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

  constructor(options: SessionCipherOptions) {
    this.store = options.store;
    this.backend = options.backend;
    this.keyAgreement = options.keyAgreement;
    this.rng = options.rng ?? systemRng;
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
    const { record, raw } = await this.load(sessionKey(peer));
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
    const { record, raw } = await this.load(sessionKey(peer));
    const identity = record?.current?.remoteIdentity.slice();
    release(raw, [record?.current]);
    return identity;
  }

  /**
   * Creates and commits the initiator's session from a completed PQXDH initiation (design
   * §5), archiving any current session bound to the same identity and dropping every state
   * bound to another (docs/PROTOCOL.md §5.3). Its messages are prekey messages until the peer's
   * first message is decrypted. `extraOps` (e.g. the new pin) land in the same atomic commit.
   *
   * @throws {TypeError | RangeError} on wrong-sized inputs, invalid prekey ids or an AD that is
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
    const { initiator, responder } = splitAssociatedData(params.ad);
    assertBytes(params.remoteIdentity, 'remoteIdentity', IDENTITY_BUNDLE_BYTES);
    if (!sameBytes(responder, params.remoteIdentity)) {
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
    const ratchet = await initAlice(
      this.backend,
      this.rng,
      params.sk,
      params.ad,
      params.remoteSpkPublic,
    );
    const state: SessionState = {
      ratchet,
      remoteIdentity: responder,
      localIdentity: initiator,
      baseKey: pendingPrekey.baseKey,
      pendingPrekey,
    };
    try {
      await runExclusive(this.store, key, () =>
        retryOnConflict(async () => {
          const { record, raw, expect } = await this.load(key);
          try {
            const previous = record ? retainIdentity(record, responder) : null;
            const archived = previous?.current
              ? archiveState(previous.archived, encodeSessionState(previous.current))
              : (previous?.archived ?? []);
            const value = encodeSessionRecord({ current: state, archived });
            await this.store.commit([{ ns: 'session', key, value, expect }, ...extraOps]);
          } finally {
            release(raw, [record?.current]);
          }
        }),
      );
    } finally {
      wipeRatchetState(ratchet);
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
   * @throws {RangeError} if `plaintext` exceeds 98,304 bytes.
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
    const { record, raw, expect } = await this.load(key);
    const touched: Touched = [record?.current];
    try {
      const result = encryptWithRecord(this.backend, record, plaintext, pin);
      touched.push(result.record.current);
      const value = encodeSessionRecord(result.record);
      const ops: StoreOp[] = [{ ns: 'session', key, value, expect }];
      return { type: result.type, body: result.body, ops, loaded: { raw, touched } };
    } catch (error) {
      release(raw, touched);
      throw error;
    }
  }

  /**
   * {@link encrypt} and commit, under the peer's lock. The returned body may be sent at once.
   * A commit lost to another writer of the store is retried on the fresh state (bounded).
   *
   * @throws Same as {@link encrypt}, plus whatever the store's commit throws
   *   ({@link StoreConflictError} after {@link MAX_COMMIT_ATTEMPTS} lost races).
   * @example
   * const { type, body } = await cipher.encryptAndCommit(peer, plaintext);
   */
  encryptAndCommit(
    peer: PeerAddress,
    plaintext: Uint8Array,
    pin?: () => Promise<Uint8Array | undefined>,
  ): Promise<{ type: MessageType; body: Uint8Array }> {
    return this.exclusive(peer, async () => {
      for (let attempt = 1; ; attempt++) {
        const held = await this.encryptHolding(peer, plaintext, await pin?.());
        try {
          await this.store.commit(held.ops);
          return { type: held.type, body: held.body };
        } catch (error) {
          if (!retriesAfter(error, attempt)) throw error;
        } finally {
          releaseHolding(held);
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
    const { record, raw, expect } = await this.load(key);
    try {
      if (record === null) return [];
      const next = retainIdentity(record, identity);
      if (next.current === record.current && next.archived.length === record.archived.length)
        return [];
      const value =
        next.current === null && next.archived.length === 0 ? null : encodeSessionRecord(next);
      return [{ ns: 'session', key, value, expect: expect?.slice() ?? null }];
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
    const { record, raw, expect } = await this.load(key);
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
        ops: [...outcome.consumed, { ns: 'session', key, value, expect }],
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
          await this.store.commit(extra ? [...held.ops, ...extra] : held.ops);
          return { ...result, ops: detach(held.ops) };
        } finally {
          releaseHolding(held);
        }
      }),
    );
  }

  /**
   * The record, the bytes it was decoded from, and the expectation a commit of its successor
   * must carry (docs/PROTOCOL.md §9.1): `raw` itself, which stays the stored bytes until
   * `release` wipes it, or `null` for no record. A result that outlives `release` must carry a
   * copy ({@link detach}).
   */
  private async load(
    key: string,
  ): Promise<{ record: SessionRecord | null; raw?: Uint8Array; expect: Uint8Array | null }> {
    const raw = await this.store.get('session', key);
    if (raw === undefined) return { record: null, expect: null };
    try {
      // `raw` is this call's own copy and is wiped by `release` once the result is committed
      // or handed out, so the current state may live in it rather than in a second copy.
      return { record: decodeSessionRecord(raw, { inPlace: true }), raw, expect: raw };
    } catch (error) {
      wipe(raw);
      throw error;
    }
  }
}

/**
 * A result whose ops may reference the loaded record (`loaded`): commit or drop them, then
 * pass it to {@link releaseHolding}, which wipes the loaded secrets.
 */
export type Holding<T> = T & {
  readonly loaded: { readonly raw: Uint8Array | undefined; readonly touched: Touched };
};

/**
 * Wipes what a {@link Holding} result loaded; its ops' expectations are invalid afterwards.
 *
 * @example try { await store.commit(held.ops); } finally { releaseHolding(held); }
 */
export function releaseHolding(held: Holding<unknown>): void {
  release(held.loaded.raw, held.loaded.touched);
}

/** The ops with private copies of their expectations (for results that outlive `release`). */
function detach(ops: readonly StoreOp[]): StoreOp[] {
  return ops.map((op) =>
    op.expect === undefined || op.expect === null ? op : { ...op, expect: op.expect.slice() },
  );
}

/** Drops the secrets a call decoded, once its result is encoded (archived views die with `raw`). */
function release(raw: Uint8Array | undefined, touched: Touched): void {
  wipeTouched(touched);
  wipe(raw);
}
