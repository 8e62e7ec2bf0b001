/**
 * The workflow bundle: src/workflows and everything it imports, packed by the SDK's bundler (webpack) into
 * the one script the worker's sandbox runs. Bundling takes seconds (15-25 s on a busy CI machine), so a
 * worker never bundles at its start when it can avoid it (Temporal's advice: "Prebuilt workflow bundles"):
 *
 *   1. ORCHESTRATOR_WORKFLOW_BUNDLE=<file>: that bundle, as given (config.worker.workflowBundlePath);
 *   2. the prebuilt bundle beside the compiled worker: `npm run build` writes dist/workflows.bundle.js
 *      (scripts/build-workflow-bundle.ts), the Docker image builds it at image build time;
 *   3. from source (`npm run worker`, the demo, the tests): a bundle cached on disk in
 *      node_modules/.cache/rds-orchestrator/, named by a key over everything that goes into it (below);
 *   4. otherwise it is built now and cached for the next start.
 *
 * Every bundle comes from the same call the SDK makes for `workflowsPath` (same entry, same options), so
 * the worker runs the code it would have bundled itself: the same determinism, the same replays.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, Runtime, type BundleOptions, type Logger, type WorkflowBundleOption } from '@temporalio/worker';

/** The checkout (or the image's /app): this file is src/workflow-bundle.ts or dist/workflow-bundle.js. */
export const PROJECT_ROOT = path.resolve(__dirname, '..');

/** Written by `npm run build` beside the compiled worker (dist/), with its key in workflows.bundle.json. */
export const PREBUILT_BUNDLE_FILE = 'workflows.bundle.js';
const PREBUILT_KEY_FILE = 'workflows.bundle.json';

/**
 * The folders of src/ the bundle reads (the workflows import the api, the domain and the input code; the
 * same list as eslint.config.mjs's WORKFLOW_BUNDLE). Every build checks that webpack read no file of src/
 * outside them (uncoveredSources): a new import from elsewhere fails `npm run build` and is never cached.
 */
export const KEY_SOURCE_FOLDERS = ['src/workflows', 'src/api', 'src/domain', 'src/input'];

/** Change when what goes into a bundle changes in a way the key does not see (the options passed below). */
const KEY_FORMAT = 'rds-orchestrator workflow bundle 1';

export const workflowsEntry = (root: string): string => path.join(root, 'src', 'workflows', 'index.ts');
export const bundleCacheDir = (root: string): string => path.join(root, 'node_modules', '.cache', 'rds-orchestrator');

