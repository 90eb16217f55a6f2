import { describe, expect, it } from 'vitest';
import { MemoryAccountStore } from '#functions/adapters/memory/memory-account-store.ts';
import { MemoryBlobStore } from '#functions/adapters/memory/memory-blob-store.ts';
import { MemoryConnections } from '#functions/adapters/memory/memory-connections.ts';
import { MemoryMessageIndex } from '#functions/adapters/memory/memory-message-index.ts';
import { MemoryRateLimiter } from '#functions/adapters/memory/memory-rate-limiter.ts';
import { DEFAULT_CONFIG } from '#functions/domain/config.ts';
import { randomBytes } from '#functions/domain/crypto.ts';
import { MessageService } from '#functions/domain/message-service.ts';
import type { ConnectionSender } from '#functions/domain/realtime-ports.ts';
import { RealtimeService } from '#functions/domain/realtime-service.ts';
import { toBase64Url } from '#sdk/wire/api/codec.ts';
import { createMessageId } from '#sdk/wire/api/message-id.ts';
import { MAX_FRAME_BYTES, REALTIME_CLOSE, type ServerFrame } from '#sdk/wire/api/realtime.ts';
import { newAccount } from '../fixtures.ts';
import { mailboxFixture } from './mailbox-fixture.ts';

/** Records every frame and close per connection; connections in `gone` answer 410. */
class RecordingSender implements ConnectionSender {
  readonly texts = new Map<string, string[]>();
  readonly closes: { connectionId: string; code: number; reason: string }[] = [];
  readonly gone = new Set<string>();

  async send(connectionId: string, frameText: string): Promise<'sent' | 'gone'> {
    if (this.gone.has(connectionId)) return 'gone';
    this.texts.set(connectionId, [...(this.texts.get(connectionId) ?? []), frameText]);
    return 'sent';
  }

  async close(connectionId: string, code: number, reason: string): Promise<void> {
    this.closes.push({ connectionId, code, reason });
  }

  frames(connectionId: string): ServerFrame[] {
    return (this.texts.get(connectionId) ?? []).map((t) => JSON.parse(t) as ServerFrame);
  }

  closeCodes(connectionId: string): number[] {
    return this.closes.filter((c) => c.connectionId === connectionId).map((c) => c.code);
  }
}

async function setup(devices = 2) {
  const ports = {
    accounts: new MemoryAccountStore(),
    index: new MemoryMessageIndex(),
    blobs: new MemoryBlobStore(),
    limiter: new MemoryRateLimiter(),
  };
  const f = await mailboxFixture(ports, { devices });
  await ports.accounts.updateSettings(f.address, { unrestricted: true });
  const sender = new RecordingSender();
  const connections = new MemoryConnections();
  const logs: string[] = [];
  const clock = () => f.clock.now;
  const notifier = { notify: realtimeNotify };
  const messages = new MessageService(
    ports.accounts,
    ports.index,
    ports.blobs,
    ports.limiter,
    clock,
    DEFAULT_CONFIG,
    randomBytes,
    { notifier, log: (line) => logs.push(line) },
  );
  const realtime = new RealtimeService(connections, sender, ports.accounts, messages, clock);
  function realtimeNotify(...args: Parameters<RealtimeService['notify']>) {
    return realtime.notify(...args);
  }
  /** A sealed send (the account accepts them without an access key) of `bodies[i]` to device i + 1. */
  const sealed = (bodies: readonly Uint8Array[]) =>
    messages.sendSealed(f.address, undefined, {
      messageId: toBase64Url(createMessageId(f.clock.now, randomBytes(10))),
      envelopes: bodies.map((b, i) => ({ deviceId: i + 1, envelope: toBase64Url(b) })),
    });
  return { ports, f, sender, connections, logs, messages, realtime, sealed };
}

const body = (n: number, fill: number) => new Uint8Array(n).fill(fill);

