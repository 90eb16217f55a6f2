/**
 * The revocation list of suspended accounts (docs/SERVICE.md §14.6): pure codec and signature
 * payload, no cryptography. The service signs it with the server key; the SDK verifies it with
 * the server key of a server certificate it validated against the pinned trust root, and then
 * stops accepting sealed messages whose sender certificate names a listed account.
 *
 * ```
 * RevocationList = u8 version=1 || u64 issuedAt || u16 count
 *                  || count × (addressBytes(20) || u64 suspendedAt)
 *                  || signature(64)
 * signature = Ed25519(serverKey, LABELS.REVOCATIONS || every byte before the signature)
 * ```
 *
 * Integers are big-endian, times in ms since the Unix epoch. An address appears at most once.
 */
import { MalformedEnvelopeError, UnsupportedVersionError } from '../errors.ts';
import { ArgumentRangeError, ArgumentTypeError } from '../util/argument-errors.ts';
import { assertBytes, ByteReader, ByteWriter, concatBytes } from '../util/bytes.ts';
import { ADDRESS_BYTES, addressFromBytes, addressToBytes } from './identity.ts';
import { LABELS } from './labels.ts';

/** Version byte of the revocation list. */
export const REVOCATION_LIST_VERSION = 1;
/** Most entries one list carries (the service lists the newest suspensions first). */
export const MAX_REVOCATIONS = 1000;
/** Bytes of one entry: the raw address and the suspension time. */
export const REVOCATION_ENTRY_BYTES = ADDRESS_BYTES + 8;
/** Ed25519 signature size (RFC 8032). */
const SIGNATURE_BYTES = 64;
/** Version, issuedAt, count. */
const HEADER_BYTES = 1 + 8 + 2;
/** Largest encoded list: {@link MAX_REVOCATIONS} entries (28,075 bytes). */
export const MAX_REVOCATION_LIST_BYTES =
  HEADER_BYTES + MAX_REVOCATIONS * REVOCATION_ENTRY_BYTES + SIGNATURE_BYTES;

/** One suspended account. */
export interface Revocation {
  /** The suspended account's address (32 characters of lower-case base32). */
  readonly address: string;
  /** When it was suspended (ms since the Unix epoch). */
  readonly suspendedAt: number;
}

/** A signed list of suspended accounts. */
export interface RevocationList {
  /** When the service built the list; a client keeps the newest list it verified. */
  readonly issuedAt: number;
  /** At most {@link MAX_REVOCATIONS} entries, no address twice. */
  readonly revocations: readonly Revocation[];
  /** Ed25519 signature by the server key over {@link revocationListPayload}. */
  readonly signature: Uint8Array;
}

function checkTime(n: unknown, name: string): void {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new ArgumentRangeError(`${name} must be a non-negative safe integer (ms)`);
  }
}

function body(list: Omit<RevocationList, 'signature'>): Uint8Array {
  checkTime(list.issuedAt, 'issuedAt');
  if (!Array.isArray(list.revocations)) throw new ArgumentTypeError('revocations must be an array');
  if (list.revocations.length > MAX_REVOCATIONS) {
    throw new ArgumentRangeError(`a revocation list has at most ${MAX_REVOCATIONS} entries`);
  }
  const seen = new Set<string>();
  const w = new ByteWriter(HEADER_BYTES + list.revocations.length * REVOCATION_ENTRY_BYTES)
    .u8(REVOCATION_LIST_VERSION)
    .u64(list.issuedAt)
    .u16(list.revocations.length);
  for (const [i, r] of list.revocations.entries()) {
    const raw = addressToBytes(r.address);
    if (seen.has(r.address)) throw new ArgumentRangeError(`revocations[${i}] repeats an address`);
    seen.add(r.address);
    checkTime(r.suspendedAt, `revocations[${i}].suspendedAt`);
    w.bytes(raw).u64(r.suspendedAt);
  }
  return w.finish();
}

/**
 * What the server key signs: `LABELS.REVOCATIONS || body`, where the body is every byte of the
 * encoded list before the signature.
 *
 * @example ed25519Sign(serverSeed, revocationListPayload({ issuedAt: Date.now(), revocations }))
 * @throws {ArgumentTypeError | ArgumentRangeError} naming a bad field (more than
 *   {@link MAX_REVOCATIONS} entries, an address twice, a time that is not a u64).
 */
export function revocationListPayload(list: Omit<RevocationList, 'signature'>): Uint8Array {
  return concatBytes(LABELS.REVOCATIONS, body(list));
}

/**
 * Encodes a signed revocation list.
 *
 * @example const bytes = encodeRevocationList({ issuedAt, revocations, signature });
 * @throws {ArgumentTypeError | ArgumentRangeError} naming a bad field.
 */
export function encodeRevocationList(list: RevocationList): Uint8Array {
  assertBytes(list.signature, 'signature', SIGNATURE_BYTES);
  return concatBytes(body(list), list.signature);
}

/**
 * Decodes a revocation list strictly (layout only: the caller verifies the signature over
 * {@link revocationListPayload} of the result).
 *
 * @example const { issuedAt, revocations, signature } = decodeRevocationList(bytes);
 * @throws {UnsupportedVersionError} for another version byte.
 * @throws {MalformedEnvelopeError} for a wrong length, more than {@link MAX_REVOCATIONS}
 *   entries, an address twice or a time out of range.
 */
export function decodeRevocationList(bytes: Uint8Array): RevocationList {
  assertBytes(bytes, 'bytes');
  const r = new ByteReader(bytes, 'revocation list');
  const version = r.u8();
  if (version !== REVOCATION_LIST_VERSION) {
    throw new UnsupportedVersionError(version, 'revocation list');
  }
  const issuedAt = r.u64();
  const count = r.u16();
  if (count > MAX_REVOCATIONS) throw new MalformedEnvelopeError('revocation list is too long');
  const revocations: Revocation[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    const address = addressFromBytes(r.bytes(ADDRESS_BYTES));
    if (seen.has(address)) throw new MalformedEnvelopeError('revocation list repeats an address');
    seen.add(address);
    revocations.push({ address, suspendedAt: r.u64() });
  }
  const signature = r.bytes(SIGNATURE_BYTES);
  r.end();
  return { issuedAt, revocations, signature };
}
