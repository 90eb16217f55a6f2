/**
 * Realtime delivery over a real local socket (docs/SERVICE.md §7.3): the test kit's `listen()`
 * and `npm start`'s server serve the WebSocket endpoint; `ws` is the client (Node 20 has no
 * global WebSocket).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestSealpost } from '@sealpost/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startLocalServer } from '#functions/api/local.ts';
import { MAX_BUFFERED_FRAME_BYTES } from '#functions/api/realtime-local.ts';
import { fromBase64Url, toBase64Url } from '#sdk/wire/api/codec.ts';
import {
  CONNECT_QUERY,
  MAX_FRAME_BYTES,
  parseServerFrame,
  REALTIME_CLOSE,
  REALTIME_PATH,
  type ServerFrame,
} from '#sdk/wire/api/realtime.ts';
import { MULTI_RECIPIENT_CONTENT_TYPE } from '#sdk/wire/api/routes.ts';
import type { DeliveredMessage, FetchResponse } from '#sdk/wire/api/schemas.ts';
import { AUTH_HEADERS } from '#sdk/wire/api/signing.ts';
import { encodeMultiRecipientRequest } from '#sdk/wire/multi-recipient.ts';
import { MAX_SHARED_PAYLOAD_BYTES } from '#sdk/wire/multi-recipient-payload.ts';
import {
  accessHeaders,
  BOB_ACCESS_KEY,
  newAccount,
  newDevice,
  newMessageId,
  registrationBody,
  registrationId,
  sendBody,
  signHeaders,
  type TestDevice,
} from '../unit/functions/fixtures.ts';

/** A server under test: its base URL, clock and trust root. */
interface Target {
  readonly url: string;
  readonly now: () => number;
  readonly audience: Uint8Array;
}

/** An open client socket and the frames it received, in order. */
class Client {
  readonly frames: ServerFrame[] = [];
  readonly texts: string[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: (() => void)[] = [];

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const text = String(data);
      this.texts.push(text);
      const frame = parseServerFrame(text);
      if (!frame) throw new Error(`not a server frame: ${text.slice(0, 80)}`);
      this.frames.push(frame);
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) => {
      ws.once('close', (code, reason) => {
        resolve({ code, reason: String(reason) });
        for (const wake of this.waiters.splice(0)) wake();
      });
    });
  }

  /** Resolves with the frames once `count` have arrived; rejects if the socket closes first. */
  async until(count: number): Promise<ServerFrame[]> {
    while (this.frames.length < count) {
      if (this.ws.readyState === WebSocket.CLOSED) {
        throw new Error(`closed after ${this.frames.length} of ${count} frames`);
      }
      await new Promise<void>((wake) => this.waiters.push(wake));
    }
    return this.frames.slice(0, count);
  }

  send(frame: unknown): void {
    this.ws.send(JSON.stringify(frame));
  }
}

/** The result of a connect: an open client, or the HTTP refusal of the upgrade. */
type Connected =
  | { readonly ok: true; readonly client: Client }
  | { readonly ok: false; readonly status: number; readonly body: string };

function open(url: string): Promise<Connected> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const client = new Client(ws);
    ws.once('open', () => resolve({ ok: true, client }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on('end', () => resolve({ ok: false, status: res.statusCode ?? 0, body }));
    });
    ws.once('error', reject);
  });
}

/**
 * The signed connect URL of `device` at `at` (the target's clock by default), with the
 * unsigned `extra` parameters (`payloads`).
 */
function connectUrl(
  target: Target,
  device: TestDevice,
  at = target.now(),
  extra: Record<string, string> = {},
): string {
  const headers = signHeaders(
    device,
    'GET',
    REALTIME_PATH,
    new Uint8Array(),
    at,
    undefined,
    target.audience,
  );
  const url = new URL(REALTIME_PATH, target.url.replace(/^http/, 'ws'));
  for (const [header, param] of [
    [AUTH_HEADERS.address, CONNECT_QUERY.address],
    [AUTH_HEADERS.device, CONNECT_QUERY.device],
    [AUTH_HEADERS.timestamp, CONNECT_QUERY.timestamp],
    [AUTH_HEADERS.nonce, CONNECT_QUERY.nonce],
    [AUTH_HEADERS.signature, CONNECT_QUERY.signature],
  ] as const) {
    url.searchParams.set(param, headers[header] ?? '');
  }
  for (const [name, value] of Object.entries(extra)) url.searchParams.set(name, value);
  return url.href;
}

