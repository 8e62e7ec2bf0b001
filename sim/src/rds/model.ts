/**
 * RDS behaviour: instances and the refusals RDS makes when they are created, restored, modified,
 * stopped and started. What happens over time lives in RdsLifecycle (sim/src/rds/lifecycle.ts); subnet
 * groups, parameter groups and security-group checks in RdsResources. Protocol-free: sim/src/rds/protocol.ts
 * turns requests into these calls and the results into XML.
 */
import { dedupeTags, type Tag } from '../core/aws';
import { SimError, notFound } from '../core/errors';
import { randomString, regionalKey } from '../core/ids';
import type { Ec2Model } from '../ec2/model';
import { RdsBlueGreen } from './blue-green';
import { compareVersions, majorOf, type Catalogue } from './catalogue';
import { instanceSettings } from './instance-settings';
import type { RdsContext } from './context';
import { NO_DATABASES, NO_MASTER_USER_SECRETS, type InstanceDatabases, type MasterUserSecrets } from './databases';
import { endpointAddress, endpointHostedZoneId } from './endpoint';
import { validateIdentifier } from './identifier';
import type { CreateInstanceInput, ModifyInstanceInput, RestoreInput } from './inputs';
import { RdsLifecycle } from './lifecycle';
import type { CreateReplicaInput } from './replica-create';
import { createReadReplica } from './replica-create';
import { RdsReplicas } from './replicas';
import { DEFAULT_SUBNET_GROUP, RdsResources, defaultParameterGroupName, isDefaultParameterGroup } from './resources';
import { restoreInstance, restoreWindow } from './restore';
import type { DbInstance, InstanceRef } from './state';
import { checkWindows, defaultBackupWindow } from './window';

function checkRetention(days: number): number {
  if (days < 0 || days > 35) throw new SimError('InvalidParameterValue', `BackupRetentionPeriod must be between 0 and 35, got ${days}`);
  return days;
}

export class RdsModel {
  readonly resources: RdsResources;
  readonly lifecycle: RdsLifecycle;
  readonly replicas: RdsReplicas;
  readonly blueGreen: RdsBlueGreen;
  /** The real databases behind PostgreSQL-backed instances, and Secrets Manager for managed master passwords (sim/src/rds/databases.ts; none unless plugged in). */
  databases: InstanceDatabases = NO_DATABASES;
  masterSecrets: MasterUserSecrets = NO_MASTER_USER_SECRETS;

  constructor(
    private readonly ctx: RdsContext,
    ec2: Ec2Model,
  ) {
    this.resources = new RdsResources(ctx, ec2);
    this.replicas = new RdsReplicas(ctx);
    this.lifecycle = new RdsLifecycle(ctx, this.replicas, () => this.databases);
    this.blueGreen = new RdsBlueGreen(ctx, this);
  }

  /** The engine catalogue (DescribeDBEngineVersions, upgrade targets, pending maintenance). */
  catalogue(): Catalogue {
    return this.ctx.catalogue();
  }

  // ---- lookup ---------------------------------------------------------------------------------

  find(account: string, region: string, id: string): DbInstance | undefined {
    return this.ctx.state.instances[regionalKey(account, region, id.toLowerCase())];
  }

  get(account: string, region: string, id: string): DbInstance {
    const inst = this.find(account, region, id);
    if (!inst) throw notFound('DBInstanceNotFound', `DBInstance ${id} not found.`);
    return inst;
  }

