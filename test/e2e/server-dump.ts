/**
 * Everything the server keeps, read back from the local engines: every DynamoDB item (a full
 * scan), every S3 object with its key, metadata and bytes, every file (or in-memory object) of
 * the local object service that holds attachment blobs, and every log line. Each record is
 * flattened into searchable text (binary values as hex, base64 and base64url) and a list of
 * identifier-like tokens, so tests can assert what the server does not know.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type AttributeValue, ScanCommand, type ScanCommandOutput } from '@aws-sdk/client-dynamodb';
import {
  GetObjectCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import { MemoryObjectStorage } from '#functions/adapters/local-objects/index.ts';
import type { E2eStack } from './stack.ts';

/** One stored (or, for frames, sent) thing: where it is and what it holds. */
export interface DumpedRecord {
  readonly kind: 'item' | 'object' | 'log' | 'frame' | 'file';
  /**
   * `pk sk` of an item, the key of an object, the index of a log line or frame, the path of a
   * file of the object service (relative to its directory; a directory's ends in `/`).
   */
  readonly where: string;
  /** Every value as text; binary values in hex, base64 and base64url. */
  readonly text: string;
  /** Every number, from number attributes and from digit runs in strings. */
  readonly numbers: number[];
  /** The bytes of an object, or of a file of the object service. */
  readonly body?: Uint8Array;
  /** Attribute names (items only). */
  readonly names?: string[];
  /** The item as stored (items only). */
  readonly item?: Record<string, AttributeValue>;
}

/** What the server keeps. */
export interface ServerDump {
  readonly items: DumpedRecord[];
  readonly objects: DumpedRecord[];
  readonly logs: DumpedRecord[];
  /** What the object service keeps: its files and directories, or its objects in memory. */
  readonly files: DumpedRecord[];
}

const HOUR_MS = 3_600_000;

/** Every textual form of `bytes` a store or log could hold. */
export function encodings(bytes: Uint8Array): string[] {
  const b = Buffer.from(bytes);
  return [b.toString('hex'), b.toString('base64').replace(/=+$/, ''), b.toString('base64url')];
}

function valueText(value: unknown, out: string[], numbers: number[]): void {
  if (value instanceof Uint8Array) {
    out.push(...encodings(value));
  } else if (typeof value === 'number' || typeof value === 'bigint') {
    out.push(String(value));
    numbers.push(Number(value));
  } else if (typeof value === 'string') {
    out.push(value);
    for (const run of value.match(/\d{9,}/g) ?? []) numbers.push(Number(run));
  } else if (Array.isArray(value)) {
    for (const v of value) valueText(v, out, numbers);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      // DynamoDB attribute values: { S }, { N }, { B }, { BOOL }, { L }, { M }, sets.
      if (k === 'N') valueText(Number(v), out, numbers);
      else if (k === 'NS') for (const n of v as string[]) valueText(Number(n), out, numbers);
      else valueText(v, out, numbers);
    }
  }
}

function record(
  kind: DumpedRecord['kind'],
  where: string,
  value: unknown,
  extra: Partial<DumpedRecord> = {},
): DumpedRecord {
  const out: string[] = [];
  const numbers: number[] = [];
  valueText(value, out, numbers);
  return { kind, where, text: out.join('\n'), numbers, ...extra };
}

/**
 * Reads every item, object and log line of the stack.
 *
 * @example const dump = await dumpServer(stack);
 */
