/**
 * The SDK's one error root. Every error the SDK throws is a {@link SealpostError} with a stable
 * machine-readable `code`: the protocol and domain errors below, argument errors
 * (`ArgumentTypeError`/`ArgumentRangeError`, code `INVALID_ARGUMENT`, in
 * util/argument-errors.ts), the file store's `FileStoreError` and the HTTP client's
 * `SealpostClientError` family (each with its own code union).
 *
 * Messages never contain key material, plaintext or which exact check failed on a
 * decryption path (a remote party must not learn it).
 */
import type { IdentityBundle } from './wire/identity-bundle.ts';

/** Every error code the SDK raises. Stable: apps switch on these. */
export type SealpostErrorCode =
  | 'DECRYPT_FAILED'
  | 'UNTRUSTED_IDENTITY'
  | 'IDENTITY_CHANGED'
  | 'INVALID_CERTIFICATE'
  | 'INVALID_SIGNATURE'
  | 'INVALID_KEY'
  | 'INVALID_BUNDLE'
  | 'DUPLICATE_MESSAGE'
  | 'MALFORMED_ENVELOPE'
  | 'UNSUPPORTED_VERSION'
  | 'NO_SESSION'
  | 'INVALID_MESSAGE'
  | 'TOO_MANY_SKIPPED'
  | 'PREKEY_NOT_FOUND'
  | 'STATE_CORRUPT'
  | 'CRYPTO_UNAVAILABLE'
  | 'STORE_CONFLICT'
  | 'STALE_DEVICE_LINK'
  | 'INVALID_ARGUMENT'
  | 'ATTACHMENT_CORRUPT'
  | 'ATTACHMENT_KEY_MISMATCH'
  | 'ATTACHMENT_DIGEST_MISMATCH'
  | 'ATTACHMENT_SIZE_MISMATCH'
  | 'UNREPORTABLE_MESSAGE'
  | 'FRANKING_UNAVAILABLE';

/**
 * Base class of every error the SDK throws. `Code` is the union of codes a family of errors
 * uses ({@link SealpostErrorCode} for the protocol and argument errors); catch one root,
 * then switch on `code` or test a subclass.
 *
 * @example
 * try {
 *   await engine.decrypt(sender, message);
 * } catch (err) {
 *   if (err instanceof SealpostError && err.code === 'DUPLICATE_MESSAGE') return;
 *   throw err;
 * }
 */
export class SealpostError<Code extends string = SealpostErrorCode> extends Error {
  readonly code: Code;
  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A ciphertext did not authenticate or decrypt. Never says which check failed. */
export class DecryptError extends SealpostError {
  constructor(message = 'message could not be decrypted', options?: { cause?: unknown }) {
    super('DECRYPT_FAILED', message, options);
  }
}

/** A peer's identity does not match what it must be (self-certifying address, pinned key). */
export class UntrustedIdentityError extends SealpostError {
  readonly address: string;
  constructor(address: string, message = 'identity key does not match the address') {
    super('UNTRUSTED_IDENTITY', message);
    this.address = address;
  }
}

/**
 * A known contact device now presents a different identity key. Nothing was sent or accepted;
 * after the user confirms (safety numbers), pass `identity` to the engine's `confirmIdentity`.
 */
export class IdentityChangedError extends SealpostError {
  readonly address: string;
  readonly deviceId: number;
  /** The new identity the device presents (public keys only). */
  readonly identity: IdentityBundle | undefined;
  constructor(address: string, deviceId: number, identity?: IdentityBundle) {
    super('IDENTITY_CHANGED', `identity key of ${address}.${deviceId} changed`);
    this.address = address;
    this.deviceId = deviceId;
    this.identity = identity;
  }
}

/** A sender or server certificate failed verification (signature, root, expiry, revocation, key). */
export class InvalidCertificateError extends SealpostError {
  constructor(message = 'invalid certificate', options?: { cause?: unknown }) {
    super('INVALID_CERTIFICATE', message, options);
  }
}

/** A signature over a key or bundle did not verify. */
export class InvalidSignatureError extends SealpostError {
  constructor(message = 'invalid signature') {
    super('INVALID_SIGNATURE', message);
  }
}

/** A public key is malformed or of low order. */
export class InvalidKeyError extends SealpostError {
  constructor(message = 'invalid key', options?: { cause?: unknown }) {
    super('INVALID_KEY', message, options);
  }
}

/** A prekey bundle is malformed or does not verify. */
export class InvalidBundleError extends SealpostError {
  constructor(message = 'invalid prekey bundle', options?: { cause?: unknown }) {
    super('INVALID_BUNDLE', message, options);
  }
}

/** The message was already decrypted once (replay or redelivery). */
export class DuplicateMessageError extends SealpostError {
  constructor(message = 'duplicate message') {
    super('DUPLICATE_MESSAGE', message);
  }
}

/** Bytes do not parse as the expected wire structure. */
export class MalformedEnvelopeError extends SealpostError {
  constructor(message = 'malformed envelope', options?: { cause?: unknown }) {
    super('MALFORMED_ENVELOPE', message, options);
  }
}

/** A version byte names a version this SDK does not speak. */
export class UnsupportedVersionError extends SealpostError {
  readonly version: number;
  constructor(version: number, what = 'message') {
    super('UNSUPPORTED_VERSION', `unsupported ${what} version ${version}`);
    this.version = version;
  }
}

/** No session exists with the peer and the message cannot start one. */
export class NoSessionError extends SealpostError {
  constructor(message = 'no session with this peer') {
    super('NO_SESSION', message);
  }
}

/** A message is well-formed but not acceptable (counter out of window, bad key id, …). */
export class InvalidMessageError extends SealpostError {
  constructor(message = 'invalid message', options?: { cause?: unknown }) {
    super('INVALID_MESSAGE', message, options);
  }
}

/** A message jumps further ahead than the ratchet allows, or too many keys would be stored. */
export class TooManySkippedError extends SealpostError {
  constructor(message = 'message counter too far ahead') {
    super('TOO_MANY_SKIPPED', message);
  }
}

/** A prekey named by a message is not (or no longer) in the local store. */
export class PrekeyNotFoundError extends SealpostError {
  constructor(message = 'prekey not found') {
    super('PREKEY_NOT_FOUND', message);
  }
}

/** A stored record cannot be decoded. */
export class StateCorruptError extends SealpostError {
  constructor(message = 'stored state is corrupt', options?: { cause?: unknown }) {
    super('STATE_CORRUPT', message, options);
  }
}

/** The selected crypto backend cannot do what was asked on this runtime. */
export class CryptoUnavailableError extends SealpostError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CRYPTO_UNAVAILABLE', message, options);
  }
}

