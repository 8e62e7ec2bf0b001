/**
 * What POST /_sim/seed creates in RDS: the engine catalogue, DB subnet and parameter groups, then instances
 * (read replicas after their sources), so later parts may refer to earlier ones. A seeded instance is in EC2's
 * VPCs and security groups, seeded before it.
 */
import { DEFAULT_ACCOUNT, tagList } from '../core/aws';
import { DAY } from '../core/clock';
import { regionalKey } from '../core/ids';
import { SimError } from '../core/errors';
import type { SeedStep } from '../core/service';
import { seedStep } from '../core/service';
import type { Ec2Model } from '../ec2/model';
import { defaultVpcId } from '../ec2/model';
import type { CatalogueMajor } from './catalogue';
import { Catalogue, compareVersions, majorOf } from './catalogue';
import type { RdsContext } from './context';
import type { RdsModel } from './model';
import { createReadReplica, findReplicationSource } from './replica-create';
import { parameterGroupFamily } from './resources';
import { checkMasterCredentials } from './databases';
import type { DbInstance } from './state';

export interface SeedInstance {
  region: string;
  /** Defaults to 123456789012. */
  account?: string;
  id: string;
  engine?: string;
  /** Required, except for a replica (`replicaOf`), which defaults to its source's version. */
  engineVersion?: string;
  /**
   * Makes the instance a read replica of an instance seeded before it (or already there), in the same account:
   * `"id"` in the same Region, `{ region, id }` across Regions. The replica takes its source's engine, version
   * (a given `engineVersion` must be of the same major and not below the source's), class, storage and
   * AutoMinorVersionUpgrade unless given, BackupRetentionPeriod 0 unless given, and in the same Region its
   * source's subnet group, parameter group and security groups. Refused like CreateDBInstanceReadReplica: more
   * than 15 replicas, a replica of a replica before PostgreSQL 14.1 or more than three levels deep.
   */
  replicaOf?: string | { region: string; id: string };
  instanceClass?: string;
  /** Only `available` (default) or `stopped`: other statuses come from operations over time. */
  status?: 'available' | 'stopped';
  preferredMaintenanceWindow?: string;
  autoMinorVersionUpgrade?: boolean;
  deletionProtection?: boolean;
  multiAZ?: boolean;
  allocatedStorage?: number;
  storageType?: string;
  iops?: number;
  kmsKeyId?: string;
  backupRetentionPeriod?: number;
  /**
   * Default `default` (the default VPC). A name not seeded under `dbSubnetGroups` is created, in the VPC
   * of the instance's security groups (or the default VPC when it has none).
   */
  dbSubnetGroupName?: string;
  /** A name not seeded under `dbParameterGroups` is created as a custom group of the instance's family. */
  parameterGroupName?: string;
  /**
   * Security group ids; each must exist (seed the groups with explicit ids to refer to them here) and be
   * in the subnet group's VPC. Default: that VPC's `default` group.
   */
  vpcSecurityGroupIds?: string[];
  tags?: Record<string, string>;
  /** ISO instant or epoch ms; default 400 days ago, so the whole backup retention is restorable. */
  createdAt?: string | number;
  endpoint?: { address?: string; port?: number; hostedZoneId?: string };
  /** CreateDBInstance's MasterUsername (default `postgres`). */
  masterUsername?: string;
  /** CreateDBInstance's MasterUserPassword: required with `postgres: true`, never rendered. */
  masterUserPassword?: string;
  /**
   * CreateDBInstance's ManageMasterUserPassword: RDS keeps the master password in a Secrets Manager secret of its
   * own (`{"username","password"}`), named in DescribeDBInstances' MasterUserSecret. Needs masterUserPassword.
   */
  manageMasterUserPassword?: boolean;
  /** CreateDBInstance's EnableIAMDatabaseAuthentication (default false): DescribeDBInstances' IAMDatabaseAuthenticationEnabled. */
  iamDatabaseAuthentication?: boolean;
  /** CreateDBInstance's PubliclyAccessible (default false). */
  publiclyAccessible?: boolean;
  /** CACertificateIdentifier, EnableCloudwatchLogsExports, NetworkType, EngineLifecycleSupport (sim/src/rds/instance-settings.ts). */
  caCertificateIdentifier?: string;
  enableCloudwatchLogsExports?: string[];
  networkType?: string;
  engineLifecycleSupport?: string;
  /**
   * A real PostgreSQL 15 server behind the instance (default false, so large fleets stay cheap): initdb with
   * the master user and password, WAL archived continuously, a base backup; it listens on a loopback address of
   * its own (127.0.0.2, .3, …: what the simulator's DNS server answers for `Endpoint.Address`) and on
   * `Endpoint.Port`, a port no other instance has. See sim/README.md.
   */
  postgres?: boolean;
  /** Overrides for the db-upgrade pending action (otherwise derived from the catalogue). */
  pendingMaintenance?: {
    targetVersion?: string;
    description?: string;
    autoAppliedAfterDate?: string | number;
    forcedApplyDate?: string | number;
  };
}

