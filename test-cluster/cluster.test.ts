/**
 * The production topology, proven: `npm run cluster -- up` (PostgreSQL 15, Temporal server 1.32.2 on it with
 * SQL visibility and our search attributes, the Temporal UI server), two worker processes running the
 * compiled worker (`node dist/worker.js`, what the Docker image runs) on one task queue, the AWS simulator.
 *
 * One campaign (preview in its window, staging now under the availability probe) and one restore with
 * cutover run at once. Mid-campaign the Temporal server process is SIGKILLed and started again (its
 * history lives in PostgreSQL; the restore is mid-flight too), and the worker running the staging probe is
 * SIGKILLed (the other worker takes the probe over after its heartbeat timeout). Both workflows must
 * complete, and the simulator's call log must show each AWS mutation exactly once. While the campaign runs,
 * the workers' Prometheus endpoints must carry workflow and activity metrics for the task queue, and their
 * /readyz must answer; at the end the survivor drains on SIGTERM and exits 0.
 *
 * The suite brings the cluster up itself (idempotent) and stops it afterwards only if it started it.
 * Printed, not asserted: time to bring the cluster up, server restart → next step, worker kill → next step.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { approveUpdate, campaignStatusQuery, restoreStatusQuery, type CampaignResult, type CampaignStatus, type RestoreStatus } from '../src/api';
import { startCampaign, startRestore } from '../src/client';
import { MINUTE_MS as MINUTE } from '../src/domain/duration';
import { demoInstanceId } from '../sim';
import { Closers } from '../dev/closers';
import { mutationSummary, repeatedMutations } from '../dev/call-log';
import { REGION, TARGET_VERSION as TARGET, fleetWithWindows, resolvedFleetCampaign, resolvedProductionRestore, type CampaignTimings } from '../dev/fixtures';
import { freePort } from '../dev/ports';
import { killAllProcesses, type ChildProcessHandle } from '../dev/processes';
import { startLocalSimulator } from '../dev/simulator';
import { nextWholeMinute, sleep } from '../dev/time';
import { COMPILED_WORKER, spawnWorkerProcess } from '../dev/worker';
import { down, startTemporalServer, status, stopTemporalServer, up, type UpReport } from '../scripts/cluster/cluster';
import { activityCompletions, firstStepSince, hasStep, httpGet, metricsForTaskQueue, startedActivity, until, workerIdentity } from './observe';

/** As test/durability: polls every second, a short probe settle, a downtime threshold the crash cannot cross. */
const TIMINGS: CampaignTimings = {
  pollInterval: '1s',
  probe: { ratePerSecond: 5, settle: '3s', maxDuration: '6m' },
  downtimeThreshold: '10m',
  productionNotice: '1m',
  precheckBefore: '30s',
  reminderInterval: '10m',
};

/** The line each worker prints once it polls (text or JSON logs). */
const POLLING = /worker polling /;
const PROBE_ACTIVITY = 'runAvailabilityProbe';

interface ClusterWorker {
  name: string;
  process: ChildProcessHandle;
  metricsUrl: string;
  readyUrl: string;
  identity: string;
}

interface Outcome {
  upReport: UpReport;
  campaign: { result: CampaignResult; status: CampaignStatus; probeCompletedBy: (string | undefined)[] };
  restore: { status: RestoreStatus; oldInstanceStatus: string; newInstanceStatus: string };
  restoreStateAtServerKill: string;
  mutations: string[];
  metrics: Set<string>;
  readiness: { status: number; body: string }[];
  killed: ClusterWorker;
  survivor: ClusterWorker;
  survivorExit: { code: number | null; signal: NodeJS.Signals | null };
  uiListsCampaign: boolean;
  figures: string[];
}

const cleanups = new Closers();
let startedCluster = false;

