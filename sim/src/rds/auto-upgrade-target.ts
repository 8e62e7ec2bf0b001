/**
 * `POST /_sim/auto-upgrade-target`: RDS designates another minor version as a major's automatic upgrade target, as
 * RDS does over a campaign's weeks. UpgradeTarget.AutoUpgrade (DescribeDBEngineVersions' ValidUpgradeTarget):
 * "Indicates whether the target version is applied to any source DB instances that have AutoMinorVersionUpgrade
 * set to true. This parameter is dynamic, and is set by RDS."
 * (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_UpgradeTarget.html).
 * From the call on, every version of the major below the target lists it with `AutoUpgrade: true`, the pending
 * db-upgrade action of every instance below it names it, and AutoMinorVersionUpgrade applies it in the window.
 *
 * Seeded pending actions (`pendingMaintenance.targetVersion` / `description`) of instances of that engine and major
 * are replaced by the new designation (their AutoAppliedAfterDate, ForcedApplyDate and opt-in stay): an instance has
 * one db-upgrade action, and when RDS designates a new target that action names it. An upgrade already running
 * finishes at the version it started with.
 */
import { SimError } from '../core/errors';
import { Catalogue, majorOf } from './catalogue';
import type { RdsContext } from './context';

export interface AutoUpgradeTargetSpec {
  engine: string;
  majorVersion: string;
  target: string;
}

export interface AutoUpgradeTargetResult extends AutoUpgradeTargetSpec {
  previousTarget: string | null;
  /** Instances (`account/region/id`) whose seeded pending action gave way to the new target. */
  replacedSeededActions: string[];
}

const bad = (message: string): SimError => new SimError('BadRequest', `auto-upgrade-target: ${message}`, 400);

export function checkAutoUpgradeTargetSpec(body: Record<string, unknown>): AutoUpgradeTargetSpec {
  const { engine, majorVersion, target } = body;
  if (typeof engine !== 'string' || engine === '') throw bad('needs {"engine": "postgres", "majorVersion": "15", "target": "15.10"}: engine is missing');
  if ((typeof majorVersion !== 'string' && typeof majorVersion !== 'number') || String(majorVersion) === '') throw bad('majorVersion is missing (e.g. "15")');
  if (typeof target !== 'string' || target === '') throw bad('target is missing (e.g. "15.10")');
  return { engine, majorVersion: String(majorVersion), target };
}

/** RDS designates `spec.target` (once every service has been brought up to now: the admin route ticks first). */
export function setAutoUpgradeTarget(engine: RdsContext, spec: AutoUpgradeTargetSpec): AutoUpgradeTargetResult {
  const cat = engine.catalogue();
  if (!cat.engines().includes(spec.engine)) throw bad(`unknown engine '${spec.engine}'; the catalogue has: ${cat.engines().join(', ')}`);
  const majors = cat.majorsOf(spec.engine);
  const major = majors.find((m) => m.major === spec.majorVersion);
  if (!major) throw bad(`${spec.engine} has no major version '${spec.majorVersion}' in the catalogue (majors: ${majors.map((m) => m.major).join(', ')})`);
  if (!major.versions.includes(spec.target)) {
    const where = majorOf(spec.target) === major.major ? '' : ` (it is not a ${major.major}.x version)`;
    throw bad(`target ${spec.target} is not in the catalogue for ${spec.engine} ${major.major}${where}; versions: ${major.versions.join(', ')}`);
  }
  const catalogue = structuredClone(engine.state.catalogue);
  const entry = catalogue.find((m) => m.engine === spec.engine && m.major === major.major);
  if (!entry) throw new Error(`simulator: catalogue entry ${spec.engine} ${major.major} vanished`);
  const previousTarget = entry.autoUpgradeTarget ?? null;
  entry.autoUpgradeTarget = spec.target;
  new Catalogue(structuredClone(catalogue)); // validates before replacing
  engine.state.catalogue = catalogue;

  const replacedSeededActions: string[] = [];
  for (const inst of Object.values(engine.state.instances)) {
    const m = inst.maintenance;
    if (inst.engine !== spec.engine || majorOf(inst.engineVersion) !== major.major) continue;
    if (m.targetVersion === undefined && m.description === undefined) continue;
    m.targetVersion = undefined;
    m.description = undefined;
    replacedSeededActions.push(`${inst.account}/${inst.region}/${inst.id}`);
  }
  engine.markDirty();
  return { ...spec, majorVersion: major.major, previousTarget, replacedSeededActions };
}
