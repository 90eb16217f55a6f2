/** Contracts of UploadSessionStore and AttachmentQuota (docs/SERVICE.md §7.6). */
import { describe, expect, it } from 'vitest';
import type {
  AttachmentQuota,
  UploadSession,
  UploadSessionStore,
} from '#functions/domain/attachment-ports.ts';
import { randomBytes } from '#functions/domain/crypto.ts';
import { toBase64Url } from '#sdk/wire/api/codec.ts';
import { newAccount } from '../../unit/functions/fixtures.ts';

const DAY = 24 * 60 * 60 * 1000;
/** 2026-01-01 10:00 UTC. */
const NOW = Date.UTC(2026, 0, 1, 10);

export function uploadSessionStoreContract(
  name: string,
  make: () => Promise<UploadSessionStore>,
): void {
  describe(`UploadSessionStore contract: ${name}`, () => {
    const session = (extra: Partial<UploadSession> = {}): UploadSession => ({
      id: toBase64Url(randomBytes(16)),
      account: newAccount().address,
      size: 70_000,
      createdAt: NOW,
      expiresAt: NOW + DAY,
      ...extra,
    });

    it('stores form and multipart sessions and reads them back until they expire', async () => {
      const store = await make();
      const form = session();
      const multipart = session({ size: 5_000_000_000, uploadId: 'u~1.x', partSize: 16 << 20 });
      await store.put(form);
      await store.put(multipart);
      expect(await store.get(form.id, NOW)).toEqual(form);
      expect(await store.get(multipart.id, NOW + DAY - 1)).toEqual(multipart);
      expect(await store.get(multipart.id, NOW + DAY)).toBeUndefined();
      expect(await store.get(toBase64Url(randomBytes(16)), NOW)).toBeUndefined();
    });

    it('refuses a second session under one id', async () => {
      const store = await make();
      const first = session();
      await store.put(first);
      await expect(store.put({ ...first, account: newAccount().address })).rejects.toThrow();
      expect((await store.get(first.id, NOW))?.account).toBe(first.account);
    });

    it('deletes once', async () => {
      const store = await make();
      const s = session();
      await store.put(s);
      expect(await store.delete(s.id)).toBe(true);
      expect(await store.get(s.id, NOW)).toBeUndefined();
      expect(await store.delete(s.id)).toBe(false);
    });
  });
}

export function attachmentQuotaContract(name: string, make: () => Promise<AttachmentQuota>): void {
  describe(`AttachmentQuota contract: ${name}`, () => {
    const limits = { maxBytes: 1000, maxBytesPerDay: 400, retentionDays: 3 };

    it('counts bytes per day and over the retention, refusing past either limit', async () => {
      const quota = await make();
      const account = newAccount().address;
      expect(await quota.reserve(account, 300, limits, NOW)).toBe('ok');
      expect(await quota.reserve(account, 101, limits, NOW)).toBe('daily');
      expect(await quota.reserve(account, 100, limits, NOW + 1000)).toBe('ok');
      // The next UTC day starts at midnight (14 hours later), not 24 hours after.
      expect(await quota.reserve(account, 400, limits, Date.UTC(2026, 0, 2))).toBe('ok');
      expect(await quota.reserve(account, 201, limits, Date.UTC(2026, 0, 3))).toBe('quota');
      expect(await quota.reserve(account, 200, limits, Date.UTC(2026, 0, 3))).toBe('ok');
      expect(await quota.reserve(account, 1, limits, Date.UTC(2026, 0, 3, 23))).toBe('quota');
      // Day 4: the first day (400 bytes) has left the three-day retention.
      expect(await quota.reserve(account, 400, limits, Date.UTC(2026, 0, 4))).toBe('ok');
      expect(await quota.reserve(account, 1, limits, Date.UTC(2026, 0, 4))).toBe('quota');
      // Accounts are separate.
      expect(await quota.reserve(newAccount().address, 400, limits, NOW)).toBe('ok');
    });

    it('gives released bytes back to the day they were reserved on', async () => {
      const quota = await make();
      const account = newAccount().address;
      expect(await quota.reserve(account, 400, limits, NOW)).toBe('ok');
      expect(await quota.reserve(account, 1, limits, NOW)).toBe('daily');
      await quota.release(account, 150, NOW + 5000);
      expect(await quota.reserve(account, 150, limits, NOW)).toBe('ok');
      expect(await quota.reserve(account, 1, limits, NOW)).toBe('daily');
      // A release names its day: bytes of another day are untouched.
      await quota.release(account, 400, Date.UTC(2026, 0, 2));
      expect(await quota.reserve(account, 1, limits, NOW)).toBe('daily');
      // Never below zero: releasing more than the day holds empties it, no more.
      await quota.release(account, 10_000, NOW);
      expect(await quota.reserve(account, 400, limits, NOW)).toBe('ok');
      expect(await quota.reserve(account, 1, limits, NOW)).toBe('daily');
      // An unknown account releases nothing and fails nothing.
      await quota.release(newAccount().address, 100, NOW);
    });

    it('lets concurrent reservations of one account pass the quota by none', async () => {
      const quota = await make();
      const account = newAccount().address;
      const wide = { maxBytes: 500, maxBytesPerDay: 10_000, retentionDays: 30 };
      const verdicts = await Promise.all(
        Array.from({ length: 8 }, () => quota.reserve(account, 100, wide, NOW)),
      );
      expect(verdicts.filter((v) => v === 'ok')).toHaveLength(5);
      expect(verdicts.filter((v) => v === 'quota')).toHaveLength(3);
      expect(await quota.reserve(account, 1, wide, NOW)).toBe('quota');
    });
  });
}
