/**
 * Sealed-sender certificates: issuing (trust root and server side) and validating (recipient
 * side). PROTOCOL.md §6; the chain is Signal's: trust root -> server certificate -> sender certificate.
 * Layouts live in `sdk/wire/certificates.ts`; docs/PROTOCOL.md §6 §Certificates.
 */
import type { CryptoBackend } from '../crypto/backend.ts';
import { InvalidCertificateError } from '../errors.ts';
import { ArgumentRangeError, ArgumentTypeError } from '../util/argument-errors.ts';
import { assertBytes, bytesKey, constantTimeEqual } from '../util/bytes.ts';
import {
  decodeModeratorCertificate,
  decodeSenderCertificate,
  decodeServerCertificate,
  encodeModeratorCertificate,
  encodeSenderCertificate,
  encodeServerCertificate,
  type ModeratorCertificate,
  moderatorCertificatePayload,
  type SenderCertificate,
  type ServerCertificate,
  senderCertificatePayload,
  serverCertificatePayload,
} from '../wire/certificates.ts';

/** What a client pins: the trust root's Ed25519 public key and the revoked server key ids. */
export interface TrustConfig {
  /** Ed25519 public key of the trust root (32 bytes). */
  readonly trustRoot: Uint8Array;
  /** Server key ids whose certificates are rejected even when validly signed. */
  readonly revokedServerKeyIds: readonly number[];
  /** Moderator key ids no longer accepted (PROTOCOL.md §11.2); none when absent. */
  readonly revokedModeratorKeyIds?: readonly number[];
}

/** Fields of a server certificate to issue. */
export interface ServerCertificateFields {
  readonly keyId: number;
  readonly serverPublic: Uint8Array;
  readonly notAfter: number;
}

/** Fields of a sender certificate to issue. */
export type SenderCertificateFields = Omit<SenderCertificate, 'signature'>;

/**
 * Bounded caches of successful signature checks, keyed by trust root and certificate bytes.
 * Every sealed message carries the same server certificate and, per sender, the same sender
 * certificate for its whole lifetime; Ed25519 verification costs more than the two X25519
 * operations of opening in pure JS. Only signatures are cached: revocation and expiry depend on
 * the trust configuration and the clock and are checked on every call. Signature verification
 * is deterministic, so a cached success for identical bytes under the identical root is exact.
 */
const SERVER_CACHE_SIZE = 16;
const SENDER_CACHE_SIZE = 256;
const serverCache = new Set<string>();
const senderCache = new Set<string>();

function cacheKey(trustRoot: Uint8Array, bytes: Uint8Array): string {
  return bytesKey(trustRoot) + bytesKey(bytes);
}

/**
 * Ed25519 verification through a least-recently-used set (Set order is insertion order). The
 * payload is built only on a miss.
 */
async function verifyCached(
  backend: CryptoBackend,
  cache: Set<string>,
  limit: number,
  key: string,
  publicKey: Uint8Array,
  payload: () => Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  if (cache.delete(key)) {
    cache.add(key);
    return true;
  }
  if (!(await backend.ed25519Verify(publicKey, payload(), signature))) return false;
  cache.add(key);
  if (cache.size > limit) cache.delete(cache.values().next().value as string);
  return true;
}

/**
 * Signs a server certificate with the trust root.
 *
 * @param rootSeed - the trust root's 32-byte Ed25519 seed
 * @returns the encoded certificate (109 bytes)
 * @throws ArgumentTypeError / RangeError on a malformed argument
 * @example
 * ```ts
 * const serverCert = await issueServerCertificate(backend, rootSeed, { keyId: 1, serverPublic, notAfter });
 * ```
 */
export async function issueServerCertificate(
  backend: CryptoBackend,
  rootSeed: Uint8Array,
  fields: ServerCertificateFields,
): Promise<Uint8Array> {
  assertBytes(rootSeed, 'rootSeed', 32);
  const signature = await backend.ed25519Sign(rootSeed, serverCertificatePayload(fields));
  return encodeServerCertificate({ ...fields, signature });
}

/**
 * Signs a sender certificate with a server key. The seed must belong to the key in
 * `fields.serverCertificate`, otherwise no recipient could validate the result.
 *
 * @param serverSeed - the server key's 32-byte Ed25519 seed
 * @returns the encoded certificate (240 bytes with a v1 server certificate)
 * @throws ArgumentTypeError / RangeError on a malformed argument, or if `serverSeed` does not match the
 *   server certificate's public key
 * @throws MalformedEnvelopeError / UnsupportedVersionError if `fields.serverCertificate` does not decode
 * @example
 * ```ts
 * const cert = await issueSenderCertificate(backend, serverSeed, {
 *   address, deviceId: 1, identityKey, expires: now + 7 * 86_400_000, serverCertificate,
 * });
 * ```
 */
export async function issueSenderCertificate(
  backend: CryptoBackend,
  serverSeed: Uint8Array,
  fields: SenderCertificateFields,
): Promise<Uint8Array> {
  assertBytes(serverSeed, 'serverSeed', 32);
  assertBytes(fields.serverCertificate, 'serverCertificate');
  const server = decodeServerCertificate(fields.serverCertificate);
  const serverPublic = await backend.ed25519PublicKey(serverSeed);
  if (!constantTimeEqual(serverPublic, server.serverPublic)) {
    throw new ArgumentRangeError('serverSeed does not match the server certificate');
  }
  const signature = await backend.ed25519Sign(serverSeed, senderCertificatePayload(fields));
  return encodeSenderCertificate({ ...fields, signature });
}