  list(account: string, region: string): DbInstance[] {
    return Object.values(this.ctx.state.instances)
      .filter((i) => i.account === account && i.region === region)
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  /** An instance by ARN (`arn:aws:rds:region:account:db:id`); undefined when the ARN names none. */
  findByArn(account: string, region: string, arn: string): DbInstance | undefined {
    const m = /^arn:aws[a-z-]*:rds:([a-z0-9-]+):(\d{12}):db:([A-Za-z0-9-]+)$/.exec(arn);
    if (!m) return undefined;
    const [, arnRegion, arnAccount, id] = m as unknown as [string, string, string, string];
    if (arnRegion !== region || arnAccount !== account) return undefined;
    return this.find(account, region, id);
  }

  /** The VPC the instance is in: its DB subnet group's. */
  vpcOf(inst: DbInstance): string {
    return this.resources.vpcOfSubnetGroup(inst.account, inst.region, inst.dbSubnetGroupName);
  }

  // ---- create / restore ---------------------------------------------------------------------

  /**
   * CreateDBInstance (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html):
   * DBSubnetGroupName "Must match the name of an existing DB subnet group"; VpcSecurityGroupIds default
   * to "The default EC2 VPC security group for the DB subnet group's VPC". With `options.replicaOf` the instance is
   * a read replica: RDS creates it "with backups disabled", so it goes `creating` → `available` without backing up.
   */
  create(account: string, region: string, input: CreateInstanceInput, options: { status?: string; createdAt?: number; replicaOf?: InstanceRef } = {}): DbInstance {
    const now = this.ctx.now();
    const id = validateIdentifier(input.id);
    if (this.find(account, region, id)) throw new SimError('DBInstanceAlreadyExists', 'DB instance already exists');
    const cat = this.ctx.catalogue();
    if (!cat.engines().includes(input.engine)) {
      throw new SimError('InvalidParameterValue', `Invalid DB engine: ${input.engine}. The simulator's catalogue has: ${cat.engines().join(', ')}`);
    }
    const engineVersion = input.engineVersion ?? cat.defaultVersion(input.engine);
    if (!engineVersion || !cat.has(input.engine, engineVersion)) {
      throw new SimError('InvalidParameterCombination', `Cannot find version ${input.engineVersion} for ${input.engine}`);
    }
    const window = input.preferredMaintenanceWindow ?? 'sun:05:00-sun:05:30';
    checkWindows(input.preferredBackupWindow, window);
    const retention = checkRetention(input.backupRetentionPeriod ?? 31);
    // "You can't specify the AvailabilityZone parameter if the DB instance is a Multi-AZ deployment."
    // (CreateDBInstance and RestoreDBInstanceToPointInTime, AvailabilityZone constraints)
    if (input.multiAZ && input.availabilityZone) {
      throw new SimError('InvalidParameterCombination', 'Requesting a specific availability zone is not valid for Multi-AZ instances.');
    }
    const subnetGroup = this.resources.subnetGroup(account, region, input.dbSubnetGroupName ?? DEFAULT_SUBNET_GROUP);
    const parameterGroupName =
      input.parameterGroupName === undefined
        ? defaultParameterGroupName(input.engine, engineVersion)
        : this.resources.parameterGroupFor(account, region, input.parameterGroupName, input.engine, engineVersion).name;
    const securityGroups = input.vpcSecurityGroupIds?.length
      ? this.resources.checkSecurityGroups(account, region, input.vpcSecurityGroupIds, subnetGroup.vpcId)
      : this.resources.defaultSecurityGroups(account, region, subnetGroup.vpcId);

    const createdAt = options.createdAt ?? now;
    const inst: DbInstance = {
      account,
      region,
      id,
      arn: `arn:aws:rds:${region}:${account}:db:${id}`,
      resourceId: `db-${randomString(26)}`,
      engine: input.engine,
      engineVersion,
      versionHistory: [{ at: createdAt, version: engineVersion }],
      instanceClass: input.instanceClass,
      allocatedStorage: input.allocatedStorage ?? 20,
      storageType: input.storageType ?? 'gp2',
      iops: input.iops,
      storageEncrypted: input.storageEncrypted ?? Boolean(input.kmsKeyId),
      kmsKeyId: input.kmsKeyId,
      multiAZ: input.multiAZ ?? false,
      availabilityZone: input.availabilityZone ?? `${region}a`,
      dbSubnetGroupName: subnetGroup.name,
      parameterGroupName,
      ...instanceSettings(input, input.engine, majorOf(engineVersion)),
      vpcSecurityGroupIds: securityGroups,
      preferredMaintenanceWindow: window.toLowerCase(),
      preferredBackupWindow: input.preferredBackupWindow ?? defaultBackupWindow(window),
      backupRetentionPeriod: retention,
      autoMinorVersionUpgrade: input.autoMinorVersionUpgrade ?? true,
      deletionProtection: input.deletionProtection ?? false,
      iamDatabaseAuthenticationEnabled: input.iamDatabaseAuthentication ?? false,
      publiclyAccessible: input.publiclyAccessible ?? false,
      copyTagsToSnapshot: input.copyTagsToSnapshot ?? false,
      masterUsername: input.masterUsername ?? 'postgres',
      dbName: input.dbName,
      endpoint: {
        address: endpointAddress(id, account, region),
        port: input.port ?? 5432,
        hostedZoneId: endpointHostedZoneId(region),
      },
      tags: dedupeTags(input.tags ?? []),
      createdAt,
      status: 'available',
      statusSince: createdAt,
      maintenance: {},
      maintenanceCheckedUntil: createdAt,
      replicaOf: options.replicaOf,
    };
    if (options.status === 'available' || options.status === 'stopped') {
      inst.status = options.status;
      if (options.status === 'stopped') inst.stoppedAt = now;
    } else {
      const lc = this.lifecycle;
      const phases: Array<[string, 'creating' | 'backingUp']> = options.replicaOf ? [['creating', 'creating']] : [['creating', 'creating'], ['backing-up', 'backingUp']];
      lc.startOp(inst, now, { kind: 'create', steps: lc.steps(now, ...phases), finalStatus: 'available' });
    }
    this.ctx.state.instances[regionalKey(account, region, id)] = inst;
    this.ctx.markDirty();
    return inst;
  }

  restoreWindow(inst: DbInstance): { earliest: number; latest: number } {
    return restoreWindow(this.ctx, inst, this.databases);
  }

  /** https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RestoreDBInstanceToPointInTime.html (sim/src/rds/restore.ts) */
  restore(account: string, region: string, input: RestoreInput): DbInstance {
    return restoreInstance(this, account, region, input);
  }

  /** https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstanceReadReplica.html (sim/src/rds/replica-create.ts) */
  createReadReplica(account: string, region: string, input: CreateReplicaInput): DbInstance {
    return createReadReplica(this, account, region, input);
  }

  // ---- modify -----------------------------------------------------------------------------------

  /**
   * ModifyDBInstance (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html).
   * Everything is validated before anything changes: a refused request changes nothing.
   * - ApplyImmediately: "the modifications in this request and any pending modifications are asynchronously applied as
   *   soon as possible", so a version queued earlier starts now too.
   * - EngineVersion: "For major version upgrades, if a nondefault DB parameter group is currently in use, a new DB
   *   parameter group in the DB parameter group family for the new engine version must be specified" (refused with
   *   RDS's InvalidParameterCombination "The current DB instance parameter group … is custom…", as reported in
   *   https://github.com/aws/aws-cli/issues/5939); "If you specify only a major version, Amazon RDS updates the DB
   *   instance to the default minor version if the current minor version is lower".
   * - DBParameterGroupName: "Must be in the same DB parameter group family as the DB instance"; "The parameter group
   *   name itself is changed immediately, but the actual parameter changes are not applied until you reboot".
   * - VpcSecurityGroupIds: "This change is asynchronously applied as soon as possible", whatever ApplyImmediately says.
   * - PreferredMaintenanceWindow, PreferredBackupWindow: never overlapping (window.ts checkWindows).
   */
  modify(account: string, region: string, id: string, input: ModifyInstanceInput): DbInstance {
    const now = this.ctx.now();
    const inst = this.get(account, region, id);
    if (inst.status !== 'available') {
      throw new SimError('InvalidDBInstanceState', `Database instance ${inst.id} is in ${inst.status} state; it must be available to be modified.`);
    }
    this.blueGreen.refuseInSwitchover(inst);
    let upgradeTo: string | undefined;
    if (input.engineVersion !== undefined) {
      const target = this.resolveVersion(inst, input.engineVersion);
      if (target !== inst.engineVersion) upgradeTo = this.validateUpgrade(inst, target, input.allowMajorVersionUpgrade ?? false);
    }
    const major = upgradeTo !== undefined && majorOf(upgradeTo) !== majorOf(inst.engineVersion);
    // Read replicas first: a minor upgrade of a source waits for them (sim/src/rds/replicas.ts).
    if (upgradeTo !== undefined) this.replicas.checkUpgradeDependency(inst, upgradeTo);
    let parameterGroupName: string | undefined;
    if (input.parameterGroupName !== undefined) {
      const familyVersion = major ? (upgradeTo as string) : inst.engineVersion;
      parameterGroupName = this.resources.parameterGroupFor(account, region, input.parameterGroupName, inst.engine, familyVersion).name;
    } else if (major && !isDefaultParameterGroup(inst.parameterGroupName)) {
      throw new SimError(
        'InvalidParameterCombination',
        `The current DB instance parameter group ${inst.parameterGroupName} is custom. You must explicitly specify a new DB instance parameter group, either default or custom, for the engine version upgrade.`,
      );
    }
    const securityGroups = input.vpcSecurityGroupIds?.length ? this.resources.checkSecurityGroups(account, region, input.vpcSecurityGroupIds, this.vpcOf(inst)) : undefined;
    if (input.preferredMaintenanceWindow !== undefined || input.preferredBackupWindow !== undefined) checkWindows(input.preferredBackupWindow ?? inst.preferredBackupWindow, input.preferredMaintenanceWindow ?? inst.preferredMaintenanceWindow);
    if (input.backupRetentionPeriod !== undefined) {
      checkRetention(input.backupRetentionPeriod);
      this.replicas.checkReplicaBackups(inst, input.backupRetentionPeriod);
    }

    const flagTurnedOn = input.autoMinorVersionUpgrade === true && !inst.autoMinorVersionUpgrade;
    if (input.autoMinorVersionUpgrade !== undefined) inst.autoMinorVersionUpgrade = input.autoMinorVersionUpgrade;
    if (input.deletionProtection !== undefined) inst.deletionProtection = input.deletionProtection;
    if (input.iamDatabaseAuthentication !== undefined) inst.iamDatabaseAuthenticationEnabled = input.iamDatabaseAuthentication;
    if (input.backupRetentionPeriod !== undefined) inst.backupRetentionPeriod = input.backupRetentionPeriod;
    if (input.preferredBackupWindow !== undefined) inst.preferredBackupWindow = input.preferredBackupWindow;
    if (input.preferredMaintenanceWindow !== undefined) {
      inst.preferredMaintenanceWindow = input.preferredMaintenanceWindow.toLowerCase();
      inst.maintenanceCheckedUntil = now;
    }
    if (parameterGroupName !== undefined) {
      if (major) inst.pendingParameterGroupName = parameterGroupName;
      else if (parameterGroupName !== inst.parameterGroupName) {
        inst.parameterGroupName = parameterGroupName;
        inst.parameterApplyStatus = 'pending-reboot';
      }
    }
    if (securityGroups) this.changeSecurityGroups(inst, securityGroups, now);
    if (upgradeTo !== undefined) {
      inst.pendingEngineVersion = upgradeTo;
      if (!major) inst.pendingParameterGroupName = undefined;
    }
    if (input.applyImmediately && inst.pendingEngineVersion) this.lifecycle.startUpgrade(inst, now, inst.pendingEngineVersion, 'apply-immediately');
    else if (flagTurnedOn) this.lifecycle.applyInOpenWindow(inst, now);
    this.ctx.markDirty();
    return inst;
  }

  /** A bare major ("16") means that major's default minor, or no change when the instance is already there. */
  private resolveVersion(inst: DbInstance, requested: string): string {
    if (!/^\d+$/.test(requested)) return requested;
    const m = this.ctx.catalogue().majorsOf(inst.engine).find((x) => x.major === requested);
    const preferred = m ? (m.autoUpgradeTarget ?? m.versions[m.versions.length - 1]) : undefined;
    if (!preferred) return requested;
    return compareVersions(preferred, inst.engineVersion) > 0 ? preferred : inst.engineVersion;
  }

  /** Returns the version to upgrade to, or throws what RDS answers for an invalid target. */
  private validateUpgrade(inst: DbInstance, target: string, allowMajor: boolean): string {
    const cat = this.ctx.catalogue();
    if (!cat.has(inst.engine, target)) {
      throw new SimError('InvalidParameterCombination', `Cannot find version ${target} for ${inst.engine}`);
    }
    const valid = cat.validUpgradeTargets(inst.engine, inst.engineVersion).find((t) => t.engineVersion === target);
    if (!valid) {
      throw new SimError('InvalidParameterCombination', `Cannot upgrade ${inst.engine} from ${inst.engineVersion} to ${target}`);
    }
    if (valid.isMajorVersionUpgrade && !allowMajor) {
      throw new SimError('InvalidParameterCombination', 'The AllowMajorVersionUpgrade flag must be present when upgrading to a new major version.');
    }
    return target;
  }

  /** New memberships show `adding` and dropped ones `removing` until the change has been applied. */
  private changeSecurityGroups(inst: DbInstance, ids: string[], now: number): void {
    const added = ids.filter((g) => !inst.vpcSecurityGroupIds.includes(g));
    const removed = inst.vpcSecurityGroupIds.filter((g) => !ids.includes(g));
    if (added.length === 0 && removed.length === 0) return;
    const previous = inst.securityGroupChange;
    inst.vpcSecurityGroupIds = ids;
    inst.securityGroupChange = {
      added: [...new Set([...(previous?.added ?? []).filter((g) => ids.includes(g)), ...added])],
      removed: [...new Set([...(previous?.removed ?? []).filter((g) => !ids.includes(g)), ...removed])],
      until: now + this.ctx.durationMs('modifying'),
    };
  }

  // ---- stop / start -----------------------------------------------------------------------------

  stop(account: string, region: string, id: string): DbInstance {
    const now = this.ctx.now();
    const inst = this.get(account, region, id);
    if (inst.status !== 'available') throw new SimError('InvalidDBInstanceState', `DB Instance ${inst.id} is in ${inst.status} state but expected it to be one of available.`);
    this.replicas.checkCanStop(inst);
    this.lifecycle.startOp(inst, now, { kind: 'stop', steps: this.lifecycle.steps(now, ['stopping', 'stopping']), finalStatus: 'stopped' });
    this.ctx.markDirty();
    return inst;
  }

  start(account: string, region: string, id: string): DbInstance {
    const now = this.ctx.now();
    const inst = this.get(account, region, id);
    if (inst.status !== 'stopped') {
      throw new SimError('InvalidDBInstanceState', `DB Instance ${inst.id} is in ${inst.status} state but expected it to be one of stopped, inaccessible-encryption-credentials-recoverable.`);
    }
    this.lifecycle.startOp(inst, now, { kind: 'start', steps: this.lifecycle.steps(now, ['starting', 'starting']), finalStatus: 'available' });
    this.ctx.markDirty();
    return inst;
  }

  // ---- tags -------------------------------------------------------------------------------------

  addTags(inst: DbInstance, tags: Tag[]): void {
    inst.tags = dedupeTags([...inst.tags, ...tags]);
    this.ctx.markDirty();
  }

  removeTags(inst: DbInstance, keys: string[]): void {
    inst.tags = inst.tags.filter((t) => !keys.includes(t.Key));
    this.ctx.markDirty();
  }
}
