/**
 * `@sealpost/testing`: an in-process Sealpost for integrators' tests (docs/SDK.md, "Testing your app").
 * It is the real Hono app and the real domain services over the in-memory adapters, reached
 * through the client's injectable `fetch`, so an app can test its messaging code with no
 * network, no AWS and no ports. Time is a controllable clock shared by the server and the
 * clients it creates, so certificate expiry and message lifetimes can be tested. Attachments
 * travel through an in-process object service standing in for S3: its presigned URLs are
 * served by the same `fetch` (and by `listen()`), with their expiry on the shared clock.
 *
 * Node-only (the service's cryptography uses `node:crypto`); not part of the main SDK entry.
 */

import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import {
  ArgumentRangeError,
  ArgumentTypeError,
  type ClientOptions,
  type FetchLike,
  MemoryStore,
  type OutboxTimer,
  SealpostClient,
  type StateStore,
  type TrustConfig,
  toBase64Url,
} from 'sealpost';
import type { FirstContactMode } from 'sealpost/wire/api';
import {
  createLocalObjectService,
  MemoryObjectStorage,
  withObjectService,
} from '../adapters/local-objects/index.ts';
import { MemoryPushSubscriptions } from '../adapters/memory/memory-push-subscriptions.ts';
import {
  createMemoryPorts,
  type MemoryAttachmentPorts,
  type MemoryModerationPorts,
  type MemoryPorts,
  type MemoryTokenPorts,
  memoryAttachmentPorts,
  memoryModerationPorts,
  memoryTokenPorts,
} from '../adapters/memory-ports.ts';
import {
  checkVapidKeys,
  generateVapidKeys,
  StaticVapidKeys,
} from '../adapters/webpush/vapid-keys.ts';
import { webPushPorts } from '../adapters/webpush/web-push-ports.ts';
import { buildApp } from '../api/app.ts';
import { buildModerationApp, isModerationPath } from '../api/moderation/app.ts';
import { createLocalRealtime } from '../api/realtime-local.ts';
import { DEFAULT_PUSH_ALLOWED_HOSTS } from '../deployment.ts';
import { multipartPlan } from '../domain/attachment-service.ts';
import { DEFAULT_CONFIG, type ServiceConfig } from '../domain/config.ts';
import { ModerationService } from '../domain/moderation-service.ts';
import type {
  ReportedMessage,
  ReportVerifier,
  VerifiedMessage,
  VerifyOutcome,
} from '../domain/report-ports.ts';
import { generateSigningMaterial, StaticSigningKeyProvider } from '../domain/signing-material.ts';
import { type Listening, type ListenOptions, listenLocally } from './listen.ts';

/** VAPID subject of the test service when none is given. */
export const TEST_VAPID_SUBJECT = 'mailto:sealpost-test@localhost';

/**
 * Wake-ups of the test service (Web Push, docs/SERVICE.md §7.3). Besides the browsers' push
 * services, a subscription may name a plain-HTTP loopback endpoint, such as a push service
 * stand-in the test runs.
 */
export interface TestWebPushOptions {
  /**
   * The VAPID key pair, base64url (the uncompressed 65-byte public point and the 32-byte
   * private scalar, as `webPush.generateVAPIDKeys()` gives them).
   * @default generated at start
   */
  readonly vapidKeys?: { readonly publicKey: string; readonly privateKey: string };
  /** @default TEST_VAPID_SUBJECT */
  readonly subject?: string;
  /** Push service hosts besides loopback. @default the browsers' push services */
  readonly allowedHosts?: readonly string[];
  /** Timeout of one push request in ms. @default 3000 */
  readonly timeoutMs?: number;
}

