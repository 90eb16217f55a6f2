/** In-memory adapters of every storage port. */
export { MemoryAccountStore } from './memory-account-store.ts';
export { MemoryAttachmentQuota } from './memory-attachment-quota.ts';
export { MemoryBlobStore } from './memory-blob-store.ts';
export { MemoryConnections } from './memory-connections.ts';
export { MemoryMessageIndex } from './memory-message-index.ts';
export { MemoryPrekeyStore } from './memory-prekey-store.ts';
export { MemoryPushSubscriptions } from './memory-push-subscriptions.ts';
export { MemoryRateLimiter } from './memory-rate-limiter.ts';
export { MemoryReplayStore } from './memory-replay-store.ts';
export { MemoryUploadSessions } from './memory-upload-sessions.ts';
