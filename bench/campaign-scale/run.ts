/**
 * The largest campaign one run allows, driven to its end on the time-skipping server, to measure what grows with
 * the fleet: the campaign's own history and its batches' (events, bytes, the longest workflow task), a replay of
 * each from its first event (what a worker that lost the workflow from its cache does in one workflow task), and
 * the campaign's status query (a stage of more than 1,000 instances lists those needing attention), its result,
 * and what `campaign status --all` (page by page) and `--instance` ask of it.
 *
 *   npm run bench:campaign-scale                      # the most one campaign allows (10,000) in 50 accounts × 2 regions
 *   npm run bench:campaign-scale -- --instances 1000 --accounts 10 --replays 5 --keep-history FILE --out FILE
 *
 * The real `upgradeCampaign` and `upgradeFleetBatch` and the real activities against the AWS simulator (a child
 * process, each account reached by its role, each account and region under AWS's RDS bucket, 300 and 12/s); each
 * instance's own workflow is a stand-in that ends at once with the result a real one gives (./workflows.ts), since
 * its history does not grow with the fleet and the other benches measure it. The shape reaches the campaign's bound of batches
 * (src/domain/fleet.ts MAX_BATCHES_PER_CAMPAIGN, 500; 600 before) as preflight counts it: preview (maintenance window) and
 * staging (apply now) in waves as small as that allows, production with approval in 300
 * window groups, the first of 500 instances in one batch (instancesPerWorkflow 500, the most a batch may hold).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { approveUpdate, campaignStatusQuery, type CampaignSpec, type CampaignStatus, type StageSpec } from '../../src/api';
import { resolveCampaignSpec } from '../../src/input';
import { MAX_BATCHES_PER_CAMPAIGN, MAX_INSTANCES_PER_CAMPAIGN, windowGroupBatchesAtMost } from '../../src/domain/fleet';
import { STATUS_LISTS_AT_MOST } from '../../src/domain/fleet-status';
import { statusFor, wholeCampaignStatus } from '../../src/cli/fleet-instance';
import { historyToJSON } from '../../dev/history-json';
import { startTimeSkippingServer } from '../../dev/temporal-server';
import { createActivities, createNotifyActivities } from '../../src/activities';
import { Closers } from '../../dev/closers';
import { simulatorConfig, spawnSimulator } from '../../dev/simulator';
import type { SeedInstance, SeedRole } from '../../sim';

type History = temporal.api.history.v1.IHistory;

const REGIONS = ['eu-west-1', 'eu-west-2'];
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const accountOf = (n: number) => String(300000000000 + n);
/** The account of the worker's own credentials in the simulator (its dummy keys): every role trusts it. */
const CALLER_ACCOUNT = '123456789012';
const roleOf = (account: string) => `arn:aws:iam::${account}:role/rds-orchestrator`;
const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: (m: string) => console.error(m) };

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** The n-th weekly half-hour window, spread over the week: `ddd:hh24:mi-ddd:hh24:mi`. */
function halfHour(n: number): string {
  const day = n % 7;
  const half = Math.floor(n / 7) % 48;
  const at = (h: number) => `${String(Math.floor(h / 2)).padStart(2, '0')}:${h % 2 ? '30' : '00'}`;
  return half === 47 ? `${DAYS[day]}:23:30-${DAYS[(day + 1) % 7]}:00:00` : `${DAYS[day]}:${at(half)}-${DAYS[day]}:${at(half + 1)}`;
}

