/**
 * What RestoreDBInstanceToPointInTime is sent (./rds.ts restoreToPointInTime): the request built from the source as
 * DescribeDBInstances gives it, and the restorable window it is checked against, as AWS publishes it.
 */
import {
  DescribeDBInstanceAutomatedBackupsCommand,
  type DBInstance,
  type DescribeDBInstanceAutomatedBackupsCommandOutput,
  type RDSClient,
  type RestoreDBInstanceToPointInTimeCommandInput,
} from '@aws-sdk/client-rds';
import type { AwsWhere, InstanceInfo, RestoreRequest } from '../api/activities';
import { copiedIops, copiedTags, copiedThroughput } from '../domain/restore-source';
import { isAwsError, isUnauthorizedError, toActivityError } from './aws-errors';

/**
 * The restorable window as AWS publishes it: DescribeDBInstanceAutomatedBackups' RestoreWindow ("The earliest time
 * you can restore an instance to") of the instance's own automated backups (its DbiResourceId: an identifier may
 * also have retained backups of a deleted instance). The estimate from the retention period (InstanceCreateTime or
 * now - BackupRetentionPeriod) is too early after backups were turned off and on again, or the retention raised,
 * and for an instance whose first backup is not done. Kept when AWS gives no window: no backups, no
 * rds:DescribeDBInstanceAutomatedBackups permission, or an endpoint that does not fill it in.
 */
export async function withPublishedRestoreWindow(client: RDSClient, where: AwsWhere, db: DBInstance, info: InstanceInfo): Promise<InstanceInfo> {
  if (!db.BackupRetentionPeriod || !db.DBInstanceIdentifier) return info;
  const estimated = (why: string): InstanceInfo => ({ ...info, restoreWindowEstimated: why });
  let out: DescribeDBInstanceAutomatedBackupsCommandOutput;
  try {
    out = await client.send(new DescribeDBInstanceAutomatedBackupsCommand({ DBInstanceIdentifier: db.DBInstanceIdentifier }));
  } catch (err) {
    if (isUnauthorizedError(err)) return estimated('DescribeDBInstanceAutomatedBackups was refused: grant rds:DescribeDBInstanceAutomatedBackups to read the window AWS publishes');
    if (isAwsError(err, 'DBInstanceAutomatedBackupNotFound', 'DBInstanceAutomatedBackupNotFoundFault')) return estimated('DescribeDBInstanceAutomatedBackups lists no automated backup of it');
    throw toActivityError(err, { operation: `DescribeDBInstanceAutomatedBackups ${db.DBInstanceIdentifier}`, where, instanceId: db.DBInstanceIdentifier });
  }
  const backups = out.DBInstanceAutomatedBackups ?? [];
  const own = db.DbiResourceId ? backups.find((b) => b.DbiResourceId === db.DbiResourceId) : backups.find((b) => b.Status === 'active');
  const window = own?.RestoreWindow;
  if (!window?.EarliestTime) return estimated(own ? `its automated backups are ${own.Status ?? 'listed'} without a RestoreWindow yet` : 'DescribeDBInstanceAutomatedBackups lists no automated backup of it');
  return { ...info, earliestRestorableTime: window.EarliestTime.toISOString(), latestRestorableTime: info.latestRestorableTime ?? window.LatestTime?.toISOString() };
}

