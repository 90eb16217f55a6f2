/**
 * Durable {@link StateStore} in a directory (Node only; the `sealpost/file-store` subpath).
 *
 * Every commit is one checksummed record appended to a log and fsynced before `commit()`
 * resolves; opening replays the log over the last snapshot and discards a torn final record, so
 * a commit is all-or-nothing across a crash at any point. When the log outgrows the snapshot it
 * is compacted: snapshot to a temp file, fsync, rename, fsync the directory, then a fresh log the
 * same way. One process at a time holds the directory's lock file. File formats, the recovery
 * rules and the lock protocol: docs/PROTOCOL.md §9.
 *
 * The whole state is held in memory (client state is small: identities, prekeys, sessions).
 */
import { type FileHandle, mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { SealpostError } from '../errors.ts';
import { ArgumentRangeError } from '../util/argument-errors.ts';
import {
  apply,
  type Data,
  DEFAULT_COMPACT_BYTES,
  decodeSnapshot,
  encodeRecord,
  encodeSnapshot,
  LOG_FILE,
  LOG_HEADER_BYTES,
  logHeader,
  replayLog,
  SNAPSHOT_FILE,
} from './file-format.ts';
import { readOptional, unlinkIfPresent, writeAll, writeFileAtomic } from './file-io.ts';
import { acquireLock, releaseLock } from './file-lock.ts';
import {
  assertStoreKey,
  assertStoreOps,
  firstConflict,
  isCheckOnly,
  type StateStore,
  StoreConflictError,
  type StoreNamespace,
  type StoreOp,
} from './store.ts';

export { FILE_STORE_VERSION } from './file-format.ts';

/** Why a {@link FileStore} refused an operation. */
export type FileStoreErrorCode = 'LOCKED' | 'CLOSED' | 'FAILED';

/**
 * A local condition of the store, not of the protocol: the directory is locked by another
 * process (`LOCKED`), the store was closed (`CLOSED`), or an earlier write failed and the store
 * must be reopened to recover (`FAILED`, with the I/O error as `cause`).
 */
export class FileStoreError extends SealpostError<FileStoreErrorCode> {}

/** Options of {@link FileStore.open}. */
export interface FileStoreOptions {
  /**
   * Compact once the log exceeds this many bytes and the size of the last snapshot.
   * @default 1048576
   */
  readonly compactThresholdBytes?: number;
}

/**
 * Durable {@link StateStore} in one directory, for Node clients. Open with
 * {@link FileStore.open}; `close()` releases the directory for other processes.
 *
 * @example
 * ```ts
 * import { FileStore } from 'sealpost/file-store';
 * const store = await FileStore.open('/var/lib/my-app/sealpost');
 * await store.commit([{ ns: 'meta', key: 'deviceId', value: new Uint8Array([1]) }]);
 * await store.close();
 * ```
 */
export class FileStore implements StateStore {
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;
  private failure: unknown;

  private constructor(
    private readonly dir: string,
    private readonly lock: string,
    private readonly compactBytes: number,
    private log: FileHandle,
    private logBytes: number,
    private snapshotBytes: number,
    private seq: number,
    private readonly data: Data,
  ) {}

  /**
   * Opens (creating if needed) the store in `dir`, takes its lock and replays its state.
   *
   * @throws {FileStoreError} `LOCKED` if another live process (or this one) holds the directory.
   * @throws {StateCorruptError} if the snapshot or a log record other than a torn last one is damaged.
   * @throws {UnsupportedVersionError} if the files were written by an unknown format version.
   */
  static async open(dir: string, options: FileStoreOptions = {}): Promise<FileStore> {
    const compactBytes = options.compactThresholdBytes ?? DEFAULT_COMPACT_BYTES;
    if (!Number.isSafeInteger(compactBytes) || compactBytes < 0)
      throw new ArgumentRangeError('compactThresholdBytes must be a non-negative integer');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const attempt = await acquireLock(dir);
    if (!attempt.acquired)
      throw new FileStoreError(
        'LOCKED',
        `state directory is locked by process ${attempt.holderPid}`,
      );
    const lock = attempt.token;
    let log: FileHandle | undefined;
    try {
      await unlinkIfPresent(join(dir, `${SNAPSHOT_FILE}.tmp`));
      await unlinkIfPresent(join(dir, `${LOG_FILE}.tmp`));
      const snapshotFile = await readOptional(join(dir, SNAPSHOT_FILE));
      const snapshot = snapshotFile ? decodeSnapshot(snapshotFile) : { seq: 0, data: new Map() };
      const logFile = await readOptional(join(dir, LOG_FILE));
      const replay = logFile
        ? replayLog(logFile, snapshot.seq, snapshot.data)
        : { baseSeq: snapshot.seq, lastSeq: snapshot.seq, validLength: LOG_HEADER_BYTES };
      log = logFile
        ? await open(join(dir, LOG_FILE), 'r+')
        : await writeFileAtomic(dir, LOG_FILE, logHeader(snapshot.seq));
      if (logFile && replay.validLength < logFile.length) {
        // A torn final append (docs/PROTOCOL.md §9.3): cut it off so new records follow valid ones.
        await log.truncate(replay.validLength);
        await log.sync();
      }
      // The files hold private keys; the parsed state is all that stays in memory.
      snapshotFile?.fill(0);
      logFile?.fill(0);
      const store = new FileStore(
        dir,
        lock,
        compactBytes,
        log,
        replay.validLength,
        snapshotFile?.length ?? 0,
        replay.lastSeq,
        snapshot.data,
      );
      // A compaction interrupted after its snapshot but before its new log: finish it.
      if (replay.baseSeq < snapshot.seq) await store.compactNow();
      return store;
    } catch (e) {
      await log?.close().catch(() => undefined);
      await releaseLock(dir, lock);
      throw e;
    }
  }

  /**
   * A copy of the record, or undefined.
   * @throws {FileStoreError} `CLOSED` or `FAILED`.
   */
  async get(ns: StoreNamespace, key: string): Promise<Uint8Array | undefined> {
    assertStoreKey(key);
    this.assertUsable();
    return this.data.get(ns)?.get(key)?.slice();
  }

  /**
   * Every key in the namespace, in no particular order.
   * @throws {FileStoreError} `CLOSED` or `FAILED`.
   */
  async keys(ns: StoreNamespace): Promise<string[]> {
    this.assertUsable();
    return [...(this.data.get(ns)?.keys() ?? [])];
  }

  /**
   * Appends the ops as one record, fsyncs it, then applies them. If it throws an I/O error the
   * store is `FAILED`; after reopening, the commit is either wholly present or wholly absent.
   *
   * @throws {ArgumentTypeError} for an invalid key, namespace or value (nothing is written).
   * @throws {StoreConflictError} if an op's `expect` does not hold (nothing is written).
   * @throws {FileStoreError} `CLOSED` or `FAILED`.
   */
  async commit(ops: readonly StoreOp[]): Promise<void> {
    assertStoreOps(ops);
    const copies = ops
      .filter((op) => !isCheckOnly(op))
      .map((op) => ({ ns: op.ns, key: op.key, value: op.value?.slice() ?? null }));
    const expectations = ops
      .filter((op) => op.expect !== undefined)
      .map((op) => ({ ...op, expect: op.expect?.slice() ?? null }));
    return this.exclusive(async () => {
      this.assertUsable();
      // docs/PROTOCOL.md §9.1: the directory lock keeps every other process and instance out for
      // this store's lifetime and commits run one at a time, so the in-memory state is the durable
      // state and checking it here is atomic with the append below.
      const failed = firstConflict(expectations, (ns, key) => this.data.get(ns)?.get(key));
      if (failed) throw new StoreConflictError(failed.ns, failed.key);
      if (copies.length === 0) return;
      const record = encodeRecord(this.seq + 1, copies);
      try {
        await writeAll(this.log, record, this.logBytes);
        await this.log.datasync();
      } catch (cause) {
        this.failure = cause;
        throw new FileStoreError('FAILED', 'state write failed; reopen the store', { cause });
      } finally {
        record.fill(0);
      }
      this.logBytes += record.length;
      this.seq += 1;
      apply(this.data, copies);
      if (this.logBytes > Math.max(this.compactBytes, this.snapshotBytes)) {
        // The commit is durable already; a failed compaction only marks the store FAILED.
        await this.compactNow().catch((cause: unknown) => {
          this.failure = cause;
        });
      }
    });
  }

  /**
   * Writes a snapshot of the current state and starts an empty log.
   *
   * @throws {FileStoreError} `CLOSED` or `FAILED` (the store is `FAILED` after an I/O error).
   */
  async compact(): Promise<void> {
    return this.exclusive(async () => {
      this.assertUsable();
      try {
        await this.compactNow();
      } catch (cause) {
        this.failure = cause;
        throw new FileStoreError('FAILED', 'compaction failed; reopen the store', { cause });
      }
    });
  }

  /** Waits for pending commits, closes the files and releases the lock. Idempotent. */
  async close(): Promise<void> {
    return this.exclusive(async () => {
      if (this.closed) return;
      this.closed = true;
      try {
        await this.log.close();
      } finally {
        await releaseLock(this.dir, this.lock);
      }
    });
  }

  /** docs/PROTOCOL.md §9.3: snapshot first, then the log that starts after it; each atomically. */
  private async compactNow(): Promise<void> {
    const snapshot = encodeSnapshot(this.seq, this.data);
    try {
      await (await writeFileAtomic(this.dir, SNAPSHOT_FILE, snapshot)).close();
    } finally {
      snapshot.fill(0);
    }
    this.snapshotBytes = snapshot.length;
    const log = await writeFileAtomic(this.dir, LOG_FILE, logHeader(this.seq));
    const old = this.log;
    this.log = log;
    this.logBytes = LOG_HEADER_BYTES;
    await old.close();
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.catch(() => undefined);
    return result;
  }

  private assertUsable(): void {
    if (this.closed) throw new FileStoreError('CLOSED', 'store is closed');
    if (this.failure !== undefined)
      throw new FileStoreError('FAILED', 'an earlier write failed; reopen the store', {
        cause: this.failure,
      });
  }
}
