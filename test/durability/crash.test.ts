/**
 * Durability, proven: the real worker runs as a separate OS process (`node bin/rds-orchestrator worker`)
 * and is killed with SIGKILL at the moments that matter, then a new worker process is started; in a
 * second scenario the Temporal dev server itself is killed and started again on its database file.
 * Every workflow must end in the right state, and the simulator's call log must show each AWS mutation
 * exactly once.
 *
 * Exactly once, not "at least once": every mutating activity reads first and does nothing when the world
 * is already as wanted, so the retry of an attempt lost in the crash finds its own work done. AWS would
 * make some repeats harmless anyway (an UPSERT of the same record, ApplyPendingMaintenanceAction while
 * the upgrade runs, StopDBInstance on a stopping instance is refused, a duplicate security group rule is
 * refused with InvalidPermission.Duplicate); RestoreDBInstanceToPointInTime and a status-page incident
 * would not be harmless. The assertions below are strict: one call per mutation, no harmless repeats.
 *
 * To keep the suite short, all scenarios run at once (each on its own task queue, simulator and worker
 * process; the scenario holding an AWS call in flight does so with a proxy in front of its simulator,
 * ./held-call.ts) and each `it` awaits its scenario. Each kill waits for the state it is meant to hit (the
 * call sent, the probe heartbeated), never for a fixed delay: a slow machine makes the suite slower, not wrong. Windows are a minute or so ahead at minute
 * granularity, the simulator runs status changes 2-5x faster, polls are every second.
 *
 * Printed, not asserted: how long a new worker process takes from spawn to polling, and to the
 * workflow's next step.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  approveUpdate,
  campaignStatusQuery,
  restoreStatusQuery,
  type CampaignResult,
  type CampaignStatus,
  type RestoreStatus,
  type TimelineEntry,
} from '../../src/api';
import { startCampaign, startRestore } from '../../src/client';
import { resolveCampaignSpec } from '../../src/input';
import { MINUTE_MS as MINUTE } from '../../src/domain/duration';
import type { SimAdminClient } from '../../sim';
import { demoInstanceId } from '../../sim';
import { mutationSummary, repeatedMutations } from '../../dev/call-log';
import { Closers } from '../../dev/closers';
import { hasStep, until as pollUntil } from '../../dev/follow';
import { DEMO_TABLE, FROM_VERSION, REGION, TARGET_VERSION as TARGET, fleetAtRest, productionExtractSpec, fleetWithWindows, resolvedFleetCampaign, resolvedProductionRestore, type CampaignTimings } from '../../dev/fixtures';
import { freePort } from '../../dev/ports';
import { killAllProcesses, type ChildProcessHandle } from '../../dev/processes';
import { startLocalSimulator } from '../../dev/simulator';
import { loseSomeRows, productionClient, type LostRows } from '../../dev/demo-extract';
import { resolveRestoreSpec } from '../../src/input';
import { findPostgresBinDir } from '../../sim';
import { spawnDevServer } from '../../dev/temporal-server';
import { nextWholeMinute as nextMinute, sleep } from '../../dev/time';
import { WORKER_POLLING, spawnWorkerProcess } from '../../dev/worker';
import { localEnv, uniqueTaskQueue } from '../harness';
import { holdCall } from './held-call';

/**
 * Polls every second; the probe settles in 3 s. A probe killed mid-run resumes from its last heartbeat and
 * counts the time nobody probed as outage (the heartbeat timeout plus the restart, about 10 s; under a slow
 * machine it can approach the default 60 s threshold, hence 10 minutes).
 */
const DURABILITY_TIMINGS: CampaignTimings = {
  pollInterval: '1s',
  probe: { ratePerSecond: 5, settle: '3s', maxDuration: '6m' },
  downtimeThreshold: '10m',
  productionNotice: '1m',
  precheckBefore: '30s',
  reminderInterval: '10m',
};

interface Restart {
  scenario: string;
  label: string;
  spawnedAt: number;
  readyAt?: number;
  /** The activities running when the old worker was killed, and when each moved (spawn → completed or retried). */
  inFlight?: { type: string; movedMs?: number }[];
}

interface RunningActivity {
  type: string;
  id: string;
  attempt: number;
  /** The server has a heartbeat of this attempt (what a retry resumes from). */
  heartbeated: boolean;
}

/** The activities of `handle` a worker is running now (state STARTED). */
async function runningActivities(handle: WorkflowHandle): Promise<RunningActivity[]> {
  const d = await handle.describe();
  return (d.raw.pendingActivities ?? [])
    .filter((a) => a.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED)
    .map((a) => ({ type: a.activityType?.name ?? '?', id: a.activityId ?? '?', attempt: a.attempt ?? 1, heartbeated: Boolean(a.lastHeartbeatTime) }));
}

