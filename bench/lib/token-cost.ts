/**
 * Anonymous tokens on the service (docs/SERVICE.md §15): what issuance and redemption cost the
 * service's CPU, what a token costs the client, what it adds to a first message, and what a
 * first contact paid with a token costs on AWS against an identified first contact and a
 * contact's sealed send.
 *
 * Throughput runs the real app (`buildApp` over the in-memory ports, so the figures are the
 * handler's own CPU on one thread, without storage latency); the cost model runs it over
 * DynamoDB Local with every AWS request metered (./meter.ts), as `bench/service.ts` does for
 * messages.
 */

import { memoryTokenPorts } from '../../functions/adapters/memory-ports.ts';
import { DEFAULT_CONFIG } from '../../functions/domain/config.ts';
import { randomBytes } from '../../functions/domain/crypto.ts';
import { systemRng } from '../../sdk/crypto/backend.ts';
import { beginToken, finishToken, TOKEN_BYTES } from '../../sdk/tokens/index.ts';
import { fromBase64Url, toBase64Url } from '../../sdk/wire/api/codec.ts';
import { ACCESS_KEY_HEADER, TOKEN_HEADER } from '../../sdk/wire/api/signing.ts';
import {
  harness,
  memoryPorts,
  newMessageId,
  sendBody,
  testMaterial,
} from '../../test/unit/functions/fixtures.ts';
import { currentKey, tokenRequests } from '../../test/unit/functions/token-fixture.ts';
import { addUsage, emptyUsage, perMessage, type Usage } from '../cost-model.ts';
import type { Endpoints } from './meter.ts';
import { meteredHarness } from './metered-harness.ts';

/** Tokens per `POST /v1/tokens` in these measurements: the largest batch the route takes. */
export const BATCH = 20;
const ENVELOPE_BYTES = 2048;

