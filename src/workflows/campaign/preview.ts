/**
 * preview (runbook: "have the target version applied in the next maintenance window"): AutoMinorVersion-
 * Upgrade on, sleep until the window, confirm the engine version moved and the instance is available, and
 * leave the flag as it was before. Read replicas go first, in their own windows (replicas.ts).
 */
import { pendingUpgradeTo } from '../../domain/pending-maintenance';
import { previewWindow } from '../../domain/plan';
import { nowMs } from '../shared/clock';
import { stageSubject } from './auto-minor-upgrade';
import { armFlag, disarmFlag } from './estate';
import { upgradeReplicasInTheirWindows } from './replicas';
import type { StageRun } from './stage-run';
import { watchUntilUpgraded, type WindowResult } from './windows';

export async function upgradeInNextWindow(st: StageRun): Promise<Exclude<WindowResult, 'missed' | 'moved'>> {
  const guarded = st.estateGuard;
  await warnUnlessUpgradePending(st);
  if (guarded) await upgradeReplicasInTheirWindows(st);
  const x = stageSubject(st);
  await armFlag(st, x, { guarded });
  const result = await watchUntilUpgraded(st, previewWindow(x.windowText, nowMs()), x);
  await st.checkpoint();
  await disarmFlag(st, x);
  return result;
}

async function warnUnlessUpgradePending(st: StageRun): Promise<void> {
  const { stage: s } = st;
  const pending = await st.aws('pending-maintenance', () => st.a.listPendingMaintenance({ where: st.where, instanceId: s.instanceId }));
  if (!pendingUpgradeTo(pending, st.target)) {
    st.step('warning', `AWS lists no pending db-upgrade to ${st.target} for ${s.instanceId}; the window may pass without an upgrade`);
  }
}
