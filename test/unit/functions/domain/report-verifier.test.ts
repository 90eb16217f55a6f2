/**
 * The report verifier (functions/domain/report-verifier.ts, docs/PROTOCOL.md §11.6) on
 * genuinely built reports: messages franked with the SDK's franking primitives (and, once, by
 * the SDK's protocol engine), sent through the in-memory service and fetched with their
 * delivery stamp, then reported. One test per refusal reason, the success case, and the
 * attacks a report must not pass: content forged under a real stamp, a receiver-forged
 * signature in another's name, a report by another device of the recipient's account.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '#functions/domain/config.ts';
import { randomBytes } from '#functions/domain/crypto.ts';
import type { ReportedMessage } from '#functions/domain/report-ports.ts';
import { FrankingReportVerifier, REPORT_CLOCK_SKEW_MS } from '#functions/domain/report-verifier.ts';
import { generateSigningMaterial } from '#functions/domain/signing-material.ts';
import { nobleBackend } from '#sdk/crypto/noble-backend.ts';
import {
  forgeFranking,
  frank,
  frankingCommitment,
  frankingMessage,
  frankingSessionMessage,
  moderatorForgeFranking,
  receiverForgeFranking,
} from '#sdk/franking/index.ts';
import { issueSenderCertificate } from '#sdk/protocol/certificates.ts';
import { utf8 } from '#sdk/util/bytes.ts';
import { fromBase64Url } from '#sdk/wire/api/codec.ts';
import type { DeliveredMessage } from '#sdk/wire/api/schemas.ts';
import { decodeSenderCertificate } from '#sdk/wire/certificates.ts';
import { encodeIdentityBundle } from '#sdk/wire/identity.ts';
import { Device } from '../../sdk/protocol/engine-fixtures.ts';
import type { TestDevice } from '../fixtures.ts';
import {
  accessHeaders,
  harness,
  memoryPorts,
  newMessageId,
  registrationBody,
  sendBody,
  testMaterial,
} from '../fixtures.ts';

const DAY = 86_400_000;

/** A sender's franking session: the session key's seed and the franking signature over it. */
interface Session {
  seed: Uint8Array;
  signature: Uint8Array;
}
const MALLORY_KEY = new Uint8Array(16).fill(9);

/** The service with Alice (sender), Bob (recipient, access key 7s) and Mallory. */
async function setup() {
  const material = testMaterial();
  const h = harness(memoryPorts(material));
  const bob = await h.register(new Uint8Array(16).fill(7));
  const alice = await h.register(new Uint8Array(16).fill(1));
  const verifier = new FrankingReportVerifier(h.ports.signingKeys, DEFAULT_CONFIG);

  async function certificateOf(device: TestDevice): Promise<Uint8Array> {
    const res = await h.call({ method: 'POST', path: '/v1/certificates/sender', signer: device });
    if (res.status !== 200) throw new Error(JSON.stringify(res.body));
    return fromBase64Url(res.body.certificate);
  }

  /**
   * What a sending device does (docs/PROTOCOL.md §11.3): a franking session for the recipient
   * device (an Ed25519 session key and the franking signature over it for the current
   * moderator key; `session` reuses one), a fresh opening key, the commitment to `content`,
   * the session key's signature over the franked message; the envelope as the service sees it
   * (`2 || commitment || ciphertext`).
   */
  function franked(from: TestDevice, to: TestDevice, content: Uint8Array, session?: Session) {
    const devices = {
      senderAddress: from.account.address,
      senderDeviceId: from.deviceId,
      recipientAddress: to.account.address,
      recipientDeviceId: to.deviceId,
      moderatorKeyId: material.moderatorKeyId,
    };
    const seed = session?.seed ?? randomBytes(32);
    const sessionKey = ed25519.getPublicKey(seed);
    const signature =
      session?.signature ??
      frank(randomBytes, {
        senderSecret: from.franking.secretKey,
        senderPublic: from.franking.publicKey,
        recipientPublic: to.franking.publicKey,
        moderatorPublic: material.moderatorPublic,
        message: frankingSessionMessage({ sessionKey, ...devices }),
      });
    const openingKey = randomBytes(32);
    const commitment = frankingCommitment(openingKey, content);
    const messageSignature = ed25519.sign(frankingMessage({ commitment, ...devices }), seed);
    return {
      openingKey,
      commitment,
      sessionKey,
      signature,
      messageSignature,
      session: { seed, signature },
      envelope: envelopeWith(commitment),
    };
  }

  /** Sends `envelopes` (one per device id) sealed to `address` and returns them as fetched. */
  async function deliver(
    address: string,
    accessKey: Uint8Array,
    envelopes: [number, Uint8Array][],
    fetchers: TestDevice[],
  ): Promise<DeliveredMessage[]> {
    const sent = await h.call({
      method: 'PUT',
      path: `/v1/messages/${address}`,
      headers: accessHeaders(accessKey),
      json: sendBody(newMessageId(h.clock.now), envelopes),
    });
    if (sent.status !== 200) throw new Error(JSON.stringify(sent.body));
    const out: DeliveredMessage[] = [];
    for (const device of fetchers) {
      const res = await h.call({ method: 'GET', path: '/v1/messages', signer: device });
      out.push(res.body.messages.at(-1)!);
    }
    return out;
  }

  /** The report a recipient device builds from what it received. */
  function report(
    delivered: DeliveredMessage,
    f: {
      openingKey: Uint8Array;
      commitment: Uint8Array;
      sessionKey: Uint8Array;
      signature: Uint8Array;
      messageSignature: Uint8Array;
    },
    senderCertificate: Uint8Array,
    content: Uint8Array,
  ): ReportedMessage {
    return {
      messageId: fromBase64Url(delivered.messageId),
      receivedAt: delivered.receivedAt,
      stamp: fromBase64Url(delivered.stamp!),
      commitment: f.commitment,
      openingKey: f.openingKey,
      content,
      senderCertificate,
      moderatorKeyId: material.moderatorKeyId,
      sessionKey: f.sessionKey,
      signature: f.signature,
      messageSignature: f.messageSignature,
    };
  }

  /** Alice franks `content` for Bob; it is delivered; Bob's report of it. */
  async function honest(content = utf8('buy cheap watches')) {
    const cert = await certificateOf(alice);
    const f = franked(alice, bob, content);
    const [delivered] = await deliver(
      bob.account.address,
      new Uint8Array(16).fill(7),
      [[1, f.envelope]],
      [bob],
    );
    return { cert, f, delivered: delivered!, reported: report(delivered!, f, cert, content) };
  }

  return { material, h, bob, alice, verifier, certificateOf, franked, deliver, report, honest };
}