/** Token throughput and client cost (one thread). */
export interface TokenThroughput {
  /** Handler time of one `POST /v1/tokens` with {@link BATCH} requests (median, ms). */
  readonly issueBatchMs: number;
  /** Token-paid sealed sends per second through `PUT /v1/messages/{address}`. */
  readonly redemptionsPerSecond: number;
  /** Redemption alone: token verification and spend (`TokenService.verify` + `redeem`), per second. */
  readonly verifyAndSpendPerSecond: number;
  /** Token verification alone (`TokenService.verify`), per second. */
  readonly verificationsPerSecond: number;
  /** The same sends authorized by an access key, per second (the baseline). */
  readonly accessKeySendsPerSecond: number;
  /** Client work per token: blind + unblind and verify (ms, issuer excluded). */
  readonly clientMsPerToken: number;
  /** Bytes a token-paid send carries over an access-key one (the header, base64url). */
  readonly headerBytesAdded: number;
  readonly tokenBytes: number;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Measures issuance, redemption and the client's share on this thread.
 *
 * @example const t = await measureTokenThroughput(); t.redemptionsPerSecond
 */
export async function measureTokenThroughput(
  options: { batches?: number; sends?: number } = {},
): Promise<TokenThroughput> {
  const batches = options.batches ?? 25;
  const sends = options.sends ?? 2000;
  const h = harness(memoryPorts(testMaterial()), {
    config: {
      tokenQuotaPerDay: 1000,
      newAccountTokenQuotaPerDay: 1000,
      requestsPerRecipientPerDay: 1_000_000,
    },
    tokens: memoryTokenPorts(),
  });
  const accessKey = randomBytes(16);
  const bob = await h.register(accessKey, { firstContact: 'requests' });
  const envelope = randomBytes(ENVELOPE_BYTES);
  // The quota of one account is at most 1,000 a day (MAX_TOKEN_QUOTA): a new account per 50
  // batches.
  let issuer = await h.register();
  let issued = 0;
  const nextIssuer = async () => {
    issued += BATCH;
    if (issued > 1000) {
      issuer = await h.register();
      issued = BATCH;
    }
    return issuer;
  };

  // Issuance: one account, batch after batch (the quota is raised for the bench).
  const issueMs: number[] = [];
  const tokens: Uint8Array[] = [];
  for (let i = 0; i < batches; i++) {
    const { body, finish } = await tokenRequests(h, BATCH);
    const signer = await nextIssuer();
    const started = performance.now();
    const res = await h.call({ method: 'POST', path: '/v1/tokens', json: body, signer });
    issueMs.push(performance.now() - started);
    if (res.status !== 200) throw new Error(`issue: ${JSON.stringify(res.body)}`);
    tokens.push(...finish(res.body.responses));
  }
  while (tokens.length < sends) {
    const { body, finish } = await tokenRequests(h, BATCH);
    const signer = await nextIssuer();
    const res = await h.call({ method: 'POST', path: '/v1/tokens', json: body, signer });
    if (res.status !== 200) throw new Error(`issue: ${JSON.stringify(res.body)}`);
    tokens.push(...finish(res.body.responses));
  }

  const sendAll = async (headers: (i: number) => Record<string, string>): Promise<number> => {
    const started = performance.now();
    for (let i = 0; i < sends; i++) {
      const res = await h.call({
        method: 'PUT',
        path: `/v1/messages/${bob.account.address}`,
        json: sendBody(newMessageId(h.clock.now), [[1, envelope]]),
        headers: headers(i),
      });
      if (res.status !== 200) throw new Error(`send: ${JSON.stringify(res.body)}`);
    }
    return (sends * 1000) / (performance.now() - started);
  };
  // Redemption alone, on fresh tokens: verify, then spend and count against the limit.
  const spare: Uint8Array[] = [];
  while (spare.length < sends) {
    const { body, finish } = await tokenRequests(h, BATCH);
    const signer = await nextIssuer();
    const res = await h.call({ method: 'POST', path: '/v1/tokens', json: body, signer });
    if (res.status !== 200) throw new Error(`issue: ${JSON.stringify(res.body)}`);
    spare.push(...finish(res.body.responses));
  }
  const headers = spare.map(toBase64Url);
  let started = performance.now();
  for (const header of headers) await h.services.tokens.verify(header);
  const verificationsPerSecond = (sends * 1000) / (performance.now() - started);
  started = performance.now();
  for (const header of headers) {
    const verified = await h.services.tokens.verify(header);
    await h.services.tokens.redeem(verified, bob.account.address, randomBytes(16));
  }
  const verifyAndSpendPerSecond = (sends * 1000) / (performance.now() - started);

  const tokenHeader = (i: number) => ({ [TOKEN_HEADER]: toBase64Url(tokens[i]!) });
  const keyHeader = () => ({ [ACCESS_KEY_HEADER]: toBase64Url(accessKey) });
  // Warm both paths, then alternate halves so load shifts hit both.
  const accessKeySendsPerSecond = await sendAll(keyHeader);
  const redemptionsPerSecond = await sendAll(tokenHeader);

  // The client's share: blind a batch, then unblind and verify the issuer's answers.
  const key = await currentKey(h);
  const client: number[] = [];
  for (let round = 0; round < 5; round++) {
    const started = performance.now();
    const begun = Array.from({ length: BATCH }, () =>
      beginToken(systemRng, { publicKey: key.publicKey, challenge: key.challenge }),
    );
    const blindMs = performance.now() - started;
    const body = {
      keyId: toBase64Url(key.keyId),
      requests: begun.map((b) => toBase64Url(b.request)),
    };
    const signer = await nextIssuer();
    const res = await h.call({ method: 'POST', path: '/v1/tokens', json: body, signer });
    if (res.status !== 200) throw new Error(`issue: ${JSON.stringify(res.body)}`);
    const unblindStart = performance.now();
    for (const [i, b] of begun.entries()) {
      finishToken(b.pending, fromBase64Url(res.body.responses[i]!));
    }
    client.push((blindMs + performance.now() - unblindStart) / BATCH);
  }

  return {
    issueBatchMs: median(issueMs),
    redemptionsPerSecond,
    verifyAndSpendPerSecond,
    verificationsPerSecond,
    accessKeySendsPerSecond,
    clientMsPerToken: median(client),
    headerBytesAdded:
      TOKEN_HEADER.length +
      toBase64Url(new Uint8Array(TOKEN_BYTES)).length -
      (ACCESS_KEY_HEADER.length + toBase64Url(accessKey).length),
    tokenBytes: TOKEN_BYTES,
  };
}

/** What one first message costs on the service, by how it is authorized (send side only). */
export interface FirstContactUsage {
  /** Sealed, paid with a token: sealed bundle fetch + send + 1/{@link BATCH} of an issuance. */
  readonly token: Usage;
  /** Identified: owner-signed bundle fetch + identified send. */
  readonly identified: Usage;
  /** A contact's sealed send (session already there): the send alone. */
  readonly contact: Usage;
}

/**
 * Meters the three ways a message reaches a recipient's single device over DynamoDB Local
 * (S3 holds the envelope, as by default), `messages` of each.
 *
 * @example const u = await measureFirstContactUsage(endpoints, 40);
 */
export async function measureFirstContactUsage(
  endpoints: Endpoints,
  messages = 40,
): Promise<FirstContactUsage> {
  const { meter, h, timed, close } = meteredHarness(endpoints, {
    config: {
      ...DEFAULT_CONFIG,
      tokenQuotaPerDay: 1000,
      newAccountTokenQuotaPerDay: 1000,
      bundleRateLimit: { limit: 100_000, windowMs: 600_000 },
      identifiedSendRateLimit: { limit: 100_000, windowMs: 600_000 },
    },
    start: Date.now(),
    tokens: true,
  });
  const envelope = randomBytes(ENVELOPE_BYTES);
  const accessKey = randomBytes(16);
  const bob = await h.register(accessKey, { firstContact: 'requests' });
  const alice = await h.register();
  const send = (path: string, headers: Record<string, string>, signer?: typeof alice) =>
    timed({
      method: 'PUT',
      path,
      json: sendBody(newMessageId(h.clock.now), [[1, envelope]]),
      headers,
      ...(signer ? { signer } : {}),
    });

  // Token: issuance in batches (metered, shared over the batch), then per message a sealed
  // bundle fetch and a sealed send with the token.
  const tokens: Uint8Array[] = [];
  meter.active = true;
  while (tokens.length < messages) {
    const { body, finish } = await tokenRequests(h, BATCH);
    const res = await timed({ method: 'POST', path: '/v1/tokens', json: body, signer: alice });
    tokens.push(...finish(res.body.responses));
  }
  meter.active = false;
  const issuance = perMessage(meter.usage, tokens.length);
  meter.usage = emptyUsage();
  meter.active = true;
  for (let i = 0; i < messages; i++) {
    const headers = { [TOKEN_HEADER]: toBase64Url(tokens[i]!) };
    await timed({ method: 'GET', path: `/v1/sealed/bundles/${bob.account.address}`, headers });
    await send(`/v1/messages/${bob.account.address}`, headers);
  }
  meter.active = false;
  const redeemed = perMessage(meter.usage, messages);
  meter.usage = emptyUsage();

  meter.active = true;
  for (let i = 0; i < messages; i++) {
    await timed({ method: 'GET', path: `/v1/bundles/${bob.account.address}`, signer: alice });
    await send(`/v1/messages/${bob.account.address}/identified`, {}, alice);
  }
  meter.active = false;
  const identified = perMessage(meter.usage, messages);
  meter.usage = emptyUsage();

  meter.active = true;
  for (let i = 0; i < messages; i++) {
    await send(`/v1/messages/${bob.account.address}`, {
      [ACCESS_KEY_HEADER]: toBase64Url(accessKey),
    });
  }
  meter.active = false;
  const contact = perMessage(meter.usage, messages);
  close();
  return { token: addUsage(redeemed, issuance), identified, contact };
}
