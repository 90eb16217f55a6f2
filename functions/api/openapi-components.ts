/**
 * The named component schemas of the OpenAPI document (functions/api/openapi.ts): every body
 * schema of sdk/wire/api under the name clients see, and the error body of docs/SERVICE.md §10.
 */
import {
  AccountSettingsSchema,
  AckRequestSchema,
  AckResponseSchema,
  AddDeviceRequestSchema,
  API_ERROR_STATUS,
  BundleDeviceSchema,
  BundleResponseSchema,
  DeliveredMessageSchema,
  DeviceListSchema,
  DeviceRegisteredSchema,
  DeviceRemovedSchema,
  FetchResponseSchema,
  HealthSchema,
  KemPrekeySchema,
  OneTimePrekeySchema,
  PrekeyCountSchema,
  PrekeyUploadSchema,
  PushKeySchema,
  PushSubscribedSchema,
  PushSubscriptionSchema,
  PushUnsubscribedSchema,
  RegisterRequestSchema,
  SenderCertificateResponseSchema,
  SendRequestSchema,
  SendResponseSchema,
  ServerCertificateResponseSchema,
  SignedPrekeySchema,
  TokenIssueRequestSchema,
  TokenIssueResponseSchema,
  TokenKeysResponseSchema,
} from 'sealpost/wire/api';

/** Component name → schema. A route's body or response is a `$ref` to its entry here. */
export const COMPONENT_SCHEMAS = {
  SignedPrekey: SignedPrekeySchema,
  OneTimePrekey: OneTimePrekeySchema,
  KemPrekey: KemPrekeySchema,
  RegisterRequest: RegisterRequestSchema,
  AddDeviceRequest: AddDeviceRequestSchema,
  DeviceRegistered: DeviceRegisteredSchema,
  DeviceList: DeviceListSchema,
  DeviceRemoved: DeviceRemovedSchema,
  AccountSettings: AccountSettingsSchema,
  PrekeyUpload: PrekeyUploadSchema,
  PrekeyCount: PrekeyCountSchema,
  BundleDevice: BundleDeviceSchema,
  BundleResponse: BundleResponseSchema,
  ServerCertificateResponse: ServerCertificateResponseSchema,
  SenderCertificateResponse: SenderCertificateResponseSchema,
  SendRequest: SendRequestSchema,
  SendResponse: SendResponseSchema,
  DeliveredMessage: DeliveredMessageSchema,
  FetchResponse: FetchResponseSchema,
  AckRequest: AckRequestSchema,
  AckResponse: AckResponseSchema,
  Health: HealthSchema,
  PushSubscription: PushSubscriptionSchema,
  PushSubscribed: PushSubscribedSchema,
  PushUnsubscribed: PushUnsubscribedSchema,
  PushKey: PushKeySchema,
  TokenKeysResponse: TokenKeysResponseSchema,
  TokenIssueRequest: TokenIssueRequestSchema,
  TokenIssueResponse: TokenIssueResponseSchema,
} as const;

const deviceIds = (description: string) => ({
  type: 'array',
  items: { type: 'integer', minimum: 1, maximum: 4294967295 },
  description,
});

/** The error body: `{"error": {"code", "message", ...details}}`. */
export const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', enum: Object.keys(API_ERROR_STATUS) },
        message: { type: 'string' },
        missing: deviceIds('DEVICE_MISMATCH only: devices the send did not list'),
        extra: deviceIds('DEVICE_MISMATCH only: listed devices that do not exist'),
        stale: deviceIds('STALE_DEVICES only: device ids that now belong to new devices'),
        serverTime: {
          type: 'integer',
          description: 'CLOCK_SKEW only: the server clock, ms since the epoch',
        },
        freeDeviceIds: deviceIds('DEVICE_ID_TAKEN only: ids the device may ask for instead'),
        accounts: {
          type: 'array',
          description:
            'A refused multi-recipient send only: every account that failed the check, in request order (docs/SERVICE.md §7.5)',
          items: {
            type: 'object',
            required: ['address'],
            properties: {
              address: { type: 'string', pattern: '^[a-z2-7]{32}$' },
              missing: deviceIds(
                'DEVICE_MISMATCH only: devices of this account the send did not list',
              ),
              extra: deviceIds(
                'DEVICE_MISMATCH only: listed devices of this account that do not exist',
              ),
              stale: deviceIds(
                'STALE_DEVICES only: device ids of this account that now belong to new devices',
              ),
            },
          },
        },
      },
    },
  },
};
