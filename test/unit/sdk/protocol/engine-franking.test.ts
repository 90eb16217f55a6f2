/**
 * Franking inside the engine (PROTOCOL.md §11.5): every sealed message is franked before it is
 * encrypted, and a received one is handed to the app only if a report of it would verify.
 * Malicious senders are played by sealing a real session message with `sealedSenderSeal` and
 * franking fields of the test's choosing, exactly what a modified sender engine could send.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { defaultBackend, systemRng } from '#sdk/crypto/index.ts';
import { FrankingUnavailableError, UnreportableMessageError } from '#sdk/errors.ts';
import {
  checkFrankingCommitment,
  deriveFrankingKeyPair,
  forgeFranking,
  frank,
  frankingCommitment,
  frankingMessage,
  frankingSessionMessage,
  generateFrankingKeyPair,
  judgeFranking,
  moderatorForgeFranking,
  receiverForgeFranking,
  verifyFranking,
} from '#sdk/franking/index.ts';
import { issueModeratorCertificate } from '#sdk/protocol/certificates.ts';
import { FRANKING_SESSION_LIFETIME_MS } from '#sdk/protocol/engine-franking.ts';
import type { ReceivedMessage } from '#sdk/protocol/engine-types.ts';
import { sealedSenderSeal } from '#sdk/protocol/sealed-sender.ts';
import { ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import { utf8 } from '#sdk/util/bytes.ts';
import type { MessageType } from '#sdk/wire/messages.ts';
import type { SealedFranking } from '#sdk/wire/sealed.ts';
import { aliceAndBob, DAY, Device, makeServer } from './engine-fixtures.ts';

let clock = Date.UTC(2026, 10, 26);
const now = () => clock;
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const backend = defaultBackend;

type Server = Awaited<ReturnType<typeof makeServer>>;

/** The device's franking key pair, derived from its DH identity as the engine does. */
const frankingKeys = (d: Device) => deriveFrankingKeyPair(d.engine['local'].dhPrivate);

/** Every session record of a device, to show that a refused step changed none. */
async function sessions(d: Device): Promise<Map<string, Uint8Array | undefined>> {
  const out = new Map<string, Uint8Array | undefined>();
  for (const key of await d.store.keys('session')) out.set(key, await d.store.get('session', key));
  return out;
}

interface Franked {
  readonly commitment: Uint8Array;
  readonly franking: SealedFranking;
  /** The seed of the franking session key. */
  readonly seed: Uint8Array;
}

/** What a franking session signature is over, for `from` -> `to` (PROTOCOL.md §11.3.2). */
function sessionContext(
  from: Device,
  to: { address: string; deviceId: number },
  sessionKey: Uint8Array,
  moderatorKeyId: number,
) {
  return frankingSessionMessage({
    sessionKey,
    senderAddress: from.engine.address,
    senderDeviceId: from.deviceId,
    recipientAddress: to.address,
    recipientDeviceId: to.deviceId,
    moderatorKeyId,
  });
}

/** What a session key signs for one message, for `from` -> `to` (PROTOCOL.md §11.3.2). */
function context(
  from: Device,
  to: { address: string; deviceId: number },
  commitment: Uint8Array,
  moderatorKeyId: number,
) {
  return frankingMessage({
    commitment,
    senderAddress: from.engine.address,
    senderDeviceId: from.deviceId,
    recipientAddress: to.address,
    recipientDeviceId: to.deviceId,
    moderatorKeyId,
  });
}

