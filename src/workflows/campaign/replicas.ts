/**
 * Read replicas first ("If your PostgreSQL DB instance is using read replicas, you must upgrade all of the
 * read replicas before upgrading the source instance", RDS User Guide; RDS refuses the source with
 * DBUpgradeDependencyFailure otherwise). Preflight lists each instance's replicas, in its region (by
 * identifier) and in others (by ARN); each stage then upgrades them before the instance, by its own method:
 * apply-now upgrades them now and waits for them, a maintenance-window stage turns their flags on and
 * watches each one's own next window (guarded like the instance's, estate.ts), then turns them off.
 */
import type { InstanceInfo, ReplicaReport } from '../../api';
import { locationFor } from '../../domain/aws-identity';
import { DEFAULT_REARM_BEFORE_MS, replicaLocation, replicaWindow, standingOf } from '../../domain/estate';
import type { Occurrence } from '../../domain/maintenance-window';
import { waiterUntil, type RetryOptions } from '../shared/aws-calls';
import { iso, nowMs } from '../shared/clock';
import { replicaSubject, type WindowSubject } from './auto-minor-upgrade';
import { armFlag, disarmFlag, notePastTarget, readAgain } from './estate';
import type { StageRun } from './stage-run';
import { watchUntilUpgraded } from './windows';
import { AVAILABLE } from '../../domain/instance-status';

/** How long replicas upgraded now may take (an apply-now stage without a probe limit of its own). */
const REPLICA_UPGRADE_LIMIT_MS = 2 * 3600_000;

/** Preflight: reads each replica the instance lists (missing ones are problems) into the stage's report. */
export async function readReplicas(st: StageRun, info: InstanceInfo, opts: RetryOptions = {}): Promise<string[]> {
  const { stage: s, report } = st;
  const listed = info.readReplicaIds ?? [];
  if (listed.length === 0) return [];
  const problems: string[] = [];
  const replicas: ReplicaReport[] = [];
  for (const listedAs of listed) {
    const loc = replicaLocation(listedAs, s.region);
    const where = locationFor(loc.region, s.aws, st.settings.campaignId, s.name);
    const r = await st.aws('preflight', () => st.a.findInstance({ where, instanceId: loc.instanceId }), opts);
    if (!r) {
      problems.push(`${s.name}: ${s.instanceId} lists the read replica ${listedAs}, which cannot be read in ${loc.region} with the stage's credentials`);
      continue;
    }
    const standing = standingOf(r.engineVersion, st.target);
    replicas.push({
      region: loc.region,
      instanceId: loc.instanceId,
      listedAs,
      fromVersion: r.engineVersion,
      maintenanceWindow: r.preferredMaintenanceWindow,
      state: standing.kind === 'below-target' ? 'pending' : 'skipped',
      ...(standing.kind === 'below-target' ? {} : { note: `already at ${r.engineVersion}` }),
    });
  }
  report.replicas = replicas;
  st.step('replicas-found', `${replicas.length} read replica(s), upgraded before ${s.instanceId}: ${replicas.map((r) => `${r.region}/${r.instanceId} (${r.fromVersion})`).join(', ')}`);
  return problems;
}

function pendingReplicas(st: StageRun): WindowSubject[] {
  const { report } = st;
  return (report.replicas ?? []).filter((r) => r.state === 'pending' || r.state === 'upgrading').map((r) => replicaSubject(st, r, r.maintenanceWindow ?? ''));
}

/** Still below the target? (One upgraded or moved past it outside the campaign is done.) */
async function stillBelow(st: StageRun, x: WindowSubject): Promise<boolean> {
  const info = await readAgain(st, x);
  const standing = standingOf(info.engineVersion, st.target);
  if (standing.kind === 'below-target') return true;
  if (standing.kind === 'past-target') await notePastTarget(st, x, standing.version, 'before the campaign upgraded it');
  else st.step('replica-upgraded', `replica ${x.instanceId} already runs ${info.engineVersion}`);
  (x.track as ReplicaReport).state = 'upgraded';
  return false;
}

