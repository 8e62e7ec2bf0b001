/**
 * The shape of the repository, checked on every `npm test` so it does not drift.
 *
 * The product (src/): layers only import downwards (api, domain, input → workflows, activities → client,
 * worker, cli), the product imports none of the dev tooling (simulator, demo, bench, tests,
 * @temporalio/testing), and files stay small enough to read (workflow files ≤ 300 lines, product files ≤ 400).
 *
 * The whole repository (src, sim, dev, bench, scripts, test-cluster, test): no import cycle anywhere, and no
 * import points up the parts: src imports nothing outside src; the simulator (sim/) is its own part and imports
 * nothing of src, dev, bench or test; dev may import src and sim; bench src, sim and dev. Nothing outside sim/
 * reaches into it but through its one face, sim/index.ts.
 *
 * Inside the simulator (shaped like moto: a folder per AWS service, and a core that knows no service):
 * sim/src/core imports no service folder; a service folder imports core and itself, and another service only
 * where it really depends on it (SERVICE_DEPENDENCIES, one-directional); the files at the top of sim/src compose
 * the services into the simulator and are imported by no service. Simulator files stay ≤ 350 lines.
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
  [/^src\/(cli\/|worker\.ts$|workflow-bundle\.ts$)/, 5, 'cli/worker'],
];

function layerOf(file: string): { rank: number; name: string } {
  const hit = LAYERS.find(([re]) => re.test(file));
  assert.ok(hit, `${file} belongs to no layer: add it to LAYERS or move it`);
  return { rank: hit[1], name: hit[2] };
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? (e.name === 'node_modules' ? [] : sourceFiles(p)) : e.name.endsWith('.ts') ? [p] : [];
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

function readModules(dirs: string[]): Module[] {
  return dirs.flatMap(sourceFiles).map((file) => {
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

/** Every cycle of the import graph, each as `a → b → … → a`. */
function cyclesOf(modules: Module[]): string[] {
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
  return cycles;
}

