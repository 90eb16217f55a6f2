/**
 * The typed HTTP client of the service API, built from the route table in
 * `sdk/wire/api/routes.ts`: each method names an operation; the table gives its method, path,
 * authentication, retry safety and response schema, and every response is checked against that
 * schema before it is returned (the server is not trusted to send well-formed data). Errors
 * become the typed classes of `./errors.ts`. `fetch` is injectable, so the same client runs over
 * the network, in a browser, or against an in-process app (`@sealpost/testing`).
 *
 * Every method takes an optional last {@link CallOptions} (`signal`, `timeoutMs`); the request
 * engine, retries and the clock correction live in `./http-caller.ts` (docs/SDK.md, "Call
 * controls").
 */

import { ArgumentRangeError } from '../util/argument-errors.ts';
import {
  MAX_FETCH_BATCH,
  MAX_FETCH_ACK_IDS as WIRE_MAX_FETCH_ACK_IDS,
} from '../wire/api/limits.ts';
import type { ResponseOf } from '../wire/api/route-types.ts';
import type {
  AccountSettings,
  AddDeviceRequest,
  CreateAttachmentRequest,
  PrekeyUpload,
  PushSubscriptionBody,
  RegisterRequest,
  ReportRequest,
  SendRequest,
  TokenIssueRequest,
} from '../wire/api/schemas.ts';
import type { CallOptions } from './call-options.ts';
import { DeviceIdTakenError } from './errors.ts';
import { HttpCaller, type HttpClientOptions, type ProofBody } from './http-caller.ts';

export type { FetchLike } from './http-transport.ts';
export type { HttpClientOptions, ProofBody };

/**
 * How a sealed request is authorized: the recipient's access key, an anonymous token (a
 * message request), or neither (a recipient that takes anyone's sealed messages).
 */
export type SealedAuth =
  | { readonly accessKey: Uint8Array; readonly token?: undefined }
  | { readonly token: Uint8Array; readonly accessKey?: undefined }
  | { readonly accessKey?: undefined; readonly token?: undefined };

/**
 * How a sealed read (the device list) is authorized: the listed account's access key, or
 * nothing for an account that takes anyone's sealed messages. No token.
 */
export type SealedReadAuth =
  | { readonly accessKey: Uint8Array }
  | { readonly accessKey?: undefined };

/**
 * `bytes` over a plain `ArrayBuffer`, as the binary route schema types it: a view of a
 * shared buffer is copied.
 */
function ownBuffer(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer
    ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    : bytes.slice();
}

/**
 * Most message ids one fetch acknowledges (`ack` of {@link SealpostHttpClient.fetchMessages},
 * the wire contract's limit): more go in `POST /v1/messages/ack`.
 */
export const MAX_FETCH_ACK_IDS = WIRE_MAX_FETCH_ACK_IDS;

/** Builds an add-device body for a timestamp and the device id to ask for. */
export type LinkBody = (timestamp: number, deviceId: number) => Promise<AddDeviceRequest>;

/**
 * One method per operation of API version 1.
 *
 * @example
 * const http = new SealpostHttpClient({ baseUrl: 'http://127.0.0.1:8787', timeoutMs: 10_000 });
 * const { trustRoot } = await http.serverCertificate({ signal: AbortSignal.timeout(5_000) });
 */
export class SealpostHttpClient extends HttpCaller {
  /**
   * `GET /v1/health`.
   *
   * @throws {ApiError | NetworkError | AbortedError} as every method.
   */
  health(call?: CallOptions): Promise<ResponseOf<'health'>> {
    return this.call('health', { params: {} }, call);
  }

  /**
   * `PUT /v1/accounts/{address}`: register an account with device 1. Pass a {@link ProofBody}
   * so the proof is signed at the corrected time (and again after a `CLOCK_SKEW`).
   *
   * @throws {ApiError} e.g. `ACCOUNT_EXISTS`.
   */
  registerAccount(
    address: string,
    body: RegisterRequest | ProofBody<RegisterRequest>,
    call?: CallOptions,
  ): Promise<ResponseOf<'registerAccount'>> {
    return typeof body === 'function'
      ? this.call('registerAccount', { params: { address }, build: body }, call)
      : this.call('registerAccount', { params: { address }, body }, call);
  }

