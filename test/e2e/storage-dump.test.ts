/**
 * What the server keeps of a sealed conversation (README §Security model, docs/SDK.md §Outbox):
 * Alice and Bob, two devices each, talk sealed through the real HTTP app on DynamoDB Local and
 * s3rver, with offline periods and a restart. A dump of every item, object and log line, taken
 * while messages wait and again after everything was acknowledged, must show no sealed
 * sender (address, identity keys, sending device), none of the ids the clients chose, no time
 * finer than an hour, nothing linking a sealed message to its sender's sync copy, and, after
 * acknowledgement, nothing of any message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FetchLike, SealpostClient } from '#sdk/client/index.ts';
import {
  containsBytes,
  type DumpedRecord,
  dumpServer,
  encodings,
  finerThanHour,
  identifierTokens,
  isoTimesFinerThanHour,
  type TimeWindow,
} from './server-dump.ts';
import { type E2eStack, introduce, startE2eStack } from './stack.ts';

const HOUR = 3_600_000;
/**
 * Items that record accounts, devices and rate-limit windows, not messages. Single-use nonce
 * records (`once#`) are checked like message records: the own-device sync copy is a signed
 * request, so its nonce record must name nobody and hold no time finer than an hour.
 */
const NOT_ABOUT_MESSAGES = /^(acct#|rate#)/;
let stack: E2eStack;

beforeAll(async () => {
  stack = await startE2eStack({ bucket: `sealpost-dump-${process.pid}` });
});
afterAll(async () => {
  await stack?.stop();
});

/** Records the request id of every send, in every encoding. */
function recordingFetch(requestIds: Uint8Array[]): FetchLike {
  return async (url, init) => {
    if (init.method === 'PUT' && new URL(url).pathname.startsWith('/v1/messages/')) {
      const body = JSON.parse(new TextDecoder().decode(init.body as Uint8Array)) as {
        messageId: string;
      };
      requestIds.push(Buffer.from(body.messageId, 'base64url'));
    }
    return fetch(url, init);
  };
}

const isMessageRecord = (r: DumpedRecord) => r.kind === 'item' && / m#/.test(r.where);
const inMailboxOf = (address: string) => (r: DumpedRecord) =>
  r.kind === 'item' ? r.where.startsWith(`mbx#${address}#`) : r.where.includes(`/${address}/`);
const texts = async (c: SealpostClient) => (await c.receiveBatch()).messages.map((m) => m.text);

describe('the storage dump of a sealed multi-device conversation', () => {
  it('holds no sender, no client id, no fine time, no link to sync copies, and nothing once acknowledged', async () => {
    const requestIds: Uint8Array[] = [];
    const fetch = recordingFetch(requestIds);
    const alice = await stack.register({ fetch });
    const alicePhone = await stack.link(alice, { fetch });
    const bob = await stack.register({ fetch });
    const bobPhoneOptions = stack.options({ fetch });
    const account = bob.exportAccountKey()!;
    const bobPhone = await SealpostClient.link({ ...bobPhoneOptions, account });
    await introduce(alice, bob);
    await alicePhone.addContact(bob.contactCard());
    await bobPhone.addContact(alice.contactCard());
    const people = { alice: [alice, alicePhone], bob: [bob, bobPhone] };
    const registrationIds = new Set<number>();
    for (const c of [alice, bob]) {
      for (const d of await c.knownDevices(c.address)) registrationIds.add(d.registrationId);
    }
    const window: TimeWindow = {
      from: stack.now() - 40 * 24 * HOUR,
      to: stack.now() + 40 * 24 * HOUR,
      notTimes: registrationIds,
    };

    // Online: a greeting both ways, every copy delivered.
    await alice.send(bob.address, 'hello Bob');
    await bob.flushOutbox();
    await alice.flushOutbox();
    expect(await texts(bob)).toEqual(['hello Bob']);
    expect(await texts(bobPhone)).toEqual(['hello Bob']);
    expect(await texts(alicePhone)).toEqual(['hello Bob']);
    await bobPhone.send(alice.address, 'hello Alice');
    await bobPhone.flushOutbox();
    for (const c of [alice, alicePhone]) expect(await texts(c)).toEqual(['hello Alice']);
    expect(await texts(bob)).toEqual(['hello Alice']);

    // Bob goes offline for hours; Alice writes from both devices.
    stack.advance(2 * HOUR + 17 * 60_000 + 4_321);
    await alice.send(bob.address, 'are you there?');
    stack.advance(23 * 60_000 + 1_234);
    await alicePhone.send(bob.address, 'from my phone');
    const bigger = new Uint8Array(9_000).map((_, i) => i & 0xff);
    await alice.send(bob.address, bigger);
    stack.advance(41_000);
    await alice.flushOutbox();
    await alicePhone.flushOutbox();

    // While those wait: Bob's records of Alice's sealed messages against Alice's sync copies.
    const pending = await dumpServer(stack);
    const pendingRecords = [...pending.items, ...pending.objects];
    const sealed = pendingRecords.filter(
      (r) => (isMessageRecord(r) || r.kind === 'object') && inMailboxOf(bob.address)(r),
    );
    const syncCopies = pendingRecords.filter(
      (r) => (isMessageRecord(r) || r.kind === 'object') && inMailboxOf(alice.address)(r),
    );
    // 3 messages × 2 devices of Bob, item and object each; 3 copies, one per other own device.
    expect(sealed.filter(isMessageRecord)).toHaveLength(6);
    expect(sealed.filter((r) => r.kind === 'object')).toHaveLength(6);
    expect(syncCopies.filter(isMessageRecord)).toHaveLength(3);
    const syncTokens = new Set(syncCopies.flatMap((r) => [...identifierTokens(r, window)]));
    for (const r of sealed) {
      expect(
        [...identifierTokens(r, window)].filter((t) => syncTokens.has(t)),
        r.where,
      ).toEqual([]);
      expect(r.names?.filter((n) => /source|sender|from/i.test(n)) ?? [], r.where).toEqual([]);
    }
    checkNothingLinkable(pending.items, pending.objects, pending.logs, people, requestIds, window);

    // Bob's phone restarts (reopened from its store), then both of Bob's devices catch up.
    bobPhone.close();
    const bobPhoneAgain = await SealpostClient.open(bobPhoneOptions);
    stack.advance(HOUR + 1_111);
    const expected = ['are you there?', 'from my phone', undefined];
    expect(await texts(bobPhoneAgain)).toEqual(expected);
    expect(await texts(bob)).toEqual(expected);

    // Bob answers from both devices while Alice's laptop is offline; then everyone catches up.
    await bobPhoneAgain.send(alice.address, 'here now');
    stack.advance(7 * 60_000 + 999);
    await bob.send(alice.address, 'and on the laptop');
    await bobPhoneAgain.flushOutbox();
    await bob.flushOutbox();
    expect(await texts(alicePhone)).toEqual([
      'are you there?',
      undefined,
      'here now',
      'and on the laptop',
    ]);
    stack.advance(3 * HOUR + 5_555);
    expect(await texts(alice)).toEqual(['from my phone', 'here now', 'and on the laptop']);
    expect(await texts(bob)).toEqual(['here now']);
    expect(await texts(bobPhoneAgain)).toEqual(['and on the laptop']);
    for (const c of [alice, alicePhone, bob, bobPhoneAgain]) {
      expect(await c.pendingSyncCopies()).toBe(0);
      expect((await c.http.fetchMessages()).messages).toEqual([]);
    }

    const after = await dumpServer(stack);
    checkNothingLinkable(after.items, after.objects, after.logs, people, requestIds, window);
    // Acknowledged: no record and no object of any message is left.
    expect(after.items.filter(isMessageRecord).map((r) => r.where)).toEqual([]);
    expect(after.objects.map((r) => r.where)).toEqual([]);
  });
});

/**
 * No record holds a client-chosen id or a time finer than an hour; no message record or log
 * line holds an identity key; no message record names its sealed sender (a mailbox's own
 * account is its recipient: only the other account is a sealed sender there); log lines name
 * no account at all.
 */
function checkNothingLinkable(
  items: DumpedRecord[],
  objects: DumpedRecord[],
  logs: DumpedRecord[],
  people: Record<'alice' | 'bob', SealpostClient[]>,
  requestIds: Uint8Array[],
  window: TimeWindow,
): void {
  const [alice, bob] = [people.alice[0]!, people.bob[0]!];
  const identityKeys = [...people.alice, ...people.bob].flatMap((c) => {
    const id = c.engine.identity;
    return [id.accountPublic, id.signingPublic, id.dhPublic];
  });
  const ids = requestIds.flatMap(encodings);
  const keys = identityKeys.flatMap(encodings);
  const messageRecords = [...items.filter(isMessageRecord), ...objects];
  for (const r of [...items, ...objects, ...logs]) {
    for (const s of ids) expect(r.text.includes(s), `${r.where} holds id ${s}`).toBe(false);
  }
  // Times: every record except account and device items (their registration time is no
  // message's) and rate-limit windows (bundle fetches, device lists, first contacts), which
  // sealed sends and sync copies never create.
  for (const r of [...items, ...objects, ...logs].filter(
    (x) => !NOT_ABOUT_MESSAGES.test(x.where),
  )) {
    expect(finerThanHour(r, window), r.where).toEqual([]);
    expect(isoTimesFinerThanHour(r), r.where).toEqual([]);
  }
  // Account and device items publish the identity keys (bundles are served from them); what
  // must not hold one is anything written for a message, and the logs.
  for (const r of [...messageRecords, ...logs]) {
    for (const s of keys) expect(r.text.includes(s), `${r.where} holds key ${s}`).toBe(false);
  }
  for (const r of objects) {
    for (const key of [...identityKeys, ...requestIds]) {
      expect(containsBytes(r.body!, key), `${r.where} body`).toBe(false);
    }
  }
  for (const [recipient, sender] of [
    [alice, bob],
    [bob, alice],
  ] as const) {
    for (const r of messageRecords.filter(inMailboxOf(recipient.address))) {
      expect(r.text.includes(sender.address), `${r.where} names the sender`).toBe(false);
    }
  }
  for (const r of logs) {
    for (const a of [alice.address, bob.address]) expect(r.text.includes(a), r.where).toBe(false);
  }
  // Nonce records of signed requests name no account (their key is a hash, docs/SERVICE.md §3.1).
  const nonces = items.filter((r) => r.where.startsWith('once#'));
  expect(nonces.length).toBeGreaterThan(0);
  for (const r of nonces) {
    for (const a of [alice.address, bob.address]) expect(r.text.includes(a), r.where).toBe(false);
  }
}
