/**
 * HMAC, HKDF, ChaCha20-Poly1305 and AES-256-GCM of the `node:crypto` backend, straight from
 * OpenSSL. The callers (node-backend.ts, args.ts) have checked every argument; this file only
 * runs the primitives.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  type KeyObject,
} from 'node:crypto';
import { DecryptError } from '../errors.ts';
import { AEAD_TAG_BYTES, AES_GCM_TAG_BYTES } from './backend.ts';
import { plain } from './node-keys.ts';

const SHA256_BYTES = 32;

/**
 * How a raw secret key reaches `createHmac`/`createCipheriv`. Node 24 decides whether a key
 * argument is a `KeyObject` or `CryptoKey` by catching exceptions, so a plain array costs two
 * thrown errors per call; wrapping it in a `KeyObject` first takes the fast branch. Node 20 and
 * 22 are faster with the array itself. Both give the same bytes.
 */
export type SecretKeyMode = 'buffer' | 'keyObject';
export type Secret = (key: Uint8Array) => Uint8Array | KeyObject;

const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

const asBuffer: Secret = (key) => key;
const asKeyObject: Secret = (key) => createSecretKey(key);

/**
 * The way to hand raw secret keys to OpenSSL for a backend option: `auto` picks `KeyObject`s
 * on Node >= 24 and the arrays themselves on older runtimes.
 *
 * @example const secret = secretKeyHandling(options.secretKeys ?? 'auto');
 */
export function secretKeyHandling(mode: 'auto' | SecretKeyMode): Secret {
  return mode === 'keyObject' || (mode === 'auto' && NODE_MAJOR >= 24) ? asKeyObject : asBuffer;
}

/** HMAC-SHA-256 (RFC 2104) of `data`, through OpenSSL. */
export function hmacSha256(secret: Secret, key: Uint8Array, data: Uint8Array): Uint8Array {
  return plain(createHmac('sha256', secret(key)).update(data).digest());
}

/** The all-zero HKDF salt of RFC 5869 §2.2 when none is given. */
const ZERO_SALT = new Uint8Array(SHA256_BYTES);

/**
 * HKDF-SHA-256 (RFC 5869 §2.2-2.3) composed from OpenSSL's HMAC. Faster than `hkdfSync` for the
 * 32-64 byte outputs the protocol derives (it imports no key per call) and without its
 * 1,024-byte limit on `info`. Runs twice per message (docs/PROTOCOL.md §5), so the blocks
 * are written straight into the exact-size output and intermediate digests stay Buffers that
 * are zeroed here, not wrapped.
 */
export function hkdfSha256(
  secret: Secret,
  ikm: Uint8Array,
  salt: Uint8Array,
  info: Uint8Array,
  length: number,
): Uint8Array {
  const prk = createHmac('sha256', secret(salt.length === 0 ? ZERO_SALT : salt))
    .update(ikm)
    .digest();
  const prkKey = secret(prk);
  const okm = new Uint8Array(length);
  const counter = new Uint8Array(1);
  // T(0) is empty; T(i) = HMAC(PRK, T(i-1) || info || i).
  let previous: Uint8Array | undefined;
  try {
    for (let i = 1, offset = 0; offset < length; i++, offset += SHA256_BYTES) {
      counter[0] = i;
      const mac = createHmac('sha256', prkKey);
      if (previous !== undefined) mac.update(previous);
      const block = mac.update(info).update(counter).digest();
      previous?.fill(0);
      previous = block;
      const take = Math.min(SHA256_BYTES, length - offset);
      okm.set(take === SHA256_BYTES ? block : block.subarray(0, take), offset);
    }
  } finally {
    previous?.fill(0);
    prk.fill(0);
  }
  return okm;
}

/** ChaCha20-Poly1305 (RFC 8439) of `plaintext`: ciphertext || 16-byte tag. */
export function aeadSeal(
  secret: Secret,
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
): Uint8Array {
  const cipher = createCipheriv('chacha20-poly1305', secret(key), nonce, {
    authTagLength: AEAD_TAG_BYTES,
  });
  cipher.setAAD(aad, { plaintextLength: plaintext.length });
  const out = new Uint8Array(plaintext.length + AEAD_TAG_BYTES);
  out.set(cipher.update(plaintext));
  cipher.final();
  out.set(cipher.getAuthTag(), plaintext.length);
  return out;
}

/**
 * Opens a ChaCha20-Poly1305 ciphertext (RFC 8439).
 *
 * @throws {DecryptError} if it is shorter than a tag or does not authenticate.
 */
export function aeadOpen(
  secret: Secret,
  key: Uint8Array,
  nonce: Uint8Array,
  ciphertext: Uint8Array,
  aad: Uint8Array,
): Uint8Array {
  if (ciphertext.length < AEAD_TAG_BYTES) throw new DecryptError();
  const bodyLength = ciphertext.length - AEAD_TAG_BYTES;
  const decipher = createDecipheriv('chacha20-poly1305', secret(key), nonce, {
    authTagLength: AEAD_TAG_BYTES,
  });
  decipher.setAuthTag(ciphertext.subarray(bodyLength));
  decipher.setAAD(aad, { plaintextLength: bodyLength });
  const plaintext = plain(decipher.update(ciphertext.subarray(0, bodyLength)));
  try {
    decipher.final();
  } catch (cause) {
    // The tag check happens after decryption: unauthenticated plaintext must not survive.
    plaintext.fill(0);
    throw new DecryptError(undefined, { cause });
  }
  return plaintext;
}

/**
 * AES-256-GCM (NIST SP 800-38D) under one key through OpenSSL. The key becomes a `KeyObject`
 * once, whatever the backend's secret-key mode: it holds OpenSSL's own copy (the caller may
 * wipe its array) and serves every chunk of an attachment, so its cost does not matter.
 */
export function aesGcm(key: Uint8Array): {
  seal(nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
  open(nonce: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array): Uint8Array;
} {
  const keyObject = createSecretKey(key);
  const options = { authTagLength: AES_GCM_TAG_BYTES };
  return {
    seal(nonce, plaintext, aad) {
      const cipher = createCipheriv('aes-256-gcm', keyObject, nonce, options);
      cipher.setAAD(aad);
      const out = new Uint8Array(plaintext.length + AES_GCM_TAG_BYTES);
      out.set(cipher.update(plaintext));
      cipher.final();
      out.set(cipher.getAuthTag(), plaintext.length);
      return out;
    },
    open(nonce, ciphertext, aad) {
      const bodyLength = ciphertext.length - AES_GCM_TAG_BYTES;
      const decipher = createDecipheriv('aes-256-gcm', keyObject, nonce, options);
      decipher.setAuthTag(ciphertext.subarray(bodyLength));
      decipher.setAAD(aad);
      const plaintext = plain(decipher.update(ciphertext.subarray(0, bodyLength)));
      try {
        decipher.final();
      } catch (cause) {
        // GCM decrypts before it checks the tag: unauthenticated plaintext must not survive.
        plaintext.fill(0);
        throw new DecryptError(undefined, { cause });
      }
      return plaintext;
    },
  };
}
