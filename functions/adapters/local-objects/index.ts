/** The local object service (attachments outside AWS): see local-object-service.ts. */
export { DirectoryObjectStorage } from './directory-object-storage.ts';
export {
  LocalAttachmentObjects,
  type LocalAttachmentObjectsOptions,
} from './local-attachment-objects.ts';
export {
  createLocalObjectService,
  type LocalObjectService,
  type LocalObjectServiceOptions,
  withObjectService,
} from './local-object-service.ts';
export {
  ATTACHMENT_KEY_PREFIX,
  attachmentKey,
  OBJECT_SECRET_BYTES,
  OBJECTS_PATH,
  ObjectSigner,
} from './object-signing.ts';
export { MemoryObjectStorage, type ObjectStorage, type PartRecord } from './object-storage.ts';
export {
  createObjectTransfer,
  FORM_OVERHEAD_BYTES,
  isObjectRequest,
  type ObjectTransferOptions,
} from './object-transfer.ts';
