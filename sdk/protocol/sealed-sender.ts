/**
 * Sealed sender (PROTOCOL.md §6; Signal's sealed sender v1 on ChaCha20-Poly1305): hides the sender
 * from the service. An ephemeral layer encrypts the sender's static DH key to the recipient;
 * a static layer, keyed by both the ephemeral and the static DH, encrypts the sender
 * certificate and the wrapped message. docs/PROTOCOL.md §6.
 */
import type { CryptoBackend, Rng } from '../crypto/backend.ts';
import { DecryptError, InvalidCertificateError, InvalidKeyError } from '../errors.ts';
import { ArgumentTypeError } from '../util/argument-errors.ts';
import { assertBytes, bytesKey, concatBytes, constantTimeEqual, wipe } from '../util/bytes.ts';
import type { SenderCertificate } from '../wire/certificates.ts';
import { LABELS } from '../wire/labels.ts';
import {
  decodeSealedContent,
  decodeSealedEnvelope,
  encodeSealedContent,
  encodeSealedEnvelope,
  FRANKING_COMMITMENT_BYTES,
  SEALED_ENVELOPE_VERSION,
  SEALED_PREFIX_BYTES,
  type SealedContentType,
  type SealedFranking,
} from '../wire/sealed.ts';
import { type TrustConfig, validateSenderCertificate } from './certificates.ts';

const KEY_BYTES = 32;
/** Every key below encrypts exactly one message, so a fixed zero nonce is safe (PROTOCOL.md §6). */
const ZERO_NONCE = new Uint8Array(12);
const ZERO_SALT = new Uint8Array(32);
const EMPTY = new Uint8Array(0);

/** A device's X25519 identity key pair. */
export interface DhIdentity {
  readonly dhPrivate: Uint8Array;
  readonly dhPublic: Uint8Array;
}

/** Input of {@link sealedSenderSeal}. */
export interface SealParams {
  /** The sender device's DH identity (its public half must be the certificate's identity key). */
  readonly senderIdentity: DhIdentity;
  /** The recipient device's DH identity public key. */
  readonly recipientDhPublic: Uint8Array;
  /** The sender's encoded certificate, as issued by the service. */
  readonly senderCertificate: Uint8Array;
  /** 1 = prekey message, 2 = ratchet message. */
  readonly contentType: SealedContentType;
  /** The encoded prekey or ratchet message. */
  readonly message: Uint8Array;
  /** The franking commitment to the plaintext, carried in clear (PROTOCOL.md §11). */
  readonly commitment: Uint8Array;
  /** The commitment's opening key and the franking signature, carried inside. */
  readonly franking: SealedFranking;
}

/** Input of {@link sealedSenderOpen}. */
export interface OpenParams {
  /** The recipient device's DH identity. */
  readonly recipientIdentity: DhIdentity;
  /** The sealed envelope bytes. */
  readonly envelope: Uint8Array;
  /** The pinned trust root and revocations. */
  readonly trust: TrustConfig;
  /** Current time in ms since the Unix epoch, for certificate expiry. */
  readonly now: number;
}

/** What an opened envelope reveals to its recipient. */
export interface OpenedSealedMessage {
  readonly senderAddress: string;
  readonly senderDeviceId: number;
  /** The sender's X25519 identity key (certified and proven by the static layer). */
  readonly senderIdentityKey: Uint8Array;
  readonly contentType: SealedContentType;
  readonly message: Uint8Array;
  /** The validated sender certificate. */
  readonly certificate: SenderCertificate;
  /** The same certificate as the envelope carried it (its strict encoding). */
  readonly senderCertificate: Uint8Array;
  /** The envelope's franking commitment (authenticated by the inner AEAD). */
  readonly commitment: Uint8Array;
  /** The franking opening and signature; checked by the caller against the plaintext. */
  readonly franking: SealedFranking;
}

/**
 * `DH(S, R)`, the static-static term, is the same for every envelope between two devices
 * (PROTOCOL.md §6), so it is kept per backend and local identity, for at most this many peer keys
 * (least recently used dropped). Only agreements that completed are stored: on the open side,
 * after the envelope authenticated and its certificate validated, so forged envelopes cannot
 * fill the cache.
 */
