/**
 * The anonymous-token wallet (docs/SDK.md §Message requests, docs/PROTOCOL.md §13). A sealed
 * first message to an account whose access key the client does not hold is paid with a
 * Privacy Pass token (type 0x0002, blind RSA) that the service issued to this account earlier
 * and cannot link back to it. The wallet:
 *
 * - fetches the service's signed issuer key list and accepts it only when a server key that
 *   chains to the pinned trust root signed it; it pins, per UTC day, the first key it saw for
 *   that day and refuses a list that names another one (a key only this client is given would
 *   make its tokens recognisable);
 * - asks for tokens in batches (`POST /v1/tokens`, default 10, at most 20) and keeps each with
 *   its key's `notAfter`; expired ones are dropped;
 * - hands out a token by deleting it from the store first (a conditional delete: two takers
 *   never get the same one, also across a restart over the same store), so a token pays for one
 *   message only;
 * - refills ahead of need, after a uniformly random delay, never as part of a send: issuance and
 *   redemption are both seen by the service, and a refill right before (or right after) a
 *   first message would tie the two together in time.
 *
 * | namespace | key | value |
 * |---|---|---|
 * | token | `t:<base64url(nonce)>` | `u8 1 \|\| u64 notAfter \|\| token(354)` |
 * | token | `pins` | `u8 1 \|\| u8 n \|\| n × (u32 day \|\| tokenKeyId(32))` |
 */
import { type CryptoBackend, type Rng, randomFraction } from '../crypto/backend.ts';
import { StateCorruptError } from '../errors.ts';
import type { TrustConfig } from '../protocol/certificates.ts';
import { type StateStore, StoreConflictError, type StoreOp } from '../state/store.ts';
import { beginToken, finishToken, type PendingToken } from '../tokens/client.ts';
import { TOKEN_BYTES, tokenChallenge, tokenKeyId } from '../tokens/encoding.ts';
import { ArgumentRangeError, ArgumentTypeError } from '../util/argument-errors.ts';
import { ByteReader, ByteWriter, concatBytes, equalBytes } from '../util/bytes.ts';
import { fromBase64Url, toBase64Url } from '../wire/api/codec.ts';
import { MAX_TOKEN_BATCH } from '../wire/api/schemas.ts';
import { LABELS } from '../wire/labels.ts';
import {
  decodeTokenKeyList,
  MAX_TOKEN_KEYS,
  type TokenKeyEntry,
  type TokenKeyList,
} from '../wire/token-keys.ts';
import type { CallOptions } from './call-options.ts';
import { ApiError, InvalidResponseError, NoTokensError, TokenKeysRefusedError } from './errors.ts';
import type { OutboxTimer } from './outbox.ts';
import { trustedServerKey } from './revocations.ts';

const NS = 'token';
const VERSION = 1;
const TOKEN_PREFIX = 't:';
const PINS_KEY = 'pins';
const DAY_MS = 86_400_000;
const SIGNATURE_BYTES = 64;
const KEY_ID_BYTES = 32;

/** Tokens asked for per refill. @default */
export const DEFAULT_TOKEN_BATCH = 10;
/** A refill is scheduled when fewer tokens than this are held. @default */
export const DEFAULT_TOKEN_LOW_WATER = 3;
/** Most tokens a wallet holds. */
export const MAX_HELD_TOKENS = 100;
/** Shortest wait before an automatic refill (ms). @default */
export const DEFAULT_MIN_REFILL_DELAY_MS = 60_000;
/** Longest wait before an automatic refill (ms). @default */
export const DEFAULT_MAX_REFILL_DELAY_MS = 1_800_000;
/** Longest refill delay the options accept (ms): a day. */
export const MAX_REFILL_DELAY_LIMIT_MS = DAY_MS;
/** A token this close to its key's `notAfter` is not spent (it could expire on the way). */
export const TOKEN_EXPIRY_MARGIN_MS = 60_000;
/** Pins older than this many days before today are forgotten (their keys no longer redeem). */
const PIN_DAYS = 2 * MAX_TOKEN_KEYS;

/** The token settings of `ClientOptions` (docs/SDK.md §Message requests). */
export interface TokenOptions {
  /** Tokens asked for per refill, 1..20. @default 10 */
  readonly batchSize?: number;
  /** A refill is scheduled when fewer are held, 0..100. @default 3 */
  readonly lowWater?: number;
  /** Automatic refills wait a uniformly random time from this... (ms). @default 60000 */
  readonly minRefillDelayMs?: number;
  /** ...to this (ms, at most a day). @default 1800000 */
  readonly maxRefillDelayMs?: number;
  /**
   * Refill on a timer (at start, below the low-water mark, after a send found the wallet
   * empty). `false`: only `refillTokens()` fetches tokens (tests). @default true
   */
  readonly autoRefill?: boolean;
  /** The timer of automatic refills. @default the outbox's timer, else `setTimeout` (unref'd) */
  readonly timer?: OutboxTimer;
}

