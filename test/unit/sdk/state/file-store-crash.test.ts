/**
 * Kills a writer process (SIGKILL) in the middle of its commits, repeatedly, and checks after
 * each kill that the store holds exactly a prefix of the commits: every acknowledged one, each
 * of them whole, nothing after the last one present. Compaction runs often in the writer, so
 * kills also land inside it.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStore } from '#sdk/state/file-store.ts';
import { fromUtf8 } from '#sdk/util/bytes.ts';
import { removeDir, tempDir } from './fixtures.ts';

const writer = fileURLToPath(new URL('./crash-writer.ts', import.meta.url));

/** Runs the writer until it has acknowledged `count` commits, kills it, returns the last ack. */
function runAndKill(dir: string, first: number, count: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=sealpost-source', '--import', 'tsx', writer, dir, String(first)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let last = first - 1;
    let buffered = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    child.stdout.on('data', (d: Buffer) => {
      buffered += d;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) last = Number(line);
      if (last - first + 1 >= count) child.kill('SIGKILL');
    });
    child.on('exit', (_code, signal) => {
      if (signal === 'SIGKILL') resolve(last);
      else reject(new Error(`writer exited without being killed: ${stderr}`));
    });
  });
}

describe('FileStore under SIGKILL', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('keeps exactly a prefix of whole commits across repeated kills', async () => {
    let next = 0;
    for (let round = 0; round < 2; round++) {
      const acknowledged = await runAndKill(dir, next, 120);
      const store = await FileStore.open(dir);
      const counterBytes = await store.get('meta', 'counter');
      const counter = Number(fromUtf8(counterBytes!));
      // Everything acknowledged is durable; at most the in-flight commit got further.
      expect(counter).toBeGreaterThanOrEqual(acknowledged);
      expect(counter).toBeLessThanOrEqual(acknowledged + 1);
      const keys = await store.keys('session');
      expect(keys.length).toBe(counter + 1);
      expect(await store.get('session', `k${counter}`)).toEqual(counterBytes);
      expect(await store.get('session', `k${counter + 1}`)).toBeUndefined();
      await store.close();
      next = counter + 1;
    }
  });
});
