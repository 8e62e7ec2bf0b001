/**
 * `npm run build`'s second step: bundles src/workflows once, at build time, into dist/workflows.bundle.js,
 * which `node dist/worker.js` (and the Docker image) runs instead of bundling at every start. The same
 * bundle goes into the source worker's cache (src/workflow-bundle.ts), so `npm run worker` starts warm too.
 * Fails when the bundle reads a file of src/ that the cache key does not cover.
 *   ts-node --transpile-only scripts/build-workflow-bundle.ts [out-dir]     (default dist/)
 */
import path from 'node:path';
import { DefaultLogger } from '@temporalio/worker';
import { buildWorkflowBundle, PROJECT_ROOT, storeInCache, writePrebuiltBundle } from '../src/workflow-bundle';

async function main(): Promise<number> {
  const outDir = path.resolve(process.argv[2] ?? path.join(PROJECT_ROOT, 'dist'));
  // webpack's statistics stay out of the build's output; its warnings and errors do not.
  const built = await buildWorkflowBundle(PROJECT_ROOT, new DefaultLogger('WARN'));
  if (built.uncovered.length) {
    console.error(
      `The workflow bundle reads ${built.uncovered.map((f) => path.relative(PROJECT_ROOT, f)).join(', ')}, outside the folders its cache key covers: ` +
        'add the folder to KEY_SOURCE_FOLDERS in src/workflow-bundle.ts (and to WORKFLOW_BUNDLE in eslint.config.mjs).',
    );
    return 1;
  }
  if (!built.key) {
    console.error('The workflow sources changed while they were being bundled: run the build again.');
    return 1;
  }
  const file = writePrebuiltBundle(outDir, { code: built.code, key: built.key });
  const cached = storeInCache(PROJECT_ROOT, built.key, built.code);
  console.log(
    `workflow bundle: ${path.relative(PROJECT_ROOT, file)} (${(built.code.length / 1e6).toFixed(1)} MB, key ${built.key}, ${(built.ms / 1000).toFixed(1)} s)` +
      (cached.file ? `; also cached for npm run worker` : `; not cached (${cached.problem})`),
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
