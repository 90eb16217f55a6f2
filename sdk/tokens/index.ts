/**
 * Anonymous tokens (Privacy Pass, RFC 9578 token type 0x0002: publicly verifiable blind
 * RSA-2048, RSABSSA-SHA384-PSS-Deterministic of RFC 9474): the client's side of issuance and
 * the token encodings. The issuer and the verifier run on the service (node:crypto).
 */

export { type BeginTokenArgs, beginToken, finishToken, type PendingToken } from './client.ts';
export {
  type DecodedToken,
  decodeToken,
  MAX_CHALLENGE_FIELD_BYTES,
  parseTokenKey,
  REDEMPTION_CONTEXT_BYTES,
  TOKEN_BYTES,
  TOKEN_CHALLENGE_DIGEST_BYTES,
  TOKEN_INPUT_BYTES,
  TOKEN_KEY_BYTES,
  TOKEN_KEY_ID_BYTES,
  TOKEN_KEY_SPKI_PREFIX,
  TOKEN_KEY_SPKI_SUFFIX,
  TOKEN_MODULUS_BYTES,
  TOKEN_NONCE_BYTES,
  TOKEN_REQUEST_BYTES,
  TOKEN_RESPONSE_BYTES,
  TOKEN_TYPE_BLIND_RSA,
  type TokenChallengeArgs,
  tokenChallenge,
  tokenChallengeDigest,
  tokenInput,
  tokenKeyId,
} from './encoding.ts';
export { TokenError, type TokenErrorCode } from './errors.ts';
