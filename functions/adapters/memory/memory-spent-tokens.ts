/** In-memory {@link SpentTokens}, the same answers as the DynamoDB adapter. */

import { hex } from '../../domain/crypto.ts';
import {
  checkRebindArguments,
  checkSpendArguments,
  type SpendResult,
  type SpentTokens,
} from '../../domain/token-ports.ts';

/** Records kept before expired ones are swept (as DynamoDB's TTL would remove them). */
const SWEEP_AT = 10_000;

/**
 * Spent tokens in a `Map` from the id's hex to its binding and expiry. Single-threaded, so a
 * spend is atomic. The clock only decides which expired records a sweep drops.
 *
 * @example
 * const spent = new MemorySpentTokens();
 * await spent.spend(tokenId, notAfter, bind); // 'spent', then 'again'; another bind: 'taken'
 */
export class MemorySpentTokens implements SpentTokens {
  private readonly spent = new Map<string, { bind: string; expiresAt: number }>();

  constructor(private readonly clock: () => number = Date.now) {}

  async spend(id: Uint8Array, expiresAt: number, bind: Uint8Array): Promise<SpendResult> {
    checkSpendArguments(id, expiresAt, bind);
    const key = hex(id);
    const known = this.spent.get(key);
    if (known !== undefined) return known.bind === hex(bind) ? 'again' : 'taken';
    if (this.spent.size >= SWEEP_AT) {
      const now = this.clock();
      for (const [k, r] of this.spent) if (r.expiresAt < now) this.spent.delete(k);
    }
    this.spent.set(key, { bind: hex(bind), expiresAt });
    return 'spent';
  }

  async rebind(id: Uint8Array, from: Uint8Array, to: Uint8Array): Promise<boolean> {
    checkRebindArguments(id, from, to);
    const known = this.spent.get(hex(id));
    if (known === undefined || known.bind !== hex(from)) return false;
    known.bind = hex(to);
    return true;
  }
}
