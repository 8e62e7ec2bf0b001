/**
 * Scenario "baseline": per size, as many minimal workflows (../baseline-workflows.ts) as the fleet had
 * campaigns, each with the same count of activities (trivial) and timers (1 s) as a campaign's history,
 * on the same machine, dev server and worker settings: the cost of bare Temporal, for the ratio row.
 */
import { sleep } from '../../dev/time';
import { baselineWorkflow } from '../baseline-workflows';
import { ResourceSampler, Metrics, executionSpan, round, type History, type Latencies, type Resources } from '../measure';
import { median } from '../metrics';
import { sizeOf, type BenchScenario } from '../scenario';
import { createBaselineWorker, listAll, log, pool, type BenchStack } from '../stack';
import { scenario as fleet, type FleetResult } from './fleet';

export interface BaselineResult {
  workflows: number;
  activitiesPerWorkflow: number;
  timersPerWorkflow: number;
  timerMs: number;
  completed: number;
  wallSeconds: number;
  workflowsPerSecond: number;
  historyEvents: number;
  latencyMs: Latencies;
  resources: Resources;
}

export interface BaselineRun {
  result: BaselineResult;
  /** A baseline workflow's history, for the replay scenario. */
  sampleHistory: History;
}

/** Each baseline workflow's timers last this long. */
export const BASELINE_TIMER_MS = 1000;

/** As many workflows as the fleet had campaigns, each with a campaign's count of activities and timers. */
export function baselineShape(fleetResult: Pick<FleetResult, 'campaigns' | 'countsPerCampaign'>) {
  return { workflows: fleetResult.campaigns, activities: fleetResult.countsPerCampaign.activitiesScheduled, timers: fleetResult.countsPerCampaign.timersStarted, timerMs: BASELINE_TIMER_MS };
}

export async function runBaseline(h: BenchStack, n: number, fleetResult: FleetResult, runTag: string): Promise<BaselineRun> {
  const { workflows, activities, timers, timerMs } = baselineShape(fleetResult);
  const taskQueue = `bench-baseline-${runTag}-${n}`;
  log(`baseline N=${n}: ${workflows} workflows × (${activities} trivial activities + ${timers} timers of ${timerMs} ms)`);
  const worker = await createBaselineWorker(h, taskQueue);
  const running = worker.run();
  const before = await h.metrics.scrape();
  const sampler = new ResourceSampler(h.serverPid, h.simPid);
  const handles: Promise<unknown>[] = [];
  await pool(
    Array.from({ length: workflows }, (_, i) => i),
    50,
    async (i) => {
      const handle = await h.client.workflow.start(baselineWorkflow, { args: [activities, timers, timerMs], taskQueue, workflowId: `baseline-${runTag}-${n}-${i}` });
      handles.push(handle.result());
    },
  );
  const settled = await Promise.allSettled(handles);
  const resources = sampler.stop();
  await sleep(1500);
  const after = await h.metrics.scrape();
  worker.shutdown();
  await running;
  const infos = await listAll(h.client, `TaskQueue = '${taskQueue}'`);
  const wallSeconds = executionSpan(infos).seconds;
  const completed = settled.filter((s) => s.status === 'fulfilled').length;
  const result: BaselineResult = {
    workflows,
    activitiesPerWorkflow: activities,
    timersPerWorkflow: timers,
    timerMs,
    completed,
    wallSeconds: round(wallSeconds, 1)!,
    workflowsPerSecond: round(completed / wallSeconds, 2)!,
    historyEvents: median(infos.map((w) => w.historyLength)),
    latencyMs: Metrics.latencies(before, after, taskQueue),
    resources,
  };
  log(`  baseline N=${n}: ${completed}/${workflows} in ${result.wallSeconds} s; worker CPU ${resources.workerCpuSeconds} s, server CPU ${resources.serverCpuSeconds} s`);
  const sampleHistory = await h.client.workflow.getHandle(`baseline-${runTag}-${n}-0`).fetchHistory();
  return { result, sampleHistory };
}

export const scenario: BenchScenario<BaselineRun> = {
  name: 'baseline',
  describe: 'Per size, as many minimal workflows as the fleet had campaigns, each with a campaign\'s count of trivial activities and 1 s timers: bare Temporal\'s cost on the same stack, for the ratio columns.',
  phase: 'per-size',
  selected: (opts) => opts.shape === 'campaigns' && opts.baseline,
  run: async (ctx) => {
    const n = sizeOf(ctx, scenario);
    return runBaseline(ctx.stack, n, ctx.results.need(fleet, n).result, ctx.runTag);
  },
};
