/**
 * Scenario "fleet-campaign" (`--shape fleet-campaign`): the same N instances as the "fleet" scenario, but
 * upgraded by ONE `upgradeCampaign` of three fleet stages selecting them by tag, each instance in a child
 * workflow (`upgradeFleetInstance`):
 *   preview     maintenance-window, waves of at most 100 (the spec's maximum for maxConcurrent), ordered by
 *               a `wave` tag; each wave has its own compressed window, 1–2 minutes after the previous one
 *               (the simulator applies an armed upgrade only when a window opens, and a wave starts when
 *               the previous one ended, so waves cannot share one window);
 *   staging     apply-now under the availability probe (`{instanceId}` in the URL: one status endpoint per
 *               instance), waves of `--staging-concurrency` (default 50);
 *   production  approval: one window for every instance (one window group, one announcement), approved
 *               once by an update naming status.waitingFor.plan; pre-check early enough that the parent can
 *               start every child before the window opens (children of a window group start one by one at
 *               the pre-check instant).
 * Measures what the "fleet" scenario does where it applies, plus the parent's and the children's history
 * events, and the size of the parent's status (JSON of the status query).
 */
import { temporal } from '@temporalio/proto';
import { approveUpdate, campaignStatusQuery, decideUpdate, type CampaignSpec, type CampaignStatus, type StageSpec } from '../../src/api';
import { startCampaign } from '../../src/client';
import { DAY_MS, MINUTE_MS as MINUTE } from '../../src/domain/duration';
import { resolveCampaignSpec } from '../../src/input';
import { demoFleet } from '../../sim';
import type { SeedInstance } from '../../sim';
import { formatMaintenanceWindow } from '../../sim';
import { FROM_VERSION, REGION, TARGET_VERSION } from '../../dev/fixtures';
import { nextWholeMinute, sleep } from '../../dev/time';
import type { SimAdminClient } from '../../sim';
import { APPROVER } from '../fleet';
import { CallLog, EventType, ResourceSampler, costPerWorkflow, countByStatus, countEvents, durableSleeps, eventCounts, eventMs, isEvent, medianCounts, round, Metrics, type AwsCalls, type EventCounts, type History, type IdleRate, type Latencies, type Resources } from '../measure';
import { median } from '../metrics';
import type { BenchOptions } from '../options';
import { sizeOf, type BenchScenario } from '../scenario';
import { createCampaignWorker, listAll, log, pool, type BenchStack } from '../stack';
import { scenario as idleStack } from './idle';

const ENVS = ['preview', 'staging', 'production'] as const;
type Env = (typeof ENVS)[number];

/** The spec's maximum for waves.maxConcurrent (src/input/fleet.ts). */
const MAX_CONCURRENT = 100;

export interface FleetCampaignPlan {
  prefix: string;
  counts: Record<Env, number>;
  previewWaves: number;
  previewWindowsMs: number[];
  stagingConcurrency: number;
  stagingWaves: number;
  productionWindowMs: number;
  precheckBeforeSeconds: number;
  noticeSeconds: number;
}

/** Split N in thirds (preview gets the remainder first), the preview waves and every window. */
export function planFleetCampaign(prefix: string, n: number, stagingConcurrency: number, now = Date.now()): FleetCampaignPlan {
  const preview = Math.ceil(n / 3);
  const staging = Math.ceil((n - preview) / 2);
  const production = n - preview - staging;
  const previewWaves = Math.ceil(preview / MAX_CONCURRENT);
  const perWave = Math.ceil(preview / previewWaves);
  // Windows are whole minutes; a wave must start all its children and arm every flag before its window.
  const gapMs = perWave <= 20 ? MINUTE : 2 * MINUTE;
  const first = nextWholeMinute(45_000 + 400 * perWave, now);
  const previewWindowsMs = Array.from({ length: previewWaves }, (_, i) => first + i * gapMs);
  const stagingWaves = Math.ceil(staging / stagingConcurrency);
  // Estimated: the last preview wave ends ~1 min after its window; a staging wave ~45 s (serial child
  // starts + upgrade 3.5 s + probe settle + stop check; 10 took 10 s at N=30) plus 0.4 s per instance of the wave.
  const stagingEndMs = previewWindowsMs[previewWaves - 1] + MINUTE + stagingWaves * (35_000 + 400 * Math.min(staging, stagingConcurrency));
  // The parent starts a window group's children one by one at the pre-check instant; each must have its
  // flag on before the window opens.
  const precheckBeforeSeconds = Math.max(30, Math.ceil(20 + 0.5 * production));
  // The notice must be longer than the pre-check (spec rule); the window at least the notice after staging ends.
  const noticeSeconds = precheckBeforeSeconds + 20;
  const productionWindowMs = nextWholeMinute(stagingEndMs - now + noticeSeconds * 1000 + 60_000, now);
  return { prefix, counts: { preview, staging, production }, previewWaves, previewWindowsMs, stagingConcurrency, stagingWaves, productionWindowMs, precheckBeforeSeconds, noticeSeconds };
}

