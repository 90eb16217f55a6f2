/**
 * `npm start` and `npm run demo` as child processes, the way a user runs them: through tsx with
 * the `sealpost-source` condition, optionally with Java hidden (a PATH that holds only `node`),
 * so the tests see exactly what a machine without Java prints.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');

/** Options of {@link runScript} and {@link startServer}. */
export interface ScriptOptions {
  /** Data directory (`SEALPOST_DATA_DIR`). */
  readonly dataDir: string;
  /** Run with a PATH on which there is no `java`. @default false */
  readonly hideJava?: boolean;
  /** More environment variables. */
  readonly env?: Readonly<Record<string, string>>;
}

async function environment(options: ScriptOptions): Promise<{
  env: NodeJS.ProcessEnv;
  cleanup: () => Promise<void>;
}> {
  // No variables of the vitest worker leak into the script.
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'NODE_OPTIONS'),
  );
  env['SEALPOST_DATA_DIR'] = options.dataDir;
  env['SEALPOST_PORT'] = '0';
  delete env['SEALPOST_ENGINE'];
  Object.assign(env, options.env);
  if (!options.hideJava) return { env, cleanup: async () => undefined };
  const bin = await mkdtemp(join(tmpdir(), 'sealpost-nojava-'));
  await symlink(process.execPath, join(bin, 'node'));
  env['PATH'] = bin;
  return { env, cleanup: () => rm(bin, { recursive: true, force: true }) };
}

/** What a finished script printed. */
export interface ScriptResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `scripts/<name>` to its end.
 *
 * @throws {Error} if it cannot be spawned.
 * @example const { code, stdout } = await runScript('demo.ts', { dataDir, hideJava: true });
 */
export async function runScript(name: string, options: ScriptOptions): Promise<ScriptResult> {
  const { env, cleanup } = await environment(options);
  try {
    const child = spawn(
      process.execPath,
      [TSX, '--conditions=sealpost-source', `scripts/${name}`],
      {
        cwd: ROOT,
        env,
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (c) => resolve(c));
    });
    return { code, stdout, stderr };
  } finally {
    await cleanup();
  }
}

/** A running `npm start`. */
export interface StartedServer {
  readonly url: string;
  readonly trustRoot: string;
  /** Everything it printed so far. */
  output(): string;
  /** Sends SIGTERM and waits; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Runs `scripts/start.ts` until it prints its URL and trust root.
 *
 * @throws {Error} if it exits or prints no URL within 90 s.
 * @example const server = await startServer({ dataDir, hideJava: true }); await server.stop();
 */
export async function startServer(options: ScriptOptions): Promise<StartedServer> {
  const { env, cleanup } = await environment(options);
  const child: ChildProcess = spawn(
    process.execPath,
    [TSX, '--conditions=sealpost-source', 'scripts/start.ts'],
    { cwd: ROOT, env },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  const ready = await new Promise<{ url: string; trustRoot: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`start.ts printed no URL:\n${out}`)), 90_000);
    const check = () => {
      const url = /URL:\s+(\S+)/.exec(out)?.[1];
      const trustRoot = /Trust root:\s+(\S+)/.exec(out)?.[1];
      if (url && trustRoot) {
        clearTimeout(timer);
        resolve({ url, trustRoot });
      }
    };
    child.stdout?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`start.ts exited with ${code}:\n${out}`));
    });
  }).catch(async (err: unknown) => {
    child.kill('SIGKILL');
    await cleanup();
    throw err;
  });
  return {
    ...ready,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const code = await exited;
      await cleanup();
      return code;
    },
  };
}