async function connect(
  target: Target,
  device: TestDevice,
  extra: Record<string, string> = {},
): Promise<Client> {
  const result = await open(connectUrl(target, device, undefined, extra));
  if (!result.ok) throw new Error(`connect refused: ${result.status} ${result.body}`);
  return result.client;
}

async function register(target: Target, accessKey = BOB_ACCESS_KEY): Promise<TestDevice> {
  const device = newDevice(newAccount());
  const res = await fetch(`${target.url}/v1/accounts/${device.account.address}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(registrationBody(device, target.now(), accessKey, target.audience)),
  });
  expect(res.status).toBe(200);
  device.deviceId = 1;
  return device;
}

/** A sealed send of `envelope` to `to`'s device 1. */
async function sendSealed(target: Target, to: TestDevice, envelope: Uint8Array): Promise<void> {
  const messageId = newMessageId(target.now());
  const res = await fetch(`${target.url}/v1/messages/${to.account.address}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...accessHeaders() },
    body: JSON.stringify(sendBody(messageId, [[1, envelope]])),
  });
  expect(res.status).toBe(200);
}

/** A well-formed message id (16 bytes) for frames whose other fields are wrong. */
const SOME_ID = toBase64Url(new Uint8Array(16));

/**
 * Frames of a known type whose fields are invalid (`n`: a fresh frame id): each is answered with
 * an `error` frame carrying `id` when the frame's id can be read, and the connection stays.
 */
const INVALID_FRAMES: readonly ((n: string) => { text: string; id?: string })[] = [
  (n) => ({ text: JSON.stringify({ type: 'ack', id: n, messageIds: ['not-an-id'] }), id: n }),
  (n) => ({ text: JSON.stringify({ type: 'ack', id: n, messageIds: [] }), id: n }),
  (n) => ({
    text: JSON.stringify({ type: 'ack', id: n, messageIds: Array(101).fill(SOME_ID) }),
    id: n,
  }),
  (n) => ({ text: JSON.stringify({ type: 'ack', id: n, messageIds: [SOME_ID], x: 1 }), id: n }),
  () => ({ text: JSON.stringify({ type: 'ack', messageIds: [SOME_ID] }) }),
  () => ({ text: JSON.stringify({ type: 'ack', id: 'x'.repeat(65), messageIds: [SOME_ID] }) }),
  () => ({ text: JSON.stringify({ type: 'ack', id: 7, messageIds: [SOME_ID] }) }),
  () => ({ text: JSON.stringify({ type: 'ping', x: true }) }),
];

/**
 * Frames that end the connection: an `error` frame (`BAD_REQUEST`), the `close` frame and
 * close code 4400. Not JSON, JSON that is not an object with a string `type`, an unknown
 * type, over `MAX_FRAME_BYTES` (ASCII, and two-byte characters under that many UTF-16 units),
 * and binary frames.
 */
const PROTOCOL_ERRORS: readonly (() => string | Buffer)[] = [
  () => 'not json',
  () => '{"type":"ack"',
  () => '',
  () => '[1,2,3]',
  () => 'null',
  () => '42',
  () => '"ping"',
  () => JSON.stringify({ type: 42 }),
  () => JSON.stringify({}),
  () => JSON.stringify({ type: 'subscribe' }),
  () => JSON.stringify({ type: 'pong' }),
  () => JSON.stringify({ type: 'ping', pad: 'x'.repeat(MAX_FRAME_BYTES) }),
  () => JSON.stringify({ type: 'ping', pad: '\u00e9'.repeat(MAX_FRAME_BYTES / 2) }),
  () => Buffer.from([0, 1, 2]),
  () => Buffer.from('{"type":"ping"}'),
];

const envelopeOf = (frame: ServerFrame | undefined): number[] =>
  frame?.type === 'message' ? [...fromBase64Url(frame.message.envelope)] : [];

