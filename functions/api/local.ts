/**
 * The local server (Node-only): the same app as on Lambda, served by `@hono/node-server`,
 * with the WebSocket endpoint of realtime delivery on the same port (realtime-local.ts), over
 * in-memory adapters or over DynamoDB Local and s3rver endpoints. The signing material is
 * generated once and kept in the data directory (`.local/` by default), so clients can pin the
 * trust root across restarts.
 *
 * The moderation API (docs/SERVICE.md §14.4) is mounted under `/v1/moderation` on the same
 * port, behind a bearer token generated once into `<dataDir>/moderator-token` (mode 0600), which
 * `npm run moderate` reads; reports, suspensions and the audit log live in the engine's storage.
 *
 * Attachments (docs/SERVICE.md §7.6) go through the local object service on the same port
 * (`/_objects`, functions/adapters/local-objects), which plays S3's part on both engines
 * (s3rver has no POST policies, ListParts or AbortMultipartUpload): blobs are files under
 * `objects/` in the data directory (`objects-memory/` on the in-memory engine, emptied at each
 * start since nothing refers to them after a restart), upload sessions and quotas live in the
 * engine's storage.
 *
 * Wake-ups of offline devices (Web Push, docs/SERVICE.md §7.3) are on: the VAPID key pair is
 * generated once and kept in the data directory too (`vapid.json`), so browser subscriptions
 * survive restarts, and besides the browsers' push services a subscription may name a
 * plain-HTTP loopback endpoint (a push service stand-in on this machine).
 *
 * Run: `npx tsx functions/api/local.ts` (env: `SEALPOST_PORT` default 8787,
 * `SEALPOST_DATA_DIR` default `.local`, and optionally `SEALPOST_DYNAMODB_ENDPOINT`,
 * `SEALPOST_S3_ENDPOINT`, `SEALPOST_TABLE`, `SEALPOST_BUCKET` to use local AWS emulators,
 * `SEALPOST_VAPID_SUBJECT` and `SEALPOST_PUSH_ALLOWED_HOSTS` for wake-ups).
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { fromBase64Url, toBase64Url } from 'sealpost/wire/api';
import { awsModerationPorts, awsPorts, awsTokenPorts } from '../adapters/aws-ports.ts';
import {
  DynamoAttachmentQuota,
  DynamoPushSubscriptions,
  DynamoUploadSessions,
} from '../adapters/dynamodb/index.ts';
import { ensureTable } from '../adapters/dynamodb/table-setup.ts';
import {
  createLocalObjectService,
  DirectoryObjectStorage,
  MemoryObjectStorage,
  type ObjectStorage,
  withObjectService,
} from '../adapters/local-objects/index.ts';
import { MemoryPushSubscriptions } from '../adapters/memory/memory-push-subscriptions.ts';
import {
  createMemoryPorts,
  type MemoryPorts,
  memoryAttachmentPorts,
  memoryModerationPorts,
  memoryTokenPorts,
} from '../adapters/memory-ports.ts';
import {
  generateVapidKeys,
  parseVapidSecret,
  StaticVapidKeys,
  type VapidKeys,
  vapidSecretJson,
} from '../adapters/webpush/vapid-keys.ts';
import { webPushPorts } from '../adapters/webpush/web-push-ports.ts';
import {
  DEFAULT_PUSH_ALLOWED_HOSTS,
  ENV,
  type Environment,
  LOCAL_ENV,
  parsePushHosts,
  readReportRetentionDays,
  VAPID_SUBJECT_PATTERN,
} from '../deployment.ts';
import type { AttachmentObjects, AttachmentPorts } from '../domain/attachment-ports.ts';
import { multipartPlan } from '../domain/attachment-service.ts';
import { DEFAULT_CONFIG, type ServiceConfig, withReportRetentionDays } from '../domain/config.ts';
import { randomBytes } from '../domain/crypto.ts';
import type { ModerationPorts } from '../domain/moderation-ports.ts';
import { ModerationService } from '../domain/moderation-service.ts';
import type { Clock, Ports, SigningMaterial } from '../domain/ports.ts';
import type { ReportVerifier } from '../domain/report-ports.ts';
import {
  generateSigningMaterial,
  parseSigningSecret,
  StaticSigningKeyProvider,
  signingSecretJson,
  upgradeSigningSecret,
} from '../domain/signing-material.ts';
import type { TokenPorts } from '../domain/token-ports.ts';
import type { PushSubscriptionStore } from '../domain/wakeup-ports.ts';
import { buildApp } from './app.ts';
import { buildModerationApp, isModerationPath } from './moderation/app.ts';
import { loadOrCreateModeratorToken } from './moderation/token.ts';
import { createNodeServer } from './node-http.ts';
import { createLocalRealtime } from './realtime-local.ts';

const SIGNING_FILE = 'signing.json';
const VAPID_FILE = 'vapid.json';

/**
 * VAPID subject of the local server when none is given. Push services only use it to reach an
 * operator; Apple's refuses a `localhost` subject, so set `SEALPOST_VAPID_SUBJECT` (or
 * `webPush.subject`) to a real address to wake Safari.
 */
