/**
 * production (runbook: "at least 2 weeks' notice ... check a few days before that AWS lists the pending
 * maintenance ... flip the flag, watch the window, flip it back"): an approval by someone other than the
 * requester of a named window, a status-page scheduled maintenance for exactly that window, the pre-check
 * of AWS's pending maintenance, then the flag around the window.
 */
import { CancellationScope } from '@temporalio/workflow';
import { describeWindow } from '../../domain/window-group';
import { invalidateOtherPlans, whoMayApprove } from '../../domain/approvals';
import { formatDuration } from '../../domain/duration';
import type { Occurrence } from '../../domain/maintenance-window';
import { describePending, firstAwsUpgrade, pendingUpgradeContaining, pendingUpgradeTo } from '../../domain/pending-maintenance';
import { approvalPlanId, awsAppliesBefore, precheckInstant, productionWindow } from '../../domain/plan';
import { iso, nowMs } from '../shared/clock';
import { standingOf } from '../../domain/estate';
import { movedAutomaticTarget } from '../../domain/upgrade-targets';
import { stageSubject } from './auto-minor-upgrade';
import { armFlag, decideOnMovedTarget, disarmFlag, inspect, notePastTarget } from './estate';
import { upgradeReplicasInTheirWindows } from './replicas';
import type { StageRun } from './stage-run';
import { nextWindowAfterMove, watchUntilUpgraded, type WindowResult } from './windows';

export const ANNOUNCEMENT = 'statuspage';

export async function upgradeInAnnouncedWindow(st: StageRun): Promise<Exclude<WindowResult, 'missed' | 'moved'>> {
  const { stage: s, report } = st;
  const window = await obtainApprovalForWindow(st);
  await st.checkpoint();
  if (s.statusPage.enabled) {
    const created = await announceMaintenance(st, window, { id: ANNOUNCEMENT, key: `${st.settings.campaignId}/${s.name}/${iso(window.startMs)}`, incidentId: () => report.statusPageIncidentId });
    report.statusPageIncidentId = created.incidentId;
    st.step('status-page-scheduled', `${created.incidentId}${created.shortlink ? ` ${created.shortlink}` : ''} for ${iso(window.startMs)} – ${iso(window.endMs)}`);
  }
  const result = await upgradeInApprovedWindow(st, window);
  // Upgraded outside the campaign before its window: the announced maintenance will not happen.
  if (nowMs() < window.startMs && (await st.saga.runNow(ANNOUNCEMENT))) st.step('announcement-cancelled', `the maintenance announced for ${iso(window.startMs)} is cancelled: ${report.note ?? 'nothing to do in it'}`);
  st.saga.drop(ANNOUNCEMENT);
  return result;
}

/**
 * The approved window's part for one instance: its read replicas in their own windows, the pre-check, the flag
 * on (RDS's automatic target read again first), watch the window, the flag off.
 */
export async function upgradeInApprovedWindow(st: StageRun, window: Occurrence): Promise<Exclude<WindowResult, 'missed' | 'moved'>> {
  const guarded = st.estateGuard;
  if (guarded) await upgradeReplicasInTheirWindows(st, window);
  const checked = await precheckPendingMaintenance(st, window, guarded);
  if (checked !== 'go') return checked;
  const x = stageSubject(st);
  let first = window;
  // Moved since the approval: nothing is armed for a window that no longer comes; the team agrees to the next one first.
  while ((await armFlag(st, x, { guarded, deadlineMs: first.endMs, window: first })) === 'moved') {
    first = await nextWindowAfterMove(st, x);
    // Said when the announced window's maintenance is cancelled (upgradeInAnnouncedWindow).
    st.report.note = `its window moved to ${x.windowText} after the approval; the team agreed to ${iso(first.startMs)} – ${iso(first.endMs)}`;
  }
  const result = await watchUntilUpgraded(st, first, x);
  await st.checkpoint();
  await disarmFlag(st, x);
  return result;
}

