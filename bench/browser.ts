/**
 * npm run bench:browser [-- --json] [-- --quick]
 *
 * The `npm run bench:sdk` cases with the SDK in headless Chromium on its browser backend
 * (WebCrypto X25519/Ed25519, noble for ML-KEM-1024 and symmetric work), each against
 * libsignal's native library running on Node 24 on the same machine in the same run, with
 * `@privacyresearch/libsignal-protocol-typescript` (pure TypeScript, X3DH, no ML-KEM, no sealed
 * sender) in the same page as a second reference. Chromium is the system's where installed,
 * otherwise the one `@sparticuz/chromium` ships on npm (`SEALPOST_CHROMIUM=npm` forces it).
 *
 * Rounds of the three columns interleave (page, Node, page; the order rotates every round), so
 * load that shifts during the run hits all of them; `ratio` is the median of the per-round
 * ratios and `range` the lowest and highest of them. Then: message sizes, where the page's
 * session setup spends its time (every backend primitive timed), ML-KEM-1024 on noble against
 * the browser's own WebCrypto ML-KEM where it has one, and the size of the client bundle.
 */
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { CLIENT_GZIP_BUDGET, measureClientBundle } from '../scripts/bundle-size.ts';
import { bundlePage, openBenchPage, startNodeSide } from './lib/browser-driver.ts';
import type { CaseName } from './lib/browser-timing.ts';

const json = process.argv.includes('--json');
const quick = process.argv.includes('--quick');
const opts = quick
  ? { rounds: 5, roundMs: 400, warmupMs: 800 }
  : { rounds: 9, roundMs: 1000, warmupMs: 2000 };

const CASE_LABELS: Record<CaseName, string> = {
  oneWay: 'one-direction encrypt+decrypt',
  alternate: 'alternating (ratchet step each message)',
  setup: 'session setup (bundle -> first message -> decrypt)',
  sealed: 'sealed sender seal+open',
};
/** Targets in Chromium against native libsignal (ours / libsignal). */
const TARGETS: Partial<Record<CaseName, number>> = { oneWay: 4.0, alternate: 1.5, setup: 1.0 };

interface Column {
  readonly name: string;
  readonly run: (ms: number) => Promise<number>;
}

interface Measured {
  readonly rates: number[][];
  readonly ratios: { libsignal: number[]; privacyresearch: number[] };
  readonly load: readonly [number, number];
}

