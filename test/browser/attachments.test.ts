/**
 * Attachments in a real browser (docs/SDK.md "Attachments"): a page's client sends a file of a
 * few MiB (a `Blob` made in the page) to a Node client and receives another one back, through
 * the end-to-end stack with its attachment service over DynamoDB Local and the local object
 * service. The stack's multipart threshold and part size are 1 MiB, so the page's 3 MiB file
 * goes up in multipart parts (`PUT`, each preflighted) and Node's 700 KiB file in one form
 * (`POST`). The page calls the API on its own origin (./site.ts forwards `/v1/*`) and the
 * object store's presigned URLs on the stack's, another origin: the browser's CORS checks
 * apply to every transfer, as against S3 with the bucket's CORS rule. A blob that arrives
 * altered makes the page's download error with `ATTACHMENT_CORRUPT`, yielding nothing that did
 * not verify.
 *
 * The browser is the system Chromium when installed, otherwise the one from the npm registry;
 * `SEALPOST_CHROMIUM=npm` forces the latter (./chromium.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ATTACHMENT_HEADER_BYTES,
  ATTACHMENT_TAG_BYTES,
  blobLayout,
} from '#sdk/attachments/layout.ts';
import type { ReceivedAttachment } from '#sdk/client/attachments/types.ts';
import type { FetchLike } from '#sdk/client/http-client.ts';
import type { SealpostClient } from '#sdk/client/index.ts';
import type { AttachmentCorruptError } from '#sdk/errors.ts';
import type { MemoryStore } from '#sdk/state/memory-store.ts';
import { toBase64Url } from '#sdk/util/bytes.ts';
import { type E2eStack, startE2eStack } from '../e2e/stack.ts';
import { launchChromium } from './chromium.ts';
import type * as kit from './page-kit.ts';
import { bundleSdk, closeSite, startSite } from './site.ts';

/** What the page's bundle (entry.ts) and the test put on the page's global object. */
interface PageGlobals {
  sealpost: {
    SealpostClient: typeof SealpostClient;
    MemoryStore: typeof MemoryStore;
    AttachmentCorruptError: typeof AttachmentCorruptError;
    kit: typeof kit;
  };
  /** The page's client, its tampering switch, and the attachment it received. */
  att: { client: SealpostClient; tamper: kit.Tamper; received?: ReceivedAttachment };
}

const MIB = 1024 * 1024;
/** The page's file: above the stack's 1 MiB multipart threshold. */
const PAGE_FILE_BYTES = 3 * MIB;
/** Node's file: a blob under the threshold, so one form; three chunks of 256 KiB or less. */
const NODE_FILE_BYTES = 700 * 1024;

/** A request to the object store: method, path under `/_objects`, part number if any. */
interface ObjectRequest {
  readonly method: string;
  readonly origin: string;
  readonly path: string;
  readonly partNumber: string | null;
}

function objectRequest(method: string, url: string): ObjectRequest | undefined {
  const u = new URL(url);
  if (u.pathname !== '/_objects' && !u.pathname.startsWith('/_objects/')) return undefined;
  const path = u.pathname.replace(/\/attachments\/[^/]+$/, '/attachments/<id>');
  return { method, origin: u.origin, path, partNumber: u.searchParams.get('partNumber') };
}

const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

let stack: E2eStack;
let site: Server;
let origin: string;
let browser: Browser;
let page: Page;
/** What the page's browser itself sent to the object store, in order (preflights aside). */
const browserRequests: ObjectRequest[] = [];

beforeAll(async () => {
  const bundle = await bundleSdk();
  stack = await startE2eStack({
    config: { attachmentMultipartBytes: MIB, attachmentPartSize: MIB },
  });
  ({ server: site, origin } = await startSite(stack.url, bundle));
  ({ browser } = await launchChromium());
  page = await browser.newPage();
  page.on('request', (r) => {
    const seen = objectRequest(r.method(), r.url());
    if (seen) browserRequests.push(seen);
  });
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => 'sealpost' in globalThis);
});

