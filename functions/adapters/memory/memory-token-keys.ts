/** In-memory {@link TokenKeyStore}, the same answers as the DynamoDB adapter. */
import {
  checkStoredTokenKey,
  checkTokenDay,
  type StoredTokenKey,
  type TokenKeyStore,
} from '../../domain/token-ports.ts';

/** A copy whose bytes the caller cannot change in the store (nor the store in the caller's). */
const copy = (k: StoredTokenKey): StoredTokenKey => ({
  day: k.day,
  keyId: new Uint8Array(k.keyId),
  publicKey: new Uint8Array(k.publicKey),
  wrappedPrivateKey: new Uint8Array(k.wrappedPrivateKey),
  notAfter: k.notAfter,
});

/**
 * Issuer keys in a `Map` by day. Single-threaded, so the first writer of a day wins.
 *
 * @example
 * const keys = new MemoryTokenKeys();
 * const key = (await keys.get(today)) ?? (await keys.putIfAbsent(await newDailyKey(today)));
 */
export class MemoryTokenKeys implements TokenKeyStore {
  private readonly keys = new Map<number, StoredTokenKey>();

  async get(day: number): Promise<StoredTokenKey | undefined> {
    checkTokenDay(day, 'day');
    const key = this.keys.get(day);
    return key ? copy(key) : undefined;
  }

  async putIfAbsent(key: StoredTokenKey): Promise<StoredTokenKey> {
    checkStoredTokenKey(key);
    let stored = this.keys.get(key.day);
    if (!stored) {
      stored = copy(key);
      this.keys.set(key.day, stored);
    }
    return copy(stored);
  }

  async range(fromDay: number, toDay: number): Promise<StoredTokenKey[]> {
    checkTokenDay(fromDay, 'fromDay');
    checkTokenDay(toDay, 'toDay');
    return [...this.keys.values()]
      .filter((k) => k.day >= fromDay && k.day <= toDay)
      .sort((a, b) => a.day - b.day)
      .map(copy);
  }
}
