/**
 * Ports of the anonymous tokens that pay for a stranger's first message (Privacy Pass, RFC 9578
 * token type 0x0002): the per-account daily issuance counter (the only thing issuance stores),
 * the spent-token records that make each token redeemable once, and the daily issuer keys.
 * Each has a DynamoDB and an in-memory adapter that pass one contract suite
 * (test/integration/token-stores.test.ts). The item layout is documented in
 * functions/adapters/dynamodb/token-keys.ts.
 *
 * Nothing here links an issuance to a redemption: the quota names the account and a day, a
 * spent token only its 32-byte id.
 */
import { isAddress } from 'sealpost/wire';

/** Largest `count` and `limit` of one {@link TokenQuota.take} call. */
export const MAX_TOKEN_QUOTA = 1000;

/** Bytes of a spent token's id (SHA-256 of the key id and the token nonce). */
export const SPENT_TOKEN_ID_BYTES = 32;

/** Bytes of an issuer key id (RFC 9578 §6.5: SHA-256 of the key's SPKI encoding). */
export const TOKEN_KEY_ID_BYTES = 32;

/** Largest stored issuer public key (an RSA-2048 SPKI of RFC 9578 is 342 bytes). */
export const MAX_TOKEN_PUBLIC_KEY_BYTES = 2048;

/** Largest stored wrapped private key (an encrypted RSA-2048 PKCS#8 is about 1,250 bytes). */
export const MAX_WRAPPED_TOKEN_KEY_BYTES = 8192;

/**
 * Largest UTC day number the stores take: day numbers are 10-digit zero-padded sort keys
 * (today is about 20,000).
 */
export const MAX_TOKEN_DAY = 9_999_999_999;

/** Per-account daily issuance counters: the only thing issuance stores. */
export interface TokenQuota {
  /**
   * Adds `count` to the account's counter for `day` (UTC day number) only if the result stays
   * within `limit`; the counter expires two days after the day ends. Answers whether it was
   * granted and the counter after the call (unchanged when refused). Conditional update, so
   * concurrent calls never overshoot.
   *
   * @example
   * const { granted, used } = await quota.take(address, utcDay(now), 20, 100);
   * @throws {TypeError} if `address` is not an address.
   * @throws {RangeError} if `day` is not in 0..{@link MAX_TOKEN_DAY}, or `count` or `limit` is
   *   not an integer in 1..{@link MAX_TOKEN_QUOTA}.
   */
  take(
    address: string,
    day: number,
    count: number,
    limit: number,
  ): Promise<{ granted: boolean; used: number }>;
}

/** Bytes of a spend's binding (the caller derives it from the send's request id). */
export const MIN_SPEND_BIND_BYTES = 16;
export const MAX_SPEND_BIND_BYTES = 32;

/**
 * What {@link SpentTokens.spend} did: `spent` (this call recorded the token), `again` (it was
 * recorded before with the same binding: a retry of the same send), `taken` (recorded with
 * another binding: another send redeemed it).
 */
export type SpendResult = 'spent' | 'again' | 'taken';

/** Tokens redeemed: one item per spent token, so a token is accepted once. */
export interface SpentTokens {
  /**
   * Records the token (by `id`: 32 bytes the caller derives, SHA-256 of key id || nonce) as
   * spent by `bind` (16 to 32 bytes the caller derives from the send's request id) until
   * `expiresAt` (ms; the item's TTL). One conditional put: of 64 concurrent calls with one id
   * and distinct binds exactly one is `spent`, the others `taken`; a call with the binding it
   * was spent with is `again` (and changes nothing). `expiresAt` must not be before the last
   * moment the token is redeemable (its key's `notAfter`): a record may vanish once it passed.
   *
   * @example
   * const result = await spent.spend(tokenId, key.notAfter + MARGIN_MS, bindOf(requestId));
   * if (result === 'taken') throw alreadySpent();
   * @throws {TypeError} if `id` or `bind` is not a `Uint8Array`.
   * @throws {RangeError} if `id` is not 32 bytes, `bind` not 16..32 bytes or `expiresAt` is
   *   not a non-negative safe integer.
   */
  spend(id: Uint8Array, expiresAt: number, bind: Uint8Array): Promise<SpendResult>;
  /**
   * Replaces the binding of a spent token, only while it is `from` (a send that spent the
   * token and was then refused marks it so, and its retry is refused the same way). False
   * when the token is not recorded with `from`.
   *
   * @example await spent.rebind(tokenId, bindOf(requestId), refusedBindOf(requestId));
   * @throws {TypeError | RangeError} as {@link SpentTokens.spend} for `id`, `from` and `to`.
   */
  rebind(id: Uint8Array, from: Uint8Array, to: Uint8Array): Promise<boolean>;
}

/** An issuer key as stored: one per UTC day, the same for every account. */
export interface StoredTokenKey {
  /** UTC day number the key issues on. */
  readonly day: number;
  /** 32 bytes: SHA-256 of `publicKey` (RFC 9578 §6.5 token_key_id). */
  readonly keyId: Uint8Array;
  /** RFC 9578 SPKI (RSASSA-PSS OID with parameters), 342 bytes. */
  readonly publicKey: Uint8Array;
  /** Opaque to the store: the PKCS#8 encrypted under a key derived from the signing secret. */
  readonly wrappedPrivateKey: Uint8Array;
  /** ms: the last moment tokens of this key are redeemable. */
  readonly notAfter: number;
}

