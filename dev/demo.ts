/**
 * The demo (`npm start`; dev tooling, not shipped): the local stack (./stack.ts: an embedded Temporal dev
 * server with its Web UI, the AWS simulator seeded with a fleet of three databases per environment
 * (preview/staging/production), and a worker, all in this process), then a whole upgrade campaign of fleet
 * stages with demo timings (windows minutes apart, a short notice marked as a demo override): preview's
 * listed databases in one wave in their shared window, staging's selected by tags two at a time under the
 * probe, production's selected by tags with one approval and an announcement per window group. Then the
 * restore-then-cutover runbook on `notifydb-production`; both started through src/client with resolved
 * specs. Live progress on the terminal (each fleet stage's wave and counts); approvals from a second
 * terminal with the CLI, or `--auto-approve` for CI and scripts.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import {
  campaignStatusQuery,
  restoreStatusQuery,
  TASK_QUEUE,
  type CampaignStatus,
  type ResolvedStage,
  type RestoreStatus,
  type StageReport,
  type TimelineEntry,
  type WaitingFor,
} from '../src/api';
import { describeCounts } from '../src/domain/fleet';
import { describeWindowGroup, describeWindowGroups } from '../src/domain/window-group';
import { startCampaign, startRestore } from '../src/client';
import { describeWait, humanDuration, table } from '../src/cli/format';
import { DEMO_ACCOUNTS, DEMO_ENVIRONMENTS, DEMO_ROLE_NAME, type DemoEnvironment, DEMO_VPC_ID, demoInstanceId, findPostgresBinDir } from '../sim';
import { DEMO_FLEET_SIZE, DEMO_FLEET_TAGS, FROM_VERSION, TARGET_VERSION, fleetInstanceIds, fleetOfThreeWithWindows, productionExtractSpec, resolvedFleetWavesCampaign, resolvedProductionRestore, type CampaignTimings } from './fixtures';
import { followToEnd, planAwaitingApproval } from './follow';
import { startLocalStack } from './stack';
import { hasSshKeygen, keyOf, makeTeam, signedBy, type Team } from './people';
import { PROJECT_ROOT } from './temporal-binaries';
import { approveAskedPlan } from '../src/cli/context';
import path from 'node:path';
import { clockTime, nextWholeMinute, sleep } from './time';
import { extractDirectory, loseSomeRows, productionRowCount, type LostRows } from './demo-extract';
import { resolveRestoreSpec } from '../src/input';
import { campaignHandle, restoreHandle } from '../src/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { DEFAULT_DEMO_STATE_DIR, DEMO_STATE_VERSION, DemoState, type SavedDemo } from './demo-state';

export type DemoScenario = 'campaign' | 'restore' | 'all';

export interface DemoOptions {
  autoApprove: boolean;
  scenario: DemoScenario;
  /** Compressed timings for CI: simulator at 5x, production window 2 minutes after preview's, a 30 s notice (see demoClock). */
  fast: boolean;
  /** 0 = a random free port. Default 7233 / 8233 so the CLI's defaults reach the demo. */
  temporalPort: number;
  uiPort: number;
  simPort: number;
  out: (line: string) => void;
  /** On a terminal: the countdown line, rewritten in place (see terminalLine); without one, a line a minute. */
  live?: (line: string | undefined) => void;
  /** Leave servers running after the scenarios (tests inspect the simulator, then call close()). */
  keepRunning?: boolean;
  /**
   * Where the dev server's database, the simulator's state and demo.json are kept (./demo-state.ts): a start
   * finds the runs an earlier one left and follows them. Absent: everything in memory (the e2e test).
   */
  stateDir?: string;
  /** Forget what `stateDir` holds and start over. */
  fresh?: boolean;
  /** The campaign's stages, in order (default preview, staging, production; the Ctrl-C test runs the first two). */
  stages?: DemoEnvironment[];
  /** How production is upgraded (`--production`): in its maintenance window (default) or by Blue/Green. */
  production?: 'maintenance-window' | 'blue-green';
  /** Aborted on Ctrl-C: runDemo stops following, shuts the stack down quickly and rejects with DemoInterrupted. */
  signal?: AbortSignal;
}

/** runDemo was interrupted; `message` is the one line that says where the demo stands and how to go on. */
export class DemoInterrupted extends Error {}

export interface DemoResult {
  campaign?: CampaignStatus;
  /** The data-loss scene's restore with extract (absent without PostgreSQL here). */
  extract?: RestoreStatus;
  /** What the application lost, and the rows production has after the extract. */
  lostRows?: LostRows & { productionRowsAfter: number };
  restore?: RestoreStatus;
  /** What the workers answered to an approval signed with a key the allowed signers do not give its signer. */
  forgedApprovals: string[];
  /** The demo's people and keys (undefined: no ssh-keygen here, identities unverified). */
  team?: Team;
  simUrl: string;
  temporalAddress: string;
  close(): Promise<void>;
}

