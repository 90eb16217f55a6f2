/**
 * Errors of the SDK client (docs/SDK.md §Errors). Protocol failures keep their own classes from
 * `sdk/errors.ts` (`IdentityChangedError`, `DecryptError`, …); this file adds what only the
 * client can see: a server error response (one class per detail shape, the code always on
 * `code`), a transport failure, a response that does not match the contract, a sealed send the
 * recipient did not authorize, and a client used before it is registered.
 *
 * Messages never carry key material, plaintext or access keys.
 */
import { SealpostError } from '../errors.ts';
import {
  API_ERROR_STATUS,
  type ApiErrorCode,
  isApiErrorCode,
  type MultiRecipientAccountError,
} from '../wire/api/errors.ts';
import { isAddress } from '../wire/identity.ts';

export type { MultiRecipientAccountError };

/** Codes the client raises besides the server's {@link ApiErrorCode}s. */
export type ClientOnlyErrorCode =
  | 'NETWORK'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'INVALID_RESPONSE'
  | 'SEALED_SEND_UNAUTHORIZED'
  | 'NOT_REGISTERED'
  | 'SEND_FAILED'
  | 'DEVICE_REMOVED'
  | 'ACCOUNT_KEY_REQUIRED'
  | 'ATTACHMENT_NOT_FOUND'
  | 'TRANSFER_FAILED'
  | 'ATTACHMENT_RESUME_MISMATCH'
  | 'REPORT_UNAVAILABLE'
  | 'SENDER_SUSPENDED'
  | 'BLOCKED_CONTACT'
  | 'NO_TOKENS'
  | 'TOKEN_KEYS_REFUSED';

/** Every code a {@link SealpostClientError} can carry. */
export type ClientErrorCode = ApiErrorCode | ClientOnlyErrorCode;

/**
 * Base class of every client error; switch on `code`. A {@link SealpostError}, so one
 * `instanceof SealpostError` catches everything the SDK throws.
 *
 * @example
 * try {
 *   await client.send(bob, 'hi');
 * } catch (err) {
 *   if (err instanceof SealpostClientError && err.retryable) scheduleRetry();
 *   else throw err;
 * }
 */
export class SealpostClientError extends SealpostError<ClientErrorCode> {
  /** Whether repeating the same call later may succeed. */
  readonly retryable: boolean;
  constructor(
    code: ClientErrorCode,
    message: string,
    options?: { cause?: unknown; retryable?: boolean },
  ) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.retryable = options?.retryable ?? false;
  }
}

/**
 * The server answered with an error body (docs/SERVICE.md §10). `code` is one of
 * the service's codes; `status` is the HTTP status from `API_ERROR_STATUS`.
 */
export class ApiError extends SealpostClientError {
  declare readonly code: ApiErrorCode;
  readonly status: number;
  /** The operation of `sdk/wire/api/routes.ts` that failed. */
  readonly operationId: string;
  /**
   * How long the server asked to wait before trying again (its `Retry-After` header, in ms),
   * when it sent one with a 429 or 503.
   */
  readonly retryAfterMs: number | undefined;
  /**
   * A refused multi-recipient send (`sendMulti`, `sendMultiIdentified`; docs/PROTOCOL.md §14.5):
   * the accounts that failed the check, in request order, each with its device lists for
   * `DEVICE_MISMATCH` and `STALE_DEVICES`. Empty for every other refusal.
   */
  readonly accounts: readonly MultiRecipientAccountError[];
  constructor(
    code: ApiErrorCode,
    status: number,
    operationId: string,
    message: string,
    retryAfterMs?: number,
    accounts: readonly MultiRecipientAccountError[] = [],
  ) {
    super(code, `${operationId}: ${code} (${status}): ${message}`, {
      retryable: code === 'UNAVAILABLE' || code === 'INTERNAL' || code === 'RATE_LIMITED',
    });
    this.status = status;
    this.operationId = operationId;
    this.retryAfterMs = retryAfterMs;
    this.accounts = accounts;
  }
}

/**
 * 409 `DEVICE_MISMATCH`: the send did not list exactly the recipient's active devices. For a
 * multi-recipient send `missing` and `extra` are empty and `accounts` names every account
 * whose list disagreed, with its own `missing` and `extra`.
 */
