/**
 * The bench's report: the table printed at the end, and the JSON written to bench/results (settings,
 * every figure, the verdict against the targets, the table itself). One report per shape: `campaigns`
 * (`<date>-[quick-]<sizes>.json`) and `fleet-campaign`/`both` (`<date>-fleet-campaign-<sizes>.json`), each
 * read from the results of the scenarios that ran (bench/scenario.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { costPerWorkflow, round, type IdleRate } from './measure';
import type { BenchOptions } from './options';
import type { ScenarioResults } from './scenario';
import { scenario as baselineScenario, type BaselineResult } from './scenarios/baseline';
import { scenario as fleetScenario, type FleetResult } from './scenarios/fleet';
import { renderFleetCampaign, scenario as fleetCampaignScenario, type FleetCampaignResult } from './scenarios/fleet-campaign';
import { scenario as idleScenario } from './scenarios/idle';
import { scenario as replayScenario, type ReplayResult } from './scenarios/replay';
import { scenario as resumeScenario, type ResumeResult } from './scenarios/resume';
import { WORKER_SETTINGS } from './stack';

function table(rows: (string | number | undefined)[][]): string {
  const cells = rows.map((r) => r.map((c) => (c === undefined ? '-' : String(c))));
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}

function ratio(a: number | undefined, b: number | undefined): string | undefined {
  if (a === undefined || b === undefined || b === 0) return undefined;
  return `${(a / b).toFixed(2)}x`;
}

export interface SizeReport {
  n: number;
  fleet: FleetResult;
  baseline?: BaselineResult;
}

/** Per size the fleet ran at, its result and the baseline's at the same size when that ran. */
export function sizeReports(results: ScenarioResults): SizeReport[] {
  return results.perSize(fleetScenario).map(({ n, result }) => {
    const report: SizeReport = { n, fleet: result.result };
    const baseline = results.of(baselineScenario, n);
    if (baseline) report.baseline = baseline.result;
    return report;
  });
}

/** One line on the RDS API settings: the simulator's bucket and the worker's budget. */
export function describeRdsApi(opts: Pick<BenchOptions, 'rdsThrottle' | 'rdsBudget'>): string {
  const bucket = opts.rdsThrottle
    ? `simulator throttles RDS with a token bucket of ${opts.rdsThrottle.burst} burst + ${opts.rdsThrottle.ratePerSecond}/s per account and region`
    : 'simulator does not throttle RDS (--rds-throttle off)';
  const budget = opts.rdsBudget ? `worker budget ${opts.rdsBudget} requests/s per account and region, evenly spaced (burst 1)` : 'no worker budget';
  return `${bucket}; ${budget}`;
}

/** The accounts that made RDS calls in any size, in order. */
function rdsAccounts(sizes: SizeReport[]): string[] {
  return [...new Set(sizes.flatMap((s) => Object.keys(s.fleet.aws.rdsByAccount ?? {})))].sort();
}

/** Per size: every account's RDS rates within the budget (mean and peak second), nothing throttled, no failed campaign. */
export function budgetVerdict(s: SizeReport, budget: number | undefined) {
  const accounts = Object.entries(s.fleet.aws.rdsByAccount ?? {});
  const failed = s.fleet.campaigns - s.fleet.completed;
  return {
    n: s.n,
    budget,
    failedCampaigns: failed,
    throttled: accounts.reduce((sum, [, r]) => sum + r.throttled, 0),
    perAccount: Object.fromEntries(accounts.map(([a, r]) => [a, { mean: r.meanPerSecond, peak: r.peakPerSecond, peak10s: r.peak10sPerSecond, throttled: r.throttled }])),
    met: budget !== undefined && failed === 0 && accounts.every(([, r]) => r.meanPerSecond <= budget && r.peakPerSecond <= budget),
  };
}

