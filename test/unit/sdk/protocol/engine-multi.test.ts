/**
 * Multi-recipient sends in the engine (docs/PROTOCOL.md §14.3, §14.6, §14.7): one shared payload
 * and a sealed header per device; each device opens its header with the payload and gets the
 * content, franked over the content; a wrong payload, or a legacy envelope delivered with one,
 * commits nothing. Through `ProtocolEngine`: `unseal` refuses a header (a payload reference
 * without its payload) and commits nothing; `unsealWithPayload` has unseal's duplicate
 * detection and atomic commit with the handler's ops.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import {
  DecryptError,
  DuplicateMessageError,
  MalformedEnvelopeError,
  NoSessionError,
} from '#sdk/errors.ts';
import { checkFrankingCommitment } from '#sdk/franking/index.ts';
import {
  sealHeaderFor,
  sealMultiRecipient,
  unsealWithPayload,
} from '#sdk/protocol/engine-multi.ts';
import { ArgumentRangeError, ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import { utf8 } from '#sdk/util/bytes.ts';
import {
  decodeMultiRecipientRequest,
  encodeMultiRecipientRequest,
  envelopeCommitment,
} from '#sdk/wire/index.ts';
import { aliceAndBob, Device, type makeServer } from './engine-fixtures.ts';

let clock = Date.UTC(2026, 10, 26);
const now = () => clock;

type Server = Awaited<ReturnType<typeof makeServer>>;

const contextOf = (d: Device) => d.engine['context'];

describe('multi-recipient sends in the engine', () => {
  let server: Server;
  let alice: Device;
  let bob: Device;
  let bob2: Device;
  let carol: Device;
  let cert: Uint8Array;

  beforeEach(async () => {
    clock = Date.UTC(2026, 10, 26);
    ({ server, alice, bob } = await aliceAndBob(now));
    bob2 = await Device.create(server.trust, now, 2, bob);
    carol = await Device.create(server.trust, now);
    for (const d of [bob, bob2, carol]) {
      await alice.engine.startSession(d.engine.address, d.bundle());
    }
    cert = await server.certify(alice.engine, alice.deviceId);
  });

  const open = (d: Device, header: Uint8Array, payload: Uint8Array) =>
    unsealWithPayload(contextOf(d), server.trust, header, payload);

  it('seals one payload and a header per device; each device opens it to the content', async () => {
    const content = utf8('one payload for three devices');
    const { payload, headers } = await sealMultiRecipient(
      contextOf(alice),
      [bob.peer, bob2.peer, carol.peer],
      content,
      cert,
    );
    expect(headers.map((h) => h.peer)).toEqual([bob.peer, bob2.peer, carol.peer]);
    // A first message is a prekey message: 2,817-byte headers with a 272-byte certificate.
    expect(cert.length).toBe(272);
    for (const { header } of headers) expect(header.length).toBe(2817);
    // 29 bytes of content: a body of padmeLength(4 + 29) = 36 bytes.
    expect(payload.length).toBe(33 + 36 + 16);
    const devices = [bob, bob2, carol];
    for (const [i, { header }] of headers.entries()) {
      const received = await open(devices[i]!, header, payload);
      expect(received.plaintext).toEqual(content);
      expect(received.sender).toEqual(alice.peer);
      // §14.7: the commitment is over the content, and it is the one the service stamps.
      const franking = received.franking!;
      expect(checkFrankingCommitment(franking.commitment, franking.openingKey, content)).toBe(true);
      expect(envelopeCommitment(header)).toEqual(franking.commitment);
    }
    // Every header has its own commitment and opening key.
    const commitments = headers.map(({ header }) => envelopeCommitment(header)!.join());
    expect(new Set(commitments).size).toBe(3);
  });

  it('gives 993-byte headers in an established session, and the request carries them', async () => {
    await bob.engine.unseal(await server.sealedTo(alice, bob, 'hi'));
    await alice.engine.unseal(await server.sealedTo(bob, alice, 'hello'));
    const content = new Uint8Array(1024).fill(7);
    const { payload, headers } = await sealMultiRecipient(
      contextOf(alice),
      [bob.peer],
      content,
      cert,
    );
    expect(headers[0]!.header.length).toBe(993);
    expect(payload.length).toBe(1137);
    const body = encodeMultiRecipientRequest({
      requestId: new Uint8Array(16).fill(1),
      accounts: [
        {
          address: bob.engine.address,
          auth: { kind: 'none' },
          devices: [{ deviceId: 1, registrationId: 5, header: headers[0]!.header }],
        },
      ],
      payload,
    });
    const decoded = decodeMultiRecipientRequest(body);
    const received = await open(bob, decoded.accounts[0]!.devices[0]!.header, decoded.payload);
    expect(received.plaintext).toEqual(content);
  });

  it('refuses another payload and commits nothing: the right one opens afterwards', async () => {
    const first = await sealMultiRecipient(contextOf(alice), [bob.peer], utf8('first'), cert);
    const other = await sealMultiRecipient(contextOf(alice), [carol.peer], utf8('first'), cert);
    await expect(open(bob, first.headers[0]!.header, other.payload)).rejects.toBeInstanceOf(
      DecryptError,
    );
    const flipped = first.payload.slice();
    flipped[40]! ^= 1;
    await expect(open(bob, first.headers[0]!.header, flipped)).rejects.toBeInstanceOf(DecryptError);
    const received = await open(bob, first.headers[0]!.header, first.payload);
    expect(received.plaintext).toEqual(utf8('first'));
  });

  it('refuses a legacy envelope delivered with a payload, and commits nothing', async () => {
    const envelope = await server.sealedTo(alice, bob, 'legacy');
    const { payload } = await sealMultiRecipient(contextOf(alice), [carol.peer], utf8('x'), cert);
    await expect(open(bob, envelope, payload)).rejects.toBeInstanceOf(MalformedEnvelopeError);
    const received = await bob.engine.unseal(envelope);
    expect(received.plaintext).toEqual(utf8('legacy'));
  });

  it('does not hand the content to a handler that fails, and redelivery works', async () => {
    const { payload, headers } = await sealMultiRecipient(
      contextOf(alice),
      [bob.peer],
      utf8('retry'),
      cert,
    );
    const failing = unsealWithPayload(
      contextOf(bob),
      server.trust,
      headers[0]!.header,
      payload,
      async () => {
        throw new Error('disk full');
      },
    );
    await expect(failing).rejects.toThrow('disk full');
    let handled: Uint8Array | undefined;
    await unsealWithPayload(
      contextOf(bob),
      server.trust,
      headers[0]!.header,
      payload,
      async (m) => {
        handled = m.plaintext;
        return undefined;
      },
    );
    expect(handled).toEqual(utf8('retry'));
  });

  it('checks its arguments and needs a session with every device', async () => {
    const ctx = contextOf(alice);
    await expect(sealMultiRecipient(ctx, [], utf8('x'), cert)).rejects.toBeInstanceOf(
      ArgumentTypeError,
    );
    await expect(
      sealMultiRecipient(ctx, [bob.peer, bob.peer], utf8('x'), cert),
    ).rejects.toBeInstanceOf(ArgumentRangeError);
    const stranger = await Device.create(server.trust, now);
    await expect(sealMultiRecipient(ctx, [stranger.peer], utf8('x'), cert)).rejects.toBeInstanceOf(
      NoSessionError,
    );
    await expect(
      sealHeaderFor(
        ctx,
        bob.peer,
        utf8('x'),
        { key: new Uint8Array(31), digest: new Uint8Array(32) },
        cert,
      ),
    ).rejects.toBeInstanceOf(ArgumentRangeError);
    await expect(
      unsealWithPayload(contextOf(bob), server.trust, new Uint8Array(600), 'x' as never),
    ).rejects.toBeInstanceOf(ArgumentTypeError);
  });
});

describe('ProtocolEngine.unseal and unsealWithPayload (PROTOCOL.md §14.6)', () => {
  let server: Server;
  let alice: Device;
  let bob: Device;
  let cert: Uint8Array;

  beforeEach(async () => {
    clock = Date.UTC(2026, 10, 26);
    ({ server, alice, bob } = await aliceAndBob(now));
    await alice.engine.startSession(bob.engine.address, bob.bundle());
    cert = await server.certify(alice.engine, alice.deviceId);
  });

  const multi = (text: string) =>
    sealMultiRecipient(contextOf(alice), [bob.peer], utf8(text), cert).then((m) => ({
      header: m.headers[0]!.header,
      payload: m.payload,
    }));

  it('unseal refuses a header (a payload reference) before any handler, and commits nothing', async () => {
    const { header, payload } = await multi('shared');
    let handled = 0;
    const count = async () => {
      handled++;
      return undefined;
    };
    await expect(bob.engine.unseal(header, count)).rejects.toBeInstanceOf(MalformedEnvelopeError);
    expect(handled).toBe(0);
    // Nothing was committed: the same header still opens, once, with its payload.
    const received = await bob.engine.unsealWithPayload(header, payload, count);
    expect(received.plaintext).toEqual(utf8('shared'));
    expect(received.sender).toEqual(alice.peer);
    expect(received.certificate.address).toBe(alice.engine.address);
    expect(handled).toBe(1);
  });

  it('unsealWithPayload hands the content and the franking data to the handler and commits with it', async () => {
    const { header, payload } = await multi('to the handler');
    let seen: { plaintext: Uint8Array; commitment?: Uint8Array } | undefined;
    const received = await bob.engine.unsealWithPayload(header, payload, async (m) => {
      seen = { plaintext: m.plaintext, commitment: m.franking?.commitment };
      return [{ ns: 'meta', key: 'handled', value: Uint8Array.of(1) }];
    });
    expect(seen?.plaintext).toEqual(utf8('to the handler'));
    expect(seen?.commitment).toEqual(envelopeCommitment(header));
    expect(
      checkFrankingCommitment(
        received.franking!.commitment,
        received.franking!.openingKey,
        utf8('to the handler'),
      ),
    ).toBe(true);
    // The handler's op went into the same commit as the session.
    expect(await bob.engine.store.get('meta', 'handled')).toEqual(Uint8Array.of(1));
  });

  it('unsealWithPayload detects a duplicate as unseal does', async () => {
    const { header, payload } = await multi('once');
    await bob.engine.unsealWithPayload(header, payload);
    await expect(bob.engine.unsealWithPayload(header, payload)).rejects.toBeInstanceOf(
      DuplicateMessageError,
    );
    // A per-device envelope after it opens as usual: the session went on.
    const later = await server.sealedTo(alice, bob, 'later');
    expect((await bob.engine.unseal(later)).plaintext).toEqual(utf8('later'));
  });

  it('unsealWithPayload refuses a content frame delivered with a payload, and commits nothing', async () => {
    const envelope = await server.sealedTo(alice, bob, 'per device');
    const { payload } = await multi('other');
    await expect(bob.engine.unsealWithPayload(envelope, payload)).rejects.toBeInstanceOf(
      MalformedEnvelopeError,
    );
    expect((await bob.engine.unseal(envelope)).plaintext).toEqual(utf8('per device'));
  });

  it('unsealWithPayload commits nothing when the handler throws or the payload is damaged', async () => {
    const { header, payload } = await multi('again');
    await expect(
      bob.engine.unsealWithPayload(header, payload, async () => {
        throw new Error('disk full');
      }),
    ).rejects.toThrow('disk full');
    const damaged = payload.slice();
    damaged[damaged.length - 1]! ^= 1;
    await expect(bob.engine.unsealWithPayload(header, damaged)).rejects.toBeInstanceOf(
      DecryptError,
    );
    expect((await bob.engine.unsealWithPayload(header, payload)).plaintext).toEqual(utf8('again'));
  });
});
