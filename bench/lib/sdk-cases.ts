/**
 * The cases of `npm run bench:sdk`, measured in the running process: Sealpost's SDK against
 * libsignal's native library doing the same work with 1 KiB plaintexts (lib/sealpost.ts,
 * lib/libsignal.ts), rounds of the two interleaved (lib/harness.ts). bench/sdk.ts runs this once
 * per runtime, in a child process each, and merges the rows.
 */
import os from 'node:os';
import { nodeBackend } from '../../sdk/crypto/node-backend.ts';
import { type Comparison, compare, type MeasureOptions } from './harness.ts';
import { libsignalPair } from './libsignal.ts';
import { sealpostPair } from './sealpost.ts';

/** One measured case of one runtime. */
export interface CaseRow {
  readonly case: string;
  readonly ours: number;
  /** libsignal's figure. */
  readonly peer: number;
  /** Higher is better: ours / peer for rates (median of per-round ratios), peer / ours for sizes. */
  readonly ratio: number;
  readonly unit: 'ops/s' | 'bytes';
  /** `>= x` (a ratio, rates) or `ours <= n` (bytes), or empty. */
  readonly target: string;
  /** Rates only: lowest and highest per-round ratio. */
  readonly ratioRange?: readonly [number, number];
  /** Rates only: (max - min) / median of each side's per-round rates. */
  readonly spread?: { readonly ours: number; readonly peer: number };
}

/** Where and under what load the rows were measured. */
export interface CaseMeta {
  /** `node24`, `node20`: the runtime's major version. */
  readonly runtime: string;
  readonly node: string;
  readonly openssl: string;
  /** Which ML-KEM-1024 the SDK's node backend ran. */
  readonly mlkem: 'openssl' | 'noble';
  readonly arch: string;
  readonly cpus: number;
  readonly cpuModel: string;
  /** 1-minute load average before and after the run. */
  readonly load: readonly [number, number];
  readonly rounds: number;
  readonly roundMs: number;
}

/**
 * Targets on Node 24, as ratios to libsignal in the same process (the issue "Cost per active
 * user and speed"); Node 20 is reported beside them.
 */
export const TARGETS = {
  oneWay: 4.5,
  alternate: 2.0,
  setup: 1.0,
  sealed: 2.0,
  /** The 1,441 bytes of the same message before franking plus franking's budget of 512. */
  sealedSteadyBytes: 1441 + 512,
} as const;

/** Full runs (the figures that count) and `--quick` ones. */
export function measureOptions(quick: boolean): Required<MeasureOptions> {
  return quick
    ? { rounds: 5, roundMs: 400, warmupMs: 800 }
    : { rounds: 9, roundMs: 1000, warmupMs: 2000 };
}

function rateRow(name: string, c: Comparison, target: number): CaseRow {
  return {
    case: name,
    ours: Math.round(c.ours.median),
    peer: Math.round(c.theirs.median),
    ratio: c.ratio,
    unit: 'ops/s',
    target: `>= ${target}`,
    ratioRange: c.ratioRange,
    spread: { ours: c.ours.spread, peer: c.theirs.spread },
  };
}

function sizeRow(name: string, ours: number, peer: number, target?: number): CaseRow {
  return {
    case: name,
    ours,
    peer,
    ratio: peer / ours,
    unit: 'bytes',
    target: target === undefined ? '' : `ours <= ${target}`,
  };
}

/**
 * Measures every case in this process.
 *
 * @example const { meta, rows } = await measureSdkCases(measureOptions(false));
 */
export async function measureSdkCases(
  opts: Required<MeasureOptions>,
): Promise<{ meta: CaseMeta; rows: CaseRow[] }> {
  const loadBefore = os.loadavg()[0]!;
  const us = await sealpostPair();
  const them = await libsignalPair();
  const rows: CaseRow[] = [];
  rows.push(
    rateRow(
      'one-direction encrypt+decrypt',
      await compare({ run: us.oneWay }, { run: them.oneWay }, opts),
      TARGETS.oneWay,
    ),
    rateRow(
      'alternating (ratchet step each message)',
      await compare({ run: us.alternate }, { run: them.alternate }, opts),
      TARGETS.alternate,
    ),
    // Fresh parties per setup, built outside the timed region in batches of ten.
    rateRow(
      'session setup (bundle -> first message -> decrypt)',
      await compare(
        { prepare: us.prepareSetup, run: us.setup, batch: 10 },
        { prepare: them.prepareSetup, run: them.setup, batch: 10 },
        opts,
      ),
      TARGETS.setup,
    ),
    rateRow(
      'sealed sender seal+open',
      await compare({ run: us.sealed }, { run: them.sealed }, opts),
      TARGETS.sealed,
    ),
  );
  const ourSealed = await us.sealedSizes();
  const theirSealed = await them.sealedSizes();
  const ourMsg = await us.messageSizes();
  const theirMsg = await them.messageSizes();
  rows.push(
    sizeRow('sealed 1 KiB, first message', ourSealed.first, theirSealed.first),
    sizeRow(
      'sealed 1 KiB, steady state',
      ourSealed.steady,
      theirSealed.steady,
      TARGETS.sealedSteadyBytes,
    ),
    sizeRow('message 1 KiB, first (prekey) message', ourMsg.first, theirMsg.first),
    sizeRow('message 1 KiB, steady state', ourMsg.steady, theirMsg.steady),
  );
  const meta: CaseMeta = {
    runtime: `node${process.versions.node.split('.')[0]}`,
    node: process.version,
    openssl: process.versions.openssl ?? '',
    mlkem: nodeBackend.mlkemImplementation(),
    arch: process.arch,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    load: [loadBefore, os.loadavg()[0]!],
    rounds: opts.rounds,
    roundMs: opts.roundMs,
  };
  return { meta, rows };
}
