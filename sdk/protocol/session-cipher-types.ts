/**
 * The result and option types of the session cipher (session-cipher.ts, docs/PROTOCOL.md §5.4).
 */
import type { CryptoBackend, Rng } from '../crypto/backend.ts';
import type { StateStore, StoreOp } from '../state/store.ts';
import type { MessageType } from '../wire/messages.ts';
import type { KeyAgreement } from './ratchet-session.ts';

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

/** Options of `SessionCipher`. */
export interface SessionCipherOptions {
  readonly store: StateStore;
  readonly backend: CryptoBackend;
  readonly keyAgreement: KeyAgreement;
  /** @default systemRng */
  readonly rng?: Rng;
  /**
   * How the cipher's own commits reach the store (the engine routes them through its pin
   * cache, docs/PROTOCOL.md §9.6). @default the store's commit
   */
  readonly commit?: (ops: readonly StoreOp[]) => Promise<void>;
}
