/**
 * Scenario "fleet": ceil(N/3) campaigns of three stages started at once on one worker, sharing one
 * preview window and one production window (the worst case: every timer of the fleet fires in the same
 * second); production approved by an update from the driver. Measures wall time, drain, workflow-task
 * latency, CPU and memory, AWS calls per instance and while asleep, history events per campaign.
 */
import { approveUpdate } from '../../src/api';
import { campaignIdOf, startCampaign } from '../../src/client';
import { MINUTE_MS as MINUTE } from '../../src/domain/duration';
import { demoFleet } from '../../sim';
import { nextWholeMinute, sleep } from '../../dev/time';
import { APPROVER, fleetCampaign, fleetSeed } from '../fleet';
import { CallLog, ResourceSampler, countByStatus, durableSleeps, eventCounts, executionSpan, medianCounts, round, Metrics, type AwsCalls, type EventCounts, type History, type Latencies, type Resources } from '../measure';
import { median } from '../metrics';
import type { BenchOptions } from '../options';
import { sizeOf, type BenchScenario } from '../scenario';
import { count, createCampaignWorker, listAll, log, pool, type BenchStack } from '../stack';

export interface FleetResult {
  instances: number;
  campaigns: number;
  completed: number;
  failedOrOther: Record<string, number>;
  armedBeforeWindow: number;
  wallSeconds: number;
  workflowsPerSecond: number;
  schedule: { leadSeconds: number; previewWindowAt: string; productionWindowAt: string; drainAfterProductionWindowSeconds?: number };
  perCampaignSeconds: { p50?: number; max?: number };
  historyEvents: { min: number; p50: number; max: number };
  countsPerCampaign: EventCounts;
  latencyMs: Latencies;
  resources: Resources;
  aws: AwsCalls;
  notes: string[];
}

export interface FleetRun {
  result: FleetResult;
  /** A completed campaign's history, for the replay scenario. */
  sampleHistory: History;
}

/** N instances are ceil(N/3) campaigns of one instance per stage. */
export const campaignsFor = (n: number) => Math.ceil(n / 3);

/** The fleet's shared preview and production windows, `now` being when its campaigns start. */
export function fleetSchedule(campaigns: number, now = Date.now()): { previewMs: number; productionMs: number } {
  // Preview windows must open after every campaign has armed AutoMinorVersionUpgrade (a window that is
  // already open is watched, but the simulator only applies work when a window opens).
  const previewMs = nextWholeMinute(40_000 + 200 * campaigns, now);
  // The approval must come the 60 s notice before production's window.
  const productionMs = previewMs + (campaigns <= 50 ? 3 : campaigns <= 200 ? 4 : 5) * MINUTE;
  return { previewMs, productionMs };
}

