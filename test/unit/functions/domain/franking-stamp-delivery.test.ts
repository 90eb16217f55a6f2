/**
 * Delivery stamps on the wire (docs/PROTOCOL.md §11.4, docs/SERVICE.md §7.2-§7.3): a fetched
 * and a pushed or drained message whose envelope has a version-2 commitment carries the stamp
 * of that commitment for the receiving device, its time and its id; any other envelope is
 * delivered without one; and stamping stores nothing (the memory store is the same before and
 * after a delivery).
 */
import { describe, expect, it } from 'vitest';
import { MemoryAccountStore } from '#functions/adapters/memory/memory-account-store.ts';
import { MemoryBlobStore } from '#functions/adapters/memory/memory-blob-store.ts';
import { MemoryConnections } from '#functions/adapters/memory/memory-connections.ts';
import { MemoryMessageIndex } from '#functions/adapters/memory/memory-message-index.ts';
import { MemoryRateLimiter } from '#functions/adapters/memory/memory-rate-limiter.ts';
import type { Caller } from '#functions/domain/auth-service.ts';
import { DEFAULT_CONFIG } from '#functions/domain/config.ts';
import { randomBytes } from '#functions/domain/crypto.ts';
import { DeliveryStamps, frankingStamp } from '#functions/domain/franking-stamp.ts';
import { MessageService } from '#functions/domain/message-service.ts';
import type { ConnectionSender } from '#functions/domain/realtime-ports.ts';
import { RealtimeService } from '#functions/domain/realtime-service.ts';
import {
  generateSigningMaterial,
  StaticSigningKeyProvider,
} from '#functions/domain/signing-material.ts';
import { toHex } from '#sdk/util/bytes.ts';
import { fromBase64Url, toBase64Url } from '#sdk/wire/api/codec.ts';
import { createMessageId } from '#sdk/wire/api/message-id.ts';
import type { ServerFrame } from '#sdk/wire/api/realtime.ts';
import type { DeliveredMessage } from '#sdk/wire/api/schemas.ts';
import {
  accessHeaders,
  BOB_ACCESS_KEY,
  harness,
  memoryPorts,
  newMessageId,
  sendBody,
  testMaterial,
} from '../fixtures.ts';
import { mailboxFixture } from './mailbox-fixture.ts';

/** A version-2 sealed envelope's bytes as the service sees them: `2 || commitment || rest`. */
function envelope(commitment: Uint8Array, version = 2): Uint8Array {
  const bytes = randomBytes(1 + 32 + 32 + 48 + 500);
  bytes[0] = version;
  bytes.set(commitment, 1);
  return bytes;
}

/**
 * Everything an object graph holds, as canonical text: Maps and Sets sorted, bytes as hex,
 * functions left out. Two dumps are equal exactly when no item, key or attribute changed.
 */
function dump(value: unknown, seen = new WeakSet<object>()): string {
  if (value instanceof Uint8Array) return `hex:${toHex(value)}`;
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'fn';
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'undefined';
  if (seen.has(value)) return 'cycle';
  seen.add(value);
  if (value instanceof Map) {
    return `Map{${[...value.entries()]
      .map(([k, v]) => `${dump(k, seen)}=>${dump(v, seen)}`)
      .sort()
      .join(',')}}`;
  }
  if (value instanceof Set) {
    return `Set{${[...value]
      .map((v) => dump(v, seen))
      .sort()
      .join(',')}}`;
  }
  if (Array.isArray(value)) return `[${value.map((v) => dump(v, seen)).join(',')}]`;
  return `{${Object.keys(value)
    .sort()
    .map((k) => `${k}:${dump((value as Record<string, unknown>)[k], seen)}`)
    .join(',')}}`;
}

