/** In-memory {@link TokenQuota}, the same counters and answers as the DynamoDB adapter. */
import { checkQuotaArguments, type TokenQuota } from '../../domain/token-ports.ts';

/** Counters kept before days older than the newest day seen (less two) are dropped. */
const SWEEP_AT = 10_000;

/**
 * Issuance counters in a `Map` keyed by account and UTC day. Single-threaded, so a take is
 * atomic.
 *
 * @example
 * const quota = new MemoryTokenQuota();
 * await quota.take(address, utcDay(Date.now()), 20, 100); // { granted: true, used: 20 }
 */
export class MemoryTokenQuota implements TokenQuota {
  private readonly counters = new Map<string, { day: number; n: number }>();
  private newestDay = 0;

  async take(
    address: string,
    day: number,
    count: number,
    limit: number,
  ): Promise<{ granted: boolean; used: number }> {
    checkQuotaArguments(address, day, count, limit);
    const key = `${address}#${day}`;
    const used = this.counters.get(key)?.n ?? 0;
    if (used + count > limit) return { granted: false, used };
    this.sweep(day);
    this.counters.set(key, { day, n: used + count });
    return { granted: true, used: used + count };
  }

  /** Drops counters whose TTL (two days after their day) has passed by the newest day seen. */
  private sweep(day: number): void {
    this.newestDay = Math.max(this.newestDay, day);
    if (this.counters.size < SWEEP_AT) return;
    for (const [key, c] of this.counters) {
      if (c.day + 2 < this.newestDay) this.counters.delete(key);
    }
  }
}
