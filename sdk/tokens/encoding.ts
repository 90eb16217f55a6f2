/**
 * Wire structures of Privacy Pass token type 0x0002, publicly verifiable blind RSA-2048
 * (RFC 9578 §6, RFC 9577 §2): the TokenChallenge, the issuer key encoding and its id, the
 * Token and its signed prefix. Decoders are strict: exact lengths, the one token type, the one
 * key encoding.
 *
 * ```
 * TokenChallenge = u16 token_type || u16 len || issuer_name || u8 len || redemption_context
 *                  || u16 len || origin_info                          (RFC 9577 §2.1)
 * TokenRequest   = u16 token_type || u8 truncated_token_key_id || blinded_msg[256]     259 bytes
 * TokenResponse  = blind_sig[256]                                                      256 bytes
 * Token          = u16 token_type || nonce[32] || challenge_digest[32] || token_key_id[32]
 *                  || authenticator[256]                                               354 bytes
 * ```
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { ArgumentRangeError, ArgumentTypeError } from '../util/argument-errors.ts';
import { assertBytes, concatBytes, equalBytes, fromHex, utf8 } from '../util/bytes.ts';
import { os2ip } from './blind-rsa.ts';
import { TokenError } from './errors.ts';

/** Token type of publicly verifiable blind RSA-2048 (RFC 9578 §8.2.2). */
export const TOKEN_TYPE_BLIND_RSA = 0x0002;
/** Nk: the modulus, blinded message, blind signature and authenticator size. */
export const TOKEN_MODULUS_BYTES = 256;
/** Size of the token nonce (RFC 9578 §6.1). */
export const TOKEN_NONCE_BYTES = 32;
/** Size of a challenge digest, SHA-256 of the TokenChallenge (RFC 9577 §2.2). */
export const TOKEN_CHALLENGE_DIGEST_BYTES = 32;
/** Nid: size of a token key id, SHA-256 of the key's encoding (RFC 9578 §6.5). */
export const TOKEN_KEY_ID_BYTES = 32;
/** Size of the token input, the signed prefix of a token: type, nonce, digest, key id. */
export const TOKEN_INPUT_BYTES =
  2 + TOKEN_NONCE_BYTES + TOKEN_CHALLENGE_DIGEST_BYTES + TOKEN_KEY_ID_BYTES;
/** Size of a Token of type 0x0002: 2 + 32 + 32 + 32 + 256. */
export const TOKEN_BYTES = TOKEN_INPUT_BYTES + TOKEN_MODULUS_BYTES;
/** Size of a TokenRequest of type 0x0002: 2 + 1 + 256. */
export const TOKEN_REQUEST_BYTES = 3 + TOKEN_MODULUS_BYTES;
/** Size of a TokenResponse of type 0x0002. */
export const TOKEN_RESPONSE_BYTES = TOKEN_MODULUS_BYTES;
/** Size of a redemption context when present (RFC 9577 §2.1: empty or 32 bytes). */
export const REDEMPTION_CONTEXT_BYTES = 32;
/** Largest issuer name and origin info list, in UTF-8 bytes (u16 length prefixes). */
export const MAX_CHALLENGE_FIELD_BYTES = 0xffff;

/**
 * The fixed part of an issuer key (RFC 9578 §6.5) before the 256-byte modulus: a DER
 * SubjectPublicKeyInfo whose algorithm is id-RSASSA-PSS with explicit parameters
 * (hashAlgorithm SHA-384, maskGenAlgorithm MGF1-SHA-384, saltLength 48, digest identifiers
 * without a NULL parameter), then an RSAPublicKey with a 2048-bit modulus.
 */
export const TOKEN_KEY_SPKI_PREFIX: Uint8Array = fromHex(
  '30820152' + // SEQUENCE (338 bytes): SubjectPublicKeyInfo
    '303d' + // SEQUENCE: AlgorithmIdentifier
    '06092a864886f70d01010a' + // OID 1.2.840.113549.1.1.10 id-RSASSA-PSS
    '3030' + // SEQUENCE: RSASSA-PSS-params
    'a00d300b0609608648016503040202' + // [0] hashAlgorithm: SHA-384
    'a11a301806092a864886f70d010108300b0609608648016503040202' + // [1] MGF1 with SHA-384
    'a203020130' + // [2] saltLength: 48
    '0382010f00' + // BIT STRING (271 bytes, no unused bits)
    '3082010a' + // SEQUENCE: RSAPublicKey
    '0282010100', // INTEGER (257 bytes): modulus, sign byte 0x00 then 256 bytes
);
/** The fixed end of an issuer key: the public exponent 65537. */
export const TOKEN_KEY_SPKI_SUFFIX: Uint8Array = fromHex('0203010001');
/** Size of an issuer key encoding: 81 + 256 + 5. */
export const TOKEN_KEY_BYTES =
  TOKEN_KEY_SPKI_PREFIX.length + TOKEN_MODULUS_BYTES + TOKEN_KEY_SPKI_SUFFIX.length;