describe('RealtimeService drain', () => {
  it('sends the queue oldest first across pages, then queue-empty', async () => {
    const t = await setup(1);
    for (let i = 0; i < 105; i++) await t.f.send(randomBytes(16), [body(20, i)]);
    const expected = await t.f.fetchAll(t.f.callers[0]!);
    await t.realtime.connected(t.f.callers[0]!, 'c1');
    expect(await t.realtime.drain('c1')).toBe('drained');
    const frames = t.sender.frames('c1');
    expect(frames).toHaveLength(106);
    expect(frames.slice(0, 105)).toEqual(expected.map((message) => ({ type: 'message', message })));
    expect(frames.at(-1)).toEqual({ type: 'queue-empty' });
  });

  it('sends a pointer for an envelope too large to go inline, keeping the order', async () => {
    const t = await setup(1);
    await t.f.send(randomBytes(16), [body(100_000, 1)]);
    await t.f.send(randomBytes(16), [body(10, 2)]);
    const [large, small] = await t.f.fetchAll(t.f.callers[0]!);
    await t.realtime.connected(t.f.callers[0]!, 'c1');
    await t.realtime.drain('c1');
    expect(t.sender.frames('c1')).toEqual([
      {
        type: 'message-pointer',
        messageId: large!.messageId,
        receivedAt: large!.receivedAt,
        size: 100_000,
      },
      { type: 'message', message: small },
      { type: 'queue-empty' },
    ]);
  });

  it('stops at a gone connection and removes it', async () => {
    const t = await setup(1);
    await t.f.send(randomBytes(16), [body(10, 1)]);
    await t.realtime.connected(t.f.callers[0]!, 'c1');
    t.sender.gone.add('c1');
    expect(await t.realtime.drain('c1')).toBe('gone');
    expect(await t.connections.get(t.f.callers[0]!)).toBeUndefined();
    expect(await t.realtime.drain('c1')).toBe('not-connected');
  });

  it('closes with 4410 when the device was removed', async () => {
    const t = await setup(2);
    await t.realtime.connected(t.f.callers[1]!, 'c2');
    await t.ports.accounts.removeDevice(t.f.address, 2);
    expect(await t.realtime.drain('c2')).toBe('closed');
    expect(t.sender.closeCodes('c2')).toEqual([REALTIME_CLOSE.DEVICE_REMOVED]);
    expect(t.sender.frames('c2')).toEqual([]);
    expect(await t.connections.byConnection('c2')).toBeUndefined();
  });
});

describe('RealtimeService connections', () => {
  it('replaces the first connection of a device with the second (4409 to the old)', async () => {
    const t = await setup(1);
    const caller = t.f.callers[0]!;
    t.f.clock.now += 1000;
    await t.realtime.connected(caller, 'c1');
    await t.realtime.connected(caller, 'c2');
    expect(t.sender.closes).toEqual([
      {
        connectionId: 'c1',
        code: REALTIME_CLOSE.REPLACED,
        reason: 'replaced by a newer connection',
      },
    ]);
    // The old connection's late disconnect leaves the new one in place.
    await t.realtime.disconnected('c1');
    expect(await t.connections.get(caller)).toEqual({
      connectionId: 'c2',
      device: caller.ref,
      connectedAt: t.f.clock.now,
    });
    expect(await t.realtime.drain('c1')).toBe('not-connected');
    expect(await t.realtime.drain('c2')).toBe('drained');
    await t.realtime.disconnected('c2');
    expect(await t.connections.get(caller)).toBeUndefined();
  });
});

