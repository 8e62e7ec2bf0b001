/**
 * `npm run bench -- [--sizes 100,500,1000] [--quick] [...]`: how far one worker on this machine drives a
 * fleet-sized upgrade campaign, against the AWS simulator on an embedded Temporal dev server.
 *
 * Interpretation of "N instances each going through the three-stage upgrade": the fleet is N RDS
 * instances grouped in threes (preview, staging, production of one database), so ceil(N/3) concurrent
 * `upgradeCampaign` workflows of three stages each; every instance is upgraded by its stage's method
 * (preview: maintenance window, staging: apply-now under the availability probe, production: approved
 * and announced window). Production is approved by an update from this driver.
 *
 * Processes: this process = bench driver + the worker under test (so its RSS/CPU are the worker's plus a
 * small driver); the AWS simulator is a child process (`sim/src/main.ts`, state in memory) whose CPU is
 * measured separately; the Temporal dev server is the SDK's child process. See bench/README.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkerOptions, type WorkflowBundle } from '@temporalio/worker';
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { approveUpdate, campaignWorkflowId, type CampaignSpec } from '../src/api';
import { createActivities, createNotifyActivities } from '../src/activities';
import { loadConfig, type Config } from '../src/config';
import { ALL_SEARCH_ATTRIBUTES } from '../src/search-attributes';
import { SimAdminClient } from '../sim/src/client';
import { demoFleet } from '../sim/src/seed';
import type { CallRecord, SeedInstance } from '../sim/src/types';
import { formatMaintenanceWindow } from '../sim/src/window';
import { PROJECT_ROOT, temporalExecutable } from '../src/temporal-binaries';
import { WORKFLOWS_PATH } from '../src/worker';
import {
  childProcesses,
  histogramDelta,
  histogramQuantile,
  loadAverage,
  machineCpu,
  median,
  metricNames,
  quantile,
  readHistogram,
  readProcStat,
  type HistogramSnapshot,
} from './metrics';

type History = temporal.api.history.v1.IHistory;

const MINUTE = 60_000;
const REGION = 'eu-west-2';
const FROM = '15.5';
const TARGET = '15.8';
const REQUESTER = 'bench-requester';
const APPROVER = 'bench-approver';
const BASELINE_WORKFLOWS_PATH = require.resolve('./baseline-workflows');

// ------------------------------------------------------------------------------------------ options

interface BenchOptions {
  sizes: number[];
  quick: boolean;
  /** Simulator --speed: divides status durations (upgrade 30 s → 3 s at 10). */
  speed: number;
  pollInterval: string;
  replays: number;
  resumeCampaigns: number;
  baseline: boolean;
  resume: boolean;
  replay: boolean;
  outDir: string;
  /** Give up on a fleet this long after its production window opened. */
  drainTimeoutMs: number;
}

const USAGE = `usage: npm run bench -- [--sizes 100,500,1000] [--quick] [--speed 10] [--poll 2s] [--replays 50]
       [--resume-campaigns 10] [--no-baseline] [--no-resume] [--no-replay] [--out bench/results]
  --quick   one small fleet (30 instances), 10 replays, 3 resumed campaigns: a smoke run of every phase (~5.5 min)`;

export function parseArgs(argv: string[]): BenchOptions {
  const o: BenchOptions = {
    sizes: [100, 500, 1000],
    quick: false,
    speed: 10,
    pollInterval: '2s',
    replays: 50,
    resumeCampaigns: 10,
    baseline: true,
    resume: true,
    replay: true,
    outDir: path.join(PROJECT_ROOT, 'bench', 'results'),
    drainTimeoutMs: 10 * MINUTE,
  };
  let sizesGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    const int = (v: string, min: number) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) throw new Error(`${a} ${v}: expected an integer >= ${min}\n${USAGE}`);
      return n;
    };
    if (a === '--sizes') {
      o.sizes = next().split(',').map((s) => int(s.trim(), 3));
      sizesGiven = true;
    } else if (a === '--quick') o.quick = true;
    else if (a === '--speed') o.speed = Number(next());
    else if (a === '--poll') o.pollInterval = next();
    else if (a === '--replays') o.replays = int(next(), 1);
    else if (a === '--resume-campaigns') o.resumeCampaigns = int(next(), 1);
    else if (a === '--no-baseline') o.baseline = false;
    else if (a === '--no-resume') o.resume = false;
    else if (a === '--no-replay') o.replay = false;
    else if (a === '--out') o.outDir = path.resolve(next());
    else if (a === '--help' || a === '-h') throw new Error(USAGE);
    else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  if (o.quick) {
    if (!sizesGiven) o.sizes = [30];
    o.replays = Math.min(o.replays, 10);
    o.resumeCampaigns = Math.min(o.resumeCampaigns, 3);
  }
  if (!(o.speed > 0)) throw new Error(`--speed must be > 0\n${USAGE}`);
  return o;
}

// ------------------------------------------------------------------------------------------ helpers

