/**
 * The {@link StateStore} contract (sdk/state/store.ts), run against every implementation so that
 * the in-memory and durable stores cannot drift apart.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type StateStore,
  StoreConflictError,
  type StoreNamespace,
  type StoreOp,
} from '#sdk/state/store.ts';
import { ArgumentTypeError } from '#sdk/util/argument-errors.ts';

/** A fresh store and how to dispose of it. */
export interface StoreFixture {
  readonly store: StateStore;
  readonly dispose: () => Promise<void>;
}

const bytes = (...values: number[]) => new Uint8Array(values);
const NAMESPACES: readonly StoreNamespace[] = ['identity', 'session', 'seen', 'meta'];

/** Registers the contract suite for one implementation. */
export function describeStoreContract(name: string, create: () => Promise<StoreFixture>): void {
  describe(`StateStore contract: ${name}`, () => {
    let fixture: StoreFixture;
    let store: StateStore;
    beforeEach(async () => {
      fixture = await create();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.dispose();
    });

    it('returns undefined for a missing record and [] for an empty namespace', async () => {
      expect(await store.get('session', 'nobody')).toBeUndefined();
      expect(await store.keys('session')).toEqual([]);
    });

    it('puts, overwrites and deletes records', async () => {
      await store.commit([{ ns: 'session', key: 'a', value: bytes(1, 2) }]);
      expect(await store.get('session', 'a')).toEqual(bytes(1, 2));
      await store.commit([{ ns: 'session', key: 'a', value: bytes(3) }]);
      expect(await store.get('session', 'a')).toEqual(bytes(3));
      await store.commit([{ ns: 'session', key: 'a', value: null }]);
      expect(await store.get('session', 'a')).toBeUndefined();
      expect(await store.keys('session')).toEqual([]);
    });

    it('keeps an empty value distinct from a missing one', async () => {
      await store.commit([{ ns: 'meta', key: 'empty', value: new Uint8Array(0) }]);
      expect(await store.get('meta', 'empty')).toEqual(new Uint8Array(0));
      expect(await store.keys('meta')).toEqual(['empty']);
    });

    it('applies a conditional commit only while every expectation holds (docs/PROTOCOL.md §9.1)', async () => {
      await store.commit([{ ns: 'session', key: 'a', value: bytes(1) }]);
      // Two writers read bytes(1); the first wins, the second applies nothing.
      const first = [
        { ns: 'session', key: 'a', value: bytes(2), expect: bytes(1) },
        { ns: 'seen', key: 'm1', value: bytes() },
      ] as const;
      const second = [
        { ns: 'session', key: 'a', value: bytes(3), expect: bytes(1) },
        { ns: 'seen', key: 'm2', value: bytes() },
      ] as const;
      await store.commit(first);
      const lost = await store.commit(second).catch((e: unknown) => e);
      expect(lost).toBeInstanceOf(StoreConflictError);
      expect(lost).toMatchObject({ code: 'STORE_CONFLICT', ns: 'session', key: 'a' });
      expect(await store.get('session', 'a')).toEqual(bytes(2));
      expect(await store.get('seen', 'm2')).toBeUndefined();
      // `expect: null` means absent; ops without `expect` stay unconditional.
      await expect(
        store.commit([{ ns: 'session', key: 'a', value: bytes(4), expect: null }]),
      ).rejects.toBeInstanceOf(StoreConflictError);
      await store.commit([{ ns: 'session', key: 'b', value: bytes(5), expect: null }]);
      await store.commit([{ ns: 'session', key: 'a', value: bytes(6) }]);
      await store.commit([{ ns: 'session', key: 'a', value: null, expect: bytes(6) }]);
      expect(await store.get('session', 'a')).toBeUndefined();
      expect(await store.get('session', 'b')).toEqual(bytes(5));
    });

    it('treats an op whose value is its expectation as a check that writes nothing', async () => {
      const pin = bytes(7, 7);
      await store.commit([{ ns: 'contact', key: 'p', value: pin }]);
      const check = { ns: 'contact' as const, key: 'p', value: pin, expect: pin };
      await store.commit([{ ns: 'session', key: 's', value: bytes(1) }, check]);
      expect(await store.get('session', 's')).toEqual(bytes(1));
      expect(await store.get('contact', 'p')).toEqual(bytes(7, 7));
      // The check still conditions the whole commit.
      await store.commit([{ ns: 'contact', key: 'p', value: bytes(8) }]);
      await expect(
        store.commit([{ ns: 'session', key: 's', value: bytes(2) }, check]),
      ).rejects.toBeInstanceOf(StoreConflictError);
      expect(await store.get('session', 's')).toEqual(bytes(1));
      // Both `null`: a check that the record is absent.
      await store.commit([{ ns: 'contact', key: 'q', value: null, expect: null }]);
      expect(await store.keys('contact')).toEqual(['p']);
    });

    it('compares expectations byte for byte, for aligned and unaligned views alike', async () => {
      const value = Uint8Array.from({ length: 37 }, (_, i) => i);
      await store.commit([{ ns: 'session', key: 'v', value }]);
      const shifted = new Uint8Array(38);
      shifted.set(value, 1);
      await store.commit([
        { ns: 'session', key: 'v', value: bytes(1), expect: shifted.subarray(1) },
      ]);
      const almost = value.slice();
      almost[36] = 0;
      await store.commit([{ ns: 'session', key: 'w', value: almost }]);
      const wrongLast = almost.slice();
      wrongLast[36] = 99;
      await expect(
        store.commit([{ ns: 'session', key: 'w', value: null, expect: wrongLast }]),
      ).rejects.toBeInstanceOf(StoreConflictError);
      const wrongFirst = almost.slice();
      wrongFirst[0] = 99;
      await expect(
        store.commit([{ ns: 'session', key: 'w', value: null, expect: wrongFirst }]),
      ).rejects.toBeInstanceOf(StoreConflictError);
      expect(await store.get('session', 'v')).toEqual(bytes(1));
      expect(await store.get('session', 'w')).toEqual(almost);
    });

    it('checks an expectation against the bytes at commit time, not at call time', async () => {
      await store.commit([{ ns: 'session', key: 'a', value: bytes(1) }]);
      const expectation = bytes(1);
      const pending = [
        store.commit([{ ns: 'session', key: 'a', value: bytes(2), expect: expectation }]),
        store.commit([{ ns: 'session', key: 'a', value: bytes(3), expect: bytes(1) }]),
      ];
      const results = await Promise.allSettled(pending);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    });

    it('separates namespaces', async () => {
      await store.commit([
        { ns: 'session', key: 'k', value: bytes(1) },
        { ns: 'contact', key: 'k', value: bytes(2) },
      ]);
      expect(await store.get('session', 'k')).toEqual(bytes(1));
      expect(await store.get('contact', 'k')).toEqual(bytes(2));
      expect(await store.keys('identity')).toEqual([]);
    });

    it('applies ops of one commit in order (last write wins)', async () => {
      await store.commit([
        { ns: 'seen', key: 'x', value: bytes(1) },
        { ns: 'seen', key: 'x', value: null },
        { ns: 'seen', key: 'y', value: bytes(2) },
        { ns: 'seen', key: 'y', value: bytes(3) },
      ]);
      expect(await store.get('seen', 'x')).toBeUndefined();
      expect(await store.get('seen', 'y')).toEqual(bytes(3));
    });

    it('isolates stored bytes from the caller’s arrays', async () => {
      const value = bytes(1, 2, 3);
      await store.commit([{ ns: 'identity', key: 'me', value }]);
      value[0] = 9;
      const read = await store.get('identity', 'me');
      expect(read).toEqual(bytes(1, 2, 3));
      read![1] = 9;
      expect(await store.get('identity', 'me')).toEqual(bytes(1, 2, 3));
    });

    it('stores a transferred value and still hands out copies of it', async () => {
      await store.commit([{ ns: 'session', key: 't', value: bytes(4, 5, 6), transfer: true }]);
      const read = await store.get('session', 't');
      expect(read).toEqual(bytes(4, 5, 6));
      read![0] = 9;
      expect(await store.get('session', 't')).toEqual(bytes(4, 5, 6));
      // A transferred value is an ordinary record for conditional commits.
      await store.commit([{ ns: 'session', key: 't', value: null, expect: bytes(4, 5, 6) }]);
      expect(await store.get('session', 't')).toBeUndefined();
    });

    it('rejects an invalid commit whole, applying none of its ops', async () => {
      const ok: StoreOp = { ns: 'session', key: 'good', value: bytes(1) };
      await expect(store.commit([ok, { ns: 'session', key: '', value: bytes(1) }])).rejects.toThrow(
        ArgumentTypeError,
      );
      await expect(
        store.commit([ok, { ns: 'session', key: 'x'.repeat(257), value: bytes(1) }]),
      ).rejects.toThrow(ArgumentTypeError);
      await expect(
        store.commit([ok, { ns: 'session', key: 'v', value: [1] as unknown as Uint8Array }]),
      ).rejects.toThrow(ArgumentTypeError);
      await expect(
        store.commit([ok, { ns: 'session', key: 'lone\ud800', value: bytes(1) }]),
      ).rejects.toThrow(ArgumentTypeError);
      expect(await store.get('session', 'good')).toBeUndefined();
    });

    it('accepts 256-character and non-ASCII keys, and an empty commit', async () => {
      const long = 'k'.repeat(256);
      await store.commit([]);
      await store.commit([
        { ns: 'contact', key: long, value: bytes(1) },
        { ns: 'contact', key: 'ключ-🔑', value: bytes(2) },
      ]);
      expect(await store.get('contact', long)).toEqual(bytes(1));
      expect(await store.get('contact', 'ключ-🔑')).toEqual(bytes(2));
      expect((await store.keys('contact')).sort()).toEqual([long, 'ключ-🔑'].sort());
    });

    it('matches a model map after any sequence of commits', async () => {
      const op = fc.record({
        ns: fc.constantFrom(...NAMESPACES),
        key: fc.constantFrom('a', 'b', 'c', 'd'),
        value: fc.option(fc.uint8Array({ maxLength: 8 }), { nil: null }),
      });
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.array(op, { maxLength: 5 }), { maxLength: 8 }),
          async (commits) => {
            const model = new Map<string, Uint8Array>();
            const before = new Map<string, Uint8Array | undefined>();
            for (const ns of NAMESPACES) {
              for (const key of await store.keys(ns))
                before.set(`${ns}/${key}`, await store.get(ns, key));
            }
            for (const [k, v] of before) if (v) model.set(k, v);
            for (const ops of commits) {
              await store.commit(ops);
              for (const o of ops) {
                if (o.value === null) model.delete(`${o.ns}/${o.key}`);
                else model.set(`${o.ns}/${o.key}`, o.value);
              }
            }
            for (const ns of NAMESPACES) {
              const expectedKeys = [...model.keys()]
                .filter((k) => k.startsWith(`${ns}/`))
                .map((k) => k.slice(ns.length + 1));
              expect((await store.keys(ns)).sort()).toEqual(expectedKeys.sort());
              for (const key of expectedKeys)
                expect(await store.get(ns, key)).toEqual(model.get(`${ns}/${key}`));
            }
          },
        ),
        { numRuns: 25 },
      );
    });
  });
}