  /**
   * `POST /v1/accounts/{address}/devices`: link another device under the id its body names.
   * With a {@link LinkBody} the client asks for `options.deviceId` (default 2) and, when that id
   * is taken, once more for the smallest free id the server lists.
   *
   * @throws {DeviceIdTakenError} if the id is taken (and, for a builder, the retry too).
   */
  async addDevice(
    address: string,
    body: AddDeviceRequest | LinkBody,
    options: { deviceId?: number } = {},
    call?: CallOptions,
  ): Promise<ResponseOf<'addDevice'>> {
    if (typeof body !== 'function') {
      return this.call('addDevice', { params: { address }, body }, call);
    }
    const first = options.deviceId ?? 2;
    try {
      return await this.call(
        'addDevice',
        { params: { address }, build: (t) => body(t, first) },
        call,
      );
    } catch (err) {
      const next = err instanceof DeviceIdTakenError ? err.freeDeviceIds[0] : undefined;
      if (next === undefined) throw err;
      return this.call('addDevice', { params: { address }, build: (t) => body(t, next) }, call);
    }
  }

  /** `GET /v1/accounts/{address}/devices` (owner-signed). */
  listDevices(address: string, call?: CallOptions): Promise<ResponseOf<'listDevices'>> {
    return this.call('listDevices', { params: { address } }, call);
  }

  /**
   * `DELETE /v1/devices/{deviceId}` (owner-signed, own account only). Removing a device other
   * than the signing one needs `accountSeed`: the account key then co-signs the request. Not
   * idempotent (a repeat answers `NOT_FOUND`), so retried only when the request never left.
   *
   * @throws {ApiError} `FORBIDDEN` when removing another device without the account key.
   */
  removeDevice(
    deviceId: number,
    options: { accountSeed?: Uint8Array } = {},
    call?: CallOptions,
  ): Promise<ResponseOf<'removeDevice'>> {
    return this.call(
      'removeDevice',
      {
        params: { deviceId },
        ...(options.accountSeed ? { accountSeed: options.accountSeed } : {}),
      },
      call,
    );
  }

  /** `PUT /v1/account/settings` (owner-signed). */
  updateSettings(body: AccountSettings, call?: CallOptions): Promise<ResponseOf<'updateSettings'>> {
    return this.call('updateSettings', { params: {}, body }, call);
  }

  /**
   * `PUT /v1/account/blocks/{address}` (owner-signed): block an account; its identified sends
   * are refused with `403 BLOCKED`. `added` is false when it was blocked already.
   *
   * @throws {ApiError} `BLOCK_LIMIT`; `BAD_REQUEST` for the own address.
   */
  blockAccount(address: string, call?: CallOptions): Promise<ResponseOf<'blockAccount'>> {
    return this.call('blockAccount', { params: { address } }, call);
  }

  /** `DELETE /v1/account/blocks/{address}` (owner-signed): unblock an account. */
  unblockAccount(address: string, call?: CallOptions): Promise<ResponseOf<'unblockAccount'>> {
    return this.call('unblockAccount', { params: { address } }, call);
  }

  /** `GET /v1/account/blocks` (owner-signed): every account the own account blocks. */
  listBlocked(call?: CallOptions): Promise<ResponseOf<'listBlocked'>> {
    return this.call('listBlocked', { params: {} }, call);
  }

  /** `PUT /v1/prekeys` (owner-signed). */
  uploadPrekeys(body: PrekeyUpload, call?: CallOptions): Promise<ResponseOf<'uploadPrekeys'>> {
    return this.call('uploadPrekeys', { params: {}, body }, call);
  }

  /** `GET /v1/prekeys/count` (owner-signed). */
  countPrekeys(call?: CallOptions): Promise<ResponseOf<'countPrekeys'>> {
    return this.call('countPrekeys', { params: {} }, call);
  }

