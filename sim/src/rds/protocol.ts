/**
 * RDS query protocol (API version 2014-10-31): form-urlencoded `Action=...` in, XML out, with the
 * element names the AWS SDK's deserializers read (checked against @aws-sdk/client-rds's schemas). One
 * handler per action (ACTIONS); the XML of instances and pending actions is sim/src/rds/render.ts.
 */
import type { AwsProtocol } from '../core/aws-protocol';
import { ok } from '../core/aws-protocol';
import { SimError } from '../core/errors';
import type { Params } from '../core/query';
import { bool, int, list, required, str, structList, tags } from '../core/query';
import { leaf, node } from '../core/xml';
import type { RdsAction } from './answers';
import { paginate, rdsError, rdsResponse } from './answers';
import { BLUE_GREEN_ACTIONS, BLUE_GREEN_MUTATIONS, deploymentByArn } from './blue-green-actions';
import type { RdsModel } from './model';
import { EXTENDED_SUPPORT, type InstanceSettingsInput } from './instance-settings';
import { renderAutomatedBackup, renderEngineVersion, renderInstance, renderPendingActions, renderTags } from './render';
import type { DbInstance } from './state';

export const RDS_MUTATIONS = new Set([
  'CreateDBInstance',
  'CreateDBInstanceReadReplica',
  'ModifyDBInstance',
  'ApplyPendingMaintenanceAction',
  'RestoreDBInstanceToPointInTime',
  'StopDBInstance',
  'StartDBInstance',
  'AddTagsToResource',
  'RemoveTagsFromResource',
  'DeleteDBInstance',
  'DeleteDBSnapshot',
  ...BLUE_GREEN_MUTATIONS,
]);

function parseTime(p: Params, key: string): number | undefined {
  const v = str(p, key);
  if (v === undefined) return undefined;
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new SimError('InvalidParameterValue', `Invalid value '${v}' for ${key}: expected an ISO 8601 timestamp`);
  return ms;
}

function requireInstanceByArn(rds: RdsModel, account: string, region: string, arn: string, code: 'DBInstanceNotFound' | 'ResourceNotFoundFault'): DbInstance {
  const inst = rds.findByArn(account, region, arn);
  if (!inst) {
    throw code === 'DBInstanceNotFound'
      ? new SimError('DBInstanceNotFound', `DBInstance ${arn} not found.`, 404)
      : new SimError('ResourceNotFoundFault', `The specified resource ARN ${arn} was not found.`, 404);
  }
  return inst;
}

/** VpcSecurityGroupIds.VpcSecurityGroupId.N, or undefined when none were given (the model picks the VPC's default group). */
const securityGroupIds = (p: Params): string[] | undefined => {
  const ids = list(p, 'VpcSecurityGroupIds');
  return ids.length > 0 ? ids : undefined;
};

/** The settings CreateDBInstance and RestoreDBInstanceToPointInTime both take (sim/src/rds/instance-settings.ts), with the calls' defaults. */
const instanceSettingsOf = (p: Params): InstanceSettingsInput => ({
  caCertificateIdentifier: str(p, 'CACertificateIdentifier'),
  enableCloudwatchLogsExports: list(p, 'EnableCloudwatchLogsExports'),
  networkType: str(p, 'NetworkType'),
  engineLifecycleSupport: str(p, 'EngineLifecycleSupport') ?? EXTENDED_SUPPORT,
  optionGroupName: str(p, 'OptionGroupName'),
  dedicatedLogVolume: bool(p, 'DedicatedLogVolume'),
});