describe('architecture', function () {
  const modules = readModules([SRC]);

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
    assert.deepEqual(cyclesOf(modules), []);
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

// ---- the whole repository -------------------------------------------------------------------------------

/** The repository's parts, and which parts each may import (its own included): nothing points up. */
const PART_IMPORTS: Record<string, string[]> = {
  src: ['src'],
  // The simulator is a part of its own: it plays AWS for the product without knowing it.
  sim: ['sim'],
  dev: ['dev', 'src', 'sim'],
  bench: ['bench', 'src', 'sim', 'dev'],
  // scripts/soak drives the simulator (its faults, its call log) as bench does.
  scripts: ['scripts', 'src', 'sim', 'dev'],
  'test-cluster': ['test-cluster', 'src', 'sim', 'dev', 'scripts'],
  test: ['test', 'src', 'sim', 'dev', 'bench', 'scripts', 'test-cluster'],
};
const PARTS = Object.keys(PART_IMPORTS);

/**
 * References nobody here wrote, shared by the simulator's conformance tests and the product's: botocore's
 * published service models (read by test/conformance/service-model.ts) and moto's server (started by
 * sim/test/moto-server.ts). Both files import nothing of src nor of the simulator's inside, so either part's
 * tests may use them.
 */
const SHARED_REFERENCES: Array<{ from: RegExp; to: string }> = [
  { from: /^sim\/test\//, to: 'test/conformance/service-model.ts' },
  { from: /^test\//, to: 'sim/test/moto-server.ts' },
];


const partOf = (file: string): string => file.split('/')[0] as string;
const isShared = (from: string, to: string): boolean => SHARED_REFERENCES.some((s) => s.from.test(from) && s.to === to);

// ---- inside the simulator -------------------------------------------------------------------------------

/**
 * The real dependencies between the simulator's services, one-directional: RDS places an instance in EC2's
 * VPCs and checks its security groups against EC2's; a private Route 53 zone is associated with EC2 VPCs; the
 * DNS server answers from Route 53's published records. Everything else between services (seeding, time,
 * admin routes, the call log, who a request is) goes through core's ports.
 */
const SERVICE_DEPENDENCIES: Record<string, string[]> = {
  rds: ['ec2'],
  route53: ['ec2'],
  dns: ['route53'],
};

/** Where a simulator file sits: the face, the core, a service folder, the composition at the top of sim/src, or the tests. */
function simPlaceOf(file: string): { kind: 'face' | 'core' | 'service' | 'composition' | 'tests'; service?: string } {
  if (file === 'sim/index.ts') return { kind: 'face' };
  if (file.startsWith('sim/test/')) return { kind: 'tests' };
  const m = /^sim\/src\/(?:([^/]+)\/)?[^/]+$/.exec(file) ?? /^sim\/src\/([^/]+)\//.exec(file);
  const folder = m?.[1];
  if (folder === undefined) return { kind: 'composition' };
  return folder === 'core' ? { kind: 'core' } : { kind: 'service', service: folder };
}

function simImportAllowed(from: string, to: string): boolean {
  const a = simPlaceOf(from);
  const b = simPlaceOf(to);
  if (a.kind === 'tests') return true;
  if (b.kind === 'tests' || b.kind === 'face') return false;
  switch (a.kind) {
    case 'core':
      return b.kind === 'core';
    case 'service':
      return b.kind === 'core' || (b.kind === 'service' && (b.service === a.service || (SERVICE_DEPENDENCIES[a.service as string] ?? []).includes(b.service as string)));
    default:
      // The composition and the face may use anything in sim/src.
      return true;
  }
}

describe('architecture: the whole repository', function () {
  const all = readModules(PARTS.map((p) => path.join(ROOT, p)));
  const edges = all.flatMap((m) => m.local.map((to) => ({ from: m.file, to })));

  it('no import cycle anywhere: src, sim, dev, bench, scripts, test-cluster and test', function () {
    assert.deepEqual(cyclesOf(all), []);
  });

  it('no import points up the parts: src imports only src, sim only sim, dev src and sim, bench src, sim and dev', function () {
    const upward = edges
      .filter(({ from, to }) => !(PART_IMPORTS[partOf(from)] ?? []).includes(partOf(to)) && !isShared(from, to))
      .map(({ from, to }) => `${from} → ${to}`);
    assert.deepEqual(upward, []);
  });

  it('nothing outside sim/ reaches into the simulator but through sim/index.ts', function () {
    const around = edges
      .filter(({ from, to }) => partOf(from) !== 'sim' && partOf(to) === 'sim' && to !== 'sim/index.ts' && !isShared(from, to))
      .map(({ from, to }) => `${from} → ${to}`);
    assert.deepEqual(around, []);
  });

  it('inside sim: core knows no service, services import only core, themselves and their declared dependencies', function () {
    const bad = edges.filter(({ from, to }) => partOf(from) === 'sim' && partOf(to) === 'sim' && !simImportAllowed(from, to)).map(({ from, to }) => `${from} → ${to}`);
    assert.deepEqual(bad, []);
  });

  it("the services' declared dependencies are one-directional", function () {
    const reaches = (from: string, to: string, seen = new Set<string>()): boolean =>
      (SERVICE_DEPENDENCIES[from] ?? []).some((d) => d === to || (!seen.has(d) && (seen.add(d), reaches(d, to, seen))));
    const circular = Object.keys(SERVICE_DEPENDENCIES).filter((s) => reaches(s, s));
    assert.deepEqual(circular, []);
  });

  it('simulator files stay readable: ≤ 350 lines each', function () {
    const big = all.filter((m) => partOf(m.file) === 'sim' && m.lines > 350).map((m) => `${m.file}: ${m.lines} lines`);
    assert.deepEqual(big, []);
  });
});
