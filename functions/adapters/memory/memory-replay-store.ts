/** In-memory {@link ReplayStore}; expired tokens are swept on write. */
import type { ReplayStore } from '../../domain/ports.ts';

/** Tokens in a `Map` with their expiry. */
export class MemoryReplayStore implements ReplayStore {
  private readonly tokens = new Map<string, number>();

  async consume(token: string, expiresAt: number, now: number): Promise<boolean> {
    const seen = this.tokens.get(token);
    if (seen !== undefined && seen > now) return false;
    if (this.tokens.size > 10_000) {
      for (const [t, exp] of this.tokens) if (exp <= now) this.tokens.delete(t);
    }
    this.tokens.set(token, expiresAt);
    return true;
  }
}