const DEMO_REQUESTER = 'demo-requester';
const DEMO_APPROVER = 'demo-approver';
/** Someone with an SSH key the team never listed, who tries to approve as the approver. */
const DEMO_FORGER = 'mallory';
/** The demo's keys and allowed-signers file (git-ignored), made once and reused. */
const DEMO_KEYS_DIR = path.join(PROJECT_ROOT, '.rds-orchestrator', 'demo-keys');

/** Windows minutes apart, a probe that settles in seconds, reminders every 2 minutes; `--fast` shortens production's notice and polls every second. */
function demoTimings(fast: boolean): CampaignTimings {
  return {
    pollInterval: fast ? '1s' : '3s',
    probe: { ratePerSecond: 5, settle: '5s', maxDuration: '10m' },
    productionNotice: fast ? '30s' : '3m',
    precheckBefore: fast ? '15s' : '30s',
    reminderInterval: '2m',
  };
}

/**
 * Where the demo waits on the clock. Windows are `ddd:hh24:mi` and so open on a whole minute: preview's (all
 * three databases share it) is the first whole minute at least `previewLeadMs` after the fleet is seeded (by
 * then preflight has selected the fleet and each preview database's own workflow has turned its flag on;
 * the simulator applies nothing to an instance still modifying when its window opens), production's two
 * window groups `productionAfterPreview` minutes later (30- and 45-minute windows opening together; preview takes
 * under half a minute at simulator speed 5, staging's two waves under a minute, then the approval must come
 * `productionNotice` before the first group's window). Without `--fast` (simulator at real speed, a 3-minute
 * notice) that leaves a person in a second terminal about two and a half minutes to approve. `--fast` (CI
 * and the e2e test) keeps each wait to what the step needs: with its 30 s notice, the first group two
 * minutes after preview leaves about half a minute of slack; the `db` records' TTL of 20 s (instead of 60)
 * is what the cutover waits for after it lowers the TTL.
 */
function demoClock(fast: boolean) {
  return fast
    ? { previewLeadMs: 30_000, productionAfterPreview: 2, recordTtlSeconds: 20 }
    : { previewLeadMs: 45_000, productionAfterPreview: 8, recordTtlSeconds: undefined };
}

const hhmm = (at: string) => clockTime(at).slice(0, 5);

/** A fleet stage's progress in a line ("staging: wave 1/2, 1 pending, 2 running"); none before the stage starts. */
function fleetProgress(st: StageReport): string | undefined {
  const f = st.fleet;
  if (!f || st.status === 'pending') return undefined;
  const waves = f.waves || f.windowGroups?.length || 0;
  const groups = f.windowGroups ?? [];
  if (f.currentWave === undefined) {
    const windows = groups.length ? ` in ${groups.length} window group(s): ${describeWindowGroups(groups.map((g, n) => ({ ...g, instances: groupNames(f.instances, n + 1, g.instances) })))}` : '';
    return `${st.name}: ${f.instances.length} instance(s)${windows}, ${describeCounts(f.counts)}`;
  }
  const group = groups[f.currentWave - 1];
  return `${st.name}: wave ${f.currentWave}/${waves}${group ? ` (window group ${describeWindowGroup({ ...group, instances: groupNames(f.instances, f.currentWave, group.instances) })})` : ''}, ${describeCounts(f.counts)}`;
}

/** The names of a window group's instances (its wave's), or only their count while the report does not list them all. */
function groupNames(instances: { wave?: number; instanceId: string }[], wave: number, count: number): string[] | number {
  const names = instances.filter((i) => i.wave === wave).map((i) => i.instanceId);
  return names.length === count ? names : count;
}

/** How a fleet stage of the demo's campaign takes its databases, in a line. */
function describeFleetStage(s: ResolvedStage): string {
  const f = s.fleet;
  if (!f) return `${s.instanceId} (${s.method})`;
  const which = f.instanceIds ? `${f.instanceIds.length} listed` : `selected by tags ${Object.entries(f.select!.tags).map(([k, v]) => `${k}=${v}`).join(', ')}`;
  const order = typeof f.order === 'string' ? f.order : `by tag ${f.order.tag}`;
  if (s.requiresApproval && s.method === 'blue-green') return `${which}; one approval for every database and its window, a status-page maintenance per window group, then per database a Blue/Green deployment at the target switched over in its window under a probe`;
  if (s.requiresApproval) return `${which}; one approval for every database and its window, then a wave and a status-page maintenance per window group`;
  const how = s.method === 'apply-now' ? 'upgraded now, each under its own probe' : 'each in its maintenance window';
  return `${which}; waves of ${f.maxConcurrent}, ${order}; ${how}`;
}

/** Without a terminal (a log, CI), a countdown line at most this often. */
export const COUNTDOWN_LOG_EVERY_MS = 60_000;

/**
 * Prints new timeline entries, each fleet stage's wave and counts when they change, and each change of what the
 * workflow waits for; then its countdown: on a terminal one line updated in place (`live`), in a log one line a
 * minute.
 */
export class ProgressPrinter {
  private seen = 0;
  private lastWait = '';
  private lastCountdown = 0;
  private readonly fleetLines = new Map<string, string>();
  constructor(
    private readonly out: (l: string) => void,
    private readonly live?: (line: string | undefined) => void,
    private readonly now: () => number = Date.now,
  ) {}