/**
 * In the background: when each activity that was running at the kill moves again, i.e. completes or has a
 * later attempt started (by the new worker, after `restart.spawnedAt`). Printed with the restart.
 */
function watchInFlight(handle: WorkflowHandle, running: RunningActivity[], restart: Restart): void {
  restart.inFlight = running.map((a) => ({ type: a.type }));
  void (async () => {
    const deadline = Date.now() + 3 * MINUTE;
    while (!stopped && Date.now() < deadline && restart.inFlight!.some((a) => a.movedMs === undefined)) {
      try {
        const d = await handle.describe();
        running.forEach((a, i) => {
          const entry = restart.inFlight![i];
          if (entry.movedMs !== undefined) return;
          const p = (d.raw.pendingActivities ?? []).find((x) => x.activityId === a.id);
          const started = p?.lastStartedTime ? Number(p.lastStartedTime.seconds ?? 0) * 1000 + Math.floor((p.lastStartedTime.nanos ?? 0) / 1e6) : undefined;
          if (!p) entry.movedMs = Date.now() - restart.spawnedAt;
          else if ((p.attempt ?? 1) > a.attempt && started !== undefined && started >= restart.spawnedAt) entry.movedMs = started - restart.spawnedAt;
        });
      } catch {
        // the server is busy or restarting: try again
      }
      await sleep(250);
    }
  })();
}

interface Measurement {
  scenario: string;
  label: string;
  readyMs?: number;
  /** First workflow task completed (by the new worker) after the spawn, from the history. */
  firstTaskMs?: number;
  nextStep?: string;
  nextStepMs?: number;
  inFlight?: { type: string; movedMs?: number }[];
}

let stopped = false;
/** Reset when the suite starts (mocha loads every file before running any). */
let suiteStart = Date.now();
const restarts: Restart[] = [];
const measurements: Measurement[] = [];
const cleanups = new Closers();

function note(scenario: string, text: string): void {
  if (process.env.DURABILITY_VERBOSE) console.log(`      [${((Date.now() - suiteStart) / 1000).toFixed(1)}s] ${scenario}: ${text}`);
}

const simulator = (speed: number) => startLocalSimulator(cleanups, { speed });

/** A campaign over the demo fleet's `environments`, on its own task queue. */
function durabilityCampaign(taskQueue: string, admin: SimAdminClient, environments: ('preview' | 'staging')[]) {
  return resolvedFleetCampaign({ campaignId: `durability-${taskQueue}`, requester: 'alice', timings: DURABILITY_TIMINGS, admin, environments });
}

/** Starts a worker process and records when it polls; `label` says which crash it recovers from. */
async function spawnWorker(
  scenario: string,
  label: string,
  env: { temporalAddress: string; taskQueue: string; simUrl: string; simDnsAddress?: string },
  inFlight?: { handle: WorkflowHandle; running: RunningActivity[] },
): Promise<ChildProcessHandle> {
  const worker = spawnWorkerProcess(`${scenario} worker (${label})`, env);
  const restart: Restart = { scenario, label, spawnedAt: worker.spawnedAt };
  restarts.push(restart);
  if (inFlight) watchInFlight(inFlight.handle, inFlight.running, restart);
  restart.readyAt = await worker.waitForLine(WORKER_POLLING, 90_000);
  note(scenario, `worker ${worker.pid} (${label}) polling after ${restart.readyAt - restart.spawnedAt} ms`);
  return worker;
}

/** Polls `query` until `pred` holds. Queries only run while a worker is up. */
function until<S>(what: string, query: () => Promise<S>, pred: (s: S) => boolean, timeoutMs = 4 * MINUTE): Promise<S> {
  return pollUntil(what, query, pred, timeoutMs, () => stopped);
}

/**
 * For every restart of the scenario: when the new worker first completed a workflow task (history) and
 * the first timeline step taken after it was spawned (timeline entries carry workflow time, i.e. the
 * time of the workflow task that took the step).
 */
async function measure(scenario: string, handle: WorkflowHandle, timeline: TimelineEntry[]): Promise<void> {
  const history = await handle.fetchHistory();
  const taskTimes = (history.events ?? [])
    .filter((e) => e.workflowTaskCompletedEventAttributes)
    .map((e) => Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6));
  for (const r of restarts.filter((x) => x.scenario === scenario)) {
    if (r.label === 'first start') continue;
    const next = timeline.find((t) => Date.parse(t.at) >= r.spawnedAt - 5);
    const firstTask = taskTimes.find((t) => t >= r.spawnedAt);
    measurements.push({
      scenario,
      label: r.label,
      readyMs: r.readyAt !== undefined ? r.readyAt - r.spawnedAt : undefined,
      firstTaskMs: firstTask !== undefined ? firstTask - r.spawnedAt : undefined,
      nextStep: next?.step,
      nextStepMs: next ? Date.parse(next.at) - r.spawnedAt : undefined,
      inFlight: r.inFlight,
    });
  }
  measurements.push({ scenario, label: `(scenario done at ${((Date.now() - suiteStart) / 1000).toFixed(0)} s of the suite)` });
}