describe('stamps on GET /v1/messages', () => {
  it('stamps the commitment for each receiving device; other envelopes carry none', async () => {
    const material = testMaterial();
    const h = harness(memoryPorts(material));
    const bob = await h.register(BOB_ACCESS_KEY);
    const bob2 = await h.link(bob.account);
    const commitment = randomBytes(32);
    const franked = envelope(commitment);
    const plain = envelope(commitment, 1);
    for (const body of [franked, plain]) {
      const res = await h.call({
        method: 'PUT',
        path: `/v1/messages/${bob.account.address}`,
        headers: accessHeaders(),
        json: sendBody(newMessageId(h.clock.now), [
          [1, body],
          [2, body],
        ]),
      });
      expect(res.status).toBe(200);
    }
    for (const device of [bob, bob2]) {
      const res = await h.call({ method: 'GET', path: '/v1/messages', signer: device });
      expect(res.status).toBe(200);
      const [first, second] = res.body.messages as DeliveredMessage[];
      expect(fromBase64Url(first!.envelope)).toEqual(franked);
      const expected = frankingStamp(material.stampSecret, {
        commitment,
        recipientAddress: bob.account.address,
        recipientDeviceId: device.deviceId,
        receivedAt: first!.receivedAt,
        messageId: fromBase64Url(first!.messageId),
      });
      expect(first!.stamp).toBe(toBase64Url(expected));
      expect(fromBase64Url(second!.envelope)).toEqual(plain);
      expect(second).not.toHaveProperty('stamp');
    }
  });

  it('gives the same stamp at every delivery and stores nothing for it', async () => {
    const material = testMaterial();
    const h = harness(memoryPorts(material));
    const bob = await h.register(BOB_ACCESS_KEY);
    await h.call({
      method: 'PUT',
      path: `/v1/messages/${bob.account.address}`,
      headers: accessHeaders(),
      json: sendBody(newMessageId(h.clock.now), [[1, envelope(randomBytes(32))]]),
    });
    // The replay store records each signed request's nonce (the fetch's own, not the
    // delivery's), so it is left out; everything else must stay exactly as it was.
    const { replay: _replay, ...stores } = h.ports;
    const before = dump(stores);
    const first = await h.call({ method: 'GET', path: '/v1/messages', signer: bob });
    const afterFirst = dump(stores);
    const again = await h.call({ method: 'GET', path: '/v1/messages', signer: bob });
    expect(afterFirst).toBe(before);
    expect(dump(stores)).toBe(before);
    expect(first.body.messages[0]!.stamp).toHaveLength(43);
    expect(again.body.messages[0]!.stamp).toBe(first.body.messages[0]!.stamp);
    // The dump does see the message: acknowledging it changes the store.
    await h.call({
      method: 'POST',
      path: '/v1/messages/ack',
      signer: bob,
      json: { messageIds: [first.body.messages[0]!.messageId] },
    });
    expect(dump(stores)).not.toBe(before);
  });
});

/** Records every frame per connection. */
class RecordingSender implements ConnectionSender {
  readonly texts = new Map<string, string[]>();
  async send(connectionId: string, frameText: string): Promise<'sent' | 'gone'> {
    this.texts.set(connectionId, [...(this.texts.get(connectionId) ?? []), frameText]);
    return 'sent';
  }
  async close(): Promise<void> {}
  frames(connectionId: string): ServerFrame[] {
    return (this.texts.get(connectionId) ?? []).map((t) => JSON.parse(t) as ServerFrame);
  }
}

describe('stamps on realtime frames', () => {
  async function setup() {
    const { material } = generateSigningMaterial({ keyId: 2, notAfter: 2_000_000_000_000 });
    const ports = {
      accounts: new MemoryAccountStore(),
      index: new MemoryMessageIndex(),
      blobs: new MemoryBlobStore(),
      limiter: new MemoryRateLimiter(),
    };
    const f = await mailboxFixture(ports, { devices: 1 });
    await ports.accounts.updateSettings(f.address, { unrestricted: true });
    const sender = new RecordingSender();
    const clock = () => f.clock.now;
    const messages = new MessageService(
      ports.accounts,
      ports.index,
      ports.blobs,
      ports.limiter,
      clock,
      DEFAULT_CONFIG,
      randomBytes,
      { notifier: { notify: (...a) => realtime.notify(...a) }, log: () => undefined },
      undefined,
      new DeliveryStamps(new StaticSigningKeyProvider(material)),
    );
    const realtime: RealtimeService = new RealtimeService(
      new MemoryConnections(),
      sender,
      ports.accounts,
      messages,
      clock,
    );
    const caller = f.callers[0]! as Caller;
    const send = (body: Uint8Array) =>
      messages.sendSealed(f.address, undefined, {
        messageId: toBase64Url(createMessageId(f.clock.now, randomBytes(10))),
        envelopes: [{ deviceId: 1, envelope: toBase64Url(body) }],
      });
    const expectedStamp = (commitment: Uint8Array, m: { receivedAt: number; messageId: string }) =>
      toBase64Url(
        frankingStamp(material.stampSecret, {
          commitment,
          recipientAddress: f.address,
          recipientDeviceId: 1,
          receivedAt: m.receivedAt,
          messageId: fromBase64Url(m.messageId),
        }),
      );
    return { sender, realtime, caller, send, expectedStamp };
  }

  it('a pushed frame carries the stamp the drain and a fetch give the same message', async () => {
    const t = await setup();
    await t.realtime.connected(t.caller, 'c1');
    const commitment = randomBytes(32);
    await t.send(envelope(commitment));
    await t.send(envelope(commitment, 1));
    const pushed = t.sender.frames('c1');
    expect(pushed.map((f) => f.type)).toEqual(['message', 'message']);
    const [franked, plain] = pushed as Extract<ServerFrame, { type: 'message' }>[];
    expect(franked!.pushed).toBe(true);
    expect(franked!.message.stamp).toBe(t.expectedStamp(commitment, franked!.message));
    expect(plain!.message).not.toHaveProperty('stamp');
    await t.realtime.drain('c1');
    const drained = t.sender.frames('c1').slice(2) as Extract<ServerFrame, { type: 'message' }>[];
    expect(drained.map((f) => f.type)).toEqual(['message', 'message', 'queue-empty']);
    expect(drained[0]!.message).toEqual(franked!.message);
    expect(drained[1]!.message).toEqual(plain!.message);
  });
});