const sleepMs = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const round = (x: number | undefined, d = 1) => (x === undefined || !Number.isFinite(x) ? undefined : Math.round(x * 10 ** d) / 10 ** d);
const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

async function listAll(client: Client, query: string): Promise<WorkflowExecutionInfo[]> {
  const out: WorkflowExecutionInfo[] = [];
  for await (const w of client.workflow.list({ query })) out.push(w);
  return out;
}

async function count(client: Client, query: string): Promise<number> {
  return (await client.workflow.count(query)).count;
}

function eventMs(e: temporal.api.history.v1.IHistoryEvent): number {
  const t = e.eventTime!;
  return Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6);
}

const EventType = temporal.api.enums.v1.EventType;

function isEvent(e: temporal.api.history.v1.IHistoryEvent, type: temporal.api.enums.v1.EventType): boolean {
  return e.eventType === type;
}

// ------------------------------------------------------------------------------------------ measurement

/** CPU and memory of this process (worker + driver), the dev server and the simulator, and the machine. */
class ResourceSampler {
  private timer?: NodeJS.Timeout;
  peakRss = 0;
  readonly startRss = process.memoryUsage().rss;
  peakServerRss = 0;
  peakSimRss = 0;
  private readonly start: { self: NodeJS.CpuUsage; server: number; sim: number; machine: { busySeconds: number; totalSeconds: number }; wall: number };

  constructor(
    private readonly serverPid: number | undefined,
    private readonly simPid: number | undefined,
  ) {
    this.start = {
      self: process.cpuUsage(),
      server: this.cpu(serverPid),
      sim: this.cpu(simPid),
      machine: machineCpu(),
      wall: Date.now(),
    };
    this.sample();
    this.timer = setInterval(() => this.sample(), 250);
  }

  private cpu(pid: number | undefined): number {
    return pid ? (readProcStat(pid)?.cpuSeconds ?? 0) : 0;
  }

  private sample(): void {
    this.peakRss = Math.max(this.peakRss, process.memoryUsage().rss);
    if (this.serverPid) this.peakServerRss = Math.max(this.peakServerRss, readProcStat(this.serverPid)?.rssBytes ?? 0);
    if (this.simPid) this.peakSimRss = Math.max(this.peakSimRss, readProcStat(this.simPid)?.rssBytes ?? 0);
  }

  stop() {
    clearInterval(this.timer);
    this.sample();
    const self = process.cpuUsage(this.start.self);
    const m = machineCpu();
    const wallSeconds = (Date.now() - this.start.wall) / 1000;
    const workerCpu = (self.user + self.system) / 1e6;
    const serverCpu = this.cpu(this.serverPid) - this.start.server;
    const simCpu = this.cpu(this.simPid) - this.start.sim;
    const machineBusy = m.busySeconds - this.start.machine.busySeconds;
    const cores = os.cpus().length;
    return {
      wallSeconds: round(wallSeconds, 1)!,
      workerCpuSeconds: round(workerCpu, 1)!,
      serverCpuSeconds: round(serverCpu, 1)!,
      simulatorCpuSeconds: round(simCpu, 1)!,
      /** CPU used on this machine by everything else (the other session's tests, the OS) in the same interval. */
      otherCpuSeconds: round(Math.max(0, machineBusy - workerCpu - serverCpu - simCpu), 1)!,
      machineBusyPercent: round((100 * machineBusy) / (wallSeconds * cores), 0)!,
      simulatorCpuPercentOfOneCore: round((100 * simCpu) / wallSeconds, 0)!,
      workerRssAtStartMb: mb(this.startRss),
      workerPeakRssMb: mb(this.peakRss),
      serverPeakRssMb: mb(this.peakServerRss),
      simulatorPeakRssMb: mb(this.peakSimRss),
    };
  }
}

const LATENCY_METRICS = {
  wftScheduleToStart: 'temporal_workflow_task_schedule_to_start_latency',
  wftExecution: 'temporal_workflow_task_execution_latency',
  activityScheduleToStart: 'temporal_activity_schedule_to_start_latency',
};

/** Finer latency buckets than core's defaults (100/500/1000 ms for schedule-to-start), for useful p50/p99. */
function bucketOverrides(): Record<string, number[]> {
  const buckets = [1, 2, 5, 10, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10_000, 30_000, 60_000];
  const out: Record<string, number[]> = {};
  for (const name of Object.values(LATENCY_METRICS)) {
    out[name] = buckets;
    out[name.replace(/^temporal_/, '')] = buckets;
  }
  return out;
}

class Metrics {
  constructor(readonly url: string) {}

  async scrape(): Promise<string> {
    const res = await fetch(this.url);
    return res.text();
  }

  static latencies(before: string, after: string, taskQueue: string) {
    const out: Record<string, { p50?: number; p99?: number; count: number }> = {};
    for (const [key, name] of Object.entries(LATENCY_METRICS)) {
      const h: HistogramSnapshot = histogramDelta(readHistogram(after, name, { task_queue: taskQueue }), readHistogram(before, name, { task_queue: taskQueue }));
      out[key] = { p50: round(histogramQuantile(h, 0.5), 1), p99: round(histogramQuantile(h, 0.99), 1), count: h.count };
    }
    return out;
  }
}

