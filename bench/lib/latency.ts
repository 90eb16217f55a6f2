/**
 * Latency bookkeeping of the realtime benchmark (bench/realtime.ts): one {@link Sample} per
 * message with the times its stages completed, and the percentiles reported from them.
 */

/**
 * Nearest-rank percentile of `values` (0 < p <= 100); NaN when there are none.
 *
 * @example percentile([3, 1, 2], 50) // 2
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** One message in flight: its timestamps (performance.now) as its stages complete. */
export interface Sample {
  readonly start: number;
  /** Before the send's first HTTP request went out (the sender's own work is done). */
  requestAt?: number;
  /** The send request's round trip as the sender saw it. */
  requestMs?: number;
  sent?: number;
  /** The message frame reached the recipient's socket. */
  frameAt?: number;
  received?: number;
}

/** The end-to-end latencies of a set of samples, ms; `lost` never arrived. */
export interface Summary {
  count: number;
  lost: number;
  p50: number;
  p99: number;
  max: number;
}

/**
 * p50, p99 and max of `received - start` over the delivered samples.
 *
 * @example summarize(samples).p50
 */
export function summarize(samples: readonly Sample[]): Summary {
  const latencies = samples
    .filter((s) => s.received !== undefined)
    .map((s) => s.received! - s.start);
  return {
    count: latencies.length,
    lost: samples.length - latencies.length,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: Math.max(...latencies),
  };
}

/**
 * p50 and p99 of each stage of the delivered samples, ms (`serverSendMs`: the server's handler
 * times of the sends, from its access log).
 *
 * @example stages(samples, server.take().sendMs).senderWork[0]
 */
export function stages(samples: readonly Sample[], serverSendMs: readonly number[]) {
  const done = samples.filter((s) => s.received !== undefined);
  const of = (xs: number[]) => [percentile(xs, 50), percentile(xs, 99)] as const;
  return {
    senderWork: of(done.filter((s) => s.requestAt).map((s) => s.requestAt! - s.start)),
    request: of(done.filter((s) => s.requestMs !== undefined).map((s) => s.requestMs!)),
    serverHandler: of([...serverSendMs]),
    send: of(done.filter((s) => s.sent).map((s) => s.sent! - s.start)),
    toFrame: of(done.filter((s) => s.frameAt).map((s) => s.frameAt! - s.start)),
    recipient: of(done.filter((s) => s.frameAt).map((s) => s.received! - s.frameAt!)),
    afterSend: of(done.filter((s) => s.sent).map((s) => s.received! - s.sent!)),
  };
}

export type Stages = ReturnType<typeof stages>;

/** How each stage is labelled in the printed table, in order. */
export const STAGE_LABELS: readonly [keyof Stages, string][] = [
  ['senderWork', "sender's work before its request"],
  ['request', 'send request round trip'],
  ['serverHandler', "  server's send handler (incl. push)"],
  ['send', 'send() in total'],
  ['toFrame', 'send() called -> frame at the socket'],
  ['recipient', 'frame -> receive() yields'],
  ['afterSend', 'send() returned -> receive() yields'],
];

/**
 * Per-round p50s (each round is one message to every device): the spread between repeats.
 *
 * @example roundP50s(samples, 100) // [33.1, 29.8, ...]
 */
export function roundP50s(samples: readonly Sample[], perRound: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < samples.length; i += perRound) {
    const lat = samples
      .slice(i, i + perRound)
      .filter((s) => s.received !== undefined)
      .map((s) => s.received! - s.start);
    out.push(percentile(lat, 50));
  }
  return out;
}