/** The request of a restore of `source` (copying its settings when asked), to `restoreTime` or the latest restorable time. */
export function restoreInputFor(req: RestoreRequest, source: InstanceInfo, sourceDb: DBInstance, restoreTime: Date | undefined): RestoreDBInstanceToPointInTimeCommandInput {
  const { sourceInstanceId, targetInstanceId, ownerTag } = req;
  // The owner tag always wins.
  const copied = req.copySourceSettings ? copiedTags(source.tags, ownerTag.key) : [];
  const input: RestoreDBInstanceToPointInTimeCommandInput = {
    SourceDBInstanceIdentifier: sourceInstanceId,
    TargetDBInstanceIdentifier: targetInstanceId,
    ...(restoreTime ? { RestoreTime: restoreTime } : { UseLatestRestorableTime: true }),
    // AvailabilityZone is deliberately not set: "no preference" lets RDS place it (and Multi-AZ forbids it).
    DeletionProtection: true,
    // Always said: left out, RDS makes the copy public when its subnets' VPC has an internet gateway (CreateDBInstance,
    // PubliclyAccessible), which a private production database's VPC often has. Public only when the source is.
    PubliclyAccessible: source.publiclyAccessible === true,
    Tags: [...copied.map(([Key, Value]) => ({ Key, Value })), { Key: ownerTag.key, Value: ownerTag.value }],
  };
  if (req.copySourceSettings) {
    input.DBInstanceClass = source.instanceClass || undefined;
    input.DBSubnetGroupName = source.dbSubnetGroupName;
    input.DBParameterGroupName = source.parameterGroupName;
    input.VpcSecurityGroupIds = source.vpcSecurityGroupIds.length ? source.vpcSecurityGroupIds : undefined;
    input.MultiAZ = source.multiAZ;
    input.StorageType = source.storageType;
    // "By default, mapping isn't enabled" on a restore: the source's users logging in with IAM tokens keep doing so.
    if (source.iamDatabaseAuthentication) input.EnableIAMDatabaseAuthentication = true;
    const iops = copiedIops(source);
    if (iops !== undefined) input.Iops = iops;
    const throughput = copiedThroughput(source);
    if (throughput !== undefined) input.StorageThroughput = throughput;
    // What the call would otherwise leave at its defaults, though the copy may become the production instance: storage
    // autoscaling off (MaxAllocatedStorage has no default), tags not copied to snapshots ("By default, tags are not
    // copied"), and the automatic minor upgrades the campaign keeps off as CreateDBInstance's default (on).
    if (source.maxAllocatedStorage !== undefined) input.MaxAllocatedStorage = source.maxAllocatedStorage;
    if (source.copyTagsToSnapshot !== undefined) input.CopyTagsToSnapshot = source.copyTagsToSnapshot;
    input.AutoMinorVersionUpgrade = source.autoMinorVersionUpgrade;
    Object.assign(input, restoreKeeps(sourceDb));
  }
  return input;
}

/**
 * What a restore that copies its source's settings passes besides the settings the workflow reads (InstanceInfo),
 * taken from the source as DescribeDBInstances gives it. RestoreDBInstanceToPointInTime leaves each at a default
 * of its own otherwise, though the copy may become the production instance:
 * - OptionGroupName: only an option group of the team's own is passed (its name cannot hold a colon); a default one
 *   (`default:<engine>-<major>`) is left to RDS, whose default for the version restored is the engine's own.
 * - CACertificateIdentifier: the region's default CA, which clients that pin the source's CA do not trust.
 * - EnableCloudwatchLogsExports: none, so the copy's logs stop reaching CloudWatch.
 * - NetworkType: IPV4 ("determined by the DBSubnetGroup"), so a dual-stack source's IPv6 clients cannot reach it.
 * - EngineLifecycleSupport: "By default, this value is set to open-source-rds-extended-support", which enrolls the
 *   copy in RDS Extended Support (and its charges) where the source had opted out. Opted out, RDS "automatically
 *   upgrades your restored DB instance" when its major version is past its end of standard support, which only a
 *   copy restored to before a major upgrade of the source can be (the source itself would have been upgraded).
 * - DedicatedLogVolume: off.
 */
/** OptionGroupMembership.Status of a group on its way out (API reference: "pending-removal | pending-maintenance-removal | removing"). */
const OPTION_GROUP_LEAVING = new Set(['removing', 'pending-removal', 'pending-maintenance-removal']);

export function restoreKeeps(db: DBInstance): Partial<RestoreDBInstanceToPointInTimeCommandInput> {
  const keeps: Partial<RestoreDBInstanceToPointInTimeCommandInput> = {};
  const optionGroup = db.OptionGroupMemberships?.find((m) => m.OptionGroupName && !OPTION_GROUP_LEAVING.has(m.Status ?? ''))?.OptionGroupName;
  if (optionGroup && !optionGroup.startsWith('default:')) keeps.OptionGroupName = optionGroup;
  if (db.CACertificateIdentifier) keeps.CACertificateIdentifier = db.CACertificateIdentifier;
  if (db.EnabledCloudwatchLogsExports?.length) keeps.EnableCloudwatchLogsExports = [...db.EnabledCloudwatchLogsExports];
  if (db.NetworkType) keeps.NetworkType = db.NetworkType;
  if (db.EngineLifecycleSupport) keeps.EngineLifecycleSupport = db.EngineLifecycleSupport;
  if (db.DedicatedLogVolume) keeps.DedicatedLogVolume = true;
  return keeps;
}