/** Follows the simulator's call log (it keeps only the last 20 000 calls, so it is read every second). */
class CallLog {
  private lastSeq = 0;
  /** False until a call's seq was seen: the simulator's seq keeps counting across resets. */
  private seqKnown = false;
  private timer?: NodeJS.Timeout;
  private polling?: Promise<void>;
  lost = 0;
  /** Compact: [atMs, action, isMutation, service, campaign key or ''] */
  readonly calls: [number, string, boolean, string, string][] = [];

  /** `campaignOf` extracts the campaign an instance id belongs to (from any request parameter). */
  constructor(
    private readonly admin: SimAdminClient,
    private readonly campaignOf: RegExp,
  ) {}

  pollErrors = 0;

  async startFromNow(): Promise<void> {
    const all = await this.admin.calls({ since: this.lastSeq });
    if (all.length) {
      this.lastSeq = all[all.length - 1].seq;
      this.seqKnown = true;
    }
    this.timer = setInterval(() => {
      // A poll that fails (the simulator busy under the fleet's load) is retried on the next tick from the
      // same sequence number; only an overflow of the simulator's log loses calls, and `lost` counts those.
      this.polling ??= this.poll()
        .catch(() => {
          this.pollErrors += 1;
        })
        .finally(() => (this.polling = undefined));
    }, 1000);
  }

  private async poll(): Promise<void> {
    const batch: CallRecord[] = await this.admin.calls({ since: this.lastSeq });
    if (this.seqKnown && batch.length && batch[0].seq > this.lastSeq + 1) this.lost += batch[0].seq - this.lastSeq - 1;
    if (batch.length) this.seqKnown = true;
    for (const c of batch) {
      const m = this.campaignOf.exec(Object.values(c.params).join(' '));
      this.calls.push([Date.parse(c.at), c.action, c.isMutation, c.service, m ? m[1] : '']);
    }
    if (batch.length) this.lastSeq = batch[batch.length - 1].seq;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.polling;
    await this.poll();
  }

  /** `sleeps`: per campaign key, its durable-timer intervals [started, fired] in ms. */
  summary(instances: number, sleeps: Map<string, [number, number][]>) {
    const aws = this.calls.filter((c) => c[3] !== 'statuspage');
    const reads = aws.filter((c) => !c[2]).length;
    const mutations = aws.length - reads;
    const byAction: Record<string, number> = {};
    for (const c of this.calls) byAction[`${c[3]}:${c[1]}`] = (byAction[`${c[3]}:${c[1]}`] ?? 0) + 1;
    const inSleep = aws.filter((c) => (sleeps.get(c[4]) ?? []).some(([a, b]) => c[0] > a && c[0] < b));
    const inSleepByAction: Record<string, number> = {};
    for (const c of inSleep) inSleepByAction[c[1]] = (inSleepByAction[c[1]] ?? 0) + 1;
    const sleptMs = [...sleeps.values()].flat().reduce((sum, [a, b]) => sum + (b - a), 0);
    return {
      awsCalls: aws.length,
      readsPerInstance: round(reads / instances, 2)!,
      mutationsPerInstance: round(mutations / instances, 2)!,
      statuspageCalls: this.calls.length - aws.length,
      byAction,
      lostFromLog: this.lost,
      /** AWS calls for a campaign's own instances while that campaign was in a durable timer of >= 5 s. */
      whileCampaignsSlept: {
        campaignSecondsAsleep: round(sleptMs / 1000, 0)!,
        awsCalls: inSleep.length,
        byAction: inSleepByAction,
      },
    };
  }
}

// ------------------------------------------------------------------------------------------ harness

interface Harness {
  env: TestWorkflowEnvironment;
  client: Client;
  admin: SimAdminClient;
  sim: ChildProcess;
  simUrl: string;
  serverPid?: number;
  config: Config;
  metrics: Metrics;
  campaignBundle: WorkflowBundle;
  baselineBundle: WorkflowBundle;
  bundleSeconds: number;
  metricNames: string[];
}

async function startSimulatorChild(speed: number): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(PROJECT_ROOT, 'sim/src/main.ts'), '--port', '0', '--speed', String(speed)], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Never outlive the bench, even when it dies of an unexpected error.
  process.once('exit', () => child.kill('SIGKILL'));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`simulator exited (${code}) before listening: ${out}`)));
    setTimeout(() => reject(new Error(`simulator did not start within 60 s: ${out}`)), 60_000);
  });
  return { child, url };
}

/** The bench's campaign worker: the real workflows and activities, with the bench's worker settings. */
function createCampaignWorker(h: Harness, taskQueue: string): Promise<Worker> {
  return Worker.create({
    connection: h.env.nativeConnection,
    namespace: 'default',
    taskQueue,
    workflowBundle: h.campaignBundle,
    activities: benchActivities(h.config),
    ...workerOverrides(),
  });
}

