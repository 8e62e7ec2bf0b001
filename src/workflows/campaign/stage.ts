/**
 * One stage from start to finish: announce it, hold if paused, run the runbook part its method names
 * (preview: the next maintenance window; staging: now, under the probe; production: the approved and
 * announced window), check health, and record the infrastructure-code follow-up.
 */
import type { ResolvedStage, StageReport } from '../../api';
import { nowIso } from '../shared/clock';
import { upgradeInNextWindow } from './preview';
import type { Occurrence } from '../../domain/maintenance-window';
import { upgradeInAnnouncedWindow, upgradeInApprovedWindow } from './production';
import type { CampaignRun } from './run';
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
  if (s.method === 'apply-now') {
    await upgradeNowUnderProbe(c, s, report);
  } else if (approved) {
    await upgradeInApprovedWindow(c, s, report, approved);
  } else if (s.requiresApproval) {
    await upgradeInAnnouncedWindow(c, s, report);
  } else {
    await upgradeInNextWindow(c, s, report);
  }
  await checkHealth(c, s, report);
  report.status = 'completed';
  report.endedAt = nowIso();
  const followUp = `${s.name}: ${s.infraCodeHint}`;
  c.status.followUps.push(followUp);
  c.step(report, 'stage-completed', followUp);
  await c.notify('stage-completed', `${s.name} completed at ${target}. Follow-up: ${s.infraCodeHint}`, s.name, { downtimeSeconds: report.downtimeSeconds });
}

/** "Confirm the instance is healthy": an optional URL; a failure asks the team before the next stage. */
async function checkHealth(c: CampaignRun, s: ResolvedStage, report: StageReport): Promise<void> {
  const url = s.healthCheckUrl;
  if (!url) return;
  const h = await c.aws(s.name, 'health-check', () => c.a.checkHealth(url, 5000));
  c.step(report, 'health-check', h.detail);
  if (!h.healthy) await c.askDecision(report, `health check ${url} failed after the upgrade (${h.detail}). Continue with the next stage?`, 'escalation');
}
