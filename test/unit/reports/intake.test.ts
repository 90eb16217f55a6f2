/**
 * `POST /v1/reports` through the device app (docs/SERVICE.md §14.1), with a stand-in verifier:
 * a verified report is stored once under its derived id and counted for its sender; a repeat is
 * `duplicate`; an unverifiable message (the reported one or an earlier one) is a 422 naming it;
 * earlier messages must come from the same sender account and not be newer; the reporting
 * account is rate-limited; every malformed request is a JSON 400 (413, 415, 401); nothing of a
 * report but its id and reason reaches the log.
 */
import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { fromBase64Url } from '#sdk/wire/api/codec.ts';
import type { ReportedMessageJson } from '#sdk/wire/api/schemas.ts';
import { addressToBytes } from '#sdk/wire/identity.ts';
import type { TestDevice } from '../functions/fixtures.ts';
import {
  type ModerationHarness,
  moderationHarness,
  START,
} from '../moderation/moderation-fixture.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The report id computed independently: SHA-256("Sealpost-Report-v1" || address bytes || stamp)[0..16]. */
function expectedId(reporter: TestDevice, stamp: string): string {
  return createHash('sha256')
    .update('Sealpost-Report-v1')
    .update(addressToBytes(reporter.account.address))
    .update(fromBase64Url(stamp, 'stamp'))
    .digest()
    .subarray(0, 16)
    .toString('base64url');
}

let h: ModerationHarness;
let bob: TestDevice;
let alice: TestDevice;
let carol: TestDevice;
beforeEach(async () => {
  h = moderationHarness();
  bob = await h.register();
  alice = await h.register();
  carol = await h.register();
});

