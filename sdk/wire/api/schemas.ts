/**
 * Request and response bodies of the service API (docs/SERVICE.md), as valibot
 * schemas. The server validates with them and generates `GET /openapi.json` from them; clients
 * use the inferred types. Objects are strict: an unknown field is a 400, not silently dropped.
 */
import * as v from 'valibot';
import { tryFromBase64Url } from '../../util/bytes.ts';
import {
  MAX_SENDER_CERTIFICATE_BYTES,
  MODERATOR_CERTIFICATE_BYTES,
  SERVER_CERTIFICATE_BYTES,
} from '../certificates.ts';
import { IDENTITY_BUNDLE_BYTES } from '../identity.ts';
import { MAX_PLAINTEXT_BYTES } from '../messages.ts';
import { MAX_SHARED_PAYLOAD_BYTES } from '../multi-recipient-payload.ts';
import { MAX_REVOCATION_LIST_BYTES } from '../revocations.ts';
import {
  FRANKING_COMMITMENT_BYTES,
  FRANKING_MESSAGE_SIGNATURE_BYTES,
  FRANKING_OPENING_KEY_BYTES,
  FRANKING_SESSION_KEY_BYTES,
  FRANKING_SIGNATURE_BYTES,
} from '../sealed.ts';
import { MAX_TOKEN_KEY_LIST_BYTES } from '../token-keys.ts';
import {
  AddressField,
  AttachmentIdField,
  bytesField,
  CountField,
  IdField,
  integerText,
  maxBytesField,
  TimestampField,
} from './fields.ts';
import {
  ACCESS_KEY_BYTES,
  ATTACHMENT_BLOB_LIMIT,
  MAX_ATTACHMENT_PARTS,
  MAX_DEVICES,
  MAX_ENVELOPE_BYTES,
  MAX_FETCH_ACK_IDS,
  MAX_FETCH_BATCH,
  MAX_PREKEYS_PER_UPLOAD,
  MESSAGE_ID_BYTES,
} from './limits.ts';

const X25519_BYTES = 32;
const ED25519_BYTES = 32;
const SIGNATURE_BYTES = 64;
const MLKEM1024_PUBLIC_BYTES = 1568;
/** A ristretto255 public key (the device franking key, PROTOCOL.md §11.1). */
const RISTRETTO255_BYTES = 32;

/** Bytes of the service's delivery stamp on a franked message (PROTOCOL.md §11.4). */
export const FRANKING_STAMP_BYTES = 32;

/**
 * Most moderator certificates `GET /v1/certificates/server` lists (the current key and the
 * ones it replaces, PROTOCOL.md §11.2).
 */
export const MAX_MODERATOR_CERTIFICATES = 8;

/**
 * The device's ristretto255 franking public key (PROTOCOL.md §11.1): a canonical encoding of a
 * point other than the identity (the service refuses others with `400`).
 */
const FrankingKeyField = bytesField(RISTRETTO255_BYTES);

/** Signed X25519 prekey (docs/PROTOCOL.md §3.1, §3.6). */
export const SignedPrekeySchema = v.strictObject({
  id: IdField,
  publicKey: bytesField(X25519_BYTES),
  signature: bytesField(SIGNATURE_BYTES),
});

/** Unsigned one-time X25519 prekey. */
export const OneTimePrekeySchema = v.strictObject({
  id: IdField,
  publicKey: bytesField(X25519_BYTES),
});

/** Signed ML-KEM-1024 prekey; its kind (one-time or last resort) follows from the field it is in. */
export const KemPrekeySchema = v.strictObject({
  id: IdField,
  publicKey: bytesField(MLKEM1024_PUBLIC_BYTES),
  signature: bytesField(SIGNATURE_BYTES),
});

/**
 * Who may start a conversation with an account (docs/SERVICE.md §15.3): `contacts` (holders
 * of its access key only), `requests` (also strangers paying with an anonymous token; their
 * messages arrive as message requests; the default) or `anyone` (sealed sends need nothing).
 * Identified first contact stays open in every mode.
 */