/** The public exponent every issuer key has. */
const PUBLIC_EXPONENT = 65537n;

/** A Token of type 0x0002, decoded (every field a copy). */
export interface DecodedToken {
  readonly tokenType: number;
  readonly nonce: Uint8Array;
  readonly challengeDigest: Uint8Array;
  readonly tokenKeyId: Uint8Array;
  /** The RSASSA-PSS signature over the token input. */
  readonly authenticator: Uint8Array;
}

/** What {@link tokenChallenge} encodes. */
export interface TokenChallengeArgs {
  /** The issuer's name, e.g. the deployment's API host (1 to 65,535 UTF-8 bytes). */
  readonly issuerName: string;
  /** Empty (the default: tokens fetched ahead of need) or 32 bytes. */
  readonly redemptionContext?: Uint8Array;
  /** Origin names, joined with "," (none by default). */
  readonly originInfo?: readonly string[];
}

function u16(n: number): Uint8Array {
  return Uint8Array.of(n >>> 8, n & 0xff);
}

/**
 * The TokenChallenge of RFC 9577 §2.1 for token type 0x0002.
 *
 * @example
 * const challenge = tokenChallenge({ issuerName: 'api.example.org' });
 * @throws {ArgumentTypeError} if a field has the wrong type.
 * @throws {ArgumentRangeError} if `issuerName` is empty or too long, `redemptionContext` is
 *   neither empty nor 32 bytes, or an origin name is empty or contains ",", or the list is
 *   too long.
 */
export function tokenChallenge(args: TokenChallengeArgs): Uint8Array {
  if (typeof args !== 'object' || args === null) {
    throw new ArgumentTypeError('args must be an object');
  }
  const { issuerName, redemptionContext = new Uint8Array(0), originInfo = [] } = args;
  if (typeof issuerName !== 'string') throw new ArgumentTypeError('issuerName must be a string');
  const name = utf8(issuerName);
  if (name.length === 0 || name.length > MAX_CHALLENGE_FIELD_BYTES) {
    throw new ArgumentRangeError(`issuerName must be 1 to ${MAX_CHALLENGE_FIELD_BYTES} bytes`);
  }
  assertBytes(redemptionContext, 'redemptionContext');
  if (redemptionContext.length !== 0 && redemptionContext.length !== REDEMPTION_CONTEXT_BYTES) {
    throw new ArgumentRangeError('redemptionContext must be empty or 32 bytes');
  }
  if (!Array.isArray(originInfo)) throw new ArgumentTypeError('originInfo must be an array');
  for (const origin of originInfo) {
    if (typeof origin !== 'string') throw new ArgumentTypeError('origin names must be strings');
    if (origin.length === 0 || origin.includes(',')) {
      throw new ArgumentRangeError('origin names must be non-empty and contain no ","');
    }
  }
  const origins = utf8(originInfo.join(','));
  if (origins.length > MAX_CHALLENGE_FIELD_BYTES) {
    throw new ArgumentRangeError(`originInfo must be at most ${MAX_CHALLENGE_FIELD_BYTES} bytes`);
  }
  return concatBytes(
    u16(TOKEN_TYPE_BLIND_RSA),
    u16(name.length),
    name,
    Uint8Array.of(redemptionContext.length),
    redemptionContext,
    u16(origins.length),
    origins,
  );
}

/**
 * Whether `bytes` is a well-formed TokenChallenge of type 0x0002 (the structure of RFC 9577
 * §2.1, exactly, with no trailing bytes).
 */
export function isTokenChallenge(bytes: Uint8Array): boolean {
  const at = (i: number) => bytes[i] ?? -1;
  if (bytes.length < 8 || ((at(0) << 8) | at(1)) !== TOKEN_TYPE_BLIND_RSA) return false;
  const nameLen = (at(2) << 8) | at(3);
  if (nameLen === 0) return false;
  let pos = 4 + nameLen;
  const contextLen = at(pos);
  if (contextLen !== 0 && contextLen !== REDEMPTION_CONTEXT_BYTES) return false;
  pos += 1 + contextLen;
  if (pos + 2 > bytes.length) return false;
  const originLen = (at(pos) << 8) | at(pos + 1);
  return pos + 2 + originLen === bytes.length;
}

/**
 * The challenge digest of a TokenChallenge: SHA-256 of its bytes (RFC 9577 §2.2), what a token
 * carries and the verifier compares.
 *
 * @example const digest = tokenChallengeDigest(tokenChallenge({ issuerName }));
 * @throws {ArgumentTypeError} if `challenge` is not a `Uint8Array`.
 */
export function tokenChallengeDigest(challenge: Uint8Array): Uint8Array {
  assertBytes(challenge, 'challenge');
  return sha256(challenge);
}

