/**
 * Scenario "replay": a history recorded in this run replayed with Worker.runReplayHistory (pre-built
 * bundle) 3 times to warm up, then `replays` times; and the same histories through one replay worker
 * (runReplayHistories), the per-history cost without a worker's start-up.
 */
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { round, type History } from '../measure';
import { median, quantile } from '../metrics';
import { log } from '../stack';

export type ReplayResult = Awaited<ReturnType<typeof runReplay>>;

export async function runReplay(history: History, replays: number, bundle: WorkflowBundle) {
  log(`replay: ${history.events?.length} events, ${replays} times`);
  const times: number[] = [];
  const once = async () => {
    const t = performance.now();
    await Worker.runReplayHistory({ workflowBundle: bundle }, history, 'bench-replay');
    return performance.now() - t;
  };
  for (let i = 0; i < 3; i++) await once(); // warm-up
  for (let i = 0; i < replays; i++) times.push(await once());
  // The same histories through one replay worker: the per-history cost without a worker's start-up.
  const batchTimes: number[] = [];
  let last = performance.now();
  const histories = Array.from({ length: replays }, (_, i) => ({ workflowId: `bench-replay-${i}`, history }));
  for await (const r of Worker.runReplayHistories({ workflowBundle: bundle }, histories)) {
    if (r.error) throw r.error;
    const now = performance.now();
    batchTimes.push(now - last);
    last = now;
  }
  const result = {
    historyEvents: history.events?.length ?? 0,
    runs: replays,
    runReplayHistoryMs: { p50: round(median(times), 1)!, p90: round(quantile(times, 0.9), 1)!, min: round(Math.min(...times), 1)! },
    perHistoryInOneReplayWorkerMs: { p50: round(median(batchTimes.slice(1)), 1)!, p90: round(quantile(batchTimes.slice(1), 0.9), 1)! },
  };
  log(`  replay p50 ${result.runReplayHistoryMs.p50} ms (runReplayHistory), ${result.perHistoryInOneReplayWorkerMs.p50} ms per history in one replay worker`);
  return result;
}
