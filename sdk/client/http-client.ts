/**
 * The typed HTTP client of the service API, built from the route table in
 * `sdk/wire/api/routes.ts`: each method names an operation, the table gives its method, path,
 * authentication and response schema, and every response is checked against that schema before
 * it is returned (the server is not trusted to send well-formed data). Errors become the typed
 * classes of `./errors.ts`. `fetch` is injectable, so the same client runs over the network, in
 * a browser, or against an in-process app (`sealpost/testing`).
 *
 * Signed requests and proofs name the pinned trust root as their audience and take their
 * timestamp from the local clock plus an offset learnt from the server: a `CLOCK_SKEW` answer
 * sets the offset (bounded by `MAX_CLOCK_OFFSET_MS`) and the request is signed again with a
 * fresh nonce, once (docs/SERVICE.md §3.1).
 */
import * as v from 'valibot';
import { type CryptoBackend, type Rng, systemRng } from '../crypto/backend.ts';
import { defaultBackend } from '../crypto/index.ts';
import { ArgumentTypeError } from '../util/argument-errors.ts';
import { utf8 } from '../util/bytes.ts';
import { toBase64Url } from '../wire/api/codec.ts';
import { ROUTES, type RouteSpec } from '../wire/api/routes.ts';
import type {
  AccountSettings,
  AckResponse,
  AddDeviceRequest,
  BundleResponse,
  DeviceList,
  DeviceRegistered,
  DeviceRemoved,
  FetchResponse,
  PrekeyCount,
  PrekeyUpload,
  RegisterRequest,
  SenderCertificateResponse,
  SendRequest,
  SendResponse,
  ServerCertificateResponse,
} from '../wire/api/schemas.ts';
import { ACCESS_KEY_HEADER, AUDIENCE_BYTES } from '../wire/api/signing.ts';
import {
  ApiError,
  apiErrorFromBody,
  ClockSkewError,
  DeviceIdTakenError,
  InvalidResponseError,
  NetworkError,
  NotRegisteredError,
} from './errors.ts';
import { clockOffset, type RequestSigner, signRequest } from './request-signing.ts';

/** The subset of the WHATWG `fetch` the client uses. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** Options of {@link SealpostHttpClient}. */
export interface HttpClientOptions {
  /** Where the API is served, e.g. `https://api.example.com` or `http://127.0.0.1:8787`. */
  readonly baseUrl: string;
  /** @default globalThis.fetch */
  readonly fetch?: FetchLike;
  /** Signs owner-authenticated requests; required for every `owner` route. */
  readonly signer?: RequestSigner;
  /**
   * The pinned trust root public key (32 bytes): the audience every request signature and
   * registration proof names. Required for `owner` routes and proofs.
   */
  readonly trustRoot?: Uint8Array;
  /** @default the runtime's default backend (SHA-256 and Ed25519 for request signatures) */
  readonly backend?: CryptoBackend;
  /** @default the platform CSPRNG (request nonces) */
  readonly rng?: Rng;
  /** @default Date.now */
  readonly now?: () => number;
  /** Extra attempts after a network failure or a 503. @default 2 */
  readonly retries?: number;
}

type OperationId =
  | 'health'
  | 'registerAccount'
  | 'addDevice'
  | 'listDevices'
  | 'removeDevice'
  | 'updateSettings'
  | 'uploadPrekeys'
  | 'countPrekeys'
  | 'fetchBundles'
  | 'fetchDeviceBundle'
  | 'serverCertificate'
  | 'senderCertificate'
  | 'sendSealed'
  | 'sendIdentified'
  | 'fetchMessages'
  | 'ackMessages';

/**
 * Builds a request body that carries a signed timestamp (a registration or link proof) for
 * the given time; the client calls it again with the corrected time after `CLOCK_SKEW`.
 */
export type ProofBody<T> = (timestamp: number) => Promise<T>;

/** Builds an add-device body for a timestamp and the device id to ask for. */
export type LinkBody = (timestamp: number, deviceId: number) => Promise<AddDeviceRequest>;

interface CallOptions {
  readonly params?: Readonly<Record<string, string | number>>;
  readonly query?: Readonly<Record<string, string | undefined>>;
  readonly body?: unknown;
  /** A body built per attempt from the corrected clock (instead of `body`). */
  readonly build?: ProofBody<unknown>;
  readonly accessKey?: Uint8Array;
  /** Co-sign the request with this account seed (`x-sealpost-account-signature`). */
  readonly accountSeed?: Uint8Array;
}

const BY_ID = new Map(ROUTES.map((r) => [r.operationId, r]));

