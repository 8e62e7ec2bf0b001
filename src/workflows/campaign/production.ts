/**
 * production (runbook: "at least 2 weeks' notice ... check a few days before that AWS lists the pending
 * maintenance ... flip the flag, watch the window, flip it back"): an approval by someone other than the
 * requester of a named window, a status-page scheduled maintenance for exactly that window, the pre-check
 * of AWS's pending maintenance, then the flag around the window.
 */
import { CancellationScope, sleep } from '@temporalio/workflow';
import type { ResolvedStage, StageReport } from '../../api';
import { invalidateOtherPlans, validApprovalCount } from '../../domain/approvals';
import { formatDuration } from '../../domain/duration';
import type { Occurrence } from '../../domain/maintenance-window';
import { describePending, pendingUpgradeContaining, pendingUpgradeTo } from '../../domain/pending-maintenance';
import { approvalPlanId, awsAppliesBefore, precheckInstant, productionWindow } from '../../domain/plan';
import { iso, nowIso, nowMs } from '../shared/clock';
import { standingOf } from '../../domain/estate';
import { movedAutomaticTarget } from '../../domain/upgrade-targets';
import { stageSubject } from './auto-minor-upgrade';
import { armFlag, decideOnMovedTarget, disarmFlag, inspect, notePastTarget } from './estate';
import { upgradeReplicasInTheirWindows } from './replicas';
import type { CampaignRun } from './run';
import { watchUntilUpgraded, type WindowResult } from './windows';

const ANNOUNCEMENT = 'statuspage';

export async function upgradeInAnnouncedWindow(c: CampaignRun, s: ResolvedStage, report: StageReport): Promise<Exclude<WindowResult, 'missed' | 'moved'>> {
  const window = await obtainApprovalForWindow(c, s, report);
  await c.checkpoint(report);
  if (s.statusPage.enabled) {
    const created = await announceMaintenance(c, s, window, { id: ANNOUNCEMENT, key: `${c.spec.campaignId}/${s.name}/${iso(window.startMs)}`, incidentId: () => report.statusPageIncidentId });
    report.statusPageIncidentId = created.incidentId;
    c.step(report, 'status-page-scheduled', `${created.incidentId}${created.shortlink ? ` ${created.shortlink}` : ''} for ${iso(window.startMs)} – ${iso(window.endMs)}`);
  }
  const result = await upgradeInApprovedWindow(c, s, report, window);
  // Upgraded outside the campaign before its window: the announced maintenance will not happen.
  if (nowMs() < window.startMs && (await c.saga.runNow(ANNOUNCEMENT))) c.step(report, 'announcement-cancelled', `the maintenance announced for ${iso(window.startMs)} is cancelled: ${report.note ?? 'nothing to do in it'}`);
  c.saga.drop(ANNOUNCEMENT);
  return result;
}

/**
 * The approved window's part for one instance: its read replicas in their own windows, the pre-check, the flag
 * on (RDS's automatic target read again first), watch the window, the flag off.
 */
export async function upgradeInApprovedWindow(c: CampaignRun, s: ResolvedStage, report: StageReport, window: Occurrence): Promise<Exclude<WindowResult, 'missed' | 'moved'>> {
  const guarded = c.estateGuard;
  if (guarded) await upgradeReplicasInTheirWindows(c, s, report, window);
  const checked = await precheckPendingMaintenance(c, s, report, window, guarded);
  if (checked !== 'go') return checked;
  const x = stageSubject(c, s, report);
  await armFlag(c, s, report, x, { guarded, deadlineMs: window.endMs });
  const result = await watchUntilUpgraded(c, s, report, window, x);
  await c.checkpoint(report);
  await disarmFlag(c, s, report, x);
  return result;
}

/** Proposes the first window at least the notice ahead, waits for approvals naming it, re-asks if it moved. */
async function obtainApprovalForWindow(c: CampaignRun, s: ResolvedStage, report: StageReport): Promise<Occurrence> {
  const windowText = c.instances.get(s.name)!.preferredMaintenanceWindow;
  const target = c.spec.targetEngineVersion;
  for (;;) {
    const pick = productionWindow(windowText, nowMs(), s, c.spec.blackouts);
    for (const skipped of pick.skipped) c.step(report, 'window-skipped', `${iso(skipped.window.startMs)}: ${skipped.reason}`);
    const w = pick.window;
    report.window = { start: iso(w.startMs), end: iso(w.endMs) };
    await askIfAwsAppliesFirst(c, s, report, w);
    const plan = approvalPlanId(s.name, target, w.startMs);
    const invalidated = invalidateOtherPlans(c.status.approvals, s.name, plan);
    if (invalidated > 0) c.step(report, 'approvals-invalidated', `${invalidated} approval(s) were for another plan; approve ${plan}`);
    if (validApprovalCount(c.status.approvals, plan) >= c.spec.approval.minApprovals) return w;

    await c.identity.refresh(c.status.timeline, s.name);
    const askedAt = nowIso();
    c.approvalPlan = { stage: s.name, plan, windowStartMs: w.startMs, askedAt };
    const who = c.spec.approval.approvers.length ? `one of ${c.spec.approval.approvers.join(', ')}` : `anyone but ${c.spec.requester}`;
    const ask = `approve ${s.name}: upgrade ${s.instanceId} to ${target} in the window ${iso(w.startMs)} – ${iso(w.endMs)} (${c.spec.approval.minApprovals} approval(s) by ${who})`;
    c.setState('waiting-for-approval', { kind: 'approval', description: ask, plan, askedAt });
    c.step(report, 'waiting-for-approval', plan);
    await c.notify('approval-needed', `${ask}. Run \`campaign approve ${c.spec.campaignId} ${c.actorHint()}\`.`, s.name, { plan });
    try {
      await c.waitForHuman(
        () => validApprovalCount(c.status.approvals, plan) >= c.spec.approval.minApprovals,
        () => c.notify('reminder', `still waiting: ${ask}`, s.name, { plan }),
      );
    } finally {
      c.approvalPlan = undefined;
    }
    c.setState('running');
    // The approval names a window; if the notice rule now needs a later one, ask again.
    const now = productionWindow(windowText, nowMs(), s, c.spec.blackouts).window;
    if (now.startMs === w.startMs) {
      c.step(report, 'approved', plan);
      return w;
    }
    c.step(report, 'plan-changed', `approved window ${iso(w.startMs)} is now less than ${formatDuration(s.noticeMs)} ahead; asking again for ${iso(now.startMs)}`);
  }
}

