/**
 * What the attachment test (./attachments.test.ts) runs inside the page, bundled with the SDK
 * by ./entry.ts: files of random bytes, digests, reading a download to its end or its error,
 * and a `fetch` that can tamper with blob downloads on their way to the client.
 */
import type { FetchLike } from '#sdk/client/http-client.ts';

/** `crypto.getRandomValues` fills at most this many bytes per call. */
const RANDOM_STEP = 65_536;

/**
 * `n` random bytes from the browser's CSPRNG.
 *
 * @example const bytes = randomBytes(3 * 1024 * 1024);
 */
export function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  for (let at = 0; at < n; at += RANDOM_STEP) {
    crypto.getRandomValues(out.subarray(at, Math.min(n, at + RANDOM_STEP)));
  }
  return out;
}

/**
 * The SHA-256 of `bytes`, in lower-case hex (what the test compares across page and Node).
 *
 * @example await sha256Hex(new Uint8Array()) // 'e3b0c442…'
 */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  // A copy: `digest` takes no view of a SharedArrayBuffer, which a Uint8Array may be typed as.
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array(bytes)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** How a stream was read: the bytes it yielded, and the error it ended with, if any. */
export interface StreamRead {
  readonly bytes: Uint8Array;
  readonly error?: unknown;
}

/**
 * Reads `stream` to its end or its error, keeping every byte it yielded before either.
 *
 * @example const { bytes, error } = await readStream(await attachment.download());
 */
export async function readStream(stream: ReadableStream<Uint8Array>): Promise<StreamRead> {
  const parts: Uint8Array[] = [];
  const reader = stream.getReader();
  let error: unknown;
  let failed = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
    }
  } catch (err) {
    error = err;
    failed = true;
  }
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return failed ? { bytes, error } : { bytes };
}

/** Where {@link tamperingFetch} flips a bit: a byte offset into each downloaded blob, or none. */
export interface Tamper {
  at: number | undefined;
}

/**
 * The browser's `fetch`, except that while `tamper.at` is set every object-store download
 * (`GET /_objects/…`) arrives with one bit flipped at that offset, as a store or a network
 * path that altered the blob would deliver it.
 *
 * @example const client = await SealpostClient.register({ ...options, fetch: tamperingFetch(tamper) });
 */
export function tamperingFetch(tamper: Tamper): FetchLike {
  return async (url, init) => {
    const response = await fetch(url, init);
    const at = tamper.at;
    const method = init.method ?? 'GET';
    if (at === undefined || method !== 'GET' || !new URL(url).pathname.startsWith('/_objects/')) {
      return response;
    }
    const blob = new Uint8Array(await response.arrayBuffer());
    blob[at] = (blob[at] ?? 0) ^ 0x01;
    return new Response(blob, { status: response.status, headers: response.headers });
  };
}
