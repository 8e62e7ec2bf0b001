/**
 * CreateBlueGreenDeployment (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateBlueGreenDeployment.html)
 * and the green instance it makes. Documents:
 * - the User Guide's "Creating a blue/green deployment" (blue-green-deployments-creating.html): "This DB instance is
 *   copied to the green environment, and RDS configures replication from the DB instance in the blue environment to
 *   the DB instance in the green environment"; "If you don't specify a different parameter group, each DB instance
 *   in the green environment is associated with the parameter group of its corresponding blue DB instance";
 *   TargetEngineVersion "If not specified, each DB instance in the green environment is created with the same engine
 *   version as the corresponding DB instance in the blue environment";
 * - the overview (blue-green-deployments-overview.html): "The copied DB instance names are appended with
 *   -green-random-characters"; BlueGreenDeploymentName: "Can't be the same as an existing blue/green deployment name
 *   in the same account and AWS Region"; "Because the green environment is a copy of the topology of the production
 *   environment, the green environment includes the features used by the DB instance. These features include the
 *   read replicas";
 * - read replicas (creating): "If the blue DB instance has read replicas, they are copied as replicas of the green
 *   instance. The allocated storage of all green replicas matches the green primary instance, while other storage
 *   parameters are inherited from the blue replicas"; "If you specify a different DB parameter group, the specified
 *   DB parameter group is associated with all of the DB instances in the green environment"; TargetDBInstanceClass
 *   "Specify the DB instance class for the databases in the green environment" (API_CreateBlueGreenDeployment);
 * - the limitations (blue-green-deployments-considerations.html): "Blue/green deployments aren't supported for the
 *   following features: Amazon RDS Proxy, Cascading read replicas, Cross-Region read replicas, AWS CloudFormation,
 *   Multi-AZ DB cluster deployments". A source it cannot copy is refused with SourceDatabaseNotSupportedFault, the
 *   error botocore's model lists for "The source DB instance isn't supported for a blue/green deployment".
 * The green replicas are made in the last task, CREATING_TOPOLOGY_OF_SOURCE, as replicas of the green primary once it
 * is upgraded and backed up (the order of AWS's task list), so they run TargetEngineVersion from the start:
 * `createGreenReplicas`, called by RdsBlueGreen as the green primary becomes available.
 */
import type { Tag } from '../core/aws';
import { dedupeTags } from '../core/aws';
import { SimError } from '../core/errors';
import { randomLower, regionalKey } from '../core/ids';
import { compareVersions, majorOf } from './catalogue';
import type { RdsContext } from './context';
import type { BlueGreenStore } from './inputs';
import type { DeploymentWithReplicas, ReplicaPair } from './blue-green-view';
import { replicaPairsOf } from './blue-green-view';
import { parseInstanceArn, refOf } from './replicas';
import { defaultParameterGroupName, isDefaultParameterGroup } from './resources';
import type { BlueGreenDeploymentRecord, DbInstance } from './state';

export interface CreateBlueGreenInput {
  name: string;
  source: string;
  targetEngineVersion?: string;
  targetParameterGroupName?: string;
  targetInstanceClass?: string;
  targetAllocatedStorage?: number;
  targetStorageType?: string;
  targetIops?: number;
  tags: Tag[];
}

/** The deployments a new one must not clash with: its account and Region's, and the one an instance is already in. */
export interface DeploymentsSoFar {
  list(account: string, region: string): BlueGreenDeploymentRecord[];
  activeDeploymentOf(inst: DbInstance): BlueGreenDeploymentRecord | undefined;
}

/** BlueGreenDeploymentName: 1 to 60 characters, `[a-zA-Z](?:-?[a-zA-Z0-9]+)*` (botocore's BlueGreenDeploymentName shape). */
function checkName(name: string): string {
  if (name.length > 60 || !/^[a-zA-Z](?:-?[a-zA-Z0-9]+)*$/.test(name)) {
    throw new SimError('InvalidParameterValue', `The parameter BlueGreenDeploymentName is not valid: 1 to 60 letters, digits and single hyphens, beginning with a letter and not ending with a hyphen (got '${name}').`);
  }
  return name;
}

