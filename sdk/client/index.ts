/** The SDK client: `SealpostClient`, its typed HTTP client and its errors (docs/SDK.md). */

export type { FirstContactMode } from '../wire/api/schemas.ts';
export {
  ABORT_TIMEOUT_MS,
  type AttachmentData,
  type AttachmentInput,
  DEFAULT_CONTENT_TYPE,
  DOWNLOAD_ATTEMPTS,
  type DownloadOptions,
  MIN_TRANSFER_RATE,
  PART_ATTEMPTS,
  type PendingUpload,
  type ReceivedAttachment,
  type TransferProgress,
  type UploadedAttachment,
  type UploadOptions,
} from './attachments/index.ts';
export type { CallOptions, RequestEvent, RequestObserver } from './call-options.ts';
export { CERTIFICATE_REFRESH_MARGIN_MS } from './certificate-cache.ts';
export {
  type ClientOptions,
  type ContactCard,
  type MessageContent,
  SealpostClient,
  type SendOptions,
  type SendResult,
  type TrustInput,
} from './client.ts';
export type { ClientCounters, KnownDevice } from './client-state.ts';
export { MAX_ATTACHMENTS, MAX_MESSAGE_BYTES } from './content.ts';
export {
  AbortedError,
  AccountKeyRequiredError,
  ApiError,
  AttachmentNotFoundError,
  AttachmentResumeMismatchError,
  BlockedContactError,
  type ClientErrorCode,
  type ClientOnlyErrorCode,
  ClockSkewError,
  DeviceIdTakenError,
  DeviceMismatchError,
  DeviceRemovedError,
  deviceRefusalFor,
  InvalidResponseError,
  type MultiRecipientAccountError,
  NetworkError,
  type NetworkErrorDetails,
  NoTokensError,
  NotRegisteredError,
  ReportUnavailableError,
  RequestLimitError,
  SealedSendUnauthorizedError,
  SealpostClientError,
  SenderSuspendedError,
  SendFailedError,
  StaleDevicesError,
  TimeoutError,
  type TokenKeysRefusal,
  TokenKeysRefusedError,
  TransferFailedError,
  type TransferFailureDetails,
} from './errors.ts';
export {
  type FetchLike,
  type HttpClientOptions,
  type LinkBody,
  MAX_FETCH_ACK_IDS,
  type ProofBody,
  type SealedAuth,
  type SealedReadAuth,
  SealpostHttpClient,
} from './http-client.ts';
export type { KeyUpdateFlush } from './key-rotation.ts';
export {
  DEFAULT_SYNC_DELAY_MS,
  type OutboxFlush,
  type OutboxOptions,
  type OutboxTimer,
} from './outbox.ts';
export {
  type PrekeyMaintenance,
  type PrekeyPolicy,
  SIGNED_PREKEY_ROTATION_MS,
} from './prekey-maintenance.ts';
export {
  type PushRegistrationLike,
  type PushSubscribeOptions,
  type PushSubscriptionJson,
  type PushSubscriptionLike,
  pushSubscriptionBody,
  type SubscribePushOptions,
} from './push.ts';
export { type ConnectionState, SOCKET_FAILURES_BEFORE_POLLING } from './realtime-loop.ts';
export {
  CONNECT_TIMEOUT_MS,
  KEEPALIVE_INTERVAL_MS,
  MAX_CONNECTION_AGE_MS,
  type WebSocketConstructorLike,
  type WebSocketLike,
} from './realtime-socket.ts';
export {
  DEFAULT_RECEIVE_BACKOFF,
  EXIT_ACK_TIMEOUT_MS,
  type ReceiveBackoff,
  type ReceiveBatch,
  type ReceiveOptions,
  type ReceiveRetry,
  type ReceiveStreamOptions,
} from './receive-loop.ts';
export type { AppHandler, IncomingMessage, ReceiveFailure } from './receiver.ts';
export { CLIENT_CAPABILITIES, deriveAccessKey } from './registration.ts';
export {
  DEFAULT_MAX_REPORTABLE_MESSAGES,
  DEFAULT_REPORT_RETENTION_DAYS,
  MAX_REPORT_RETENTION_DAYS,
  MAX_REPORTABLE_MESSAGES_LIMIT,
} from './report-store.ts';
export type { ReportOptions, ReportReason, ReportResult, ReportTarget } from './reporting.ts';
export { type RequestSigner, seedSigner, signRequest } from './request-signing.ts';
export { DEFAULT_REVOCATION_REFRESH_MS } from './revocations.ts';
export type { DeviceChangeListener } from './sender-check.ts';
export {
  DEFAULT_MAX_REFILL_DELAY_MS,
  DEFAULT_MIN_REFILL_DELAY_MS,
  DEFAULT_TOKEN_BATCH,
  DEFAULT_TOKEN_LOW_WATER,
  MAX_HELD_TOKENS,
  type TokenOptions,
} from './token-wallet.ts';