async function spawnClusterWorker(name: string, env: { temporalAddress: string; taskQueue: string; simUrl: string }, logFormat: 'json' | 'text'): Promise<ClusterWorker> {
  const [metricsPort, healthPort] = [await freePort(), await freePort()];
  const extra = {
    ORCHESTRATOR_METRICS_PORT: `127.0.0.1:${metricsPort}`,
    ORCHESTRATOR_HEALTH_PORT: `127.0.0.1:${healthPort}`,
    ORCHESTRATOR_LOG_FORMAT: logFormat,
    ORCHESTRATOR_SHUTDOWN_GRACE_SECONDS: '10',
  };
  const child = spawnWorkerProcess(name, { ...env, extra }, 'compiled');
  cleanups.add(() => child.kill());
  await child.waitForLine(POLLING, 90_000);
  return { name, process: child, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`, readyUrl: `http://127.0.0.1:${healthPort}/readyz`, identity: workerIdentity(child.pid) };
}

async function connect(address: string): Promise<Connection> {
  const connection = await Connection.connect({ address, connectTimeout: 5000 });
  cleanups.add(() => connection.close());
  return connection;
}

/** Milliseconds from `since` to the first history event after it (any event: a task, a timer, an activity). */
async function firstEventAfter(handle: WorkflowHandle, since: number): Promise<number | undefined> {
  const events = (await handle.fetchHistory()).events ?? [];
  const times = events.map((e) => Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6));
  const t = times.find((x) => x >= since);
  return t === undefined ? undefined : t - since;
}

const secs = (ms: number | undefined) => (ms === undefined ? '?' : `${(ms / 1000).toFixed(1)} s`);