export class DeviceMismatchError extends ApiError {
  readonly missing: readonly number[];
  readonly extra: readonly number[];
  constructor(
    operationId: string,
    message: string,
    missing: readonly number[],
    extra: readonly number[],
    accounts: readonly MultiRecipientAccountError[] = [],
  ) {
    super('DEVICE_MISMATCH', 409, operationId, message, undefined, accounts);
    this.missing = missing;
    this.extra = extra;
  }
}

/**
 * 410 `STALE_DEVICES`: device ids named by the send now belong to new devices (reused ids).
 * For a multi-recipient send `stale` is empty and `accounts` names every account with stale
 * devices, with its own `stale`.
 */
export class StaleDevicesError extends ApiError {
  readonly stale: readonly number[];
  constructor(
    operationId: string,
    message: string,
    stale: readonly number[],
    accounts: readonly MultiRecipientAccountError[] = [],
  ) {
    super('STALE_DEVICES', 410, operationId, message, undefined, accounts);
    this.stale = stale;
  }
}

/**
 * The part of a refused send's device-list error that concerns `address`, in the shape of a
 * single-recipient refusal (its own `missing`/`extra` or `stale`), so one repair applies to a
 * per-device and a multi-recipient send alike. The error itself when it names no accounts
 * (a single-recipient send); undefined when its `accounts` do not name `address`.
 *
 * @example const mine = deviceRefusalFor(err, bob); if (mine) await fanout.repair(bob, mine);
 */
export function deviceRefusalFor(
  err: DeviceMismatchError | StaleDevicesError,
  address: string,
): DeviceMismatchError | StaleDevicesError | undefined {
  if (err.accounts.length === 0) return err;
  const account = err.accounts.find((a) => a.address === address);
  if (account === undefined) return undefined;
  const message = `${err.code} for one account of a multi-recipient send`;
  return err instanceof DeviceMismatchError
    ? new DeviceMismatchError(err.operationId, message, account.missing ?? [], account.extra ?? [])
    : new StaleDevicesError(err.operationId, message, account.stale ?? []);
}

/**
 * 401 `CLOCK_SKEW`: the signed timestamp was outside the server's window. `serverTime` is the
 * server clock (ms), absent if the body did not carry a usable one. The HTTP client corrects
 * its clock from it and signs the request again once before this reaches the caller.
 */
export class ClockSkewError extends ApiError {
  readonly serverTime: number | undefined;
  constructor(operationId: string, message: string, serverTime: number | undefined) {
    super('CLOCK_SKEW', 401, operationId, message);
    this.serverTime = serverTime;
  }
}

/** 409 `DEVICE_ID_TAKEN`: a linked device asked for an id in use; `freeDeviceIds` are free. */
export class DeviceIdTakenError extends ApiError {
  readonly freeDeviceIds: readonly number[];
  constructor(operationId: string, message: string, freeDeviceIds: readonly number[]) {
    super('DEVICE_ID_TAKEN', 409, operationId, message);
    this.freeDeviceIds = freeDeviceIds;
  }
}

/** Where a transport failure happened: the operation, the server's origin and the cause's code. */
export interface NetworkErrorDetails {
  /** The operation id of `sdk/wire/api/routes.ts`, e.g. `sendSealed`. */
  readonly operation?: string;
  /** The URL's origin (scheme, host, port); never its path, which names accounts. */
  readonly origin?: string;
  /** The system error code of the cause when there is one (`ECONNREFUSED`, `ENOTFOUND`, ...). */
  readonly causeCode?: string;
  readonly cause?: unknown;
}

/**
 * The request did not reach the server or its answer was cut off (`code` `NETWORK`), or it
 * took longer than the timeout ({@link TimeoutError}, `code` `TIMEOUT`). Safe to retry for
 * idempotent operations. The message names the operation, the origin and the cause's code, e.g.
 * `sendSealed: request to https://api.example.com failed (ECONNREFUSED)`.
 */
