/**
 * A 1 GiB attachment end to end in bounded memory (docs/SDK.md §Attachments, "Memory" and
 * "Resume"; docs/SERVICE.md §7.6): the local server in this process, with its blobs in files
 * (the directory storage of the local object service) and the deployment maximum raised above
 * the file's blob, serves a real multipart upload of 16 MiB parts through presigned part URLs.
 *
 * Alice's device streams a generated gigabyte (a `ReadableStream` with `size`); the connection
 * drops in the middle of a part after some parts went through. Her app restarts (a fresh client
 * over the same state store), finds the upload pending, resumes it with the same data read
 * again, and only the parts the store does not hold go out. Bob's device receives the pointer
 * and downloads the file as a stream, compared piece by piece with the generated sequence.
 * The resident set size of the process (client and server both) is sampled throughout: its
 * growth over the baseline must stay far below the file's size.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { manualOutboxTimer } from '@sealpost/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachmentKey } from '#functions/adapters/local-objects/index.ts';
import { type LocalServer, startLocalServer } from '#functions/api/local.ts';
import { DEFAULT_CONFIG } from '#functions/domain/config.ts';
import { blobLayout } from '#sdk/attachments/index.ts';
import {
  type ClientOptions,
  type FetchLike,
  NetworkError,
  SealpostClient,
} from '#sdk/client/index.ts';
import { MemoryStore } from '#sdk/state/memory-store.ts';
import { fromBase64Url } from '#sdk/util/bytes.ts';

const MIB = 1024 * 1024;
/** The file: 1 GiB, generated in pieces of 1 MiB. */
const FILE_SIZE = 1024 * MIB;
const PIECE = MIB;
/** Every 4 KiB block of a piece carries the piece's number, so no two blocks of the file match. */
const BLOCK = 4096;
/** The service's default part size: the blob goes in 65 parts (64 of 16 MiB and the rest). */
const PART_SIZE = DEFAULT_CONFIG.attachmentPartSize;
/** Parts that reach the store before the connection drops (in the middle of the next one). */
const PARTS_BEFORE_DROP = 20;
/** Most the process may grow while a gigabyte passes through it (a part is 16 MiB). */
const MEMORY_BOUND = 256 * MIB;

const LAYOUT = blobLayout(FILE_SIZE);
const PART_COUNT = Math.ceil(LAYOUT.blobSize / PART_SIZE);

/** The generated file: pseudo-random, cheap, and the same every time it is read. */
class GeneratedFile {
  private readonly base = new Uint8Array(randomBytes(PIECE));

  /** Piece `i`: the base with `i` written into every 4 KiB block. */
  piece(i: number): Uint8Array {
    const bytes = this.base.slice();
    const view = new DataView(bytes.buffer);
    for (let at = 0; at < PIECE; at += BLOCK) view.setUint32(at, i);
    return bytes;
  }

  /** The whole file as a stream, from its start; `onPull` runs before each piece. */
  stream(onPull: () => void): ReadableStream<Uint8Array> {
    let i = 0;
    return new ReadableStream<Uint8Array>(
      {
        pull: (controller) => {
          onPull();
          if (i === FILE_SIZE / PIECE) controller.close();
          else controller.enqueue(this.piece(i++));
        },
      },
      { highWaterMark: 0 },
    );
  }
}

/** Compares a received file with the generated one as it arrives. */
class Comparison {
  received = 0;
  /** The offset of the first byte that differs, if any. */
  firstDifference: number | undefined;
  private current: { index: number; bytes: Uint8Array } | undefined;

  constructor(private readonly file: GeneratedFile) {}

  add(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length) {
      const index = Math.floor(this.received / PIECE);
      const offset = this.received % PIECE;
      const length = Math.min(chunk.length - at, PIECE - offset);
      if (this.current?.index !== index) this.current = { index, bytes: this.file.piece(index) };
      if (this.firstDifference === undefined && index < FILE_SIZE / PIECE) {
        const got = Buffer.from(chunk.buffer, chunk.byteOffset + at, length);
        const want = Buffer.from(this.current.bytes.buffer, offset, length);
        if (!got.equals(want)) this.firstDifference = this.received;
      }
      this.received += length;
      at += length;
    }
  }
}

/** The peak resident set size over a baseline, sampled on a timer and at every call. */
class RssMonitor {
  private readonly baseline = process.memoryUsage.rss();
  private peak = this.baseline;
  private readonly timer = setInterval(() => this.sample(), 5);

  sample(): void {
    this.peak = Math.max(this.peak, process.memoryUsage.rss());
  }

  /** The peak growth over the baseline so far. */
  growth(): number {
    this.sample();
    return this.peak - this.baseline;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** Every file under `dir`, as paths relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath ?? e.path, e.name)))
    .sort();
}

const isPartPut = (url: string, init: RequestInit) =>
  init.method === 'PUT' && new URL(url).pathname.startsWith('/_objects/');