function workerOverrides(extra: Partial<WorkerOptions> = {}): Partial<WorkerOptions> {
  return {
    // Every staging stage holds one activity slot for its whole availability probe; the default of 100
    // slots would let 100 probes starve the upgrade calls they are waiting for.
    maxConcurrentActivityTaskExecutions: 1000,
    // The whole fleet stays in the sticky cache (no replays during the run).
    maxCachedWorkflows: 2000,
    shutdownGraceTime: '2s',
    ...extra,
  };
}

export const WORKER_SETTINGS = {
  maxConcurrentActivityTaskExecutions: 1000,
  maxCachedWorkflows: 2000,
  others: 'SDK defaults (maxConcurrentWorkflowTaskExecutions 40, reuseV8Context on, one workflow thread)',
};

/** Our activities, with notifications silenced (no webhook configured: they would only be console lines). */
function benchActivities(config: Config) {
  return { ...createActivities({ config }), ...createNotifyActivities({ log: () => undefined }) };
}

// ------------------------------------------------------------------------------------------ fleet run

function campaignSpec(prefix: string, i: number, admin: SimAdminClient, pollInterval: string): CampaignSpec {
  const id = (stage: string) => `${prefix}-${i}-${stage}`;
  return {
    campaignId: `${prefix}-${i}`,
    targetEngineVersion: TARGET,
    requester: REQUESTER,
    stages: [
      { name: 'preview', region: REGION, instanceId: id('preview'), method: 'maintenance-window', grace: '2m' },
      {
        name: 'staging',
        region: REGION,
        instanceId: id('staging'),
        method: 'apply-now',
        probe: { url: admin.appStatusUrl(REGION, id('staging')), ratePerSecond: 1, requestTimeoutMs: 1000, settle: '2s', maxDuration: '5m' },
      },
      {
        name: 'production',
        region: REGION,
        instanceId: id('production'),
        method: 'maintenance-window',
        notice: { minimum: '20s', overrideReason: 'BENCH ONLY: compressed timings' },
        precheckBefore: '10s',
        grace: '2m',
      },
    ],
    approval: { reminderInterval: '10m' },
    pollInterval,
  };
}

function fleetSeed(prefix: string, campaigns: number, previewMs: number, productionMs: number): SeedInstance[] {
  const out: SeedInstance[] = [];
  for (let i = 0; i < campaigns; i++) {
    for (const stage of ['preview', 'staging', 'production']) {
      out.push({
        region: REGION,
        id: `${prefix}-${i}-${stage}`,
        engineVersion: FROM,
        instanceClass: 'db.t4g.medium',
        autoMinorVersionUpgrade: false,
        backupRetentionPeriod: 7,
        // staging's window is far away: it is upgraded now, not in a window
        preferredMaintenanceWindow: formatMaintenanceWindow(stage === 'preview' ? previewMs : stage === 'production' ? productionMs : previewMs + 3 * 24 * 60 * MINUTE, 30),
        tags: { environment: stage, bench: prefix },
      });
    }
  }
  return out;
}

interface FleetResult {
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
  countsPerCampaign: { activitiesScheduled: number; timersStarted: number; workflowTasks: number };
  latencyMs: ReturnType<typeof Metrics.latencies>;
  resources: ReturnType<ResourceSampler['stop']>;
  aws: ReturnType<CallLog['summary']>;
  notes: string[];
}

