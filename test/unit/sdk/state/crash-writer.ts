/**
 * Child process for file-store-crash.test.ts: commits numbered pairs of records forever and
 * prints each number once its commit has resolved, until the parent kills it.
 * Usage: node --import tsx crash-writer.ts <dir> <first number>
 */
import { FileStore } from '#sdk/state/file-store.ts';

const [dir, first] = process.argv.slice(2);
const store = await FileStore.open(dir!, { compactThresholdBytes: 4096 });
for (let i = Number(first); ; i++) {
  const value = new TextEncoder().encode(String(i).padStart(64, '0'));
  await store.commit([
    { ns: 'meta', key: 'counter', value },
    { ns: 'session', key: `k${i}`, value },
  ]);
  process.stdout.write(`${i}\n`);
}