export const fleetInstanceId = (prefix: string, env: Env, i: number) => `${prefix}-${env}-${i}`;

/** N instances tagged environment=preview|staging|production (and wave=k for preview), each with its window. */
export function fleetCampaignSeed(p: FleetCampaignPlan): SeedInstance[] {
  const out: SeedInstance[] = [];
  const perWave = Math.ceil(p.counts.preview / p.previewWaves);
  for (const env of ENVS) {
    for (let i = 0; i < p.counts[env]; i++) {
      const wave = Math.floor(i / perWave);
      const windowAt = env === 'preview' ? p.previewWindowsMs[wave] : env === 'production' ? p.productionWindowMs : p.previewWindowsMs[0] + 3 * DAY_MS;
      out.push({
        region: REGION,
        id: fleetInstanceId(p.prefix, env, i),
        engineVersion: FROM_VERSION,
        instanceClass: 'db.t4g.medium',
        autoMinorVersionUpgrade: false,
        backupRetentionPeriod: 7,
        allocatedStorage: 20,
        // staging's window is days away: it is upgraded now, not in a window
        preferredMaintenanceWindow: formatMaintenanceWindow(windowAt, 30),
        tags: { environment: env, bench: p.prefix, ...(env === 'preview' ? { wave: String(wave + 1) } : {}) },
      });
    }
  }
  return out;
}

/** The one campaign: three fleet stages selecting by tag, the bench's compressed timings. */
export function fleetCampaignSpec(p: FleetCampaignPlan, admin: SimAdminClient, pollInterval: string): CampaignSpec {
  const tags = (env: Env) => ({ environment: env, bench: p.prefix });
  // `{instanceId}` must reach the spec unencoded: each instance's own status endpoint.
  const probeUrl = admin.appStatusUrl(REGION, 'INSTANCE-ID-PLACEHOLDER').replace('INSTANCE-ID-PLACEHOLDER', '{instanceId}');
  const stages: StageSpec[] = [
    { name: 'preview', region: REGION, select: { tags: tags('preview') }, waves: { maxConcurrent: MAX_CONCURRENT, order: { tag: 'wave' } }, method: 'maintenance-window', grace: '2m' },
    {
      name: 'staging',
      region: REGION,
      select: { tags: tags('staging') },
      waves: { maxConcurrent: p.stagingConcurrency },
      method: 'apply-now',
      probe: { url: probeUrl, ratePerSecond: 1, requestTimeoutMs: 1000, settle: '2s', maxDuration: '5m' },
    },
    {
      name: 'production',
      region: REGION,
      select: { tags: tags('production') },
      method: 'maintenance-window',
      notice: { minimum: `${p.noticeSeconds}s`, overrideReason: 'BENCH ONLY: compressed timings' },
      precheckBefore: `${p.precheckBeforeSeconds}s`,
      grace: '2m',
    },
  ];
  return { campaignId: `${p.prefix}-campaign`, targetEngineVersion: TARGET_VERSION, requester: 'bench-requester', stages, approval: { reminderInterval: '10m' }, pollInterval };
}