async function runFleet(h: Harness, n: number, opts: BenchOptions, runTag: string): Promise<{ result: FleetResult; sampleHistory: History }> {
  const campaigns = Math.ceil(n / 3);
  const prefix = `f${runTag}n${n}`;
  const taskQueue = `bench-fleet-${runTag}-${n}`;
  const notes: string[] = [];
  // Preview windows must open after every campaign has armed AutoMinorVersionUpgrade (a window that is
  // already open is watched, but the simulator only applies work when a window opens).
  const leadMs = 40_000 + 200 * campaigns;
  const previewMs = Math.ceil((Date.now() + leadMs) / MINUTE) * MINUTE;
  const productionMs = previewMs + (campaigns <= 50 ? 2 : campaigns <= 200 ? 3 : 4) * MINUTE;
  log(`fleet N=${n}: ${campaigns} campaigns × 3 stages; preview window ${new Date(previewMs).toISOString()}, production ${new Date(productionMs).toISOString()}`);

  const catalogue = demoFleet(Date.now()).catalogue;
  await h.admin.seed({ reset: true, catalogue, instances: fleetSeed(prefix, campaigns, previewMs, productionMs) });

  const worker = await createCampaignWorker(h, taskQueue);
  const running = worker.run();

  const calls = new CallLog(h.admin, new RegExp(`(${prefix}-\\d+)-(?:preview|staging|production)`));
  await calls.startFromNow();
  const before = await h.metrics.scrape();
  const sampler = new ResourceSampler(h.serverPid, h.sim.pid);
  const t0 = Date.now();

  const ids = Array.from({ length: campaigns }, (_, i) => i);
  await pool(ids, 50, async (i) => {
    const spec = campaignSpec(prefix, i, h.admin, opts.pollInterval);
    await h.client.workflow.start('upgradeCampaign', { args: [spec], taskQueue, workflowId: campaignWorkflowId(spec.campaignId!) });
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
    await sleepMs(1000 - (Date.now() - tick));
  }
  if (approveErrors) notes.push(`${approveErrors} approval update(s) were refused (visibility lag) and retried`);

  const resources = sampler.stop();
  await sleepMs(1500); // let the last metrics land
  const after = await h.metrics.scrape();
  await calls.stop();
  worker.shutdown();
  await running;

  const infos = await listAll(h.client, q);
  const byStatus: Record<string, number> = {};
  for (const w of infos) byStatus[w.status.name] = (byStatus[w.status.name] ?? 0) + 1;
  const completed = byStatus.COMPLETED ?? 0;
  const firstStart = Math.min(...infos.map((w) => w.startTime.getTime()));
  const lastClose = Math.max(...infos.map((w) => w.closeTime?.getTime() ?? 0));
  const perCampaign = infos.filter((w) => w.closeTime).map((w) => (w.closeTime!.getTime() - w.startTime.getTime()) / 1000);
  const lengths = infos.map((w) => w.historyLength);

  // Counts per campaign, and each campaign's durable sleeps (timers of >= 5 s), from every history.
  let sampleHistory: History | undefined;
  const acts: number[] = [];
  const timers: number[] = [];
  const wfts: number[] = [];
  const sleeps = new Map<string, [number, number][]>();
  await pool(infos, 20, async (w) => {
    const hist = await h.client.workflow.getHandle(w.workflowId).fetchHistory();
    const events = hist.events ?? [];
    const started = new Map<string, number>();
    const mine: [number, number][] = [];
    for (const e of events) {
      if (isEvent(e, EventType.EVENT_TYPE_TIMER_STARTED)) started.set(e.timerStartedEventAttributes!.timerId!, eventMs(e));
      if (isEvent(e, EventType.EVENT_TYPE_TIMER_FIRED)) {
        const from = started.get(e.timerFiredEventAttributes!.timerId!);
        if (from !== undefined && eventMs(e) - from >= 5000) mine.push([from, eventMs(e)]);
      }
    }
    sleeps.set(w.workflowId.replace(/^campaign-/, ''), mine);
    if (w.status.name !== 'COMPLETED') return;
    sampleHistory ??= hist;
    const n = (t: temporal.api.enums.v1.EventType) => (hist.events ?? []).filter((e) => isEvent(e, t)).length;
    acts.push(n(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED));
    timers.push(n(EventType.EVENT_TYPE_TIMER_STARTED));
    wfts.push(n(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED));
  });
  if (!sampleHistory) throw new Error(`no campaign completed at N=${n}: ${JSON.stringify(byStatus)}`);
  const wallSeconds = (lastClose - firstStart) / 1000;
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
    countsPerCampaign: { activitiesScheduled: median(acts), timersStarted: median(timers), workflowTasks: median(wfts) },
    latencyMs: Metrics.latencies(before, after, taskQueue),
    resources,
    aws: calls.summary(campaigns * 3, sleeps),
    notes,
  };
  log(`  N=${n}: ${completed}/${campaigns} completed in ${result.wallSeconds} s; worker peak RSS ${resources.workerPeakRssMb} MB; ` +
    `WFT schedule-to-start p99 ${result.latencyMs.wftScheduleToStart.p99} ms; AWS ${result.aws.readsPerInstance} reads + ${result.aws.mutationsPerInstance} mutations per instance`);
  return { result, sampleHistory };
}

// ------------------------------------------------------------------------------------------ baseline

interface BaselineResult {
  workflows: number;
  activitiesPerWorkflow: number;
  timersPerWorkflow: number;
  timerMs: number;
  completed: number;
  wallSeconds: number;
  workflowsPerSecond: number;
  historyEvents: number;
  latencyMs: ReturnType<typeof Metrics.latencies>;
  resources: ReturnType<ResourceSampler['stop']>;
}

