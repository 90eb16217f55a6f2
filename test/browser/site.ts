/**
 * The browser tests' web site: the SDK bundled for the browser from ./entry.ts with esbuild
 * (no `node:` import may be in it) and a page that loads it, served from a local HTTP server
 * of its own that also forwards `/v1/*` to the API, so a page talks to the API from its own
 * origin (and to anything else, such as presigned attachment URLs, across origins).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The page: nothing but the bundle, which puts the SDK on `globalThis.sealpost`. */
export const PAGE =
  '<!doctype html><meta charset="utf-8"><title>Sealpost</title><script type="module" src="/sdk.js"></script>';

/**
 * Bundles ./entry.ts for the browser (the SDK's TypeScript sources).
 *
 * @throws {Error} if esbuild fails.
 * @example const js = await bundleSdk();
 */
export async function bundleSdk(): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('./entry.ts', import.meta.url))],
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

/**
 * Serves {@link PAGE} at `/`, `js` at `/sdk.js`, and forwards `/v1/*` to `api` on a free port
 * of 127.0.0.1.
 *
 * @example const { server, origin } = await startSite(stack.url, await bundleSdk());
 */
export function startSite(api: string, js: string): Promise<{ server: Server; origin: string }> {
  const server = createServer(async (req, res) => {
    if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    } else if (req.url === '/sdk.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
    } else if (req.url?.startsWith('/v1/')) {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (typeof v === 'string' && k !== 'host' && k !== 'connection') headers[k] = v;
      }
      const upstream = await fetch(`${api}${req.url}`, {
        method: req.method ?? 'GET',
        headers,
        ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
      });
      res.writeHead(upstream.status, { 'content-type': 'application/json' });
      res.end(Buffer.from(await upstream.arrayBuffer()));
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, origin: `http://127.0.0.1:${port}` });
    });
  });
}

/**
 * Closes a site's server (nothing to do without one).
 *
 * @example await closeSite(site);
 */
export function closeSite(server: Server | undefined): Promise<void> {
  return new Promise<void>((r) => (server ? server.close(() => r()) : r()));
}
