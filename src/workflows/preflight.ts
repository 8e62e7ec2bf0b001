/**
 * What the campaign checks about one instance before it changes anything. Pure: the workflow's
 * preflight and the CLI's `campaign plan` both use it, so the dry run says exactly what the run would.
 */
import type { InstanceInfo, UpgradeTarget } from '../activities/types';
import type { ResolvedStage } from '../spec';
import { parseMaintenanceWindow } from './maintenance-window';

export type StageReadiness =
  | { kind: 'ready'; fromVersion: string }
  | { kind: 'skip'; fromVersion: string; note: string }
  | { kind: 'problem'; problems: string[] };

/** Whether `targets` must be fetched for this instance (not when it is not postgres or already at target). */
export function needsUpgradeTargets(info: InstanceInfo, targetVersion: string): boolean {
  return info.engine === 'postgres' && info.engineVersion !== targetVersion;
}

export function assessStage(stage: ResolvedStage, info: InstanceInfo, targetVersion: string, targets: UpgradeTarget[]): StageReadiness {
  const problems: string[] = [];
  if (info.engine !== 'postgres') {
    return { kind: 'problem', problems: [`${stage.name}: ${stage.region}/${stage.instanceId} runs ${info.engine}, not postgres`] };
  }
  if (stage.method === 'maintenance-window') {
    try {
      parseMaintenanceWindow(info.preferredMaintenanceWindow);
    } catch (err) {
      problems.push(`${stage.name}: ${(err as Error).message}`);
    }
  }
  if (info.engineVersion === targetVersion) {
    return problems.length ? { kind: 'problem', problems } : { kind: 'skip', fromVersion: info.engineVersion, note: `already at ${info.engineVersion}` };
  }
  const match = targets.find((t) => t.engineVersion === targetVersion);
  const minors = targets.filter((t) => !t.isMajorVersionUpgrade).map((t) => t.engineVersion).join(', ') || 'none';
  if (!match) {
    problems.push(`${stage.name}: ${targetVersion} is not a valid upgrade target for ${stage.instanceId} at ${info.engineVersion}; valid minor targets: ${minors}`);
  } else if (match.isMajorVersionUpgrade) {
    problems.push(`${stage.name}: ${info.engineVersion} → ${targetVersion} is a major version upgrade; this campaign does minor upgrades only (valid minor targets: ${minors})`);
  }
  return problems.length ? { kind: 'problem', problems } : { kind: 'ready', fromVersion: info.engineVersion };
}
