/**
 * The main job (`npm start`): an embedded Temporal dev server with its Web UI, the AWS simulator seeded
 * with a preview/staging/production fleet, and a worker, all in this process; then a whole upgrade
 * campaign with demo timings (windows minutes apart, a short notice marked as a demo override), and the
 * restore-then-cutover runbook. Live progress on the terminal; approvals from a second terminal with the
 * CLI, or `--auto-approve` for CI and scripts.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';
import {
  approveUpdate,
  campaignStatusQuery,
  campaignWorkflowId,
  restoreStatusQuery,
  restoreWorkflowId,
  TASK_QUEUE,
  type CampaignSpec,
  type CampaignStatus,
  type RestoreSpec,
  type RestoreStatus,
  type TimelineEntry,
  type WaitingFor,
} from './api';
import { loadConfig } from './config';
import { ALL_SEARCH_ATTRIBUTES } from './search-attributes';
import { startSimulator, type RunningSimulator } from './sim/server';
import { SimAdminClient } from './sim/client';
import { DEMO_BASTION_SECURITY_GROUP_ID, DEMO_VPC_ID, demoFleet, demoInstanceId } from './sim/seed';
import { temporalExecutable } from './temporal-binaries';
import { createWorker } from './worker';
import { describeWait, humanDuration, table } from './cli/format';

export type DemoScenario = 'campaign' | 'restore' | 'all';

export interface DemoOptions {
  autoApprove: boolean;
  scenario: DemoScenario;
  /** Compressed timings for CI: simulator at 5x, production window ~3 minutes after preview's. */
  fast: boolean;
  /** 0 = a random free port. Default 7233 / 8233 so the CLI's defaults reach the demo. */
  temporalPort: number;
  uiPort: number;
  simPort: number;
  out: (line: string) => void;
  /** Leave servers running after the scenarios (tests inspect the simulator, then call close()). */
  keepRunning?: boolean;
}

export interface DemoResult {
  campaign?: CampaignStatus;
  restore?: RestoreStatus;
  simUrl: string;
  temporalAddress: string;
  close(): Promise<void>;
}

const REGION = 'eu-west-2';
const TARGET = '15.8';
const MINUTE = 60_000;
const DEMO_APPROVER = 'demo-approver';

function demoCampaignSpec(campaignId: string, sim: SimAdminClient, fast: boolean): CampaignSpec {
  return {
    campaignId,
    targetEngineVersion: TARGET,
    requester: 'demo-requester',
    stages: [
      { name: 'preview', region: REGION, instanceId: demoInstanceId('preview'), method: 'maintenance-window', grace: '2m' },
      {
        name: 'staging',
        region: REGION,
        instanceId: demoInstanceId('staging'),
        method: 'apply-now',
        probe: { url: sim.appStatusUrl(REGION, demoInstanceId('staging')), ratePerSecond: 5, requestTimeoutMs: 1000, settle: '5s', maxDuration: '10m' },
      },
      {
        name: 'production',
        region: REGION,
        instanceId: demoInstanceId('production'),
        method: 'maintenance-window',
        notice: { minimum: fast ? '1m' : '3m', overrideReason: 'DEMO ONLY: windows minutes apart; real campaigns give 14 days notice' },
        precheckBefore: '30s',
        grace: '2m',
      },
    ],
    approval: { reminderInterval: '2m' },
    pollInterval: '3s',
  };
}

/** `resolver`: the simulator's DNS server, standing in for the VPC's Route 53 Resolver of the private zone. */
function demoRestoreSpec(restoreId: string, target: string, resolver: string): RestoreSpec {
  return {
    restoreId,
    requester: 'demo-requester',
    source: { region: REGION, instanceId: demoInstanceId('production') },
    targetInstanceId: target,
    restoreTime: 'latest',
    bastion: { securityGroupId: DEMO_BASTION_SECURITY_GROUP_ID, port: 5432 },
    cutover: {
      hostedZoneId: 'ZDEMONOTIFY0001',
      recordName: 'db.production.notify.internal',
      setIdentifier: demoInstanceId('production'),
      weight: 100,
      ttlSeconds: 60,
      lowerTtlFirstTo: 5,
      resolvers: [resolver],
    },
    pollInterval: '3s',
  };
}

/** Prints new timeline entries and changes of what the workflow waits for; a countdown every 15 s. */
class ProgressPrinter {
  private seen = 0;
  private lastWait = '';
  private lastCountdown = 0;
  constructor(private readonly out: (l: string) => void) {}

  show(timeline: TimelineEntry[], waitingFor: WaitingFor | undefined): void {
    for (const t of timeline.slice(this.seen)) {
      const time = t.at.slice(11, 19);
      this.out(`  ${time}  ${(t.stage ?? '').padEnd(10)} ${t.step}${t.by ? ` by ${t.by}` : ''}${t.detail ? ` — ${t.detail}` : ''}`);
    }
    this.seen = timeline.length;
    const wait = waitingFor ? `${waitingFor.kind}|${waitingFor.description}|${waitingFor.until ?? ''}` : '';
    const now = Date.now();
    if (wait && (wait !== this.lastWait || (waitingFor?.until && now - this.lastCountdown > 15_000))) {
      this.out(`           ⏳ waiting for ${describeWait(waitingFor, now)}`);
      this.lastCountdown = now;
    }
    this.lastWait = wait;
  }
}

