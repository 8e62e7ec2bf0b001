/**
 * Re-records the workflow histories in test/histories/ from real runs: its own Temporal dev server
 * (TestWorkflowEnvironment.createLocal with the project's CLI binary), one AWS simulator per scenario
 * (fault settings and clocks are per simulator) and one in-process worker per scenario, all at once.
 *
 *   npx ts-node --transpile-only scripts/record-histories.ts [name ...]
 *
 * Names: campaign-full, campaign-aborted, restore-cutover, restore-private-zone-cutover,
 * restore-decide-roll-back (default: all). Takes about five minutes (the full campaign waits for two real
 * maintenance windows at minute granularity). restore-rollback.json (a rollback after the switch without
 * asking) was recorded by older code and can no longer be produced: keep it, it proves old runs replay.
 *
 * test/replay.test.ts replays every file against the current workflow code: a change that breaks
 * determinism for a running workflow fails it. Re-record only when you mean to drop the old shapes
 * (see README "Changing a workflow safely"): the point of the files is that they were made by older code.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../src/activities';
import {
  abortUpdate,
  approveUpdate,
  campaignStatusQuery,
  decideUpdate,
  pauseUpdate,
  restoreStatusQuery,
  resumeUpdate,
  type CampaignSpec,
  type CampaignStatus,
  type RestoreSpec,
  type RestoreStatus,
} from '../src/api';
import { loadConfig } from '../src/config';
import { ALL_SEARCH_ATTRIBUTES } from '../src/search-attributes';
import { SimAdminClient } from '../sim/src/client';
import { demoFleet, demoInstanceId } from '../sim/src/seed';
import { startSimulator, type RunningSimulator } from '../sim/src/server';
import { temporalExecutable } from '../src/temporal-binaries';
import { historyFromJSON, historyToJSON } from '../test/histories/history-json';

const OUT_DIR = path.resolve(__dirname, '..', 'test', 'histories');
const REGION = 'eu-west-2';
const MINUTE = 60_000;
const ZONE_ID = 'ZDEMONOTIFY0001';
/** The demo fleet's bastion group id (sg-0demobastion00001) is not hex, which restore specs refuse; seed a valid one. */
const BASTION_SG = 'sg-0ba5710000000000b';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const log = (name: string, line: string) => console.log(`${new Date().toISOString().slice(11, 19)} [${name}] ${line}`);

interface Scenario {
  name: string;
  /** Drives one workflow to its end on the given simulator and task queue; returns its handle. */
  run(ctx: { env: TestWorkflowEnvironment; sim: RunningSimulator; admin: SimAdminClient; taskQueue: string }): Promise<WorkflowHandle>;
}

/** The first whole minute at least `leadMs` from now: windows have minute granularity. */
function nextMinute(leadMs: number): number {
  return Math.ceil((Date.now() + leadMs) / MINUTE) * MINUTE;
}

function campaignSpec(campaignId: string, admin: SimAdminClient, withStaging: boolean): CampaignSpec {
  return {
    campaignId,
    targetEngineVersion: '15.8',
    requester: 'alice',
    stages: [
      { name: 'preview', region: REGION, instanceId: demoInstanceId('preview'), method: 'maintenance-window', grace: '2m' },
      ...(withStaging
        ? [
            {
              name: 'staging',
              region: REGION,
              instanceId: demoInstanceId('staging'),
              method: 'apply-now' as const,
              probe: { url: admin.appStatusUrl(REGION, demoInstanceId('staging')), ratePerSecond: 5, requestTimeoutMs: 1000, settle: '3s', maxDuration: '5m' },
            },
          ]
        : []),
      {
        name: 'production',
        region: REGION,
        instanceId: demoInstanceId('production'),
        method: 'maintenance-window',
        notice: { minimum: '1m', overrideReason: 'recorded test history: windows minutes apart' },
        precheckBefore: '30s',
        grace: '2m',
      },
    ],
    approval: { approvers: ['bob', 'carol'], reminderInterval: '10m' },
    pollInterval: '2s',
  };
}

function restoreSpec(restoreId: string, resolvers: string[] = []): RestoreSpec {
  return {
    restoreId,
    requester: 'alice',
    source: { region: REGION, instanceId: demoInstanceId('production') },
    targetInstanceId: `notifydb-${restoreId}`,
    restoreTime: 'latest',
    bastion: { securityGroupId: BASTION_SG, port: 5432 },
    cutover: {
      hostedZoneId: ZONE_ID,
      recordName: 'db.production.notify.internal',
      setIdentifier: demoInstanceId('production'),
      weight: 100,
      ttlSeconds: 60,
      lowerTtlFirstTo: 5,
      approvers: ['bob'],
      resolvers,
    },
    pollInterval: '2s',
  };
}

