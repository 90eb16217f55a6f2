/**
 * The anonymous-token wallet (sdk/client/token-wallet.ts, docs/SDK.md §Message requests)
 * against a fake service with a real issuer: tokens verify under the listed key and are handed
 * out once only, also to a second wallet over the same store (a restart) and to concurrent
 * takers; expired ones are dropped; a key list is used only when a server key chaining to the
 * pinned root signed it, and a key once seen for a day cannot change; a quota refusal defers
 * automatic refills to the next UTC day; a stale key is refetched once; automatic refills run
 * at random times within the configured bounds, never inside `take`.
 */
import { describe, expect, it } from 'vitest';
import {
  blindSign,
  generateTokenIssuerKey,
  type TokenIssuerKey,
  tokenVerifierKey,
  verifyToken,
} from '#functions/domain/token-issuer.ts';
import { ApiError, NoTokensError, TokenKeysRefusedError } from '#sdk/client/errors.ts';
import type { OutboxTimer } from '#sdk/client/outbox.ts';
import {
  DEFAULT_MAX_REFILL_DELAY_MS,
  DEFAULT_MIN_REFILL_DELAY_MS,
  nextUtcDay,
  TOKEN_EXPIRY_MARGIN_MS,
  type TokenHttp,
  type TokenOptions,
  TokenWallet,
  tokenPolicy,
} from '#sdk/client/token-wallet.ts';
import type { Rng } from '#sdk/crypto/backend.ts';
import { defaultBackend as backend, systemRng } from '#sdk/crypto/index.ts';
import { issueServerCertificate, type TrustConfig } from '#sdk/protocol/certificates.ts';
import { MemoryStore } from '#sdk/state/memory-store.ts';
import { tokenChallenge, tokenChallengeDigest } from '#sdk/tokens/encoding.ts';
import { TokenError } from '#sdk/tokens/errors.ts';
import { ArgumentRangeError } from '#sdk/util/argument-errors.ts';
import { fromBase64Url, toBase64Url } from '#sdk/util/bytes.ts';
import {
  encodeTokenKeyList,
  type TokenKeyEntry,
  tokenKeyListPayload,
} from '#sdk/wire/token-keys.ts';

const DAY = 86_400_000;
/** Noon of a UTC day. */
const T0 = 20_000 * DAY + DAY / 2;
const ISSUER = 'sealpost.test';

const seed = () => crypto.getRandomValues(new Uint8Array(32));

// RSA key generation takes ~100 ms: two keys serve every test.
const KEY_A = generateTokenIssuerKey();
const KEY_B = generateTokenIssuerKey();

interface Clock {
  now: number;
}

/** A timer that records what is scheduled and fires only when the test says so. */
function fakeTimer() {
  const live: { callback: () => void; delayMs: number; cancelled: boolean }[] = [];
  const timer: OutboxTimer = (callback, delayMs) => {
    // Firing ends the entry, as a real timer's.
    const entry = {
      callback: () => {
        entry.cancelled = true;
        callback();
      },
      delayMs,
      cancelled: false,
    };
    live.push(entry);
    return () => {
      entry.cancelled = true;
    };
  };
  return { timer, live: () => live.filter((t) => !t.cancelled), all: live };
}

