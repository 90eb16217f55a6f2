/**
 * The moderation API (docs/SERVICE.md §14.4) over in-memory ports, as mounted locally (bearer
 * token): it refuses every request without the token; lists, shows (with the content preview),
 * decides, reports on senders, suspends and lifts; records every action in the audit log before
 * doing it; and answers bad input with JSON 4xx. The Lambda handler refuses events without the
 * IAM authorizer's context and records the IAM principal as the actor.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { memoryModerationPorts } from '#functions/adapters/memory-ports.ts';
import { buildModerationApp } from '#functions/api/moderation/app.ts';
import { moderationLambdaHandler } from '#functions/api/moderation/lambda-handler.ts';
import { randomBytes } from '#functions/domain/crypto.ts';
import { ModerationService } from '#functions/domain/moderation-service.ts';
import { CONTENT_KIND_MESSAGE, encodeContent } from '#sdk/client/content.ts';
import { toBase64Url } from '#sdk/wire/api/codec.ts';
import type { TestDevice } from '../functions/fixtures.ts';
import { memoryPorts, newAccount, newDevice, testMaterial } from '../functions/fixtures.ts';
import { json, type ModerationHarness, moderationHarness, START } from './moderation-fixture.ts';

type Json = Record<string, unknown>;

let h: ModerationHarness;
let bob: TestDevice;
let alice: TestDevice;
beforeEach(async () => {
  h = moderationHarness();
  bob = await h.register();
  alice = await h.register();
});

const get = (path: string, token?: string | false) =>
  h.call({
    method: 'GET',
    path: `/v1/moderation${path}`,
    ...(token === undefined ? {} : { token }),
  });

async function reportText(text: string, reason = 'harassment'): Promise<string> {
  const res = await h.report(bob, h.delivered(bob, alice, text), undefined, reason);
  expect(res.status).toBe(200);
  return res.body.reportId;
}

describe('moderation API access', () => {
  it('refuses every route without the token, with a wrong one or another scheme', async () => {
    const id = await reportText('x');
    const routes: [string, string][] = [
      ['GET', '/reports'],
      ['GET', `/reports/${id}`],
      ['POST', `/reports/${id}/decision`],
      ['GET', `/senders/${alice.account.address}`],
      ['PUT', `/accounts/${alice.account.address}/suspension`],
      ['DELETE', `/accounts/${alice.account.address}/suspension`],
      ['GET', '/audit'],
      ['GET', '/nothing-here'],
    ];
    const wrong: Record<string, string>[] = [
      {},
      { authorization: `Bearer ${'A'.repeat(43)}` },
      { authorization: `Basic ${h.token}` },
      { authorization: `Bearer ${h.token}x` },
      { authorization: h.token },
    ];
    for (const [method, path] of routes) {
      for (const headers of wrong) {
        const res = await h.call({
          method,
          path: `/v1/moderation${path}`,
          headers,
          token: false,
          json:
            method === 'POST' || method === 'PUT'
              ? { decision: 'violation', reason: 'r' }
              : undefined,
        });
        expect(res.status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(res.body.error.code).toBe('UNAUTHORIZED');
      }
    }
    // Nothing happened: no decision, no suspension, no audit entry.
    expect((await h.moderation.audit.list({ limit: 10 })).items).toEqual([]);
    const view = await h.ports.accounts.get(alice.account.address);
    expect(view?.account.suspendedAt).toBeUndefined();
  });

  it('is not reachable on the device app, whatever the credentials', async () => {
    const res = await h.app.request('/v1/moderation/reports', {
      headers: { authorization: `Bearer ${h.token}` },
    });
    expect(res.status).toBe(404);
  });
});

describe('reports', () => {
  it('lists open reports newest first, page by page', async () => {
    const ids: string[] = [];
    for (const text of ['first', 'second', 'third']) {
      ids.push(await reportText(text));
      h.clock.now += 1000;
    }
    const all = json<{ reports: Json[] }>(await get('/reports'));
    expect(all.reports.map((r) => r['reportId'])).toEqual([...ids].reverse());
    expect(all.reports[0]).toEqual({
      reportId: ids[2],
      status: 'open',
      reason: 'harassment',
      createdAt: START + 2000,
      expiresAt: START + 2000 + 180 * 86_400_000,
      sender: { address: alice.account.address, deviceId: 1 },
      messages: 1,
    });
    const page1 = json<{ reports: Json[]; cursor: string }>(await get('/reports?limit=2'));
    expect(page1.reports.map((r) => r['reportId'])).toEqual([ids[2], ids[1]]);
    expect(typeof page1.cursor).toBe('string');
    const page2 = json<{ reports: Json[]; cursor?: string }>(
      await get(`/reports?status=open&limit=2&cursor=${page1.cursor}`),
    );
    expect(page2.reports.map((r) => r['reportId'])).toEqual([ids[0]]);
    expect(page2.cursor).toBeUndefined();
    expect(json<{ reports: Json[] }>(await get('/reports?status=decided')).reports).toEqual([]);
  });

  it('shows a report with its content, a preview of the text and attachment metadata, no keys', async () => {
    const accessKey = new Uint8Array(16).fill(0xaa);
    const attachmentKey = new Uint8Array(32).fill(0xbb);
    const frame = encodeContent({
      kind: CONTENT_KIND_MESSAGE,
      text: true,
      senderAccessKey: accessKey,
      sentAt: START - 5000,
      attachments: [
        {
          id: toBase64Url(new Uint8Array(16).fill(3)),
          key: attachmentKey,
          digest: new Uint8Array(32).fill(0xcc),
          size: 123_456,
          contentType: 'image/jpeg',
          fileName: 'cat.jpg',
          width: 640,
          height: 480,
          thumbnail: new Uint8Array(5),
        },
      ],
      body: new TextEncoder().encode('look at this'),
    });
    const earlier = h.delivered(bob, alice, 'plain bytes, not a frame', START - 7_200_000);
    const main = h.verifier.deliver(bob, alice, frame, START - 3_600_000);
    const reported = await h.report(bob, main, [earlier], 'scam');
    const id = reported.body.reportId;
    const res = await get(`/reports/${id}`);
    expect(res.status).toBe(200);
    const body = json<Json>(res);
    expect(body).toMatchObject({
      reportId: id,
      status: 'open',
      verification: 'verified',
      reason: 'scam',
      reporter: { address: bob.account.address, deviceId: 1 },
      sender: { address: alice.account.address, deviceId: 1 },
    });
    const message = body['message'] as Json;
    expect(message['content']).toBe(toBase64Url(frame));
    expect(message['messageId']).toBe(main.messageId);
    expect(message['receivedAt']).toBe(main.receivedAt);
    expect(message['preview']).toEqual({
      frame: 'content',
      kind: 'message',
      sentAt: START - 5000,
      text: 'look at this',
      bodyBytes: 12,
      attachments: [
        {
          id: toBase64Url(new Uint8Array(16).fill(3)),
          size: 123_456,
          contentType: 'image/jpeg',
          fileName: 'cat.jpg',
          width: 640,
          height: 480,
          thumbnailBytes: 5,
        },
      ],
    });
    const previous = body['previous'] as Json[];
    expect(previous).toHaveLength(1);
    expect(previous[0]!['preview']).toEqual({ frame: 'unknown', bytes: 24 });
    // Keys appear only inside the raw content, never in the preview.
    const preview = JSON.stringify(message['preview']);
    expect(preview).not.toContain(toBase64Url(attachmentKey));
    expect(preview).not.toContain(toBase64Url(accessKey));
  });

  it('decides a report, moves it to the decided list, and audits it before', async () => {
    const id = await reportText('threat');
    h.clock.now += 5000;
    const res = await h.call({
      method: 'POST',
      path: `/v1/moderation/reports/${id}/decision`,
      json: { decision: 'violation', note: 'credible threat' },
    });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      reportId: id,
      status: 'decided',
      decision: {
        decision: 'violation',
        decidedAt: START + 5000,
        actor: 'local',
        note: 'credible threat',
      },
    });
    expect(json<{ reports: Json[] }>(await get('/reports')).reports).toEqual([]);
    const decided = json<{ reports: Json[] }>(await get('/reports?status=decided')).reports;
    expect(decided.map((r) => [r['reportId'], r['decision']])).toEqual([
      [id, { decision: 'violation', decidedAt: START + 5000 }],
    ]);
    // A decision can be changed; each is audited.
    h.clock.now += 1000;
    const changed = await h.call({
      method: 'POST',
      path: `/v1/moderation/reports/${id}/decision`,
      json: { decision: 'dismiss' },
    });
    expect(changed.status).toBe(200);
    const shown = json<Json>(await get(`/reports/${id}`));
    expect(shown['status']).toBe('decided');
    expect(shown['decision']).toEqual({
      decision: 'dismiss',
      decidedAt: START + 6000,
      actor: 'local',
    });
    const audit = json<{ entries: Json[] }>(await get('/audit')).entries;
    expect(
      audit.map((e) => [e['action'], e['target'], e['decision'], e['note'], e['actor']]),
    ).toEqual([
      ['decision', id, 'dismiss', undefined, 'local'],
      ['decision', id, 'violation', 'credible threat', 'local'],
    ]);
    expect(audit[0]!['time']).toBe(START + 6000);
  });

  it('answers an unknown report with 404 and bad decisions with 400', async () => {
    const id = await reportText('x');
    const unknown = toBase64Url(new Uint8Array(16).fill(7));
    expect((await get(`/reports/${unknown}`)).status).toBe(404);
    const decide = (reportId: string, body: unknown) =>
      h.call({ method: 'POST', path: `/v1/moderation/reports/${reportId}/decision`, json: body });
    const missing = await decide(unknown, { decision: 'dismiss' });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');
    for (const body of [
      { decision: 'ban' },
      {},
      { decision: 'dismiss', note: 'n'.repeat(1001) },
      { decision: 'dismiss', note: 7 },
      { decision: 'dismiss', extra: true },
    ]) {
      const res = await decide(id, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('BAD_REQUEST');
    }
    expect((await get('/reports/not-an-id')).status).toBe(400);
    expect((await h.moderation.audit.list({ limit: 10 })).items).toEqual([]);
  });
});

describe('senders, suspension, audit', () => {
  it('shows what the reports say about a sender, and 404 for an unknown account', async () => {
    await reportText('a');
    h.clock.now += 1000;
    await reportText('b');
    const res = await get(`/senders/${alice.account.address}`);
    expect(res.json).toEqual({
      address: alice.account.address,
      verifiedReports: 2,
      distinctReporters: 1,
      lastReportAt: START + 1000,
    });
    expect(json(await get(`/senders/${bob.account.address}`))).toEqual({
      address: bob.account.address,
      verifiedReports: 0,
      distinctReporters: 0,
    });
    const unknown = await get(`/senders/${newAccount().address}`);
    expect(unknown.status).toBe(404);
    expect((await get('/senders/NOT-AN-ADDRESS')).status).toBe(400);
    // The access lines name the route template, never the address in the path.
    const lines = h.logs.map((l) => JSON.parse(l) as { route?: string });
    expect(lines.map((l) => l.route)).toContain('/v1/moderation/senders/:address');
    expect(h.logs.join('\n')).not.toContain(alice.account.address);
  });

  it('suspends and lifts, shows the suspension, and audits both', async () => {
    const suspend = (address: string, body: unknown) =>
      h.call({ method: 'PUT', path: `/v1/moderation/accounts/${address}/suspension`, json: body });
    const lift = (address: string) =>
      h.call({ method: 'DELETE', path: `/v1/moderation/accounts/${address}/suspension` });
    const res = await suspend(alice.account.address, { reason: 'spam wave' });
    expect(res.json).toEqual({
      address: alice.account.address,
      suspendedAt: START,
      reason: 'spam wave',
    });
    expect((await h.ports.accounts.get(alice.account.address))?.account).toMatchObject({
      suspendedAt: START,
      suspensionReason: 'spam wave',
    });
    h.clock.now += 1000;
    // Suspending again keeps the time and takes the new reason.
    const again = await suspend(alice.account.address, { reason: 'confirmed' });
    expect(again.json).toEqual({
      address: alice.account.address,
      suspendedAt: START,
      reason: 'confirmed',
    });
    expect(json(await get(`/senders/${alice.account.address}`))).toMatchObject({
      suspended: { suspendedAt: START, reason: 'confirmed' },
    });
    h.clock.now += 1000;
    expect((await lift(alice.account.address)).json).toEqual({
      address: alice.account.address,
      lifted: true,
    });
    expect((await lift(alice.account.address)).json).toEqual({
      address: alice.account.address,
      lifted: false,
    });
    expect(json(await get(`/senders/${alice.account.address}`))['suspended']).toBeUndefined();
    const audit = json<{ entries: Json[] }>(await get('/audit')).entries;
    expect(audit.map((e) => [e['time'], e['action'], e['target'], e['note']])).toEqual([
      [START + 2000, 'lift', alice.account.address, undefined],
      [START + 1000, 'suspend', alice.account.address, 'confirmed'],
      [START, 'suspend', alice.account.address, 'spam wave'],
    ]);
    // Refusals change nothing and are not audited.
    expect((await suspend(newAccount().address, { reason: 'x' })).status).toBe(404);
    for (const body of [{ reason: '' }, { reason: '   ' }, { reason: 'r'.repeat(1001) }, {}]) {
      expect((await suspend(alice.account.address, body)).status, JSON.stringify(body)).toBe(400);
    }
    expect((await get('/audit')).json).toMatchObject({ entries: { length: 3 } });
  });

  it('pages the audit log newest first', async () => {
    for (let i = 0; i < 5; i++) {
      await h.call({
        method: 'PUT',
        path: `/v1/moderation/accounts/${alice.account.address}/suspension`,
        json: { reason: `r${i}` },
      });
      h.clock.now += 10;
    }
    const page1 = json<{ entries: Json[]; cursor: string }>(await get('/audit?limit=3'));
    expect(page1.entries.map((e) => e['note'])).toEqual(['r4', 'r3', 'r2']);
    const page2 = json<{ entries: Json[]; cursor?: string }>(
      await get(`/audit?limit=3&cursor=${page1.cursor}`),
    );
    expect(page2.entries.map((e) => e['note'])).toEqual(['r1', 'r0']);
    expect(page2.cursor).toBeUndefined();
  });

  it('answers bad queries with 400, unknown routes with 404 and other methods with 405', async () => {
    for (const query of [
      '/reports?status=closed',
      '/reports?limit=0',
      '/reports?limit=101',
      '/reports?cursor=***',
      '/reports?cursor=%00',
      '/reports?other=1',
      '/audit?limit=abc',
      `/audit?cursor=${'A'.repeat(201)}`,
    ]) {
      const res = await get(query);
      expect(res.status, query).toBe(400);
      expect(res.body.error.code).toBe('BAD_REQUEST');
    }
    expect((await get('/nothing')).status).toBe(404);
    const method = await h.call({ method: 'POST', path: '/v1/moderation/reports', json: {} });
    expect(method.status).toBe(405);
    expect(method.body.error.code).toBe('METHOD_NOT_ALLOWED');
    const body = await h.call({
      method: 'DELETE',
      path: `/v1/moderation/accounts/${alice.account.address}/suspension`,
      json: { x: 1 },
    });
    expect(body.status).toBe(400);
  });
});

describe('moderation function (Lambda)', () => {
  function lambda() {
    const ports = memoryPorts(testMaterial());
    const moderation = memoryModerationPorts(ports.accounts);
    const app = buildModerationApp({
      moderation: new ModerationService(moderation, ports.accounts, () => START, randomBytes),
      auth: { kind: 'iam' },
      log: () => undefined,
    });
    return { ports, moderation, handler: moderationLambdaHandler(app) };
  }

  const ARN = 'arn:aws:sts::123456789012:assumed-role/Moderators/jane';

  function event(method: string, path: string, iam?: unknown, body?: unknown) {
    return {
      version: '2.0',
      routeKey: 'ANY /v1/moderation/{proxy+}',
      rawPath: path,
      rawQueryString: '',
      headers: { host: 'api.example', ...(body ? { 'content-type': 'application/json' } : {}) },
      requestContext: {
        accountId: '123456789012',
        apiId: 'abc',
        domainName: 'api.example',
        http: { method, path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'cli' },
        requestId: 'req-1',
        routeKey: 'ANY /v1/moderation/{proxy+}',
        stage: '$default',
        time: '01/Jan/2026:00:00:00 +0000',
        timeEpoch: START,
        ...(iam === undefined ? {} : { authorizer: { iam } }),
      },
      isBase64Encoded: false,
      ...(body ? { body: JSON.stringify(body) } : {}),
    };
  }

  it('refuses an event without the IAM authorizer’s context before the app runs', async () => {
    const { ports, handler } = lambda();
    const account = newDevice(newAccount());
    const path = `/v1/moderation/accounts/${account.account.address}/suspension`;
    for (const iam of [undefined, {}, { userArn: '' }, { userArn: 'jane' }, { userArn: 42 }]) {
      const res = await handler(event('PUT', path, iam, { reason: 'x' }), {});
      expect(res.statusCode, JSON.stringify(iam)).toBe(401);
      expect(JSON.parse(res.body!)).toEqual({
        error: { code: 'UNAUTHORIZED', message: 'the moderation API needs operator credentials' },
      });
    }
    expect(await ports.accounts.get(account.account.address)).toBeUndefined();
  });

  it('serves a signed operator and records the IAM principal as the actor', async () => {
    const { moderation, handler } = lambda();
    const target = newAccount().address;
    const suspended = await handler(
      event(
        'PUT',
        `/v1/moderation/accounts/${target}/suspension`,
        { userArn: ARN },
        { reason: 'x' },
      ),
      {},
    );
    // Unknown account: refused, but after authentication (404, not 401).
    expect(suspended.statusCode).toBe(404);
    const listed = await handler(event('GET', '/v1/moderation/audit', { userArn: ARN }), {});
    expect(listed.statusCode).toBe(200);
    expect(JSON.parse(listed.body!)).toEqual({ entries: [] });
    const id = toBase64Url(new Uint8Array(16).fill(1));
    await moderation.reports.add(
      {
        reportId: id,
        status: 'open',
        reason: 'spam',
        createdAt: START,
        expiresAt: START + 1000,
        reporter: { address: newAccount().address, deviceId: 1 },
        sender: { address: target, deviceId: 1 },
        messages: [
          {
            messageId: new Uint8Array(16),
            receivedAt: START,
            stamp: new Uint8Array(32),
            content: new Uint8Array(3),
          },
        ],
      },
      new Uint8Array(32),
    );
    const decided = await handler(
      event(
        'POST',
        `/v1/moderation/reports/${id}/decision`,
        { userArn: ARN },
        { decision: 'dismiss' },
      ),
      {},
    );
    expect(decided.statusCode, decided.body).toBe(200);
    const entries = (await moderation.audit.list({ limit: 10 })).items;
    expect(entries.map((e) => [e.actor, e.action, e.target])).toEqual([[ARN, 'decision', id]]);
  });
});