/** Options of {@link TestSealpost.start}. */
export interface TestSealpostOptions {
  /** Start of the shared clock (ms since the epoch). @default Date.now() at start */
  readonly startTime?: number;
  /**
   * Service limits to override (rate limits, quotas, message lifetime, …), attachments among
   * them: `attachmentMaxBytes` (largest blob), `attachmentMultipartBytes` (multipart above),
   * `attachmentPartSize`, `attachmentStorageQuota`, `attachmentBytesPerDay`, and the lifetimes
   * of upload and download URLs.
   */
  readonly config?: Partial<ServiceConfig>;
  /** Receives the service's JSON log lines. @default discarded */
  readonly log?: (line: string) => void;
  /**
   * Wake-ups of devices without a live connection: a device that registered a push
   * subscription (`client.subscribePush`) is woken when a message is stored for it while it
   * has no WebSocket open. `false` turns them off (the push routes then answer
   * `NOT_CONFIGURED`). @default on, with a VAPID key pair generated at start
   */
  readonly webPush?: TestWebPushOptions | false;
  /**
   * Checks the franking evidence of reports (`POST /v1/reports`); a test may put a stand-in
   * that accepts what it chooses.
   * @default the service's franking verifier over the test service's keys
   */
  readonly reportVerifier?: ReportVerifier;
}

/** Options of a client created by the test server. */
export type TestClientOptions = Partial<
  Pick<
    ClientOptions,
    | 'store'
    | 'prekeys'
    | 'backend'
    | 'outbox'
    | 'onDeviceChange'
    | 'timeoutMs'
    | 'retries'
    | 'onRequest'
    | 'fetch'
    | 'tokens'
  >
> & {
  /** The older spelling of `firstContact: 'anyone'` (registration only). */
  readonly unrestricted?: boolean;
  /**
   * Who may start a conversation with the registered account (docs/SERVICE.md §15.1):
   * `contacts`, `requests` (the service's default) or `anyone`. Registration only: a linked
   * device shares its account's mode.
   */
  readonly firstContact?: FirstContactMode;
  /**
   * Fills the client's wallet of anonymous tokens before it is returned (it calls
   * `client.refillTokens()` once), so its first message to a stranger goes out as a message
   * request at once. A new account's daily quota is 5 tokens (`newAccountTokenQuotaPerDay`);
   * `start({ config })` changes it. Test clients never refill on their own: their refill timer
   * is the outbox's, {@link manualOutboxTimer}, unless `tokens.timer` or `outbox.timer` names
   * another. @default false
   */
  readonly refillTokens?: boolean;
};

/**
 * The outbox timer of test clients: it never fires, so sync copies go out exactly when a test
 * calls `client.flushOutbox()` (or passes its own `outbox.timer`).
 */
export const manualOutboxTimer: OutboxTimer = () => () => undefined;

const TEN_YEARS_MS = 10 * 365 * 24 * 60 * 60 * 1000;

/**
 * An in-process Sealpost service.
 *
 * @example
 * const sealpost = await TestSealpost.start();
 * const alice = await sealpost.register();
 * const bob = await sealpost.register();
 * await bob.addContact(alice.contactCard());
 * await alice.addContact(bob.contactCard());
 * await alice.send(bob.address, 'hi');
 * const { messages } = await bob.receiveBatch(); // messages[0].text === 'hi'
 */
export class TestSealpost {
  /** A base URL that never reaches the network (requests go to {@link fetch}). */
  readonly baseUrl = 'http://sealpost.test';
  /** The `fetch` that serves requests from the in-process app. */
  readonly fetch: FetchLike;
  /** The trust configuration clients pin. */
  readonly trust: TrustConfig;
  /** The in-memory storage behind the service, for assertions about what the server holds. */
  readonly ports: MemoryPorts;
  /** Attachment upload sessions and quotas, for assertions. */
  readonly attachments: MemoryAttachmentPorts;
  /** Reports, suspensions and the audit log, for assertions. */
  readonly moderation: MemoryModerationPorts;
  /**
   * Anonymous-token stores (issuance counters, spent tokens, issuer keys), for assertions about
   * what the server holds (docs/SERVICE.md §15.5).
   */
  readonly tokens: MemoryTokenPorts;
  /**
   * The bearer token of the moderation API (`/v1/moderation/...`, docs/SERVICE.md §14.4),
   * served by {@link fetch} and `listen()` like the device API.
   */
  readonly moderatorToken = randomBytes(32).toString('base64url');
  /** The attachment blobs the object service holds, by object key (`attachments/<id>`). */
  readonly objects = new MemoryObjectStorage();
  private readonly pushSubscriptions = new MemoryPushSubscriptions();
  /** URLs of the open `listen()` ports: presigned URLs name the first, for browsers. */
  private readonly listening: string[] = [];
  private time: number;
  private readonly serve: (request: Request) => Response | Promise<Response>;
  private readonly attachRealtime: (server: Server) => () => void;

