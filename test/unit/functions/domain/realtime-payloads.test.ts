/**
 * Realtime frames of multi-recipient messages (docs/SERVICE.md §7.3, docs/PROTOCOL.md §14.6):
 * a connection opened with `payloads=1` gets a message's shared payload in its frames, pushed
 * or drained, and a pointer (sized header + payload) when the frame would pass
 * MAX_SOCKET_MESSAGE_BYTES; any other connection gets the header alone. The drain asks the
 * message service for payloads only for a connection that wants them.
 */
import { describe, expect, it } from 'vitest';
import { MemoryAccountStore } from '#functions/adapters/memory/memory-account-store.ts';
import { MemoryConnections } from '#functions/adapters/memory/memory-connections.ts';
import type { Caller } from '#functions/domain/auth-service.ts';
import { randomBytes, sha256 } from '#functions/domain/crypto.ts';
import type { ConnectionSender } from '#functions/domain/realtime-ports.ts';
import { type RealtimeMessages, RealtimeService } from '#functions/domain/realtime-service.ts';
import { deviceRef } from '#functions/domain/records.ts';
import { toBase64Url } from '#sdk/wire/api/codec.ts';
import {
  MAX_SOCKET_MESSAGE_BYTES,
  parseServerFrame,
  type ServerFrame,
} from '#sdk/wire/api/realtime.ts';
import type { DeliveredMessage } from '#sdk/wire/api/schemas.ts';
import { MAX_SHARED_PAYLOAD_BYTES } from '#sdk/wire/multi-recipient-payload.ts';
import { newAccount } from '../fixtures.ts';

class RecordingSender implements ConnectionSender {
  readonly texts = new Map<string, string[]>();

  async send(connectionId: string, frameText: string): Promise<'sent' | 'gone'> {
    this.texts.set(connectionId, [...(this.texts.get(connectionId) ?? []), frameText]);
    return 'sent';
  }

  async close(): Promise<void> {}

  /** The frames of `connectionId`, each checked to be a valid server frame as a client reads it. */
  frames(connectionId: string): ServerFrame[] {
    return (this.texts.get(connectionId) ?? []).map((text) => {
      expect(new TextEncoder().encode(text).length).toBeLessThanOrEqual(MAX_SOCKET_MESSAGE_BYTES);
      const frame = parseServerFrame(text);
      expect(frame, text.slice(0, 80)).toBeDefined();
      return frame!;
    });
  }
}

/**
 * A message service whose queue is `queue`: it answers like `GET /v1/messages`, with the
 * payloads only when asked for them, and records every fetch's `payloads` option.
 */
class FakeMessages implements RealtimeMessages {
  readonly queue: DeliveredMessage[] = [];
  readonly fetches: (boolean | undefined)[] = [];

  async fetch(_caller: Caller, limit: number, cursor?: string, options?: { payloads?: boolean }) {
    this.fetches.push(options?.payloads);
    const start = cursor === undefined ? 0 : Number(cursor);
    const page = this.queue
      .slice(start, start + limit)
      .map((m) => (options?.payloads ? m : withoutPayload(m)));
    const next = start + limit;
    return next < this.queue.length ? { messages: page, cursor: String(next) } : { messages: page };
  }

  async ack() {
    return { acknowledged: 0 };
  }
}

function withoutPayload(m: DeliveredMessage): DeliveredMessage {
  const { payload: _p, ...header } = m;
  return header;
}

async function setup() {
  const accounts = new MemoryAccountStore();
  const account = newAccount();
  const devices = [1, 2].map((deviceId) => ({
    deviceId,
    identity: randomBytes(160),
    signedPrekey: { id: 1, publicKey: randomBytes(32), signature: randomBytes(64) },
    lastResortKemPrekey: { id: 1, publicKey: randomBytes(1568), signature: randomBytes(64) },
    frankingKey: randomBytes(32),
    createdAt: 0,
  }));
  await accounts.create(
    {
      address: account.address,
      accountPublic: account.publicKey,
      accessKeyHash: sha256(randomBytes(16)),
      unrestricted: true,
      createdAt: 0,
    },
    devices[0]!,
  );
  await accounts.addDevice(account.address, devices[1]!);
  const view = (await accounts.get(account.address))!;
  const callers: Caller[] = devices.map((d) => ({
    address: account.address,
    deviceId: d.deviceId,
    device: d,
    ref: deviceRef(account.address, d),
    view,
    accountSigned: false,
  }));
  const sender = new RecordingSender();
  const connections = new MemoryConnections();
  const messages = new FakeMessages();
  const realtime = new RealtimeService(connections, sender, accounts, messages, () => 1_000);
  return { callers, sender, connections, messages, realtime };
}

/** A multi-recipient message as the message service hands it to the notifier. */
function multi(headerBytes: number, payloadBytes: number): DeliveredMessage {
  return {
    messageId: toBase64Url(randomBytes(16)),
    receivedAt: 3_600_000,
    envelope: toBase64Url(new Uint8Array(headerBytes).fill(2)),
    stamp: toBase64Url(randomBytes(32)),
    payload: toBase64Url(new Uint8Array(payloadBytes).fill(1)),
  };
}