/**
 * Major version upgrades need a recent enough source: "Major version upgrades are not supported for blue/green
 * deployments with source RDS for PostgreSQL versions 15.3 and lower, 14.8 and lower, 13.11 and lower, 12.15 and
 * lower, or 11.20 and lower" (User Guide, "PostgreSQL replication methods for blue/green deployments").
 */
const POSTGRES_MAJOR_UPGRADE_SINCE: Record<string, string> = { '11': '11.21', '12': '12.16', '13': '13.12', '14': '14.9', '15': '15.4' };

/** What creating a deployment works with. */
export interface Create {
  ctx: RdsContext;
  rds: BlueGreenStore;
  deployments: DeploymentsSoFar;
}

/** The source DB instance named by its ARN (Source: "The Amazon Resource Name (ARN) of the source production database"). */
function sourceOf({ rds }: Create, account: string, region: string, arn: string): DbInstance {
  if (!arn.startsWith('arn:')) throw new SimError('InvalidParameterValue', `The parameter Source must be the ARN of a DB instance, got '${arn}'.`);
  const cluster = /^arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:cluster:(.+)$/.exec(arn);
  // The simulator has no DB clusters.
  if (cluster) throw new SimError('DBClusterNotFoundFault', `DBCluster ${cluster[1]} not found.`, 404);
  const ref = parseInstanceArn(arn);
  const inst = ref && ref.account === account && ref.region === region ? rds.find(account, region, ref.id) : undefined;
  if (!inst) throw new SimError('DBInstanceNotFound', `DBInstance ${arn} not found.`, 404);
  return inst;
}

/** TargetEngineVersion: the source's version when absent; a bare major means its preferred minor, as in ModifyDBInstance. */
function targetVersion({ ctx }: Create, source: DbInstance, requested: string | undefined): string {
  if (requested === undefined || requested === source.engineVersion) return source.engineVersion;
  const cat = ctx.catalogue();
  let target = requested;
  if (/^\d+$/.test(requested)) {
    const m = cat.majorsOf(source.engine).find((x) => x.major === requested);
    target = m ? (m.autoUpgradeTarget ?? (m.versions[m.versions.length - 1] as string)) : requested;
    if (compareVersions(target, source.engineVersion) <= 0) return source.engineVersion;
  }
  // The refusals ModifyDBInstance answers for a version that is no valid upgrade target (sim/src/rds/model.ts).
  if (!cat.has(source.engine, target)) throw new SimError('InvalidParameterCombination', `Cannot find version ${target} for ${source.engine}`);
  const valid = cat.validUpgradeTargets(source.engine, source.engineVersion).find((t) => t.engineVersion === target);
  if (!valid) throw new SimError('InvalidParameterCombination', `Cannot upgrade ${source.engine} from ${source.engineVersion} to ${target}`);
  const since = POSTGRES_MAJOR_UPGRADE_SINCE[majorOf(source.engineVersion)];
  if (valid.isMajorVersionUpgrade && source.engine === 'postgres' && since && compareVersions(source.engineVersion, since) < 0) {
    throw new SimError(
      'SourceDatabaseNotSupportedFault',
      `Major version upgrades are not supported for blue/green deployments with source RDS for PostgreSQL version ${source.engineVersion}: it must be ${since} or higher.`,
    );
  }
  return target;
}

/**
 * The checks of the source: it exists, is an available DB instance, and is not already in a deployment; what
 * blue/green deployments do not support is refused. Answers the source's read replicas, which the green environment
 * copies.
 */