/**
 * A conditional store commit lost a race: a record changed since its writer read it (another
 * engine or process over the same state, docs/PROTOCOL.md §9.1). Nothing of the commit was
 * applied; the engine re-reads and retries a bounded number of times before raising it.
 */
export class StoreConflictError extends SealpostError {
  readonly ns: string;
  readonly key: string;
  constructor(ns: string, key: string) {
    super('STORE_CONFLICT', 'a record changed since it was read; nothing was committed');
    this.ns = ns;
    this.key = key;
  }
}

/**
 * A contact device presented a link that is not newer than its pinned one (an older or equal
 * link epoch with other keys): a replayed link of a removed device, or one identity served
 * under two ids. Nothing was sent or accepted (docs/PROTOCOL.md §9.6).
 */
export class StaleDeviceLinkError extends SealpostError {
  readonly address: string;
  readonly deviceId: number;
  constructor(address: string, deviceId: number) {
    super('STALE_DEVICE_LINK', `device link of ${address}.${deviceId} is not newer than the pin`);
    this.address = address;
    this.deviceId = deviceId;
  }
}

/**
 * An attachment blob is not what its pointer describes: a bad header, a chunk that does not
 * authenticate, a missing, extra, reordered, duplicated or truncated chunk, or padding that is
 * not zero (docs/PROTOCOL.md §10.5). Never says which; plaintext released before it came from
 * chunks that had verified.
 */
export class AttachmentCorruptError extends SealpostError {
  constructor(message = 'attachment is corrupt', options?: { cause?: unknown }) {
    super('ATTACHMENT_CORRUPT', message, options);
  }
}

/**
 * The blob commits to another key than the pointer's: it was encrypted under a different
 * attachment key (docs/PROTOCOL.md §10.3). Nothing was decrypted.
 */
export class AttachmentKeyMismatchError extends SealpostError {
  constructor(message = 'attachment was encrypted under another key') {
    super('ATTACHMENT_KEY_MISMATCH', message);
  }
}

/**
 * Every chunk authenticated but the blob's SHA-256 is not the pointer's digest: another blob
 * under the same key. The final chunk's plaintext was withheld.
 */
export class AttachmentDigestMismatchError extends SealpostError {
  constructor(message = 'attachment does not match its digest') {
    super('ATTACHMENT_DIGEST_MISMATCH', message);
  }
}

/**
 * The plaintext to encrypt was longer or shorter than the size it was declared with; the blob
 * stream stopped before its final chunk, so no complete blob came out.
 */
export class AttachmentSizeError extends SealpostError {
  /** The declared size. */
  readonly expected: number;
  constructor(expected: number, message = `attachment source did not yield ${expected} bytes`) {
    super('ATTACHMENT_SIZE_MISMATCH', message);
    this.expected = expected;
  }
}

/**
 * A received message whose report would not verify (PROTOCOL.md §11.5): its commitment does not
 * open to the plaintext, its franking signatures do not verify for this device under a moderator
 * key it holds, or it holds none. The message is dropped unseen, so no sender can send
 * content that escapes reporting. `reason` is one of the fixed strings below.
 */
export class UnreportableMessageError extends SealpostError {
  /** Which check failed: `moderator key`, `commitment`, `signature` or (client) `stamp`. */
  readonly reason: 'moderator key' | 'commitment' | 'signature' | 'stamp';
  constructor(reason: 'moderator key' | 'commitment' | 'signature' | 'stamp') {
    super('UNREPORTABLE_MESSAGE', `message is not reportable (${reason})`);
    this.reason = reason;
  }
}

/**
 * A message cannot be franked: no valid moderator certificate is set, or the recipient device's
 * franking key is unknown (PROTOCOL.md §11.5). Nothing was encrypted.
 */
export class FrankingUnavailableError extends SealpostError {
  constructor(message: string) {
    super('FRANKING_UNAVAILABLE', message);
  }
}
