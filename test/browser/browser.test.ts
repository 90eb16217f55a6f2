/**
 * The SDK in a real browser: the client is bundled for the browser with esbuild (no `node:`
 * import may be in it), loaded in headless Chromium, registered with an in-memory store, and
 * completes a send to and a receive from a Node-side client through the local HTTP server with
 * the real adapters. The page and the bundle come from this test's own HTTP server (./site.ts),
 * which also forwards `/v1/*` to the API, so the page talks to the API from its own origin.
 * Attachments in the browser: ./attachments.test.ts.
 *
 * Realtime: a page's client receives a message pushed over the browser's own `WebSocket` from
 * the test kit's `listen()` (its CORS layer serves the page's cross-origin requests; WebSockets
 * need none), and polls nothing once the socket is open.
 *
 * The browser is the system Chromium when installed, otherwise the one from the npm registry
 * (`@sparticuz/chromium`); `SEALPOST_CHROMIUM=npm` forces the latter (./chromium.ts).
 */
import type { Server } from 'node:http';
import { manualOutboxTimer, TestSealpost } from '@sealpost/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConnectionState, SealpostClient } from '#sdk/client/index.ts';
import { MemoryStore } from '#sdk/state/memory-store.ts';
import { toBase64Url } from '#sdk/util/bytes.ts';
import { type E2eStack, startE2eStack } from '../e2e/stack.ts';
import { launchChromium } from './chromium.ts';
import { bundleSdk, closeSite, startSite } from './site.ts';

/** What the page's bundle (entry.ts) and the test put on the page's global object. */
interface PageGlobals {
  sealpost: { SealpostClient: typeof SealpostClient; MemoryStore: typeof MemoryStore };
  client: SealpostClient;
  /** The realtime case's client, its receive loop and what the loop saw. */
  live: {
    client: SealpostClient;
    abort: AbortController;
    loop: Promise<void>;
    texts: string[];
    states: ConnectionState[];
  };
}

let stack: E2eStack;
let site: Server;
let origin: string;
let browser: Browser;
let page: Page;
let bundle: string;

beforeAll(async () => {
  bundle = await bundleSdk();
  stack = await startE2eStack();
  ({ server: site, origin } = await startSite(stack.url, bundle));
  ({ browser } = await launchChromium());
  page = await browser.newPage();
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => 'sealpost' in globalThis);
});

afterAll(async () => {
  await browser?.close();
  await closeSite(site);
  await stack?.stop();
});

