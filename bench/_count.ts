import fs from 'node:fs';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../src/worker';
import { historyFromJSON } from '../dev/history-json';
async function main() {
  const [file, id] = process.argv.slice(2);
  const history = historyFromJSON(JSON.parse(fs.readFileSync(file, 'utf8')));
  const bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never });
  const n = 3;
  async function* h() { for (let i = 0; i < n; i++) yield { workflowId: id ?? `wf-${i}`, history }; }
  for await (const r of Worker.runReplayHistories({ workflowBundle: bundle, reuseV8Context: true }, h())) if (r.error) console.log(String(r.error));
  const g = globalThis as any;
  console.log('promises per replay', (g.__pcTotal ?? 0) / n);
  const rows = [...(g.__pc ?? new Map()).entries()].sort((a: any, b: any) => b[1] - a[1]).slice(0, 40);
  for (const [k, v] of rows) console.log(String((v as number) / n).padStart(6), k);
}
main().catch((e) => { console.error(e); process.exit(1); });
