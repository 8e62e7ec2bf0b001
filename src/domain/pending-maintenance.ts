/**
 * Reading what AWS lists as pending maintenance (DescribePendingMaintenanceActions): whether the upgrade
 * the campaign expects is there, how an upgrade now goes (apply that action, or set the version), and by
 * when AWS would apply it whatever the campaign does. Pure: the RDS activity, the workflows and
 * `campaign plan` read it the same way (test/domain/plan-equals-run.test.ts).
 *
 * AWS's fields (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_PendingMaintenanceAction.html):
 * `Action` is one of ca-certificate-rotation, db-upgrade, hardware-maintenance, os-upgrade,
 * serverless-platform-version-update, system-update; `Description` is free text ("A description providing
 * more detail about the maintenance action"): the only place an engine upgrade names its version.
 */
import type { PendingMaintenanceAction } from '../api';
import { namesVersion } from './engine-version';
import { nextWindowStartingAfter, windowContaining } from './maintenance-window';

/**
 * The pending `db-upgrade` to exactly `target`, if AWS lists one: its description names that version as a
 * whole ("Upgrade to PostgreSQL 15.12" is not the upgrade to 15.1). An upgrade whose description names no
 * version, or another one, is not it. One rule for the workflows, the plan and the activities.
 */
export function pendingUpgradeTo(pending: PendingMaintenanceAction[], target: string): PendingMaintenanceAction | undefined {
  return pending.find((p) => p.action === 'db-upgrade' && namesVersion(p.description, target));
}

/**
 * The rule of runs started before the exact-version rule (their recorded pre-check took its decision with
 * it): the description contains the version's text, so 15.1 matched "15.12". Only their replay uses it.
 */
export function pendingUpgradeContaining(pending: PendingMaintenanceAction[], targetVersion: string): PendingMaintenanceAction | undefined {
  return pending.find((p) => p.action === 'db-upgrade' && (p.description ?? '').includes(targetVersion));
}

/**
 * How an upgrade to `target` is started now: by applying the pending db-upgrade that names exactly it
 * (ApplyPendingMaintenanceAction, OptInType immediate), or else by setting the version itself
 * (ModifyDBInstance EngineVersion, ApplyImmediately). Applying another db-upgrade would install another
 * version. The apply-now activity does this and `campaign plan` says it.
 */
export type UpgradeNowBy = { kind: 'apply-pending-action'; action: PendingMaintenanceAction } | { kind: 'modify-engine-version' };

export function upgradeNowBy(pending: PendingMaintenanceAction[], target: string): UpgradeNowBy {
  const action = pendingUpgradeTo(pending, target);
  return action ? { kind: 'apply-pending-action', action } : { kind: 'modify-engine-version' };
}

/**
 * When AWS applies a pending action itself, from the instance's weekly window, whichever comes first:
 * - its ForcedApplyDate;
 * - for its AutoAppliedAfterDate, the instance's first maintenance window after that date (PendingMaintenanceAction:
 *   "applied to the resource during its first maintenance window after this date");
 * - for its CurrentApplyDate ("The effective date when the pending maintenance action is applied to the resource. This
 *   date takes into account opt-in requests received from the ApplyPendingMaintenanceAction API, the
 *   AutoAppliedAfterDate, and the ForcedApplyDate"), the first window from it, or for a `next-maintenance` opt-in the
 *   window it falls in: a colleague's opt-in, or the automatic upgrade an instance's own AutoMinorVersionUpgrade
 *   scheduled, has only this date. Equal to the ForcedApplyDate, it is that date.
 * Undefined without any.
 */
export function awsAppliesAtOf(action: PendingMaintenanceAction, windowText: string): string | undefined {
  const forced = action.forcedApplyDate ? Date.parse(action.forcedApplyDate) : undefined;
  const current = action.currentApplyDate ? Date.parse(action.currentApplyDate) : undefined;
  const firstWindowFrom = (atMs: number) => nextWindowStartingAfter(windowText, atMs - 1).startMs;
  const dates = [
    ...(forced !== undefined ? [forced] : []),
    ...(action.autoAppliedAfterDate ? [firstWindowFrom(Date.parse(action.autoAppliedAfterDate))] : []),
    // The forced date is applied as it is; an opt-in for the next window may date it inside that window; any other
    // (the AutoAppliedAfterDate again, the instance's own flag) counts as an AutoAppliedAfterDate does.
    ...(current === undefined || !Number.isFinite(current) || current === forced
      ? []
      : [(action.optInStatus === 'next-maintenance' ? windowContaining(windowText, current)?.startMs : undefined) ?? firstWindowFrom(current)]),
  ];
  return dates.length ? new Date(Math.min(...dates)).toISOString() : undefined;
}

/** The actions with `awsAppliesAt` from the instance's window (the activities that read them say it; see awsAppliesAtOf). */
export function withAwsDates(pending: PendingMaintenanceAction[], windowText: string | undefined): PendingMaintenanceAction[] {
  if (!windowText) return pending;
  return pending.map((p) => {
    const at = awsAppliesAtOf(p, windowText);
    return at ? { ...p, awsAppliesAt: at } : p;
  });
}

/**
 * AWS's own schedule: the earliest date it applies a pending db-upgrade itself (epoch ms): each action's
 * `awsAppliesAt` as the activity that read it says, or, for actions read before activities said it (recorded in
 * histories), its AutoAppliedAfterDate or ForcedApplyDate itself, as the campaign read them then.
 */
export function awsUpgradeDeadline(pending: PendingMaintenanceAction[]): number | undefined {
  return firstAwsUpgrade(pending)?.atMs;
}

/** The db-upgrade AWS applies first itself, and when (see awsUpgradeDeadline): it need not be to the campaign's target. */
export function firstAwsUpgrade(pending: PendingMaintenanceAction[]): { action: PendingMaintenanceAction; atMs: number } | undefined {
  const dated = pending
    .filter((p) => p.action === 'db-upgrade')
    .flatMap((p) => (p.awsAppliesAt ? [p.awsAppliesAt] : [p.autoAppliedAfterDate, p.forcedApplyDate]).filter((d): d is string => Boolean(d)).map((d) => ({ action: p, atMs: Date.parse(d) })));
  return dated.reduce<{ action: PendingMaintenanceAction; atMs: number } | undefined>((first, d) => (first === undefined || d.atMs < first.atMs ? d : first), undefined);
}

/** One line for people: "db-upgrade (Upgrade to PostgreSQL 15.8); system-update", or `none`. */
export function describePending(pending: PendingMaintenanceAction[], none = 'none'): string {
  return pending.map((p) => `${p.action}${p.description ? ` (${p.description})` : ''}`).join('; ') || none;
}