/** apply-now: every replica upgraded now (in parallel on AWS's side), waited for, before the instance. */
export async function upgradeReplicasNow(st: StageRun): Promise<void> {
  const { stage: s } = st;
  const target = st.target;
  const started: WindowSubject[] = [];
  for (const x of pendingReplicas(st)) {
    if (!(await stillBelow(st, x))) continue;
    const r = await st.aws('replica-upgrade', () => st.a.applyUpgradeNow({ where: x.where, instanceId: x.instanceId, targetVersion: target }));
    (x.track as ReplicaReport).state = 'upgrading';
    x.track.mechanism = 'apply-now';
    st.step('replica-upgrade-triggered', r.detail);
    started.push(x);
  }
  const deadline = nowMs() + (s.probe?.maxDurationMs ?? REPLICA_UPGRADE_LIMIT_MS);
  for (const x of started) {
    st.setState('running', { kind: 'aws', description: `read replica ${x.instanceId} available at ${target}`, until: iso(deadline) });
    const info = await st.aws('waiting-for-replica', () => waiterUntil(deadline, st.settings.pollIntervalMs).waitForInstance({ where: x.where, instanceId: x.instanceId, want: { status: AVAILABLE, engineVersion: target } }), { attemptsPerRound: 1 });
    (x.track as ReplicaReport).state = 'upgraded';
    st.step('replica-upgraded', `replica ${x.instanceId} is ${info.status} at ${info.engineVersion}`);
  }
  st.setState('running');
}

/**
 * A maintenance-window stage: every replica's flag on, then each replica watched through its own window (they
 * open on AWS's side meanwhile), its flag off after. Without `before` (preview) each replica's next window is
 * used. With `before`, the instance's approved window, each replica's last window that ends before it is used,
 * and the flags go on only shortly before the first of those (so no earlier window of theirs applies anything
 * weeks ahead of the approved one); a replica with no window before it is flagged to the team.
 */
export async function upgradeReplicasInTheirWindows(st: StageRun, before?: Occurrence): Promise<void> {
  const { stage: s } = st;
  const planned = pendingReplicas(st).map((x) => ({ x, first: replicaWindow(x.windowText, nowMs(), before) }));
  if (planned.length === 0) return;
  planned.sort((a, b) => a.first.startMs - b.first.startMs);
  const lead = s.rearmBeforeMs ?? DEFAULT_REARM_BEFORE_MS;
  // Before an approved window the flags go on only shortly before the first replica window chosen; otherwise now.
  const armAt = before ? planned[0].first.startMs - lead - ARM_AHEAD_MS : nowMs();
  if (armAt > nowMs()) {
    st.setState('waiting-for-window', { kind: 'window', description: `${s.name}: read replicas' windows, the first ${iso(planned[0].first.startMs)}`, until: iso(planned[0].first.startMs) });
    st.step('waiting-for-replica-windows', planned.map((p) => `${p.x.instanceId} ${iso(p.first.startMs)}`).join(', '));
    await st.sleep(armAt - nowMs(), `${s.name}: read replicas' flags on before their windows, the first ${iso(planned[0].first.startMs)}`);
  }
  const armed: { x: WindowSubject; first: Occurrence }[] = [];
  for (const p of planned) {
    if (!(await stillBelow(st, p.x))) continue;
    await armFlag(st, p.x, { guarded: true });
    (p.x.track as ReplicaReport).state = 'upgrading';
    armed.push(p);
  }
  for (const { x, first } of armed) {
    if (before && first.endMs > before.startMs) {
      const text = `${s.name}: read replica ${x.instanceId}'s next window ${iso(first.startMs)} – ${iso(first.endMs)} does not end before ${s.instanceId}'s window ${iso(before.startMs)}; RDS refuses to upgrade ${s.instanceId} before it`;
      st.step('replica-window-late', text);
      await st.notify('escalation', `${text}. Move the replica's maintenance window earlier, or expect ${s.instanceId}'s window to be missed.`);
    }
    await watchUntilUpgraded(st, first, x);
    await disarmFlag(st, x);
    (x.track as ReplicaReport).state = 'upgraded';
    st.step('replica-upgraded', `replica ${x.instanceId} is done; ${s.instanceId} is next`);
  }
}

/** The replicas' flags go on this long before their first window's re-arm check (the check then sees them on). */
const ARM_AHEAD_MS = 60_000;