const ACTIONS: Record<string, RdsAction> = {
  CreateDBInstance: (rds, p, account, region) => {
    const inst = rds.create(account, region, {
      id: required(p, 'DBInstanceIdentifier'),
      instanceClass: required(p, 'DBInstanceClass'),
      engine: required(p, 'Engine'),
      engineVersion: str(p, 'EngineVersion'),
      allocatedStorage: int(p, 'AllocatedStorage'),
      storageType: str(p, 'StorageType'),
      iops: int(p, 'Iops'),
      storageEncrypted: bool(p, 'StorageEncrypted'),
      kmsKeyId: str(p, 'KmsKeyId'),
      multiAZ: bool(p, 'MultiAZ'),
      availabilityZone: str(p, 'AvailabilityZone'),
      dbSubnetGroupName: str(p, 'DBSubnetGroupName'),
      parameterGroupName: str(p, 'DBParameterGroupName'),
      vpcSecurityGroupIds: securityGroupIds(p),
      preferredMaintenanceWindow: str(p, 'PreferredMaintenanceWindow'),
      preferredBackupWindow: str(p, 'PreferredBackupWindow'),
      backupRetentionPeriod: int(p, 'BackupRetentionPeriod'),
      autoMinorVersionUpgrade: bool(p, 'AutoMinorVersionUpgrade'),
      deletionProtection: bool(p, 'DeletionProtection'),
      copyTagsToSnapshot: bool(p, 'CopyTagsToSnapshot'),
      masterUsername: str(p, 'MasterUsername'),
      dbName: str(p, 'DBName'),
      port: int(p, 'Port'),
      tags: tags(p, 'Tags'),
      iamDatabaseAuthentication: bool(p, 'EnableIAMDatabaseAuthentication'),
      publiclyAccessible: bool(p, 'PubliclyAccessible'),
      ...instanceSettingsOf(p),
    });
    return rdsResponse('CreateDBInstance', renderInstance(rds, inst));
  },
  CreateDBInstanceReadReplica: (rds, p, account, region) => {
    // The simulator replicates DB instances only (no Multi-AZ DB clusters).
    if (str(p, 'SourceDBClusterIdentifier')) throw new SimError('DBClusterNotFoundFault', `DBCluster ${str(p, 'SourceDBClusterIdentifier')} not found.`, 404);
    const inst = rds.createReadReplica(account, region, {
      id: required(p, 'DBInstanceIdentifier'),
      sourceIdentifier: required(p, 'SourceDBInstanceIdentifier'),
      instanceClass: str(p, 'DBInstanceClass'),
      availabilityZone: str(p, 'AvailabilityZone'),
      port: int(p, 'Port'),
      multiAZ: bool(p, 'MultiAZ'),
      autoMinorVersionUpgrade: bool(p, 'AutoMinorVersionUpgrade'),
      allocatedStorage: int(p, 'AllocatedStorage'),
      storageType: str(p, 'StorageType'),
      iops: int(p, 'Iops'),
      dbSubnetGroupName: str(p, 'DBSubnetGroupName'),
      parameterGroupName: str(p, 'DBParameterGroupName'),
      vpcSecurityGroupIds: securityGroupIds(p),
      kmsKeyId: str(p, 'KmsKeyId'),
      deletionProtection: bool(p, 'DeletionProtection'),
      copyTagsToSnapshot: bool(p, 'CopyTagsToSnapshot'),
      tags: tags(p, 'Tags'),
    });
    return rdsResponse('CreateDBInstanceReadReplica', renderInstance(rds, inst));
  },
  DescribeDBInstances: (rds, p, account, region) => {
    const id = str(p, 'DBInstanceIdentifier');
    let instances: DbInstance[];
    if (id !== undefined) {
      const inst = id.startsWith('arn:') ? rds.findByArn(account, region, id) : rds.find(account, region, id);
      if (!inst) throw new SimError('DBInstanceNotFound', `DBInstance ${id} not found.`, 404);
      instances = [inst];
    } else {
      instances = rds.list(account, region);
    }
    for (const f of structList(p, 'Filters')) {
      const name = f.get('Name');
      const values = list(f, 'Values');
      if (name === 'db-instance-id') instances = instances.filter((i) => values.includes(i.id) || values.includes(i.arn));
      else if (name === 'engine') instances = instances.filter((i) => values.includes(i.engine));
      else if (name === 'dbi-resource-id') instances = instances.filter((i) => values.includes(i.resourceId));
      // Documented filters for what the simulator has none of (clusters, Active Directory domains).
      else if (name === 'db-cluster-id' || name === 'domain') instances = [];
      else throw new SimError('InvalidParameterValue', `Unrecognized filter name: ${name}`);
    }
    const { page, marker } = paginate(p, instances);
    return rdsResponse('DescribeDBInstances', leaf('Marker', marker) + node('DBInstances', ...page.map((i) => renderInstance(rds, i))));
  },
  ModifyDBInstance: (rds, p, account, region) => {
    const inst = rds.modify(account, region, required(p, 'DBInstanceIdentifier'), {
      autoMinorVersionUpgrade: bool(p, 'AutoMinorVersionUpgrade'),
      engineVersion: str(p, 'EngineVersion'),
      allowMajorVersionUpgrade: bool(p, 'AllowMajorVersionUpgrade'),
      applyImmediately: bool(p, 'ApplyImmediately'),
      deletionProtection: bool(p, 'DeletionProtection'),
      preferredMaintenanceWindow: str(p, 'PreferredMaintenanceWindow'),
      preferredBackupWindow: str(p, 'PreferredBackupWindow'),
      backupRetentionPeriod: int(p, 'BackupRetentionPeriod'),
      parameterGroupName: str(p, 'DBParameterGroupName'),
      vpcSecurityGroupIds: securityGroupIds(p),
      iamDatabaseAuthentication: bool(p, 'EnableIAMDatabaseAuthentication'),
    });
    // The answer reflects the instance when the call was accepted (modify requires `available`);
    // PendingModifiedValues lists the change being applied, and the next describe shows it running.
    return rdsResponse('ModifyDBInstance', renderInstance(rds, inst, { statusAtCall: 'available' }));
  },
  DescribeDBEngineVersions: (rds, p) => {
    const cat = rds.catalogue();
    const engineName = str(p, 'Engine');
    const version = str(p, 'EngineVersion');
    const defaultOnly = bool(p, 'DefaultOnly') ?? false;
    const includeAll = bool(p, 'IncludeAll') ?? false;
    const family = str(p, 'DBParameterGroupFamily');
    const rows: Array<{ engine: string; version: string }> = [];
    for (const e of cat.engines()) {
      if (engineName !== undefined && e !== engineName) continue;
      for (const m of cat.majorsOf(e)) {
        if (family !== undefined && family !== `${e}${m.major}`) continue;
        for (const v of m.versions) {
          if (version !== undefined && v !== version && m.major !== version) continue;
          if (!includeAll && m.deprecated?.includes(v)) continue;
          rows.push({ engine: e, version: v });
        }
      }
    }
    const shown = defaultOnly ? rows.filter((r) => r.version === (version ? cat.autoUpgradeTargetFor(r.engine, r.version) : cat.defaultVersion(r.engine))) : rows;
    return rdsResponse('DescribeDBEngineVersions', node('DBEngineVersions', ...shown.map((r) => renderEngineVersion(cat, r.engine, r.version))));
  },
  /**
   * DescribeDBInstanceAutomatedBackups (API reference): "Current instances with retention periods greater than zero (0)
   * are returned"; each with its RestoreWindow ("Earliest and latest time an instance can be restored to"). The
   * simulator keeps no backups of deleted instances (it deletes none), so every entry is `active`, or `creating`
   * until the instance exists. An identifier without automated backups is DBInstanceAutomatedBackupNotFound.
   */
  DescribeDBInstanceAutomatedBackups: (rds, p, account, region) => {
    let instances = rds.list(account, region).filter((i) => i.backupRetentionPeriod > 0);
    const id = str(p, 'DBInstanceIdentifier');
    const resourceId = str(p, 'DbiResourceId');
    if (id !== undefined) instances = instances.filter((i) => i.id === id);
    if (resourceId !== undefined) instances = instances.filter((i) => i.resourceId === resourceId);
    if ((id !== undefined || resourceId !== undefined) && instances.length === 0) {
      throw new SimError('DBInstanceAutomatedBackupNotFound', `No automated backup found for ${id ?? resourceId}.`, 404);
    }
    for (const f of structList(p, 'Filters')) {
      const name = f.get('Name');
      const values = list(f, 'Values');
      if (name === 'db-instance-id') instances = instances.filter((i) => values.includes(i.id) || values.includes(i.arn));
      else if (name === 'dbi-resource-id') instances = instances.filter((i) => values.includes(i.resourceId));
      else if (name === 'status') instances = instances.filter((i) => values.includes(i.status === 'creating' ? 'creating' : 'active'));
      else throw new SimError('InvalidParameterValue', `Unrecognized filter name: ${name}`);
    }
    const { page, marker } = paginate(p, instances);
    return rdsResponse('DescribeDBInstanceAutomatedBackups', leaf('Marker', marker) + node('DBInstanceAutomatedBackups', ...page.map((i) => renderAutomatedBackup(rds, i))));
  },
  DescribePendingMaintenanceActions: (rds, p, account, region) => {
    let instances = rds.list(account, region);
    const resource = str(p, 'ResourceIdentifier');
    if (resource !== undefined) {
      const inst = rds.findByArn(account, region, resource);
      if (!inst) throw new SimError('ResourceNotFoundFault', `The specified resource ARN ${resource} was not found.`, 404);
      instances = [inst];
    }
    for (const f of structList(p, 'Filters')) {
      const name = f.get('Name');
      const values = list(f, 'Values');
      if (name === 'db-instance-id') instances = instances.filter((i) => values.includes(i.id) || values.includes(i.arn));
      else if (name === 'db-cluster-id') instances = [];
      else throw new SimError('InvalidParameterValue', `Unrecognized filter name: ${name}`);
    }
    const withActions = instances.map((i) => ({ inst: i, actions: rds.lifecycle.pendingActions(i) })).filter((x) => x.actions.length > 0);
    const { page, marker } = paginate(p, withActions);
    const actions = page.map((x) => node('ResourcePendingMaintenanceActions', renderPendingActions(x.inst, x.actions)));
    return rdsResponse('DescribePendingMaintenanceActions', node('PendingMaintenanceActions', ...actions) + leaf('Marker', marker));
  },
  ApplyPendingMaintenanceAction: (rds, p, account, region) => {
    const inst = requireInstanceByArn(rds, account, region, required(p, 'ResourceIdentifier'), 'ResourceNotFoundFault');
    rds.lifecycle.applyPendingAction(inst, required(p, 'ApplyAction'), required(p, 'OptInType'));
    return rdsResponse('ApplyPendingMaintenanceAction', node('ResourcePendingMaintenanceActions', renderPendingActions(inst, rds.lifecycle.pendingActions(inst))));
  },
  RestoreDBInstanceToPointInTime: (rds, p, account, region) => {
    if (str(p, 'SourceDBInstanceAutomatedBackupsArn') || str(p, 'SourceDbiResourceId')) {
      throw new SimError('InvalidParameterCombination', 'The simulator restores only by SourceDBInstanceIdentifier');
    }
    const inst = rds.restore(account, region, {
      sourceId: required(p, 'SourceDBInstanceIdentifier'),
      targetId: required(p, 'TargetDBInstanceIdentifier'),
      restoreTime: parseTime(p, 'RestoreTime'),
      useLatestRestorableTime: bool(p, 'UseLatestRestorableTime'),
      instanceClass: str(p, 'DBInstanceClass'),
      dbSubnetGroupName: str(p, 'DBSubnetGroupName'),
      parameterGroupName: str(p, 'DBParameterGroupName'),
      vpcSecurityGroupIds: securityGroupIds(p),
      multiAZ: bool(p, 'MultiAZ'),
      storageType: str(p, 'StorageType'),
      allocatedStorage: int(p, 'AllocatedStorage'),
      iops: int(p, 'Iops'),
      availabilityZone: str(p, 'AvailabilityZone'),
      deletionProtection: bool(p, 'DeletionProtection'),
      autoMinorVersionUpgrade: bool(p, 'AutoMinorVersionUpgrade'),
      copyTagsToSnapshot: bool(p, 'CopyTagsToSnapshot'),
      tags: tags(p, 'Tags'),
      iamDatabaseAuthentication: bool(p, 'EnableIAMDatabaseAuthentication'),
      publiclyAccessible: bool(p, 'PubliclyAccessible'),
      ...instanceSettingsOf(p),
    });
    return rdsResponse('RestoreDBInstanceToPointInTime', renderInstance(rds, inst));
  },
  StopDBInstance: (rds, p, account, region) => rdsResponse('StopDBInstance', renderInstance(rds, rds.stop(account, region, required(p, 'DBInstanceIdentifier')))),
  StartDBInstance: (rds, p, account, region) => rdsResponse('StartDBInstance', renderInstance(rds, rds.start(account, region, required(p, 'DBInstanceIdentifier')))),
  // Tags of a DB instance, or of a blue/green deployment (`arn:aws:rds:<region>:<account>:deployment:<bgd id>`).
  ListTagsForResource: (rds, p, account, region) => {
    const arn = required(p, 'ResourceName');
    const deployment = deploymentByArn(rds, account, region, arn);
    return rdsResponse('ListTagsForResource', renderTags(deployment ? deployment.tags : requireInstanceByArn(rds, account, region, arn, 'DBInstanceNotFound').tags));
  },
  AddTagsToResource: (rds, p, account, region) => {
    const arn = required(p, 'ResourceName');
    const deployment = deploymentByArn(rds, account, region, arn);
    if (deployment) rds.blueGreen.addTags(deployment, tags(p, 'Tags'));
    else rds.addTags(requireInstanceByArn(rds, account, region, arn, 'DBInstanceNotFound'), tags(p, 'Tags'));
    return rdsResponse('AddTagsToResource', undefined);
  },
  RemoveTagsFromResource: (rds, p, account, region) => {
    const arn = required(p, 'ResourceName');
    const deployment = deploymentByArn(rds, account, region, arn);
    if (deployment) rds.blueGreen.removeTags(deployment, list(p, 'TagKeys'));
    else rds.removeTags(requireInstanceByArn(rds, account, region, arn, 'DBInstanceNotFound'), list(p, 'TagKeys'));
    return rdsResponse('RemoveTagsFromResource', undefined);
  },
  ...BLUE_GREEN_ACTIONS,
};