describe('realtime over the test kit’s listen()', () => {
  let sealpost: TestSealpost;
  let close: () => Promise<void>;
  let target: Target;
  beforeAll(async () => {
    sealpost = await TestSealpost.start();
    const listening = await sealpost.listen();
    close = listening.close;
    target = { url: listening.url, now: sealpost.now, audience: sealpost.trust.trustRoot };
  });
  afterAll(async () => {
    await close?.();
  });

  it('drains the queue in order, then queue-empty', async () => {
    const bob = await register(target);
    for (let i = 1; i <= 3; i++) await sendSealed(target, bob, new Uint8Array([i]));
    const client = await connect(target, bob);
    const frames = await client.until(4);
    expect(frames.map((f) => f.type)).toEqual(['message', 'message', 'message', 'queue-empty']);
    expect(frames.slice(0, 3).map(envelopeOf)).toEqual([[1], [2], [3]]);
    client.ws.close();
  });

  it('pushes a message sent while connected; an ack over the socket ends its delivery', async () => {
    const bob = await register(target);
    const client = await connect(target, bob);
    expect(await client.until(1)).toEqual([{ type: 'queue-empty' }]);
    await sendSealed(target, bob, new Uint8Array([9, 9]));
    const [, pushed] = await client.until(2);
    expect(envelopeOf(pushed)).toEqual([9, 9]);
    const messageId = pushed?.type === 'message' ? pushed.message.messageId : '';
    client.send({ type: 'ack', id: 'a1', messageIds: [messageId] });
    expect((await client.until(3))[2]).toEqual({ type: 'acked', id: 'a1', acknowledged: 1 });
    client.ws.close();
    await client.closed;
    const again = await connect(target, bob);
    expect(await again.until(1)).toEqual([{ type: 'queue-empty' }]);
    again.ws.close();
  });

  it('closes the older connection of a device with 4409 when a newer one connects', async () => {
    const bob = await register(target);
    const first = await connect(target, bob);
    await first.until(1);
    const second = await connect(target, bob);
    expect((await first.closed).code).toBe(REALTIME_CLOSE.REPLACED);
    await second.until(1);
    // Pushes reach the newer connection only.
    await sendSealed(target, bob, new Uint8Array([5]));
    const [, pushed] = await second.until(2);
    expect(envelopeOf(pushed)).toEqual([5]);
    // The close code is also sent as a `close` frame, as API Gateway must.
    expect(first.frames).toEqual([
      { type: 'queue-empty' },
      { type: 'close', code: REALTIME_CLOSE.REPLACED, reason: 'replaced by a newer connection' },
    ]);
    second.ws.close();
  });

  it('answers a ping sent right after the open after the connect’s drain', async () => {
    const bob = await register(target);
    await sendSealed(target, bob, new Uint8Array([6]));
    const client = await connect(target, bob);
    client.send({ type: 'ping' });
    const [message, empty, pong] = await client.until(3);
    expect(envelopeOf(message)).toEqual([6]);
    expect([empty, pong]).toEqual([{ type: 'queue-empty' }, { type: 'pong' }]);
    client.ws.close();
  });

  it('refuses unsigned, badly signed, replayed and skewed connects, and other paths', async () => {
    const bob = await register(target);
    const base = target.url.replace(/^http/, 'ws');
    const expectRefused = async (url: string, status: number, code: string) => {
      const result = await open(url);
      expect(result.ok).toBe(false);
      if (result.ok) return undefined;
      expect(result.status).toBe(status);
      const body = JSON.parse(result.body) as { error: { code: string; serverTime?: number } };
      expect(body.error.code).toBe(code);
      return body.error;
    };
    await expectRefused(`${base}${REALTIME_PATH}`, 401, 'UNAUTHORIZED');
    const signed = new URL(connectUrl(target, bob));
    const signature = fromBase64Url(signed.searchParams.get(CONNECT_QUERY.signature) ?? '');
    signature[0] = (signature[0] ?? 0) ^ 1;
    const tampered = new URL(signed);
    tampered.searchParams.set(CONNECT_QUERY.signature, toBase64Url(signature));
    await expectRefused(tampered.href, 401, 'UNAUTHORIZED');
    const once = connectUrl(target, bob);
    const first = await open(once);
    expect(first.ok).toBe(true);
    await expectRefused(once, 401, 'UNAUTHORIZED');
    const skewed = await expectRefused(
      connectUrl(target, bob, target.now() - 10 * 60_000),
      401,
      'CLOCK_SKEW',
    );
    expect(skewed?.serverTime).toBe(target.now());
    await expectRefused(`${base}/v1/messages`, 404, 'NOT_FOUND');
    if (first.ok) first.client.ws.close();
  });

  it('answers 1,000 malformed, invalid, oversized and binary frames with an error frame or a documented close, and keeps serving', async () => {
    const bob = await register(target);
    const TOTAL = 1_000;
    const counted = { error: 0, [REALTIME_CLOSE.PROTOCOL_ERROR]: 0, 1009: 0 };
    const kindsSeen = new Set<string>();
    let sent = 0;
    for (let c = 0; sent < TOTAL; c++) {
      const client = await connect(target, bob);
      await client.until(1);
      // Frames of known types with invalid fields, sent in one burst: each gets its `error`
      // frame (naming the ack's id when it can be read) and the connection stays open.
      const invalid = Array.from({ length: Math.min(c % 5, TOTAL - sent - 1) }, (_, k) => {
        const kind = (c + k) % INVALID_FRAMES.length;
        kindsSeen.add(`invalid ${kind}`);
        return INVALID_FRAMES[kind]!(`f${sent + k}`);
      });
      for (const { text } of invalid) client.ws.send(text);
      sent += invalid.length;
      const answers = (await client.until(1 + invalid.length)).slice(1);
      expect(answers).toEqual(
        invalid.map(({ id }) => ({
          type: 'error',
          code: 'BAD_REQUEST',
          message: expect.any(String),
          ...(id === undefined ? {} : { id }),
        })),
      );
      counted.error += answers.length;
      // Then one frame that ends the connection.
      sent++;
      if (c % 40 === 39) {
        // Beyond the buffered bound `ws` refuses the message unread (1009, message too big).
        kindsSeen.add('too big');
        client.ws.send('x'.repeat(MAX_BUFFERED_FRAME_BYTES + 1));
        expect((await client.closed).code).toBe(1009);
        expect(client.frames).toHaveLength(1 + invalid.length);
        counted[1009]++;
        continue;
      }
      const kind = c % PROTOCOL_ERRORS.length;
      kindsSeen.add(`protocol ${kind}`);
      client.ws.send(PROTOCOL_ERRORS[kind]!());
      expect((await client.closed).code).toBe(REALTIME_CLOSE.PROTOCOL_ERROR);
      expect(client.frames.slice(1 + invalid.length)).toEqual([
        { type: 'error', code: 'BAD_REQUEST', message: expect.any(String) },
        { type: 'close', code: REALTIME_CLOSE.PROTOCOL_ERROR, reason: 'protocol error' },
      ]);
      counted[REALTIME_CLOSE.PROTOCOL_ERROR]++;
    }
    expect(counted.error + counted[REALTIME_CLOSE.PROTOCOL_ERROR] + counted[1009]).toBe(TOTAL);
    expect(kindsSeen.size).toBe(INVALID_FRAMES.length + PROTOCOL_ERRORS.length + 1);

    // The server is still up: a new connection is answered and pushed to, and HTTP is served.
    const fresh = await connect(target, bob);
    await fresh.until(1);
    fresh.send({ type: 'ping' });
    expect((await fresh.until(2))[1]).toEqual({ type: 'pong' });
    await sendSealed(target, bob, new Uint8Array([8]));
    expect(envelopeOf((await fresh.until(3))[2])).toEqual([8]);
    fresh.ws.close();
    const health = await fetch(`${target.url}/v1/health`);
    expect(await health.json()).toEqual({ status: 'ok' });
  });

  it('pushes a sealed send with no sender in any frame; an identified one names its sender', async () => {
    const bob = await register(target);
    const alice = await register(target, new Uint8Array(16).fill(1));
    const client = await connect(target, bob);
    await client.until(1);
    await sendSealed(target, bob, new Uint8Array([1]));
    const sealed = (await client.until(2))[1];
    expect(sealed?.type === 'message' && 'source' in sealed.message).toBe(false);

    const path = `/v1/messages/${bob.account.address}/identified`;
    const body = new TextEncoder().encode(
      JSON.stringify(sendBody(newMessageId(target.now()), [[1, new Uint8Array([2])]])),
    );
    const res = await fetch(`${target.url}${path}`, {
      method: 'PUT',
      headers: {
        'content-type': 'application/json',
        ...signHeaders(alice, 'PUT', path, body, target.now(), undefined, target.audience),
      },
      body,
    });
    expect(res.status).toBe(200);
    const identified = (await client.until(3))[2];
    expect(identified?.type === 'message' && identified.message.source).toEqual({
      address: alice.account.address,
      deviceId: 1,
    });
    // Only the identified send's frame carries Alice's address.
    expect(client.texts.filter((t) => t.includes(alice.account.address))).toEqual([
      client.texts[2],
    ]);
    client.ws.close();
    await client.closed;
    // Nothing was acknowledged, so the next connect drains both: the same holds for a drain.
    const again = await connect(target, bob);
    const [drainedSealed, drainedIdentified] = await again.until(3);
    expect(envelopeOf(drainedSealed)).toEqual([1]);
    expect(again.texts[0]).not.toContain('"source"');
    expect(drainedIdentified?.type === 'message' && drainedIdentified.message.source).toEqual({
      address: alice.account.address,
      deviceId: 1,
    });
    again.ws.close();
  });
});