/** AWS's own schedule: when a pending action would be applied before the chosen window, the team decides. */
async function askIfAwsAppliesFirst(c: CampaignRun, s: ResolvedStage, report: StageReport, w: Occurrence): Promise<void> {
  const pending = await c.aws(s.name, 'pending-maintenance', () => c.a.listPendingMaintenance(c.where(s), s.instanceId));
  const deadline = awsAppliesBefore(pending, w);
  if (deadline === undefined) return;
  await c.notify('escalation', `${s.name}: AWS would apply the upgrade on ${iso(deadline)}, before the chosen window ${iso(w.startMs)}`, s.name);
  await c.askDecision(report, `AWS will apply the upgrade to ${s.instanceId} on ${iso(deadline)}, before the campaign's window ${iso(w.startMs)}. Continue with this window anyway?`, 'escalation');
}

/**
 * A Statuspage scheduled maintenance for exactly the window; cancelling it (never deleting) is the
 * compensation, registered first under `opts.id`. `opts.key` makes a retry find it instead of announcing twice.
 */
export async function announceMaintenance(
  c: CampaignRun,
  s: ResolvedStage,
  window: Occurrence,
  opts: { id: string; key: string; incidentId: () => string | undefined; body?: string },
): Promise<{ incidentId: string; shortlink?: string }> {
  c.saga.add({
    id: opts.id,
    description: `cancel the status-page maintenance for ${s.name} (${iso(window.startMs)})`,
    manual: () => `in Statuspage, mark the scheduled maintenance for ${iso(window.startMs)} (${opts.incidentId() ?? 'see the timeline'}) completed with a note that it is cancelled`,
    run: async () => {
      const incidentId = opts.incidentId();
      if (!incidentId) return false;
      return (await c.aws(s.name, 'cancel-announcement', () => c.a.cancelScheduledMaintenance(incidentId, `campaign ${c.spec.campaignId} was stopped`))).changed;
    },
  });
  // Not interruptible by abort: an announcement made is always recorded, so it can be cancelled.
  return CancellationScope.nonCancellable(() =>
    c.aws(s.name, 'announce-maintenance', () =>
      c.a.createScheduledMaintenance({
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
export async function precheckPendingMaintenance(c: CampaignRun, s: ResolvedStage, report: StageReport, window: Occurrence, guarded = false): Promise<'go' | 'upgraded' | 'past-target'> {
  const precheckAt = precheckInstant(window, s);
  if (precheckAt > nowMs()) {
    c.setState('waiting-for-window', { kind: 'precheck', description: `${s.name}: pre-check of AWS pending maintenance`, until: iso(precheckAt) });
    c.step(report, 'waiting-for-precheck', iso(precheckAt));
    await sleep(precheckAt - nowMs());
  }
  await c.checkpoint(report);
  c.setState('running');
  const target = c.spec.targetEngineVersion;
  if (guarded) {
    const x = stageSubject(c, s, report);
    const { info, targets } = await inspect(c, s, x, 'precheck');
    const standing = standingOf(info.engineVersion, target);
    if (standing.kind === 'past-target') {
      await notePastTarget(c, s, report, x, standing.version, 'at the pre-check');
      return 'past-target';
    }
    if (standing.kind === 'at-target') {
      report.note = `reached ${target} outside the campaign, before its window`;
      c.step(report, 'upgraded-outside', `${s.instanceId} already runs ${target} at the pre-check: upgraded outside the campaign`);
      return 'upgraded';
    }
    const moved = movedAutomaticTarget(targets, target);
    if (moved) {
      await decideOnMovedTarget(c, s, report, x, info, moved.now);
      return 'go';
    }
  }
  const pending = await c.aws(s.name, 'pending-maintenance', () => c.a.listPendingMaintenance(c.where(s), s.instanceId));
  const expected = guarded ? pendingUpgradeTo(pending, target) : pendingUpgradeContaining(pending, target);
  if (expected) {
    c.step(report, 'precheck-passed', expected.description);
    return 'go';
  }
  const seen = describePending(pending, 'nothing');
  c.step(report, 'precheck-failed', `expected a pending db-upgrade to ${target}, AWS lists ${seen}`);
  await c.notify('escalation', `${s.name}: AWS does not list the expected pending upgrade to ${target} for ${s.instanceId} (it lists ${seen})`, s.name);
  await c.askDecision(report, `AWS lists ${seen} instead of a pending db-upgrade to ${target}. Turn the flag on anyway and watch the window?`, 'escalation');
  return 'go';
}