export class NetworkError extends SealpostClientError {
  declare readonly code: 'NETWORK' | 'TIMEOUT';
  readonly operation: string | undefined;
  readonly origin: string | undefined;
  readonly causeCode: string | undefined;
  constructor(
    message: string,
    details: NetworkErrorDetails = {},
    code: 'NETWORK' | 'TIMEOUT' = 'NETWORK',
  ) {
    super(code, message, {
      retryable: true,
      ...(details.cause === undefined ? {} : { cause: details.cause }),
    });
    this.operation = details.operation;
    this.origin = details.origin;
    this.causeCode = details.causeCode;
  }
}

/**
 * One request took longer than its timeout (`timeoutMs` of the client or of the call) and was
 * abandoned. A subclass of {@link NetworkError}: whether the server acted on it is unknown.
 */
export class TimeoutError extends NetworkError {
  declare readonly code: 'TIMEOUT';
  readonly timeoutMs: number;
  constructor(operation: string, origin: string, timeoutMs: number) {
    super(
      `${operation}: request to ${origin} timed out after ${timeoutMs} ms`,
      { operation, origin },
      'TIMEOUT',
    );
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The caller's `AbortSignal` aborted the call (during a request or a wait between retries).
 * `cause` is the signal's `reason`. Not retryable: the caller asked to stop.
 */
export class AbortedError extends SealpostClientError {
  declare readonly code: 'ABORTED';
  readonly operation: string;
  constructor(operation: string, reason: unknown) {
    super('ABORTED', `${operation}: aborted`, reason === undefined ? {} : { cause: reason });
    this.operation = operation;
  }
}

/** The server's answer does not match the API contract (`sdk/wire/api/schemas.ts`). */
export class InvalidResponseError extends SealpostClientError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_RESPONSE', message, options);
  }
}

/**
 * The recipient did not authorize a sealed send (no or a wrong delivery access key, and the
 * account is not unrestricted; an unknown recipient looks the same). Nothing was delivered.
 * The SDK never falls back to an identified send by itself: the app may call `send` again with
 * `{ identified: true }`, which reveals the sender to the server.
 */
export class SealedSendUnauthorizedError extends SealpostClientError {
  readonly recipient: string;
  constructor(recipient: string, options?: { cause?: unknown }) {
    super(
      'SEALED_SEND_UNAUTHORIZED',
      `sealed send to ${recipient} is not authorized (no valid access key); an identified send must be requested explicitly`,
      options,
    );
    this.recipient = recipient;
  }
}

/**
 * A send to an account this client blocked (docs/SDK.md, "Blocking and access keys"): nothing
 * was sent. Unblock it first (`client.unblock(address)`). The message does not name the
 * address; `address` does.
 */
export class BlockedContactError extends SealpostClientError {
  readonly address: string;
  constructor(address: string) {
    super('BLOCKED_CONTACT', 'the recipient is blocked; unblock it to send');
    this.address = address;
  }
}

/** The store holds no registered device (call `SealpostClient.register` or `link` first). */
export class NotRegisteredError extends SealpostClientError {
  constructor(message = 'this store holds no registered device') {
    super('NOT_REGISTERED', message);
  }
}

/** A send still failed after repairing the device list the allowed number of times. */
export class SendFailedError extends SealpostClientError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SEND_FAILED', message, { ...options, retryable: true });
  }
}

/**
 * A message came from a device its account removed, or from a device the service does not list
 * for that account (docs/SDK.md §Device removal). It is acknowledged and never shown.
 */
export class DeviceRemovedError extends SealpostClientError {
  readonly address: string;
  readonly deviceId: number;
  constructor(address: string, deviceId: number) {
    super('DEVICE_REMOVED', `device ${deviceId} of ${address} is not an active device`);
    this.address = address;
    this.deviceId = deviceId;
  }
}

/** The operation needs the account key, which only the account's first device holds. */
export class AccountKeyRequiredError extends SealpostClientError {
  constructor(message: string) {
    super('ACCOUNT_KEY_REQUIRED', message);
  }
}

/**
 * The attachment's blob is not in the object store (it answered 404): it has expired (blobs
 * live as long as messages, 30 days by default), was never completely uploaded, or the pointer
 * names an id that does not exist. Not retryable.
 */
