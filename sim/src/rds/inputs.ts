/** What the RDS protocol handler (sim/src/rds/protocol.ts) and the seeder pass to RdsModel. */
import type { Tag } from '../core/aws';
import type { InstanceDatabases } from './databases';
import type { InstanceSettingsInput } from './instance-settings';
import type { RdsLifecycle } from './lifecycle';
import type { RdsReplicas } from './replicas';
import type { RdsResources } from './resources';
import type { DbInstance, InstanceRef } from './state';

/** With the settings of sim/src/rds/instance-settings.ts: the CA, log exports, network type, Extended Support, option group, dedicated log volume. */
export interface CreateInstanceInput extends InstanceSettingsInput {
  id: string;
  instanceClass: string;
  engine: string;
  engineVersion?: string;
  allocatedStorage?: number;
  storageType?: string;
  iops?: number;
  storageEncrypted?: boolean;
  kmsKeyId?: string;
  multiAZ?: boolean;
  availabilityZone?: string;
  /** Default `default` (the default VPC). */
  dbSubnetGroupName?: string;
  /** Default `default.<family>`. */
  parameterGroupName?: string;
  /** Default: the default security group of the subnet group's VPC. */
  vpcSecurityGroupIds?: string[];
  preferredMaintenanceWindow?: string;
  preferredBackupWindow?: string;
  backupRetentionPeriod?: number;
  autoMinorVersionUpgrade?: boolean;
  deletionProtection?: boolean;
  copyTagsToSnapshot?: boolean;
  masterUsername?: string;
  dbName?: string;
  port?: number;
  tags?: Tag[];
  /** EnableIAMDatabaseAuthentication; default false. */
  iamDatabaseAuthentication?: boolean;
  /** PubliclyAccessible. AWS's default depends on the VPC's internet gateway, which the simulator does not model: false. */
  publiclyAccessible?: boolean;
}

export interface ModifyInstanceInput {
  autoMinorVersionUpgrade?: boolean;
  engineVersion?: string;
  allowMajorVersionUpgrade?: boolean;
  applyImmediately?: boolean;
  deletionProtection?: boolean;
  preferredMaintenanceWindow?: string;
  preferredBackupWindow?: string;
  backupRetentionPeriod?: number;
  parameterGroupName?: string;
  vpcSecurityGroupIds?: string[];
  iamDatabaseAuthentication?: boolean;
}

/** The settings of sim/src/rds/instance-settings.ts are not copied from the source either: what is not given takes the call's default. */
export interface RestoreInput extends InstanceSettingsInput {
  sourceId: string;
  targetId: string;
  restoreTime?: number;
  useLatestRestorableTime?: boolean;
  instanceClass?: string;
  dbSubnetGroupName?: string;
  parameterGroupName?: string;
  vpcSecurityGroupIds?: string[];
  multiAZ?: boolean;
  storageType?: string;
  allocatedStorage?: number;
  iops?: number;
  availabilityZone?: string;
  deletionProtection?: boolean;
  autoMinorVersionUpgrade?: boolean;
  copyTagsToSnapshot?: boolean;
  tags?: Tag[];
  /** EnableIAMDatabaseAuthentication: not copied from the source ("By default, mapping isn't enabled"). */
  iamDatabaseAuthentication?: boolean;
  /** PubliclyAccessible: not copied from the source; its default follows CreateDBInstance's (false here). */
  publiclyAccessible?: boolean;
}

/**
 * What creating an instance from another (a restore, a read replica) needs of the RDS model: finding instances,
 * creating one, the restorable window and the replica links. The model passes itself; the files that create
 * from another depend on this shape, not on the model's file.
 */
export interface InstanceStore {
  find(account: string, region: string, id: string): DbInstance | undefined;
  get(account: string, region: string, id: string): DbInstance;
  create(account: string, region: string, input: CreateInstanceInput, options?: { status?: string; createdAt?: number; replicaOf?: InstanceRef }): DbInstance;
  restoreWindow(inst: DbInstance): { earliest: number; latest: number };
  readonly replicas: RdsReplicas;
  readonly databases: InstanceDatabases;
}

/** What blue/green deployments need of the RDS model besides that: its parameter groups and its instances' lifecycle. */
export interface BlueGreenStore extends InstanceStore {
  readonly resources: RdsResources;
  readonly lifecycle: RdsLifecycle;
}
