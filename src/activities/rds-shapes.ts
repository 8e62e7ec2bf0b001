/**
 * RDS answers (AWS SDK v3 shapes) turned into the activities' plain data, shared by the RDS activities
 * (./rds.ts) and the fleet listing (./fleet.ts), so the same AWS field reads the same everywhere.
 */
import type { PendingMaintenanceAction as SdkPendingMaintenanceAction, Tag } from '@aws-sdk/client-rds';
import type { PendingMaintenanceAction } from '../api/activities';

export function iso(d: Date | undefined): string | undefined {
  return d ? d.toISOString() : undefined;
}

export function tagsToRecord(tags: Tag[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? '';
  return out;
}

/** One pending action as the activities return it (listPendingMaintenance and findFleet alike); undefined without an Action. */
export function toPendingAction(a: SdkPendingMaintenanceAction): PendingMaintenanceAction | undefined {
  if (!a.Action) return undefined;
  return JSON.parse(
    JSON.stringify({
      action: a.Action,
      description: a.Description,
      autoAppliedAfterDate: iso(a.AutoAppliedAfterDate),
      forcedApplyDate: iso(a.ForcedApplyDate),
      currentApplyDate: iso(a.CurrentApplyDate),
      optInStatus: a.OptInStatus,
    }),
  ) as PendingMaintenanceAction;
}
