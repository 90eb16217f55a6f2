/**
 * Sealpost SDK: end-to-end encryption for the Sealpost mailbox service. All cryptography runs
 * here; the service only ever sees ciphertext (docs/PROTOCOL.md).
 *
 * Subpaths: `sealpost/wire` (codecs), `sealpost/file-store` (Node durable state),
 * `sealpost/attachments` (attachment encryption and pointers, docs/PROTOCOL.md §10).
 */

export {
  type AttachmentPointer,
  type BlobLayout,
  blobLayout,
  DEFAULT_CHUNK_SIZE_LOG2,
  MAX_ATTACHMENT_SIZE,
} from './attachments/index.ts';
export * from './client/index.ts';
export {
  type CryptoBackend,
  defaultBackend,
  nobleBackend,
  type Rng,
  systemRng,
  webBackend,
} from './crypto/index.ts';
export * from './errors.ts';
export {
  type TrustConfig,
  validateModeratorCertificate,
  validateSenderCertificate,
} from './protocol/certificates.ts';
export { type DeviceChange, StaleDeviceLinkError } from './protocol/contacts.ts';
export {
  type EngineOptions,
  type MessageHandler,
  ProtocolEngine,
  type ReceivedMessage,
  type StartedSession,
  type UnsealOptions,
} from './protocol/engine.ts';
export type { ModeratorKey, ReceivedFranking } from './protocol/engine-franking.ts';
export { type AccountKey, address, verifyIdentityBundle } from './protocol/identity.ts';
export type { PrekeyRequest, PrekeyUpload } from './protocol/prekey-manager.ts';
export { compareScannable, type SafetyNumber, safetyNumber } from './protocol/safety-number.ts';
export type { PeerAddress } from './protocol/session-cipher.ts';
export { MemoryStore } from './state/memory-store.ts';
export {
  type StateStore,
  StoreConflictError,
  type StoreNamespace,
  type StoreOp,
} from './state/store.ts';
export { TokenError, type TokenErrorCode } from './tokens/errors.ts';
export {
  ArgumentRangeError,
  ArgumentTypeError,
  INVALID_ARGUMENT,
} from './util/argument-errors.ts';
export { fromBase64Url, toBase64Url, utf8 } from './util/bytes.ts';
export type { IdentityBundle } from './wire/identity.ts';
export type { PrekeyBundle } from './wire/prekeys.ts';
