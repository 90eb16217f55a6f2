import { describe, expect, it } from 'vitest';
import { MemoryAccountStore } from '#functions/adapters/memory/memory-account-store.ts';
import { MemoryBlobStore } from '#functions/adapters/memory/memory-blob-store.ts';
import { MemoryConnections } from '#functions/adapters/memory/memory-connections.ts';
import { MemoryMessageIndex } from '#functions/adapters/memory/memory-message-index.ts';
import { MemoryRateLimiter } from '#functions/adapters/memory/memory-rate-limiter.ts';
import { DEFAULT_CONFIG } from '#functions/domain/config.ts';
import { randomBytes } from '#functions/domain/crypto.ts';
import { UnavailableError } from '#functions/domain/errors.ts';
import { MessageService } from '#functions/domain/message-service.ts';
import type { DeviceRef, Mailbox, StoredMessage } from '#functions/domain/ports.ts';
import type { ConnectionSender, Notifier } from '#functions/domain/realtime-ports.ts';
import { RealtimeService } from '#functions/domain/realtime-service.ts';
import { toBase64Url } from '#sdk/wire/api/codec.ts';
import { createMessageId } from '#sdk/wire/api/message-id.ts';
import type { DeliveredMessage, SendRequest } from '#sdk/wire/api/schemas.ts';
import { mailboxFixture } from './mailbox-fixture.ts';

/** An index whose record writes wait for {@link open} and may fail once. */
class GatedIndex extends MemoryMessageIndex {
  private gate: Promise<void> | undefined;
  private unblock: (() => void) | undefined;
  failNext = false;
  writes = 0;

  hold(): void {
    this.gate = new Promise((resolve) => {
      this.unblock = resolve;
    });
  }

  open(): void {
    this.unblock?.();
    this.gate = undefined;
  }

  override async put(mailbox: Mailbox, record: StoredMessage): Promise<boolean> {
    await this.gate;
    if (this.failNext) {
      this.failNext = false;
      throw new UnavailableError();
    }
    this.writes++;
    return super.put(mailbox, record);
  }
}

async function setup(notifier: Notifier, devices = 2, index = new MemoryMessageIndex()) {
  const ports = {
    accounts: new MemoryAccountStore(),
    index,
    blobs: new MemoryBlobStore(),
    limiter: new MemoryRateLimiter(),
  };
  const f = await mailboxFixture(ports, { devices });
  await ports.accounts.updateSettings(f.address, { unrestricted: true });
  const logs: string[] = [];
  const service = new MessageService(
    ports.accounts,
    ports.index,
    ports.blobs,
    ports.limiter,
    () => f.clock.now,
    DEFAULT_CONFIG,
    randomBytes,
    { notifier, log: (line) => logs.push(line) },
  );
  const request = (bodies: readonly Uint8Array[]): SendRequest => ({
    messageId: toBase64Url(createMessageId(f.clock.now, randomBytes(10))),
    envelopes: bodies.map((b, i) => ({ deviceId: i + 1, envelope: toBase64Url(b) })),
  });
  return { f, logs, service, request, ports };
}

/** One device whose message service pushes through a realtime core, over a gated index. */
async function withRealtime() {
  const index = new GatedIndex();
  let core: ReturnType<typeof realtimeOver> | undefined;
  const t = await setup(
    {
      notify: async (mailbox, message, context) => core?.realtime.notify(mailbox, message, context),
      pushEarly: async (mailbox, message) =>
        (await core?.realtime.pushEarly(mailbox, message)) ?? 'offline',
    },
    1,
    index,
  );
  core = realtimeOver(t);
  return { t, live: core, index };
}

/** Frames sent per connection, and the realtime core over a memory registry. */
function realtimeOver(t: Awaited<ReturnType<typeof setup>>) {
  const frames: {
    connectionId: string;
    frame: { type: string; message?: { messageId: string } };
  }[] = [];
  const sender: ConnectionSender = {
    send: async (connectionId, text) => {
      frames.push({ connectionId, frame: JSON.parse(text) });
      return 'sent';
    },
    close: async () => undefined,
  };
  const connections = new MemoryConnections();
  const realtime = new RealtimeService(
    connections,
    sender,
    t.ports.accounts,
    t.service,
    () => t.f.clock.now,
  );
  return { frames, connections, realtime };
}

const body = (fill: number) => new Uint8Array(12).fill(fill);