function envelopeWith(commitment: Uint8Array): Uint8Array {
  const bytes = randomBytes(1 + 32 + 32 + 48 + 600);
  bytes[0] = 2;
  bytes.set(commitment, 1);
  return bytes;
}

const flip = (bytes: Uint8Array, at = 0): Uint8Array => {
  const out = bytes.slice();
  out[at]! ^= 1;
  return out;
};

const reporterOf = (d: TestDevice) => ({ address: d.account.address, deviceId: d.deviceId });

describe('FrankingReportVerifier: accepted', () => {
  it('verifies an honest report and names the sender from its certificate', async () => {
    const t = await setup();
    const { reported, delivered } = await t.honest(utf8('hello'));
    const outcome = await t.verifier.verify(reporterOf(t.bob), reported, t.h.clock.now);
    expect(outcome).toEqual({
      ok: true,
      message: {
        messageId: fromBase64Url(delivered.messageId),
        receivedAt: delivered.receivedAt,
        sender: { address: t.alice.account.address, deviceId: 1 },
        content: utf8('hello'),
        stamp: fromBase64Url(delivered.stamp!),
      },
    });
  });

  it('accepts up to the end of the report window, after the certificate expired', async () => {
    const t = await setup();
    const { reported } = await t.honest();
    const edge = reported.receivedAt + DEFAULT_CONFIG.reportWindowMs;
    expect((await t.verifier.verify(reporterOf(t.bob), reported, edge)).ok).toBe(true);
  });

  it('verifies a message franked and sealed by the SDK protocol engine', async () => {
    const t = await setup();
    const now = () => t.h.clock.now;
    const trust = { trustRoot: t.material.trustRoot, revokedServerKeyIds: [] };
    const sender = await Device.create(trust, now);
    const recipient = await Device.create(trust, now);
    const registered: TestDevice[] = [];
    for (const d of [sender, recipient]) {
      expect(await d.engine.setModeratorCertificates([t.material.moderatorCertificate])).toEqual([
        t.material.moderatorKeyId,
      ]);
      // The engine's device registered with its own keys (its franking key is derived).
      const device: TestDevice = {
        account: {
          seed: d.engine.accountSeed!,
          publicKey: d.engine.identity.accountPublic,
          address: d.engine.address,
        },
        signingSeed: d.engine.signer.signingSeed,
        signingPublic: d.engine.identity.signingPublic,
        dhPublic: d.engine.identity.dhPublic,
        identity: encodeIdentityBundle(d.engine.identity),
        franking: { publicKey: d.engine.frankingPublicKey, secretKey: new Uint8Array(32) },
        deviceId: 1,
      };
      const res = await t.h.call({
        method: 'PUT',
        path: `/v1/accounts/${device.account.address}`,
        json: registrationBody(device, t.h.clock.now, MALLORY_KEY),
      });
      expect(res.status).toBe(200);
      registered.push(device);
    }
    const [senderDevice, recipientDevice] = registered as [TestDevice, TestDevice];
    await sender.engine.startSession(recipient.engine.address, recipient.bundle());
    const cert = await t.certificateOf(senderDevice);
    const envelope = await sender.engine.seal(recipient.peer, utf8('sealed hello'), cert);
    const [delivered] = await t.deliver(
      recipient.engine.address,
      MALLORY_KEY,
      [[1, envelope]],
      [recipientDevice],
    );
    expect(delivered!.stamp).toBeDefined();
    const received = await recipient.engine.unseal(fromBase64Url(delivered!.envelope), undefined, {
      validAt: delivered!.receivedAt,
    });
    const franking = received.franking!;
    const reported: ReportedMessage = {
      messageId: fromBase64Url(delivered!.messageId),
      receivedAt: delivered!.receivedAt,
      stamp: fromBase64Url(delivered!.stamp!),
      commitment: franking.commitment,
      openingKey: franking.openingKey,
      content: received.plaintext,
      senderCertificate: franking.senderCertificate,
      moderatorKeyId: franking.moderatorKeyId,
      sessionKey: franking.sessionKey,
      signature: franking.signature,
      messageSignature: franking.messageSignature,
    };
    const outcome = await t.verifier.verify(reporterOf(recipientDevice), reported, t.h.clock.now);
    expect(outcome).toMatchObject({
      ok: true,
      message: { sender: { address: sender.engine.address, deviceId: 1 } },
    });
    // The same message reported by the sender's device is not its delivery.
    expect(await t.verifier.verify(reporterOf(senderDevice), reported, t.h.clock.now)).toEqual({
      ok: false,
      reason: 'stamp',
    });
  });
});

