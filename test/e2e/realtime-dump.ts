/**
 * Helpers of the storage dump test's realtime run (storage-dump.test.ts): a WebSocket class
 * that records what a client received, a device's `receive()` loop as a test drives it, and
 * the checks of connection items, push subscription items and frames (docs/SERVICE.md
 * §7.3/§7.4, §8.1).
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { expect } from 'vitest';
import { WebSocket } from 'ws';
import type { SealpostClient } from '#sdk/client/index.ts';
import { identityKeysOf, type People } from './dump-checks.ts';
import {
  containsBytes,
  type DumpedRecord,
  encodings,
  finerThanHour,
  frameRecords,
  isoTimesFinerThanHour,
  type ServerDump,
  type TimeWindow,
  withoutAttributes,
} from './server-dump.ts';
import type { E2eStack } from './stack.ts';

/** A device's connection items: `live#<address>#<deviceId>` and `conn#<connectionId>`. */
export const isConnectionItem = (r: DumpedRecord) =>
  r.kind === 'item' && /^(live|conn)#/.test(r.where);
/** A device's push subscription item: `push#<address>#<deviceId>`. */
export const isPushItem = (r: DumpedRecord) => r.kind === 'item' && r.where.startsWith('push#');
/** A number in a key: zero-padded to 10 digits (docs/SERVICE.md §8.1). */
export const padded = (n: number) => String(n).padStart(10, '0');
/** Seconds a connection's items live after its connect (dynamo-connections.ts). */
export const CONNECTION_TTL_SECONDS = 3 * 3600;

/** What a client's WebSockets saw: the frames the server sent, and the connect URLs. */
export interface SocketLog {
  readonly frames: string[];
  readonly connectUrls: string[];
}

/**
 * The `ws` WebSocket class, recording into `seen`.
 *
 * @example const bob = await stack.register({ webSocket: recordingWebSocket(seen) });
 */
export function recordingWebSocket(seen: SocketLog): new (url: string) => WebSocket {
  return class RecordingWebSocket extends WebSocket {
    constructor(url: string) {
      super(url);
      seen.connectUrls.push(url);
      this.addEventListener('message', (event) => {
        seen.frames.push(String(event.data));
      });
    }
  };
}

/** A device's `receive()` loop over its socket, open until stopped. */
export interface Online {
  /** The texts received so far, once there are at least `n`; rejects if the loop ended. */
  received(n: number): Promise<(string | undefined)[]>;
  /** Ends the loop; the client closes its socket. */
  stop(): Promise<void>;
}

/**
 * Starts `client.receive()` and resolves once its socket is open.
 *
 * @example const laptop = await goOnline(bob); await laptop.received(2); await laptop.stop();
 */
export async function goOnline(client: SealpostClient): Promise<Online> {
  const abort = new AbortController();
  const got: (string | undefined)[] = [];
  const waiters: { readonly n: number; readonly resolve: () => void }[] = [];
  let opened!: () => void;
  const open = new Promise<void>((resolve) => {
    opened = resolve;
  });
  const loop = (async () => {
    for await (const m of client.receive({
      signal: abort.signal,
      onConnectionState: (s) => s === 'open' && opened(),
    })) {
      got.push(m.text);
      for (const w of waiters) if (got.length >= w.n) w.resolve();
    }
  })();
  const ended = loop.then(() => {
    throw new Error('the receive loop ended');
  });
  ended.catch(() => undefined);
  await Promise.race([open, ended]);
  return {
    async received(n) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const reached = new Promise<void>((resolve, reject) => {
        if (got.length >= n) resolve();
        else waiters.push({ n, resolve });
        timer = setTimeout(
          () => reject(new Error(`${n} messages expected within 10 s, got ${got.length}`)),
          10_000,
        );
      });
      try {
        await Promise.race([reached, ended]);
      } finally {
        clearTimeout(timer);
      }
      return [...got];
    },
    async stop() {
      abort.abort();
      await loop;
    },
  };
}

/** The connection items left once the server has handled the close (waits up to 5 s). */
export async function connectionItemsAfterClose(stack: E2eStack): Promise<string[]> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const { Items: items = [] } = await stack.aws.dynamodb.send(
      new ScanCommand({
        TableName: stack.table,
        ConsistentRead: true,
        FilterExpression: 'begins_with(pk, :live) OR begins_with(pk, :conn)',
        ExpressionAttributeValues: { ':live': { S: 'live#' }, ':conn': { S: 'conn#' } },
      }),
    );
    const left = items.map((i) => `${i['pk']?.S} ${i['sk']?.S}`);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Epoch ms bounds of something that happened while `work` ran, on `stack`'s clock.
 *
 * @example const sent = await during(stack, () => alice.send(bob.address, 'hi'));
 */
export async function during<T>(
  stack: E2eStack,
  work: () => Promise<T>,
): Promise<{ result: T; from: number; to: number }> {
  const from = stack.now();
  const result = await work();
  return { result, from, to: stack.now() };
}

/** Whether `n` lies within the bounds `t` (from {@link during}). */
export const between = (n: number, t: { from: number; to: number }) => n >= t.from && n <= t.to;

/**
 * The phone's one push subscription item: its endpoint, and `createdAt` the time it
 * subscribed. `lastWakeAt` (docs/SERVICE.md §8.1) is the arrival of the message that last woke
 * it; whether that may be kept is the test after the run.
 */