/** What an approval names besides the stage, target and window (method blue-green: its deployment). */
export interface ApprovalNaming {
  /** Appended to the plan id (`production|15.8|<window>` + suffix): an approval of another deployment does not count. */
  planSuffix: string;
  /** How the upgrade is done, for the text people approve ("upgrade X to 15.8 <how> in the window …"). */
  how: string;
}

/** Proposes the first window at least the notice ahead, waits for approvals naming it, re-asks if it moved. */
export async function obtainApprovalForWindow(st: StageRun, naming?: ApprovalNaming): Promise<Occurrence> {
  const { stage: s, report } = st;
  const windowText = st.info!.preferredMaintenanceWindow;
  const target = st.target;
  for (;;) {
    const pick = productionWindow(windowText, nowMs(), s, st.settings.blackouts);
    for (const skipped of pick.skipped) st.step('window-skipped', `${iso(skipped.window.startMs)}: ${skipped.reason}`);
    const w = pick.window;
    report.window = { start: iso(w.startMs), end: iso(w.endMs) };
    await askIfAwsAppliesFirst(st, w);
    const plan = approvalPlanId(s.name, target, w.startMs) + (naming?.planSuffix ?? '');
    const invalidated = invalidateOtherPlans(st.status.approvals, s.name, plan);
    if (invalidated > 0) st.step('approvals-invalidated', `${invalidated} approval(s) were for another plan; approve ${plan}`);
    const policy = st.settings.approval!;
    const ask = `approve ${s.name}: upgrade ${s.instanceId} to ${target}${naming ? ` ${naming.how}` : ''} in the window ${iso(w.startMs)} – ${iso(w.endMs)} (${policy.minApprovals} approval(s) by ${whoMayApprove(policy)})`;
    if (!(await st.askApproval(plan, ask, w.startMs))) return w;
    // The approval names a window; if the notice rule now needs a later one, ask again.
    const now = productionWindow(windowText, nowMs(), s, st.settings.blackouts).window;
    if (now.startMs === w.startMs) {
      st.step('approved', plan);
      return w;
    }
    st.step('plan-changed', `approved window ${iso(w.startMs)} is now less than ${formatDuration(s.noticeMs)} ahead; asking again for ${iso(now.startMs)}`);
  }
}

/** AWS's own schedule: when a pending action would be applied before the chosen window, the team decides. */
async function askIfAwsAppliesFirst(st: StageRun, w: Occurrence): Promise<void> {
  const { stage: s } = st;
  // With the instance's window each dated action says when AWS applies it (runs recorded before read the dates themselves).
  const pending = await st.aws('pending-maintenance', () => st.a.listPendingMaintenance({ where: st.where, instanceId: s.instanceId, preferredMaintenanceWindow: st.info?.preferredMaintenanceWindow }));
  const deadline = awsAppliesBefore(pending, w);
  if (deadline === undefined) return;
  // The dated action (the one the deadline is of) need not be the campaign's target: it is named.
  const which = describePending([firstAwsUpgrade(pending)!.action]);
  await st.notify('escalation', `${s.name}: AWS would apply its pending ${which} on ${iso(deadline)}, before the chosen window ${iso(w.startMs)}`);
  await st.ask(`AWS will apply its pending ${which} to ${s.instanceId} on ${iso(deadline)}, before the campaign's window ${iso(w.startMs)}. Continue with this window anyway?`, 'escalation');
}

/**
 * A Statuspage scheduled maintenance for exactly the window; cancelling it (never deleting) is the
 * compensation, registered first under `opts.id`. `opts.key` makes a retry find it instead of announcing twice.
 */
