/**
 * RDS XML for DBInstance and pending maintenance actions, with the element names the AWS SDK's
 * deserializers read (checked against @aws-sdk/client-rds's schemas and botocore's rds model).
 */
import type { Tag } from '../core/aws';
import { iso, leaf, list as xmlList, node, scalarList } from '../core/xml';
import type { BlueGreenView } from './blue-green-view';
import type { Catalogue } from './catalogue';
import type { PendingActionView } from './lifecycle';
import { engineDisplayName } from './lifecycle';
import type { RdsModel } from './model';
import type { DbInstance } from './state';
import { DEFAULT_CA_CERTIFICATE, POSTGRES_LOG_TYPES } from './instance-settings';

export const renderTags = (t: Tag[]): string => xmlList('TagList', 'Tag', t, (x) => leaf('Key', x.Key) + leaf('Value', x.Value));

/** VpcSecurityGroups while a VpcSecurityGroupIds change is applied: new ones `adding`, dropped ones `removing`. */
function securityGroupMemberships(i: DbInstance): Array<{ id: string; status: string }> {
  const change = i.securityGroupChange;
  return [
    ...i.vpcSecurityGroupIds.map((id) => ({ id, status: change?.added.includes(id) ? 'adding' : 'active' })),
    ...(change?.removed ?? []).map((id) => ({ id, status: 'removing' })),
  ];
}

export interface RenderOptions {
  /**
   * The status to report instead of the current one. ModifyDBInstance answers with the instance as it
   * was when the call was accepted (`available`); the work it started shows on the next describe.
   */
  statusAtCall?: string;
}

export function renderInstance(rds: RdsModel, i: DbInstance, opts: RenderOptions = {}): string {
  const created = i.status !== 'creating';
  const { latest } = rds.restoreWindow(i);
  const major = i.engineVersion.split('.')[0];
  const subnetGroup = rds.resources.findSubnetGroup(i.account, i.region, i.dbSubnetGroupName);
  const ca = i.caCertificateIdentifier ?? DEFAULT_CA_CERTIFICATE;
  return node(
    'DBInstance',
    leaf('DBInstanceIdentifier', i.id),
    leaf('DBInstanceClass', i.instanceClass),
    leaf('Engine', i.engine),
    leaf('DBInstanceStatus', opts.statusAtCall ?? i.status),
    leaf('MasterUsername', i.masterUsername),
    i.masterUserSecret && node('MasterUserSecret', leaf('SecretArn', i.masterUserSecret.arn), leaf('SecretStatus', 'active'), leaf('KmsKeyId', i.masterUserSecret.kmsKeyId)),
    leaf('DBName', i.dbName),
    created && node('Endpoint', leaf('Address', i.endpoint.address), leaf('Port', i.endpoint.port), leaf('HostedZoneId', i.endpoint.hostedZoneId)),
    leaf('AllocatedStorage', i.allocatedStorage),
    created && leaf('InstanceCreateTime', iso(i.createdAt)),
    leaf('PreferredBackupWindow', i.preferredBackupWindow),
    leaf('BackupRetentionPeriod', i.backupRetentionPeriod),
    node('DBSecurityGroups'),
    xmlList('VpcSecurityGroups', 'VpcSecurityGroupMembership', securityGroupMemberships(i), (m) => leaf('VpcSecurityGroupId', m.id) + leaf('Status', m.status)),
    xmlList('DBParameterGroups', 'DBParameterGroup', [i.parameterGroupName], (n) => leaf('DBParameterGroupName', n) + leaf('ParameterApplyStatus', i.parameterApplyStatus ?? 'in-sync')),
    leaf('AvailabilityZone', i.availabilityZone),
    node(
      'DBSubnetGroup',
      leaf('DBSubnetGroupName', i.dbSubnetGroupName),
      leaf('DBSubnetGroupDescription', subnetGroup?.description ?? i.dbSubnetGroupName),
      leaf('VpcId', rds.vpcOf(i)),
      leaf('SubnetGroupStatus', 'Complete'),
      // Subnets spread over the region's zones a, b, c, … in order.
      xmlList('Subnets', 'Subnet', (subnetGroup?.subnetIds ?? []).map((id, n) => ({ id, zone: `${i.region}${'abcdef'[n % 6]}` })), (s) =>
        [leaf('SubnetIdentifier', s.id), node('SubnetAvailabilityZone', leaf('Name', s.zone)), leaf('SubnetStatus', 'Active')].join(''),
      ),
    ),
    leaf('PreferredMaintenanceWindow', i.preferredMaintenanceWindow),
    node('PendingModifiedValues', leaf('EngineVersion', i.pendingEngineVersion)),
    created && leaf('LatestRestorableTime', iso(latest)),
    leaf('MultiAZ', i.multiAZ),
    leaf('EngineVersion', i.engineVersion),
    leaf('AutoMinorVersionUpgrade', i.autoMinorVersionUpgrade),
    ...replicationMembers(rds, i),
    leaf('LicenseModel', i.engine === 'postgres' ? 'postgresql-license' : 'general-public-license'),
    leaf('Iops', i.iops),
    xmlList('OptionGroupMemberships', 'OptionGroupMembership', [i.optionGroupName], (n) => leaf('OptionGroupName', n) + leaf('Status', 'in-sync')),
    i.multiAZ && leaf('SecondaryAvailabilityZone', `${i.region}b`),
    leaf('PubliclyAccessible', i.publiclyAccessible ?? false),
    leaf('StorageType', i.storageType),
    leaf('DbInstancePort', 0),
    leaf('StorageEncrypted', i.storageEncrypted),
    leaf('KmsKeyId', i.kmsKeyId),
    leaf('DbiResourceId', i.resourceId),
    Boolean(i.enabledCloudwatchLogsExports?.length) && scalarList('EnabledCloudwatchLogsExports', 'member', i.enabledCloudwatchLogsExports ?? []),
    leaf('CACertificateIdentifier', ca),
    node('DomainMemberships'),
    leaf('CopyTagsToSnapshot', i.copyTagsToSnapshot),
    leaf('MonitoringInterval', 0),
    leaf('DBInstanceArn', i.arn),
    leaf('IAMDatabaseAuthenticationEnabled', i.iamDatabaseAuthenticationEnabled ?? false),
    leaf('PerformanceInsightsEnabled', false),
    leaf('DeletionProtection', i.deletionProtection),
    node('AssociatedRoles'),
    renderTags(i.tags),
    i.status === 'stopped' && i.stoppedAt !== undefined && leaf('AutomaticRestartTime', iso(i.stoppedAt + 7 * 86_400_000)),
    leaf('CustomerOwnedIpEnabled', false),
    leaf('BackupTarget', 'region'),
    leaf('NetworkType', i.networkType ?? 'IPV4'),
    leaf('StorageThroughput', i.storageType === 'gp3' ? 125 : 0),
    node('CertificateDetails', leaf('CAIdentifier', ca), leaf('ValidTill', '2061-05-25T23:34:57Z')),
    leaf('DedicatedLogVolume', i.dedicatedLogVolume ?? false),
    leaf('EngineLifecycleSupport', i.engineLifecycleSupport ?? `open-source-rds-extended-support${major === '14' ? '' : '-disabled'}`),
  );
}