export function checkPushItem(
  dump: ServerDump,
  phone: SealpostClient,
  endpoint: string,
  subscribed: { from: number; to: number },
  woken: { from: number; to: number },
): void {
  const push = dump.items.filter(isPushItem);
  expect(push.map((r) => r.where)).toEqual([
    `push#${phone.address}#${padded(phone.deviceId)} push`,
  ]);
  const item = push[0]!.item!;
  expect(item['target']?.S).toBe(endpoint);
  expect(between(Number(item['createdAt']?.N), subscribed)).toBe(true);
  const lastWakeAt = item['lastWakeAt']?.N;
  if (lastWakeAt !== undefined) expect(between(Number(lastWakeAt), woken)).toBe(true);
}

/**
 * Items with the times judged on their own taken out: a connection's `connectedAt` and `ttl`
 * (the connect's own time and three hours after it, checked by the test while the socket is
 * open; the items go with the socket), a subscription's `createdAt` (when the device
 * subscribed: a device record's time, like `acct#` items' `createdAt`) and `lastWakeAt` (its
 * own test). Every other value of them is checked like any record.
 */
export function judged(items: DumpedRecord[]): DumpedRecord[] {
  return items.map((r) =>
    isConnectionItem(r)
      ? withoutAttributes(r, ['connectedAt', 'ttl'])
      : isPushItem(r)
        ? withoutAttributes(r, ['createdAt', 'lastWakeAt'])
        : r,
  );
}

/** The nonces of the owner-signed connect URLs: chosen by the client, never to be stored. */
export function connectNonces(seen: SocketLog): Uint8Array[] {
  expect(seen.connectUrls.length).toBeGreaterThan(0);
  return seen.connectUrls.map((u) =>
    Buffer.from(new URL(u).searchParams.get('nonce') ?? '', 'base64url'),
  );
}

/**
 * Connection and push items name no account but their own device's (the other account is a
 * sealed sender) and hold no identity key and no client id; no log line names the push
 * subscription.
 */
export function checkRealtimeRecords(
  items: DumpedRecord[],
  logs: DumpedRecord[],
  people: People,
  clientIds: Uint8Array[],
  subscription: { endpoint: string; clientHash: string; keys: { p256dh: string; auth: string } },
): void {
  const [alice, bob] = [people.alice[0]!, people.bob[0]!];
  const forbidden = [...identityKeysOf(people), ...clientIds].flatMap(encodings);
  for (const r of items.filter((x) => isConnectionItem(x) || isPushItem(x))) {
    expect(r.text.includes(alice.address), `${r.where} names the other account`).toBe(false);
    expect(r.where.includes(bob.address) || r.where.startsWith('conn#'), r.where).toBe(true);
    for (const s of forbidden) expect(r.text.includes(s), `${r.where} holds ${s}`).toBe(false);
  }
  const { endpoint, clientHash, keys } = subscription;
  for (const r of logs) {
    for (const s of [endpoint, clientHash, keys.p256dh, keys.auth]) {
      expect(r.text.includes(s), `${r.where} names the subscription`).toBe(false);
    }
  }
}

/**
 * The frames Bob's laptop received. Sealed messages, drained or pushed, name no sender: no
 * `source`, no address, no identity key in the frame or in the envelope. Only the copy of his
 * phone's own message carries a source, his own account's (an own-device copy is an identified
 * send, docs/SERVICE.md §7.2). No frame holds a client id or a time finer than an hour.
 */
export function checkFrames(
  seen: SocketLog,
  people: People,
  clientIds: Uint8Array[],
  window: TimeWindow,
): void {
  const [alice, bob] = [people.alice[0]!, people.bob[0]!];
  const identityKeys = identityKeysOf(people);
  const forbidden = [...identityKeys, ...clientIds].flatMap(encodings);
  const parsed = seen.frames.map(
    (t) =>
      JSON.parse(t) as {
        type: string;
        pushed?: boolean;
        message?: { envelope: string; source?: { address: string } };
      },
  );
  const messages = parsed.filter((f) => f.type === 'message');
  const sealed = messages.filter((f) => f.message?.source === undefined);
  const copies = messages.filter((f) => f.message?.source !== undefined);
  // Sealed: the greeting drained, two pushed, and the large one pushed as a pointer; the copy
  // drained on reconnect; one `queue-empty` per connection.
  expect(sealed.filter((f) => !f.pushed)).toHaveLength(1);
  expect(sealed.filter((f) => f.pushed)).toHaveLength(2);
  expect(parsed.filter((f) => f.type === 'message-pointer' && f.pushed)).toHaveLength(1);
  expect(copies.map((f) => [f.pushed, f.message?.source?.address])).toEqual([
    [undefined, bob.address],
  ]);
  expect(parsed.filter((f) => f.type === 'queue-empty')).toHaveLength(2);
  for (const f of messages) {
    const envelope = Buffer.from(String(f.message?.envelope), 'base64url');
    for (const key of [...identityKeys, ...clientIds]) {
      expect(containsBytes(envelope, key), 'an envelope holds a key or id').toBe(false);
    }
  }
  for (const [i, r] of frameRecords(seen.frames).entries()) {
    expect(r.text.includes(alice.address), `${r.where} names Alice`).toBe(false);
    const copy = parsed[i]?.message?.source !== undefined;
    if (!copy) expect(r.text.includes(bob.address), `${r.where} names Bob`).toBe(false);
    for (const s of forbidden) expect(r.text.includes(s), `${r.where} holds ${s}`).toBe(false);
    expect(finerThanHour(r, window), r.where).toEqual([]);
    expect(isoTimesFinerThanHour(r), r.where).toEqual([]);
  }
}
