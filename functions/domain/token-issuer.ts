/**
 * The issuer and the verifier of anonymous tokens (Privacy Pass, RFC 9578 §6: token type
 * 0x0002, publicly verifiable blind RSA-2048 with RSABSSA-SHA384-PSS-Deterministic of
 * RFC 9474), on `node:crypto`:
 *
 * ```
 * issue:  TokenRequest = 0x0002 || token_key_id[31] || blinded_msg[256]      (259 bytes)
 *         blind_sig = RSASP1(skI, blinded_msg), checked by RSAVP1 (RFC 9474 §4.3)
 * verify: Token = 0x0002 || nonce[32] || challenge_digest[32] || token_key_id[32]
 *                 || authenticator[256]                                    (354 bytes)
 *         RSASSA-PSS-VERIFY(pkI, token_input, authenticator), SHA-384, MGF1-SHA-384, sLen 48
 * ```
 *
 * The raw RSA operation is `privateDecrypt` with `RSA_NO_PADDING` on an `rsa` key (OpenSSL
 * refuses unpadded operations on `rsa-pss` keys); the published key is the RFC 9578 §6.5
 * encoding (id-RSASSA-PSS with explicit parameters), which is not what `node:crypto` exports
 * for an `rsa-pss` key (it adds NULL digest parameters, so the key id would differ). Keys are
 * RSA-2048 with exponent 65537, the only ones the SDK's client accepts.
 *
 * Nothing here throws on bytes a client sent: a bad request is `undefined`, a bad token
 * `false`. Arguments the service itself supplies (keys, expected values) are checked and throw
 * `TypeError`/`RangeError`.
 */
import {
  constants,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  KeyObject,
  privateDecrypt,
  publicEncrypt,
  verify,
} from 'node:crypto';
import {
  TOKEN_BYTES,
  TOKEN_INPUT_BYTES,
  TOKEN_KEY_SPKI_PREFIX,
  TOKEN_KEY_SPKI_SUFFIX,
  TOKEN_MODULUS_BYTES,
  TOKEN_REQUEST_BYTES,
  TOKEN_RESPONSE_BYTES,
  TOKEN_TYPE_BLIND_RSA,
} from 'sealpost/tokens';
import { UnavailableError } from './errors.ts';

export { TOKEN_BYTES, TOKEN_REQUEST_BYTES, TOKEN_RESPONSE_BYTES, TOKEN_TYPE_BLIND_RSA };

/** Nk: modulus, blinded message, blind signature and authenticator size. */
const MODULUS_BYTES = TOKEN_MODULUS_BYTES;
/** Size of a token key id and of a challenge digest (SHA-256). */
const DIGEST_BYTES = 32;
/** Offsets of the fields of a token. */
const CHALLENGE_DIGEST_AT = 2 + 32;
const KEY_ID_AT = CHALLENGE_DIGEST_AT + DIGEST_BYTES;
/** PSS salt length (sLen = hLen of SHA-384, RFC 9578 §6). */
const SALT_BYTES = 48;

/**
 * The RFC 9578 §6.5 key encoding around the modulus (the SDK's
 * `TOKEN_KEY_SPKI_PREFIX`/`SUFFIX`): SubjectPublicKeyInfo, id-RSASSA-PSS with SHA-384,
 * MGF1-SHA-384 and saltLength 48; RSAPublicKey with a 2048-bit modulus and exponent 65537.
 */
const SPKI_PREFIX = Buffer.from(TOKEN_KEY_SPKI_PREFIX);
const SPKI_SUFFIX = Buffer.from(TOKEN_KEY_SPKI_SUFFIX);
const SPKI_BYTES = SPKI_PREFIX.length + MODULUS_BYTES + SPKI_SUFFIX.length;

/** An issuer key: the private key and its published form. */
export interface TokenIssuerKey {
  /** An `rsa` private key, 2048 bits, exponent 65537. */
  readonly privateKey: KeyObject;
  /** The RFC 9578 §6.5 encoding of the public key (342 bytes), as published. */
  readonly publicKey: Uint8Array;
  /** token_key_id: SHA-256 of `publicKey` (32 bytes). */
  readonly keyId: Uint8Array;
}

/** What the expected-token checks compare. */
export interface ExpectedToken {
  /** SHA-256 of the TokenChallenge the service accepts tokens for. */
  readonly challengeDigest: Uint8Array;
  /** The id of the key `publicKey` is. */
  readonly keyId: Uint8Array;
}

/** What signing needs besides the private key, derived once per key. */
interface Signer {
  readonly publicKey: Uint8Array;
  readonly keyId: Uint8Array;
  readonly modulus: Buffer;
  readonly verifier: KeyObject;
}

const signers = new WeakMap<KeyObject, Signer>();

function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

function sameBytes(a: Uint8Array, b: unknown): boolean {
  return b instanceof Uint8Array && a.length === b.length && Buffer.compare(a, b) === 0;
}

function checkBytes(value: unknown, name: string, size: number): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
  if (value.length !== size) throw new RangeError(`${name} must be ${size} bytes`);
}