export async function runFleet(h: BenchStack, n: number, opts: BenchOptions, runTag: string): Promise<FleetRun> {
  const campaigns = campaignsFor(n);
  const prefix = `f${runTag}n${n}`;
  const taskQueue = `bench-fleet-${runTag}-${n}`;
  const notes: string[] = [];
  const { previewMs, productionMs } = fleetSchedule(campaigns);
  log(`fleet N=${n}: ${campaigns} campaigns × 3 stages; preview window ${new Date(previewMs).toISOString()}, production ${new Date(productionMs).toISOString()}`);

  const catalogue = demoFleet(Date.now()).catalogue;
  await h.admin.seed({ reset: true, catalogue, instances: fleetSeed(prefix, campaigns, previewMs, productionMs) });

  const worker = await createCampaignWorker(h, taskQueue);
  const running = worker.run();

  const calls = new CallLog(h.admin, new RegExp(`(${prefix}-\\d+)-(?:preview|staging|production)`));
  await calls.startFromNow();
  const before = await h.metrics.scrape();
  const sampler = new ResourceSampler(h.serverPid, h.simPid);
  const t0 = Date.now();

  const ids = Array.from({ length: campaigns }, (_, i) => i);
  await pool(ids, 50, async (i) => {
    await startCampaign(h.client, fleetCampaign(prefix, i, h.admin, opts.pollInterval), { taskQueue });
  });
  log(`  started ${campaigns} campaigns in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const q = `TaskQueue = '${taskQueue}'`;
  const approved = new Set<string>();
  let armedBeforeWindow = -1;
  let approveErrors = 0;
  const deadline = productionMs + opts.drainTimeoutMs;
  let lastProgress = 0;
  for (;;) {
    const tick = Date.now();
    const [runningCount, sleeping] = await Promise.all([
      count(h.client, `${q} AND ExecutionStatus = 'Running'`),
      count(h.client, `${q} AND ExecutionStatus = 'Running' AND RdsState = 'waiting-for-window'`),
    ]);
    if (armedBeforeWindow < 0 && tick >= previewMs - 3000) {
      armedBeforeWindow = sleeping;
      if (sleeping < campaigns) notes.push(`${campaigns - sleeping} campaign(s) were not yet asleep towards the preview window 3 s before it opened`);
    }
    const waiting = await listAll(h.client, `${q} AND ExecutionStatus = 'Running' AND RdsState = 'waiting-for-approval'`);
    await pool(
      waiting.filter((w) => !approved.has(w.workflowId)),
      20,
      async (w) => {
        approved.add(w.workflowId);
        try {
          await h.client.workflow.getHandle(w.workflowId).executeUpdate(approveUpdate, { args: [{ by: APPROVER, comment: 'bench auto-approval' }] });
        } catch {
          // visibility ran ahead of or behind the workflow: try again on the next tick
          approved.delete(w.workflowId);
          approveErrors++;
        }
      },
    );
    if (runningCount === 0) break;
    if (tick - lastProgress > 15_000) {
      lastProgress = tick;
      log(`  running ${runningCount}, asleep ${sleeping}, approved ${approved.size}/${campaigns}`);
    }
    if (tick > deadline) {
      notes.push(`${runningCount} campaign(s) still running ${opts.drainTimeoutMs / 60000} min after the production window: terminated`);
      const stuck = await listAll(h.client, `${q} AND ExecutionStatus = 'Running'`);
      await pool(stuck, 20, async (w) => {
        await h.client.workflow.getHandle(w.workflowId).terminate('bench drain timeout').catch(() => undefined);
      });
      break;
    }
    await sleep(1000 - (Date.now() - tick));
  }
  if (approveErrors) notes.push(`${approveErrors} approval update(s) were refused (visibility lag) and retried`);

  const resources = sampler.stop();
  await sleep(1500); // let the last metrics land
  const after = await h.metrics.scrape();
  await calls.stop();
  worker.shutdown();
  await running;

  const infos = await listAll(h.client, q);
  const byStatus = countByStatus(infos);
  const completed = byStatus.COMPLETED ?? 0;
  const { lastCloseMs: lastClose, seconds: wallSeconds } = executionSpan(infos);
  const perCampaign = infos.filter((w) => w.closeTime).map((w) => (w.closeTime!.getTime() - w.startTime.getTime()) / 1000);
  const lengths = infos.map((w) => w.historyLength);

  // Counts per campaign, and each campaign's durable sleeps (timers of >= 5 s), from every history.
  let sampleHistory: History | undefined;
  const counts: EventCounts[] = [];
  const sleeps = new Map<string, [number, number][]>();
  await pool(infos, 20, async (w) => {
    const hist = await h.client.workflow.getHandle(w.workflowId).fetchHistory();
    const events = hist.events ?? [];
    sleeps.set(campaignIdOf(w.workflowId), durableSleeps(events));
    if (w.status.name !== 'COMPLETED') return;
    sampleHistory ??= hist;
    counts.push(eventCounts(events));
  });
  if (!sampleHistory) throw new Error(`no campaign completed at N=${n}: ${JSON.stringify(byStatus)}`);
  const { COMPLETED: _c, ...others } = byStatus;
  const result: FleetResult = {
    instances: campaigns * 3,
    campaigns,
    completed,
    failedOrOther: others,
    armedBeforeWindow,
    wallSeconds: round(wallSeconds, 1)!,
    workflowsPerSecond: round(completed / wallSeconds, 2)!,
    schedule: {
      leadSeconds: round((previewMs - t0) / 1000, 0)!,
      previewWindowAt: new Date(previewMs).toISOString(),
      productionWindowAt: new Date(productionMs).toISOString(),
      drainAfterProductionWindowSeconds: round((lastClose - productionMs) / 1000, 1),
    },
    perCampaignSeconds: { p50: round(median(perCampaign), 1), max: round(Math.max(...perCampaign), 1) },
    historyEvents: { min: Math.min(...lengths), p50: median(lengths), max: Math.max(...lengths) },
    countsPerCampaign: medianCounts(counts),
    latencyMs: Metrics.latencies(before, after, taskQueue),
    resources,
    aws: calls.summary(campaigns * 3, sleeps),
    notes,
  };
  log(`  N=${n}: ${completed}/${campaigns} completed in ${result.wallSeconds} s; worker peak RSS ${resources.workerPeakRssMb} MB; ` +
    `WFT schedule-to-start p99 ${result.latencyMs.wftScheduleToStart.p99} ms; AWS ${result.aws.readsPerInstance} reads + ${result.aws.mutationsPerInstance} mutations per instance`);
  return { result, sampleHistory };
}

export const scenario: BenchScenario<FleetRun> = {
  name: 'fleet',
  describe: 'ceil(N/3) campaigns of three stages (preview, staging, production) started at once on one worker, sharing one preview and one production window: the worst case for a fleet.',
  phase: 'per-size',
  selected: (opts) => opts.shape !== 'fleet-campaign',
  run: async (ctx, opts) => runFleet(ctx.stack, sizeOf(ctx, scenario), opts, ctx.runTag),
};
