#!/usr/bin/env node
/**
 * `npm run docs:api`: the SDK's API reference (TypeDoc) in dist/api/, from the public entry
 * points of `sealpost` and `@sealpost/testing` (typedoc.json). TypeDoc and its TypeScript 5.9
 * live in this directory; they are installed from its lock file (`npm ci`) on first use and
 * again only when the lock file changes. Extra arguments go to TypeDoc, e.g.
 * `npm run docs:api -- --treatWarningsAsErrors`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));
const lock = `${dir}package-lock.json`;
const installed = `${dir}node_modules/.package-lock.json`;

if (!existsSync(installed) || statSync(lock).mtimeMs > statSync(installed).mtimeMs) {
  process.stderr.write('Installing TypeDoc for the API reference (npm ci)...\n');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const ci = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'inherit' });
  if (ci.status !== 0) process.exit(ci.status ?? 1);
}

const typedoc = `${dir}node_modules/typedoc/bin/typedoc`;
const args = [typedoc, '--options', `${dir}typedoc.json`, ...process.argv.slice(2)];
const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
