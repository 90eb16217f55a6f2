/**
 * Anonymous tokens as a client gets them from the test app: read the signed key list, blind
 * requests against today's key, `POST /v1/tokens`, unblind. Also sealed requests paid with
 * them.
 */
import { systemRng } from '#sdk/crypto/backend.ts';
import { beginToken, finishToken, tokenChallenge, tokenKeyId } from '#sdk/tokens/index.ts';
import { fromBase64Url, toBase64Url } from '#sdk/wire/api/codec.ts';
import { TOKEN_HEADER } from '#sdk/wire/api/signing.ts';
import { decodeTokenKeyList } from '#sdk/wire/token-keys.ts';
import type { CallResult, TestDevice } from './fixtures.ts';

/** What the token helpers need of a harness. */
interface TokenHarness {
  call(c: {
    method: string;
    path: string;
    json?: unknown;
    headers?: Record<string, string>;
    signer?: TestDevice;
  }): Promise<CallResult>;
}

/** Today's issuer key and the issuer name, from `GET /v1/tokens/keys`. */
export async function currentKey(h: TokenHarness) {
  const res = await h.call({ method: 'GET', path: '/v1/tokens/keys' });
  if (res.status !== 200) throw new Error(`key list: ${JSON.stringify(res.body)}`);
  const list = decodeTokenKeyList(fromBase64Url(res.body.keys));
  const key = list.keys.at(-1);
  if (!key) throw new Error('empty key list');
  return {
    list,
    publicKey: key.publicKey,
    keyId: tokenKeyId(key.publicKey),
    challenge: tokenChallenge({ issuerName: list.issuerName }),
  };
}

/** Blinded requests for `n` tokens under today's key, and how to finish them. */
export async function tokenRequests(h: TokenHarness, n: number) {
  const key = await currentKey(h);
  const begun = Array.from({ length: n }, () =>
    beginToken(systemRng, { publicKey: key.publicKey, challenge: key.challenge }),
  );
  return {
    key,
    body: { keyId: toBase64Url(key.keyId), requests: begun.map((b) => toBase64Url(b.request)) },
    finish: (responses: readonly string[]) =>
      responses.map((r, i) => finishToken(begun[i]!.pending, fromBase64Url(r))),
  };
}

/**
 * `n` tokens issued to `signer`'s account.
 *
 * @throws {Error} if issuance is refused.
 */
export async function issueTokens(
  h: TokenHarness,
  signer: TestDevice,
  n: number,
): Promise<Uint8Array[]> {
  const { body, finish } = await tokenRequests(h, n);
  const res = await h.call({ method: 'POST', path: '/v1/tokens', json: body, signer });
  if (res.status !== 200) throw new Error(`issue: ${JSON.stringify(res.body)}`);
  return finish(res.body.responses);
}

/** The header of a sealed request paid with `token`. */
export function tokenHeaders(token: Uint8Array): Record<string, string> {
  return { [TOKEN_HEADER]: toBase64Url(token) };
}