/** The table printed at the end (and kept in the JSON). */
export function render(
  sizes: SizeReport[],
  idle: IdleRate,
  replay: ReplayResult | undefined,
  replayBaseline: ReplayResult | undefined,
  resume: ResumeResult | undefined,
  opts?: Pick<BenchOptions, 'rdsThrottle' | 'rdsBudget'>,
): string {
  const lines: string[] = [];
  const rows: (string | number | undefined)[][] = [
    ['', ...sizes.flatMap((s) => [`N=${s.n} campaign`, 'baseline', 'ratio'])],
  ];
  const add = (label: string, f: (s: SizeReport) => [number | string | undefined, number | string | undefined, string | undefined]) =>
    rows.push([label, ...sizes.flatMap((s) => f(s))]);
  add('instances / workflows', (s) => [`${s.fleet.instances} / ${s.fleet.campaigns}`, s.baseline?.workflows, undefined]);
  add('completed', (s) => [s.fleet.completed, s.baseline?.completed, undefined]);
  add('wall time s', (s) => [s.fleet.wallSeconds, s.baseline?.wallSeconds, undefined]);
  add('drain after prod window s', (s) => [s.fleet.schedule.drainAfterProductionWindowSeconds, undefined, undefined]);
  add('workflows completed /s', (s) => [s.fleet.workflowsPerSecond, s.baseline?.workflowsPerSecond, undefined]);
  add('WFT sched-to-start p50 ms', (s) => [s.fleet.latencyMs.wftScheduleToStart.p50, s.baseline?.latencyMs.wftScheduleToStart.p50, ratio(s.fleet.latencyMs.wftScheduleToStart.p50, s.baseline?.latencyMs.wftScheduleToStart.p50)]);
  add('WFT sched-to-start p99 ms', (s) => [s.fleet.latencyMs.wftScheduleToStart.p99, s.baseline?.latencyMs.wftScheduleToStart.p99, ratio(s.fleet.latencyMs.wftScheduleToStart.p99, s.baseline?.latencyMs.wftScheduleToStart.p99)]);
  add('WFT execution p50 ms', (s) => [s.fleet.latencyMs.wftExecution.p50, s.baseline?.latencyMs.wftExecution.p50, ratio(s.fleet.latencyMs.wftExecution.p50, s.baseline?.latencyMs.wftExecution.p50)]);
  add('WFT execution p99 ms', (s) => [s.fleet.latencyMs.wftExecution.p99, s.baseline?.latencyMs.wftExecution.p99, ratio(s.fleet.latencyMs.wftExecution.p99, s.baseline?.latencyMs.wftExecution.p99)]);
  add('activity sched-to-start p99 ms', (s) => [s.fleet.latencyMs.activityScheduleToStart.p99, s.baseline?.latencyMs.activityScheduleToStart.p99, undefined]);
  add('worker CPU s', (s) => [s.fleet.resources.workerCpuSeconds, s.baseline?.resources.workerCpuSeconds, undefined]);
  add('server CPU s', (s) => [s.fleet.resources.serverCpuSeconds, s.baseline?.resources.serverCpuSeconds, undefined]);
  add('worker+server CPU ms / workflow', (s) => {
    const a = costPerWorkflow(s.fleet, s.fleet.campaigns) * 1000;
    const b = s.baseline ? costPerWorkflow(s.baseline, s.baseline.workflows) * 1000 : undefined;
    return [Math.round(a), b === undefined ? undefined : Math.round(b), ratio(a, b)];
  });
  add('  same, minus idle stack CPU', (s) => {
    const a = costPerWorkflow(s.fleet, s.fleet.campaigns, idle) * 1000;
    const b = s.baseline ? costPerWorkflow(s.baseline, s.baseline.workflows, idle) * 1000 : undefined;
    return [Math.round(a), b === undefined ? undefined : Math.round(b), ratio(a, b)];
  });
  add('simulator CPU s (% of a core)', (s) => [`${s.fleet.resources.simulatorCpuSeconds} (${s.fleet.resources.simulatorCpuPercentOfOneCore}%)`, undefined, undefined]);
  add('other load CPU s (machine busy %)', (s) => [`${s.fleet.resources.otherCpuSeconds} (${s.fleet.resources.machineBusyPercent}%)`, s.baseline ? `${s.baseline.resources.otherCpuSeconds} (${s.baseline.resources.machineBusyPercent}%)` : undefined, undefined]);
  add('worker peak RSS MB', (s) => [s.fleet.resources.workerPeakRssMb, s.baseline?.resources.workerPeakRssMb, undefined]);
  add('history events / workflow p50', (s) => [s.fleet.historyEvents.p50, s.baseline?.historyEvents, undefined]);
  add('activities + timers / workflow', (s) => [`${s.fleet.countsPerCampaign.activitiesScheduled} + ${s.fleet.countsPerCampaign.timersStarted}`, s.baseline ? `${s.baseline.activitiesPerWorkflow} + ${s.baseline.timersPerWorkflow}` : undefined, undefined]);
  add('AWS reads / instance', (s) => [s.fleet.aws.readsPerInstance, undefined, undefined]);
  add('AWS mutations / instance', (s) => [s.fleet.aws.mutationsPerInstance, undefined, undefined]);
  add('AWS calls while asleep (campaign-s)', (s) => [`${s.fleet.aws.whileCampaignsSlept.awsCalls} (${s.fleet.aws.whileCampaignsSlept.campaignSecondsAsleep})`, undefined, undefined]);
  add('failed campaigns', (s) => [s.fleet.campaigns - s.fleet.completed, undefined, undefined]);
  for (const account of rdsAccounts(sizes)) {
    const r = (s: SizeReport) => s.fleet.aws.rdsByAccount?.[account];
    add(`RDS req/s acct ${account} mean/peak`, (s) => [r(s) ? `${r(s)!.meanPerSecond} / ${r(s)!.peakPerSecond}` : undefined, undefined, undefined]);
    add(`  peak 10 s mean req/s`, (s) => [r(s)?.peak10sPerSecond, undefined, undefined]);
    add(`  RDS requests / throttled`, (s) => [r(s) ? `${r(s)!.requests} / ${r(s)!.throttled}` : undefined, undefined, undefined]);
  }
  lines.push(table(rows));
  if (opts) lines.push(`RDS API: ${describeRdsApi(opts)}`);
  for (const s of sizes) for (const note of s.fleet.notes) lines.push(`note N=${s.n}: ${note}`);
  if (replay) {
    lines.push('');
    lines.push(`Replay of a full campaign history (${replay.historyEvents} events, ${replay.runs} runs): Worker.runReplayHistory p50 ${replay.runReplayHistoryMs.p50} ms ` +
      `(p90 ${replay.runReplayHistoryMs.p90}, min ${replay.runReplayHistoryMs.min}); per history inside one replay worker p50 ${replay.perHistoryInOneReplayWorkerMs.p50} ms`);
  }
  if (replayBaseline) {
    lines.push(`Replay of a baseline history (${replayBaseline.historyEvents} events, same count of activities and timers): Worker.runReplayHistory p50 ${replayBaseline.runReplayHistoryMs.p50} ms ` +
      `(min ${replayBaseline.runReplayHistoryMs.min}); per history inside one replay worker p50 ${replayBaseline.perHistoryInOneReplayWorkerMs.p50} ms`);
  }
  if (resume) {
    lines.push(`Resume (${resume.campaigns} campaigns): new worker process polling after ${resume.workerProcessStartToPollingSeconds} s; ` +
      `next step after p50 ${resume.startToNextStepSeconds.p50} s, max ${resume.startToNextStepSeconds.max} s from its spawn`);
  }
  return lines.join('\n');
}

