// RDS instances through the SDK: what a restore is given or left at its defaults, and the restorable window AWS publishes.
import assert from 'node:assert/strict';
import { DescribeDBInstanceAutomatedBackupsCommand, RestoreDBInstanceToPointInTimeCommand } from '@aws-sdk/client-rds';
import { REGION, rejectsWith, startHarness } from '../helpers';
import type { SimHarness } from '../helpers';
import { rdsReads } from './reads';

const DAY = 86_400;

describe('sim: RDS restores, their settings and window', function () {
  let h: SimHarness;

  beforeEach(async function () {
    h = await startHarness();
  });
  afterEach(async function () {
    await h.close();
  });

  const { describeOne } = rdsReads(() => h);

  it('RestoreDBInstanceToPointInTime: the CA, log exports, network type, Extended Support and option group as asked, refused when RDS has no such thing', async function () {
    await h.admin.seed({ instances: [{ region: REGION, id: 'src', engineVersion: '15.5' }] });
    const restore = (TargetDBInstanceIdentifier: string, more: object) =>
      h.rds.send(new RestoreDBInstanceToPointInTimeCommand({ SourceDBInstanceIdentifier: 'src', TargetDBInstanceIdentifier, UseLatestRestorableTime: true, ...more }));
    await restore('asked', {
      CACertificateIdentifier: 'rds-ca-rsa4096-g1',
      EnableCloudwatchLogsExports: ['postgresql'],
      NetworkType: 'DUAL',
      EngineLifecycleSupport: 'open-source-rds-extended-support-disabled',
      OptionGroupName: 'default:postgres-15',
    });
    const asked = await describeOne('asked');
    assert.deepEqual(
      [asked.CACertificateIdentifier, asked.CertificateDetails?.CAIdentifier, asked.EnabledCloudwatchLogsExports, asked.NetworkType, asked.EngineLifecycleSupport],
      ['rds-ca-rsa4096-g1', 'rds-ca-rsa4096-g1', ['postgresql'], 'DUAL', 'open-source-rds-extended-support-disabled'],
    );
    await restore('defaults', {});
    const defaults = await describeOne('defaults');
    assert.deepEqual([defaults.CACertificateIdentifier, defaults.EnabledCloudwatchLogsExports, defaults.NetworkType, defaults.EngineLifecycleSupport], ['rds-ca-rsa2048-g1', undefined, 'IPV4', 'open-source-rds-extended-support']);
    await rejectsWith(restore('r1', { CACertificateIdentifier: 'rds-ca-2015' }), 'CertificateNotFoundFault');
    await rejectsWith(restore('r1', { EnableCloudwatchLogsExports: ['error'] }), 'InvalidParameterCombination');
    await rejectsWith(restore('r1', { NetworkType: 'IPV6' }), 'InvalidParameterValue');
    await rejectsWith(restore('r1', { EngineLifecycleSupport: 'extended' }), 'InvalidParameterValue');
    await rejectsWith(restore('r1', { OptionGroupName: 'pg15-orders-options' }), 'OptionGroupNotFoundFault');
    await rejectsWith(restore('r1', { DedicatedLogVolume: true }), 'InvalidParameterCombination', 'Provisioned IOPS');
    await restore('with-dlv', { DedicatedLogVolume: true, StorageType: 'io1', Iops: 3000 });
    assert.equal((await describeOne('with-dlv')).DedicatedLogVolume, true);
  });

  it("DescribeDBInstanceAutomatedBackups: an instance's RestoreWindow while it keeps backups; none for one that keeps none", async function () {
    await h.admin.seed({ instances: [{ region: REGION, id: 'kept', engineVersion: '15.5', backupRetentionPeriod: 7 }, { region: REGION, id: 'none', engineVersion: '15.5', backupRetentionPeriod: 0 }] });
    const listed = await h.rds.send(new DescribeDBInstanceAutomatedBackupsCommand({}));
    assert.deepEqual(listed.DBInstanceAutomatedBackups?.map((b) => [b.DBInstanceIdentifier, b.Status, b.BackupRetentionPeriod]), [['kept', 'active', 7]]);
    const kept = await describeOne('kept');
    const [backup] = (await h.rds.send(new DescribeDBInstanceAutomatedBackupsCommand({ DBInstanceIdentifier: 'kept' }))).DBInstanceAutomatedBackups!;
    assert.equal(backup.DbiResourceId, kept.DbiResourceId);
    assert.equal(backup.RestoreWindow?.LatestTime?.getTime(), kept.LatestRestorableTime?.getTime());
    assert.equal(kept.LatestRestorableTime!.getTime() - backup.RestoreWindow!.EarliestTime!.getTime(), 7 * DAY * 1000 - 5 * 60_000, 'seven days of retention, up to five minutes ago');
    await rejectsWith(h.rds.send(new DescribeDBInstanceAutomatedBackupsCommand({ DBInstanceIdentifier: 'none' })), 'DBInstanceAutomatedBackupNotFoundFault');
  });
});