export class AttachmentNotFoundError extends SealpostClientError {
  constructor(message = 'attachment not found: expired or never uploaded') {
    super('ATTACHMENT_NOT_FOUND', message);
  }
}

/** Where a transfer to or from the object store failed (never the URL's path or query). */
export interface TransferFailureDetails {
  /** What was transferred: `uploadForm`, `uploadPart`, `downloadBlob`, `checkBlob`. */
  readonly operation: string;
  /** The object store's origin (scheme, host, port). */
  readonly origin: string;
  /** The object store's HTTP status, when it answered. */
  readonly status?: number;
  readonly cause?: unknown;
}

/**
 * The object store refused or broke a transfer of attachment bytes (`code` `TRANSFER_FAILED`):
 * an error status other than 404 (a 403 after the presigned URL was refreshed, a 5xx after the
 * retries), or a response that is not what the transfer expects. `retryable` when the store
 * answered 5xx, 408 or 429. A transport failure of a transfer is a {@link NetworkError} instead,
 * and a blob that fails verification the cipher's own error.
 */
export class TransferFailedError extends SealpostClientError {
  readonly operation: string;
  readonly origin: string;
  readonly status: number | undefined;
  constructor(
    message: string,
    details: TransferFailureDetails = { operation: 'transfer', origin: '' },
  ) {
    const status = details.status;
    super('TRANSFER_FAILED', message, {
      retryable: status !== undefined && (status >= 500 || status === 408 || status === 429),
      ...(details.cause === undefined ? {} : { cause: details.cause }),
    });
    this.operation = details.operation;
    this.origin = details.origin;
    this.status = status;
  }
}

/**
 * A resumed upload was given other data than the upload it resumes: another size, or bytes
 * whose encryption under the stored key differs from a part already uploaded. Nothing of the
 * given data was kept; resume with the original data, or discard the upload.
 */
export class AttachmentResumeMismatchError extends SealpostClientError {
  constructor(message = 'the data differs from the upload being resumed') {
    super('ATTACHMENT_RESUME_MISMATCH', message);
  }
}

/**
 * A message cannot be reported from this device (docs/SDK.md §Reporting): the client holds no
 * record of it: it is older than the retention or was pruned, its conversation was deleted,
 * it is a copy of the own account's message or this device never received it, or the id is
 * unknown. Not retryable.
 */
export class ReportUnavailableError extends SealpostClientError {
  constructor(message = 'this device holds nothing to report this message with') {
    super('REPORT_UNAVAILABLE', message);
  }
}

/**
 * A message came from an account the service's signed revocation list names as suspended, and
 * the service received it no earlier than an hour before the suspension (docs/SDK.md
 * §Suspended senders). It is acknowledged and never shown.
 */
export class SenderSuspendedError extends SealpostClientError {
  readonly address: string;
  constructor(address: string) {
    super('SENDER_SUSPENDED', `the account ${address} is suspended`);
    this.address = address;
  }
}

/**
 * A message request (a sealed first message to an account whose access key this client does
 * not hold) found the token wallet empty (docs/SDK.md §Message requests): nothing was sent. A
 * refill is scheduled at a random time; the app may call `refillTokens()` and send again, or
 * send identified. Retryable.
 */
export class NoTokensError extends SealpostClientError {
  constructor() {
    super('NO_TOKENS', 'no anonymous token is held for a message request', { retryable: true });
  }
}

/**
 * The recipient has received its daily number of message requests (`429 REQUEST_LIMIT`,
 * docs/SDK.md §Message requests): the message was not delivered and its token is spent. Try
 * again the next UTC day. The message does not name the address; `recipient` does.
 */
export class RequestLimitError extends SealpostClientError {
  readonly recipient: string;
  constructor(recipient: string, options?: { cause?: unknown }) {
    super('REQUEST_LIMIT', 'the recipient takes no more message requests today', options);
    this.recipient = recipient;
  }
}

/** Why a token key list was refused (see {@link TokenKeysRefusedError}). */
export type TokenKeysRefusal = 'malformed' | 'signature' | 'key-changed' | 'no-issuing-key';

