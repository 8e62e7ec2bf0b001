/**
 * Re-records the workflow histories in test/histories/ from real runs: its own Temporal dev server
 * (./temporal-server.ts), one AWS simulator per scenario (fault settings and clocks are per simulator)
 * and one in-process worker per scenario, all at once.
 *
 *   npm run record-histories -- --into FOLDER [name ...]
 *
 * Writes test/histories/FOLDER/<name>.json. Name the folder after the code that records it (e.g.
 * "3-resolved-specs"): each folder holds the shapes one version of the workflows produced, and
 * test/replay.test.ts replays every folder against the current code, so a change that breaks determinism
 * for a workflow started by any recorded version fails it. Add a folder; never overwrite an older one.
 *
 * Names: campaign-full, campaign-blue-green, campaign-blue-green-rolled-back, campaign-aborted, campaign-estate, campaign-fleet (and its first child, campaign-fleet-instance), restore-cutover, restore-private-zone-cutover,
 * restore-decide-roll-back, restore-extract, restore-data-path-cutover (default: all; the last two need PostgreSQL 15). Takes about five minutes (the full campaign waits for two real
 * maintenance windows at minute granularity).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../src/activities';
import { abortUpdate, campaignStatusQuery, decideUpdate, pauseUpdate, restoreStatusQuery, resumeUpdate, type CampaignResult, type CampaignStatus, type RestoreStatus } from '../src/api';
import { startCampaign, startRestore } from '../src/client';
import { resolveCampaignSpec, resolveRestoreSpec } from '../src/input';
import { loseSomeRows } from './demo-extract';
import { WORKFLOWS_PATH } from '../src/worker';
import type { SimAdminClient } from '../sim';
import type { RunningSimulator } from '../sim';
import { DEMO_ACCOUNTS, demoRoleArn } from '../sim';
import { historyFromJSON, historyToJSON } from './history-json';
import { Closers } from './closers';
import { FROM_VERSION, PRODUCTION_CNAME, REGION, TARGET_VERSION, fleetAtRest, productionExtractSpec, fleetWithWindows, resolvedFleetCampaign, resolvedProductionRestore, type CampaignTimings } from './fixtures';
import { followToEnd, planAwaitingApproval } from './follow';
import { keyOf, makeTeam, signedBy, type Team } from './people';
import { actOn } from '../src/cli/act';
import { approveAskedPlan } from '../src/cli/context';
import type { CliIo } from '../src/cli/io';
import type { UpdateDefinition } from '@temporalio/common';
import type { SignedAction } from '../src/domain/identity/signed-actions';
import os from 'node:os';
import { simulatorConfig, startLocalSimulator } from './simulator';
import { startDevServer } from './temporal-server';
import { clockTime, nextWholeMinute, sleep } from './time';
import { formatMaintenanceWindow } from '../sim';

const HISTORIES = path.resolve(__dirname, '..', 'test', 'histories');

const log = (name: string, line: string) => console.log(`${clockTime()} [${name}] ${line}`);

/**
 * The people, with SSH keys: the workers verify identities (ORCHESTRATOR_ALLOWED_SIGNERS), so every start
 * and human action below is signed the way the CLI signs it.
 */
let team: Team;
const silent: CliIo = { out: () => undefined, err: () => undefined };

function approve(handle: WorkflowHandle, kind: 'campaign' | 'restore', id: string, by: string, comment: string): Promise<void> {
  return approveAskedPlan(silent, handle, kind === 'campaign' ? campaignStatusQuery : restoreStatusQuery, { kind, id }, { by, key: keyOf(team, by), comment });
}

/** Pause, resume, abort or decide, signed by `by` over the text built from the status at that moment. */
function act<Req extends { by: string; reason?: string; comment?: string }>(
  handle: WorkflowHandle,
  kind: 'campaign' | 'restore',
  id: string,
  update: UpdateDefinition<string, [Req]>,
  action: (s: { humanActions: { length: number }; waitingFor?: { question?: string; askedAt?: string } }) => SignedAction,
  request: Req,
): Promise<void> {
  return actOn(silent, handle, kind === 'campaign' ? campaignStatusQuery : restoreStatusQuery, { kind, id }, update, (s) => ({ action: action(s), request }), { ...request, key: keyOf(team, request.by) });
}

