import { describe, expect, it } from 'vitest';
import { MemoryAccountStore } from '#functions/adapters/memory/memory-account-store.ts';
import { MemoryBlobStore } from '#functions/adapters/memory/memory-blob-store.ts';
import { MemoryMessageIndex } from '#functions/adapters/memory/memory-message-index.ts';
import { MemoryRateLimiter } from '#functions/adapters/memory/memory-rate-limiter.ts';
import { DEFAULT_CONFIG } from '#functions/domain/config.ts';
import { randomBytes } from '#functions/domain/crypto.ts';
import { MessageService } from '#functions/domain/message-service.ts';
import type { DeviceRef } from '#functions/domain/ports.ts';
import type { Notifier } from '#functions/domain/realtime-ports.ts';
import { toBase64Url } from '#sdk/wire/api/codec.ts';
import { createMessageId } from '#sdk/wire/api/message-id.ts';
import type { DeliveredMessage, SendRequest } from '#sdk/wire/api/schemas.ts';
import { mailboxFixture } from './mailbox-fixture.ts';

async function setup(notifier: Notifier, devices = 2) {
  const ports = {
    accounts: new MemoryAccountStore(),
    index: new MemoryMessageIndex(),
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
  return { f, logs, service, request };
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
