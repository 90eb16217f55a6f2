/**
 * Timing of one side for a fixed stretch, shared by the page (lib/browser-page.ts) and the
 * Node 24 process (lib/browser-node.ts) of `npm run bench:browser`, so both count operations
 * the same way lib/harness.ts does: `run` back to back for about `ms` of timed work, or, with
 * `prepare`, inputs built in batches outside the timed region. No Node API: the page runs it.
 */
import type { Side } from './harness.ts';

/**
 * Runs `side` for about `ms` of timed work and returns operations per second.
 *
 * @example const opsPerSecond = await timeSide({ run: pair.oneWay }, 1000);
 */
export async function timeSide<T>(side: Side<T>, ms: number): Promise<number> {
  let n = 0;
  let elapsed = 0;
  if (side.prepare === undefined) {
    const run = side.run as () => Promise<unknown> | unknown;
    const start = performance.now();
    while (elapsed < ms) {
      await run();
      n++;
      elapsed = performance.now() - start;
    }
    return (n * 1000) / elapsed;
  }
  const batch = side.batch ?? 1;
  while (elapsed < ms) {
    const inputs: T[] = [];
    for (let i = 0; i < batch; i++) inputs.push(await side.prepare());
    const start = performance.now();
    for (const input of inputs) await side.run(input);
    elapsed += performance.now() - start;
    n += batch;
  }
  return (n * 1000) / elapsed;
}

/** The timed cases of `npm run bench:browser`, the same as `npm run bench:sdk`'s. */
export const CASES = ['oneWay', 'alternate', 'setup', 'sealed'] as const;
/** One of {@link CASES}. */
export type CaseName = (typeof CASES)[number];

/** Message and sealed-envelope sizes in bytes (1 KiB plaintext), first and steady state. */
export interface Sizes {
  readonly message: { readonly first: number; readonly steady: number };
  readonly sealed?: { readonly first: number; readonly steady: number };
}

/**
 * The four cases of one library as sides, by name (inputs erased to `unknown`: each side only
 * ever gets what its own `prepare` made); a library without a case leaves it out.
 */
export type CaseSides = Partial<Record<CaseName, Side<unknown>>>;
