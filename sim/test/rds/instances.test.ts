// RDS instances through the SDK: create, describe, modify, stop and start, restore, tags, never delete, the app probe.
import assert from 'node:assert/strict';
import {
  AddTagsToResourceCommand,
  CreateDBInstanceCommand,
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  DescribePendingMaintenanceActionsCommand,
  ListTagsForResourceCommand,
  ModifyDBInstanceCommand,
  RestoreDBInstanceToPointInTimeCommand,
  StartDBInstanceCommand,
  StopDBInstanceCommand,
} from '@aws-sdk/client-rds';
import { CreateSecurityGroupCommand } from '@aws-sdk/client-ec2';
import { ACCOUNT, REGION, rejectsWith, startHarness } from '../helpers';
import type { SimHarness } from '../helpers';
import { rdsReads } from './reads';

const DAY = 86_400;

describe('sim: RDS through the real SDK', function () {
  let h: SimHarness;

  beforeEach(async function () {
    h = await startHarness();
  });
  afterEach(async function () {
    await h.close();
  });

  const { describeOne, seedInstance } = rdsReads(() => h);

  it('CreateDBInstance: creating → backing-up → available, endpoint and create time only once created', async function () {
    const sg = await h.ec2.send(new CreateSecurityGroupCommand({ GroupName: 'orders-db', Description: 'orders database' }));
    const created = await h.rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: 'orders',
        DBInstanceClass: 'db.t3.micro',
        Engine: 'postgres',
        EngineVersion: '15.5',
        AllocatedStorage: 50,
        Tags: [{ Key: 'team', Value: 'payments' }],
        VpcSecurityGroupIds: [sg.GroupId as string],
      }),
    );
    assert.equal(created.DBInstance?.DBInstanceStatus, 'creating');
    assert.equal(created.DBInstance?.Endpoint, undefined);
    assert.equal(created.DBInstance?.DBInstanceArn, `arn:aws:rds:${REGION}:${ACCOUNT}:db:orders`);
    assert.deepEqual(created.DBInstance?.VpcSecurityGroups, [{ VpcSecurityGroupId: sg.GroupId, Status: 'active' }]);
    h.advance(59);
    assert.equal((await describeOne('orders')).DBInstanceStatus, 'creating');
    h.advance(1);
    assert.equal((await describeOne('orders')).DBInstanceStatus, 'backing-up');
    h.advance(20);
    const ready = await describeOne('orders');
    assert.equal(ready.DBInstanceStatus, 'available');
    assert.equal(ready.Endpoint?.Port, 5432);
    assert.match(ready.Endpoint?.Address ?? '', /^orders\.[a-z0-9]+\.eu-west-2\.rds\.amazonaws\.com$/);
    assert.ok(ready.InstanceCreateTime instanceof Date);
    assert.equal(ready.AllocatedStorage, 50);
    assert.equal(ready.BackupRetentionPeriod, 31);
    assert.deepEqual(ready.TagList, [{ Key: 'team', Value: 'payments' }]);
    await rejectsWith(
      h.rds.send(new CreateDBInstanceCommand({ DBInstanceIdentifier: 'orders', DBInstanceClass: 'db.t3.micro', Engine: 'postgres' })),
      'DBInstanceAlreadyExistsFault',
    );
    await rejectsWith(
      h.rds.send(new CreateDBInstanceCommand({ DBInstanceIdentifier: 'other', DBInstanceClass: 'db.t3.micro', Engine: 'postgres', EngineVersion: '15.99' })),
      'InvalidParameterCombination',
      'Cannot find version 15.99',
    );
  });

  it('DescribeDBInstances: by id, all in the region only, and DBInstanceNotFound (404) for an unknown id', async function () {
    await h.admin.seed({
      instances: [
        { region: REGION, id: 'a', engineVersion: '15.5' },
        { region: REGION, id: 'b', engineVersion: '16.2' },
        { region: 'us-east-1', id: 'elsewhere', engineVersion: '15.5' },
      ],
    });
    const all = await h.rds.send(new DescribeDBInstancesCommand({}));
    assert.deepEqual(all.DBInstances?.map((i) => i.DBInstanceIdentifier), ['a', 'b']);
    assert.equal((await describeOne('b')).EngineVersion, '16.2');
    const err = await rejectsWith(h.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'nope' })), 'DBInstanceNotFoundFault', 'nope');
    assert.equal(err.$metadata?.httpStatusCode, 404);
    assert.equal((err as unknown as { Code?: string }).Code, 'DBInstanceNotFound');
  });

  it('DescribeDBInstances and DescribePendingMaintenanceActions page with MaxRecords and Marker', async function () {
    await h.admin.seed({ instances: Array.from({ length: 25 }, (_, i) => ({ region: REGION, id: `db-${String(i).padStart(2, '0')}`, engineVersion: '15.5' })) });
    const first = await h.rds.send(new DescribeDBInstancesCommand({ MaxRecords: 20 }));
    assert.equal(first.DBInstances?.length, 20);
    assert.ok(first.Marker);
    const second = await h.rds.send(new DescribeDBInstancesCommand({ MaxRecords: 20, Marker: first.Marker }));
    assert.deepEqual(second.DBInstances?.map((i) => i.DBInstanceIdentifier), ['db-20', 'db-21', 'db-22', 'db-23', 'db-24']);
    assert.equal(second.Marker, undefined);
    const pending = await h.rds.send(new DescribePendingMaintenanceActionsCommand({ MaxRecords: 20 }));
    assert.equal(pending.PendingMaintenanceActions?.length, 20);
    const rest = await h.rds.send(new DescribePendingMaintenanceActionsCommand({ MaxRecords: 20, Marker: pending.Marker }));
    assert.equal(rest.PendingMaintenanceActions?.length, 5);
    await rejectsWith(h.rds.send(new DescribeDBInstancesCommand({ MaxRecords: 5 })), 'InvalidParameterValue', 'MaxRecords');
  });

  // https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html: the answer is the
  // instance as the call found it (available), with the change in PendingModifiedValues; the work shows next.
  it('ModifyDBInstance: flags apply at once; EngineVersion+ApplyImmediately answers available + PendingModifiedValues, then modifying → upgrading → available', async function () {
    await seedInstance('db1');
    const mod = await h.rds.send(
      new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'db1', AutoMinorVersionUpgrade: true, DeletionProtection: true, PreferredMaintenanceWindow: 'Sat:22:00-Sat:23:00' }),
    );
    assert.equal(mod.DBInstance?.AutoMinorVersionUpgrade, true);
    assert.equal(mod.DBInstance?.DeletionProtection, true);
    assert.equal(mod.DBInstance?.PreferredMaintenanceWindow, 'sat:22:00-sat:23:00');
    assert.equal(mod.DBInstance?.DBInstanceStatus, 'available');

    const up = await h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'db1', EngineVersion: '15.8', ApplyImmediately: true }));
    assert.equal(up.DBInstance?.DBInstanceStatus, 'available');
    assert.equal(up.DBInstance?.PendingModifiedValues?.EngineVersion, '15.8');
    assert.equal(up.DBInstance?.EngineVersion, '15.5');
    const modifying = await describeOne('db1');
    assert.equal(modifying.DBInstanceStatus, 'modifying');
    assert.equal(modifying.PendingModifiedValues?.EngineVersion, '15.8', 'still "currently being applied"');
    await rejectsWith(h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'db1', AutoMinorVersionUpgrade: false })), 'InvalidDBInstanceStateFault');
    h.advance(5);
    const upgrading = await describeOne('db1');
    assert.equal(upgrading.DBInstanceStatus, 'upgrading');
    assert.equal(upgrading.EngineVersion, '15.5');
    h.advance(30);
    const done = await describeOne('db1');
    assert.equal(done.DBInstanceStatus, 'available');
    assert.equal(done.EngineVersion, '15.8');
    assert.equal(done.PendingModifiedValues?.EngineVersion, undefined);
    // Terraform-style "set EngineVersion to what it already is" is accepted and changes nothing.
    const same = await h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'db1', EngineVersion: '15.8', ApplyImmediately: true }));
    assert.equal(same.DBInstance?.DBInstanceStatus, 'available');
  });

  it('ModifyDBInstance refuses invalid targets, downgrades and majors without AllowMajorVersionUpgrade', async function () {
    await seedInstance('db1');
    await rejectsWith(h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'db1', EngineVersion: '15.42', ApplyImmediately: true })), 'InvalidParameterCombination', 'Cannot find version');
    await rejectsWith(h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'db1', EngineVersion: '15.4', ApplyImmediately: true })), 'InvalidParameterCombination', 'Cannot upgrade postgres from 15.5 to 15.4');
    await rejectsWith(h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'db1', EngineVersion: '16.4', ApplyImmediately: true })), 'InvalidParameterCombination', 'AllowMajorVersionUpgrade');
    await rejectsWith(h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'db1', PreferredMaintenanceWindow: 'mon:10:00-mon:10:10' })), 'InvalidParameterValue', '30 minutes');
    await rejectsWith(h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'ghost', AutoMinorVersionUpgrade: true })), 'DBInstanceNotFoundFault');
    assert.equal((await describeOne('db1')).DBInstanceStatus, 'available', 'a refused modify changes nothing');
    const major = await h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'db1', EngineVersion: '16.4', AllowMajorVersionUpgrade: true, ApplyImmediately: true }));
    assert.equal(major.DBInstance?.PendingModifiedValues?.EngineVersion, '16.4');
    assert.equal((await describeOne('db1')).DBInstanceStatus, 'modifying');
  });

  it('StopDBInstance / StartDBInstance with state checks; a stopped instance starts itself after 7 days', async function () {
    await seedInstance('db1');
    await rejectsWith(h.rds.send(new StartDBInstanceCommand({ DBInstanceIdentifier: 'db1' })), 'InvalidDBInstanceStateFault');
    const stopping = await h.rds.send(new StopDBInstanceCommand({ DBInstanceIdentifier: 'db1' }));
    assert.equal(stopping.DBInstance?.DBInstanceStatus, 'stopping');
    const e = await rejectsWith(h.rds.send(new StopDBInstanceCommand({ DBInstanceIdentifier: 'db1' })), 'InvalidDBInstanceStateFault', 'stopping');
    assert.equal(e.$metadata?.httpStatusCode, 400);
    h.advance(20);
    const stopped = await describeOne('db1');
    assert.equal(stopped.DBInstanceStatus, 'stopped');
    assert.ok(stopped.AutomaticRestartTime instanceof Date);
    const started = await h.rds.send(new StartDBInstanceCommand({ DBInstanceIdentifier: 'db1' }));
    assert.equal(started.DBInstance?.DBInstanceStatus, 'starting');
    h.advance(30);
    assert.equal((await describeOne('db1')).DBInstanceStatus, 'available');

    await h.rds.send(new StopDBInstanceCommand({ DBInstanceIdentifier: 'db1' }));
    h.advance(20 + 7 * DAY - 1);
    assert.equal((await describeOne('db1')).DBInstanceStatus, 'stopped');
    h.advance(1);
    assert.equal((await describeOne('db1')).DBInstanceStatus, 'starting');
    h.advance(30);
    assert.equal((await describeOne('db1')).DBInstanceStatus, 'available');
  });

  it('RestoreDBInstanceToPointInTime: PubliclyAccessible as asked, not copied from the source (false when not given)', async function () {
    await h.admin.seed({ instances: [{ region: REGION, id: 'pub', engineVersion: '15.5', publiclyAccessible: true }] });
    assert.equal((await describeOne('pub')).PubliclyAccessible, true);
    await h.rds.send(new RestoreDBInstanceToPointInTimeCommand({ SourceDBInstanceIdentifier: 'pub', TargetDBInstanceIdentifier: 'copy-public', UseLatestRestorableTime: true, PubliclyAccessible: true }));
    await h.rds.send(new RestoreDBInstanceToPointInTimeCommand({ SourceDBInstanceIdentifier: 'pub', TargetDBInstanceIdentifier: 'copy-default', UseLatestRestorableTime: true }));
    assert.deepEqual([(await describeOne('copy-public')).PubliclyAccessible, (await describeOne('copy-default')).PubliclyAccessible], [true, false]);
  });

  it('RestoreDBInstanceToPointInTime: bounds [max(create, now-31d), now-5min], settings, version at that time', async function () {
    const now = Date.UTC(2025, 0, 6, 12, 0, 0);
    await h.admin.seed({
      securityGroups: [
        { region: REGION, id: 'sg-0000000000000051c', name: 'src' },
        { region: REGION, id: 'sg-00000000000000ba5', name: 'bastion' },
      ],
      dbSubnetGroups: [{ region: REGION, name: 'private' }],
      instances: [
        { region: REGION, id: 'src', engineVersion: '15.5', createdAt: now - 100 * DAY * 1000, vpcSecurityGroupIds: ['sg-0000000000000051c'], parameterGroupName: 'pg-src' },
        { region: REGION, id: 'young', engineVersion: '15.5', createdAt: now - 2 * 3600 * 1000 },
      ],
    });
    const src = await describeOne('src');
    assert.equal(src.LatestRestorableTime?.toISOString(), new Date(now - 5 * 60_000).toISOString());

    await rejectsWith(
      h.rds.send(new RestoreDBInstanceToPointInTimeCommand({ SourceDBInstanceIdentifier: 'src', TargetDBInstanceIdentifier: 'r1', RestoreTime: new Date(now - 2 * 60_000) })),
      'InvalidRestoreFault',
      'outside the restorable window',
    );
    await rejectsWith(
      h.rds.send(new RestoreDBInstanceToPointInTimeCommand({ SourceDBInstanceIdentifier: 'src', TargetDBInstanceIdentifier: 'r1', RestoreTime: new Date(now - 32 * DAY * 1000) })),
      'InvalidRestoreFault',
    );
    await rejectsWith(
      h.rds.send(new RestoreDBInstanceToPointInTimeCommand({ SourceDBInstanceIdentifier: 'young', TargetDBInstanceIdentifier: 'r1', RestoreTime: new Date(now - 3 * 3600 * 1000) })),
      'InvalidRestoreFault',
    );
    await rejectsWith(
      h.rds.send(new RestoreDBInstanceToPointInTimeCommand({ SourceDBInstanceIdentifier: 'src', TargetDBInstanceIdentifier: 'r1' })),
      'InvalidParameterCombination',
    );
    await rejectsWith(
      h.rds.send(new RestoreDBInstanceToPointInTimeCommand({ SourceDBInstanceIdentifier: 'ghost', TargetDBInstanceIdentifier: 'r1', UseLatestRestorableTime: true })),
      'DBInstanceNotFoundFault',
    );
    await rejectsWith(
      h.rds.send(new RestoreDBInstanceToPointInTimeCommand({ SourceDBInstanceIdentifier: 'src', TargetDBInstanceIdentifier: 'young', UseLatestRestorableTime: true })),
      'DBInstanceAlreadyExistsFault',
    );
    await rejectsWith(
      h.rds.send(new RestoreDBInstanceToPointInTimeCommand({ SourceDBInstanceIdentifier: 'src', TargetDBInstanceIdentifier: 'r1', UseLatestRestorableTime: true, StorageType: 'gp3', Iops: 3000 })),
      'InvalidParameterCombination',
      'storage size less than 400',
    );

    // Upgrade the source, then restore to a time before the upgrade: the copy has the old version.
    const beforeUpgrade = new Date(now - 10 * 60_000);
    await h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'src', EngineVersion: '15.8', ApplyImmediately: true }));
    h.advance(35);
    assert.equal((await describeOne('src')).EngineVersion, '15.8');
    const restored = await h.rds.send(
      new RestoreDBInstanceToPointInTimeCommand({
        SourceDBInstanceIdentifier: 'src',
        TargetDBInstanceIdentifier: 'src-restore',
        RestoreTime: beforeUpgrade,
        DBInstanceClass: 'db.r6g.large',
        DBSubnetGroupName: 'private',
        DBParameterGroupName: 'pg-src',
        VpcSecurityGroupIds: ['sg-0000000000000051c', 'sg-00000000000000ba5'],
        MultiAZ: true,
        StorageType: 'gp3',
        DeletionProtection: true,
        Tags: [{ Key: 'restored-by', Value: 'campaign-1' }],
      }),
    );
    const r = restored.DBInstance;
    assert.equal(r?.DBInstanceStatus, 'creating');
    assert.equal(r?.EngineVersion, '15.5');
    assert.equal(r?.DBInstanceClass, 'db.r6g.large');
    assert.equal(r?.DBSubnetGroup?.DBSubnetGroupName, 'private');
    assert.equal(r?.DBParameterGroups?.[0]?.DBParameterGroupName, 'pg-src');
    assert.deepEqual(r?.VpcSecurityGroups?.map((g) => g.VpcSecurityGroupId), ['sg-0000000000000051c', 'sg-00000000000000ba5']);
    assert.equal(r?.MultiAZ, true);
    assert.equal(r?.StorageType, 'gp3');
    assert.equal(r?.DeletionProtection, true);
    assert.deepEqual(r?.TagList, [{ Key: 'restored-by', Value: 'campaign-1' }]);
    h.advance(80);
    assert.equal((await describeOne('src-restore')).DBInstanceStatus, 'available');

    const latest = await h.rds.send(new RestoreDBInstanceToPointInTimeCommand({ SourceDBInstanceIdentifier: 'src', TargetDBInstanceIdentifier: 'latest', UseLatestRestorableTime: true }));
    assert.equal(latest.DBInstance?.DBParameterGroups?.[0]?.DBParameterGroupName, 'default.postgres15', 'not copied from the source unless given');
  });

  it('a stopped instance stops advancing LatestRestorableTime', async function () {
    await seedInstance('db1');
    await h.rds.send(new StopDBInstanceCommand({ DBInstanceIdentifier: 'db1' }));
    h.advance(20);
    const at = (await describeOne('db1')).LatestRestorableTime?.getTime();
    h.advance(DAY);
    assert.equal((await describeOne('db1')).LatestRestorableTime?.getTime(), at);
  });

  it('tags: ListTagsForResource / AddTagsToResource by ARN', async function () {
    await h.admin.seed({ instances: [{ region: REGION, id: 'db1', engineVersion: '15.5', tags: { env: 'staging' } }] });
    const arn = `arn:aws:rds:${REGION}:${ACCOUNT}:db:db1`;
    await h.rds.send(new AddTagsToResourceCommand({ ResourceName: arn, Tags: [{ Key: 'owner', Value: 'me' }, { Key: 'env', Value: 'prod' }] }));
    const tags = await h.rds.send(new ListTagsForResourceCommand({ ResourceName: arn }));
    assert.deepEqual(tags.TagList, [
      { Key: 'env', Value: 'prod' },
      { Key: 'owner', Value: 'me' },
    ]);
    await rejectsWith(h.rds.send(new ListTagsForResourceCommand({ ResourceName: `arn:aws:rds:${REGION}:${ACCOUNT}:db:nope` })), 'DBInstanceNotFoundFault');
  });

  it('never deletes: DeleteDBInstance is refused and the instance stays', async function () {
    await seedInstance('db1');
    const e = await rejectsWith(h.rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: 'db1', SkipFinalSnapshot: true })), 'AccessDenied', 'never deletes');
    assert.equal(e.$metadata?.httpStatusCode, 403);
    assert.equal((await describeOne('db1')).DBInstanceStatus, 'available');
  });

  it('app status endpoint: 200 only while available (measures real simulated downtime)', async function () {
    await seedInstance('db1');
    assert.equal((await fetch(h.admin.appStatusUrl(REGION, 'db1'))).status, 200);
    await h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'db1', EngineVersion: '15.8', ApplyImmediately: true }));
    const during = await h.admin.appStatus(REGION, 'db1');
    assert.equal(during.healthy, false);
    assert.equal((await fetch(h.admin.appStatusUrl(REGION, 'db1'))).status, 503);
    h.advance(35);
    assert.equal((await fetch(h.admin.appStatusUrl(REGION, 'db1'))).status, 200);
    assert.equal((await fetch(h.admin.appStatusUrl(REGION, 'ghost'))).status, 404);
  });
});