export interface SeedDbSubnetGroup {
  region: string;
  account?: string;
  name: string;
  /** Default: the region's default VPC. */
  vpcId?: string;
  description?: string;
  subnetIds?: string[];
}

export interface SeedDbParameterGroup {
  region: string;
  account?: string;
  /** A customer group (RDS's own `default.<family>` groups always exist). */
  name: string;
  /** e.g. postgres15 */
  family: string;
  description?: string;
}

export interface RdsSeedSpec {
  /** Replaces the engine catalogue. */
  catalogue?: CatalogueMajor[];
  dbSubnetGroups?: SeedDbSubnetGroup[];
  dbParameterGroups?: SeedDbParameterGroup[];
  instances?: SeedInstance[];
}

export interface RdsSeedResult {
  instances: Array<{ region: string; account: string; id: string; arn: string; address: string }>;
  dbSubnetGroups: Array<{ region: string; account: string; name: string; vpcId: string }>;
}

function toMs(v: string | number | undefined, field: string): number | undefined {
  if (v === undefined) return undefined;
  const ms = typeof v === 'number' ? v : Date.parse(v);
  if (!Number.isFinite(ms)) throw new Error(`seed: ${field} is not a valid instant: ${String(v)}`);
  return ms;
}

export function rdsSeedSteps(ctx: RdsContext, rds: RdsModel, ec2: Ec2Model): SeedStep[] {
  return [
    seedStep<RdsSeedSpec, RdsSeedResult>('catalogue', (spec) => {
      if (!spec.catalogue) return;
      new Catalogue(structuredClone(spec.catalogue)); // validates before replacing
      ctx.state.catalogue = structuredClone(spec.catalogue);
    }),
    seedStep<RdsSeedSpec, RdsSeedResult>('dbSubnetGroups', (spec, result) => {
      for (const s of spec.dbSubnetGroups ?? []) {
        const account = s.account ?? DEFAULT_ACCOUNT;
        const group = rds.resources.createSubnetGroup(account, s.region, { name: s.name, description: s.description, vpcId: s.vpcId ?? defaultVpcId(account, s.region), subnetIds: s.subnetIds });
        result.dbSubnetGroups.push({ region: s.region, account, name: group.name, vpcId: group.vpcId });
      }
    }),
    seedStep<RdsSeedSpec, RdsSeedResult>('dbParameterGroups', (spec) => {
      for (const pg of spec.dbParameterGroups ?? []) {
        rds.resources.createParameterGroup(pg.account ?? DEFAULT_ACCOUNT, pg.region, { name: pg.name, family: pg.family, description: pg.description });
      }
    }),
    seedStep<RdsSeedSpec, RdsSeedResult>('instances', (spec, result, now) => {
      for (const s of spec.instances ?? []) {
        let inst: DbInstance;
        try {
          inst = seedInstance(ctx, rds, ec2, s, now);
        } catch (err) {
          throw new SimError((err as SimError).code ?? 'BadRequest', `seed: instances[${s.id}]: ${(err as Error).message}`, 400);
        }
        result.instances.push({ region: s.region, account: inst.account, id: inst.id, arn: inst.arn, address: inst.endpoint.address });
      }
    }),
  ];
}

