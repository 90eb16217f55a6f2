/**
 * The files of the throwaway app that test/package/consumer.test.ts installs the packed
 * tarballs into: what a new user writes, importing only the package names.
 */

/** Plain Node, ESM: two users of the test kit exchange a message through the packed SDK. */
export const NODE_APP = `
import { SealpostClient, SealpostError, MemoryStore } from 'sealpost';
import { TestSealpost } from '@sealpost/testing';

const sealpost = await TestSealpost.start();
const alice = await sealpost.register();
const bob = await sealpost.register();
await alice.addContact(bob.contactCard());
await bob.addContact(alice.contactCard());
await alice.send(bob.address, 'hello from a packed tarball');
const { messages } = await bob.receiveBatch();
const ok = alice instanceof SealpostClient && typeof SealpostError === 'function' && new MemoryStore() !== null;
console.log(JSON.stringify({ node: process.versions.node, text: messages[0]?.text, ok }));
`;

/** CommonJS: `require` of the ESM package (Node's require(esm), no separate CJS build). */
export const CJS_APP = `
const sealpost = require('sealpost');
const wire = require('sealpost/wire');
console.log(JSON.stringify({ client: typeof sealpost.SealpostClient, wire: typeof wire.encodeIdentityBundle }));
`;

/** A typed consumer: compiled by tsc under the app's own strict options. */
export const TS_APP = `
import { MemoryStore, SealpostClient, SealpostError, type ClientOptions, type SendResult } from 'sealpost';
import { MAX_DEVICES } from 'sealpost/wire/api';
import { TestSealpost } from '@sealpost/testing';

export async function exchange(): Promise<string | undefined> {
  const sealpost = await TestSealpost.start();
  const options: ClientOptions = sealpost.clientOptions(new MemoryStore());
  const alice: SealpostClient = await SealpostClient.register(options);
  const bob = await sealpost.register();
  await alice.addContact(bob.contactCard());
  await bob.addContact(alice.contactCard());
  const sent: SendResult = await alice.send(bob.address, 'typed');
  const batch = await bob.receiveBatch();
  const first = batch.messages[0];
  return first === undefined ? String(sent.recipientDevices) : first.text;
}

export function describeError(error: unknown): string {
  return error instanceof SealpostError ? error.code : String(MAX_DEVICES);
}
`;

/** The browser client entry bundled by esbuild. */
export const BROWSER_APP = `
import { MemoryStore, SealpostClient } from 'sealpost';
export async function connect(baseUrl, trust) {
  return SealpostClient.register({ baseUrl, trust, store: new MemoryStore() });
}
`;

/** tsconfig for the Node file under node16 resolution: no DOM library. */
export const TSCONFIG_NODE16 = {
  compilerOptions: {
    target: 'ES2022',
    lib: ['ES2022'],
    module: 'node16',
    moduleResolution: 'node16',
    strict: true,
    exactOptionalPropertyTypes: true,
    noEmit: true,
    types: ['node'],
  },
  files: ['app.ts'],
};

/** tsconfig under bundler resolution, as a web app's build would have. */
export const TSCONFIG_BUNDLER = {
  compilerOptions: {
    target: 'ES2022',
    lib: ['ES2022', 'DOM'],
    module: 'esnext',
    moduleResolution: 'bundler',
    strict: true,
    exactOptionalPropertyTypes: true,
    noEmit: true,
    types: ['node'],
  },
  files: ['app.ts'],
};
