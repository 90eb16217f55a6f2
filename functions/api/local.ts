/**
 * The local server (Node-only): the same app as on Lambda, served by `@hono/node-server`,
 * with the WebSocket endpoint of realtime delivery on the same port (realtime-local.ts), over
 * in-memory adapters or over DynamoDB Local and s3rver endpoints. The signing material is
 * generated once and kept in the data directory (`.local/` by default), so clients can pin the
 * trust root across restarts.
 *
 * Run: `npx tsx functions/api/local.ts` (env: `SEALPOST_PORT` default 8787,
 * `SEALPOST_DATA_DIR` default `.local`, and optionally `SEALPOST_DYNAMODB_ENDPOINT`,
 * `SEALPOST_S3_ENDPOINT`, `SEALPOST_TABLE`, `SEALPOST_BUCKET` to use local AWS emulators).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { toBase64Url } from 'sealpost/wire/api';
import { awsPorts } from '../adapters/aws-ports.ts';
import { ensureTable } from '../adapters/dynamodb/table-setup.ts';
import { createMemoryPorts } from '../adapters/memory-ports.ts';
import { ENV, type Environment, LOCAL_ENV } from '../deployment.ts';
import { DEFAULT_CONFIG, type ServiceConfig } from '../domain/config.ts';
import type { Ports, SigningMaterial } from '../domain/ports.ts';
import {
  generateSigningMaterial,
  parseSigningSecret,
  StaticSigningKeyProvider,
  signingSecretJson,
} from '../domain/signing-material.ts';
import { buildApp } from './app.ts';
import { createNodeServer } from './node-http.ts';
import { createLocalRealtime } from './realtime-local.ts';

const SIGNING_FILE = 'signing.json';
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
  readonly config?: ServiceConfig;
  /** @default writes each log line to stdout */
  readonly log?: (line: string) => void;
}

/** A running local server. */
export interface LocalServer {
  readonly url: string;
  /** The trust root public key (base64url) clients pin. */
  readonly trustRoot: string;
  close(): Promise<void>;
}

/**
 * Loads the signing material from `dataDir`, generating and saving it on first use (file mode
 * 0600: it holds the local trust root's private key).
 */
export async function loadOrCreateSigningMaterial(dataDir: string): Promise<SigningMaterial> {
  const file = join(dataDir, SIGNING_FILE);
  try {
    return parseSigningSecret(await readFile(file, 'utf8'));
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

async function localAwsPorts(
  endpoints: LocalAwsEndpoints,
  signing: SigningMaterial,
): Promise<Ports> {
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
  return awsPorts({
    dynamodb,
    s3,
    table,
    bucket,
    signingKeys: new StaticSigningKeyProvider(signing),
  });
}

/**
 * Starts the local server.
 *
 * @example const server = await startLocalServer({ port: 0 }); // server.url
 */
export async function startLocalServer(options: LocalServerOptions = {}): Promise<LocalServer> {
  const signing = await loadOrCreateSigningMaterial(resolve(options.dataDir ?? '.local'));
  const ports = options.aws
    ? await localAwsPorts(options.aws, signing)
    : createMemoryPorts(new StaticSigningKeyProvider(signing));
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const local = createLocalRealtime(ports, { config: options.config ?? DEFAULT_CONFIG, log });
  const app = buildApp({ services: local.services, log, stage: 'local' });
  const hostname = options.hostname ?? '127.0.0.1';
  // node-http.ts: JSON errors from Node's HTTP layer too, and early answers (413) drained.
  const server = createNodeServer(app.fetch, { hostname });
  // realtime-local.ts: the WebSocket endpoint (docs/SERVICE.md §7.3) on the same port.
  const closeSockets = local.attach(server);
  return new Promise((resolveServer, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8787, hostname, () => {
      const info = server.address() as AddressInfo;
      resolveServer({
        url: `http://${hostname}:${info.port}`,
        trustRoot: toBase64Url(signing.trustRoot),
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
 * contract's table and bucket names for the emulators).
 *
 * @example localOptionsFromEnv({ SEALPOST_PORT: '0' }).port // 0
 * @throws {RangeError} if `SEALPOST_PORT` is not an integer in 0..65535
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
  return { port, dataDir: env[LOCAL_ENV.dataDir] ?? '.local', ...(aws ? { aws } : {}) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const server = await startLocalServer(localOptionsFromEnv(process.env));
  process.stdout.write(
    `${JSON.stringify({ msg: 'listening', url: server.url, trustRoot: server.trustRoot })}\n`,
  );
}