/** {@link TokenOptions} with their defaults, checked. */
export interface TokenPolicy {
  readonly batchSize: number;
  readonly lowWater: number;
  readonly minRefillDelayMs: number;
  readonly maxRefillDelayMs: number;
  readonly autoRefill: boolean;
}

const isInt = (n: unknown, min: number, max: number): n is number =>
  Number.isInteger(n) && (n as number) >= min && (n as number) <= max;

/**
 * The token options with their defaults.
 *
 * @example tokenPolicy({ batchSize: 20 }).lowWater // 3
 * @throws {ArgumentRangeError} for a batch size outside 1..20, a low-water mark outside 0..100,
 *   or delays that are not integers with 0 <= min <= max <= a day.
 * @throws {ArgumentTypeError} if `autoRefill` is not a boolean or `timer` not a function.
 */
export function tokenPolicy(options: TokenOptions | undefined): TokenPolicy {
  const o = options ?? {};
  const batchSize = o.batchSize ?? DEFAULT_TOKEN_BATCH;
  const lowWater = o.lowWater ?? DEFAULT_TOKEN_LOW_WATER;
  const min = o.minRefillDelayMs ?? DEFAULT_MIN_REFILL_DELAY_MS;
  const max = o.maxRefillDelayMs ?? Math.max(min, DEFAULT_MAX_REFILL_DELAY_MS);
  if (!isInt(batchSize, 1, MAX_TOKEN_BATCH)) {
    throw new ArgumentRangeError(
      `tokens.batchSize must be an integer from 1 to ${MAX_TOKEN_BATCH}`,
    );
  }
  if (!isInt(lowWater, 0, MAX_HELD_TOKENS)) {
    throw new ArgumentRangeError(`tokens.lowWater must be an integer from 0 to ${MAX_HELD_TOKENS}`);
  }
  if (!isInt(min, 0, MAX_REFILL_DELAY_LIMIT_MS) || !isInt(max, min, MAX_REFILL_DELAY_LIMIT_MS)) {
    throw new ArgumentRangeError(
      'tokens refill delays must be integers with 0 <= minRefillDelayMs <= maxRefillDelayMs <= 86400000',
    );
  }
  if (o.autoRefill !== undefined && typeof o.autoRefill !== 'boolean') {
    throw new ArgumentTypeError('tokens.autoRefill must be a boolean');
  }
  if (o.timer !== undefined && typeof o.timer !== 'function') {
    throw new ArgumentTypeError('tokens.timer must be a function');
  }
  return {
    batchSize,
    lowWater,
    minRefillDelayMs: min,
    maxRefillDelayMs: max,
    autoRefill: o.autoRefill ?? true,
  };
}

/** The HTTP operations the wallet uses. */
export interface TokenHttp {
  tokenKeys(call?: CallOptions): Promise<{ readonly keys: string }>;
  issueTokens(
    body: { keyId: string; requests: string[] },
    call?: CallOptions,
  ): Promise<{ readonly keyId: string; readonly responses: string[]; readonly remaining: number }>;
  serverCertificate(call?: CallOptions): Promise<{ readonly serverCertificate: string }>;
}

const defaultTimer: OutboxTimer = (callback, delayMs) => {
  const t = setTimeout(callback, delayMs) as unknown as { unref?: () => void };
  t.unref?.();
  return () => clearTimeout(t as unknown as Parameters<typeof clearTimeout>[0]);
};

interface HeldToken {
  readonly key: string;
  readonly value: Uint8Array;
  readonly notAfter: number;
  readonly token: Uint8Array;
}

/** A verified key to issue under. */
interface IssuingKey {
  readonly entry: TokenKeyEntry;
  readonly keyId: Uint8Array;
  readonly challenge: Uint8Array;
}

function encodeHeld(notAfter: number, token: Uint8Array): Uint8Array {
  return new ByteWriter(9 + TOKEN_BYTES).u8(VERSION).u64(notAfter).bytes(token).finish();
}

