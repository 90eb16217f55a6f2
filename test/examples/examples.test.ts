/**
 * The examples in examples/, run the way their READMEs say, against `npm start` on the
 * in-memory engine: two node-chat processes (one interactive, one scripted) exchange messages,
 * the browser page talks to a node-chat in Chromium from the npm registry (the browser the
 * suite falls back to without a system Chromium), receiving over the WebSocket endpoint,
 * enables wake-ups (its service worker, with the `web-push-testing` stand-in as the push
 * service) and sends files to another page (upload progress, a named link, an image), and the
 * example app's own vitest passes.
 */
import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExampleSite } from '../../examples/browser/serve.mjs';
import { launchChromium } from '../browser/chromium.ts';
import { ROOT, type StartedServer, startServer } from '../helpers/local-process.ts';
import {
  type PushStandIn,
  type StandInSubscription,
  startPushStandIn,
} from '../helpers/push-stand-in.ts';

const run = promisify(execFile);
/** A 3×2 PNG (opaque red), as a browser would pick it from disk. */
const PICTURE = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAMAAAACCAYAAACddGYaAAAAEUlEQVR4nGM4ISf3H4YZkDkAmxUME7OZWHkAAAAASUVORK5CYII=',
  'base64',
);
const CHAT = ['--import', 'tsx', '--conditions=sealpost-source', 'examples/node-chat/chat.mjs'];

let dir: string;
let server: StartedServer;

/** Runs one scripted node-chat command to its end; returns what it printed. */
async function chat(name: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    [...CHAT, '--name', name, '--dir', join(dir, name), ...connection(), ...args],
    { cwd: ROOT },
  );
  return stdout;
}

// `--trust-root=KEY`: a base64url key may begin with '-', which parseArgs would take for an option.
const connection = () => ['--server', server.url, `--trust-root=${server.trustRoot}`];
const cardIn = (out: string) => /^sealpost-card:\S+$/m.exec(out)?.[0] ?? '';