function routeOf(op: OperationId): RouteSpec {
  const route = BY_ID.get(op);
  if (!route) throw new ArgumentTypeError(`unknown operation ${op}`);
  return route;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One method per operation of API version 1.
 *
 * @example
 * const http = new SealpostHttpClient({ baseUrl: 'http://127.0.0.1:8787' });
 * const { trustRoot } = await http.serverCertificate();
 */
export class SealpostHttpClient {
  private readonly baseUrl: string;
  private readonly fetchFn: FetchLike;
  private readonly backend: CryptoBackend;
  private readonly rng: Rng;
  private readonly now: () => number;
  private readonly retries: number;
  private readonly audience: Uint8Array | undefined;
  private signer: RequestSigner | undefined;
  private clockOffsetMs = 0;

  /**
   * @throws {TypeError} if `baseUrl` is not an absolute http(s) URL or `trustRoot` is not
   *   32 bytes.
   */
  constructor(options: HttpClientOptions) {
    const url = new URL(options.baseUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ArgumentTypeError('baseUrl must be an http(s) URL');
    }
    this.baseUrl = url.href.replace(/\/+$/, '');
    this.fetchFn = options.fetch ?? ((u, init) => globalThis.fetch(u, init));
    this.backend = options.backend ?? defaultBackend;
    this.rng = options.rng ?? systemRng;
    this.now = options.now ?? Date.now;
    this.retries = options.retries ?? 2;
    this.signer = options.signer;
    if (
      options.trustRoot !== undefined &&
      (!(options.trustRoot instanceof Uint8Array) || options.trustRoot.length !== AUDIENCE_BYTES)
    ) {
      throw new ArgumentTypeError(`trustRoot must be a ${AUDIENCE_BYTES}-byte Uint8Array`);
    }
    this.audience = options.trustRoot;
  }

  /**
   * The pinned trust root every signature names (the audience of docs/SERVICE.md §3.1).
   *
   * @throws {TypeError} if the client was built without `trustRoot`.
   */
  get trustRoot(): Uint8Array {
    if (!this.audience) throw new ArgumentTypeError('signed requests need the trustRoot option');
    return this.audience;
  }

  /** The local clock corrected by the offset the server reported (`CLOCK_SKEW`), in ms. */
  serverNow(): number {
    return Math.floor(this.now()) + this.clockOffsetMs;
  }

  /** The correction currently added to the local clock, in ms (0 until a `CLOCK_SKEW`). */
  get clockOffset(): number {
    return this.clockOffsetMs;
  }

  /** Sets the device owner requests are signed as (after registration). */
  setSigner(signer: RequestSigner): void {
    this.signer = signer;
  }

  /** `GET /v1/health`. */
  health(): Promise<{ status: 'ok' }> {
    return this.call('health', {});
  }

  /**
   * `PUT /v1/accounts/{address}`: register an account with device 1. Pass a {@link ProofBody}
   * so the proof is signed at the corrected time (and again after a `CLOCK_SKEW`).
   */
  registerAccount(
    address: string,
    body: RegisterRequest | ProofBody<RegisterRequest>,
  ): Promise<DeviceRegistered> {
    return typeof body === 'function'
      ? this.call('registerAccount', { params: { address }, build: body })
      : this.call('registerAccount', { params: { address }, body });
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
  ): Promise<DeviceRegistered> {
    if (typeof body !== 'function') return this.call('addDevice', { params: { address }, body });
    const first = options.deviceId ?? 2;
    try {
      return await this.call('addDevice', { params: { address }, build: (t) => body(t, first) });
    } catch (err) {
      const next = err instanceof DeviceIdTakenError ? err.freeDeviceIds[0] : undefined;
      if (next === undefined) throw err;
      return this.call('addDevice', { params: { address }, build: (t) => body(t, next) });
    }
  }

  /** `GET /v1/accounts/{address}/devices` (owner-signed). */
  listDevices(address: string): Promise<DeviceList> {
    return this.call('listDevices', { params: { address } });
  }

  /**
   * `DELETE /v1/devices/{deviceId}` (owner-signed, own account only). Removing a device other
   * than the signing one needs `accountSeed`: the account key then co-signs the request.
   *
   * @throws {ApiError} `FORBIDDEN` when removing another device without the account key.
   */
  removeDevice(
    deviceId: number,
    options: { accountSeed?: Uint8Array } = {},
  ): Promise<DeviceRemoved> {
    return this.call('removeDevice', {
      params: { deviceId },
      ...(options.accountSeed ? { accountSeed: options.accountSeed } : {}),
    });
  }

  /** `PUT /v1/account/settings` (owner-signed). */
  updateSettings(body: AccountSettings): Promise<AccountSettings> {
    return this.call('updateSettings', { body });
  }

  /** `PUT /v1/prekeys` (owner-signed). */
  uploadPrekeys(body: PrekeyUpload): Promise<PrekeyCount> {
    return this.call('uploadPrekeys', { body });
  }

  /** `GET /v1/prekeys/count` (owner-signed). */
  countPrekeys(): Promise<PrekeyCount> {
    return this.call('countPrekeys', {});
  }

  /** `GET /v1/bundles/{address}` (owner-signed; claims one-time keys of every device). */
  fetchBundles(address: string): Promise<BundleResponse> {
    return this.call('fetchBundles', { params: { address } });
  }

  /** `GET /v1/bundles/{address}/{deviceId}` (owner-signed). */
  fetchDeviceBundle(address: string, deviceId: number): Promise<BundleResponse> {
    return this.call('fetchDeviceBundle', { params: { address, deviceId } });
  }

  /** `GET /v1/certificates/server`. */
  serverCertificate(): Promise<ServerCertificateResponse> {
    return this.call('serverCertificate', {});
  }

  /** `POST /v1/certificates/sender` (owner-signed). */
  senderCertificate(): Promise<SenderCertificateResponse> {
    return this.call('senderCertificate', {});
  }

  /**
   * `PUT /v1/messages/{address}`: sealed send, authorized only by the recipient's access key
   * (omitted when undefined: the recipient may be unrestricted). Carries no sender identity.
   */
  sendSealed(
    address: string,
    body: SendRequest,
    accessKey: Uint8Array | undefined,
  ): Promise<SendResponse> {
    return this.call('sendSealed', {
      params: { address },
      body,
      ...(accessKey ? { accessKey } : {}),
    });
  }

  /** `PUT /v1/messages/{address}/identified` (owner-signed: the server learns the sender). */
  sendIdentified(address: string, body: SendRequest): Promise<SendResponse> {
    return this.call('sendIdentified', { params: { address }, body });
  }

  /** `GET /v1/messages` (owner-signed), oldest first. */
  fetchMessages(options: { limit?: number; cursor?: string } = {}): Promise<FetchResponse> {
    return this.call('fetchMessages', {
      query: {
        limit: options.limit === undefined ? undefined : String(options.limit),
        cursor: options.cursor,
      },
    });
  }

  /** `POST /v1/messages/ack` (owner-signed). */
  ackMessages(messageIds: readonly string[]): Promise<AckResponse> {
    return this.call('ackMessages', { body: { messageIds } });
  }

  private async call<T>(op: OperationId, options: CallOptions): Promise<T> {
    const route = routeOf(op);
    const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = options.params?.[name];
      if (value === undefined) throw new ArgumentTypeError(`missing path parameter ${name}`);
      return encodeURIComponent(String(value));
    });
    const search = Object.entries(options.query ?? {})
      .filter((e): e is [string, string] => e[1] !== undefined)
      .map(([k, val]) => `${encodeURIComponent(k)}=${encodeURIComponent(val)}`)
      .join('&');
    const url = new URL(`${this.baseUrl}${path}${search ? `?${search}` : ''}`);
    const fixed = options.body === undefined ? undefined : utf8(JSON.stringify(options.body));
    let skewRetried = false;
    for (let attempt = 0; ; ) {
      try {
        const body = options.build
          ? utf8(JSON.stringify(await options.build(this.serverNow())))
          : fixed;
        return await this.attempt<T>(route, url, body, options);
      } catch (err) {
        if (err instanceof ClockSkewError && !skewRetried) {
          const offset = clockOffset(err.serverTime, this.now());
          if (offset !== undefined) {
            // Signed afresh (new timestamp and nonce) at once; later requests keep the offset.
            this.clockOffsetMs = offset;
            skewRetried = true;
            continue;
          }
        }
        const transient =
          err instanceof NetworkError || (err instanceof ApiError && err.code === 'UNAVAILABLE');
        if (!transient || attempt >= this.retries) throw err;
        await sleep(100 * 4 ** attempt);
        attempt++;
      }
    }
  }

  private async attempt<T>(
    route: RouteSpec,
    url: URL,
    body: Uint8Array | undefined,
    options: CallOptions,
  ): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body) headers['content-type'] = 'application/json';
    if (options.accessKey) headers[ACCESS_KEY_HEADER] = toBase64Url(options.accessKey);
    if (route.auth === 'owner') {
      if (!this.signer)
        throw new NotRegisteredError(`${route.operationId} needs a registered device`);
      const accountSeed = options.accountSeed;
      Object.assign(
        headers,
        await signRequest(
          {
            backend: this.backend,
            rng: this.rng,
            now: () => this.serverNow(),
            signer: this.signer,
            audience: this.trustRoot,
            ...(accountSeed
              ? { accountSign: (p: Uint8Array) => this.backend.ed25519Sign(accountSeed, p) }
              : {}),
          },
          route.method,
          url.pathname + url.search,
          body ?? new Uint8Array(0),
        ),
      );
    }
    let res: Response;
    let text: string;
    try {
      res = await this.fetchFn(url.href, {
        method: route.method,
        headers,
        ...(body ? { body: body as BodyInit } : {}),
      });
      text = await res.text();
    } catch (cause) {
      throw new NetworkError(`${route.operationId}: request failed`, { cause });
    }
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!res.ok) throw apiErrorFromBody(route.operationId, res.status, json);
    const parsed = v.safeParse(route.response, json);
    if (!parsed.success) {
      throw new InvalidResponseError(`${route.operationId}: response does not match the contract`);
    }
    return parsed.output as T;
  }
}