export const FIRST_CONTACT_MODES = ['contacts', 'requests', 'anyone'] as const;
export type FirstContactMode = (typeof FIRST_CONTACT_MODES)[number];
export const FirstContactField = v.picklist(FIRST_CONTACT_MODES);

/**
 * What a device's client can receive beyond the base protocol (docs/SERVICE.md §4.2):
 * `sharedPayload`, multi-recipient messages (docs/PROTOCOL.md §14). Senders use a capability
 * only when every target device announces it.
 */
export const DEVICE_CAPABILITIES = ['sharedPayload'] as const;
export type DeviceCapability = (typeof DEVICE_CAPABILITIES)[number];
/** Capabilities a device may list (a newer client may announce more than this service knows). */
export const MAX_DEVICE_CAPABILITIES = 16;

/**
 * A device's capabilities as the wire carries them: distinct names of 1 to 32 letters and
 * digits. Names this version does not know are accepted and ignored (the service stores only
 * {@link DEVICE_CAPABILITIES}; a client reads only the ones it knows).
 */
export const CapabilitiesField = v.pipe(
  v.array(v.pipe(v.string(), v.regex(/^[A-Za-z][A-Za-z0-9]{0,31}$/))),
  v.maxLength(MAX_DEVICE_CAPABILITIES),
  v.check((list) => new Set(list).size === list.length, 'a capability is listed twice'),
);

/** The known capabilities in `list`, in {@link DEVICE_CAPABILITIES} order. */
export function knownCapabilities(list: readonly string[] | undefined): DeviceCapability[] {
  if (!list) return [];
  return DEVICE_CAPABILITIES.filter((c) => list.includes(c));
}

/** `PUT /v1/accounts/{address}`: register an account with its first device (id 1). */
export const RegisterRequestSchema = v.strictObject({
  identity: bytesField(IDENTITY_BUNDLE_BYTES),
  timestamp: TimestampField,
  proof: bytesField(SIGNATURE_BYTES),
  accessKey: bytesField(ACCESS_KEY_BYTES),
  unrestricted: v.optional(v.boolean()),
  firstContact: v.optional(FirstContactField),
  signedPrekey: SignedPrekeySchema,
  lastResortKemPrekey: KemPrekeySchema,
  frankingKey: FrankingKeyField,
  capabilities: v.optional(CapabilitiesField),
});

/**
 * `POST /v1/accounts/{address}/devices`: link another device, proven by the account key.
 * `deviceId` is the id the new device's link signature names; the service assigns exactly it
 * or answers `409 DEVICE_ID_TAKEN` with the free ids.
 */
export const AddDeviceRequestSchema = v.strictObject({
  deviceId: IdField,
  identity: bytesField(IDENTITY_BUNDLE_BYTES),
  timestamp: TimestampField,
  proof: bytesField(SIGNATURE_BYTES),
  signedPrekey: SignedPrekeySchema,
  lastResortKemPrekey: KemPrekeySchema,
  frankingKey: FrankingKeyField,
  capabilities: v.optional(CapabilitiesField),
});

/** Response of registration and of adding a device. */
export const DeviceRegisteredSchema = v.strictObject({ address: AddressField, deviceId: IdField });

/**
 * A device's registration id: u32 from the first 4 bytes (big-endian) of SHA-256 of its
 * 172-byte IdentityBundle. It changes when a device id is reused by a new device.
 */
export const RegistrationIdField = v.pipe(
  v.number(),
  v.integer(),
  v.minValue(0),
  v.maxValue(0xffffffff),
);

/** `GET /v1/accounts/{address}/devices`. */
export const DeviceListSchema = v.strictObject({
  address: AddressField,
  devices: v.array(
    v.strictObject({
      deviceId: IdField,
      registrationId: RegistrationIdField,
      capabilities: v.optional(CapabilitiesField),
    }),
  ),
});

/** `DELETE /v1/devices/{deviceId}`. */
export const DeviceRemovedSchema = v.strictObject({ deviceId: IdField });