/** N instances over `accounts` × 2 regions, a third per stage; production's first `bigGroup` share one window. */
function seed(n: number, accounts: number, windows: number, bigGroup: number): { roles: SeedRole[]; instances: SeedInstance[] } {
  const roles: SeedRole[] = Array.from({ length: accounts }, (_, a) => ({ account: accountOf(a + 1), name: 'rds-orchestrator', trust: { accounts: [CALLER_ACCOUNT] } }));
  const instances: SeedInstance[] = [];
  let production = 0;
  for (let i = 0; i < n; i++) {
    const place = i % (accounts * REGIONS.length);
    const account = accountOf(1 + (place % accounts));
    const region = REGIONS[Math.floor(place / accounts)];
    const environment = ['preview', 'staging', 'production'][i % 3];
    let window = 'sun:03:00-sun:03:30';
    if (environment === 'production') {
      window = halfHour(production < bigGroup ? 0 : 1 + ((production - bigGroup) % (windows - 1)));
      production += 1;
    }
    const id = `db-${account}-${region}-${String(i).padStart(5, '0')}`;
    instances.push({ account, region, id, engineVersion: '15.5', allocatedStorage: 20, preferredMaintenanceWindow: window, autoMinorVersionUpgrade: false, tags: { environment, team: 'notify' } });
  }
  return { roles, instances };
}

/**
 * Waves as small as the campaign's bound of batches allows: production with approval counts, as preflight does, a
 * batch per weekly half-hour and one per 500 instances; preview and staging share what is left.
 */
function spec(n: number, accounts: number): CampaignSpec {
  const from = REGIONS.flatMap((region) => Array.from({ length: accounts }, (_, a) => ({ region, aws: { roleArn: roleOf(accountOf(a + 1)) } })));
  const select = (environment: string) => ({ tags: { environment, team: 'notify' }, from });
  const production = Math.floor(n / 3);
  const wavesEach = Math.floor((MAX_BATCHES_PER_CAMPAIGN - windowGroupBatchesAtMost(production, 500)) / 2);
  const maxConcurrent = Math.ceil(Math.ceil(n / 3) / wavesEach);
  const stages: StageSpec[] = [
    { name: 'preview', region: 'eu-west-2', select: select('preview'), method: 'maintenance-window', waves: { maxConcurrent } },
    { name: 'staging', region: 'eu-west-2', select: select('staging'), method: 'apply-now', waves: { maxConcurrent }, probe: { url: 'http://status.example/{instanceId}/_status' } },
    { name: 'production', region: 'eu-west-2', select: select('production'), method: 'maintenance-window', waves: { instancesPerWorkflow: 500 } },
  ];
  return { campaignId: 'campaign-scale', targetEngineVersion: '15.8', requester: 'alice', stages, pollInterval: '5m', approval: { approvers: ['bob'] } };
}

/** A history's events, its size as the server stores it, and its longest workflow task (started → completed). */
function measure(h: History): { events: number; bytes: number; longestTaskMs: number; childrenStarted: number } {
  const events = h.events ?? [];
  let longest = 0;
  let started: number | undefined;
  for (const e of events) {
    const at = Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
    if (e.workflowTaskStartedEventAttributes) started = at;
    if (e.workflowTaskCompletedEventAttributes && started !== undefined) longest = Math.max(longest, at - started);
  }
  return {
    events: events.length,
    bytes: temporal.api.history.v1.History.encode(h).finish().length,
    longestTaskMs: longest,
    childrenStarted: events.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes).length,
  };
}

/** Replays a history from its first event: a fresh replay worker each time (cold), then in one warm replay worker. */
async function replay(bundle: Awaited<ReturnType<typeof bundleWorkflowCode>>, workflowId: string, history: History, times: number) {
  const cold: number[] = [];
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    await Worker.runReplayHistory({ workflowBundle: bundle }, history, workflowId);
    cold.push(performance.now() - t0);
  }
  async function* many() {
    for (let i = 0; i < times + 1; i++) yield { workflowId, history };
  }
  const warm: number[] = [];
  let t = performance.now();
  let first = true;
  for await (const r of Worker.runReplayHistories({ workflowBundle: bundle }, many())) {
    if (r.error) throw r.error;
    const now = performance.now();
    if (!first) warm.push(now - t);
    first = false;
    t = now;
  }
  const round = (xs: number[]) => xs.map((x) => Math.round(x));
  return { coldMs: round(cold), warmMs: round(warm) };
}

async function timedQuery(handle: WorkflowHandle): Promise<{ status: CampaignStatus; ms: number; bytes: number }> {
  const t0 = performance.now();
  const status = await handle.query(campaignStatusQuery);
  return { status, ms: Math.round(performance.now() - t0), bytes: Buffer.byteLength(JSON.stringify(status)) };
}

