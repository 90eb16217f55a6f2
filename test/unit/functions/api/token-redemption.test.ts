/**
 * Sealed sends paid with anonymous tokens (docs/SERVICE.md §15.3), through the app over the
 * in-memory ports: a valid token stores the message; 64 concurrent redemptions of one token
 * with distinct request ids give exactly one 200; a retry of the same send is accepted and
 * stored once; forged tokens, tokens of another deployment and of a key past its notAfter
 * are INVALID_TOKEN; a `contacts` recipient answers a token exactly as a wrong access key; an
 * `anyone` recipient needs nothing and spends nothing; the per-recipient daily limit; and a
 * 409 comes before the spend, so the token pays for the corrected send.
 */
import { describe, expect, it } from 'vitest';
import { memoryTokenPorts } from '#functions/adapters/memory-ports.ts';
import { generateSigningMaterial } from '#functions/domain/signing-material.ts';
import { toBase64Url } from '#sdk/wire/api/codec.ts';
import { TOKEN_HEADER } from '#sdk/wire/api/signing.ts';
import {
  accessHeaders,
  BOB_ACCESS_KEY,
  harness,
  memoryPorts,
  newAccount,
  newDevice,
  newMessageId,
  registrationBody,
  sendBody,
  type TestDevice,
  testMaterial,
} from '../fixtures.ts';
import { issueTokens, tokenHeaders } from '../token-fixture.ts';

const DAY_MS = 86_400_000;
const START = 20_250 * DAY_MS + DAY_MS / 2;

async function setup(config = {}) {
  const tokens = memoryTokenPorts();
  const h = harness(memoryPorts(testMaterial()), { start: START - 8 * DAY_MS, config, tokens });
  const sender = await h.register();
  const bob = await h.register(BOB_ACCESS_KEY);
  const carol = await h.register(new Uint8Array(16).fill(3), { firstContact: 'contacts' });
  const dave = await h.register(new Uint8Array(16).fill(4), { firstContact: 'anyone' });
  h.clock.now = START;
  const send = (to: TestDevice, headers: Record<string, string>, messageId = newMessageId(0)) =>
    h.call({
      method: 'PUT',
      path: `/v1/messages/${to.account.address}`,
      json: sendBody(messageId, [[1, new Uint8Array([1, 2, 3])]]),
      headers,
    });
  const inbox = async (device: TestDevice) =>
    (await h.call({ method: 'GET', path: '/v1/messages', signer: device })).body.messages;
  return { h, tokens, sender, bob, carol, dave, send, inbox };
}

