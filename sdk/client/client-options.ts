/**
 * Options and result types of `SealpostClient`, and how they become engine and HTTP client
 * options (docs/SDK.md).
 */
import type { CryptoBackend, Rng } from '../crypto/backend.ts';
import type { TrustConfig } from '../protocol/certificates.ts';
import type { DeviceChange, EngineOptions } from '../protocol/engine.ts';
import type { StateStore } from '../state/store.ts';
import { fromBase64Url } from '../wire/api/codec.ts';
import type { AttachmentInput, TransferProgress, UploadedAttachment } from './attachments/types.ts';
import type { CallOptions, RequestObserver } from './call-options.ts';
import { type FetchLike, SealpostHttpClient } from './http-client.ts';
import type { OutboxOptions } from './outbox.ts';
import type { PrekeyPolicy } from './prekey-maintenance.ts';
import { realtimeEndpoint, type WebSocketConstructorLike } from './realtime-socket.ts';
import type { TokenOptions } from './token-wallet.ts';

/** A trust configuration, with the root as bytes or base64url (as `npm start` prints it). */
export type TrustInput =
  | TrustConfig
  | {
      readonly trustRoot: Uint8Array | string;
      readonly revokedServerKeyIds?: readonly number[];
      /** Moderator key ids no longer accepted (docs/SDK.md §Reporting). */
      readonly revokedModeratorKeyIds?: readonly number[];
    };

/** Options shared by {@link SealpostClient.register}, `link` and `open`. */
export interface ClientOptions {
  /** The API origin, e.g. `http://127.0.0.1:8787`. */
  readonly baseUrl: string;
  /** Where identity, sessions and client records live (`MemoryStore`, `FileStore`, …). */
  readonly store: StateStore;
  /** The pinned trust root every sender certificate must chain to. */
  readonly trust: TrustInput;
  /** @default globalThis.fetch */
  readonly fetch?: FetchLike;
  /** @default the runtime's default backend */
  readonly backend?: CryptoBackend;
  /** @default the platform CSPRNG */
  readonly rng?: Rng;
  /** @default Date.now */
  readonly now?: () => number;
  /** Prekey refill and rotation policy. */
  readonly prekeys?: PrekeyPolicy;
  /** Delay range and timer of the sync-copy outbox (docs/SDK.md §Outbox). */
  readonly outbox?: OutboxOptions;
  /** Told when a contact's device list changes (a device relinked, linked or removed). */
  readonly onDeviceChange?: (change: DeviceChange) => void;
  /**
   * Per-request timeout of every HTTP request (ms); a call's own `timeoutMs` overrides it
   * (docs/SDK.md §Call controls). @default the HTTP client's default
   */
  readonly timeoutMs?: number;
  /** Extra attempts of a request after a transient failure. @default the HTTP client's default */
  readonly retries?: number;
  /**
   * Observes every HTTP attempt (operation, origin, status, duration; never a body, a header
   * value, a key or plaintext), e.g. for metrics or logs.
   */
  readonly onRequest?: RequestObserver;
  /**
   * The WebSocket class `receive()` uses to have messages pushed (docs/SDK.md §Receiving,
   * "Realtime"), e.g. the `ws` package's `WebSocket` on Node 20; `false` makes it poll.
   * @default globalThis.WebSocket when the runtime has one (browsers, Node 22+), else polling
   */
  readonly webSocket?: WebSocketConstructorLike | false;
  /**
   * The WebSocket endpoint when it is not on the API's host, as an absolute `ws:`/`wss:` URL;
   * on AWS the stack's `WebSocketUrl` output,
   * `wss://{api-id}.execute-api.{region}.amazonaws.com/v1`. The connect is signed for
   * `GET /v1/websocket` whatever this URL's path; the auth fields are appended as its query.
   * @default baseUrl with `ws:`/`wss:` and the path `/v1/websocket`
   * @example { baseUrl: 'https://api.example.com', realtimeUrl: 'wss://abc123.execute-api.eu-west-1.amazonaws.com/v1' }
   */
  readonly realtimeUrl?: string;
  /**
   * How long a received message stays reportable, in days after its `receivedAt` (1..180): its
   * record (docs/SDK.md §Reporting) is deleted after that. @default 30
   */
  readonly reportRetentionDays?: number;
  /**
   * Records of reportable messages kept at most (1..100,000); the oldest go first.
   * @default 5000
   */
  readonly maxReportableMessages?: number;
  /**
   * How often the service's revocation list is fetched at most, in ms (1,000..86,400,000):
   * the bound on how soon a suspended account's messages stop being shown (docs/SDK.md
   * §Suspended senders). @default 600000
   */
  readonly revocationRefreshMs?: number;
  /**
   * The anonymous-token wallet that pays for message requests (docs/SDK.md §Message
   * requests): `{ batchSize?, lowWater?, minRefillDelayMs?, maxRefillDelayMs?, autoRefill?,
   * timer? }`. @default batches of 10, refill below 3 after 1 to 30 minutes, on the outbox's
   * timer when it has one
   */
  readonly tokens?: TokenOptions;
}