export interface BenchRun {
  opts: BenchOptions;
  startedAt: Date;
  loadBefore: number[];
  loadAfter: number[];
  bundleSeconds: number;
  sizes: SizeReport[];
  idle: IdleRate;
  replay?: ReplayResult;
  replayBaseline?: ReplayResult;
  resume?: ResumeResult;
  metricNames: string[];
  table: string;
}

/** Everything measured, the settings it was measured with, and the verdict against the targets. */
export function resultsDocument(run: BenchRun) {
  const { opts, startedAt, loadBefore, loadAfter, sizes, idle, replay, replayBaseline, resume, metricNames } = run;
  return {
    startedAt: startedAt.toISOString(),
    endedAt: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGb: round(os.totalmem() / 2 ** 30, 1), node: process.version, loadAverageBefore: loadBefore, loadAverageAfter: loadAfter },
    interpretation:
      'N instances = ceil(N/3) concurrent upgradeCampaign workflows, each upgrading three instances in three stages (preview: maintenance window; staging: apply-now under the availability probe; production: auto-approved by update from the driver, announced on the status page, maintenance window). All campaigns start at once and share the same preview and production windows (the worst case for a fleet).',
    settings: {
      simulatorSpeed: opts.speed,
      pollInterval: opts.pollInterval,
      probe: '1 GET/s, settle 2s, stop check every 5s (activity default)',
      productionNotice: '60s (bench override), precheckBefore 45s',
      worker: WORKER_SETTINGS,
      notifications: 'no webhook; the notify activity runs with its console line silenced',
      processes: 'bench driver + worker in one Node process (RSS/CPU "worker" include the small driver); simulator child process, state in memory; Temporal dev server (SQLite in memory) child process',
      workflowBundleSeconds: round(run.bundleSeconds, 1),
      rdsApi: { simulatorBucket: opts.rdsThrottle ?? null, workerBudgetPerSecond: opts.rdsBudget ?? null, workerBurst: opts.rdsBudget ? 1 : null, describe: describeRdsApi(opts) },
    },
    sizes,
    replay,
    replayBaseline,
    resume,
    targets: {
      thousandInstances: sizes.find((s) => s.n >= 1000)
        ? { met: sizes.filter((s) => s.n >= 1000).every((s) => s.fleet.completed === s.fleet.campaigns), detail: 'every campaign of the 1000-instance fleet completed' }
        : { met: undefined, detail: 'no size >= 1000 in this run' },
      costAtMost1_5xBaseline: sizes
        .filter((s) => s.baseline)
        .map((s) => ({
          n: s.n,
          cpuRatio: round(costPerWorkflow(s.fleet, s.fleet.campaigns) / costPerWorkflow(s.baseline!, s.baseline!.workflows), 2),
          cpuRatioIdleAdjusted: round(costPerWorkflow(s.fleet, s.fleet.campaigns, idle) / costPerWorkflow(s.baseline!, s.baseline!.workflows, idle), 2),
          wftExecutionP99Ratio: round((s.fleet.latencyMs.wftExecution.p99 ?? NaN) / (s.baseline!.latencyMs.wftExecution.p99 ?? NaN), 2),
          wftScheduleToStartP99Ratio: round((s.fleet.latencyMs.wftScheduleToStart.p99 ?? NaN) / (s.baseline!.latencyMs.wftScheduleToStart.p99 ?? NaN), 2),
        })),
      replayUnder50ms: replay ? { met: replay.runReplayHistoryMs.p50 < 50, p50: replay.runReplayHistoryMs.p50 } : undefined,
      rdsApiBudget: opts.rdsThrottle
        ? {
            detail: 'with the simulator throttling RDS: zero failed campaigns, and every account\'s RDS request rate (mean over its span, and its busiest second) at or under the worker budget',
            sizes: sizes.map((s) => budgetVerdict(s, opts.rdsBudget)),
          }
        : { met: undefined, detail: 'the simulator did not throttle in this run (--rds-throttle off)', sizes: sizes.map((s) => budgetVerdict(s, opts.rdsBudget)) },
      resumeWithin15s: resume ? { met: resume.startToNextStepSeconds.max <= 15, max: resume.startToNextStepSeconds.max } : undefined,
    },
    idleStack: idle,
    metricNames,
    table: run.table,
  };
}