/** Polls the status query until the workflow ends, calling `onStatus` each time. */
async function drive<S extends { state: string }>(handle: WorkflowHandle, query: () => Promise<S>, onStatus: (s: S) => Promise<void>): Promise<void> {
  let done = false;
  const result = handle.result().finally(() => (done = true));
  result.catch(() => undefined);
  while (!done) {
    await onStatus(await query());
    await Promise.race([result.catch(() => undefined), sleep(500)]);
  }
  await result.catch(() => undefined);
}

const scenarios: Scenario[] = [
  {
    // preview in its window, staging now under the probe, production approved (by bob, for a named window),
    // paused and resumed, announced on the status page, pre-checked, upgraded in its window.
    name: 'campaign-full',
    async run({ env, admin, taskQueue }) {
      const base = nextMinute(45_000);
      await admin.seed(demoFleet(base, { windowOffsetsMinutes: { preview: 0, staging: 30, production: 3 } }));
      const handle = await env.client.workflow.start('upgradeCampaign', {
        args: [campaignSpec('history-full', admin, true)],
        taskQueue,
        workflowId: `campaign-history-full-${Date.now()}`,
      });
      let approved = false;
      let step = '';
      await drive(handle, () => handle.query(campaignStatusQuery), async (s: CampaignStatus) => {
        const now = `${s.currentStage ?? '-'}/${s.currentStep ?? '-'} ${s.state}`;
        if (now !== step) log('campaign-full', (step = now));
        if (!approved && s.state === 'waiting-for-approval' && s.waitingFor?.plan) {
          approved = true;
          await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: s.waitingFor.plan, comment: 'recorded history' }] });
          await handle.executeUpdate(pauseUpdate, { args: [{ by: 'carol', reason: 'checking the announcement' }] });
          await sleep(1500);
          await handle.executeUpdate(resumeUpdate, { args: [{ by: 'carol', reason: 'announcement fine' }] });
        }
      });
      return handle;
    },
  },
  {
    // preview's flag turned on, then an abort while sleeping towards the window: the flag goes back off.
    name: 'campaign-aborted',
    async run({ env, admin, taskQueue }) {
      await admin.seed(demoFleet(Date.now(), { windowOffsetsMinutes: { preview: 60, staging: 120, production: 180 } }));
      const handle = await env.client.workflow.start('upgradeCampaign', {
        args: [campaignSpec('history-aborted', admin, false)],
        taskQueue,
        workflowId: `campaign-history-aborted-${Date.now()}`,
      });
      let aborted = false;
      await drive(handle, () => handle.query(campaignStatusQuery), async (s: CampaignStatus) => {
        if (!aborted && s.state === 'waiting-for-window') {
          aborted = true;
          log('campaign-aborted', 'aborting while it waits for the preview window');
          await handle.executeUpdate(abortUpdate, { args: [{ by: 'alice', reason: 'recorded history: change of plan' }] });
        }
      });
      return handle;
    },
  },
  {
    name: 'restore-cutover',
    async run({ env, admin, taskQueue }) {
      await seedForRestore(admin);
      return runRestore(env, taskQueue, 'history-cutover', async () => undefined);
    },
  },
  {
    // The private zone verified by INSYNC, the record and a real lookup through the simulator's resolver.
    name: 'restore-private-zone-cutover',
    async run({ env, sim, admin, taskQueue }) {
      await seedForRestore(admin);
      return runRestore(env, taskQueue, 'history-private', async () => undefined, [sim.dnsAddress!]);
    },
  },
  {
    // The cutover's verification fails after the switch: while it waits out the TTL, someone else repoints
    // the record. The workflow asks the team; carol decides to roll back (CNAME back, old instance started,
    // the writes since the switch reported as stranded).
    name: 'restore-decide-roll-back',
    async run({ env, sim, admin, taskQueue }) {
      await seedForRestore(admin);
      const intruder = createActivities({ config: simConfig(sim, taskQueue) });
      let meddled = false;
      let decided = false;
      return runRestore(env, taskQueue, 'history-decide', async (s, handle) => {
        if (!meddled && s.currentStep === 'waiting-for-ttl') {
          meddled = true;
          const c = restoreSpec('x').cutover!;
          const current = await intruder.getWeightedCname(c.hostedZoneId, c.recordName, c.setIdentifier);
          log('restore-decide-roll-back', 'someone else repoints the record during the TTL wait');
          await intruder.upsertWeightedCname({ ...current!, value: 'someone-else.example.net' });
        }
        if (!decided && s.state === 'waiting-for-decision') {
          decided = true;
          await handle.executeUpdate(decideUpdate, { args: [{ by: 'carol', decision: 'roll-back', comment: 'recorded history' }] });
        }
      });
    },
  },
];