const STATIC_DH_CACHE_SIZE = 256;

interface StaticDhEntries {
  /** The private key the entries were computed with, to catch a reused or wiped array. */
  readonly privateKey: Uint8Array;
  readonly byPeer: Map<string, Uint8Array>;
}

const staticDhCache = new WeakMap<CryptoBackend, WeakMap<Uint8Array, StaticDhEntries>>();

function staticDhEntries(backend: CryptoBackend, own: DhIdentity): StaticDhEntries {
  let perBackend = staticDhCache.get(backend);
  if (perBackend === undefined) {
    perBackend = new WeakMap();
    staticDhCache.set(backend, perBackend);
  }
  const entries = perBackend.get(own.dhPrivate);
  if (entries !== undefined && constantTimeEqual(entries.privateKey, own.dhPrivate)) {
    return entries;
  }
  if (entries !== undefined) wipeEntries(entries);
  const fresh = { privateKey: own.dhPrivate.slice(), byPeer: new Map<string, Uint8Array>() };
  perBackend.set(own.dhPrivate, fresh);
  return fresh;
}

function wipeEntries(entries: StaticDhEntries): void {
  wipe(entries.privateKey);
  for (const dh of entries.byPeer.values()) wipe(dh);
  entries.byPeer.clear();
}

/** A copy of the cached `DH(own, peer)`, or undefined. */
function cachedStaticDh(
  backend: CryptoBackend,
  own: DhIdentity,
  peer: Uint8Array,
): Uint8Array | undefined {
  const { byPeer } = staticDhEntries(backend, own);
  const key = bytesKey(peer);
  const hit = byPeer.get(key);
  if (hit === undefined) return undefined;
  byPeer.delete(key);
  byPeer.set(key, hit);
  return hit.slice();
}

function rememberStaticDh(
  backend: CryptoBackend,
  own: DhIdentity,
  peer: Uint8Array,
  dh: Uint8Array,
): void {
  const { byPeer } = staticDhEntries(backend, own);
  const key = bytesKey(peer);
  if (byPeer.has(key)) return;
  byPeer.set(key, dh.slice());
  if (byPeer.size > STATIC_DH_CACHE_SIZE) {
    const oldest = byPeer.keys().next().value as string;
    wipe(byPeer.get(oldest));
    byPeer.delete(oldest);
  }
}

function checkIdentity(id: DhIdentity, name: string): void {
  if (typeof id !== 'object' || id === null)
    throw new ArgumentTypeError(`${name} must be an object`);
  assertBytes(id.dhPrivate, `${name}.dhPrivate`, KEY_BYTES);
  assertBytes(id.dhPublic, `${name}.dhPublic`, KEY_BYTES);
}

/** Ephemeral layer: `(ck, k1) = HKDF(DH(E, R), 0^32, SEALED_EPHEMERAL || R || E_pub, 64)`. */
function ephemeralKeys(
  backend: CryptoBackend,
  dh: Uint8Array,
  recipientPublic: Uint8Array,
  ephemeralPublic: Uint8Array,
): { ck: Uint8Array; k1: Uint8Array } {
  // E_pub is bound in the info: X25519 ignores the top bit of a u-coordinate (RFC 7748 §5), so
  // DH(E, R) alone would not authenticate every bit of the envelope's ephemeral key.
  const info = concatBytes(LABELS.SEALED_EPHEMERAL, recipientPublic, ephemeralPublic);
  const okm = backend.hkdfSha256(dh, ZERO_SALT, info, 64);
  const keys = { ck: okm.slice(0, 32), k1: okm.slice(32, 64) };
  wipe(okm);
  return keys;
}

/** Static layer: `k2 = HKDF(DH(S, R), ck || encStatic, SEALED_STATIC, 32)`. */
function staticKey(
  backend: CryptoBackend,
  dh: Uint8Array,
  ck: Uint8Array,
  encStatic: Uint8Array,
): Uint8Array {
  const salt = concatBytes(ck, encStatic);
  const k2 = backend.hkdfSha256(dh, salt, LABELS.SEALED_STATIC, 32);
  wipe(salt);
  return k2;
}

