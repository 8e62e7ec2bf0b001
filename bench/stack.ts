/**
 * The bench's stack and what every scenario shares: the AWS simulator as a child process (its CPU is
 * measured apart), an embedded Temporal dev server (dev/), the product's Config for them, the workflow
 * bundles built once, the campaign worker with the bench's settings, and visibility helpers.
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Worker, type WorkerOptions, type WorkflowBundle } from '@temporalio/worker';
import { createActivities, createNotifyActivities } from '../src/activities';
import type { Config } from '../src/config';
import { WORKFLOWS_PATH } from '../src/worker';
import type { SimAdminClient } from '../sim';
import type { Closers } from '../dev/closers';
import { simulatorConfig, spawnSimulator } from '../dev/simulator';
import { startDevServer } from '../dev/temporal-server';
import { clockTime } from '../dev/time';
import type { TokenBucketSpec } from '../sim';
import { Metrics } from './measure';
import { childProcesses } from './metrics';

const BASELINE_WORKFLOWS_PATH = require.resolve('./baseline-workflows');

export const log = (line: string) => console.log(`[${clockTime()}] ${line}`);

export interface BenchStack {
  env: TestWorkflowEnvironment;
  client: Client;
  admin: SimAdminClient;
  simPid: number;
  simUrl: string;
  serverPid?: number;
  config: Config;
  metrics: Metrics;
  campaignBundle: WorkflowBundle;
  baselineBundle: WorkflowBundle;
  bundleSeconds: number;
}

/** The RDS API settings of a bench run: the simulator's bucket and the worker's budget (bench/README.md "RDS API budget"). */
export interface BenchRdsApi {
  /** The simulator's token bucket per account and region; undefined: RDS never throttles. */
  rdsThrottle?: TokenBucketSpec;
  /** The worker's budget, requests/s per account and region; undefined: none. */
  rdsBudget?: number;
}

/**
 * The worker's budget as the product reads it. Burst 1 (evenly spaced requests), so that no second holds
 * more than the budget: the bench reports the peak second against it.
 */
export function budgetEnv(rds: BenchRdsApi): Record<string, string> {
  return rds.rdsBudget ? { ORCHESTRATOR_RDS_REQUESTS_PER_SECOND: String(rds.rdsBudget), ORCHESTRATOR_RDS_BURST: '1' } : { ORCHESTRATOR_RDS_REQUESTS_PER_SECOND: 'off' };
}

/** Starts the simulator (at `speed`) and the dev server, builds both workflow bundles; `closers` stop it all. */
export async function startBenchStack(closers: Closers, opts: { speed: number; metricsUrl: string } & BenchRdsApi): Promise<BenchStack> {
  const simulator = await spawnSimulator(closers, { speed: opts.speed });
  await simulator.admin.throttle(opts.rdsThrottle ?? null);
  const env = await startDevServer();
  closers.add(() => env.teardown());
  const serverPid = childProcesses(process.pid).find((p) => p.pid !== simulator.process.pid && /temporal/.test(p.comm))?.pid;
  if (!serverPid) log('warning: could not find the dev server process; its CPU and RSS are not measured');
  const config = simulatorConfig(simulator.url, { ...process.env, TEMPORAL_ADDRESS: env.connection.options.address, ORCHESTRATOR_NOTIFY_WEBHOOK_URL: '', ...budgetEnv(opts) });
  const tb = Date.now();
  const campaignBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('ERROR') });
  const bundleSeconds = (Date.now() - tb) / 1000;
  const baselineBundle = await bundleWorkflowCode({ workflowsPath: BASELINE_WORKFLOWS_PATH, logger: new DefaultLogger('ERROR') });
  return {
    env,
    client: env.client,
    admin: simulator.admin,
    simPid: simulator.process.pid,
    simUrl: simulator.url,
    serverPid,
    config,
    metrics: new Metrics(opts.metricsUrl),
    campaignBundle,
    baselineBundle,
    bundleSeconds,
  };
}

export const WORKER_SETTINGS = {
  maxConcurrentActivityTaskExecutions: 1000,
  maxCachedWorkflows: 2000,
  others: 'SDK defaults (maxConcurrentWorkflowTaskExecutions 40, reuseV8Context on, one workflow thread)',
};

export function workerOverrides(extra: Partial<WorkerOptions> = {}): Partial<WorkerOptions> {
  return {
    // Every staging stage holds one activity slot for its whole availability probe; the default of 100
    // slots would let 100 probes starve the upgrade calls they are waiting for.
    maxConcurrentActivityTaskExecutions: WORKER_SETTINGS.maxConcurrentActivityTaskExecutions,
    // The whole fleet stays in the sticky cache (no replays during the run).
    maxCachedWorkflows: WORKER_SETTINGS.maxCachedWorkflows,
    shutdownGraceTime: '2s',
    ...extra,
  };
}

/** Our activities, with notifications silenced (no webhook configured: they would only be console lines). */
function benchActivities(config: Config) {
  return { ...createActivities({ config }), ...createNotifyActivities({ log: () => undefined }) };
}

/** The bench's campaign worker: the real workflows and activities, with the bench's worker settings. */
export function createCampaignWorker(s: BenchStack, taskQueue: string): Promise<Worker> {
  return Worker.create({
    connection: s.env.nativeConnection,
    namespace: 'default',
    taskQueue,
    workflowBundle: s.campaignBundle,
    activities: benchActivities(s.config),
    ...workerOverrides(),
  });
}

/** The baseline's worker: minimal workflows whose activities return their input (`settings`: the bench's by default). */
export function createBaselineWorker(s: BenchStack, taskQueue: string, settings: Partial<WorkerOptions> = workerOverrides()): Promise<Worker> {
  return Worker.create({
    connection: s.env.nativeConnection,
    namespace: 'default',
    taskQueue,
    workflowBundle: s.baselineBundle,
    activities: { trivial: async (i: number) => i },
    ...settings,
  });
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

export async function listAll(client: Client, query: string): Promise<WorkflowExecutionInfo[]> {
  const out: WorkflowExecutionInfo[] = [];
  for await (const w of client.workflow.list({ query })) out.push(w);
  return out;
}

export async function count(client: Client, query: string): Promise<number> {
  return (await client.workflow.count(query)).count;
}
