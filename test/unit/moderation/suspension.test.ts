/**
 * What a suspension does (docs/SERVICE.md §14.5, §14.6): a suspended account gets no sender
 * certificate, may not send identified messages or start uploads (403 ACCOUNT_SUSPENDED), may
 * still report; lifting restores it. The revocation list is signed by the server key over
 * `"Sealpost-Revocations-v1" || body`, lists exactly the suspensions in force younger than the
 * sender-certificate lifetime (newest first, at most 1,000), and is reused for 60 s.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { memoryAttachmentPorts } from '#functions/adapters/memory-ports.ts';
import { DEFAULT_CONFIG } from '#functions/domain/config.ts';
import { ed25519Verify } from '#functions/domain/crypto.ts';
import { fromBase64Url } from '#sdk/wire/api/codec.ts';
import { decodeServerCertificate } from '#sdk/wire/certificates.ts';
import { LABELS } from '#sdk/wire/labels.ts';
import { decodeRevocationList, revocationListPayload } from '#sdk/wire/revocations.ts';
import { FakeAttachmentObjects } from '../functions/attachment-fixture.ts';
import { newAccount, newMessageId, sendBody, type TestDevice } from '../functions/fixtures.ts';
import { type ModerationHarness, moderationHarness, START } from './moderation-fixture.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let h: ModerationHarness;
let alice: TestDevice;
let bob: TestDevice;
beforeEach(async () => {
  h = moderationHarness({ attachments: memoryAttachmentPorts(new FakeAttachmentObjects()) });
  alice = await h.register();
  bob = await h.register();
});

const suspend = (address: string, reason = 'abuse') =>
  h.call({
    method: 'PUT',
    path: `/v1/moderation/accounts/${address}/suspension`,
    json: { reason },
  });
const lift = (address: string) =>
  h.call({ method: 'DELETE', path: `/v1/moderation/accounts/${address}/suspension` });

const certificate = (device: TestDevice) =>
  h.call({ method: 'POST', path: '/v1/certificates/sender', signer: device });
const identified = (from: TestDevice, to: TestDevice) =>
  h.call({
    method: 'PUT',
    path: `/v1/messages/${to.account.address}/identified`,
    json: sendBody(newMessageId(h.clock.now), [[1, new Uint8Array(40)]]),
    signer: from,
  });
const upload = (device: TestDevice) =>
  h.call({ method: 'POST', path: '/v1/attachments', json: { size: 2000 }, signer: device });

describe('a suspended account', () => {
  it('gets no sender certificate, identified send or upload until the suspension is lifted', async () => {
    expect((await certificate(alice)).status).toBe(200);
    expect((await identified(alice, bob)).status).toBe(200);
    expect((await upload(alice)).status).toBe(200);
    expect((await suspend(alice.account.address)).status).toBe(200);
    for (const res of [
      await certificate(alice),
      await identified(alice, bob),
      await identified(alice, alice),
      await upload(alice),
    ]) {
      expect(res.status).toBe(403);
      expect(res.json).toEqual({
        error: { code: 'ACCOUNT_SUSPENDED', message: 'the account is suspended' },
      });
    }
    // Other accounts are not affected, and the suspended one can still be written to.
    expect((await certificate(bob)).status).toBe(200);
    expect((await identified(bob, alice)).status).toBe(200);
    expect((await lift(alice.account.address)).status).toBe(200);
    expect((await certificate(alice)).status).toBe(200);
    expect((await identified(alice, bob)).status).toBe(200);
    expect((await upload(alice)).status).toBe(200);
  });

  it('may still report what it received', async () => {
    await suspend(alice.account.address);
    const res = await h.report(alice, h.delivered(alice, bob, 'abuse of a suspended user'));
    expect(res.status).toBe(200);
    expect(res.body.duplicate).toBe(false);
  });
});

describe('revocation list', () => {
  async function revocations() {
    const res = await h.call({ method: 'GET', path: '/v1/certificates/revocations' });
    expect(res.status).toBe(200);
    expect(Object.keys(res.json as object)).toEqual(['revocations']);
    return fromBase64Url((res.json as { revocations: string }).revocations, 'revocations');
  }

  async function serverPublic(): Promise<Uint8Array> {
    const material = await h.ports.signingKeys.get();
    return decodeServerCertificate(material.serverCertificate).serverPublic;
  }

  it('is signed by the server key over the label and every byte before the signature', async () => {
    await suspend(alice.account.address);
    const bytes = await revocations();
    const list = decodeRevocationList(bytes);
    const signed = bytes.subarray(0, bytes.length - 64);
    const message = new Uint8Array([...LABELS.REVOCATIONS, ...signed]);
    expect(new TextDecoder().decode(LABELS.REVOCATIONS)).toBe('Sealpost-Revocations-v1');
    expect(message).toEqual(revocationListPayload(list));
    expect(ed25519Verify(await serverPublic(), message, list.signature)).toBe(true);
    // Another key, or one changed byte, does not verify.
    expect(ed25519Verify(new Uint8Array(32).fill(1), message, list.signature)).toBe(false);
    message[message.length - 1]! ^= 1;
    expect(ed25519Verify(await serverPublic(), message, list.signature)).toBe(false);
    expect(list).toMatchObject({
      issuedAt: START,
      revocations: [{ address: alice.account.address, suspendedAt: START }],
    });
  });

  it('lists only the suspensions in force, newest first, and is reused for 60 seconds', async () => {
    expect(decodeRevocationList(await revocations()).revocations).toEqual([]);
    await suspend(alice.account.address);
    h.clock.now += 1000;
    await suspend(bob.account.address);
    // Within 60 s of the first list, the same list is served.
    h.clock.now = START + 59_999;
    expect(decodeRevocationList(await revocations())).toMatchObject({
      issuedAt: START,
      revocations: [],
    });
    h.clock.now = START + 60_000;
    expect(decodeRevocationList(await revocations())).toMatchObject({
      issuedAt: START + 60_000,
      revocations: [
        { address: bob.account.address, suspendedAt: START + 1000 },
        { address: alice.account.address, suspendedAt: START },
      ],
    });
    await lift(bob.account.address);
    h.clock.now += 60_000;
    expect(decodeRevocationList(await revocations()).revocations).toEqual([
      { address: alice.account.address, suspendedAt: START },
    ]);
  });

  it('drops a suspension once nothing sent under an earlier certificate can still arrive', async () => {
    await suspend(alice.account.address);
    // A certificate issued just before lives a day, what it sealed waits up to the message
    // lifetime, and receipt times are hours: until then recipients must keep dropping.
    const window = DAY + DEFAULT_CONFIG.messageTtlMs + HOUR;
    h.clock.now = START + window - 60_000;
    expect(decodeRevocationList(await revocations()).revocations).toHaveLength(1);
    h.clock.now = START + window - 1;
    expect(decodeRevocationList(await revocations()).revocations).toHaveLength(1);
    // 60 s after the last list was built, and the whole window after the suspension.
    h.clock.now = START + window + 59_999;
    expect(decodeRevocationList(await revocations()).revocations).toEqual([]);
    // Still suspended: no new certificate (hence nothing to revoke).
    expect((await certificate(alice)).status).toBe(403);
  });

  it('holds at most the newest 1,000 suspensions', async () => {
    const addresses: string[] = [];
    for (let i = 0; i < 1001; i++) {
      const account = newAccount();
      addresses.push(account.address);
      await h.ports.accounts.create(
        {
          address: account.address,
          accountPublic: account.publicKey,
          accessKeyHash: new Uint8Array(32),
          unrestricted: false,
          createdAt: START,
        },
        (await h.ports.accounts.get(alice.account.address))!.devices[0]!,
      );
      await h.moderation.suspensions.suspend(account.address, START + i, 'bulk');
    }
    h.clock.now = START + 2000;
    const list = decodeRevocationList(await revocations());
    expect(list.revocations).toHaveLength(1000);
    expect(list.revocations[0]).toEqual({ address: addresses[1000], suspendedAt: START + 1000 });
    expect(list.revocations.at(-1)).toEqual({ address: addresses[1], suspendedAt: START + 1 });
    expect(list.revocations.map((r) => r.address)).not.toContain(addresses[0]);
  });

  it('is a signed empty list on a deployment without moderation', async () => {
    const bare = moderationHarness({ moderation: false });
    const res = await bare.call({ method: 'GET', path: '/v1/certificates/revocations' });
    expect(res.status).toBe(200);
    const bytes = fromBase64Url((res.json as { revocations: string }).revocations, 'r');
    const list = decodeRevocationList(bytes);
    expect(list.revocations).toEqual([]);
    const material = await bare.ports.signingKeys.get();
    const key = decodeServerCertificate(material.serverCertificate).serverPublic;
    expect(ed25519Verify(key, revocationListPayload(list), list.signature)).toBe(true);
  });
});