/**
 * `PUT /v1/account/settings`: rotate the delivery access key or change who may start a
 * conversation (`firstContact`; `unrestricted: true` is the older spelling of `anyone`,
 * `false` of `contacts`; given both, they must agree).
 */
export const AccountSettingsSchema = v.strictObject({
  accessKey: v.optional(bytesField(ACCESS_KEY_BYTES)),
  unrestricted: v.optional(v.boolean()),
  firstContact: v.optional(FirstContactField),
});

/**
 * Accounts one account may block (docs/SERVICE.md §4.1): the service refuses more with
 * `409 BLOCK_LIMIT`, and the SDK keeps as many in its local block list.
 */
export const MAX_BLOCKED_ACCOUNTS = 10_000;

/** Response of `PUT /v1/account/blocks/{address}`: `added` is false when it was blocked already. */
export const BlockAddedSchema = v.strictObject({ address: AddressField, added: v.boolean() });

/** Response of `DELETE /v1/account/blocks/{address}`: whether it was blocked. */
export const BlockRemovedSchema = v.strictObject({ address: AddressField, removed: v.boolean() });

/** `GET /v1/account/blocks`: every account the signing account blocks, in address order. */
export const BlockListSchema = v.strictObject({
  blocked: v.pipe(v.array(AddressField), v.maxLength(MAX_BLOCKED_ACCOUNTS)),
});

/**
 * `PUT /v1/prekeys`: upload prekeys of the signing device. `capabilities` replaces the device's
 * capabilities (a client announcing what it can receive, docs/SERVICE.md §4.2).
 */
export const PrekeyUploadSchema = v.strictObject({
  signedPrekey: v.optional(SignedPrekeySchema),
  lastResortKemPrekey: v.optional(KemPrekeySchema),
  oneTimePrekeys: v.optional(
    v.pipe(v.array(OneTimePrekeySchema), v.maxLength(MAX_PREKEYS_PER_UPLOAD)),
  ),
  kemPrekeys: v.optional(v.pipe(v.array(KemPrekeySchema), v.maxLength(MAX_PREKEYS_PER_UPLOAD))),
  capabilities: v.optional(CapabilitiesField),
});

/** `GET /v1/prekeys/count`: one-time keys left on the server for the signing device. */
export const PrekeyCountSchema = v.strictObject({ ec: CountField, pq: CountField });

/** One device's bundle in `GET /v1/bundles/{address}[/{deviceId}]` (docs/PROTOCOL.md §3.6). */
export const BundleDeviceSchema = v.strictObject({
  deviceId: IdField,
  registrationId: RegistrationIdField,
  identity: bytesField(IDENTITY_BUNDLE_BYTES),
  signedPrekey: SignedPrekeySchema,
  oneTimePrekey: v.optional(OneTimePrekeySchema),
  kemPrekey: v.strictObject({
    id: IdField,
    publicKey: bytesField(MLKEM1024_PUBLIC_BYTES),
    signature: bytesField(SIGNATURE_BYTES),
    lastResort: v.boolean(),
  }),
  frankingKey: FrankingKeyField,
  capabilities: v.optional(CapabilitiesField),
});

/** `GET /v1/bundles/{address}[/{deviceId}]`. */
export const BundleResponseSchema = v.strictObject({
  address: AddressField,
  devices: v.array(BundleDeviceSchema),
});

/**
 * `GET /v1/certificates/server`: what clients pin and verify sender certificates against, and
 * `moderatorCertificates`: the moderator certificates clients frank for and accept
 * (docs/PROTOCOL.md §11.2), the current one first.
 */
export const ServerCertificateResponseSchema = v.strictObject({
  keyId: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(0xffffffff)),
  serverCertificate: bytesField(SERVER_CERTIFICATE_BYTES),
  trustRoot: bytesField(ED25519_BYTES),
  moderatorCertificates: v.pipe(
    v.array(bytesField(MODERATOR_CERTIFICATE_BYTES)),
    v.minLength(1),
    v.maxLength(MAX_MODERATOR_CERTIFICATES),
  ),
});