async function runScenario(): Promise<Outcome> {
  const figures: string[] = [];
  const wasRunning = status().temporal.running;
  const upReport = await up({ ui: true });
  startedCluster = !wasRunning;
  figures.push(`cluster up: ${secs(upReport.totalMs)} (started: ${upReport.started.join(', ') || 'nothing, it ran already'})`);
  const address = upReport.status.temporalAddress!;
  const client = new Client({ connection: await connect(address) });

  const { sim, admin } = await startLocalSimulator(cleanups, { speed: 5 });
  const taskQueue = `cluster-${process.pid}-${Date.now()}`;
  const wenv = { temporalAddress: address, taskQueue, simUrl: sim.url };
  const workers = await Promise.all([spawnClusterWorker('worker A', wenv, 'json'), spawnClusterWorker('worker B', wenv, 'text')]);

  // Long enough ahead for the server's kill and restart (a few seconds) to happen before the window opens.
  const base = nextWholeMinute(25_000);
  await admin.seed(fleetWithWindows(base, { staging: 40, production: 120 }));
  const campaignId = `cluster-${taskQueue}`;
  const campaign = await startCampaign(client, resolvedFleetCampaign({ campaignId, requester: 'alice', timings: TIMINGS, admin, environments: ['preview', 'staging'] }), { taskQueue });
  const restoreSpec = resolvedProductionRestore({ restoreId: `cluster-${taskQueue}`, requester: 'alice', targetInstanceId: 'notifydb-restored', pollInterval: '1s', approvers: ['bob'] });
  const restore = await startRestore(client, restoreSpec, { taskQueue });
  const campaignStatus = () => campaign.query(campaignStatusQuery);
  const restoreStatus = () => restore.query(restoreStatusQuery);

  // 1. The Temporal server process dies (SIGKILL) while the campaign sleeps towards preview's window and the
  //    restore is under way, and is started again on the same PostgreSQL.
  await until('preview waiting for its window', campaignStatus, (s) => s.state === 'waiting-for-window');
  const restoreStateAtServerKill = (await restoreStatus()).state;
  const serverKilledAt = Date.now();
  await stopTemporalServer('SIGKILL');
  await sleep(2000);
  await startTemporalServer();
  const serverBackAt = Date.now();
  figures.push(`Temporal server: SIGKILL → serving again ${secs(serverBackAt - serverKilledAt)} (2 s of it down on purpose)`);
  // The restore polls AWS through activity retries: its first AWS call after this is an activity dispatched by the restarted server.
  const seqAtBack = Math.max(0, ...(await admin.calls()).map((c) => c.seq));
  const firstCall = await until('an AWS call after the restart', () => admin.calls({ since: seqAtBack }), (calls) => calls.length > 0, 20_000).catch(() => undefined);
  figures.push(`server back → first AWS call of a newly dispatched activity ${firstCall ? `${secs(Date.now() - serverBackAt)} (${firstCall[0].action}, ±0.25 s)` : 'none within 20 s (nothing was polling)'}`);
  assert.equal(workers.filter((w) => w.process.running).length, 2, 'both workers rode out the server outage');

  // 2. The restore's cutover is approved (the restore goes on; the campaign's window opens meanwhile).
  const asking = await until('the cutover approval', restoreStatus, (s) => s.state === 'waiting-for-approval' && Boolean(s.waitingFor?.plan), 4 * MINUTE);
  await restore.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: asking.waitingFor!.plan, comment: 'cluster test' }] });

  // 3. Staging: the upgrade was triggered and the probe runs on one of the workers; scrape, then SIGKILL that worker.
  await until('staging upgrade triggered', campaignStatus, hasStep('upgrade-triggered'), 4 * MINUTE);
  const probe = await until('the probe started on a worker', () => startedActivity(campaign, PROBE_ACTIVITY), (a) => a !== undefined, MINUTE);
  const metrics = new Set<string>();
  const readiness: { status: number; body: string }[] = [];
  for (const w of workers) {
    for (const m of metricsForTaskQueue((await httpGet(w.metricsUrl)).body, taskQueue)) metrics.add(m);
    readiness.push(await httpGet(w.readyUrl));
  }
  const killed = workers.find((w) => w.identity === probe?.worker) ?? workers[0];
  const survivor = workers.find((w) => w !== killed)!;
  const workerKilledAt = Date.now();
  await killed.process.kill();

  const result = (await campaign.result()) as CampaignResult;
  const finalCampaign = await campaignStatus();
  const next = firstStepSince(finalCampaign.timeline, workerKilledAt);
  figures.push(
    `worker SIGKILL (it ran the probe) → campaign's next step ${next ? `${secs(Date.parse(next.at) - workerKilledAt)} (${next.step})` : '?'}; ` +
      `the probe's heartbeat timeout is 1 min`,
  );
  await restore.result();
  const finalRestore = await restoreStatus();
  const stepAfter = (timeline: { step: string; at: string }[], since: number) => {
    const t = firstStepSince(timeline, since);
    return t ? `${secs(Date.parse(t.at) - since)} (${t.step})` : '?';
  };
  figures.push(
    `server back → restore's next history event ${secs(await firstEventAfter(restore, serverBackAt))} and next step ${stepAfter(finalRestore.timeline, serverBackAt)} (when RDS finished); ` +
      `campaign's next step ${stepAfter(finalCampaign.timeline, serverBackAt)} (its window opened ${secs(base - serverBackAt)} after)`,
  );

  const ui = await httpGet(`${upReport.status.ui.url}/api/v1/namespaces/default/workflows?query=${encodeURIComponent(`RdsCampaignId = '${campaignId}'`)}`);

  survivor.process.killNow('SIGTERM');
  const survivorExit = await Promise.race([survivor.process.exited, sleep(30_000).then(() => ({ code: null, signal: null }))]);

  return {
    upReport,
    campaign: { result, status: finalCampaign, probeCompletedBy: (await activityCompletions(campaign, PROBE_ACTIVITY)).map((c) => c.completedBy) },
    restore: {
      status: finalRestore,
      oldInstanceStatus: (await admin.appStatus(REGION, demoInstanceId('production'))).status,
      newInstanceStatus: (await admin.appStatus(REGION, 'notifydb-restored')).status,
    },
    restoreStateAtServerKill,
    mutations: mutationSummary(await admin.calls({ mutationsOnly: true })),
    metrics,
    readiness,
    killed,
    survivor,
    survivorExit,
    uiListsCampaign: ui.status === 200 && ui.body.includes(campaignId),
    figures,
  };
}