export async function dumpServer(stack: E2eStack): Promise<ServerDump> {
  const items: DumpedRecord[] = [];
  let start: ScanCommandOutput['LastEvaluatedKey'];
  do {
    const page = await stack.aws.dynamodb.send(
      new ScanCommand({ TableName: stack.table, ConsistentRead: true, ExclusiveStartKey: start }),
    );
    for (const item of page.Items ?? []) {
      items.push(
        record('item', `${item['pk']?.S} ${item['sk']?.S}`, item, {
          names: Object.keys(item),
          item,
        }),
      );
    }
    start = page.LastEvaluatedKey;
  } while (start);

  const objects: DumpedRecord[] = [];
  let token: ListObjectsV2CommandOutput['NextContinuationToken'];
  do {
    const page = await stack.aws.s3.send(
      new ListObjectsV2Command({ Bucket: stack.bucket, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) {
      const key = o.Key ?? '';
      const read = await readObject(stack, key);
      // Deleted since the listing (an acknowledgement still running): no longer kept.
      if (!read) continue;
      const { head, body } = read;
      // S3's own LastModified (to the second) is documented as kept until acknowledgement;
      // what the service chose to write is the key, the metadata and the content headers.
      objects.push(
        record(
          'object',
          key,
          {
            key,
            metadata: head.Metadata ?? {},
            contentType: head.ContentType,
            contentEncoding: head.ContentEncoding,
            contentDisposition: head.ContentDisposition,
            cacheControl: head.CacheControl,
            expires: head.ExpiresString,
            tagCount: head.TagCount,
          },
          { body },
        ),
      );
    }
    token = page.NextContinuationToken;
  } while (token);

  const logs = stack.logs.map((line, i) => {
    // The line's own timestamp (`time`, and EMF's `_aws.Timestamp`) is when the request was
    // served: the live view of request timing the server has anyway, which CloudWatch stamps
    // on every event regardless. Every other field is checked.
    const { time: _time, _aws: aws, ...rest } = JSON.parse(line) as Record<string, unknown>;
    const { Timestamp: _ts, ...emf } = (aws ?? {}) as Record<string, unknown>;
    return record('log', `log line ${i}`, { ...rest, _aws: emf });
  });
  return { items, objects, logs, files: await dumpObjectService(stack) };
}

/**
 * What the local object service keeps. In files: every file and directory under its directory,
 * with its size and permission bits (a file's bytes as its body); the modification time is
 * S3's `LastModified` of the object, kept as on AWS (docs/SERVICE.md §7.6), like that of the
 * envelopes above. In memory: every object by key with its bytes (the service keeps nothing
 * else once an upload completed).
 */
async function dumpObjectService(stack: E2eStack): Promise<DumpedRecord[]> {
  const files: DumpedRecord[] = [];
  const root = stack.objectsDir;
  if (root === undefined) {
    if (!(stack.objects instanceof MemoryObjectStorage)) throw new Error('unknown object storage');
    for (const [key, body] of stack.objects.objects) {
      files.push(record('file', key, { size: body.length }, { body }));
    }
    return files;
  }
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(join(root, dir), { withFileTypes: true })) {
      const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
      const { size, mode } = await stat(join(root, path));
      const permissions = (mode & 0o777).toString(8);
      if (entry.isDirectory()) {
        files.push(record('file', `${path}/`, { permissions }));
        await walk(path);
      } else {
        const body = new Uint8Array(await readFile(join(root, path)));
        files.push(record('file', path, { size, permissions }, { body }));
      }
    }
  };
  await walk('');
  return files;
}

/**
 * The WebSocket frames a client received, as records (`frame <i>`), judged like log lines.
 *
 * @example const frames = frameRecords(seen.frames);
 */
export function frameRecords(frames: readonly string[]): DumpedRecord[] {
  return frames.map((text, i) => record('frame', `frame ${i}`, JSON.parse(text)));
}

/**
 * An item's record without some attributes, for values a test has judged on their own (e.g. a
 * device record's creation time).
 *
 * @example finerThanHour(withoutAttributes(r, ['createdAt']), window)
 * @throws {TypeError} if `r` is not an item.
 */
export function withoutAttributes(r: DumpedRecord, names: readonly string[]): DumpedRecord {
  if (!r.item) throw new TypeError(`${r.where} is not an item`);
  const kept = Object.fromEntries(Object.entries(r.item).filter(([k]) => !names.includes(k)));
  return record('item', r.where, kept, { names: Object.keys(kept), item: kept });
}

/** An object's head and bytes, or undefined if it is gone. */
async function readObject(
  stack: E2eStack,
  key: string,
): Promise<{ head: HeadObjectCommandOutput; body: Uint8Array } | undefined> {
  try {
    const head = await stack.aws.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: key }));
    const got = await stack.aws.s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: key }));
    return { head, body: await got.Body!.transformToByteArray() };
  } catch (err) {
    if ((err as Error).name === 'NotFound' || (err as Error).name === 'NoSuchKey') return undefined;
    throw err;
  }
}

/** Times a dump is judged around: epoch ms bounds, and numbers known not to be times. */
export interface TimeWindow {
  readonly from: number;
  readonly to: number;
  /** E.g. registration ids, which are u32 and may fall in the range of epoch seconds. */
  readonly notTimes: ReadonlySet<number>;
}

/**
 * Numbers in `r` that look like a time inside `w` finer than an hour: epoch milliseconds, or
 * epoch seconds, that are not whole hours.
 */
export function finerThanHour(r: DumpedRecord, w: TimeWindow): number[] {
  return r.numbers.filter((n) => {
    if (w.notTimes.has(n)) return false;
    if (n >= w.from && n <= w.to) return n % HOUR_MS !== 0;
    if (n * 1000 >= w.from && n * 1000 <= w.to) return n % 3600 !== 0;
    return false;
  });
}

/** ISO-8601 times with minutes, seconds or milliseconds other than zero. */
export function isoTimesFinerThanHour(r: DumpedRecord): string[] {
  return (r.text.match(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?/g) ?? []).filter(
    (t) => !/T\d\d:00:00(\.0+)?Z?$/.test(t),
  );
}

/**
 * Identifier-like tokens of a record (parts of 16 or more characters between separators, and
 * numbers that are not whole hours), to find values two records share.
 */
export function identifierTokens(r: DumpedRecord, w: TimeWindow): Set<string> {
  const tokens = new Set<string>();
  for (const part of r.text.split(/[\n#/ ]/)) if (part.length >= 16) tokens.add(part);
  for (const n of finerThanHour(r, w)) tokens.add(String(n));
  return tokens;
}

/** Whether `haystack` contains `needle` as a byte sequence. */
export function containsBytes(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack).indexOf(Buffer.from(needle)) !== -1;
}
