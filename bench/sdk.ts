/**
 * npm run bench:sdk [-- --json] [-- --quick] [-- --runs N] [-- --runtime node24|node20]
 *
 * Sealpost's SDK against libsignal's native library, in the same process on the same machine,
 * doing the same work with 1 KiB plaintexts: stores holding serialized records on both sides,
 * every message encrypted, serialized and decrypted (lib/sdk-cases.ts). Rounds of the two
 * libraries alternate (lib/harness.ts); `ratio` is the median of the per-round ratios and its
 * range the lowest and highest of them, i.e. how much the machine's load moved the answer.
 *
 * Each runtime runs in a child process of its own, one after the other: Node 24 first (the
 * binary of scripts/node24.sh, where the SDK takes OpenSSL's ML-KEM), then the Node 20 this
 * machine has, as a second column. The targets are for Node 24. With `--runs N` the whole bench
 * runs N times (the runtimes alternating) and each figure is the median over the runs: a target
 * counts as met when the median of three full runs meets it.
 *
 * `--json` prints one object per line and runtime: {case, ours, peer, ratio, unit, runtime}
 * (`peer` is libsignal; with `--runs`, medians). `--child` measures in this process only and
 * prints its metadata and rows as JSON lines (what the parent reads).
 */
import { execFileSync, spawn } from 'node:child_process';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CaseMeta, type CaseRow, measureOptions, measureSdkCases } from './lib/sdk-cases.ts';

const args = process.argv.slice(2);
const json = args.includes('--json');
const quick = args.includes('--quick');
const flagValue = (flag: string): string | undefined => {
  const i = args.indexOf(flag);
  const inline = args.find((a) => a.startsWith(`${flag}=`));
  return inline ? inline.slice(flag.length + 1) : i >= 0 ? args[i + 1] : undefined;
};
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

if (args.includes('--child')) {
  const { meta, rows } = await measureSdkCases(measureOptions(quick));
  console.log(JSON.stringify({ meta }));
  for (const row of rows) console.log(JSON.stringify({ row }));
  process.exit(0);
}

const runs = Number(flagValue('--runs') ?? 1);
if (!Number.isInteger(runs) || runs < 1 || runs > 9) {
  console.error('--runs takes a whole number from 1 to 9');
  process.exit(2);
}
const only = flagValue('--runtime');

interface Runtime {
  readonly name: string;
  readonly bin: string;
}

/** Node 24 from scripts/node24.sh, and an older Node (this process's or the PATH's) if any. */
function runtimes(): Runtime[] {
  const major = (bin: string): number =>
    Number(execFileSync(bin, ['-p', 'process.versions.node.split(".")[0]']).toString().trim());
  const node24 = execFileSync('bash', [join(root, 'scripts', 'node24.sh')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
    .toString()
    .trim();
  const found: Runtime[] = [{ name: `node${major(node24)}`, bin: node24 }];
  for (const bin of [process.execPath, 'node']) {
    try {
      const m = major(bin);
      if (m < 24 && !found.some((r) => r.name === `node${m}`)) {
        found.push({ name: `node${m}`, bin });
        break;
      }
    } catch {
      // No such binary on this machine: Node 24 alone.
    }
  }
  return found.filter((r) => only === undefined || r.name === only);
}

interface Measured {
  readonly meta: CaseMeta;
  readonly rows: CaseRow[];
}

function measureIn(runtime: Runtime): Promise<Measured> {
  const childArgs = [
    '--import',
    'tsx',
    '--conditions=sealpost-source',
    join(root, 'bench', 'sdk.ts'),
  ];
  childArgs.push('--child', ...(quick ? ['--quick'] : []));
  return new Promise((resolve, reject) => {
    const child = spawn(runtime.bin, childArgs, {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`${runtime.name} bench exited with ${code}`));
        return;
      }
      let meta: CaseMeta | undefined;
      const rows: CaseRow[] = [];
      for (const line of out.split('\n')) {
        if (!line.startsWith('{')) continue;
        const parsed = JSON.parse(line) as { meta?: CaseMeta; row?: CaseRow };
        if (parsed.meta) meta = parsed.meta;
        if (parsed.row) rows.push(parsed.row);
      }
      if (meta === undefined) reject(new Error(`${runtime.name} bench printed no metadata`));
      else resolve({ meta, rows });
    });
  });
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const targets = runtimes();
if (targets.length === 0) {
  console.error(`no runtime named ${only}`);
  process.exit(2);
}
const results = new Map<string, Measured[]>(targets.map((r) => [r.name, []]));
for (let run = 0; run < runs; run++) {
  for (const runtime of targets) {
    if (!json) console.error(`run ${run + 1}/${runs}: ${runtime.name}...`);
    results.get(runtime.name)!.push(await measureIn(runtime));
  }
}