describe('realtime frames of multi-recipient messages', () => {
  it('pushes the payload to a payloads connection and the header alone to another', async () => {
    const t = await setup();
    await t.realtime.connected(t.callers[0]!, 'with', { payloads: true });
    await t.realtime.connected(t.callers[1]!, 'without');
    expect(await t.connections.get(t.callers[0]!)).toMatchObject({ payloads: true });
    expect(await t.connections.get(t.callers[1]!)).not.toHaveProperty('payloads');
    const m = multi(993, 1_137);
    expect(await t.realtime.pushEarly(t.callers[0]!.ref, m)).toBe('pushed');
    expect(await t.realtime.notify(t.callers[1]!.ref, m)).toBe('pushed');
    expect(t.sender.frames('with')).toEqual([{ type: 'message', message: m, pushed: true }]);
    expect(t.sender.frames('without')).toEqual([
      { type: 'message', message: withoutPayload(m), pushed: true },
    ]);
    expect(t.sender.texts.get('without')?.[0]).not.toContain('"payload"');
    // A message without a payload goes out the same on both.
    const plain = withoutPayload(multi(600, 0));
    await t.realtime.notify(t.callers[0]!.ref, plain);
    expect(t.sender.frames('with').at(-1)).toEqual({
      type: 'message',
      message: plain,
      pushed: true,
    });
  });

  it('sends a pointer sized header + payload for a frame past the limit, never early', async () => {
    const t = await setup();
    await t.realtime.connected(t.callers[0]!, 'with', { payloads: true });
    await t.realtime.connected(t.callers[1]!, 'without');
    const large = multi(3_713, MAX_SHARED_PAYLOAD_BYTES);
    // Early: the pointer would send the device to a fetch that does not find the message yet.
    expect(await t.realtime.pushEarly(t.callers[0]!.ref, large)).toBe('offline');
    expect(t.sender.frames('with')).toEqual([]);
    // The header alone fits, so a connection without payloads gets it early.
    expect(await t.realtime.pushEarly(t.callers[1]!.ref, large)).toBe('pushed');
    expect(t.sender.frames('without')).toEqual([
      { type: 'message', message: withoutPayload(large), pushed: true },
    ]);
    expect(await t.realtime.notify(t.callers[0]!.ref, large)).toBe('pushed');
    expect(t.sender.frames('with')).toEqual([
      {
        type: 'message-pointer',
        messageId: large.messageId,
        receivedAt: large.receivedAt,
        size: 3_713 + MAX_SHARED_PAYLOAD_BYTES,
        pushed: true,
      },
    ]);
  });

  it('drains with payloads only for a payloads connection, pointers in order', async () => {
    const t = await setup();
    const small = multi(993, 53);
    const large = multi(993, 100_401);
    const plain = withoutPayload(multi(2_000, 0));
    t.messages.queue.push(small, large, plain);
    await t.realtime.connected(t.callers[0]!, 'with', { payloads: true });
    expect(await t.realtime.drain('with')).toBe('drained');
    expect(t.messages.fetches).toEqual([true]);
    expect(t.sender.frames('with')).toEqual([
      { type: 'message', message: small },
      {
        type: 'message-pointer',
        messageId: large.messageId,
        receivedAt: large.receivedAt,
        size: 993 + 100_401,
      },
      { type: 'message', message: plain },
      { type: 'queue-empty' },
    ]);

    await t.realtime.connected(t.callers[1]!, 'without');
    expect(await t.realtime.drain('without')).toBe('drained');
    expect(t.messages.fetches).toEqual([true, false]);
    expect(t.sender.frames('without')).toEqual([
      ...[small, large, plain].map((m) => ({ type: 'message', message: withoutPayload(m) })),
      { type: 'queue-empty' },
    ]);
  });

  it('strips a payload on a connection without payloads even if the fetch returned one', async () => {
    const t = await setup();
    const m = multi(993, 1_137);
    t.messages.fetch = async (_caller, _limit, _cursor, options) => {
      t.messages.fetches.push(options?.payloads);
      return { messages: [m] };
    };
    await t.realtime.connected(t.callers[0]!, 'without');
    await t.realtime.drain('without');
    expect(t.sender.frames('without')).toEqual([
      { type: 'message', message: withoutPayload(m) },
      { type: 'queue-empty' },
    ]);
  });

  it('keeps the option of the connection that replaced another', async () => {
    const t = await setup();
    await t.realtime.connected(t.callers[0]!, 'first', { payloads: true });
    await t.realtime.connected(t.callers[0]!, 'second');
    const m = multi(993, 1_137);
    await t.realtime.notify(t.callers[0]!.ref, m);
    expect(t.sender.frames('second')).toEqual([
      { type: 'message', message: withoutPayload(m), pushed: true },
    ]);
  });
});
