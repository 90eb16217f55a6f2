/**
 * The request engine under `SealpostHttpClient`: builds a request from the route table entry of
 * an operation, signs it (owner routes), sends it under the call controls (timeout, abort,
 * retries with jittered backoff, `Retry-After`), reports each attempt to the observer, and
 * parses the answer with the operation's response schema, so the result has the schema's type
 * and nothing is cast.
 *
 * Signed requests and proofs name the pinned trust root as their audience and take their
 * timestamp from the local clock plus an offset learnt from the server: a `CLOCK_SKEW` answer
 * sets the offset (bounded by `MAX_CLOCK_OFFSET_MS`) and the request is signed again with a
 * fresh nonce, once (docs/SERVICE.md §3.1).
 */
import * as v from 'valibot';
import { type CryptoBackend, type Rng, randomFraction, systemRng } from '../crypto/backend.ts';
import { defaultBackend } from '../crypto/index.ts';
import { ArgumentRangeError, ArgumentTypeError } from '../util/argument-errors.ts';
import { utf8 } from '../util/bytes.ts';
import { toBase64Url } from '../wire/api/codec.ts';
import {
  fillPath,
  type OperationId,
  type PathParams,
  type RequestOf,
  type ResponseOf,
  routeOf,
} from '../wire/api/route-types.ts';
import { MULTI_RECIPIENT_CONTENT_TYPE } from '../wire/api/routes.ts';
import { ACCESS_KEY_HEADER, AUDIENCE_BYTES, TOKEN_HEADER } from '../wire/api/signing.ts';
import type { CallOptions, RequestEvent, RequestObserver } from './call-options.ts';
import {
  apiErrorFromBody,
  ClockSkewError,
  InvalidResponseError,
  NotRegisteredError,
  SealpostClientError,
} from './errors.ts';
import {
  abortableSleep,
  DEFAULT_RETRIES,
  DEFAULT_TIMEOUT_MS,
  MAX_RETRIES,
  parseRetryAfter,
  retryDelay,
} from './http-retry.ts';
import { type Exchange, exchange, type FetchLike } from './http-transport.ts';
import { clockOffset, type RequestSigner, signRequest } from './request-signing.ts';

/** Options of `SealpostHttpClient`. */
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
  /** @default the platform CSPRNG (request nonces, backoff jitter) */
  readonly rng?: Rng;
  /** @default Date.now */
  readonly now?: () => number;
  /**
   * Extra attempts after a transient failure (network, timeout, 503, a 429 with
   * `Retry-After`), for operations that are safe to repeat (docs/SDK.md, "Call controls").
   * 0..10. @default 2
   */
  readonly retries?: number;
  /** Timeout of each request in ms; a call's own `timeoutMs` overrides it. @default 30000 */
  readonly timeoutMs?: number;
  /** Called once per attempt with what happened; never sees a body, header value or key. */
  readonly onRequest?: RequestObserver;
}

/**
 * Builds a request body that carries a signed timestamp (a registration or link proof) for
 * the given time; the client calls it again with the corrected time after `CLOCK_SKEW`.
 */
export type ProofBody<T> = (timestamp: number) => Promise<T>;

/** What one operation's request is made of, typed from its route table entry. */
export interface RequestParts<Op extends OperationId> {
  readonly params: PathParams<Op>;
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  readonly body?: RequestOf<Op>;
  /** A body built per attempt from the corrected clock (instead of `body`). */
  readonly build?: ProofBody<RequestOf<Op>>;
  readonly accessKey?: Uint8Array;
  /** An anonymous token (`x-sealpost-token`), instead of the access key. */
  readonly token?: Uint8Array;
  /** Co-sign the request with this account seed (`x-sealpost-account-signature`). */
  readonly accountSeed?: Uint8Array;
}

function checkTimeout(ms: number | undefined, name: string): void {
  if (ms !== undefined && !(Number.isSafeInteger(ms) && ms >= 1 && ms <= 2_147_483_647)) {
    throw new ArgumentRangeError(`${name} must be an integer number of ms in 1..2147483647`);
  }
}

/** Sends operations of the route table; `SealpostHttpClient` adds one method per operation. */
export class HttpCaller {
  private readonly baseUrl: string;
  private readonly fetchFn: FetchLike;
  protected readonly backend: CryptoBackend;
  private readonly rng: Rng;
  private readonly now: () => number;
  private readonly retries: number;
  private readonly timeoutMs: number;
  private readonly observer: RequestObserver | undefined;
  private readonly audience: Uint8Array | undefined;
  private signer: RequestSigner | undefined;
  private clockOffsetMs = 0;