/**
 * `POST /v1/certificates/sender`: a sender certificate for the signing device, and the current
 * moderator certificate (docs/PROTOCOL.md §11.2).
 */
export const SenderCertificateResponseSchema = v.strictObject({
  certificate: maxBytesField(MAX_SENDER_CERTIFICATE_BYTES),
  expires: TimestampField,
  moderatorCertificate: bytesField(MODERATOR_CERTIFICATE_BYTES),
});

/**
 * Envelope entries of one send: one per recipient device, no device twice. `registrationId`
 * is the registration id of the device the envelope was encrypted for; when it no longer
 * matches the device holding that id, the send is refused as stale (410). Up to twice
 * {@link MAX_DEVICES} entries, so a client with an outdated device list still gets a 409 that
 * names the difference instead of a 400.
 */
const EnvelopeListSchema = v.pipe(
  v.array(
    v.strictObject({
      deviceId: IdField,
      registrationId: v.optional(RegistrationIdField),
      envelope: maxBytesField(MAX_ENVELOPE_BYTES),
    }),
  ),
  v.minLength(1),
  v.maxLength(2 * MAX_DEVICES),
  v.check(
    (list) => new Set(list.map((e) => e.deviceId)).size === list.length,
    'a device is listed twice',
  ),
);

/**
 * `PUT /v1/messages/{address}` (sealed) and `PUT /v1/messages/{address}/identified`.
 * `messageId`: 16 random bytes per request, used only to deduplicate its retries.
 */
export const SendRequestSchema = v.strictObject({
  messageId: bytesField(MESSAGE_ID_BYTES),
  envelopes: EnvelopeListSchema,
});

/** Response of a send (`messageId` echoed); `duplicate` when a retry found it stored. */
export const SendResponseSchema = v.strictObject({
  messageId: bytesField(MESSAGE_ID_BYTES),
  duplicate: v.boolean(),
});

/**
 * `ack` of `GET /v1/messages`: positions acknowledged with the fetch (docs/SERVICE.md §7.2),
 * base64url, comma-separated, at most {@link MAX_FETCH_ACK_IDS} (the signed path's bound), each
 * once.
 */
export const FetchAckField = v.pipe(
  v.string(),
  v.maxLength(MAX_FETCH_ACK_IDS * 23),
  v.transform((text) => text.split(',')),
  v.array(bytesField(MESSAGE_ID_BYTES)),
  v.minLength(1),
  v.maxLength(MAX_FETCH_ACK_IDS),
  v.check((ids) => new Set(ids).size === ids.length, 'a message id is listed twice'),
);

/**
 * Query of `GET /v1/messages` (parameters arrive as text; `limit` is read as an integer).
 * `payloads=1`: deliver multi-recipient messages with their shared payload (docs/PROTOCOL.md
 * §14.6); without it such a message comes as its header alone. `ack`: acknowledge these
 * messages first, as `POST /v1/messages/ack` would (the receive loop's acknowledgement riding
 * on its next fetch).
 */
export const FetchQuerySchema = v.strictObject({
  limit: v.optional(integerText(1, MAX_FETCH_BATCH)),
  cursor: v.optional(bytesField(MESSAGE_ID_BYTES)),
  payloads: v.optional(v.literal('1')),
  ack: v.optional(FetchAckField),
});

/**
 * One delivered message. `messageId` is its server-assigned position in the device's mailbox
 * (what the recipient acknowledges; no time, nothing of the sender's request id); `receivedAt`
 * is the receipt time rounded down to the hour (`RECEIVED_AT_PRECISION_MS`). `source` is
 * present only for identified sends. `stamp` is the service's delivery stamp
 * (docs/PROTOCOL.md §11.4), present when the envelope carries a franking commitment; a report
 * of the message presents it. `payload` is the shared payload of a multi-recipient send
 * (docs/PROTOCOL.md §14.6), present when fetched with `payloads=1`; `envelope` is then the
 * device's header.
 */