  /** `GET /v1/bundles/{address}` (owner-signed; claims one-time keys of every device). */
  fetchBundles(address: string, call?: CallOptions): Promise<ResponseOf<'fetchBundles'>> {
    return this.call('fetchBundles', { params: { address } }, call);
  }

  /** `GET /v1/bundles/{address}/{deviceId}` (owner-signed). */
  fetchDeviceBundle(
    address: string,
    deviceId: number,
    call?: CallOptions,
  ): Promise<ResponseOf<'fetchDeviceBundle'>> {
    return this.call('fetchDeviceBundle', { params: { address, deviceId } }, call);
  }

  /**
   * `GET /v1/sealed/bundles/{address}`: the bundles of every device, authorized like a sealed
   * send (the recipient's access key, a token, or nothing) and not naming the caller.
   */
  fetchSealedBundles(
    address: string,
    auth: SealedAuth,
    call?: CallOptions,
  ): Promise<ResponseOf<'fetchSealedBundles'>> {
    return this.call('fetchSealedBundles', { params: { address }, ...auth }, call);
  }

  /** `GET /v1/sealed/bundles/{address}/{deviceId}` (authorized like a sealed send). */
  fetchSealedDeviceBundle(
    address: string,
    deviceId: number,
    auth: SealedAuth,
    call?: CallOptions,
  ): Promise<ResponseOf<'fetchSealedDeviceBundle'>> {
    return this.call('fetchSealedDeviceBundle', { params: { address, deviceId }, ...auth }, call);
  }

  /**
   * `GET /v1/sealed/devices/{address}`: the account's device list (as {@link listDevices})
   * without naming the caller, authorized by the listed account's access key, or by nothing for
   * an account that takes anyone's sealed messages. Tokens are not accepted here.
   *
   * @throws {ApiError} `UNAUTHORIZED` (a wrong key and an unknown account alike),
   *   `RATE_LIMITED`.
   * @example const { devices } = await http.fetchSealedDevices(contact, { accessKey });
   */
  fetchSealedDevices(
    address: string,
    auth: SealedReadAuth,
    call?: CallOptions,
  ): Promise<ResponseOf<'fetchSealedDevices'>> {
    return this.call('fetchSealedDevices', { params: { address }, ...auth }, call);
  }

  /** `GET /v1/tokens/keys`: the signed issuer key list (verified by the client before use). */
  tokenKeys(call?: CallOptions): Promise<ResponseOf<'tokenKeys'>> {
    return this.call('tokenKeys', { params: {} }, call);
  }

  /**
   * `POST /v1/tokens` (owner-signed): blind signatures for up to 20 token requests. Not
   * retried after an unknown outcome (a retry would count against the quota again).
   *
   * @throws {ApiError} `STALE_TOKEN_KEY` (409), `TOKEN_QUOTA_EXCEEDED` (429).
   */
  issueTokens(body: TokenIssueRequest, call?: CallOptions): Promise<ResponseOf<'issueTokens'>> {
    return this.call('issueTokens', { params: {}, body }, call);
  }

  /** `GET /v1/certificates/server`. */
  serverCertificate(call?: CallOptions): Promise<ResponseOf<'serverCertificate'>> {
    return this.call('serverCertificate', { params: {} }, call);
  }

  /** `POST /v1/certificates/sender` (owner-signed). */
  senderCertificate(call?: CallOptions): Promise<ResponseOf<'senderCertificate'>> {
    return this.call('senderCertificate', { params: {} }, call);
  }

  /**
   * `GET /v1/certificates/revocations`: the service's signed list of suspended accounts
   * (`sdk/wire/revocations.ts`; the client verifies it before use).
   */
  certificateRevocations(call?: CallOptions): Promise<ResponseOf<'certificateRevocations'>> {
    return this.call('certificateRevocations', { params: {} }, call);
  }

  /**
   * `POST /v1/reports` (owner-signed): report a received message with its franking evidence.
   * The same report again answers the same `reportId` with `duplicate: true`.
   *
   * @throws {ApiError} `REPORT_UNVERIFIABLE` (422), `RATE_LIMITED` (429).
   */
  submitReport(body: ReportRequest, call?: CallOptions): Promise<ResponseOf<'submitReport'>> {
    return this.call('submitReport', { params: {}, body }, call);
  }

