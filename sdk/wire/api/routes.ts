/**
 * The route table of the service API: one entry per operation, naming its method, path,
 * authentication and schemas. The server mounts routes that match it (a unit test checks) and
 * generates `GET /openapi.json` from it; the SDK's HTTP client builds requests from it.
 */
import type { GenericSchema } from 'valibot';
import type { ApiErrorCode } from './errors.ts';
import {
  AccountSettingsSchema,
  AckRequestSchema,
  AckResponseSchema,
  AddDeviceRequestSchema,
  BundleResponseSchema,
  DeviceListSchema,
  DeviceRegisteredSchema,
  DeviceRemovedSchema,
  FetchQuerySchema,
  FetchResponseSchema,
  HealthSchema,
  PrekeyCountSchema,
  PrekeyUploadSchema,
  RegisterRequestSchema,
  SenderCertificateResponseSchema,
  SendRequestSchema,
  SendResponseSchema,
  ServerCertificateResponseSchema,
} from './schemas.ts';

/**
 * How a route authenticates: `none`; `owner` (device-signed request headers); `accessKey`
 * (the recipient's delivery access key header, sealed send); `proof` (account-key proof of
 * possession in the body).
 */
export type RouteAuth = 'none' | 'owner' | 'accessKey' | 'proof';

/** One operation of the API. */
export interface RouteSpec {
  readonly operationId: string;
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** OpenAPI path template (`{address}` style). */
  readonly path: string;
  readonly summary: string;
  readonly auth: RouteAuth;
  /**
   * The route may need the account key's co-signature (`x-sealpost-account-signature` over
   * `accountRequestPayload`) besides the owner signature: removing another device.
   */
  readonly accountCoSignature?: boolean;
  readonly request?: GenericSchema;
  readonly query?: GenericSchema;
  readonly response: GenericSchema;
  /** Error codes the route can answer besides the generic ones (400, 413, 415, 500, 503). */
  readonly errors: readonly ApiErrorCode[];
}

const OWNER_ERRORS = ['UNAUTHORIZED', 'CLOCK_SKEW'] as const;