const RECORDING_TIMINGS: CampaignTimings = {
  pollInterval: '2s',
  probe: { ratePerSecond: 5, settle: '3s', maxDuration: '5m' },
  productionNotice: '1m',
  precheckBefore: '30s',
  reminderInterval: '10m',
};

interface ScenarioContext {
  client: Client;
  sim: RunningSimulator;
  admin: SimAdminClient;
  taskQueue: string;
}

interface Scenario {
  name: string;
  /** Drives one workflow to its end on the given simulator and task queue; returns its handle. */
  run(ctx: ScenarioContext): Promise<WorkflowHandle>;
  /** Other workflows of the run to record beside it (a fleet's child workflows), by file name. */
  alsoRecord?: (client: Client, handle: WorkflowHandle) => Promise<{ name: string; handle: WorkflowHandle }[]>;
}

function campaignSpec(campaignId: string, admin: SimAdminClient, withStaging: boolean) {
  return resolvedFleetCampaign({
    campaignId,
    requester: 'alice',
    timings: RECORDING_TIMINGS,
    noticeOverrideReason: 'recorded test history: windows minutes apart',
    admin,
    environments: withStaging ? ['preview', 'staging', 'production'] : ['preview', 'production'],
    approvers: ['bob', 'carol'],
    accounts: true,
  });
}

/** Production alone, by an RDS Blue/Green switchover in its window under a probe (issue 24). */
function blueGreenSpec(campaignId: string, admin: SimAdminClient) {
  return resolvedFleetCampaign({
    campaignId,
    requester: 'alice',
    timings: RECORDING_TIMINGS,
    noticeOverrideReason: 'recorded test history: windows minutes apart',
    admin,
    environments: ['production'],
    approvers: ['bob', 'carol'],
    accounts: true,
    productionMethod: 'blue-green',
  });
}