  show(timeline: TimelineEntry[], waitingFor: WaitingFor | undefined, stages: StageReport[] = []): void {
    for (const t of timeline.slice(this.seen)) {
      const time = clockTime(t.at);
      this.out(`  ${time}  ${(t.stage ?? '').padEnd(10)} ${t.step}${t.by ? ` by ${t.by}` : ''}${t.detail ? ` — ${t.detail}` : ''}`);
    }
    this.seen = timeline.length;
    for (const st of stages) {
      const line = fleetProgress(st);
      if (!line || this.fleetLines.get(st.name) === line) continue;
      this.fleetLines.set(st.name, line);
      this.out(`           🌊 ${line}`);
    }
    const wait = waitingFor ? `${waitingFor.kind}|${waitingFor.description}|${waitingFor.until ?? ''}` : '';
    const now = this.now();
    const line = wait ? `           ⏳ waiting for ${describeWait(waitingFor, now)}` : undefined;
    if (wait !== this.lastWait) {
      this.live?.(undefined);
      if (line) this.out(line);
      this.lastCountdown = now;
    } else if (line && waitingFor?.until) {
      if (this.live) this.live(line);
      else if (now - this.lastCountdown >= COUNTDOWN_LOG_EVERY_MS) {
        this.out(line);
        this.lastCountdown = now;
      }
    }
    this.lastWait = wait;
  }
}

/**
 * One line at the bottom of a terminal, rewritten in place; every other line printed through `print` goes above
 * it. Undefined when `stream` is no terminal (then lines are only printed).
 */
export function terminalLine(stream: NodeJS.WriteStream): { print: (l: string) => void; live: (line: string | undefined) => void } | undefined {
  if (!stream.isTTY) return undefined;
  let current: string | undefined;
  const draw = () => stream.write(`\r\x1b[2K${current ? current.slice(0, Math.max(20, (stream.columns ?? 120) - 1)) : ''}`);
  return {
    print: (l) => {
      if (current) stream.write('\r\x1b[2K');
      stream.write(`${l}\n`);
      if (current) draw();
    },
    live: (line) => {
      current = line?.trim() ? line : undefined;
      draw();
    },
  };
}

/** Follows a workflow to its end, printing its progress; `onWaiting` may act on each reading (approve). */
function follow<S extends { state: string; timeline: TimelineEntry[]; waitingFor?: WaitingFor; stages?: StageReport[] }>(
  handle: Pick<WorkflowHandle, 'result'>,
  query: () => Promise<S>,
  out: (l: string) => void,
  onWaiting: (s: S) => Promise<void>,
  live?: (line: string | undefined) => void,
  ctl?: FollowControl<S>,
): Promise<S> {
  const printer = new ProgressPrinter(out, live);
  const stopped = () => {
    if (ctl?.signal?.aborted) throw new DemoInterrupted('interrupted');
  };
  const following = followToEnd(
    handle,
    // Once interrupted, no more queries: the worker and the server are shutting down.
    async () => (stopped(), query()),
    async (s) => {
      stopped();
      ctl?.seen(s);
      printer.show(s.timeline, s.waitingFor, s.stages);
      await onWaiting(s);
    },
    1000,
  ).finally(() => live?.(undefined));
  return ctl?.interrupted ? Promise.race([following, ctl.interrupted]) : following;
}

/** How runDemo stops a follower on Ctrl-C, and learns each reading (for the line it prints then). */
interface FollowControl<S> {
  signal?: AbortSignal;
  /** Rejects with DemoInterrupted when `signal` aborts. */
  interrupted?: Promise<never>;
  seen(s: S): void;
}

/** What runDemo follows now and its last reading: what the interrupted line says. */
type Following = { kind: 'campaign'; id: string; status?: CampaignStatus } | { kind: 'extract' | 'restore'; id: string; status?: RestoreStatus };

/** "campaign demo-0612201500 is in staging, wave 1/2 (1 pending, 2 running)"; a restore by its state. */
function whereItStands(f: Following | undefined): string {
  if (!f) return 'the demo had started nothing yet';
  const run = `${f.kind} ${f.id}`;
  if (!f.status) return `${run} has started`;
  if (f.kind !== 'campaign') return `${run} is ${f.status.state}${f.status.waitingFor ? `, waiting for ${f.status.waitingFor.description}` : ''}`;
  const st = f.status.stages.find((s) => s.status === 'running') ?? f.status.stages.find((s) => s.status === 'pending');
  if (!st || f.status.state === 'completed') return `${run} is ${f.status.state}`;
  const fl = st.fleet;
  const wave = fl?.currentWave !== undefined ? `, wave ${fl.currentWave}/${fl.waves || fl.windowGroups?.length || 0} (${describeCounts(fl.counts)})` : '';
  const waiting = f.status.state === 'waiting-for-approval' ? ', waiting for an approval' : '';
  return `${run} is in ${st.name}${wave}${waiting}`;
}