/** rds-orchestrator must never delete a database or a backup: these are refused as an explicit deny would. */
const NEVER = new Set(['DeleteDBInstance', 'DeleteDBSnapshot', 'DeleteDBCluster', 'DeleteDBInstanceAutomatedBackup']);

/** Handles one RDS action; returns the XML body (status 200) or throws a SimError. */
export function handleRds(rds: RdsModel, action: string, p: Params, account: string, region: string): string {
  if (NEVER.has(action)) {
    throw new SimError(
      'AccessDenied',
      `User is not authorized to perform: rds:${action} with an explicit deny in a service control policy. ` + 'The simulator never deletes: rds-orchestrator must not delete databases or backups.',
      403,
    );
  }
  const handler = ACTIONS[action];
  if (!handler) throw new SimError('InvalidAction', `The action ${action} is not valid for this web service (the simulator implements: ${Object.keys(ACTIONS).join(', ')}).`, 400);
  return handler(rds, p, account, region);
}

/** RDS's API as the engine serves it, throttled per account and region when `admit` says so (sim/src/rds/throttle.ts). */
export function rdsProtocol(rds: RdsModel, admit: (account: string, region: string) => SimError | undefined): AwsProtocol {
  return {
    service: 'rds',
    reachedBy: 'rds (2014-10-31)',
    queryVersion: '2014-10-31',
    contentType: 'text/xml',
    mutations: RDS_MUTATIONS,
    handle: (call) => ok(handleRds(rds, call.action, call.form, call.account, call.region)),
    renderError: rdsError,
    admit,
  };
}
