/**
 * The decoded form of one session with a peer device (docs/PROTOCOL.md §5.3.1). Types only,
 * so that the state codec and the record codec both depend on this file and not on each other.
 */
import type { RatchetState } from './ratchet-state.ts';

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
  /** Peer's `IdentityBundle` (172 bytes). */
  readonly remoteIdentity: Uint8Array;
  /** Our `IdentityBundle` (172 bytes). */
  readonly localIdentity: Uint8Array;
  /** The initiator's PQXDH ephemeral key EK_A, which names the session (PROTOCOL.md §5). */
  readonly baseKey: Uint8Array;
  /** Set for an initiator until it decrypts a message from the peer. */
  readonly pendingPrekey: PendingPrekey | null;
}
