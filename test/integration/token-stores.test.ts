/**
 * The token ports' contracts (functions/domain/token-ports.ts) against the in-memory adapters
 * and the DynamoDB adapters on DynamoDB Local (a fresh table per store): the daily issuance
 * quota (granted up to the limit, per account and per day, never overshot by concurrent
 * takes), spent tokens (each id spent once, also when 64 redemptions with distinct bindings race;
 * the same binding again is told apart) and the daily issuer
 * keys (first writer wins under concurrent writers, lookup by day, ranges oldest first). Then
 * the items as they are in the table: their keys, TTLs, and that a spent token names nothing
 * but its id and its binding.
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoSpentTokens } from '#functions/adapters/dynamodb/dynamo-spent-tokens.ts';
import { DynamoTokenKeys } from '#functions/adapters/dynamodb/dynamo-token-keys.ts';
import { DynamoTokenQuota } from '#functions/adapters/dynamodb/dynamo-token-quota.ts';
import { MemorySpentTokens } from '#functions/adapters/memory/memory-spent-tokens.ts';
import { MemoryTokenKeys } from '#functions/adapters/memory/memory-token-keys.ts';
import { MemoryTokenQuota } from '#functions/adapters/memory/memory-token-quota.ts';
import { randomBytes } from '#functions/domain/crypto.ts';
import type {
  SpentTokens,
  StoredTokenKey,
  TokenKeyStore,
  TokenQuota,
} from '#functions/domain/token-ports.ts';
import { useLocalAws } from '../helpers/use-local-aws.ts';

const local = useLocalAws();

const DAY_MS = 86_400_000;
/**
 * Today, not a fixed day: DynamoDB Local runs TTL deletion by the wall clock, so items whose
 * `ttl` is in the real past vanish while a test reads them.
 */
const TODAY = Math.floor(Date.now() / DAY_MS);

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
/** A well-formed random address (32 characters of a-z2-7). */
const randomAddress = (): string => Array.from(randomBytes(32), (b) => BASE32[b % 32]).join('');

function tokenKey(day: number): StoredTokenKey {
  return {
    day,
    keyId: randomBytes(32),
    publicKey: randomBytes(422),
    wrappedPrivateKey: randomBytes(1266),
    notAfter: (day + 9) * DAY_MS - 1,
  };
}

