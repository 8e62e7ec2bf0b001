/**
 * What the soak prints at the end and keeps in its folder (report.json): each check with what it found, then the
 * figures: faults injected by kind, workflows by type and outcome, mutations, duplicates, operator actions, and the
 * time to finish against a fault-free run of the same scenario.
 */
import fs from 'node:fs';
import type { CollectedCalls } from './calls';
import type { ChaosRecord } from './chaos';
import type { CheckReport } from './checker';
import type { SoakLog } from './log';
import type { OperatorAction } from './operator';
import type { Durations, SoakProfile } from './profiles';

/** Seconds from start to close: the campaign, the restores (each from its own start), the whole scenario. */
export type { Durations } from './profiles';

export interface RunFigures {
  profile: string;
  seed: number;
  chaos: boolean;
  runTag: string;
  fleet: number;
  restores: number;
  extract: boolean;
  durations: Durations;
  /** The whole run: cluster up, seeding, workers, the scenario, the checks. */
  wallSeconds: number;
  faultFree?: { durations: Durations; source: string };
  faults: Record<string, number>;
  awsCalls: number;
  workflows: Record<string, Record<string, number>>;
  mutations: { total: number; intents: number; byAction: Record<string, number> };
  duplicates: number;
  operator: Record<string, number>;
  workerStartSeconds: { started: number; p50?: number; max?: number };
  /** Workers that exited by themselves (e.g. started while the Temporal server was down), restarted as a supervisor would. */
  workerOwnExits: string[];
  checksFailed: string[];
}

const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : undefined);

export function figuresOf(o: {
  profile: SoakProfile;
  seed: number;
  chaos: boolean;
  runTag: string;
  fleet: number;
  restores: number;
  extract: boolean;
  durations: Durations;
  wallSeconds: number;
  faultFree?: { durations: Durations; source: string };
  chaosRecords: ChaosRecord[];
  calls: CollectedCalls;
  report: CheckReport;
  operator: OperatorAction[];
  workerStartMs: number[];
  workerOwnExits: string[];
}): RunFigures {
  const faults: Record<string, number> = {};
  for (const r of o.chaosRecords) if (r.kind !== 'aws-faults-on' && r.kind !== 'aws-faults-off') faults[r.kind] = (faults[r.kind] ?? 0) + 1;
  for (const c of o.calls.faulted) faults[`aws-${c.fault}`] = (faults[`aws-${c.fault}`] ?? 0) + 1;
  const awsCalls = Object.entries(o.calls.byAction).filter(([k]) => /^(rds|ec2|route53|sts|cloudtrail|secretsmanager) /.test(k)).reduce((a, [, n]) => a + n, 0);
  const workflows: Record<string, Record<string, number>> = {};
  for (const f of o.report.workflows) {
    const state = (f.result as { state?: string } | undefined)?.state;
    const outcome = f.status === 'COMPLETED' && state ? state : f.status.toLowerCase();
    (workflows[f.type] ??= {})[outcome] = (workflows[f.type]![outcome] ?? 0) + 1;
  }
  const operator: Record<string, number> = {};
  for (const a of o.operator) operator[a.outcome] = (operator[a.outcome] ?? 0) + 1;
  const starts = o.workerStartMs.map((x) => x / 1000);
  return {
    profile: o.profile.name,
    seed: o.seed,
    chaos: o.chaos,
    runTag: o.runTag,
    fleet: o.fleet,
    restores: o.restores,
    extract: o.extract,
    durations: o.durations,
    wallSeconds: o.wallSeconds,
    faultFree: o.faultFree,
    faults,
    awsCalls,
    workflows,
    mutations: { total: o.report.mutations.total, intents: o.report.mutations.intents, byAction: o.report.mutations.byAction },
    duplicates: o.report.mutations.duplicates.length,
    operator,
    workerStartSeconds: { started: starts.length, p50: median(starts), max: starts.length ? Math.max(...starts) : undefined },
    workerOwnExits: o.workerOwnExits,
    checksFailed: o.report.checks.filter((c) => !c.ok).map((c) => c.name),
  };
}

const s1 = (x: number | undefined) => (x === undefined ? '?' : `${x.toFixed(1)} s`);

export function printReport(log: SoakLog, report: CheckReport, f: RunFigures): void {
  log.plain('');
  log.plain('== checks (the simulator\'s call log and Temporal\'s histories only)');
  for (const c of report.checks) {
    log.plain(`${c.ok ? 'PASS' : 'FAIL'}  ${c.name}`);
    for (const d of c.details) log.plain(`        ${d}`);
  }
  log.plain('');
  log.plain('== figures');
  const aws = Object.entries(f.faults).filter(([k]) => k.startsWith('aws-'));
  const awsTotal = aws.reduce((a, [, n]) => a + n, 0);
  log.plain(`faults injected:   worker SIGKILLs ${f.faults['worker-kill'] ?? 0}, Temporal server restarts ${f.faults['temporal-restart'] ?? 0}, PostgreSQL restarts ${f.faults['postgres-restart'] ?? 0}, slow periods ${f.faults['slow-period'] ?? 0}`);
  log.plain(`                   AWS calls faulted ${awsTotal} of ${f.awsCalls} (${f.awsCalls ? ((100 * awsTotal) / f.awsCalls).toFixed(1) : 0} %): ${aws.map(([k, n]) => `${k.slice(4)} ${n}`).join(', ') || 'none'}`);
  log.plain(`workflows:         ${Object.entries(f.workflows).map(([t, o]) => `${t} ${Object.entries(o).map(([k, n]) => `${k} ${n}`).join(', ')}`).join('; ')}`);
  log.plain(`mutations:         ${f.mutations.total} made (${f.mutations.intents} intents): ${Object.entries(f.mutations.byAction).sort().map(([k, n]) => `${k.split(' ')[1]} ${n}`).join(', ')}`);
  log.plain(`duplicates:        ${f.duplicates} (must be 0)`);
  log.plain(`operator actions:  ${Object.entries(f.operator).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  log.plain(`workers started:   ${f.workerStartSeconds.started} (spawn to polling p50 ${s1(f.workerStartSeconds.p50)}, max ${s1(f.workerStartSeconds.max)}); ${f.workerOwnExits.length} exited by themselves and were started again`);
  for (const e of f.workerOwnExits) log.plain(`                   ${e}`);
  const d = f.durations;
  const ff = f.chaos ? f.faultFree?.durations : undefined;
  const vs = (x: number | undefined, y: number | undefined) => (ff ? ` (fault-free ${s1(y)}${x && y ? `: x${(x / y).toFixed(2)}` : ''})` : '');
  log.plain(
    `time to finish:    campaign ${s1(d.campaign)}${vs(d.campaign, ff?.campaign)}; restores start to close p50 ${s1(d.restoresP50)}${vs(d.restoresP50, ff?.restoresP50)}, max ${s1(d.restoresMax)}${vs(d.restoresMax, ff?.restoresMax)}; ` +
      `first start to last close ${s1(d.scenario)}${vs(d.scenario, ff?.scenario)}`,
  );
  log.plain(`                   ${!f.chaos ? 'this is a fault-free run' : f.faultFree ? `fault-free: ${f.faultFree.source}` : 'no fault-free figure for this profile: run --no-chaos or --compare'}; whole run ${s1(f.wallSeconds)}`);
  log.plain('');
  log.plain(f.checksFailed.length ? `SOAK FAILED: ${f.checksFailed.length} check(s) failed` : 'SOAK PASSED: every check passed');
}

export function writeReport(file: string, data: unknown): void {
  fs.writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
}
