/**
 * Timing helpers of the speed scripts (`scripts/*-speed.ts`): wall-clock and this process's CPU
 * time per call, the median over several rounds. For choosing defaults and filling in the docs'
 * figures; the benchmarks proper are under `bench/`.
 */

/** Wall-clock and CPU time of one call, in ms. */
export interface Timing {
  wall: number;
  cpu: number;
}

/** This process's user + system CPU time so far, in ms. */
export const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** The per-field median of `runs`. */
export function median(runs: Timing[]): Timing {
  const pick = (k: keyof Timing) => runs.map((r) => r[k]).sort((a, b) => a - b)[runs.length >> 1]!;
  return { wall: pick('wall'), cpu: pick('cpu') };
}

/** Median over `rounds` of the mean time of `n` calls, after up to 20 warm-up calls. */
export function time(n: number, f: () => unknown, rounds = 5): Timing {
  for (let i = 0; i < Math.min(n, 20); i++) f();
  const runs: Timing[] = [];
  for (let r = 0; r < rounds; r++) {
    const wall = performance.now();
    const cpu = cpuMs();
    for (let i = 0; i < n; i++) f();
    runs.push({ wall: (performance.now() - wall) / n, cpu: (cpuMs() - cpu) / n });
  }
  return median(runs);
}

/** {@link time} for an async call, awaited one after the other. */
export async function timeAsync(n: number, f: () => Promise<unknown>, rounds = 5): Promise<Timing> {
  for (let i = 0; i < Math.min(n, 20); i++) await f();
  const runs: Timing[] = [];
  for (let r = 0; r < rounds; r++) {
    const wall = performance.now();
    const cpu = cpuMs();
    for (let i = 0; i < n; i++) await f();
    runs.push({ wall: (performance.now() - wall) / n, cpu: (cpuMs() - cpu) / n });
  }
  return median(runs);
}