/**
 * A seeded instance may name a subnet group or parameter group that was not seeded: it is created (the
 * subnet group in its security groups' VPC, the parameter group in its version's family), so a short
 * seed stays short. Security groups are never invented: they must exist.
 */
function seedInstance(ctx: RdsContext, rds: RdsModel, ec2: Ec2Model, s: SeedInstance, now: number): DbInstance {
  const account = s.account ?? DEFAULT_ACCOUNT;
  const engineName = s.engine ?? 'postgres';
  if (s.replicaOf !== undefined) {
    if (s.postgres) throw new Error('postgres: true is not supported on a read replica (the simulator runs no streaming replication)');
    return seedReplica(rds, s, now);
  }
  if (s.engineVersion === undefined) throw new Error('engineVersion is required (only a replica, with replicaOf, defaults to its source\'s)');
  let password: string | undefined;
  if (s.manageMasterUserPassword && s.masterUserPassword === undefined) throw new Error('manageMasterUserPassword needs masterUserPassword (the password RDS keeps in the secret)');
  if (s.postgres) {
    if (engineName !== 'postgres') throw new Error(`postgres: true needs engine postgres, not ${engineName}`);
    password = checkMasterCredentials(s.masterUsername ?? 'postgres', s.masterUserPassword);
    rds.databases.check();
  }
  if (s.dbSubnetGroupName && !rds.resources.findSubnetGroup(account, s.region, s.dbSubnetGroupName)) {
    const vpcs = new Set((s.vpcSecurityGroupIds ?? []).map((id) => ec2.find(account, s.region, id)?.vpcId).filter((v): v is string => v !== undefined));
    const vpcId = vpcs.size === 1 ? ([...vpcs][0] as string) : defaultVpcId(account, s.region);
    rds.resources.createSubnetGroup(account, s.region, { name: s.dbSubnetGroupName, vpcId });
  }
  if (s.parameterGroupName && !rds.resources.findParameterGroup(account, s.region, s.parameterGroupName)) {
    rds.resources.createParameterGroup(account, s.region, { name: s.parameterGroupName, family: parameterGroupFamily(engineName, s.engineVersion) });
  }
  const inst = rds.create(
    account,
    s.region,
    {
      id: s.id,
      instanceClass: s.instanceClass ?? 'db.t3.medium',
      engine: engineName,
      engineVersion: s.engineVersion as string,
      allocatedStorage: s.allocatedStorage,
      storageType: s.storageType,
      iops: s.iops,
      kmsKeyId: s.kmsKeyId,
      multiAZ: s.multiAZ,
      dbSubnetGroupName: s.dbSubnetGroupName,
      parameterGroupName: s.parameterGroupName,
      vpcSecurityGroupIds: s.vpcSecurityGroupIds,
      preferredMaintenanceWindow: s.preferredMaintenanceWindow,
      backupRetentionPeriod: s.backupRetentionPeriod,
      autoMinorVersionUpgrade: s.autoMinorVersionUpgrade,
      deletionProtection: s.deletionProtection,
      iamDatabaseAuthentication: s.iamDatabaseAuthentication,
      publiclyAccessible: s.publiclyAccessible,
      caCertificateIdentifier: s.caCertificateIdentifier,
      enableCloudwatchLogsExports: s.enableCloudwatchLogsExports,
      networkType: s.networkType,
      engineLifecycleSupport: s.engineLifecycleSupport,
      masterUsername: s.masterUsername,
      port: s.endpoint?.port,
      tags: tagList(s.tags),
    },
    { status: s.status ?? 'available', createdAt: toMs(s.createdAt, `instances[${s.id}].createdAt`) ?? now - 400 * DAY },
  );
  finishSeededInstance(rds, inst, s, now);
  if (s.manageMasterUserPassword) inst.masterUserSecret = rds.masterSecrets.create(inst, s.masterUserPassword!);
  if (password !== undefined) {
    try {
      rds.databases.provision(inst, password);
    } catch (err) {
      // The instance without its database is taken back: the seed failed as a whole.
      delete ctx.state.instances[regionalKey(inst.account, inst.region, inst.id)];
      throw err;
    }
  }
  return inst;
}