/** The fake service: a signed key list of the keys it is told, and blind signatures. */
async function service(clock: Clock) {
  const rootSeed = seed();
  const trust: TrustConfig = {
    trustRoot: await backend.ed25519PublicKey(rootSeed),
    revokedServerKeyIds: [],
  };
  const serverSeed = seed();
  const certificate = await issueServerCertificate(backend, rootSeed, {
    keyId: 1,
    serverPublic: await backend.ed25519PublicKey(serverSeed),
    notAfter: T0 + 365 * DAY,
  });
  const state = {
    /** The keys listed, by day. */
    keys: new Map<number, TokenIssuerKey>([[Math.floor(T0 / DAY), KEY_A]]),
    /** What signs the list (the server key unless a test swaps it). */
    listSigner: serverSeed,
    /** The server certificate the service presents. */
    certificate,
    /** Raw list bytes to serve instead (a malformed list). */
    rawList: undefined as Uint8Array | undefined,
    /** The key the issuer signs with, by requested key (a test may make it cheat). */
    signWith: undefined as TokenIssuerKey | undefined,
    /** Errors the next issue calls throw, in order. */
    issueErrors: [] as ApiError[],
    /** Tokens the account may still take today; a batch above it is refused whole. */
    quota: 1_000,
    /** Sizes of the batches asked for. */
    batches: [] as number[],
    calls: [] as string[],
  };
  const listFor = (key: TokenIssuerKey, day: number): TokenKeyEntry => ({
    day,
    notAfter: (day + 3) * DAY - 1,
    publicKey: key.publicKey,
  });
  const http: TokenHttp = {
    tokenKeys: async () => {
      state.calls.push('tokenKeys');
      if (state.rawList) return { keys: toBase64Url(state.rawList) };
      const keys = [...state.keys.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([day, key]) => listFor(key, day));
      const body = { issuedAt: clock.now, issuerName: ISSUER, keys };
      const signature = await backend.ed25519Sign(state.listSigner, tokenKeyListPayload(body));
      return { keys: toBase64Url(encodeTokenKeyList({ ...body, signature })) };
    },
    issueTokens: async (body) => {
      state.calls.push('issueTokens');
      state.batches.push(body.requests.length);
      const error = state.issueErrors.shift();
      if (error) throw error;
      if (body.requests.length > state.quota) {
        throw new ApiError('TOKEN_QUOTA_EXCEEDED', 429, 'issueTokens', 'quota');
      }
      state.quota -= body.requests.length;
      const today = state.keys.get(Math.floor(clock.now / DAY));
      if (!today) throw new Error('no key today');
      const signer = state.signWith ?? today;
      return {
        keyId: body.keyId,
        responses: body.requests.map((r) =>
          toBase64Url(blindSign(signer, fromBase64Url(r)) ?? new Uint8Array(256)),
        ),
        remaining: Math.min(state.quota, 1_000),
      };
    },
    serverCertificate: async () => {
      state.calls.push('serverCertificate');
      return { serverCertificate: toBase64Url(state.certificate) };
    },
  };
  return { trust, rootSeed, serverSeed, state, http };
}

async function setup(
  options: TokenOptions = {},
  extra: { store?: MemoryStore; rng?: Rng; clock?: Clock } = {},
) {
  const clock = extra.clock ?? { now: T0 };
  const svc = await service(clock);
  const timer = fakeTimer();
  const store = extra.store ?? new MemoryStore();
  const make = (s = store, rng: Rng = extra.rng ?? systemRng) =>
    new TokenWallet({
      http: svc.http,
      store: s,
      backend,
      trust: svc.trust,
      rng,
      now: () => clock.now,
      policy: tokenPolicy(options),
      timer: timer.timer,
    });
  return { ...svc, clock, timer, store, wallet: make(), make };
}

