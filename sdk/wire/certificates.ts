/**
 * Sealed-sender certificate codecs (docs/PROTOCOL.md §6, docs/PROTOCOL.md §6).
 * Pure byte layouts and signature payloads, no cryptography: the service signs with these
 * payloads and the SDK verifies them (`sdk/protocol/certificates.ts`).
 *
 * ```
 * ServerCertificate = u8 version=1 || u32 keyId || serverPublic(32) || u64 notAfterMs || signature(64)
 * SenderCertificate = u8 version=1 || addressBytes(20) || u32 deviceId || senderDhIdentity(32)
 *                     || u64 expiresMs || var16(serverCertificate) || signature(64)
 * ```
 */
import { UnsupportedVersionError } from '../errors.ts';
import { ArgumentRangeError } from '../util/argument-errors.ts';
import { assertBytes, assertU32, ByteReader, ByteWriter, concatBytes } from '../util/bytes.ts';
import { ADDRESS_BYTES, addressFromBytes, addressToBytes } from './identity.ts';
import { LABELS } from './labels.ts';

/** Version byte of both certificate layouts. */
export const CERTIFICATE_VERSION = 1;
/** Version of the sender certificate layout: 2 adds the sender device's franking key. */
export const SENDER_CERTIFICATE_VERSION = 2;
/** Ed25519 public key and signature sizes (RFC 8032). */
const PUBLIC_BYTES = 32;
const SIGNATURE_BYTES = 64;
/** Encoded size of a version-1 server certificate. */
export const SERVER_CERTIFICATE_BYTES = 1 + 4 + PUBLIC_BYTES + 8 + SIGNATURE_BYTES;
/**
 * Bound on the embedded server certificate in a sender certificate. Larger than a v1 server
 * certificate (109 bytes) so the sender-certificate layout survives a server-certificate
 * version change, small enough that a hostile length cannot make a parser allocate much.
 */
export const MAX_EMBEDDED_SERVER_CERTIFICATE_BYTES = 1024;
/** Fixed part of a sender certificate (everything but the embedded server certificate). */
const SENDER_CERTIFICATE_FIXED_BYTES =
  1 + ADDRESS_BYTES + 4 + PUBLIC_BYTES + PUBLIC_BYTES + 8 + 2 + SIGNATURE_BYTES;
/** Largest encoded sender certificate accepted anywhere. */
export const MAX_SENDER_CERTIFICATE_BYTES =
  SENDER_CERTIFICATE_FIXED_BYTES + MAX_EMBEDDED_SERVER_CERTIFICATE_BYTES;

/** A server key endorsed by the trust root. */
export interface ServerCertificate {
  /** Server key id (u32); the trust configuration can revoke ids. */
  readonly keyId: number;
  /** Ed25519 public key that signs sender certificates. */
  readonly serverPublic: Uint8Array;
  /** Last millisecond (Unix epoch) at which the certificate is valid. */
  readonly notAfter: number;
  /** Ed25519 signature by the trust root over {@link serverCertificatePayload}. */
  readonly signature: Uint8Array;
}

/** A server's statement that a device holds a DH identity key, until `expires`. */
export interface SenderCertificate {
  /** Sender address, 32 characters of lower-case RFC 4648 base32 (PROTOCOL.md §1). */
  readonly address: string;
  /** Sender device id (u32). */
  readonly deviceId: number;
  /** Sender's 32-byte X25519 device identity key. */
  readonly identityKey: Uint8Array;
  /** The sender device's ristretto255 franking public key (PROTOCOL.md §11). */
  readonly frankingKey: Uint8Array;
  /** Expiry in ms since the Unix epoch; valid while `now < expires`. */
  readonly expires: number;
  /** Encoded {@link ServerCertificate} whose key signed this certificate. */
  readonly serverCertificate: Uint8Array;
  /** Ed25519 signature by the server key over {@link senderCertificatePayload}. */
  readonly signature: Uint8Array;
}

function checkTime(n: unknown, name: string): void {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new ArgumentRangeError(`${name} must be a non-negative safe integer (ms)`);
  }
}

function serverBody(c: Omit<ServerCertificate, 'signature'>): Uint8Array {
  assertU32(c.keyId, 'keyId');
  assertBytes(c.serverPublic, 'serverPublic', PUBLIC_BYTES);
  checkTime(c.notAfter, 'notAfter');
  return new ByteWriter(SERVER_CERTIFICATE_BYTES)
    .u8(CERTIFICATE_VERSION)
    .u32(c.keyId)
    .bytes(c.serverPublic)
    .u64(c.notAfter)
    .finish();
}