afterAll(async () => {
  await browser?.close();
  await closeSite(site);
  await stack?.stop();
});

describe('attachments in headless Chromium', () => {
  it('sends a multi-MiB file from the page to Node and gets another one back, across origins', async () => {
    const store = new URL(stack.url).origin;
    expect(store).not.toBe(origin);
    const nodeRequests: ObjectRequest[] = [];
    const recording: FetchLike = (url, init) => {
      const seen = objectRequest(init.method ?? 'GET', url);
      if (seen) nodeRequests.push(seen);
      return fetch(url, init);
    };
    const node = await stack.register({ fetch: recording });
    const pageCard = await page.evaluate(async (root) => {
      const g = globalThis as unknown as PageGlobals;
      const tamper: kit.Tamper = { at: undefined };
      const client = await g.sealpost.SealpostClient.register({
        baseUrl: location.origin,
        store: new g.sealpost.MemoryStore(),
        trust: { trustRoot: root },
        fetch: g.sealpost.kit.tamperingFetch(tamper),
      });
      g.att = { client, tamper };
      return client.contactCard();
    }, toBase64Url(stack.trust.trustRoot));
    await node.addContact(pageCard);

    // Page → Node: a Blob of random bytes, with a name and a type, in multipart parts.
    const sent = await page.evaluate(
      async ({ card, size }) => {
        const { sealpost, att } = globalThis as unknown as PageGlobals;
        await att.client.addContact(card);
        const bytes = sealpost.kit.randomBytes(size);
        const file = new Blob([bytes], { type: 'application/pdf' });
        const progress: [number, number][] = [];
        await att.client.send(
          card.address,
          {
            text: 'field notes attached',
            attachments: [{ data: file, fileName: 'field notes.pdf', contentType: file.type }],
          },
          { onProgress: (done, total) => progress.push([done, total]) },
        );
        return { digest: await sealpost.kit.sha256Hex(bytes), progress };
      },
      { card: node.contactCard(), size: PAGE_FILE_BYTES },
    );
    const pageBlob = blobLayout(PAGE_FILE_BYTES).blobSize;
    const pageParts = Math.ceil(pageBlob / MIB);
    expect(pageParts).toBeGreaterThan(1);
    // Progress in blob bytes, after each part.
    expect(sent.progress).toEqual(
      Array.from({ length: pageParts }, (_, i) => [Math.min((i + 1) * MIB, pageBlob), pageBlob]),
    );
    expect(browserRequests).toEqual(
      Array.from({ length: pageParts }, (_, i) => ({
        method: 'PUT',
        origin: store,
        path: '/_objects/attachments/<id>',
        partNumber: String(i + 1),
      })),
    );

    const inbox = await node.receiveBatch();
    expect(inbox.failures).toEqual([]);
    expect(inbox.messages).toHaveLength(1);
    const message = inbox.messages[0]!;
    expect(message.text).toBe('field notes attached');
    expect(message.sender.address).toBe(pageCard.address);
    expect(message.attachments).toHaveLength(1);
    const fromPage = message.attachments[0]!;
    expect({
      fileName: fromPage.fileName,
      contentType: fromPage.contentType,
      size: fromPage.size,
    }).toEqual({
      fileName: 'field notes.pdf',
      contentType: 'application/pdf',
      size: PAGE_FILE_BYTES,
    });
    const got = await fromPage.bytes();
    expect(got.length).toBe(PAGE_FILE_BYTES);
    expect(sha256Hex(got)).toBe(sent.digest);

    // Node → page: another file, in one form, downloaded in the page as a stream.
    const reply = new Uint8Array(randomBytes(NODE_FILE_BYTES));
    await node.send(pageCard.address, {
      text: 'and a map',
      attachments: [{ data: reply, fileName: 'map.png', contentType: 'image/png' }],
    });
    expect(nodeRequests.filter((r) => r.method !== 'GET')).toEqual([
      { method: 'POST', origin: store, path: '/_objects', partNumber: null },
    ]);
    expect(blobLayout(NODE_FILE_BYTES).blobSize).toBeLessThanOrEqual(MIB);
    const requestsBefore = browserRequests.length;

    const received = await page.evaluate(async () => {
      const { sealpost, att } = globalThis as unknown as PageGlobals;
      const batch = await att.client.receiveBatch();
      const m = batch.messages[0];
      const a = m?.attachments[0];
      if (!m || !a) return { messages: batch.messages.length, failures: batch.failures.length };
      att.received = a;
      const progress: [number, number][] = [];
      const read = await sealpost.kit.readStream(
        await a.download({ onProgress: (done, total) => progress.push([done, total]) }),
      );
      return {
        messages: batch.messages.length,
        failures: batch.failures.length,
        text: m.text,
        meta: { fileName: a.fileName, contentType: a.contentType, size: a.size },
        length: read.bytes.length,
        digest: await sealpost.kit.sha256Hex(read.bytes),
        failed: 'error' in read,
        progress,
      };
    });
    expect(received).toMatchObject({
      messages: 1,
      failures: 0,
      text: 'and a map',
      meta: { fileName: 'map.png', contentType: 'image/png', size: NODE_FILE_BYTES },
      length: NODE_FILE_BYTES,
      digest: sha256Hex(reply),
    });
    expect(received.failed).toBe(false);
    // Verified bytes of the file, per released chunk: rising, ending at the file's size.
    const progress = received.progress ?? [];
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.at(-1)).toEqual([NODE_FILE_BYTES, NODE_FILE_BYTES]);
    for (let i = 1; i < progress.length; i++) {
      expect(progress[i]![0]).toBeGreaterThan(progress[i - 1]![0]);
      expect(progress[i]![1]).toBe(NODE_FILE_BYTES);
    }
    expect(browserRequests.slice(requestsBefore)).toEqual([
      { method: 'GET', origin: store, path: '/_objects/attachments/<id>', partNumber: null },
    ]);
  });

  it('errors a download whose blob was altered on the way with ATTACHMENT_CORRUPT, yielding only verified bytes', async () => {
    const layout = blobLayout(NODE_FILE_BYTES);
    // A bit inside the second chunk's ciphertext: the first chunk verifies, the second does not.
    const secondChunk = ATTACHMENT_HEADER_BYTES + layout.chunkSize + ATTACHMENT_TAG_BYTES;
    const result = await page.evaluate(async (at) => {
      const { sealpost, att } = globalThis as unknown as PageGlobals;
      const a = att.received;
      if (!a) throw new Error('no attachment received in the first case');
      const genuine = await a.bytes();
      att.tamper.at = at;
      // The response arrives intact in status and headers: the stream, not download(), fails.
      const read = await sealpost.kit
        .readStream(await a.download())
        .finally(() => (att.tamper.at = undefined));
      const { error } = read as { error?: { name?: unknown; code?: unknown } };
      const prefix = genuine.subarray(0, read.bytes.length);
      const again = await a.bytes();
      return {
        error: { name: error?.name, code: error?.code },
        corrupt: error instanceof sealpost.AttachmentCorruptError,
        yielded: read.bytes.length,
        verifiedPrefix: read.bytes.every((b, i) => b === prefix[i]),
        again: (await sealpost.kit.sha256Hex(again)) === (await sealpost.kit.sha256Hex(genuine)),
      };
    }, secondChunk + 1000);
    expect(result.error).toEqual({ name: 'AttachmentCorruptError', code: 'ATTACHMENT_CORRUPT' });
    expect(result.corrupt).toBe(true);
    // Nothing of the altered chunk or after it: at most the first chunk, exactly as sent.
    expect(result.yielded).toBeLessThanOrEqual(layout.chunkSize);
    expect(result.yielded % layout.chunkSize).toBe(0);
    expect(result.verifiedPrefix).toBe(true);
    // The blob in the store was never changed: an untampered download verifies again.
    expect(result.again).toBe(true);
  });
});
