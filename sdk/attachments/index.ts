/**
 * Attachments (docs/PROTOCOL.md §10): files of any size encrypted on the device in chunks
 * (STREAM over AES-256-GCM with a key commitment), uploaded as opaque blobs, and described to
 * the recipient by a pointer inside the end-to-end encrypted message. Published as
 * `sealpost/attachments`.
 */
export type { ByteStream } from './byte-source.ts';
export {
  type AttachmentSecrets,
  type DecryptAttachmentBytesOptions,
  type DecryptAttachmentOptions,
  decryptAttachment,
  decryptAttachmentBytes,
} from './decrypt.ts';
export {
  type EncryptAttachmentBytesOptions,
  type EncryptAttachmentOptions,
  type EncryptedAttachment,
  encryptAttachment,
  encryptAttachmentBytes,
} from './encrypt.ts';
export { type AttachmentKeys, deriveAttachmentKeys } from './keys.ts';
export {
  ATTACHMENT_COMMITMENT_BYTES,
  ATTACHMENT_DIGEST_BYTES,
  ATTACHMENT_HEADER_BYTES,
  ATTACHMENT_KEY_BYTES,
  ATTACHMENT_MIN_PADDED_BYTES,
  ATTACHMENT_TAG_BYTES,
  ATTACHMENT_VERSION,
  type AttachmentHeader,
  type BlobLayout,
  blobLayout,
  chunkNonce,
  DEFAULT_CHUNK_SIZE_LOG2,
  encodeAttachmentHeader,
  MAX_ATTACHMENT_SIZE,
  MAX_CHUNK_SIZE_LOG2,
  MIN_CHUNK_SIZE_LOG2,
  parseAttachmentHeader,
} from './layout.ts';
export {
  ATTACHMENT_POINTER_VERSION,
  type AttachmentPointer,
  decodeAttachmentPointer,
  encodeAttachmentPointer,
  MAX_ATTACHMENT_POINTER_BYTES,
  MAX_CONTENT_TYPE_LENGTH,
  MAX_FILE_NAME_BYTES,
  MAX_THUMBNAIL_BYTES,
} from './pointer.ts';