  /**
   * `PUT /v1/messages/{address}`: sealed send, authorized only by the recipient's access key,
   * or by an anonymous token for a recipient that takes message requests (neither: the
   * recipient may take anyone's). Carries no sender identity. Retried safely: the server
   * deduplicates by the body's request id, and accepts a token again for the same request id.
   */
  sendSealed(
    address: string,
    body: SendRequest,
    auth: SealedAuth,
    call?: CallOptions,
  ): Promise<ResponseOf<'sendSealed'>> {
    return this.call('sendSealed', { params: { address }, body, ...auth }, call);
  }

  /** `PUT /v1/messages/{address}/identified` (owner-signed: the server learns the sender). */
  sendIdentified(
    address: string,
    body: SendRequest,
    call?: CallOptions,
  ): Promise<ResponseOf<'sendIdentified'>> {
    return this.call('sendIdentified', { params: { address }, body }, call);
  }

  /**
   * `PUT /v1/messages/multi`: a multi-recipient sealed send (docs/PROTOCOL.md §14.4), `body`
   * from `encodeMultiRecipientRequest`. Anonymous like {@link sendSealed}: no signature and no
   * access-key header, each account's authorization is inside the body. Retried safely (the
   * server deduplicates by the body's request id).
   *
   * @throws {DeviceMismatchError | StaleDevicesError} with `accounts` (409/410, per account).
   * @throws {ApiError} `UNAUTHORIZED`, `INVALID_TOKEN`, `TOKEN_SPENT`, `REQUEST_LIMIT` with
   *   `accounts` naming the refused accounts; `MAILBOX_FULL`; `BAD_REQUEST` for a body the
   *   service cannot decode.
   * @example const { messageId } = await http.sendMulti(encodeMultiRecipientRequest(request));
   */
  sendMulti(body: Uint8Array, call?: CallOptions): Promise<ResponseOf<'sendMulti'>> {
    return this.call('sendMulti', { params: {}, body: ownBuffer(body) }, call);
  }

  /**
   * `PUT /v1/messages/multi/identified` (owner-signed over the binary body): the copies of a
   * message for the own account's other devices as one multi-recipient request naming the own
   * account alone, authorization kind none (docs/PROTOCOL.md §14.10).
   *
   * @throws {DeviceMismatchError | StaleDevicesError} with `accounts` (409/410).
   * @throws {ApiError} `ACCOUNT_SUSPENDED`, `MAILBOX_FULL`, `BAD_REQUEST`, the owner errors.
   * @example await http.sendMultiIdentified(encodeMultiRecipientRequest(copies));
   */
  sendMultiIdentified(
    body: Uint8Array,
    call?: CallOptions,
  ): Promise<ResponseOf<'sendMultiIdentified'>> {
    return this.call('sendMultiIdentified', { params: {}, body: ownBuffer(body) }, call);
  }

  /**
   * `GET /v1/messages` (owner-signed), oldest first; `limit` is 1..100. Multi-recipient
   * messages come with their shared payload (`payloads=1`, docs/PROTOCOL.md §14.6) unless
   * `payloads` is false (then as the header alone, which no client can open). `ack` (1 to
   * {@link MAX_FETCH_ACK_IDS} distinct ids) acknowledges those messages first, as
   * {@link ackMessages} would, in the same request (docs/SERVICE.md §7.2).
   *
   * @throws {ArgumentRangeError} if `ack` is empty, lists more than {@link MAX_FETCH_ACK_IDS}
   *   ids, or one twice.
   * @example const page = await http.fetchMessages({ cursor, ack: committedIds });
   */
  async fetchMessages(
    options: {
      limit?: number;
      cursor?: string;
      ack?: readonly string[];
      payloads?: boolean;
    } = {},
    call?: CallOptions,
  ): Promise<ResponseOf<'fetchMessages'>> {
    const { ack } = options;
    if (
      ack !== undefined &&
      (ack.length === 0 || ack.length > MAX_FETCH_ACK_IDS || new Set(ack).size !== ack.length)
    ) {
      throw new ArgumentRangeError(`ack must list 1..${MAX_FETCH_ACK_IDS} distinct message ids`);
    }
    const query = {
      limit: options.limit,
      cursor: options.cursor,
      payloads: options.payloads === false ? undefined : '1',
      ack: ack?.join(','),
    };
    return await this.call('fetchMessages', { params: {}, query }, call);
  }