  private constructor(options: TestSealpostOptions) {
    this.time = options.startTime ?? Date.now();
    const { material } = generateSigningMaterial({
      keyId: 1,
      notAfter: this.time + TEN_YEARS_MS,
    });
    this.trust = { trustRoot: material.trustRoot, revokedServerKeyIds: [] };
    this.ports = createMemoryPorts(new StaticSigningKeyProvider(material));
    const config = { ...DEFAULT_CONFIG, ...options.config };
    const clock = () => this.time;
    // URLs on the base URL reach the object service through `fetch`, which routes by path
    // only; while a port listens they name it, so browsers can use them too.
    const objectService = createLocalObjectService({
      storage: this.objects,
      baseUrl: () => this.listening[0] ?? this.baseUrl,
      partBytes: multipartPlan(config.attachmentMaxBytes, config.attachmentPartSize).partSize,
      clock,
    });
    this.attachments = memoryAttachmentPorts(objectService.objects);
    const log = options.log ?? (() => undefined);
    const webPush = options.webPush;
    this.moderation = memoryModerationPorts(this.ports.accounts);
    this.tokens = memoryTokenPorts();
    const local = createLocalRealtime(this.ports, {
      clock,
      config,
      attachments: this.attachments,
      moderation: this.moderation,
      tokens: this.tokens,
      ...(options.reportVerifier ? { reportVerifier: options.reportVerifier } : {}),
      log,
      wakeups:
        webPush === false
          ? { subscriptions: this.pushSubscriptions, log }
          : {
              subscriptions: this.pushSubscriptions,
              log,
              ...webPushPorts({
                keys: new StaticVapidKeys(
                  webPush?.vapidKeys ? checkVapidKeys(webPush.vapidKeys) : generateVapidKeys(),
                ),
                subject: webPush?.subject ?? TEST_VAPID_SUBJECT,
                endpoints: {
                  allowedHosts: webPush?.allowedHosts ?? DEFAULT_PUSH_ALLOWED_HOSTS,
                  allowLoopback: true,
                },
                ...(webPush?.timeoutMs === undefined ? {} : { timeoutMs: webPush.timeoutMs }),
              }),
            },
    });
    const app = buildApp({ services: local.services, log, stage: 'test' });
    const moderationApp = buildModerationApp({
      moderation: new ModerationService(this.moderation, this.ports.accounts, clock, randomBytes),
      auth: { kind: 'bearer', token: this.moderatorToken },
      log,
      stage: 'test',
    });
    this.serve = withObjectService(
      (request) =>
        isModerationPath(new URL(request.url).pathname)
          ? moderationApp.fetch(request)
          : app.fetch(request),
      objectService.handle,
    );
    this.attachRealtime = local.attach;
    this.fetch = async (url, init) => this.serve(new Request(url, init));
  }

  /**
   * Starts a fresh, empty service.
   *
   * @example const sealpost = await TestSealpost.start({ startTime: 1_700_000_000_000 });
   */
  static async start(options: TestSealpostOptions = {}): Promise<TestSealpost> {
    return new TestSealpost(options);
  }

  /**
   * Serves this service on a local HTTP port with CORS open, for browser tests. Clients reach
   * it at the returned `url` with the real `fetch`; the shared clock still applies. The same
   * port serves the realtime WebSocket endpoint (`ws://…/v1/websocket`, docs/SERVICE.md §7.3):
   * messages sent to a connected device are pushed to it. While it listens, attachment
   * upload and download URLs name this port (the in-process `fetch` serves them as well).
   *
   * @throws {Error} if the port cannot be bound.
   * @example
   * const { url, close } = await sealpost.listen();
   * // SealpostClient.register({ baseUrl: url, trust: sealpost.trustRoot, store, now: sealpost.now })
   * await close();
   */
  async listen(options: ListenOptions = {}): Promise<Listening> {
    const listening = await listenLocally(this.serve, options, this.attachRealtime);
    this.listening.push(listening.url);
    return {
      ...listening,
      close: async () => {
        const at = this.listening.indexOf(listening.url);
        if (at >= 0) this.listening.splice(at, 1);
        await listening.close();
      },
    };
  }

