/**
 * What the campaign checks about one instance before it changes anything. Pure: the workflow's
 * preflight and the CLI's `campaign plan` both use it, so the dry run says exactly what the run would.
 */
import type { InstanceInfo, UpgradeTarget } from '../api/activities';
import type { ResolvedStage } from '../api';
import { blueGreenUnsupported } from './blue-green';
import { isPastTarget } from './engine-version';
import { parseMaintenanceWindow } from './maintenance-window';
import { automaticMinorTarget, minorTargets, readTarget } from './upgrade-targets';

export type StageReadiness =
  | { kind: 'ready'; fromVersion: string }
  | { kind: 'skip'; fromVersion: string; note: string; pastTarget?: string }
  | { kind: 'problem'; problems: string[] };

/** Whether `targets` must be fetched for this instance (not when it is not postgres or already at target). */
export function needsUpgradeTargets(info: InstanceInfo, targetVersion: string): boolean {
  return info.engine === 'postgres' && info.engineVersion !== targetVersion;
}

/**
 * A maintenance-window stage's only lever is AutoMinorVersionUpgrade, and with it RDS applies its own
 * preferred minor version, the ValidUpgradeTarget marked AutoUpgrade ("whether the target version is
 * applied to any source DB instances that have AutoMinorVersionUpgrade set to true",
 * DescribeDBEngineVersions reference). Any other target would never come: the stage would wait for it
 * while RDS installs another version. Queueing the exact version instead (ModifyDBInstance EngineVersion
 * without ApplyImmediately) is not done: AWS documents no way to withdraw a queued engine-version change,
 * so an aborted campaign could not undo it.
 */
function notTheAutomaticTarget(stage: ResolvedStage, info: AssessedInstance, targetVersion: string, targets: UpgradeTarget[]): string {
  const auto = automaticMinorTarget(targets);
  const brings = auto ? `RDS's preferred minor for ${info.engineVersion}, ${auto}` : `nothing: RDS marks no automatic minor upgrade from ${info.engineVersion}`;
  return (
    `${stage.name}: ${targetVersion} cannot come through a maintenance window: the stage turns AutoMinorVersionUpgrade on, which brings only ${brings} ` +
    `(ValidUpgradeTarget AutoUpgrade=true). Use targetEngineVersion ${auto ?? '<the preferred minor>'}, or method apply-now for ${stage.name} (it sets EngineVersion ${targetVersion} exactly).`
  );
}

/** What assessing an instance reads of it (a fleet's members carry only this much). */
export type AssessedInstance = Pick<InstanceInfo, 'engine' | 'engineVersion' | 'preferredMaintenanceWindow'> & Partial<Pick<InstanceInfo, 'masterUserSecretArn' | 'readReplicaIds' | 'backupRetentionPeriodDays'>>;

export function assessStage(stage: ResolvedStage, info: AssessedInstance, targetVersion: string, targets: UpgradeTarget[]): StageReadiness {
  const problems: string[] = [];
  if (info.engine !== 'postgres') {
    return { kind: 'problem', problems: [`${stage.name}: ${stage.region}/${stage.instanceId} runs ${info.engine}, not postgres`] };
  }
  // Blue/Green switches over in the window too (or now: `blueGreen.switchover`, for stages without approval).
  if (stage.method === 'maintenance-window' || (stage.method === 'blue-green' && (stage.requiresApproval || stage.blueGreen?.switchover !== 'now'))) {
    try {
      parseMaintenanceWindow(info.preferredMaintenanceWindow);
    } catch (err) {
      problems.push(`${stage.name}: ${(err as Error).message}`);
    }
  }
  const unsupported = stage.method === 'blue-green' ? blueGreenUnsupported(info, stage.region) : undefined;
  if (unsupported) problems.push(`${stage.name}: ${stage.instanceId} cannot be upgraded by Blue/Green: ${unsupported}`);
  if (info.engineVersion === targetVersion) {
    return problems.length ? { kind: 'problem', problems } : { kind: 'skip', fromVersion: info.engineVersion, note: `already at ${info.engineVersion}` };
  }
  if (isPastTarget(info.engineVersion, targetVersion)) {
    // Upgraded outside the campaign (a console click, AWS's forced upgrade): the target will never come to it.
    const note = `runs ${info.engineVersion}, past the target ${targetVersion} (upgraded outside the campaign)`;
    return problems.length ? { kind: 'problem', problems } : { kind: 'skip', fromVersion: info.engineVersion, note, pastTarget: info.engineVersion };
  }
  const reading = readTarget(targets, targetVersion);
  const minors = minorTargets(targets).map((t) => t.engineVersion).join(', ') || 'none';
  if (reading.kind === 'not-valid') {
    problems.push(`${stage.name}: ${targetVersion} is not a valid upgrade target for ${stage.instanceId} at ${info.engineVersion}; valid minor targets: ${minors}`);
  } else if (reading.kind === 'major') {
    problems.push(`${stage.name}: ${info.engineVersion} → ${targetVersion} is a major version upgrade; this campaign does minor upgrades only (valid minor targets: ${minors})`);
  } else if (stage.method === 'maintenance-window' && reading.automatic === false) {
    problems.push(notTheAutomaticTarget(stage, info, targetVersion, targets));
  }
  return problems.length ? { kind: 'problem', problems } : { kind: 'ready', fromVersion: info.engineVersion };
}
