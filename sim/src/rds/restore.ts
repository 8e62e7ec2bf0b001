/**
 * RestoreDBInstanceToPointInTime and the restorable window behind it
 * (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RestoreDBInstanceToPointInTime.html): exactly one
 * of RestoreTime and UseLatestRestorableTime; the window is [max(create, now - retention days), max(create, now -
 * 5 min)]; the new instance gets the engine version the source had at the restore time; like RDS, the parameter
 * group, subnet group, security groups, MultiAZ, DeletionProtection and EnableIAMDatabaseAuthentication ("By default,
 * mapping isn't enabled") are not copied unless given, nor are the CA certificate, the log exports, the network type,
 * the engine lifecycle support (default: enrolled in Extended Support) or the option group; the maintenance and
 * backup windows are RDS's own choice.
 *
 * A PostgreSQL-backed source (sim/src/rds/databases.ts) has a real window instead: from the end of its base backup
 * (RDS: "You can restore to any point in time within your backup retention period", from the first automated
 * backup on, https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIT.html) to how far its archived WAL
 * covers ("LatestRestorableTime ... typically within the last five minutes"; here within about a minute). Its
 * restore is a real point-in-time recovery, run when the new instance leaves `creating`.
 */
import { DAY, MINUTE } from '../core/clock';
import type { RdsContext } from './context';
import type { InstanceDatabases } from './databases';
import { SimError } from '../core/errors';
import { validateIdentifier } from './identifier';
import type { InstanceStore, RestoreInput } from './inputs';
import { DEFAULT_SUBNET_GROUP } from './resources';
import { EXTENDED_SUPPORT } from './instance-settings';
import type { DbInstance } from './state';

/** LatestRestorableTime trails now by this much. */
export const RESTORE_LAG_MS = 5 * MINUTE;

export function restoreWindow(ctx: RdsContext, inst: DbInstance, databases: InstanceDatabases): { earliest: number; latest: number } {
  const now = ctx.now();
  const real = databases.restorable(inst);
  if (real) {
    const earliest = Math.min(now, Math.max(real.backupEnd, now - inst.backupRetentionPeriod * DAY));
    return { earliest, latest: Math.min(now, Math.max(earliest, real.coveredUntil)) };
  }
  const frozenAt = inst.status === 'stopped' && inst.stoppedAt !== undefined ? inst.stoppedAt : now;
  const latest = Math.max(inst.createdAt, frozenAt - RESTORE_LAG_MS);
  const earliest = Math.min(latest, Math.max(inst.createdAt, now - inst.backupRetentionPeriod * DAY));
  return { earliest, latest };
}

export function restoreInstance(rds: InstanceStore, account: string, region: string, input: RestoreInput): DbInstance {
  const source = rds.get(account, region, input.sourceId);
  const targetId = validateIdentifier(input.targetId, 'TargetDBInstanceIdentifier');
  if (rds.find(account, region, targetId)) throw new SimError('DBInstanceAlreadyExists', 'DB instance already exists');
  if (source.backupRetentionPeriod === 0) {
    throw new SimError('PointInTimeRestoreNotEnabled', `Point-in-time restore is not enabled for DB instance ${source.id} (BackupRetentionPeriod is 0)`);
  }
  if (source.status === 'creating') {
    throw new SimError('InvalidDBInstanceState', `DB instance ${source.id} is still being created and has no restorable backup yet`);
  }
  if ((input.restoreTime !== undefined) === Boolean(input.useLatestRestorableTime)) {
    throw new SimError('InvalidParameterCombination', 'Specify exactly one of RestoreTime and UseLatestRestorableTime');
  }
  const { earliest, latest } = rds.restoreWindow(source);
  const restoreTime = input.restoreTime ?? latest;
  if (restoreTime < earliest || restoreTime > latest) {
    throw new SimError(
      'InvalidRestoreFault',
      `Restore time ${new Date(restoreTime).toISOString()} is outside the restorable window of DB instance ${source.id}: ` +
        `earliest ${new Date(earliest).toISOString()}, latest ${new Date(latest).toISOString()}`,
    );
  }
  // gp3 below 400 GiB (RDS for PostgreSQL) runs at its fixed baseline and takes no IOPS (User Guide, gp3 storage).
  const storageType = input.storageType ?? source.storageType;
  const allocatedStorage = input.allocatedStorage ?? source.allocatedStorage;
  if (input.iops !== undefined && storageType === 'gp3' && allocatedStorage < 400) {
    throw new SimError('InvalidParameterCombination', `You can't specify IOPS or storage throughput for engine ${source.engine} and a storage size less than 400.`);
  }
  const versionThen = [...source.versionHistory].reverse().find((v) => v.at <= restoreTime)?.version ?? source.engineVersion;
  const restored = rds.create(account, region, {
    id: targetId,
    instanceClass: input.instanceClass ?? source.instanceClass,
    engine: source.engine,
    engineVersion: versionThen,
    allocatedStorage: input.allocatedStorage ?? source.allocatedStorage,
    storageType: input.storageType ?? source.storageType,
    iops: input.iops ?? source.iops,
    storageEncrypted: source.storageEncrypted,
    kmsKeyId: source.kmsKeyId,
    multiAZ: input.multiAZ ?? false,
    availabilityZone: input.availabilityZone,
    // Like RDS: what is not given comes from the defaults, not from the source.
    dbSubnetGroupName: input.dbSubnetGroupName ?? DEFAULT_SUBNET_GROUP,
    parameterGroupName: input.parameterGroupName,
    vpcSecurityGroupIds: input.vpcSecurityGroupIds,
    // The request takes no maintenance window and RDS picks one ("selected at random from an 8-hour block of time
    // for each AWS Region"); like a new replica, the copy gets CreateDBInstance's fixed default here, not the source's,
    // and so its backup window (the call's PreferredBackupWindow is not modelled).
    backupRetentionPeriod: source.backupRetentionPeriod,
    autoMinorVersionUpgrade: input.autoMinorVersionUpgrade ?? true,
    deletionProtection: input.deletionProtection ?? false,
    iamDatabaseAuthentication: input.iamDatabaseAuthentication ?? false,
    publiclyAccessible: input.publiclyAccessible ?? false,
    copyTagsToSnapshot: input.copyTagsToSnapshot ?? false,
    // Nor these: the default CA, no log exports, IPV4, enrolled in Extended Support, the default option group.
    caCertificateIdentifier: input.caCertificateIdentifier,
    enableCloudwatchLogsExports: input.enableCloudwatchLogsExports,
    networkType: input.networkType,
    engineLifecycleSupport: input.engineLifecycleSupport ?? EXTENDED_SUPPORT,
    optionGroupName: input.optionGroupName,
    dedicatedLogVolume: input.dedicatedLogVolume,
    masterUsername: source.masterUsername,
    dbName: source.dbName,
    port: source.endpoint.port,
    tags: input.tags ?? [],
  });
  restored.restoredFrom = { sourceInstanceId: source.id, restoreTime };
  if (source.postgres) rds.databases.prepareRestore(source, restored, restoreTime);
  return restored;
}
