/**
 * The shape of the product, checked on every `npm test` so it does not drift: layers only import
 * downwards (api, domain, input → workflows, activities → client, worker, cli), the import graph has no
 * cycle, the product imports none of the dev tooling (simulator, demo, bench, tests, @temporalio/testing),
 * and files stay small enough to read (workflow files ≤ 300 lines, product files ≤ 400).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const SRC = path.join(ROOT, 'src');

/** Layer of a product file, bottom first; a file may import its own layer and the ones below. */
const LAYERS: [RegExp, number, string][] = [
  [/^src\/api\//, 0, 'api'],
  [/^src\/config\.ts$/, 0, 'config'],
  [/^src\/domain\//, 1, 'domain'],
  [/^src\/input\//, 2, 'input'],
  [/^src\/(workflows|activities)\//, 3, 'workflows/activities'],
  [/^src\/(client\/|temporal-connection\.ts$)/, 4, 'client'],
  [/^src\/(cli\/|worker\.ts$)/, 5, 'cli/worker'],
];

function layerOf(file: string): { rank: number; name: string } {
  const hit = LAYERS.find(([re]) => re.test(file));
  assert.ok(hit, `${file} belongs to no layer: add it to LAYERS or move it`);
  return { rank: hit[1], name: hit[2] };
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

const rel = (p: string) => path.relative(ROOT, p).split(path.sep).join('/');

function resolveImport(from: string, spec: string): string | undefined {
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts')]) if (fs.existsSync(candidate)) return candidate;
  return undefined;
}

interface Module {
  file: string;
  lines: number;
  local: string[];
  packages: string[];
}

function readModules(): Module[] {
  return sourceFiles(SRC).map((file) => {
    const text = fs.readFileSync(file, 'utf8');
    const specs = [...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'|^\s*import\s+'([^']+)'|import\('([^']+)'\)/gm)].map((m) => m[1] ?? m[2] ?? m[3]);
    return {
      file: rel(file),
      lines: text.split('\n').length,
      local: specs.filter((s) => s.startsWith('.')).map((s) => resolveImport(file, s) ?? `${rel(path.resolve(path.dirname(file), s))} (unresolved)`).map((p) => (p.startsWith('/') ? rel(p) : p)),
      packages: specs.filter((s) => !s.startsWith('.')),
    };
  });
}

describe('architecture', function () {
  const modules = readModules();

  it('every import points down the layers: api, domain, input → workflows, activities → client → cli, worker', function () {
    const upward: string[] = [];
    for (const m of modules) {
      const from = layerOf(m.file);
      for (const target of m.local) {
        assert.ok(target.startsWith('src/'), `${m.file} imports ${target}, outside the product (simulator, dev tooling or tests)`);
        const to = layerOf(target);
        if (to.rank > from.rank) upward.push(`${m.file} (${from.name}) → ${target} (${to.name})`);
      }
    }
    assert.deepEqual(upward, []);
  });

  it('the import graph has no cycle', function () {
    const graph = new Map(modules.map((m) => [m.file, m.local]));
    const state = new Map<string, 'visiting' | 'done'>();
    const cycles: string[] = [];
    const visit = (file: string, trail: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'visiting') {
        cycles.push([...trail.slice(trail.indexOf(file)), file].join(' → '));
        return;
      }
      state.set(file, 'visiting');
      for (const next of graph.get(file) ?? []) visit(next, [...trail, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    assert.deepEqual(cycles, []);
  });

  it('the product imports none of the dev tooling, and workflows no SDK or Node I/O', function () {
    const bad = modules.flatMap((m) =>
      m.packages
        .filter((p) => p === '@temporalio/testing' || (m.file.startsWith('src/workflows/') && (p.startsWith('@aws-sdk/') || p.startsWith('node:') || p === '@temporalio/activity')))
        .map((p) => `${m.file} imports ${p}`),
    );
    assert.deepEqual(bad, []);
  });

  it('files stay readable: workflow files ≤ 300 lines, every product file ≤ 400', function () {
    const big = modules.filter((m) => m.lines > (m.file.startsWith('src/workflows/') ? 300 : 400)).map((m) => `${m.file}: ${m.lines} lines`);
    assert.deepEqual(big, []);
  });
});
