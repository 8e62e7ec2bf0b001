/**
 * Scenario "replay": a history recorded in this run replayed with Worker.runReplayHistory (pre-built
 * bundle) 3 times to warm up, then `replays` times; and the same histories through one replay worker
 * (runReplayHistories), the per-history cost without a worker's start-up. Once for the last size's campaign
 * history, and once for its baseline history when the baseline ran (the floor set by the SDK itself).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { historyToJSON } from '../../dev/history-json';
import { round, type History } from '../measure';
import { median, quantile } from '../metrics';
import type { BenchScenario } from '../scenario';
import { log } from '../stack';
import { scenario as baseline } from './baseline';
import { scenario as fleet } from './fleet';

export type ReplayResult = ReturnType<typeof replayFigures>;

export interface ReplayRun {
  /** A campaign history of the last size. */
  campaign?: ReplayResult;
  /** A baseline history of the same shape, replayed the same way. */
  baseline?: ReplayResult;
}

/**
 * `times`: each runReplayHistory, ms; `batchTimes`: each history's turn in one replay worker, ms, the first
 * of which carries the worker's start-up and is left out.
 */
export function replayFigures(historyEvents: number, times: number[], batchTimes: number[]) {
  return {
    historyEvents,
    runs: times.length,
    runReplayHistoryMs: { p50: round(median(times), 1)!, p90: round(quantile(times, 0.9), 1)!, min: round(Math.min(...times), 1)! },
    perHistoryInOneReplayWorkerMs: { p50: round(median(batchTimes.slice(1)), 1)!, p90: round(quantile(batchTimes.slice(1), 0.9), 1)! },
  };
}

export async function runReplay(history: History, replays: number, bundle: WorkflowBundle): Promise<ReplayResult> {
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
  const result = replayFigures(history.events?.length ?? 0, times, batchTimes);
  log(`  replay p50 ${result.runReplayHistoryMs.p50} ms (runReplayHistory), ${result.perHistoryInOneReplayWorkerMs.p50} ms per history in one replay worker`);
  return result;
}

export const scenario: BenchScenario<ReplayRun> = {
  name: 'replay',
  describe: 'A full campaign history recorded by the fleet scenario (and a baseline history of the same shape) replayed `--replays` times, alone and in one warm replay worker.',
  phase: 'after-sizes',
  selected: (opts) => opts.shape === 'campaigns' && opts.replay,
  run: async (ctx, opts) => {
    const last = <R>(runs: { result: R }[]) => runs[runs.length - 1]?.result;
    const recorded = last(ctx.results.perSize(fleet))?.sampleHistory;
    const recordedBaseline = last(ctx.results.perSize(baseline))?.sampleHistory;
    if (opts.keepHistories) {
      fs.mkdirSync(opts.keepHistories, { recursive: true });
      for (const [name, h] of [['campaign', recorded], ['baseline', recordedBaseline]] as const) {
        if (h) fs.writeFileSync(path.join(opts.keepHistories, `${name}.json`), historyToJSON(h));
      }
      log(`replay: histories written to ${opts.keepHistories}`);
    }
    return {
      campaign: recorded ? await runReplay(recorded, opts.replays, ctx.stack.campaignBundle) : undefined,
      baseline: recordedBaseline ? await runReplay(recordedBaseline, opts.replays, ctx.stack.baselineBundle) : undefined,
    };
  },
};