/** A per-device header as far as the service reads one: a version-2 sealed envelope's bytes. */
function header(length: number, fill: number): Uint8Array {
  const bytes = new Uint8Array(length).fill(fill);
  bytes[0] = 2;
  return bytes;
}

/** A shared payload as far as the service reads one (version 1, within the bounds). */
function payload(length: number, fill: number): Uint8Array {
  const bytes = new Uint8Array(length).fill(fill);
  bytes[0] = 1;
  return bytes;
}

/** A multi-recipient send of `body` to device 1 of each of `to`, with its header per account. */
async function sendMulti(
  target: Target,
  to: readonly { device: TestDevice; key: Uint8Array; header: Uint8Array }[],
  body: Uint8Array,
): Promise<void> {
  const request = encodeMultiRecipientRequest({
    requestId: new Uint8Array(16).map(() => Math.floor(Math.random() * 256)),
    accounts: to.map((r) => ({
      address: r.device.account.address,
      auth: { kind: 'accessKey', accessKey: r.key },
      devices: [
        { deviceId: 1, registrationId: registrationId(r.device.identity), header: r.header },
      ],
    })),
    payload: body,
  });
  const res = await fetch(`${target.url}/v1/messages/multi`, {
    method: 'PUT',
    headers: { 'content-type': MULTI_RECIPIENT_CONTENT_TYPE },
    body: request as Uint8Array<ArrayBuffer>,
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

/** `GET /v1/messages` of `device`'s queue, with `query`. */
async function fetchQueue(target: Target, device: TestDevice, query: string) {
  const path = `/v1/messages${query}`;
  const res = await fetch(`${target.url}${path}`, {
    headers: signHeaders(
      device,
      'GET',
      path,
      new Uint8Array(),
      target.now(),
      undefined,
      target.audience,
    ),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as FetchResponse).messages;
}

const messageOf = (frame: ServerFrame | undefined): DeliveredMessage | undefined =>
  frame?.type === 'message' ? frame.message : undefined;

describe('multi-recipient messages over the test kit’s listen()', () => {
  let sealpost: TestSealpost;
  let close: () => Promise<void>;
  let target: Target;
  beforeAll(async () => {
    sealpost = await TestSealpost.start();
    const listening = await sealpost.listen();
    close = listening.close;
    target = { url: listening.url, now: sealpost.now, audience: sealpost.trust.trustRoot };
  });
  afterAll(async () => {
    await close?.();
  });

  it('frames the payload for a payloads=1 connection only, pushed and drained, a pointer when too large', async () => {
    const carolKey = new Uint8Array(16).fill(5);
    const bob = await register(target);
    const carol = await register(target, carolKey);
    const withPayloads = await connect(target, bob, { [CONNECT_QUERY.payloads]: '1' });
    const headerOnly = await connect(target, carol);
    expect(await withPayloads.until(1)).toEqual([{ type: 'queue-empty' }]);
    expect(await headerOnly.until(1)).toEqual([{ type: 'queue-empty' }]);

    const small = payload(1_137, 7);
    const large = payload(MAX_SHARED_PAYLOAD_BYTES, 8);
    const to = (n: number) => [
      { device: bob, key: BOB_ACCESS_KEY, header: header(993, 10 + n) },
      { device: carol, key: carolKey, header: header(1_000, 20 + n) },
    ];
    await sendMulti(target, to(1), small);
    await sendMulti(target, to(2), large);

    // Pushed: the small payload in Bob's frame, the large one as a pointer (header + payload
    // bytes); Carol's connection gets each header alone.
    const [, pushedSmall, pushedLarge] = await withPayloads.until(3);
    expect(pushedSmall).toMatchObject({ type: 'message', pushed: true });
    expect(messageOf(pushedSmall)?.payload).toBe(toBase64Url(small));
    expect(messageOf(pushedSmall)?.envelope).toBe(toBase64Url(header(993, 11)));
    expect(messageOf(pushedSmall)?.stamp).toBeDefined();
    expect(pushedLarge).toMatchObject({
      type: 'message-pointer',
      size: 993 + MAX_SHARED_PAYLOAD_BYTES,
      pushed: true,
    });
    const [, carolSmall, carolLarge] = await headerOnly.until(3);
    for (const [frame, n] of [
      [carolSmall, 1],
      [carolLarge, 2],
    ] as const) {
      expect(frame).toMatchObject({ type: 'message', pushed: true });
      expect(messageOf(frame)?.envelope).toBe(toBase64Url(header(1_000, 20 + n)));
      expect(messageOf(frame)).not.toHaveProperty('payload');
    }
    expect(headerOnly.texts.some((t) => t.includes('"payload"'))).toBe(false);

    // The pointer is followed over HTTP with payloads=1: the whole message is there.
    const pointerId = pushedLarge?.type === 'message-pointer' ? pushedLarge.messageId : '';
    const fetched = (await fetchQueue(target, bob, '?payloads=1')).find(
      (m) => m.messageId === pointerId,
    );
    expect(fetched?.payload).toBe(toBase64Url(large));
    expect(fetched?.envelope).toBe(toBase64Url(header(993, 12)));

    // Drained after a reconnect (nothing was acknowledged): the same frames, without `pushed`.
    withPayloads.ws.close();
    headerOnly.ws.close();
    await Promise.all([withPayloads.closed, headerOnly.closed]);
    const bobAgain = await connect(target, bob, { [CONNECT_QUERY.payloads]: '1' });
    const drained = await bobAgain.until(3);
    expect(drained[0]).toEqual({ ...pushedSmall, pushed: undefined, type: 'message' });
    expect(drained[0]).not.toHaveProperty('pushed');
    expect(messageOf(drained[0])?.payload).toBe(toBase64Url(small));
    expect(drained[1]).toEqual({
      type: 'message-pointer',
      messageId: pointerId,
      receivedAt: fetched?.receivedAt,
      size: 993 + MAX_SHARED_PAYLOAD_BYTES,
    });
    expect(drained[2]).toEqual({ type: 'queue-empty' });
    const carolAgain = await connect(target, carol);
    const carolDrained = await carolAgain.until(3);
    expect(carolDrained.map((f) => f.type)).toEqual(['message', 'message', 'queue-empty']);
    expect(carolDrained.slice(0, 2).map((f) => messageOf(f)?.envelope)).toEqual([
      toBase64Url(header(1_000, 21)),
      toBase64Url(header(1_000, 22)),
    ]);
    expect(carolAgain.texts.some((t) => t.includes('"payload"'))).toBe(false);
    bobAgain.ws.close();
    carolAgain.ws.close();
  });

  it('refuses a payloads value other than 1 with 400, spending no nonce', async () => {
    const bob = await register(target);
    const at = target.now();
    for (const value of ['true', '0', '']) {
      const refused = await open(connectUrl(target, bob, at, { [CONNECT_QUERY.payloads]: value }));
      expect(refused.ok).toBe(false);
      if (refused.ok) return;
      expect(refused.status).toBe(400);
      expect(JSON.parse(refused.body).error.code).toBe('BAD_REQUEST');
    }
    const accepted = await open(connectUrl(target, bob, at, { [CONNECT_QUERY.payloads]: '1' }));
    expect(accepted.ok).toBe(true);
    if (accepted.ok) accepted.client.ws.close();
  });
});

describe('realtime over the local server (npm start)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sealpost-realtime-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the endpoint on its port and pushes sends; close() ends open sockets', async () => {
    const server = await startLocalServer({ port: 0, dataDir: dir, log: () => undefined });
    const target: Target = {
      url: server.url,
      now: Date.now,
      audience: fromBase64Url(server.trustRoot),
    };
    const bob = await register(target);
    const client = await connect(target, bob);
    expect(await client.until(1)).toEqual([{ type: 'queue-empty' }]);
    await sendSealed(target, bob, new Uint8Array([7]));
    const [, pushed] = await client.until(2);
    expect(envelopeOf(pushed)).toEqual([7]);
    await server.close();
    expect((await client.closed).code).toBe(1006);
  });
});
