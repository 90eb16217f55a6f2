/**
 * Decoded franking public keys and their precomputed tables, kept between messages
 * (PROTOCOL.md §11.3.8). Two small LRU maps keyed by the key bytes, one per realm:
 *
 * - moderator keys ({@link MODERATOR_CACHE_SIZE} entries): noble's 6-bit window table (1,408
 *   points, ~300 KB, built on the first franking, ~8 ms) for the prover's secret multiplications,
 *   and split odd-multiple tables (128 points, ~30 KB) for the verifier;
 * - peer device keys ({@link PEER_CACHE_SIZE} entries): the decoded point and a 16-point table
 *   of `-pk` for the verifier's `cA0 * pk_s` (~4 KB); a key used as a franking recipient a
 *   second time also gets noble's {@link PEER_WINDOW}-bit window table (520 points, ~95 KB,
 *   ~3 ms to build), which makes the prover's two multiplications by it 4 times faster.
 *
 * Worst case about 2.6 MB (moderator keys) + 3.2 MB (peer keys). Entries hold public keys only.
 * A key that fails to decode is not cached.
 */
import { bytesKey } from '../util/bytes.ts';
import { decodePoint } from './encoding.ts';
import {
  CACHED_WIDTH,
  type OddMultiples,
  oddMultiples,
  type Point,
  type SplitBase,
  splitBase,
} from './group.ts';

/** Moderator keys held at once (a current key and those it replaces). */
export const MODERATOR_CACHE_SIZE = 8;
/** Peer device keys held at once. */
export const PEER_CACHE_SIZE = 32;
/** noble window size of a moderator key's table. */
export const MODERATOR_WINDOW = 6;
/** noble window size of a peer key's table (built from its second use as a recipient). */
export const PEER_WINDOW = 4;

/** A cached peer device key. */
export class CachedPeerKey {
  private negated: OddMultiples | undefined;
  private recipientUses = 0;
  private windowed = false;
  constructor(readonly point: Point) {}

  /** Odd multiples of `-pk`, for `- c * pk` with a public challenge. */
  negatedTable(): OddMultiples {
    this.negated ??= oddMultiples(this.point.negate(), CACHED_WIDTH);
    return this.negated;
  }

  /**
   * Records a use as a franking recipient; true when the key has a window table (from the
   * second use on), so that a secret multiplication by it is cheap.
   */
  useAsRecipient(): boolean {
    this.recipientUses++;
    if (!this.windowed && this.recipientUses >= 2) {
      this.point.precompute(PEER_WINDOW);
      this.windowed = true;
    }
    return this.windowed;
  }
}

/** A cached moderator key: noble's window table is set at once (built lazily by noble). */
export class CachedModeratorKey {
  private split: SplitBase | undefined;
  constructor(readonly point: Point) {
    point.precompute(MODERATOR_WINDOW);
  }

  /** Odd-multiple tables of pk_j and 2^128 pk_j, for the verifier's `zB0 * pk_j`. */
  splitTables(): SplitBase {
    this.split ??= splitBase(this.point);
    return this.split;
  }
}

class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly capacity: number) {}

  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  set(key: string, value: V): void {
    this.map.set(key, value);
    if (this.map.size > this.capacity) {
      const oldest = this.map.keys().next().value as string;
      this.map.delete(oldest);
    }
  }

  clear(): void {
    this.map.clear();
  }

  get size(): number {
    return this.map.size;
  }
}

const peers = new Lru<CachedPeerKey>(PEER_CACHE_SIZE);
const moderators = new Lru<CachedModeratorKey>(MODERATOR_CACHE_SIZE);

/** The cached peer key of `bytes`, decoding it on a miss; `undefined` if not a valid key. */
export function peerKey(bytes: Uint8Array): CachedPeerKey | undefined {
  const key = bytesKey(bytes);
  let entry = peers.get(key);
  if (entry === undefined) {
    const point = decodePoint(bytes);
    if (point === undefined) return undefined;
    entry = new CachedPeerKey(point);
    peers.set(key, entry);
  }
  return entry;
}

/** The cached moderator key of `bytes`, decoding it on a miss; `undefined` if not valid. */
export function moderatorKey(bytes: Uint8Array): CachedModeratorKey | undefined {
  const key = bytesKey(bytes);
  let entry = moderators.get(key);
  if (entry === undefined) {
    const point = decodePoint(bytes);
    if (point === undefined) return undefined;
    entry = new CachedModeratorKey(point);
    moderators.set(key, entry);
  }
  return entry;
}

/**
 * Empties both key caches (their tables go with them). Results never depend on the caches;
 * this only frees memory, or lets a test start cold.
 *
 * @example clearFrankingKeyCaches();
 */
export function clearFrankingKeyCaches(): void {
  peers.clear();
  moderators.clear();
}

/** Number of cached peer and moderator keys (for tests and monitoring). */
export function frankingKeyCacheSizes(): { peers: number; moderators: number } {
  return { peers: peers.size, moderators: moderators.size };
}