export const DeliveredMessageSchema = v.strictObject({
  messageId: bytesField(MESSAGE_ID_BYTES),
  receivedAt: TimestampField,
  envelope: maxBytesField(MAX_ENVELOPE_BYTES),
  source: v.optional(v.strictObject({ address: AddressField, deviceId: IdField })),
  stamp: v.optional(bytesField(FRANKING_STAMP_BYTES)),
  payload: v.optional(maxBytesField(MAX_SHARED_PAYLOAD_BYTES)),
});

/** `GET /v1/messages`: oldest first; `cursor` (an opaque 16-byte position) continues the read. */
export const FetchResponseSchema = v.strictObject({
  messages: v.pipe(v.array(DeliveredMessageSchema), v.maxLength(MAX_FETCH_BATCH)),
  cursor: v.optional(bytesField(MESSAGE_ID_BYTES)),
});

/** `POST /v1/messages/ack`: acknowledge delivered messages by position (deleted at once). */
export const AckRequestSchema = v.strictObject({
  messageIds: v.pipe(
    v.array(bytesField(MESSAGE_ID_BYTES)),
    v.minLength(1),
    v.maxLength(MAX_FETCH_BATCH),
  ),
});

/** Response of an acknowledgement: how many of the ids this call acknowledged. */
export const AckResponseSchema = v.strictObject({ acknowledged: CountField });

/** `GET /v1/health`. */
export const HealthSchema = v.strictObject({ status: v.literal('ok') });

/** Longest Web Push endpoint URL accepted, in characters. */
export const MAX_PUSH_ENDPOINT_LENGTH = 1024;

/** Bytes of a Web Push subscription's `p256dh` key: an uncompressed P-256 point (RFC 8291 §3.1). */
export const PUSH_P256DH_BYTES = 65;

/** Bytes of a Web Push subscription's authentication secret `auth` (RFC 8291 §3.2). */
export const PUSH_AUTH_BYTES = 16;

/**
 * An absolute http(s) URL of RFC 3986 characters only: no space, backslash, quote or angle
 * bracket, so every URL parser reads the same host the service checked. Which scheme and host
 * a deployment posts to is its own setting (docs/SERVICE.md §7.3), checked by the service.
 */
const PushEndpointField = v.pipe(
  v.string(),
  v.maxLength(MAX_PUSH_ENDPOINT_LENGTH),
  v.regex(/^https?:\/\/[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+$/),
  v.check(isAbsoluteUrl, 'not an absolute URL'),
  v.description(
    `absolute https URL of a push service, at most ${MAX_PUSH_ENDPOINT_LENGTH} characters`,
  ),
);

function isAbsoluteUrl(text: string): boolean {
  try {
    return new URL(text).host !== '';
  } catch {
    return false;
  }
}

/**
 * `PUT /v1/devices/me/push`: the signing device's Web Push subscription, as the browser's
 * `PushSubscription.toJSON()` gives it (without `expirationTime`). `p256dh` is an uncompressed
 * P-256 point (first byte 4), `auth` 16 bytes.
 */
export const PushSubscriptionSchema = v.strictObject({
  endpoint: PushEndpointField,
  keys: v.strictObject({
    p256dh: v.pipe(
      bytesField(PUSH_P256DH_BYTES),
      v.check((s) => tryFromBase64Url(s)?.[0] === 4, 'not an uncompressed P-256 point'),
    ),
    auth: bytesField(PUSH_AUTH_BYTES),
  }),
});

/** Response of `PUT /v1/devices/me/push`. */
export const PushSubscribedSchema = v.strictObject({ subscribed: v.literal(true) });

/** Response of `DELETE /v1/devices/me/push`: whether a subscription was stored. */
export const PushUnsubscribedSchema = v.strictObject({ removed: v.boolean() });

/**
 * `GET /v1/push/key`: the deployment's VAPID public key (RFC 8292), an uncompressed P-256
 * point, to pass as `applicationServerKey` to `pushManager.subscribe`.
 */
export const PushKeySchema = v.strictObject({
  applicationServerKey: bytesField(PUSH_P256DH_BYTES),
});

/**
 * `POST /v1/attachments`: the size of the blob to upload: the padded, encrypted size
 * (docs/PROTOCOL.md §10), never the file's own size. 1..{@link ATTACHMENT_BLOB_LIMIT}; the
 * deployment's maximum answers `ATTACHMENT_TOO_LARGE` above it.
 */
export const CreateAttachmentRequestSchema = v.strictObject({
  size: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(ATTACHMENT_BLOB_LIMIT)),
});

