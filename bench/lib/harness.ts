/**
 * Benchmark harness for comparing two implementations of the same work on a shared, noisy
 * machine. Rounds of the two sides are interleaved (A B, B A, A B, ...), so load that drifts
 * during a run hits both alike, and the ratio is the median of the per-round ratios rather
 * than the ratio of two medians measured seconds apart. Both sides are warmed up first: the
 * JavaScript side needs a few thousand operations before the JIT has compiled its hot paths.
 */
import { timeSide } from './browser-timing.ts';

/** Rates of one side over the measured rounds. */
export interface Rate {
  /** Operations per second, median of the rounds. */
  readonly median: number;
  /** (max - min) / median across rounds, as a fraction: the machine's noise. */
  readonly spread: number;
  readonly rounds: readonly number[];
}

/** Result of {@link compare}. */
export interface Comparison {
  readonly ours: Rate;
  readonly theirs: Rate;
  /** Median over rounds of ours / theirs, each pair measured back to back. */
  readonly ratio: number;
  /** Lowest and highest per-round ratio. */
  readonly ratioRange: readonly [number, number];
}

/** How long to measure. */
export interface MeasureOptions {
  /** Measured rounds per side. @default 7 */
  readonly rounds?: number;
  /** Length of one round of one side, in ms. @default 1000 */
  readonly roundMs?: number;
  /** Warm-up per side before the first round, in ms. @default 1500 */
  readonly warmupMs?: number;
}

/**
 * One side of a comparison: `prepare` (optional) builds a fresh input per operation outside the
 * timed region, in batches of `batch`; `run` is the timed operation.
 */
export interface Side<T = void> {
  readonly prepare?: () => Promise<T> | T;
  readonly run: (input: T) => Promise<unknown> | unknown;
  /** Inputs prepared per timed batch. @default 1 (no preparation: `run` is timed directly) */
  readonly batch?: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function rate(rounds: readonly number[]): Rate {
  const m = median(rounds);
  return { median: m, spread: (Math.max(...rounds) - Math.min(...rounds)) / m, rounds };
}

/**
 * Measures `ours` against `theirs` in interleaved rounds.
 *
 * @example
 * const c = await compare({ run: () => us.oneWay() }, { run: () => them.oneWay() });
 */
export async function compare<A, B>(
  ours: Side<A>,
  theirs: Side<B>,
  { rounds = 7, roundMs = 1000, warmupMs = 1500 }: MeasureOptions = {},
): Promise<Comparison> {
  await timeSide(ours, warmupMs);
  await timeSide(theirs, warmupMs);
  const a: number[] = [];
  const b: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // Alternate which side goes first, so neither always runs right after the other's garbage.
    if (r % 2 === 0) {
      a.push(await timeSide(ours, roundMs));
      b.push(await timeSide(theirs, roundMs));
    } else {
      b.push(await timeSide(theirs, roundMs));
      a.push(await timeSide(ours, roundMs));
    }
    ratios.push(a[r]! / b[r]!);
  }
  return {
    ours: rate(a),
    theirs: rate(b),
    ratio: median(ratios),
    ratioRange: [Math.min(...ratios), Math.max(...ratios)],
  };
}
