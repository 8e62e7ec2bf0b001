/**
 * One stage from start to finish: announce it, hold if paused, run the runbook part its method names
 * (preview: the next maintenance window; staging: now, under the probe; production: the approved and
 * announced window), check health, and record the infrastructure-code follow-up.
 */
import type { InstanceInfo } from '../../api';
import { standingOf } from '../../domain/estate';
import { nowIso } from '../shared/clock';
import { upgradeByBlueGreen } from './blue-green';
import { upgradeInNextWindow } from './preview';
import type { Occurrence } from '../../domain/maintenance-window';
import { upgradeInAnnouncedWindow, upgradeInApprovedWindow } from './production';
import type { StageRun } from './stage-run';
import { readReplicas } from './replicas';
import { upgradeNowUnderProbe } from './staging';

/**
 * `approved`: the window a fleet's parent campaign approved and announced for this one instance (its child
 * workflow runs the window's part only; see fleet-instance.ts).
 */
export async function runStage(st: StageRun, approved?: Occurrence): Promise<void> {
  const { stage: s, report } = st;
  const target = st.target;
  report.status = 'running';
  report.startedAt = nowIso();
  st.setState('running');
  st.step('stage-started', `${s.region}/${s.instanceId} ${report.fromVersion} → ${target} (${s.method})`);
  await st.notify('stage-started', `${s.name} started: ${s.instanceId} ${report.fromVersion} → ${target} (${s.method})`);
  await st.checkpoint();
  if (st.estateGuard && (await alreadyDone(st))) return;
  let result: 'upgraded' | 'past-target' = 'upgraded';
  if (s.method === 'apply-now') {
    await upgradeNowUnderProbe(st);
  } else if (s.method === 'blue-green') {
    result = await upgradeByBlueGreen(st, approved);
  } else if (approved) {
    result = await upgradeInApprovedWindow(st, approved);
  } else if (s.requiresApproval) {
    result = await upgradeInAnnouncedWindow(st);
  } else {
    result = await upgradeInNextWindow(st);
  }
  await checkHealth(st);
  report.status = 'completed';
  report.endedAt = nowIso();
  const followUp = result === 'past-target' ? pastTargetFollowUp(st) : `${s.name}: ${s.infraCodeHint}`;
  st.status.followUps.push(followUp);
  st.step('stage-completed', followUp);
  const at = report.engineVersionNow ?? target;
  await st.notify('stage-completed', `${s.name} completed at ${at}. Follow-up: ${followUp.slice(s.name.length + 2)}`, { downtimeSeconds: report.downtimeSeconds });
}

/** What the infrastructure code must say of an instance that moved past the target outside the campaign. */
function pastTargetFollowUp(st: StageRun): string {
  const { stage: s, report } = st;
  const v = report.engineVersionNow!;
  return `${s.name}: ${s.instanceId} runs ${v}, not the target ${st.target} (upgraded outside the campaign): set engine_version = "${v}" and auto_minor_version_upgrade = false for ${s.instanceId} in the Terraform code (otherwise Terraform will error on its next plan).`;
}

/** A read replica created since preflight goes first too (RDS would refuse the instance before it). */
async function newReplicas(st: StageRun, info: InstanceInfo): Promise<void> {
  const { stage: s, report } = st;
  const known = new Set((report.replicas ?? []).map((r) => r.listedAs));
  if (!(info.readReplicaIds ?? []).some((id) => !known.has(id))) return;
  const problems = await readReplicas(st, info);
  for (const p of problems) {
    st.step('replica-unreadable', p);
    await st.notify('escalation', `${p}; RDS will refuse to upgrade ${s.instanceId} before it`);
  }
}

/**
 * The stage reads its instance again before its first change: weeks may have passed since preflight. One
 * already at the target (or past it: a console click, AWS's forced upgrade) is not upgraded again; its
 * maintenance window as AWS has it now is the one used.
 */
async function alreadyDone(st: StageRun): Promise<boolean> {
  const { stage: s, report } = st;
  const info = await st.aws('read-again', () => st.a.describeInstance({ where: st.where, instanceId: s.instanceId }));
  st.info = info;
  const standing = standingOf(info.engineVersion, st.target);
  if (standing.kind === 'below-target') {
    await newReplicas(st, info);
    return false;
  }
  report.status = 'skipped';
  report.endedAt = nowIso();
  if (standing.kind === 'past-target') {
    report.engineVersionNow = standing.version;
    report.note = `runs ${standing.version}, past the target ${st.target}: upgraded outside the campaign before this stage`;
    st.status.followUps.push(pastTargetFollowUp(st));
  } else {
    report.note = `already at ${info.engineVersion}: upgraded outside the campaign before this stage`;
    st.status.followUps.push(`${s.name}: ${s.infraCodeHint}`);
  }
  st.step('stage-skipped', `${s.instanceId}: ${report.note}`);
  await st.notify('stage-completed', `${s.name} skipped: ${s.instanceId} ${report.note}`);
  return true;
}

/** "Confirm the instance is healthy": an optional URL; a failure asks the team before the next stage. */
async function checkHealth(st: StageRun): Promise<void> {
  const { stage: s } = st;
  const url = s.healthCheckUrl;
  if (!url) return;
  const h = await st.aws('health-check', () => st.a.checkHealth({ url, timeoutMs: 5000 }));
  st.step('health-check', h.detail);
  if (!h.healthy) await st.ask(`health check ${url} failed after the upgrade (${h.detail}). Continue with the next stage?`, 'escalation');
}