const median = (v: readonly number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const spread = (v: readonly number[]) => (Math.max(...v) - Math.min(...v)) / median(v);
const load1 = () => os.loadavg()[0]!;

/** Warms every column up, then runs `rounds` rounds of all of them, rotating their order. */
async function measure(columns: readonly Column[]): Promise<Measured> {
  const before = load1();
  for (const c of columns) await c.run(opts.warmupMs);
  const rates: number[][] = columns.map(() => []);
  for (let r = 0; r < opts.rounds; r++) {
    for (let k = 0; k < columns.length; k++) {
      const i = (k + r) % columns.length;
      rates[i]!.push(await columns[i]!.run(opts.roundMs));
    }
  }
  const ratio = (i: number) => rates[0]!.map((x, r) => x / rates[i]![r]!);
  return {
    rates,
    ratios: { libsignal: ratio(1), privacyresearch: columns.length > 2 ? ratio(2) : [] },
    load: [before, load1()],
  };
}

const loadBefore = os.loadavg();
const [js, node] = await Promise.all([bundlePage(), startNodeSide()]);
const page = await openBenchPage(js);
const results = new Map<CaseName, Measured>();
let sizes: Awaited<ReturnType<typeof page.sizes>>;
let nodeSizes: Awaited<ReturnType<typeof node.sizes>>;
let breakdown: Awaited<ReturnType<typeof page.setupBreakdown>>;
let mlkem: Awaited<ReturnType<typeof page.mlkem>>;
let curves: Awaited<ReturnType<typeof page.curves>>;
try {
  for (const name of ['oneWay', 'alternate', 'setup', 'sealed'] as const) {
    const columns: Column[] = [
      { name: 'sealpost', run: (ms) => page.run('sealpost', name, ms) },
      { name: 'libsignal', run: (ms) => node.run(name, ms) },
    ];
    if (name !== 'sealed') {
      columns.push({ name: 'privacyresearch', run: (ms) => page.run('privacyresearch', name, ms) });
    }
    results.set(name, await measure(columns));
  }
  sizes = await page.sizes();
  nodeSizes = await node.sizes();
  breakdown = await page.setupBreakdown(quick ? 20 : 60);
  mlkem = await page.mlkem(quick ? 200 : 500);
  curves = await page.curves(quick ? 200 : 500);
} finally {
  await page.close();
  node.close();
}
const loadAfter = os.loadavg();

const client = await measureClientBundle();
const peerBundle = await (async () => {
  const result = await build({
    stdin: {
      contents: "export * from '@privacyresearch/libsignal-protocol-typescript';",
      resolveDir: fileURLToPath(new URL('.', import.meta.url)),
      loader: 'js',
    },
    bundle: true,
    minify: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  const bytes = result.outputFiles[0]!.contents;
  return { minified: bytes.length, gzip: gzipSync(bytes).length };
})();

/** The JSON rows: ours against one peer; `peer` null where the peer cannot do the case. */
interface Row {
  readonly case: string;
  readonly ours: number;
  readonly peer: number | null;
  readonly ratio: number | null;
  readonly unit: string;
  /** Rates: lowest and highest per-round ratio. */
  readonly ratioRange?: readonly [number, number];
  /** Rates: round-to-round spread of each column, (max - min) / median. */
  readonly spread?: { readonly ours: number; readonly peer: number };
  readonly note?: string;
}
const rows: Row[] = [];
const round3 = (x: number) => Number(x.toFixed(3));
for (const [name, m] of results) {
  const ours = median(m.rates[0]!);
  rows.push({
    case: `${CASE_LABELS[name]} [Chromium vs libsignal-client on Node 24]`,
    ours: Math.round(ours),
    peer: Math.round(median(m.rates[1]!)),
    ratio: round3(median(m.ratios.libsignal)),
    unit: 'ops/s',
    ratioRange: [round3(Math.min(...m.ratios.libsignal)), round3(Math.max(...m.ratios.libsignal))],
    spread: { ours: round3(spread(m.rates[0]!)), peer: round3(spread(m.rates[1]!)) },
  });
  rows.push(
    m.rates[2]
      ? {
          case: `${CASE_LABELS[name]} [Chromium vs privacyresearch in the same page]`,
          ours: Math.round(ours),
          peer: Math.round(median(m.rates[2])),
          ratio: round3(median(m.ratios.privacyresearch)),
          unit: 'ops/s',
          ratioRange: [
            round3(Math.min(...m.ratios.privacyresearch)),
            round3(Math.max(...m.ratios.privacyresearch)),
          ],
          spread: { ours: round3(spread(m.rates[0]!)), peer: round3(spread(m.rates[2])) },
        }
      : {
          case: `${CASE_LABELS[name]} [Chromium vs privacyresearch in the same page]`,
          ours: Math.round(ours),
          peer: null,
          ratio: null,
          unit: 'ops/s',
          note: 'privacyresearch has no sealed sender',
        },
  );
}
const sizeRow = (label: string, ours: number, peer: number | undefined, peerName: string) =>
  rows.push({
    case: `${label} [vs ${peerName}]`,
    ours,
    peer: peer ?? null,
    ratio: peer === undefined ? null : round3(peer / ours),
    unit: 'bytes',
  });
sizeRow(
  'message 1 KiB, first (prekey) message',
  sizes.sealpost.message.first,
  nodeSizes.message.first,
  'libsignal-client',
);
sizeRow(
  'message 1 KiB, steady state',
  sizes.sealpost.message.steady,
  nodeSizes.message.steady,
  'libsignal-client',
);
sizeRow(
  'message 1 KiB, first (prekey) message',
  sizes.sealpost.message.first,
  sizes.privacyresearch.message.first,
  'privacyresearch',
);
sizeRow(
  'message 1 KiB, steady state',
  sizes.sealpost.message.steady,
  sizes.privacyresearch.message.steady,
  'privacyresearch',
);
sizeRow(
  'sealed 1 KiB, first message',
  sizes.sealpost.sealed!.first,
  nodeSizes.sealed!.first,
  'libsignal-client',
);
sizeRow(
  'sealed 1 KiB, steady state',
  sizes.sealpost.sealed!.steady,
  nodeSizes.sealed!.steady,
  'libsignal-client',
);
sizeRow('client bundle, minified', client.minified, peerBundle.minified, 'privacyresearch');
sizeRow('client bundle, gzip', client.gzip, peerBundle.gzip, 'privacyresearch');
for (const r of breakdown.rows) {
  rows.push({
    case: `session setup in Chromium: ${r.part}`,
    ours: round3(r.msPerSetup),
    peer: null,
    ratio: null,
    unit: 'ms/setup',
  });
}

for (const [op, rate] of Object.entries({ ...mlkem.rates, ...curves })) {
  rows.push({
    case: `primitive in Chromium: ${op}`,
    ours: Math.round(rate),
    peer: null,
    ratio: null,
    unit: 'ops/s',
  });
}

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const machine = `${cpu}, ${os.cpus().length} CPUs, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.platform()} ${os.release()}`;
const runtimes =
  `Chromium ${page.version} (${page.source.kind === 'npm' ? '@sparticuz/chromium from npm' : page.source.path}; ` +
  `backend ${page.backend.backend}: X25519 ${page.backend.x25519 ? 'WebCrypto' : 'noble'}, ` +
  `Ed25519 ${page.backend.ed25519 ? 'WebCrypto' : 'noble'}, ` +
  `ML-KEM ${page.backend.mlkem ? 'WebCrypto' : 'noble'}, symmetric noble), ` +
  `libsignal-client ${node.libsignal} on Node ${node.node}, driver Node ${process.version}`;
const loads = `load average (1/5/15 min) ${loadBefore.map((x) => x.toFixed(2)).join('/')} -> ${loadAfter.map((x) => x.toFixed(2)).join('/')}`;

if (json) {
  const { rates: _rates, ...webCryptoMlKem } = mlkem;
  console.log(
    JSON.stringify({
      machine,
      runtimes,
      load: { before: loadBefore, after: loadAfter },
      rounds: opts,
      webCryptoMlKem,
    }),
  );
  for (const r of rows) console.log(JSON.stringify(r));
} else {
  const pct = (v: readonly number[]) => `±${(spread(v) * 50).toFixed(0)}%`;
  const range = (v: readonly number[]) =>
    v.length ? `${Math.min(...v).toFixed(2)}-${Math.max(...v).toFixed(2)}` : '';
  console.log(
    `Sealpost SDK in headless Chromium vs libsignal-client (native, Node 24) and privacyresearch (same page)`,
  );
  console.log(`machine:  ${machine}`);
  console.log(`runtimes: ${runtimes}`);
  console.log(
    `${loads}; 1 KiB plaintext, ${opts.rounds} interleaved rounds of ${opts.roundMs} ms per column`,
  );
  console.table(
    [...results].map(([name, m]) => ({
      case: CASE_LABELS[name],
      'ours (Chromium)': `${Math.round(median(m.rates[0]!))} ops/s ${pct(m.rates[0]!)}`,
      'libsignal (Node 24)': `${Math.round(median(m.rates[1]!))} ops/s ${pct(m.rates[1]!)}`,
      ratio: median(m.ratios.libsignal).toFixed(2),
      range: range(m.ratios.libsignal),
      target: TARGETS[name] === undefined ? '' : `>= ${TARGETS[name]!.toFixed(1)}`,
      'privacyresearch (Chromium)': m.rates[2]
        ? `${Math.round(median(m.rates[2]))} ops/s ${pct(m.rates[2])}`
        : 'n/a: no sealed sender',
      'ratio vs privacyresearch': m.rates[2] ? median(m.ratios.privacyresearch).toFixed(2) : '',
      'range ': range(m.ratios.privacyresearch),
      load: `${m.load[0].toFixed(2)} -> ${m.load[1].toFixed(2)}`,
    })),
  );
  console.log(
    'ratio: ours / peer, the median of per-round ratios (higher is better); range: lowest and ' +
      'highest per-round ratio; ± is half the round-to-round spread of one column. privacyresearch ' +
      'sets up X3DH sessions (no ML-KEM-1024), so its setup does less work than PQXDH.',
  );
  console.log('\nSizes (bytes; ratio = peer / ours, higher is better)');
  console.table(
    rows
      .filter((r) => r.unit === 'bytes')
      .map((r) => ({ case: r.case, ours: r.ours, peer: r.peer, ratio: r.ratio?.toFixed(2) })),
  );
  console.log(
    `client entry budget: ${CLIENT_GZIP_BUDGET} bytes gzip (npm run size); target 60 KB. ` +
      `Largest parts (minified): ${Object.entries(client.parts)
        .slice(0, 6)
        .map(([p, n]) => `${p} ${(n / 1024).toFixed(1)} KiB`)
        .join(', ')}`,
  );
  console.log(
    `\nWhere a session setup in Chromium goes (${breakdown.total.toFixed(2)} ms each, ` +
      'fresh parties, primitives timed call to settlement)',
  );
  console.table(
    breakdown.rows.map((r) => ({
      part: r.part,
      'ms/setup': r.msPerSetup.toFixed(3),
      share: `${((r.msPerSetup / breakdown.total) * 100).toFixed(0)}%`,
      'calls/setup': r.callsPerSetup ? r.callsPerSetup.toFixed(1) : '',
    })),
  );
  console.log('\nPrimitives in the page: ML-KEM-1024, and the curves on WebCrypto and on noble');
  console.table(
    Object.entries({ ...mlkem.rates, ...curves }).map(([op, rate]) => ({
      op,
      'ops/s': Math.round(rate),
      'ms/op': (1000 / rate).toFixed(3),
    })),
  );
  if (mlkem.webCrypto) {
    const id = mlkem.identical!;
    console.log(
      `WebCrypto ML-KEM-1024: present. Identical bytes to noble: public key from the same seed ${id.publicKey}, ` +
        `noble ciphertext -> WebCrypto secret ${id.nobleToWebCrypto}, WebCrypto ciphertext -> noble secret ` +
        `${id.webCryptoToNoble}. PKCS#8 import of the expanded decapsulation key prekey records hold: ${mlkem.expandedKeyImport}.`,
    );
  } else {
    console.log(`WebCrypto ML-KEM-1024: absent (${mlkem.reason}); the backend uses noble.`);
  }
}
