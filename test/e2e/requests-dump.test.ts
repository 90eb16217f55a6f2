/**
 * What the server keeps of a first contact paid with an anonymous token (README §Security
 * model, docs/SERVICE.md §15, docs/SDK.md "Message requests"): Alice (two devices) takes tokens,
 * hours later writes to Bob (two devices), a stranger, as a sealed message request; Bob accepts
 * and they talk sealed both ways; Carol takes tokens too and writes to Bob, so a spent token
 * has another issuer beside it. The real HTTP app runs on DynamoDB Local and s3rver. A dump of
 * every item, object and log line must show:
 *
 * - no record that names both Alice and Bob, and none that names Alice besides her own
 *   account's items and her issuance counter;
 * - the issuance counter holds the account, the UTC day and a count, nothing else;
 * - spent-token records name nobody and hold no client-chosen value (token, nonce, key id as
 *   sent, request id) and no time finer than an hour;
 * - no record holds a blinded request, a blind signature, a token or its nonce;
 * - and what storage-dump.test.ts asserts of any sealed conversation (no sealed sender, no
 *   client-chosen id, no fine time, logs naming nobody).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FetchLike } from '#sdk/client/index.ts';
import { TOKEN_HEADER } from '#sdk/wire/api/signing.ts';
import { decodeMultiRecipientRequest } from '#sdk/wire/multi-recipient.ts';
import { checkNothingLinkable, identityKeysOf, texts } from './dump-checks.ts';
import {
  type DumpedRecord,
  dumpServer,
  encodings,
  finerThanHour,
  type TimeWindow,
} from './server-dump.ts';
import { type E2eStack, startE2eStack } from './stack.ts';

const HOUR = 3_600_000;

/** What a client sent and got that the server must not keep: token material and request ids. */
interface Secrets {
  readonly requestIds: Uint8Array[];
  /** Blinded token requests and the blind signatures answering them. */
  readonly blinded: Uint8Array[];
  /** Tokens as sent in `x-sealpost-token`, and their nonces (bytes 2..34). */
  readonly tokens: Uint8Array[];
  /** Every request: method, path, and whether it carried the owner signature. */
  readonly requests: { who: string; method: string; path: string; signed: boolean }[];
}

function recording(secrets: Secrets, who: string): FetchLike {
  return async (url, init) => {
    const path = new URL(url).pathname;
    const headers = new Headers(init.headers as HeadersInit);
    secrets.requests.push({
      who,
      method: init.method ?? 'GET',
      path,
      signed: [...headers.keys()].some((k) => k.startsWith('x-sealpost-signature')),
    });
    // A multi-recipient send is binary, its request id and tokens inside (docs/PROTOCOL.md §14.4).
    const multi =
      init.method === 'PUT' && path.startsWith('/v1/messages/multi')
        ? decodeMultiRecipientRequest(init.body as Uint8Array)
        : undefined;
    const body =
      multi === undefined && init.body instanceof Uint8Array
        ? JSON.parse(new TextDecoder().decode(init.body))
        : undefined;
    if (multi) {
      secrets.requestIds.push(Buffer.from(multi.requestId));
      for (const { auth } of multi.accounts) {
        if (auth.kind !== 'token') continue;
        const bytes = Buffer.from(auth.token);
        secrets.tokens.push(bytes, bytes.subarray(2, 34));
      }
    } else if (init.method === 'PUT' && path.startsWith('/v1/messages/')) {
      secrets.requestIds.push(Buffer.from(body.messageId, 'base64url'));
    }
    if (init.method === 'POST' && path === '/v1/tokens') {
      for (const r of body.requests) secrets.blinded.push(Buffer.from(r, 'base64url'));
    }
    const token = headers.get(TOKEN_HEADER);
    if (token) {
      const bytes = Buffer.from(token, 'base64url');
      secrets.tokens.push(bytes, bytes.subarray(2, 34));
    }
    const res = await fetch(url, init);
    if (init.method === 'POST' && path === '/v1/tokens' && res.ok) {
      const json = (await res.clone().json()) as { responses: string[] };
      for (const r of json.responses) secrets.blinded.push(Buffer.from(r, 'base64url'));
    }
    return res;
  };
}

const names = (r: DumpedRecord, address: string) => r.text.includes(address);

/**
 * Where a record may name `address`: the account's own items, keyed by it (account, devices,
 * prekeys, mailboxes, the issuance counter `tq#`), its mailboxes' objects, the windows counting
 * anonymous reads of its bundles and device list (naming no reader), and its own devices'
 * reads of its own account.
 */
const ownRecords = (address: string) =>
  new RegExp(
    `^([a-z]+#${address}[# ]|.*/${address}/|rate#sealed[a-z]*:${address}#\\d+ |rate#[a-z]+:${address}:${address}#\\d+ )`,
  );

