/**
 * Port of account suspensions (docs/SERVICE.md §14.5): the suspension is kept on the account
 * record (`suspendedAt`, `suspensionReason`, so every owner-signed request sees it with the
 * account it already reads), and a time-ordered index of suspensions lets the revocation list
 * be built without a scan (§14.6). Both adapters (DynamoDB, memory) keep the two together.
 */

/** An account's suspension. */
export interface Suspension {
  readonly address: string;
  /** When it took effect (ms); a repeated suspension keeps the first time. */
  readonly suspendedAt: number;
  /** The operator's reason (at most 1,000 characters). */
  readonly reason: string;
}

/** One entry of the suspension index. */
export interface SuspensionEntry {
  readonly address: string;
  readonly suspendedAt: number;
}

/** Suspensions of accounts. */
export interface SuspensionStore {
  /**
   * Suspends the account at `suspendedAt` with `reason`. An account suspended already keeps its
   * `suspendedAt` and takes the new reason. Returns the suspension in force, or undefined when
   * the account does not exist (nothing is written).
   */
  suspend(address: string, suspendedAt: number, reason: string): Promise<Suspension | undefined>;
  /** Lifts the suspension; returns the one lifted, or undefined when there was none. */
  lift(address: string): Promise<Suspension | undefined>;
  /**
   * Suspensions in force that took effect after `since`, newest first, at most `limit`.
   * Strongly consistent.
   */
  recent(since: number, limit: number): Promise<SuspensionEntry[]>;
}