function quotaContract(name: string, make: () => Promise<TokenQuota>): void {
  describe(`TokenQuota contract: ${name}`, () => {
    it('grants up to the limit and refuses beyond it, leaving the counter as it was', async () => {
      const quota = await make();
      const a = randomAddress();
      expect(await quota.take(a, TODAY, 8, 20)).toEqual({ granted: true, used: 8 });
      expect(await quota.take(a, TODAY, 12, 20)).toEqual({ granted: true, used: 20 });
      expect(await quota.take(a, TODAY, 1, 20)).toEqual({ granted: false, used: 20 });
      expect(await quota.take(a, TODAY, 20, 20)).toEqual({ granted: false, used: 20 });
      // A higher limit (a changed configuration) grants again from the same counter.
      expect(await quota.take(a, TODAY, 5, 25)).toEqual({ granted: true, used: 25 });
    });

    it('refuses a batch that would pass the limit but grants a smaller one', async () => {
      const quota = await make();
      const a = randomAddress();
      expect(await quota.take(a, TODAY, 15, 20)).toEqual({ granted: true, used: 15 });
      expect(await quota.take(a, TODAY, 6, 20)).toEqual({ granted: false, used: 15 });
      expect(await quota.take(a, TODAY, 5, 20)).toEqual({ granted: true, used: 20 });
    });

    it('never grants more than the limit at once, counter present or not', async () => {
      const quota = await make();
      const a = randomAddress();
      expect(await quota.take(a, TODAY, 21, 20)).toEqual({ granted: false, used: 0 });
      expect(await quota.take(a, TODAY, 3, 20)).toEqual({ granted: true, used: 3 });
      expect(await quota.take(a, TODAY, 21, 20)).toEqual({ granted: false, used: 3 });
    });

    it('counts each account and each day on its own', async () => {
      const quota = await make();
      const [a, b] = [randomAddress(), randomAddress()];
      expect(await quota.take(a, TODAY, 10, 10)).toEqual({ granted: true, used: 10 });
      expect(await quota.take(a, TODAY, 1, 10)).toEqual({ granted: false, used: 10 });
      expect(await quota.take(b, TODAY, 10, 10)).toEqual({ granted: true, used: 10 });
      expect(await quota.take(a, TODAY + 1, 4, 10)).toEqual({ granted: true, used: 4 });
      expect(await quota.take(a, TODAY - 1, 1, 10)).toEqual({ granted: true, used: 1 });
      expect(await quota.take(a, TODAY, 1, 10)).toEqual({ granted: false, used: 10 });
    });

    it('grants exactly the limit to 64 concurrent takes', async () => {
      const quota = await make();
      const a = randomAddress();
      const results = await Promise.all(
        Array.from({ length: 64 }, () => quota.take(a, TODAY, 1, 20)),
      );
      const granted = results.filter((r) => r.granted);
      expect(granted).toHaveLength(20);
      // Each grant saw its own count: 1..20, once each.
      expect(granted.map((r) => r.used).sort((x, y) => x - y)).toEqual(
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      expect(results.filter((r) => !r.granted).every((r) => r.used === 20)).toBe(true);
      expect(await quota.take(a, TODAY, 1, 20)).toEqual({ granted: false, used: 20 });
    });

    it('refuses malformed arguments before storing anything', async () => {
      const quota = await make();
      const a = randomAddress();
      await expect(quota.take('not-an-address', TODAY, 1, 20)).rejects.toThrow(TypeError);
      await expect(quota.take(a, -1, 1, 20)).rejects.toThrow(RangeError);
      await expect(quota.take(a, 1.5, 1, 20)).rejects.toThrow(RangeError);
      await expect(quota.take(a, TODAY, 0, 20)).rejects.toThrow(RangeError);
      await expect(quota.take(a, TODAY, 1, 1001)).rejects.toThrow(RangeError);
      await expect(quota.take(a, TODAY, 1001, 1000)).rejects.toThrow(RangeError);
      await expect(quota.take(a, TODAY, 1, 0)).rejects.toThrow(RangeError);
      expect(await quota.take(a, TODAY, 1, 1)).toEqual({ granted: true, used: 1 });
    });
  });
}

function spentContract(name: string, make: () => Promise<SpentTokens>): void {
  describe(`SpentTokens contract: ${name}`, () => {
    const expiresAt = (TODAY + 10) * DAY_MS;

    it('spends a token once; the same binding again is `again`, another one `taken`', async () => {
      const spent = await make();
      const id = randomBytes(32);
      const bind = randomBytes(32);
      expect(await spent.spend(id, expiresAt, bind)).toBe('spent');
      expect(await spent.spend(id, expiresAt, bind.slice())).toBe('again');
      expect(await spent.spend(id.slice(), expiresAt + DAY_MS, randomBytes(32))).toBe('taken');
      expect(await spent.spend(id, expiresAt, bind)).toBe('again');
      // A binding differing in one bit is another binding.
      const near = bind.slice();
      near[0] = near[0]! ^ 1;
      expect(await spent.spend(id, expiresAt, near)).toBe('taken');
    });

    it('keeps distinct ids apart, also ids that differ in one bit', async () => {
      const spent = await make();
      const id = randomBytes(32);
      const near = id.slice();
      near[31] = near[31]! ^ 1;
      const bind = randomBytes(16);
      expect(await spent.spend(id, expiresAt, bind)).toBe('spent');
      expect(await spent.spend(near, expiresAt, bind)).toBe('spent');
      expect(await spent.spend(randomBytes(32), expiresAt, bind)).toBe('spent');
      expect(await spent.spend(near, expiresAt, randomBytes(16))).toBe('taken');
    });

    it('lets exactly one of 64 concurrent spends of one id with distinct binds succeed', async () => {
      const spent = await make();
      const id = randomBytes(32);
      const binds = Array.from({ length: 64 }, () => randomBytes(32));
      const results = await Promise.all(binds.map((b) => spent.spend(id.slice(), expiresAt, b)));
      expect(results.filter((r) => r === 'spent')).toHaveLength(1);
      expect(results.filter((r) => r === 'taken')).toHaveLength(63);
      // The winner's binding is the one stored: only it is `again` now.
      const winner = binds[results.indexOf('spent')]!;
      expect(await spent.spend(id, expiresAt, winner)).toBe('again');
      const loser = binds[results.indexOf('taken')]!;
      expect(await spent.spend(id, expiresAt, loser)).toBe('taken');
      // 64 concurrent spends with one binding: one `spent`, the rest `again`.
      const same = randomBytes(32);
      const other = randomBytes(32);
      const retries = await Promise.all(
        Array.from({ length: 64 }, () => spent.spend(other, expiresAt, same)),
      );
      expect(retries.filter((r) => r === 'spent')).toHaveLength(1);
      expect(retries.filter((r) => r === 'again')).toHaveLength(63);
      // And 64 distinct ids at once all succeed.
      const many = await Promise.all(
        Array.from({ length: 64 }, () => spent.spend(randomBytes(32), expiresAt, same)),
      );
      expect(many.every((r) => r === 'spent')).toBe(true);
    });

    it('rebinds only from the stored binding', async () => {
      const spent = await make();
      const id = randomBytes(32);
      const bind = randomBytes(32);
      const refused = randomBytes(32);
      expect(await spent.rebind(id, bind, refused)).toBe(false);
      expect(await spent.spend(id, expiresAt, bind)).toBe('spent');
      expect(await spent.rebind(id, randomBytes(32), refused)).toBe(false);
      expect(await spent.spend(id, expiresAt, bind)).toBe('again');
      expect(await spent.rebind(id, bind, refused)).toBe(true);
      expect(await spent.spend(id, expiresAt, bind)).toBe('taken');
      expect(await spent.spend(id, expiresAt, refused)).toBe('again');
      expect(await spent.rebind(id, bind, randomBytes(32))).toBe(false);
    });

    it('refuses an id or binding of another size, or a bad expiry', async () => {
      const spent = await make();
      const bind = randomBytes(16);
      await expect(spent.spend(randomBytes(31), expiresAt, bind)).rejects.toThrow(RangeError);
      await expect(spent.spend(randomBytes(33), expiresAt, bind)).rejects.toThrow(RangeError);
      await expect(spent.spend('x'.repeat(32) as never, expiresAt, bind)).rejects.toThrow(
        TypeError,
      );
      await expect(spent.spend(randomBytes(32), -1, bind)).rejects.toThrow(RangeError);
      await expect(spent.spend(randomBytes(32), Number.NaN, bind)).rejects.toThrow(RangeError);
      await expect(spent.spend(randomBytes(32), expiresAt, randomBytes(15))).rejects.toThrow(
        RangeError,
      );
      await expect(spent.spend(randomBytes(32), expiresAt, randomBytes(33))).rejects.toThrow(
        RangeError,
      );
      await expect(spent.spend(randomBytes(32), expiresAt, 'b' as never)).rejects.toThrow(
        TypeError,
      );
      await expect(spent.rebind(randomBytes(32), bind, randomBytes(8))).rejects.toThrow(RangeError);
      await expect(spent.rebind(randomBytes(31), bind, bind)).rejects.toThrow(RangeError);
    });
  });
}

function keysContract(name: string, make: () => Promise<TokenKeyStore>): void {
  describe(`TokenKeyStore contract: ${name}`, () => {
    it('stores the first key of a day and answers it to every later writer', async () => {
      const keys = await make();
      const first = tokenKey(TODAY);
      expect(await keys.get(TODAY)).toBeUndefined();
      expect(await keys.putIfAbsent(first)).toEqual(first);
      expect(await keys.get(TODAY)).toEqual(first);
      const second = tokenKey(TODAY);
      expect(await keys.putIfAbsent(second)).toEqual(first);
      expect(await keys.get(TODAY)).toEqual(first);
      expect(await keys.get(TODAY + 1)).toBeUndefined();
    });

    it('lets one of 8 concurrent writers win, and all of them get its key', async () => {
      const keys = await make();
      const day = TODAY + 1;
      const candidates = Array.from({ length: 8 }, () => tokenKey(day));
      const answers = await Promise.all(candidates.map((k) => keys.putIfAbsent(k)));
      const winner = answers[0]!;
      expect(candidates.filter((c) => Buffer.from(c.keyId).equals(winner.keyId))).toHaveLength(1);
      for (const a of answers) expect(a).toEqual(winner);
      expect(await keys.get(day)).toEqual(winner);
    });

    it('lists the keys of a range of days oldest first, bounds included', async () => {
      const keys = await make();
      const days = [TODAY + 2, TODAY - 1, TODAY, TODAY + 1, TODAY - 3];
      const stored = new Map<number, StoredTokenKey>();
      for (const day of days) stored.set(day, await keys.putIfAbsent(tokenKey(day)));
      const of = (...ds: number[]) => ds.map((d) => stored.get(d));
      expect(await keys.range(TODAY - 3, TODAY + 2)).toEqual(
        of(TODAY - 3, TODAY - 1, TODAY, TODAY + 1, TODAY + 2),
      );
      expect(await keys.range(TODAY - 1, TODAY + 1)).toEqual(of(TODAY - 1, TODAY, TODAY + 1));
      expect(await keys.range(TODAY - 2, TODAY - 2)).toEqual([]);
      expect(await keys.range(TODAY, TODAY)).toEqual(of(TODAY));
      expect(await keys.range(TODAY + 3, TODAY + 100)).toEqual([]);
      expect(await keys.range(TODAY + 1, TODAY - 1)).toEqual([]);
      // A day of more digits sorts by number, not by text.
      expect(await keys.range(0, TODAY - 2)).toEqual(of(TODAY - 3));
    });

    it('hands out keys whose bytes the caller cannot change in the store', async () => {
      const keys = await make();
      const key = tokenKey(TODAY);
      const kept = { ...key, keyId: key.keyId.slice(), publicKey: key.publicKey.slice() };
      const answer = await keys.putIfAbsent(key);
      key.keyId.fill(0);
      answer.publicKey.fill(0);
      expect(await keys.get(TODAY)).toEqual(kept);
    });

    it('refuses malformed keys and days', async () => {
      const keys = await make();
      const good = tokenKey(TODAY);
      await expect(keys.putIfAbsent({ ...good, keyId: randomBytes(31) })).rejects.toThrow(
        RangeError,
      );
      await expect(keys.putIfAbsent({ ...good, publicKey: new Uint8Array() })).rejects.toThrow(
        RangeError,
      );
      await expect(
        keys.putIfAbsent({ ...good, wrappedPrivateKey: randomBytes(8193) }),
      ).rejects.toThrow(RangeError);
      await expect(keys.putIfAbsent({ ...good, notAfter: -1 })).rejects.toThrow(RangeError);
      await expect(keys.putIfAbsent({ ...good, day: -1 })).rejects.toThrow(RangeError);
      await expect(keys.putIfAbsent({ ...good, keyId: 'x' as never })).rejects.toThrow(TypeError);
      await expect(keys.get(2 ** 53)).rejects.toThrow(RangeError);
      await expect(keys.range(-1, TODAY)).rejects.toThrow(RangeError);
      expect(await keys.get(TODAY)).toBeUndefined();
    });
  });
}

quotaContract('memory', async () => new MemoryTokenQuota());
quotaContract(
  'dynamodb',
  async () => new DynamoTokenQuota(local.aws.dynamodb, await local.aws.createTable()),
);
spentContract('memory', async () => new MemorySpentTokens());
spentContract(
  'dynamodb',
  async () => new DynamoSpentTokens(local.aws.dynamodb, await local.aws.createTable()),
);
keysContract('memory', async () => new MemoryTokenKeys());
keysContract(
  'dynamodb',
  async () => new DynamoTokenKeys(local.aws.dynamodb, await local.aws.createTable()),
);

describe('token items in the table', () => {
  it('have the documented keys and TTLs, and a spent token holds nothing but its id', async () => {
    const table = await local.aws.createTable();
    const { dynamodb } = local.aws;
    const address = randomAddress();
    const id = randomBytes(32);
    const key = tokenKey(TODAY);
    const expiresAt = (TODAY + 9) * DAY_MS + 1;
    await new DynamoTokenQuota(dynamodb, table).take(address, TODAY, 3, 20);
    const bind = randomBytes(32);
    await new DynamoSpentTokens(dynamodb, table).spend(id, expiresAt, bind);
    await new DynamoTokenKeys(dynamodb, table).putIfAbsent(key);
    const { Items = [] } = await dynamodb.send(new ScanCommand({ TableName: table }));
    const byPk = new Map(Items.map((i) => [i['pk']!.S!, i]));
    const day = String(TODAY).padStart(10, '0');
    const spentPk = `spent#${Buffer.from(id).toString('base64url')}`;
    expect([...byPk.keys()].sort()).toEqual([spentPk, `tkey`, `tq#${address}`].sort());
    expect(byPk.get(`tq#${address}`)).toEqual({
      pk: { S: `tq#${address}` },
      sk: { S: day },
      v: { N: '1' },
      n: { N: '3' },
      ttl: { N: String((TODAY + 3) * 86_400) },
    });
    expect(byPk.get(spentPk)).toEqual({
      pk: { S: spentPk },
      sk: { S: 'spent' },
      bind: { B: bind },
      ttl: { N: String(Math.ceil(expiresAt / 1000)) },
    });
    expect(byPk.get('tkey')).toEqual({
      pk: { S: 'tkey' },
      sk: { S: day },
      v: { N: '1' },
      keyId: { B: key.keyId },
      publicKey: { B: key.publicKey },
      wrappedPrivateKey: { B: key.wrappedPrivateKey },
      notAfter: { N: String(key.notAfter) },
      ttl: { N: String(Math.ceil(key.notAfter / 1000) + 7 * 86_400) },
    });
  });
});
