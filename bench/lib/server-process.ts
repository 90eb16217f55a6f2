/**
 * The local server as `npm start` serves it (functions/api/local.ts, the same `startLocalServer`),
 * run in its own process for the realtime benchmark (bench/realtime.ts), on DynamoDB Local and
 * s3rver or on the in-memory engine. Its JSON access log (a file in the data directory) gives
 * the handler time of every sealed send and every poll, which no client can see.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ENV, LOCAL_ENV } from '../../functions/deployment.ts';
import type { LocalAws } from '../../test/helpers/local-aws.ts';

/** The local server as `npm start` runs it, in a child process. */
export interface Server {
  readonly url: string;
  readonly trustRoot: string;
  /** Handler times (ms) of the sealed sends and of the polls since the last `take()`. */
  take(): { sendMs: number[]; pollMs: number[] };
  stop(): Promise<void>;
}

/**
 * Starts the server on a free port with its data (signing material) in `dataDir`, on the
 * emulators' `table` when given, else on the in-memory engine.
 *
 * @example const server = await startServer({ aws, table }, dataDir); await server.stop();
 * @throws {Error} if the server process exits before it listens.
 */
export async function startServer(
  emulators: { aws: LocalAws; table: string } | undefined,
  dataDir: string,
): Promise<Server> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    [LOCAL_ENV.port]: '0',
    [LOCAL_ENV.dataDir]: dataDir,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  // Without both emulator endpoints the server runs on the in-memory engine.
  delete env[LOCAL_ENV.dynamodbEndpoint];
  delete env[LOCAL_ENV.s3Endpoint];
  if (emulators) {
    env[LOCAL_ENV.dynamodbEndpoint] = emulators.aws.dynamoEndpoint;
    env[LOCAL_ENV.s3Endpoint] = emulators.aws.s3Endpoint;
    env[ENV.table] = emulators.table;
    env[ENV.bucket] = emulators.aws.bucket;
  }
  // The log goes to a file, not a pipe: a write to a full pipe blocks a Node process on Linux,
  // so a busy reader would stall the server it measures.
  const logFile = join(dataDir, 'server.log');
  const out = openSync(logFile, 'w');
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=sealpost-source',
      resolve(import.meta.dirname, '../../functions/api/local.ts'),
    ],
    { env, stdio: ['ignore', out, 'inherit'] },
  );
  closeSync(out);
  let exited: number | null | undefined;
  child.once('exit', (code) => {
    exited = code;
  });
  let offset = 0;
  let partial = '';
  let listening: { url: string; trustRoot: string } | undefined;
  let sendMs: number[] = [];
  let pollMs: number[] = [];
  /** Reads the lines the server wrote since the last call. */
  const read = () => {
    const text = readFileSync(logFile).subarray(offset);
    offset += text.length;
    const lines = (partial + text.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (entry['msg'] === 'listening') {
        listening = { url: String(entry['url']), trustRoot: String(entry['trustRoot']) };
      } else if (entry['msg'] === 'request') {
        if (entry['method'] === 'PUT' && entry['route'] === '/v1/messages/:address') {
          sendMs.push(Number(entry['durationMs']));
        } else if (entry['method'] === 'GET' && entry['route'] === '/v1/messages') {
          pollMs.push(Number(entry['durationMs']));
        }
      }
    }
  };
  while (!listening) {
    if (exited !== undefined) throw new Error(`the local server exited (${exited})`);
    await new Promise((r) => setTimeout(r, 50));
    read();
  }
  const { url, trustRoot } = listening;
  return {
    url,
    trustRoot,
    take() {
      read();
      const out = { sendMs, pollMs };
      sendMs = [];
      pollMs = [];
      return out;
    },
    stop: () =>
      new Promise<void>((done) => {
        if (exited !== undefined) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}