export interface FleetCampaignResult {
  instances: number;
  perStage: Record<Env, number>;
  campaignState: string;
  campaignWorkflowStatus: string;
  instanceStates: Record<string, number>;
  failedInstances: number;
  childWorkflows: { total: number; byStatus: Record<string, number> };
  wallSeconds: number;
  schedule: {
    leadSeconds: number;
    previewWindowsAt: string[];
    productionWindowAt: string;
    precheckBeforeSeconds: number;
    noticeSeconds: number;
    stagingConcurrency: number;
    stages: Record<string, { startedAt?: string; endedAt?: string; seconds?: number; waves?: number }>;
    approvalAskedAt?: string;
    approvedAt?: string;
    productionPlan?: string;
    drainAfterProductionWindowSeconds?: number;
  };
  perInstanceSeconds: { p50?: number; max?: number };
  cpu: { workerPlusServerSeconds: number; perInstanceMs: number; perInstanceMinusIdleMs: number };
  history: {
    maxWorkflowEvents: number;
    /** Batch workflows (upgradeFleetBatch): 0 for runs before batches. */
    batches: number;
    parentEvents: number;
    parentBytes: number;
    childEvents: { children: number; total: number; min: number; p50: number; max: number; byStage: Record<string, { children: number; p50: number; total: number }> };
    childHistoriesFetched: number;
    childCounts: EventCounts;
    parentCounts: EventCounts & { childrenStarted: number };
    /** Per stage, each burst of child starts (the parent starts a wave's children one by one): children, first to last ChildWorkflowExecutionStarted. */
    childStartBursts: Record<string, { children: number; seconds: number; msPerChild: number }[]>;
    totalEvents: number;
    totalEventsPerInstance: number;
  };
  statusBytes: { final: number; max: number; atApproval?: number; queries: number; queryMsP50?: number; queryMsMax?: number };
  latencyMs: Latencies;
  resources: Resources;
  aws: AwsCalls;
  notes: string[];
}

/** Child starts per stage, split where 5 s pass without one (a wave's children are started one by one). */
export function startBursts(events: temporal.api.history.v1.IHistoryEvent[]): Record<string, { children: number; seconds: number; msPerChild: number }[]> {
  const out: Record<string, { children: number; seconds: number; msPerChild: number }[]> = {};
  let last: { stage: string; first: number; at: number; children: number } | undefined;
  const close = () => {
    if (!last) return;
    const seconds = (last.at - last.first) / 1000;
    (out[last.stage] ??= []).push({ children: last.children, seconds: round(seconds, 1)!, msPerChild: Math.round((seconds * 1000) / Math.max(1, last.children - 1)) });
  };
  for (const e of events) {
    if (!isEvent(e, EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED)) continue;
    const stage = (e.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId ?? '').split('/')[1] ?? '?';
    const at = eventMs(e);
    if (last && last.stage === stage && at - last.at < 5000) {
      last.at = at;
      last.children++;
    } else {
      close();
      last = { stage, first: at, at, children: 1 };
    }
  }
  close();
  return out;
}

export interface FleetCampaignRun {
  result: FleetCampaignResult;
  parentHistory: History;
}