/** Writes the results to `<outDir>/<date>-[quick-]<sizes>.json`; returns the file's path. */
export function writeResults(run: BenchRun): string {
  fs.mkdirSync(run.opts.outDir, { recursive: true });
  const file = path.join(run.opts.outDir, `${run.startedAt.toISOString().slice(0, 10)}-${run.opts.quick ? 'quick-' : ''}${run.opts.sizes.join('-')}.json`);
  fs.writeFileSync(file, `${JSON.stringify(resultsDocument(run), null, 2)}\n`);
  return file;
}

/** The `campaigns` shape's run, from the scenarios' results. */
export function campaignsRun(results: ScenarioResults, run: Omit<BenchRun, 'sizes' | 'idle' | 'replay' | 'replayBaseline' | 'resume' | 'table'>): BenchRun {
  const sizes = sizeReports(results);
  const idle = results.need(idleScenario);
  const replays = results.of(replayScenario);
  const resume = results.of(resumeScenario);
  const table = render(sizes, idle, replays?.campaign, replays?.baseline, resume, run.opts);
  return { ...run, sizes, idle, replay: replays?.campaign, replayBaseline: replays?.baseline, resume, table };
}

// ------------------------------------------------------------------------------------ fleet-campaign shape

/** A row of the fleet-campaign table for the current shape at the same size (`--shape both`). */
export interface CurrentShapeRow {
  n: number;
  cpuPerCampaignMs: number;
  cpuPerCampaignMinusIdleMs: number;
  wallSeconds: number;
  historyP50: number;
  source: string;
}