describe('MessageService notifier hook', () => {
  it('notifies each stored message with its mailbox, as a fetch returns it', async () => {
    const calls: { mailbox: DeviceRef; message: DeliveredMessage }[] = [];
    const t = await setup({
      notify: async (mailbox, message) => void calls.push({ mailbox, message }),
    });
    await t.service.sendSealed(t.f.address, undefined, t.request([body(1), body(2)]));
    const byDevice = calls.sort((a, b) => a.mailbox.deviceId - b.mailbox.deviceId);
    expect(byDevice.map((c) => c.mailbox)).toEqual(t.f.callers.map((c) => c.ref));
    for (const [i, caller] of t.f.callers.entries()) {
      expect(await t.f.fetchAll(caller)).toEqual([byDevice[i]!.message]);
    }
    expect(t.logs).toEqual([]);
  });

  it('does not notify again when a retry finds the message stored', async () => {
    let count = 0;
    const t = await setup({ notify: async () => void count++ }, 1);
    const req = t.request([body(1)]);
    await t.service.sendSealed(t.f.address, undefined, req);
    expect(await t.service.sendSealed(t.f.address, undefined, req)).toEqual({
      messageId: req.messageId,
      duplicate: true,
    });
    expect(count).toBe(1);
  });

  it('never fails a send when the notifier throws or rejects, and logs only a count', async () => {
    const failing: Notifier[] = [
      {
        notify: () => {
          throw new Error('sync failure');
        },
      },
      { notify: () => Promise.reject(new Error('async failure')) },
    ];
    for (const notifier of failing) {
      const t = await setup(notifier);
      const req = t.request([body(1), body(2)]);
      await expect(t.service.sendSealed(t.f.address, undefined, req)).resolves.toEqual({
        messageId: req.messageId,
        duplicate: false,
      });
      expect(t.logs).toEqual(['{"realtimeNotifyFailed":2}']);
      for (const [i, caller] of t.f.callers.entries()) {
        const messages = await t.f.fetchAll(caller);
        expect(messages.map((m) => m.envelope)).toEqual([toBase64Url(body(i + 1))]);
      }
    }
  });

  it('pushes to a live connection while the record is still being written, and only once', async () => {
    const { t, live, index } = await withRealtime();
    await live.connections.put(t.f.callers[0]!.ref, 'c1', t.f.clock.now);
    index.hold();
    const sending = t.service.sendSealed(t.f.address, undefined, t.request([body(3)]));
    for (let i = 0; i < 200 && live.frames.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    // The frame is out; the record is not written yet.
    expect(index.writes).toBe(0);
    expect(live.frames[0]?.frame).toMatchObject({ type: 'message', pushed: true });
    index.open();
    const sent = await sending;
    expect(index.writes).toBe(1);
    // Not pushed a second time after the write.
    expect(live.frames).toHaveLength(1);
    const [stored] = await t.f.fetchAll(t.f.callers[0]!);
    expect(live.frames[0]?.frame.message?.messageId).toBe(stored?.messageId);
    expect(sent.duplicate).toBe(false);
  });

  it('pushes a pointer (a message too large for a frame) only after the record is written', async () => {
    const { t, live, index } = await withRealtime();
    await live.connections.put(t.f.callers[0]!.ref, 'c1', t.f.clock.now);
    index.hold();
    const sending = t.service.sendSealed(
      t.f.address,
      undefined,
      t.request([new Uint8Array(100_000).fill(5)]),
    );
    await new Promise((r) => setTimeout(r, 50));
    // A pointer sends the device to GET /v1/messages, which would not find the message yet.
    expect(live.frames).toEqual([]);
    index.open();
    await sending;
    const [stored] = await t.f.fetchAll(t.f.callers[0]!);
    expect(live.frames.map((f) => f.frame)).toEqual([
      expect.objectContaining({ type: 'message-pointer', messageId: stored?.messageId }),
    ]);
  });

  it('pushes after the write to a device that connected while it was under way', async () => {
    const { t, live, index } = await withRealtime();
    index.hold();
    const sending = t.service.sendSealed(t.f.address, undefined, t.request([body(4)]));
    await new Promise((r) => setTimeout(r, 5));
    // Offline at the early push; the device connects before the record is written.
    expect(live.frames).toEqual([]);
    await live.connections.put(t.f.callers[0]!.ref, 'c1', t.f.clock.now);
    index.open();
    await sending;
    expect(live.frames.map((f) => [f.connectionId, f.frame.type])).toEqual([['c1', 'message']]);
  });

  it('answers a failed store with an error after the early push; the retry keeps the position', async () => {
    const { t, live, index } = await withRealtime();
    await live.connections.put(t.f.callers[0]!.ref, 'c1', t.f.clock.now);
    index.failNext = true;
    const req = t.request([body(5)]);
    await expect(t.service.sendSealed(t.f.address, undefined, req)).rejects.toBeInstanceOf(
      UnavailableError,
    );
    // The device got the message; the server does not hold it yet.
    expect(live.frames).toHaveLength(1);
    expect(await t.f.fetchAll(t.f.callers[0]!)).toEqual([]);
    // The sender's retry stores it under the position the device already has (which it
    // drops by id when pushed or drained again).
    await t.service.sendSealed(t.f.address, undefined, req);
    const [stored] = await t.f.fetchAll(t.f.callers[0]!);
    expect(stored?.messageId).toBe(live.frames[0]?.frame.message?.messageId);
    expect(new Set(live.frames.map((f) => f.frame.message?.messageId)).size).toBe(1);
  });

  it('stores and fetches exactly as before without a notifier', async () => {
    const ports = {
      accounts: new MemoryAccountStore(),
      index: new MemoryMessageIndex(),
      blobs: new MemoryBlobStore(),
      limiter: new MemoryRateLimiter(),
    };
    const f = await mailboxFixture(ports, { devices: 1 });
    await f.send(randomBytes(16), [body(7)]);
    expect((await f.fetchAll(f.callers[0]!)).map((m) => m.envelope)).toEqual([
      toBase64Url(body(7)),
    ]);
  });
});
