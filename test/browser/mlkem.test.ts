/**
 * The WebCrypto backend's ML-KEM-1024 in a real browser: the backend is bundled for the
 * browser with esbuild and loaded in headless Chromium (./chromium.ts: the system's when
 * installed, else the npm one; `SEALPOST_CHROMIUM=npm` forces the latter). The page runs the
 * backend's known-answer check and reports which path it chose, then proves the bytes: the
 * page encapsulates to a key pair Node generated, Node decapsulates; Node encapsulates, the
 * page decapsulates with the key seed (WebCrypto's path) and without it (noble's), and a
 * forged ciphertext gives noble's implicit-rejection secret. The path must be WebCrypto's
 * exactly when the browser has `crypto.subtle.encapsulateBits` (Chromium 156 has, the npm
 * Chromium 153 has not).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nobleBackend } from '#sdk/crypto/noble-backend.ts';
import { fromHex, toHex } from '#sdk/util/bytes.ts';
import { launchChromium } from './chromium.ts';
import { closeSite } from './site.ts';

/** The page's bundle: the WebCrypto backend and hex helpers on `globalThis.kem`. */
const ENTRY = `
import { webBackend } from './sdk/crypto/web-backend.ts';
import { fromHex, toHex } from './sdk/util/bytes.ts';
globalThis.kem = { webBackend, fromHex, toHex };
`;

/** What the page reports. */
interface PageReport {
  readonly runtimeHasKem: boolean;
  readonly support: { x25519: boolean; ed25519: boolean; mlkem: boolean };
  readonly encapsulated: { cipherText: string; sharedSecret: string };
  readonly openedWithSeed: string;
  readonly openedWithoutSeed: string;
  readonly rejectedWithSeed: string;
}

interface PageGlobals {
  kem: {
    webBackend: import('#sdk/crypto/web-backend.ts').WebCryptoBackend;
    fromHex: typeof fromHex;
    toHex: typeof toHex;
  };
}

let browser: Browser;
let page: Page;
let site: Server | undefined;

async function bundle(): Promise<string> {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const result = await build({
    stdin: { contents: ENTRY, resolveDir: root, sourcefile: 'mlkem-entry.ts', loader: 'ts' },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    conditions: ['sealpost-source'],
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

beforeAll(async () => {
  const js = await bundle();
  // A page of its own origin (http://127.0.0.1 is a secure context, so crypto.subtle exists).
  site = createServer((req, res) => {
    if (req.url === '/') {
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<!doctype html><meta charset="utf-8"><script type="module" src="/kem.js"></script>');
    } else if (req.url === '/kem.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => site!.listen(0, '127.0.0.1', () => r()));
  const { port } = site.address() as AddressInfo;
  ({ browser } = await launchChromium());
  page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForFunction(() => 'kem' in globalThis);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await closeSite(site);
});

describe('ML-KEM-1024 in Chromium', () => {
  it("picks WebCrypto's ML-KEM exactly when the browser has it, with noble's bytes either way", async () => {
    const keySeed = Uint8Array.from({ length: 64 }, (_, i) => (i * 53 + 7) & 0xff);
    const pair = nobleBackend.mlkemKeygen(keySeed);
    const ours = await nobleBackend.mlkemEncapsulate(pair.publicKey);
    const forged = ours.cipherText.slice();
    forged[7]! ^= 0x20;
    const report = await page.evaluate(
      async (input): Promise<PageReport> => {
        const { webBackend, fromHex, toHex } = (globalThis as unknown as PageGlobals).kem;
        const sk = fromHex(input.secretKey);
        const seed = fromHex(input.keySeed);
        const support = await webBackend.support();
        const enc = await webBackend.mlkemEncapsulate(fromHex(input.publicKey));
        const ct = fromHex(input.cipherText);
        return {
          runtimeHasKem:
            typeof (crypto.subtle as { encapsulateBits?: unknown }).encapsulateBits === 'function',
          support,
          encapsulated: {
            cipherText: toHex(enc.cipherText),
            sharedSecret: toHex(enc.sharedSecret),
          },
          openedWithSeed: toHex(await webBackend.mlkemDecapsulate(ct, sk, seed)),
          openedWithoutSeed: toHex(await webBackend.mlkemDecapsulate(ct, sk)),
          rejectedWithSeed: toHex(
            await webBackend.mlkemDecapsulate(fromHex(input.forged), sk, seed),
          ),
        };
      },
      {
        publicKey: toHex(pair.publicKey),
        secretKey: toHex(pair.secretKey),
        keySeed: toHex(keySeed),
        cipherText: toHex(ours.cipherText),
        forged: toHex(forged),
      },
    );
    const version = browser.version();
    const path = report.support.mlkem ? 'WebCrypto' : 'noble';
    // Which path ran, for the record of the run (no key material).
    console.info(`Chromium ${version}: ML-KEM-1024 on ${path}`);

    expect(report.support.mlkem).toBe(report.runtimeHasKem);
    expect(report.support.x25519 && report.support.ed25519).toBe(true);
    // The page's encapsulation (WebCrypto's randomness on the native path) opens on Node.
    const theirs = fromHex(report.encapsulated.cipherText);
    expect(theirs).toHaveLength(1568);
    expect(toHex(await nobleBackend.mlkemDecapsulate(theirs, pair.secretKey))).toBe(
      report.encapsulated.sharedSecret,
    );
    expect(report.openedWithSeed).toBe(toHex(ours.sharedSecret));
    expect(report.openedWithoutSeed).toBe(toHex(ours.sharedSecret));
    expect(report.rejectedWithSeed).toBe(
      toHex(await nobleBackend.mlkemDecapsulate(forged, pair.secretKey)),
    );
    expect(report.rejectedWithSeed).not.toBe(toHex(ours.sharedSecret));
  });
});