/** The issuer key of an `rsa` private KeyObject; throws unless it is RSA-2048, e = 65537. */
function issuerKeyOf(privateKey: KeyObject): TokenIssuerKey {
  const details = privateKey.asymmetricKeyDetails;
  if (
    privateKey.type !== 'private' ||
    privateKey.asymmetricKeyType !== 'rsa' ||
    details?.modulusLength !== MODULUS_BYTES * 8 ||
    details.publicExponent !== 65537n
  ) {
    throw new RangeError('the private key must be RSA (rsaEncryption), 2048 bits, e = 65537');
  }
  const n = Buffer.from(privateKey.export({ format: 'jwk' }).n ?? '', 'base64url');
  if (n.length !== MODULUS_BYTES) throw new RangeError('the modulus must be 2048 bits');
  const publicKey = new Uint8Array(Buffer.concat([SPKI_PREFIX, n, SPKI_SUFFIX]));
  return { privateKey, publicKey, keyId: sha256(publicKey) };
}

function signerOf(key: TokenIssuerKey): Signer {
  if (!(key?.privateKey instanceof KeyObject)) {
    throw new TypeError('key.privateKey must be a KeyObject');
  }
  let signer = signers.get(key.privateKey);
  if (signer === undefined) {
    const own = issuerKeyOf(key.privateKey);
    signer = {
      publicKey: own.publicKey,
      keyId: own.keyId,
      modulus: Buffer.from(own.publicKey.subarray(SPKI_PREFIX.length, -SPKI_SUFFIX.length)),
      verifier: createPublicKey(key.privateKey),
    };
    signers.set(key.privateKey, signer);
  }
  // Checked on every call: the cache is per private key, the caller's object may differ.
  if (!sameBytes(signer.keyId, key.keyId) || !sameBytes(signer.publicKey, key.publicKey)) {
    throw new RangeError('key.publicKey and key.keyId are not those of key.privateKey');
  }
  return signer;
}

/**
 * A new issuer key: RSA-2048, exponent 65537, from OpenSSL's generator (tens to a few hundred
 * milliseconds of CPU; keys rotate daily).
 *
 * @example
 * const key = generateTokenIssuerKey();
 * store({ publicKey: key.publicKey, keyId: key.keyId, pkcs8: exportTokenIssuerKey(key) });
 */
export function generateTokenIssuerKey(): TokenIssuerKey {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 65537 });
  return issuerKeyOf(privateKey);
}

/**
 * The private key as PKCS#8 DER bytes (about 1,200 bytes), for storage. A secret: encrypt it
 * before it leaves the process.
 *
 * @example const pkcs8 = exportTokenIssuerKey(key);
 * @throws {TypeError} if `key.privateKey` is not a private KeyObject.
 */
export function exportTokenIssuerKey(key: TokenIssuerKey): Uint8Array {
  if (!(key?.privateKey instanceof KeyObject) || key.privateKey.type !== 'private') {
    throw new TypeError('key.privateKey must be a private KeyObject');
  }
  return new Uint8Array(key.privateKey.export({ format: 'der', type: 'pkcs8' }));
}

/**
 * The issuer key of PKCS#8 DER bytes from {@link exportTokenIssuerKey} (or any rsaEncryption
 * PKCS#8 key of 2048 bits with exponent 65537), with its published encoding and key id.
 *
 * @example const key = importTokenIssuerKey(pkcs8);
 * @throws {TypeError} if `pkcs8` is not a `Uint8Array`.
 * @throws {RangeError} if it is not such a key.
 */
export function importTokenIssuerKey(pkcs8: Uint8Array): TokenIssuerKey {
  if (!(pkcs8 instanceof Uint8Array)) throw new TypeError('pkcs8 must be a Uint8Array');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
  } catch (cause) {
    throw new RangeError('pkcs8 is not a PKCS#8 private key', { cause });
  }
  return issuerKeyOf(privateKey);
}

/**
 * The verification key of a published issuer key (the RFC 9578 §6.5 encoding): build it once
 * per key and pass it to {@link verifyToken}.
 *
 * @example const verifier = tokenVerifierKey(stored.publicKey);
 * @throws {TypeError} if `publicKey` is not a `Uint8Array`.
 * @throws {RangeError} if it is not the encoding of an RSA-2048 key with exponent 65537.
 */
export function tokenVerifierKey(publicKey: Uint8Array): KeyObject {
  checkBytes(publicKey, 'publicKey', SPKI_BYTES);
  const n = publicKey.subarray(SPKI_PREFIX.length, SPKI_PREFIX.length + MODULUS_BYTES);
  if (
    !sameBytes(publicKey.subarray(0, SPKI_PREFIX.length), SPKI_PREFIX) ||
    !sameBytes(publicKey.subarray(SPKI_PREFIX.length + MODULUS_BYTES), SPKI_SUFFIX) ||
    (n[0]! & 0x80) === 0 ||
    (n[MODULUS_BYTES - 1]! & 1) === 0
  ) {
    throw new RangeError('publicKey is not an RSA-2048 token key (RFC 9578 §6.5)');
  }
  return createPublicKey({
    key: { kty: 'RSA', n: Buffer.from(n).toString('base64url'), e: 'AQAB' },
    format: 'jwk',
  });
}

