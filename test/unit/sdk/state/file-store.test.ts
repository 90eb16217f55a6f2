/**
 * FileStore: the StateStore contract, persistence across reopen (with and without compaction),
 * the directory lock and the file format guards (docs/PROTOCOL.md §9).
 */
import { spawnSync } from 'node:child_process';
import { type FileHandle, readFile, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateCorruptError, UnsupportedVersionError } from '#sdk/errors.ts';
import { FileStore, FileStoreError } from '#sdk/state/file-store.ts';
import type { StoreNamespace } from '#sdk/state/store.ts';
import { ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import { fileStoreFixture, removeDir, tempDir, u32 } from './fixtures.ts';
import { describeStoreContract } from './store-contract.ts';

describeStoreContract('FileStore', () => fileStoreFixture());
describeStoreContract('FileStore with frequent compaction', () =>
  fileStoreFixture({ compactThresholdBytes: 0 }),
);

/** A pid that is certainly not running: a child that has already exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '0']);
  return child.pid!;
}

describe('FileStore', () => {
  let dir: string;
  const open: FileStore[] = [];
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
    await removeDir(dir);
  });
  const openStore = async (options?: { compactThresholdBytes?: number }) => {
    const store = await FileStore.open(dir, options);
    open.push(store);
    return store;
  };

  it('persists commits across close and reopen', async () => {
    const first = await openStore();
    await first.commit([
      { ns: 'identity', key: 'me', value: u32(1) },
      { ns: 'session', key: 'bob.1', value: u32(2) },
    ]);
    await first.commit([{ ns: 'session', key: 'bob.1', value: null }]);
    await first.close();
    const second = await openStore();
    expect(await second.get('identity', 'me')).toEqual(u32(1));
    expect(await second.keys('session')).toEqual([]);
  });

  it('matches a model across random commits, compactions and reopens', async () => {
    const op = fc.record({
      ns: fc.constantFrom<StoreNamespace>('session', 'seen'),
      key: fc.constantFrom('a', 'b', 'c'),
      value: fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null }),
    });
    const step = fc.oneof(
      fc.array(op, { minLength: 1, maxLength: 4 }),
      fc.constant('reopen' as const),
      fc.constant('compact' as const),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 15 }), async (steps) => {
        await removeDir(dir);
        const model = new Map<string, Uint8Array>();
        let store = await FileStore.open(dir, { compactThresholdBytes: 300 });
        try {
          for (const s of steps) {
            if (s === 'reopen') {
              await store.close();
              store = await FileStore.open(dir, { compactThresholdBytes: 300 });
            } else if (s === 'compact') {
              await store.compact();
            } else {
              await store.commit(s);
              for (const o of s) {
                if (o.value === null) model.delete(`${o.ns}/${o.key}`);
                else model.set(`${o.ns}/${o.key}`, o.value);
              }
            }
          }
          await store.close();
          store = await FileStore.open(dir);
          for (const ns of ['session', 'seen'] as const) {
            for (const key of ['a', 'b', 'c']) {
              expect(await store.get(ns, key)).toEqual(model.get(`${ns}/${key}`));
            }
          }
        } finally {
          await store.close();
        }
      }),
      { numRuns: 25 },
    );
  });

  it('compacts when the log outgrows the threshold and the snapshot', async () => {
    const store = await openStore({ compactThresholdBytes: 1000 });
    for (let i = 0; i < 50; i++) {
      await store.commit([{ ns: 'seen', key: `m${i % 5}`, value: new Uint8Array(100).fill(i) }]);
    }
    const log = await stat(join(dir, 'sealpost.log'));
    const snapshot = await stat(join(dir, 'sealpost.snapshot'));
    expect(log.size).toBeLessThanOrEqual(Math.max(1000, snapshot.size) + 200);
    expect(snapshot.mode & 0o777).toBe(0o600);
    expect(log.mode & 0o777).toBe(0o600);
    await store.close();
    const reopened = await openStore();
    expect(await reopened.get('seen', 'm4')).toEqual(new Uint8Array(100).fill(49));
  });

  it('refuses a second open of a locked directory until the first closes', async () => {
    const first = await openStore();
    const second = FileStore.open(dir);
    await expect(second).rejects.toThrow(FileStoreError);
    await expect(second).rejects.toMatchObject({ code: 'LOCKED' });
    await first.close();
    await openStore();
  });

  it('takes over a lock left by a process that no longer exists', async () => {
    await writeFile(join(dir, 'LOCK'), `${deadPid()}\n${hostname()}\nabc\n`);
    const store = await openStore();
    await store.commit([{ ns: 'meta', key: 'k', value: u32(1) }]);
    expect((await readFile(join(dir, 'LOCK'), 'utf8')).split('\n')[0]).toBe(String(process.pid));
  });

  it('keeps a lock held by a live process or another host', async () => {
    await writeFile(join(dir, 'LOCK'), `${process.ppid}\n${hostname()}\nabc\n`);
    await expect(FileStore.open(dir)).rejects.toMatchObject({ code: 'LOCKED' });
    await writeFile(join(dir, 'LOCK'), `${deadPid()}\nanother-host.example\nabc\n`);
    await expect(FileStore.open(dir)).rejects.toMatchObject({ code: 'LOCKED' });
    await writeFile(join(dir, 'LOCK'), 'garbage');
    await expect(FileStore.open(dir)).rejects.toMatchObject({ code: 'LOCKED' });
  });

  it('clears a stale break marker, then takes over on the next attempt', async () => {
    await writeFile(join(dir, 'LOCK'), `${deadPid()}\n${hostname()}\nabc\n`);
    await writeFile(join(dir, 'LOCK.break'), `${deadPid()}\n${hostname()}\n`);
    await expect(FileStore.open(dir)).rejects.toMatchObject({ code: 'LOCKED' });
    await openStore();
  });

  it('rejects use after close and closes idempotently', async () => {
    const store = await FileStore.open(dir);
    await store.close();
    await store.close();
    await expect(store.get('meta', 'k')).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(store.commit([{ ns: 'meta', key: 'k', value: u32(1) }])).rejects.toMatchObject({
      code: 'CLOSED',
    });
  });

  it('fails closed after a write error and recovers on reopen', async () => {
    const store = await FileStore.open(dir);
    await store.commit([{ ns: 'meta', key: 'k', value: u32(1) }]);
    // Stand-in for a disk error: the log's file handle goes away under the store.
    await (store as unknown as { log: FileHandle }).log.close();
    const failed = store.commit([{ ns: 'meta', key: 'k', value: u32(2) }]);
    await expect(failed).rejects.toMatchObject({ code: 'FAILED' });
    await expect(store.get('meta', 'k')).rejects.toMatchObject({ code: 'FAILED' });
    await expect(store.commit([])).rejects.toMatchObject({ code: 'FAILED' });
    // close() still releases the lock, so the directory can be reopened to recover.
    await store.close();
    const reopened = await openStore();
    expect(await reopened.get('meta', 'k')).toEqual(u32(1));
  });

  it('rejects unencodable namespaces and keys without writing anything', async () => {
    const store = await openStore();
    const emptyNs = [{ ns: '' as StoreNamespace, key: 'k', value: u32(1) }];
    await expect(store.commit(emptyNs)).rejects.toThrow(ArgumentTypeError);
    // A lone surrogate has no UTF-8 form: it would come back as U+FFFD after a reopen.
    const loneSurrogate = [{ ns: 'meta' as const, key: 'k\ud800', value: u32(1) }];
    await expect(store.commit(loneSurrogate)).rejects.toThrow(ArgumentTypeError);
    await store.commit([{ ns: 'meta', key: 'k', value: u32(2) }]);
    await store.close();
    expect(await (await openStore()).get('meta', 'k')).toEqual(u32(2));
  });

  it('rejects files with a bad magic or an unknown version', async () => {
    const store = await FileStore.open(dir);
    await store.close();
    const log = await readFile(join(dir, 'sealpost.log'));
    const versioned = Uint8Array.from(log);
    versioned[5] = 9;
    await writeFile(join(dir, 'sealpost.log'), versioned);
    await expect(FileStore.open(dir)).rejects.toThrow(UnsupportedVersionError);
    const badMagic = Uint8Array.from(log);
    badMagic[0] = 0;
    await writeFile(join(dir, 'sealpost.log'), badMagic);
    await expect(FileStore.open(dir)).rejects.toThrow(StateCorruptError);
    // A failed open must not leave the directory locked.
    await writeFile(join(dir, 'sealpost.log'), log);
    await openStore();
  });
});
