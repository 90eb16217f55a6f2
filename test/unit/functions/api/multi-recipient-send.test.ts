/**
 * `PUT /v1/messages/multi` through the app over the in-memory ports (docs/SERVICE.md §7.5,
 * §8.5): one payload object and a record per device, every device reading its own header and
 * the same payload with a stamp; retries complete one payload; every refusal names exactly the
 * failing accounts of the first failing check and stores and spends nothing; malformed bodies
 * are a JSON 4xx, never a 5xx.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memoryTokenPorts } from '#functions/adapters/memory-ports.ts';
import { randomBytes } from '#functions/domain/crypto.ts';
import { UnavailableError } from '#functions/domain/errors.ts';
import { stamperFor } from '#functions/domain/franking-stamp.ts';
import { nodeBackend } from '#sdk/crypto/node-backend.ts';
import { openSharedPayload } from '#sdk/protocol/shared-payload.ts';
import { fromBase64Url, toBase64Url } from '#sdk/wire/api/codec.ts';
import { MAX_BODY_BYTES } from '#sdk/wire/api/limits.ts';
import { registrationId, sendBody } from '../fixtures.ts';
import { issueTokens } from '../token-fixture.ts';
import {
  answerId,
  byKey,
  multiWorld,
  request,
  sharedPayload,
  target,
} from './multi-recipient-fixture.ts';

const NONE = { kind: 'none' } as const;
const DAY_MS = 86_400_000;

describe('multi-recipient send', () => {
  it('stores one payload and a record per device; every device reads its header, the payload and a stamp', async () => {
    const w = await multiWorld();
    const { payload, reference, content } = sharedPayload();
    const accounts = [target(w.bob, byKey(w.bob)), target(w.carol, byKey(w.carol))];
    accounts.push(target(w.dave, NONE));
    const requestId = randomBytes(16);
    const res = await w.sendMulti(request(accounts, payload, requestId));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ messageId: answerId(requestId), duplicate: false });
    expect(w.stored()).toEqual({ records: 7, payloads: 1, sets: 1 });
    const [set] = [...w.h.ports.payloads.references.values()];
    expect(set!.refs.size).toBe(7);
    const stamper = stamperFor(await w.h.ports.signingKeys.get());
    for (const [i, recipient] of [w.bob, w.carol, w.dave].entries()) {
      for (const device of recipient.devices) {
        const [message, ...more] = await w.fetch(device, 'payloads=1');
        expect(more).toEqual([]);
        const header = accounts[i]!.headers.get(device.deviceId)!;
        expect(fromBase64Url(message!.envelope)).toEqual(header);
        const got = fromBase64Url(message!.payload!);
        expect(got).toEqual(payload);
        expect(openSharedPayload(nodeBackend, got, reference)).toEqual(content);
        expect(message!.source).toBeUndefined();
        const position = fromBase64Url(message!.messageId);
        const mailbox = { address: device.account.address, deviceId: device.deviceId };
        const expected = stamper.forDelivery(mailbox, position, message!.receivedAt, header);
        expect(message!.stamp).toBe(toBase64Url(expected!));
      }
    }
    // The quota counts the header and the payload of each record.
    const counters = w.h.ports.index.dump().counters;
    expect(counters.map((c) => c.bytes)).toEqual(counters.map(() => 993 + payload.length));
  });

  it('answers a retry with duplicate: true and stores no second payload', async () => {
    const w = await multiWorld();
    const { payload } = sharedPayload();
    const body = request([target(w.bob, byKey(w.bob)), target(w.dave, NONE)], payload);
    expect((await w.sendMulti(body)).body.duplicate).toBe(false);
    const again = await w.sendMulti(body);
    expect(again.status).toBe(200);
    expect(again.body.duplicate).toBe(true);
    expect(w.stored()).toEqual({ records: 4, payloads: 1, sets: 1 });
    for (const device of w.bob.devices) expect(await w.fetch(device)).toHaveLength(1);
  });

  it('completes a retry after the payload write failed, with one payload', async () => {
    const w = await multiWorld();
    const { payload } = sharedPayload();
    const body = request([target(w.bob, byKey(w.bob)), target(w.carol, byKey(w.carol))], payload);
    const store = w.h.ports.payloads;
    const put = store.put.bind(store);
    let failures = 1;
    store.put = async (id, bytes) => {
      if (failures-- > 0) throw new UnavailableError();
      return put(id, bytes);
    };
    const failed = await w.sendMulti(body);
    expect(failed.status).toBe(503);
    // Reserved and referenced, but nothing visible.
    expect(w.stored()).toEqual({ records: 0, payloads: 0, sets: 1 });
    const retry = await w.sendMulti(body);
    expect(retry.status).toBe(200);
    expect(retry.body.duplicate).toBe(false);
    expect(w.stored()).toEqual({ records: 5, payloads: 1, sets: 1 });
    const [set] = [...store.references.values()];
    expect(set!.refs.size).toBe(5);
    for (const device of [...w.bob.devices, ...w.carol.devices]) {
      const [message] = await w.fetch(device, 'payloads=1');
      expect(fromBase64Url(message!.payload!)).toEqual(payload);
    }
  });

  it('refuses a wrong key in one of three accounts naming exactly that account, storing nothing', async () => {
    const w = await multiWorld();
    const { payload } = sharedPayload();
    const wrong = { kind: 'accessKey', accessKey: new Uint8Array(16).fill(9) } as const;
    const res = await w.sendMulti(
      request([target(w.bob, byKey(w.bob)), target(w.carol, wrong), target(w.dave, NONE)], payload),
    );
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHORIZED');
    expect(res.body.error.accounts).toEqual([{ address: w.carol.devices[0]!.account.address }]);
    expect(w.stored()).toEqual({ records: 0, payloads: 0, sets: 0 });
    expect(w.h.ports.index.dump().counters).toEqual([]);
  });

  it('answers an unknown account and an account that takes no anonymous sends like a wrong key', async () => {
    const w = await multiWorld();
    const { payload } = sharedPayload();
    const ghost = { ...target(w.dave, NONE), address: 'a'.repeat(32) };
    const res = await w.sendMulti(
      request([target(w.bob, NONE), ghost, target(w.carol, byKey(w.carol))], payload),
    );
    expect(res.status).toBe(401);
    expect(res.body.error.accounts).toEqual([
      { address: w.bob.devices[0]!.account.address },
      { address: 'a'.repeat(32) },
    ]);
  });

  it('names every account whose device list disagrees, with its lists, before any stale one', async () => {
    const w = await multiWorld();
    const { payload } = sharedPayload();
    const ids = (r: typeof w.bob) =>
      r.devices.map((d) => ({ deviceId: d.deviceId, registrationId: registrationId(d.identity) }));
    const bobShort = target(w.bob, byKey(w.bob), ids(w.bob).slice(0, 1));
    const carolExtra = target(w.carol, byKey(w.carol), [
      ...ids(w.carol),
      { deviceId: 5, registrationId: 1 },
    ]);
    const staleDave = target(w.dave, NONE, [
      { deviceId: 1, registrationId: (ids(w.dave)[0]!.registrationId ^ 1) >>> 0 },
      ids(w.dave)[1]!,
    ]);
    const mismatch = await w.sendMulti(request([bobShort, carolExtra, staleDave], payload));
    expect(mismatch.status).toBe(409);
    expect(mismatch.body.error.code).toBe('DEVICE_MISMATCH');
    expect(mismatch.body.error.accounts).toEqual([
      { address: w.bob.devices[0]!.account.address, missing: [2], extra: [] },
      { address: w.carol.devices[0]!.account.address, missing: [], extra: [5] },
    ]);
    const stale = await w.sendMulti(request([target(w.bob, byKey(w.bob)), staleDave], payload));
    expect(stale.status).toBe(410);
    expect(stale.body.error.code).toBe('STALE_DEVICES');
    expect(stale.body.error.accounts).toEqual([
      { address: w.dave.devices[0]!.account.address, stale: [1] },
    ]);
    expect(w.stored()).toEqual({ records: 0, payloads: 0, sets: 0 });
  });

  it('checks authorization over every account before any device list', async () => {
    const w = await multiWorld();
    const { payload } = sharedPayload();
    const bobShort = target(w.bob, byKey(w.bob), [
      { deviceId: 1, registrationId: registrationId(w.bob.devices[0]!.identity) },
    ]);
    const res = await w.sendMulti(request([bobShort, target(w.carol, NONE)], payload));
    expect(res.status).toBe(401);
    expect(res.body.error.accounts).toEqual([{ address: w.carol.devices[0]!.account.address }]);
  });

  it('refuses the whole request when a mailbox is full, naming its account and leaving nothing visible', async () => {
    const w = await multiWorld({ config: { mailboxMaxMessages: 1 } });
    const { payload } = sharedPayload();
    // Carol's device 2 holds one message already.
    const carol2 = w.carol.devices[1]!;
    await w.h.call({
      method: 'PUT',
      path: `/v1/messages/${carol2.account.address}`,
      json: {
        ...sendBody(toBase64Url(randomBytes(16)), [
          [1, randomBytes(10)],
          [2, randomBytes(10)],
          [3, randomBytes(10)],
        ]),
      },
      headers: { 'x-sealpost-access-key': toBase64Url(w.carol.accessKey!) },
    });
    for (const d of [w.carol.devices[0]!, w.carol.devices[2]!]) {
      const [m] = await w.fetch(d);
      await w.ack(d, [m!.messageId]);
    }
    const body = request([target(w.bob, byKey(w.bob)), target(w.carol, byKey(w.carol))], payload);
    const full = await w.sendMulti(body);
    expect(full.status).toBe(429);
    expect(full.body.error.code).toBe('MAILBOX_FULL');
    expect(full.body.error.accounts).toEqual([{ address: carol2.account.address }]);
    expect(w.stored()).toEqual({ records: 1, payloads: 0, sets: 0 });
    for (const d of w.bob.devices) expect(await w.fetch(d)).toEqual([]);

    // Room again: the retry completes, Bob's devices under the payload id their counters
    // remembered, Carol's under a fresh one (docs/PROTOCOL.md §14.8).
    const [old] = await w.fetch(carol2);
    await w.ack(carol2, [old!.messageId]);
    const retry = await w.sendMulti(body);
    expect(retry.status).toBe(200);
    expect(w.stored()).toEqual({ records: 5, payloads: 2, sets: 2 });
    for (const d of [...w.bob.devices, ...w.carol.devices]) {
      const [m] = await w.fetch(d, 'payloads=1');
      expect(fromBase64Url(m!.payload!)).toEqual(payload);
      expect((await w.ack(d, [m!.messageId])).body.acknowledged).toBe(1);
    }
    expect(w.stored()).toEqual({ records: 0, payloads: 0, sets: 0 });
  });

  it('spends tokens only after every device list matched; a 409 leaves them unspent', async () => {
    const tokens = memoryTokenPorts();
    const start = 20_250 * DAY_MS + DAY_MS / 2;
    const w = await multiWorld({ tokens, start: start - 8 * DAY_MS });
    const tess = { devices: [await w.h.register(new Uint8Array(16).fill(8))] };
    w.h.clock.now = start;
    const [token] = await issueTokens(w.h, w.bob.devices[0]!, 1);
    const { payload } = sharedPayload();
    const paid = { kind: 'token', token: token! } as const;
    const requestId = randomBytes(16);
    const bobShort = target(w.bob, byKey(w.bob), [
      { deviceId: 1, registrationId: registrationId(w.bob.devices[0]!.identity) },
    ]);
    const mismatch = await w.sendMulti(request([target(tess, paid), bobShort], payload, requestId));
    expect(mismatch.status).toBe(409);
    // Unspent: another request may spend it.
    const other = await w.sendMulti(request([target(tess, paid)], payload));
    expect(other.status).toBe(200);
    const spent = await w.sendMulti(
      request([target(tess, paid), target(w.bob, byKey(w.bob))], payload, requestId),
    );
    expect(spent.status).toBe(401);
    expect(spent.body.error).toMatchObject({
      code: 'TOKEN_SPENT',
      accounts: [{ address: tess.devices[0]!.account.address }],
    });
    expect(await w.fetch(w.bob.devices[0]!)).toEqual([]);
  });

  it('names forged tokens, one token paying for two accounts, and the daily request limit', async () => {
    const tokens = memoryTokenPorts();
    const start = 20_250 * DAY_MS + DAY_MS / 2;
    const w = await multiWorld({ tokens, start: start - 8 * DAY_MS });
    const tess = { devices: [await w.h.register(new Uint8Array(16).fill(8))] };
    const tom = { devices: [await w.h.register(new Uint8Array(16).fill(9))] };
    w.h.clock.now = start;
    const [one] = await issueTokens(w.h, w.bob.devices[0]!, 1);
    const { payload } = sharedPayload();
    const address = (r: { devices: { account: { address: string } }[] }) =>
      r.devices[0]!.account.address;

    const forged = { kind: 'token', token: randomBytes(354) } as const;
    const invalid = await w.sendMulti(
      request(
        [target(tess, forged), target(w.bob, { kind: 'accessKey', accessKey: randomBytes(16) })],
        payload,
      ),
    );
    expect(invalid.status).toBe(401);
    // The token is checked before the recipient, as for a sealed send.
    expect(invalid.body.error).toMatchObject({
      code: 'INVALID_TOKEN',
      accounts: [{ address: address(tess) }],
    });

    const shared = { kind: 'token', token: one! } as const;
    const twice = await w.sendMulti(request([target(tess, shared), target(tom, shared)], payload));
    expect(twice.status).toBe(401);
    expect(twice.body.error).toMatchObject({
      code: 'TOKEN_SPENT',
      accounts: [{ address: address(tom) }],
    });
    expect(w.stored().records).toBe(0);

    const w2 = await multiWorld({
      tokens: memoryTokenPorts(),
      start: start - 8 * DAY_MS,
      config: { requestsPerRecipientPerDay: 1 },
    });
    const tina = { devices: [await w2.h.register(new Uint8Array(16).fill(8))] };
    w2.h.clock.now = start;
    const [a, b] = await issueTokens(w2.h, w2.bob.devices[0]!, 2);
    const first = await w2.sendMulti(
      request([target(tina, { kind: 'token', token: a! })], payload),
    );
    expect(first.status).toBe(200);
    const limited = await w2.sendMulti(
      request([target(w2.dave, NONE), target(tina, { kind: 'token', token: b! })], payload),
    );
    expect(limited.status).toBe(429);
    expect(limited.body.error).toMatchObject({
      code: 'REQUEST_LIMIT',
      accounts: [{ address: address(tina) }],
    });
    expect(await w2.fetch(w2.dave.devices[0]!)).toEqual([]);
  });
});

describe('multi-recipient request bodies', () => {
  it('answers truncated, trailing, empty, mistyped and oversized bodies with a JSON 4xx', async () => {
    const w = await multiWorld();
    const { payload } = sharedPayload();
    const body = request([target(w.bob, byKey(w.bob))], payload);
    const cases: [string, Uint8Array, Record<string, string> | undefined, number, string][] = [
      ['truncated', body.slice(0, -1), undefined, 400, 'BAD_REQUEST'],
      ['trailing byte', Uint8Array.of(...body, 0), undefined, 400, 'BAD_REQUEST'],
      ['empty', new Uint8Array(0), undefined, 400, 'BAD_REQUEST'],
      ['version 2', Uint8Array.of(2, ...body.slice(1)), undefined, 400, 'BAD_REQUEST'],
      ['json type', body, { 'content-type': 'application/json' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [
        'octet stream',
        body,
        { 'content-type': 'application/octet-stream' },
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      ['no type', body, {}, 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['oversized', new Uint8Array(MAX_BODY_BYTES + 1), undefined, 413, 'PAYLOAD_TOO_LARGE'],
    ];
    for (const [name, bytes, headers, status, code] of cases) {
      const res = await w.sendMulti(bytes, headers);
      expect(res.status, name).toBe(status);
      expect(res.body.error.code, name).toBe(code);
      expect(typeof res.body.error.message, name).toBe('string');
    }
    const truncated = await w.sendMulti(body.slice(0, 40));
    expect(truncated.body.error.message).toBe('invalid body: multi-recipient request is truncated');
    expect(w.stored()).toEqual({ records: 0, payloads: 0, sets: 0 });
  });

  it('answers damaged requests with a 4xx or a send, never a 5xx', async () => {
    const w = await multiWorld();
    const { payload } = sharedPayload(randomBytes(16));
    const body = request([target(w.bob, byKey(w.bob)), target(w.dave, NONE)], payload);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(body.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.nat(body.length),
        async (edits, cut) => {
          const damaged = body.slice(0, Math.max(1, cut === body.length ? body.length : cut));
          for (const [at, value] of edits) if (at < damaged.length) damaged[at] = value;
          const res = await w.sendMulti(damaged);
          expect(res.status).toBeLessThan(500);
          if (res.status !== 200) expect(typeof res.body.error.code).toBe('string');
        },
      ),
      { numRuns: 150 },
    );
  });
});
