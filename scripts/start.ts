/**
 * `npm start`: runs the whole service on this machine (DynamoDB Local, s3rver and the API),
 * data in `.local/`, until Ctrl-C. Prints the URL and the trust root clients pin. Without Java
 * it runs the API on the in-memory engine and says so in one line.
 *
 * Environment: `SEALPOST_PORT` (default 8787; 0 picks a free port), `SEALPOST_DATA_DIR`
 * (default `.local`), `SEALPOST_ENGINE` (`memory` or `dynamodb`; default: by whether Java
 * runs), `SEALPOST_LOG=1` to print the API's JSON request log.
 */
import {
  chooseEngine,
  DEFAULT_DATA_DIR,
  DEFAULT_PORT,
  findRunningStack,
  JavaMissingError,
  PortInUseError,
  startLocalStack,
} from './local-stack.ts';

const env = process.env;
const dataDir = env['SEALPOST_DATA_DIR'] ?? DEFAULT_DATA_DIR;
const port = Number(env['SEALPOST_PORT'] ?? DEFAULT_PORT);

const running = await findRunningStack(dataDir);
if (running) {
  process.stdout.write(
    `Sealpost is already running (pid ${running.pid}).\n  URL:        ${running.url}\n  Trust root: ${running.trustRoot}\n`,
  );
  process.exit(0);
}

let choice: ReturnType<typeof chooseEngine>;
try {
  choice = chooseEngine(env);
} catch (err) {
  process.stderr.write(`error: ${(err as Error).message}\n`);
  process.exit(1);
}
if (choice.notice) process.stdout.write(`${choice.notice}\n`);
process.stdout.write(
  choice.engine === 'memory'
    ? 'Starting the Sealpost API...\n'
    : 'Starting DynamoDB Local, s3rver and the Sealpost API...\n',
);
try {
  const stack = await startLocalStack({
    port,
    dataDir,
    engine: choice.engine,
    ...(env['SEALPOST_LOG'] === '1'
      ? { log: (line: string) => process.stdout.write(`${line}\n`) }
      : {}),
  });
  process.stdout.write(
    [
      '',
      'Sealpost is running.',
      `  URL:        ${stack.url}`,
      `  Trust root: ${stack.trustRoot}   (pin this in clients: { trust: { trustRoot } })`,
      stack.engine === 'memory'
        ? `  Data:       in memory until exit (attachment blobs in ${dataDir}/objects-memory/, emptied at start); signing keys in ${dataDir}/`
        : `  Data:       ${dataDir}/ (DynamoDB Local, s3rver objects, attachment blobs in objects/, signing keys)`,
      '',
      'Try it: npm run demo      Stop: Ctrl-C',
      '',
    ].join('\n'),
  );
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nStopping...\n');
    await stack.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} catch (err) {
  if (err instanceof JavaMissingError) {
    process.stderr.write(`error: ${err.message}\n`);
    process.exit(1);
  }
  if (err instanceof PortInUseError) {
    process.stderr.write(
      `error: port ${port} is in use. Set SEALPOST_PORT to another port, e.g. SEALPOST_PORT=8788 npm start\n`,
    );
    process.exit(1);
  }
  throw err;
}