function assertEachOnce(mutations: string[]): void {
  const repeated = repeatedMutations(mutations);
  assert.deepEqual(repeated, [], `each AWS mutation exactly once; repeated: ${JSON.stringify(repeated)} in ${JSON.stringify(mutations, null, 2)}`);
}

/** Keeps a scenario's rejection from being "unhandled" before its `it` awaits it. */
function launch<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

// ------------------------------------------------------------------------------------------------
// Scenarios
// ------------------------------------------------------------------------------------------------

interface CampaignOutcome {
  result: CampaignResult;
  status: CampaignStatus;
  mutations: string[];
  notes: Record<string, unknown>;
}

/** preview (window) + staging (apply-now with probe): killed while sleeping towards the window, and mid-probe. */
async function campaignWindowAndProbe(env: TestWorkflowEnvironment): Promise<CampaignOutcome> {
  const scenario = 'campaign';
  const { sim, admin } = await simulator(5);
  const taskQueue = uniqueTaskQueue('durability-campaign');
  const wenv = { temporalAddress: env.connection.options.address, taskQueue, simUrl: sim.url };
  let worker = await spawnWorker(scenario, 'first start', wenv);
  cleanups.add(() => worker.kill());
  // The campaign arms the flag within a few seconds of its start; the window opens 25-85 s from now.
  const base = nextMinute(25_000);
  await admin.seed(fleetWithWindows(base, { staging: 40, production: 120 }));
  const handle = await startCampaign(env.client, durabilityCampaign(taskQueue, admin, ['preview', 'staging']), { taskQueue });
  const query = () => handle.query(campaignStatusQuery);

  // 1. Killed while the workflow sleeps towards the preview window (flag already on).
  const waiting = await until('preview waiting for its window', query, (s) => s.state === 'waiting-for-window');
  assert.equal(waiting.waitingFor?.until, new Date(base).toISOString());
  await worker.kill();
  note(scenario, 'killed while waiting for the preview window');
  // The window opens (and the timer fires) while no worker runs at all.
  await sleep(Math.max(0, base + 3000 - Date.now()));
  worker = await spawnWorker(scenario, 'after kill while waiting for a window (timer fired meanwhile)', wenv);

  // 2. Killed in the middle of the staging probe, right after the upgrade was triggered. The probe and the
  // upgrade start side by side: on a busy machine the probe may not have started, or its first heartbeat not
  // reached the server, when the upgrade is already triggered. Killed before that, the retry would start from
  // nothing (no totals, no unobserved time): so the kill waits until the server holds a heartbeat of the probe.
  await until('staging upgrade triggered', query, hasStep('upgrade-triggered'));
  const probing = await query();
  assert.equal(probing.waitingFor?.kind, 'probe', 'the probe is running');
  const midProbe = await until('the probe running and heartbeated', () => runningActivities(handle), (running) => running.some((a) => a.type === 'runAvailabilityProbe' && a.heartbeated), MINUTE);
  await worker.kill();
  note(scenario, 'killed mid-probe');
  worker = await spawnWorker(scenario, 'after kill mid-probe, waiter polling too (heartbeat timeout 8 s)', wenv, { handle, running: midProbe });

  const result = (await handle.result()) as CampaignResult;
  const status = await query();
  await measure(scenario, handle, status.timeline);
  return { result, status, mutations: mutationSummary(await admin.calls({ mutationsOnly: true })), notes: {} };
}

