/**
 * CreateDBInstanceReadReplica (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstanceReadReplica.html):
 * "RDS creates read replicas with backups disabled. All other attributes (including DB security groups and DB
 * parameter groups) are inherited from the source DB instance or cluster, except as specified." "Your source DB
 * instance or cluster must have backup retention enabled."
 *
 * What the replica takes:
 * - the source's engine and engine version (the request has no EngineVersion);
 * - DBInstanceClass, AllocatedStorage, Port: the source's unless given ("Default: Inherits the value from the source DB
 *   instance"); StorageType "Default: io1 if the Iops parameter is specified. Otherwise, gp3."; Iops only when given;
 * - AutoMinorVersionUpgrade: "Default: Inherits the value from the source DB instance"; the replica keeps its own
 *   flag from then on;
 * - DBParameterGroupName: "Amazon RDS uses the DBParameterGroup of the source DB instance for a same Region read
 *   replica, or the default DBParameterGroup for the specified DB engine for a cross-Region read replica";
 * - DB subnet group and VPC security groups: the source's in the same Region (inherited, as above); across Regions
 *   the Region's `default` subnet group and the default security group of its VPC (VpcSecurityGroupIds "Default:
 *   The default EC2 VPC security group for the DB subnet group's VPC");
 * - KmsKeyId: "If you don't specify a value for this parameter, the read replica is encrypted with the same KMS key
 *   as the source" (same Region);
 * - MultiAZ, DeletionProtection, CopyTagsToSnapshot: false unless given ("independent of whether the source is a
 *   Multi-AZ DB instance"; "By default, deletion protection isn't enabled"; "By default, tags aren't copied"); Tags
 *   from the request.
 * The request has no PreferredMaintenanceWindow and RDS picks one at random ("selected at random from an 8-hour
 * block of time for each AWS Region", CreateDBInstance); the simulator gives the replica its own window, the same
 * fixed default as CreateDBInstance (sun:05:00-sun:05:30), so tests are reproducible. ModifyDBInstance changes it.
 */
import { SimError } from '../core/errors';
import type { Tag } from '../core/aws';
import { validateIdentifier } from './identifier';
import type { InstanceStore } from './inputs';
import { parseInstanceArn, refOf } from './replicas';
import { DEFAULT_SUBNET_GROUP } from './resources';
import type { DbInstance } from './state';

export interface CreateReplicaInput {
  id: string;
  /** The source's identifier in the same Region, or its ARN (required across Regions). */
  sourceIdentifier: string;
  instanceClass?: string;
  availabilityZone?: string;
  port?: number;
  multiAZ?: boolean;
  autoMinorVersionUpgrade?: boolean;
  allocatedStorage?: number;
  storageType?: string;
  iops?: number;
  dbSubnetGroupName?: string;
  parameterGroupName?: string;
  vpcSecurityGroupIds?: string[];
  kmsKeyId?: string;
  deletionProtection?: boolean;
  copyTagsToSnapshot?: boolean;
  preferredMaintenanceWindow?: string;
  backupRetentionPeriod?: number;
  tags?: Tag[];
}

/** The source named by SourceDBInstanceIdentifier: an identifier in the request's Region, or an ARN of the caller's account. */
export function findReplicationSource(rds: InstanceStore, account: string, region: string, source: string): DbInstance {
  const ref = source.startsWith('arn:') ? parseInstanceArn(source) : { account, region, id: source };
  const found = ref && ref.account === account ? rds.replicas.find(ref) : undefined;
  if (!found) throw new SimError('DBInstanceNotFound', `DBInstance ${source} not found.`, 404);
  return found;
}

export function createReadReplica(rds: InstanceStore, account: string, region: string, input: CreateReplicaInput, options: { seeded?: boolean; createdAt?: number } = {}): DbInstance {
  const id = validateIdentifier(input.id);
  const source = findReplicationSource(rds, account, region, input.sourceIdentifier);
  if (rds.find(account, region, id)) throw new SimError('DBInstanceAlreadyExists', 'DB instance already exists');
  if (!options.seeded) {
    // As reported against the real service (hashicorp/terraform-provider-aws and terraform-aws-modules users):
    // "InvalidDBInstanceState: DB instance is not in the available state" and, for a source without backups,
    // "InvalidDBInstanceState: Automated backups are not enabled for this database instance. ..." (400).
    if (source.status !== 'available') throw new SimError('InvalidDBInstanceState', `DB instance ${source.id} is not in the available state (it is ${source.status}).`);
    if (source.backupRetentionPeriod === 0) {
      throw new SimError(
        'InvalidDBInstanceState',
        'Automated backups are not enabled for this database instance. To enable automated backups, use ModifyDBInstance to set the backup retention period to a non-zero value.',
      );
    }
  }
  rds.replicas.checkCanTakeReplica(source, region);
  const sameRegion = source.region === region;
  const subnetGroup = input.dbSubnetGroupName ?? (sameRegion ? source.dbSubnetGroupName : DEFAULT_SUBNET_GROUP);
  const inheritGroups = sameRegion && input.dbSubnetGroupName === undefined;
  return rds.create(
    account,
    region,
    {
      id,
      instanceClass: input.instanceClass ?? source.instanceClass,
      engine: source.engine,
      engineVersion: source.engineVersion,
      allocatedStorage: input.allocatedStorage ?? source.allocatedStorage,
      // StorageType "Default: io1 if the Iops parameter is specified. Otherwise, gp3." (not inherited).
      storageType: input.storageType ?? (input.iops !== undefined ? 'io1' : 'gp3'),
      iops: input.iops,
      storageEncrypted: source.storageEncrypted || input.kmsKeyId !== undefined,
      kmsKeyId: input.kmsKeyId ?? (sameRegion ? source.kmsKeyId : undefined),
      multiAZ: input.multiAZ ?? false,
      availabilityZone: input.availabilityZone,
      dbSubnetGroupName: subnetGroup,
      parameterGroupName: input.parameterGroupName ?? (sameRegion ? source.parameterGroupName : undefined),
      vpcSecurityGroupIds: input.vpcSecurityGroupIds ?? (inheritGroups ? source.vpcSecurityGroupIds : undefined),
      preferredMaintenanceWindow: input.preferredMaintenanceWindow,
      preferredBackupWindow: source.preferredBackupWindow,
      backupRetentionPeriod: input.backupRetentionPeriod ?? 0,
      autoMinorVersionUpgrade: input.autoMinorVersionUpgrade ?? source.autoMinorVersionUpgrade,
      deletionProtection: input.deletionProtection ?? false,
      copyTagsToSnapshot: input.copyTagsToSnapshot ?? false,
      masterUsername: source.masterUsername,
      dbName: source.dbName,
      port: input.port ?? source.endpoint.port,
      tags: input.tags ?? [],
    },
    { replicaOf: refOf(source), ...(options.seeded ? { status: 'available', createdAt: options.createdAt } : {}) },
  );
}
