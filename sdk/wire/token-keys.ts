/**
 * The list of anonymous-token issuer keys (docs/PROTOCOL.md §13): pure codec and signature
 * payload, no cryptography. The service issues tokens under one key per UTC day, the same key
 * for every account (a key per account would link a token to its account), and publishes the
 * keys that can still be redeemed in this list, signed by the server key; the SDK verifies the
 * signature with a server certificate it validated against the pinned trust root and refuses
 * any key the list does not carry.
 *
 * ```
 * TokenKeyList = u8 version=1 || u64 issuedAt || u8 len || issuerName (ASCII, 1..255)
 *                || u8 count || count × (u32 day || u64 notAfter || u16 len || publicKey)
 *                || signature(64)
 * signature = Ed25519(serverKey, LABELS.TOKEN_KEYS || every byte before the signature)
 * ```
 *
 * `day` is the UTC day number (ms since the Unix epoch / 86,400,000) the key issues on;
 * `notAfter` the last moment (ms) a token of the key is redeemed; `publicKey` the RFC 9578 §6.5
 * encoding of the RSA public key (SubjectPublicKeyInfo, id-RSASSA-PSS), whose SHA-256 is the
 * token key id. Keys are listed oldest first, each day at most once. Integers are big-endian.
 */
import { MalformedEnvelopeError, UnsupportedVersionError } from '../errors.ts';
import { ArgumentRangeError, ArgumentTypeError } from '../util/argument-errors.ts';
import { assertBytes, ByteReader, ByteWriter, concatBytes, isU32 } from '../util/bytes.ts';
import { LABELS } from './labels.ts';

/** Version byte of the token key list. */
export const TOKEN_KEY_LIST_VERSION = 1;
/** Most keys one list carries (the redeemable window is a few days). */
export const MAX_TOKEN_KEYS = 8;
/** Largest encoded public key (an RSA-2048 SubjectPublicKeyInfo with PSS parameters is ~420). */
export const MAX_TOKEN_PUBLIC_KEY_BYTES = 1024;
/** Longest issuer name (RFC 9577 allows more; a host name fits). */
export const MAX_ISSUER_NAME_BYTES = 255;
/** Ed25519 signature size (RFC 8032). */
const SIGNATURE_BYTES = 64;
/** Largest encoded list. */
export const MAX_TOKEN_KEY_LIST_BYTES =
  1 +
  8 +
  1 +
  MAX_ISSUER_NAME_BYTES +
  1 +
  MAX_TOKEN_KEYS * (4 + 8 + 2 + MAX_TOKEN_PUBLIC_KEY_BYTES) +
  SIGNATURE_BYTES;

/** One issuer key. */
export interface TokenKeyEntry {
  /** The UTC day number the key issues on. */
  readonly day: number;
  /** The last moment (ms since the Unix epoch) a token of this key is accepted. */
  readonly notAfter: number;
  /** RFC 9578 §6.5 public key encoding. */
  readonly publicKey: Uint8Array;
}

/** A signed list of issuer keys. */
export interface TokenKeyList {
  /** When the service built the list; a client keeps the newest list it verified. */
  readonly issuedAt: number;
  /** The issuer name of the token challenge (RFC 9577 §2.1) clients use with these keys. */
  readonly issuerName: string;
  /** At most {@link MAX_TOKEN_KEYS}, oldest day first, each day once. */
  readonly keys: readonly TokenKeyEntry[];
  /** Ed25519 signature by the server key over {@link tokenKeyListPayload}. */
  readonly signature: Uint8Array;
}

const isTime = (n: unknown): n is number =>
  typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/** Printable ASCII without spaces, as a host name or similar label. */
const isIssuerName = (s: string): boolean =>
  s.length >= 1 && s.length <= MAX_ISSUER_NAME_BYTES && /^[\x21-\x7e]+$/.test(s);