/**
 * Seals a prekey or ratchet message to a recipient device without revealing the sender to the
 * service. Costs one X25519 key generation and one X25519 agreement, plus the static-static
 * agreement the first time this identity seals to `recipientDhPublic` (then cached).
 *
 * @param rng - source of the 32-byte ephemeral private key
 * @returns the envelope bytes (PROTOCOL.md §6)
 * @throws ArgumentTypeError / RangeError on a malformed argument (wrong key size, content type, a
 *   message over `MAX_SEALED_MESSAGE_BYTES`, an oversized certificate)
 * @throws InvalidKeyError if `recipientDhPublic` is of low order
 * @example
 * ```ts
 * const envelope = await sealedSenderSeal(backend, systemRng, {
 *   senderIdentity, recipientDhPublic, senderCertificate, contentType: 2, message,
 * });
 * ```
 */
export async function sealedSenderSeal(
  backend: CryptoBackend,
  rng: Rng,
  params: SealParams,
): Promise<Uint8Array> {
  const { senderIdentity, recipientDhPublic, senderCertificate, contentType, message } = params;
  const { commitment, franking } = params;
  checkIdentity(senderIdentity, 'senderIdentity');
  assertBytes(recipientDhPublic, 'recipientDhPublic', KEY_BYTES);
  assertBytes(commitment, 'commitment', FRANKING_COMMITMENT_BYTES);
  // Encoding first validates the content type and sizes before any key is drawn.
  const inner = encodeSealedContent({ contentType, senderCertificate, franking, message });

  const ephemeralPrivate = rng(KEY_BYTES);
  assertBytes(ephemeralPrivate, 'rng output', KEY_BYTES);
  let dhE: Uint8Array | undefined;
  let dhS: Uint8Array | undefined;
  let keys: { ck: Uint8Array; k1: Uint8Array } | undefined;
  let k2: Uint8Array | undefined;
  try {
    const ephemeralPublic = await backend.x25519PublicKey(ephemeralPrivate);
    dhE = await backend.x25519(ephemeralPrivate, recipientDhPublic);
    keys = ephemeralKeys(backend, dhE, recipientDhPublic, ephemeralPublic);
    const encryptedStatic = backend.aeadSeal(keys.k1, ZERO_NONCE, senderIdentity.dhPublic, EMPTY);
    dhS = cachedStaticDh(backend, senderIdentity, recipientDhPublic);
    if (dhS === undefined) {
      dhS = await backend.x25519(senderIdentity.dhPrivate, recipientDhPublic);
      rememberStaticDh(backend, senderIdentity, recipientDhPublic, dhS);
    }
    k2 = staticKey(backend, dhS, keys.ck, encryptedStatic);
    const encryptedInner = backend.aeadSeal(k2, ZERO_NONCE, inner, sealedPrefix(commitment));
    return encodeSealedEnvelope({ commitment, ephemeralPublic, encryptedStatic, encryptedInner });
  } finally {
    wipe(ephemeralPrivate, dhE, dhS, keys?.ck, keys?.k1, k2, inner);
  }
}

/**
 * Opens a sealed envelope: decrypts both layers, validates the sender certificate chain and
 * expiry against `trust`, and checks that the certificate's identity key is the static key
 * the sender proved possession of. The session layer must additionally call
 * {@link assertCertificateMatchesIdentity} with the session's remote identity.
 *
 * @returns the sender, the wrapped message and the validated certificate
 * @throws MalformedEnvelopeError if the envelope or its decrypted content does not parse
 * @throws UnsupportedVersionError if the envelope version is unknown
 * @throws DecryptError if either layer fails to decrypt (which one is never said)
 * @throws InvalidCertificateError if the certificate is invalid, expired, revoked, chained to
 *   another root, or certifies another key than the envelope's static key
 * @throws ArgumentTypeError / RangeError on a malformed argument
 * @example
 * ```ts
 * const { senderAddress, message } = await sealedSenderOpen(backend, {
 *   recipientIdentity, envelope, trust, now: Date.now(),
 * });
 * ```
 */