export const LOCAL_VAPID_SUBJECT = 'mailto:sealpost@localhost';
/** Local server certificates are valid for 10 years: the data directory is the trust root. */
const LOCAL_CERT_LIFETIME_MS = 10 * 365 * 24 * 60 * 60 * 1000;

/** Endpoints of local AWS emulators (DynamoDB Local, s3rver). */
export interface LocalAwsEndpoints {
  readonly dynamodb: string;
  readonly s3: string;
  /** @default 'sealpost' */
  readonly table?: string;
  /** @default 'sealpost-envelopes' */
  readonly bucket?: string;
}

/** Wake-up options of the local server (docs/SERVICE.md §7.3). */
export interface LocalWebPushOptions {
  /** @default generated on first start and kept in the data directory (`vapid.json`) */
  readonly vapidKeys?: VapidKeys;
  /** @default LOCAL_VAPID_SUBJECT */
  readonly subject?: string;
  /** Push service hosts besides loopback. @default DEFAULT_PUSH_ALLOWED_HOSTS */
  readonly allowedHosts?: readonly string[];
}

/** Options of {@link startLocalServer}. */
export interface LocalServerOptions {
  /** @default 8787; 0 picks a free port */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly hostname?: string;
  /** Where the signing material is kept. @default '.local' */
  readonly dataDir?: string;
  /** Use DynamoDB Local and s3rver instead of in-memory storage. */
  readonly aws?: LocalAwsEndpoints;
  /** Limits, attachment sizes among them (`attachmentMaxBytes`, `attachmentPartSize`, …). */
  readonly config?: ServiceConfig;
  /**
   * Where attachment blobs are kept: files in the data directory (`objects/`, or
   * `objects-memory/` without emulators), or memory (for tests).
   * @default 'directory'
   */
  readonly objectStorage?: 'directory' | 'memory';
  /** The clock of the services and of presigned URL expiry (for tests). @default Date.now */
  readonly clock?: Clock;
  /** @default writes each log line to stdout */
  readonly log?: (line: string) => void;
  /** Wake-ups; `false` turns them off. @default on, see {@link LocalWebPushOptions} */
  readonly webPush?: LocalWebPushOptions | false;
  /**
   * Checks the franking evidence of reports (docs/SERVICE.md §14.1); tests may put a stand-in.
   * @default the franking verifier over the local signing material (functions/domain/report-verifier.ts)
   */
  readonly reportVerifier?: ReportVerifier;
}

/** A running local server. */
export interface LocalServer {
  readonly url: string;
  /** The trust root public key (base64url) clients pin. */
  readonly trustRoot: string;
  /** The in-memory storage, when the server runs without emulators (for tools that show it). */
  readonly memory?: MemoryPorts;
  /** Where the attachment blobs are (the local object service's storage). */
  readonly objectStorage: ObjectStorage;
  /** The reports, suspensions and audit log behind the moderation API (for tools and tests). */
  readonly moderation: ModerationPorts;
  /**
   * The bearer token of the moderation API under `/v1/moderation` (docs/SERVICE.md §14.4), as
   * kept in `<dataDir>/moderator-token`.
   */
  readonly moderatorToken: string;
  close(): Promise<void>;
}

