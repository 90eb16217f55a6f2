/**
 * The service's error contract: every error response is
 * `{"error": {"code": ApiErrorCode, "message": string, ...details}}` with the HTTP status from
 * {@link API_ERROR_STATUS}, the one code→status table (docs/SERVICE.md §Errors).
 */

/** HTTP status of every API error code. Stable: clients switch on `code`, not on status. */
export const API_ERROR_STATUS = {
  /** The body or a parameter does not match its schema (type, length, base64url, range). */
  BAD_REQUEST: 400,
  /** The message id's timestamp is in the future or older than the message lifetime. */
  INVALID_MESSAGE_ID: 400,
  /** Missing, expired, replayed or wrong owner signature, or a wrong/absent access key. */
  UNAUTHORIZED: 401,
  /**
   * The request's signed timestamp (owner signature, registration or link proof) is outside
   * the signature window of the server clock; the body carries `serverTime` (ms) so the client
   * can correct its clock and sign again. Checked before anything secret, so it reveals nothing.
   */
  CLOCK_SKEW: 401,
  /** The caller is authenticated but may not do this (e.g. remove a device of another account). */
  FORBIDDEN: 403,
  /**
   * The recipient blocked the sending account (docs/SERVICE.md §4.1): refused for identified
   * sends, where the service knows the sender. A sealed send cannot be told apart (401 once the
   * recipient rotated its access key).
   */
  BLOCKED: 403,
  /**
   * The signing account is suspended by the operator (docs/SERVICE.md §14.5): it gets no sender
   * certificates and may not send identified messages or start attachment uploads.
   */
  ACCOUNT_SUSPENDED: 403,
  /** The addressed account or device does not exist (never used for sealed sends: 401). */
  NOT_FOUND: 404,
  /**
   * The deployment does not offer this feature: wake-ups of offline devices (Web Push) when no
   * VAPID key is configured. Asking again does not help until the operator configures it.
   */
  NOT_CONFIGURED: 404,
  /** The route exists but not with this method. */
  METHOD_NOT_ALLOWED: 405,
  /** The address is already registered with a different first device. */
  ACCOUNT_EXISTS: 409,
  /** A send does not list exactly the recipient's devices (`missing`, `extra`). */
  DEVICE_MISMATCH: 409,
  /** The account already has {@link MAX_DEVICES} devices. */
  DEVICE_LIMIT: 409,
  /** The account already blocks `MAX_BLOCKED_ACCOUNTS` (10,000) accounts. */
  BLOCK_LIMIT: 409,
  /** An added device asks for a device id that is in use; the body lists `freeDeviceIds`. */
  DEVICE_ID_TAKEN: 409,
  /** A send names a registration id whose device id now belongs to a new device (`stale`). */
  STALE_DEVICES: 410,
  /** The client sent its request too slowly (HTTP layer of the local server). */
  REQUEST_TIMEOUT: 408,
  /** The body is larger than the route allows. */
  PAYLOAD_TOO_LARGE: 413,
  /** An attachment upload asks for more bytes than the deployment's maximum attachment size. */
  ATTACHMENT_TOO_LARGE: 413,
  /**
   * An attachment upload cannot be completed: parts are missing, a part or the object has
   * another size than declared, or nothing was uploaded. `GET /v1/attachments/{id}/upload`
   * says which parts are in place.
   */
  UPLOAD_INCOMPLETE: 409,
  /** The request's header block is larger than the server accepts (16 KiB locally). */
  HEADERS_TOO_LARGE: 431,
  /** The body is not `application/json`. */
  UNSUPPORTED_MEDIA_TYPE: 415,
  /** A signature inside the body (prekey, registration proof, device link) does not verify. */
  INVALID_SIGNATURE: 422,
  /** An upload would exceed the stored one-time prekey limit. */
  PREKEY_LIMIT: 422,
  /**
   * A reported message (or one of the earlier messages sent with it) does not verify: its
   * delivery stamp, commitment, sender certificate or franking signature; the message names
   * which one and the verifier's short reason (docs/SERVICE.md §14.1).
   */
  REPORT_UNVERIFIABLE: 422,
  /**
   * A sealed send's or anonymous bundle fetch's token (`x-sealpost-token`) is malformed, not
   * signed by an issuer key of this deployment, or of a key past its `notAfter`
   * (docs/SERVICE.md §15). A recipient that does not take requests answers `UNAUTHORIZED`.
   */
  INVALID_TOKEN: 401,
  /** The token was redeemed already, by another send (a retry of the same send is accepted). */
  TOKEN_SPENT: 401,
  /**
   * `POST /v1/tokens` names an issuer key that is not the one issuing now: fetch
   * `GET /v1/tokens/keys` again and blind against the current key.
   */
  STALE_TOKEN_KEY: 409,
  /** A rate limit was hit; retry later. */
  RATE_LIMITED: 429,
  /** The account's daily token quota is used up (`POST /v1/tokens`); retry the next UTC day. */
  TOKEN_QUOTA_EXCEEDED: 429,
  /**
   * The recipient has received its daily number of message requests (token-paid first
   * messages); the token was spent. Retry the next UTC day.
   */
  REQUEST_LIMIT: 429,
  /** The recipient's mailbox quota (count or bytes) is used up. */
  MAILBOX_FULL: 429,
  /**
   * The account's attachment storage quota (bytes uploaded within the attachment retention
   * period) or its daily upload bytes would be passed; retry when older uploads expire.
   */
  QUOTA_EXCEEDED: 429,
  /** An unexpected server fault. Never carries details. */
  INTERNAL: 500,
  /** A storage dependency failed or throttled; safe to retry. */
  UNAVAILABLE: 503,
} as const;

/** Every error code the service returns. */
export type ApiErrorCode = keyof typeof API_ERROR_STATUS;

/**
 * The JSON error body. `missing`/`extra`/`stale` appear only with the device errors of a
 * single-recipient send, `accounts` only with the errors of a multi-recipient send,
 * `serverTime` only with `CLOCK_SKEW`, `freeDeviceIds` only with `DEVICE_ID_TAKEN`.
 */
export interface ApiErrorBody {
  readonly error: {
    readonly code: ApiErrorCode;
    readonly message: string;
    readonly missing?: readonly number[];
    readonly extra?: readonly number[];
    readonly stale?: readonly number[];
    /** The server clock (ms since the epoch) when it refused a request as `CLOCK_SKEW`. */
    readonly serverTime?: number;
    /** Device ids an added device may ask for instead (`DEVICE_ID_TAKEN`), ascending. */
    readonly freeDeviceIds?: readonly number[];
    /**
     * A multi-recipient send's refusal (docs/SERVICE.md §7.5): the accounts that failed the
     * check, in request order, each with its device lists for `DEVICE_MISMATCH` and
     * `STALE_DEVICES` (for `UNAUTHORIZED`, `INVALID_TOKEN`, `TOKEN_SPENT`, `REQUEST_LIMIT`,
     * `MAILBOX_FULL`, the address alone).
     */
    readonly accounts?: readonly MultiRecipientAccountError[];
  };
}

/** One account of a refused multi-recipient send (`ApiErrorBody.error.accounts`). */
export interface MultiRecipientAccountError {
  readonly address: string;
  readonly missing?: readonly number[];
  readonly extra?: readonly number[];
  readonly stale?: readonly number[];
}

/** True if `code` is one of the service's error codes. */
export function isApiErrorCode(code: unknown): code is ApiErrorCode {
  return typeof code === 'string' && Object.hasOwn(API_ERROR_STATUS, code);
}