/** staging (apply-now): ApplyPendingMaintenanceAction held in flight (sent, unanswered), worker killed then. */
async function campaignMutationInFlight(env: TestWorkflowEnvironment): Promise<CampaignOutcome> {
  const scenario = 'mutation';
  const { sim, admin } = await simulator(5);
  await admin.seed(fleetAtRest());
  // The worker reaches the simulator through a proxy that holds its first ApplyPendingMaintenanceAction: the
  // kill waits for the call to be sent, and lands before any answer, however slow the machine. (A fixed sleep
  // after the pending actions were listed, with every answer delayed a few seconds, missed on a busy machine:
  // the apply was not sent yet, or already answered, at the kill.)
  const apply = await holdCall(sim.url, 'ApplyPendingMaintenanceAction');
  cleanups.add(() => apply.close());
  const taskQueue = uniqueTaskQueue('durability-mutation');
  const wenv = { temporalAddress: env.connection.options.address, taskQueue, simUrl: apply.url };
  let worker = await spawnWorker(scenario, 'first start', wenv);
  cleanups.add(() => worker.kill());
  const handle = await startCampaign(env.client, durabilityCampaign(taskQueue, admin, ['staging']), { taskQueue });

  // applyUpgradeNow reads (DescribeDBInstances, DescribePendingMaintenanceActions), then sends ApplyPendingMaintenanceAction.
  const deadline = Date.now() + 2 * MINUTE;
  let sent = false;
  void apply.held.then(() => (sent = true));
  while (!sent) {
    if (Date.now() > deadline || stopped) throw new Error('applyUpgradeNow never sent ApplyPendingMaintenanceAction');
    await sleep(100);
  }
  const loggedBeforeKill = (await admin.calls({ action: 'ApplyPendingMaintenanceAction' })).length;
  const inCall = await runningActivities(handle);
  await worker.kill();
  note(scenario, 'killed with ApplyPendingMaintenanceAction in flight');
  // The simulator finishes the held call although its caller is gone (AWS would too), before the retry reads.
  apply.release();
  while ((await admin.calls({ action: 'ApplyPendingMaintenanceAction' })).length === 0) {
    if (Date.now() > deadline + MINUTE || stopped) throw new Error('the held ApplyPendingMaintenanceAction never reached the simulator');
    await sleep(100);
  }
  worker = await spawnWorker(scenario, 'after kill inside an AWS call (ApplyPendingMaintenanceAction; heartbeat timeout 8 s)', wenv, { handle, running: inCall });

  const result = (await handle.result()) as CampaignResult;
  const status = await handle.query(campaignStatusQuery);
  await measure(scenario, handle, status.timeline);
  return { result, status, mutations: mutationSummary(await admin.calls({ mutationsOnly: true })), notes: { loggedBeforeKill } };
}

interface FleetOutcome extends CampaignOutcome {
  killedWith: { instanceId: string; step?: string }[];
  children: CampaignStatus[];
}

/**
 * A fleet stage (staging, apply-now, three instances selected by tag, two at a time): the worker is killed
 * mid-wave, while both children of the first wave are upgrading under their probes. The parent, its
 * children and their activities go on in the new worker; each instance is upgraded once.
 */
async function fleetMidWave(env: TestWorkflowEnvironment): Promise<FleetOutcome> {
  const scenario = 'fleet';
  const { sim, admin } = await simulator(5);
  await admin.seed(fleetAtRest());
  const tags = { environment: 'staging', service: 'notify' };
  await admin.seed({ reset: false, instances: ['notifydb-staging-jobs', 'notifydb-staging-admin'].map((id, i) => ({ region: REGION, id, engineVersion: FROM_VERSION, allocatedStorage: 20 + 10 * i, tags })) });
  const taskQueue = uniqueTaskQueue('durability-fleet');
  const wenv = { temporalAddress: env.connection.options.address, taskQueue, simUrl: sim.url };
  let worker = await spawnWorker(scenario, 'first start', wenv);
  cleanups.add(() => worker.kill());
  const t = DURABILITY_TIMINGS;
  const spec = resolveCampaignSpec({
    campaignId: `durability-${taskQueue}`,
    targetEngineVersion: TARGET,
    requester: 'alice',
    stages: [
      {
        name: 'staging',
        region: REGION,
        select: { tags },
        waves: { maxConcurrent: 2 },
        method: 'apply-now',
        probe: { url: admin.appStatusUrl(REGION, 'INSTANCE').replace('/INSTANCE/', '/{instanceId}/'), ratePerSecond: t.probe.ratePerSecond, requestTimeoutMs: 1000, settle: t.probe.settle, maxDuration: t.probe.maxDuration },
        downtimeThreshold: t.downtimeThreshold,
      },
    ],
    pollInterval: t.pollInterval,
  });
  const handle = await startCampaign(env.client, spec, { taskQueue });
  const query = () => handle.query(campaignStatusQuery);

  const wave = await until('the first wave running', query, (s) => s.stages[0].fleet?.currentWave === 1 && s.stages[0].fleet.counts.running === 2);
  const children = wave.stages[0].fleet!.instances.filter((i) => i.state === 'running').map((i) => env.client.workflow.getHandle(i.workflowId));
  await until('both children upgrading', () => Promise.all(children.map((c) => c.query(campaignStatusQuery))), (all) => all.every(hasStep('upgrade-triggered')), 2 * MINUTE);
  // What the first child runs at the kill (the probe, the waiter), and when each moves on the new worker.
  const inFlight = await runningActivities(children[0]);
  const killedWith = (await Promise.all(children.map((c) => c.query(campaignStatusQuery)))).map((c) => ({ instanceId: c.stages[0].instanceId, step: c.currentStep }));
  await worker.kill();
  note(scenario, `killed mid-wave: ${JSON.stringify(killedWith)}`);
  worker = await spawnWorker(scenario, 'after kill mid-wave (two children upgrading under their probes)', wenv, { handle: children[0], running: inFlight });

  const result = (await handle.result()) as CampaignResult;
  const status = await query();
  await measure(scenario, handle, status.timeline);
  const done = await Promise.all(status.stages[0].fleet!.instances.map((i) => env.client.workflow.getHandle(i.workflowId).query(campaignStatusQuery)));
  return { result, status, mutations: mutationSummary(await admin.calls({ mutationsOnly: true })), notes: {}, killedWith, children: done };
}

