/**
 * Owner request signing (docs/SERVICE.md §3.1): the headers that authenticate a
 * request as one device, over `requestSignaturePayload` from `sdk/wire/api/signing.ts`.
 */
import type { CryptoBackend, Rng } from '../crypto/backend.ts';
import { toBase64Url } from '../wire/api/codec.ts';
import { NONCE_BYTES } from '../wire/api/limits.ts';
import { AUTH_HEADERS, requestSignaturePayload } from '../wire/api/signing.ts';

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

/**
 * The five `x-sealpost-*` headers for one request. Each call uses a fresh nonce (the server
 * accepts a nonce once), so a retried request must be signed again.
 *
 * @example const headers = await signRequest(ctx, 'GET', '/v1/messages?limit=50', new Uint8Array());
 * @throws {TypeError | RangeError} if the method or path cannot be signed.
 */
export async function signRequest(
  ctx: { backend: CryptoBackend; rng: Rng; now: () => number; signer: RequestSigner },
  method: string,
  pathAndQuery: string,
  body: Uint8Array,
): Promise<Record<string, string>> {
  const timestamp = Math.floor(ctx.now());
  const nonce = ctx.rng(NONCE_BYTES);
  const payload = requestSignaturePayload({
    method,
    pathAndQuery,
    bodyHash: ctx.backend.sha256(body),
    timestamp,
    nonce,
    address: ctx.signer.address,
    deviceId: ctx.signer.deviceId,
  });
  const signature = await ctx.signer.sign(payload);
  return {
    [AUTH_HEADERS.address]: ctx.signer.address,
    [AUTH_HEADERS.device]: String(ctx.signer.deviceId),
    [AUTH_HEADERS.timestamp]: String(timestamp),
    [AUTH_HEADERS.nonce]: toBase64Url(nonce),
    [AUTH_HEADERS.signature]: toBase64Url(signature),
  };
}