/**
 * A seeded read replica (`replicaOf`): made as CreateDBInstanceReadReplica makes one (sim/src/rds/replica-create.ts),
 * already `available`, with the structural refusals (the 15-replica limit, cascading rules) but not the ones about
 * the source's current state (status, automated backups), which describe a moment, not an estate.
 */
function seedReplica(rds: RdsModel, s: SeedInstance, now: number): DbInstance {
  const account = s.account ?? DEFAULT_ACCOUNT;
  const ref = typeof s.replicaOf === 'string' ? { region: s.region, id: s.replicaOf } : (s.replicaOf as { region: string; id: string });
  const sourceArn = `arn:aws:rds:${ref.region}:${account}:db:${ref.id}`;
  const source = findReplicationSource(rds, account, s.region, ref.region === s.region ? ref.id : sourceArn);
  if (s.engine !== undefined && s.engine !== source.engine) throw new Error(`replicaOf ${ref.id}: a replica runs its source's engine (${source.engine}), not ${s.engine}`);
  if (s.engineVersion !== undefined && (majorOf(s.engineVersion) !== majorOf(source.engineVersion) || compareVersions(s.engineVersion, source.engineVersion) < 0)) {
    throw new Error(`replicaOf ${ref.id}: engineVersion ${s.engineVersion} must be of the source's major and not below its ${source.engineVersion} (RDS upgrades replicas before their source)`);
  }
  if (s.engineVersion !== undefined && !rds.catalogue().has(source.engine, s.engineVersion)) throw new Error(`engineVersion ${s.engineVersion} is not in the catalogue`);
  const inst = createReadReplica(
    rds,
    account,
    s.region,
    {
      id: s.id,
      sourceIdentifier: ref.region === s.region ? ref.id : sourceArn,
      instanceClass: s.instanceClass,
      multiAZ: s.multiAZ,
      autoMinorVersionUpgrade: s.autoMinorVersionUpgrade,
      allocatedStorage: s.allocatedStorage,
      storageType: s.storageType,
      iops: s.iops,
      dbSubnetGroupName: s.dbSubnetGroupName,
      parameterGroupName: s.parameterGroupName,
      vpcSecurityGroupIds: s.vpcSecurityGroupIds,
      kmsKeyId: s.kmsKeyId,
      deletionProtection: s.deletionProtection,
      preferredMaintenanceWindow: s.preferredMaintenanceWindow,
      backupRetentionPeriod: s.backupRetentionPeriod,
      port: s.endpoint?.port,
      tags: tagList(s.tags),
    },
    { seeded: true, createdAt: toMs(s.createdAt, `instances[${s.id}].createdAt`) ?? now - 400 * DAY },
  );
  if (s.engineVersion !== undefined && s.engineVersion !== inst.engineVersion) {
    inst.engineVersion = s.engineVersion;
    inst.versionHistory = [{ at: inst.createdAt, version: s.engineVersion }];
  }
  if (s.status === 'stopped') {
    inst.status = 'stopped';
    inst.stoppedAt = now;
  }
  return finishSeededInstance(rds, inst, s, now);
}

function finishSeededInstance(rds: RdsModel, inst: DbInstance, s: SeedInstance, now: number): DbInstance {
  // A seeded fleet starts now: windows before the seed are history, not pending work.
  inst.maintenanceCheckedUntil = now;
  inst.statusSince = now;
  if (s.endpoint?.address) inst.endpoint.address = s.endpoint.address;
  if (s.endpoint?.hostedZoneId) inst.endpoint.hostedZoneId = s.endpoint.hostedZoneId;
  const pm = s.pendingMaintenance;
  if (pm) {
    if (pm.targetVersion && !rds.catalogue().has(inst.engine, pm.targetVersion)) {
      throw new Error(`seed: instances[${s.id}].pendingMaintenance.targetVersion ${pm.targetVersion} is not in the catalogue`);
    }
    inst.maintenance = {
      targetVersion: pm.targetVersion,
      description: pm.description,
      autoAppliedAfterDate: toMs(pm.autoAppliedAfterDate, 'autoAppliedAfterDate'),
      forcedApplyDate: toMs(pm.forcedApplyDate, 'forcedApplyDate'),
    };
  }
  return inst;
}
