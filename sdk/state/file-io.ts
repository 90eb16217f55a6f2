/**
 * Durable file-system primitives shared by the file store and its lock (Node only, like
 * `file-store.ts`). Durability rules: docs/PROTOCOL.md §9.3.
 */
import { type FileHandle, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The whole file, or `undefined` if it does not exist.
 *
 * @throws the I/O error for anything but a missing file.
 */
export async function readOptional(path: string): Promise<Uint8Array | undefined> {
  try {
    const buf = await readFile(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Removes a file; a file that is already gone is not an error.
 *
 * @throws the I/O error for anything but a missing file.
 */
export async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/**
 * Makes renames and new directory entries durable (POSIX needs an fsync of the directory).
 *
 * @throws the I/O error, except on platforms that cannot fsync a directory.
 */
export async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (e) {
    // Platforms that cannot open or fsync a directory (Windows) order renames themselves.
    if (!['EISDIR', 'EPERM', 'EINVAL', 'EBADF'].includes((e as NodeJS.ErrnoException).code ?? ''))
      throw e;
  } finally {
    await handle?.close();
  }
}

/**
 * Writes all of `bytes` at `position`, looping over short writes.
 *
 * @throws the I/O error of the failing write.
 */
export async function writeAll(
  handle: FileHandle,
  bytes: Uint8Array,
  position: number,
): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}

/**
 * Writes a whole file durably under its final name: temp file, fsync, rename, fsync directory.
 * Returns the open handle (mode 0600) for further appends.
 *
 * @throws the I/O error; the temp file is removed and `name` keeps its previous contents.
 */
export async function writeFileAtomic(
  dir: string,
  name: string,
  bytes: Uint8Array,
): Promise<FileHandle> {
  const tmp = join(dir, `${name}.tmp`);
  const handle = await open(tmp, 'w+', 0o600);
  try {
    await writeAll(handle, bytes, 0);
    await handle.sync();
    await rename(tmp, join(dir, name));
  } catch (e) {
    await handle.close();
    await unlinkIfPresent(tmp);
    throw e;
  }
  await syncDirectory(dir);
  return handle;
}