describe('MemoryConnections', () => {
  it('keeps one connection per device and removes only the current one', async () => {
    const t = await setup(2);
    const [one, two] = [t.f.callers[0]!.ref, t.f.callers[1]!.ref];
    const registry = new MemoryConnections();
    expect(await registry.put(one, 'a', 1)).toBeUndefined();
    expect(await registry.put(two, 'b', 2)).toBeUndefined();
    expect(await registry.put(one, 'c', 3)).toBe('a');
    expect(await registry.byConnection('a')).toBeUndefined();
    expect(await registry.remove('a')).toBe(false);
    expect(await registry.byConnection('c')).toEqual({
      connectionId: 'c',
      device: one,
      connectedAt: 3,
    });
    expect(await registry.remove('c')).toBe(true);
    expect(await registry.get(one)).toBeUndefined();
    expect(await registry.get(two)).toEqual({ connectionId: 'b', device: two, connectedAt: 2 });
  });
});

describe('RealtimeService frames', () => {
  it('deletes acknowledged messages and answers acked', async () => {
    const t = await setup(1);
    await t.f.send(randomBytes(16), [body(10, 1)]);
    await t.f.send(randomBytes(16), [body(10, 2)]);
    await t.realtime.connected(t.f.callers[0]!, 'c1');
    await t.realtime.drain('c1');
    const ids = t.sender
      .frames('c1')
      .flatMap((f) => (f.type === 'message' ? [f.message.messageId] : []));
    expect(ids).toHaveLength(2);
    await t.realtime.onFrame('c1', JSON.stringify({ type: 'ack', id: 'k1', messageIds: ids }));
    expect(t.sender.frames('c1').at(-1)).toEqual({ type: 'acked', id: 'k1', acknowledged: 2 });
    expect(await t.f.fetchAll(t.f.callers[0]!)).toEqual([]);
  });

  it('answers ping with pong', async () => {
    const t = await setup(1);
    await t.realtime.connected(t.f.callers[0]!, 'c1');
    await t.realtime.onFrame('c1', '{"type":"ping"}');
    expect(t.sender.frames('c1')).toEqual([{ type: 'pong' }]);
  });

  it('answers keepalive with nothing and keeps the connection', async () => {
    const t = await setup(1);
    await t.realtime.connected(t.f.callers[0]!, 'c1');
    await t.realtime.onFrame('c1', '{"type":"keepalive"}');
    expect(t.sender.frames('c1')).toEqual([]);
    expect(t.sender.closeCodes('c1')).toEqual([]);
    expect((await t.connections.byConnection('c1'))?.connectionId).toBe('c1');
  });

  it.each([
    ['unparseable', '{"type":', 'frame is not a JSON object with a type'],
    ['oversized', `{"type":"ping","pad":"${'x'.repeat(MAX_FRAME_BYTES)}"}`, 'frame too large'],
    ['unknown', '{"type":"subscribe"}', 'unknown frame type'],
  ])(
    'answers an %s frame with an error and closes 4400, then keeps working',
    async (_, text, message) => {
      const t = await setup(2);
      await t.realtime.connected(t.f.callers[0]!, 'c1');
      await t.realtime.connected(t.f.callers[1]!, 'c2');
      await expect(t.realtime.onFrame('c1', text)).resolves.toBeUndefined();
      expect(t.sender.frames('c1')).toEqual([{ type: 'error', code: 'BAD_REQUEST', message }]);
      expect(t.sender.closeCodes('c1')).toEqual([REALTIME_CLOSE.PROTOCOL_ERROR]);
      expect(await t.connections.byConnection('c1')).toBeUndefined();
      // Other connections, and a new one of the same device, are served as before.
      await t.realtime.onFrame('c2', '{"type":"ping"}');
      expect(t.sender.frames('c2')).toEqual([{ type: 'pong' }]);
      await t.realtime.connected(t.f.callers[0]!, 'c3');
      expect(await t.realtime.drain('c3')).toBe('drained');
    },
  );

  it('answers an ack with invalid fields with an error naming its id, without closing', async () => {
    const t = await setup(1);
    await t.realtime.connected(t.f.callers[0]!, 'c1');
    await t.realtime.onFrame('c1', '{"type":"ack","id":"k9","messageIds":["short"]}');
    expect(t.sender.frames('c1')).toEqual([
      { type: 'error', code: 'BAD_REQUEST', message: 'invalid frame fields', id: 'k9' },
    ]);
    expect(t.sender.closes).toEqual([]);
  });

  it('closes an ack on an unregistered connection with 4401', async () => {
    const t = await setup(1);
    const ack = { type: 'ack', id: 'k1', messageIds: [toBase64Url(randomBytes(16))] };
    await t.realtime.onFrame('stranger', JSON.stringify(ack));
    expect(t.sender.closeCodes('stranger')).toEqual([REALTIME_CLOSE.NOT_AUTHENTICATED]);
    expect(t.sender.frames('stranger')).toEqual([]);
  });

  it('never throws to the transport when the sender fails', async () => {
    const t = await setup(1);
    await t.realtime.connected(t.f.callers[0]!, 'c1');
    t.sender.send = () => Promise.reject(new Error('network down'));
    await expect(t.realtime.onFrame('c1', '{"type":"ping"}')).resolves.toBeUndefined();
    await expect(t.realtime.onFrame('c1', 'garbage')).resolves.toBeUndefined();
  });
});