/** A presigned S3 POST: send `fields` (in this order), then the blob as the `file` field. */
export const FormUploadSchema = v.strictObject({
  kind: v.literal('form'),
  url: v.pipe(v.string(), v.url()),
  fields: v.record(v.string(), v.string()),
});

/** A multipart upload: `partCount` parts of `partSize` bytes (the last holds the rest). */
export const MultipartUploadSchema = v.strictObject({
  kind: v.literal('multipart'),
  partSize: v.pipe(v.number(), v.integer(), v.minValue(1)),
  partCount: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_ATTACHMENT_PARTS)),
});

/**
 * Response of `POST /v1/attachments`: the attachment's id, until when the upload may be made
 * (and completed), and how: a presigned form at most the deployment's multipart threshold,
 * a multipart upload above it (part URLs from `GET /v1/attachments/{id}/upload`).
 */
export const AttachmentCreatedSchema = v.strictObject({
  id: AttachmentIdField,
  size: CountField,
  expiresAt: TimestampField,
  upload: v.variant('kind', [FormUploadSchema, MultipartUploadSchema]),
});

/** One part already stored by S3. */
export const UploadedPartSchema = v.strictObject({
  partNumber: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_ATTACHMENT_PARTS)),
  size: CountField,
});

/** A presigned `PUT` of one part (exactly its size: `partSize`, or the rest for the last). */
export const PartTargetSchema = v.strictObject({
  partNumber: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_ATTACHMENT_PARTS)),
  url: v.pipe(v.string(), v.url()),
});

/**
 * Response of `GET /v1/attachments/{id}/upload` (resume): the parts S3 holds, and fresh
 * presigned URLs for the others, valid until `urlsExpireAt`. For a form upload, `uploaded`
 * says whether the object is in place and `parts` is empty.
 */
export const UploadStatusSchema = v.strictObject({
  id: AttachmentIdField,
  size: CountField,
  expiresAt: TimestampField,
  urlsExpireAt: TimestampField,
  upload: v.variant('kind', [FormUploadSchema, MultipartUploadSchema]),
  uploaded: v.array(UploadedPartSchema),
  parts: v.array(PartTargetSchema),
});

/** Response of `POST /v1/attachments/{id}/complete`: the stored blob, ready to download. */
export const AttachmentCompletedSchema = v.strictObject({
  id: AttachmentIdField,
  size: CountField,
});

/** Response of `DELETE /v1/attachments/{id}`: whether an unfinished upload was abandoned. */
export const AttachmentAbortedSchema = v.strictObject({ removed: v.boolean() });

/**
 * Response of `GET /v1/attachments/{id}`: a presigned `GET` of the blob, valid until
 * `expiresAt`. For an id that never completed or has expired, S3 answers 403 (the service
 * cannot list the bucket, so S3 does not say 404); the local object service answers 404.
 */
export const AttachmentDownloadSchema = v.strictObject({
  url: v.pipe(v.string(), v.url()),
  expiresAt: TimestampField,
});

/** Reasons a report may give (docs/SERVICE.md §14.1). */
export const REPORT_REASONS = ['spam', 'harassment', 'child_safety', 'scam', 'other'] as const;

/** Earlier messages of the same sender a report may carry besides the reported one. */
export const MAX_REPORT_PREVIOUS = 5;

/** Bytes of a delivery stamp (the service's MAC over a delivery, docs/SERVICE.md §14.1). */
export const REPORT_STAMP_BYTES = 32;

/** Bytes of a report id: the first 16 bytes of a SHA-256 (22 characters of base64url). */
export const REPORT_ID_BYTES = 16;