const scenarios: Scenario[] = [
  {
    // Production by Blue/Green: the deployment created at the target and waited for, approved by bob (naming the
    // window and the deployment), announced, pre-checked, switched over in its window under the probe, verified.
    name: 'campaign-blue-green',
    async run({ client, admin, taskQueue }) {
      await admin.seed(fleetWithWindows(nextWholeMinute(45_000), { staging: 30, production: 4 }, true));
      const handle = await startCampaign(client, await signedBy(team, 'campaign', 'history-blue-green', blueGreenSpec('history-blue-green', admin)), { taskQueue, workflowId: `campaign-history-blue-green-${Date.now()}` });
      let approved = false;
      let step = '';
      await followToEnd(handle, () => handle.query(campaignStatusQuery), async (s: CampaignStatus) => {
        const now = `${s.currentStage ?? '-'}/${s.currentStep ?? '-'} ${s.state}`;
        if (now !== step) log('campaign-blue-green', (step = now));
        if (!approved && planAwaitingApproval(s)) {
          approved = true;
          await approve(handle, 'campaign', 'history-blue-green', 'bob', 'recorded history');
        }
      }, 500);
      return handle;
    },
  },
  {
    // Production by Blue/Green, AWS rolls the switchover back (a guardrail: replica lag); the team is asked and
    // carol aborts: the announcement is cancelled, the green copy is left in place (a follow-up), nothing deleted.
    name: 'campaign-blue-green-rolled-back',
    async run({ client, admin, taskQueue }) {
      await admin.seed(fleetWithWindows(nextWholeMinute(45_000), { staging: 30, production: 4 }, true));
      await admin.blueGreenFault({ region: REGION, account: DEMO_ACCOUNTS.production, source: 'notifydb-production', fault: 'switchover-rollback', reason: 'replica lag over the switchover timeout', afterSeconds: 30 });
      const handle = await startCampaign(client, await signedBy(team, 'campaign', 'history-bg-rollback', blueGreenSpec('history-bg-rollback', admin)), { taskQueue, workflowId: `campaign-history-bg-rollback-${Date.now()}` });
      let approved = false;
      let aborted = false;
      let step = '';
      await followToEnd(handle, () => handle.query(campaignStatusQuery), async (s: CampaignStatus) => {
        const now = `${s.currentStage ?? '-'}/${s.currentStep ?? '-'} ${s.state}`;
        if (now !== step) log('campaign-blue-green-rolled-back', (step = now));
        if (!approved && planAwaitingApproval(s)) {
          approved = true;
          await approve(handle, 'campaign', 'history-bg-rollback', 'bob', 'recorded history');
        }
        if (!aborted && s.state === 'waiting-for-decision') {
          aborted = true;
          await act(handle, 'campaign', 'history-bg-rollback', decideUpdate, (st) => ({ action: 'decide', question: st.waitingFor?.question ?? '', askedAt: st.waitingFor?.askedAt ?? '', decision: 'abort' }), { by: 'carol', decision: 'abort' as const, comment: 'recorded history: look at the replica lag first' });
        }
      }, 500);
      return handle;
    },
  },
  {
    // preview in its window, staging now under the probe, production approved (by bob, for a named window),
    // paused and resumed, announced on the status page, pre-checked, upgraded in its window.
    name: 'campaign-full',
    async run({ client, admin, taskQueue }) {
      await admin.seed(fleetWithWindows(nextWholeMinute(45_000), { staging: 30, production: 3 }, true));
      const handle = await startCampaign(client, await signedBy(team, 'campaign', 'history-full', campaignSpec('history-full', admin, true)), { taskQueue, workflowId: `campaign-history-full-${Date.now()}` });
      let approved = false;
      let step = '';
      await followToEnd(handle, () => handle.query(campaignStatusQuery), async (s: CampaignStatus) => {
        const now = `${s.currentStage ?? '-'}/${s.currentStep ?? '-'} ${s.state}`;
        if (now !== step) log('campaign-full', (step = now));
        const plan = planAwaitingApproval(s);
        if (!approved && plan) {
          approved = true;
          await approve(handle, 'campaign', 'history-full', 'bob', 'recorded history');
          await act(handle, 'campaign', 'history-full', pauseUpdate, (st) => ({ action: 'pause', after: st.humanActions.length }), { by: 'carol', reason: 'checking the announcement' });
          await sleep(1500);
          await act(handle, 'campaign', 'history-full', resumeUpdate, (st) => ({ action: 'resume', after: st.humanActions.length }), { by: 'carol', reason: 'announcement fine' });
        }
      }, 500);
      return handle;
    },
  },
  {
    // An estate that moves (campaign-estate-guard): preview's read replica upgraded first in its own window;
    // preview's flag turned off by another principal ("terraform-pipeline") after the campaign turned it on,
    // found at the re-arm check, turned on again, upgraded in that window; production approved, then RDS makes
    // 15.10 its automatic target: the flag stays off, carol decides apply-in-window, the campaign applies 15.8
    // itself when the window opens; the person on call is paged and the page resolved.
    name: 'campaign-estate',
    async run({ client, sim, admin, taskQueue }) {
      const previewAt = nextWholeMinute(45_000) + 4 * 60_000;
      await admin.seed(fleetWithWindows(previewAt, { staging: 30, production: 4 }, true));
      await admin.seed({
        instances: [{ region: REGION, account: DEMO_ACCOUNTS.preview, id: 'notifydb-preview-ro', replicaOf: 'notifydb-preview', preferredMaintenanceWindow: formatMaintenanceWindow(previewAt - 2 * 60_000), autoMinorVersionUpgrade: false }],
      });
      const resolved = campaignSpec('history-estate', admin, false);
      resolved.stages = resolved.stages.map((st) => ({ ...st, rearmBeforeMs: 60_000 }));
      const handle = await startCampaign(client, await signedBy(team, 'campaign', 'history-estate', resolved), { taskQueue, workflowId: `campaign-history-estate-${Date.now()}` });
      const terraform = createActivities({ config: simulatorConfig(sim.url, { ORCHESTRATOR_TASK_QUEUE: taskQueue }) });
      let reverted = false;
      let approved = false;
      let moved = false;
      let decided = false;
      let step = '';
      await followToEnd(handle, () => handle.query(campaignStatusQuery), async (s: CampaignStatus) => {
        const now = `${s.currentStage ?? '-'}/${s.currentStep ?? '-'} ${s.state}`;
        if (now !== step) log('campaign-estate', (step = now));
        const armed = s.timeline.some((t) => t.step === 'auto-minor-upgrade-on' && / on notifydb-preview$/.test(t.detail ?? ''));
        if (!reverted && armed) {
          reverted = true;
          log('campaign-estate', 'terraform-pipeline turns the preview flag off');
          await terraform.setAutoMinorVersionUpgrade({ where: { region: REGION, roleArn: demoRoleArn('preview'), sessionName: 'terraform-pipeline' }, instanceId: 'notifydb-preview', enabled: false });
        }
        if (!approved && planAwaitingApproval(s)) {
          approved = true;
          await approve(handle, 'campaign', 'history-estate', 'bob', 'recorded history');
        }
        if (approved && !moved && s.state !== 'waiting-for-approval') {
          moved = true;
          log('campaign-estate', 'RDS makes 15.10 the automatic target');
          await admin.autoUpgradeTarget({ engine: 'postgres', majorVersion: '15', target: '15.10' });
        }
        if (!decided && s.waitingFor?.options?.includes('apply-in-window')) {
          decided = true;
          await act(handle, 'campaign', 'history-estate', decideUpdate, (st) => ({ action: 'decide', question: st.waitingFor?.question ?? '', askedAt: st.waitingFor?.askedAt ?? '', decision: 'apply-in-window' }), { by: 'carol', decision: 'apply-in-window' as const, comment: 'recorded history' });
        }
      }, 500);
      return handle;
    },
  },
  {
    // preview's flag turned on, then an abort while sleeping towards the window: the flag goes back off.
    name: 'campaign-aborted',
    async run({ client, admin, taskQueue }) {
      await admin.seed(fleetAtRest(Date.now(), true));
      const handle = await startCampaign(client, await signedBy(team, 'campaign', 'history-aborted', campaignSpec('history-aborted', admin, false)), { taskQueue, workflowId: `campaign-history-aborted-${Date.now()}` });
      let aborted = false;
      await followToEnd(handle, () => handle.query(campaignStatusQuery), async (s: CampaignStatus) => {
        if (!aborted && s.state === 'waiting-for-window') {
          aborted = true;
          log('campaign-aborted', 'aborting while it waits for the preview window');
          await act(handle, 'campaign', 'history-aborted', abortUpdate, (st) => ({ action: 'abort', after: st.humanActions.length }), { by: 'alice', reason: 'recorded history: change of plan' });
        }
      }, 500);
      return handle;
    },
  },
  {
    // A fleet stage: three staging instances selected by tag, upgraded now two at a time (waves), each under
    // its own probe in a child workflow of its own; the parent and the first child are recorded.
    name: 'campaign-fleet',
    async run({ client, admin, taskQueue }) {
      await admin.seed(fleetAtRest(Date.now(), false));
      const tags = { environment: 'staging', service: 'notify' };
      await admin.seed({
        reset: false,
        instances: ['notifydb-staging-jobs', 'notifydb-staging-admin'].map((id, i) => ({ region: REGION, id, engineVersion: FROM_VERSION, allocatedStorage: 20 + 10 * i, tags })),
      });
      const t = RECORDING_TIMINGS;
      const statusUrl = admin.appStatusUrl(REGION, 'INSTANCE').replace('/INSTANCE/', '/{instanceId}/');
      const spec = resolveCampaignSpec({
        campaignId: 'history-fleet',
        targetEngineVersion: TARGET_VERSION,
        requester: 'alice',
        stages: [
          {
            name: 'staging',
            region: REGION,
            select: { tags },
            waves: { maxConcurrent: 2 },
            method: 'apply-now',
            probe: { url: statusUrl, ratePerSecond: t.probe.ratePerSecond, requestTimeoutMs: 1000, settle: t.probe.settle, maxDuration: t.probe.maxDuration },
          },
        ],
        approval: { approvers: ['bob', 'carol'], reminderInterval: t.reminderInterval },
        pollInterval: t.pollInterval,
      });
      const handle = await startCampaign(client, await signedBy(team, 'campaign', 'history-fleet', spec), { taskQueue, workflowId: `campaign-history-fleet-${Date.now()}` });
      let step = '';
      await followToEnd(handle, () => handle.query(campaignStatusQuery), async (s: CampaignStatus) => {
        const f = s.stages[0]?.fleet;
        const now = `${s.currentStep ?? '-'} ${s.state}${f ? ` wave ${f.currentWave ?? 0}/${f.waves}` : ''}`;
        if (now !== step) log('campaign-fleet', (step = now));
      }, 500);
      return handle;
    },
    async alsoRecord(client, handle) {
      // The worker has stopped: the result (not a query, which needs a worker) names the children.
      const result = (await handle.result()) as CampaignResult;
      const first = result.stages[0].fleet!.instances.find((i) => i.state === 'completed')!;
      const recorded = [{ name: 'campaign-fleet-instance', handle: client.workflow.getHandle(first.workflowId) }];
      // Runs since FLEET_BATCHES_PATCH start their instances through batch workflows: the first batch too.
      const batch = client.workflow.getHandle(`${handle.workflowId}/staging/wave-1/batch-1`);
      const hasBatch = await batch.describe().then(() => true, () => false);
      return hasBatch ? [...recorded, { name: 'campaign-fleet-batch', handle: batch }] : recorded;
    },
  },
  {
    name: 'restore-cutover',
    async run({ client, admin, taskQueue }) {
      await admin.seed(fleetAtRest(Date.now(), true));
      return runRestore(client, taskQueue, 'history-cutover', async () => undefined);
    },
  },
  {
    // The private zone verified by INSYNC, the record and a real lookup through the simulator's resolver.
    name: 'restore-private-zone-cutover',
    async run({ client, sim, admin, taskQueue }) {
      await admin.seed(fleetAtRest(Date.now(), true));
      return runRestore(client, taskQueue, 'history-private', async () => undefined, [sim.dnsAddress!]);
    },
  },
  {
    // The cutover's verification fails after the switch: while it waits out the TTL, someone else repoints
    // the record. The workflow asks the team; carol decides to roll back (CNAME back, old instance started,
    // the writes since the switch reported as stranded).
    name: 'restore-decide-roll-back',
    async run({ client, sim, admin, taskQueue }) {
      await admin.seed(fleetAtRest(Date.now(), true));
      const intruder = createActivities({ config: simulatorConfig(sim.url, { ORCHESTRATOR_TASK_QUEUE: taskQueue }) });
      let meddled = false;
      let decided = false;
      return runRestore(client, taskQueue, 'history-decide', async (s, handle) => {
        if (!meddled && s.currentStep === 'waiting-for-ttl') {
          meddled = true;
          const zone = { roleArn: demoRoleArn('production'), sessionName: 'history-intruder' };
          const current = await intruder.getWeightedCname({ hostedZoneId: PRODUCTION_CNAME.hostedZoneId, recordName: PRODUCTION_CNAME.recordName, setIdentifier: PRODUCTION_CNAME.setIdentifier, access: zone });
          log('restore-decide-roll-back', 'someone else repoints the record during the TTL wait');
          await intruder.upsertWeightedCname({ record: { ...current!, value: 'someone-else.example.net' }, access: zone });
        }
        if (!decided && s.state === 'waiting-for-decision') {
          decided = true;
          await act(handle, 'restore', 'history-decide', decideUpdate, (st) => ({ action: 'decide', question: st.waitingFor?.question ?? '', askedAt: st.waitingFor?.askedAt ?? '', decision: 'roll-back' }), { by: 'carol', decision: 'roll-back' as const, comment: 'recorded history' });
        }
      });
    },
  },
  {
    // The common restore on production's real database (the simulator's PostgreSQL): rows lost by a DELETE,
    // production restored to just before it, the restored database dumped, the lost rows compared, approved by bob
    // and written back in one transaction.
    name: 'restore-extract',
    async run({ client, sim, admin, taskQueue }) {
      await admin.seed(fleetAtRest(Date.now(), true, true));
      const lost = await loseSomeRows(sim, true, (l) => log('restore-extract', l.trim()));
      const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-history-extract-'));
      const spec = resolveRestoreSpec(
        productionExtractSpec({ restoreId: 'history-extract', requester: 'alice', targetInstanceId: 'notifydb-history-extract', pollInterval: '2s', approvers: ['bob'], restoreTime: lost.restoreTime, directory, accounts: true }),
      );
      const handle = await startRestore(client, await signedBy(team, 'restore', 'history-extract', spec), { taskQueue, workflowId: `restore-history-extract-${Date.now()}` });
      await followToApproval(handle, 'history-extract', async () => undefined);
      return handle;
    },
  },
  {
    // The cutover verified on the data path too: connected through the CNAME (the simulator's resolver), the
    // restored instance's server answers.
    name: 'restore-data-path-cutover',
    async run({ client, sim, admin, taskQueue }) {
      await admin.seed(fleetAtRest(Date.now(), true, true));
      return runRestore(client, taskQueue, 'history-data-path', async () => undefined, [sim.dnsAddress!], true);
    },
  },
];