/** Every operation of API version 1. */
export const ROUTES: readonly RouteSpec[] = [
  {
    operationId: 'health',
    method: 'GET',
    path: '/v1/health',
    summary: 'Liveness check',
    auth: 'none',
    response: HealthSchema,
    errors: [],
  },
  {
    operationId: 'registerAccount',
    method: 'PUT',
    path: '/v1/accounts/{address}',
    summary: 'Register an account and its first device (id 1)',
    auth: 'proof',
    request: RegisterRequestSchema,
    response: DeviceRegisteredSchema,
    errors: ['INVALID_SIGNATURE', 'ACCOUNT_EXISTS', 'CLOCK_SKEW'],
  },
  {
    operationId: 'addDevice',
    method: 'POST',
    path: '/v1/accounts/{address}/devices',
    summary: 'Link another device to an account',
    auth: 'proof',
    request: AddDeviceRequestSchema,
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
  {
    operationId: 'listDevices',
    method: 'GET',
    path: '/v1/accounts/{address}/devices',
    summary: "List a recipient's device ids for fan-out (rate-limited for other accounts)",
    auth: 'owner',
    response: DeviceListSchema,
    errors: [...OWNER_ERRORS, 'NOT_FOUND', 'RATE_LIMITED'],
  },
  {
    operationId: 'removeDevice',
    method: 'DELETE',
    path: '/v1/devices/{deviceId}',
    summary:
      'Remove a device of the signing account (another device also needs the account signature)',
    auth: 'owner',
    accountCoSignature: true,
    response: DeviceRemovedSchema,
    errors: [...OWNER_ERRORS, 'FORBIDDEN', 'NOT_FOUND'],
  },
  {
    operationId: 'updateSettings',
    method: 'PUT',
    path: '/v1/account/settings',
    summary: 'Rotate the delivery access key or change the unrestricted setting',
    auth: 'owner',
    request: AccountSettingsSchema,
    response: AccountSettingsSchema,
    errors: OWNER_ERRORS,
  },
  {
    operationId: 'uploadPrekeys',
    method: 'PUT',
    path: '/v1/prekeys',
    summary: 'Upload prekeys of the signing device',
    auth: 'owner',
    request: PrekeyUploadSchema,
    response: PrekeyCountSchema,
    errors: [...OWNER_ERRORS, 'INVALID_SIGNATURE', 'PREKEY_LIMIT'],
  },
  {
    operationId: 'countPrekeys',
    method: 'GET',
    path: '/v1/prekeys/count',
    summary: 'Count the one-time prekeys left for the signing device',
    auth: 'owner',
    response: PrekeyCountSchema,
    errors: OWNER_ERRORS,
  },
  {
    operationId: 'fetchBundles',
    method: 'GET',
    path: '/v1/bundles/{address}',
    summary: 'Fetch prekey bundles of every device (claims one-time keys)',
    auth: 'owner',
    response: BundleResponseSchema,
    errors: [...OWNER_ERRORS, 'NOT_FOUND', 'RATE_LIMITED'],
  },
  {
    operationId: 'fetchDeviceBundle',
    method: 'GET',
    path: '/v1/bundles/{address}/{deviceId}',
    summary: 'Fetch the prekey bundle of one device (claims one-time keys)',
    auth: 'owner',
    response: BundleResponseSchema,
    errors: [...OWNER_ERRORS, 'NOT_FOUND', 'RATE_LIMITED'],
  },
  {
    operationId: 'serverCertificate',
    method: 'GET',
    path: '/v1/certificates/server',
    summary: 'The server certificate and the trust root public key',
    auth: 'none',
    response: ServerCertificateResponseSchema,
    errors: [],
  },
  {
    operationId: 'senderCertificate',
    method: 'POST',
    path: '/v1/certificates/sender',
    summary: 'Issue a sender certificate for the signing device',
    auth: 'owner',
    response: SenderCertificateResponseSchema,
    errors: OWNER_ERRORS,
  },
  {
    operationId: 'sendSealed',
    method: 'PUT',
    path: '/v1/messages/{address}',
    summary: 'Sealed send to every device of a recipient (authorized by the access key)',
    auth: 'accessKey',
    request: SendRequestSchema,
    response: SendResponseSchema,
    errors: [
      'UNAUTHORIZED',
      'DEVICE_MISMATCH',
      'STALE_DEVICES',
      'INVALID_MESSAGE_ID',
      'MAILBOX_FULL',
    ],
  },
  {
    operationId: 'sendIdentified',
    method: 'PUT',
    path: '/v1/messages/{address}/identified',
    summary:
      'Identified send, signed by the sender device: first contact, or a copy to the own account’s other devices',
    auth: 'owner',
    request: SendRequestSchema,
    response: SendResponseSchema,
    errors: [
      ...OWNER_ERRORS,
      'NOT_FOUND',
      'DEVICE_MISMATCH',
      'STALE_DEVICES',
      'INVALID_MESSAGE_ID',
      'MAILBOX_FULL',
      'RATE_LIMITED',
    ],
  },
  {
    operationId: 'fetchMessages',
    method: 'GET',
    path: '/v1/messages',
    summary: "Fetch a batch of the signing device's messages, oldest first",
    auth: 'owner',
    query: FetchQuerySchema,
    response: FetchResponseSchema,
    errors: OWNER_ERRORS,
  },
  {
    operationId: 'ackMessages',
    method: 'POST',
    path: '/v1/messages/ack',
    summary: 'Acknowledge (and delete) delivered messages',
    auth: 'owner',
    request: AckRequestSchema,
    response: AckResponseSchema,
    errors: OWNER_ERRORS,
  },
];