/**
 * Options of {@link SealpostClient.send}: the call controls plus how the send is authorized.
 */
export interface SendOptions extends CallOptions {
  /**
   * Send identified (the server learns the sender) instead of sealed. Without it, a send to an
   * account whose access key the client does not hold is a message request, sealed and paid
   * with an anonymous token (docs/SDK.md §Message requests). @default false
   */
  readonly identified?: boolean;
  /**
   * Progress of the uploads of the message's attachment inputs, in bytes of their encrypted
   * blobs, over all of them (docs/SDK.md §Attachments, "Progress").
   */
  readonly onProgress?: TransferProgress;
}

/**
 * A message with more than a body: text or bytes (at most one of them) and attachments, each
 * an input to upload first or an attachment uploaded before (docs/SDK.md §Attachments).
 *
 * @example await client.send(bob, { text: 'the photo', attachments: [{ data: photo, contentType: 'image/jpeg' }] });
 */
export interface MessageContent {
  /** The message as text (UTF-8 on the wire). */
  readonly text?: string;
  /** The message as bytes. */
  readonly body?: Uint8Array;
  /** 1..32 attachments. */
  readonly attachments?: readonly (AttachmentInput | UploadedAttachment)[];
}

/** What {@link SealpostClient.send} did. */
export interface SendResult {
  /** The send request's id (base64url): random, only deduplicates retries of the request. */
  readonly messageId: string;
  /** Devices of the recipient that got an envelope. */
  readonly recipientDevices: number;
  /**
   * `queued`: the copy for this account's other devices is in the outbox and goes out after a
   * random delay ({@link SealpostClient.flushOutbox} sends it now); `none`: the account has no
   * other device (as read from the service within the last 5 minutes).
   */
  readonly sync: 'queued' | 'none';
}

/** A contact card: what one person hands another out of band to allow sealed sends at once. */
export interface ContactCard {
  readonly address: string;
  /** The account's delivery access key, base64url (a secret between contacts). */
  readonly accessKey: string;
}

/**
 * The call controls of an options object that also carries other settings, so only `signal`
 * and `timeoutMs` reach the HTTP client.
 *
 * @example await http.fetchMessages({}, callOf({ signal, limit: 10 }));
 */
export function callOf(options: CallOptions | undefined): CallOptions | undefined {
  if (!options || (options.signal === undefined && options.timeoutMs === undefined)) {
    return undefined;
  }
  return {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  };
}

/** The trust configuration of a {@link TrustInput}. */
export function trustConfig(input: TrustInput): TrustConfig {
  const root =
    typeof input.trustRoot === 'string'
      ? fromBase64Url(input.trustRoot, 'trust.trustRoot')
      : input.trustRoot;
  return {
    trustRoot: root,
    revokedServerKeyIds: [...(input.revokedServerKeyIds ?? [])],
    ...(input.revokedModeratorKeyIds
      ? { revokedModeratorKeyIds: [...input.revokedModeratorKeyIds] }
      : {}),
  };
}

/** Engine options for the client options. */
export function engineOptions(options: ClientOptions): EngineOptions {
  return {
    store: options.store,
    trust: trustConfig(options.trust),
    ...(options.now ? { now: options.now } : {}),
    ...(options.backend ? { backend: options.backend } : {}),
    ...(options.rng ? { rng: options.rng } : {}),
  };
}

/**
 * An HTTP client (not yet signing) for the options; also checks `realtimeUrl`, so a bad one
 * fails before anything is registered.
 *
 * @throws {ArgumentTypeError} if `realtimeUrl` is given and is not an absolute ws(s) URL.
 */
export function httpFor(options: ClientOptions): SealpostHttpClient {
  if (options.realtimeUrl !== undefined) realtimeEndpoint(options.baseUrl, options.realtimeUrl);
  return new SealpostHttpClient({
    baseUrl: options.baseUrl,
    trustRoot: trustConfig(options.trust).trustRoot,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.backend ? { backend: options.backend } : {}),
    ...(options.rng ? { rng: options.rng } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.retries === undefined ? {} : { retries: options.retries }),
    ...(options.onRequest ? { onRequest: options.onRequest } : {}),
  });
}