function senderBody(c: Omit<SenderCertificate, 'signature'>): Uint8Array {
  const raw = addressToBytes(c.address);
  assertU32(c.deviceId, 'deviceId');
  assertBytes(c.identityKey, 'identityKey', PUBLIC_BYTES);
  assertBytes(c.frankingKey, 'frankingKey', PUBLIC_BYTES);
  checkTime(c.expires, 'expires');
  assertBytes(c.serverCertificate, 'serverCertificate');
  if (c.serverCertificate.length > MAX_EMBEDDED_SERVER_CERTIFICATE_BYTES) {
    throw new ArgumentRangeError(
      `serverCertificate must be at most ${MAX_EMBEDDED_SERVER_CERTIFICATE_BYTES} bytes`,
    );
  }
  return new ByteWriter(SENDER_CERTIFICATE_FIXED_BYTES + c.serverCertificate.length)
    .u8(SENDER_CERTIFICATE_VERSION)
    .bytes(raw)
    .u32(c.deviceId)
    .bytes(c.identityKey)
    .bytes(c.frankingKey)
    .u64(c.expires)
    .var16(c.serverCertificate)
    .finish();
}

/**
 * The bytes the trust root signs: `LABELS.SERVER_CERTIFICATE || (encoding before the signature)`.
 *
 * @throws ArgumentTypeError / RangeError if a field has the wrong type, size or range
 * @example
 * ```ts
 * const sig = await backend.ed25519Sign(rootSeed, serverCertificatePayload({ keyId, serverPublic, notAfter }));
 * ```
 */
export function serverCertificatePayload(fields: Omit<ServerCertificate, 'signature'>): Uint8Array {
  return concatBytes(LABELS.SERVER_CERTIFICATE, serverBody(fields));
}

/**
 * Encodes a server certificate (109 bytes).
 *
 * @throws ArgumentTypeError / RangeError if a field has the wrong type, size or range
 * @example
 * ```ts
 * const bytes = encodeServerCertificate({ keyId: 1, serverPublic, notAfter, signature });
 * ```
 */
export function encodeServerCertificate(c: ServerCertificate): Uint8Array {
  assertBytes(c.signature, 'signature', SIGNATURE_BYTES);
  return concatBytes(serverBody(c), c.signature);
}

/**
 * Strictly decodes a server certificate: exact size, known version, no trailing bytes. Does
 * not verify the signature.
 *
 * @throws UnsupportedVersionError if the version byte is not 1
 * @throws MalformedEnvelopeError on any other layout violation
 * @example
 * ```ts
 * const { keyId, serverPublic } = decodeServerCertificate(bytes);
 * ```
 */
export function decodeServerCertificate(bytes: Uint8Array): ServerCertificate {
  assertBytes(bytes, 'bytes');
  const r = new ByteReader(bytes, 'server certificate');
  const version = r.u8();
  if (version !== CERTIFICATE_VERSION) throw new UnsupportedVersionError(version, 'certificate');
  const keyId = r.u32();
  const serverPublic = r.bytes(PUBLIC_BYTES);
  const notAfter = r.u64();
  const signature = r.bytes(SIGNATURE_BYTES);
  r.end();
  return { keyId, serverPublic, notAfter, signature };
}

/**
 * The bytes a server key signs: `LABELS.SENDER_CERTIFICATE || (encoding before the signature)`.
 *
 * @throws ArgumentTypeError / RangeError if a field has the wrong type, size or range
 * @example
 * ```ts
 * const sig = await backend.ed25519Sign(serverSeed, senderCertificatePayload(fields));
 * ```
 */
export function senderCertificatePayload(fields: Omit<SenderCertificate, 'signature'>): Uint8Array {
  return concatBytes(LABELS.SENDER_CERTIFICATE, senderBody(fields));
}

/**
 * Encodes a sender certificate (240 bytes with a v1 server certificate).
 *
 * @throws ArgumentTypeError / RangeError if a field has the wrong type, size or range
 * @example
 * ```ts
 * const bytes = encodeSenderCertificate({ address, deviceId: 1, identityKey, frankingKey, expires, serverCertificate, signature });
 * ```
 */
export function encodeSenderCertificate(c: SenderCertificate): Uint8Array {
  assertBytes(c.signature, 'signature', SIGNATURE_BYTES);
  return concatBytes(senderBody(c), c.signature);
}

