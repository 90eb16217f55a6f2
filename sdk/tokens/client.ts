/**
 * The client of the publicly verifiable issuance protocol (RFC 9578 §6.1, §6.3): a token
 * request blinds the token input under the issuer key, the issuer signs it blindly, and the
 * client unblinds, verifies and assembles the token. The issuer never sees the nonce or the
 * signature it produced, so it cannot link a token it later sees redeemed to the request it
 * answered.
 *
 * ```
 * nonce           = random(32)
 * challenge_digest = SHA-256(TokenChallenge)
 * token_key_id    = SHA-256(issuer key encoding)
 * token_input     = 0x0002 || nonce || challenge_digest || token_key_id
 * blinded_msg, inv = Blind(pkI, token_input)                 (RFC 9474 §4.2, salt 48 bytes)
 * TokenRequest    = 0x0002 || token_key_id[31] || blinded_msg
 * authenticator   = Finalize(pkI, token_input, blind_sig, inv)  (verified, RFC 9474 §4.3)
 * Token           = token_input || authenticator
 * ```
 */
import type { Rng } from '../crypto/backend.ts';
import { ArgumentRangeError, ArgumentTypeError } from '../util/argument-errors.ts';
import { assertBytes, concatBytes } from '../util/bytes.ts';
import { blind, finalize, rsaPublicKey } from './blind-rsa.ts';
import {
  isTokenChallenge,
  parseTokenKey,
  TOKEN_NONCE_BYTES,
  TOKEN_RESPONSE_BYTES,
  TOKEN_TYPE_BLIND_RSA,
  tokenChallengeDigest,
  tokenInput,
  tokenKeyId,
} from './encoding.ts';
import { TokenError } from './errors.ts';

/**
 * A token request's secret state, from {@link beginToken} to {@link finishToken}. Keep it in
 * memory and drop it once finished: `inverse` links the request the issuer saw to the token.
 */
export interface PendingToken {
  readonly nonce: Uint8Array;
  readonly challengeDigest: Uint8Array;
  readonly tokenKeyId: Uint8Array;
  /** The message the issuer signs blindly (98 bytes). */
  readonly tokenInput: Uint8Array;
  /** The issuer key's modulus and exponent. */
  readonly n: bigint;
  readonly e: bigint;
  /** The blinding inverse `r^-1 mod n`. */
  readonly inverse: bigint;
}

/** What {@link beginToken} needs. */
export interface BeginTokenArgs {
  /** The issuer key (RFC 9578 §6.5 encoding, 342 bytes). */
  readonly publicKey: Uint8Array;
  /** The TokenChallenge the token will answer ({@link tokenChallenge}). */
  readonly challenge: Uint8Array;
}

/**
 * Starts one token: draws the nonce, then the PSS salt and the blind from `rng` (in that
 * order), and returns the TokenRequest to send (259 bytes) with the state to finish it.
 *
 * @example
 * const { request, pending } = beginToken(systemRng, { publicKey, challenge });
 * const token = finishToken(pending, await issue(request));
 * @throws {ArgumentTypeError} if an argument has the wrong type.
 * @throws {ArgumentRangeError} if `challenge` is not a TokenChallenge of type 0x0002.
 * @throws {TokenError} `INVALID_TOKEN_KEY` if `publicKey` is not an RSA-2048 token key.
 */
export function beginToken(
  rng: Rng,
  args: BeginTokenArgs,
): { request: Uint8Array; pending: PendingToken } {
  if (typeof rng !== 'function') throw new ArgumentTypeError('rng must be a function');
  if (typeof args !== 'object' || args === null) {
    throw new ArgumentTypeError('args must be an object');
  }
  const { publicKey, challenge } = args;
  const { n, e } = parseTokenKey(publicKey);
  assertBytes(challenge, 'challenge');
  if (!isTokenChallenge(challenge)) {
    throw new ArgumentRangeError('challenge must be a TokenChallenge of type 0x0002');
  }
  const keyId = tokenKeyId(publicKey);
  const challengeDigest = tokenChallengeDigest(challenge);
  const nonce = rng(TOKEN_NONCE_BYTES);
  assertBytes(nonce, 'rng output', TOKEN_NONCE_BYTES);
  const input = tokenInput({
    tokenType: TOKEN_TYPE_BLIND_RSA,
    nonce,
    challengeDigest,
    tokenKeyId: keyId,
  });
  const { blindedMessage, inverse } = blind(rng, rsaPublicKey(n, e), input);
  // RFC 9578 §6.1: the truncated key id is the last byte of token_key_id.
  const request = concatBytes(
    Uint8Array.of(TOKEN_TYPE_BLIND_RSA >>> 8, TOKEN_TYPE_BLIND_RSA & 0xff, keyId[31]!),
    blindedMessage,
  );
  return {
    request,
    pending: { nonce, challengeDigest, tokenKeyId: keyId, tokenInput: input, n, e, inverse },
  };
}

/**
 * Finishes a token from the issuer's TokenResponse: unblinds the signature, verifies it under
 * the issuer key (RFC 9474 §4.3) and returns the Token (354 bytes).
 *
 * @example const token = finishToken(pending, response);
 * @throws {ArgumentTypeError} if `response` is not a `Uint8Array` or `pending` is not one.
 * @throws {TokenError} `INVALID_TOKEN_RESPONSE` if the response is not 256 bytes or does not
 *   unblind to a valid signature of the token input.
 */
export function finishToken(pending: PendingToken, response: Uint8Array): Uint8Array {
  if (
    typeof pending !== 'object' ||
    pending === null ||
    typeof pending.n !== 'bigint' ||
    typeof pending.e !== 'bigint' ||
    typeof pending.inverse !== 'bigint' ||
    !(pending.tokenInput instanceof Uint8Array)
  ) {
    throw new ArgumentTypeError('pending must come from beginToken');
  }
  assertBytes(response, 'response');
  if (response.length !== TOKEN_RESPONSE_BYTES) {
    throw new TokenError(
      'INVALID_TOKEN_RESPONSE',
      `a token response must be ${TOKEN_RESPONSE_BYTES} bytes`,
    );
  }
  const key = rsaPublicKey(pending.n, pending.e);
  const authenticator = finalize(key, pending.tokenInput, response, pending.inverse);
  if (authenticator === undefined) {
    throw new TokenError('INVALID_TOKEN_RESPONSE', 'the token response does not verify');
  }
  return concatBytes(pending.tokenInput, authenticator);
}
