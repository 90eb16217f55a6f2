#!/usr/bin/env node
/**
 * Serves the browser example: bundles app.js (and the `sealpost` package it imports) with
 * esbuild, serves index.html, the bundle and the service worker `/sw.js` (wake-ups: a service
 * worker must come from the page's own origin, so it is served here, as JavaScript), tells the
 * page its trust root in `/config.json`, and forwards `/v1/*` to the Sealpost API so the page
 * calls the API on its own origin (`GET /v1/push/key` included). The page receives over the
 * API's WebSocket endpoint directly (`realtimeUrl` in `/config.json`): by default the API's own
 * `/v1/websocket` (npm start, the test kit); on AWS pass the stack's `WebSocketUrl` output.
 * Attachments go neither through here nor through the API: the page sends and fetches them at
 * the presigned URLs of the object store (the API's `/_objects` locally, the bucket on AWS),
 * which answers the browser's CORS requests itself.
 *
 *   node serve.mjs                          # the API of `npm start` (.local/stack.json)
 *   node serve.mjs --api URL --trust-root=KEY --port 5173 --name carol [--realtime-url WSS_URL]
 *
 * Any Sealpost works as the API, e.g. the test kit's `TestSealpost.listen()` (which also
 * answers CORS, so a page served elsewhere could call it directly).
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const here = (file) => fileURLToPath(new URL(file, import.meta.url));

/**
 * Bundles app.js for the browser. The `sealpost-source` condition picks the SDK's TypeScript
 * sources inside the Sealpost repository; an installed package has no such condition and
 * resolves to its compiled files.
 */
export async function bundleApp() {
  const result = await build({
    entryPoints: [here('./app.js')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    conditions: ['sealpost-source'],
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

async function forward(api, req, res) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const headers = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (typeof v === 'string' && k !== 'host' && k !== 'connection') headers[k] = v;
  }
  const upstream = await fetch(`${api}${req.url}`, {
    method: req.method,
    headers,
    ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
  });
  const type = upstream.headers.get('content-type') ?? 'application/json';
  res.writeHead(upstream.status, { 'content-type': type });
  res.end(Buffer.from(await upstream.arrayBuffer()));
}

/** The WebSocket endpoint a local API serves on its own port. */
export const localRealtimeUrl = (api) => `${api.replace(/^http/, 'ws')}/v1/websocket`;

/**
 * Starts the example's site on 127.0.0.1.
 *
 * @param {{ api: string, trustRoot: string, name?: string, port?: number, realtimeUrl?: string }} options
 * @returns {Promise<{ url: string, close(): Promise<void> }>}
 */
export async function startExampleSite({
  api,
  trustRoot,
  name = 'browser',
  port = 0,
  realtimeUrl = localRealtimeUrl(api),
}) {
  const [html, js, worker] = await Promise.all([
    readFile(here('./index.html')),
    bundleApp(),
    readFile(here('./sw.js')),
  ]);
  const config = JSON.stringify({ trustRoot, name, realtimeUrl });
  const server = createServer((req, res) => {
    if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(html);
    else if (req.url === '/app.js')
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
    else if (req.url === '/sw.js')
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(worker);
    else if (req.url === '/config.json') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(config);
    } else if (req.url?.startsWith('/v1/')) {
      forward(api, req, res).catch(() => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
        res.end('{"error":{"code":"UNAVAILABLE","message":"the API did not answer"}}');
      });
    } else res.writeHead(404).end();
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values: args } = parseArgs({
    options: {
      api: { type: 'string' },
      'trust-root': { type: 'string' },
      port: { type: 'string', default: '5173' },
      name: { type: 'string', default: 'browser' },
      'realtime-url': { type: 'string' },
    },
  });
  let { api, 'trust-root': trustRoot } = args;
  if (!api || !trustRoot) {
    const stack = JSON.parse(await readFile('.local/stack.json', 'utf8').catch(() => '{}'));
    api ??= stack.url;
    trustRoot ??= stack.trustRoot;
  }
  if (!api || !trustRoot) {
    process.stderr.write('error: run `npm start` first, or pass --api and --trust-root\n');
    process.exit(1);
  }
  const site = await startExampleSite({
    api,
    trustRoot,
    name: args.name,
    port: Number(args.port),
    ...(args['realtime-url'] ? { realtimeUrl: args['realtime-url'] } : {}),
  });
  process.stdout.write(`Open ${site.url}/ (API ${api}). Stop: Ctrl-C\n`);
}