  /**
   * The push subscription the service holds for a device (`client.subscribePush`), or
   * undefined: for assertions that an app subscribed, or that a subscription its push service
   * reported gone was dropped.
   *
   * @example (await sealpost.pushSubscription(bob.address, bob.deviceId))?.endpoint
   */
  async pushSubscription(
    address: string,
    deviceId: number,
  ): Promise<{ readonly endpoint: string } | undefined> {
    const stored = await this.pushSubscriptions.get({ address, deviceId });
    return stored && { endpoint: stored.subscription.endpoint };
  }

  /** The trust root as base64url, as `npm start` prints it. */
  get trustRoot(): string {
    return toBase64Url(this.trust.trustRoot);
  }

  /** The shared clock (ms). */
  readonly now = (): number => this.time;

  /**
   * Moves the shared clock forward.
   *
   * @throws {RangeError} if `ms` is negative.
   */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new ArgumentRangeError('ms must be non-negative');
    this.time += ms;
  }

  /**
   * Client options wired to this service (for `SealpostClient.open` and custom set-ups). Sync
   * copies wait in the outbox until the test calls `client.flushOutbox()`.
   */
  clientOptions(store: StateStore = new MemoryStore()): ClientOptions {
    return {
      baseUrl: this.baseUrl,
      fetch: this.fetch,
      trust: this.trust,
      now: this.now,
      store,
      outbox: { timer: manualOutboxTimer },
    };
  }

  /**
   * Registers a new account whose first device is the returned client. `firstContact` sets
   * who may start a conversation with it; `tokens` configures its token wallet; with
   * `refillTokens: true` the wallet is filled before the client is returned.
   *
   * @throws {ApiError} from registration, or from the refill (e.g. `TOKEN_QUOTA_EXCEEDED`).
   * @example const alice = await sealpost.register();
   * @example
   * // Two strangers: Alice pays for her first message to Bob with a token.
   * const alice = await sealpost.register({ refillTokens: true });
   * const bob = await sealpost.register({ firstContact: 'requests' });
   * await alice.send(bob.address, 'hello stranger');
   * const { messages } = await bob.receiveBatch(); // messages[0].request === true
   */
  async register(options: TestClientOptions = {}): Promise<SealpostClient> {
    const client = await SealpostClient.register({
      ...this.clientOptions(options.store),
      ...clientOnly(options),
    });
    if (options.refillTokens) await client.refillTokens();
    return client;
  }

  /**
   * Links a new device to `primary`'s account (`firstContact` and `unrestricted` do not apply:
   * the account's mode stays as it is). With `refillTokens: true` the new device's own wallet
   * is filled too (the account's daily quota is shared by its devices).
   *
   * @throws {TypeError} if `primary` is a linked device (only the first device holds the key).
   * @example const bobPhone = await sealpost.link(bob);
   * @example const alicePhone = await sealpost.link(alice, { refillTokens: true, tokens: { batchSize: 2 } });
   */
  async link(primary: SealpostClient, options: TestClientOptions = {}): Promise<SealpostClient> {
    const account = primary.exportAccountKey();
    if (!account) throw new ArgumentTypeError('primary must be the account’s first device');
    const { unrestricted: _u, firstContact: _f, ...rest } = clientOnly(options);
    const client = await SealpostClient.link({
      ...this.clientOptions(options.store),
      ...rest,
      account,
    });
    if (options.refillTokens) await client.refillTokens();
    return client;
  }
}

export type {
  Listening,
  ListenOptions,
  MemoryAttachmentPorts,
  MemoryModerationPorts,
  MemoryObjectStorage,
  MemoryPorts,
  MemoryTokenPorts,
  ReportedMessage,
  ReportVerifier,
  ServiceConfig,
  VerifiedMessage,
  VerifyOutcome,
};

/** The options a client takes (the store is passed on its own, the refill is the kit's). */
function clientOnly(options: TestClientOptions) {
  const { store: _store, refillTokens: _refill, ...rest } = options;
  return rest;
}