function decodeHeld(key: string, value: Uint8Array): HeldToken {
  const r = new ByteReader(value, 'token', (m) => new StateCorruptError(m));
  if (r.u8() !== VERSION) throw new StateCorruptError('token record version');
  const notAfter = r.u64();
  const token = r.bytes(TOKEN_BYTES);
  r.end();
  return { key, value, notAfter, token };
}

/** The first moment of the UTC day after the one of `ms`. */
export const nextUtcDay = (ms: number): number => (Math.floor(ms / DAY_MS) + 1) * DAY_MS;

/** The token wallet of one client. */
export class TokenWallet {
  private readonly timer: OutboxTimer;
  private cancel: (() => void) | undefined;
  private stopped = true;
  private running: Promise<unknown> = Promise.resolve();
  /** Automatic refills wait until then after `TOKEN_QUOTA_EXCEEDED` (the next UTC day). */
  private quotaUntil = Number.NEGATIVE_INFINITY;
  /** The key of the service's current server certificate, once fetched and validated. */
  private fetchedKey: Uint8Array | undefined;
  /** What the service said the account may still take on a UTC day. */
  private remaining: { readonly day: number; readonly count: number } | undefined;

  constructor(
    private readonly ctx: {
      readonly http: TokenHttp;
      readonly store: StateStore;
      readonly backend: CryptoBackend;
      readonly trust: TrustConfig;
      readonly rng: Rng;
      readonly now: () => number;
      readonly policy: TokenPolicy;
      readonly timer?: OutboxTimer | undefined;
      /** The server certificate inside this device's cached sender certificate, if any. */
      readonly ownServerCertificate?: () => Promise<Uint8Array | undefined>;
    },
  ) {
    this.timer = ctx.timer ?? defaultTimer;
  }

  /** Tokens held that can still be spent. */
  async count(): Promise<number> {
    return (await this.usable()).length;
  }

  /** Whether an automatic refill is scheduled. */
  get refillScheduled(): boolean {
    return this.cancel !== undefined;
  }

  /**
   * Starts automatic refills: drops expired tokens and, below the low-water mark, schedules a
   * refill after a random delay.
   */
  async start(): Promise<void> {
    this.stopped = false;
    const held = await this.usable(true);
    if (held.length < this.ctx.policy.lowWater) this.schedule();
  }

  /** Cancels the refill timer (tokens stay in the store). */
  stop(): void {
    this.stopped = true;
    this.cancel?.();
    this.cancel = undefined;
  }

  /**
   * Removes one token from the store and returns it: the caller spends it on one message (and
   * on that message's retries only). Expired tokens are dropped on the way. Below the low-water
   * mark afterwards, a refill is scheduled (never run here).
   *
   * @throws {NoTokensError} if no token is held (a refill is scheduled).
   */
  async take(): Promise<Uint8Array> {
    for (;;) {
      const held = await this.usable(true);
      const pick = held[0];
      if (pick === undefined) {
        this.schedule();
        throw new NoTokensError();
      }
      try {
        // Conditional: a concurrent taker over the same store gets another token.
        await this.ctx.store.commit([{ ns: NS, key: pick.key, value: null, expect: pick.value }]);
      } catch (err) {
        if (err instanceof StoreConflictError) continue;
        throw err;
      }
      if (held.length - 1 < this.ctx.policy.lowWater) this.schedule();
      return pick.token;
    }
  }

  /**
   * Fetches one batch of tokens now (fewer when the wallet would pass {@link MAX_HELD_TOKENS})
   * and resolves how many are held then. Runs after any refill in progress.
   *
   * @throws {TokenKeysRefusedError} if the key list does not verify or changes a pinned key.
   * @throws {ApiError} `TOKEN_QUOTA_EXCEEDED` (automatic refills wait for the next UTC day),
   *   `STALE_TOKEN_KEY` (after one refetch of the keys), `ACCOUNT_SUSPENDED`, ...
   * @throws {TokenError} `INVALID_TOKEN_RESPONSE` if a blind signature does not verify under
   *   the listed key (nothing of the batch is kept).
   * @throws {NetworkError | AbortedError}
   */
  refill(call?: CallOptions): Promise<number> {
    const next = this.running.then(() => this.refillNow(call));
    this.running = next.catch(() => undefined);
    return next;
  }