/**
 * What an earlier start left in `state`, if the demo can go on with it: `--fresh`, a folder it cannot resume (said
 * in one line) and a finished demo leave an empty folder and undefined.
 */
function resumable(state: DemoState, opts: DemoOptions): SavedDemo | undefined {
  if (opts.fresh) {
    state.wipe();
    return undefined;
  }
  const { saved, problem } = state.load();
  const fast = saved && saved.fast !== opts.fast ? `the demo in ${path.relative(process.cwd(), state.dir)} was started ${saved.fast ? 'with' : 'without'} --fast` : undefined;
  if (problem || fast) opts.out(`Cannot resume: ${problem ?? fast}; starting a new demo.`);
  else if (saved?.finished) opts.out(`The last demo (${saved.stamp}) finished; starting a new one.`);
  else return saved;
  state.wipe();
  return undefined;
}

export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const { signal } = opts;
  // After Ctrl-C nothing more is printed but the one line demoMain prints.
  const out = (l: string) => (signal?.aborted ? undefined : opts.out(l));
  const state = opts.stateDir ? new DemoState(opts.stateDir) : undefined;
  const saved = state ? resumable(state, opts) : undefined;
  const interrupted = signal
    ? new Promise<never>((_, reject) => {
        const stop = () => reject(new DemoInterrupted('interrupted'));
        if (signal.aborted) stop();
        else signal.addEventListener('abort', stop, { once: true });
      })
    : undefined;
  interrupted?.catch(() => undefined);
  const guard = <T>(p: Promise<T>): Promise<T> => (interrupted ? Promise.race([p, interrupted]) : p);
  let following: Following | undefined;
  const ctl = <S extends CampaignStatus | RestoreStatus>(kind: Following['kind'], id: string): FollowControl<S> => {
    following = { kind, id } as Following;
    return { signal, interrupted, seen: (s) => (following!.status = s as never) };
  };
  const started = saved?.startedAt ?? Date.now();
  const stamp = saved?.stamp ?? new Date(started).toISOString().slice(0, 19).replace(/[-:T]/g, '').slice(4);
  out(saved ? `Resuming the demo started at ${clockTime(started)} (kept in ${path.relative(process.cwd(), state!.dir)}): the simulator, the Temporal dev server and a worker...` : 'Starting the AWS simulator, the Temporal dev server and a worker...');
  // Without a webhook, notifications are shown as what would have been posted to the team's channel.
  const notifyLog = (line: string) => out(`           📣 ${line.replace(/^\[notify ([^\]]+)\] \S+( \([^)]*\))?: /, '$1: ')}`);
  // People are identified by SSH keys: the workers read the team's allowed signers; starts and approvals are signed.
  const team = hasSshKeygen() ? makeTeam(DEMO_KEYS_DIR, [DEMO_REQUESTER, DEMO_APPROVER], [DEMO_FORGER]) : undefined;
  const starting = startLocalStack({
    taskQueue: TASK_QUEUE,
    // With a state folder, the dev server keeps its database there; the simulator its state file (and the same ports:
    // the staging probe's URL is in the campaign's spec, the DNS server's address in a restore's).
    server: { port: opts.temporalPort, uiPort: opts.uiPort, ...(state ? { dbFile: state.dbFile } : {}) },
    // Ctrl-C: the activities in flight are cancelled at once and retried by the next worker (the durability story).
    workerOverrides: { shutdownGraceTime: '300ms', shutdownForceTime: '1s' },
    // The DNS server stands in for the resolver of the VPC the private zone (in production's account) belongs to.
    // --fast (CI) also shortens a restore's creating and backing-up (60 s and 20 s before the speed-up): the demo restores twice.
    simulator: {
      port: saved?.simPort ?? opts.simPort,
      speed: opts.fast ? 5 : 1,
      ...(opts.fast ? { durations: { creating: 20, backingUp: 5 } } : {}),
      dnsPort: saved?.dnsPort ?? 0,
      dnsVpcId: DEMO_VPC_ID,
      dnsAccount: DEMO_ACCOUNTS.production,
      ...(state ? { stateFile: state.simStateFile } : {}),
    },
    configEnv: team ? { ...process.env, ORCHESTRATOR_ALLOWED_SIGNERS: team.allowedSignersFile } : process.env,
    notifyLog,
  });
  let stack: Awaited<typeof starting>;
  try {
    stack = await guard(starting);
  } catch (err) {
    // Interrupted while starting: what did start stops (or ends with this process).
    void starting.then((s) => s.close(), () => undefined);
    if (err instanceof DemoInterrupted) throw new DemoInterrupted(interruptedLine(undefined));
    throw err;
  }
  const { client, sim, admin, temporalAddress: address } = stack;
  try {
    if (saved) {
      const missing = await missingRun(client, saved);
      if (missing) {
        out(`Cannot resume: ${missing}; starting a new demo.`);
        await stack.close();
        return runDemo({ ...opts, fresh: true });
      }
    }
    // Windows: preview's opens at the next whole minute after the lead (time to arm the flag), production's a few
    // minutes later. Each environment in its own account, as the runbook's estate; the worker reaches each through its role.
    const clock = demoClock(opts.fast);
    // With PostgreSQL here, production is a real database for the data-loss scene (the extract).
    // Blue/Green refuses a master password managed in Secrets Manager, which the data-loss scene's database has.
    const blueGreen = saved ? saved.production === 'blue-green' : opts.production === 'blue-green';
    const withDatabase = saved ? saved.withDatabase : opts.scenario !== 'campaign' && !blueGreen && findPostgresBinDir() !== undefined;
    // A resumed demo's fleet is in the simulator's state file already.
    const fleet = saved ? undefined : fleetOfThreeWithWindows(nextWholeMinute(clock.previewLeadMs), { staging: 30, production: clock.productionAfterPreview }, true, withDatabase);
    if (fleet && clock.recordTtlSeconds !== undefined) {
      for (const zone of fleet.hostedZones ?? []) for (const record of zone.records ?? []) record.ttl = clock.recordTtlSeconds;
    }
    if (fleet) await guard(admin.seed(fleet));
    const progress: SavedDemo = saved ?? { version: DEMO_STATE_VERSION, stamp, startedAt: started, fast: opts.fast, simPort: sim.port, dnsPort: sim.dnsPort!, withDatabase, stages: opts.stages, ...(blueGreen ? { production: 'blue-green' as const } : {}) };
    const keep = () => state?.save(progress);
    keep();

    out('');
    out(`  Temporal:   ${address}   (namespace default, task queue ${TASK_QUEUE})`);
    if (opts.uiPort) out(`  Web UI:     http://127.0.0.1:${opts.uiPort}`);
    out(`  Simulator:  ${sim.url}   (AWS APIs, Statuspage at /statuspage/v1, admin at /_sim)`);
    const tags = Object.entries(DEMO_FLEET_TAGS).map(([k, v]) => `${k}=${v}`).join(', ');
    out(`  Fleet:      ${DEMO_FLEET_SIZE} databases per environment on PostgreSQL ${FROM_VERSION}, tagged environment=<env>, ${tags}:`);
    const windowOf = new Map((fleet?.instances ?? []).map((i) => [i.id, i.preferredMaintenanceWindow ?? '']));
    for (const env of DEMO_ENVIRONMENTS) {
      out(`              ${env.padEnd(11)} ${fleetInstanceIds(env).map((id) => (fleet ? `${id} (window ${windowOf.get(id)?.split('-')[0]})` : id)).join(', ')}`);
    }
    out(`  Accounts:   preview ${DEMO_ACCOUNTS.preview}, staging ${DEMO_ACCOUNTS.staging}, production ${DEMO_ACCOUNTS.production} (zone, bastion), each through role ${DEMO_ROLE_NAME}`);
    if (team) {
      out(`  People:     ${DEMO_REQUESTER} requests, ${DEMO_APPROVER} approves: SSH keys in ${path.relative(process.cwd(), DEMO_KEYS_DIR)}, listed in allowed_signers (the workers' ORCHESTRATOR_ALLOWED_SIGNERS)`);
    } else {
      out('  People:     ssh-keygen not found: identities are unverified in this demo (names typed with --as)');
    }
    out('');

    const result: DemoResult = { simUrl: sim.url, temporalAddress: address, close: stack.close, forgedApprovals: [], team };
    const cli = `TEMPORAL_ADDRESS=${address} ./bin/rds-orchestrator`;
    const asApprover = team ? `--as ${DEMO_APPROVER} --key ${path.relative(process.cwd(), keyOf(team, DEMO_APPROVER)!)}` : '--as your-name';
    /** --auto-approve: first a forged approval (the approver's name, another key), refused; then the approver's own. */
    const autoApprove = async (handle: WorkflowHandle, kind: 'campaign' | 'restore', id: string) => {
      const query = kind === 'campaign' ? campaignStatusQuery : restoreStatusQuery;
      const io = { out: () => undefined, err: () => undefined };
      if (team) {
        try {
          await approveAskedPlan(io, handle, query, { kind, id }, { by: DEMO_APPROVER, key: keyOf(team, DEMO_FORGER), comment: 'forged' });
          throw new Error(`a forged approval of ${kind} ${id} was accepted`);
        } catch (err) {
          const message = String((err as { cause?: Error }).cause?.message ?? (err as Error).message);
          if (/was accepted$/.test(message)) throw err;
          result.forgedApprovals.push(message);
          out(`  (--auto-approve) ${DEMO_FORGER} signs as ${DEMO_APPROVER} with her own key: REFUSED (${message.split(':').slice(0, 2).join(':')})`);
        }
      }
      out(`  (--auto-approve) ${DEMO_APPROVER} approves${team ? ', signed with their key' : ''}`);
      await approveAskedPlan(io, handle, query, { kind, id }, { by: DEMO_APPROVER, key: keyOf(team, DEMO_APPROVER), comment: 'demo auto-approval' });
    };

    if (opts.scenario !== 'restore') {
      const campaignId = progress.campaignId ?? `demo-${stamp}`;
      const timings = demoTimings(opts.fast);
      const spec = resolvedFleetWavesCampaign({
        campaignId,
        requester: DEMO_REQUESTER,
        timings,
        noticeOverrideReason: 'DEMO ONLY: windows minutes apart; real campaigns give 14 days notice',
        admin,
        accounts: true,
        environments: progress.stages,
        productionMethod: blueGreen ? 'blue-green' : 'maintenance-window',
      });
      out(`Campaign ${campaignId}: PostgreSQL ${FROM_VERSION} → ${TARGET_VERSION}, ${spec.stages.map((s) => s.name).join(' → ')}, each a fleet stage`);
      for (const s of spec.stages) out(`  ${`${s.name}:`.padEnd(12)} ${describeFleetStage(s)}`);
      if (spec.stages.some((s) => s.name === 'production')) out(`  NOTICE OVERRIDE (demo): production notice ${timings.productionNotice} instead of 14 days`);
      out(`  follow it in another terminal: ${cli} campaign status ${campaignId}   (one database: --instance ${demoInstanceId('staging')})`);
      if (progress.campaignId) out(`  resumed: following campaign ${campaignId} from where it is`);
      const handle = progress.campaignId ? campaignHandle(client, campaignId) : await guard(startCampaign(client, await signedBy(team, 'campaign', campaignId, spec), { taskQueue: TASK_QUEUE }));
      progress.campaignId = campaignId;
      keep();
      let told = false;
      result.campaign = await follow(handle, () => handle.query(campaignStatusQuery), out, async (s) => {
        const plan = planAwaitingApproval(s);
        if (!plan) return;
        if (opts.autoApprove) {
          out(`  (--auto-approve) the plan: ${plan}`);
          await autoApprove(handle, 'campaign', campaignId);
        } else if (!told) {
          told = true;
          out('');
          out(`  >>> Production needs an approval by someone other than the requester (${DEMO_REQUESTER}). In a second terminal:`);
          out(`  >>>   ${cli} campaign approve ${campaignId} ${asApprover}`);
          out('  >>> (approve before the proposed window is less than the notice away, or the campaign proposes next week\'s)');
          out('');
        }
      }, opts.live, ctl('campaign', campaignId));
      out('');
      out(`Campaign ${campaignId} ${result.campaign.state.toUpperCase()} in ${humanDuration(Date.now() - started)}`);
      out(table([['STAGE', 'INSTANCE', 'WAVE', 'FROM', 'TO', 'STATUS', 'DOWNTIME', 'TIME TAKEN'], ...summaryRows(result.campaign.stages)]));
      if (result.campaign.failure) out(`  failure: ${result.campaign.failure}`);
      for (const f of result.campaign.followUps) out(`  follow-up: ${f}`);
      out('');
    }

    if (opts.scenario !== 'campaign' && withDatabase) {
      const extractId = `demo-extract-${stamp}`;
      out(`Extract ${extractId}: the runbook's common restore, rows lost on ${demoInstanceId('production')} put back`);
      // The rows are lost once: a resumed extract follows its run, with what was lost then.
      const lost = progress.extract?.lost ?? (await guard(loseSomeRows(sim, true, out)));
      const spec = resolveRestoreSpec(
        productionExtractSpec({ restoreId: extractId, requester: DEMO_REQUESTER, targetInstanceId: `notifydb-extract-${stamp}`, pollInterval: opts.fast ? '1s' : '3s', restoreTime: lost.restoreTime, directory: extractDirectory(PROJECT_ROOT), accounts: true }),
      );
      if (progress.extract) out(`  resumed: following extract ${extractId} from where it is`);
      const handle = progress.extract ? restoreHandle(client, extractId) : await guard(startRestore(client, await signedBy(team, 'restore', extractId, spec), { taskQueue: TASK_QUEUE }));
      progress.extract = { id: extractId, lost };
      keep();
      let told = false;
      result.extract = await follow(handle, () => handle.query(restoreStatusQuery), out, async (s) => {
        if (!planAwaitingApproval(s)) return;
        if (opts.autoApprove) {
          out(`  (--auto-approve) writing back: ${s.extract?.repair?.tables.map((t) => `${t.table} ${t.missing} missing`).join(', ')}`);
          await autoApprove(handle, 'restore', extractId);
        } else if (!told) {
          told = true;
          out(`  >>> Writing the lost rows back needs a second developer's approval. In a second terminal:  ${cli} restore approve ${extractId} ${asApprover}`);
          out(`  >>> (review them first: ${cli} restore status ${extractId})`);
        }
      }, opts.live, ctl('extract', extractId));
      result.lostRows = { ...lost, productionRowsAfter: await productionRowCount(sim, true) };
      out(`Extract ${extractId} ${result.extract.state.toUpperCase()}: ${describeExtractOutcome(result.extract, result.lostRows)}`);
      if (result.extract.failure) out(`  failure: ${result.extract.failure}`);
      for (const f of result.extract.followUps) out(`  follow-up: ${f}`);
      out('');
    } else if (opts.scenario !== 'campaign' && blueGreen) {
      out('The data-loss scene (restore and extract) reads production\'s password from its RDS-managed secret, which Blue/Green does not support: skipped with --production blue-green.');
    } else if (opts.scenario !== 'campaign') {
      out('The data-loss scene (restore and extract) needs PostgreSQL 15 here: sudo apt-get install -y postgresql-15. Skipped.');
      out('');
    }

    if (opts.scenario !== 'campaign') {
      const restoreId = progress.restoreId ?? `demo-${stamp}`;
      const target = `notifydb-restore-${stamp}`;
      out(`Restore ${restoreId}: ${demoInstanceId('production')} at its latest restorable time → ${target}, then cut the db CNAME over`);
      // The simulator's DNS server stands in for the VPC's Route 53 Resolver of the private zone.
      const spec = resolvedProductionRestore({ restoreId, requester: DEMO_REQUESTER, targetInstanceId: target, pollInterval: opts.fast ? '1s' : '3s', resolvers: [sim.dnsAddress!], accounts: true, database: withDatabase });
      if (progress.restoreId) out(`  resumed: following restore ${restoreId} from where it is`);
      const handle = progress.restoreId ? restoreHandle(client, restoreId) : await guard(startRestore(client, await signedBy(team, 'restore', restoreId, spec), { taskQueue: TASK_QUEUE }));
      progress.restoreId = restoreId;
      keep();
      let told = false;
      result.restore = await follow(handle, () => handle.query(restoreStatusQuery), out, async (s) => {
        const plan = planAwaitingApproval(s);
        if (!plan) return;
        if (opts.autoApprove) {
          out(`  (--auto-approve) the cutover: ${plan}`);
          await autoApprove(handle, 'restore', restoreId);
        } else if (!told) {
          told = true;
          out(`  >>> The cutover needs an approval. In a second terminal:  ${cli} restore approve ${restoreId} ${asApprover}`);
        }
      }, opts.live, ctl('restore', restoreId));
      out(`Restore ${restoreId} ${result.restore.state.toUpperCase()}: ${result.restore.target.instanceId} at ${result.restore.target.endpoint ?? '?'}`);
      if (result.restore.failure) out(`  failure: ${result.restore.failure}`);
      if (result.restore.rollback) out(`  rolled back: ${result.restore.rollback.reason}; ${result.restore.rollback.steps.join('; ')}`);
      for (const f of result.restore.followUps) out(`  follow-up: ${f}`);
      out('');
    }

    progress.finished = true;
    keep();
    if (!opts.keepRunning) {
      await stack.close();
      state?.appendCalls(sim.engine.calls);
    }
    return result;
  } catch (err) {
    if (!(err instanceof DemoInterrupted)) {
      await stack.close();
      state?.appendCalls(sim.engine.calls);
      throw err;
    }
    // Ctrl-C: the worker stops at once (activities in flight are retried by the next one), then the dev server
    // (SIGTERM) and the simulator (its state file is written after each change). Within about a second; what is
    // not closed by then ends with this process.
    await Promise.race([stack.close(), sleep(1500)]);
    state?.appendCalls(sim.engine.calls);
    throw new DemoInterrupted(interruptedLine(following));
  }
}