export async function runFleetCampaign(h: BenchStack, n: number, opts: BenchOptions, runTag: string, idle: IdleRate): Promise<FleetCampaignRun> {
  const prefix = `fc${runTag}n${n}`;
  const taskQueue = `bench-fleet-campaign-${runTag}-${n}`;
  const notes: string[] = [];
  const plan = planFleetCampaign(prefix, n, opts.stagingConcurrency);
  const iso = (ms: number) => new Date(ms).toISOString();
  log(
    `fleet-campaign N=${n}: one campaign, preview ${plan.counts.preview} (${plan.previewWaves} wave(s), windows ${plan.previewWindowsMs.map((w) => iso(w).slice(11, 16)).join(', ')}), ` +
      `staging ${plan.counts.staging} (${plan.stagingWaves} wave(s) of ${plan.stagingConcurrency}), production ${plan.counts.production} (window ${iso(plan.productionWindowMs).slice(11, 16)}, pre-check ${plan.precheckBeforeSeconds} s before, notice ${plan.noticeSeconds} s)`,
  );

  const spec = resolveCampaignSpec(fleetCampaignSpec(plan, h.admin, opts.pollInterval));
  const catalogue = demoFleet(Date.now()).catalogue;
  await h.admin.seed({ reset: true, catalogue, instances: fleetCampaignSeed(plan) });

  const worker = await createCampaignWorker(h, taskQueue);
  const running = worker.run();

  const calls = new CallLog(h.admin, new RegExp(`(${prefix}-(?:preview|staging|production)-\\d+)`));
  await calls.startFromNow();
  const before = await h.metrics.scrape();
  const sampler = new ResourceSampler(h.serverPid, h.simPid);
  const t0 = Date.now();

  const handle = await startCampaign(h.client, spec, { taskQueue });
  const parentId = handle.workflowId;

  // The driver: the parent's status every 5 s (its size; a query costs the worker CPU like the CLI's
  // `campaign status` would), an approval naming the plan it waits for, a decision if the threshold stops a stage.
  const sizes: number[] = [];
  const queryMs: number[] = [];
  let atApproval: number | undefined;
  let approvedAt: number | undefined;
  let approvalAskedAt: string | undefined;
  let productionPlan: string | undefined;
  let decisions = 0;
  const deadline = plan.productionWindowMs + opts.drainTimeoutMs;
  let lastLog = 0;
  let status: CampaignStatus | undefined;
  for (;;) {
    const tick = Date.now();
    const desc = await handle.describe();
    if (desc.status.name !== 'RUNNING') break;
    try {
      const q0 = Date.now();
      status = await handle.query(campaignStatusQuery);
      queryMs.push(Date.now() - q0);
      sizes.push(Buffer.byteLength(JSON.stringify(status)));
    } catch (err) {
      notes.push(`status query failed at ${iso(tick)}: ${(err as Error).message}`);
    }
    const w = status?.waitingFor;
    if (w?.kind === 'approval' && w.plan && approvedAt === undefined) {
      atApproval = sizes[sizes.length - 1];
      approvalAskedAt = w.askedAt;
      productionPlan = w.plan;
      const groups = status!.stages[2]?.fleet?.windowGroups ?? [];
      log(`  approval asked: ${w.plan}; window groups ${groups.map((g) => `${g.start} (${g.instances})`).join(', ')}`);
      if (groups.length !== 1 || Date.parse(groups[0].start) !== plan.productionWindowMs) {
        notes.push(`production plan is not the seeded window ${iso(plan.productionWindowMs)}: ${groups.map((g) => g.start).join(', ')} (staging ended too late?)`);
      }
      try {
        await handle.executeUpdate(approveUpdate, { args: [{ by: APPROVER, plan: w.plan, comment: 'bench auto-approval' }] });
        approvedAt = Date.now();
        log(`  approved ${((approvedAt - Date.parse(w.askedAt ?? iso(approvedAt))) / 1000).toFixed(1)} s after asked; production window in ${((plan.productionWindowMs - approvedAt) / 1000).toFixed(0)} s`);
      } catch (err) {
        notes.push(`approval refused: ${(err as Error).message}`);
      }
    } else if (w?.kind === 'decision') {
      decisions++;
      notes.push(`the campaign asked a decision (answered continue): ${w.question}`);
      await handle.executeUpdate(decideUpdate, { args: [{ by: APPROVER, decision: 'continue' }] }).catch((err) => notes.push(`decision refused: ${(err as Error).message}`));
    }
    if (tick - lastLog > 15_000 && status) {
      lastLog = tick;
      const parts = status.stages.map((s) => `${s.name} ${s.status}${s.fleet ? ` [w${s.fleet.currentWave ?? 0}/${s.fleet.waves} ${Object.entries(s.fleet.counts).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(', ')}]` : ''}`);
      log(`  ${status.state}${status.waitingFor ? ` (${status.waitingFor.kind})` : ''}: ${parts.join('; ')}; status ${Math.round(sizes[sizes.length - 1] / 1024)} KB, query ${queryMs[queryMs.length - 1]} ms`);
    }
    if (tick > deadline) {
      notes.push(`the campaign was still running ${opts.drainTimeoutMs / 60000} min after the production window: terminated`);
      await handle.terminate('bench drain timeout').catch(() => undefined);
      break;
    }
    await sleep(5000 - (Date.now() - tick));
  }
  if (decisions) notes.push(`${decisions} decision(s) answered`);

  const resources = sampler.stop();
  await sleep(1500); // let the last metrics land
  const after = await h.metrics.scrape();
  await calls.stop();

  // The final status (the closed workflow answers queries while the worker still runs).
  let finalStatus: CampaignStatus | undefined;
  try {
    const q0 = Date.now();
    finalStatus = await handle.query(campaignStatusQuery);
    queryMs.push(Date.now() - q0);
    sizes.push(Buffer.byteLength(JSON.stringify(finalStatus)));
  } catch (err) {
    notes.push(`final status query failed: ${(err as Error).message}`);
  }
  const finalDesc = await handle.describe();

  // Every workflow of the task queue: the parent and its children (they inherit its task queue).
  const infos = await listAll(h.client, `TaskQueue = '${taskQueue}'`);
  const children = infos.filter((w) => w.workflowId !== parentId);
  const childByStatus = countByStatus(children);
  const lengths = children.map((w) => w.historyLength);
  const byStage: Record<string, { children: number; p50: number; total: number }> = {};
  for (const env of ENVS) {
    const mine = children.filter((w) => w.workflowId.includes(`/${env}/`)).map((w) => w.historyLength);
    byStage[env] = { children: mine.length, p50: median(mine), total: mine.reduce((a, b) => a + b, 0) };
  }
  const perInstance = children.filter((w) => w.closeTime).map((w) => (w.closeTime!.getTime() - w.startTime.getTime()) / 1000);

  // Histories: the parent's (events, bytes), and the children's (counts, and each one's durable sleeps).
  const parentHistory = await handle.fetchHistory();
  const pe = parentHistory.events ?? [];
  const parentBytes = temporal.api.history.v1.History.encode(parentHistory).finish().length;
  const sample = opts.childHistories === 'all' ? children : children.filter((_, i) => i % Math.max(1, Math.floor(children.length / (opts.childHistories as number))) === 0);
  const counts: EventCounts[] = [];
  const sleeps = new Map<string, [number, number][]>();
  const tf = Date.now();
  await pool(sample, 20, async (w) => {
    const hist = await h.client.workflow.getHandle(w.workflowId).fetchHistory();
    const events = hist.events ?? [];
    sleeps.set(w.workflowId.split('/').pop()!, durableSleeps(events));
    counts.push(eventCounts(events));
  });
  log(`  fetched ${sample.length} child histories in ${((Date.now() - tf) / 1000).toFixed(1)} s`);
  if (sample.length < children.length) notes.push(`counts per child and AWS calls while asleep from ${sample.length} of ${children.length} child histories (--child-histories)`);

  worker.shutdown();
  await running;

  const instanceStates: Record<string, number> = {};
  const stages: FleetCampaignResult['schedule']['stages'] = {};
  for (const s of finalStatus?.stages ?? []) {
    for (const [k, v] of Object.entries(s.fleet?.counts ?? {})) instanceStates[k] = (instanceStates[k] ?? 0) + v;
    const seconds = s.startedAt && s.endedAt ? round((Date.parse(s.endedAt) - Date.parse(s.startedAt)) / 1000, 1) : undefined;
    stages[s.name] = { startedAt: s.startedAt, endedAt: s.endedAt, seconds, waves: s.fleet?.waves };
  }
  const completedInstances = (instanceStates.completed ?? 0) + (instanceStates.skipped ?? 0);
  const failedInstances = n - completedInstances;
  const firstStart = finalDesc.startTime.getTime();
  const lastClose = finalDesc.closeTime?.getTime() ?? Date.now();
  const wallSeconds = (lastClose - firstStart) / 1000;
  const cpuRaw = resources.workerCpuSeconds + resources.serverCpuSeconds;
  const childTotal = lengths.reduce((a, b) => a + b, 0);
  const result: FleetCampaignResult = {
    instances: n,
    perStage: plan.counts,
    campaignState: finalStatus?.state ?? 'unknown',
    campaignWorkflowStatus: finalDesc.status.name,
    instanceStates,
    failedInstances,
    childWorkflows: { total: children.length, byStatus: childByStatus },
    wallSeconds: round(wallSeconds, 1)!,
    schedule: {
      leadSeconds: round((plan.previewWindowsMs[0] - t0) / 1000, 0)!,
      previewWindowsAt: plan.previewWindowsMs.map(iso),
      productionWindowAt: iso(plan.productionWindowMs),
      precheckBeforeSeconds: plan.precheckBeforeSeconds,
      noticeSeconds: plan.noticeSeconds,
      stagingConcurrency: plan.stagingConcurrency,
      stages,
      approvalAskedAt,
      approvedAt: approvedAt === undefined ? undefined : iso(approvedAt),
      productionPlan,
      drainAfterProductionWindowSeconds: round((lastClose - plan.productionWindowMs) / 1000, 1),
    },
    perInstanceSeconds: { p50: round(median(perInstance), 1), max: round(Math.max(...perInstance), 1) },
    cpu: {
      workerPlusServerSeconds: round(cpuRaw, 1)!,
      perInstanceMs: Math.round(costPerWorkflow({ resources }, n) * 1000),
      perInstanceMinusIdleMs: Math.round(costPerWorkflow({ resources }, n, idle) * 1000),
    },
    history: {
      // The largest history of any workflow of the campaign (parent, batch or instance): Temporal warns at 10,240.
      maxWorkflowEvents: Math.max(pe.length, ...lengths),
      batches: children.filter((w) => w.type === 'upgradeFleetBatch').length,
      parentEvents: pe.length,
      parentBytes,
      childEvents: { children: children.length, total: childTotal, min: Math.min(...lengths), p50: median(lengths), max: Math.max(...lengths), byStage },
      childHistoriesFetched: sample.length,
      childCounts: medianCounts(counts),
      parentCounts: { ...eventCounts(pe), childrenStarted: countEvents(pe, EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED) },
      childStartBursts: startBursts(pe),
      totalEvents: pe.length + childTotal,
      totalEventsPerInstance: round((pe.length + childTotal) / n, 1)!,
    },
    statusBytes: { final: sizes[sizes.length - 1] ?? 0, max: Math.max(0, ...sizes), atApproval, queries: queryMs.length, queryMsP50: median(queryMs), queryMsMax: Math.max(...queryMs) },
    latencyMs: Metrics.latencies(before, after, taskQueue),
    resources,
    aws: calls.summary(n, sleeps),
    notes,
  };
  log(
    `  N=${n}: campaign ${result.campaignState} (${result.campaignWorkflowStatus}) in ${result.wallSeconds} s; instances ${JSON.stringify(instanceStates)}; ` +
      `worker+server CPU ${result.cpu.workerPlusServerSeconds} s = ${result.cpu.perInstanceMs} ms/instance; parent ${pe.length} events (${Math.round(parentBytes / 1024)} KB), children ${childTotal} events; status ${Math.round(result.statusBytes.final / 1024)} KB`,
  );
  return { result, parentHistory };
}

