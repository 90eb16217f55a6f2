/**
 * In-memory {@link SuspensionStore} over the in-memory account store: the suspension fields go
 * on the account record (so authentication sees them, as with DynamoDB), the index of
 * suspensions in force beside it. Same contract as the DynamoDB adapter.
 */
import type {
  Suspension,
  SuspensionEntry,
  SuspensionStore,
} from '../../domain/suspension-ports.ts';
import type { MemoryAccountStore } from './memory-account-store.ts';

/** Suspensions of the accounts of one {@link MemoryAccountStore}. */
export class MemorySuspensions implements SuspensionStore {
  /** address → suspendedAt of every suspension in force. */
  private readonly index = new Map<string, number>();

  constructor(private readonly accounts: MemoryAccountStore) {}

  async suspend(
    address: string,
    suspendedAt: number,
    reason: string,
  ): Promise<Suspension | undefined> {
    const view = await this.accounts.get(address);
    if (!view) return undefined;
    const at = view.account.suspendedAt ?? suspendedAt;
    this.accounts.setSuspension(address, { suspendedAt: at, suspensionReason: reason });
    this.index.set(address, at);
    return { address, suspendedAt: at, reason };
  }

  async lift(address: string): Promise<Suspension | undefined> {
    const account = (await this.accounts.get(address))?.account;
    if (account?.suspendedAt === undefined) return undefined;
    this.accounts.setSuspension(address, undefined);
    this.index.delete(address);
    return {
      address,
      suspendedAt: account.suspendedAt,
      reason: account.suspensionReason ?? '',
    };
  }

  async recent(since: number, limit: number): Promise<SuspensionEntry[]> {
    return [...this.index.entries()]
      .filter(([, at]) => at > since)
      .map(([address, suspendedAt]) => ({ address, suspendedAt }))
      .sort((a, b) =>
        b.suspendedAt !== a.suspendedAt
          ? b.suspendedAt - a.suspendedAt
          : a.address < b.address
            ? 1
            : -1,
      )
      .slice(0, limit);
  }
}
