/**
 * npm run bench:versus -- <git revision> [--quick]
 *
 * This tree's SDK against an earlier revision's, in one process on the same machine: the same
 * messaging work as `bench:sdk` (lib/sealpost.ts of each tree), rounds of the two alternating
 * (lib/harness.ts). `ratio` is this tree's rate over the revision's (higher is faster now) and
 * `range` the lowest and highest per-round ratio, i.e. how much the machine moved the answer.
 * The revision is checked out into a temporary git worktree that borrows this tree's
 * node_modules, and removed afterwards.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { compare, type MeasureOptions } from './lib/harness.ts';
import { sealpostPair } from './lib/sealpost.ts';

const revision = process.argv.slice(2).find((a) => !a.startsWith('--'));
if (!revision) {
  console.error('usage: npm run bench:versus -- <git revision> [--quick]');
  process.exit(2);
}
const opts: MeasureOptions = process.argv.includes('--quick')
  ? { rounds: 7, roundMs: 400, warmupMs: 800 }
  : { rounds: 15, roundMs: 700, warmupMs: 1500 };

const root = resolve(import.meta.dirname, '..');
const tree = join(mkdtempSync(join(tmpdir(), 'sealpost-versus-')), 'tree');
const git = (...args: string[]) => execFileSync('git', args, { cwd: root, stdio: 'pipe' });
git('worktree', 'add', '--detach', tree, revision);
try {
  symlinkSync(join(root, 'node_modules'), join(tree, 'node_modules'));
  if (existsSync(join(root, 'bench', 'node_modules')))
    symlinkSync(join(root, 'bench', 'node_modules'), join(tree, 'bench', 'node_modules'));
  const then = (await import(join(tree, 'bench', 'lib', 'sealpost.ts'))) as {
    sealpostPair: typeof sealpostPair;
  };
  const ours = await sealpostPair();
  const theirs = await then.sealpostPair();
  const cases = [
    ['one-direction encrypt+decrypt', 'oneWay'],
    ['alternating (ratchet step each message)', 'alternate'],
    ['sealed sender seal+open', 'sealed'],
  ] as const;
  const rows = [];
  for (const [name, key] of cases) {
    const c = await compare({ run: ours[key] }, { run: theirs[key] }, opts);
    rows.push({
      case: name,
      now: `${Math.round(c.ours.median)} ops/s`,
      [revision]: `${Math.round(c.theirs.median)} ops/s`,
      ratio: c.ratio.toFixed(3),
      range: c.ratioRange.map((r) => r.toFixed(2)).join('-'),
    });
  }
  console.table(rows);
} finally {
  git('worktree', 'remove', '--force', tree);
}