async function follow<S extends { state: string; timeline: TimelineEntry[]; waitingFor?: WaitingFor }>(
  handle: WorkflowHandle,
  query: () => Promise<S>,
  out: (l: string) => void,
  onWaiting: (s: S) => Promise<void>,
): Promise<S> {
  const printer = new ProgressPrinter(out);
  const done = handle.result().then(
    () => true,
    () => true,
  );
  let finished = false;
  void done.then(() => (finished = true));
  for (;;) {
    const s = await query();
    printer.show(s.timeline, s.waitingFor);
    if (finished) return s;
    await onWaiting(s);
    await Promise.race([done, new Promise((r) => setTimeout(r, 1000))]);
  }
}

export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const { out } = opts;
  const started = Date.now();
  const stamp = new Date(started).toISOString().slice(0, 19).replace(/[-:T]/g, '').slice(4);
  out('Starting the AWS simulator, the Temporal dev server and a worker...');
  const sim: RunningSimulator = await startSimulator({ port: opts.simPort, speed: opts.fast ? 5 : 1, dnsPort: 0, dnsVpcId: DEMO_VPC_ID });
  const admin = new SimAdminClient(sim.url);
  const closers: (() => Promise<void>)[] = [() => sim.close()];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  };
  try {
    // Windows: preview's opens 45-105 s from now (time to arm the flag), production's a few minutes later.
    const base = Math.ceil((Date.now() + 45_000) / MINUTE) * MINUTE;
    await admin.seed(demoFleet(base, { windowOffsetsMinutes: { preview: 0, staging: 30, production: opts.fast ? 3 : 7 } }));

    const env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: temporalExecutable('cli'),
        ip: '127.0.0.1',
        ...(opts.temporalPort ? { port: opts.temporalPort } : {}),
        ...(opts.uiPort ? { ui: true, uiPort: opts.uiPort } : {}),
        searchAttributes: ALL_SEARCH_ATTRIBUTES,
        log: { format: 'pretty', level: 'error' },
      },
    });
    closers.push(() => env.teardown());
    const address = env.connection.options.address;
    const config = loadConfig({
      ...process.env,
      TEMPORAL_ADDRESS: address,
      ORCHESTRATOR_AWS_ENDPOINT: sim.url,
      STATUSPAGE_BASE_URL: `${sim.url}/statuspage/v1`,
      STATUSPAGE_API_KEY: 'demo-key',
      STATUSPAGE_PAGE_ID: 'demo-page',
    });
    // Without a webhook, notifications are shown as what would have been posted to the team's channel.
    const notifyLog = (line: string) => out(`           📣 ${line.replace(/^\[notify ([^\]]+)\] \S+( \([^)]*\))?: /, '$1: ')}`);
    const worker = await createWorker({ connection: env.nativeConnection, namespace: 'default', taskQueue: TASK_QUEUE, config, notifyLog });
    const running = worker.run();
    closers.push(async () => {
      worker.shutdown();
      await running;
    });

    out('');
    out(`  Temporal:   ${address}   (namespace default, task queue ${TASK_QUEUE})`);
    if (opts.uiPort) out(`  Web UI:     http://127.0.0.1:${opts.uiPort}`);
    out(`  Simulator:  ${sim.url}   (AWS APIs, Statuspage at /statuspage/v1, admin at /_sim)`);
    out(`  Fleet:      ${['preview', 'staging', 'production'].map((e) => demoInstanceId(e as 'preview')).join(', ')} on PostgreSQL 15.5`);
    out('');

    const result: DemoResult = { simUrl: sim.url, temporalAddress: address, close };
    const cli = `TEMPORAL_ADDRESS=${address} ./bin/rds-orchestrator`;

    if (opts.scenario !== 'restore') {
      const campaignId = `demo-${stamp}`;
      const spec = demoCampaignSpec(campaignId, admin, opts.fast);
      out(`Campaign ${campaignId}: PostgreSQL 15.5 → ${TARGET}, preview → staging → production`);
      out(`  NOTICE OVERRIDE (demo): production notice ${spec.stages[2].notice!.minimum} instead of 14 days`);
      out(`  follow it in another terminal: ${cli} campaign status ${campaignId}`);
      const handle = await env.client.workflow.start('upgradeCampaign', { args: [spec], taskQueue: TASK_QUEUE, workflowId: campaignWorkflowId(campaignId) });
      let told = false;
      result.campaign = await follow(handle, () => handle.query(campaignStatusQuery), out, async (s) => {
        if (s.state !== 'waiting-for-approval' || !s.waitingFor?.plan) return;
        if (opts.autoApprove) {
          out(`  (--auto-approve) approving as ${DEMO_APPROVER}: ${s.waitingFor.plan}`);
          await handle.executeUpdate(approveUpdate, { args: [{ by: DEMO_APPROVER, plan: s.waitingFor.plan, comment: 'demo auto-approval' }] });
        } else if (!told) {
          told = true;
          out('');
          out('  >>> Production needs an approval by someone other than the requester (demo-requester). In a second terminal:');
          out(`  >>>   ${cli} campaign approve ${campaignId} --as your-name`);
          out('  >>> (approve before the proposed window is less than the notice away, or the campaign proposes next week\'s)');
          out('');
        }
      });
      out('');
      out(`Campaign ${campaignId} ${result.campaign.state.toUpperCase()} in ${humanDuration(Date.now() - started)}`);
      out(
        table([
          ['STAGE', 'INSTANCE', 'FROM', 'TO', 'STATUS', 'DOWNTIME', 'TIME TAKEN'],
          ...result.campaign.stages.map((st) => [
            st.name,
            st.instanceId,
            st.fromVersion ?? '?',
            st.toVersion,
            st.status,
            st.downtimeSeconds !== undefined ? `${st.downtimeSeconds}s (probe)` : '-',
            st.startedAt && st.endedAt ? humanDuration(Date.parse(st.endedAt) - Date.parse(st.startedAt)) : '-',
          ]),
        ]),
      );
      if (result.campaign.failure) out(`  failure: ${result.campaign.failure}`);
      for (const f of result.campaign.followUps) out(`  follow-up: ${f}`);
      out('');
    }

    if (opts.scenario !== 'campaign') {
      const restoreId = `demo-${stamp}`;
      const target = `notifydb-restore-${stamp}`;
      out(`Restore ${restoreId}: ${demoInstanceId('production')} at its latest restorable time → ${target}, then cut the db CNAME over`);
      const handle = await env.client.workflow.start('restoreAndCutover', {
        args: [demoRestoreSpec(restoreId, target, sim.dnsAddress!)],
        taskQueue: TASK_QUEUE,
        workflowId: restoreWorkflowId(restoreId),
      });
      let told = false;
      result.restore = await follow(handle, () => handle.query(restoreStatusQuery), out, async (s) => {
        if (s.state !== 'waiting-for-approval' || !s.waitingFor?.plan) return;
        if (opts.autoApprove) {
          out(`  (--auto-approve) approving the cutover as ${DEMO_APPROVER}`);
          await handle.executeUpdate(approveUpdate, { args: [{ by: DEMO_APPROVER, plan: s.waitingFor.plan, comment: 'demo auto-approval' }] });
        } else if (!told) {
          told = true;
          out(`  >>> The cutover needs an approval. In a second terminal:  ${cli} restore approve ${restoreId} --as your-name`);
        }
      });
      out(`Restore ${restoreId} ${result.restore.state.toUpperCase()}: ${result.restore.target.instanceId} at ${result.restore.target.endpoint ?? '?'}`);
      if (result.restore.failure) out(`  failure: ${result.restore.failure}`);
      if (result.restore.rollback) out(`  rolled back: ${result.restore.rollback.reason}; ${result.restore.rollback.steps.join('; ')}`);
      for (const f of result.restore.followUps) out(`  follow-up: ${f}`);
      out('');
    }

    if (!opts.keepRunning) await close();
    return result;
  } catch (err) {
    await close();
    throw err;
  }
}

