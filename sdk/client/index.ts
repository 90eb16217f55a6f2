/** The SDK client: `SealpostClient`, its typed HTTP client and its errors (docs/SDK.md). */

export { CERTIFICATE_REFRESH_MARGIN_MS } from './certificate-cache.ts';
export {
  type ClientOptions,
  type ContactCard,
  SealpostClient,
  type SendResult,
  type TrustInput,
} from './client.ts';
export type { KnownDevice } from './client-state.ts';
export { MAX_MESSAGE_BYTES } from './content.ts';
export {
  AccountKeyRequiredError,
  ApiError,
  type ClientErrorCode,
  type ClientOnlyErrorCode,
  ClockSkewError,
  DeviceIdTakenError,
  DeviceMismatchError,
  DeviceRemovedError,
  InvalidResponseError,
  NetworkError,
  NotRegisteredError,
  SealedSendUnauthorizedError,
  SealpostClientError,
  SendFailedError,
  StaleDevicesError,
} from './errors.ts';
export { type FetchLike, type HttpClientOptions, SealpostHttpClient } from './http-client.ts';
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
export type { ReceiveBatch, ReceiveOptions } from './receive-loop.ts';
export type { AppHandler, IncomingMessage, ReceiveFailure } from './receiver.ts';
export { deriveAccessKey } from './registration.ts';
export { type RequestSigner, seedSigner, signRequest } from './request-signing.ts';
export type { DeviceChangeListener } from './sender-check.ts';