function checkSource({ rds, deployments }: Create, source: DbInstance): DbInstance[] {
  if (source.status !== 'available') throw new SimError('InvalidDBInstanceState', `DB instance ${source.id} is not in available state (it is ${source.status}).`);
  const active = deployments.activeDeploymentOf(source);
  // The reference names no error for it; the simulator answers as for any instance that is in no state to start this.
  if (active) throw new SimError('InvalidDBInstanceState', `DB instance ${source.id} is already part of blue/green deployment ${active.id} (${active.status}).`);
  // "Blue/green deployments don't support managing master user passwords with AWS Secrets Manager" (User Guide,
  // "Limitations for blue/green deployments"; rds-secrets-manager.html: not supported for "Amazon RDS Blue/Green Deployments").
  if (source.masterUserSecret) {
    throw new SimError('SourceDatabaseNotSupportedFault', `DB instance ${source.id} manages its master user password with AWS Secrets Manager, which blue/green deployments don't support.`);
  }
  // The source "becomes the primary DB instance in the blue environment" (creating), and its green copy is made as a
  // replica of it: a read replica as the source would make the green a replica of a replica, and "Cascading read
  // replicas" are not supported. The documents name no rule for this source; the simulator refuses it.
  if (source.replicaOf) {
    throw new SimError(
      'SourceDatabaseNotSupportedFault',
      `DB instance ${source.id} is a read replica of ${rds.replicas.nameFor(source, source.replicaOf)}: the source of a blue/green deployment must be the primary DB instance, and blue/green deployments don't support cascading read replicas.`,
    );
  }
  const replicas = rds.replicas.replicasOf(source);
  const crossRegion = replicas.filter((r) => r.region !== source.region);
  if (crossRegion.length > 0) {
    throw new SimError(
      'SourceDatabaseNotSupportedFault',
      `DB instance ${source.id} has cross-Region read replicas (${crossRegion.map((r) => rds.replicas.nameFor(source, r)).join(', ')}), which blue/green deployments don't support.`,
    );
  }
  const cascading = replicas.filter((r) => rds.replicas.replicasOf(r).length > 0);
  if (cascading.length > 0) {
    throw new SimError(
      'SourceDatabaseNotSupportedFault',
      `DB instance ${source.id} has cascading read replicas (${cascading.map((r) => `${r.id} has read replicas`).join(', ')}), which blue/green deployments don't support.`,
    );
  }
  // A replica must be copyable as the source must (the documents say nothing of it; the simulator's choice).
  const busy = replicas.find((r) => r.status !== 'available');
  if (busy) throw new SimError('InvalidDBInstanceState', `DB instance ${busy.id}, a read replica of ${source.id}, is not in available state (it is ${busy.status}).`);
  return replicas;
}

/**
 * CreateBlueGreenDeployment. The green instance is `<source>-green-<6 characters>` with the source's settings
 * (class, storage, network, window, flags, tags), its own endpoint, at the source's version, then upgraded to
 * TargetEngineVersion: `creating` → `upgrading` (with an upgrade) → `backing-up` → `available`, each as long as
 * the RDS durations of those names. The deployment is AVAILABLE once the green instance is.
 */