describe('a 1 GiB attachment through the local server with its blobs in files', () => {
  let dataDir: string;
  let server: LocalServer;
  let monitor: RssMonitor | undefined;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sealpost-large-'));
    server = await startLocalServer({
      port: 0,
      dataDir,
      objectStorage: 'directory',
      webPush: false,
      log: () => undefined,
      // The blob of a gigabyte, and room to spare; the part size stays the default.
      config: { ...DEFAULT_CONFIG, attachmentMaxBytes: LAYOUT.blobSize + 64 * MIB },
    });
  });
  afterAll(async () => {
    monitor?.stop();
    await server?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('uploads in parts, resumes after a dropped connection and a restart, and downloads, in bounded memory', async () => {
    const started = Date.now();
    const file = new GeneratedFile();
    const rss = new RssMonitor();
    monitor = rss;
    // Which parts went out; after how many the connection drops (until the restart).
    const puts: number[] = [];
    let dropAfter: number | undefined = PARTS_BEFORE_DROP;
    const fetch: FetchLike = async (url, init) => {
      rss.sample();
      if (!isPartPut(url, init)) return globalThis.fetch(url, init);
      const part = Number(new URL(url).searchParams.get('partNumber'));
      if (puts.length === dropAfter) {
        // The connection drops after half of this part was sent: the store sees a body cut
        // short, and the client a failed request.
        const body = init.body as Uint8Array;
        const half = body.subarray(0, body.length >> 1);
        let sent = false;
        const cut = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (sent) controller.error(new Error('connection lost'));
            else controller.enqueue(half);
            sent = true;
          },
        });
        await globalThis
          .fetch(url, { ...init, body: cut, duplex: 'half' } as RequestInit)
          .then((r) => r.body?.cancel())
          .catch(() => undefined);
        throw new TypeError('fetch failed');
      }
      puts.push(part);
      return globalThis.fetch(url, init);
    };
    const trust = { trustRoot: fromBase64Url(server.trustRoot), revokedServerKeyIds: [] };
    const options = (store = new MemoryStore()): ClientOptions => ({
      baseUrl: server.url,
      store,
      trust,
      fetch,
      outbox: { timer: manualOutboxTimer },
    });
    const aliceStore = new MemoryStore();
    const alice = await SealpostClient.register(options(aliceStore));
    const bob = await SealpostClient.register(options());
    await alice.addContact(bob.contactCard());
    await bob.addContact(alice.contactCard());
    const input = () => ({
      data: file.stream(() => rss.sample()),
      size: FILE_SIZE,
      fileName: 'backup-2031.tar',
      contentType: 'application/x-tar',
    });

    // The first attempt: 20 parts reach the store, then every attempt at the 21st is cut.
    await expect(alice.uploadAttachment(input())).rejects.toBeInstanceOf(NetworkError);
    expect(puts).toEqual(Array.from({ length: PARTS_BEFORE_DROP }, (_, i) => i + 1));
    const [pending] = await alice.pendingUploads();
    expect(pending).toMatchObject({ size: FILE_SIZE, fileName: 'backup-2031.tar' });
    // The store holds exactly those parts, whole; nothing of the part that was cut.
    const status = await alice.http.attachmentUploadStatus(pending!.resumeId);
    expect(status.uploaded).toEqual(puts.map((partNumber) => ({ partNumber, size: PART_SIZE })));
    const interrupted = rss.growth();
    const interruptedAt = Date.now();

    // The app restarts: a fresh client over the same store resumes with the data read again.
    alice.close();
    dropAfter = undefined;
    puts.length = 0;
    const restarted = await SealpostClient.open(options(aliceStore));
    expect((await restarted.pendingUploads()).map((p) => p.resumeId)).toEqual([pending!.resumeId]);
    const progress: number[] = [];
    const pointer = await restarted.uploadAttachment(input(), {
      resume: pending!.resumeId,
      onProgress: (sent) => progress.push(sent),
    });
    const uploadedAt = Date.now();
    // Only the missing parts went out; the held ones were hashed and checked, not sent.
    expect(puts).toEqual(
      Array.from({ length: PART_COUNT - PARTS_BEFORE_DROP }, (_, i) => PARTS_BEFORE_DROP + 1 + i),
    );
    expect(progress.at(-1)).toBe(LAYOUT.blobSize);
    expect(pointer).toMatchObject({ id: pending!.resumeId, size: FILE_SIZE });
    expect(await restarted.pendingUploads()).toEqual([]);
    // One object of exactly the blob's size; no part of the upload is left in the store.
    expect(await server.objectStorage.objectSize(attachmentKey(pointer.id))).toBe(LAYOUT.blobSize);
    expect(await filesUnder(join(dataDir, 'objects-memory'))).toEqual([
      join('objects', attachmentKey(pointer.id)),
    ]);
    const upload = rss.growth();

    // Bob receives the pointer and downloads the file as a stream, checked as it arrives.
    await restarted.send(bob.address, { text: 'the backup', attachments: [pointer] });
    const [message] = (await bob.receiveBatch()).messages;
    const [attachment] = message!.attachments;
    expect(attachment).toMatchObject({ size: FILE_SIZE, fileName: 'backup-2031.tar' });
    const comparison = new Comparison(file);
    const reader = (await attachment!.download()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      rss.sample();
      if (done) break;
      comparison.add(value);
    }
    expect(comparison.firstDifference).toBeUndefined();
    expect(comparison.received).toBe(FILE_SIZE);
    const total = rss.growth();
    rss.stop();
    restarted.close();
    bob.close();

    const mib = (n: number) => `${(n / MIB).toFixed(0)} MiB`;
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    console.log(
      `1 GiB attachment, ${PART_COUNT} parts: peak RSS growth ${mib(interrupted)} by the ` +
        `interruption, ${mib(upload)} by the end of the upload, ${mib(total)} by the end of ` +
        `the download; registration and ${PARTS_BEFORE_DROP} parts until the drop ` +
        `${s(interruptedAt - started)}, resume ${s(uploadedAt - interruptedAt)}, ` +
        `download ${s(Date.now() - uploadedAt)}`,
    );
    expect(total).toBeLessThan(MEMORY_BOUND);
  }, 600_000);
});
