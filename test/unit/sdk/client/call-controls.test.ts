/**
 * Every network method of `SealpostClient` takes the call controls (`signal`, `timeoutMs`) as
 * its last argument and hands them to every HTTP request it makes (docs/SDK.md §Call controls);
 * `ClientOptions.timeoutMs`, `retries` and `onRequest` reach the HTTP client.
 *
 * Each case holds one request of the method open (the fetch never answers) and aborts the
 * signal only once that request is in flight: the method ends with `ABORTED` only if the
 * signal reached that very request.
 */

import { TestSealpost } from '@sealpost/testing';
import { describe, expect, it } from 'vitest';
import {
  AbortedError,
  type CallOptions,
  type FetchLike,
  type RequestEvent,
  SealpostClient,
  TimeoutError,
} from '#sdk/client/index.ts';

/** The service's `fetch`; the first request matching `target` (`METHOD /path`) never answers. */
function stalling(sealpost: TestSealpost) {
  let target: RegExp | undefined;
  let reached: () => void = () => undefined;
  const fetch: FetchLike = (url, init) => {
    if (target?.test(`${init.method} ${new URL(url).pathname}`)) {
      target = undefined;
      reached();
      return new Promise<Response>(() => undefined);
    }
    return sealpost.fetch(url, init);
  };
  /** Runs `run`, aborts its signal once the `stall` request is open, expects `ABORTED`. */
  async function abortAt(stall: RegExp, run: (call: CallOptions) => Promise<unknown>) {
    const abort = new AbortController();
    const open = new Promise<void>((resolve) => {
      reached = resolve;
    });
    target = stall;
    const result = run({ signal: abort.signal });
    result.catch(() => undefined);
    await Promise.race([
      open,
      result.then(() => {
        throw new Error(`no request matched ${stall}`);
      }),
    ]);
    abort.abort(new Error('the user gave up'));
    await expect(result).rejects.toBeInstanceOf(AbortedError);
    await expect(result).rejects.toMatchObject({ code: 'ABORTED' });
  }
  /** Makes the next `stall` request never answer (for timeouts). */
  function stallNext(stall: RegExp) {
    target = stall;
  }
  return { fetch, abortAt, stallNext };
}

async function setup() {
  const sealpost = await TestSealpost.start();
  const net = stalling(sealpost);
  const events: RequestEvent[] = [];
  const options = {
    ...sealpost.clientOptions(),
    fetch: net.fetch,
    onRequest: (e: RequestEvent) => void events.push(e),
  };
  const alice = await SealpostClient.register(options);
  const bob = await sealpost.register();
  await alice.addContact(bob.contactCard());
  return { sealpost, net, options, events, alice, bob };
}

type World = Awaited<ReturnType<typeof setup>>;

