/**
 * Scenario "baseline": per size, as many minimal workflows (../baseline-workflows.ts) as the fleet had
 * campaigns, each with the same count of activities (trivial) and timers (1 s) as a campaign's history,
 * on the same machine, dev server and worker settings: the cost of bare Temporal, for the ratio row.
 */
import { sleep } from '../../dev/time';
import { baselineWorkflow } from '../baseline-workflows';
import { ResourceSampler, Metrics, round, type History, type Latencies, type Resources } from '../measure';
import { median } from '../metrics';
import { createBaselineWorker, listAll, log, pool, type BenchStack } from '../stack';
import type { FleetResult } from './fleet';

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

export async function runBaseline(h: BenchStack, n: number, fleet: FleetResult, runTag: string): Promise<{ result: BaselineResult; sampleHistory: History }> {
  const workflows = fleet.campaigns;
  const { activitiesScheduled: activities, timersStarted: timers } = fleet.countsPerCampaign;
  const timerMs = 1000;
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
  const firstStart = Math.min(...infos.map((w) => w.startTime.getTime()));
  const lastClose = Math.max(...infos.map((w) => w.closeTime?.getTime() ?? 0));
  const wallSeconds = (lastClose - firstStart) / 1000;
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
