/**
 * One stage from start to finish: announce it, hold if paused, run the runbook part its method names
 * (preview: the next maintenance window; staging: now, under the probe; production: the approved and
 * announced window), check health, and record the infrastructure-code follow-up.
 */
import type { InstanceInfo, ResolvedStage, StageReport } from '../../api';
import { standingOf } from '../../domain/estate';
import { nowIso } from '../shared/clock';
import { upgradeInNextWindow } from './preview';
import type { Occurrence } from '../../domain/maintenance-window';
import { upgradeInAnnouncedWindow, upgradeInApprovedWindow } from './production';
import type { CampaignRun } from './run';
import { readReplicas } from './replicas';
import { upgradeNowUnderProbe } from './staging';

/**
 * `approved`: the window a fleet's parent campaign approved and announced for this one instance (its child
 * workflow runs the window's part only; see fleet-instance.ts).
 */
export async function runStage(c: CampaignRun, s: ResolvedStage, report: StageReport, approved?: Occurrence): Promise<void> {
  const target = c.spec.targetEngineVersion;
  report.status = 'running';
  report.startedAt = nowIso();
  c.setState('running');
  c.step(report, 'stage-started', `${s.region}/${s.instanceId} ${report.fromVersion} → ${target} (${s.method})`);
  await c.notify('stage-started', `${s.name} started: ${s.instanceId} ${report.fromVersion} → ${target} (${s.method})`, s.name);
  await c.checkpoint(report);
  if (c.estateGuard && (await alreadyDone(c, s, report))) return;
  let result: 'upgraded' | 'past-target' = 'upgraded';
  if (s.method === 'apply-now') {
    await upgradeNowUnderProbe(c, s, report);
  } else if (approved) {
    result = await upgradeInApprovedWindow(c, s, report, approved);
  } else if (s.requiresApproval) {
    result = await upgradeInAnnouncedWindow(c, s, report);
  } else {
    result = await upgradeInNextWindow(c, s, report);
  }
  await checkHealth(c, s, report);
  report.status = 'completed';
  report.endedAt = nowIso();
  const followUp = result === 'past-target' ? pastTargetFollowUp(c, s, report) : `${s.name}: ${s.infraCodeHint}`;
  c.status.followUps.push(followUp);
  c.step(report, 'stage-completed', followUp);
  const at = report.engineVersionNow ?? target;
  await c.notify('stage-completed', `${s.name} completed at ${at}. Follow-up: ${followUp.slice(s.name.length + 2)}`, s.name, { downtimeSeconds: report.downtimeSeconds });
}

/** What the infrastructure code must say of an instance that moved past the target outside the campaign. */
function pastTargetFollowUp(c: CampaignRun, s: ResolvedStage, report: StageReport): string {
  const v = report.engineVersionNow!;
  return `${s.name}: ${s.instanceId} runs ${v}, not the target ${c.spec.targetEngineVersion} (upgraded outside the campaign): set engine_version = "${v}" and auto_minor_version_upgrade = false for ${s.instanceId} in the Terraform code (otherwise Terraform will error on its next plan).`;
}

/** A read replica created since preflight goes first too (RDS would refuse the instance before it). */
async function newReplicas(c: CampaignRun, s: ResolvedStage, report: StageReport, info: InstanceInfo): Promise<void> {
  const known = new Set((report.replicas ?? []).map((r) => r.listedAs));
  if (!(info.readReplicaIds ?? []).some((id) => !known.has(id))) return;
  const problems = await readReplicas(c, s, report, info);
  for (const p of problems) {
    c.step(report, 'replica-unreadable', p);
    await c.notify('escalation', `${p}; RDS will refuse to upgrade ${s.instanceId} before it`, s.name);
  }
}

/**
 * The stage reads its instance again before its first change: weeks may have passed since preflight. One
 * already at the target (or past it: a console click, AWS's forced upgrade) is not upgraded again; its
 * maintenance window as AWS has it now is the one used.
 */
async function alreadyDone(c: CampaignRun, s: ResolvedStage, report: StageReport): Promise<boolean> {
  const info = await c.aws(s.name, 'read-again', () => c.a.describeInstance(c.where(s), s.instanceId));
  c.instances.set(s.name, info);
  const standing = standingOf(info.engineVersion, c.spec.targetEngineVersion);
  if (standing.kind === 'below-target') {
    await newReplicas(c, s, report, info);
    return false;
  }
  report.status = 'skipped';
  report.endedAt = nowIso();
  if (standing.kind === 'past-target') {
    report.engineVersionNow = standing.version;
    report.note = `runs ${standing.version}, past the target ${c.spec.targetEngineVersion}: upgraded outside the campaign before this stage`;
    c.status.followUps.push(pastTargetFollowUp(c, s, report));
  } else {
    report.note = `already at ${info.engineVersion}: upgraded outside the campaign before this stage`;
    c.status.followUps.push(`${s.name}: ${s.infraCodeHint}`);
  }
  c.step(report, 'stage-skipped', `${s.instanceId}: ${report.note}`);
  await c.notify('stage-completed', `${s.name} skipped: ${s.instanceId} ${report.note}`, s.name);
  return true;
}

/** "Confirm the instance is healthy": an optional URL; a failure asks the team before the next stage. */
async function checkHealth(c: CampaignRun, s: ResolvedStage, report: StageReport): Promise<void> {
  const url = s.healthCheckUrl;
  if (!url) return;
  const h = await c.aws(s.name, 'health-check', () => c.a.checkHealth(url, 5000));
  c.step(report, 'health-check', h.detail);
  if (!h.healthy) await c.askDecision(report, `health check ${url} failed after the upgrade (${h.detail}). Continue with the next stage?`, 'escalation');
}
