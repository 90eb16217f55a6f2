/** In-memory {@link BlockStore}: a set of blocked addresses per owner. */
import type { BlockAddResult, BlockStore } from '../../domain/ports.ts';

/**
 * Block lists in a `Map` by owner. Single-threaded, so the limit check and the add are one step.
 *
 * @example
 * const blocks = new MemoryBlockStore();
 * await blocks.add(alice, bob, 10_000); // 'added'
 */
export class MemoryBlockStore implements BlockStore {
  private readonly byOwner = new Map<string, Set<string>>();

  async add(owner: string, blocked: string, limit: number): Promise<BlockAddResult> {
    const set = this.byOwner.get(owner) ?? new Set<string>();
    if (set.has(blocked)) return 'exists';
    if (set.size >= limit) return 'limit';
    set.add(blocked);
    this.byOwner.set(owner, set);
    return 'added';
  }

  async remove(owner: string, blocked: string): Promise<boolean> {
    const set = this.byOwner.get(owner);
    if (!set?.delete(blocked)) return false;
    if (set.size === 0) this.byOwner.delete(owner);
    return true;
  }

  async has(owner: string, sender: string): Promise<boolean> {
    return this.byOwner.get(owner)?.has(sender) ?? false;
  }

  async list(owner: string): Promise<string[]> {
    return [...(this.byOwner.get(owner) ?? [])].sort();
  }

  /** Pairs held, over every owner (for tests). */
  get size(): number {
    let n = 0;
    for (const set of this.byOwner.values()) n += set.size;
    return n;
  }
}
