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
import { createHash } from 'node:crypto';
import { type FileHandle, mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { StateCorruptError, UnsupportedVersionError } from '../errors.ts';
import { ArgumentRangeError, ArgumentTypeError } from '../util/argument-errors.ts';
import { ByteReader, ByteWriter, constantTimeEqual, fromUtf8, utf8 } from '../util/bytes.ts';
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

/** File format version of the log and the snapshot (docs/PROTOCOL.md §9.2). */
export const FILE_STORE_VERSION = 1;
const LOG_MAGIC = utf8('SPLG');
const SNAPSHOT_MAGIC = utf8('SPSN');
const LOG_FILE = 'sealpost.log';
const SNAPSHOT_FILE = 'sealpost.snapshot';
const LOG_HEADER_BYTES = 4 + 2 + 8;
const CHECKSUM_BYTES = 32;
const OP_DELETE = 0;
const OP_PUT = 1;
const DEFAULT_COMPACT_BYTES = 1 << 20;

/** Why a {@link FileStore} refused an operation. */
export type FileStoreErrorCode = 'LOCKED' | 'CLOSED' | 'FAILED';

/**
 * A local condition of the store, not of the protocol: the directory is locked by another
 * process (`LOCKED`), the store was closed (`CLOSED`), or an earlier write failed and the store
 * must be reopened to recover (`FAILED`, with the I/O error as `cause`).
 */
export class FileStoreError extends Error {
  readonly code: FileStoreErrorCode;
  constructor(code: FileStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'FileStoreError';
  }
}

/** Options of {@link FileStore.open}. */
export interface FileStoreOptions {
  /**
   * Compact once the log exceeds this many bytes and the size of the last snapshot.
   * @default 1048576
   */
  readonly compactThresholdBytes?: number;
}

type Data = Map<string, Map<string, Uint8Array>>;

const corrupt = (message: string) => new StateCorruptError(`state file: ${message}`);
const reader = (bytes: Uint8Array, what: string) => new ByteReader(bytes, what, corrupt);

function checksum(...parts: Uint8Array[]): Uint8Array {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/** UTF-8 of a string that must survive a round trip (a lone surrogate would not). */
function exactUtf8(text: string, what: string): Uint8Array {
  const bytes = utf8(text);
  if (new TextDecoder().decode(bytes) !== text)
    throw new ArgumentTypeError(`store ${what} must be well-formed Unicode`);
  return bytes;
}

/** Decodes a string field of a checksummed record; invalid UTF-8 there means corruption. */
function text(bytes: Uint8Array): string {
  try {
    return fromUtf8(bytes);
  } catch {
    throw corrupt('invalid UTF-8');
  }
}

function encodeNamespace(w: ByteWriter, ns: string): void {
  if (typeof ns !== 'string') throw new ArgumentTypeError('store namespace must be a string');
  const bytes = exactUtf8(ns, 'namespace');
  if (bytes.length === 0 || bytes.length > 255)
    throw new ArgumentTypeError('store namespace must be 1 to 255 bytes');
  w.u8(bytes.length).bytes(bytes);
}

/** Log record body: u64 seq || u32 count || ops (docs/PROTOCOL.md §9.2.2). */
function encodeRecord(seq: number, ops: readonly StoreOp[]): Uint8Array {
  const w = new ByteWriter();
  w.u64(seq).u32(ops.length);
  for (const op of ops) {
    encodeNamespace(w, op.ns);
    w.var16(exactUtf8(op.key, 'key'));
    if (op.value === null) w.u8(OP_DELETE);
    else w.u8(OP_PUT).var32(op.value);
  }
  const body = w.finish();
  const length = new ByteWriter(4).u32(body.length).finish();
  const out = new Uint8Array(4 + body.length + CHECKSUM_BYTES);
  out.set(length);
  out.set(body, 4);
  out.set(checksum(length, body), 4 + body.length);
  return out;
}

function decodeOps(r: ByteReader): StoreOp[] {
  const count = r.u32();
  const ops: StoreOp[] = [];
  for (let i = 0; i < count; i++) {
    const ns = text(r.bytes(r.u8())) as StoreNamespace;
    const key = text(r.var16());
    const kind = r.u8();
    if (kind === OP_DELETE) ops.push({ ns, key, value: null });
    else if (kind === OP_PUT) ops.push({ ns, key, value: r.var32(0xffffffff) });
    else throw corrupt('unknown operation');
  }
  return ops;
}

function apply(data: Data, ops: readonly StoreOp[]): void {
  for (const op of ops) {
    if (op.value === null) {
      data.get(op.ns)?.delete(op.key);
      continue;
    }
    let space = data.get(op.ns);
    if (!space) {
      space = new Map();
      data.set(op.ns, space);
    }
    space.set(op.key, op.value);
  }
}

function readHeader(r: ByteReader, magic: Uint8Array): void {
  if (!constantTimeEqual(r.bytes(4), magic)) throw corrupt('bad magic');
  const version = r.u16();
  if (version !== FILE_STORE_VERSION) throw new UnsupportedVersionError(version, 'state file');
}

/** Snapshot: magic || u16 version || u64 seq || ops (all puts) || SHA-256 of the rest. */
function encodeSnapshot(seq: number, data: Data): Uint8Array {
  const ops: StoreOp[] = [];
  for (const [ns, space] of data) {
    for (const [key, value] of space) ops.push({ ns: ns as StoreNamespace, key, value });
  }
  const body = encodeRecord(seq, ops).subarray(4, -CHECKSUM_BYTES);
  const w = new ByteWriter(body.length + 64).bytes(SNAPSHOT_MAGIC).u16(FILE_STORE_VERSION);
  const unsigned = w.bytes(body).finish();
  return new ByteWriter(unsigned.length + 32).bytes(unsigned).bytes(checksum(unsigned)).finish();
}

function decodeSnapshot(file: Uint8Array): { seq: number; data: Data } {
  if (file.length < CHECKSUM_BYTES) throw corrupt('snapshot is truncated');
  const unsigned = file.subarray(0, file.length - CHECKSUM_BYTES);
  if (!constantTimeEqual(checksum(unsigned), file.subarray(unsigned.length)))
    throw corrupt('snapshot checksum mismatch');
  const r = reader(unsigned, 'snapshot');
  readHeader(r, SNAPSHOT_MAGIC);
  const seq = r.u64();
  const data: Data = new Map();
  apply(data, decodeOps(r));
  r.end();
  return { seq, data };
}

function logHeader(baseSeq: number): Uint8Array {
  return new ByteWriter(LOG_HEADER_BYTES)
    .bytes(LOG_MAGIC)
    .u16(FILE_STORE_VERSION)
    .u64(baseSeq)
    .finish();
}

interface Replay {
  readonly baseSeq: number;
  readonly lastSeq: number;
  /** Length of the valid prefix; anything after it is a torn final record. */
  readonly validLength: number;
}

/** The record at `offset`: its body and end, `incomplete` if it runs past EOF, or `bad`. */
function recordAt(
  file: Uint8Array,
  offset: number,
): { body: Uint8Array; end: number } | 'incomplete' | 'bad' {
  if (file.length - offset < 4) return 'incomplete';
  const lengthField = file.subarray(offset, offset + 4);
  const length = new DataView(file.buffer, file.byteOffset + offset, 4).getUint32(0);
  const end = offset + 4 + length + CHECKSUM_BYTES;
  if (end > file.length) return 'incomplete';
  const body = file.subarray(offset + 4, end - CHECKSUM_BYTES);
  const sum = file.subarray(end - CHECKSUM_BYTES, end);
  return constantTimeEqual(checksum(lengthField, body), sum) ? { body, end } : 'bad';
}

/**
 * Replays the log over `data` (docs/PROTOCOL.md §9.3). Records must be numbered consecutively from the
 * header's base; those already in the snapshot are skipped. Only the last append can be torn
 * (each append is fsynced before the next starts), so the first record that is incomplete or
 * fails its checksum ends the log, unless a valid record follows it: that is corruption.
 */
function replayLog(file: Uint8Array, snapshotSeq: number, data: Data): Replay {
  const header = reader(file.subarray(0, LOG_HEADER_BYTES), 'log header');
  readHeader(header, LOG_MAGIC);
  const baseSeq = header.u64();
  if (baseSeq > snapshotSeq) throw corrupt('log is newer than the snapshot');
  let offset = LOG_HEADER_BYTES;
  let seq = baseSeq;
  while (offset < file.length) {
    const record = recordAt(file, offset);
    if (record === 'incomplete') break;
    if (record === 'bad') {
      const length = new DataView(file.buffer, file.byteOffset + offset, 4).getUint32(0);
      const next = offset + 4 + length + CHECKSUM_BYTES;
      if (next < file.length && typeof recordAt(file, next) === 'object')
        throw corrupt(`log record at byte ${offset} fails its checksum`);
      break;
    }
    const r = reader(record.body, 'log record');
    if (r.u64() !== seq + 1) throw corrupt('log records are not consecutive');
    seq += 1;
    const ops = decodeOps(r);
    r.end();
    if (seq > snapshotSeq) apply(data, ops);
    offset = record.end;
  }
  return { baseSeq, lastSeq: Math.max(seq, snapshotSeq), validLength: offset };
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
   * @throws {TypeError} for an invalid key, namespace or value (nothing is written).
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