interface RestoreOutcome {
  status: RestoreStatus;
  mutations: string[];
  oldInstanceStatus: string;
  newInstanceStatus: string;
  notes: Record<string, unknown>;
}

/** Restore then cutover: killed during the restore wait, and between stopping the old instance and the DNS change. */
async function restoreCutover(env: TestWorkflowEnvironment): Promise<RestoreOutcome> {
  const scenario = 'restore';
  const { sim, admin } = await simulator(2);
  await admin.seed(fleetAtRest());
  const taskQueue = uniqueTaskQueue('durability-restore');
  const wenv = { temporalAddress: env.connection.options.address, taskQueue, simUrl: sim.url };
  let worker = await spawnWorker(scenario, 'first start', wenv);
  cleanups.add(() => worker.kill());
  const spec = resolvedProductionRestore({ restoreId: `durability-${taskQueue}`, requester: 'alice', targetInstanceId: 'notifydb-restored', pollInterval: '1s', approvers: ['bob'] });
  const handle = await startRestore(env.client, spec, { taskQueue });
  const query = () => handle.query(restoreStatusQuery);

  // 1. Killed while RDS restores: waitForInstance polls inside its attempt, so the attempt is lost with the
  // worker; the heartbeat timeout (8 s) hands it to the new worker.
  await until('the restore wait', query, (s) => s.state === 'restoring' && s.currentStep === 'waiting-for-restore');
  const waiting = await runningActivities(handle);
  await worker.kill();
  note(scenario, 'killed during the restore wait');
  await sleep(2000);
  worker = await spawnWorker(scenario, 'after kill during the restore wait (heartbeat timeout 8 s)', wenv, { handle, running: waiting });

  const asking = await until('the cutover approval', query, (s) => s.state === 'waiting-for-approval' && Boolean(s.waitingFor?.plan), 3 * MINUTE);
  await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: asking.waitingFor!.plan, comment: 'durability test' }] });

  // 2. Killed after the old instance was told to stop, before the CNAME points at the new endpoint.
  await until('the old instance stopping', query, hasStep('old-instance-stopping'), MINUTE);
  const recordChangesAtKill = mutationSummary(await admin.calls({ action: 'ChangeResourceRecordSets' }));
  await worker.kill();
  note(scenario, 'killed between StopDBInstance and the DNS change');
  worker = await spawnWorker(scenario, 'after kill between stop and DNS change', wenv);

  await handle.result();
  const status = await query();
  await measure(scenario, handle, status.timeline);
  return {
    status,
    mutations: mutationSummary(await admin.calls({ mutationsOnly: true })),
    oldInstanceStatus: (await admin.appStatus(REGION, demoInstanceId('production'))).status,
    newInstanceStatus: (await admin.appStatus(REGION, 'notifydb-restored')).status,
    notes: { recordChangesAtKill },
  };
}

interface RepairOutcome {
  status: RestoreStatus;
  lost: LostRows;
  productionRows: number;
  /** The repair's records in production's ledger. */
  ledger: number;
  /** The activities running when the worker was killed. */
  inFlightAtKill: string[];
  mutations: string[];
}

/**
 * The extract's write, killed mid-transaction: production's table is locked from the side, so the write's INSERT
 * waits inside its transaction; the worker is SIGKILLed there, the lock released, a new worker started. The lost
 * attempt's transaction never commits (its connection is gone); the retry writes each row once, and the ledger
 * holds one record of the repair.
 */
