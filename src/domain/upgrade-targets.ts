/**
 * Reading DescribeDBEngineVersions' ValidUpgradeTarget list for the version an instance runs: which targets
 * are minor upgrades, whether the campaign's target is one, and which one RDS applies by itself. Pure: the
 * RDS activity lists the targets, and the workflows (preflight, the estate guard) and `campaign plan` read
 * them through these functions only (test/domain/plan-equals-run.test.ts).
 *
 * AWS's fields (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_UpgradeTarget.html):
 * - IsMajorVersionUpgrade: "whether upgrading to the target version requires upgrading the major version";
 * - AutoUpgrade: "whether the target version is applied to any source DB instances that have
 *   AutoMinorVersionUpgrade set to true. This parameter is dynamic, and is set by RDS."
 */
import type { UpgradeTarget } from '../api/activities';

/**
 * One ValidUpgradeTarget as a fresh answer lists it. RDS always sends both flags; an answer without one (another
 * implementation) reads it as false: not a major upgrade, not applied automatically. (A target recorded by older
 * activity code, without `autoUpgrade` at all, is another thing: unknown, see UpgradeTarget.)
 */
export function listedUpgradeTarget(listed: { engineVersion: string; isMajorVersionUpgrade?: boolean; autoUpgrade?: boolean }): UpgradeTarget {
  return { engineVersion: listed.engineVersion, isMajorVersionUpgrade: listed.isMajorVersionUpgrade ?? false, autoUpgrade: listed.autoUpgrade ?? false };
}

/** The targets that stay within the instance's major version. */
export function minorTargets(targets: UpgradeTarget[]): UpgradeTarget[] {
  return targets.filter((t) => !t.isMajorVersionUpgrade);
}

/** The version AutoMinorVersionUpgrade brings in a maintenance window (the minor ValidUpgradeTarget with AutoUpgrade=true), if any. */
export function automaticMinorTarget(targets: UpgradeTarget[]): string | undefined {
  return minorTargets(targets).find((t) => t.autoUpgrade === true)?.engineVersion;
}

/**
 * What the target list says about one version: not a valid target at all, a major upgrade, or a minor one,
 * applied automatically (AutoUpgrade true), not (false), or unknown (a target recorded without the flag).
 */
export type TargetReading = { kind: 'not-valid' } | { kind: 'major' } | { kind: 'minor'; automatic: boolean | undefined };

export function readTarget(targets: UpgradeTarget[], version: string): TargetReading {
  const match = targets.find((t) => t.engineVersion === version);
  if (!match) return { kind: 'not-valid' };
  if (match.isMajorVersionUpgrade) return { kind: 'major' };
  return { kind: 'minor', automatic: match.autoUpgrade };
}

/**
 * The automatic minor target RDS has now for the instance's version, when it is no longer the campaign's:
 * AutoUpgrade "is dynamic, and is set by RDS". Turning the flag on would then bring that version, which
 * nobody approved. Undefined when it is still the target.
 */
export function movedAutomaticTarget(targets: UpgradeTarget[], target: string): { now: string | undefined } | undefined {
  const auto = automaticMinorTarget(targets);
  return auto === target ? undefined : { now: auto };
}