describe('message requests paid with tokens', () => {
  it('stores a sealed send paid with a valid token, with no sender', async () => {
    const { h, sender, bob, send, inbox } = await setup();
    const [token] = await issueTokens(h, sender, 1);
    const res = await send(bob, tokenHeaders(token!));
    expect(res.status).toBe(200);
    expect(res.body.duplicate).toBe(false);
    const messages = await inbox(bob);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.source).toBeUndefined();
    expect(messages[0]!.envelope).toBe(toBase64Url(new Uint8Array([1, 2, 3])));
  });

  it('lets exactly one of 64 concurrent sends with one token through', async () => {
    const { h, sender, bob, send, inbox } = await setup();
    const [token] = await issueTokens(h, sender, 1);
    const results = await Promise.all(
      Array.from({ length: 64 }, (_, i) => send(bob, tokenHeaders(token!), newMessageId(i))),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    const refused = results.filter((r) => r.status !== 200);
    expect(refused).toHaveLength(63);
    for (const r of refused) {
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe('TOKEN_SPENT');
    }
    expect(await inbox(bob)).toHaveLength(1);
  });

  it('accepts the same send again with the same token, stored once', async () => {
    const { h, sender, bob, send, inbox } = await setup();
    const [token] = await issueTokens(h, sender, 1);
    const id = newMessageId(0);
    expect((await send(bob, tokenHeaders(token!), id)).body.duplicate).toBe(false);
    const again = await send(bob, tokenHeaders(token!), id);
    expect(again.status).toBe(200);
    expect(again.body.duplicate).toBe(true);
    expect(await inbox(bob)).toHaveLength(1);
    const other = await send(bob, tokenHeaders(token!), newMessageId(1));
    expect(other.status).toBe(401);
    expect(other.body.error.code).toBe('TOKEN_SPENT');
  });

  it('refuses forged, malformed and foreign tokens with INVALID_TOKEN, storing nothing', async () => {
    const { h, sender, bob, send, inbox } = await setup();
    const [token] = await issueTokens(h, sender, 1);
    const flip = (at: number) => {
      const t = token!.slice();
      t[at] = t[at]! ^ 1;
      return t;
    };
    const forged = [
      flip(353), // authenticator
      flip(5), // nonce
      flip(40), // challenge digest
      flip(80), // key id
      flip(1), // token type
      token!.subarray(0, 353),
      new Uint8Array(354),
      crypto.getRandomValues(new Uint8Array(354)),
    ];
    for (const t of forged) {
      const res = await send(bob, tokenHeaders(t));
      expect(res.status).toBe(401);
      expect(res.body.error).toEqual({
        code: 'INVALID_TOKEN',
        message: 'the token is not valid here',
      });
    }
    for (const header of [
      '',
      'x',
      `${toBase64Url(token!)}A`,
      toBase64Url(token!).replace(/.$/, '='),
    ]) {
      const res = await send(bob, { [TOKEN_HEADER]: header });
      expect(res.body.error.code).toBe('INVALID_TOKEN');
    }
    // Another deployment: its own trust root and keys.
    const other = harness(memoryPorts(testMaterial()), {
      start: START - 8 * DAY_MS,
      tokens: memoryTokenPorts(),
    });
    const stranger = await other.register();
    other.clock.now = START;
    const [foreign] = await issueTokens(other, stranger, 1);
    expect((await send(bob, tokenHeaders(foreign!))).body.error.code).toBe('INVALID_TOKEN');
    expect(await inbox(bob)).toHaveLength(0);
    // The genuine token still works: nothing above spent it.
    expect((await send(bob, tokenHeaders(token!))).status).toBe(200);
  });

  it('refuses a token of a deployment that shares the key store but has another issuer name', async () => {
    const tokens = memoryTokenPorts();
    const a = harness(memoryPorts(testMaterial()), { start: START - 8 * DAY_MS, tokens });
    const sender = await a.register();
    a.clock.now = START;
    const [token] = await issueTokens(a, sender, 1);
    // Same issuer keys, another signing material (trust root): the challenge differs.
    const material = generateSigningMaterial({ keyId: 9, notAfter: 2_000_000_000_000 }).material;
    const b = harness(memoryPorts(material), { start: START, tokens });
    const bob = newDevice(newAccount());
    const registered = await b.call({
      method: 'PUT',
      path: `/v1/accounts/${bob.account.address}`,
      json: registrationBody(bob, START, undefined, material.trustRoot),
    });
    expect(registered.status).toBe(200);
    const res = await b.call({
      method: 'PUT',
      path: `/v1/messages/${bob.account.address}`,
      json: sendBody(newMessageId(0), [[1, new Uint8Array([1])]]),
      headers: tokenHeaders(token!),
    });
    expect(res.body.error.code).toBe('INVALID_TOKEN');
  });

  it('refuses a token whose key is past its notAfter', async () => {
    const { h, sender, bob, send } = await setup();
    const [early, late] = await issueTokens(h, sender, 2);
    // Issued on day D: redeemable until the end of day D + 2.
    h.clock.now = (Math.floor(START / DAY_MS) + 3) * DAY_MS - 1;
    expect((await send(bob, tokenHeaders(early!))).status).toBe(200);
    h.clock.now += 1;
    const res = await send(bob, tokenHeaders(late!));
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('INVALID_TOKEN');
  });

  it('answers a token for a contacts recipient exactly like a wrong access key', async () => {
    const { h, sender, carol, send, inbox } = await setup();
    const [token] = await issueTokens(h, sender, 1);
    const withToken = await send(carol, tokenHeaders(token!));
    const wrongKey = await send(carol, accessHeaders(new Uint8Array(16).fill(9)));
    const none = await send(carol, {});
    expect(withToken.status).toBe(401);
    expect(withToken.json).toEqual(wrongKey.json);
    expect(none.json).toEqual(wrongKey.json);
    expect(withToken.body.error.code).toBe('UNAUTHORIZED');
    // An unknown recipient looks the same.
    const unknown = await h.call({
      method: 'PUT',
      path: `/v1/messages/${newAccount().address}`,
      json: sendBody(newMessageId(0), [[1, new Uint8Array([1])]]),
      headers: tokenHeaders(token!),
    });
    expect(unknown.status).toBe(401);
    expect(unknown.json).toEqual(wrongKey.json);
    expect(await inbox(carol)).toHaveLength(0);
    // The access key still works, and the token was not spent.
    expect((await send(carol, accessHeaders(new Uint8Array(16).fill(3)))).status).toBe(200);
  });

  it('takes anything for an anyone recipient and spends no token there', async () => {
    const { h, sender, bob, dave, send, inbox } = await setup();
    expect((await send(dave, {})).status).toBe(200);
    expect((await send(dave, accessHeaders(new Uint8Array(16).fill(9)))).status).toBe(200);
    const [token] = await issueTokens(h, sender, 1);
    expect((await send(dave, tokenHeaders(token!))).status).toBe(200);
    expect(await inbox(dave)).toHaveLength(3);
    // Not spent: it still pays for a request to bob.
    expect((await send(bob, tokenHeaders(token!))).status).toBe(200);
    // A forged token is refused even there.
    expect((await send(dave, tokenHeaders(new Uint8Array(354)))).body.error.code).toBe(
      'INVALID_TOKEN',
    );
  });

  it('refuses both headers at once', async () => {
    const { h, sender, bob, send } = await setup();
    const [token] = await issueTokens(h, sender, 1);
    const res = await send(bob, { ...accessHeaders(), ...tokenHeaders(token!) });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('BAD_REQUEST');
    expect((await send(bob, tokenHeaders(token!))).status).toBe(200);
  });

  it('limits requests per recipient and day; a refused send spends its token', async () => {
    const { h, sender, bob, dave, send, inbox } = await setup({ requestsPerRecipientPerDay: 2 });
    const [t1, t2, t3, t4] = await issueTokens(h, sender, 4);
    const first = newMessageId(1);
    expect((await send(bob, tokenHeaders(t1!), first)).status).toBe(200);
    expect((await send(bob, tokenHeaders(t2!))).status).toBe(200);
    const thirdId = newMessageId(3);
    const third = await send(bob, tokenHeaders(t3!), thirdId);
    expect(third.status).toBe(429);
    expect(third.body.error.code).toBe('REQUEST_LIMIT');
    // Its retry is refused the same way, and the token is spent for any other send.
    expect((await send(bob, tokenHeaders(t3!), thirdId)).body.error.code).toBe('REQUEST_LIMIT');
    expect((await send(bob, tokenHeaders(t3!))).body.error.code).toBe('TOKEN_SPENT');
    // A retry of an admitted send is accepted although the limit is reached: it is not
    // counted again. (The mailbox deduplicates only a retry of its last store, §7.1, so this
    // late retry is stored a second time; the client drops it by content.)
    const retry = await send(bob, tokenHeaders(t1!), first);
    expect(retry.status).toBe(200);
    // Access-key sends and other recipients are not limited.
    expect((await send(bob, accessHeaders())).status).toBe(200);
    expect((await send(dave, {})).status).toBe(200);
    expect(await inbox(bob)).toHaveLength(4);
    // The next UTC day takes requests again.
    h.clock.now = (Math.floor(START / DAY_MS) + 1) * DAY_MS;
    expect((await send(bob, tokenHeaders(t4!))).status).toBe(200);
  });

  it('answers a device mismatch before spending, so the corrected send is paid by the token', async () => {
    const { h, sender, bob, send, inbox } = await setup();
    const [token] = await issueTokens(h, sender, 1);
    const id = newMessageId(0);
    const wrong = await h.call({
      method: 'PUT',
      path: `/v1/messages/${bob.account.address}`,
      json: sendBody(id, [
        [1, new Uint8Array([1])],
        [2, new Uint8Array([2])],
      ]),
      headers: tokenHeaders(token!),
    });
    expect(wrong.status).toBe(409);
    expect(wrong.body.error.code).toBe('DEVICE_MISMATCH');
    const stale = await h.call({
      method: 'PUT',
      path: `/v1/messages/${bob.account.address}`,
      json: {
        messageId: id,
        envelopes: [{ deviceId: 1, registrationId: 1, envelope: toBase64Url(new Uint8Array([1])) }],
      },
      headers: tokenHeaders(token!),
    });
    expect(stale.status).toBe(410);
    // Another request id after the repair: the token is still unspent.
    expect((await send(bob, tokenHeaders(token!), newMessageId(5))).status).toBe(200);
    expect(await inbox(bob)).toHaveLength(1);
  });

  it('reads a stored account without a mode as requests, or anyone when unrestricted', async () => {
    const { h, sender, send, inbox } = await setup();
    const [token] = await issueTokens(h, sender, 1);
    const legacy = await h.register(new Uint8Array(16).fill(5));
    const open = await h.register(new Uint8Array(16).fill(6));
    for (const [device, unrestricted] of [
      [legacy, false],
      [open, true],
    ] as const) {
      const view = await h.ports.accounts.get(device.account.address);
      const { firstContact: _mode, ...record } = view!.account;
      // As an item written before modes existed: only `unrestricted`.
      (h.ports.accounts as unknown as { entries: Map<string, { account: unknown }> }).entries.get(
        device.account.address,
      )!.account = { ...record, unrestricted };
    }
    expect((await send(legacy, {})).status).toBe(401);
    expect((await send(legacy, tokenHeaders(token!))).status).toBe(200);
    expect((await send(open, {})).status).toBe(200);
    expect(await inbox(legacy)).toHaveLength(1);
  });

  it('logs neither the token nor the recipient of a sealed send', async () => {
    const { h, sender, bob, send } = await setup();
    const [t1, t2] = await issueTokens(h, sender, 2);
    h.logs.length = 0;
    await send(bob, tokenHeaders(t1!));
    await send(bob, tokenHeaders(t1!));
    await send(bob, tokenHeaders(new Uint8Array(354)));
    const logs = h.logs.join('\n');
    expect(h.logs).toHaveLength(3);
    for (const line of h.logs) expect(JSON.parse(line).route).toBe('/v1/messages/:address');
    for (const secret of [
      toBase64Url(t1!),
      toBase64Url(t2!),
      bob.account.address,
      sender.account.address,
    ]) {
      expect(logs).not.toContain(secret);
    }
  });
});