/** Follows a restore to its end, approving (bob) the one approval it asks for. */
async function followToApproval(handle: WorkflowHandle, restoreId: string, meddle: (s: RestoreStatus, handle: WorkflowHandle) => Promise<void>): Promise<void> {
  let approved = false;
  let step = '';
  await followToEnd(handle, () => handle.query(restoreStatusQuery), async (s: RestoreStatus) => {
    const now = `${s.currentStep ?? '-'} ${s.state}`;
    if (now !== step) log(restoreId, (step = now));
    const plan = planAwaitingApproval(s);
    if (!approved && plan) {
      approved = true;
      await approve(handle, 'restore', restoreId, 'bob', 'recorded history');
    }
    await meddle(s, handle);
  }, 500);
}

async function runRestore(
  client: Client,
  taskQueue: string,
  restoreId: string,
  meddle: (s: RestoreStatus, handle: WorkflowHandle) => Promise<void>,
  resolvers: string[] = [],
  database = false,
): Promise<WorkflowHandle> {
  const spec = resolvedProductionRestore({ restoreId, requester: 'alice', targetInstanceId: `notifydb-${restoreId}`, pollInterval: '2s', approvers: ['bob'], resolvers, accounts: true, database });
  const handle = await startRestore(client, await signedBy(team, 'restore', restoreId, spec), { taskQueue, workflowId: `restore-${restoreId}-${Date.now()}` });
  await followToApproval(handle, restoreId, meddle);
  return handle;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const into = args.indexOf('--into');
  if (into < 0 || !args[into + 1] || args[into + 1].startsWith('-')) throw new Error('usage: npm run record-histories -- --into FOLDER [name ...] (a new folder under test/histories, named after the code recording it)');
  const OUT_DIR = path.join(HISTORIES, args[into + 1]);
  const wanted = args.filter((_, i) => i !== into && i !== into + 1);
  const chosen = wanted.length ? scenarios.filter((s) => wanted.includes(s.name)) : scenarios;
  if (chosen.length !== (wanted.length || scenarios.length)) {
    throw new Error(`unknown scenario in ${wanted.join(', ')}; have ${scenarios.map((s) => s.name).join(', ')}`);
  }
  // ERROR: every retry-based poll (NotReady) is logged as a failed activity at WARN.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  team = makeTeam(fs.mkdtempSync(path.join(os.tmpdir(), 'rds-history-keys-')), ['alice', 'bob', 'carol']);
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const closers = new Closers((err) => console.error(err));
  const env = await startDevServer();
  closers.add(() => env.teardown());
  try {
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: (m: string) => console.error(m) } });
    const results = await Promise.allSettled(
      chosen.map(async (scenario, i) => {
        // The estate of the runbook: three accounts; the zone (and so the DNS server's view) in production's.
        const { sim, admin } = await startLocalSimulator(closers, { speed: 5, dnsPort: 0, dnsAccount: DEMO_ACCOUNTS.production });
        const taskQueue = `record-${scenario.name}-${process.pid}-${i}`;
        const worker = await Worker.create({
          connection: env.nativeConnection,
          taskQueue,
          workflowBundle,
          activities: createActivities({ config: simulatorConfig(sim.url, { ORCHESTRATOR_TASK_QUEUE: taskQueue, ORCHESTRATOR_ALLOWED_SIGNERS: team.allowedSignersFile }, sim.dnsAddress) }),
        });
        closers.add(() => worker.getState() === 'RUNNING' && worker.shutdown());
        const handle = await worker.runUntil(scenario.run({ client: env.client, sim, admin, taskQueue }));
        const others = (await scenario.alsoRecord?.(env.client, handle)) ?? [];
        for (const { name, handle: h } of [{ name: scenario.name, handle }, ...others]) {
          const history = await h.fetchHistory();
          const file = path.join(OUT_DIR, `${name}.json`);
          const json = historyToJSON(history);
          if (historyFromJSON(JSON.parse(json)).events?.length !== history.events?.length) throw new Error(`${name}: the JSON does not load back`);
          fs.writeFileSync(file, `${json}\n`);
          const desc = await h.describe();
          log(name, `${desc.status.name}: ${history.events?.length} events → ${path.relative(process.cwd(), file)}`);
        }
      }),
    );
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length) throw new AggregateError(failed.map((f) => f.reason), `${failed.length} scenario(s) failed`);
  } finally {
    await closers.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