/** One runtime's rows, each the median over the runs (ratios: median of the runs' ratios). */
function merged(name: string): { rows: CaseRow[]; perRun: CaseRow[][] } {
  const measured = results.get(name)!;
  const perRun = measured.map((m) => m.rows);
  const rows = perRun[0]!.map((first, i) => {
    const all = perRun.map((r) => r[i]!);
    return {
      ...first,
      ours: Math.round(median(all.map((r) => r.ours))),
      peer: Math.round(median(all.map((r) => r.peer))),
      ratio: median(all.map((r) => r.ratio)),
    };
  });
  return { rows, perRun };
}

if (json) {
  for (const runtime of targets) {
    for (const r of merged(runtime.name).rows) {
      console.log(
        JSON.stringify({
          case: r.case,
          ours: r.ours,
          peer: r.peer,
          ratio: Number(r.ratio.toFixed(3)),
          unit: r.unit,
          runtime: runtime.name,
        }),
      );
    }
  }
  process.exit(0);
}

const first = results.get(targets[0]!.name)![0]!.meta;
console.log(
  `Sealpost SDK vs libsignal-client: ${first.cpuModel}, ${first.cpus} CPUs, ${first.arch}, ` +
    `${Math.round(os.totalmem() / 2 ** 30)} GiB; 1 KiB plaintext, ${first.rounds} interleaved ` +
    `rounds of ${first.roundMs} ms per case${runs > 1 ? `, ${runs} full runs (medians)` : ''}`,
);
for (const runtime of targets) {
  for (const [i, m] of results.get(runtime.name)!.entries()) {
    const { meta } = m;
    console.log(
      `  ${runtime.name}${runs > 1 ? ` run ${i + 1}` : ''}: Node ${meta.node}, OpenSSL ` +
        `${meta.openssl}, ML-KEM on ${meta.mlkem}, load average ${meta.load[0].toFixed(2)} -> ` +
        `${meta.load[1].toFixed(2)}`,
    );
  }
}

const pct = (x: number) => `±${(x * 50).toFixed(0)}%`;
const [lead, second] = targets;
const leadRows = merged(lead!.name);
const secondRows = second ? merged(second.name) : undefined;
const cell = (rows: { rows: CaseRow[]; perRun: CaseRow[][] }, i: number): string => {
  const r = rows.rows[i]!;
  if (r.unit === 'bytes') return `${r.ratio.toFixed(2)} (${r.ours} vs ${r.peer} B)`;
  const runRatios = rows.perRun.map((p) => p[i]!.ratio.toFixed(2));
  const one = rows.perRun[0]![i]!;
  const detail =
    rows.perRun.length > 1
      ? `runs ${runRatios.join(' / ')}; ${r.ours} vs ${r.peer} ops/s`
      : `${one.ratioRange![0].toFixed(2)}-${one.ratioRange![1].toFixed(2)}; ` +
        `${one.ours} ${pct(one.spread!.ours)} vs ${one.peer} ${pct(one.spread!.peer)} ops/s`;
  return `${r.ratio.toFixed(2)} (${detail})`;
};
console.table(
  leadRows.rows.map((r, i) => ({
    case: r.case,
    target: r.target,
    [lead!.name]: cell(leadRows, i),
    ...(secondRows && second ? { [second.name]: cell(secondRows, i) } : {}),
  })),
);
console.log(
  'ratio: higher is better (ours / libsignal for rates, libsignal / ours for sizes); for rates ' +
    'it is the median of per-round ratios, in parentheses its lowest-highest round and each ' +
    "side's rate with ± half its round-to-round spread (with several runs: each run's ratio). " +
    `Targets are for ${lead!.name}.`,
);