describe('FrankingReportVerifier: refused', () => {
  it("'too old' past the report window", async () => {
    const t = await setup();
    const { reported } = await t.honest();
    const late = reported.receivedAt + DEFAULT_CONFIG.reportWindowMs + 1;
    expect(await t.verifier.verify(reporterOf(t.bob), reported, late)).toEqual({
      ok: false,
      reason: 'too old',
    });
    const shortWindow = new FrankingReportVerifier(t.h.ports.signingKeys, { reportWindowMs: DAY });
    expect(
      await shortWindow.verify(reporterOf(t.bob), reported, reported.receivedAt + DAY + 1),
    ).toEqual({ ok: false, reason: 'too old' });
  });

  it("'received in the future' beyond the clock skew", async () => {
    const t = await setup();
    const { reported } = await t.honest();
    const skewed = reported.receivedAt - REPORT_CLOCK_SKEW_MS;
    expect((await t.verifier.verify(reporterOf(t.bob), reported, skewed)).ok).toBe(true);
    expect(await t.verifier.verify(reporterOf(t.bob), reported, skewed - 1)).toEqual({
      ok: false,
      reason: 'received in the future',
    });
  });

  it("'stamp' for a stamp, id or time that is not this delivery's", async () => {
    const t = await setup();
    const { reported } = await t.honest();
    const now = t.h.clock.now;
    for (const changed of [
      { ...reported, stamp: flip(reported.stamp, 31) },
      { ...reported, messageId: flip(reported.messageId, 15) },
      { ...reported, receivedAt: reported.receivedAt - 3_600_000 },
      { ...reported, stamp: reported.stamp.subarray(0, 16) },
    ]) {
      expect(await t.verifier.verify(reporterOf(t.bob), changed, now)).toEqual({
        ok: false,
        reason: 'stamp',
      });
    }
  });

  it("'stamp' for a report by another device of the recipient's account", async () => {
    const t = await setup();
    const bob2 = await t.h.link(t.bob.account);
    const cert = await t.certificateOf(t.alice);
    const content = utf8('to both devices');
    const to1 = t.franked(t.alice, t.bob, content);
    const to2 = t.franked(t.alice, bob2, content);
    const [d1, d2] = await t.deliver(
      t.bob.account.address,
      new Uint8Array(16).fill(7),
      [
        [1, to1.envelope],
        [2, to2.envelope],
      ],
      [t.bob, bob2],
    );
    const first = t.report(d1!, to1, cert, content);
    const second = t.report(d2!, to2, cert, content);
    const now = t.h.clock.now;
    expect((await t.verifier.verify(reporterOf(t.bob), first, now)).ok).toBe(true);
    expect((await t.verifier.verify(reporterOf(bob2), second, now)).ok).toBe(true);
    expect(await t.verifier.verify(reporterOf(bob2), first, now)).toEqual({
      ok: false,
      reason: 'stamp',
    });
    expect(await t.verifier.verify(reporterOf(t.alice), first, now)).toEqual({
      ok: false,
      reason: 'stamp',
    });
  });

  it("'commitment' for content or an opening key the commitment does not open to", async () => {
    const t = await setup();
    const { reported } = await t.honest(utf8('what was sent'));
    const now = t.h.clock.now;
    // The recipient keeps the real stamp and commitment and reveals other content.
    for (const changed of [
      { ...reported, content: utf8('what was never sent') },
      { ...reported, content: flip(reported.content) },
      { ...reported, openingKey: flip(reported.openingKey) },
    ]) {
      expect(await t.verifier.verify(reporterOf(t.bob), changed, now)).toEqual({
        ok: false,
        reason: 'commitment',
      });
    }
    // A fresh commitment to the forged content is not what the service stamped.
    const openingKey = randomBytes(32);
    const forged = utf8('what was never sent');
    expect(
      await t.verifier.verify(
        reporterOf(t.bob),
        {
          ...reported,
          content: forged,
          openingKey,
          commitment: frankingCommitment(openingKey, forged),
        },
        now,
      ),
    ).toEqual({ ok: false, reason: 'stamp' });
  });

  it("'certificate' for a malformed, foreign or expired sender certificate", async () => {
    const t = await setup();
    const { reported } = await t.honest();
    const now = t.h.clock.now;
    const cert = decodeSenderCertificate(reported.senderCertificate);
    // The same fields under another deployment's server key and root.
    const other = generateSigningMaterial({ keyId: 7, notAfter: 2_000_000_000_000 }).material;
    const foreign = await issueSenderCertificate(nobleBackend, other.serverSeed, {
      ...cert,
      serverCertificate: other.serverCertificate,
    });
    // Issued by this server, but expired before the message arrived.
    const expired = await issueSenderCertificate(nobleBackend, t.material.serverSeed, {
      ...cert,
      expires: reported.receivedAt,
    });
    for (const senderCertificate of [
      flip(reported.senderCertificate, reported.senderCertificate.length - 1),
      reported.senderCertificate.subarray(1),
      new Uint8Array(0),
      foreign,
      expired,
    ]) {
      expect(
        await t.verifier.verify(reporterOf(t.bob), { ...reported, senderCertificate }, now),
      ).toEqual({ ok: false, reason: 'certificate' });
    }
  });

  it("'certificate' for a certificate verified before, once a later message arrives after it expired", async () => {
    const t = await setup();
    const cert = await t.certificateOf(t.alice);
    const { expires } = decodeSenderCertificate(cert);
    const say = async (text: string) => {
      const content = utf8(text);
      const f = t.franked(t.alice, t.bob, content);
      const [d] = await t.deliver(
        t.bob.account.address,
        new Uint8Array(16).fill(7),
        [[1, f.envelope]],
        [t.bob],
      );
      return t.report(d!, f, cert, content);
    };
    const early = await say('while the certificate is valid');
    expect((await t.verifier.verify(reporterOf(t.bob), early, t.h.clock.now)).ok).toBe(true);
    // The same certificate bytes, now remembered as a verified chain, on a message the service
    // received after the certificate's expiry: the times are checked every time.
    t.h.clock.now = expires + 3_600_000;
    const late = await say('sent with an expired certificate');
    expect(late.receivedAt).toBeGreaterThanOrEqual(expires);
    expect(await t.verifier.verify(reporterOf(t.bob), late, t.h.clock.now)).toEqual({
      ok: false,
      reason: 'certificate',
    });
    expect((await t.verifier.verify(reporterOf(t.bob), early, t.h.clock.now)).ok).toBe(true);
  });

  it("'moderator key' for another key id", async () => {
    const t = await setup();
    const { reported } = await t.honest();
    const other = { ...reported, moderatorKeyId: t.material.moderatorKeyId + 1 };
    expect(await t.verifier.verify(reporterOf(t.bob), other, t.h.clock.now)).toEqual({
      ok: false,
      reason: 'moderator key',
    });
  });

  it("'signature' for a damaged signature or another sender's certificate", async () => {
    const t = await setup();
    const { reported } = await t.honest();
    const now = t.h.clock.now;
    const carol = await t.h.register(new Uint8Array(16).fill(3));
    for (const changed of [
      { ...reported, signature: flip(reported.signature, 0) },
      { ...reported, signature: flip(reported.signature, 303) },
      { ...reported, signature: reported.signature.subarray(1) },
      { ...reported, messageSignature: flip(reported.messageSignature, 0) },
      { ...reported, messageSignature: flip(reported.messageSignature, 63) },
      { ...reported, sessionKey: flip(reported.sessionKey, 0) },
      { ...reported, sessionKey: ed25519.getPublicKey(randomBytes(32)) },
      // Blaming Carol with her real certificate: the signature names Alice's key.
      { ...reported, senderCertificate: await t.certificateOf(carol) },
    ]) {
      expect(await t.verifier.verify(reporterOf(t.bob), changed, now)).toEqual({
        ok: false,
        reason: 'signature',
      });
    }
  });

  it("'signature' for a message a recipient sent itself in another's name (receiver forgery)", async () => {
    const t = await setup();
    const mallory = await t.h.register(MALLORY_KEY);
    // Mallory has Alice's sender certificate (every sealed message from Alice carries one).
    const aliceCert = await t.certificateOf(t.alice);
    const content = utf8('a message Alice never sent');
    const openingKey = randomBytes(32);
    const commitment = frankingCommitment(openingKey, content);
    const devices = {
      senderAddress: t.alice.account.address,
      senderDeviceId: 1,
      recipientAddress: mallory.account.address,
      recipientDeviceId: 1,
      moderatorKeyId: t.material.moderatorKeyId,
    };
    // Her own session key, so she can sign the message; the forgery is over the session.
    const seed = randomBytes(32);
    const sessionKey = ed25519.getPublicKey(seed);
    const messageSignature = ed25519.sign(frankingMessage({ commitment, ...devices }), seed);
    const message = frankingSessionMessage({ sessionKey, ...devices });
    const forgeries = [
      receiverForgeFranking(randomBytes, {
        recipientSecret: mallory.franking.secretKey,
        senderPublic: t.alice.franking.publicKey,
        moderatorPublic: t.material.moderatorPublic,
        message,
      }),
      forgeFranking(randomBytes, {
        senderPublic: t.alice.franking.publicKey,
        recipientPublic: mallory.franking.publicKey,
        moderatorPublic: t.material.moderatorPublic,
        message,
      }),
    ];
    for (const signature of forgeries) {
      // Sealed to herself: the service stamps it like any delivery.
      const [delivered] = await t.deliver(
        mallory.account.address,
        MALLORY_KEY,
        [[1, envelopeWith(commitment)]],
        [mallory],
      );
      const reported = t.report(
        delivered!,
        { openingKey, commitment, sessionKey, signature, messageSignature },
        aliceCert,
        content,
      );
      expect(await t.verifier.verify(reporterOf(mallory), reported, t.h.clock.now)).toEqual({
        ok: false,
        reason: 'signature',
      });
    }
    // Control: the same path with a moderator-forged signature (needs the moderator secret,
    // which only the service holds) is accepted, so the refusals above are the signature's.
    const judgeForged = moderatorForgeFranking(randomBytes, {
      moderatorSecret: t.material.moderatorSecret,
      senderPublic: t.alice.franking.publicKey,
      recipientPublic: mallory.franking.publicKey,
      message,
    });
    const [delivered] = await t.deliver(
      mallory.account.address,
      MALLORY_KEY,
      [[1, envelopeWith(commitment)]],
      [mallory],
    );
    const control = t.report(
      delivered!,
      { openingKey, commitment, sessionKey, signature: judgeForged, messageSignature },
      aliceCert,
      content,
    );
    expect((await t.verifier.verify(reporterOf(mallory), control, t.h.clock.now)).ok).toBe(true);
  });

  it("'signature' for new content under a real session the recipient holds", async () => {
    const t = await setup();
    // Bob holds Alice's genuine session (key and franking signature) from a real message.
    const { reported } = await t.honest(utf8('a real message'));
    const content = utf8('content Alice never sent');
    const openingKey = randomBytes(32);
    const commitment = frankingCommitment(openingKey, content);
    // Without the session key's seed Bob can only reuse a message signature of another message,
    // or make one with a key of his own.
    const [delivered] = await t.deliver(
      t.bob.account.address,
      new Uint8Array(16).fill(7),
      [[1, envelopeWith(commitment)]],
      [t.bob],
    );
    for (const messageSignature of [
      reported.messageSignature,
      ed25519.sign(new Uint8Array(112), randomBytes(32)),
    ]) {
      const forged = t.report(
        delivered!,
        {
          openingKey,
          commitment,
          sessionKey: reported.sessionKey,
          signature: reported.signature,
          messageSignature,
        },
        reported.senderCertificate,
        content,
      );
      expect(await t.verifier.verify(reporterOf(t.bob), forged, t.h.clock.now)).toEqual({
        ok: false,
        reason: 'signature',
      });
    }
  });

  it("'signature' for a session Alice made for another recipient device", async () => {
    const t = await setup();
    const bob2 = await t.h.link(t.bob.account);
    const cert = await t.certificateOf(t.alice);
    const content = utf8('to device 2');
    // A real session and message for Bob's device 2, delivered to device 1.
    const toTwo = t.franked(t.alice, bob2, content);
    const [delivered] = await t.deliver(
      t.bob.account.address,
      new Uint8Array(16).fill(7),
      [
        [1, toTwo.envelope],
        [2, t.franked(t.alice, bob2, content).envelope],
      ],
      [t.bob],
    );
    const reported = t.report(delivered!, toTwo, cert, content);
    expect(await t.verifier.verify(reporterOf(t.bob), reported, t.h.clock.now)).toEqual({
      ok: false,
      reason: 'signature',
    });
  });

  it('judges a session once and still checks every message signature in it', async () => {
    const t = await setup();
    const cert = await t.certificateOf(t.alice);
    const first = t.franked(t.alice, t.bob, utf8('one'));
    const second = t.franked(t.alice, t.bob, utf8('two'), first.session);
    expect(second.sessionKey).toEqual(first.sessionKey);
    expect(second.signature).toBe(first.signature);
    const [d1] = await t.deliver(
      t.bob.account.address,
      new Uint8Array(16).fill(7),
      [[1, first.envelope]],
      [t.bob],
    );
    const [d2] = await t.deliver(
      t.bob.account.address,
      new Uint8Array(16).fill(7),
      [[1, second.envelope]],
      [t.bob],
    );
    const r1 = t.report(d1!, first, cert, utf8('one'));
    const r2 = t.report(d2!, second, cert, utf8('two'));
    const now = t.h.clock.now;
    expect((await t.verifier.verify(reporterOf(t.bob), r1, now)).ok).toBe(true);
    // The session is remembered: a wrong message signature in it is still refused ...
    expect(
      await t.verifier.verify(
        reporterOf(t.bob),
        { ...r2, messageSignature: r1.messageSignature },
        now,
      ),
    ).toEqual({ ok: false, reason: 'signature' });
    // ... and a damaged session signature is not the remembered session.
    expect(
      await t.verifier.verify(reporterOf(t.bob), { ...r2, signature: flip(r2.signature, 40) }, now),
    ).toEqual({ ok: false, reason: 'signature' });
    expect((await t.verifier.verify(reporterOf(t.bob), r2, now)).ok).toBe(true);
  });

  it('refuses in the documented order (first failing check wins)', async () => {
    const t = await setup();
    const { reported } = await t.honest();
    const now = t.h.clock.now;
    const everything = {
      ...reported,
      stamp: flip(reported.stamp),
      content: flip(reported.content),
      senderCertificate: new Uint8Array(3),
      moderatorKeyId: 99,
      signature: flip(reported.signature),
    };
    const reasons: string[] = [];
    const verify = async (m: ReportedMessage) => {
      const outcome = await t.verifier.verify(reporterOf(t.bob), m, now);
      reasons.push(outcome.ok ? 'ok' : outcome.reason);
    };
    await verify(everything);
    await verify({ ...everything, stamp: reported.stamp });
    await verify({ ...everything, stamp: reported.stamp, content: reported.content });
    await verify({
      ...everything,
      stamp: reported.stamp,
      content: reported.content,
      senderCertificate: reported.senderCertificate,
    });
    await verify({ ...reported, signature: everything.signature });
    expect(reasons).toEqual(['stamp', 'commitment', 'certificate', 'moderator key', 'signature']);
  });
});