/**
 * The stored root seed of a version-1 `signing.json` (written before franking), or undefined
 * when the text is anything else.
 */
function version1RootSeed(text: string): Uint8Array | undefined {
  let json: { version?: unknown; trustRootSeed?: unknown };
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    return undefined;
  }
  if (json?.version !== 1 || typeof json.trustRootSeed !== 'string') return undefined;
  return fromBase64Url(json.trustRootSeed, 'trustRootSeed');
}

/**
 * Loads the signing material from `dataDir`, generating and saving it on first use (file mode
 * 0600: it holds the local trust root's private key). A version-1 file (from before franking)
 * is upgraded in place: its keys are kept, and a moderator key certified by the stored root
 * seed and a stamp secret are added (docs/SERVICE.md §6).
 */
export async function loadOrCreateSigningMaterial(dataDir: string): Promise<SigningMaterial> {
  const file = join(dataDir, SIGNING_FILE);
  try {
    const text = await readFile(file, 'utf8');
    const rootSeed = version1RootSeed(text);
    if (rootSeed === undefined) return parseSigningSecret(text);
    const upgraded = `${JSON.stringify(upgradeSigningSecret(text, rootSeed), null, 2)}\n`;
    rootSeed.fill(0);
    // Written beside and renamed over the old file, so a crash leaves one complete file.
    const next = `${file}.next`;
    await writeFile(next, upgraded, { mode: 0o600 });
    await rename(next, file);
    return parseSigningSecret(upgraded);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dataDir, { recursive: true });
  const { material, rootSeed } = generateSigningMaterial({
    keyId: 1,
    notAfter: Date.now() + LOCAL_CERT_LIFETIME_MS,
  });
  const json = { ...signingSecretJson(material), trustRootSeed: toBase64Url(rootSeed) };
  await writeFile(file, `${JSON.stringify(json, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return material;
}

/**
 * Loads the VAPID key pair from `dataDir`, generating and saving it on first use (file mode
 * 0600: it holds the private key). Kept so browser subscriptions, made with its public key,
 * stay valid across restarts.
 *
 * @example const keys = await loadOrCreateVapidKeys('.local');
 * @throws {RangeError} if the file exists and is not a VAPID key pair.
 */
export async function loadOrCreateVapidKeys(dataDir: string): Promise<VapidKeys> {
  const file = join(dataDir, VAPID_FILE);
  try {
    return parseVapidSecret(await readFile(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dataDir, { recursive: true });
  const keys = generateVapidKeys();
  await writeFile(file, `${vapidSecretJson(keys)}\n`, { mode: 0o600, flag: 'wx' });
  return keys;
}

async function localAwsPorts(
  endpoints: LocalAwsEndpoints,
  signing: SigningMaterial,
  objects: AttachmentObjects,
): Promise<{
  ports: Ports;
  pushSubscriptions: PushSubscriptionStore;
  attachments: AttachmentPorts;
  moderation: ModerationPorts;
  tokens: TokenPorts;
}> {
  const region = process.env['AWS_REGION'] ?? 'us-east-1';
  const credentials = {
    accessKeyId: process.env['AWS_ACCESS_KEY_ID'] ?? 'S3RVER',
    secretAccessKey: process.env['AWS_SECRET_ACCESS_KEY'] ?? 'S3RVER',
  };
  const table = endpoints.table ?? 'sealpost';
  const bucket = endpoints.bucket ?? 'sealpost-envelopes';
  const dynamodb = new DynamoDBClient({ endpoint: endpoints.dynamodb, region, credentials });
  const s3 = new S3Client({
    endpoint: endpoints.s3,
    region,
    credentials,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  await ensureTable(dynamodb, table);
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  }
  const ports = awsPorts({
    dynamodb,
    s3,
    table,
    bucket,
    signingKeys: new StaticSigningKeyProvider(signing),
  });
  return {
    ports,
    pushSubscriptions: new DynamoPushSubscriptions(dynamodb, table),
    // Blobs in the local object service; sessions and quotas in the table, as on AWS.
    attachments: {
      objects,
      sessions: new DynamoUploadSessions(dynamodb, table),
      quota: new DynamoAttachmentQuota(dynamodb, table),
    },
    moderation: awsModerationPorts({ dynamodb, table }),
    tokens: awsTokenPorts({ dynamodb, table }),
  };
}

/**
 * The local object service's storage: files under the data directory, or memory. Those of
 * the in-memory engine are removed first (the sessions and messages that referred to them are
 * gone); with the emulators, what the bucket's lifecycle rules would have expired by now is
 * (blobs past the message lifetime and a day, uploads idle for a day).
 */
async function objectStorage(
  options: LocalServerOptions,
  dataDir: string,
  config: ServiceConfig,
): Promise<ObjectStorage> {
  if (options.objectStorage === 'memory') return new MemoryObjectStorage();
  if (!options.aws) {
    const dir = join(dataDir, 'objects-memory');
    await rm(dir, { recursive: true, force: true });
    return new DirectoryObjectStorage(dir);
  }
  const storage = new DirectoryObjectStorage(join(dataDir, 'objects'));
  await storage.expire((options.clock ?? Date.now)(), {
    objectMs: config.messageTtlMs + config.attachmentSessionTtlMs,
    uploadMs: config.attachmentSessionTtlMs,
  });
  return storage;
}

/**
 * Starts the local server.
 *
 * @example const server = await startLocalServer({ port: 0 }); // server.url
 */
export async function startLocalServer(options: LocalServerOptions = {}): Promise<LocalServer> {
  const dataDir = resolve(options.dataDir ?? '.local');
  const signing = await loadOrCreateSigningMaterial(dataDir);
  const config = options.config ?? DEFAULT_CONFIG;
  const hostname = options.hostname ?? '127.0.0.1';
  // Known once the server listens; presigned URLs are made only after that.
  let url = '';
  const storage = await objectStorage(options, dataDir, config);
  const objectService = createLocalObjectService({
    storage,
    baseUrl: () => url,
    // A part URL admits the largest part any upload of this configuration can have.
    partBytes: multipartPlan(config.attachmentMaxBytes, config.attachmentPartSize).partSize,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  let ports: Ports;
  let memory: MemoryPorts | undefined;
  let pushSubscriptions: PushSubscriptionStore;
  let attachments: AttachmentPorts;
  let moderation: ModerationPorts;
  let tokens: TokenPorts;
  if (options.aws) {
    ({ ports, pushSubscriptions, attachments, moderation, tokens } = await localAwsPorts(
      options.aws,
      signing,
      objectService.objects,
    ));
  } else {
    memory = createMemoryPorts(new StaticSigningKeyProvider(signing));
    ports = memory;
    pushSubscriptions = new MemoryPushSubscriptions();
    attachments = memoryAttachmentPorts(objectService.objects);
    moderation = memoryModerationPorts(memory.accounts);
    tokens = memoryTokenPorts();
  }
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const webPush = options.webPush;
  const wakeups =
    webPush === false
      ? { subscriptions: pushSubscriptions, log }
      : {
          subscriptions: pushSubscriptions,
          log,
          ...webPushPorts({
            keys: new StaticVapidKeys(webPush?.vapidKeys ?? (await loadOrCreateVapidKeys(dataDir))),
            subject: webPush?.subject ?? LOCAL_VAPID_SUBJECT,
            endpoints: {
              allowedHosts: webPush?.allowedHosts ?? DEFAULT_PUSH_ALLOWED_HOSTS,
              allowLoopback: true,
            },
          }),
        };
  const local = createLocalRealtime(ports, {
    config,
    log,
    wakeups,
    attachments,
    moderation,
    tokens,
    ...(options.reportVerifier ? { reportVerifier: options.reportVerifier } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const app = buildApp({ services: local.services, log, stage: 'local' });
  // The operators' API (docs/SERVICE.md §14.4) on the same port, behind the local token.
  const moderatorToken = await loadOrCreateModeratorToken(dataDir);
  const moderationApp = buildModerationApp({
    moderation: new ModerationService(
      moderation,
      ports.accounts,
      options.clock ?? Date.now,
      randomBytes,
    ),
    auth: { kind: 'bearer', token: moderatorToken },
    log,
    stage: 'local',
  });
  const serveApp = (request: Request) =>
    isModerationPath(new URL(request.url).pathname)
      ? moderationApp.fetch(request)
      : app.fetch(request);
  // node-http.ts: JSON errors from Node's HTTP layer too, and early answers (413) drained.
  // The object service answers `/_objects` before the app (it plays S3, not the API).
  const server = createNodeServer(withObjectService(serveApp, objectService.handle), {
    hostname,
  });
  // realtime-local.ts: the WebSocket endpoint (docs/SERVICE.md §7.3) on the same port.
  const closeSockets = local.attach(server);
  return new Promise((resolveServer, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8787, hostname, () => {
      const info = server.address() as AddressInfo;
      url = `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${info.port}`;
      resolveServer({
        url,
        trustRoot: toBase64Url(signing.trustRoot),
        ...(memory ? { memory } : {}),
        objectStorage: storage,
        moderation,
        moderatorToken,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeIdleConnections();
            closeSockets();
          }),
      });
    });
  });
}

/**
 * Options of {@link startLocalServer} from the environment ({@link LOCAL_ENV}, plus the
 * contract's table and bucket names for the emulators and its VAPID subject and push hosts).
 *
 * @example localOptionsFromEnv({ SEALPOST_PORT: '0' }).port // 0
 * @throws {RangeError} if `SEALPOST_PORT` is not an integer in 0..65535, or the VAPID subject
 *   or push host list is set and malformed
 */
export function localOptionsFromEnv(env: Environment): LocalServerOptions {
  const port = Number(env[LOCAL_ENV.port] ?? 8787);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new RangeError(`${LOCAL_ENV.port} must be an integer in 0..65535`);
  }
  const dynamodb = env[LOCAL_ENV.dynamodbEndpoint];
  const s3 = env[LOCAL_ENV.s3Endpoint];
  const table = env[ENV.table];
  const bucket = env[ENV.bucket];
  const aws =
    dynamodb && s3
      ? { dynamodb, s3, ...(table ? { table } : {}), ...(bucket ? { bucket } : {}) }
      : undefined;
  const subject = env[ENV.vapidSubject] || undefined;
  if (subject !== undefined && !VAPID_SUBJECT_PATTERN.test(subject)) {
    throw new RangeError(`${ENV.vapidSubject} must be a mailto: or https: URL`);
  }
  const hostList = env[ENV.pushAllowedHosts] || undefined;
  const allowedHosts = hostList === undefined ? undefined : parsePushHosts(hostList);
  if (hostList !== undefined && allowedHosts === undefined) {
    throw new RangeError(`${ENV.pushAllowedHosts} must list host names, comma-separated`);
  }
  const webPush = {
    ...(subject === undefined ? {} : { subject }),
    ...(allowedHosts === undefined ? {} : { allowedHosts }),
  };
  const reportRetentionDays = env[ENV.reportRetentionDays]
    ? readReportRetentionDays(env)
    : undefined;
  return {
    port,
    dataDir: env[LOCAL_ENV.dataDir] ?? '.local',
    ...(reportRetentionDays === undefined
      ? {}
      : { config: withReportRetentionDays(DEFAULT_CONFIG, reportRetentionDays) }),
    ...(aws ? { aws } : {}),
    ...(Object.keys(webPush).length > 0 ? { webPush } : {}),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const server = await startLocalServer(localOptionsFromEnv(process.env));
  process.stdout.write(
    `${JSON.stringify({ msg: 'listening', url: server.url, trustRoot: server.trustRoot })}\n`,
  );
}
