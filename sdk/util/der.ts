/**
 * Fixed DER wrappers for raw 32-byte curve keys (RFC 8410 §7 and §4): runtimes that import
 * keys as PKCS#8 or SubjectPublicKeyInfo take `prefix || raw key`, so no ASN.1 encoder is
 * needed. Shared by the SDK's native backends and the service's signing code.
 */
import { concatBytes, fromHex } from './bytes.ts';

/** PKCS#8 `PrivateKeyInfo` prefix of a raw X25519 private key (RFC 8410 §7). */
export const X25519_PKCS8_PREFIX: Uint8Array = fromHex('302e020100300506032b656e04220420');
/** PKCS#8 `PrivateKeyInfo` prefix of a raw Ed25519 seed (RFC 8410 §7). */
export const ED25519_PKCS8_PREFIX: Uint8Array = fromHex('302e020100300506032b657004220420');
/** `SubjectPublicKeyInfo` prefix of a raw Ed25519 public key (RFC 8410 §4). */
export const ED25519_SPKI_PREFIX: Uint8Array = fromHex('302a300506032b6570032100');

/** The PKCS#8 prefixes by curve name, as WebCrypto and `node:crypto` name the curves. */
export const PKCS8_PREFIX: Readonly<Record<'X25519' | 'Ed25519', Uint8Array>> = {
  X25519: X25519_PKCS8_PREFIX,
  Ed25519: ED25519_PKCS8_PREFIX,
};

/**
 * `prefix || raw` in a new array. For private keys the caller wipes the result after the
 * import (it holds the key).
 *
 * @example
 * const der = withDerPrefix(ED25519_PKCS8_PREFIX, seed);
 * try { importPkcs8(der); } finally { der.fill(0); }
 */
export function withDerPrefix(prefix: Uint8Array, raw: Uint8Array): Uint8Array {
  return concatBytes(prefix, raw);
}