export function createDeployment(c: Create, account: string, region: string, input: CreateBlueGreenInput): BlueGreenDeploymentRecord {
  const { ctx, rds, deployments } = c;
  const now = ctx.now();
  const name = checkName(input.name);
  // "Can't be the same as an existing blue/green deployment name in the same account and AWS Region"; the message is
  // RDS's as reported against the real service (crossplane-contrib/provider-upjet-aws#1430).
  if (deployments.list(account, region).some((d) => d.name.toLowerCase() === name.toLowerCase())) {
    throw new SimError('BlueGreenDeploymentAlreadyExistsFault', `A Blue Green Deployment with the name '${name}' already exists`);
  }
  const source = sourceOf(c, account, region, input.source);
  const blueReplicas = checkSource(c, source);
  const version = targetVersion(c, source, input.targetEngineVersion);
  const upgrade = version !== source.engineVersion;
  const major = majorOf(version) !== majorOf(source.engineVersion);
  let parameterGroup = source.parameterGroupName;
  let pendingParameterGroup: string | undefined;
  if (input.targetParameterGroupName !== undefined) {
    const group = rds.resources.parameterGroupFor(account, region, input.targetParameterGroupName, source.engine, version).name;
    if (major) pendingParameterGroup = group;
    else parameterGroup = group;
  } else if (major && !isDefaultParameterGroup(source.parameterGroupName)) {
    // As ModifyDBInstance refuses a major upgrade of an instance on a custom group (sim/src/rds/model.ts): the blue's
    // group is of the old family, so the green needs one of the new family.
    throw new SimError(
      'InvalidParameterCombination',
      `The current DB instance parameter group ${source.parameterGroupName} is custom. You must explicitly specify a new DB instance parameter group, either default or custom, for the engine version upgrade.`,
    );
  }
  const replicaPairs = blueReplicas.map((r) => replicaPair(r, input, version, major));
  const green = rds.create(account, region, {
    id: greenId(rds, account, region, source.id),
    instanceClass: input.targetInstanceClass ?? source.instanceClass,
    engine: source.engine,
    engineVersion: source.engineVersion,
    allocatedStorage: input.targetAllocatedStorage ?? source.allocatedStorage,
    storageType: input.targetStorageType ?? source.storageType,
    iops: input.targetIops ?? source.iops,
    storageEncrypted: source.storageEncrypted,
    kmsKeyId: source.kmsKeyId,
    multiAZ: source.multiAZ,
    availabilityZone: source.multiAZ ? undefined : source.availabilityZone,
    dbSubnetGroupName: source.dbSubnetGroupName,
    parameterGroupName: parameterGroup,
    vpcSecurityGroupIds: source.vpcSecurityGroupIds,
    preferredMaintenanceWindow: source.preferredMaintenanceWindow,
    preferredBackupWindow: source.preferredBackupWindow,
    backupRetentionPeriod: source.backupRetentionPeriod,
    autoMinorVersionUpgrade: source.autoMinorVersionUpgrade,
    deletionProtection: source.deletionProtection,
    copyTagsToSnapshot: source.copyTagsToSnapshot,
    iamDatabaseAuthentication: source.iamDatabaseAuthenticationEnabled,
    masterUsername: source.masterUsername,
    dbName: source.dbName,
    port: source.endpoint.port,
    tags: source.tags,
  });
  const lc = rds.lifecycle;
  const steps = lc.steps(now, ['creating', 'creating'], ...(upgrade ? [['upgrading', 'upgrading'] as ['upgrading', 'upgrading']] : []), ['backing-up', 'backingUp']);
  lc.startOp(green, now, { kind: 'create', steps, finalStatus: 'available', targetVersion: upgrade ? version : undefined });
  green.pendingParameterGroupName = pendingParameterGroup;
  if (source.postgres) rds.databases.prepareGreen(source, green);
  const id = `bgd-${randomLower(16)}`;
  const record: DeploymentWithReplicas = {
    account,
    region,
    id,
    name,
    sourceResourceId: source.resourceId,
    targetResourceId: green.resourceId,
    status: 'PROVISIONING',
    memberStatus: 'PROVISIONING',
    upgrade,
    createdAt: now,
    tags: dedupeTags(input.tags),
    faults: [],
    ...(replicaPairs.length > 0 ? { replicaPairs } : {}),
  };
  // Faults armed on the source before the deployment existed are the deployment's now.
  const armed = ctx.state.blueGreenFaultsBySource;
  record.faults = armed.filter((f) => f.account === account && f.region === region && f.sourceResourceId === source.resourceId).map(({ account: _a, region: _r, sourceResourceId: _s, ...f }) => f);
  ctx.state.blueGreenFaultsBySource = armed.filter((f) => !(f.account === account && f.region === region && f.sourceResourceId === source.resourceId));
  ctx.state.blueGreenDeployments[regionalKey(account, region, id)] = record;
  ctx.markDirty();
  return record;
}

/**
 * What a blue read replica's green copy will get: TargetDBInstanceClass or the replica's class; TargetDBParameterGroupName
 * (already checked against the target's family), or the replica's own group, or on a major upgrade RDS's default
 * group of the new family (a replica on a custom group then needs TargetDBParameterGroupName, as the primary does).
 */