/** The daily issuer keys (one for everyone at a time). */
export interface TokenKeyStore {
  /**
   * The key of `day`, if one was stored (strongly consistent).
   *
   * @example const key = await keys.get(utcDay(now));
   * @throws {RangeError} if `day` is not in 0..{@link MAX_TOKEN_DAY}.
   */
  get(day: number): Promise<StoredTokenKey | undefined>;
  /**
   * Stores `key` for its day unless one exists (first writer wins); answers the stored one, so
   * every concurrent writer of a day ends up with the same key.
   *
   * @example const key = await keys.putIfAbsent(await newDailyKey(day)); // maybe another's
   * @throws {TypeError | RangeError} naming a malformed field of `key`.
   */
  putIfAbsent(key: StoredTokenKey): Promise<StoredTokenKey>;
  /**
   * Keys whose day is in [fromDay, toDay], oldest first (for the published key list); empty
   * when `fromDay > toDay`.
   *
   * @example const published = await keys.range(today - 8, today + 1);
   * @throws {RangeError} if a bound is not in 0..{@link MAX_TOKEN_DAY}.
   */
  range(fromDay: number, toDay: number): Promise<StoredTokenKey[]>;
}

/** Every token port (one adapter set per environment). */
export interface TokenPorts {
  readonly quota: TokenQuota;
  readonly spent: SpentTokens;
  readonly keys: TokenKeyStore;
}

/**
 * Checks a UTC day number argument of the token stores.
 *
 * @example checkTokenDay(utcDay(now), 'day')
 * @throws {RangeError} naming `name` if `day` is not an integer in 0..{@link MAX_TOKEN_DAY}.
 */
export function checkTokenDay(day: number, name: string): void {
  if (!Number.isSafeInteger(day) || day < 0 || day > MAX_TOKEN_DAY) {
    throw new RangeError(`${name} must be an integer in 0..${MAX_TOKEN_DAY}`);
  }
}

/**
 * Checks the arguments of {@link TokenQuota.take} (the address is not repeated in the message).
 *
 * @example checkQuotaArguments(address, day, 20, 100)
 * @throws {TypeError | RangeError} naming the malformed argument.
 */
export function checkQuotaArguments(
  address: string,
  day: number,
  count: number,
  limit: number,
): void {
  if (!isAddress(address)) throw new TypeError('address is not a valid address');
  checkTokenDay(day, 'day');
  for (const [name, n] of [
    ['count', count],
    ['limit', limit],
  ] as const) {
    if (!Number.isSafeInteger(n) || n < 1 || n > MAX_TOKEN_QUOTA) {
      throw new RangeError(`${name} must be an integer in 1..${MAX_TOKEN_QUOTA}`);
    }
  }
}

/**
 * Checks the arguments of {@link SpentTokens.spend}.
 *
 * @example checkSpendArguments(tokenId, notAfter + margin, bind)
 * @throws {TypeError | RangeError} naming the malformed argument.
 */
export function checkSpendArguments(id: Uint8Array, expiresAt: number, bind: Uint8Array): void {
  checkBytes(id, 'id', SPENT_TOKEN_ID_BYTES, SPENT_TOKEN_ID_BYTES);
  checkTime(expiresAt, 'expiresAt');
  checkBytes(bind, 'bind', MIN_SPEND_BIND_BYTES, MAX_SPEND_BIND_BYTES);
}

/**
 * Checks the arguments of {@link SpentTokens.rebind}.
 *
 * @example checkRebindArguments(tokenId, bind, refused)
 * @throws {TypeError | RangeError} naming the malformed argument.
 */
export function checkRebindArguments(id: Uint8Array, from: Uint8Array, to: Uint8Array): void {
  checkBytes(id, 'id', SPENT_TOKEN_ID_BYTES, SPENT_TOKEN_ID_BYTES);
  checkBytes(from, 'from', MIN_SPEND_BIND_BYTES, MAX_SPEND_BIND_BYTES);
  checkBytes(to, 'to', MIN_SPEND_BIND_BYTES, MAX_SPEND_BIND_BYTES);
}

/**
 * Checks a key given to {@link TokenKeyStore.putIfAbsent}.
 *
 * @example checkStoredTokenKey(key)
 * @throws {TypeError | RangeError} naming the malformed field.
 */
export function checkStoredTokenKey(key: StoredTokenKey): void {
  if (typeof key !== 'object' || key === null) throw new TypeError('key must be an object');
  checkTokenDay(key.day, 'key.day');
  checkBytes(key.keyId, 'key.keyId', TOKEN_KEY_ID_BYTES, TOKEN_KEY_ID_BYTES);
  checkBytes(key.publicKey, 'key.publicKey', 1, MAX_TOKEN_PUBLIC_KEY_BYTES);
  checkBytes(key.wrappedPrivateKey, 'key.wrappedPrivateKey', 1, MAX_WRAPPED_TOKEN_KEY_BYTES);
  checkTime(key.notAfter, 'key.notAfter');
}

function checkBytes(value: Uint8Array, name: string, min: number, max: number): void {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
  if (value.length < min || value.length > max) {
    throw new RangeError(
      min === max ? `${name} must be ${min} bytes` : `${name} must be ${min}..${max} bytes`,
    );
  }
}

function checkTime(ms: number, name: string): void {
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new RangeError(`${name} must be a non-negative safe integer (ms)`);
  }
}