/**
 * The service's list of token issuer keys was refused (docs/SDK.md §Message requests), so no
 * token was fetched: `malformed` (it does not decode), `signature` (no server key that chains to
 * the pinned trust root signed it: unsigned, wrongly signed, or another deployment's root),
 * `key-changed` (it names another key for a UTC day than the one this client saw first for that
 * day: the service may be trying to tell this client's tokens apart), or `no-issuing-key` (it
 * names no key for the current day).
 */
export class TokenKeysRefusedError extends SealpostClientError {
  readonly reason: TokenKeysRefusal;
  constructor(reason: TokenKeysRefusal, options?: { cause?: unknown }) {
    super('TOKEN_KEYS_REFUSED', `the token key list was refused (${reason})`, options);
    this.reason = reason;
  }
}

interface ErrorBodyShape {
  error?: {
    code?: unknown;
    message?: unknown;
    missing?: unknown;
    extra?: unknown;
    stale?: unknown;
    serverTime?: unknown;
    freeDeviceIds?: unknown;
    accounts?: unknown;
  };
}

function idList(value: unknown): number[] {
  return Array.isArray(value)
    ? value
        .slice(0, MAX_LISTED_IDS)
        .filter((n): n is number => Number.isInteger(n) && n >= 1 && n <= 0xffffffff)
    : [];
}

/**
 * Device ids read from one list of an error body: a multi-recipient request names at most 12
 * devices per account, a device list holds at most 6 active ones; the bound only keeps a
 * misbehaving server from making the client copy a huge array.
 */
const MAX_LISTED_IDS = 64;
/** Accounts read from an error body: a multi-recipient request names at most 256. */
const MAX_LISTED_ACCOUNTS = 256;

/** The well-formed entries of an error body's `accounts` (others are left out). */
function accountList(value: unknown): MultiRecipientAccountError[] {
  if (!Array.isArray(value)) return [];
  const out: MultiRecipientAccountError[] = [];
  for (const entry of value.slice(0, MAX_LISTED_ACCOUNTS)) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { address, missing, extra, stale } = entry as Record<string, unknown>;
    if (!isAddress(address)) continue;
    out.push({
      address,
      ...(missing === undefined ? {} : { missing: idList(missing) }),
      ...(extra === undefined ? {} : { extra: idList(extra) }),
      ...(stale === undefined ? {} : { stale: idList(stale) }),
    });
  }
  return out;
}

/**
 * The typed error for an error response. A body that is not the service's error shape becomes
 * `INTERNAL` (5xx) or `BAD_REQUEST` (other statuses) so callers still get an {@link ApiError}.
 *
 * @example throw apiErrorFromBody('sendSealed', 409, await res.json());
 * @example apiErrorFromBody('fetchBundles', 429, body, 30_000).retryAfterMs // 30000
 */
export function apiErrorFromBody(
  operationId: string,
  status: number,
  body: unknown,
  retryAfterMs?: number,
): ApiError {
  const err = (body as ErrorBodyShape | null)?.error;
  const message = typeof err?.message === 'string' ? err.message.slice(0, 200) : 'error';
  const code: ApiErrorCode = isApiErrorCode(err?.code)
    ? err.code
    : status >= 500
      ? status === 503
        ? 'UNAVAILABLE'
        : 'INTERNAL'
      : 'BAD_REQUEST';
  const accounts = accountList(err?.accounts);
  if (code === 'DEVICE_MISMATCH') {
    return new DeviceMismatchError(
      operationId,
      message,
      idList(err?.missing),
      idList(err?.extra),
      accounts,
    );
  }
  if (code === 'STALE_DEVICES') {
    return new StaleDevicesError(operationId, message, idList(err?.stale), accounts);
  }
  if (code === 'CLOCK_SKEW') {
    const t = err?.serverTime;
    const serverTime = typeof t === 'number' && Number.isSafeInteger(t) && t >= 0 ? t : undefined;
    return new ClockSkewError(operationId, message, serverTime);
  }
  if (code === 'DEVICE_ID_TAKEN') {
    return new DeviceIdTakenError(operationId, message, idList(err?.freeDeviceIds));
  }
  return new ApiError(
    code,
    isApiErrorCode(err?.code) ? API_ERROR_STATUS[code] : status,
    operationId,
    message,
    retryAfterMs,
    accounts,
  );
}
