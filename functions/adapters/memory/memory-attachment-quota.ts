/** In-memory {@link AttachmentQuota}, the same rule and days as the DynamoDB adapter. */
import {
  type AttachmentQuota,
  type QuotaLimits,
  releaseDays,
  reserveDays,
} from '../../domain/attachment-ports.ts';

/**
 * Bytes per UTC day per account in a `Map`. Single-threaded, so a reservation is atomic.
 *
 * @example
 * const quota = new MemoryAttachmentQuota();
 * await quota.reserve(address, size, { maxBytes, maxBytesPerDay, retentionDays: 30 }, Date.now());
 */
export class MemoryAttachmentQuota implements AttachmentQuota {
  private readonly byAccount = new Map<string, Map<number, number>>();

  async reserve(
    account: string,
    bytes: number,
    limits: QuotaLimits,
    now: number,
  ): Promise<'ok' | 'quota' | 'daily'> {
    const { verdict, days } = reserveDays(this.days(account), bytes, limits, now);
    this.byAccount.set(account, days);
    return verdict;
  }

  async release(account: string, bytes: number, reservedAt: number): Promise<void> {
    const days = this.byAccount.get(account);
    if (days) this.byAccount.set(account, releaseDays(days, bytes, reservedAt));
  }

  /** The bytes kept per UTC day for `account` (for tests). */
  days(account: string): ReadonlyMap<number, number> {
    return new Map(this.byAccount.get(account) ?? []);
  }
}
