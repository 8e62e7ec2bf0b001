/**
 * preview (runbook: "have the target version applied in the next maintenance window"): AutoMinorVersion-
 * Upgrade on, sleep until the window, confirm the engine version moved and the instance is available, and
 * leave the flag as it was before.
 */
import type { ResolvedStage, StageReport } from '../../api';
import { pendingUpgradeTo } from '../../domain/pending-maintenance';
import { previewWindow } from '../../domain/plan';
import { nowMs } from '../shared/clock';
import { turnOffAutoMinorUpgrade, turnOnAutoMinorUpgrade } from './auto-minor-upgrade';
import type { CampaignRun } from './run';
import { watchUntilUpgraded } from './windows';

export async function upgradeInNextWindow(c: CampaignRun, s: ResolvedStage, report: StageReport): Promise<void> {
  const info = c.instances.get(s.name)!;
  await warnUnlessUpgradePending(c, s, report);
  await turnOnAutoMinorUpgrade(c, s, report);
  await watchUntilUpgraded(c, s, report, previewWindow(info.preferredMaintenanceWindow, nowMs()));
  await c.checkpoint(report);
  await turnOffAutoMinorUpgrade(c, s, report);
}

async function warnUnlessUpgradePending(c: CampaignRun, s: ResolvedStage, report: StageReport): Promise<void> {
  const pending = await c.aws(s.name, 'pending-maintenance', () => c.a.listPendingMaintenance(c.where(s), s.instanceId));
  if (!pendingUpgradeTo(pending, c.spec.targetEngineVersion)) {
    c.step(report, 'warning', `AWS lists no pending db-upgrade to ${c.spec.targetEngineVersion} for ${s.instanceId}; the window may pass without an upgrade`);
  }
}