export async function announceMaintenance(
  st: StageRun,
  window: Occurrence,
  opts: { id: string; key: string; incidentId: () => string | undefined; body?: string },
): Promise<{ incidentId: string; shortlink?: string }> {
  const { stage: s } = st;
  st.saga.add({
    id: opts.id,
    description: `cancel the status-page maintenance for ${s.name} (${iso(window.startMs)})`,
    manual: () => `in Statuspage, mark the scheduled maintenance for ${iso(window.startMs)} (${opts.incidentId() ?? 'see the timeline'}) completed with a note that it is cancelled`,
    run: async () => {
      const incidentId = opts.incidentId();
      if (!incidentId) return false;
      return (await st.aws('cancel-announcement', () => st.a.cancelScheduledMaintenance({ incidentId, reason: `campaign ${st.settings.campaignId} was stopped` }))).changed;
    },
  });
  // Not interruptible by abort: an announcement made is always recorded, so it can be cancelled.
  let rounds = 0;
  return CancellationScope.nonCancellable(() =>
    st.aws('announce-maintenance', () =>
      st.a.createScheduledMaintenance({
        ...(rounds++ > 0 ? { retried: true } : {}),
        idempotencyKey: opts.key,
        name: s.statusPage.name,
        body: opts.body ?? s.statusPage.body,
        scheduledFor: iso(window.startMs),
        scheduledUntil: iso(window.endMs),
        componentIds: s.statusPage.componentIds,
        notify: true,
      }),
    ),
  );
}

/**
 * A few days before the window AWS must list the expected pending upgrade; otherwise the team decides. The
 * instance and RDS's automatic target are read again first: one already upgraded is not pre-checked, and a
 * moved target asks the team right away (the pending action then names the other version).
 */
export async function precheckPendingMaintenance(st: StageRun, window: Occurrence, guarded = false): Promise<'go' | 'upgraded' | 'past-target'> {
  const { stage: s, report } = st;
  const precheckAt = precheckInstant(window, s);
  if (precheckAt > nowMs()) {
    st.setState('waiting-for-window', { kind: 'precheck', description: `${s.name}: pre-check of AWS pending maintenance`, until: iso(precheckAt) });
    st.step('waiting-for-precheck', iso(precheckAt));
    await st.sleep(precheckAt - nowMs(), `pre-check ${formatDuration(s.precheckBeforeMs)} before ${s.name}'s window ${describeWindow(window.startMs, window.endMs)}`);
  }
  await st.checkpoint();
  st.setState('running');
  const target = st.target;
  if (guarded) {
    const x = stageSubject(st);
    const { info, targets } = await inspect(st, x, 'precheck');
    const standing = standingOf(info.engineVersion, target);
    if (standing.kind === 'past-target') {
      await notePastTarget(st, x, standing.version, 'at the pre-check');
      return 'past-target';
    }
    if (standing.kind === 'at-target') {
      report.note = `reached ${target} outside the campaign, before its window`;
      st.step('upgraded-outside', `${s.instanceId} already runs ${target} at the pre-check: upgraded outside the campaign`);
      return 'upgraded';
    }
    const moved = movedAutomaticTarget(targets, target);
    if (moved) {
      await decideOnMovedTarget(st, x, info, moved.now);
      return 'go';
    }
  }
  const pending = await st.aws('pending-maintenance', () => st.a.listPendingMaintenance({ where: st.where, instanceId: s.instanceId }));
  const expected = guarded ? pendingUpgradeTo(pending, target) : pendingUpgradeContaining(pending, target);
  if (expected) {
    st.step('precheck-passed', expected.description);
    return 'go';
  }
  const seen = describePending(pending, 'nothing');
  st.step('precheck-failed', `expected a pending db-upgrade to ${target}, AWS lists ${seen}`);
  await st.notify('escalation', `${s.name}: AWS does not list the expected pending upgrade to ${target} for ${s.instanceId} (it lists ${seen})`);
  await st.ask(`AWS lists ${seen} instead of a pending db-upgrade to ${target}. Turn the flag on anyway and watch the window?`, 'escalation');
  return 'go';
}