async function restoreExtractRepair(env: TestWorkflowEnvironment): Promise<RepairOutcome> {
  const scenario = 'extract';
  const { sim, admin } = await startLocalSimulator(cleanups, { speed: 5, dnsPort: 0 });
  await admin.seed(fleetAtRest(Date.now(), false, true));
  const lost = await loseSomeRows(sim, false, (l) => note(scenario, l.trim()));
  const taskQueue = uniqueTaskQueue('durability-extract');
  const wenv = { temporalAddress: env.connection.options.address, taskQueue, simUrl: sim.url, simDnsAddress: sim.dnsAddress };
  let worker = await spawnWorker(scenario, 'first start', wenv);
  cleanups.add(() => worker.kill());
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'durability-extract-'));
  cleanups.add(async () => fs.rmSync(directory, { recursive: true, force: true }));
  const spec = resolveRestoreSpec(
    productionExtractSpec({ restoreId: `durability-${taskQueue}`, requester: 'alice', targetInstanceId: 'notifydb-extracted', pollInterval: '1s', approvers: ['bob'], restoreTime: lost.restoreTime, directory }),
  );
  const handle = await startRestore(env.client, spec, { taskQueue });
  const query = () => handle.query(restoreStatusQuery);
  const asking = await until('the repair approval', query, (s) => s.state === 'waiting-for-approval' && Boolean(s.waitingFor?.plan), 3 * MINUTE);

  // The application holds production's table: the approved write will wait for it inside its transaction.
  const holder = await productionClient(sim, false);
  await holder.query('BEGIN');
  await holder.query(`LOCK TABLE ${DEMO_TABLE} IN ACCESS EXCLUSIVE MODE`);
  await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: asking.waitingFor!.plan, comment: 'durability test' }] });
  await until('the write running', () => runningActivities(handle), (running) => running.some((a) => a.type === 'writeRows'), MINUTE);
  // Inside its transaction: the worker's session waits for the table's lock, seen from another session (a
  // transaction reads pg_stat_activity once), then the worker is killed.
  const watcher = await productionClient(sim, false);
  const waitingInside = async () =>
    Number((await watcher.query("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'rds-orchestrator' AND wait_event_type = 'Lock'")).rows[0].n);
  await until('the write waiting on the lock inside its transaction', waitingInside, (n) => n > 0, MINUTE);
  await watcher.end();
  const running = await runningActivities(handle);
  await worker.kill();
  note(scenario, 'killed while writeRows waited inside its transaction');
  await holder.query('ROLLBACK');
  await holder.end();
  worker = await spawnWorker(scenario, 'after kill mid-write (heartbeat timeout 20 s)', wenv, { handle, running });

  await handle.result();
  const status = await query();
  await measure(scenario, handle, status.timeline);
  const check = await productionClient(sim, false);
  try {
    const rows = Number((await check.query(`SELECT count(*) AS n FROM ${DEMO_TABLE}`)).rows[0].n);
    const ledger = Number((await check.query('SELECT count(*) AS n FROM rds_orchestrator.repairs')).rows[0].n);
    return { status, lost, productionRows: rows, ledger, inFlightAtKill: running.map((a) => a.type), mutations: mutationSummary(await admin.calls({ mutationsOnly: true })) };
  } finally {
    await check.end();
  }
}

interface ServerRestartOutcome {
  result: CampaignResult;
  mutations: string[];
  workerSurvived: boolean;
  serverDownMs: number;
}

/** The dev server itself is killed (SIGKILL) mid-campaign and started again on the same database file and port. */
async function devServerRestart(): Promise<ServerRestartOutcome> {
  const scenario = 'dev-server';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-durability-'));
  cleanups.add(async () => fs.rmSync(dir, { recursive: true, force: true }));
  const dbFile = path.join(dir, 'temporal.db');
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  let server = spawnDevServer('dev server', { dbFile, port });
  cleanups.add(() => server.kill());
  const connection = await connectWhenUp(address, 60_000);
  cleanups.add(() => connection.close());
  const client = new Client({ connection });

  const { sim, admin } = await simulator(5);
  const taskQueue = uniqueTaskQueue('durability-server');
  const worker = await spawnWorker(scenario, 'first start', { temporalAddress: address, taskQueue, simUrl: sim.url });
  cleanups.add(() => worker.kill());
  // Long enough ahead for the kill and the restart of the server (about 5 s) to happen before it opens.
  const base = nextMinute(30_000);
  await admin.seed(fleetWithWindows(base, { staging: 40, production: 120 }));
  const handle = await startCampaign(client, durabilityCampaign(taskQueue, admin, ['preview']), { taskQueue });
  await until('preview waiting for its window', () => handle.query(campaignStatusQuery), (s) => s.state === 'waiting-for-window');

  const killedAt = Date.now();
  await server.kill();
  note(scenario, 'dev server killed');
  await sleep(3000);
  server = spawnDevServer('dev server (restarted)', { dbFile, port });
  await connectWhenUp(address, 60_000).then((c) => c.close());
  const serverDownMs = Date.now() - killedAt;
  note(scenario, `dev server back after ${serverDownMs} ms`);

  const result = (await handle.result()) as CampaignResult;
  measurements.push({ scenario, label: `(scenario done at ${((Date.now() - suiteStart) / 1000).toFixed(0)} s of the suite)` });
  return { result, mutations: mutationSummary(await admin.calls({ mutationsOnly: true })), workerSurvived: worker.running, serverDownMs };
}

async function connectWhenUp(address: string, timeoutMs: number): Promise<Connection> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2000 });
      await connection.workflowService.getSystemInfo({});
      return connection;
    } catch (err) {
      if (Date.now() > deadline || stopped) throw new Error(`Temporal at ${address} did not come up: ${err}`);
      await sleep(250);
    }
  }
}

