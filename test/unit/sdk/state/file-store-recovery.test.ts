/**
 * FileStore crash recovery (docs/PROTOCOL.md §9.3): a torn last record is discarded at
 * every possible cut, a damaged record before the end is reported, and an interrupted
 * compaction is finished on open.
 */
import { copyFile, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateCorruptError } from '#sdk/errors.ts';
import { FileStore } from '#sdk/state/file-store.ts';
import { removeDir, tempDir, u32 } from './fixtures.ts';

const LOG = 'sealpost.log';

describe('FileStore recovery', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  /** Commits A and B, then C (two records); returns the log size before C and after it. */
  async function threeCommits(): Promise<{ start: number; end: number }> {
    const store = await FileStore.open(dir);
    await store.commit([{ ns: 'session', key: 'a', value: u32(1) }]);
    await store.commit([
      { ns: 'session', key: 'b', value: u32(2) },
      { ns: 'seen', key: 'm1', value: new Uint8Array(0) },
    ]);
    const start = (await stat(join(dir, LOG))).size;
    await store.commit([
      { ns: 'session', key: 'a', value: null },
      { ns: 'session', key: 'c', value: u32(3) },
      { ns: 'seen', key: 'm2', value: new Uint8Array(0) },
    ]);
    const end = (await stat(join(dir, LOG))).size;
    await store.close();
    return { start, end };
  }

  async function snapshotOf(store: FileStore) {
    return {
      a: await store.get('session', 'a'),
      b: await store.get('session', 'b'),
      c: await store.get('session', 'c'),
      seen: (await store.keys('seen')).sort(),
    };
  }
  const beforeC = { a: u32(1), b: u32(2), c: undefined, seen: ['m1'] };
  const afterC = { a: undefined, b: u32(2), c: u32(3), seen: ['m1', 'm2'] };

  it('discards the last record cut at every byte offset, keeping earlier commits', async () => {
    const { start, end } = await threeCommits();
    const full = await readFile(join(dir, LOG));
    for (let cut = start; cut <= end; cut++) {
      await writeFile(join(dir, LOG), full.subarray(0, cut));
      const store = await FileStore.open(dir);
      expect(await snapshotOf(store), `cut at ${cut}`).toEqual(cut === end ? afterC : beforeC);
      // The torn bytes are truncated away, so the next commit lands after the valid records.
      expect((await stat(join(dir, LOG))).size).toBe(cut === end ? end : start);
      await store.close();
    }
  });

  it('appends cleanly after discarding a torn record', async () => {
    const { start, end } = await threeCommits();
    await truncate(join(dir, LOG), end - 5);
    const store = await FileStore.open(dir);
    await store.commit([{ ns: 'session', key: 'd', value: u32(4) }]);
    await store.close();
    const reopened = await FileStore.open(dir);
    expect(await snapshotOf(reopened)).toEqual(beforeC);
    expect(await reopened.get('session', 'd')).toEqual(u32(4));
    expect((await stat(join(dir, LOG))).size).toBeGreaterThan(start);
    await reopened.close();
  });

  it('treats a checksum failure in the last record as a torn write', async () => {
    const { end } = await threeCommits();
    const log = await readFile(join(dir, LOG));
    log[end - 40]! ^= 0x01;
    await writeFile(join(dir, LOG), log);
    const store = await FileStore.open(dir);
    expect(await snapshotOf(store)).toEqual(beforeC);
    await store.close();
  });

  it('treats a zero-filled or garbage tail (an append whose data never landed) as torn', async () => {
    const { start, end } = await threeCommits();
    const log = await readFile(join(dir, LOG));
    for (const fill of [0x00, 0xff, 0x41]) {
      const tail = Uint8Array.from(log);
      tail.fill(fill, start, end);
      await writeFile(join(dir, LOG), tail);
      const store = await FileStore.open(dir);
      expect(await snapshotOf(store), `fill ${fill}`).toEqual(beforeC);
      await store.close();
    }
  });

  it('reports a damaged record that is followed by others', async () => {
    const { start } = await threeCommits();
    const log = await readFile(join(dir, LOG));
    log[start - 40]! ^= 0x01;
    await writeFile(join(dir, LOG), log);
    await expect(FileStore.open(dir)).rejects.toThrow(StateCorruptError);
  });

  it('reports records that are not consecutive (a replayed or missing commit)', async () => {
    const { start, end } = await threeCommits();
    const log = await readFile(join(dir, LOG));
    await writeFile(join(dir, LOG), Buffer.concat([log, log.subarray(start, end)]));
    await expect(FileStore.open(dir)).rejects.toThrow(StateCorruptError);
  });

  it('reports a damaged snapshot', async () => {
    const store = await FileStore.open(dir);
    await store.commit([{ ns: 'meta', key: 'k', value: u32(7) }]);
    await store.compact();
    await store.close();
    const path = join(dir, 'sealpost.snapshot');
    const snapshot = await readFile(path);
    snapshot[snapshot.length - 40]! ^= 0x01;
    await writeFile(path, snapshot);
    await expect(FileStore.open(dir)).rejects.toThrow(StateCorruptError);
    await writeFile(path, snapshot.subarray(0, 10));
    await expect(FileStore.open(dir)).rejects.toThrow(StateCorruptError);
  });

  it('finishes a compaction interrupted between the snapshot and the new log', async () => {
    await threeCommits();
    await copyFile(join(dir, LOG), join(dir, 'old.log'));
    const store = await FileStore.open(dir);
    await store.compact();
    await store.close();
    // The crash: the new snapshot is in place but the log is still the old one.
    await copyFile(join(dir, 'old.log'), join(dir, LOG));
    const recovered = await FileStore.open(dir);
    expect(await snapshotOf(recovered)).toEqual(afterC);
    await recovered.commit([{ ns: 'session', key: 'd', value: u32(4) }]);
    await recovered.close();
    const reopened = await FileStore.open(dir);
    expect(await snapshotOf(reopened)).toEqual(afterC);
    expect(await reopened.get('session', 'd')).toEqual(u32(4));
    await reopened.close();
  });

  it('ignores temp files left by an interrupted compaction', async () => {
    await threeCommits();
    await writeFile(join(dir, 'sealpost.snapshot.tmp'), 'partial');
    await writeFile(join(dir, 'sealpost.log.tmp'), 'partial');
    const store = await FileStore.open(dir);
    expect(await snapshotOf(store)).toEqual(afterC);
    await store.compact();
    await store.close();
    const reopened = await FileStore.open(dir);
    expect(await snapshotOf(reopened)).toEqual(afterC);
    await reopened.close();
  });
});
