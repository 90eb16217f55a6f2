/**
 * npm run bench:sdk [-- --json] [-- --quick]
 * npm run bench:sdk:node24 [-- ...]   (the same on Node 24, where ML-KEM runs on OpenSSL)
 *
 * Sealpost's SDK against libsignal's native library, in the same process on the same machine,
 * doing the same work with 1 KiB plaintexts: stores holding serialized records on both sides,
 * every message encrypted, serialized and decrypted. Rounds of the two libraries alternate
 * (lib/harness.ts); `ratio` is the median of the per-round ratios and `ratio range` the lowest
 * and highest of them, i.e. how much the machine's load moved the answer.
 */
import os from 'node:os';
import { type Comparison, compare, type MeasureOptions } from './lib/harness.ts';
import { libsignalPair } from './lib/libsignal.ts';
import { sealpostPair } from './lib/sealpost.ts';

const json = process.argv.includes('--json');
const quick = process.argv.includes('--quick');
const opts: MeasureOptions = quick
  ? { rounds: 5, roundMs: 400, warmupMs: 800 }
  : { rounds: 9, roundMs: 1000, warmupMs: 2000 };

interface Row {
  readonly case: string;
  readonly ours: number;
  readonly libsignal: number;
  /** Higher is better: ours / libsignal for rates, libsignal / ours for sizes. */
  readonly ratio: number;
  readonly unit: 'ops/s' | 'bytes';
  readonly target: string;
  readonly comparison?: Comparison;
}

const rows: Row[] = [];
const rate = (name: string, c: Comparison, target: number) =>
  rows.push({
    case: name,
    ours: Math.round(c.ours.median),
    libsignal: Math.round(c.theirs.median),
    ratio: c.ratio,
    unit: 'ops/s',
    target: `>= ${target}`,
    comparison: c,
  });
const size = (name: string, ours: number, lib: number, target?: number) =>
  rows.push({
    case: name,
    ours,
    libsignal: lib,
    ratio: lib / ours,
    unit: 'bytes',
    target: target === undefined ? '' : `ours <= ${target}`,
  });

const load = os.loadavg()[0]!;
const us = await sealpostPair();
const them = await libsignalPair();

rate(
  'one-direction encrypt+decrypt',
  await compare({ run: us.oneWay }, { run: them.oneWay }, opts),
  3.0,
);
rate(
  'alternating (ratchet step each message)',
  await compare({ run: us.alternate }, { run: them.alternate }, opts),
  1.5,
);
// Fresh parties per setup, built outside the timed region in batches of ten.
rate(
  'session setup (bundle -> first message -> decrypt)',
  await compare(
    { prepare: us.prepareSetup, run: us.setup, batch: 10 },
    { prepare: them.prepareSetup, run: them.setup, batch: 10 },
    opts,
  ),
  1.0,
);
rate('sealed sender seal+open', await compare({ run: us.sealed }, { run: them.sealed }, opts), 2.0);
const ourSealed = await us.sealedSizes();
const theirSealed = await them.sealedSizes();
const ourMsg = await us.messageSizes();
const theirMsg = await them.messageSizes();
size('sealed 1 KiB, first message', ourSealed.first, theirSealed.first);
// Target: the 1,441 bytes of the same message before franking plus franking's budget of 512.
size('sealed 1 KiB, steady state', ourSealed.steady, theirSealed.steady, 1441 + 512);
size('message 1 KiB, first (prekey) message', ourMsg.first, theirMsg.first);
size('message 1 KiB, steady state', ourMsg.steady, theirMsg.steady);

if (json) {
  for (const r of rows) {
    console.log(
      JSON.stringify({
        case: r.case,
        ours: r.ours,
        libsignal: r.libsignal,
        ratio: Number(r.ratio.toFixed(3)),
        unit: r.unit,
      }),
    );
  }
} else {
  const pct = (x: number) => `±${(x * 50).toFixed(0)}%`;
  console.log(
    `Sealpost SDK vs libsignal-client (Node ${process.version}, ${process.arch}, ` +
      `${os.cpus().length} CPUs, load average ${load.toFixed(2)} -> ${os.loadavg()[0]!.toFixed(2)}), ` +
      `1 KiB plaintext, ${opts.rounds} interleaved rounds of ${opts.roundMs} ms`,
  );
  console.table(
    rows.map((r) => {
      const c = r.comparison;
      return {
        case: r.case,
        ours: c ? `${r.ours} ${r.unit} ${pct(c.ours.spread)}` : `${r.ours} ${r.unit}`,
        libsignal: c
          ? `${r.libsignal} ${r.unit} ${pct(c.theirs.spread)}`
          : `${r.libsignal} ${r.unit}`,
        ratio: r.ratio.toFixed(2),
        'ratio range': c ? `${c.ratioRange[0].toFixed(2)}-${c.ratioRange[1].toFixed(2)}` : '',
        target: r.target,
      };
    }),
  );
  console.log(
    'ratio: higher is better (ours / libsignal for rates, libsignal / ours for sizes); for rates ' +
      'it is the median of per-round ratios. ± is half the round-to-round spread of one side.',
  );
}
