/**
 * The local moderator token (docs/SERVICE.md §14.4): 32 random bytes, base64url, generated once
 * into `<dataDir>/moderator-token` (mode 0600) like the signing material, read by the local
 * server (which mounts the moderation app with it) and by the moderation CLI.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** File name of the token in the data directory. */
export const MODERATOR_TOKEN_FILE = 'moderator-token';

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/**
 * The token in `dataDir`, or undefined when there is none.
 *
 * @example const token = await readModeratorToken('.local');
 * @throws {RangeError} if the file exists and does not hold a token.
 */
export async function readModeratorToken(dataDir: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(join(dataDir, MODERATOR_TOKEN_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const token = text.trim();
  if (!TOKEN.test(token)) throw new RangeError(`${MODERATOR_TOKEN_FILE} does not hold a token`);
  return token;
}

/**
 * The token in `dataDir`, generated and saved on first use (mode 0600: whoever reads it is an
 * operator of the local server).
 *
 * @example const token = await loadOrCreateModeratorToken('.local');
 * @throws {RangeError} if the file exists and does not hold a token.
 */
export async function loadOrCreateModeratorToken(dataDir: string): Promise<string> {
  const existing = await readModeratorToken(dataDir);
  if (existing !== undefined) return existing;
  await mkdir(dataDir, { recursive: true });
  const token = randomBytes(32).toString('base64url');
  try {
    await writeFile(join(dataDir, MODERATOR_TOKEN_FILE), `${token}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    // Another server started on the same directory first: use its token.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const raced = await readModeratorToken(dataDir);
    if (raced === undefined) throw err;
    return raced;
  }
  return token;
}