describe('production topology: Temporal 1.32.2 on PostgreSQL, two compiled worker processes', function () {
  this.timeout(10 * MINUTE);
  let run: Promise<Outcome>;
  let suiteStart = Date.now();

  before(function () {
    assert.ok(fs.existsSync(COMPILED_WORKER), `${COMPILED_WORKER} is missing: npm run build (npm run test:cluster does it first)`);
    suiteStart = Date.now();
    run = runScenario();
    run.catch(() => undefined);
  });

  after(async function () {
    this.timeout(2 * MINUTE);
    await killAllProcesses();
    await cleanups.close();
    const o = await run.catch(() => undefined);
    if (o) for (const f of o.figures) console.log(`      ${f}`);
    if (startedCluster && !process.env.CLUSTER_KEEP) console.log(`      cluster down (the suite started it): ${(await down()).join(', ')}`);
    console.log(`      cluster suite: ${((Date.now() - suiteStart) / 1000).toFixed(0)} s`);
  });

  it('brings the cluster up: PostgreSQL, the Temporal server, the UI, namespace and search attributes', async function () {
    const o = await run;
    const s = o.upReport.status;
    assert.ok(s.postgres.running && s.temporal.running && s.ui.running, JSON.stringify(s));
  });

  it('campaign: the server killed while it waits for a window, the probing worker killed; completes', async function () {
    const o = await run;
    assert.equal(o.campaign.result.state, 'completed');
    assert.deepEqual(o.campaign.status.stages.map((s) => [s.name, s.status, s.fromVersion, s.toVersion]), [
      ['preview', 'completed', '15.5', TARGET],
      ['staging', 'completed', '15.5', TARGET],
    ]);
    const staging = o.campaign.status.stages[1];
    assert.ok(staging.probe && (staging.probe.unobservedSeconds ?? 0) > 0, `the probe resumed after the kill and reports the time nobody probed: ${JSON.stringify(staging.probe)}`);
    assert.deepEqual(o.campaign.probeCompletedBy, [o.survivor.identity], 'the other worker finished the probe');
  });

  it('restore: mid-flight through the server restart; cutover completes', async function () {
    const o = await run;
    assert.equal(o.restore.status.state, 'completed', o.restore.status.failure);
    assert.notEqual(o.restoreStateAtServerKill, 'completed', 'the restore was still running when the server died');
    const steps = o.restore.status.timeline.map((t) => t.step);
    for (const s of ['restore-available', 'approved', 'old-instance-stopped', 'cname-insync', 'dns-verified']) assert.ok(steps.includes(s), `step ${s}`);
    assert.equal(o.restore.oldInstanceStatus, 'stopped');
    assert.equal(o.restore.newInstanceStatus, 'available');
  });

  it('each AWS mutation exactly once (the simulator call log)', async function () {
    const o = await run;
    assert.deepEqual(repeatedMutations(o.mutations), [], JSON.stringify(o.mutations, null, 2));
    const oldEndpoint = o.restore.status.source.endpoint!;
    const newEndpoint = o.restore.status.target.endpoint!;
    const expected = [
      'ModifyDBInstance notifydb-preview AutoMinorVersionUpgrade=true',
      'ModifyDBInstance notifydb-preview AutoMinorVersionUpgrade=false',
      'CreateSecurityGroup',
      `AuthorizeSecurityGroupIngress ${o.restore.status.target.securityGroupId}`,
      'RestoreDBInstanceToPointInTime notifydb-restored',
      `ChangeResourceRecordSets ZDEMONOTIFY0001 ${oldEndpoint} TTL 5`,
      'StopDBInstance notifydb-production',
      `ChangeResourceRecordSets ZDEMONOTIFY0001 ${newEndpoint} TTL 5`,
    ];
    const apply = o.mutations.filter((m) => m.startsWith('ApplyPendingMaintenanceAction'));
    assert.equal(apply.length, 1, JSON.stringify(o.mutations));
    assert.match(apply[0], /^ApplyPendingMaintenanceAction arn:aws:rds:eu-west-2:\d+:db:notifydb-staging$/);
    assert.deepEqual([...o.mutations.filter((m) => m !== apply[0])].sort(), [...expected].sort());
  });

  it('workers: Prometheus metrics for the task queue, ready while polling, drain on SIGTERM', async function () {
    const o = await run;
    for (const m of ['temporal_workflow_task_execution_latency', 'temporal_activity_execution_latency', 'temporal_workflow_task_queue_poll_succeed', 'temporal_num_pollers']) {
      assert.ok(o.metrics.has(m), `metric ${m} for the task queue; got ${[...o.metrics].sort().join(', ')}`);
    }
    assert.deepEqual(o.readiness.map((r) => r.status), [200, 200], JSON.stringify(o.readiness));
    assert.deepEqual(o.survivorExit, { code: 0, signal: null }, `the surviving worker drains and exits 0 on SIGTERM\n${o.survivor.process.tail()}`);
  });

  it('the Temporal UI server lists the campaign by its search attribute (SQL visibility)', async function () {
    const o = await run;
    assert.ok(o.uiListsCampaign);
  });
});

