/**
 * The route table of the service API (docs/SERVICE.md §2): one entry per operation, keyed by its
 * operation id, naming its method, path, authentication, retry safety and schemas. Everything
 * else is derived from it: the server mounts one handler per entry (`functions/api/app.ts`),
 * `GET /openapi.json` is generated from it, and the SDK's HTTP client takes its operation ids,
 * path parameters and response types from it (`./route-types.ts`).
 */
import * as v from 'valibot';
import type { ApiErrorCode } from './errors.ts';
import { AddressField, AttachmentIdField, DeviceIdParam } from './fields.ts';
import {
  AccountSettingsSchema,
  AckRequestSchema,
  AckResponseSchema,
  AddDeviceRequestSchema,
  AttachmentAbortedSchema,
  AttachmentCompletedSchema,
  AttachmentCreatedSchema,
  AttachmentDownloadSchema,
  BlockAddedSchema,
  BlockListSchema,
  BlockRemovedSchema,
  BundleResponseSchema,
  CreateAttachmentRequestSchema,
  DeviceListSchema,
  DeviceRegisteredSchema,
  DeviceRemovedSchema,
  FetchQuerySchema,
  FetchResponseSchema,
  HealthSchema,
  PrekeyCountSchema,
  PrekeyUploadSchema,
  PushKeySchema,
  PushSubscribedSchema,
  PushSubscriptionSchema,
  PushUnsubscribedSchema,
  RegisterRequestSchema,
  ReportRequestSchema,
  ReportResponseSchema,
  RevocationsResponseSchema,
  SenderCertificateResponseSchema,
  SendRequestSchema,
  SendResponseSchema,
  ServerCertificateResponseSchema,
  TokenIssueRequestSchema,
  TokenIssueResponseSchema,
  TokenKeysResponseSchema,
  UploadStatusSchema,
} from './schemas.ts';

/**
 * How a route authenticates: `none`; `owner` (device-signed request headers); `accessKey`
 * (anonymous: the recipient's delivery access key header, or an anonymous token header for a
 * recipient that takes message requests, or nothing for one that takes anyone's; sealed send
 * and sealed bundle fetch; the sealed device-list read takes no token, see
 * {@link RouteSpec.noToken}); `proof` (account-key proof of possession in the body).
 */
export type RouteAuth = 'none' | 'owner' | 'accessKey' | 'proof';

/** One operation of the API; its operation id is its key in {@link ROUTE_TABLE}. */
export interface RouteSpec {
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** OpenAPI path template (`{address}` style). */
  readonly path: string;
  readonly auth: RouteAuth;
  /**
   * An `accessKey` route that takes no anonymous token (the sealed device-list read): only the
   * access key, or nothing for an `anyone` account; a token header is refused like a wrong key.
   */
  readonly noToken?: boolean;
  /**
   * The route may need the account key's co-signature (`x-sealpost-account-signature` over
   * `accountRequestPayload`) besides the owner signature: removing another device.
   */
  readonly accountCoSignature?: boolean;
  /**
   * Repeating the request after an unknown outcome (a dropped connection, a timeout, a 503)
   * cannot do anything twice: reads; registration and linking (the same device answers its
   * existing id); sends (deduplicated by their request id, docs/SERVICE.md §7.1);
   * acknowledgements; uploads (an existing prekey id is overwritten); settings; sender
   * certificates. The SDK's HTTP client retries only these after an unknown outcome.
   */
  readonly idempotent: boolean;
  /** The JSON body, or {@link NO_BODY} for a route that refuses one. */
  readonly request: v.GenericSchema;
  /** The query parameters (as text, read by the schema), or {@link NO_QUERY}. */
  readonly query: v.GenericSchema;
  readonly response: v.GenericSchema;
  /** Error codes the route can answer besides the generic ones (400, 413, 415, 500, 503). */
  readonly errors: readonly ApiErrorCode[];
}

/** The request schema of a route without a body: any body is refused (`400`). */
export const NO_BODY = v.undefined();

/** Media type of the multi-recipient request body (docs/PROTOCOL.md §14.4). */
export const MULTI_RECIPIENT_CONTENT_TYPE = 'application/vnd.sealpost.multi-recipient';

/**
 * The request schema of a route whose body is binary ({@link MULTI_RECIPIENT_CONTENT_TYPE}):
 * the server hands the raw bytes to the handler, which decodes them with
 * `decodeMultiRecipientRequest`; any other content type is `415`.
 */
export const BINARY_BODY = v.instance(Uint8Array);

/** The query schema of a route that reads no query parameters (others are ignored). */
export const NO_QUERY = v.object({});