// ------------------------------------------------------------------------------------------------

describe('durability: SIGKILLed worker processes and a restarted dev server', function () {
  this.timeout(8 * MINUTE);
  const runs: {
    campaign?: Promise<CampaignOutcome>;
    mutation?: Promise<CampaignOutcome>;
    restore?: Promise<RestoreOutcome>;
    extract?: Promise<RepairOutcome>;
    server?: Promise<ServerRestartOutcome>;
    fleet?: Promise<FleetOutcome>;
  } = {};

  before(async function () {
    this.timeout(2 * MINUTE);
    suiteStart = Date.now();
    const env = await localEnv();
    runs.campaign = launch(campaignWindowAndProbe(env));
    runs.mutation = launch(campaignMutationInFlight(env));
    runs.restore = launch(restoreCutover(env));
    // The extract needs PostgreSQL (CI installs it); without it here the scenario is skipped below.
    if (findPostgresBinDir() || process.env.CI) runs.extract = launch(restoreExtractRepair(env));
    runs.server = launch(devServerRestart());
    runs.fleet = launch(fleetMidWave(env));
  });

  after(async function () {
    this.timeout(MINUTE);
    stopped = true;
    await killAllProcesses();
    await cleanups.close();
    if (measurements.length) {
      console.log('\n      new worker process: spawn → polling, → its first workflow task, → the workflow\'s next step; each activity running at the kill: spawn → completed or retried on the new worker');
      for (const m of measurements) {
        if (m.readyMs === undefined) {
          console.log(`        ${m.scenario.padEnd(9)} ${m.label}`);
          continue;
        }
        const moved = (m.inFlight ?? []).map((a) => `${a.type} moved ${fmt(a.movedMs).trim()}`).join(', ');
        console.log(
          `        ${m.scenario.padEnd(9)} ${m.label.padEnd(74)} polling ${fmt(m.readyMs)}  1st workflow task ${fmt(m.firstTaskMs)}  next step ${fmt(m.nextStepMs)} (${m.nextStep ?? '-'})` +
            (moved ? `  in flight at the kill: ${moved}` : ''),
        );
      }
    }
    console.log(`      durability suite: ${((Date.now() - suiteStart) / 1000).toFixed(0)} s`);
  });

  it('campaign: killed while waiting for a window and mid-probe, completes; each mutation once', async function () {
    const o = await runs.campaign!;
    assert.equal(o.result.state, 'completed');
    assert.deepEqual(o.status.stages.map((s) => [s.name, s.status, s.fromVersion, s.toVersion]), [
      ['preview', 'completed', '15.5', TARGET],
      ['staging', 'completed', '15.5', TARGET],
    ]);
    const staging = o.status.stages[1];
    assert.ok(staging.probe && staging.probe.requests > 0, 'the probe resumed on the new worker and finished');
    assert.ok((staging.probe.unobservedSeconds ?? 0) > 0, 'the time nobody probed is reported');
    assert.ok(staging.probe.longestOutageSeconds >= staging.probe.unobservedSeconds!, 'and counted as outage');
    console.log(`      campaign: staging probe after the crash: ${JSON.stringify(staging.probe)}`);
    assert.deepEqual(o.mutations, [
      'ModifyDBInstance notifydb-preview AutoMinorVersionUpgrade=true',
      'ModifyDBInstance notifydb-preview AutoMinorVersionUpgrade=false',
      `ApplyPendingMaintenanceAction ${o.mutations[2]?.split(' ')[1]}`,
    ]);
    assert.match(o.mutations[2], /ApplyPendingMaintenanceAction arn:aws:rds:eu-west-2:\d+:db:notifydb-staging/);
    assertEachOnce(o.mutations);
  });

  it('campaign: killed while ApplyPendingMaintenanceAction is in flight; the retry finds the upgrade and sends nothing', async function () {
    const o = await runs.mutation!;
    assert.equal(o.notes.loggedBeforeKill, 0, 'the call was still in flight (sent, held before the simulator) when the worker died');
    assert.equal(o.result.state, 'completed');
    assert.deepEqual(o.status.stages.map((s) => [s.name, s.status, s.toVersion]), [['staging', 'completed', TARGET]]);
    const triggered = o.status.timeline.filter((t) => t.step === 'upgrade-triggered');
    assert.equal(triggered.length, 1);
    assert.match(triggered[0].detail ?? '', /already (runs|upgrading)|is already/, 'the retried activity saw the upgrade the lost attempt had started');
    assert.equal(o.mutations.length, 1, JSON.stringify(o.mutations));
    assert.match(o.mutations[0], /^ApplyPendingMaintenanceAction arn:aws:rds:eu-west-2:\d+:db:notifydb-staging$/);
  });

  it('restore: killed during the restore wait and between stopping the old instance and the DNS change; cutover completes', async function () {
    const o = await runs.restore!;
    assert.equal(o.status.state, 'completed', o.status.failure);
    assert.equal(o.status.rollback, undefined);
    const newEndpoint = o.status.target.endpoint!;
    const oldEndpoint = o.status.source.endpoint!;
    assert.deepEqual(o.notes.recordChangesAtKill, [`ChangeResourceRecordSets ZDEMONOTIFY0001 ${oldEndpoint} TTL 5`], 'at the kill only the TTL had been lowered');
    // The bastion rule goes on the restored instance's own group (created first, so the restore attaches it).
    const ownGroup = o.status.target.securityGroupId!;
    assert.deepEqual(o.mutations, [
      'CreateSecurityGroup',
      `AuthorizeSecurityGroupIngress ${ownGroup}`,
      `RestoreDBInstanceToPointInTime notifydb-restored`,
      `ChangeResourceRecordSets ZDEMONOTIFY0001 ${oldEndpoint} TTL 5`,
      'StopDBInstance notifydb-production',
      `ChangeResourceRecordSets ZDEMONOTIFY0001 ${newEndpoint} TTL 5`,
    ]);
    assertEachOnce(o.mutations);
    const steps = o.status.timeline.map((t) => t.step);
    for (const s of ['restore-available', 'approved', 'old-instance-stopped', 'cname-insync', 'dns-verified']) assert.ok(steps.includes(s), `step ${s}`);
    assert.equal(o.oldInstanceStatus, 'stopped');
    assert.equal(o.newInstanceStatus, 'available');
  });

  it('extract: killed while the repair writes (inside its transaction); the retry writes each lost row once, one ledger record', async function () {
    if (!runs.extract) this.skip();
    const o = await runs.extract!;
    assert.equal(o.status.state, 'completed', o.status.failure);
    assert.deepEqual(o.inFlightAtKill, ['writeRows'], 'killed mid-write');
    const written = o.status.extract!.repair!.written!;
    assert.deepEqual(written, [{ table: DEMO_TABLE, inserted: o.lost.lostIds.length, updated: 0, skipped: 0 }], 'the lost attempt committed nothing; the retry wrote every lost row');
    assert.equal(o.productionRows, o.lost.written, 'production has each row once');
    assert.equal(o.ledger, 1, 'one record of the repair');
    assert.equal(o.mutations.filter((m) => m.startsWith('RestoreDBInstanceToPointInTime')).length, 1, 'one restore');
  });

  it('fleet: killed mid-wave while two children upgrade under their probes; the waves complete, each instance upgraded once', async function () {
    const o = await runs.fleet!;
    assert.equal(o.result.state, 'completed', o.status.failure);
    const fleet = o.status.stages[0].fleet!;
    assert.deepEqual(fleet.counts, { pending: 0, running: 0, completed: 3, failed: 0, skipped: 0, aborted: 0 });
    assert.equal(fleet.waves, 2);
    assert.deepEqual(o.killedWith.map((k) => k.instanceId).sort(), ['notifydb-staging-admin', 'notifydb-staging-jobs'], 'the first wave: the two smallest');
    for (const c of o.children) {
      assert.equal(c.state, 'completed', `${c.stages[0].instanceId}: ${c.failure}`);
      assert.equal(c.timeline.filter((x) => x.step === 'upgrade-triggered').length, 1, `${c.stages[0].instanceId}: one upgrade`);
    }
    const applies = o.mutations.filter((m) => m.startsWith('ApplyPendingMaintenanceAction'));
    assert.deepEqual(applies.map((m) => m.split(':db:')[1]).sort(), ['notifydb-staging', 'notifydb-staging-admin', 'notifydb-staging-jobs']);
    assert.equal(o.mutations.length, 3, JSON.stringify(o.mutations));
    assertEachOnce(o.mutations);
  });

  it('dev server: SIGKILLed mid-campaign and restarted on its database file; the campaign completes', async function () {
    const o = await runs.server!;
    assert.equal(o.result.state, 'completed');
    assert.deepEqual(o.result.stages.map((s) => [s.name, s.status, s.toVersion]), [['preview', 'completed', TARGET]]);
    assert.deepEqual(o.mutations, [
      'ModifyDBInstance notifydb-preview AutoMinorVersionUpgrade=true',
      'ModifyDBInstance notifydb-preview AutoMinorVersionUpgrade=false',
    ]);
    assert.ok(o.workerSurvived, 'the worker process rode out the server outage and reconnected by itself');
    console.log(`      dev server: down for ${(o.serverDownMs / 1000).toFixed(1)} s (kill → answering again); worker survived: ${o.workerSurvived}`);
  });
});

function fmt(ms: number | undefined): string {
  return ms === undefined ? '   ?   ' : `${(ms / 1000).toFixed(1).padStart(6)} s`;
}
