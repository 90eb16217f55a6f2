/**
 * An in-memory stand-in for the attachment routes of the service and for the object store
 * behind their presigned targets, in front of the in-process test kit (which serves every
 * other route): the SDK's attachment tests see exactly which requests the client makes, and
 * can make single requests fail (a part PUT that answers 500, an expired URL, a lost answer).
 */
import { randomBytes } from 'node:crypto';
import { TestSealpost } from '@sealpost/testing';
import { type FetchLike, SealpostClient } from '#sdk/client/index.ts';
import { MemoryStore } from '#sdk/state/memory-store.ts';
import type { StateStore } from '#sdk/state/store.ts';
import { toBase64Url } from '#sdk/util/bytes.ts';

const OBJECTS = 'http://objects.test';
const DAY_MS = 24 * 60 * 60 * 1000;
const URL_LIFETIME_MS = 15 * 60 * 1000;

interface Session {
  readonly id: string;
  readonly size: number;
  readonly kind: 'form' | 'multipart';
  readonly partSize: number;
  readonly partCount: number;
  readonly parts: Map<number, Uint8Array>;
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json' },
  });
}

function apiError(status: number, code: string): Response {
  return json(status, { error: { code, message: code.toLowerCase() } });
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Settings of the fake. */
export interface FakeAttachmentOptions {
  /** Blobs above this many bytes are multipart. @default 64 KiB */
  readonly multipartBytes?: number;
  /** Part size of multipart uploads. @default 64 KiB */
  readonly partSize?: number;
}

/** The fake (see the file comment). */
export class FakeAttachments {
  /** Every request to the attachment routes and the object store, e.g. `put 2`, `complete`. */
  readonly log: string[] = [];
  readonly sessions = new Map<string, Session>();
  /** Completed (and form-uploaded) blobs by attachment id. */
  readonly objects = new Map<string, Uint8Array>();
  /** Answers the next PUTs of a part number with these statuses, one per attempt. */
  readonly partFailures = new Map<number, number[]>();
  /** Answers the next GETs of whole blobs with these statuses, one per request. */
  readonly getFailures: number[] = [];
  /** Part URL tokens that are expired (answer 403). */
  readonly expiredTokens = new Set<string>();
  /** Called when a part arrives, before it is stored. */
  onPart: ((partNumber: number) => void) | undefined;
  /** Completes, then answers as if the connection dropped (the client retries). */
  loseCompleteAnswer = false;
  private readonly multipartBytes: number;
  private readonly partSize: number;
  private tokens = 0;
  readonly fetch: FetchLike;

  constructor(
    readonly sealpost: TestSealpost,
    options: FakeAttachmentOptions = {},
  ) {
    this.multipartBytes = options.multipartBytes ?? 64 * 1024;
    this.partSize = options.partSize ?? 64 * 1024;
    this.fetch = async (url, init) => {
      const answer = await this.handle(new URL(url), init);
      return answer ?? sealpost.fetch(url, init);
    };
  }

  /** Part numbers PUT so far, in order, across every upload. */
  get puts(): number[] {
    return this.log.filter((l) => l.startsWith('put ')).map((l) => Number(l.slice(4)));
  }

  private now(): number {
    return this.sealpost.now();
  }

  private partUrl(id: string, n: number): string {
    return `${OBJECTS}/part/${id}/${n}?token=t${++this.tokens}`;
  }

  private status(s: Session): unknown {
    const uploaded =
      s.kind === 'form'
        ? this.objects.has(s.id)
          ? [{ partNumber: 1, size: this.objects.get(s.id)!.length }]
          : []
        : [...s.parts].map(([partNumber, p]) => ({ partNumber, size: p.length }));
    const missing = [];
    if (s.kind === 'multipart') {
      for (let n = 1; n <= s.partCount; n++) {
        if (!s.parts.has(n)) missing.push({ partNumber: n, url: this.partUrl(s.id, n) });
      }
    }
    return {
      id: s.id,
      size: s.size,
      expiresAt: this.now() + DAY_MS,
      urlsExpireAt: this.now() + URL_LIFETIME_MS,
      upload: this.target(s),
      uploaded: uploaded.sort((a, b) => a.partNumber - b.partNumber),
      parts: missing,
    };
  }

  private target(s: Session): unknown {
    return s.kind === 'form'
      ? {
          kind: 'form',
          url: `${OBJECTS}/form/${s.id}`,
          fields: { key: `attachments/${s.id}`, policy: 'p', 'x-amz-signature': 's' },
        }
      : { kind: 'multipart', partSize: s.partSize, partCount: s.partCount };
  }

  private async handle(url: URL, init: RequestInit): Promise<Response | undefined> {
    const method = init.method ?? 'GET';
    const path = url.pathname;
    if (url.origin === OBJECTS) return this.objectStore(url, method, init);
    if (path === '/v1/attachments' && method === 'POST') {
      const { size } = JSON.parse(String(new TextDecoder().decode(init.body as Uint8Array)));
      this.log.push('create');
      const id = toBase64Url(randomBytes(16));
      const multipart = size > this.multipartBytes;
      const s: Session = {
        id,
        size,
        kind: multipart ? 'multipart' : 'form',
        partSize: multipart ? this.partSize : size,
        partCount: multipart ? Math.ceil(size / this.partSize) : 1,
        parts: new Map(),
      };
      this.sessions.set(id, s);
      return json(200, { id, size, expiresAt: this.now() + DAY_MS, upload: this.target(s) });
    }
    const m = /^\/v1\/attachments\/([A-Za-z0-9_-]{22})(\/upload|\/complete)?$/.exec(path);
    if (!m) return undefined;
    const id = m[1]!;
    const s = this.sessions.get(id);
    if (m[2] === '/upload' && method === 'GET') {
      this.log.push('status');
      return s ? json(200, this.status(s)) : apiError(404, 'NOT_FOUND');
    }
    if (m[2] === '/complete' && method === 'POST') {
      this.log.push('complete');
      if (!s) return apiError(404, 'NOT_FOUND');
      if (s.kind === 'multipart') {
        for (let n = 1; n <= s.partCount; n++) {
          const want = n < s.partCount ? s.partSize : s.size - s.partSize * (s.partCount - 1);
          if (s.parts.get(n)?.length !== want) return apiError(409, 'UPLOAD_INCOMPLETE');
        }
        this.objects.set(id, concat([...s.parts].sort((a, b) => a[0] - b[0]).map((e) => e[1])));
      } else if (this.objects.get(id)?.length !== s.size) {
        return apiError(409, 'UPLOAD_INCOMPLETE');
      }
      this.sessions.delete(id);
      if (this.loseCompleteAnswer) {
        this.loseCompleteAnswer = false;
        throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
      }
      return json(200, { id, size: s.size });
    }
    if (!m[2] && method === 'DELETE') {
      this.log.push(`abort ${id}`);
      const removed = this.sessions.delete(id);
      if (removed && this.objects.has(id)) this.objects.delete(id);
      return json(200, { removed });
    }
    if (!m[2] && method === 'GET') {
      this.log.push('download');
      return json(200, { url: `${OBJECTS}/blob/${id}`, expiresAt: this.now() + 600_000 });
    }
    return undefined;
  }

  private async objectStore(url: URL, method: string, init: RequestInit): Promise<Response> {
    const [, kind, id, n] = url.pathname.split('/');
    if (kind === 'form' && method === 'POST' && id) {
      this.log.push('post');
      const form = init.body as FormData;
      const names = [...form.keys()];
      if (names[names.length - 1] !== 'file' || form.get('key') !== `attachments/${id}`) {
        return new Response('<Error>bad form</Error>', { status: 400 });
      }
      const file = form.get('file') as Blob;
      const s = this.sessions.get(id);
      if (!s || file.size !== s.size) return new Response('<Error/>', { status: 400 });
      this.objects.set(id, new Uint8Array(await file.arrayBuffer()));
      return new Response(null, { status: 204 });
    }
    if (kind === 'part' && method === 'PUT' && id && n) {
      const partNumber = Number(n);
      this.log.push(`put ${partNumber}`);
      if (this.expiredTokens.has(url.searchParams.get('token') ?? '')) {
        return new Response('<Error>expired</Error>', { status: 403 });
      }
      const failures = this.partFailures.get(partNumber);
      const failure = failures?.shift();
      if (failure !== undefined) return new Response('<Error/>', { status: failure });
      this.onPart?.(partNumber);
      const s = this.sessions.get(id);
      if (!s) return new Response('<Error>NoSuchUpload</Error>', { status: 404 });
      s.parts.set(partNumber, new Uint8Array(init.body as Uint8Array));
      return new Response(null, { status: 200, headers: { etag: `"${partNumber}"` } });
    }
    if (kind === 'blob' && method === 'GET' && id) {
      const blob = this.objects.get(id);
      const range = new Headers(init.headers).get('range');
      this.log.push(range ? 'get range' : 'get');
      const failure = range ? undefined : this.getFailures.shift();
      if (failure !== undefined) return new Response('<Error/>', { status: failure });
      if (!blob) return new Response('<Error>NoSuchKey</Error>', { status: 404 });
      const r = range ? /^bytes=(\d+)-(\d+)$/.exec(range) : null;
      if (r) {
        const from = Number(r[1]);
        const to = Math.min(Number(r[2]), blob.length - 1);
        return new Response(blob.slice(from, to + 1), {
          status: 206,
          headers: { 'content-range': `bytes ${from}-${to}/${blob.length}` },
        });
      }
      // In pieces, as a network delivers them.
      let at = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (at >= blob.length) return controller.close();
          controller.enqueue(blob.slice(at, at + 50_000));
          at += 50_000;
        },
      });
      return new Response(body, { status: 200, headers: { 'content-length': `${blob.length}` } });
    }
    return new Response('<Error/>', { status: 405 });
  }
}

/** A registered client whose requests go through the fake. */
export async function setupAttachments(options: FakeAttachmentOptions = {}) {
  const sealpost = await TestSealpost.start();
  const fake = new FakeAttachments(sealpost, options);
  const store = new MemoryStore();
  const clientOptions = (s: StateStore = store) => ({
    ...sealpost.clientOptions(s),
    fetch: fake.fetch,
  });
  const alice = await SealpostClient.register(clientOptions());
  return { sealpost, fake, store, clientOptions, alice };
}

/** `n` bytes of a repeatable pattern that differs at every position of a part. */
export function fileBytes(n: number, seed = 1): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Byte equality of large arrays (the matchers compare element by element, slowly). */
export function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** Everything a stream yields, and the error it ended with (if any). */
export async function drain(
  stream: ReadableStream<Uint8Array>,
): Promise<{ bytes: Uint8Array; error: unknown }> {
  const parts: Uint8Array[] = [];
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { bytes: concat(parts), error: undefined };
      parts.push(value);
    }
  } catch (error) {
    return { bytes: concat(parts), error };
  }
}
