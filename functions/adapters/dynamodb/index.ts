/** DynamoDB adapters of the storage ports. */
export { DynamoAccountStore } from './dynamo-account-store.ts';
export { DynamoAttachmentQuota } from './dynamo-attachment-quota.ts';
export { DynamoAuditLog } from './dynamo-audit-log.ts';
export { DynamoBlockStore } from './dynamo-block-store.ts';
export { DynamoConnections } from './dynamo-connections.ts';
export { DynamoMessageIndex } from './dynamo-message-index.ts';
export { DynamoPayloadRefs, type RefsRelease } from './dynamo-payload-refs.ts';
export { DynamoPrekeyStore } from './dynamo-prekey-store.ts';
export { DynamoPushSubscriptions } from './dynamo-push-subscriptions.ts';
export { DynamoRateLimiter } from './dynamo-rate-limiter.ts';
export { DynamoReplayStore } from './dynamo-replay-store.ts';
export { DynamoReports } from './dynamo-reports.ts';
export { DynamoSpentTokens } from './dynamo-spent-tokens.ts';
export { DynamoSuspensions } from './dynamo-suspensions.ts';
export { DynamoTokenKeys } from './dynamo-token-keys.ts';
export { DynamoTokenQuota } from './dynamo-token-quota.ts';
export { DynamoUploadSessions } from './dynamo-upload-sessions.ts';