/** The one line Ctrl-C leaves: where the demo stands and how to go on. */
function interruptedLine(f: Following | undefined): string {
  if (!f) return 'Interrupted before the campaign started. Run npm start to start again.';
  return `Interrupted: ${whereItStands(f)}. Run npm start to continue, npm start -- --fresh to start over.`;
}

/** The first run demo.json names that the dev server does not know (then the demo cannot resume). */
async function missingRun(client: Client, saved: SavedDemo): Promise<string | undefined> {
  const runs = [
    ...(saved.campaignId ? [{ what: `campaign ${saved.campaignId}`, handle: campaignHandle(client, saved.campaignId) }] : []),
    ...(saved.extract ? [{ what: `extract ${saved.extract.id}`, handle: restoreHandle(client, saved.extract.id) }] : []),
    ...(saved.restoreId ? [{ what: `restore ${saved.restoreId}`, handle: restoreHandle(client, saved.restoreId) }] : []),
  ];
  if (!runs.length) return 'the demo was interrupted before its campaign started';
  for (const { what, handle } of runs) {
    try {
      await handle.describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return `the dev server has no ${what}`;
      throw err;
    }
  }
  return undefined;
}

/** "40 rows written, 10 lost by the DELETE at 12:03:05; restored to 12:03:04; dump …; 10 written back; production has 40 rows again". */
function describeExtractOutcome(s: RestoreStatus, lost: LostRows & { productionRowsAfter: number }): string {
  const x = s.extract;
  const written = x?.repair?.written?.reduce((n, t) => n + t.inserted + t.updated, 0);
  return [
    `${lost.written} rows written, ${lost.lostIds.length} lost by the DELETE at ${clockTime(lost.lostAt)}; ${s.target.instanceId} restored to ${clockTime(lost.restoreTime)}`,
    x?.dump ? `dump ${path.relative(process.cwd(), x.dump.path)} (${x.dump.sizeBytes} bytes)` : undefined,
    x?.repair ? `difference ${x.repair.tables.map((t) => `${t.table}: ${t.missing} missing, ${t.changed} changed`).join('; ')}` : undefined,
    written !== undefined ? `${written} written back in one transaction` : 'nothing written back',
    `production has ${lost.productionRowsAfter} rows${lost.productionRowsAfter === lost.written ? ' again' : ''}`,
  ].filter(Boolean).join('; ');
}

