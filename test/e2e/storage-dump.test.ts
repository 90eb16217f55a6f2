/**
 * What the server keeps of a sealed conversation (README §Security model, docs/SDK.md §Outbox,
 * docs/SERVICE.md §7.3/§7.4): Alice and Bob, two devices each, talk sealed through the real
 * HTTP app on DynamoDB Local and s3rver, with offline periods and a restart; in a second run
 * Bob's laptop receives over the WebSocket endpoint (connections in the table) and his phone is
 * woken through Web Push (a push service stand-in). A dump of every item, object and log line
 * (and the frames Bob's laptop received), taken while messages wait or a socket is open and
 * again after everything was acknowledged, must show no sealed sender (address, identity keys,
 * sending device), none of the ids the clients chose, no time finer than an hour, nothing
 * linking a sealed message to its sender's sync copy, and, after acknowledgement, nothing of
 * any message; connection items last only as long as their socket, and every wake-up is empty.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SealpostClient } from '#sdk/client/index.ts';
import { type PushStandIn, startPushStandIn } from '../helpers/push-stand-in.ts';
import {
  checkNoLinkToSyncCopies,
  checkNothingLinkable,
  isMessageRecord,
  type People,
  recordingFetch,
  texts,
} from './dump-checks.ts';
import {
  between,
  CONNECTION_TTL_SECONDS,
  checkFrames,
  checkPushItem,
  checkRealtimeRecords,
  connectionItemsAfterClose,
  connectNonces,
  during,
  goOnline,
  isConnectionItem,
  isPushItem,
  judged,
  padded,
  recordingWebSocket,
  type SocketLog,
} from './realtime-dump.ts';
import {
  dumpServer,
  finerThanHour,
  frameRecords,
  type ServerDump,
  type TimeWindow,
  withoutAttributes,
} from './server-dump.ts';
import { type E2eStack, introduce, startE2eStack } from './stack.ts';

const HOUR = 3_600_000;

describe('the storage dump of a sealed multi-device conversation', () => {
  let stack: E2eStack;
  beforeAll(async () => {
    stack = await startE2eStack({ bucket: `sealpost-dump-${process.pid}` });
  });
  afterAll(async () => {
    await stack?.stop();
  });

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
    const { sealed, syncCopies } = checkNoLinkToSyncCopies(pending, bob, alice, window);
    // 3 messages × 2 devices of Bob: an item each (its header inline), and per message one shared
    // payload object outside any mailbox (docs/PROTOCOL.md §14.8); 3 copies, one per other own
    // device.
    expect(sealed.filter(isMessageRecord)).toHaveLength(6);
    expect(sealed.filter((r) => r.kind === 'object')).toHaveLength(0);
    expect(pending.objects.filter((r) => r.where.startsWith('pay/'))).toHaveLength(3);
    // Each payload's reference set, naming no account: positions of Bob's two records.
    expect(pending.items.filter((r) => r.where.startsWith('pay#'))).toHaveLength(3);
    expect(syncCopies.filter(isMessageRecord)).toHaveLength(3);
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
    // Nor the payloads' reference sets: the last acknowledgement deleted them with the objects.
    expect(after.items.filter((r) => r.where.startsWith('pay#')).map((r) => r.where)).toEqual([]);
  });
});

describe('the storage dump with realtime delivery and wake-ups', () => {
  let stack: E2eStack;
  let standIn: PushStandIn;
  /** The dumps of the run below, for the check of push items' wake times. */
  let observed: { dumps: ServerDump[]; window: TimeWindow } | undefined;

  beforeAll(async () => {
    // The stand-in reports a push it refuses with console.error; none is expected here.
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    stack = await startE2eStack({ bucket: `sealpost-dump-rt-${process.pid}`, realtime: true });
    standIn = await startPushStandIn();
  });
  afterAll(async () => {
    await standIn?.close();
    await stack?.stop();
    vi.restoreAllMocks();
  });

  it('pushes and wakes without naming a sender, a client id or a fine time, and forgets connections and messages', async () => {
    const requestIds: Uint8Array[] = [];
    const fetch = recordingFetch(requestIds);
    const seen: SocketLog = { frames: [], connectUrls: [] };
    const alice = await stack.register({ fetch });
    const alicePhone = await stack.link(alice, { fetch });
    const bob = await stack.register({ fetch, webSocket: recordingWebSocket(seen) });
    const bobPhone = await stack.link(bob, { fetch });
    await introduce(alice, bob);
    await alicePhone.addContact(bob.contactCard());
    await bobPhone.addContact(alice.contactCard());
    const people: People = { alice: [alice, alicePhone], bob: [bob, bobPhone] };
    const registrationIds = new Set<number>();
    for (const c of [alice, bob]) {
      for (const d of await c.knownDevices(c.address)) registrationIds.add(d.registrationId);
    }
    const window: TimeWindow = {
      from: stack.now() - 40 * 24 * HOUR,
      to: stack.now() + 40 * 24 * HOUR,
      notTimes: registrationIds,
    };

    // Bob's phone subscribes for wake-ups with a subscription the stand-in (its browser) made.
    const { applicationServerKey } = await bobPhone.http.pushKey();
    const subscription = await standIn.subscribe(applicationServerKey);
    const subscribed = await during(stack, () =>
      bobPhone.subscribePush({
        subscription: { endpoint: subscription.endpoint, keys: subscription.keys },
      }),
    );

    // Both of Bob's devices offline: the greeting waits, and wakes the phone.
    await alice.send(bob.address, 'hello Bob');
    expect(standIn.pushRequests()).toBe(1);

    // Hours later Bob's laptop opens its socket: the drain brings the greeting; then Alice's
    // messages are pushed to it, while the phone, still offline, is woken once per window.
    stack.advance(2 * HOUR + 17 * 60_000 + 4_321);
    const connected = await during(stack, () => goOnline(bob));
    const laptop = connected.result;
    expect(await laptop.received(1)).toEqual(['hello Bob']);
    const woken = await during(stack, () => alice.send(bob.address, 'are you there?'));
    expect(standIn.pushRequests()).toBe(2);
    stack.advance(17_345);
    await alicePhone.send(bob.address, 'from my phone');
    stack.advance(41_000);
    // Too large for a socket message: pushed as a pointer, read over HTTP.
    await alice.send(
      bob.address,
      new Uint8Array(98_000).map((_, i) => (i * 7) & 0xff),
    );
    expect(standIn.pushRequests()).toBe(2);
    await alice.flushOutbox();
    await alicePhone.flushOutbox();
    expect(await laptop.received(4)).toEqual([
      'hello Bob',
      'are you there?',
      'from my phone',
      undefined,
    ]);

    // While the socket is open and the phone's messages wait.
    const live = await dumpServer(stack);
    const connectionItems = live.items.filter(isConnectionItem);
    const current = connectionItems.find(
      (r) => r.where === `live#${bob.address}#${padded(bob.deviceId)} live`,
    );
    const connectionId = current?.item?.['connectionId']?.S;
    expect(connectionItems.map((r) => r.where).sort()).toEqual(
      [`conn#${connectionId} conn`, `live#${bob.address}#${padded(bob.deviceId)} live`].sort(),
    );
    // connectedAt is the connect's own time, and the items expire three hours after it: the
    // live view of a device's presence, kept only while the socket is open (checked below).
    for (const r of connectionItems) {
      const connectedAt = Number(r.item?.['connectedAt']?.N);
      expect(between(connectedAt, connected), r.where).toBe(true);
      expect(Number(r.item?.['ttl']?.N), r.where).toBe(
        Math.ceil(connectedAt / 1000) + CONNECTION_TTL_SECONDS,
      );
    }
    checkPushItem(live, bobPhone, subscription.endpoint, subscribed, woken);
    const judgedLive = judged(live.items);
    const frames = frameRecords(seen.frames);
    const { sealed, syncCopies } = checkNoLinkToSyncCopies(live, bob, alice, window, [
      ...judgedLive.filter((r) => isConnectionItem(r) || isPushItem(r)),
      ...frames,
    ]);
    // The phone's four messages, item and object each; four copies on Alice's other devices.
    const onPhone = `mbx#${bob.address}#${bobPhone.deviceId}#`;
    expect(sealed.filter((r) => isMessageRecord(r) && r.where.startsWith(onPhone))).toHaveLength(4);
    expect(syncCopies.filter(isMessageRecord)).toHaveLength(4);
    const clientIds = [...requestIds, ...connectNonces(seen)];
    checkNothingLinkable(judgedLive, live.objects, live.logs, people, clientIds, window);
    checkRealtimeRecords(judgedLive, live.logs, people, clientIds, subscription);

    // The laptop goes offline: its connection is forgotten.
    await laptop.stop();
    expect(await connectionItemsAfterClose(stack)).toEqual([]);

    // The phone, woken, catches up; then answers while the laptop is offline.
    expect(await texts(bobPhone)).toEqual([
      'hello Bob',
      'are you there?',
      'from my phone',
      undefined,
    ]);
    await bobPhone.send(alice.address, 'here now');
    await bobPhone.flushOutbox();
    stack.advance(3 * HOUR + 5_555);
    // Back online, the laptop's drain brings the phone's copy; then it goes offline again.
    const again = await goOnline(bob);
    expect(await again.received(1)).toEqual(['here now']);
    await again.stop();
    expect(await connectionItemsAfterClose(stack)).toEqual([]);
    expect(await texts(alicePhone)).toEqual(['hello Bob', 'are you there?', undefined, 'here now']);
    expect(await texts(alice)).toEqual(['from my phone', 'here now']);
    for (const c of [alice, alicePhone, bob, bobPhone]) {
      expect(await c.pendingSyncCopies()).toBe(0);
      expect((await c.http.fetchMessages()).messages).toEqual([]);
    }

    // Two wake-ups reached the stand-in (the third and fourth messages fell in the second's
    // window, and nobody else subscribed), and both carried nothing.
    expect(standIn.pushRequests()).toBe(2);
    expect(await standIn.notifications(subscription.clientHash)).toEqual(['', '']);
    expect(stack.logs.filter((l) => /wakeupFailed|realtimeNotifyFailed/.test(l))).toEqual([]);

    const after = await dumpServer(stack);
    expect(after.items.filter(isMessageRecord).map((r) => r.where)).toEqual([]);
    expect(after.objects.map((r) => r.where)).toEqual([]);
    expect(after.items.filter(isConnectionItem).map((r) => r.where)).toEqual([]);
    checkPushItem(after, bobPhone, subscription.endpoint, subscribed, woken);
    const judgedAfter = judged(after.items);
    checkNothingLinkable(judgedAfter, after.objects, after.logs, people, clientIds, window);
    checkRealtimeRecords(judgedAfter, after.logs, people, clientIds, subscription);
    checkFrames(seen, people, clientIds, window);
    observed = { dumps: [live, after], window };
  });

  it('keeps no time of a message arrival in a push subscription (lastWakeAt)', () => {
    if (!observed) throw new Error('the run above recorded no dumps');
    // lastWakeAt is written when a message is stored for the offline device: it dates that
    // message's arrival, so like every record about a message it may hold no time finer
    // than an hour, while the message waits or after it was acknowledged.
    for (const dump of observed.dumps) {
      for (const r of dump.items.filter(isPushItem)) {
        expect(
          finerThanHour(withoutAttributes(r, ['createdAt']), observed.window),
          r.where,
        ).toEqual([]);
      }
    }
  });
});
