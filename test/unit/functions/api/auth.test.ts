import { describe, expect, it } from 'vitest';
import { ed25519PublicKey } from '#functions/domain/crypto.ts';
import { fromBase64Url } from '#sdk/wire/api/codec.ts';
import { SIGNATURE_WINDOW_MS } from '#sdk/wire/api/limits.ts';
import { AUTH_HEADERS } from '#sdk/wire/api/signing.ts';
import {
  harness,
  memoryPorts,
  newAccount,
  newMessageId,
  sendBody,
  signHeaders,
  TEST_AUDIENCE,
  testMaterial,
} from '../fixtures.ts';

async function setup() {
  const h = harness(memoryPorts(testMaterial()));
  const bob = await h.register();
  return { h, bob };
}

describe('owner authentication', () => {
  it('accepts a signed request once and rejects its replay', async () => {
    const { h, bob } = await setup();
    const headers = signHeaders(bob, 'GET', '/v1/prekeys/count', new Uint8Array(), h.clock.now);
    expect((await h.call({ method: 'GET', path: '/v1/prekeys/count', headers })).status).toBe(200);
    const replay = await h.call({ method: 'GET', path: '/v1/prekeys/count', headers });
    expect(replay.status).toBe(401);
    expect(replay.body.error.code).toBe('UNAUTHORIZED');
  });

  it('rejects timestamps more than 5 minutes away', async () => {
    const { h, bob } = await setup();
    for (const skew of [-5 * 60_000 - 1, 5 * 60_000 + 1]) {
      const headers = signHeaders(
        bob,
        'GET',
        '/v1/prekeys/count',
        new Uint8Array(),
        h.clock.now + skew,
      );
      const res = await h.call({ method: 'GET', path: '/v1/prekeys/count', headers });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({
        error: { code: 'CLOCK_SKEW', message: expect.any(String), serverTime: h.clock.now },
      });
    }
    const edge = signHeaders(
      bob,
      'GET',
      '/v1/prekeys/count',
      new Uint8Array(),
      h.clock.now - 5 * 60_000,
    );
    expect((await h.call({ method: 'GET', path: '/v1/prekeys/count', headers: edge })).status).toBe(
      200,
    );
  });

  it('binds method, path, query, body, address and device id', async () => {
    const { h, bob } = await setup();
    const other = await h.link(bob.account);
    const body = new TextEncoder().encode('{"messageIds":["AAAAAAAAAAAAAAAAAAAAAA"]}');
    const json = { 'content-type': 'application/json' };
    const cases: [string, string, Record<string, string>, Uint8Array | undefined][] = [
      [
        'GET',
        '/v1/messages?limit=1',
        signHeaders(bob, 'GET', '/v1/messages?limit=2', new Uint8Array(), h.clock.now),
        undefined,
      ],
      [
        'GET',
        '/v1/messages',
        signHeaders(bob, 'POST', '/v1/messages', new Uint8Array(), h.clock.now),
        undefined,
      ],
      [
        'POST',
        '/v1/messages/ack',
        { ...json, ...signHeaders(bob, 'POST', '/v1/messages/ack', body.slice(1), h.clock.now) },
        body,
      ],
      [
        'GET',
        '/v1/messages',
        {
          ...signHeaders(bob, 'GET', '/v1/messages', new Uint8Array(), h.clock.now),
          [AUTH_HEADERS.device]: String(other.deviceId),
        },
        undefined,
      ],
    ];
    for (const [method, path, headers, raw] of cases) {
      const res = await h.call({ method, path, headers, ...(raw ? { rawBody: raw } : {}) });
      expect(res.status, `${method} ${path}`).toBe(401);
    }
  });

  it('rejects removed devices and missing or malformed headers', async () => {
    const { h, bob } = await setup();
    const second = await h.link(bob.account);
    await h.call({
      method: 'DELETE',
      path: `/v1/devices/${second.deviceId}`,
      signer: bob,
      accountSeed: bob.account.seed,
    });
    expect(
      (await h.call({ method: 'GET', path: '/v1/prekeys/count', signer: second })).status,
    ).toBe(401);
    const good = signHeaders(bob, 'GET', '/v1/prekeys/count', new Uint8Array(), h.clock.now);
    for (const name of Object.values(AUTH_HEADERS)) {
      const missing = { ...good };
      delete missing[name];
      expect(
        (await h.call({ method: 'GET', path: '/v1/prekeys/count', headers: missing })).status,
      ).toBe(401);
      const garbled = { ...good, [name]: `${good[name]}!` };
      expect(
        (await h.call({ method: 'GET', path: '/v1/prekeys/count', headers: garbled })).status,
      ).toBe(401);
    }
  });

  it('answers CLOCK_SKEW before looking up the device, checking the signature or the nonce', async () => {
    const { h, bob } = await setup();
    const late = h.clock.now - 10 * 60_000;
    const valid = signHeaders(bob, 'GET', '/v1/prekeys/count', new Uint8Array(), late);
    const unknown = { ...valid, [AUTH_HEADERS.address]: newAccount().address };
    const badSignature = { ...valid, [AUTH_HEADERS.signature]: 'A'.repeat(86) };
    for (const headers of [valid, unknown, badSignature, valid]) {
      const res = await h.call({ method: 'GET', path: '/v1/prekeys/count', headers });
      expect(res.status).toBe(401);
      expect(res.body.error).toMatchObject({ code: 'CLOCK_SKEW', serverTime: h.clock.now });
    }
    // The refused nonce was not recorded: the same request signed at the right time, with that
    // nonce, is accepted.
    const nonce = fromBase64Url(valid[AUTH_HEADERS.nonce]!, 'nonce');
    const fresh = signHeaders(
      bob,
      'GET',
      '/v1/prekeys/count',
      new Uint8Array(),
      h.clock.now,
      nonce,
    );
    expect(
      (await h.call({ method: 'GET', path: '/v1/prekeys/count', headers: fresh })).status,
    ).toBe(200);
  });

  it('still refuses a replay at exactly the end of the window (nonce kept past it)', async () => {
    const { h, bob } = await setup();
    const signedAt = h.clock.now;
    const headers = signHeaders(bob, 'GET', '/v1/prekeys/count', new Uint8Array(), signedAt);
    expect((await h.call({ method: 'GET', path: '/v1/prekeys/count', headers })).status).toBe(200);
    h.clock.now = signedAt + SIGNATURE_WINDOW_MS;
    const atEdge = await h.call({ method: 'GET', path: '/v1/prekeys/count', headers });
    expect(atEdge.body.error.code).toBe('UNAUTHORIZED');
    h.clock.now = signedAt + SIGNATURE_WINDOW_MS + 1;
    const after = await h.call({ method: 'GET', path: '/v1/prekeys/count', headers });
    expect(after.body.error.code).toBe('CLOCK_SKEW');
  });

  it('binds the signature to this deployment (the trust root as audience)', async () => {
    const { h, bob } = await setup();
    const elsewhere = ed25519PublicKey(new Uint8Array(32).fill(1));
    const headers = signHeaders(
      bob,
      'GET',
      '/v1/prekeys/count',
      new Uint8Array(),
      h.clock.now,
      undefined,
      elsewhere,
    );
    const res = await h.call({ method: 'GET', path: '/v1/prekeys/count', headers });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHORIZED');
    // The same request for this deployment's audience passes.
    const here = signHeaders(bob, 'GET', '/v1/prekeys/count', new Uint8Array(), h.clock.now);
    expect((await h.call({ method: 'GET', path: '/v1/prekeys/count', headers: here })).status).toBe(
      200,
    );
    expect(TEST_AUDIENCE).toEqual(testMaterial().trustRoot);
  });

  it('stops a device from reading or acknowledging another device mailbox', async () => {
    const { h, bob } = await setup();
    const bob2 = await h.link(bob.account);
    // bob2 signs a request but claims to be device 1: the signature does not verify under device 1's key.
    const forged = {
      ...signHeaders(bob2, 'GET', '/v1/messages', new Uint8Array(), h.clock.now),
      [AUTH_HEADERS.device]: '1',
    };
    expect((await h.call({ method: 'GET', path: '/v1/messages', headers: forged })).status).toBe(
      401,
    );
  });

  it('lets a device fetch and acknowledge only its own mailbox', async () => {
    const { h, bob } = await setup();
    const bob2 = await h.link(bob.account);
    await h.call({
      method: 'PUT',
      path: '/v1/account/settings',
      json: { unrestricted: true },
      signer: bob,
    });
    const id = newMessageId(h.clock.now);
    const sent = await h.call({
      method: 'PUT',
      path: `/v1/messages/${bob.account.address}`,
      json: sendBody(id, [
        [1, new Uint8Array([1])],
        [2, new Uint8Array([2])],
      ]),
    });
    expect(sent.status).toBe(200);
    // Acknowledge by the id the fetch answers (the mailbox position), as clients do.
    const fetched = await h.call({ method: 'GET', path: '/v1/messages', signer: bob2 });
    const ack = await h.call({
      method: 'POST',
      path: '/v1/messages/ack',
      json: { messageIds: fetched.body.messages.map((m: { messageId: string }) => m.messageId) },
      signer: bob2,
    });
    expect(ack.body).toEqual({ acknowledged: 1 });
    const mine = await h.call({ method: 'GET', path: '/v1/messages', signer: bob });
    expect(mine.body.messages.map((m: { envelope: string }) => m.envelope)).toEqual(['AQ']);
    expect(
      (await h.call({ method: 'GET', path: '/v1/messages', signer: bob2 })).body.messages,
    ).toEqual([]);
  });
});
