/**
 * The headless Chromium the browser tests drive through playwright-core: the system's
 * (`/usr/bin/chromium`, Debian's package) when it is installed, otherwise the build that
 * `@sparticuz/chromium` ships inside its npm package (unpacked into the temp directory on first
 * use), so `npm test` needs no system browser. `SEALPOST_CHROMIUM` overrides the choice:
 * `npm` or `system`, or the path of a Chromium executable.
 */
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';

/** Debian's Chromium. */
export const SYSTEM_CHROMIUM = '/usr/bin/chromium';

/** Where the browser comes from: the system package, the npm package, or a given executable. */
export type ChromiumSource =
  | { readonly kind: 'system'; readonly path: string }
  | { readonly kind: 'npm' }
  | { readonly kind: 'path'; readonly path: string };

/** The flags the system Chromium has always run with in CI containers. */
const SYSTEM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Picks the browser from the override (`SEALPOST_CHROMIUM`) and what is installed.
 *
 * @throws {Error} if the override asks for the system Chromium and it is not installed.
 * @example chromiumSource(process.env['SEALPOST_CHROMIUM']) // { kind: 'system', path: '/usr/bin/chromium' }
 */
export function chromiumSource(
  override: string | undefined,
  exists: (path: string) => boolean = existsSync,
): ChromiumSource {
  if (override === 'npm') return { kind: 'npm' };
  if (override === 'system' || !override) {
    if (exists(SYSTEM_CHROMIUM)) return { kind: 'system', path: SYSTEM_CHROMIUM };
    if (override === 'system') {
      throw new Error(
        `SEALPOST_CHROMIUM=system but ${SYSTEM_CHROMIUM} is missing (Debian/Ubuntu: sudo apt-get install -y chromium)`,
      );
    }
    return { kind: 'npm' };
  }
  return { kind: 'path', path: override };
}

/** A lock older than this was left by a process that died while unpacking. */
const STALE_LOCK_MS = 120_000;

/**
 * The npm package's executable. The package unpacks it to one fixed path in the temp
 * directory; test files run in parallel processes, so the first unpacks while the others wait
 * on a lock directory, then all reuse the unpacked file.
 */
async function packagedExecutable(): Promise<{ path: string; args: string[] }> {
  const { default: packaged } = await import('@sparticuz/chromium');
  const lock = join(tmpdir(), 'sealpost-chromium.lock');
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return { path: await packaged.executablePath(), args: packaged.args };
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** A launched browser and where it came from. */
export interface LaunchedChromium {
  readonly browser: Browser;
  readonly source: ChromiumSource;
}

/**
 * Launches headless Chromium from `source` (default: {@link chromiumSource}).
 *
 * @throws {Error} if the executable does not start.
 * @example const { browser } = await launchChromium({ kind: 'npm' });
 */
export async function launchChromium(
  source: ChromiumSource = chromiumSource(process.env['SEALPOST_CHROMIUM']),
): Promise<LaunchedChromium> {
  if (source.kind === 'npm') {
    const packaged = await packagedExecutable();
    const browser = await chromium.launch({
      executablePath: packaged.path,
      args: packaged.args,
      headless: true,
    });
    return { browser, source };
  }
  const browser = await chromium.launch({ executablePath: source.path, args: SYSTEM_ARGS });
  return { browser, source };
}