/** The installed SDK packages that shape the bundle: the bundler itself and the sandbox's runtime. */
export function bundlerVersions(): Record<string, string> {
  const version = (pkg: string) => (JSON.parse(fs.readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')) as { version: string }).version;
  return Object.fromEntries(['@temporalio/worker', '@temporalio/workflow', '@temporalio/common'].map((p) => [p, version(p)]));
}

function filesUnder(dir: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return entries.flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(p) : e.isFile() ? [p] : [];
  });
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/**
 * The key of the bundle built from `root`: a hash over every file of KEY_SOURCE_FOLDERS (path and
 * contents), package-lock.json (the versions of every package the bundle pulls from node_modules), the
 * installed SDK versions, and the checkout's path (the bundle's source map names files by absolute path).
 * Any change to a workflow or to what it imports gives another key, so a stale bundle is never used.
 */
export function workflowBundleKey(root: string, versions: Record<string, string> = bundlerVersions()): string {
  const hash = createHash('sha256');
  hash.update(`${KEY_FORMAT}\n${path.resolve(root)}\n${JSON.stringify(versions)}\n`);
  const lock = path.join(root, 'package-lock.json');
  hash.update(`package-lock.json ${fs.existsSync(lock) ? sha256(fs.readFileSync(lock)) : 'none'}\n`);
  const files = KEY_SOURCE_FOLDERS.flatMap((folder) => filesUnder(path.join(root, folder)))
    .map((f) => path.relative(root, f).split(path.sep).join('/'))
    .sort();
  for (const f of files) hash.update(`${f} ${sha256(fs.readFileSync(path.join(root, f)))}\n`);
  return hash.digest('hex').slice(0, 20);
}

/** Files of `root`/src that webpack read and the key does not cover (expected: none). */
export function uncoveredSources(root: string, inputs: readonly string[]): string[] {
  const src = path.join(root, 'src') + path.sep;
  const covered = KEY_SOURCE_FOLDERS.map((f) => path.join(root, f) + path.sep);
  return inputs.filter((f) => f.startsWith(src) && !covered.some((c) => f.startsWith(c)) && fs.statSync(f, { throwIfNoEntry: false })?.isFile()).sort();
}

export interface BuiltWorkflowBundle {
  code: string;
  /** The key of the sources as they were before and after webpack read them (undefined if they changed meanwhile). */
  key?: string;
  /** Every file webpack read (sources and node_modules). */
  inputs: string[];
  /** Files of src/ in the bundle that the key misses: such a bundle must not be cached nor shipped. */
  uncovered: string[];
  ms: number;
}

type WebpackConfig = Parameters<NonNullable<BundleOptions['webpackConfigHook']>>[0];
type WebpackPlugin = NonNullable<WebpackConfig['plugins']>[number];

/**
 * `bundleWorkflowCode` as Worker.create calls it for `workflowsPath` (no interceptor modules, converters
 * or ignored modules of our own); the one addition is a plugin that only records the files webpack read.
 */
export async function buildWorkflowBundle(root: string = PROJECT_ROOT, logger?: Logger): Promise<BuiltWorkflowBundle> {
  const started = Date.now();
  const before = workflowBundleKey(root);
  const inputs = new Set<string>();
  const recordInputs: WebpackPlugin = {
    apply(compiler) {
      compiler.hooks.done.tap('rds-orchestrator-bundle-inputs', (stats) => {
        for (const f of stats.compilation.fileDependencies) inputs.add(f);
      });
    },
  };
  const { code } = await bundleWorkflowCode({
    workflowsPath: workflowsEntry(root),
    ...(logger ? { logger } : {}),
    webpackConfigHook: (config) => ({ ...config, plugins: [...(config.plugins ?? []), recordInputs] }),
  });
  const after = workflowBundleKey(root);
  const files = [...inputs].sort();
  return { code, key: before === after ? after : undefined, inputs: files, uncovered: uncoveredSources(root, files), ms: Date.now() - started };
}

/** Writes `data` to `file` whole or not at all: readers see the old file, no file, or the new one, never half of it. */
export function writeFileAtomically(file: string, data: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

export const cachedBundlePath = (root: string, key: string): string => path.join(bundleCacheDir(root), `workflow-bundle-${key}.js`);

const KEEP_CACHED = 4;
const PRUNE_AFTER_MS = 60 * 60 * 1000;

/** Old bundles (beyond the newest few, unused for an hour) and temp files a killed writer left behind. */
function pruneCache(root: string, keep: string): void {
  const dir = bundleCacheDir(root);
  const now = Date.now();
  const entries = fs
    .readdirSync(dir)
    .filter((n) => n.startsWith('workflow-bundle-'))
    .map((n) => ({ file: path.join(dir, n), mtime: fs.statSync(path.join(dir, n), { throwIfNoEntry: false })?.mtimeMs ?? now }))
    .sort((a, b) => b.mtime - a.mtime);
  const bundles = entries.filter((e) => e.file.endsWith('.js'));
  const old = [...bundles.slice(KEEP_CACHED), ...entries.filter((e) => e.file.endsWith('.tmp'))];
  for (const e of old) if (e.file !== keep && now - e.mtime > PRUNE_AFTER_MS) fs.rmSync(e.file, { force: true });
}

/** Puts a bundle in the cache under its key; false (and the reason) when it cannot be written there. */
export function storeInCache(root: string, key: string, code: string): { file?: string; problem?: string } {
  const file = cachedBundlePath(root, key);
  try {
    writeFileAtomically(file, code);
  } catch (err) {
    return { problem: `cannot write ${file}: ${(err as Error).message}` };
  }
  try {
    pruneCache(root, file);
  } catch {
    // Pruning is housekeeping: another worker may be pruning the same folder.
  }
  return { file };
}

export type WorkflowBundleSource = 'forced' | 'prebuilt' | 'cached' | 'built';

export interface ResolvedWorkflowBundle {
  source: WorkflowBundleSource;
  /** What Worker.create is given. */
  option: WorkflowBundleOption;
  /** The bundle's file (undefined: built now and kept in memory only). */
  file?: string;
  key?: string;
  /** Time to find (or build) the bundle. */
  ms: number;
  /** Something the operator should know: a prebuilt bundle older than the sources beside it, a bundle not cached. */
  warning?: string;
}

export interface ResolveOptions {
  /** ORCHESTRATOR_WORKFLOW_BUNDLE. */
  forcedPath?: string;
  /** Where the sources and the cache are (default: this checkout). */
  root?: string;
  /** Where a prebuilt bundle would be (default: beside this module, i.e. dist/ when compiled). */
  prebuiltDir?: string;
  /** The bundler's logger when a bundle is built now (default: the SDK runtime's, as for workflowsPath). */
  logger?: Logger;
}

function readPrebuiltKey(dir: string): string | undefined {
  try {
    return (JSON.parse(fs.readFileSync(path.join(dir, PREBUILT_KEY_FILE), 'utf8')) as { key?: string }).key;
  } catch {
    return undefined;
  }
}

/** Writes the prebuilt bundle and its key (scripts/build-workflow-bundle.ts, for `npm run build`). */
export function writePrebuiltBundle(dir: string, bundle: { code: string; key: string }): string {
  const file = path.join(dir, PREBUILT_BUNDLE_FILE);
  writeFileAtomically(file, bundle.code);
  writeFileAtomically(path.join(dir, PREBUILT_KEY_FILE), `${JSON.stringify({ key: bundle.key, sdk: bundlerVersions() }, null, 2)}\n`);
  return file;
}

/** The bundle a worker starting now uses: forced, prebuilt, cached, or built now (and cached). */
export async function resolveWorkflowBundle(opts: ResolveOptions = {}): Promise<ResolvedWorkflowBundle> {
  const started = Date.now();
  const root = opts.root ?? PROJECT_ROOT;
  const ms = () => Date.now() - started;
  if (opts.forcedPath) {
    const file = path.resolve(opts.forcedPath);
    if (!fs.statSync(file, { throwIfNoEntry: false })?.isFile()) {
      throw new Error(`ORCHESTRATOR_WORKFLOW_BUNDLE=${opts.forcedPath}: no such file (a bundle written by npm run build: dist/${PREBUILT_BUNDLE_FILE})`);
    }
    return { source: 'forced', option: { codePath: file }, file, ms: ms() };
  }
  const sourcesHere = fs.existsSync(workflowsEntry(root));
  const prebuiltDir = opts.prebuiltDir ?? __dirname;
  const prebuilt = path.join(prebuiltDir, PREBUILT_BUNDLE_FILE);
  if (fs.existsSync(prebuilt)) {
    const key = readPrebuiltKey(prebuiltDir);
    // In a checkout, the sources may have moved on since `npm run build` (the image has no sources to compare).
    const current = sourcesHere ? workflowBundleKey(root) : undefined;
    const warning =
      current && key !== current ? `${prebuilt} was built from other workflow sources than those in ${path.join(root, 'src')}: run npm run build again` : undefined;
    return { source: 'prebuilt', option: { codePath: prebuilt }, file: prebuilt, key, ms: ms(), warning };
  }
  if (!sourcesHere) {
    throw new Error(`no workflow bundle: ${prebuilt} is missing and there are no workflow sources in ${root} to build one (npm run build writes it)`);
  }
  const key = workflowBundleKey(root);
  const cached = cachedBundlePath(root, key);
  if (fs.existsSync(cached)) {
    const now = new Date();
    try {
      fs.utimesSync(cached, now, now); // the cache keeps the bundles used last
    } catch {
      // Read-only cache: the bundle is still good.
    }
    return { source: 'cached', option: { codePath: cached }, file: cached, key, ms: ms() };
  }
  const built = await buildWorkflowBundle(root, opts.logger ?? Runtime.instance().logger);
  const problem = built.uncovered.length
    ? `the bundle reads ${built.uncovered.map((f) => path.relative(root, f)).join(', ')}, outside the cache key's folders (KEY_SOURCE_FOLDERS in src/workflow-bundle.ts): not cached`
    : !built.key
      ? 'the workflow sources changed while they were being bundled: not cached'
      : storeInCache(root, built.key, built.code).problem;
  if (problem) return { source: 'built', option: { code: built.code }, key: built.key, ms: ms(), warning: problem };
  return { source: 'built', option: { codePath: cachedBundlePath(root, built.key!) }, file: cachedBundlePath(root, built.key!), key: built.key, ms: ms() };
}

/** One line for the worker's log: which bundle, from where, how long it took. */
export function describeWorkflowBundle(b: ResolvedWorkflowBundle, root: string = PROJECT_ROOT): string {
  const where = b.file ? path.relative(root, b.file) || b.file : 'memory';
  const took = b.ms >= 1000 ? `${(b.ms / 1000).toFixed(1)} s` : `${b.ms} ms`;
  const what = {
    forced: `given by ORCHESTRATOR_WORKFLOW_BUNDLE: ${b.file}`,
    prebuilt: `prebuilt ${where}`,
    cached: `cached ${where}`,
    built: `built now in ${took}, ${b.file ? `cached at ${where}` : 'kept in memory'}`,
  }[b.source];
  return `workflow bundle: ${what}${b.source === 'built' ? '' : ` (${took})`}${b.key ? ` key=${b.key}` : ''}`;
}
