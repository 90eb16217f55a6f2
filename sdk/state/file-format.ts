/**
 * The file formats of `FileStore` (docs/PROTOCOL.md §9.2): the checksummed log records,
 * the snapshot, and log replay with the recovery rules of docs/PROTOCOL.md §9.3. Pure
 * functions over bytes and the in-memory map; the file I/O is in file-store.ts.
 */
import { createHash } from 'node:crypto';
import { StateCorruptError, UnsupportedVersionError } from '../errors.ts';
import { ArgumentTypeError } from '../util/argument-errors.ts';
import {
  ByteReader,
  ByteWriter,
  constantTimeEqual,
  fromUtf8,
  readU32be,
  utf8,
} from '../util/bytes.ts';
import type { StoreNamespace, StoreOp } from './store.ts';

/** File format version of the log and the snapshot (docs/PROTOCOL.md §9.2). */
export const FILE_STORE_VERSION = 1;
export const LOG_MAGIC = utf8('SPLG');
export const SNAPSHOT_MAGIC = utf8('SPSN');
export const LOG_FILE = 'sealpost.log';
export const SNAPSHOT_FILE = 'sealpost.snapshot';
export const LOG_HEADER_BYTES = 4 + 2 + 8;
export const CHECKSUM_BYTES = 32;
export const OP_DELETE = 0;
export const OP_PUT = 1;
export const DEFAULT_COMPACT_BYTES = 1 << 20;

export type Data = Map<string, Map<string, Uint8Array>>;

export const corrupt = (message: string) => new StateCorruptError(`state file: ${message}`);
export const reader = (bytes: Uint8Array, what: string) => new ByteReader(bytes, what, corrupt);

export function checksum(...parts: Uint8Array[]): Uint8Array {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/** UTF-8 of a string that must survive a round trip (a lone surrogate would not). */
export function exactUtf8(text: string, what: string): Uint8Array {
  const bytes = utf8(text);
  if (new TextDecoder().decode(bytes) !== text)
    throw new ArgumentTypeError(`store ${what} must be well-formed Unicode`);
  return bytes;
}

/** Decodes a string field of a checksummed record; invalid UTF-8 there means corruption. */
export function text(bytes: Uint8Array): string {
  try {
    return fromUtf8(bytes);
  } catch {
    throw corrupt('invalid UTF-8');
  }
}

export function encodeNamespace(w: ByteWriter, ns: string): void {
  if (typeof ns !== 'string') throw new ArgumentTypeError('store namespace must be a string');
  const bytes = exactUtf8(ns, 'namespace');
  if (bytes.length === 0 || bytes.length > 255)
    throw new ArgumentTypeError('store namespace must be 1 to 255 bytes');
  w.u8(bytes.length).bytes(bytes);
}

/** Log record body: u64 seq || u32 count || ops (docs/PROTOCOL.md §9.2.2). */
export function encodeRecord(seq: number, ops: readonly StoreOp[]): Uint8Array {
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

export function decodeOps(r: ByteReader): StoreOp[] {
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

export function apply(data: Data, ops: readonly StoreOp[]): void {
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

export function readHeader(r: ByteReader, magic: Uint8Array): void {
  if (!constantTimeEqual(r.bytes(4), magic)) throw corrupt('bad magic');
  const version = r.u16();
  if (version !== FILE_STORE_VERSION) throw new UnsupportedVersionError(version, 'state file');
}

/** Snapshot: magic || u16 version || u64 seq || ops (all puts) || SHA-256 of the rest. */
export function encodeSnapshot(seq: number, data: Data): Uint8Array {
  const ops: StoreOp[] = [];
  for (const [ns, space] of data) {
    for (const [key, value] of space) ops.push({ ns: ns as StoreNamespace, key, value });
  }
  const body = encodeRecord(seq, ops).subarray(4, -CHECKSUM_BYTES);
  const w = new ByteWriter(body.length + 64).bytes(SNAPSHOT_MAGIC).u16(FILE_STORE_VERSION);
  const unsigned = w.bytes(body).finish();
  return new ByteWriter(unsigned.length + 32).bytes(unsigned).bytes(checksum(unsigned)).finish();
}

export function decodeSnapshot(file: Uint8Array): { seq: number; data: Data } {
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

export function logHeader(baseSeq: number): Uint8Array {
  return new ByteWriter(LOG_HEADER_BYTES)
    .bytes(LOG_MAGIC)
    .u16(FILE_STORE_VERSION)
    .u64(baseSeq)
    .finish();
}

export interface Replay {
  readonly baseSeq: number;
  readonly lastSeq: number;
  /** Length of the valid prefix; anything after it is a torn final record. */
  readonly validLength: number;
}

/** The record at `offset`: its body and end, `incomplete` if it runs past EOF, or `bad`. */
export function recordAt(
  file: Uint8Array,
  offset: number,
): { body: Uint8Array; end: number } | 'incomplete' | 'bad' {
  if (file.length - offset < 4) return 'incomplete';
  const lengthField = file.subarray(offset, offset + 4);
  const length = readU32be(file, offset);
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
export function replayLog(file: Uint8Array, snapshotSeq: number, data: Data): Replay {
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
      const length = readU32be(file, offset);
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