  /**
   * @throws {ArgumentTypeError} if `baseUrl` is not an absolute http(s) URL or `trustRoot` is
   *   not 32 bytes.
   * @throws {ArgumentRangeError} if `retries` or `timeoutMs` is out of range.
   */
  constructor(options: HttpClientOptions) {
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch (cause) {
      throw new ArgumentTypeError('baseUrl must be an absolute http(s) URL', { cause });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ArgumentTypeError('baseUrl must be an http(s) URL');
    }
    this.baseUrl = url.href.replace(/\/+$/, '');
    this.fetchFn = options.fetch ?? ((u, init) => globalThis.fetch(u, init));
    this.backend = options.backend ?? defaultBackend;
    this.rng = options.rng ?? systemRng;
    this.now = options.now ?? Date.now;
    const retries = options.retries ?? DEFAULT_RETRIES;
    if (!Number.isInteger(retries) || retries < 0 || retries > MAX_RETRIES) {
      throw new ArgumentRangeError(`retries must be an integer in 0..${MAX_RETRIES}`);
    }
    this.retries = retries;
    checkTimeout(options.timeoutMs, 'timeoutMs');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.observer = options.onRequest;
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

  /**
   * Runs one operation: attempts, retries and the clock correction, then the parsed answer.
   *
   * @throws {SealpostClientError} the typed error of the last attempt.
   */
  protected async call<Op extends OperationId>(
    op: Op,
    parts: RequestParts<Op>,
    call: CallOptions = {},
  ): Promise<ResponseOf<Op>> {
    checkTimeout(call.timeoutMs, 'timeoutMs');
    const route = routeOf(op);
    const search = Object.entries(parts.query ?? {})
      .filter((e): e is [string, string | number] => e[1] !== undefined)
      .map(([k, val]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(val))}`)
      .join('&');
    const url = new URL(
      `${this.baseUrl}${fillPath(op, parts.params)}${search ? `?${search}` : ''}`,
    );
    // A binary body (BINARY_BODY routes) is sent and signed as the bytes themselves.
    const fixed =
      parts.body === undefined
        ? undefined
        : parts.body instanceof Uint8Array
          ? parts.body
          : utf8(JSON.stringify(parts.body));
    let skewRetried = false;
    for (let attempt = 1, retry = 0; ; attempt++) {
      const body = parts.build ? utf8(JSON.stringify(await parts.build(this.serverNow()))) : fixed;
      const headers = await this.headers(op, url, body, parts);
      const started = this.now();
      let answer: Exchange | undefined;
      try {
        answer = await exchange(
          this.fetchFn,
          url,
          { method: route.method, headers, ...(body ? { body: body as BodyInit } : {}) },
          { operation: op, timeoutMs: call.timeoutMs ?? this.timeoutMs, signal: call.signal },
        );
        const json = parseJson(answer.text);
        if (!answer.ok) {
          const after = parseRetryAfter(answer.retryAfter, this.now());
          throw apiErrorFromBody(op, answer.status, json, after);
        }
        const parsed = v.safeParse(route.response, json);
        if (!parsed.success) {
          throw new InvalidResponseError(`${op}: response does not match the contract`);
        }
        this.report(op, route.method, url, attempt, started, answer.status);
        return parsed.output;
      } catch (err) {
        let wait: number | undefined;
        if (err instanceof ClockSkewError && !skewRetried) {
          const offset = clockOffset(err.serverTime, this.now());
          if (offset !== undefined) {
            // Signed afresh (new timestamp and nonce) at once; later requests keep the offset.
            this.clockOffsetMs = offset;
            skewRetried = true;
            wait = 0;
          }
        }
        wait ??= retryDelay(err, {
          idempotent: route.idempotent,
          retry,
          retries: this.retries,
          unit: this.unit(),
        });
        this.report(op, route.method, url, attempt, started, answer?.status, err, wait);
        if (wait === undefined) throw err;
        if (!(err instanceof ClockSkewError)) retry++;
        if (wait > 0) await abortableSleep(wait, call.signal, op);
      }
    }
  }

  private async headers<Op extends OperationId>(
    op: Op,
    url: URL,
    body: Uint8Array | undefined,
    parts: RequestParts<Op>,
  ): Promise<Record<string, string>> {
    const route = routeOf(op);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body) {
      headers['content-type'] =
        parts.body instanceof Uint8Array ? MULTI_RECIPIENT_CONTENT_TYPE : 'application/json';
    }
    if (parts.accessKey) headers[ACCESS_KEY_HEADER] = toBase64Url(parts.accessKey);
    if (parts.token) headers[TOKEN_HEADER] = toBase64Url(parts.token);
    if (route.auth !== 'owner') return headers;
    if (!this.signer) throw new NotRegisteredError(`${op} needs a registered device`);
    const accountSeed = parts.accountSeed;
    const signed = await signRequest(
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
    );
    return { ...headers, ...signed };
  }

  /** A uniform draw in [0, 1) from the CSPRNG, for backoff jitter. */
  private unit(): number {
    return randomFraction(this.rng);
  }

  private report(
    operation: string,
    method: string,
    url: URL,
    attempt: number,
    started: number,
    status: number | undefined,
    err?: unknown,
    retryInMs?: number,
  ): void {
    if (!this.observer) return;
    const event: RequestEvent = {
      operation,
      method,
      origin: url.origin,
      attempt,
      durationMs: Math.max(0, this.now() - started),
      ...(status === undefined ? {} : { status }),
      ...(err === undefined
        ? {}
        : { error: err instanceof SealpostClientError ? err.code : 'UNKNOWN' }),
      ...(retryInMs === undefined ? {} : { retryInMs }),
    };
    try {
      const result: unknown = this.observer(event);
      if (result instanceof Promise) result.catch(() => undefined);
    } catch {
      // An observer must not break a request (call-options.ts).
    }
  }
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
