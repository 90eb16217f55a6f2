/** In-memory fixed-window {@link RateLimiter}, the same windows as the DynamoDB adapter. */
import type { RateLimiter } from '../../domain/ports.ts';

/** Counters in a `Map` keyed by key and window start. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly counters = new Map<string, number>();

  async hit(key: string, limit: number, windowMs: number, now: number): Promise<boolean> {
    const window = Math.floor(now / windowMs);
    const k = `${key}#${window}`;
    const n = this.counters.get(k) ?? 0;
    if (n >= limit) return false;
    this.counters.set(k, n + 1);
    return true;
  }
}
