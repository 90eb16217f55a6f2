/** Temp directories and FileStore fixtures for the state tests. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore, type FileStoreOptions } from '#sdk/state/file-store.ts';
import type { StoreFixture } from './store-contract.ts';

/** A new empty directory under the OS temp directory. */
export function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'sealpost-store-'));
}

/** Removes a temp directory. */
export function removeDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/** A FileStore in a fresh directory, closed and removed on dispose. */
export async function fileStoreFixture(options?: FileStoreOptions): Promise<StoreFixture> {
  const dir = await tempDir();
  const store = await FileStore.open(dir, options);
  return {
    store,
    dispose: async () => {
      await store.close();
      await removeDir(dir);
    },
  };
}

/** Bytes of a small unsigned integer, for readable test values. */
export function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}