/**
 * The modulus and exponent of an issuer key: strictly the RFC 9578 §6.5 encoding of an
 * RSA-2048 key with public exponent 65537 (342 bytes; a 2048-bit odd modulus), the only keys
 * of token type 0x0002 issuers here publish.
 *
 * @example const { n, e } = parseTokenKey(publicKey);
 * @throws {ArgumentTypeError} if `publicKey` is not a `Uint8Array`.
 * @throws {TokenError} `INVALID_TOKEN_KEY` for anything else.
 */
export function parseTokenKey(publicKey: Uint8Array): { n: bigint; e: bigint } {
  assertBytes(publicKey, 'publicKey');
  const prefix = TOKEN_KEY_SPKI_PREFIX.length;
  const modulus = publicKey.subarray(prefix, prefix + TOKEN_MODULUS_BYTES);
  if (
    publicKey.length !== TOKEN_KEY_BYTES ||
    !equalBytes(publicKey.subarray(0, prefix), TOKEN_KEY_SPKI_PREFIX) ||
    !equalBytes(publicKey.subarray(prefix + TOKEN_MODULUS_BYTES), TOKEN_KEY_SPKI_SUFFIX) ||
    (modulus[0]! & 0x80) === 0 ||
    (modulus[TOKEN_MODULUS_BYTES - 1]! & 1) === 0
  ) {
    throw new TokenError('INVALID_TOKEN_KEY', 'not an RSA-2048 token key (RFC 9578 §6.5)');
  }
  return { n: os2ip(modulus), e: PUBLIC_EXPONENT };
}

/**
 * The token key id of an issuer key: SHA-256 of its RFC 9578 §6.5 encoding. A request carries
 * its last byte; a token carries all 32.
 *
 * @example const keyId = tokenKeyId(publicKey);
 * @throws {ArgumentTypeError} if `publicKey` is not a `Uint8Array`.
 * @throws {TokenError} `INVALID_TOKEN_KEY` if it is not a valid issuer key.
 */
export function tokenKeyId(publicKey: Uint8Array): Uint8Array {
  parseTokenKey(publicKey);
  return sha256(publicKey);
}

/**
 * The fields of a Token of type 0x0002 (354 bytes). Strict: the exact size and the one type.
 * Says nothing about the signature: the verifier checks it.
 *
 * @example const { nonce, tokenKeyId } = decodeToken(token);
 * @throws {ArgumentTypeError} if `bytes` is not a `Uint8Array`.
 * @throws {TokenError} `MALFORMED_TOKEN` if it is not a token of type 0x0002.
 */
export function decodeToken(bytes: Uint8Array): DecodedToken {
  assertBytes(bytes, 'token');
  if (bytes.length !== TOKEN_BYTES) {
    throw new TokenError('MALFORMED_TOKEN', `a token must be ${TOKEN_BYTES} bytes`);
  }
  const tokenType = (bytes[0]! << 8) | bytes[1]!;
  if (tokenType !== TOKEN_TYPE_BLIND_RSA) {
    throw new TokenError('MALFORMED_TOKEN', 'token type is not 0x0002');
  }
  const digestAt = 2 + TOKEN_NONCE_BYTES;
  const keyIdAt = digestAt + TOKEN_CHALLENGE_DIGEST_BYTES;
  return {
    tokenType,
    nonce: bytes.slice(2, digestAt),
    challengeDigest: bytes.slice(digestAt, keyIdAt),
    tokenKeyId: bytes.slice(keyIdAt, TOKEN_INPUT_BYTES),
    authenticator: bytes.slice(TOKEN_INPUT_BYTES),
  };
}

/**
 * The token input, the message the issuer's key signs (RFC 9578 §6.1):
 * `token_type || nonce || challenge_digest || token_key_id`, 98 bytes.
 *
 * @example const input = tokenInput(decodeToken(token));
 * @throws {ArgumentTypeError} if a field is not a `Uint8Array`.
 * @throws {ArgumentRangeError} if a field has the wrong size or the type is not 0x0002.
 */
export function tokenInput(
  token: Pick<DecodedToken, 'tokenType' | 'nonce' | 'challengeDigest' | 'tokenKeyId'>,
): Uint8Array {
  if (token.tokenType !== TOKEN_TYPE_BLIND_RSA) {
    throw new ArgumentRangeError('tokenType must be 0x0002');
  }
  assertBytes(token.nonce, 'nonce', TOKEN_NONCE_BYTES);
  assertBytes(token.challengeDigest, 'challengeDigest', TOKEN_CHALLENGE_DIGEST_BYTES);
  assertBytes(token.tokenKeyId, 'tokenKeyId', TOKEN_KEY_ID_BYTES);
  return concatBytes(
    u16(TOKEN_TYPE_BLIND_RSA),
    token.nonce,
    token.challengeDigest,
    token.tokenKeyId,
  );
}