async function runBaseline(h: Harness, n: number, fleet: FleetResult, runTag: string): Promise<{ result: BaselineResult; sampleHistory: History }> {
  const workflows = fleet.campaigns;
  const { activitiesScheduled: activities, timersStarted: timers } = fleet.countsPerCampaign;
  const timerMs = 1000;
  const taskQueue = `bench-baseline-${runTag}-${n}`;
  log(`baseline N=${n}: ${workflows} workflows × (${activities} trivial activities + ${timers} timers of ${timerMs} ms)`);
  const worker = await Worker.create({
    connection: h.env.nativeConnection,
    namespace: 'default',
    taskQueue,
    workflowBundle: h.baselineBundle,
    activities: { trivial: async (i: number) => i },
    ...workerOverrides(),
  });
  const running = worker.run();
  const before = await h.metrics.scrape();
  const sampler = new ResourceSampler(h.serverPid, h.sim.pid);
  const handles: Promise<unknown>[] = [];
  await pool(
    Array.from({ length: workflows }, (_, i) => i),
    50,
    async (i) => {
      const handle = await h.client.workflow.start('baselineWorkflow', { args: [activities, timers, timerMs], taskQueue, workflowId: `baseline-${runTag}-${n}-${i}` });
      handles.push(handle.result());
    },
  );
  const settled = await Promise.allSettled(handles);
  const resources = sampler.stop();
  await sleepMs(1500);
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

// ------------------------------------------------------------------------------------------ replay

async function runReplay(h: Harness, history: History, replays: number, bundle: WorkflowBundle) {
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

// ------------------------------------------------------------------------------------------ resume

/**
 * Campaigns asleep towards their preview window; the worker stops; the window opens with no worker; a new
 * worker *process* (`src/worker.ts`, exactly what `npm run worker` runs: node + ts-node + bundling) starts;
 * we measure from its spawn to each campaign's next step (the ActivityTaskScheduled after the window timer).
 */
async function runResume(h: Harness, campaigns: number, opts: BenchOptions, runTag: string) {
  const prefix = `r${runTag}`;
  const taskQueue = `bench-resume-${runTag}`;
  const previewMs = Math.ceil((Date.now() + 35_000) / MINUTE) * MINUTE;
  log(`resume: ${campaigns} campaigns, preview window ${new Date(previewMs).toISOString()}`);
  await h.admin.seed({ reset: true, catalogue: demoFleet(Date.now()).catalogue, instances: fleetSeed(prefix, campaigns, previewMs, previewMs + 60 * MINUTE) });
  const worker = await createCampaignWorker(h, taskQueue);
  const running = worker.run();
  const ids: string[] = [];
  for (let i = 0; i < campaigns; i++) {
    const spec = campaignSpec(prefix, i, h.admin, opts.pollInterval);
    const id = campaignWorkflowId(spec.campaignId!);
    ids.push(id);
    await h.client.workflow.start('upgradeCampaign', { args: [spec], taskQueue, workflowId: id });
  }
  const q = `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'`;
  while ((await count(h.client, `${q} AND RdsState = 'waiting-for-window'`)) < campaigns) {
    if (Date.now() > previewMs - 2000) throw new Error('resume: campaigns did not reach their window sleep in time');
    await sleepMs(500);
  }
  worker.shutdown();
  await running;
  log('  worker stopped with every campaign asleep; waiting for the window to open without a worker');
  await sleepMs(previewMs + 3000 - Date.now());

  const spawnedAt = Date.now();
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(PROJECT_ROOT, 'src/worker.ts')], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: h.env.connection.options.address,
      TEMPORAL_NAMESPACE: 'default',
      ORCHESTRATOR_TASK_QUEUE: taskQueue,
      ORCHESTRATOR_AWS_ENDPOINT: h.simUrl,
      STATUSPAGE_BASE_URL: `${h.simUrl}/statuspage/v1`,
      STATUSPAGE_API_KEY: 'bench',
      STATUSPAGE_PAGE_ID: 'bench',
    },
  });
  let pollingAt: number | undefined;
  let childOut = '';
  child.stdout!.on('data', (d: Buffer) => {
    if (pollingAt === undefined && /worker polling/.test(d.toString())) pollingAt = Date.now();
  });
  child.stderr!.on('data', (d: Buffer) => (childOut = (childOut + d.toString()).slice(-2000)));
  try {
    const nextStep = new Map<string, number>();
    const giveUp = Date.now() + 120_000;
    while (nextStep.size < ids.length && Date.now() < giveUp) {
      for (const id of ids.filter((x) => !nextStep.has(x))) {
        const events = (await h.client.workflow.getHandle(id).fetchHistory()).events ?? [];
        const fired = events.findIndex((e) => isEvent(e, EventType.EVENT_TYPE_TIMER_FIRED));
        const next = fired >= 0 ? events.slice(fired).find((e) => isEvent(e, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)) : undefined;
        if (next) nextStep.set(id, eventMs(next));
      }
      await sleepMs(250);
    }
    if (nextStep.size < ids.length) throw new Error(`resume: only ${nextStep.size}/${ids.length} campaigns moved within 120 s of the new worker's start; worker stderr: ${childOut}`);
    const lat = [...nextStep.values()].map((t) => (t - spawnedAt) / 1000);
    const result = {
      campaigns,
      workerProcessStartToPollingSeconds: pollingAt ? round((pollingAt - spawnedAt) / 1000, 1) : undefined,
      startToNextStepSeconds: { p50: round(median(lat), 1)!, max: round(Math.max(...lat), 1)! },
      how: 'old worker shut down gracefully while every campaign slept towards its window; the window opened with no worker; a new `src/worker.ts` process was spawned; next step = the waitForInstance ActivityTaskScheduled event after the window timer fired',
    };
    log(`  new worker process polling after ${result.workerProcessStartToPollingSeconds} s; campaigns moved after p50 ${result.startToNextStepSeconds.p50} s, max ${result.startToNextStepSeconds.max} s`);
    return result;
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
    for (const id of ids) await h.client.workflow.getHandle(id).terminate('bench resume measurement done').catch(() => undefined);
  }
}