/**
 * ReadReplicaSourceDBInstanceIdentifier on a replica, ReadReplicaDBInstanceIdentifiers on every instance (its
 * replicas: identifiers in the same Region, ARNs across Regions), and on a replica that has been created,
 * StatusInfos "read replication" / `replicating` (API_DBInstanceStatusInfo: StatusType "This value is currently
 * \"read replication.\""; Status "replicating, replication stop point set, ..., error, stopped, or terminated").
 */
function replicationMembers(rds: RdsModel, i: DbInstance): string[] {
  const replicas = rds.replicas;
  const source = i.replicaOf;
  return [
    source ? leaf('ReadReplicaSourceDBInstanceIdentifier', replicas.nameFor(i, source)) : '',
    scalarList('ReadReplicaDBInstanceIdentifiers', 'ReadReplicaDBInstanceIdentifier', replicas.replicasOf(i).map((r) => replicas.nameFor(i, r))),
    source && i.status !== 'creating'
      ? xmlList('StatusInfos', 'DBInstanceStatusInfo', [i], () => leaf('StatusType', 'read replication') + leaf('Normal', true) + leaf('Status', 'replicating'))
      : '',
  ];
}

export function renderPendingActions(inst: DbInstance, actions: PendingActionView[]): string {
  return (
    leaf('ResourceIdentifier', inst.arn) +
    xmlList('PendingMaintenanceActionDetails', 'PendingMaintenanceAction', actions, (a) =>
      [
        leaf('Action', a.action),
        leaf('AutoAppliedAfterDate', iso(a.autoAppliedAfterDate)),
        leaf('ForcedApplyDate', iso(a.forcedApplyDate)),
        leaf('OptInStatus', a.optInStatus),
        leaf('CurrentApplyDate', iso(a.currentApplyDate)),
        leaf('Description', a.description),
      ].join(''),
    )
  );
}