/** Resolves once `read()` satisfies `done`, polling; fails after `ms` with what was read. */
async function until(read: () => string, done: (s: string) => boolean, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (!done(read())) {
    if (Date.now() > deadline) throw new Error(`timed out; got:\n${read()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** What the page's `pushManager.subscribe` was asked for, and the subscription it answered. */
interface StubbedSubscribe {
  readonly key: string;
  readonly userVisibleOnly: boolean;
  readonly subscription: StandInSubscription;
}

/** The page's record of the push calls it made, in order (see {@link stubPushManager}). */
interface PushSteps {
  pushSteps: string[];
}

/**
 * Headless Chromium has no push service, so in every page of `context`,
 * `PushManager.prototype.subscribe` has the stand-in subscribe with the key the page passed
 * (the stand-in then checks the service's VAPID signatures against that key), and
 * `Notification.requestPermission` answers `granted`. Returns what each subscribe was asked
 * for; the page's `pushSteps` holds the order of the calls.
 */
async function stubPushManager(
  context: BrowserContext,
  standIn: PushStandIn,
): Promise<StubbedSubscribe[]> {
  const subscribed: StubbedSubscribe[] = [];
  await context.exposeBinding(
    'standInSubscribe',
    async (_source, key: string, userVisibleOnly: boolean) => {
      const subscription = await standIn.subscribe(key);
      subscribed.push({ key, userVisibleOnly, subscription });
      return { endpoint: subscription.endpoint, expirationTime: null, keys: subscription.keys };
    },
  );
  await context.addInitScript(() => {
    const page = window as unknown as PushSteps & {
      standInSubscribe(key: string, userVisibleOnly: boolean): Promise<{ endpoint: string }>;
    };
    page.pushSteps = [];
    // The user allows notifications. (The npm build runs Chromium in one process, where a
    // permission granted to a context through the protocol is not reliably seen by its pages.)
    Notification.requestPermission = async () => {
      page.pushSteps.push('requestPermission');
      return 'granted';
    };
    PushManager.prototype.subscribe = async (options?: PushSubscriptionOptionsInit) => {
      page.pushSteps.push('subscribe');
      const key = new Uint8Array(options?.applicationServerKey as ArrayBuffer);
      const b64 = btoa(String.fromCharCode(...key));
      const json = await page.standInSubscribe(
        b64.replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, ''),
        options?.userVisibleOnly === true,
      );
      return { endpoint: json.endpoint, toJSON: () => json } as unknown as PushSubscription;
    };
  });
  return subscribed;
}

/** What a service worker's push handler did (see {@link pushToServiceWorker}). */
interface PushHandled {
  readonly shown: { title: string; tag: string | undefined }[];
  readonly extended: string[];
}

/**
 * Delivers a push carrying `payload` to the service worker of `origin` as the push service
 * would, through the DevTools protocol. Headless Chromium shows no notifications (and denies
 * them to workers), so the worker's `showNotification` is recorded instead, and so is every
 * event it extends with `waitUntil`. Returns a reader of those records.
 */
async function pushToServiceWorker(
  context: BrowserContext,
  origin: string,
  payload: string,
): Promise<() => Promise<PushHandled>> {
  const scopeURL = `${origin}/`;
  const cdp = await context.newCDPSession(await context.newPage());
  const registrationId = new Promise<string>((resolve) => {
    cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
      const ours = registrations.find((r) => r.scopeURL === scopeURL && !r.isDeleted);
      if (ours) resolve(ours.registrationId);
    });
  });
  await cdp.send('ServiceWorker.enable');
  const url = `${origin}/sw.js`;
  const running = () => context.serviceWorkers().find((w) => w.url() === url);
  const starting = running()
    ? undefined
    : context.waitForEvent('serviceworker', (w) => w.url() === url);
  await cdp.send('ServiceWorker.startWorker', { scopeURL });
  const worker = running() ?? (await starting);
  if (!worker) throw new Error(`no service worker at ${url}`);
  await worker.evaluate(() => {
    // ExtendableEvent and the worker's global scope are not in the DOM library.
    const scope = self as unknown as PushHandled & {
      ExtendableEvent: { prototype: { type: string; waitUntil(p: Promise<unknown>): void } };
    };
    Object.assign(scope, { shown: [], extended: [] });
    const { prototype } = scope.ExtendableEvent;
    const waitUntil = prototype.waitUntil;
    prototype.waitUntil = function (promise) {
      scope.extended.push(this.type);
      waitUntil.call(this, promise);
    };
    ServiceWorkerRegistration.prototype.showNotification = async (title, options) => {
      scope.shown.push({ title, tag: options?.tag });
    };
  });
  await cdp.send('ServiceWorker.deliverPushMessage', {
    origin,
    registrationId: await registrationId,
    data: payload,
  });
  return () =>
    worker.evaluate(() => {
      const { shown, extended } = self as unknown as PushHandled;
      return { shown, extended };
    });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealpost-examples-'));
  server = await startServer({ dataDir: join(dir, 'server'), env: { SEALPOST_ENGINE: 'memory' } });
});

afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('examples/node-chat', () => {
  it('two processes exchange messages: one interactive, one scripted', async () => {
    const bobCard = cardIn(await chat('bob', '--print-card'));
    expect(bobCard).toMatch(/^sealpost-card:/);

    const bob: ChildProcessWithoutNullStreams = spawn(
      process.execPath,
      [...CHAT, '--name', 'bob', '--dir', join(dir, 'bob'), ...connection()],
      { cwd: ROOT },
    );
    let bobOut = '';
    bob.stdout.on('data', (d: Buffer) => (bobOut += d.toString()));
    bob.stderr.on('data', (d: Buffer) => (bobOut += d.toString()));
    const bobExit = new Promise<number | null>((r) => bob.once('close', (code) => r(code)));
    await until(
      () => bobOut,
      (s) => s.includes('Commands:'),
    );

    expect(await chat('alice', '--add', bobCard, '--to', 'bob', '--send', 'hi bob')).toContain(
      'Sent to bob (1 device(s)).',
    );
    await until(
      () => bobOut,
      (s) => /: hi bob$/m.test(s),
    );

    const aliceCard = cardIn(await chat('alice', '--print-card'));
    bob.stdin.write(`/add ${aliceCard}\nhi alice\n`);
    const got = await chat('alice', '--receive-once', '--wait', '20');
    expect(got.trim().split('\n')).toEqual(['bob: hi alice']);

    bob.stdin.write('/quit\n');
    expect(await bobExit).toBe(0);
    expect(bobOut).toContain('Added alice; you are now talking to alice.');
    expect(bobOut).not.toContain('error');
  }, 90_000);
});

describe('examples/browser', () => {
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
  });

  it('the page registers in Chromium from npm and chats with a node-chat', async () => {
    const site = await startExampleSite({ api: server.url, trustRoot: server.trustRoot });
    try {
      ({ browser } = await launchChromium({ kind: 'npm' }));
      const page = await browser.newPage();
      await page.goto(`${site.url}/`);
      await page.waitForSelector('body[data-ready="true"]');
      const pageCard = (await page.textContent('#card')) ?? '';
      expect(pageCard).toMatch(/^sealpost-card:/);
      // The page receives over the API's WebSocket endpoint, not by polling.
      await page.waitForSelector('#connection:text-is("open")');

      await chat('carol', '--add', pageCard, '--to', 'browser', '--send', 'hi browser');
      await page.waitForSelector('#messages li:has-text(": hi browser")');
      expect(await page.textContent('#connection')).toBe('open');

      await page.fill('#add-card', cardIn(await chat('carol', '--print-card')));
      await page.click('#add');
      await page.waitForSelector('#messages li:has-text("Added carol.")');
      await page.fill('#message', 'hi carol, from the page');
      await page.click('#send');
      await page.waitForSelector('#messages li:has-text("you to carol")');

      const got = await chat('carol', '--receive-once', '--wait', '20');
      expect(got.trim().split('\n')).toEqual(['browser: hi carol, from the page']);
      expect(await page.getAttribute('body', 'data-error')).toBeNull();
    } finally {
      await site.close();
    }
  }, 120_000);

  it('"Enable wake-ups" subscribes the page; closed, it is woken once with no content', async () => {
    const standIn = await startPushStandIn();
    const site = await startExampleSite({ api: server.url, trustRoot: server.trustRoot });
    // A browser of its own: the npm build runs Chromium in one process, where registering a
    // service worker while another browser context is open crashes the browser.
    const { browser: own } = await launchChromium({ kind: 'npm' });
    try {
      const context = await own.newContext();
      const subscribed = await stubPushManager(context, standIn);
      const page = await context.newPage();
      await page.goto(`${site.url}/`);
      await page.waitForSelector('body[data-ready="true"]');
      await page.waitForSelector('#connection:text-is("open")');
      const pageCard = (await page.textContent('#card')) ?? '';
      await page.click('#enable-push');
      await page.waitForSelector('#push-status:text-is("on")');
      // Permission first, then one subscription made with the service's key.
      expect(await page.evaluate(() => (window as unknown as PushSteps).pushSteps)).toEqual([
        'requestPermission',
        'subscribe',
      ]);
      const keyResponse = await fetch(`${server.url}/v1/push/key`);
      const { applicationServerKey } = (await keyResponse.json()) as {
        applicationServerKey: string;
      };
      expect(subscribed.map(({ key, userVisibleOnly }) => ({ key, userVisibleOnly }))).toEqual([
        { key: applicationServerKey, userVisibleOnly: true },
      ]);
      const { clientHash } = subscribed[0]!.subscription;

      // Open: the message arrives over the page's socket, nobody is woken.
      await chat('dave', '--add', pageCard, '--to', 'browser', '--send', 'while open');
      await page.waitForSelector('#messages li:has-text(": while open")');
      expect(standIn.pushRequests()).toBe(0);

      // Closed: the page's socket closes with it, so the device is offline and is woken.
      await page.close();
      expect(await chat('dave', '--to', 'browser', '--send', 'while closed')).toContain(
        'Sent to browser (1 device(s)).',
      );
      expect(standIn.pushRequests()).toBe(1);
      // One notification, and it carries nothing: its decrypted payload is empty.
      const payloads = await standIn.notifications(clientHash);
      expect(payloads).toEqual(['']);

      // The browser's half: sw.js shows the generic notification, holding the event open.
      const handled = await pushToServiceWorker(context, site.url, payloads[0]!);
      await expect
        .poll(handled)
        .toEqual({ shown: [{ title: 'New message', tag: 'sealpost-wake' }], extended: ['push'] });

      // The user blocks notifications: the page says so and subscribes nothing.
      // (A second context, which registers no service worker.)
      const refused = await own.newContext();
      await refused.addInitScript(() => {
        Notification.requestPermission = async () => 'denied';
        PushManager.prototype.subscribe = () => Promise.reject(new Error('not to be called'));
      });
      const refusedPage = await refused.newPage();
      await refusedPage.goto(`${site.url}/`);
      await refusedPage.waitForSelector('body[data-ready="true"]');
      await refusedPage.click('#enable-push');
      await refusedPage.waitForSelector('#push-status:has-text("error:")');
      expect(await refusedPage.textContent('#push-status')).toBe(
        'error: PERMISSION_DENIED notifications are blocked for this site',
      );
    } finally {
      await own.close();
      await site.close();
      await standIn.close();
    }
  }, 60_000);
});

/** What the example page shows for one received attachment (see its `showAttachment`). */
interface ShownAttachment {
  readonly text: string;
  readonly download: string;
  /** The link's Blob: its type and bytes. */
  readonly linkType: string | null;
  readonly bytes: number[];
  readonly image: { readonly width: number; readonly height: number; readonly alt: string } | null;
}

/** Reads the attachment item of `page` whose link downloads as `fileName`. */
async function shownAttachment(page: Page, fileName: string): Promise<ShownAttachment> {
  const item = await page.waitForSelector(`#messages li:has(a[download="${fileName}"])`);
  return item.evaluate(async (li) => {
    const link = li.querySelector('a') as HTMLAnchorElement;
    const img = li.querySelector('img');
    await img?.decode();
    const blob = await fetch(link.href);
    return {
      text: li.textContent ?? '',
      download: link.download,
      linkType: blob.headers.get('content-type'),
      bytes: Array.from(new Uint8Array(await blob.arrayBuffer())),
      image: img ? { width: img.naturalWidth, height: img.naturalHeight, alt: img.alt } : null,
    };
  });
}

describe('examples/browser attachments', () => {
  it('"Attach file" sends a picture and a file to another page: progress, a named link, an <img>', async () => {
    const sites = await Promise.all(
      ['ann', 'ben'].map((name) =>
        startExampleSite({ api: server.url, trustRoot: server.trustRoot, name }),
      ),
    );
    const { browser: own } = await launchChromium({ kind: 'npm' });
    try {
      const [ann, ben] = await Promise.all(sites.map(() => own.newPage()));
      if (!ann || !ben) throw new Error('no pages');
      for (const [page, site] of [
        [ann, sites[0]!],
        [ben, sites[1]!],
      ] as const) {
        await page.goto(`${site.url}/`);
        await page.waitForSelector('body[data-ready="true"]');
      }
      const cards = await Promise.all([ann, ben].map((p) => p.textContent('#card')));
      await ann.fill('#add-card', cards[1] ?? '');
      await ann.click('#add');
      await ann.waitForSelector('#messages li:has-text("Added ben.")');
      await ben.fill('#add-card', cards[0] ?? '');
      await ben.click('#add');
      await ben.waitForSelector('#messages li:has-text("Added ann.")');

      // A picture with a line of text: the upload's progress ends full.
      await ann.setInputFiles('#attach', {
        name: 'dot.png',
        mimeType: 'image/png',
        buffer: PICTURE,
      });
      await ann.fill('#message', 'a picture');
      await ann.click('#send');
      await ann.waitForSelector('#upload-status:text-is("sent dot.png")');
      expect(await ann.$eval('#upload-progress', (p) => (p as HTMLProgressElement).value)).toBe(1);
      await ann.waitForSelector('#messages li:text-is("you to ben: a picture + dot.png")');
      await ben.waitForSelector('#messages li:text-is("ann: a picture")');
      expect(await shownAttachment(ben, 'dot.png')).toEqual({
        text: 'ann sent dot.png (74 B)',
        download: 'dot.png',
        // The link never renders what the sender sent: it downloads.
        linkType: 'application/octet-stream',
        bytes: Array.from(PICTURE),
        image: { width: 3, height: 2, alt: 'dot.png' },
      });

      // A file alone, of a type the page does not render: a link, no image.
      const notes = Buffer.from('field notes, day one\n');
      await ann.setInputFiles('#attach', {
        name: 'notes.txt',
        mimeType: 'text/plain',
        buffer: notes,
      });
      await ann.click('#send');
      await ann.waitForSelector('#upload-status:text-is("sent notes.txt")');
      await ann.waitForSelector('#messages li:text-is("you to ben: notes.txt")');
      expect(await shownAttachment(ben, 'notes.txt')).toEqual({
        text: `ann sent notes.txt (${notes.length} B)`,
        download: 'notes.txt',
        linkType: 'application/octet-stream',
        bytes: Array.from(notes),
        image: null,
      });
      for (const page of [ann, ben]) {
        expect(await page.getAttribute('body', 'data-error')).toBeNull();
        expect(await page.locator('#messages li:has-text("error:")').count()).toBe(0);
      }
    } finally {
      await own.close();
      await Promise.all(sites.map((site) => site.close()));
    }
  }, 90_000);
});

describe('examples/vitest', () => {
  it('the example app type-checks against the packages it imports', async () => {
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const { stdout } = await run(
      process.execPath,
      [tsc, '--noEmit', '-p', 'examples/vitest/tsconfig.json'],
      { cwd: ROOT },
    );
    expect(stdout).toBe('');
  }, 90_000);

  it("the app's own tests pass with the test kit", async () => {
    const report = join(dir, 'vitest-report.json');
    const args = ['vitest', 'run', '--config', 'examples/vitest/vitest.config.ts'];
    args.push('--reporter=json', `--outputFile=${report}`);
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'NODE_OPTIONS'),
    );
    const status = await run('npx', args, { cwd: ROOT, env }).then(
      () => 0,
      (e: { code?: number }) => e.code ?? 1,
    );
    const result = JSON.parse(await readFile(report, 'utf8')) as {
      numPassedTests: number;
      numFailedTests: number;
    };
    expect(result).toMatchObject({ numPassedTests: 2, numFailedTests: 0 });
    expect(status).toBe(0);
  }, 90_000);
});