function replicaPair(replica: DbInstance, input: CreateBlueGreenInput, version: string, major: boolean): ReplicaPair {
  let parameterGroupName = input.targetParameterGroupName ?? replica.parameterGroupName;
  if (input.targetParameterGroupName === undefined && major) {
    if (!isDefaultParameterGroup(replica.parameterGroupName)) {
      throw new SimError(
        'InvalidParameterCombination',
        `The current DB instance parameter group ${replica.parameterGroupName} of read replica ${replica.id} is custom. You must explicitly specify a new DB instance parameter group, either default or custom, for the engine version upgrade.`,
      );
    }
    parameterGroupName = defaultParameterGroupName(replica.engine, version);
  }
  return { source: replica.resourceId, instanceClass: input.targetInstanceClass ?? replica.instanceClass, parameterGroupName };
}

/**
 * CREATING_TOPOLOGY_OF_SOURCE: each blue read replica not yet copied is copied as a read replica of the green primary,
 * `<replica>-green-<6 characters>`, made at `at` (when the green primary became available) at the green primary's
 * version, with the green primary's allocated storage and the blue replica's other settings (storage type and IOPS,
 * encryption, Multi-AZ, Availability Zone, subnet group, security groups, windows, retention, flags, tags, port); it
 * goes `creating` → `available`, as a replica does (RDS creates replicas "with backups disabled"). Answers whether it
 * made any. A blue replica that is gone is left uncopied.
 */
export function createGreenReplicas({ rds }: Pick<Create, 'rds'>, d: BlueGreenDeploymentRecord, greenPrimary: DbInstance, at: number, blueOf: (resourceId: string) => DbInstance | undefined): boolean {
  let made = false;
  for (const pair of replicaPairsOf(d)) {
    if (pair.target !== undefined) continue;
    const blue = blueOf(pair.source);
    if (!blue) continue;
    const green = rds.create(
      d.account,
      d.region,
      {
        id: greenId(rds, d.account, d.region, blue.id),
        instanceClass: pair.instanceClass,
        engine: greenPrimary.engine,
        engineVersion: greenPrimary.engineVersion,
        allocatedStorage: greenPrimary.allocatedStorage,
        storageType: blue.storageType,
        iops: blue.iops,
        storageEncrypted: blue.storageEncrypted,
        kmsKeyId: blue.kmsKeyId,
        multiAZ: blue.multiAZ,
        availabilityZone: blue.multiAZ ? undefined : blue.availabilityZone,
        dbSubnetGroupName: blue.dbSubnetGroupName,
        parameterGroupName: pair.parameterGroupName,
        vpcSecurityGroupIds: blue.vpcSecurityGroupIds,
        preferredMaintenanceWindow: blue.preferredMaintenanceWindow,
        preferredBackupWindow: blue.preferredBackupWindow,
        backupRetentionPeriod: blue.backupRetentionPeriod,
        autoMinorVersionUpgrade: blue.autoMinorVersionUpgrade,
        deletionProtection: blue.deletionProtection,
        copyTagsToSnapshot: blue.copyTagsToSnapshot,
        iamDatabaseAuthentication: blue.iamDatabaseAuthenticationEnabled,
        masterUsername: blue.masterUsername,
        dbName: blue.dbName,
        port: blue.endpoint.port,
        tags: blue.tags,
      },
      { replicaOf: refOf(greenPrimary), status: 'available', createdAt: at },
    );
    rds.lifecycle.startOp(green, at, { kind: 'create', steps: rds.lifecycle.steps(at, ['creating', 'creating']), finalStatus: 'available' });
    pair.target = green.resourceId;
    made = true;
  }
  return made;
}

/** `<source>-green-<6 lower-case letters and digits>`, within the 63 characters of an identifier. */
function greenId(rds: Pick<BlueGreenStore, 'find'>, account: string, region: string, sourceId: string): string {
  for (;;) {
    const id = `${sourceId.slice(0, 50).replace(/-+$/, '')}-green-${randomLower(6)}`;
    if (!rds.find(account, region, id)) return id;
  }
}

