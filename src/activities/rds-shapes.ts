/**
 * RDS answers (AWS SDK v3 shapes) turned into the activities' plain data, shared by the RDS activities
 * (./rds.ts) and the fleet listing (./fleet.ts), so the same AWS field reads the same everywhere.
 */
import type { DBInstance, PendingMaintenanceAction as SdkPendingMaintenanceAction, Tag, UpgradeTarget as SdkUpgradeTarget } from '@aws-sdk/client-rds';
import type { InstanceInfo, PendingMaintenanceAction, UpgradeTarget } from '../api/activities';
import { earliestRestorableMs } from '../domain/restore-source';
import { listedUpgradeTarget } from '../domain/upgrade-targets';

export function iso(d: Date | undefined): string | undefined {
  return d ? d.toISOString() : undefined;
}

export function tagsToRecord(tags: Tag[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? '';
  return out;
}

/** One pending action as the activities return it (listPendingMaintenance and findFleet alike); undefined without an Action. */
export function toPendingAction(a: SdkPendingMaintenanceAction): PendingMaintenanceAction | undefined {
  if (!a.Action) return undefined;
  return JSON.parse(
    JSON.stringify({
      action: a.Action,
      description: a.Description,
      autoAppliedAfterDate: iso(a.AutoAppliedAfterDate),
      forcedApplyDate: iso(a.ForcedApplyDate),
      currentApplyDate: iso(a.CurrentApplyDate),
      optInStatus: a.OptInStatus,
    }),
  ) as PendingMaintenanceAction;
}

/** One ValidUpgradeTarget as the activities return it (what its flags mean: ../domain/upgrade-targets.ts); undefined without an EngineVersion. */
export function toUpgradeTarget(t: SdkUpgradeTarget): UpgradeTarget | undefined {
  if (!t.EngineVersion) return undefined;
  return listedUpgradeTarget({ engineVersion: t.EngineVersion, isMajorVersionUpgrade: t.IsMajorVersionUpgrade, autoUpgrade: t.AutoUpgrade });
}

/** What every reading of an instance takes from DescribeDBInstances (a fleet listing as well as one instance's). */
export function instanceBasics(region: string, db: DBInstance) {
  return {
    region,
    instanceId: db.DBInstanceIdentifier ?? '',
    arn: db.DBInstanceArn,
    engine: db.Engine ?? '',
    engineVersion: db.EngineVersion ?? '',
    status: db.DBInstanceStatus ?? 'unknown',
    autoMinorVersionUpgrade: db.AutoMinorVersionUpgrade ?? false,
    preferredMaintenanceWindow: db.PreferredMaintenanceWindow ?? '',
    instanceClass: db.DBInstanceClass ?? '',
    allocatedStorage: db.AllocatedStorage,
    maxAllocatedStorage: db.MaxAllocatedStorage,
    tags: tagsToRecord(db.TagList),
    ...(db.ReadReplicaDBInstanceIdentifiers?.length ? { readReplicaIds: db.ReadReplicaDBInstanceIdentifiers } : {}),
    ...(db.ReadReplicaSourceDBInstanceIdentifier ? { replicaSourceId: db.ReadReplicaSourceDBInstanceIdentifier } : {}),
  };
}

export function toInstanceInfo(region: string, db: DBInstance, now: Date): InstanceInfo {
  const retentionDays = db.BackupRetentionPeriod;
  // The window's start is a rule (../domain/restore-source.ts), not a field DescribeDBInstances returns.
  const earliestMs = earliestRestorableMs(db.InstanceCreateTime?.getTime(), retentionDays, now.getTime());
  const earliest = earliestMs === undefined ? undefined : new Date(earliestMs);
  const info: InstanceInfo = {
    ...instanceBasics(region, db),
    endpoint: db.Endpoint?.Address
      ? { address: db.Endpoint.Address, port: db.Endpoint.Port ?? 5432, hostedZoneId: db.Endpoint.HostedZoneId }
      : undefined,
    multiAZ: db.MultiAZ ?? false,
    storageType: db.StorageType,
    iops: db.Iops,
    storageThroughput: db.StorageThroughput,
    copyTagsToSnapshot: db.CopyTagsToSnapshot,
    kmsKeyId: db.KmsKeyId,
    dbSubnetGroupName: db.DBSubnetGroup?.DBSubnetGroupName,
    vpcId: db.DBSubnetGroup?.VpcId,
    parameterGroupName: db.DBParameterGroups?.[0]?.DBParameterGroupName,
    // The groups it has or is getting: one still listed as `removing` (a change applied asynchronously) is on its way
    // out, and sending it back in a VpcSecurityGroupIds list, or copying it to a restore, would undo that change.
    vpcSecurityGroupIds: (db.VpcSecurityGroups ?? []).flatMap((g) => (g.VpcSecurityGroupId && g.Status !== 'removing' ? [g.VpcSecurityGroupId] : [])),
    deletionProtection: db.DeletionProtection ?? false,
    pendingEngineVersion: db.PendingModifiedValues?.EngineVersion,
    latestRestorableTime: iso(db.LatestRestorableTime),
    earliestRestorableTime: iso(earliest),
    backupRetentionPeriodDays: retentionDays,
    masterUserSecretArn: db.MasterUserSecret?.SecretArn,
    iamDatabaseAuthentication: db.IAMDatabaseAuthenticationEnabled || undefined,
    publiclyAccessible: db.PubliclyAccessible,
    preferredBackupWindow: db.PreferredBackupWindow,
    resourceId: db.DbiResourceId,
    performanceInsights: db.PerformanceInsightsEnabled || undefined,
    monitoringIntervalSeconds: db.MonitoringInterval || undefined,
  };
  // Plain JSON across the activity boundary: drop undefined keys so payloads stay small and comparable.
  return JSON.parse(JSON.stringify(info)) as InstanceInfo;
}