describe('franking in the engine', () => {
  let server: Server;
  let alice: Device;
  let bob: Device;
  let cert: Uint8Array;
  beforeEach(async () => {
    clock = Date.UTC(2026, 10, 26);
    ({ server, alice, bob } = await aliceAndBob(now));
    cert = await server.certify(alice.engine, alice.deviceId);
  });

  /**
   * Franks `plaintext` from alice to bob honestly, by the spec, with the fixture moderator: a
   * session (key from `seed`, franking signature over it) and the message signed by its key.
   */
  function honest(plaintext: Uint8Array, seed = systemRng(32)): Franked {
    const openingKey = systemRng(32);
    const commitment = frankingCommitment(openingKey, plaintext);
    const keyId = server.moderator.keyId;
    const sessionKey = ed25519.getPublicKey(seed);
    const signature = frank(systemRng, {
      senderSecret: frankingKeys(alice).secretKey,
      senderPublic: alice.engine.frankingPublicKey,
      recipientPublic: bob.engine.frankingPublicKey,
      moderatorPublic: server.moderator.publicKey,
      message: sessionContext(alice, bob.peer, sessionKey, keyId),
    });
    const messageSignature = ed25519.sign(context(alice, bob.peer, commitment, keyId), seed);
    return { commitment, seed, franking: { openingKey, sessionKey, signature, messageSignature } };
  }

  /**
   * `honest(plaintext)` with its session signature replaced by one made by `frank` with the
   * given changes, as a modified sender would: other keys, recipient device or moderator key id.
   */
  function refranked(
    plaintext: Uint8Array,
    change: {
      keys?: Partial<Parameters<typeof frank>[1]>;
      to?: { address: string; deviceId: number };
      keyId?: number;
    },
  ): Franked {
    const h = honest(plaintext);
    const keyId = change.keyId ?? server.moderator.keyId;
    const signature = frank(systemRng, {
      senderSecret: frankingKeys(alice).secretKey,
      senderPublic: alice.engine.frankingPublicKey,
      recipientPublic: bob.engine.frankingPublicKey,
      moderatorPublic: server.moderator.publicKey,
      message: sessionContext(alice, change.to ?? bob.peer, h.franking.sessionKey, keyId),
      ...change.keys,
    });
    return { ...h, franking: { ...h.franking, signature } };
  }

  /** Seals a session message from alice to bob with the given franking fields. */
  const sealRaw = (type: MessageType, body: Uint8Array, f: Franked, certificate = cert) =>
    sealedSenderSeal(backend, systemRng, {
      senderIdentity: {
        dhPrivate: alice.engine['local'].dhPrivate,
        dhPublic: alice.engine.identity.dhPublic,
      },
      recipientDhPublic: bob.engine.identity.dhPublic,
      senderCertificate: certificate,
      contentType: type,
      message: body,
      ...f,
    });

  /** A handler that records every call. */
  function recorder() {
    const seen: ReceivedMessage[] = [];
    const handle = vi.fn(async (m: ReceivedMessage) => {
      seen.push(m);
      return undefined;
    });
    return { seen, handle };
  }

  describe('an honest sealed message', () => {
    it('hands the app a franking whose commitment opens and whose signature the moderator accepts', async () => {
      await alice.engine.startSession(bob.engine.address, bob.bundle());
      const plaintext = utf8('report me if you must');
      const envelope = await alice.engine.seal(bob.peer, plaintext, cert);
      const { seen, handle } = recorder();
      const received = await bob.engine.unseal(envelope, handle);
      expect(handle).toHaveBeenCalledTimes(1);
      const f = seen[0]!.franking!;
      expect(received.franking).toEqual(f);
      expect(text(seen[0]!.plaintext)).toBe('report me if you must');

      // The commitment is the one in clear in the envelope, and opens to exactly the plaintext.
      expect(envelope.subarray(1, 33)).toEqual(f.commitment);
      expect(checkFrankingCommitment(f.commitment, f.openingKey, plaintext)).toBe(true);
      expect(
        checkFrankingCommitment(f.commitment, f.openingKey, utf8('report me if you mus')),
      ).toBe(false);
      expect(f.moderatorKeyId).toBe(server.moderator.keyId);
      expect(f.senderCertificate).toEqual(cert);
      expect(f.signature).toHaveLength(304);
      expect(f.sessionKey).toHaveLength(32);
      expect(f.messageSignature).toHaveLength(64);

      // The session key signed exactly this message's franked message.
      expect(
        ed25519.verify(
          f.messageSignature,
          context(alice, bob.peer, f.commitment, f.moderatorKeyId),
          f.sessionKey,
        ),
      ).toBe(true);
      // The moderator's judgement and the receiver's check both hold for the session.
      const message = sessionContext(alice, bob.peer, f.sessionKey, f.moderatorKeyId);
      const claim = {
        senderPublic: alice.engine.frankingPublicKey,
        moderatorPublic: server.moderator.publicKey,
        message,
        signature: f.signature,
      };
      expect(judgeFranking({ ...claim, moderatorSecret: server.moderator.secretKey })).toBe(true);
      expect(verifyFranking({ ...claim, recipientSecret: frankingKeys(bob).secretKey })).toBe(true);
      // Bound to the pair of devices: it does not judge as sent to another device of bob's.
      expect(
        judgeFranking({
          ...claim,
          message: sessionContext(
            alice,
            { ...bob.peer, deviceId: 2 },
            f.sessionKey,
            f.moderatorKeyId,
          ),
          moderatorSecret: server.moderator.secretKey,
        }),
      ).toBe(false);
    });

    it('franks each message afresh: a new opening key and commitment per message', async () => {
      await alice.engine.startSession(bob.engine.address, bob.bundle());
      const same = utf8('same words');
      const first = await bob.engine.unseal(await alice.engine.seal(bob.peer, same, cert));
      const second = await bob.engine.unseal(await alice.engine.seal(bob.peer, same, cert));
      expect(second.franking!.openingKey).not.toEqual(first.franking!.openingKey);
      expect(second.franking!.commitment).not.toEqual(first.franking!.commitment);
      expect(second.franking!.messageSignature).not.toEqual(first.franking!.messageSignature);
    });

    it('keeps one franking session per recipient device until it is a day old', async () => {
      await alice.engine.startSession(bob.engine.address, bob.bundle());
      const say = async (words: string) =>
        (await bob.engine.unseal(await alice.engine.seal(bob.peer, utf8(words), cert))).franking!;
      const first = await say('one');
      const second = await say('two');
      // The same session key and franking signature: Frank ran once for both messages.
      expect(second.sessionKey).toEqual(first.sessionKey);
      expect(second.signature).toEqual(first.signature);
      clock += FRANKING_SESSION_LIFETIME_MS - 1;
      cert = await server.certify(alice.engine, alice.deviceId);
      expect((await say('three')).sessionKey).toEqual(first.sessionKey);
      clock += 1;
      const fourth = await say('four');
      expect(fourth.sessionKey).not.toEqual(first.sessionKey);
      expect(fourth.signature).not.toEqual(first.signature);
      // A new franking key for the recipient device starts a new session at once.
      await alice.engine.setPeerFrankingKey(bob.peer, generateFrankingKeyPair(systemRng).publicKey);
      await alice.engine.seal(bob.peer, utf8('never delivered'), cert);
      await alice.engine.setPeerFrankingKey(bob.peer, bob.engine.frankingPublicKey);
      const fifth = await say('five');
      expect(fifth.sessionKey).not.toEqual(fourth.sessionKey);
    });

    it('checks the message signature of every message in a session it verified before', async () => {
      await alice.engine.startSession(bob.engine.address, bob.bundle());
      const { type, body } = await alice.engine.encrypt(bob.peer, utf8('one'));
      const seed = systemRng(32);
      const one = honest(utf8('one'), seed);
      await bob.engine.unseal(await sealRaw(type, body, one));
      const next = await alice.engine.encrypt(bob.peer, utf8('two'));
      const two = honest(utf8('two'), seed);
      // The remembered session with a signature over the previous message, or by another key.
      for (const franking of [
        { ...one.franking, openingKey: two.franking.openingKey },
        {
          ...two.franking,
          signature: one.franking.signature,
          messageSignature: ed25519.sign(
            context(alice, bob.peer, two.commitment, server.moderator.keyId),
            systemRng(32),
          ),
        },
      ]) {
        const error = await bob.engine
          .unseal(await sealRaw(next.type, next.body, { ...two, franking }))
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(UnreportableMessageError);
      }
      const ok = await bob.engine.unseal(
        await sealRaw(next.type, next.body, {
          ...two,
          franking: { ...two.franking, signature: one.franking.signature },
        }),
      );
      expect(text(ok.plaintext)).toBe('two');
      expect(ok.franking!.signature).toEqual(one.franking.signature);
    });
  });

  describe('a message whose report would not verify (receiver binding)', () => {
    const plaintext = utf8('first contact');

    /** Each case: how a malicious sender franks `plaintext`, and the check that must fail. */
    const cases: [string, UnreportableMessageError['reason'], () => Franked][] = [
      [
        'a commitment to other content (validly signed)',
        'commitment',
        () => {
          const openingKey = systemRng(32);
          const commitment = frankingCommitment(openingKey, utf8('something harmless'));
          const h = honest(plaintext);
          const messageSignature = ed25519.sign(
            context(alice, bob.peer, commitment, server.moderator.keyId),
            h.seed,
          );
          return { ...h, commitment, franking: { ...h.franking, openingKey, messageSignature } };
        },
      ],
      [
        'an opening key that does not open the commitment',
        'commitment',
        () => {
          const h = honest(plaintext);
          return { ...h, franking: { ...h.franking, openingKey: systemRng(32) } };
        },
      ],
      [
        'a random 304-byte signature',
        'signature',
        () => {
          const h = honest(plaintext);
          return { ...h, franking: { ...h.franking, signature: systemRng(304) } };
        },
      ],
      [
        'a universal forgery (forgeFranking: anyone, public keys only)',
        'signature',
        () => {
          const h = honest(plaintext);
          const signature = forgeFranking(systemRng, {
            senderPublic: alice.engine.frankingPublicKey,
            recipientPublic: bob.engine.frankingPublicKey,
            moderatorPublic: server.moderator.publicKey,
            message: sessionContext(alice, bob.peer, h.franking.sessionKey, server.moderator.keyId),
          });
          return { ...h, franking: { ...h.franking, signature } };
        },
      ],
      [
        "a receiver forgery made with another device's secret",
        'signature',
        () => {
          const h = honest(plaintext);
          const signature = receiverForgeFranking(systemRng, {
            recipientSecret: generateFrankingKeyPair(systemRng).secretKey,
            senderPublic: alice.engine.frankingPublicKey,
            moderatorPublic: server.moderator.publicKey,
            message: sessionContext(alice, bob.peer, h.franking.sessionKey, server.moderator.keyId),
          });
          return { ...h, franking: { ...h.franking, signature } };
        },
      ],
      [
        'a moderator forgery under a key other than the certified one',
        'signature',
        () => {
          const h = honest(plaintext);
          const signature = moderatorForgeFranking(systemRng, {
            moderatorSecret: generateFrankingKeyPair(systemRng).secretKey,
            senderPublic: alice.engine.frankingPublicKey,
            recipientPublic: bob.engine.frankingPublicKey,
            message: sessionContext(alice, bob.peer, h.franking.sessionKey, server.moderator.keyId),
          });
          return { ...h, franking: { ...h.franking, signature } };
        },
      ],
      [
        'a signature franked for another moderator public key under the same key id',
        'signature',
        () =>
          refranked(plaintext, {
            keys: { moderatorPublic: generateFrankingKeyPair(systemRng).publicKey },
          }),
      ],
      [
        "a signature franked for another recipient's franking key",
        'signature',
        () =>
          refranked(plaintext, {
            keys: { recipientPublic: generateFrankingKeyPair(systemRng).publicKey },
          }),
      ],
      [
        'a signature over another recipient device id',
        'signature',
        () => refranked(plaintext, { to: { ...bob.peer, deviceId: 2 } }),
      ],
      [
        'a session signature over another key id than the message signature names',
        'signature',
        () => refranked(plaintext, { keyId: server.moderator.keyId + 1 }),
      ],
      [
        "a signature under a franking key other than the certificate's",
        'signature',
        () => {
          const other = generateFrankingKeyPair(systemRng);
          return refranked(plaintext, {
            keys: { senderSecret: other.secretKey, senderPublic: other.publicKey },
          });
        },
      ],
      [
        'a session franked for a moderator key id the recipient does not hold',
        'signature',
        () => refranked(plaintext, { keyId: 99 }),
      ],
      [
        'a random message signature',
        'signature',
        () => {
          const h = honest(plaintext);
          return { ...h, franking: { ...h.franking, messageSignature: systemRng(64) } };
        },
      ],
      [
        'a message signed by a key other than the session key',
        'signature',
        () => {
          const h = honest(plaintext);
          const messageSignature = ed25519.sign(
            context(alice, bob.peer, h.commitment, server.moderator.keyId),
            systemRng(32),
          );
          return { ...h, franking: { ...h.franking, messageSignature } };
        },
      ],
      [
        'a message signature for another recipient device',
        'signature',
        () => {
          const h = honest(plaintext);
          const messageSignature = ed25519.sign(
            context(alice, { ...bob.peer, deviceId: 2 }, h.commitment, server.moderator.keyId),
            h.seed,
          );
          return { ...h, franking: { ...h.franking, messageSignature } };
        },
      ],
      [
        'a message signature over another moderator key id than the session',
        'signature',
        () => {
          const h = honest(plaintext);
          const messageSignature = ed25519.sign(
            context(alice, bob.peer, h.commitment, server.moderator.keyId + 1),
            h.seed,
          );
          return { ...h, franking: { ...h.franking, messageSignature } };
        },
      ],
      [
        'a session key that is not the one the session signature binds',
        'signature',
        () => {
          const h = honest(plaintext);
          const seed = systemRng(32);
          const messageSignature = ed25519.sign(
            context(alice, bob.peer, h.commitment, server.moderator.keyId),
            seed,
          );
          return {
            ...h,
            franking: { ...h.franking, sessionKey: ed25519.getPublicKey(seed), messageSignature },
          };
        },
      ],
    ];

    it.each(cases)(
      'refuses %s before the handler, and nothing is consumed',
      async (_name, reason, make) => {
        await alice.engine.startSession(bob.engine.address, bob.bundle());
        // A real first (prekey) message: refusing it must not create the session or use up
        // the one-time prekeys it names.
        const { type, body } = await alice.engine.encrypt(bob.peer, plaintext);
        const before = await sessions(bob);
        const { handle } = recorder();
        const error = await bob.engine
          .unseal(await sealRaw(type, body, make()), handle)
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(UnreportableMessageError);
        expect((error as UnreportableMessageError).code).toBe('UNREPORTABLE_MESSAGE');
        expect((error as UnreportableMessageError).reason).toBe(reason);
        expect(handle).not.toHaveBeenCalled();
        expect(await sessions(bob)).toEqual(before);
        expect(await bob.engine.hasSession(alice.peer)).toBe(false);
        // Nothing learned from a refused message either.
        expect(await bob.engine.peerFrankingKey(alice.peer)).toBeUndefined();

        // The same session message, honestly franked, still decrypts: no state was advanced.
        const ok = recorder();
        const m = await bob.engine.unseal(await sealRaw(type, body, honest(plaintext)), ok.handle);
        expect(ok.handle).toHaveBeenCalledTimes(1);
        expect(text(m.plaintext)).toBe('first contact');
        expect(m.sessionCreated).toBe(true);
      },
    );

    it('refuses a bad ratchet message in an established session without advancing it', async () => {
      await alice.engine.startSession(bob.engine.address, bob.bundle());
      await bob.engine.unseal(await server.sealedTo(alice, bob, 'hello'));
      await alice.engine.unseal(await server.sealedTo(bob, alice, 'hi'));
      const words = utf8('steady state');
      const { type, body } = await alice.engine.encrypt(bob.peer, words);
      const before = await sessions(bob);
      const bad = honest(words);
      for (const franking of [
        { ...bad.franking, signature: systemRng(304) },
        { ...bad.franking, openingKey: systemRng(32) },
        { ...bad.franking, messageSignature: systemRng(64) },
      ]) {
        const { handle } = recorder();
        await expect(
          bob.engine.unseal(await sealRaw(type, body, { ...bad, franking }), handle),
        ).rejects.toBeInstanceOf(UnreportableMessageError);
        expect(handle).not.toHaveBeenCalled();
        expect(await sessions(bob)).toEqual(before);
      }
      const m = await bob.engine.unseal(await sealRaw(type, body, honest(words)));
      expect(text(m.plaintext)).toBe('steady state');
      // And the conversation goes on in order.
      const next = await bob.engine.unseal(await server.sealedTo(alice, bob, 'next'));
      expect(text(next.plaintext)).toBe('next');
    });

    it('accepts a receiver forgery made with its own key: only it could make one, and it never judges', async () => {
      // Deniability (Fig. 5 RForge): bob can make a signature that passes his own check for any
      // message "from" alice, so his check is exactly Verify; a sender without bob's secret
      // cannot get there (the forgeries above), and the moderator never accepts this one.
      await alice.engine.startSession(bob.engine.address, bob.bundle());
      const { type, body } = await alice.engine.encrypt(bob.peer, plaintext);
      const h = honest(plaintext);
      const message = sessionContext(
        alice,
        bob.peer,
        h.franking.sessionKey,
        server.moderator.keyId,
      );
      const signature = receiverForgeFranking(systemRng, {
        recipientSecret: frankingKeys(bob).secretKey,
        senderPublic: alice.engine.frankingPublicKey,
        moderatorPublic: server.moderator.publicKey,
        message,
      });
      const m = await bob.engine.unseal(
        await sealRaw(type, body, { ...h, franking: { ...h.franking, signature } }),
      );
      expect(text(m.plaintext)).toBe('first contact');
      expect(
        judgeFranking({
          moderatorSecret: server.moderator.secretKey,
          senderPublic: alice.engine.frankingPublicKey,
          moderatorPublic: server.moderator.publicKey,
          message,
          signature,
        }),
      ).toBe(false);
    });
  });

  describe('franking unavailable', () => {
    it('without a valid moderator certificate, fails before any ratchet step', async () => {
      await alice.engine.startSession(bob.engine.address, bob.bundle());
      expect(await alice.engine.setModeratorCertificates([])).toEqual([]);
      const before = await sessions(alice);
      await expect(alice.engine.seal(bob.peer, utf8('lost?'), cert)).rejects.toBeInstanceOf(
        FrankingUnavailableError,
      );
      expect(await sessions(alice)).toEqual(before);
      await alice.engine.setModeratorCertificates([server.moderatorCertificate]);
      const m = await bob.engine.unseal(await alice.engine.seal(bob.peer, utf8('first'), cert));
      expect(text(m.plaintext)).toBe('first');
      expect(m.sessionCreated).toBe(true);
    });

    it('once the only moderator certificate expired, fails before any ratchet step', async () => {
      const daily = await issueModeratorCertificate(backend, server.rootSeed, {
        keyId: 4,
        moderatorPublic: server.moderator.publicKey,
        notAfter: clock + DAY,
      });
      expect(await alice.engine.setModeratorCertificates([daily])).toEqual([4]);
      await bob.engine.setModeratorCertificates([daily]);
      await alice.engine.startSession(bob.engine.address, bob.bundle());
      await bob.engine.unseal(await server.sealedTo(alice, bob, 'one'));
      await alice.engine.unseal(await server.sealedTo(bob, alice, 'two'));
      clock += 2 * DAY; // still held, but no longer valid to frank for
      const fresh = await server.certify(alice.engine, alice.deviceId);
      const before = await sessions(alice);
      const error = await alice.engine.seal(bob.peer, utf8('late'), fresh).catch((e) => e);
      expect(error).toBeInstanceOf(FrankingUnavailableError);
      expect((error as FrankingUnavailableError).code).toBe('FRANKING_UNAVAILABLE');
      expect(await sessions(alice)).toEqual(before);
      // With a valid certificate again, the next message is the next one in the session.
      await alice.engine.setModeratorCertificates([server.moderatorCertificate]);
      await bob.engine.setModeratorCertificates([server.moderatorCertificate]);
      const m = await bob.engine.unseal(await alice.engine.seal(bob.peer, utf8('three'), fresh));
      expect(text(m.plaintext)).toBe('three');
      expect(m.franking!.moderatorKeyId).toBe(server.moderator.keyId);
      expect(await sessions(alice)).not.toEqual(before);
    });

    it("without the recipient device's franking key, fails before any ratchet step", async () => {
      const { frankingKey: _omitted, ...bundle } = bob.bundle();
      await alice.engine.startSession(bob.engine.address, bundle);
      expect(await alice.engine.peerFrankingKey(bob.peer)).toBeUndefined();
      const before = await sessions(alice);
      await expect(alice.engine.seal(bob.peer, utf8('x'), cert)).rejects.toThrow(
        FrankingUnavailableError,
      );
      expect(await sessions(alice)).toEqual(before);
      expect(await alice.engine.hasSession(bob.peer)).toBe(true);
      await alice.engine.setPeerFrankingKey(bob.peer, bob.engine.frankingPublicKey);
      const m = await bob.engine.unseal(await alice.engine.seal(bob.peer, utf8('first'), cert));
      expect(text(m.plaintext)).toBe('first');
      expect(m.sessionCreated).toBe(true);
    });
  });

  describe("the sender's franking key", () => {
    it('is stored from the certificate on receipt and used to answer', async () => {
      await alice.engine.startSession(bob.engine.address, bob.bundle());
      expect(await alice.engine.peerFrankingKey(bob.peer)).toEqual(bob.engine.frankingPublicKey);
      expect(await bob.engine.peerFrankingKey(alice.peer)).toBeUndefined();
      await bob.engine.unseal(await server.sealedTo(alice, bob, 'hello'));
      expect(await bob.engine.peerFrankingKey(alice.peer)).toEqual(alice.engine.frankingPublicKey);
      expect(alice.engine.frankingPublicKey).toEqual(frankingKeys(alice).publicKey);
      // Bob never saw a bundle of alice's, yet can frank his answer for her.
      const back = await alice.engine.unseal(await server.sealedTo(bob, alice, 'hi'));
      expect(text(back.plaintext)).toBe('hi');
    });

    it('replaces a stale stored key with the certified one', async () => {
      await alice.engine.startSession(bob.engine.address, bob.bundle());
      const stale = generateFrankingKeyPair(systemRng).publicKey;
      await bob.engine.setPeerFrankingKey(alice.peer, stale);
      expect(await bob.engine.peerFrankingKey(alice.peer)).toEqual(stale);
      await bob.engine.unseal(await server.sealedTo(alice, bob, 'hello'));
      expect(await bob.engine.peerFrankingKey(alice.peer)).toEqual(alice.engine.frankingPublicKey);
    });

    it('is stored with the message: not when the handler fails, then on redelivery', async () => {
      await alice.engine.startSession(bob.engine.address, bob.bundle());
      const envelope = await server.sealedTo(alice, bob, 'hello');
      await expect(
        bob.engine.unseal(envelope, async () => {
          throw new Error('disk full');
        }),
      ).rejects.toThrow('disk full');
      expect(await bob.engine.peerFrankingKey(alice.peer)).toBeUndefined();
      await bob.engine.unseal(envelope);
      expect(await bob.engine.peerFrankingKey(alice.peer)).toEqual(alice.engine.frankingPublicKey);
    });
  });

  describe('setModeratorCertificates', () => {
    const moderatorCert = (keyId: number, notAfter: number, rootSeed = server.rootSeed) =>
      issueModeratorCertificate(backend, rootSeed, {
        keyId,
        moderatorPublic: generateFrankingKeyPair(systemRng).publicKey,
        notAfter,
      });

    it('leaves out a certificate from another root and an expired one', async () => {
      const other = await makeServer(now);
      const expired = await moderatorCert(4, clock - 1);
      expect(
        await alice.engine.setModeratorCertificates([
          other.moderatorCertificate,
          expired,
          server.moderatorCertificate,
        ]),
      ).toEqual([server.moderator.keyId]);
      expect(alice.engine.moderatorKeys().map((m) => m.keyId)).toEqual([server.moderator.keyId]);
      expect(alice.engine.moderatorKeys()[0]!.publicKey).toEqual(server.moderator.publicKey);
      expect(await alice.engine.setModeratorCertificates([other.moderatorCertificate])).toEqual([]);
      expect(alice.engine.moderatorKeys()).toEqual([]);
      await alice.engine.startSession(bob.engine.address, bob.bundle());
      await expect(alice.engine.seal(bob.peer, utf8('x'), cert)).rejects.toBeInstanceOf(
        FrankingUnavailableError,
      );
    });

    it('leaves out a revoked key id', async () => {
      const trust = { ...server.trust, revokedModeratorKeyIds: [server.moderator.keyId] };
      const carol = await Device.create(trust, now);
      expect(await carol.engine.setModeratorCertificates([server.moderatorCertificate])).toEqual(
        [],
      );
      const next = await moderatorCert(server.moderator.keyId + 1, clock + DAY);
      expect(
        await carol.engine.setModeratorCertificates([server.moderatorCertificate, next]),
      ).toEqual([server.moderator.keyId + 1]);
    });

    it('franks for the certificate valid longest, and recipients accept every held key', async () => {
      const short = await moderatorCert(4, clock + 30 * DAY);
      const long = await moderatorCert(5, clock + 400 * DAY);
      // Order does not matter: key 5 (400 days) outlives key 3 (365) and key 4 (30).
      expect(
        await alice.engine.setModeratorCertificates([long, server.moderatorCertificate, short]),
      ).toEqual([5, 3, 4]);
      await bob.engine.setModeratorCertificates([server.moderatorCertificate, short, long]);
      await alice.engine.startSession(bob.engine.address, bob.bundle());
      const m = await bob.engine.unseal(await alice.engine.seal(bob.peer, utf8('new key'), cert));
      expect(m.franking!.moderatorKeyId).toBe(5);
      // During a rotation the recipient still accepts the older key.
      await alice.engine.setModeratorCertificates([server.moderatorCertificate]);
      const old = await bob.engine.unseal(await alice.engine.seal(bob.peer, utf8('old key'), cert));
      expect(old.franking!.moderatorKeyId).toBe(server.moderator.keyId);
      expect(text(old.plaintext)).toBe('old key');
    });

    it("refuses a session franked for a key it does not hold yet as 'signature', then opens it with the certificate", async () => {
      // The envelope does not name its moderator key: a key the recipient has not fetched yet
      // fails like a bad signature, and the client refreshes its certificates on that reason.
      const next = await moderatorCert(server.moderator.keyId + 1, clock + 400 * DAY);
      await alice.engine.setModeratorCertificates([next]);
      await alice.engine.startSession(bob.engine.address, bob.bundle());
      const envelope = await alice.engine.seal(bob.peer, utf8('after the rotation'), cert);
      const error = await bob.engine.unseal(envelope).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnreportableMessageError);
      expect((error as UnreportableMessageError).reason).toBe('signature');
      await bob.engine.setModeratorCertificates([server.moderatorCertificate, next]);
      const m = await bob.engine.unseal(envelope);
      expect(text(m.plaintext)).toBe('after the rotation');
      expect(m.franking!.moderatorKeyId).toBe(server.moderator.keyId + 1);
    });

    it("refuses with 'moderator key' when it holds none", async () => {
      await alice.engine.startSession(bob.engine.address, bob.bundle());
      const envelope = await alice.engine.seal(bob.peer, utf8('x'), cert);
      expect(await bob.engine.setModeratorCertificates([])).toEqual([]);
      const error = await bob.engine.unseal(envelope).catch((e: unknown) => e);
      expect((error as UnreportableMessageError).reason).toBe('moderator key');
    });

    it('checks its argument', async () => {
      await expect(
        alice.engine.setModeratorCertificates('nope' as unknown as Uint8Array[]),
      ).rejects.toBeInstanceOf(ArgumentTypeError);
      await expect(
        alice.engine.setModeratorCertificates(['nope' as unknown as Uint8Array]),
      ).rejects.toBeInstanceOf(ArgumentTypeError);
    });
  });
});