/**
 * Strictly decodes a sender certificate: known version, bounded embedded server certificate,
 * no trailing bytes. Does not verify either signature nor parse the embedded certificate.
 *
 * @throws UnsupportedVersionError if the version byte is not 1
 * @throws MalformedEnvelopeError on any other layout violation
 * @example
 * ```ts
 * const { address, deviceId, identityKey } = decodeSenderCertificate(bytes);
 * ```
 */
export function decodeSenderCertificate(bytes: Uint8Array): SenderCertificate {
  assertBytes(bytes, 'bytes');
  const r = new ByteReader(bytes, 'sender certificate');
  const version = r.u8();
  if (version !== SENDER_CERTIFICATE_VERSION) {
    throw new UnsupportedVersionError(version, 'certificate');
  }
  const address = addressFromBytes(r.bytes(ADDRESS_BYTES));
  const deviceId = r.u32();
  const identityKey = r.bytes(PUBLIC_BYTES);
  const frankingKey = r.bytes(PUBLIC_BYTES);
  const expires = r.u64();
  const serverCertificate = r.var16(MAX_EMBEDDED_SERVER_CERTIFICATE_BYTES);
  const signature = r.bytes(SIGNATURE_BYTES);
  r.end();
  return { address, deviceId, identityKey, frankingKey, expires, serverCertificate, signature };
}

/** Size of a moderator certificate (version 1). */
export const MODERATOR_CERTIFICATE_BYTES = 1 + 4 + PUBLIC_BYTES + 8 + SIGNATURE_BYTES;

/**
 * The operator's moderator (franking judge) key, certified by the trust root like the server
 * key (PROTOCOL.md §11.2): `u8 version = 1 || u32 keyId || moderatorPublic(32, ristretto255)
 * || u64 notAfter || signature(64)`, 109 bytes.
 */
export interface ModeratorCertificate {
  readonly keyId: number;
  readonly moderatorPublic: Uint8Array;
  readonly notAfter: number;
  readonly signature: Uint8Array;
}

function moderatorBody(c: Omit<ModeratorCertificate, 'signature'>): Uint8Array {
  assertU32(c.keyId, 'keyId');
  assertBytes(c.moderatorPublic, 'moderatorPublic', PUBLIC_BYTES);
  checkTime(c.notAfter, 'notAfter');
  return new ByteWriter(MODERATOR_CERTIFICATE_BYTES - SIGNATURE_BYTES)
    .u8(CERTIFICATE_VERSION)
    .u32(c.keyId)
    .bytes(c.moderatorPublic)
    .u64(c.notAfter)
    .finish();
}

/**
 * What the trust root signs for a moderator certificate:
 * `LABELS.MODERATOR_CERTIFICATE || bytes[0..45]`.
 *
 * @example ed25519Sign(rootSeed, moderatorCertificatePayload({ keyId, moderatorPublic, notAfter }))
 */
export function moderatorCertificatePayload(
  fields: Omit<ModeratorCertificate, 'signature'>,
): Uint8Array {
  return concatBytes(LABELS.MODERATOR_CERTIFICATE, moderatorBody(fields));
}

/**
 * Encodes a moderator certificate.
 *
 * @example const bytes = encodeModeratorCertificate({ keyId: 1, moderatorPublic, notAfter, signature });
 * @throws {ArgumentTypeError | ArgumentRangeError} naming a bad field.
 */
export function encodeModeratorCertificate(c: ModeratorCertificate): Uint8Array {
  assertBytes(c.signature, 'signature', SIGNATURE_BYTES);
  return concatBytes(moderatorBody(c), c.signature);
}

/**
 * Decodes a moderator certificate (layout only; `validateModeratorCertificate` checks it).
 *
 * @example const { keyId, moderatorPublic } = decodeModeratorCertificate(bytes);
 * @throws {UnsupportedVersionError} for another version; {MalformedEnvelopeError} for a wrong length.
 */
export function decodeModeratorCertificate(bytes: Uint8Array): ModeratorCertificate {
  assertBytes(bytes, 'bytes');
  const r = new ByteReader(bytes, 'moderator certificate');
  const version = r.u8();
  if (version !== CERTIFICATE_VERSION) throw new UnsupportedVersionError(version, 'certificate');
  const keyId = r.u32();
  const moderatorPublic = r.bytes(PUBLIC_BYTES);
  const notAfter = r.u64();
  const signature = r.bytes(SIGNATURE_BYTES);
  r.end();
  return { keyId, moderatorPublic, notAfter, signature };
}