export function currentShapeRow(n: number, fleet: FleetResult, idle: IdleRate): CurrentShapeRow {
  return {
    n,
    cpuPerCampaignMs: costPerWorkflow(fleet, fleet.campaigns) * 1000,
    cpuPerCampaignMinusIdleMs: costPerWorkflow(fleet, fleet.campaigns, idle) * 1000,
    wallSeconds: fleet.wallSeconds,
    historyP50: fleet.historyEvents.p50,
    source: 'this run',
  };
}

export interface FleetCampaignRunReport {
  opts: BenchOptions;
  startedAt: Date;
  loadBefore: number[];
  loadAfter: number[];
  idle: IdleRate;
  sizes: FleetCampaignResult[];
  /** The current shape at the same sizes (`--shape both`), else empty. */
  current: SizeReport[];
  table: string;
}

/** The `fleet-campaign`/`both` shape's run, from the scenarios' results. */
export function fleetCampaignRun(results: ScenarioResults, run: Pick<FleetCampaignRunReport, 'opts' | 'startedAt' | 'loadBefore' | 'loadAfter'>): FleetCampaignRunReport {
  const idle = results.need(idleScenario);
  const sizes = results.perSize(fleetCampaignScenario).map((r) => r.result.result);
  const current = sizeReports(results);
  let table = renderFleetCampaign(sizes, current.map((s) => currentShapeRow(s.n, s.fleet, idle)));
  if (current.length) table += `\n\nCurrent shape (ceil(N/3) campaigns), same run:\n${render(current, idle, undefined, undefined, undefined, run.opts)}`;
  return { ...run, idle, sizes, current, table };
}

export function fleetCampaignDocument(run: FleetCampaignRunReport) {
  const { opts, startedAt, loadBefore, loadAfter, idle, sizes, current, table } = run;
  return {
    startedAt: startedAt.toISOString(),
    endedAt: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10, node: process.version, loadAverageBefore: loadBefore, loadAverageAfter: loadAfter, shared: 'other sessions were working on the same machine: see resources.otherCpuSeconds and machineBusyPercent' },
    shape: opts.shape,
    interpretation:
      'N instances tagged environment=preview|staging|production (thirds), upgraded by ONE upgradeCampaign of three fleet stages selecting them by tag, each instance in an upgradeFleetInstance child workflow: preview in maintenance windows (waves of <= 100 by a wave tag, one compressed window per wave), staging apply-now under the availability probe (waves of --staging-concurrency), production after one approval of the whole plan (update naming status.waitingFor.plan), one window group, one announcement.',
    settings: {
      simulatorSpeed: opts.speed,
      pollInterval: opts.pollInterval,
      probe: '1 GET/s per instance, settle 2s, stop check every 5s (activity default)',
      productionNotice: 'pre-check + 20 s (bench override; the spec needs notice > precheckBefore)',
      worker: WORKER_SETTINGS,
      rdsApi: { simulatorBucket: opts.rdsThrottle ?? null, workerBudgetPerSecond: opts.rdsBudget ?? null, describe: describeRdsApi(opts) },
      stagingConcurrency: opts.stagingConcurrency,
      childHistories: opts.childHistories,
    },
    idleStack: idle,
    sizes,
    currentShape: current.length ? current : undefined,
    table,
  };
}

/** Writes the results to `<outDir>/<date>-fleet-campaign-<sizes>.json`; returns the file's path. */
export function writeFleetCampaignResults(run: FleetCampaignRunReport): string {
  fs.mkdirSync(run.opts.outDir, { recursive: true });
  const file = path.join(run.opts.outDir, `${run.startedAt.toISOString().slice(0, 10)}-fleet-campaign-${run.opts.sizes.join('-')}.json`);
  fs.writeFileSync(file, `${JSON.stringify(fleetCampaignDocument(run), null, 2)}\n`);
  return file;
}

/** Exit code of a fleet-campaign run: 0 when every campaign completed with no failed instance. */
export function fleetCampaignExitCode(sizes: FleetCampaignResult[]): number {
  return sizes.every((r) => r.failedInstances === 0 && r.campaignState === 'completed') ? 0 : 1;
}
