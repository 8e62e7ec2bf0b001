/**
 * `npm run soak [-- --profile default|short] [--seed N] [--no-chaos] [--compare]`: the production topology
 * (npm run cluster: PostgreSQL, the Temporal server, three compiled workers) runs a fleet campaign in several
 * accounts and regions and restores with cutover (and one with extract) while a seeded chaos driver kills
 * workers, restarts the Temporal server and PostgreSQL, and makes AWS fail and slow, and operators act at
 * random moments through the CLI. Then a checker that reads only the simulator's call log and Temporal's
 * histories proves that nothing was done twice, nothing lost, nothing stuck. Exit 0 when every check passes,
 * 1 when one fails, 2 on bad usage. See docs/soak.md.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DescribeDBInstancesCommand, RDSClient, type DBInstance } from '@aws-sdk/client-rds';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { Client, Connection } from '@temporalio/client';
import { DEMO_ACCOUNTS, DEMO_VPC_ID, findPostgresBinDir, type SimAdminClient } from '../../sim';
import { Closers } from '../../dev/closers';
import { TARGET_VERSION } from '../../dev/fixtures';
import { hasSshKeygen, makeTeam } from '../../dev/people';
import { startLocalSimulator } from '../../dev/simulator';
import { sleep } from '../../dev/time';
import { COMPILED_WORKER } from '../../dev/worker';
import { down, status, up } from '../cluster/cluster';
import { PROJECT_ROOT } from '../cluster/layout';
import { CallCollector } from './calls';
import { ChaosDriver, describeChaos, planChaos } from './chaos';
import { check, type FinalInstance, type Incident } from './checker';
import { SoakLog } from './log';
import { Operator, planOperator, type RunEnd } from './operator';
import { PROFILES, type ProfileName, type SoakProfile } from './profiles';
import { Random, newSeed } from './random';
import { figuresOf, printReport, writeReport, type Durations, type RunFigures } from './report';
import { APPROVER, OPERATOR, OUTSIDER, REQUESTER, campaignSpec, cutoverRestoreSpec, planScenario, prepareExtract, roleArnOf, runTagOf, startProbeGateway, startSignedCampaign, startSignedRestore, type FleetMember, type Started } from './scenario';
import { WorkerPool } from './workers';

const USAGE = `usage: npm run soak -- [--profile default|short] [--seed N] [--no-chaos] [--compare] [--workers N]
  --profile   default: about 15-20 minutes, 600 instances; short: about 4-5 minutes, 60 instances (CI)
  --seed N    the chaos schedule and operator moments of seed N (printed by every run; default: a new one)
  --no-chaos  the same scenario without faults (measures the fault-free time to finish)
  --compare   a fault-free run first, then the run with chaos, compared
  --workers N worker processes (default 3)`;

interface Options {
  profile: SoakProfile;
  seed: number;
  chaos: boolean;
  compare: boolean;
  workers: number;
}

function parseArgs(argv: string[]): Options | string {
  const o: Options = { profile: PROFILES.default, seed: newSeed(), chaos: true, compare: false, workers: 3 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--profile') {
      const p = value();
      if (!(p in PROFILES)) return `unknown profile ${p}: default or short`;
      o.profile = PROFILES[p as ProfileName];
    } else if (a === '--seed') {
      const s = Number(value());
      if (!Number.isInteger(s) || s < 0) return '--seed takes a whole number';
      o.seed = s;
    } else if (a === '--no-chaos') o.chaos = false;
    else if (a === '--compare') o.compare = true;
    else if (a === '--workers') {
      o.workers = Number(value());
      if (!Number.isInteger(o.workers) || o.workers < 1) return '--workers takes a whole number of at least 1';
    } else if (a === '--help' || a === '-h') return '';
    else return `unknown option ${a}`;
  }
  return o;
}

/** The newest modification time under `dir` (files only). */
function newest(dir: string): number {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

/** The workers run the compiled worker: `npm run build` when dist/ is missing or older than src/. */
function ensureBuilt(log: SoakLog): void {
  const built = fs.existsSync(COMPILED_WORKER) ? fs.statSync(COMPILED_WORKER).mtimeMs : 0;
  if (built > newest(path.join(PROJECT_ROOT, 'src'))) return;
  log.line('soak', 'dist/ is missing or older than src/: npm run build');
  const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm run build failed');
}

/** Every fleet instance as DescribeDBInstances shows it now, through each account's role (as the workers reach them). */
async function describeFleet(simUrl: string, fleet: FleetMember[]): Promise<FinalInstance[]> {
  const out: FinalInstance[] = [];
  const places = [...new Set(fleet.map((m) => `${m.account} ${m.region}`))].map((p) => p.split(' ') as [string, string]);
  for (const [account, region] of places) {
    const base = { endpoint: simUrl, region, credentials: { accessKeyId: 'simulator', secretAccessKey: 'simulator' } };
    const rds = new RDSClient({ endpoint: simUrl, region, credentials: fromTemporaryCredentials({ params: { RoleArn: roleArnOf(account), RoleSessionName: 'soak-checker' }, clientConfig: base, masterCredentials: base.credentials }) });
    let marker: string | undefined;
    do {
      const page = await rds.send(new DescribeDBInstancesCommand({ MaxRecords: 100, Marker: marker }));
      for (const i of page.DBInstances ?? ([] as DBInstance[])) {
        out.push({ account, region, id: i.DBInstanceIdentifier ?? '?', engineVersion: i.EngineVersion, autoMinorVersionUpgrade: i.AutoMinorVersionUpgrade, status: i.DBInstanceStatus });
      }
      marker = page.Marker;
    } while (marker);
    rds.destroy();
  }
  return out;
}

/** The Statuspage maintenances of the workers' page (STATUSPAGE_PAGE_ID of dev/simulator's settings). */
async function incidents(simUrl: string): Promise<Incident[]> {
  const res = await fetch(`${simUrl}/statuspage/v1/pages/local-page/incidents`);
  return (await res.json()) as Incident[];
}

/**
 * Once everything closed: the simulator's clock moved past the last window's end, as time passes after a campaign
 * (a maintenance completes by itself at its scheduled end, scheduled_auto_completed); nothing of ours runs then.
 */
async function letWindowsEnd(admin: SimAdminClient, simUrl: string, log: SoakLog): Promise<void> {
  const ends = (await incidents(simUrl)).map((i) => Date.parse(i.scheduled_until ?? '')).filter((t) => !Number.isNaN(t));
  if (ends.length === 0) return;
  const now = Date.parse((await admin.health()).now);
  const seconds = Math.ceil((Math.max(...ends) - now) / 1000) + 60;
  if (seconds <= 0) return;
  await admin.advance(seconds);
  log.line('soak', `every run closed: the simulator's clock moved ${Math.round(seconds / 60)} min ahead, past the last maintenance window's end`);
}

/** Start to close of the campaign and of each restore, and the first start to the last close; undefined while one is open. */
function durationsOf(started: Started[], ends: RunEnd[], t0: number): Durations {
  const closeOf = new Map(ends.map((e) => [e.workflowId, e.closedAt]));
  const took = (s: Started) => {
    const c = closeOf.get(s.workflowId);
    return c === undefined ? undefined : (c - s.startedAt) / 1000;
  };
  const restores = started.filter((s) => s.kind !== 'campaign').map(took);
  const done = restores.filter((x): x is number => x !== undefined).sort((a, b) => a - b);
  const all = ends.map((e) => e.closedAt);
  return {
    campaign: took(started.find((s) => s.kind === 'campaign')!),
    restoresP50: done.length === restores.length && done.length ? done[Math.floor(done.length / 2)] : undefined,
    restoresMax: done.length === restores.length && done.length ? done[done.length - 1] : undefined,
    scenario: all.every((c) => c !== undefined) ? (Math.max(...(all as number[])) - t0) / 1000 : undefined,
  };
}

async function runOnce(o: Options, chaosOn: boolean, faultFree?: { durations: Durations; source: string }): Promise<{ figures: RunFigures; ok: boolean }> {
  const runStart = Date.now();
  const p = o.profile;
  const runTag = runTagOf(o.seed);
  const runDir = path.join(PROJECT_ROOT, '.rds-orchestrator', 'soak', `${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}-${p.name}-seed${o.seed}${chaosOn ? '' : '-no-chaos'}`);
  fs.mkdirSync(runDir, { recursive: true });
  const log = new SoakLog();
  log.keepIn(path.join(runDir, 'soak.log'));
  log.plain(`== soak: profile ${p.name}, seed ${o.seed}${chaosOn ? '' : ', NO CHAOS'} (replay: npm run soak -- --profile ${p.name} --seed ${o.seed}${chaosOn ? '' : ' --no-chaos'})`);
  log.plain(`   ${p.description}`);
  log.plain(`   run folder ${path.relative(process.cwd(), runDir)} (soak.log, calls.jsonl, workers.log, report.json)`);
  const closers = new Closers((err) => log.line('soak', `teardown: ${(err as Error).message}`));
  try {
    ensureBuilt(log);
    if (!hasSshKeygen()) throw new Error('ssh-keygen is needed (people sign with SSH keys): apt-get install -y openssh-client');
    const wasRunning = status().temporal.running;
    const upReport = await up({ ui: false });
    if (!wasRunning && !process.env.CLUSTER_KEEP) closers.add(async () => log.line('soak', `cluster down (the soak started it): ${(await down()).join(', ')}`));
    const address = upReport.status.temporalAddress!;
    log.line('soak', `cluster up in ${(upReport.totalMs / 1000).toFixed(1)} s: Temporal ${address}, PostgreSQL ${upReport.status.postgres.address}`);
    const connection = await Connection.connect({ address, connectTimeout: 10_000 });
    closers.add(() => connection.close());
    const client = new Client({ connection });
    const team = makeTeam(path.join(PROJECT_ROOT, '.rds-orchestrator', 'soak-keys'), [REQUESTER, APPROVER, OPERATOR], [OUTSIDER]);

    const withExtract = p.restores.extract && findPostgresBinDir() !== undefined;
    if (p.restores.extract && !withExtract) log.line('soak', 'PostgreSQL 15 is not here (postgresql-15): the restore with extract is skipped');
    const { sim, admin } = await startLocalSimulator(closers, { speed: p.simSpeed, dnsPort: 0, dnsVpcId: DEMO_VPC_ID, dnsAccount: DEMO_ACCOUNTS.production });
    const collector = new CallCollector(admin, path.join(runDir, 'calls.jsonl'));
    collector.start();
    const plan = planScenario(p, runTag, withExtract);
    await admin.seed(plan.seed);
    const gateway = await startProbeGateway(admin, plan.fleet);
    closers.add(() => gateway.close());
    log.line('soak', `simulator ${sim.url} (speed ${p.simSpeed}): ${plan.fleet.length} instances in ${p.fleet.accounts.length} accounts x ${p.fleet.regions.length} regions; the first stage's windows open at ${new Date(plan.windowStarts[0]!).toISOString().slice(11, 16)} UTC (${p.fleet.windowGroups} groups: ${Array.from({ length: p.fleet.windowGroups }, (_, g) => 30 + 15 * g).join(', ')} minutes long)`);

    const taskQueue = `soak-${runTag}`;
    const pool = new WorkerPool(
      {
        temporalAddress: address,
        taskQueue,
        simUrl: sim.url,
        simDnsAddress: sim.dnsAddress,
        extra: { ORCHESTRATOR_ALLOWED_SIGNERS: team.allowedSignersFile, ORCHESTRATOR_SHUTDOWN_GRACE_SECONDS: '5', ORCHESTRATOR_RDS_BUDGET_WORKERS: String(o.workers) },
      },
      log,
      path.join(runDir, 'workers.log'),
    );
    closers.add(() => pool.stopAll());
    await pool.start(o.workers);

    const rng = new Random(o.seed);
    const chaosPlan = planChaos(p, rng);
    const cutovers = plan.restores.filter((r) => r.kind === 'cutover');
    const opPlan = planOperator(rng, cutovers.map((r) => r.restoreId), plan.restores.map((r) => r.restoreId), p.restores.startWithinSeconds, p.name === 'short');
    if (chaosOn) {
      log.plain('== chaos schedule (seconds after the start)');
      for (const l of describeChaos(chaosPlan)) log.plain(`   ${l}`);
    }
    log.plain('== operators (seconds after the start)');
    log.plain(`   campaign: approval sent twice at once; pause ${opPlan.pauseAfterSeconds} s into the apply-now stage, resume ${opPlan.pausedForSeconds} s later`);
    for (const r of plan.restores) {
      const role = r.restoreId === opPlan.abortRestore ? `, aborted ${opPlan.abortAfterSeconds} s after its start` : r.restoreId === opPlan.wrongKeyRestore ? `, an approval signed with ${OUTSIDER}'s key in ${APPROVER}'s name ${opPlan.wrongKeyAfterSeconds} s after it asks, then ${APPROVER}'s` : ', approved when it asks';
      log.plain(`   ${r.restoreId}: started at ${opPlan.restoreStartsAt[r.restoreId]} s${role}`);
    }

    const chaos = chaosOn ? new ChaosDriver(chaosPlan, { pool, admin, log, rng }) : undefined;
    const operator = new Operator({ client, team, log, runTag, plan: opPlan });
    const started: Started[] = [];
    const notStarted: string[] = [];
    let expected = 1 + plan.restores.length;
    const t0 = Date.now();
    log.line('soak', 'starting the campaign; the restores at their moments');
    const campaign = await startSignedCampaign(client, team, campaignSpec(p, plan, gateway.url), taskQueue);
    started.push(campaign);
    operator.follow(campaign);
    if (chaos) await chaos.start(t0);
    const restoreStarts = plan.restores.map(async (r) => {
      await sleep(t0 + opPlan.restoreStartsAt[r.restoreId]! * 1000 - Date.now());
      try {
        const spec = r.kind === 'extract' ? (await prepareExtract(sim, r, p, path.join(runDir, 'extract'), (l) => log.line('soak', l))).spec : cutoverRestoreSpec(p, r);
        const s = await startSignedRestore(client, team, spec, r.kind, taskQueue);
        started.push(s);
        operator.follow(s);
        log.line('soak', `${r.kind} ${s.id} started`);
      } catch (err) {
        expected--;
        notStarted.push(`${r.kind} ${r.restoreId}: ${(err as Error).message}`);
        log.line('soak', `${r.kind} ${r.restoreId} could not start: ${(err as Error).message}`);
      }
    });
    const deadline = t0 + p.deadlineMinutes * 60_000;
    await operator.run(deadline, () => expected);
    await Promise.all(restoreStarts);
    if (chaos) await chaos.stop();
    const ends = operator.ends;
    const open = ends.filter((e) => e.status === 'RUNNING');
    if (open.length) log.line('soak', `DEADLINE: ${open.length} run(s) still open after ${p.deadlineMinutes} min: ${open.map((e) => e.workflowId).join(', ')}`);
    const durations = durationsOf(started, ends, t0);
    log.line('soak', `every run closed ${durations.scenario?.toFixed(1) ?? '?'} s after the start; checking`);

    // Whatever the chaos left stopped is started again before the reading (a restart that failed, say).
    await up({ ui: false });
    const finalInstances = await describeFleet(sim.url, plan.fleet);
    await letWindowsEnd(admin, sim.url, log);
    const calls = await collector.stop();
    const injected = (await admin.faults({})).injected;
    const report = await check({
      client,
      taskQueue,
      target: TARGET_VERSION,
      started,
      fleet: plan.fleet,
      restores: plan.restores,
      operator: operator.actions,
      // Never approved, it can only end by its abort.
      abortedRestoreId: opPlan.abortRestore,
      calls,
      finalInstances,
      incidents: await incidents(sim.url),
      notStarted,
    });
    const figures = figuresOf({
      profile: p,
      seed: o.seed,
      chaos: chaosOn,
      runTag,
      fleet: plan.fleet.length,
      restores: plan.restores.length,
      extract: withExtract,
      durations,
      wallSeconds: (Date.now() - runStart) / 1000,
      faultFree: chaosOn ? faultFree : undefined,
      chaosRecords: chaos?.records ?? [],
      calls,
      report,
      operator: operator.actions,
      workerStartMs: pool.startTimes,
      workerOwnExits: pool.ownExits,
    });
    printReport(log, report, figures);
    writeReport(path.join(runDir, 'report.json'), { figures, simulatorInjected: injected, checks: report.checks, chaosPlan: chaosOn ? chaosPlan : undefined, operatorPlan: opPlan, chaos: chaos?.records, operator: operator.actions, started });
    return { figures, ok: figures.checksFailed.length === 0 };
  } finally {
    await closers.close();
    log.close();
  }
}

async function main(): Promise<number> {
  const parsed = parseArgs(process.argv.slice(2));
  if (typeof parsed === 'string') {
    if (parsed) console.error(parsed);
    console.error(USAGE);
    return parsed ? 2 : 0;
  }
  const o = parsed;
  let faultFree = o.profile.faultFree ? { durations: o.profile.faultFree.durations, source: `recorded in scripts/soak/profiles.ts, seed ${o.profile.faultFree.seed}, ${o.profile.faultFree.measured}` } : undefined;
  if (o.compare && o.chaos) {
    const calm = await runOnce(o, false);
    faultFree = { durations: calm.figures.durations, source: `measured just before, seed ${o.seed}` };
    if (!calm.ok) return 1;
  }
  const run = await runOnce(o, o.chaos, faultFree);
  return run.ok ? 0 : 1;
}

// Node's own AWS SDK warning about its releases after 2027 (test-cluster/setup.ts does the same).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// Stopped by a signal: exit through 'exit', whose hooks end the workers (dev/processes.ts) and the simulator's PostgreSQL servers.
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));
main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`soak: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
