/** In-memory {@link SpentTokens}, the same answers as the DynamoDB adapter. */
import { checkSpendArguments, type SpentTokens } from '../../domain/token-ports.ts';

/** Records kept before expired ones are swept (as DynamoDB's TTL would remove them). */
const SWEEP_AT = 10_000;

/**
 * Spent tokens in a `Map` from the id's hex to its expiry. Single-threaded, so a spend is
 * atomic. The clock only decides which expired records a sweep drops.
 *
 * @example
 * const spent = new MemorySpentTokens();
 * await spent.spend(tokenId, notAfter); // true, then false
 */
export class MemorySpentTokens implements SpentTokens {
  private readonly spent = new Map<string, number>();

  constructor(private readonly clock: () => number = Date.now) {}

  async spend(id: Uint8Array, expiresAt: number): Promise<boolean> {
    checkSpendArguments(id, expiresAt);
    const key = Buffer.from(id).toString('hex');
    if (this.spent.has(key)) return false;
    if (this.spent.size >= SWEEP_AT) {
      const now = this.clock();
      for (const [k, exp] of this.spent) if (exp < now) this.spent.delete(k);
    }
    this.spent.set(key, expiresAt);
    return true;
  }
}
