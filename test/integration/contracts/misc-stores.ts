/** Contracts of BlobStore, ReplayStore and RateLimiter. */
import { describe, expect, it } from 'vitest';
import { randomBytes } from '#functions/domain/crypto.ts';
import type { BlobStore, RateLimiter, ReplayStore } from '#functions/domain/ports.ts';
import { newAccount } from '../../unit/functions/fixtures.ts';

export function blobStoreContract(name: string, make: () => Promise<BlobStore>): void {
  describe(`BlobStore contract: ${name}`, () => {
    it('stores by mailbox and position, reads back and deletes', async () => {
      const blobs = await make();
      const mailbox = { address: newAccount().address, deviceId: 3, registrationId: 11 };
      const position = randomBytes(16);
      const other = randomBytes(16);
      const body = randomBytes(70_000);
      await blobs.put(mailbox, position, body);
      await blobs.put(mailbox, other, randomBytes(10));
      expect(await blobs.get(mailbox, position)).toEqual(body);
      expect(await blobs.get({ ...mailbox, registrationId: 12 }, position)).toBeUndefined();
      await blobs.deleteMany(mailbox, [position, randomBytes(16)]);
      expect(await blobs.get(mailbox, position)).toBeUndefined();
      expect(await blobs.get(mailbox, other)).toHaveLength(10);
    });
  });
}

export function replayStoreContract(name: string, make: () => Promise<ReplayStore>): void {
  describe(`ReplayStore contract: ${name}`, () => {
    it('accepts a token once until it expires', async () => {
      const replay = await make();
      const token = `t:${newAccount().address}`;
      expect(await replay.consume(token, 2000, 1000)).toBe(true);
      expect(await replay.consume(token, 2000, 1500)).toBe(false);
      expect(await replay.consume(`${token}x`, 2000, 1500)).toBe(true);
      expect(await replay.consume(token, 4000, 2001)).toBe(true);
    });

    it('lets exactly one of concurrent uses through', async () => {
      const replay = await make();
      const token = `c:${newAccount().address}`;
      const results = await Promise.all(
        Array.from({ length: 8 }, () => replay.consume(token, 9000, 1000)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });
  });
}

export function rateLimiterContract(name: string, make: () => Promise<RateLimiter>): void {
  describe(`RateLimiter contract: ${name}`, () => {
    it('allows `limit` hits per key and window', async () => {
      const limiter = await make();
      const key = `k:${newAccount().address}`;
      const hits = [];
      for (let i = 0; i < 4; i++) hits.push(await limiter.hit(key, 3, 60_000, 120_000 + i));
      expect(hits).toEqual([true, true, true, false]);
      expect(await limiter.hit(`${key}2`, 3, 60_000, 120_000)).toBe(true);
      expect(await limiter.hit(key, 3, 60_000, 180_000)).toBe(true);
    });
  });
}
