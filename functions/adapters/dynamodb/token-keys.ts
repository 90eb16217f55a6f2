/**
 * Keys and item layout of the anonymous-token stores (functions/domain/token-ports.ts), beside
 * the table's other keys (keys.ts, moderation-keys.ts). Every partition is a new prefix; no
 * existing key changes. Day numbers (UTC days since the epoch) are 10-digit zero-padded, so
 * `sk` order is day order.
 *
 * Items:
 * - Quota counter: `pk = tq#<address>`, `sk = <day>`; `n` (N, the tokens issued that day),
 *   `v`, `ttl` = the end of the day + 2 days.
 * - Spent token: `pk = spent#<base64url of the 32-byte id>`, `sk = spent`; `bind` (B, 16..32
 *   bytes: a hash of the redeeming send's request id, never the id itself), `ttl` = the
 *   caller's `expiresAt` in seconds, rounded up.
 * - Issuer key: `pk = tkey`, `sk = <day>`; `keyId`, `publicKey`, `wrappedPrivateKey` (B),
 *   `notAfter` (N, ms), `v`, `ttl` = notAfter + 7 days.
 *
 * Writes:
 * - Quota: `UpdateItem` `SET v = :v, #ttl = :ttl ADD n :c`, condition
 *   `attribute_not_exists(n) OR n <= :max` with `:max = limit - count`, `ALL_NEW`; a refusal
 *   reads the counter from the failed condition (`ALL_OLD`). One item per account and day, so
 *   days never contend and the counter needs no reset. A `count` above `limit` is refused
 *   after a read, without a write.
 * - Spent token: `PutItem` with `attribute_not_exists(pk) OR bind = :bind` and `ALL_OLD` (an
 *   old item in the answer: a retry of the same send); a refused send rebinds it with
 *   `UpdateItem` conditional on the old binding. Nothing else is on the item: no account, no
 *   time beyond the TTL, no version, so it cannot be tied to an issuance. The id is SHA-256 of
 *   the key id and the token nonce, computed by the caller.
 * - Issuer key: one partition for all days (a handful of live items); `PutItem` with
 *   `attribute_not_exists(pk)` (first writer wins; the loser reads and returns the stored key);
 *   the published list is a `Query` with `sk BETWEEN`.
 */
import type { ItemKey } from './keys.ts';

const pad = (n: number): string => n.toString().padStart(10, '0');

/** Sort key of a UTC day (10 digits, zero-padded). */
export const tokenDaySk = (day: number): string => pad(day);

/** The daily issuance counter of an account. */
export const tokenQuotaKey = (address: string, day: number): ItemKey => ({
  pk: `tq#${address}`,
  sk: tokenDaySk(day),
});

/** Sort key of every spent-token item. */
export const SPENT_TOKEN_SK = 'spent';

/** The record of one spent token, by its 32-byte id. */
export const spentTokenKey = (id: Uint8Array): ItemKey => ({
  pk: `spent#${Buffer.from(id).toString('base64url')}`,
  sk: SPENT_TOKEN_SK,
});

/** Partition of the issuer keys: one item per day. */
export const TOKEN_KEY_PARTITION = 'tkey';

/** The issuer key of a UTC day. */
export const tokenKeyKey = (day: number): ItemKey => ({
  pk: TOKEN_KEY_PARTITION,
  sk: tokenDaySk(day),
});

/** The day of an issuer key item's sort key, or undefined when it is not one. */
export function tokenKeyDay(sk: string): number | undefined {
  return /^\d{10}$/.test(sk) ? Number(sk) : undefined;
}
