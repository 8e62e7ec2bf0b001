/**
 * The workflow bundle a worker runs without bundling at its start (src/workflow-bundle.ts): the cache key
 * follows the workflow sources (over a temporary copy of them, never the real ones), the order in which a
 * worker picks its bundle, and that the bundle is the very code the SDK would bundle for `workflowsPath`.
 * test/worker-process.test.ts starts a real worker process on the cached bundle.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../src/worker';
import {
  buildWorkflowBundle,
  cachedBundlePath,
  describeWorkflowBundle,
  KEY_SOURCE_FOLDERS,
  PREBUILT_BUNDLE_FILE,
  PROJECT_ROOT,
  resolveWorkflowBundle,
  uncoveredSources,
  workflowBundleKey,
  writeFileAtomically,
  writePrebuiltBundle,
} from '../src/workflow-bundle';

const quiet = new DefaultLogger('WARN');

/** A copy of what the key reads (the bundle's source folders and package-lock.json) in a temporary folder. */
function copyOfTheSources(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'workflow-bundle-'));
  for (const folder of KEY_SOURCE_FOLDERS) fs.cpSync(path.join(PROJECT_ROOT, folder), path.join(root, folder), { recursive: true });
  fs.copyFileSync(path.join(PROJECT_ROOT, 'package-lock.json'), path.join(root, 'package-lock.json'));
  return root;
}

describe('workflow bundle: cache key', function () {
  let root: string;
  beforeEach(() => (root = copyOfTheSources()));
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('is the same for the same sources, and changes with any workflow source or what the workflows import', function () {
    const key = workflowBundleKey(root);
    assert.match(key, /^[0-9a-f]{20}$/);
    assert.equal(workflowBundleKey(root), key, 'stable');

    const workflow = path.join(root, 'src', 'workflows', 'index.ts');
    const original = fs.readFileSync(workflow, 'utf8');
    fs.writeFileSync(workflow, `${original}\n// a change\n`);
    const changed = workflowBundleKey(root);
    assert.notEqual(changed, key, 'a changed workflow file');
    fs.writeFileSync(workflow, original);
    assert.equal(workflowBundleKey(root), key, 'the same contents again: the same key (contents, not modification times)');

    for (const folder of ['src/domain', 'src/api', 'src/input']) {
      fs.writeFileSync(path.join(root, folder, 'added.ts'), 'export const added = 1;\n');
      assert.notEqual(workflowBundleKey(root), key, `a file added to ${folder}`);
      fs.rmSync(path.join(root, folder, 'added.ts'));
    }
    fs.appendFileSync(path.join(root, 'package-lock.json'), '\n');
    assert.notEqual(workflowBundleKey(root), key, 'another package-lock.json (the packages bundled from node_modules)');
  });

  it('changes with the SDK that bundles and runs the workflows, and not with code outside the bundle', function () {
    const key = workflowBundleKey(root, { '@temporalio/workflow': '1.24.0' });
    assert.notEqual(workflowBundleKey(root, { '@temporalio/workflow': '1.25.0' }), key);
    fs.mkdirSync(path.join(root, 'src', 'activities'), { recursive: true });
    fs.writeFileSync(path.join(root, 'src', 'activities', 'rds.ts'), 'export const activity = 1;\n');
    assert.equal(workflowBundleKey(root, { '@temporalio/workflow': '1.24.0' }), key, 'an activity is not in the bundle');
  });

  it('names the files of src/ a bundle read outside the key folders', function () {
    fs.mkdirSync(path.join(root, 'src', 'cli'));
    const outside = path.join(root, 'src', 'cli', 'format.ts');
    fs.writeFileSync(outside, '');
    const inside = path.join(root, 'src', 'workflows', 'index.ts');
    assert.deepEqual(uncoveredSources(root, [inside, outside, path.join(root, 'src'), '/elsewhere/node_modules/ms/index.js']), [outside]);
  });
});

describe('workflow bundle: which one a worker starts with', function () {
  let root: string;
  let dist: string;
  beforeEach(() => {
    root = copyOfTheSources();
    dist = fs.mkdtempSync(path.join(os.tmpdir(), 'workflow-bundle-dist-'));
  });
  afterEach(() => {
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(dist, { recursive: true, force: true });
  });

  it('the cached bundle of the current sources, then the prebuilt one, then the one ORCHESTRATOR_WORKFLOW_BUNDLE names', async function () {
    const key = workflowBundleKey(root);
    writeFileAtomically(cachedBundlePath(root, key), '// cached');
    const cached = await resolveWorkflowBundle({ root, prebuiltDir: dist, logger: quiet });
    assert.deepEqual([cached.source, cached.option, cached.key], ['cached', { codePath: cachedBundlePath(root, key) }, key]);
    assert.match(describeWorkflowBundle(cached, root), new RegExp(`^workflow bundle: cached node_modules/.cache/rds-orchestrator/workflow-bundle-${key}.js \\(\\d+ ms\\) key=${key}$`));
    assert.deepEqual(
      fs.readdirSync(path.dirname(cachedBundlePath(root, key))),
      [path.basename(cachedBundlePath(root, key))],
      'written whole (no temp file left)',
    );

    writePrebuiltBundle(dist, { code: '// prebuilt', key });
    const prebuilt = await resolveWorkflowBundle({ root, prebuiltDir: dist, logger: quiet });
    assert.deepEqual([prebuilt.source, prebuilt.option, prebuilt.key, prebuilt.warning], ['prebuilt', { codePath: path.join(dist, PREBUILT_BUNDLE_FILE) }, key, undefined]);

    fs.appendFileSync(path.join(root, 'src', 'workflows', 'index.ts'), '\n// changed since the build\n');
    const stale = await resolveWorkflowBundle({ root, prebuiltDir: dist, logger: quiet });
    assert.equal(stale.source, 'prebuilt');
    assert.match(stale.warning ?? '', /built from other workflow sources .* run npm run build again/);

    const given = path.join(dist, 'given.js');
    fs.writeFileSync(given, '// given');
    const forced = await resolveWorkflowBundle({ root, prebuiltDir: dist, forcedPath: given });
    assert.deepEqual([forced.source, forced.option], ['forced', { codePath: given }]);
    await assert.rejects(resolveWorkflowBundle({ root, prebuiltDir: dist, forcedPath: path.join(dist, 'missing.js') }), /ORCHESTRATOR_WORKFLOW_BUNDLE=.*missing\.js: no such file/);
  });

  it('without sources (the image) and without a prebuilt bundle: says to run npm run build', async function () {
    await assert.rejects(resolveWorkflowBundle({ root: dist, prebuiltDir: dist, logger: quiet }), /no workflow bundle: .*npm run build/);
  });
});

describe('workflow bundle: the code', function () {
  this.timeout(180_000);

  it('is byte for byte what the SDK bundles for workflowsPath, and the key covers every source file it reads', async function () {
    const ours = await buildWorkflowBundle(PROJECT_ROOT, quiet);
    const sdks = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quiet });
    assert.ok(ours.code === sdks.code, 'the same bundle as Worker.create({ workflowsPath }) makes');
    assert.deepEqual(ours.uncovered, [], 'every file of src/ in the bundle is under KEY_SOURCE_FOLDERS');
    assert.ok(ours.inputs.includes(WORKFLOWS_PATH), 'the inputs were recorded');
  });
});
