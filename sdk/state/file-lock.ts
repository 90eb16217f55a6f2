/**
 * The single-writer lock of a file store directory (Node only, like `file-store.ts`): one process
 * at a time holds `LOCK`; a lock left by a process that is certainly gone is broken under
 * `LOCK.break`. Protocol and its safety argument: docs/PROTOCOL.md §9.4.
 */
import { randomBytes } from 'node:crypto';
import { type FileHandle, link, open } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { utf8 } from '../util/bytes.ts';
import { readOptional, syncDirectory, unlinkIfPresent, writeAll } from './file-io.ts';

const LOCK_FILE = 'LOCK';
const BREAK_FILE = 'LOCK.break';

/**
 * Outcome of {@link acquireLock}: our lock token, or the process id named by the lock that is
 * in the way (`undefined` if that lock file vanished or could not be parsed).
 */
export type LockAttempt =
  | { readonly acquired: true; readonly token: string }
  | { readonly acquired: false; readonly holderPid: number | undefined };

/** Contents of a lock file: `pid \n hostname \n token \n`. */
interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly text: string;
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  const bytes = await readOptional(path);
  if (!bytes) return undefined;
  const text = new TextDecoder().decode(bytes);
  const [pid, host] = text.split('\n');
  return { pid: Number(pid), host: host ?? '', text };
}

/**
 * A lock whose holder is certainly gone: written on this host by another process id that no
 * longer exists. Anything else (another host, a live or unknown pid, unreadable) is kept.
 */
function isStale(holder: LockHolder): boolean {
  if (holder.host !== hostname() || !Number.isInteger(holder.pid) || holder.pid <= 0) return false;
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Hard-links the complete lock file into place; false if a lock file already exists. */
async function linkLock(dir: string, tmp: string): Promise<boolean> {
  try {
    await link(tmp, join(dir, LOCK_FILE));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  await syncDirectory(dir);
  return true;
}

/**
 * Takes the directory lock (docs/PROTOCOL.md §9.4): the lock file is written complete under a temp name
 * and hard-linked into place, which fails atomically if one exists. A stale lock is replaced
 * only while holding `LOCK.break`, so two processes cannot both take over the same stale lock.
 *
 * @returns our token (pass it to {@link releaseLock}), or the holder that keeps the lock.
 * @throws the I/O error of a failing file operation (no lock is taken then).
 */
export async function acquireLock(dir: string): Promise<LockAttempt> {
  const text = `${process.pid}\n${hostname()}\n${randomBytes(16).toString('hex')}\n`;
  const tmp = join(dir, `${LOCK_FILE}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await writeAll(handle, utf8(text), 0);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    if (await linkLock(dir, tmp)) return { acquired: true, token: text };
    const holder = await readHolder(join(dir, LOCK_FILE));
    if ((!holder || isStale(holder)) && (await replaceStaleLock(dir, holder, tmp)))
      return { acquired: true, token: text };
    return { acquired: false, holderPid: holder?.pid };
  } finally {
    await unlinkIfPresent(tmp);
  }
}

/**
 * Under `LOCK.break`: if the lock file is still the stale one seen (or gone), removes it and
 * links ours. False if another process is breaking the lock or took it meanwhile.
 */
async function replaceStaleLock(
  dir: string,
  seen: LockHolder | undefined,
  tmp: string,
): Promise<boolean> {
  const breakPath = join(dir, BREAK_FILE);
  let handle: FileHandle;
  try {
    handle = await open(breakPath, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    // A breaker that died mid-break leaves LOCK.break behind; clear it for the next attempt.
    const breaker = await readHolder(breakPath);
    if (breaker && isStale(breaker)) await unlinkIfPresent(breakPath);
    return false;
  }
  try {
    await handle.write(`${process.pid}\n${hostname()}\n`);
    const current = await readHolder(join(dir, LOCK_FILE));
    if (current && current.text !== seen?.text) return false;
    if (current) await unlinkIfPresent(join(dir, LOCK_FILE));
    return await linkLock(dir, tmp);
  } finally {
    await handle.close();
    await unlinkIfPresent(breakPath);
  }
}

/**
 * Removes the lock file if it still holds `token` (docs/PROTOCOL.md §9.4, releasing).
 *
 * @throws the I/O error of reading or removing the lock file.
 */
export async function releaseLock(dir: string, token: string): Promise<void> {
  const path = join(dir, LOCK_FILE);
  if ((await readHolder(path))?.text === token) await unlinkIfPresent(path);
}
