/** Contract of PrekeyStore: every adapter must pass it. */
import { describe, expect, it } from 'vitest';
import { randomBytes } from '#functions/domain/crypto.ts';
import type { PrekeyStore } from '#functions/domain/ports.ts';
import { newAccount } from '../../unit/functions/fixtures.ts';

const ec = (id: number) => ({ id, publicKey: randomBytes(32) });
const pq = (id: number) => ({ id, publicKey: randomBytes(1568), signature: randomBytes(64) });

export function prekeyStoreContract(name: string, make: () => Promise<PrekeyStore>): void {
  describe(`PrekeyStore contract: ${name}`, () => {
    it('counts, claims each key once and then returns none', async () => {
      const store = await make();
      const { address } = newAccount();
      const ref = { address, deviceId: 1, registrationId: 42 };
      const ecs = [ec(1), ec(2), ec(3)];
      const pqs = [pq(7), pq(8)];
      await store.addOneTime(ref, ecs, pqs);
      await store.addOneTime({ ...ref, deviceId: 2 }, [ec(1)], []);
      expect(await store.count(ref)).toEqual({ ec: 3, pq: 2 });
      const claims = [await store.claim(ref), await store.claim(ref), await store.claim(ref)];
      expect(claims.map((c) => c.ec?.id).sort()).toEqual([1, 2, 3]);
      expect(claims.flatMap((c) => (c.pq ? [c.pq.id] : [])).sort()).toEqual([7, 8]);
      for (const c of claims) {
        if (c.ec) expect(c.ec).toEqual(ecs.find((k) => k.id === c.ec!.id));
        if (c.pq) expect(c.pq).toEqual(pqs.find((k) => k.id === c.pq!.id));
      }
      expect(await store.claim(ref)).toEqual({});
      expect(await store.count(ref)).toEqual({ ec: 0, pq: 0 });
      expect(await store.count({ ...ref, deviceId: 2 })).toEqual({ ec: 1, pq: 0 });
    });

    it('hands every key to exactly one of many concurrent claimers', async () => {
      const store = await make();
      const { address } = newAccount();
      const ref = { address, deviceId: 1, registrationId: 42 };
      await store.addOneTime(
        ref,
        Array.from({ length: 10 }, (_, i) => ec(i + 1)),
        [],
      );
      const claims = await Promise.all(Array.from({ length: 20 }, () => store.claim(ref)));
      const ids = claims.flatMap((c) => (c.ec ? [c.ec.id] : []));
      expect(ids).toHaveLength(10);
      expect(new Set(ids).size).toBe(10);
    });

    it('keeps generations of one device id apart', async () => {
      const store = await make();
      const { address } = newAccount();
      const old = { address, deviceId: 3, registrationId: 1 };
      const fresh = { address, deviceId: 3, registrationId: 2 };
      await store.addOneTime(old, [ec(1)], [pq(1)]);
      expect(await store.count(fresh)).toEqual({ ec: 0, pq: 0 });
      expect(await store.claim(fresh)).toEqual({});
      await store.deleteAll(fresh);
      expect(await store.count(old)).toEqual({ ec: 1, pq: 1 });
    });

    it('deletes every key of a device', async () => {
      const store = await make();
      const { address } = newAccount();
      const ref = { address, deviceId: 1, registrationId: 42 };
      await store.addOneTime(
        ref,
        Array.from({ length: 30 }, (_, i) => ec(i + 1)),
        [pq(1)],
      );
      await store.deleteAll(ref);
      expect(await store.count(ref)).toEqual({ ec: 0, pq: 0 });
    });
  });
}