function body(list: Omit<TokenKeyList, 'signature'>): Uint8Array {
  if (!isTime(list.issuedAt)) {
    throw new ArgumentRangeError('issuedAt must be a non-negative safe integer (ms)');
  }
  if (typeof list.issuerName !== 'string')
    throw new ArgumentTypeError('issuerName must be a string');
  if (!isIssuerName(list.issuerName)) {
    throw new ArgumentRangeError(
      `issuerName must be 1..${MAX_ISSUER_NAME_BYTES} printable ASCII characters`,
    );
  }
  if (!Array.isArray(list.keys)) throw new ArgumentTypeError('keys must be an array');
  if (list.keys.length > MAX_TOKEN_KEYS) {
    throw new ArgumentRangeError(`a token key list has at most ${MAX_TOKEN_KEYS} keys`);
  }
  let size = 1 + 8 + 1 + list.issuerName.length + 1;
  for (const [i, k] of list.keys.entries()) {
    if (!isU32(k.day)) throw new ArgumentRangeError(`keys[${i}].day must be a u32`);
    if (!isTime(k.notAfter)) throw new ArgumentRangeError(`keys[${i}].notAfter must be a u64 (ms)`);
    assertBytes(k.publicKey, `keys[${i}].publicKey`);
    if (k.publicKey.length < 1 || k.publicKey.length > MAX_TOKEN_PUBLIC_KEY_BYTES) {
      throw new ArgumentRangeError(
        `keys[${i}].publicKey must be 1..${MAX_TOKEN_PUBLIC_KEY_BYTES} bytes`,
      );
    }
    if (i > 0 && k.day <= list.keys[i - 1]!.day) {
      throw new ArgumentRangeError('keys must be in increasing day order, each day once');
    }
    size += 4 + 8 + 2 + k.publicKey.length;
  }
  const w = new ByteWriter(size)
    .u8(TOKEN_KEY_LIST_VERSION)
    .u64(list.issuedAt)
    .u8(list.issuerName.length)
    .bytes(new TextEncoder().encode(list.issuerName))
    .u8(list.keys.length);
  for (const k of list.keys) w.u32(k.day).u64(k.notAfter).var16(k.publicKey);
  return w.finish();
}

/**
 * What the server key signs: `LABELS.TOKEN_KEYS || body`, where the body is every byte of the
 * encoded list before the signature.
 *
 * @example ed25519Sign(serverSeed, tokenKeyListPayload({ issuedAt: Date.now(), issuerName, keys }))
 * @throws {ArgumentTypeError | ArgumentRangeError} naming a bad field.
 */
export function tokenKeyListPayload(list: Omit<TokenKeyList, 'signature'>): Uint8Array {
  return concatBytes(LABELS.TOKEN_KEYS, body(list));
}

/**
 * Encodes a signed token key list.
 *
 * @example const bytes = encodeTokenKeyList({ issuedAt, issuerName, keys, signature });
 * @throws {ArgumentTypeError | ArgumentRangeError} naming a bad field.
 */
export function encodeTokenKeyList(list: TokenKeyList): Uint8Array {
  assertBytes(list.signature, 'signature', SIGNATURE_BYTES);
  return concatBytes(body(list), list.signature);
}

/**
 * Decodes a token key list strictly (layout only: the caller verifies the signature over
 * {@link tokenKeyListPayload} of the result).
 *
 * @example const { issuerName, keys } = decodeTokenKeyList(bytes);
 * @throws {UnsupportedVersionError} for another version byte.
 * @throws {MalformedEnvelopeError} for a wrong length, too many keys, keys out of day order, an
 *   empty or oversized key, or an issuer name that is not printable ASCII.
 */
export function decodeTokenKeyList(bytes: Uint8Array): TokenKeyList {
  assertBytes(bytes, 'bytes');
  if (bytes.length > MAX_TOKEN_KEY_LIST_BYTES) {
    throw new MalformedEnvelopeError('token key list is too long');
  }
  const r = new ByteReader(bytes, 'token key list');
  const version = r.u8();
  if (version !== TOKEN_KEY_LIST_VERSION) {
    throw new UnsupportedVersionError(version, 'token key list');
  }
  const issuedAt = r.u64();
  const nameLength = r.u8();
  const issuerName = String.fromCharCode(...r.bytes(nameLength));
  if (!isIssuerName(issuerName)) {
    throw new MalformedEnvelopeError('token key list has a bad issuer name');
  }
  const count = r.u8();
  if (count > MAX_TOKEN_KEYS) throw new MalformedEnvelopeError('token key list has too many keys');
  const keys: TokenKeyEntry[] = [];
  for (let i = 0; i < count; i++) {
    const day = r.u32();
    const notAfter = r.u64();
    const publicKey = r.var16(MAX_TOKEN_PUBLIC_KEY_BYTES);
    if (publicKey.length === 0) throw new MalformedEnvelopeError('token key list has an empty key');
    if (i > 0 && day <= keys[i - 1]!.day) {
      throw new MalformedEnvelopeError('token key list is not in day order');
    }
    keys.push({ day, notAfter, publicKey });
  }
  const signature = r.bytes(SIGNATURE_BYTES);
  r.end();
  return { issuedAt, issuerName, keys, signature };
}