/** The table of the fleet-campaign shape, with the current shape's per-instance figures when it ran too. */
export function renderFleetCampaign(r: FleetCampaignResult[], cmp?: { n: number; cpuPerCampaignMs: number; cpuPerCampaignMinusIdleMs: number; wallSeconds: number; historyP50: number; source: string }[]): string {
  const rows: (string | number | undefined)[][] = [['', ...r.map((x) => `N=${x.instances} one campaign`)]];
  const add = (label: string, f: (x: FleetCampaignResult) => string | number | undefined) => rows.push([label, ...r.map(f)]);
  add('instances preview/staging/production', (x) => `${x.perStage.preview}/${x.perStage.staging}/${x.perStage.production}`);
  add('campaign state', (x) => `${x.campaignState} (${x.campaignWorkflowStatus})`);
  add('instances completed / failed', (x) => `${(x.instanceStates.completed ?? 0) + (x.instanceStates.skipped ?? 0)} / ${x.failedInstances}`);
  add('wall time s', (x) => x.wallSeconds);
  add('  preview / staging / production s', (x) => ['preview', 'staging', 'production'].map((s) => x.schedule.stages[s]?.seconds ?? '-').join(' / '));
  add('  waves preview / staging / production', (x) => ['preview', 'staging', 'production'].map((s) => x.schedule.stages[s]?.waves ?? '-').join(' / '));
  add('drain after prod window s', (x) => x.schedule.drainAfterProductionWindowSeconds);
  add('WFT sched-to-start p50 / p99 ms', (x) => `${x.latencyMs.wftScheduleToStart.p50} / ${x.latencyMs.wftScheduleToStart.p99}`);
  add('WFT execution p50 / p99 ms', (x) => `${x.latencyMs.wftExecution.p50} / ${x.latencyMs.wftExecution.p99}`);
  add('activity sched-to-start p99 ms', (x) => x.latencyMs.activityScheduleToStart.p99);
  add('worker CPU s / server CPU s', (x) => `${x.resources.workerCpuSeconds} / ${x.resources.serverCpuSeconds}`);
  add('worker+server CPU ms / instance', (x) => x.cpu.perInstanceMs);
  add('  same, minus idle stack CPU', (x) => x.cpu.perInstanceMinusIdleMs);
  for (const c of cmp ?? []) {
    add(`  current shape N=${c.n}: per campaign / 3`, () => `${Math.round(c.cpuPerCampaignMs / 3)} (${Math.round(c.cpuPerCampaignMinusIdleMs / 3)} minus idle; ${c.source})`);
  }
  add('simulator CPU s (% of a core)', (x) => `${x.resources.simulatorCpuSeconds} (${x.resources.simulatorCpuPercentOfOneCore}%)`);
  add('other load CPU s (machine busy %)', (x) => `${x.resources.otherCpuSeconds} (${x.resources.machineBusyPercent}%)`);
  add('worker peak RSS MB', (x) => x.resources.workerPeakRssMb);
  add('largest history of any workflow (events)', (x) => x.history.maxWorkflowEvents);
  add('batch workflows', (x) => x.history.batches);
  add('parent history events (KB)', (x) => `${x.history.parentEvents} (${Math.round(x.history.parentBytes / 1024)})`);
  add('child history events p50 (max)', (x) => `${x.history.childEvents.p50} (${x.history.childEvents.max})`);
  add('history events total (/ instance)', (x) => `${x.history.totalEvents} (${x.history.totalEventsPerInstance})`);
  add('activities + timers / child p50', (x) => `${x.history.childCounts.activitiesScheduled} + ${x.history.childCounts.timersStarted}`);
  add('child starts ms / child (per burst)', (x) => Object.entries(x.history.childStartBursts).map(([st, b]) => `${st[0]}:${b.map((y) => y.msPerChild).join(',')}`).join(' '));
  add('status JSON KB final (max)', (x) => `${round(x.statusBytes.final / 1024, 0)} (${round(x.statusBytes.max / 1024, 0)})`);
  add('status query ms p50 (max)', (x) => `${x.statusBytes.queryMsP50} (${x.statusBytes.queryMsMax})`);
  add('AWS reads / mutations per instance', (x) => `${x.aws.readsPerInstance} / ${x.aws.mutationsPerInstance}`);
  add('AWS calls while asleep (child-s)', (x) => `${x.aws.whileCampaignsSlept.awsCalls} (${x.aws.whileCampaignsSlept.campaignSecondsAsleep})`);
  add('statuspage calls', (x) => x.aws.statuspageCalls);
  const accounts = [...new Set(r.flatMap((x) => Object.keys(x.aws.rdsByAccount ?? {})))].sort();
  for (const a of accounts) {
    add(`RDS req/s acct ${a} mean/peak (10 s)`, (x) => {
      const v = x.aws.rdsByAccount?.[a];
      return v ? `${v.meanPerSecond} / ${v.peakPerSecond} (${v.peak10sPerSecond})` : undefined;
    });
    add(`  RDS requests / throttled`, (x) => {
      const v = x.aws.rdsByAccount?.[a];
      return v ? `${v.requests} / ${v.throttled}` : undefined;
    });
  }
  const cells = rows.map((row) => row.map((c) => (c === undefined ? '-' : String(c))));
  const widths = cells[0].map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  const lines = [cells.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n')];
  for (const x of r) for (const note of x.notes) lines.push(`note N=${x.instances}: ${note}`);
  return lines.join('\n');
}

export const scenario: BenchScenario<FleetCampaignRun> = {
  name: 'fleet-campaign',
  describe: 'ONE campaign of three fleet stages selecting the N instances by tag, each instance in its own child workflow (preview in waves of windows, staging apply-now under the probe, production after one approval of the plan).',
  phase: 'per-size',
  selected: (opts) => opts.shape !== 'campaigns',
  run: async (ctx, opts) => runFleetCampaign(ctx.stack, sizeOf(ctx, scenario), opts, ctx.runTag, ctx.results.need(idleStack)),
};
