/**
 * The node backend under `node --frozen-intrinsics`, where `Error.stackTraceLimit` cannot be
 * changed: key imports must still work (they lower the limit only when they can).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const backendUrl = new URL('../../../../sdk/crypto/node-backend.ts', import.meta.url).href;

const script = `
import { createNodeBackend } from ${JSON.stringify(backendUrl)};
const b = createNodeBackend();
const alice = new Uint8Array(32).fill(1), bob = new Uint8Array(32).fill(2);
const ab = await b.x25519(alice, await b.x25519PublicKey(bob));
const ba = await b.x25519(bob, await b.x25519PublicKey(alice));
const seed = new Uint8Array(32).fill(3), msg = new Uint8Array([1, 2, 3]);
const ok = await b.ed25519Verify(await b.ed25519PublicKey(seed), msg, await b.ed25519Sign(seed, msg));
console.log(JSON.stringify({ frozen: Object.isFrozen(Error), agree: ab.every((x, i) => x === ba[i]), ok }));
`;

it('imports keys and computes under frozen intrinsics', async () => {
  const { stdout } = await run(
    process.execPath,
    [
      '--frozen-intrinsics',
      '--no-warnings',
      '--conditions=sealpost-source',
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      script,
    ],
    { cwd: fileURLToPath(new URL('../../../..', import.meta.url)) },
  );
  expect(JSON.parse(stdout.trim())).toEqual({ frozen: true, agree: true, ok: true });
}, 60_000);
