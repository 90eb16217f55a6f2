/** In-memory adapters of every storage port. */
export { MemoryAccountStore } from './memory-account-store.ts';
export { MemoryAttachmentQuota } from './memory-attachment-quota.ts';
export { MemoryAuditLog } from './memory-audit-log.ts';
export { MemoryBlobStore } from './memory-blob-store.ts';
export { MemoryBlockStore } from './memory-block-store.ts';
export { MemoryConnections } from './memory-connections.ts';
export { MemoryMessageIndex } from './memory-message-index.ts';
export { MemoryPrekeyStore } from './memory-prekey-store.ts';
export { MemoryPushSubscriptions } from './memory-push-subscriptions.ts';
export { MemoryRateLimiter } from './memory-rate-limiter.ts';
export { MemoryReplayStore } from './memory-replay-store.ts';
export { MemoryReports } from './memory-reports.ts';
export { MemorySpentTokens } from './memory-spent-tokens.ts';
export { MemorySuspensions } from './memory-suspensions.ts';
export { MemoryTokenKeys } from './memory-token-keys.ts';
export { MemoryTokenQuota } from './memory-token-quota.ts';
export { MemoryUploadSessions } from './memory-upload-sessions.ts';