/**
 * The schema of every path parameter, by the name its `{name}` placeholder uses. Path segments
 * arrive as text; `deviceId` is read as an integer.
 */
export const PATH_PARAMS = {
  address: AddressField,
  deviceId: DeviceIdParam,
  attachmentId: AttachmentIdField,
} as const;

const OWNER_ERRORS = ['UNAUTHORIZED', 'CLOCK_SKEW'] as const;

/**
 * Every operation of API version 1. `as const` keeps each entry's literal method, path and
 * schema types, from which `./route-types.ts` derives request and response types.
 */
export const ROUTE_TABLE = {
  health: {
    method: 'GET',
    path: '/v1/health',
    auth: 'none',
    idempotent: true,
    request: NO_BODY,
    query: NO_QUERY,
    response: HealthSchema,
    errors: [],
  },
  registerAccount: {
    method: 'PUT',
    path: '/v1/accounts/{address}',
    auth: 'proof',
    idempotent: true,
    request: RegisterRequestSchema,
    query: NO_QUERY,
    response: DeviceRegisteredSchema,
    errors: ['INVALID_SIGNATURE', 'ACCOUNT_EXISTS', 'CLOCK_SKEW'],
  },
  addDevice: {
    method: 'POST',
    path: '/v1/accounts/{address}/devices',
    auth: 'proof',
    idempotent: true,
    request: AddDeviceRequestSchema,
    query: NO_QUERY,
    response: DeviceRegisteredSchema,
    errors: [
      'INVALID_SIGNATURE',
      'NOT_FOUND',
      'DEVICE_LIMIT',
      'DEVICE_ID_TAKEN',
      'UNAUTHORIZED',
      'CLOCK_SKEW',
    ],
  },
  listDevices: {
    method: 'GET',
    path: '/v1/accounts/{address}/devices',
    auth: 'owner',
    idempotent: true,
    request: NO_BODY,
    query: NO_QUERY,
    response: DeviceListSchema,
    errors: [...OWNER_ERRORS, 'NOT_FOUND', 'RATE_LIMITED'],
  },
  removeDevice: {
    method: 'DELETE',
    path: '/v1/devices/{deviceId}',
    auth: 'owner',
    idempotent: false,
    accountCoSignature: true,
    request: NO_BODY,
    query: NO_QUERY,
    response: DeviceRemovedSchema,
    errors: [...OWNER_ERRORS, 'FORBIDDEN', 'NOT_FOUND'],
  },
  updateSettings: {
    method: 'PUT',
    path: '/v1/account/settings',
    auth: 'owner',
    idempotent: true,
    request: AccountSettingsSchema,
    query: NO_QUERY,
    response: AccountSettingsSchema,
    errors: OWNER_ERRORS,
  },
  blockAccount: {
    method: 'PUT',
    path: '/v1/account/blocks/{address}',
    auth: 'owner',
    idempotent: true,
    request: NO_BODY,
    query: NO_QUERY,
    response: BlockAddedSchema,
    errors: [...OWNER_ERRORS, 'BLOCK_LIMIT'],
  },
  unblockAccount: {
    method: 'DELETE',
    path: '/v1/account/blocks/{address}',
    auth: 'owner',
    idempotent: true,
    request: NO_BODY,
    query: NO_QUERY,
    response: BlockRemovedSchema,
    errors: OWNER_ERRORS,
  },
  listBlocked: {
    method: 'GET',
    path: '/v1/account/blocks',
    auth: 'owner',
    idempotent: true,
    request: NO_BODY,
    query: NO_QUERY,
    response: BlockListSchema,
    errors: OWNER_ERRORS,
  },
  uploadPrekeys: {
    method: 'PUT',
    path: '/v1/prekeys',
    auth: 'owner',
    idempotent: true,
    request: PrekeyUploadSchema,
    query: NO_QUERY,
    response: PrekeyCountSchema,
    errors: [...OWNER_ERRORS, 'INVALID_SIGNATURE', 'PREKEY_LIMIT'],
  },
  countPrekeys: {
    method: 'GET',
    path: '/v1/prekeys/count',
    auth: 'owner',
    idempotent: true,
    request: NO_BODY,
    query: NO_QUERY,
    response: PrekeyCountSchema,
    errors: OWNER_ERRORS,
  },
  fetchBundles: {
    method: 'GET',
    path: '/v1/bundles/{address}',
    auth: 'owner',
    idempotent: true,
    request: NO_BODY,
    query: NO_QUERY,
    response: BundleResponseSchema,
    errors: [...OWNER_ERRORS, 'NOT_FOUND', 'RATE_LIMITED'],
  },
  fetchDeviceBundle: {
    method: 'GET',
    path: '/v1/bundles/{address}/{deviceId}',
    auth: 'owner',
    idempotent: true,
    request: NO_BODY,
    query: NO_QUERY,
    response: BundleResponseSchema,
    errors: [...OWNER_ERRORS, 'NOT_FOUND', 'RATE_LIMITED'],
  },
  fetchSealedBundles: {
    method: 'GET',
    path: '/v1/sealed/bundles/{address}',
    auth: 'accessKey',
    idempotent: true,
    request: NO_BODY,
    query: NO_QUERY,
    response: BundleResponseSchema,
    errors: ['UNAUTHORIZED', 'INVALID_TOKEN', 'RATE_LIMITED'],
  },
  fetchSealedDeviceBundle: {
    method: 'GET',
    path: '/v1/sealed/bundles/{address}/{deviceId}',
    auth: 'accessKey',
    idempotent: true,
    request: NO_BODY,
    query: NO_QUERY,
    response: BundleResponseSchema,
    errors: ['UNAUTHORIZED', 'INVALID_TOKEN', 'NOT_FOUND', 'RATE_LIMITED'],
  },
  fetchSealedDevices: {
    method: 'GET',
    path: '/v1/sealed/devices/{address}',
    auth: 'accessKey',
    noToken: true,
    idempotent: true,
    request: NO_BODY,
    query: NO_QUERY,
    response: DeviceListSchema,
    errors: ['UNAUTHORIZED', 'RATE_LIMITED'],
  },
  tokenKeys: {
    method: 'GET',
    path: '/v1/tokens/keys',
    auth: 'none',
    idempotent: true,
    request: NO_BODY,
    query: NO_QUERY,
    response: TokenKeysResponseSchema,
    errors: [],
  },
  issueTokens: {
    method: 'POST',
    path: '/v1/tokens',
    auth: 'owner',
    idempotent: false,
    request: TokenIssueRequestSchema,
    query: NO_QUERY,
    response: TokenIssueResponseSchema,
    errors: [...OWNER_ERRORS, 'STALE_TOKEN_KEY', 'TOKEN_QUOTA_EXCEEDED', 'ACCOUNT_SUSPENDED'],
  },
  serverCertificate: {
    method: 'GET',
    path: '/v1/certificates/server',
    auth: 'none',
    idempotent: true,
    request: NO_BODY,
    query: NO_QUERY,
    response: ServerCertificateResponseSchema,
    errors: [],
  },
  senderCertificate: {
    method: 'POST',
    path: '/v1/certificates/sender',
    auth: 'owner',
    idempotent: true,
    request: NO_BODY,
    query: NO_QUERY,
    response: SenderCertificateResponseSchema,
    errors: [...OWNER_ERRORS, 'ACCOUNT_SUSPENDED'],
  },
  certificateRevocations: {
    method: 'GET',
    path: '/v1/certificates/revocations',
    auth: 'none',
    idempotent: true,
    request: NO_BODY,
    query: NO_QUERY,
    response: RevocationsResponseSchema,
    errors: [],
  },
  sendMulti: {
    method: 'PUT',
    path: '/v1/messages/multi',
    auth: 'accessKey',
    idempotent: true,
    request: BINARY_BODY,
    query: NO_QUERY,
    response: SendResponseSchema,
    errors: [
      'UNAUTHORIZED',
      'INVALID_TOKEN',
      'TOKEN_SPENT',
      'REQUEST_LIMIT',
      'DEVICE_MISMATCH',
      'STALE_DEVICES',
      'MAILBOX_FULL',
    ],
  },
  sendMultiIdentified: {
    method: 'PUT',
    path: '/v1/messages/multi/identified',
    auth: 'owner',
    idempotent: true,
    request: BINARY_BODY,
    query: NO_QUERY,
    response: SendResponseSchema,
    errors: [
      ...OWNER_ERRORS,
      'ACCOUNT_SUSPENDED',
      'DEVICE_MISMATCH',
      'STALE_DEVICES',
      'MAILBOX_FULL',
    ],
  },
  sendSealed: {
    method: 'PUT',
    path: '/v1/messages/{address}',
    auth: 'accessKey',
    idempotent: true,
    request: SendRequestSchema,
    query: NO_QUERY,
    response: SendResponseSchema,
    errors: [
      'UNAUTHORIZED',
      'INVALID_TOKEN',
      'TOKEN_SPENT',
      'REQUEST_LIMIT',
      'DEVICE_MISMATCH',
      'STALE_DEVICES',
      'INVALID_MESSAGE_ID',
      'MAILBOX_FULL',
    ],
  },
  sendIdentified: {
    method: 'PUT',
    path: '/v1/messages/{address}/identified',
    auth: 'owner',
    idempotent: true,
    request: SendRequestSchema,
    query: NO_QUERY,
    response: SendResponseSchema,
    errors: [
      ...OWNER_ERRORS,
      'NOT_FOUND',
      'BLOCKED',
      'ACCOUNT_SUSPENDED',
      'DEVICE_MISMATCH',
      'STALE_DEVICES',
      'INVALID_MESSAGE_ID',
      'MAILBOX_FULL',
      'RATE_LIMITED',
    ],
  },
  fetchMessages: {
    method: 'GET',
    path: '/v1/messages',
    auth: 'owner',
    idempotent: true,
    query: FetchQuerySchema,
    request: NO_BODY,
    response: FetchResponseSchema,
    errors: OWNER_ERRORS,
  },
  ackMessages: {
    method: 'POST',
    path: '/v1/messages/ack',
    auth: 'owner',
    idempotent: true,
    request: AckRequestSchema,
    query: NO_QUERY,
    response: AckResponseSchema,
    errors: OWNER_ERRORS,
  },
  pushKey: {
    method: 'GET',
    path: '/v1/push/key',
    auth: 'none',
    idempotent: true,
    request: NO_BODY,
    query: NO_QUERY,
    response: PushKeySchema,
    errors: ['NOT_CONFIGURED'],
  },
  subscribePush: {
    method: 'PUT',
    path: '/v1/devices/me/push',
    auth: 'owner',
    idempotent: true,
    request: PushSubscriptionSchema,
    query: NO_QUERY,
    response: PushSubscribedSchema,
    errors: [...OWNER_ERRORS, 'NOT_CONFIGURED'],
  },
  unsubscribePush: {
    method: 'DELETE',
    path: '/v1/devices/me/push',
    auth: 'owner',
    idempotent: true,
    request: NO_BODY,
    query: NO_QUERY,
    response: PushUnsubscribedSchema,
    errors: OWNER_ERRORS,
  },
  createAttachment: {
    method: 'POST',
    path: '/v1/attachments',
    auth: 'owner',
    idempotent: false,
    request: CreateAttachmentRequestSchema,
    query: NO_QUERY,
    response: AttachmentCreatedSchema,
    errors: [
      ...OWNER_ERRORS,
      'ATTACHMENT_TOO_LARGE',
      'RATE_LIMITED',
      'QUOTA_EXCEEDED',
      'ACCOUNT_SUSPENDED',
      'NOT_CONFIGURED',
    ],
  },
  attachmentUploadStatus: {
    method: 'GET',
    path: '/v1/attachments/{attachmentId}/upload',
    auth: 'owner',
    idempotent: true,
    request: NO_BODY,
    query: NO_QUERY,
    response: UploadStatusSchema,
    errors: [...OWNER_ERRORS, 'NOT_FOUND', 'NOT_CONFIGURED'],
  },
  completeAttachment: {
    method: 'POST',
    path: '/v1/attachments/{attachmentId}/complete',
    auth: 'owner',
    idempotent: true,
    request: NO_BODY,
    query: NO_QUERY,
    response: AttachmentCompletedSchema,
    errors: [...OWNER_ERRORS, 'NOT_FOUND', 'UPLOAD_INCOMPLETE', 'NOT_CONFIGURED'],
  },
  abortAttachment: {
    method: 'DELETE',
    path: '/v1/attachments/{attachmentId}',
    auth: 'owner',
    idempotent: true,
    request: NO_BODY,
    query: NO_QUERY,
    response: AttachmentAbortedSchema,
    errors: [...OWNER_ERRORS, 'NOT_CONFIGURED'],
  },
  downloadAttachment: {
    method: 'GET',
    path: '/v1/attachments/{attachmentId}',
    auth: 'none',
    idempotent: true,
    request: NO_BODY,
    query: NO_QUERY,
    response: AttachmentDownloadSchema,
    errors: ['NOT_CONFIGURED'],
  },
  submitReport: {
    method: 'POST',
    path: '/v1/reports',
    auth: 'owner',
    idempotent: true,
    request: ReportRequestSchema,
    query: NO_QUERY,
    response: ReportResponseSchema,
    errors: [...OWNER_ERRORS, 'REPORT_UNVERIFIABLE', 'RATE_LIMITED', 'NOT_CONFIGURED'],
  },
} as const satisfies { readonly [operationId: string]: RouteSpec };

/** One entry of {@link ROUTES}: a route with its operation id. */
export type OperationRoute = RouteSpec & { readonly operationId: string };

/** The route table as a list, in table order (OpenAPI paths, route matching). */
export const ROUTES: readonly OperationRoute[] = Object.entries(ROUTE_TABLE).map(
  ([operationId, route]) => ({ operationId, ...route }),
);