const USAGE = `usage: npm start -- [--auto-approve] [--scenario campaign|restore|all] [--fast] [--temporal-port N] [--ui-port N] [--sim-port N]`;

export function parseDemoArgs(argv: string[], out: (l: string) => void): DemoOptions {
  const opts: DemoOptions = { autoApprove: false, scenario: 'all', fast: false, temporalPort: 7233, uiPort: 8233, simPort: 4599, out };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${a} needs a port number\n${USAGE}`);
      return n;
    };
    if (a === '--auto-approve') opts.autoApprove = true;
    else if (a === '--fast') opts.fast = true;
    else if (a === '--scenario') {
      const v = argv[++i];
      if (v !== 'campaign' && v !== 'restore' && v !== 'all') throw new Error(`--scenario must be campaign, restore or all\n${USAGE}`);
      opts.scenario = v;
    } else if (a === '--temporal-port') opts.temporalPort = num();
    else if (a === '--ui-port') opts.uiPort = num();
    else if (a === '--sim-port') opts.simPort = num();
    else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  return opts;
}

export async function demoMain(argv: string[]): Promise<number> {
  const out = (l: string) => console.log(l);
  let opts: DemoOptions;
  try {
    opts = parseDemoArgs(argv, out);
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  // The demo's own process: keep the worker's logs to errors, the progress lines say the rest.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const result = await runDemo(opts);
  const ok = (result.campaign?.state ?? 'completed') === 'completed' && (result.restore?.state ?? 'completed') === 'completed';
  return ok ? 0 : 5;
}

if (require.main === module) {
  // The SDK warns that its releases after January 2027 need Node 22; package-lock.json pins today's release.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  demoMain(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(`demo failed: ${(err as Error).message}`);
      if (/EADDRINUSE|address already in use/i.test(String(err))) console.error('A port is taken: pass --temporal-port/--ui-port/--sim-port (0 = any free port).');
      process.exit(1);
    },
  );
}
