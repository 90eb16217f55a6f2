/**
 * The Node side of `npm run bench:browser`: libsignal's native library (lib/libsignal.ts) in a
 * child process on Node 24, started by lib/browser-driver.ts with an IPC channel. It answers
 * one request at a time, so its rounds never overlap the page's:
 *
 *   { id, op: 'info' }                        -> { id, node, libsignal }
 *   { id, op: 'run', name: CaseName, ms }     -> { id, rate }      (operations per second)
 *   { id, op: 'sizes' }                       -> { id, sizes }
 *
 * and `{ id, error }` when a request fails.
 */
import { readFileSync } from 'node:fs';
import { CASES, type CaseName, type CaseSides, timeSide } from './browser-timing.ts';
import type { Side } from './harness.ts';
import { libsignalPair } from './libsignal.ts';

type Request =
  | { id: number; op: 'info' }
  | { id: number; op: 'run'; name: CaseName; ms: number }
  | { id: number; op: 'sizes' };

if (!process.send) throw new Error('lib/browser-node.ts runs as a child with an IPC channel');
const reply = (message: object) => process.send!(message);

const pair = await libsignalPair();
const erase = <T>(side: Side<T>) => side as unknown as Side<unknown>;
const sides: CaseSides = {
  oneWay: erase({ run: pair.oneWay }),
  alternate: erase({ run: pair.alternate }),
  setup: erase({ prepare: pair.prepareSetup, run: pair.setup, batch: 10 }),
  sealed: erase({ run: pair.sealed }),
};
const libsignalVersion = (
  JSON.parse(
    readFileSync(
      new URL('../node_modules/@signalapp/libsignal-client/package.json', import.meta.url),
      'utf8',
    ),
  ) as { version: string }
).version;

async function answer(request: Request): Promise<object> {
  switch (request.op) {
    case 'info':
      return { node: process.version, libsignal: libsignalVersion };
    case 'run': {
      if (!CASES.includes(request.name)) throw new Error(`unknown case ${String(request.name)}`);
      return { rate: await timeSide(sides[request.name]!, request.ms) };
    }
    case 'sizes':
      return {
        sizes: { message: await pair.messageSizes(), sealed: await pair.sealedSizes() },
      };
  }
}

// One request at a time, in order: the driver waits for each answer before the page runs.
let queue = Promise.resolve();
process.on('message', (request: Request) => {
  queue = queue.then(async () => {
    try {
      reply({ id: request.id, ...(await answer(request)) });
    } catch (err) {
      reply({ id: request.id, error: String(err) });
    }
  });
});
process.on('disconnect', () => process.exit(0));
reply({ id: 0, ready: true });
