/**
 * The error of the anonymous-token client (RFC 9578 token type 0x0002): one class, three codes.
 * Messages name the structure that was refused, never the bytes or which comparison failed.
 */
import { SealpostError } from '../errors.ts';

/** Every code a {@link TokenError} carries. Stable: apps switch on these. */
export type TokenErrorCode = 'INVALID_TOKEN_KEY' | 'INVALID_TOKEN_RESPONSE' | 'MALFORMED_TOKEN';

/**
 * An anonymous-token failure: an issuer public key that is not the RFC 9578 §6.5 encoding of an
 * RSA-2048 key (`INVALID_TOKEN_KEY`), an issuer response that is not a valid blind signature for
 * the request it answers (`INVALID_TOKEN_RESPONSE`), or bytes that are not a token of type
 * 0x0002 (`MALFORMED_TOKEN`).
 *
 * @example
 * try {
 *   token = finishToken(pending, response);
 * } catch (err) {
 *   if (err instanceof TokenError && err.code === 'INVALID_TOKEN_RESPONSE') reportIssuerFault();
 *   throw err;
 * }
 */
export class TokenError extends SealpostError<TokenErrorCode> {}