// ------------------------------------------------------------------------------------------ report

function table(rows: (string | number | undefined)[][]): string {
  const cells = rows.map((r) => r.map((c) => (c === undefined ? '-' : String(c))));
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}

function ratio(a: number | undefined, b: number | undefined): string | undefined {
  if (a === undefined || b === undefined || b === 0) return undefined;
  return `${(a / b).toFixed(2)}x`;
}

interface SizeReport {
  n: number;
  fleet: FleetResult;
  baseline?: BaselineResult;
}

interface IdleRate {
  /** worker process (driver idle loop included) + dev server CPU seconds per wall second with no workflows */
  cpuPerSecond: number;
  measuredSeconds: number;
}
let idle: IdleRate = { cpuPerSecond: 0, measuredSeconds: 0 };

function costPerWorkflow(r: { resources: { workerCpuSeconds: number; serverCpuSeconds: number; wallSeconds: number } }, workflows: number, idleAdjusted = false): number {
  const raw = r.resources.workerCpuSeconds + r.resources.serverCpuSeconds;
  return (idleAdjusted ? Math.max(0, raw - idle.cpuPerSecond * r.resources.wallSeconds) : raw) / workflows;
}

type ReplayResult = Awaited<ReturnType<typeof runReplay>>;

function render(sizes: SizeReport[], replay: ReplayResult | undefined, replayBaseline: ReplayResult | undefined, resume: Awaited<ReturnType<typeof runResume>> | undefined): string {
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
    const a = costPerWorkflow(s.fleet, s.fleet.campaigns, true) * 1000;
    const b = s.baseline ? costPerWorkflow(s.baseline, s.baseline.workflows, true) * 1000 : undefined;
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
  lines.push(table(rows));
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

// ------------------------------------------------------------------------------------------ main

export async function benchMain(argv: string[]): Promise<number> {
  let opts: BenchOptions;
  try {
    opts = parseArgs(argv);
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  const startedAt = new Date();
  const runTag = startedAt.toISOString().slice(11, 19).replace(/:/g, '');
  const metricsPort = await freePort();
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${metricsPort}`, histogramBucketOverrides: bucketOverrides() } } },
  });
  const loadBefore = loadAverage();
  log(`bench: sizes ${opts.sizes.join(', ')}${opts.quick ? ' (quick)' : ''}; load average ${loadBefore.join(' ')} on ${os.cpus().length} cores`);

  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  };
  try {
    const { child: sim, url: simUrl } = await startSimulatorChild(opts.speed);
    closers.push(async () => {
      sim.kill('SIGTERM');
      await new Promise((r) => (sim.exitCode !== null ? r(undefined) : sim.once('exit', r)));
    });
    const admin = new SimAdminClient(simUrl);
    const env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: temporalExecutable('cli'),
        ip: '127.0.0.1',
        searchAttributes: ALL_SEARCH_ATTRIBUTES,
        log: { format: 'pretty', level: 'error' },
      },
    });
    closers.push(() => env.teardown());
    const serverPid = childProcesses(process.pid).find((p) => p.pid !== sim.pid && /temporal/.test(p.comm))?.pid;
    if (!serverPid) log('warning: could not find the dev server process; its CPU and RSS are not measured');
    const config = loadConfig({
      ...process.env,
      TEMPORAL_ADDRESS: env.connection.options.address,
      ORCHESTRATOR_AWS_ENDPOINT: simUrl,
      ORCHESTRATOR_NOTIFY_WEBHOOK_URL: '',
      STATUSPAGE_BASE_URL: `${simUrl}/statuspage/v1`,
      STATUSPAGE_API_KEY: 'bench',
      STATUSPAGE_PAGE_ID: 'bench',
    });
    const tb = Date.now();
    const campaignBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('ERROR') });
    const bundleSeconds = (Date.now() - tb) / 1000;
    const baselineBundle = await bundleWorkflowCode({ workflowsPath: BASELINE_WORKFLOWS_PATH, logger: new DefaultLogger('ERROR') });
    const metrics = new Metrics(`http://127.0.0.1:${metricsPort}/metrics`);
    const h: Harness = {
      env,
      client: env.client,
      admin,
      sim,
      simUrl,
      serverPid,
      config,
      metrics,
      campaignBundle,
      baselineBundle,
      bundleSeconds,
      metricNames: [],
    };
    log(`simulator ${simUrl} (pid ${sim.pid}, speed ${opts.speed}); dev server ${env.connection.options.address} (pid ${serverPid}); workflow bundle built in ${bundleSeconds.toFixed(1)} s`);

    // What the stack burns doing nothing (dev server housekeeping, the driver's idle process), to separate a
    // campaign's own cost from the minutes it spends asleep towards windows.
    const idleWorker = await Worker.create({ connection: env.nativeConnection, namespace: 'default', taskQueue: `bench-idle-${runTag}`, workflowBundle: baselineBundle, activities: { trivial: async (i: number) => i } });
    const idleRunning = idleWorker.run();
    const idleSampler = new ResourceSampler(serverPid, sim.pid);
    await sleepMs(opts.quick ? 10_000 : 20_000);
    const idleRes = idleSampler.stop();
    idleWorker.shutdown();
    await idleRunning;
    idle = { cpuPerSecond: (idleRes.workerCpuSeconds + idleRes.serverCpuSeconds) / idleRes.wallSeconds, measuredSeconds: idleRes.wallSeconds };
    log(`idle stack (one idle worker + dev server): ${(idle.cpuPerSecond * 100).toFixed(1)}% of a core`);

    const sizes: SizeReport[] = [];
    let recorded: History | undefined;
    let recordedBaseline: History | undefined;
    for (const n of opts.sizes) {
      const { result, sampleHistory } = await runFleet(h, n, opts, runTag);
      recorded = sampleHistory;
      const report: SizeReport = { n, fleet: result };
      if (opts.baseline) {
        const b = await runBaseline(h, n, result, runTag);
        report.baseline = b.result;
        recordedBaseline = b.sampleHistory;
      }
      sizes.push(report);
    }
    h.metricNames = metricNames(await metrics.scrape()).filter((m) => /workflow_task|activity|sticky|slots/.test(m));
    const replay = opts.replay && recorded ? await runReplay(h, recorded, opts.replays, h.campaignBundle) : undefined;
    // The same measurement for a baseline history of the same shape: the floor set by the SDK itself.
    const replayBaseline = opts.replay && recordedBaseline ? await runReplay(h, recordedBaseline, opts.replays, h.baselineBundle) : undefined;
    const resume = opts.resume ? await runResume(h, opts.resumeCampaigns, opts, runTag) : undefined;

    const loadAfter = loadAverage();
    const text = render(sizes, replay, replayBaseline, resume);
    console.log('');
    console.log(text);
    console.log('');
    const out = {
      startedAt: startedAt.toISOString(),
      endedAt: new Date().toISOString(),
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGb: round(os.totalmem() / 2 ** 30, 1), node: process.version, loadAverageBefore: loadBefore, loadAverageAfter: loadAfter },
      interpretation:
        'N instances = ceil(N/3) concurrent upgradeCampaign workflows, each upgrading three instances in three stages (preview: maintenance window; staging: apply-now under the availability probe; production: auto-approved by update from the driver, announced on the status page, maintenance window). All campaigns start at once and share the same preview and production windows (the worst case for a fleet).',
      settings: {
        simulatorSpeed: opts.speed,
        pollInterval: opts.pollInterval,
        probe: '1 GET/s, settle 2s, stop check every 5s (activity default)',
        productionNotice: '20s (bench override), precheckBefore 10s',
        worker: WORKER_SETTINGS,
        notifications: 'no webhook; the notify activity runs with its console line silenced',
        processes: 'bench driver + worker in one Node process (RSS/CPU "worker" include the small driver); simulator child process, state in memory; Temporal dev server (SQLite in memory) child process',
        workflowBundleSeconds: round(bundleSeconds, 1),
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
            cpuRatioIdleAdjusted: round(costPerWorkflow(s.fleet, s.fleet.campaigns, true) / costPerWorkflow(s.baseline!, s.baseline!.workflows, true), 2),
            wftExecutionP99Ratio: round((s.fleet.latencyMs.wftExecution.p99 ?? NaN) / (s.baseline!.latencyMs.wftExecution.p99 ?? NaN), 2),
            wftScheduleToStartP99Ratio: round((s.fleet.latencyMs.wftScheduleToStart.p99 ?? NaN) / (s.baseline!.latencyMs.wftScheduleToStart.p99 ?? NaN), 2),
          })),
        replayUnder50ms: replay ? { met: replay.runReplayHistoryMs.p50 < 50, p50: replay.runReplayHistoryMs.p50 } : undefined,
        resumeWithin15s: resume ? { met: resume.startToNextStepSeconds.max <= 15, max: resume.startToNextStepSeconds.max } : undefined,
      },
      idleStack: idle,
      metricNames: h.metricNames,
      table: text,
    };
    fs.mkdirSync(opts.outDir, { recursive: true });
    const file = path.join(opts.outDir, `${startedAt.toISOString().slice(0, 10)}-${opts.quick ? 'quick-' : ''}${opts.sizes.join('-')}.json`);
    fs.writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
    log(`results written to ${path.relative(process.cwd(), file)}`);
    return 0;
  } finally {
    await close();
  }
}

if (require.main === module) {
  benchMain(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(`bench failed: ${(err as Error).stack ?? err}`);
      process.exit(1);
    },
  );
}
