/**
 * Reading what AWS lists as pending maintenance (DescribePendingMaintenanceActions): whether the upgrade
 * the campaign expects is there, and by when AWS would apply it whatever the campaign does. Pure: the
 * workflow and `campaign plan` read it the same way.
 */
import type { PendingMaintenanceAction } from '../api';

/** The pending db-upgrade to exactly a version: one rule for the workflows, the plan and the activities. */
export { pendingUpgradeTo } from './engine-version';

/**
 * The rule of runs started before the exact-version rule (their recorded pre-check took its decision with
 * it): the description contains the version's text, so 15.1 matched "15.12". Only their replay uses it.
 */
export function pendingUpgradeContaining(pending: PendingMaintenanceAction[], targetVersion: string): PendingMaintenanceAction | undefined {
  return pending.find((p) => p.action === 'db-upgrade' && (p.description ?? '').includes(targetVersion));
}

/** AWS's own schedule: the earliest AutoAppliedAfterDate or ForcedApplyDate of a pending db-upgrade (epoch ms). */
export function awsUpgradeDeadline(pending: PendingMaintenanceAction[]): number | undefined {
  const dates = pending
    .filter((p) => p.action === 'db-upgrade')
    .flatMap((p) => [p.autoAppliedAfterDate, p.forcedApplyDate])
    .filter((d): d is string => Boolean(d))
    .map((d) => Date.parse(d));
  return dates.length ? Math.min(...dates) : undefined;
}

/** One line for people: "db-upgrade (Upgrade to PostgreSQL 15.8); system-update", or `none`. */
export function describePending(pending: PendingMaintenanceAction[], none = 'none'): string {
  return pending.map((p) => `${p.action}${p.description ? ` (${p.description})` : ''}`).join('; ') || none;
}