export async function sealedSenderOpen(
  backend: CryptoBackend,
  params: OpenParams,
): Promise<OpenedSealedMessage> {
  const { recipientIdentity, envelope, trust, now } = params;
  checkIdentity(recipientIdentity, 'recipientIdentity');
  assertBytes(envelope, 'envelope');
  const { commitment, ephemeralPublic, encryptedStatic, encryptedInner } =
    decodeSealedEnvelope(envelope);

  let dhE: Uint8Array | undefined;
  let dhS: Uint8Array | undefined;
  let keys: { ck: Uint8Array; k1: Uint8Array } | undefined;
  let k2: Uint8Array | undefined;
  let inner: Uint8Array | undefined;
  let senderStatic: Uint8Array;
  let staticDhCached = false;
  try {
    try {
      dhE = await backend.x25519(recipientIdentity.dhPrivate, ephemeralPublic);
      keys = ephemeralKeys(backend, dhE, recipientIdentity.dhPublic, ephemeralPublic);
      senderStatic = backend.aeadOpen(keys.k1, ZERO_NONCE, encryptedStatic, EMPTY);
      dhS = cachedStaticDh(backend, recipientIdentity, senderStatic);
      staticDhCached = dhS !== undefined;
      dhS ??= await backend.x25519(recipientIdentity.dhPrivate, senderStatic);
      k2 = staticKey(backend, dhS, keys.ck, encryptedStatic);
      inner = backend.aeadOpen(k2, ZERO_NONCE, encryptedInner, sealedPrefix(commitment));
    } catch (cause) {
      // A low-order E_pub or static key is as much an attack as a bad tag: one uniform error,
      // no cause, so nothing reveals which layer or check failed.
      if (cause instanceof DecryptError || cause instanceof InvalidKeyError) {
        throw new DecryptError();
      }
      throw cause;
    }
    const content = decodeSealedContent(inner);
    const certificate = await validateSenderCertificate(
      backend,
      content.senderCertificate,
      trust,
      now,
    );
    // Sealed sender v1: the certificate must certify the key that produced the static layer,
    // or any sender could present another sender's (public) certificate.
    if (!constantTimeEqual(certificate.identityKey, senderStatic)) {
      throw new InvalidCertificateError('sender certificate does not match the sender key');
    }
    if (!staticDhCached) rememberStaticDh(backend, recipientIdentity, senderStatic, dhS);
    return {
      senderAddress: certificate.address,
      senderDeviceId: certificate.deviceId,
      senderIdentityKey: certificate.identityKey.slice(),
      contentType: content.contentType,
      message: content.message,
      certificate,
      senderCertificate: content.senderCertificate,
      commitment,
      franking: content.franking,
    };
  } finally {
    wipe(dhE, dhS, keys?.ck, keys?.k1, k2, inner);
  }
}

/** The envelope's clear prefix, `version || commitment`: the inner layer's associated data. */
function sealedPrefix(commitment: Uint8Array): Uint8Array {
  const prefix = new Uint8Array(SEALED_PREFIX_BYTES);
  prefix[0] = SEALED_ENVELOPE_VERSION;
  prefix.set(commitment, 1);
  return prefix;
}

/**
 * Checks that a sealed message's certificate names the identity the session layer already
 * holds for that peer device (PROTOCOL.md §6, last validation step).
 *
 * @param remoteDhPublic - the session's remote X25519 identity key
 * @throws InvalidCertificateError if the keys differ
 * @throws ArgumentTypeError / RangeError on a malformed argument
 * @example
 * ```ts
 * assertCertificateMatchesIdentity(opened.certificate, session.remoteIdentity.deviceDhPublic);
 * ```
 */
export function assertCertificateMatchesIdentity(
  cert: SenderCertificate,
  remoteDhPublic: Uint8Array,
): void {
  if (typeof cert !== 'object' || cert === null)
    throw new ArgumentTypeError('cert must be an object');
  assertBytes(cert.identityKey, 'cert.identityKey', KEY_BYTES);
  assertBytes(remoteDhPublic, 'remoteDhPublic', KEY_BYTES);
  if (!constantTimeEqual(cert.identityKey, remoteDhPublic)) {
    throw new InvalidCertificateError('sender certificate does not match the session identity');
  }
}
