/**
 * Who may write a session record when (docs/PROTOCOL.md §9.1): one in-realm queue per store
 * and record key, so operations of one engine on one peer never interleave, and a bounded
 * retry for a conditional commit lost to a writer outside that queue (another engine over the
 * same store, or another process over the same durable state).
 */
import { StoreConflictError } from '../errors.ts';
import type { StateStore } from '../state/store.ts';
import { ArgumentTypeError } from '../util/argument-errors.ts';
import type { PeerAddress } from './ratchet-session.ts';

/**
 * Store key of a peer device's session record.
 *
 * @throws {ArgumentTypeError} on an empty address or a device id that is not a positive u32.
 * @example
 * sessionKey({ address, deviceId: 1 }); // `${address}.1`
 */
export function sessionKey(peer: PeerAddress): string {
  if (typeof peer.address !== 'string' || peer.address.length === 0) {
    throw new ArgumentTypeError('peer.address must be a non-empty string');
  }
  if (!Number.isInteger(peer.deviceId) || peer.deviceId < 1 || peer.deviceId > 0xffffffff) {
    throw new ArgumentTypeError('peer.deviceId must be a positive u32');
  }
  return `${peer.address}.${peer.deviceId}`;
}

// One queue per store and record key, shared by every cipher over the same store.
const queues = new WeakMap<StateStore, Map<string, Promise<unknown>>>();

/**
 * Runs `task` after every earlier task queued for the same store object and key. It orders
 * writers in this realm only; writers elsewhere are kept apart by conditional commits.
 *
 * @example await runExclusive(store, sessionKey(peer), async () => { ... });
 */
export function runExclusive<T>(
  store: StateStore,
  key: string,
  task: () => Promise<T>,
): Promise<T> {
  let perStore = queues.get(store);
  if (perStore === undefined) {
    perStore = new Map();
    queues.set(store, perStore);
  }
  const previous = perStore.get(key);
  // An idle key starts the task at once: chaining on a resolved promise only adds a hop.
  const run = previous === undefined ? task() : previous.then(task, task);
  // The queue's tail settles after `run` and forgets the key if nothing was queued behind it.
  const tail: Promise<void> = run.then(
    () => forget(perStore, key, tail),
    () => forget(perStore, key, tail),
  );
  perStore.set(key, tail);
  return run;
}

/** Drops `key`'s queue if `tail` is still its last task. */
function forget(perStore: Map<string, Promise<unknown>>, key: string, tail: Promise<void>): void {
  if (perStore.get(key) === tail) perStore.delete(key);
}

/**
 * Attempts of a read-modify-commit of one session record that lost its conditional commit to
 * another writer of the store (docs/PROTOCOL.md §9.1) before the conflict is thrown.
 */
export const MAX_COMMIT_ATTEMPTS = 4;

/**
 * Whether a failed attempt (1-based `attempt`) of a read-modify-commit is retried: it lost a
 * conditional commit and attempts are left. For hot paths that loop inline.
 *
 * @example for (let i = 1; ; i++) { try { return await work(); } catch (e) { if (!retriesAfter(e, i)) throw e; } }
 */
export function retriesAfter(error: unknown, attempt: number): boolean {
  return error instanceof StoreConflictError && attempt < MAX_COMMIT_ATTEMPTS;
}

/**
 * Runs `attempt` until its commit does not lose a race, at most {@link MAX_COMMIT_ATTEMPTS}
 * times. `attempt` must re-read every record it conditions on.
 *
 * @throws {StoreConflictError} if every attempt lost; whatever `attempt` throws otherwise.
 */
export async function retryOnConflict<T>(attempt: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (!retriesAfter(error, i)) throw error;
    }
  }
}
