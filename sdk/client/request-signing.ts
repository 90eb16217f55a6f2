/**
 * Owner request signing (docs/SERVICE.md §3.1): the headers that authenticate a
 * request as one device, over `requestSignaturePayload` from `sdk/wire/api/signing.ts`, and the
 * clock correction the client applies after a `CLOCK_SKEW` answer.
 */
import type { CryptoBackend, Rng } from '../crypto/backend.ts';
import { toBase64Url } from '../wire/api/codec.ts';
import { NONCE_BYTES } from '../wire/api/limits.ts';
import {
  ACCOUNT_SIGNATURE_HEADER,
  AUTH_HEADERS,
  accountRequestPayload,
  type RequestSignatureInput,
  requestSignaturePayload,
} from '../wire/api/signing.ts';

/** The device a request is signed as, and its Ed25519 signing operation. */
export interface RequestSigner {
  readonly address: string;
  readonly deviceId: number;
  /** Signs with the device signing key. */
  sign(payload: Uint8Array): Promise<Uint8Array>;
}

/**
 * A {@link RequestSigner} over a device signing seed.
 *
 * @example const signer = seedSigner(backend, engine.address, 1, engine.signer.signingSeed);
 */
export function seedSigner(
  backend: CryptoBackend,
  address: string,
  deviceId: number,
  signingSeed: Uint8Array,
): RequestSigner {
  return { address, deviceId, sign: (payload) => backend.ed25519Sign(signingSeed, payload) };
}

/** What {@link signRequest} needs: crypto, the (corrected) clock, the device and the audience. */
export interface SigningContext {
  readonly backend: CryptoBackend;
  readonly rng: Rng;
  /** The clock the timestamp is taken from (already corrected by the server's offset). */
  readonly now: () => number;
  readonly signer: RequestSigner;
  /** The pinned trust root public key (32 bytes): the deployment the signature is for. */
  readonly audience: Uint8Array;
  /** Also co-signs with the account key (`x-sealpost-account-signature`). */
  readonly accountSign?: (payload: Uint8Array) => Promise<Uint8Array>;
}

/**
 * The five `x-sealpost-*` headers for one request, plus `x-sealpost-account-signature` when
 * `ctx.accountSign` is set. Each call uses a fresh nonce (the server accepts a nonce once), so
 * a retried request must be signed again.
 *
 * @example const headers = await signRequest(ctx, 'GET', '/v1/messages?limit=50', new Uint8Array());
 * @throws {TypeError | RangeError} if the method, path or audience cannot be signed.
 */
export async function signRequest(
  ctx: SigningContext,
  method: string,
  pathAndQuery: string,
  body: Uint8Array,
): Promise<Record<string, string>> {
  const timestamp = Math.floor(ctx.now());
  const nonce = ctx.rng(NONCE_BYTES);
  const input: RequestSignatureInput = {
    audience: ctx.audience,
    method,
    pathAndQuery,
    bodyHash: ctx.backend.sha256(body),
    timestamp,
    nonce,
    address: ctx.signer.address,
    deviceId: ctx.signer.deviceId,
  };
  const signature = await ctx.signer.sign(requestSignaturePayload(input));
  const headers: Record<string, string> = {
    [AUTH_HEADERS.address]: ctx.signer.address,
    [AUTH_HEADERS.device]: String(ctx.signer.deviceId),
    [AUTH_HEADERS.timestamp]: String(timestamp),
    [AUTH_HEADERS.nonce]: toBase64Url(nonce),
    [AUTH_HEADERS.signature]: toBase64Url(signature),
  };
  if (ctx.accountSign) {
    headers[ACCOUNT_SIGNATURE_HEADER] = toBase64Url(
      await ctx.accountSign(accountRequestPayload(input)),
    );
  }
  return headers;
}

/**
 * The largest clock correction the client accepts from a `CLOCK_SKEW` answer: one day. A
 * server (or anyone who can answer in its name) could otherwise make the client sign requests
 * dated far in the future, which stay fresh, hence replayable, until that date comes.
 */
export const MAX_CLOCK_OFFSET_MS = 24 * 60 * 60 * 1000;

/**
 * The offset to add to the local clock so it matches `serverTime`, or undefined when
 * `serverTime` is not a plausible time or is more than {@link MAX_CLOCK_OFFSET_MS} away.
 *
 * @example clockOffset(err.serverTime, Date.now()) // e.g. 600_000 for a clock 10 minutes slow
 */
export function clockOffset(serverTime: unknown, localNow: number): number | undefined {
  if (typeof serverTime !== 'number' || !Number.isSafeInteger(serverTime) || serverTime < 0) {
    return undefined;
  }
  const offset = serverTime - Math.floor(localNow);
  return Math.abs(offset) <= MAX_CLOCK_OFFSET_MS ? offset : undefined;
}