describe('the SDK in headless Chromium', () => {
  it('bundles for the browser without Node built-ins and with the WebCrypto backend', () => {
    expect(bundle).not.toMatch(/["']node:/);
    expect(bundle).not.toMatch(/node-backend/);
    expect(bundle).toMatch(/SealpostClient/);
  });

  it('registers in the page and exchanges messages with a Node client', async () => {
    const node: SealpostClient = await stack.register();
    const trustRoot = toBase64Url(stack.trust.trustRoot);
    const pageCard = await page.evaluate(async (root) => {
      const g = globalThis as unknown as PageGlobals;
      const client = await g.sealpost.SealpostClient.register({
        baseUrl: location.origin,
        store: new g.sealpost.MemoryStore(),
        trust: { trustRoot: root },
      });
      g.client = client;
      return client.contactCard();
    }, trustRoot);
    await node.addContact(pageCard);
    await node.send(pageCard.address, 'hello, browser');

    const received = await page.evaluate(async (card) => {
      const { client } = globalThis as unknown as PageGlobals;
      await client.addContact(card);
      const batch = await client.receiveBatch();
      const texts = batch.messages.map((m) => m.text);
      await client.send(card.address, `browser got: ${texts.join(',')}`);
      return { texts, failures: batch.failures.length, backend: client.engine.backend.name };
    }, node.contactCard());
    expect(received).toMatchObject({ texts: ['hello, browser'], failures: 0 });
    expect(received.backend).not.toBe('node');

    const reply = await node.receiveBatch();
    expect(reply.messages.map((m) => [m.text, m.sealed, m.sender.address])).toEqual([
      ['browser got: hello, browser', true, pageCard.address],
    ]);
  });

  it('starts a sealed conversation with a stranger through a message request paid with a token', async () => {
    const node: SealpostClient = await stack.register({ tokens: { autoRefill: false } });
    const trustRoot = toBase64Url(stack.trust.trustRoot);
    // The page knows only the node's address: it takes tokens, then writes a sealed request.
    const sent = await page.evaluate(
      async ({ root, to }) => {
        const g = globalThis as unknown as PageGlobals;
        const client = await g.sealpost.SealpostClient.register({
          baseUrl: location.origin,
          store: new g.sealpost.MemoryStore(),
          trust: { trustRoot: root },
          tokens: { autoRefill: false },
        });
        g.client = client;
        const tokens = await client.refillTokens();
        const result = await client.send(to, 'hello from a stranger in a browser');
        return { address: client.address, tokens, left: await client.tokenCount(), result };
      },
      { root: trustRoot, to: node.address },
    );
    expect(sent.tokens).toBeGreaterThan(0);
    expect(sent.left).toBe(sent.tokens - 1);

    const request = await node.receiveBatch();
    expect(request.messages.map((m) => [m.text, m.sealed, m.request, m.sender.address])).toEqual([
      ['hello from a stranger in a browser', true, true, sent.address],
    ]);
    await node.acceptRequest(sent.address);
    await node.send(sent.address, 'accepted: hello');

    const answered = await page.evaluate(async () => {
      const { client } = globalThis as unknown as PageGlobals;
      const batch = await client.receiveBatch();
      const got = batch.messages.map((m) => [m.text, m.sealed, m.request]);
      const before = await client.tokenCount();
      // The node's answer carried its access key: the page continues sealed with no token.
      await client.send(batch.messages[0]!.sender.address, 'and sealed back');
      return { got, spent: before - (await client.tokenCount()) };
    });
    expect(answered).toEqual({ got: [['accepted: hello', true, false]], spent: 0 });
    const last = await node.receiveBatch();
    expect(last.messages.map((m) => [m.text, m.sealed, m.request])).toEqual([
      ['and sealed back', true, false],
    ]);
  });

  it('receives a message pushed over the browser’s WebSocket, with no poll once it is open', async () => {
    const logs: string[] = [];
    const sealpost = await TestSealpost.start({ log: (line) => logs.push(line) });
    const listening = await sealpost.listen();
    const polls = () =>
      logs.filter((line) => {
        const { method, route } = JSON.parse(line) as { method?: string; route?: string };
        return method === 'GET' && route === '/v1/messages';
      }).length;
    const tab = await browser.newPage();
    const sockets: string[] = [];
    tab.on('websocket', (socket) => sockets.push(socket.url()));
    try {
      await tab.goto(`${origin}/`);
      await tab.waitForFunction(() => 'sealpost' in globalThis);
      const alice = await SealpostClient.register({
        baseUrl: listening.url,
        trust: sealpost.trust,
        now: sealpost.now,
        store: new MemoryStore(),
        outbox: { timer: manualOutboxTimer },
      });
      // The service is at another origin than the page: CORS for fetch, none for the socket.
      const pageCard = await tab.evaluate(
        async ({ url, root, card }) => {
          const g = globalThis as unknown as PageGlobals;
          const client = await g.sealpost.SealpostClient.register({
            baseUrl: url,
            store: new g.sealpost.MemoryStore(),
            trust: { trustRoot: root },
          });
          await client.addContact(card);
          const live: PageGlobals['live'] = {
            client,
            abort: new AbortController(),
            loop: Promise.resolve(),
            texts: [],
            states: [],
          };
          live.loop = (async () => {
            for await (const m of client.receive({
              signal: live.abort.signal,
              onConnectionState: (state) => live.states.push(state),
            })) {
              live.texts.push(m.text ?? '');
            }
          })();
          g.live = live;
          return client.contactCard();
        },
        { url: listening.url, root: sealpost.trustRoot, card: alice.contactCard() },
      );
      await alice.addContact(pageCard);
      await tab.waitForFunction(() =>
        (globalThis as unknown as PageGlobals).live.states.includes('open'),
      );
      const pollsWhenOpen = polls();

      await alice.send(pageCard.address, 'pushed to the browser');
      await tab.waitForFunction(
        () => (globalThis as unknown as PageGlobals).live.texts.length === 1,
      );
      // The loop acknowledges over the socket once it asks for the next message.
      for (let i = 0; sealpost.ports.index.dump().records.length > 0 && i < 1_000; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const seen = await tab.evaluate(async () => {
        const { live } = globalThis as unknown as PageGlobals;
        live.abort.abort();
        await live.loop;
        return { texts: live.texts, states: live.states };
      });

      expect(seen.texts).toEqual(['pushed to the browser']);
      expect(seen.states).toEqual(['connecting', 'open', 'closed']);
      expect(sockets.map((url) => new URL(url).pathname)).toEqual(['/v1/websocket']);
      expect(new URL(sockets[0] ?? '').host).toBe(new URL(listening.url).host);
      // Delivered by push: no `GET /v1/messages` reached the service after the socket opened.
      expect(polls()).toBe(pollsWhenOpen);
      expect(sealpost.ports.index.dump().records).toEqual([]);
    } finally {
      await tab.close();
      await listening.close();
    }
  });
});