describe('the storage dump of a first contact paid with a token', () => {
  let stack: E2eStack;
  beforeAll(async () => {
    stack = await startE2eStack({ bucket: `sealpost-requests-dump-${process.pid}` });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('links neither the issuing account to the send nor Alice to Bob', async () => {
    const secrets: Secrets = { requestIds: [], blinded: [], tokens: [], requests: [] };
    const tokens = { autoRefill: false };
    const device = (who: string) => ({ fetch: recording(secrets, who), tokens });
    const alice = await stack.register(device('alice'));
    const alicePhone = await stack.link(alice, device('alice'));
    const bob = await stack.register(device('bob'));
    const bobPhone = await stack.link(bob, device('bob'));
    const carol = await stack.register(device('carol'));
    const people = { alice: [alice, alicePhone], bob: [bob, bobPhone] };
    // Registration ids are random u32s in mailbox keys (`mbx#address#device#registration`):
    // one can fall in the window read as seconds. Filled from the dump before the checks.
    const registrationIds = new Set<number>();
    const window: TimeWindow = {
      from: stack.now() - 40 * 24 * HOUR,
      to: stack.now() + 40 * 24 * HOUR,
      notTimes: registrationIds,
    };

    // Tokens are taken ahead of need, hours before they are spent.
    expect(await alice.refillTokens()).toBeGreaterThan(0);
    stack.advance(37 * 60_000 + 4_242);
    expect(await carol.refillTokens()).toBeGreaterThan(0);
    stack.advance(3 * HOUR + 11 * 60_000 + 1_717);

    // The first message: sealed, paid with a token, a request on both of Bob's devices.
    const requestsBefore = secrets.requests.length;
    await alice.send(bob.address, 'hello Bob, we met at the conference');
    const first = secrets.requests.slice(requestsBefore);
    // Nothing Alice's device sent for it was signed: the server saw no account.
    expect(first.filter((r) => r.signed)).toEqual([]);
    await alice.flushOutbox();
    stack.advance(9 * 60_000 + 333);
    await carol.send(bob.address, 'hi, I am Carol');
    for (const device of [bob, bobPhone]) {
      const { messages } = await device.receiveBatch();
      expect(messages.map((m) => [m.text, m.request])).toEqual([
        ['hello Bob, we met at the conference', true],
        ['hi, I am Carol', true],
      ]);
    }
    // Nothing Bob's devices did on receiving the requests named Alice in a signed request.
    for (const r of secrets.requests.filter((x) => x.signed && x.who === 'bob')) {
      expect(r.path.includes(alice.address), `${r.method} ${r.path}`).toBe(false);
    }
    // Alice's phone has the copy of her own message (never a request).
    expect(await texts(alicePhone)).toEqual(['hello Bob, we met at the conference']);

    // Bob accepts; they talk sealed both ways.
    await bob.acceptRequest(alice.address);
    stack.advance(2 * HOUR + 5_551);
    await bobPhone.send(alice.address, 'nice to hear from you');
    await bobPhone.flushOutbox();
    // Bob's reply carries his access key: Alice answers sealed without another token.
    expect(await texts(alice)).toEqual(['nice to hear from you']);
    const tokensLeft = await alice.tokenCount();
    await alice.send(bob.address, 'shall we meet?');
    await alice.flushOutbox();
    expect(await alice.tokenCount()).toBe(tokensLeft);
    expect(await texts(alicePhone)).toEqual(['nice to hear from you', 'shall we meet?']);
    expect(await texts(bob)).toEqual(['nice to hear from you', 'shall we meet?']);
    expect(await texts(bobPhone)).toEqual(['shall we meet?']);

    const dump = await dumpServer(stack);
    const all = [...dump.items, ...dump.objects, ...dump.logs, ...dump.files];
    expect(secrets.tokens.length).toBeGreaterThanOrEqual(4);
    expect(secrets.blinded.length).toBeGreaterThanOrEqual(10);

    // No record names both accounts.
    for (const r of all) {
      expect(names(r, alice.address) && names(r, bob.address), r.where).toBe(false);
    }
    // What names Alice: her account's own items (account, devices, prekeys, mailboxes: keyed by
    // her address), her issuance counter, and the windows that
    // count anonymous reads of her bundles and device list (naming no reader) or her own
    // devices' reads of her own account, nothing else.
    const aliceRecords = all.filter((r) => names(r, alice.address));
    const counters = aliceRecords.filter((r) => r.where.startsWith(`tq#${alice.address} `));
    expect(counters).toHaveLength(1);
    for (const r of aliceRecords) expect(r.where).toMatch(ownRecords(alice.address));
    // The counter: account, day, count and expiry only.
    const counter = counters[0]!;
    expect(counter.names?.sort()).toEqual(['n', 'pk', 'sk', 'ttl', 'v']);
    // Spent tokens: two (Alice's and Carol's requests), naming nobody, holding a bind hash.
    const spent = dump.items.filter((r) => r.where.startsWith('spent#'));
    expect(spent).toHaveLength(2);
    for (const r of spent) {
      for (const c of [alice, alicePhone, bob, bobPhone, carol]) {
        expect(names(r, c.address), r.where).toBe(false);
      }
      expect(finerThanHour(r, window), r.where).toEqual([]);
    }
    // No token material anywhere: blinded requests, blind signatures, tokens, nonces.
    for (const bytes of [...secrets.blinded, ...secrets.tokens]) {
      for (const s of encodings(bytes)) {
        for (const r of all)
          expect(r.text.includes(s), `${r.where} holds token material`).toBe(false);
      }
    }
    // Carol's account is named only by her own items and her counter.
    for (const r of all.filter((x) => names(x, carol.address))) {
      expect(r.where).toMatch(ownRecords(carol.address));
    }
    // And everything a sealed conversation's dump must hold of no one.
    for (const r of dump.items) {
      const id = /^mbx#[^#]+#\d+#(\d+)/.exec(r.where)?.[1];
      if (id) registrationIds.add(Number(id));
    }
    // Alice's and Bob's devices have mailboxes (a counter at least).
    expect(registrationIds.size).toBeGreaterThanOrEqual(4);
    checkNothingLinkable(dump.items, dump.objects, dump.logs, people, secrets.requestIds, window);
    expect(identityKeysOf(people).length).toBe(12);
  });
});