function acceptable(signer: Signer, request: unknown): request is Uint8Array {
  if (!(request instanceof Uint8Array) || request.length !== TOKEN_REQUEST_BYTES) return false;
  if (((request[0]! << 8) | request[1]!) !== TOKEN_TYPE_BLIND_RSA) return false;
  // RFC 9578 §6.2: the truncated key id is the last byte of token_key_id.
  if (request[2] !== signer.keyId[DIGEST_BYTES - 1]) return false;
  const blinded = Buffer.from(request.buffer, request.byteOffset + 3, MODULUS_BYTES);
  // RSASP1 step 1: the message representative must be in [0, n - 1].
  return Buffer.compare(blinded, signer.modulus) < 0;
}

/**
 * Whether {@link blindSign} takes `request` under `key`: the checks it makes before signing
 * (size, token type, truncated key id, blinded message below the modulus), without the RSA
 * operation, so a batch can be checked whole before anything is counted or signed.
 *
 * @example if (!requests.every((r) => isTokenRequest(key, r))) throw badRequest();
 * @throws {TypeError | RangeError} as {@link blindSign} for `key`.
 */
export function isTokenRequest(key: TokenIssuerKey, request: Uint8Array): boolean {
  return acceptable(signerOf(key), request);
}

/**
 * Signs one TokenRequest blindly (RFC 9578 §6.2, RFC 9474 §4.3 `BlindSign`): checks the size
 * (259 bytes), the token type, the truncated key id (the last byte of `key.keyId`) and that the
 * blinded message is below the modulus, computes RSASP1 with OpenSSL and checks it with
 * RSAVP1 before releasing it. Answers the TokenResponse (256 bytes), or `undefined` for a
 * request that is not acceptable; never throws on the request's bytes.
 *
 * @example
 * const responses = requests.map((r) => blindSign(key, r));
 * if (responses.some((r) => r === undefined)) throw badRequest();
 * @throws {TypeError} if `key.privateKey` is not a KeyObject.
 * @throws {RangeError} if `key` is not an RSA-2048 issuer key or its `publicKey`/`keyId` are
 *   not those of its private key.
 * @throws {UnavailableError} if the signature fails its own verification (a computation
 *   fault); nothing is released and the request may be retried.
 */
export function blindSign(key: TokenIssuerKey, request: Uint8Array): Uint8Array | undefined {
  const signer = signerOf(key);
  if (!acceptable(signer, request)) return undefined;
  const blinded = Buffer.from(request.buffer, request.byteOffset + 3, MODULUS_BYTES);
  let signature: Buffer;
  try {
    signature = privateDecrypt({ key: key.privateKey, padding: constants.RSA_NO_PADDING }, blinded);
  } catch {
    return undefined;
  }
  // RFC 9474 §4.3 steps 3-4: a faulty CRT computation would leak a factor of n.
  const check = publicEncrypt(
    { key: signer.verifier, padding: constants.RSA_NO_PADDING },
    signature,
  );
  if (signature.length !== MODULUS_BYTES || !check.equals(blinded)) {
    signature.fill(0);
    throw new UnavailableError('token signing failed its check; retry');
  }
  return new Uint8Array(signature);
}

/**
 * Verifies a Token (RFC 9578 §6.4) against what the service expects: exactly 354 bytes,
 * type 0x0002, the expected key id and challenge digest, then the RSASSA-PSS signature
 * (SHA-384, MGF1-SHA-384, salt length exactly 48) over the token input under `publicKey`.
 * Never throws on the token's bytes.
 *
 * @example
 * const ok = verifyToken(verifier, token, { challengeDigest, keyId: stored.keyId });
 * @throws {TypeError} if `publicKey` is not a public KeyObject or an expected value is not a
 *   `Uint8Array`.
 * @throws {RangeError} if an expected value is not 32 bytes.
 */
export function verifyToken(
  publicKey: KeyObject,
  token: Uint8Array,
  expected: ExpectedToken,
): boolean {
  if (!(publicKey instanceof KeyObject) || publicKey.type !== 'public') {
    throw new TypeError('publicKey must be a public KeyObject (tokenVerifierKey)');
  }
  checkBytes(expected?.challengeDigest, 'expected.challengeDigest', DIGEST_BYTES);
  checkBytes(expected.keyId, 'expected.keyId', DIGEST_BYTES);
  if (!(token instanceof Uint8Array) || token.length !== TOKEN_BYTES) return false;
  if (((token[0]! << 8) | token[1]!) !== TOKEN_TYPE_BLIND_RSA) return false;
  if (!sameBytes(token.subarray(KEY_ID_AT, TOKEN_INPUT_BYTES), expected.keyId)) return false;
  if (!sameBytes(token.subarray(CHALLENGE_DIGEST_AT, KEY_ID_AT), expected.challengeDigest)) {
    return false;
  }
  try {
    return verify(
      'sha384',
      token.subarray(0, TOKEN_INPUT_BYTES),
      { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: SALT_BYTES },
      token.subarray(TOKEN_INPUT_BYTES),
    );
  } catch {
    return false;
  }
}