  /** `POST /v1/messages/ack` (owner-signed). */
  ackMessages(
    messageIds: readonly string[],
    call?: CallOptions,
  ): Promise<ResponseOf<'ackMessages'>> {
    return this.call('ackMessages', { params: {}, body: { messageIds: [...messageIds] } }, call);
  }

  /**
   * `GET /v1/push/key`: the VAPID public key to subscribe with.
   *
   * @throws {ApiError} `NOT_CONFIGURED` when the deployment has no wake-ups.
   */
  pushKey(call?: CallOptions): Promise<ResponseOf<'pushKey'>> {
    return this.call('pushKey', { params: {} }, call);
  }

  /**
   * `PUT /v1/devices/me/push` (owner-signed): store this device's Web Push subscription.
   *
   * @throws {ApiError} `NOT_CONFIGURED`; `BAD_REQUEST` for an endpoint the service refuses.
   */
  subscribePush(
    body: PushSubscriptionBody,
    call?: CallOptions,
  ): Promise<ResponseOf<'subscribePush'>> {
    return this.call('subscribePush', { params: {}, body }, call);
  }

  /** `DELETE /v1/devices/me/push` (owner-signed): remove this device's subscription. */
  unsubscribePush(call?: CallOptions): Promise<ResponseOf<'unsubscribePush'>> {
    return this.call('unsubscribePush', { params: {} }, call);
  }

  /**
   * `POST /v1/attachments` (owner-signed): start an upload of a blob of `size` bytes (the padded,
   * encrypted size). Not idempotent: a repeat starts another upload.
   *
   * @throws {ApiError} `ATTACHMENT_TOO_LARGE`, `RATE_LIMITED`, `QUOTA_EXCEEDED`.
   */
  createAttachment(
    body: CreateAttachmentRequest,
    call?: CallOptions,
  ): Promise<ResponseOf<'createAttachment'>> {
    return this.call('createAttachment', { params: {}, body }, call);
  }

  /**
   * `GET /v1/attachments/{attachmentId}/upload` (owner-signed): the parts in place and fresh
   * presigned part URLs.
   *
   * @throws {ApiError} `NOT_FOUND` for an unknown, finished or expired upload.
   */
  attachmentUploadStatus(
    attachmentId: string,
    call?: CallOptions,
  ): Promise<ResponseOf<'attachmentUploadStatus'>> {
    return this.call('attachmentUploadStatus', { params: { attachmentId } }, call);
  }

  /**
   * `POST /v1/attachments/{attachmentId}/complete` (owner-signed).
   *
   * @throws {ApiError} `UPLOAD_INCOMPLETE`; `NOT_FOUND` (also when an earlier attempt completed it).
   */
  completeAttachment(
    attachmentId: string,
    call?: CallOptions,
  ): Promise<ResponseOf<'completeAttachment'>> {
    return this.call('completeAttachment', { params: { attachmentId } }, call);
  }

  /** `DELETE /v1/attachments/{attachmentId}` (owner-signed): abandon an unfinished upload. */
  abortAttachment(
    attachmentId: string,
    call?: CallOptions,
  ): Promise<ResponseOf<'abortAttachment'>> {
    return this.call('abortAttachment', { params: { attachmentId } }, call);
  }

  /** `GET /v1/attachments/{attachmentId}` (unsigned): a presigned download URL of the blob. */
  downloadAttachment(
    attachmentId: string,
    call?: CallOptions,
  ): Promise<ResponseOf<'downloadAttachment'>> {
    return this.call('downloadAttachment', { params: { attachmentId } }, call);
  }
}
