/**
 * OpenSSL's ML-KEM-1024 for the `node:crypto` backend, where the runtime has it (Node >= 24
 * built with OpenSSL 3.5). It gives the same bytes as noble's (docs/PROTOCOL.md §2.2), which
 * is checked once before it is used.
 */
import { Buffer } from 'node:buffer';
import * as nodeCrypto from 'node:crypto';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { InvalidKeyError } from '../errors.ts';
import { constantTimeEqual, fromHex } from '../util/bytes.ts';
import { withDerPrefix } from '../util/der.ts';
import { MLKEM_ENCAPS_SEED_BYTES } from './backend.ts';
import { nobleMlKem, nobleSymmetric } from './noble-backend.ts';
import { plain, withoutStackTraces } from './node-keys.ts';

/** `crypto.encapsulate` / `crypto.decapsulate`: Node >= 24 built with OpenSSL 3.5. */
interface NodeKemApi {
  encapsulate(key: KeyObject): { sharedKey: Buffer; ciphertext: Buffer };
  decapsulate(key: KeyObject, ciphertext: Uint8Array): Buffer;
}

/**
 * DER wrappers for raw ML-KEM-1024 keys (the IETF LAMPS X.509 profile for ML-KEM, algorithm
 * `id-alg-ml-kem-1024` = 2.16.840.1.101.3.4.4.3): SubjectPublicKeyInfo with the 1,568-byte key
 * in the BIT STRING, and PKCS#8 with the `expandedKey` choice (the 3,168-byte decapsulation key
 * of FIPS 203, the form noble and our prekey records use).
 */
const MLKEM1024_SPKI_PREFIX = fromHex('30820632300b06096086480165030404030382062100');
const MLKEM1024_PKCS8_PREFIX = fromHex('30820c78020100300b060960864801650304040304820c6404820c60');

/** ML-KEM-1024 encapsulation with the implementation's own randomness, and decapsulation. */
interface KemOps {
  encapsulate(publicKey: Uint8Array): { cipherText: Uint8Array; sharedSecret: Uint8Array };
  decapsulate(cipherText: Uint8Array, secretKey: Uint8Array): Uint8Array;
}

/** OpenSSL's ML-KEM-1024, with the verdict of its one-time check against noble. */
export interface NativeMlKem extends KemOps {
  /** Whether it agrees with noble (checked on the first call, then remembered). */
  works(): boolean;
}

/** `prefix || raw` as a Buffer over a fresh array (wiped by the caller when it holds a secret). */
function withPrefix(prefix: Uint8Array, raw: Uint8Array): Buffer {
  const der = withDerPrefix(prefix, raw);
  return Buffer.from(der.buffer, der.byteOffset, der.byteLength);
}

/**
 * OpenSSL's ML-KEM-1024, or undefined when the runtime has none. Whether it agrees with noble
 * is checked once, on first use, with a fixed key and message: OpenSSL decapsulates noble's
 * ciphertext to noble's secret and noble decapsulates OpenSSL's. Until then, and forever if
 * the check fails, the backend uses noble.
 */
export function nativeMlKem(): NativeMlKem | undefined {
  const api = nodeCrypto as unknown as Partial<NodeKemApi>;
  const { encapsulate, decapsulate } = api;
  if (typeof encapsulate !== 'function' || typeof decapsulate !== 'function') return undefined;
  let verdict: boolean | undefined;

  function importPublic(publicKey: Uint8Array): KeyObject {
    const key = withPrefix(MLKEM1024_SPKI_PREFIX, publicKey);
    try {
      return withoutStackTraces(() => createPublicKey({ key, format: 'der', type: 'spki' }));
    } catch (cause) {
      // OpenSSL runs the FIPS 203 §7.2 modulus check when it parses the key.
      throw new InvalidKeyError('invalid ML-KEM public key', { cause });
    }
  }

  function importSecret(secretKey: Uint8Array): KeyObject {
    const der = withPrefix(MLKEM1024_PKCS8_PREFIX, secretKey);
    try {
      return withoutStackTraces(() => createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
    } catch (cause) {
      // FIPS 203 §7.3 input check: H(ek) inside the decapsulation key does not match ek.
      throw new InvalidKeyError('invalid ML-KEM secret key', { cause });
    } finally {
      der.fill(0);
    }
  }

  const impl: NativeMlKem = {
    encapsulate(publicKey) {
      const { sharedKey, ciphertext } = encapsulate(importPublic(publicKey));
      return { cipherText: plain(ciphertext), sharedSecret: plain(sharedKey) };
    },
    decapsulate(cipherText, secretKey) {
      return plain(decapsulate(importSecret(secretKey), cipherText));
    },
    works() {
      verdict ??= agreesWithNoble(impl);
      return verdict;
    },
  };
  return impl;
}

function agreesWithNoble(impl: KemOps): boolean {
  try {
    const seed = new Uint8Array(64).map((_, i) => i);
    const message = new Uint8Array(MLKEM_ENCAPS_SEED_BYTES).fill(0x5a);
    const { publicKey, secretKey } = nobleSymmetric.mlkemKeygen(seed);
    const ours = nobleMlKem.encapsulate(publicKey, message);
    const theirs = impl.encapsulate(publicKey);
    return (
      constantTimeEqual(impl.decapsulate(ours.cipherText, secretKey), ours.sharedSecret) &&
      constantTimeEqual(nobleMlKem.decapsulate(theirs.cipherText, secretKey), theirs.sharedSecret)
    );
  } catch {
    return false;
  }
}