const cases: [string, RegExp, (w: World, call: CallOptions) => Promise<unknown>][] = [
  [
    'register: the server certificate',
    /^GET \/v1\/certificates\/server$/,
    (w, call) =>
      SealpostClient.register({ ...w.options, store: w.sealpost.clientOptions().store }, call),
  ],
  [
    'register: the account',
    /^PUT \/v1\/accounts\/\w+$/,
    (w, call) =>
      SealpostClient.register({ ...w.options, store: w.sealpost.clientOptions().store }, call),
  ],
  [
    'register: the prekey upload',
    /^PUT \/v1\/prekeys$/,
    (w, call) =>
      SealpostClient.register({ ...w.options, store: w.sealpost.clientOptions().store }, call),
  ],
  [
    'register: the sender certificate',
    /^POST \/v1\/certificates\/sender$/,
    (w, call) =>
      SealpostClient.register({ ...w.options, store: w.sealpost.clientOptions().store }, call),
  ],
  [
    'link: the device',
    /^POST \/v1\/accounts\/\w+\/devices$/,
    (w, call) =>
      SealpostClient.link(
        {
          ...w.options,
          store: w.sealpost.clientOptions().store,
          account: w.alice.exportAccountKey() ?? fail('no account key'),
        },
        call,
      ),
  ],
  [
    'send: the bundles of a new contact (sealed route)',
    /^GET \/v1\/sealed\/bundles\/\w+$/,
    (w, call) => w.alice.send(w.bob.address, 'hi', call),
  ],
  [
    'send: the sealed send',
    /^PUT \/v1\/messages\/\w+$/,
    (w, call) => w.alice.send(w.bob.address, 'hi', call),
  ],
  [
    'send: the identified send',
    /^PUT \/v1\/messages\/\w+\/identified$/,
    (w, call) => w.alice.send(w.bob.address, 'hi', { identified: true, ...call }),
  ],
  ['receiveBatch: the fetch', /^GET \/v1\/messages$/, (w, call) => w.alice.receiveBatch(call)],
  [
    'receiveBatch: the acknowledgement',
    /^POST \/v1\/messages\/ack$/,
    async (w, call) => {
      await w.bob.addContact(w.alice.contactCard());
      await w.bob.send(w.alice.address, 'to be acknowledged');
      return w.alice.receiveBatch(call);
    },
  ],
  [
    'maintainPrekeys: the count',
    /^GET \/v1\/prekeys\/count$/,
    (w, call) => w.alice.maintainPrekeys(call),
  ],
  [
    'senderCertificate: the refresh',
    /^POST \/v1\/certificates\/sender$/,
    (w, call) => {
      w.sealpost.advance(13 * 60 * 60 * 1000);
      return w.alice.senderCertificate(call);
    },
  ],
  [
    'setUnrestricted',
    /^PUT \/v1\/account\/settings$/,
    (w, call) => w.alice.setUnrestricted(true, call),
  ],
  [
    'removeDevice: another device',
    /^DELETE \/v1\/devices\/2$/,
    async (w, call) => {
      await w.sealpost.link(w.alice);
      return w.alice.removeDevice(2, call);
    },
  ],
  ['removeDevice: itself', /^DELETE \/v1\/devices\/1$/, (w, call) => w.alice.removeDevice(1, call)],
];

function fail(message: string): never {
  throw new Error(message);
}

describe('call controls of SealpostClient', () => {
  it.each(cases)(
    '%s ends with ABORTED when its signal aborts',
    { timeout: 15_000 },
    async (_, stall, run) => {
      const w = await setup();
      await w.net.abortAt(stall, (call) => run(w, call));
    },
  );

  it('flushOutbox stops on abort and keeps the copy queued as it was', {
    timeout: 15_000,
  }, async () => {
    const w = await setup();
    await w.alice.send(w.bob.address, 'copied later');
    expect(await w.alice.pendingSyncCopies()).toBe(1);
    await w.net.abortAt(/^GET \/v1\/accounts\/\w+\/devices$/, (call) => w.alice.flushOutbox(call));
    expect(await w.alice.pendingSyncCopies()).toBe(1);
    // No other device: the copy is done without a send, and no failure was counted.
    expect(await w.alice.flushOutbox()).toEqual({ sent: 1, pending: 0, errors: [] });
  });

  it('a call timeout ends a request that does not answer', { timeout: 15_000 }, async () => {
    const w = await setup();
    w.net.stallNext(/^GET \/v1\/prekeys\/count$/);
    const client = await SealpostClient.open({ ...w.options, retries: 0 });
    const result = client.maintainPrekeys({ timeoutMs: 20 });
    await expect(result).rejects.toBeInstanceOf(TimeoutError);
    await expect(result).rejects.toMatchObject({ code: 'TIMEOUT', timeoutMs: 20 });
  });

  it('passes timeoutMs, retries and onRequest of the client options to the HTTP client', async () => {
    const w = await setup();
    const events: RequestEvent[] = [];
    const client = await SealpostClient.open({
      ...w.options,
      timeoutMs: 25,
      retries: 0,
      onRequest: (e) => void events.push(e),
    });
    w.net.stallNext(/^PUT \/v1\/account\/settings$/);
    await expect(client.setUnrestricted(true)).rejects.toMatchObject({
      code: 'TIMEOUT',
      timeoutMs: 25,
    });
    expect(events.map((e) => [e.operation, e.attempt, e.error])).toEqual([
      ['updateSettings', 1, 'TIMEOUT'],
    ]);
    expect(events[0]?.origin).toBe(w.sealpost.baseUrl);
    // The registering client reported its own requests, the first one being the trust check.
    expect(w.events[0]).toMatchObject({ operation: 'serverCertificate', attempt: 1, status: 200 });
  });
});
