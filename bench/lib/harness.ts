/**
 * Tiny benchmark harness: runs a case repeatedly for a time budget, several rounds, and
 * reports the median rate with the spread of the rounds (the machine's noise).
 */
export interface Rate {
  /** operations per second, median of the rounds */
  readonly median: number;
  /** (max - min) / median across rounds, as a fraction */
  readonly spread: number;
  readonly rounds: number[];
}

export interface MeasureOptions {
  readonly rounds?: number;
  readonly roundMs?: number;
  readonly warmupMs?: number;
}

/** Runs `op` (which performs `opsPerCall` operations) for the given budget. */
export async function measure(
  op: () => Promise<unknown> | unknown,
  { rounds = 5, roundMs = 1000, warmupMs = 300 }: MeasureOptions = {},
  opsPerCall = 1,
): Promise<Rate> {
  const until = performance.now() + warmupMs;
  while (performance.now() < until) await op();
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let n = 0;
    const start = performance.now();
    let now = start;
    while (now - start < roundMs) {
      await op();
      n += opsPerCall;
      now = performance.now();
    }
    rates.push((n * 1000) / (now - start));
  }
  const sorted = [...rates].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return { median, spread: (sorted.at(-1)! - sorted[0]!) / median, rounds: rates };
}

/** Setups that need a fresh input per operation: `prepare` runs outside the timed region. */
export async function measureWithSetup<T>(
  prepare: () => Promise<T> | T,
  op: (input: T) => Promise<unknown> | unknown,
  { rounds = 5, roundMs = 1000, batch = 20 }: MeasureOptions & { batch?: number } = {},
): Promise<Rate> {
  const rates: number[] = [];
  for (let r = 0; r <= rounds; r++) {
    let n = 0;
    let elapsed = 0;
    while (elapsed < roundMs) {
      const inputs: T[] = [];
      for (let i = 0; i < batch; i++) inputs.push(await prepare());
      const start = performance.now();
      for (const input of inputs) await op(input);
      elapsed += performance.now() - start;
      n += batch;
    }
    if (r > 0) rates.push((n * 1000) / elapsed); // round 0 is the warm-up
  }
  const sorted = [...rates].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return { median, spread: (sorted.at(-1)! - sorted[0]!) / median, rounds: rates };
}