/**
 * One message as the reporting device received it and revealed it (docs/SERVICE.md §14.1):
 * its delivered id and receipt time with the service's delivery stamp, the envelope's franking
 * commitment and the opening key, the content (the decrypted plaintext), the sender
 * certificate, the franking session key with the franking signature over it for the moderator
 * key `moderatorKeyId`, and the session key's signature over the message.
 */
export const ReportedMessageSchema = v.strictObject({
  messageId: bytesField(MESSAGE_ID_BYTES),
  receivedAt: TimestampField,
  stamp: bytesField(REPORT_STAMP_BYTES),
  commitment: bytesField(FRANKING_COMMITMENT_BYTES),
  openingKey: bytesField(FRANKING_OPENING_KEY_BYTES),
  content: maxBytesField(MAX_PLAINTEXT_BYTES),
  senderCertificate: maxBytesField(MAX_SENDER_CERTIFICATE_BYTES),
  moderatorKeyId: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(0xffffffff)),
  sessionKey: bytesField(FRANKING_SESSION_KEY_BYTES),
  signature: bytesField(FRANKING_SIGNATURE_BYTES),
  messageSignature: bytesField(FRANKING_MESSAGE_SIGNATURE_BYTES),
});

/**
 * `POST /v1/reports`: report a received message, optionally with up to
 * {@link MAX_REPORT_PREVIOUS} earlier messages of the same sender account for context.
 */
export const ReportRequestSchema = v.strictObject({
  reason: v.picklist(REPORT_REASONS),
  message: ReportedMessageSchema,
  previous: v.optional(v.pipe(v.array(ReportedMessageSchema), v.maxLength(MAX_REPORT_PREVIOUS))),
});

/**
 * Response of `POST /v1/reports`: the report's id (the same for the same report by the same
 * account) and `duplicate` when it had been stored before.
 */
export const ReportResponseSchema = v.strictObject({
  reportId: bytesField(REPORT_ID_BYTES),
  duplicate: v.boolean(),
});

/**
 * `GET /v1/certificates/revocations`: the signed list of suspended accounts
 * (`sdk/wire/revocations.ts`, docs/SERVICE.md §14.6).
 */
export const RevocationsResponseSchema = v.strictObject({
  revocations: maxBytesField(MAX_REVOCATION_LIST_BYTES),
});

/** Bytes of a Privacy Pass token request of type 0x0002 (RFC 9578 §6.1). */
export const TOKEN_REQUEST_WIRE_BYTES = 259;
/** Bytes of a token response of type 0x0002: the blind signature (RFC 9578 §6.2). */
export const TOKEN_RESPONSE_WIRE_BYTES = 256;
/** Bytes of a token of type 0x0002 (RFC 9577 §2.2). */
export const TOKEN_WIRE_BYTES = 354;
/** Bytes of an issuer key id (RFC 9578 §6.5). */
export const TOKEN_KEY_ID_WIRE_BYTES = 32;
/** Token requests one `POST /v1/tokens` takes. */
export const MAX_TOKEN_BATCH = 20;

/** `GET /v1/tokens/keys`: the signed issuer key list (`sdk/wire/token-keys.ts`). */
export const TokenKeysResponseSchema = v.strictObject({
  keys: maxBytesField(MAX_TOKEN_KEY_LIST_BYTES),
});

/**
 * `POST /v1/tokens`: blinded token requests for the issuer key `keyId` (the one issuing now,
 * from `GET /v1/tokens/keys`).
 */
export const TokenIssueRequestSchema = v.strictObject({
  keyId: bytesField(TOKEN_KEY_ID_WIRE_BYTES),
  requests: v.pipe(
    v.array(bytesField(TOKEN_REQUEST_WIRE_BYTES)),
    v.minLength(1),
    v.maxLength(MAX_TOKEN_BATCH),
  ),
});

/**
 * Answer of `POST /v1/tokens`: one blind signature per request, in request order, and how many
 * tokens the account may still take today.
 */
