/**
 * The SDK's modules form no import cycle: every static relative import (`import`, `import type`,
 * `export … from`) of every source file under sdk/ is followed, and any cycle is reported with
 * the files on it. A cycle makes evaluation order depend on which file is loaded first.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SDK = resolve(dirname(fileURLToPath(import.meta.url)), '../../../sdk');
const SKIP = new Set(['node_modules', 'dist']);
const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]/g;
const BARE_IMPORT = /(?:^|[\s;])import\s*['"](\.{1,2}\/[^'"]+)['"]/g;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** The relative imports of a source text, resolved against `file`. */
function relativeImports(file: string, text: string): string[] {
  const withoutComments = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found: string[] = [];
  for (const pattern of [IMPORT, BARE_IMPORT]) {
    for (const m of withoutComments.matchAll(pattern)) found.push(resolve(dirname(file), m[1]!));
  }
  return found;
}

/** Every cycle reachable in `graph`, each as the list of its files starting at its least one. */
function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles = new Map<string, string[]>();
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const seen = state.get(next);
      if (seen === 'open') {
        const cycle = stack.slice(stack.indexOf(next));
        const start = cycle.indexOf([...cycle].sort()[0]!);
        const canonical = [...cycle.slice(start), ...cycle.slice(0, start)];
        cycles.set(canonical.join(' -> '), canonical);
      } else if (seen === undefined && graph.has(next)) {
        visit(next);
      }
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return [...cycles.values()];
}

describe('import graph of sdk/', () => {
  it('finds a planted cycle and names its files', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts', 'd.ts']],
      ['d.ts', []],
    ]);
    expect(findCycles(graph)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
    expect(
      relativeImports('/x/a.ts', "import type { T } from './b.ts';\nexport * from '../c.ts';"),
    ).toEqual(['/x/b.ts', '/c.ts']);
  });

  it('has no cycle among static relative imports (type-only imports included)', () => {
    const files = sourceFiles(SDK);
    expect(files.length).toBeGreaterThan(50);
    const graph = new Map<string, string[]>();
    for (const file of files) graph.set(file, relativeImports(file, readFileSync(file, 'utf8')));
    const cycles = findCycles(graph).map((c) =>
      [...c, c[0]!].map((f) => relative(SDK, f)).join(' -> '),
    );
    expect(cycles).toEqual([]);
  });
});
