/**
 * preview (runbook: "have the target version applied in the next maintenance window"): AutoMinorVersion-
 * Upgrade on, sleep until the window, confirm the engine version moved and the instance is available, and
 * leave the flag as it was before. Read replicas go first, in their own windows (replicas.ts).
 */
import type { ResolvedStage, StageReport } from '../../api';
import { pendingUpgradeTo } from '../../domain/pending-maintenance';
import { previewWindow } from '../../domain/plan';
import { nowMs } from '../shared/clock';
import { stageSubject } from './auto-minor-upgrade';
import { armFlag, disarmFlag } from './estate';
import { upgradeReplicasInTheirWindows } from './replicas';
import type { CampaignRun } from './run';
import { watchUntilUpgraded, type WindowResult } from './windows';

export async function upgradeInNextWindow(c: CampaignRun, s: ResolvedStage, report: StageReport): Promise<Exclude<WindowResult, 'missed' | 'moved'>> {
  const guarded = c.estateGuard;
  await warnUnlessUpgradePending(c, s, report);
  if (guarded) await upgradeReplicasInTheirWindows(c, s, report);
  const x = stageSubject(c, s, report);
  await armFlag(c, s, report, x, { guarded });
  const result = await watchUntilUpgraded(c, s, report, previewWindow(x.windowText, nowMs()), x);
  await c.checkpoint(report);
  await disarmFlag(c, s, report, x);
  return result;
}

async function warnUnlessUpgradePending(c: CampaignRun, s: ResolvedStage, report: StageReport): Promise<void> {
  const pending = await c.aws(s.name, 'pending-maintenance', () => c.a.listPendingMaintenance(c.where(s), s.instanceId));
  if (!pendingUpgradeTo(pending, c.spec.targetEngineVersion)) {
    c.step(report, 'warning', `AWS lists no pending db-upgrade to ${c.spec.targetEngineVersion} for ${s.instanceId}; the window may pass without an upgrade`);
  }
}
