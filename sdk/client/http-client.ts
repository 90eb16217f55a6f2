/**
 * The typed HTTP client of the service API, built from the route table in
 * `sdk/wire/api/routes.ts`: each method names an operation, the table gives its method, path,
 * authentication and response schema, and every response is checked against that schema before
 * it is returned (the server is not trusted to send well-formed data). Errors become the typed
 * classes of `./errors.ts`. `fetch` is injectable, so the same client runs over the network, in
 * a browser, or against an in-process app (`sealpost/testing`).
 */
import * as v from 'valibot';
import { type CryptoBackend, type Rng, systemRng } from '../crypto/backend.ts';
import { defaultBackend } from '../crypto/index.ts';
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
import { ACCESS_KEY_HEADER } from '../wire/api/signing.ts';
import {
  ApiError,
  apiErrorFromBody,
  InvalidResponseError,
  NetworkError,
  NotRegisteredError,
} from './errors.ts';
import { type RequestSigner, signRequest } from './request-signing.ts';

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

interface CallOptions {
  readonly params?: Readonly<Record<string, string | number>>;
  readonly query?: Readonly<Record<string, string | undefined>>;
  readonly body?: unknown;
  readonly accessKey?: Uint8Array;
}

const BY_ID = new Map(ROUTES.map((r) => [r.operationId, r]));

function routeOf(op: OperationId): RouteSpec {
  const route = BY_ID.get(op);
  if (!route) throw new TypeError(`unknown operation ${op}`);
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
  private signer: RequestSigner | undefined;

  /** @throws {TypeError} if `baseUrl` is not an absolute http(s) URL. */
  constructor(options: HttpClientOptions) {
    const url = new URL(options.baseUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError('baseUrl must be an http(s) URL');
    }
    this.baseUrl = url.href.replace(/\/+$/, '');
    this.fetchFn = options.fetch ?? ((u, init) => globalThis.fetch(u, init));
    this.backend = options.backend ?? defaultBackend;
    this.rng = options.rng ?? systemRng;
    this.now = options.now ?? Date.now;
    this.retries = options.retries ?? 2;
    this.signer = options.signer;
  }

  /** Sets the device owner requests are signed as (after registration). */
  setSigner(signer: RequestSigner): void {
    this.signer = signer;
  }

  /** `GET /v1/health`. */
  health(): Promise<{ status: 'ok' }> {
    return this.call('health', {});
  }

  /** `PUT /v1/accounts/{address}`: register an account with device 1. */
  registerAccount(address: string, body: RegisterRequest): Promise<DeviceRegistered> {
    return this.call('registerAccount', { params: { address }, body });
  }

  /** `POST /v1/accounts/{address}/devices`: link another device. */
  addDevice(address: string, body: AddDeviceRequest): Promise<DeviceRegistered> {
    return this.call('addDevice', { params: { address }, body });
  }

  /** `GET /v1/accounts/{address}/devices` (owner-signed). */
  listDevices(address: string): Promise<DeviceList> {
    return this.call('listDevices', { params: { address } });
  }

  /** `DELETE /v1/devices/{deviceId}` (owner-signed, own account only). */
  removeDevice(deviceId: number): Promise<DeviceRemoved> {
    return this.call('removeDevice', { params: { deviceId } });
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
      if (value === undefined) throw new TypeError(`missing path parameter ${name}`);
      return encodeURIComponent(String(value));
    });
    const search = Object.entries(options.query ?? {})
      .filter((e): e is [string, string] => e[1] !== undefined)
      .map(([k, val]) => `${encodeURIComponent(k)}=${encodeURIComponent(val)}`)
      .join('&');
    const url = new URL(`${this.baseUrl}${path}${search ? `?${search}` : ''}`);
    const body = options.body === undefined ? undefined : utf8(JSON.stringify(options.body));
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt<T>(route, url, body, options.accessKey);
      } catch (err) {
        const transient =
          err instanceof NetworkError || (err instanceof ApiError && err.code === 'UNAVAILABLE');
        if (!transient || attempt >= this.retries) throw err;
        await sleep(100 * 4 ** attempt);
      }
    }
  }

  private async attempt<T>(
    route: RouteSpec,
    url: URL,
    body: Uint8Array | undefined,
    accessKey: Uint8Array | undefined,
  ): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body) headers['content-type'] = 'application/json';
    if (accessKey) headers[ACCESS_KEY_HEADER] = toBase64Url(accessKey);
    if (route.auth === 'owner') {
      if (!this.signer)
        throw new NotRegisteredError(`${route.operationId} needs a registered device`);
      Object.assign(
        headers,
        await signRequest(
          { backend: this.backend, rng: this.rng, now: this.now, signer: this.signer },
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