function checkTrust(trust: TrustConfig): void {
  if (typeof trust !== 'object' || trust === null)
    throw new ArgumentTypeError('trust must be an object');
  assertBytes(trust.trustRoot, 'trust.trustRoot', 32);
  if (!Array.isArray(trust.revokedServerKeyIds)) {
    throw new ArgumentTypeError('trust.revokedServerKeyIds must be an array');
  }
}

/**
 * Validates a sender certificate against the pinned trust configuration (PROTOCOL.md §6): the server
 * certificate is signed by the trust root, its key id is not revoked, `now <= notAfter`; the
 * sender certificate is signed by that server key and `now < expires`. Binding the certificate
 * to a key (the envelope's static key, the session's identity) is the caller's job.
 *
 * @param certBytes - an encoded sender certificate
 * @param now - current time in ms since the Unix epoch
 * @returns the decoded certificate (freshly decoded; the caller may keep or modify it)
 * @throws InvalidCertificateError if the certificate is malformed, badly signed, chained to
 *   another root, revoked or expired
 * @throws ArgumentTypeError / RangeError on a malformed argument
 * @example
 * ```ts
 * const cert = await validateSenderCertificate(backend, bytes, { trustRoot, revokedServerKeyIds: [] }, Date.now());
 * ```
 */
export async function validateSenderCertificate(
  backend: CryptoBackend,
  certBytes: Uint8Array,
  trust: TrustConfig,
  now: number,
): Promise<SenderCertificate> {
  assertBytes(certBytes, 'certBytes');
  checkTrust(trust);
  if (typeof now !== 'number' || !Number.isFinite(now))
    throw new ArgumentTypeError('now must be a number');

  let sender: SenderCertificate;
  let server: ServerCertificate;
  try {
    sender = decodeSenderCertificate(certBytes);
    server = decodeServerCertificate(sender.serverCertificate);
  } catch (cause) {
    throw new InvalidCertificateError('certificate is malformed', { cause });
  }
  // Cheap checks before signatures, so revoked or expired input costs no Ed25519 work.
  if (trust.revokedServerKeyIds.includes(server.keyId)) {
    throw new InvalidCertificateError('server key is revoked');
  }
  if (now > server.notAfter) throw new InvalidCertificateError('server certificate expired');
  if (now >= sender.expires) throw new InvalidCertificateError('sender certificate expired');

  const serverOk = await verifyCached(
    backend,
    serverCache,
    SERVER_CACHE_SIZE,
    cacheKey(trust.trustRoot, sender.serverCertificate),
    trust.trustRoot,
    () => serverCertificatePayload(server),
    server.signature,
  );
  if (!serverOk) {
    throw new InvalidCertificateError('server certificate is not signed by the trust root');
  }
  // Keyed by the whole sender certificate, which embeds the server certificate just verified
  // under this root.
  const senderOk = await verifyCached(
    backend,
    senderCache,
    SENDER_CACHE_SIZE,
    cacheKey(trust.trustRoot, certBytes),
    server.serverPublic,
    () => senderCertificatePayload(sender),
    sender.signature,
  );
  if (!senderOk) {
    throw new InvalidCertificateError('sender certificate is not signed by the server key');
  }
  return sender;
}

/** Fields of a moderator certificate, all but the root's signature. */
export type ModeratorCertificateFields = Omit<ModeratorCertificate, 'signature'>;

/**
 * Issues a moderator certificate: the trust root signs the operator's franking judge key
 * (PROTOCOL.md §11.2).
 *
 * @example const cert = await issueModeratorCertificate(backend, rootSeed, { keyId: 1, moderatorPublic, notAfter });
 * @throws {ArgumentTypeError | ArgumentRangeError} naming a bad field.
 */
export async function issueModeratorCertificate(
  backend: CryptoBackend,
  rootSeed: Uint8Array,
  fields: ModeratorCertificateFields,
): Promise<Uint8Array> {
  assertBytes(rootSeed, 'rootSeed', 32);
  const signature = await backend.ed25519Sign(rootSeed, moderatorCertificatePayload(fields));
  return encodeModeratorCertificate({ ...fields, signature });
}

const moderatorCache = new Set<string>();

/**
 * Validates a moderator certificate against the pinned trust root: it decodes, its key id is
 * not in `trust.revokedModeratorKeyIds`, `now <= notAfter`, and the root's signature verifies
 * (successes cached like server certificates).
 *
 * @example const { keyId, moderatorPublic } = await validateModeratorCertificate(backend, bytes, trust, Date.now());
 * @throws {InvalidCertificateError} naming the failed check.
 */
export async function validateModeratorCertificate(
  backend: CryptoBackend,
  certBytes: Uint8Array,
  trust: TrustConfig,
  now: number,
): Promise<ModeratorCertificate> {
  assertBytes(certBytes, 'certBytes');
  checkTrust(trust);
  let cert: ModeratorCertificate;
  try {
    cert = decodeModeratorCertificate(certBytes);
  } catch (cause) {
    throw new InvalidCertificateError('moderator certificate is malformed', { cause });
  }
  if (trust.revokedModeratorKeyIds?.includes(cert.keyId)) {
    throw new InvalidCertificateError('moderator key is revoked');
  }
  if (now > cert.notAfter) throw new InvalidCertificateError('moderator certificate expired');
  const ok = await verifyCached(
    backend,
    moderatorCache,
    SERVER_CACHE_SIZE,
    cacheKey(trust.trustRoot, certBytes),
    trust.trustRoot,
    () => moderatorCertificatePayload(cert),
    cert.signature,
  );
  if (!ok)
    throw new InvalidCertificateError('moderator certificate is not signed by the trust root');
  return cert;
}