/** Whether `token` verifies as a token of `key` for the test issuer. */
function valid(key: TokenIssuerKey, token: Uint8Array): boolean {
  return verifyToken(tokenVerifierKey(key.publicKey), token, {
    challengeDigest: tokenChallengeDigest(tokenChallenge({ issuerName: ISSUER })),
    keyId: key.keyId,
  });
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('token wallet', () => {
  it('issues a batch of tokens that verify under the listed key', async () => {
    const { wallet, state } = await setup();
    expect(await wallet.refill()).toBe(10);
    expect(await wallet.count()).toBe(10);
    expect(state.calls).toEqual(['tokenKeys', 'serverCertificate', 'issueTokens']);
    const token = await wallet.take();
    expect(token).toHaveLength(354);
    expect(valid(KEY_A, token)).toBe(true);
    expect(valid(KEY_B, token)).toBe(false);
    expect(await wallet.count()).toBe(9);
  });

  it('asks for the configured batch size, and never holds more than 100', async () => {
    const { wallet } = await setup({ batchSize: 20 });
    for (let i = 0; i < 5; i++) await wallet.refill();
    expect(await wallet.count()).toBe(100);
    expect(await wallet.refill()).toBe(100);
  }, 60_000);

  it('never hands out a token twice: not after a restart, not to concurrent takers', async () => {
    const { wallet, make, store } = await setup();
    await wallet.refill();
    const first = await wallet.take();
    // A second wallet over the same store (the app restarted).
    const reopened = make(store);
    expect(await reopened.count()).toBe(9);
    const rest = await Promise.all([
      ...Array.from({ length: 5 }, () => wallet.take()),
      ...Array.from({ length: 4 }, () => reopened.take()),
    ]);
    const seen = new Set([first, ...rest].map(hex));
    expect(seen.size).toBe(10);
    await expect(wallet.take()).rejects.toBeInstanceOf(NoTokensError);
    await expect(reopened.take()).rejects.toMatchObject({ code: 'NO_TOKENS', retryable: true });
    // The records are gone from the store, not only hidden.
    expect((await store.keys('token')).filter((k) => k.startsWith('t:'))).toEqual([]);
  });

  it('drops tokens whose key expires, and keeps the soonest-expiring first in line', async () => {
    const { wallet, clock, state, store } = await setup({ batchSize: 2 });
    const day = Math.floor(T0 / DAY);
    await wallet.refill();
    // The next day's key: its tokens live a day longer.
    clock.now += DAY;
    state.keys.set(day + 1, KEY_B);
    await wallet.refill();
    expect(await wallet.count()).toBe(4);
    expect(valid(KEY_A, await wallet.take())).toBe(true);
    // Past the first key's notAfter (less the margin): its last token is dropped.
    clock.now = (day + 3) * DAY - TOKEN_EXPIRY_MARGIN_MS;
    expect(await wallet.count()).toBe(2);
    expect(valid(KEY_B, await wallet.take())).toBe(true);
    expect((await store.keys('token')).filter((k) => k.startsWith('t:'))).toHaveLength(1);
    clock.now = (day + 4) * DAY;
    await expect(wallet.take()).rejects.toBeInstanceOf(NoTokensError);
    expect((await store.keys('token')).filter((k) => k.startsWith('t:'))).toEqual([]);
  });

  describe('refuses key lists that do not verify', () => {
    it('unsigned', async () => {
      const { wallet, state } = await setup();
      state.listSigner = new Uint8Array(32); // a key nobody certified
      const refusal = wallet.refill();
      await expect(refusal).rejects.toBeInstanceOf(TokenKeysRefusedError);
      await expect(wallet.refill()).rejects.toMatchObject({
        code: 'TOKEN_KEYS_REFUSED',
        reason: 'signature',
      });
      expect(state.calls).not.toContain('issueTokens');
      expect(await wallet.count()).toBe(0);
    });

    it('signed by a server key of another root', async () => {
      const { wallet, state } = await setup();
      const otherRoot = seed();
      const otherServer = seed();
      state.listSigner = otherServer;
      state.certificate = await issueServerCertificate(backend, otherRoot, {
        keyId: 1,
        serverPublic: await backend.ed25519PublicKey(otherServer),
        notAfter: T0 + DAY,
      });
      await expect(wallet.refill()).rejects.toMatchObject({ reason: 'signature' });
      expect(state.calls).not.toContain('issueTokens');
    });

    it('signed by the server key after the list was changed', async () => {
      const { wallet, state, http } = await setup();
      const good = fromBase64Url((await http.tokenKeys()).keys);
      good[good.length - 70] = good[good.length - 70]! ^ 1; // inside the last key
      state.rawList = good;
      await expect(wallet.refill()).rejects.toMatchObject({ reason: 'signature' });
    });

    it('malformed', async () => {
      const { wallet, state } = await setup();
      state.rawList = new Uint8Array([1, 2, 3]);
      await expect(wallet.refill()).rejects.toMatchObject({ reason: 'malformed' });
      expect(state.calls).not.toContain('issueTokens');
    });

    it('naming no key for the current day', async () => {
      const { wallet, state } = await setup();
      state.keys = new Map([[Math.floor(T0 / DAY) + 1, KEY_B]]);
      await expect(wallet.refill()).rejects.toMatchObject({ reason: 'no-issuing-key' });
    });
  });

  it('pins the first key seen for a day and refuses a list that changes it, across a restart', async () => {
    const { wallet, state, make, store, clock } = await setup({ batchSize: 1 });
    const day = Math.floor(T0 / DAY);
    await wallet.refill();
    // The service now claims another key for the same day (a key for this client alone).
    state.keys.set(day, KEY_B);
    await expect(wallet.refill()).rejects.toMatchObject({ reason: 'key-changed' });
    await expect(make(store).refill()).rejects.toMatchObject({ reason: 'key-changed' });
    expect(await wallet.count()).toBe(1);
    // A list that adds the next day's key and keeps today's is taken.
    state.keys.set(day, KEY_A);
    state.keys.set(day + 1, KEY_B);
    expect(await make(store).refill()).toBe(2);
    // ...and then the next day's key is pinned too.
    clock.now += DAY;
    state.keys.set(day + 1, KEY_A);
    await expect(wallet.refill()).rejects.toMatchObject({ reason: 'key-changed' });
  });

  it('keeps nothing of a batch signed with another key than the listed one', async () => {
    const { wallet, state } = await setup();
    state.signWith = KEY_B;
    await expect(wallet.refill()).rejects.toBeInstanceOf(TokenError);
    await expect(wallet.refill()).rejects.toMatchObject({ code: 'INVALID_TOKEN_RESPONSE' });
    expect(await wallet.count()).toBe(0);
  });

  it('asks for what a small quota takes, and not again that day once it is used up', async () => {
    const { wallet, state, clock } = await setup();
    state.quota = 5; // a new account's daily quota
    expect(await wallet.refill()).toBe(5);
    expect(state.batches).toEqual([10, 5]);
    // The service said nothing is left: no request until the next UTC day.
    await expect(wallet.refill()).rejects.toMatchObject({ code: 'TOKEN_QUOTA_EXCEEDED' });
    expect(state.batches).toEqual([10, 5]);
    state.quota = 3;
    clock.now = nextUtcDay(clock.now) + 1;
    state.keys.set(Math.floor(clock.now / DAY), KEY_A);
    // Halving: 10 and 5 are refused, 2 fit; the one left comes with the next refill.
    expect(await wallet.refill()).toBe(7);
    expect(await wallet.refill()).toBe(8);
    expect(state.batches).toEqual([10, 5, 10, 5, 2, 1]);
  });

  it('refetches the keys once after STALE_TOKEN_KEY', async () => {
    const { wallet, state } = await setup();
    state.issueErrors.push(new ApiError('STALE_TOKEN_KEY', 409, 'issueTokens', 'stale'));
    expect(await wallet.refill()).toBe(10);
    expect(state.calls.filter((c) => c === 'tokenKeys')).toHaveLength(2);
    expect(state.calls.filter((c) => c === 'issueTokens')).toHaveLength(2);
    // Twice in a row: the error reaches the caller, nothing is held.
    const { wallet: other, state: otherState } = await setup();
    otherState.issueErrors.push(
      new ApiError('STALE_TOKEN_KEY', 409, 'issueTokens', 'stale'),
      new ApiError('STALE_TOKEN_KEY', 409, 'issueTokens', 'stale'),
    );
    await expect(other.refill()).rejects.toMatchObject({ code: 'STALE_TOKEN_KEY' });
    expect(otherState.calls.filter((c) => c === 'issueTokens')).toHaveLength(2);
    expect(await other.count()).toBe(0);
  });

  describe('automatic refills', () => {
    it('are scheduled at start at a random time within the bounds, and run only on the timer', async () => {
      const { wallet, timer, state } = await setup({
        minRefillDelayMs: 1_000,
        maxRefillDelayMs: 9_000,
      });
      await wallet.start();
      expect(state.calls).toEqual([]);
      const [scheduled] = timer.live();
      expect(timer.live()).toHaveLength(1);
      expect(scheduled!.delayMs).toBeGreaterThanOrEqual(1_000);
      expect(scheduled!.delayMs).toBeLessThanOrEqual(9_000);
      scheduled!.callback();
      await expect.poll(() => wallet.count()).toBe(10);
      // Above the low-water mark: nothing more is scheduled.
      expect(timer.live()).toHaveLength(0);
    });

    it('draw their delay uniformly from the whole range', async () => {
      const bytes = (b: number) => () => new Uint8Array(4).fill(b);
      const delays: number[] = [];
      for (const rng of [bytes(0), bytes(0xff), bytes(0x80)]) {
        const { wallet, timer } = await setup({}, { rng });
        await wallet.start();
        delays.push(timer.live()[0]!.delayMs);
      }
      expect(delays[0]).toBe(DEFAULT_MIN_REFILL_DELAY_MS);
      expect(delays[1]).toBe(DEFAULT_MAX_REFILL_DELAY_MS);
      expect(delays[2]).toBeGreaterThan(DEFAULT_MIN_REFILL_DELAY_MS);
      expect(delays[2]).toBeLessThan(DEFAULT_MAX_REFILL_DELAY_MS);
      // With the platform's randomness, draws differ.
      const draws = new Set<number>();
      for (let i = 0; i < 8; i++) {
        const { wallet, timer } = await setup();
        await wallet.start();
        draws.add(timer.live()[0]!.delayMs);
      }
      expect(draws.size).toBeGreaterThan(1);
    });

    it('never run inside take: an empty wallet or one below the low-water mark only schedules', async () => {
      const { wallet, timer, state } = await setup({ batchSize: 4, lowWater: 3 });
      await wallet.refill();
      state.calls.length = 0;
      await wallet.start();
      expect(timer.live()).toHaveLength(0);
      await wallet.take();
      expect(timer.live()).toHaveLength(0); // 3 left: not below the mark
      await wallet.take();
      expect(timer.live()).toHaveLength(1); // 2 left
      await wallet.take();
      await wallet.take();
      await expect(wallet.take()).rejects.toBeInstanceOf(NoTokensError);
      // One timer for all of it, and no request was made by any take.
      expect(timer.live()).toHaveLength(1);
      expect(state.calls).toEqual([]);
    });

    it('back off to the next UTC day after TOKEN_QUOTA_EXCEEDED', async () => {
      const { wallet, timer, state, clock } = await setup({
        minRefillDelayMs: 10,
        maxRefillDelayMs: 20,
      });
      state.quota = 0;
      await wallet.start();
      timer.live()[0]!.callback();
      await expect.poll(() => timer.live().length).toBe(1);
      const wait = timer.live()[0]!.delayMs;
      expect(wait).toBeGreaterThanOrEqual(nextUtcDay(clock.now) - clock.now + 10);
      expect(wait).toBeLessThanOrEqual(nextUtcDay(clock.now) - clock.now + 20);
      // Refused batch by batch down to one token, each taking nothing.
      expect(state.batches).toEqual([10, 5, 2, 1]);
      // The next day the refill goes through.
      state.quota = 20;
      clock.now = nextUtcDay(clock.now) + 15;
      state.keys.set(Math.floor(clock.now / DAY), KEY_A);
      timer.live()[0]!.callback();
      await expect.poll(() => wallet.count()).toBe(10);
    });

    it('try again at another random time after a failure', async () => {
      const { wallet, timer, state } = await setup({ minRefillDelayMs: 5, maxRefillDelayMs: 5 });
      state.rawList = new Uint8Array([9]);
      await wallet.start();
      timer.live()[0]!.callback();
      await expect.poll(() => timer.all.length).toBe(2);
      expect(timer.live()).toHaveLength(1);
      expect(timer.live()[0]!.delayMs).toBe(5);
    });

    it('are off with autoRefill: false, and stop clears the timer', async () => {
      const off = await setup({ autoRefill: false });
      await off.wallet.start();
      await expect(off.wallet.take()).rejects.toBeInstanceOf(NoTokensError);
      expect(off.timer.all).toHaveLength(0);
      const on = await setup();
      await on.wallet.start();
      expect(on.wallet.refillScheduled).toBe(true);
      on.wallet.stop();
      expect(on.timer.live()).toHaveLength(0);
      await expect(on.wallet.take()).rejects.toBeInstanceOf(NoTokensError);
      expect(on.timer.live()).toHaveLength(0);
    });
  });

  it('checks its options', () => {
    expect(tokenPolicy(undefined)).toEqual({
      batchSize: 10,
      lowWater: 3,
      minRefillDelayMs: 60_000,
      maxRefillDelayMs: 1_800_000,
      autoRefill: true,
    });
    for (const bad of [
      { batchSize: 0 },
      { batchSize: 21 },
      { lowWater: -1 },
      { lowWater: 101 },
      { minRefillDelayMs: 10, maxRefillDelayMs: 5 },
      { maxRefillDelayMs: DAY + 1 },
      { minRefillDelayMs: 1.5 },
    ]) {
      expect(() => tokenPolicy(bad)).toThrow(ArgumentRangeError);
    }
  });
});