  private async refillNow(call: CallOptions | undefined): Promise<number> {
    const held = (await this.usable(true)).length;
    const today = Math.floor(this.ctx.now() / DAY_MS);
    const left = this.remaining?.day === today ? this.remaining.count : MAX_TOKEN_BATCH;
    if (left === 0) {
      this.quotaUntil = nextUtcDay(this.ctx.now());
      throw new ApiError('TOKEN_QUOTA_EXCEEDED', 429, 'issueTokens', 'the daily quota is used up');
    }
    const n = Math.min(this.ctx.policy.batchSize, MAX_HELD_TOKENS - held, left);
    if (n <= 0) return held;
    let key = await this.issuingKey(call);
    let issued: Uint8Array[];
    try {
      try {
        issued = await this.issue(key, n, call);
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 'STALE_TOKEN_KEY')) throw err;
        // The service issues under another day's key: the list once more.
        key = await this.issuingKey(call);
        issued = await this.issue(key, n, call);
      }
    } catch (err) {
      if (err instanceof ApiError && err.code === 'TOKEN_QUOTA_EXCEEDED') {
        this.quotaUntil = nextUtcDay(this.ctx.now());
      }
      throw err;
    }
    const ops: StoreOp[] = issued.map((token) => ({
      ns: NS,
      // The nonce (bytes 2..34) is random and unique to the token.
      key: `${TOKEN_PREFIX}${toBase64Url(token.subarray(2, 34))}`,
      value: encodeHeld(key.entry.notAfter, token),
    }));
    await this.ctx.store.commit(ops);
    return held + issued.length;
  }

  /**
   * Blinds `n` token requests, has as many of them signed as the quota takes, and finishes the
   * tokens.
   */
  private async issue(key: IssuingKey, n: number, call: CallOptions | undefined) {
    const pending: PendingToken[] = [];
    const requests: string[] = [];
    for (let i = 0; i < n; i++) {
      const t = beginToken(this.ctx.rng, {
        publicKey: key.entry.publicKey,
        challenge: key.challenge,
      });
      pending.push(t.pending);
      requests.push(toBase64Url(t.request));
    }
    // The service refuses a batch its quota cannot take whole (taking nothing): halve it until
    // it fits (a new account's quota is smaller than a batch). The blinded requests are reused.
    let k = n;
    let res: Awaited<ReturnType<TokenHttp['issueTokens']>>;
    for (;;) {
      try {
        const body = { keyId: toBase64Url(key.keyId), requests: requests.slice(0, k) };
        res = await this.ctx.http.issueTokens(body, call);
        break;
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 'TOKEN_QUOTA_EXCEEDED' && k > 1)) throw err;
        k = Math.floor(k / 2);
      }
    }
    this.remaining = { day: Math.floor(this.ctx.now() / DAY_MS), count: res.remaining };
    if (res.responses.length !== k || !equalBytes(fromBase64Url(res.keyId, 'keyId'), key.keyId)) {
      throw new InvalidResponseError('issueTokens: the responses do not answer the requests');
    }
    // finishToken verifies each signature under the listed key: a response made with any other
    // key (one meant to mark this client) fails here.
    return res.responses.map((r, i) => finishToken(pending[i]!, fromBase64Url(r, 'response')));
  }

  /** Fetches and verifies the key list, pins its keys, and picks the one issuing now. */
  private async issuingKey(call: CallOptions | undefined): Promise<IssuingKey> {
    const res = await this.ctx.http.tokenKeys(call);
    const bytes = fromBase64Url(res.keys, 'keys');
    let list: TokenKeyList;
    try {
      list = decodeTokenKeyList(bytes);
    } catch (cause) {
      throw new TokenKeysRefusedError('malformed', { cause });
    }
    const payload = concatBytes(
      LABELS.TOKEN_KEYS,
      bytes.subarray(0, bytes.length - SIGNATURE_BYTES),
    );
    if (!(await this.signedByTrustedServer(payload, list.signature, call))) {
      throw new TokenKeysRefusedError('signature');
    }
    await this.pin(list);
    // The service's clock names the day: the list was built when it was fetched.
    const today = Math.floor(list.issuedAt / DAY_MS);
    const entry =
      list.keys.find((k) => k.day === today) ?? [...list.keys].reverse().find((k) => k.day < today);
    if (entry === undefined) throw new TokenKeysRefusedError('no-issuing-key');
    return {
      entry,
      keyId: tokenKeyId(entry.publicKey),
      challenge: tokenChallenge({ issuerName: list.issuerName }),
    };
  }

  /**
   * Pins the key of each day the list names for the first time; refuses the list (pinning
   * nothing) if it names another key for a pinned day.
   */
  private async pin(list: TokenKeyList): Promise<void> {
    const pins = await this.pins();
    let changed = false;
    for (const k of list.keys) {
      const id = tokenKeyId(k.publicKey);
      const pinned = pins.get(k.day);
      if (pinned === undefined) {
        pins.set(k.day, id);
        changed = true;
      } else if (!equalBytes(pinned, id)) {
        throw new TokenKeysRefusedError('key-changed');
      }
    }
    const oldest = Math.floor(this.ctx.now() / DAY_MS) - PIN_DAYS;
    for (const day of [...pins.keys()]) {
      if (day < oldest) {
        pins.delete(day);
        changed = true;
      }
    }
    if (!changed) return;
    const kept = [...pins.entries()].sort((a, b) => a[0] - b[0]).slice(-255);
    const w = new ByteWriter(2 + kept.length * (4 + KEY_ID_BYTES)).u8(VERSION).u8(kept.length);
    for (const [day, id] of kept) w.u32(day).bytes(id);
    await this.ctx.store.commit([{ ns: NS, key: PINS_KEY, value: w.finish() }]);
  }

  /** The pinned key id of each UTC day. */
  private async pins(): Promise<Map<number, Uint8Array>> {
    const out = new Map<number, Uint8Array>();
    const bytes = await this.ctx.store.get(NS, PINS_KEY);
    if (bytes === undefined) return out;
    const r = new ByteReader(bytes, 'token key pins', (m) => new StateCorruptError(m));
    if (r.u8() !== VERSION) throw new StateCorruptError('token key pins record version');
    const n = r.u8();
    for (let i = 0; i < n; i++) out.set(r.u32(), r.bytes(KEY_ID_BYTES));
    r.end();
    return out;
  }

  /** Whether a server key that chains to the pinned trust root signed `payload`. */
  private async signedByTrustedServer(
    payload: Uint8Array,
    signature: Uint8Array,
    call: CallOptions | undefined,
  ): Promise<boolean> {
    const { backend, trust } = this.ctx;
    const verify = (key: Uint8Array) => backend.ed25519Verify(key, payload, signature);
    const now = this.ctx.now();
    const own = await this.ctx.ownServerCertificate?.();
    const ownKey = own === undefined ? undefined : await trustedServerKey(backend, trust, own, now);
    if (ownKey !== undefined && (await verify(ownKey))) return true;
    if (this.fetchedKey !== undefined && (await verify(this.fetchedKey))) return true;
    const res = await this.ctx.http.serverCertificate(call);
    const fetched = await trustedServerKey(
      backend,
      trust,
      fromBase64Url(res.serverCertificate, 'serverCertificate'),
      now,
    );
    if (fetched === undefined) return false;
    this.fetchedKey = fetched;
    return verify(fetched);
  }

  /**
   * The tokens that can still be spent, the soonest to expire first; with `prune`, expired
   * ones are deleted.
   */
  private async usable(prune = false): Promise<HeldToken[]> {
    const { store } = this.ctx;
    const limit = this.ctx.now() + TOKEN_EXPIRY_MARGIN_MS;
    const out: HeldToken[] = [];
    const expired: StoreOp[] = [];
    for (const key of await store.keys(NS)) {
      if (!key.startsWith(TOKEN_PREFIX)) continue;
      const value = await store.get(NS, key);
      if (value === undefined) continue;
      const held = decodeHeld(key, value);
      if (held.notAfter < limit) expired.push({ ns: NS, key, value: null });
      else out.push(held);
    }
    if (prune && expired.length > 0) await store.commit(expired);
    return out.sort((a, b) => a.notAfter - b.notAfter || (a.key < b.key ? -1 : 1));
  }

  /**
   * Schedules an automatic refill after a uniformly random delay (unless one is scheduled, the
   * wallet is stopped or automatic refills are off); after `TOKEN_QUOTA_EXCEEDED`, not before
   * the next UTC day.
   */
  private schedule(): void {
    const { policy } = this.ctx;
    if (this.stopped || !policy.autoRefill || this.cancel !== undefined) return;
    const span = policy.maxRefillDelayMs - policy.minRefillDelayMs;
    let delay = policy.minRefillDelayMs + Math.floor(randomFraction(this.ctx.rng) * (span + 1));
    const now = this.ctx.now();
    if (this.quotaUntil > now) delay += this.quotaUntil - now;
    this.cancel = this.timer(() => {
      this.cancel = undefined;
      void this.autoRefill();
    }, delay);
  }

  private async autoRefill(): Promise<void> {
    if (this.stopped) return;
    try {
      const held = await this.refill();
      if (held < this.ctx.policy.lowWater) this.schedule();
    } catch {
      // Tried again at another random time (after a quota refusal, the next UTC day); the app
      // sees failures through refillTokens().
      this.schedule();
    }
  }
}