export const TokenIssueResponseSchema = v.strictObject({
  keyId: bytesField(TOKEN_KEY_ID_WIRE_BYTES),
  responses: v.array(bytesField(TOKEN_RESPONSE_WIRE_BYTES)),
  remaining: v.pipe(v.number(), v.integer(), v.minValue(0)),
});

export type RegisterRequest = v.InferOutput<typeof RegisterRequestSchema>;
export type AddDeviceRequest = v.InferOutput<typeof AddDeviceRequestSchema>;
export type DeviceRegistered = v.InferOutput<typeof DeviceRegisteredSchema>;
export type DeviceList = v.InferOutput<typeof DeviceListSchema>;
export type DeviceRemoved = v.InferOutput<typeof DeviceRemovedSchema>;
export type AccountSettings = v.InferOutput<typeof AccountSettingsSchema>;
export type BlockAdded = v.InferOutput<typeof BlockAddedSchema>;
export type BlockRemoved = v.InferOutput<typeof BlockRemovedSchema>;
export type BlockList = v.InferOutput<typeof BlockListSchema>;
export type SignedPrekeyJson = v.InferOutput<typeof SignedPrekeySchema>;
export type OneTimePrekeyJson = v.InferOutput<typeof OneTimePrekeySchema>;
export type KemPrekeyJson = v.InferOutput<typeof KemPrekeySchema>;
export type PrekeyUpload = v.InferOutput<typeof PrekeyUploadSchema>;
export type PrekeyCount = v.InferOutput<typeof PrekeyCountSchema>;
export type BundleDevice = v.InferOutput<typeof BundleDeviceSchema>;
export type BundleResponse = v.InferOutput<typeof BundleResponseSchema>;
export type ServerCertificateResponse = v.InferOutput<typeof ServerCertificateResponseSchema>;
export type SenderCertificateResponse = v.InferOutput<typeof SenderCertificateResponseSchema>;
export type SendRequest = v.InferOutput<typeof SendRequestSchema>;
export type SendResponse = v.InferOutput<typeof SendResponseSchema>;
export type FetchQuery = v.InferOutput<typeof FetchQuerySchema>;
export type DeliveredMessage = v.InferOutput<typeof DeliveredMessageSchema>;
export type FetchResponse = v.InferOutput<typeof FetchResponseSchema>;
export type AckRequest = v.InferOutput<typeof AckRequestSchema>;
export type AckResponse = v.InferOutput<typeof AckResponseSchema>;
export type PushSubscriptionBody = v.InferOutput<typeof PushSubscriptionSchema>;
export type PushSubscribed = v.InferOutput<typeof PushSubscribedSchema>;
export type PushUnsubscribed = v.InferOutput<typeof PushUnsubscribedSchema>;
export type PushKey = v.InferOutput<typeof PushKeySchema>;
export type CreateAttachmentRequest = v.InferOutput<typeof CreateAttachmentRequestSchema>;
export type AttachmentCreated = v.InferOutput<typeof AttachmentCreatedSchema>;
export type UploadTarget = AttachmentCreated['upload'];
export type UploadStatus = v.InferOutput<typeof UploadStatusSchema>;
export type AttachmentCompleted = v.InferOutput<typeof AttachmentCompletedSchema>;
export type AttachmentAborted = v.InferOutput<typeof AttachmentAbortedSchema>;
export type AttachmentDownload = v.InferOutput<typeof AttachmentDownloadSchema>;
export type ReportReason = (typeof REPORT_REASONS)[number];
export type ReportedMessageJson = v.InferOutput<typeof ReportedMessageSchema>;
export type ReportRequest = v.InferOutput<typeof ReportRequestSchema>;
export type ReportResponse = v.InferOutput<typeof ReportResponseSchema>;
export type RevocationsResponse = v.InferOutput<typeof RevocationsResponseSchema>;
export type TokenKeysResponse = v.InferOutput<typeof TokenKeysResponseSchema>;
export type TokenIssueRequest = v.InferOutput<typeof TokenIssueRequestSchema>;
export type TokenIssueResponse = v.InferOutput<typeof TokenIssueResponseSchema>;