/** DescribeDBEngineVersions' DBEngineVersion, with the catalogue's valid upgrade targets. */
export function renderEngineVersion(cat: Catalogue, engine: string, version: string): string {
  const major = version.split('.')[0] as string;
  return node(
    'DBEngineVersion',
    leaf('Engine', engine),
    leaf('MajorEngineVersion', major),
    leaf('EngineVersion', version),
    leaf('DBParameterGroupFamily', `${engine}${major}`),
    leaf('DBEngineDescription', engineDisplayName(engine)),
    leaf('DBEngineVersionDescription', `${engineDisplayName(engine)} ${version}-R1`),
    xmlList('ValidUpgradeTarget', 'UpgradeTarget', cat.validUpgradeTargets(engine, version), (t) =>
      [
        leaf('Engine', t.engine),
        leaf('EngineVersion', t.engineVersion),
        leaf('Description', `${engineDisplayName(t.engine)} ${t.engineVersion}-R1`),
        leaf('AutoUpgrade', t.autoUpgrade),
        leaf('IsMajorVersionUpgrade', t.isMajorVersionUpgrade),
        leaf('SupportsParallelQuery', false),
        leaf('SupportsGlobalDatabases', false),
        leaf('SupportsBabelfish', false),
      ].join(''),
    ),
    scalarList('ExportableLogTypes', 'member', [...POSTGRES_LOG_TYPES]),
    leaf('SupportsLogExportsToCloudwatchLogs', true),
    leaf('SupportsReadReplica', true),
    leaf('Status', cat.isDeprecated(engine, version) ? 'deprecated' : 'available'),
    leaf('SupportsParallelQuery', false),
    leaf('SupportsGlobalDatabases', false),
    leaf('SupportsBabelfish', false),
  );
}

/**
 * A BlueGreenDeployment (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_BlueGreenDeployment.html):
 * its lists' members are `<member>` (botocore's SwitchoverDetailList and BlueGreenDeploymentTaskList name none),
 * its tags `<Tag>`. `element`: `member` in DescribeBlueGreenDeployments' BlueGreenDeploymentList.
 */
export function renderBlueGreenDeployment(d: BlueGreenView, element = 'BlueGreenDeployment'): string {
  return node(
    element,
    leaf('BlueGreenDeploymentIdentifier', d.id),
    leaf('BlueGreenDeploymentName', d.name),
    leaf('Source', d.source),
    leaf('Target', d.target),
    xmlList('SwitchoverDetails', 'member', d.members, (m) => leaf('SourceMember', m.source) + leaf('TargetMember', m.target) + leaf('Status', m.status)),
    xmlList('Tasks', 'member', d.tasks, (t) => leaf('Name', t.name) + leaf('Status', t.status)),
    leaf('Status', d.status),
    leaf('StatusDetails', d.statusDetails),
    leaf('CreateTime', iso(d.createdAt)),
    leaf('DeleteTime', iso(d.deletedAt)),
    renderTags(d.tags),
  );
}

/** One DBInstanceAutomatedBackup of a current instance (DescribeDBInstanceAutomatedBackups), its RestoreWindow once it has one. */
export function renderAutomatedBackup(rds: RdsModel, i: DbInstance): string {
  const created = i.status !== 'creating';
  const window = created ? rds.restoreWindow(i) : undefined;
  return node(
    'DBInstanceAutomatedBackup',
    leaf('DBInstanceArn', i.arn),
    leaf('DbiResourceId', i.resourceId),
    leaf('Region', i.region),
    leaf('DBInstanceIdentifier', i.id),
    window && node('RestoreWindow', leaf('EarliestTime', iso(window.earliest)), leaf('LatestTime', iso(window.latest))),
    leaf('AllocatedStorage', i.allocatedStorage),
    leaf('Status', created ? 'active' : 'creating'),
    leaf('Port', i.endpoint.port),
    leaf('AvailabilityZone', i.availabilityZone),
    leaf('VpcId', rds.vpcOf(i)),
    leaf('InstanceCreateTime', iso(i.createdAt)),
    leaf('MasterUsername', i.masterUsername),
    leaf('Engine', i.engine),
    leaf('EngineVersion', i.engineVersion),
    leaf('LicenseModel', i.engine === 'postgres' ? 'postgresql-license' : 'general-public-license'),
    leaf('Iops', i.iops),
    leaf('OptionGroupName', i.optionGroupName),
    leaf('Encrypted', i.storageEncrypted),
    leaf('StorageType', i.storageType),
    leaf('KmsKeyId', i.kmsKeyId),
    leaf('IAMDatabaseAuthenticationEnabled', i.iamDatabaseAuthenticationEnabled ?? false),
    leaf('BackupRetentionPeriod', i.backupRetentionPeriod),
    leaf('PreferredBackupWindow', i.preferredBackupWindow),
    leaf('DBInstanceAutomatedBackupsArn', `arn:aws:rds:${i.region}:${i.account}:auto-backup:ab-${i.resourceId.replace(/^db-/, '').toLowerCase()}`),
    leaf('BackupTarget', 'region'),
    leaf('DedicatedLogVolume', false),
  );
}