async function main() {
  const closers = new Closers();
  try {
    await measureCampaign(closers);
  } finally {
    await closers.close();
  }
}

async function measureCampaign(closers: Closers) {
  const n = Number(option('instances', String(MAX_INSTANCES_PER_CAMPAIGN)));
  const accounts = Number(option('accounts', '50'));
  const out = option('out', path.join(__dirname, '..', 'results', `${new Date().toISOString().slice(0, 10)}-campaign-scale-${n}.json`));
  const started = performance.now();
  const log = (m: string) => console.log(`${((performance.now() - started) / 1000).toFixed(1).padStart(7)} s  ${m}`);

  Runtime.install({ logger: new DefaultLogger('WARN') });
  const simulator = await spawnSimulator(closers, { speed: 10 });
  await simulator.admin.seed({ reset: true, ...seed(n, accounts, 300, Math.min(500, Math.floor(n / 6))) });
  await simulator.admin.throttle({ burst: 300, ratePerSecond: 12 });
  log(`simulator seeded: ${n} instances in ${accounts} accounts × ${REGIONS.length} regions, each under AWS's RDS bucket`);
  const env = await startTimeSkippingServer();
  closers.add(() => env.teardown());
  const config = simulatorConfig(simulator.url, { ...process.env, ORCHESTRATOR_NOTIFY_WEBHOOK_URL: '' });
  const activities = { ...createActivities({ config }), ...createNotifyActivities({ log: () => undefined }) };
  const bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: quiet as never });
  const taskQueue = 'campaign-scale';
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities, maxCachedWorkflows: 2000 });
  const result: Record<string, unknown> = { instances: n, accounts, regions: REGIONS };
  try {
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start('upgradeCampaign', { args: [resolveCampaignSpec(spec(n, accounts))], taskQueue, workflowId: `campaign-scale-${n}` });
      log(`campaign started: ${n} instances in ${accounts} accounts × ${REGIONS.length} regions`);
      // Preview and staging run to their end; production asks for approval. Its plan names the first window of each
      // group at least 14 days ahead, so an approval given once time moved on may be for a plan already replaced: the
      // driver approves the plan it is asked for until the campaign goes on.
      let asked: { status: CampaignStatus; ms: number; bytes: number } | undefined;
      let approvals = 0;
      for (let i = 0; i < 400; i++) {
        asked = await timedQuery(handle);
        if (asked.status.waitingFor?.kind === 'approval') {
          if (approvals === 0) {
            log(`production asks for approval; status query ${asked.ms} ms, ${asked.bytes} bytes`);
            result.statusAtApproval = { ms: asked.ms, bytes: asked.bytes };
          }
          if (++approvals > 5) throw new Error(`approved 5 times, still asked: ${asked.status.waitingFor.description.slice(0, 300)}`);
          log(`approved: ${await handle.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: asked.status.waitingFor.plan! }] })}`);
          continue;
        }
        if (approvals > 0 || ['completed', 'aborted', 'failed'].includes(asked.status.state)) break;
        await env.sleep(3600_000);
      }
      // Time moves on only while someone waits: a day at a time, with the campaign's progress.
      for (let day = 0; day < 60; day++) {
        const s = await handle.query(campaignStatusQuery);
        if (['completed', 'aborted', 'failed'].includes(s.state)) break;
        if (day % 3 === 0) log(`day ${day}: ${s.state} ${s.currentStep} ${JSON.stringify(s.timeline.slice(-2))}: ${s.stages.map((x) => `${x.name} ${JSON.stringify(x.fleet?.counts)}`).join('; ')}${s.waitingFor ? `; waiting for ${s.waitingFor.kind}: ${s.waitingFor.description.slice(0, 200)}` : ''}`);
        await env.sleep(86_400_000);
      }
      const end = await handle.result();
      log(`campaign ${end.state}`);
      const last = await timedQuery(handle);
      const counts = last.status.stages.map((s) => ({ stage: s.name, ...(s.fleet?.counts ?? {}) }));
      result.state = end.state;
      result.counts = counts;
      result.statusAtEnd = { ms: last.ms, bytes: last.bytes };
      log(`status query ${last.ms} ms, ${last.bytes} bytes: ${JSON.stringify(counts)}`);
      result.resultBytes = Buffer.byteLength(JSON.stringify(end));
      // What `campaign status --all` and `--instance` ask of a campaign this large (each query after the end is a replay).
      let t = performance.now();
      const whole = await wholeCampaignStatus(handle);
      const wholeMs = Math.round(performance.now() - t);
      const listed = whole.stages.reduce((k, st) => k + (st.fleet?.instances.length ?? 0), 0);
      const pages = Math.max(1, ...last.status.stages.map((st) => (st.fleet?.listed ? Math.ceil(st.fleet.listed.of / STATUS_LISTS_AT_MOST) : 0))) + 1;
      const anyone = whole.stages.find((st) => st.fleet?.instances.length)!.fleet!.instances.at(-1)!;
      t = performance.now();
      const one = await statusFor(handle, `${anyone.region}/${anyone.instanceId}`);
      const oneMs = Math.round(performance.now() - t);
      const found = one.stages.reduce((k, st) => k + (st.fleet?.instances.length ?? 0), 0);
      result.statusAll = { ms: wholeMs, queries: pages, instancesListed: listed };
      result.statusInstance = { ms: oneMs, bytes: Buffer.byteLength(JSON.stringify(one)), instancesListed: found };
      log(`result ${result.resultBytes} bytes; --all: ${listed} instances in ${pages} queries, ${wholeMs} ms; --instance: ${found} listed, ${oneMs} ms`);
    });
  } catch (err) {
    console.error(err);
    throw err;
  }

  // A history page can pass gRPC's default 4 MB: read them on a connection that takes more.
  const big = new Client({ connection: await Connection.connect({ address: env.address, channelArgs: { 'grpc.max_receive_message_length': 256 * 1024 * 1024 } }), namespace: env.namespace });
  const workflowId = `campaign-scale-${n}`;
  const history = await big.workflow.getHandle(workflowId).fetchHistory();
  const campaign = measure(history);
  const keep = option('keep-history', '');
  if (keep) fs.writeFileSync(keep, historyToJSON(history));
  log(`campaign history: ${JSON.stringify(campaign)}`);
  const batchIds = (history.events ?? []).flatMap((e) => (e.startChildWorkflowExecutionInitiatedEventAttributes ? [e.startChildWorkflowExecutionInitiatedEventAttributes.workflowId!] : []));
  const batches: { workflowId: string; events: number; bytes: number; longestTaskMs: number; childrenStarted: number }[] = [];
  let largest: History | undefined;
  for (const id of batchIds) {
    const h = await big.workflow.getHandle(id).fetchHistory();
    const m = { workflowId: id, ...measure(h) };
    if (!batches.length || m.events > Math.max(...batches.map((b) => b.events))) largest = h;
    batches.push(m);
  }
  batches.sort((a, b) => b.events - a.events);
  const biggest = batches[0];
  log(`${batches.length} batches; largest ${JSON.stringify(biggest)}`);
  result.campaign = campaign;
  result.batches = {
    count: batches.length,
    largest: biggest,
    eventsTotal: batches.reduce((s, b) => s + b.events, 0),
    longestTaskMs: Math.max(...batches.map((b) => b.longestTaskMs)),
  };

  const replays = Number(option('replays', '3'));
  result.replayCampaign = await replay(bundle, workflowId, history, replays);
  log(`campaign replay from its first event: ${JSON.stringify(result.replayCampaign)}`);
  result.replayLargestBatch = await replay(bundle, biggest.workflowId, largest!, replays);
  log(`largest batch replay: ${JSON.stringify(result.replayLargestBatch)}`);
  result.wallSeconds = Math.round((performance.now() - started) / 1000);
  result.node = process.version;
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  log(`written to ${out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