/** The demo fleet, windows far away, plus a bastion security group with a valid id. */
async function seedForRestore(admin: SimAdminClient): Promise<void> {
  await admin.seed(demoFleet(Date.now(), { windowOffsetsMinutes: { preview: 60, staging: 120, production: 180 } }));
  await admin.seed({ reset: false, securityGroups: [{ region: REGION, account: '123456789012', id: BASTION_SG, name: 'notify-bastion-hex', description: 'bastion host' }] });
}

async function runRestore(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  restoreId: string,
  meddle: (s: RestoreStatus, handle: WorkflowHandle) => Promise<void>,
  resolvers: string[] = [],
): Promise<WorkflowHandle> {
  const handle = await env.client.workflow.start('restoreAndCutover', {
    args: [restoreSpec(restoreId, resolvers)],
    taskQueue,
    workflowId: `restore-${restoreId}-${Date.now()}`,
  });
  let approved = false;
  let step = '';
  await drive(handle, () => handle.query(restoreStatusQuery), async (s: RestoreStatus) => {
    const now = `${s.currentStep ?? '-'} ${s.state}`;
    if (now !== step) log(restoreId, (step = now));
    if (!approved && s.state === 'waiting-for-approval' && s.waitingFor?.plan) {
      approved = true;
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: s.waitingFor.plan, comment: 'recorded history' }] });
    }
    await meddle(s, handle);
  });
  return handle;
}

function simConfig(sim: RunningSimulator, taskQueue: string) {
  return loadConfig({
    ORCHESTRATOR_TASK_QUEUE: taskQueue,
    ORCHESTRATOR_AWS_ENDPOINT: sim.url,
    STATUSPAGE_BASE_URL: `${sim.url}/statuspage/v1`,
    STATUSPAGE_API_KEY: 'history-key',
    STATUSPAGE_PAGE_ID: 'history-page',
  });
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const chosen = wanted.length ? scenarios.filter((s) => wanted.includes(s.name)) : scenarios;
  if (chosen.length !== (wanted.length || scenarios.length)) {
    throw new Error(`unknown scenario in ${wanted.join(', ')}; have ${scenarios.map((s) => s.name).join(', ')}`);
  }
  // ERROR: every retry-based poll (NotReady) is logged as a failed activity at WARN.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: temporalExecutable('cli'), searchAttributes: ALL_SEARCH_ATTRIBUTES, log: { format: 'pretty', level: 'error' } },
  });
  const closers: (() => Promise<unknown>)[] = [() => env.teardown()];
  const workers: Worker[] = [];
  try {
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../src/workflows'), logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: (m: string) => console.error(m) } });
    const results = await Promise.allSettled(
      chosen.map(async (scenario, i) => {
        const sim = await startSimulator({ port: 0, speed: 5, dnsPort: 0 });
        closers.push(() => sim.close());
        const taskQueue = `record-${scenario.name}-${process.pid}-${i}`;
        const worker = await Worker.create({
          connection: env.nativeConnection,
          taskQueue,
          workflowBundle,
          activities: createActivities({ config: simConfig(sim, taskQueue) }),
        });
        workers.push(worker);
        const handle = await worker.runUntil(scenario.run({ env, sim, admin: new SimAdminClient(sim.url), taskQueue }));
        const history = await handle.fetchHistory();
        const file = path.join(OUT_DIR, `${scenario.name}.json`);
        const json = historyToJSON(history);
        if (historyFromJSON(JSON.parse(json)).events?.length !== history.events?.length) throw new Error(`${scenario.name}: the JSON does not load back`);
        fs.writeFileSync(file, `${json}\n`);
        const desc = await handle.describe();
        log(scenario.name, `${desc.status.name}: ${history.events?.length} events → ${path.relative(process.cwd(), file)}`);
      }),
    );
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length) throw new AggregateError(failed.map((f) => f.reason), `${failed.length} scenario(s) failed`);
  } finally {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    for (const close of closers.reverse()) await close().catch((err) => console.error(err));
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