describe('report intake', () => {
  it('stores a verified report under its derived id and counts it for the sender', async () => {
    const message = h.delivered(bob, alice, 'you will regret this');
    const res = await h.report(bob, message, undefined, 'harassment');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.json).toEqual({ reportId: expectedId(bob, message.stamp), duplicate: false });
    const stored = await h.moderation.reports.get(res.body.reportId, h.clock.now);
    expect(stored).toMatchObject({
      status: 'open',
      reason: 'harassment',
      createdAt: START,
      expiresAt: START + 180 * DAY,
      reporter: { address: bob.account.address, deviceId: 1 },
      sender: { address: alice.account.address, deviceId: 1 },
    });
    expect(stored?.messages).toHaveLength(1);
    expect(new TextDecoder().decode(stored!.messages[0]!.content)).toBe('you will regret this');
    expect(stored!.messages[0]!.receivedAt).toBe(message.receivedAt);
    expect(await h.moderation.reports.senderStats(alice.account.address, h.clock.now)).toEqual({
      address: alice.account.address,
      verifiedReports: 1,
      distinctReporters: 1,
      lastReportAt: START,
    });
  });

  it('answers a repeated report as a duplicate and stores and counts it once', async () => {
    const message = h.delivered(bob, alice);
    const first = await h.report(bob, message);
    h.clock.now += 60_000;
    const again = await h.report(bob, message, undefined, 'spam');
    expect(again.status).toBe(200);
    expect(again.json).toEqual({ reportId: first.body.reportId, duplicate: true });
    const listed = await h.moderation.reports.list('open', { limit: 100, now: h.clock.now });
    expect(listed.items.map((r) => r.reportId)).toEqual([first.body.reportId]);
    expect(listed.items[0]!.reason).toBe('harassment');
    const stats = await h.moderation.reports.senderStats(alice.account.address, h.clock.now);
    expect(stats?.verifiedReports).toBe(1);
  });

  it('counts distinct reporters by account, not by report', async () => {
    await h.report(bob, h.delivered(bob, alice, 'one'));
    await h.report(bob, h.delivered(bob, alice, 'two'));
    await h.report(carol, h.delivered(carol, alice, 'three'));
    expect(await h.moderation.reports.senderStats(alice.account.address, h.clock.now)).toEqual({
      address: alice.account.address,
      verifiedReports: 3,
      distinctReporters: 2,
      lastReportAt: START,
    });
  });

  it('refuses an unverifiable message with a JSON 422 naming it, and stores nothing', async () => {
    const message = h.delivered(bob, alice, 'original');
    const forged = { ...message, content: Buffer.from('forged words').toString('base64url') };
    const res = await h.report(bob, forged);
    expect(res.status).toBe(422);
    expect(res.json).toEqual({
      error: { code: 'REPORT_UNVERIFIABLE', message: 'message does not verify: commitment' },
    });
    // The verifier saw the reporter's device and the decoded message as sent.
    expect(h.verifier.checked).toHaveLength(1);
    expect(Buffer.from(h.verifier.checked[0]!.content).toString()).toBe('forged words');
    expect(
      (await h.moderation.reports.list('open', { limit: 10, now: h.clock.now })).items,
    ).toEqual([]);
    expect(await h.moderation.reports.senderStats(alice.account.address, h.clock.now)).toBe(
      undefined,
    );
  });

  it('names the earlier message that does not verify', async () => {
    const earlier = [h.delivered(bob, alice, 'a'), h.delivered(bob, alice, 'b')];
    const bad = { ...earlier[1]!, stamp: Buffer.alloc(32, 9).toString('base64url') };
    const res = await h.report(bob, h.delivered(bob, alice, 'c'), [earlier[0]!, bad]);
    expect(res.status).toBe(422);
    expect(res.body.error).toEqual({
      code: 'REPORT_UNVERIFIABLE',
      message: 'previous[1] does not verify: stamp',
    });
  });

  it('refuses an earlier message from another sender account', async () => {
    const res = await h.report(bob, h.delivered(bob, alice, 'now'), [
      h.delivered(bob, alice, 'before'),
      h.delivered(bob, carol, 'someone else'),
    ]);
    expect(res.status).toBe(422);
    expect(res.body.error.message).toBe('previous[1] does not verify: another sender');
  });

  it('accepts earlier messages from another device of the sender account, not newer ones', async () => {
    const aliceTablet: TestDevice = { ...alice, deviceId: 2 };
    const main = h.delivered(bob, alice, 'now');
    const ok = await h.report(bob, main, [
      h.delivered(bob, aliceTablet, 'from the tablet', main.receivedAt - HOUR),
      h.delivered(bob, alice, 'same hour', main.receivedAt),
    ]);
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    const stored = await h.moderation.reports.get(ok.body.reportId, h.clock.now);
    expect(stored?.messages.map((m) => new TextDecoder().decode(m.content))).toEqual([
      'now',
      'from the tablet',
      'same hour',
    ]);
    expect(stored?.sender).toEqual({ address: alice.account.address, deviceId: 1 });
    const later = await h.report(bob, h.delivered(bob, alice, 'x'), [
      h.delivered(bob, alice, 'y', main.receivedAt + HOUR),
    ]);
    expect(later.status).toBe(422);
    expect(later.body.error.message).toBe(
      'previous[0] does not verify: received after the reported message',
    );
  });

  it('refuses a report that repeats a message', async () => {
    const main = h.delivered(bob, alice, 'twice');
    const res = await h.report(bob, main, [main]);
    expect(res.status).toBe(422);
    expect(res.body.error.message).toBe('previous does not verify: repeated message');
  });

  it('limits each reporting account to 20 reports an hour, refused ones included', async () => {
    for (let i = 0; i < 19; i++) {
      expect((await h.report(bob, h.delivered(bob, alice, `m${i}`))).status).toBe(200);
    }
    const bad = { ...h.delivered(bob, alice, 'x'), stamp: Buffer.alloc(32).toString('base64url') };
    expect((await h.report(bob, bad)).status).toBe(422);
    const limited = await h.report(bob, h.delivered(bob, alice, 'over'));
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    // Another account is not limited by Bob's reports.
    expect((await h.report(carol, h.delivered(carol, alice))).status).toBe(200);
    h.clock.now += HOUR;
    expect((await h.report(bob, h.delivered(bob, alice, 'later'))).status).toBe(200);
  });

  it('accepts six messages of the largest content, beyond the small-body limit', async () => {
    const big = 'x'.repeat(98_304);
    const main = h.delivered(bob, alice, big);
    const previous = Array.from({ length: 5 }, (_, i) =>
      h.delivered(bob, alice, `${big.slice(1)}${i}`, main.receivedAt - HOUR),
    );
    const res = await h.report(bob, main, previous, 'spam');
    expect(res.status, JSON.stringify(res.body).slice(0, 200)).toBe(200);
    const stored = await h.moderation.reports.get(res.body.reportId, h.clock.now);
    expect(stored?.messages.map((m) => m.content.length)).toEqual(Array(6).fill(98_304));
  });

  it('logs a report only by its id and reason, a refusal only by its reason', async () => {
    const ok = await h.report(bob, h.delivered(bob, alice, 'secret words'), undefined, 'scam');
    const forged = { ...h.delivered(bob, alice, 'more secrets'), content: 'AAAA' };
    await h.report(bob, forged);
    const lines = h.logs.filter((l) => l.includes('report'));
    expect(lines.map((l) => JSON.parse(l))).toEqual(
      expect.arrayContaining([
        { reportStored: 1, reportId: ok.body.reportId, reason: 'scam' },
        { reportRefused: 1, message: 'message', reason: 'commitment' },
      ]),
    );
    const all = h.logs.join('\n');
    for (const secret of [
      'secret words',
      'more secrets',
      bob.account.address,
      alice.account.address,
    ]) {
      expect(all).not.toContain(secret);
    }
    expect(all).not.toContain(Buffer.from('secret words').toString('base64url'));
  });

  it('answers NOT_CONFIGURED where moderation is not deployed', async () => {
    const bare = moderationHarness({ moderation: false });
    const reporter = await bare.register();
    const sender = await bare.register();
    const res = await bare.report(reporter, h.delivered(reporter, sender));
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_CONFIGURED');
  });

  it('needs the reporter’s owner signature', async () => {
    const res = await h.call({
      method: 'POST',
      path: '/v1/reports',
      json: { reason: 'spam', message: h.delivered(bob, alice) },
    });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHORIZED');
  });
});