describe('RealtimeService as the notifier', () => {
  it('pushes a stored message to the live connection of its device only', async () => {
    const t = await setup(2);
    await t.realtime.connected(t.f.callers[0]!, 'c1');
    await t.sealed([body(10, 1), body(10, 2)]);
    const [stored] = await t.f.fetchAll(t.f.callers[0]!);
    // Marked as a push, so a client holds it while its drain runs (docs/SERVICE.md §7.3).
    expect(t.sender.frames('c1')).toEqual([{ type: 'message', message: stored, pushed: true }]);
    expect([...t.sender.texts.keys()]).toEqual(['c1']);
    expect(t.logs).toEqual([]);
  });

  it('removes a gone connection and keeps the message stored', async () => {
    const t = await setup(1);
    await t.realtime.connected(t.f.callers[0]!, 'c1');
    t.sender.gone.add('c1');
    await t.sealed([body(10, 1)]);
    expect(await t.connections.get(t.f.callers[0]!)).toBeUndefined();
    expect((await t.f.fetchAll(t.f.callers[0]!)).map((m) => m.envelope)).toEqual([
      toBase64Url(body(10, 1)),
    ]);
    expect(t.logs).toEqual([]);
  });

  it('does not push to a connection of an earlier device generation', async () => {
    const t = await setup(1);
    const caller = t.f.callers[0]!;
    await t.realtime.connected(caller, 'c1');
    await t.realtime.notify(
      { ...caller.ref, registrationId: caller.ref.registrationId ^ 1 },
      {
        messageId: toBase64Url(randomBytes(16)),
        receivedAt: 0,
        envelope: toBase64Url(body(4, 1)),
      },
    );
    expect(t.sender.frames('c1')).toEqual([]);
  });

  it('puts no sender in any frame of a sealed send', async () => {
    const t = await setup(2);
    const sender = newAccount();
    await t.realtime.connected(t.f.callers[0]!, 'c1');
    await t.realtime.connected(t.f.callers[1]!, 'c2');
    await t.sealed([body(10, 1), body(10, 2)]);
    await t.realtime.drain('c1');
    const texts = [...(t.sender.texts.get('c1') ?? []), ...(t.sender.texts.get('c2') ?? [])];
    expect(texts).toHaveLength(4);
    for (const text of texts) {
      expect(text).not.toContain(sender.address);
      expect(text).not.toContain('"source"');
    }
    // An identified send to the account's own other device does name its sender.
    await t.messages.sendIdentified(t.f.callers[0]!, t.f.address, {
      messageId: toBase64Url(createMessageId(t.f.clock.now, randomBytes(10))),
      envelopes: [{ deviceId: 2, envelope: toBase64Url(body(10, 3)) }],
    });
    expect(t.sender.frames('c2').at(-1)).toMatchObject({
      type: 'message',
      message: { source: { address: t.f.address, deviceId: 1 } },
    });
  });
});
