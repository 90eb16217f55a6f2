/**
 * The SDK side of blocking and key rotation (docs/SDK.md, "Blocking and access keys") below
 * the end-to-end tests: the key-update content frame (kind 3) and its one encoding, the local
 * block list and contact enumeration of the client state, argument checks of `block`, and the
 * rotation's timer backing off while the service cannot be given the key.
 */
import { createHash } from 'node:crypto';
import { TestSealpost } from '@sealpost/testing';
import { describe, expect, it } from 'vitest';
import { ClientState, MAX_BLOCKED_CONTACTS } from '#sdk/client/client-state.ts';
import {
  CONTENT_KIND_KEY_UPDATE,
  CONTENT_KIND_MESSAGE,
  CONTENT_VERSION,
  type Content,
  decodeContent,
  encodeContent,
} from '#sdk/client/content.ts';
import { SealpostClient } from '#sdk/client/index.ts';
import { FIRST_RETRY_DELAY_MS, type OutboxTimer } from '#sdk/client/outbox.ts';
import { MalformedEnvelopeError } from '#sdk/errors.ts';
import { MemoryStore } from '#sdk/state/memory-store.ts';
import { ArgumentRangeError, ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import { fromBase64Url } from '#sdk/util/bytes.ts';
import { MAX_BLOCKED_ACCOUNTS } from '#sdk/wire/api/schemas.ts';
import { addressFromBytes } from '#sdk/wire/identity.ts';

const KEY = Uint8Array.from({ length: 16 }, (_, i) => 0x30 + i);
const address = (n: number) => addressFromBytes(new Uint8Array(20).fill(n));

const keyUpdate = (): Content => ({
  kind: CONTENT_KIND_KEY_UPDATE,
  text: false,
  senderAccessKey: KEY,
  sentAt: 1_750_000_000_000,
  body: new Uint8Array(0),
});

describe('the key-update frame (kind 3)', () => {
  it('is the header alone, and round-trips', () => {
    const bytes = encodeContent(keyUpdate());
    expect(bytes.length).toBe(3 + 16 + 8);
    expect([...bytes.subarray(0, 3)]).toEqual([CONTENT_VERSION, CONTENT_KIND_KEY_UPDATE, 0]);
    expect(bytes.subarray(3, 19)).toEqual(KEY);
    expect(decodeContent(bytes)).toEqual(keyUpdate());
  });

  it('is refused by the encoder with text, a body, attachments or a destination', () => {
    for (const bad of [
      { ...keyUpdate(), text: true },
      { ...keyUpdate(), body: Uint8Array.of(1) },
      { ...keyUpdate(), destination: address(1) },
    ]) {
      expect(() => encodeContent(bad)).toThrow(ArgumentRangeError);
    }
    const pointer = { attachments: [{}] } as unknown as Partial<Content>;
    expect(() => encodeContent({ ...keyUpdate(), ...pointer })).toThrow();
  });

  it('has one encoding: the decoder refuses flags and any byte past the header', () => {
    const good = encodeContent(keyUpdate());
    for (const flags of [0x01, 0x02]) {
      const bytes = good.slice();
      bytes[2] = flags;
      expect(() => decodeContent(bytes)).toThrow(MalformedEnvelopeError);
    }
    const longer = new Uint8Array(good.length + 1);
    longer.set(good);
    expect(() => decodeContent(longer)).toThrow(MalformedEnvelopeError);
    expect(() => decodeContent(good.subarray(0, good.length - 1))).toThrow(MalformedEnvelopeError);
    // A message frame is still a message frame; kind 4 is still unknown.
    const message = encodeContent({ ...keyUpdate(), kind: CONTENT_KIND_MESSAGE });
    expect(decodeContent(message).kind).toBe(CONTENT_KIND_MESSAGE);
    const four = good.slice();
    four[1] = 4;
    expect(() => decodeContent(four)).toThrow(MalformedEnvelopeError);
  });
});

describe('client state', () => {
  it('keeps the local block list in address order', async () => {
    const state = new ClientState(new MemoryStore());
    await state.store.commit([state.blockOp(address(9)), state.blockOp(address(2))]);
    expect(await state.blocked()).toEqual([address(2), address(9)]);
    expect(await state.isBlocked(address(9))).toBe(true);
    await state.store.commit([state.blockOp(address(9), false)]);
    expect(await state.isBlocked(address(9))).toBe(false);
    expect(await state.blocked()).toEqual([address(2)]);
    expect(MAX_BLOCKED_CONTACTS).toBe(MAX_BLOCKED_ACCOUNTS);
  });

  it('enumerates contacts from device lists and access keys, once each, bounded', async () => {
    const state = new ClientState(new MemoryStore());
    await state.store.commit([
      state.devicesOp(address(3), [{ deviceId: 1, registrationId: 7 }]),
      state.accessKeyOp(address(3), KEY),
      state.accessKeyOp(address(1), KEY),
      state.devicesOp(address(5), []),
      state.blockOp(address(8)),
      { ns: 'meta', key: 'devices:not-an-address', value: Uint8Array.of(1, 0) },
    ]);
    expect(await state.contacts()).toEqual([address(1), address(3), address(5)]);
    expect(await state.contacts(2)).toEqual([address(1), address(3)]);
  });
});

describe('client', () => {
  it('refuses to block a malformed address or its own', async () => {
    const sealpost = await TestSealpost.start();
    const alice = await sealpost.register();
    await expect(alice.block('nope')).rejects.toBeInstanceOf(ArgumentTypeError);
    await expect(alice.block(alice.address)).rejects.toBeInstanceOf(ArgumentRangeError);
    await expect(alice.unblock(alice.address)).rejects.toBeInstanceOf(ArgumentRangeError);
    expect(await alice.blocked()).toEqual([]);
    expect(alice.debugCounters()).toEqual({ blockedDropped: 0 });
  });

  it('backs its timer off while the service cannot be given the key, and finishes later', async () => {
    const sealpost = await TestSealpost.start();
    let down = true;
    const fetch: typeof sealpost.fetch = async (url, init) => {
      if (down && new URL(url).pathname === '/v1/account/settings') {
        throw new TypeError('fetch failed');
      }
      return sealpost.fetch(url, init);
    };
    const timers: { callback: () => void; delayMs: number }[] = [];
    const timer: OutboxTimer = (callback, delayMs) => {
      timers.push({ callback, delayMs });
      return () => undefined;
    };
    const store = new MemoryStore();
    await sealpost.register({ store });
    const alice = await SealpostClient.open({
      ...sealpost.clientOptions(store),
      fetch,
      retries: 0,
      outbox: { timer },
      tokens: { autoRefill: false },
    });
    await expect(alice.rotateAccessKey()).rejects.toMatchObject({ code: 'NETWORK' });
    // Not at once again (that would spin): after the first retry delay, doubling.
    expect(timers.map((t) => t.delayMs)).toEqual([FIRST_RETRY_DELAY_MS]);
    timers[0]?.callback();
    // Flushes run one after the other: this one waits for the timer's, which failed too.
    await expect(alice.flushKeyUpdates()).rejects.toMatchObject({ code: 'NETWORK' });
    expect(timers.map((t) => t.delayMs)).toEqual([
      FIRST_RETRY_DELAY_MS,
      2 * FIRST_RETRY_DELAY_MS,
      4 * FIRST_RETRY_DELAY_MS,
    ]);

    down = false;
    timers.at(-1)?.callback();
    // Runs after the timer's flush, which gave the service the key and sent the own update.
    expect(await alice.flushKeyUpdates()).toEqual({ sent: 0, pending: 0, errors: [] });
    expect(timers).toHaveLength(3);
    expect(await alice.pendingKeyUpdates()).toBe(0);
    // The service holds the hash of the key the client uses.
    const key = fromBase64Url(alice.contactCard().accessKey);
    const stored = await sealpost.ports.accounts.get(alice.address);
    expect(stored?.account.accessKeyHash).toEqual(
      new Uint8Array(createHash('sha256').update(key).digest()),
    );
  });
});