/** The summary table: a row per database (a fleet stage's in wave order), the stage's name and time taken on its first. */
function summaryRows(stages: StageReport[]): string[][] {
  const downtime = (seconds: number | undefined) => (seconds !== undefined ? `${seconds}s (probe)` : '-');
  return stages.flatMap((st) => {
    const taken = st.startedAt && st.endedAt ? humanDuration(Date.parse(st.endedAt) - Date.parse(st.startedAt)) : '-';
    if (!st.fleet) return [[st.name, st.instanceId, '-', st.fromVersion ?? '?', st.toVersion, st.status, downtime(st.downtimeSeconds), taken]];
    const instances = [...st.fleet.instances].sort((a, b) => a.wave - b.wave);
    return instances.map((i, n) => [
      n === 0 ? st.name : '',
      i.instanceId,
      `${i.wave || '-'}${i.window ? ` (${hhmm(i.window.start)})` : ''}`,
      i.fromVersion,
      i.state === 'completed' ? st.toVersion : '-',
      i.state,
      downtime(i.downtimeSeconds),
      n === 0 ? taken : '',
    ]);
  });
}

const USAGE = `usage: npm start -- [--auto-approve] [--scenario campaign|restore|all] [--production maintenance-window|blue-green] [--fast] [--fresh] [--state-dir DIR] [--stages preview,staging,production] [--temporal-port N] [--ui-port N] [--sim-port N]
  The demo keeps its state in ${path.relative(process.cwd(), DEFAULT_DEMO_STATE_DIR)} (--state-dir or RDS_DEMO_STATE_DIR: another folder):
  after Ctrl-C, npm start again follows its runs from where they are; --fresh starts over.`;

