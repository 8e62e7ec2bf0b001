/**
 * Replays one recorded history many times inside one warm replay worker and prints the time per history;
 * run under `node --cpu-prof` to see where a replay (and so a workflow task) spends its CPU:
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof -r ts-node/register/transpile-only bench/profile-replay.ts \
 *     test/histories/6-fast-resume/campaign-full.json 40 [WORKFLOW_ID] [--baseline]
 *
 * `--baseline` replays with the bench's bare workflows (bench/baseline-workflows.ts) instead of ours: the floor a
 * history of the same shape costs in SDK 1.24 (`npm run bench -- --keep-histories DIR` writes both histories).
 *
 * The first 5 replays warm the worker up; the second figure is the one to read. bench/README.md
 * ("Where a replay spends its CPU") has the profile of 2026-11-26.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../src/worker';
import { historyFromJSON } from '../dev/history-json';

async function main() {
  const baseline = process.argv.includes('--baseline');
  const [file, count, workflowId] = process.argv.slice(2).filter((a) => a !== '--baseline');
  const n = Number(count ?? 50);
  // A history whose commands name its own workflow id (a campaign's batches: `<id>/<stage>/wave-1/batch-1`) replays under that id.
  const history = historyFromJSON(JSON.parse(fs.readFileSync(path.resolve(file), 'utf8')));
  const bundle = await bundleWorkflowCode({ workflowsPath: baseline ? require.resolve('./baseline-workflows') : WORKFLOWS_PATH, logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never });
  async function* histories(k: number) { for (let i = 0; i < k; i++) yield { workflowId: workflowId ?? `wf-${i}`, history }; }
  for (const k of [5, n]) {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    let fails = 0;
    for await (const r of Worker.runReplayHistories({ workflowBundle: bundle }, histories(k))) if (r.error) { fails++; if (fails === 1) console.log(String(r.error)); }
    const cpu = process.cpuUsage(cpu0);
    console.log(`${k} replays: ${((performance.now() - t0) / k).toFixed(1)} ms each, CPU ${((cpu.user + cpu.system) / 1000 / k).toFixed(1)} ms each (all threads), ${fails} failed`);
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