describe('malformed reports', () => {
  const valid = (): ReportedMessageJson => h.delivered(bob, alice);
  const b64 = (n: number) => Buffer.alloc(n, 1).toString('base64url');

  /** Every field of a reported message set to something its schema refuses. */
  const badFields: [keyof ReportedMessageJson, unknown][] = [
    ['messageId', b64(15)],
    ['messageId', b64(17)],
    ['receivedAt', -1],
    ['receivedAt', 1.5],
    ['receivedAt', '1750000000000'],
    ['stamp', b64(31)],
    ['stamp', '!'.repeat(43)],
    ['commitment', b64(33)],
    ['openingKey', b64(16)],
    ['content', ''],
    ['content', b64(98_305)],
    ['content', 42],
    ['senderCertificate', b64(1188)],
    ['senderCertificate', ''],
    ['moderatorKeyId', -1],
    ['moderatorKeyId', 2 ** 32],
    ['moderatorKeyId', 1.5],
    ['signature', b64(303)],
    ['signature', b64(305)],
    ['signature', null],
  ];

  async function expect400(body: unknown, label: string) {
    const res = await h.call({ method: 'POST', path: '/v1/reports', json: body, signer: bob });
    expect(res.status, label).toBe(400);
    expect(res.body.error?.code, label).toBe('BAD_REQUEST');
    expect(typeof res.body.error.message).toBe('string');
  }

  it('answers every schema violation of the reported message with a JSON 400', async () => {
    for (const [field, value] of badFields) {
      await expect400({ reason: 'spam', message: { ...valid(), [field]: value } }, `${field}`);
      await expect400(
        { reason: 'spam', message: valid(), previous: [{ ...valid(), [field]: value }] },
        `previous ${field}`,
      );
      const { [field]: _omitted, ...missing } = valid();
      await expect400({ reason: 'spam', message: missing }, `missing ${field}`);
    }
    expect(h.verifier.checked).toEqual([]);
  });

  it('answers a bad reason, a bad shape, unknown fields and too many messages with a JSON 400', async () => {
    await expect400({ reason: 'rude', message: valid() }, 'unknown reason');
    await expect400({ message: valid() }, 'no reason');
    await expect400({ reason: 'spam' }, 'no message');
    await expect400({ reason: 'spam', message: [valid()] }, 'message is a list');
    await expect400({ reason: 'spam', message: valid(), extra: 1 }, 'unknown field');
    await expect400(
      { reason: 'spam', message: { ...valid(), sender: 'x' } },
      'unknown inner field',
    );
    await expect400(
      { reason: 'spam', message: valid(), previous: Array.from({ length: 6 }, valid) },
      'six earlier messages',
    );
    await expect400({ reason: 'spam', message: valid(), previous: valid() }, 'previous not a list');
    await expect400([], 'an array');
    await expect400(null, 'null');
  });

  it('answers a body that is not JSON with 400, another content type with 415, a huge one with 413', async () => {
    const notJson = await h.call({
      method: 'POST',
      path: '/v1/reports',
      rawBody: '{"reason": "spam", ',
      headers: { 'content-type': 'application/json' },
      signer: bob,
    });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe('BAD_REQUEST');
    const text = await h.call({
      method: 'POST',
      path: '/v1/reports',
      rawBody: JSON.stringify({ reason: 'spam', message: valid() }),
      headers: { 'content-type': 'text/plain' },
      signer: bob,
    });
    expect(text.status).toBe(415);
    expect(text.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const huge = await h.call({
      method: 'POST',
      path: '/v1/reports',
      rawBody: new Uint8Array(2_200_001).fill(0x20),
      headers: { 'content-type': 'application/json' },
      signer: bob,
    });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });
});