export function parseDemoArgs(argv: string[], out: (l: string) => void): DemoOptions {
  const opts: DemoOptions = { autoApprove: false, scenario: 'all', fast: false, temporalPort: 7233, uiPort: 8233, simPort: 4599, out, stateDir: process.env.RDS_DEMO_STATE_DIR || DEFAULT_DEMO_STATE_DIR, fresh: false };
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
    else if (a === '--fresh') opts.fresh = true;
    else if (a === '--production') {
      const v = argv[++i];
      if (v !== 'maintenance-window' && v !== 'blue-green') throw new Error(`--production must be maintenance-window or blue-green\n${USAGE}`);
      opts.production = v;
    }
    else if (a === '--stages') {
      const stages = (argv[++i] ?? '').split(',');
      if (!stages.every((st): st is DemoEnvironment => (DEMO_ENVIRONMENTS as readonly string[]).includes(st))) throw new Error(`--stages takes environments among ${DEMO_ENVIRONMENTS.join(',')}\n${USAGE}`);
      opts.stages = stages;
    }
    else if (a === '--state-dir') {
      const dir = argv[++i];
      if (!dir) throw new Error(`--state-dir needs a folder\n${USAGE}`);
      opts.stateDir = path.resolve(dir);
    } else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  return opts;
}

