/**
 * npm run bench:sdk [-- --json] [-- --quick]
 *
 * Sealpost's SDK against libsignal's native library, in the same process on the same machine,
 * doing the same work with 1 KiB plaintexts. Rates are the median of several rounds; the
 * spread column is (max - min) / median over those rounds, i.e. the machine's noise.
 */
import { measure, measureWithSetup, type Rate } from './lib/harness.ts';
import { libsignalPair } from './lib/libsignal.ts';
import { sealpostPair } from './lib/sealpost.ts';

const json = process.argv.includes('--json');
const quick = process.argv.includes('--quick');
const opts = quick ? { rounds: 3, roundMs: 400 } : { rounds: 7, roundMs: 1500 };

interface Row {
  case: string;
  ours: number;
  libsignal: number;
  ratio: number;
  unit: string;
  target: string;
  spreadOurs?: number;
  spreadLibsignal?: number;
}

const rows: Row[] = [];
const rate = (name: string, ours: Rate, lib: Rate, target: number) =>
  rows.push({
    case: name,
    ours: Math.round(ours.median),
    libsignal: Math.round(lib.median),
    ratio: ours.median / lib.median,
    unit: 'ops/s',
    target: `>= ${target}`,
    spreadOurs: ours.spread,
    spreadLibsignal: lib.spread,
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

const us = await sealpostPair();
const them = await libsignalPair();

// Interleave the two libraries case by case so that drifting machine load hits both alike.
rate(
  'one-direction encrypt+decrypt',
  await measure(us.oneWay, opts),
  await measure(them.oneWay, opts),
  3.0,
);
rate(
  'alternating (ratchet step each message)',
  await measure(us.alternate, opts),
  await measure(them.alternate, opts),
  1.5,
);
rate(
  'session setup (bundle -> first message -> decrypt)',
  await measureWithSetup(us.prepareSetup, us.setup, { ...opts, batch: 10 }),
  await measureWithSetup(them.prepareSetup, them.setup, { ...opts, batch: 10 }),
  1.0,
);
rate(
  'sealed sender seal+open',
  await measure(us.sealed, opts),
  await measure(them.sealed, opts),
  2.0,
);
const ourSealed = await us.sealedSizes();
const theirSealed = await them.sealedSizes();
const ourMsg = await us.messageSizes();
const theirMsg = await them.messageSizes();
size('sealed 1 KiB, first message', ourSealed.first, theirSealed.first);
size('sealed 1 KiB, steady state', ourSealed.steady, theirSealed.steady, 1495);
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
  const pct = (x?: number) => (x === undefined ? '' : `±${(x * 50).toFixed(0)}%`);
  console.log(
    `Sealpost SDK vs libsignal-client (Node ${process.version}, ${process.arch}), 1 KiB plaintext`,
  );
  console.table(
    rows.map((r) => ({
      case: r.case,
      ours: `${r.ours} ${r.unit} ${pct(r.spreadOurs)}`,
      libsignal: `${r.libsignal} ${r.unit} ${pct(r.spreadLibsignal)}`,
      ratio: r.ratio.toFixed(2),
      target: r.target,
    })),
  );
  console.log(
    'ratio = ours / libsignal for rates, libsignal / ours for sizes (higher is better); ± is half the round-to-round spread.',
  );
}
