/**
 * Contact pins held in memory between messages (docs/PROTOCOL.md §9.6). Every message sent or
 * received checks the peer device's pin; reading it from the store for each message costs a
 * store read and a copy. The cache is shared by every engine over the same store object, and
 * every pin an engine writes goes through {@link PinCache.commit}, so engines in one realm
 * never see each other's pins stale.
 *
 * A pin written behind the engines' back (another process over shared state, or a direct store
 * write) can still leave an entry stale. That is caught at commit time: a commit that relied on
 * a pin carries {@link PinCache.check}, a conditional op that writes nothing but fails the
 * whole commit (docs/PROTOCOL.md §9.1) unless the stored pin is still the one used. A lost
 * commit drops the entry and the operation runs again on a fresh read.
 */
import { type StateStore, StoreConflictError, type StoreOp } from '../state/store.ts';
import { constantTimeEqual } from '../util/bytes.ts';
import { pinRecords } from './records.ts';

/** A pin as read for one attempt, and the op that makes the commit conditional on it. */
export interface PinRead {
  readonly pin: Uint8Array | undefined;
  readonly check: StoreOp;
}

/**
 * Where a locked operation gets the peer device's pin, once per commit attempt.
 */
export interface PinSource {
  /**
   * The pin (`undefined`: none) and the op that makes the commit conditional on it; without a
   * promise when the pin is held in memory (one await less per message).
   */
  read(): PinRead | Promise<PinRead>;
  /**
   * Called when an attempt failed: true if the pin it used was held in memory and the store now
   * holds another one, in which case the attempt is worth repeating on the stored pin. A pin that
   * is still current says the failure was the message's own: repeating it would only double the
   * unauthenticated work a forged message costs (docs/PROTOCOL.md §5.2.5).
   */
  stale(): Promise<boolean>;
}

/** Pins of one store's contact devices, by pin key (`null`: known to be unpinned). */
export class PinCache {
  private readonly pins = new Map<string, Uint8Array | null>();

  private constructor(private readonly store: StateStore) {}

  private static readonly byStore = new WeakMap<StateStore, PinCache>();

  /**
   * The cache shared by every engine over `store`.
   *
   * @example const pins = PinCache.of(store);
   */
  static of(store: StateStore): PinCache {
    let cache = PinCache.byStore.get(store);
    if (cache === undefined) {
      cache = new PinCache(store);
      PinCache.byStore.set(store, cache);
    }
    return cache;
  }

  /**
   * The device's pin, from memory or else from the store. The bytes are shared: compare them,
   * never change them. Call under the peer's lock, and put {@link check} in the commit.
   *
   * @example const pin = await pins.read(pinKey(peer));
   */
  async read(key: string): Promise<Uint8Array | undefined> {
    const cached = this.pins.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const stored = await pinRecords.get(this.store, key);
    this.pins.set(key, stored ?? null);
    return stored;
  }

  /**
   * The op that makes a commit conditional on the pin still being `pin` (absent if
   * `undefined`) while writing nothing.
   *
   * @example await pins.commit([...ops, pins.check(key, pin)]);
   */
  check(key: string, pin: Uint8Array | undefined): StoreOp {
    const held = pin ?? null;
    return pinRecords.put(key, held, held);
  }

  /**
   * A {@link PinSource} for the device with pin key `key`: the first read may come from
   * memory, a read after {@link PinSource.stale} comes from the store.
   *
   * @example await cipher.encryptAndCommit(peer, plaintext, pins.source(pinKey(peer)));
   */
  source(key: string): CachedPinSource {
    return new CachedPinSource(this, key);
  }

  /** The pin of `key` if held in memory (`null`: known to be unpinned), else `undefined`. */
  peek(key: string): Uint8Array | null | undefined {
    return this.pins.get(key);
  }

  /** Drops the entry of `key`; the next {@link read} goes to the store. */
  forget(key: string): void {
    this.pins.delete(key);
  }

  /**
   * Commits `ops` and then records every pin they write. If the commit fails other than by
   * losing a race on a record that is not a pin, the entries of the pins it names are dropped.
   *
   * @throws whatever the store's commit throws.
   * @example await pins.commit([{ ns: 'contact', key, value: identity }]);
   */
  commit(ops: readonly StoreOp[]): Promise<void> {
    // Not async: one promise and no extra turn of the queue per message.
    return this.store.commit(ops).then(
      () => this.remember(ops),
      (error: unknown) => {
        // A lost race on another record says nothing about the pins; any other failure might.
        const pinsIntact = error instanceof StoreConflictError && error.ns !== 'contact';
        if (!pinsIntact) for (const op of ops) if (op.ns === 'contact') this.pins.delete(op.key);
        throw error;
      },
    );
  }

  /** Records every pin a successful commit of `ops` wrote. */
  private remember(ops: readonly StoreOp[]): void {
    for (const op of ops) {
      if (op.ns !== 'contact' || op.value === op.expect) continue;
      // A copy: the caller keeps its bytes and may wipe or reuse them.
      this.pins.set(op.key, op.value === null ? null : op.value.slice());
    }
  }
}

/**
 * The {@link PinSource} of {@link PinCache.source}. A class rather than closures: one is made
 * per message.
 */
export class CachedPinSource implements PinSource {
  private fromMemory = false;
  /** The pin the last {@link read} returned. */
  last: Uint8Array | undefined;

  constructor(
    private readonly cache: PinCache,
    private readonly key: string,
  ) {}

  read(): PinRead | Promise<PinRead> {
    const held = this.cache.peek(this.key);
    this.fromMemory = held !== undefined;
    if (held !== undefined) return this.found(held ?? undefined);
    return this.cache.read(this.key).then((pin) => this.found(pin));
  }

  private found(pin: Uint8Array | undefined): PinRead {
    this.last = pin;
    return { pin, check: this.cache.check(this.key, pin) };
  }

  async stale(): Promise<boolean> {
    const was = this.fromMemory;
    this.fromMemory = false;
    if (!was) return false;
    this.cache.forget(this.key);
    const stored = await this.cache.read(this.key);
    if (stored === undefined || this.last === undefined) return stored !== this.last;
    return !constantTimeEqual(stored, this.last);
  }
}