export async function demoMain(argv: string[]): Promise<number> {
  const terminal = terminalLine(process.stdout);
  const out = terminal?.print ?? ((l: string) => console.log(l));
  let opts: DemoOptions;
  try {
    opts = { ...parseDemoArgs(argv, out), live: terminal?.live };
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  // The demo's own process: keep the worker's logs to errors, the progress lines say the rest. Ctrl-C is the
  // demo's to handle (below), not the SDK's (it would shut the worker down under the follower's feet).
  Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
  // Ctrl-C: stop following, shut down quickly, one line saying where the demo stands; a second Ctrl-C exits at once.
  const interrupt = new AbortController();
  // A client call retried after its connection was closed (the follower's long poll of the workflow's result)
  // throws from a timer: it happens only while the demo closes (Ctrl-C, or a failure it is about to print), where
  // it would replace the one line that says what happened by a stack trace and exit 1.
  const closingError = (err: Error) => {
    if (/Channel has been shut down/.test(err.message)) return;
    console.error(err);
    process.exit(1);
  };
  process.on('uncaughtException', closingError);
  const onSigint = () => {
    if (interrupt.signal.aborted) process.exit(130);
    terminal?.live(undefined);
    interrupt.abort();
  };
  process.on('SIGINT', onSigint);
  let result: DemoResult;
  try {
    result = await runDemo({ ...opts, signal: interrupt.signal });
  } catch (err) {
    if (!(err instanceof DemoInterrupted)) throw err;
    out(err.message);
    return 130;
  } finally {
    process.off('SIGINT', onSigint);
  }
  const ok = [result.campaign, result.extract, result.restore].every((r) => (r?.state ?? 'completed') === 'completed');
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
