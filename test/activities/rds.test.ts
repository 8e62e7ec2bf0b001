import assert from 'node:assert/strict';
import {
  ApplyPendingMaintenanceActionCommand,
  DBInstanceNotFoundFault,
  DescribeDBEngineVersionsCommand,
  DescribeDBInstanceAutomatedBackupsCommand,
  DescribeDBInstancesCommand,
  DescribePendingMaintenanceActionsCommand,
  ModifyDBInstanceCommand,
  RDSClient,
  RestoreDBInstanceToPointInTimeCommand,
  StartDBInstanceCommand,
  StopDBInstanceCommand,
  type DBInstance,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { createRdsActivities } from '../../src/activities/rds';
import { FailureTypes, type RestoreRequest } from '../../src/api';
import { awsError, expectFailure } from './helpers';

const REGION = 'eu-west-2';
const ID = 'orders-db';
const ARN = `arn:aws:rds:${REGION}:123456789012:db:${ID}`;
const NOW = new Date('2024-06-10T12:00:00Z');

function dbInstance(overrides: Partial<DBInstance> = {}): DBInstance {
  return {
    DBInstanceIdentifier: ID,
    DBInstanceArn: ARN,
    Engine: 'postgres',
    EngineVersion: '15.5',
    DBInstanceStatus: 'available',
    AutoMinorVersionUpgrade: false,
    PreferredMaintenanceWindow: 'sun:03:00-sun:03:30',
    Endpoint: { Address: 'orders-db.abc.eu-west-2.rds.amazonaws.com', Port: 5432, HostedZoneId: 'Z1TTGA775OQIYO' },
    DBInstanceClass: 'db.r6g.large',
    MultiAZ: true,
    StorageType: 'gp3',
    AllocatedStorage: 100,
    Iops: 3000,
    KmsKeyId: 'arn:aws:kms:eu-west-2:123456789012:key/abc',
    DBSubnetGroup: { DBSubnetGroupName: 'private-db' },
    DBParameterGroups: [{ DBParameterGroupName: 'pg15-orders', ParameterApplyStatus: 'in-sync' }],
    VpcSecurityGroups: [
      { VpcSecurityGroupId: 'sg-111', Status: 'active' },
      { VpcSecurityGroupId: 'sg-222', Status: 'active' },
    ],
    DeletionProtection: true,
    PendingModifiedValues: {},
    InstanceCreateTime: new Date('2023-01-01T00:00:00Z'),
    BackupRetentionPeriod: 7,
    LatestRestorableTime: new Date('2024-06-10T11:55:00Z'),
    TagList: [
      { Key: 'team', Value: 'orders' },
      { Key: 'env', Value: 'prod' },
    ],
    ...overrides,
  };
}

function notFound(id: string) {
  return new DBInstanceNotFoundFault({ message: `DBInstance ${id} not found.`, $metadata: { httpStatusCode: 404 } });
}

describe('rds activities', () => {
  const client = new RDSClient({ region: REGION });
  const rdsMock = mockClient(client);
  const regionsAsked: string[] = [];
  const acts = createRdsActivities({
    rdsClientFor: (where) => {
      regionsAsked.push(typeof where === 'string' ? where : where.region);
      return client;
    },
    now: () => NOW,
  });

  beforeEach(() => {
    rdsMock.reset();
    regionsAsked.length = 0;
  });

  const mutations = () =>
    rdsMock.commandCalls(ModifyDBInstanceCommand).length +
    rdsMock.commandCalls(ApplyPendingMaintenanceActionCommand).length +
    rdsMock.commandCalls(RestoreDBInstanceToPointInTimeCommand).length +
    rdsMock.commandCalls(StopDBInstanceCommand).length +
    rdsMock.commandCalls(StartDBInstanceCommand).length;

  describe('describeInstance', () => {
    it('maps every field, tags and the restorable window', async () => {
      rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: ID }).resolves({
        DBInstances: [
          dbInstance({ PendingModifiedValues: { EngineVersion: '15.7' }, PreferredBackupWindow: '01:00-01:30', DbiResourceId: 'db-ORDERS', PerformanceInsightsEnabled: true, MonitoringInterval: 60 }),
        ],
      });
      const info = await acts.describeInstance({ where: REGION, instanceId: ID });
      assert.deepEqual(regionsAsked, [REGION]);
      assert.deepEqual(info, {
        region: REGION,
        instanceId: ID,
        arn: ARN,
        engine: 'postgres',
        engineVersion: '15.5',
        status: 'available',
        autoMinorVersionUpgrade: false,
        preferredMaintenanceWindow: 'sun:03:00-sun:03:30',
        endpoint: { address: 'orders-db.abc.eu-west-2.rds.amazonaws.com', port: 5432, hostedZoneId: 'Z1TTGA775OQIYO' },
        instanceClass: 'db.r6g.large',
        multiAZ: true,
        storageType: 'gp3',
        allocatedStorage: 100,
        iops: 3000,
        kmsKeyId: 'arn:aws:kms:eu-west-2:123456789012:key/abc',
        dbSubnetGroupName: 'private-db',
        parameterGroupName: 'pg15-orders',
        vpcSecurityGroupIds: ['sg-111', 'sg-222'],
        deletionProtection: true,
        pendingEngineVersion: '15.7',
        latestRestorableTime: '2024-06-10T11:55:00.000Z',
        // now - 7 days, later than InstanceCreateTime
        earliestRestorableTime: '2024-06-03T12:00:00.000Z',
        backupRetentionPeriodDays: 7,
        preferredBackupWindow: '01:00-01:30',
        resourceId: 'db-ORDERS',
        performanceInsights: true,
        monitoringIntervalSeconds: 60,
        tags: { team: 'orders', env: 'prod' },
      });
    });

    it('uses InstanceCreateTime as the earliest restorable time for a young instance', async () => {
      rdsMock.on(DescribeDBInstancesCommand).resolves({
        DBInstances: [dbInstance({ InstanceCreateTime: new Date('2024-06-09T08:00:00Z') })],
      });
      const info = await acts.describeInstance({ where: REGION, instanceId: ID });
      assert.equal(info.earliestRestorableTime, '2024-06-09T08:00:00.000Z');
    });

    describe('the restorable window AWS publishes (DescribeDBInstanceAutomatedBackups), when asked', () => {
      const RESOURCE = 'db-ORDERSRESOURCE0000000000';
      const backup = (DbiResourceId: string, earliest: string, Status = 'active') => ({ DbiResourceId, DBInstanceIdentifier: ID, Status, RestoreWindow: { EarliestTime: new Date(earliest), LatestTime: new Date('2024-06-10T11:55:00Z') } });

      it("takes the instance's own RestoreWindow, not the retention estimate nor a deleted namesake's retained backups", async () => {
        rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [dbInstance({ DbiResourceId: RESOURCE })] });
        // Backups turned off and on again on 2024-06-08: nothing before is restorable, though the retention is 7 days.
        rdsMock.on(DescribeDBInstanceAutomatedBackupsCommand, { DBInstanceIdentifier: ID }).resolves({
          DBInstanceAutomatedBackups: [backup('db-DELETEDNAMESAKE0000000000', '2024-05-20T00:00:00Z', 'retained'), backup(RESOURCE, '2024-06-08T02:10:00Z')],
        });
        const info = await acts.describeInstance({ where: REGION, instanceId: ID, restoreWindow: true });
        assert.deepEqual([info.earliestRestorableTime, info.latestRestorableTime, info.restoreWindowEstimated], ['2024-06-08T02:10:00.000Z', '2024-06-10T11:55:00.000Z', undefined]);
        const plain = await acts.describeInstance({ where: REGION, instanceId: ID });
        assert.equal(plain.earliestRestorableTime, '2024-06-03T12:00:00.000Z', 'not asked: the estimate, and no second call');
        assert.equal(rdsMock.commandCalls(DescribeDBInstanceAutomatedBackupsCommand).length, 1);
      });

      it('keeps the estimate when AWS gives no window: no permission, no backups found, or no RestoreWindow in the answer', async () => {
        rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [dbInstance({ DbiResourceId: RESOURCE })] });
        const denied = Object.assign(new Error('not authorized to perform: rds:DescribeDBInstanceAutomatedBackups'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
        const missing = Object.assign(new Error('No automated backup found'), { name: 'DBInstanceAutomatedBackupNotFoundFault', $metadata: { httpStatusCode: 404 } });
        for (const [answer, why] of [
          [denied, /grant rds:DescribeDBInstanceAutomatedBackups/],
          [missing, /lists no automated backup/],
          [{ DBInstanceAutomatedBackups: [{ DbiResourceId: RESOURCE, Status: 'creating' }] }, /creating without a RestoreWindow/],
        ] as const) {
          rdsMock.on(DescribeDBInstanceAutomatedBackupsCommand).callsFake(() => (answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer)));
          const info = await acts.describeInstance({ where: REGION, instanceId: ID, restoreWindow: true });
          assert.equal(info.earliestRestorableTime, '2024-06-03T12:00:00.000Z');
          assert.match(info.restoreWindowEstimated ?? '', why, 'says that the window is an estimate, and why');
        }
      });

      it('a restore refuses a time before the published window, which the estimate would have let through to RDS', async () => {
        rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'orders-db-restore' }).rejects(notFound('orders-db-restore'));
        rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: ID }).resolves({ DBInstances: [dbInstance({ DbiResourceId: RESOURCE })] });
        rdsMock.on(DescribeDBInstanceAutomatedBackupsCommand).resolves({ DBInstanceAutomatedBackups: [backup(RESOURCE, '2024-06-08T02:10:00Z')] });
        const req: RestoreRequest = { region: REGION, sourceInstanceId: ID, targetInstanceId: 'orders-db-restore', restoreTime: '2024-06-05T00:00:00Z', copySourceSettings: true, ownerTag: { key: 'k', value: 'v' } };
        await expectFailure(acts.restoreToPointInTime(req), { type: FailureTypes.RestoreTimeOutOfRange, nonRetryable: true, message: [/2024-06-08T02:10:00\.000Z/] });
        assert.equal(mutations(), 0);
      });
    });

    it('throws non-retryable InstanceNotFound naming region and id', async () => {
      rdsMock.on(DescribeDBInstancesCommand).rejects(notFound(ID));
      await expectFailure(acts.describeInstance({ where: REGION, instanceId: ID }), {
        type: FailureTypes.InstanceNotFound,
        nonRetryable: true,
        message: [/'orders-db'/, /eu-west-2/],
      });
    });

    it('turns throttling and 5xx into retryable AwsCallFailed naming the call, with the problem as details', async () => {
      const throttled = awsError('Throttling', 'Rate exceeded');
      rdsMock.on(DescribeDBInstancesCommand).rejects(throttled);
      const f = await expectFailure(acts.describeInstance({ where: REGION, instanceId: ID }), {
        type: FailureTypes.AwsCallFailed,
        nonRetryable: false,
        message: [new RegExp(`DescribeDBInstances ${ID} \\(${REGION}\\) failed: AWS answered Throttling \\(HTTP 400\\): Rate exceeded`)],
      });
      assert.deepEqual(f.details?.[0], { operation: `DescribeDBInstances ${ID}`, region: REGION, kind: 'aws', httpStatus: 400, error: 'AWS answered Throttling (HTTP 400): Rate exceeded', endpoint: undefined });
      const internal = awsError('InternalFailure', 'boom', 500);
      rdsMock.on(DescribeDBInstancesCommand).rejects(internal);
      await expectFailure(acts.describeInstance({ where: REGION, instanceId: ID }), { type: FailureTypes.AwsCallFailed, nonRetryable: false, message: [/InternalFailure \(HTTP 500\)/] });
    });
  });

  describe('findInstance', () => {
    it('returns undefined for a missing instance and the info otherwise', async () => {
      rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'free-name' }).rejects(notFound('free-name'));
      rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: ID }).resolves({ DBInstances: [dbInstance()] });
      assert.equal(await acts.findInstance({ where: REGION, instanceId: 'free-name' }), undefined);
      assert.equal((await acts.findInstance({ where: REGION, instanceId: ID }))?.instanceId, ID);
    });
  });

  describe('listUpgradeTargets', () => {
    it('sends Engine, EngineVersion and IncludeAll (a deprecated version is listed only with it) and maps ValidUpgradeTarget', async () => {
      rdsMock.on(DescribeDBEngineVersionsCommand).resolves({
        DBEngineVersions: [
          {
            Engine: 'postgres',
            EngineVersion: '15.5',
            ValidUpgradeTarget: [
              { Engine: 'postgres', EngineVersion: '15.6', IsMajorVersionUpgrade: false, AutoUpgrade: false },
              { Engine: 'postgres', EngineVersion: '15.7', IsMajorVersionUpgrade: false, AutoUpgrade: true },
              { Engine: 'postgres', EngineVersion: '16.3', IsMajorVersionUpgrade: true },
            ],
          },
        ],
      });
      const targets = await acts.listUpgradeTargets({ where: REGION, engine: 'postgres', engineVersion: '15.5' });
      assert.deepEqual(rdsMock.commandCalls(DescribeDBEngineVersionsCommand)[0].args[0].input, { Engine: 'postgres', EngineVersion: '15.5', IncludeAll: true });
      assert.deepEqual(targets, [
        { engineVersion: '15.6', isMajorVersionUpgrade: false, autoUpgrade: false },
        { engineVersion: '15.7', isMajorVersionUpgrade: false, autoUpgrade: true },
        { engineVersion: '16.3', isMajorVersionUpgrade: true, autoUpgrade: false },
      ]);
    });

    it('identical requests in flight share one (a fleet at its window); one asked after the answer is sent again', async () => {
      const versions = (v: string) => ({ DBEngineVersions: [{ Engine: 'postgres', EngineVersion: v, ValidUpgradeTarget: [{ Engine: 'postgres', EngineVersion: '15.8', IsMajorVersionUpgrade: false, AutoUpgrade: true }] }] });
      const answers: (() => void)[] = [];
      rdsMock.on(DescribeDBEngineVersionsCommand).callsFake((input: { EngineVersion: string }) => new Promise((resolve) => answers.push(() => resolve(versions(input.EngineVersion)))));
      const ask = (v: string) => acts.listUpgradeTargets({ where: REGION, engine: 'postgres', engineVersion: v });
      const together = [ask('15.5'), ask('15.5'), ask('15.5'), ask('15.6')];
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(rdsMock.commandCalls(DescribeDBEngineVersionsCommand).map((c) => c.args[0].input.EngineVersion), ['15.5', '15.6'], 'one request per version in flight');
      for (const answer of answers) answer();
      const targets = await Promise.all(together);
      assert.ok(targets.every((t) => t.length === 1 && t[0].engineVersion === '15.8'));
      const later = ask('15.5');
      await new Promise((r) => setImmediate(r));
      assert.equal(rdsMock.commandCalls(DescribeDBEngineVersionsCommand).length, 3, 'asked again once the answer came: nothing is kept');
      answers[2]();
      assert.equal((await later)[0].engineVersion, '15.8');
    });

    it('a shared request that fails fails each who asked, and the next ask is sent again', async () => {
      rdsMock.on(DescribeDBEngineVersionsCommand).rejectsOnce(awsError('Throttling', 'Rate exceeded')).resolves({
        DBEngineVersions: [{ Engine: 'postgres', EngineVersion: '15.5', ValidUpgradeTarget: [] }],
      });
      const ask = () => acts.listUpgradeTargets({ where: REGION, engine: 'postgres', engineVersion: '15.5' });
      const both = await Promise.allSettled([ask(), ask()]);
      assert.deepEqual(both.map((r) => r.status), ['rejected', 'rejected']);
      assert.equal(rdsMock.commandCalls(DescribeDBEngineVersionsCommand).length, 1);
      assert.deepEqual(await ask(), []);
      assert.equal(rdsMock.commandCalls(DescribeDBEngineVersionsCommand).length, 2);
    });

    it('rejects an unknown engine version as non-retryable InvalidInput', async () => {
      rdsMock.on(DescribeDBEngineVersionsCommand).resolves({ DBEngineVersions: [] });
      await expectFailure(acts.listUpgradeTargets({ where: REGION, engine: 'postgres', engineVersion: '15.99' }), {
        type: FailureTypes.InvalidInput,
        nonRetryable: true,
        message: [/15\.99/, /describe-db-engine-versions/],
      });
    });

    it('maps InvalidParameterValue to non-retryable InvalidInput carrying the AWS message', async () => {
      rdsMock.on(DescribeDBEngineVersionsCommand).rejects(awsError('InvalidParameterValue', 'Invalid engine: postgress'));
      await expectFailure(acts.listUpgradeTargets({ where: REGION, engine: 'postgress', engineVersion: '15.5' }), {
        type: FailureTypes.InvalidInput,
        nonRetryable: true,
        message: [/Invalid engine: postgress/],
      });
    });
  });

  describe('listPendingMaintenance', () => {
    it('filters by db-instance-id, keeps only this instance and maps dates', async () => {
      rdsMock.on(DescribePendingMaintenanceActionsCommand).resolves({
        PendingMaintenanceActions: [
          {
            ResourceIdentifier: ARN,
            PendingMaintenanceActionDetails: [
              {
                Action: 'db-upgrade',
                Description: 'Automatic minor version upgrade to postgres 15.7',
                AutoAppliedAfterDate: new Date('2024-06-15T00:00:00Z'),
                CurrentApplyDate: new Date('2024-06-16T03:00:00Z'),
                OptInStatus: 'pending',
              },
            ],
          },
          {
            ResourceIdentifier: `arn:aws:rds:${REGION}:123456789012:db:other-db`,
            PendingMaintenanceActionDetails: [{ Action: 'system-update' }],
          },
        ],
      });
      const actions = await acts.listPendingMaintenance({ where: REGION, instanceId: ID });
      assert.deepEqual(rdsMock.commandCalls(DescribePendingMaintenanceActionsCommand)[0].args[0].input, {
        Filters: [{ Name: 'db-instance-id', Values: [ID] }],
        Marker: undefined,
      });
      assert.deepEqual(actions, [
        {
          action: 'db-upgrade',
          description: 'Automatic minor version upgrade to postgres 15.7',
          autoAppliedAfterDate: '2024-06-15T00:00:00.000Z',
          currentApplyDate: '2024-06-16T03:00:00.000Z',
          optInStatus: 'pending',
        },
      ]);
      // With the instance's window, the action says when AWS applies it: the first window after 15 June (a Saturday).
      const dated = await acts.listPendingMaintenance({ where: REGION, instanceId: ID, preferredMaintenanceWindow: 'sun:03:00-sun:03:30' });
      assert.equal(dated[0].awsAppliesAt, '2024-06-16T03:00:00.000Z');
    });

    it('matches the ARN case-insensitively (RDS stores identifiers in lower case)', async () => {
      rdsMock.on(DescribePendingMaintenanceActionsCommand).resolves({
        PendingMaintenanceActions: [{ ResourceIdentifier: ARN, PendingMaintenanceActionDetails: [{ Action: 'db-upgrade' }] }],
      });
      assert.deepEqual((await acts.listPendingMaintenance({ where: REGION, instanceId: 'Orders-DB' })).map((a) => a.action), ['db-upgrade']);
    });

    it('follows Marker pagination', async () => {
      rdsMock
        .on(DescribePendingMaintenanceActionsCommand)
        .resolvesOnce({ PendingMaintenanceActions: [{ ResourceIdentifier: ARN, PendingMaintenanceActionDetails: [{ Action: 'system-update' }] }], Marker: 'm1' })
        .resolvesOnce({ PendingMaintenanceActions: [{ ResourceIdentifier: ARN, PendingMaintenanceActionDetails: [{ Action: 'db-upgrade' }] }] });
      const actions = await acts.listPendingMaintenance({ where: REGION, instanceId: ID });
      assert.deepEqual(actions.map((a) => a.action), ['system-update', 'db-upgrade']);
      assert.equal(rdsMock.commandCalls(DescribePendingMaintenanceActionsCommand)[1].args[0].input.Marker, 'm1');
    });
  });

  describe('setAutoMinorVersionUpgrade', () => {
    it('sends nothing when the setting already matches', async () => {
      rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [dbInstance({ AutoMinorVersionUpgrade: true })] });
      const r = await acts.setAutoMinorVersionUpgrade({ where: REGION, instanceId: ID, enabled: true });
      assert.equal(r.changed, false);
      assert.equal(mutations(), 0);
    });

    it('modifies the flag alone when it differs, without ApplyImmediately (which would apply what is queued for the window now)', async () => {
      rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [dbInstance({ AutoMinorVersionUpgrade: false })] });
      rdsMock.on(ModifyDBInstanceCommand).resolves({});
      const r = await acts.setAutoMinorVersionUpgrade({ where: REGION, instanceId: ID, enabled: true });
      assert.equal(r.changed, true);
      assert.deepEqual(rdsMock.commandCalls(ModifyDBInstanceCommand).map((c) => c.args[0].input), [{ DBInstanceIdentifier: ID, AutoMinorVersionUpgrade: true }]);
    });
  });

  describe('applyUpgradeNow', () => {
    it('is a no-op when the instance already runs the target', async () => {
      rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [dbInstance({ EngineVersion: '15.7' })] });
      const r = await acts.applyUpgradeNow({ where: REGION, instanceId: ID, targetVersion: '15.7' });
      assert.equal(r.changed, false);
      assert.equal(mutations(), 0);
    });

    for (const status of ['upgrading', 'modifying']) {
      it(`is a no-op while ${status} to the target`, async () => {
        rdsMock.on(DescribeDBInstancesCommand).resolves({
          DBInstances: [dbInstance({ DBInstanceStatus: status, PendingModifiedValues: { EngineVersion: '15.7' } })],
        });
        rdsMock.on(DescribePendingMaintenanceActionsCommand).resolves({ PendingMaintenanceActions: [] });
        const r = await acts.applyUpgradeNow({ where: REGION, instanceId: ID, targetVersion: '15.7' });
        assert.equal(r.changed, false);
        assert.match(r.detail, new RegExp(status));
        assert.equal(mutations(), 0);
      });
    }

    it('applies a pending db-upgrade action immediately, by ARN', async () => {
      rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [dbInstance()] });
      rdsMock.on(DescribePendingMaintenanceActionsCommand).resolves({
        PendingMaintenanceActions: [
          {
            ResourceIdentifier: ARN,
            PendingMaintenanceActionDetails: [
              { Action: 'system-update', Description: 'OS patch' },
              { Action: 'db-upgrade', Description: 'Automatic minor version upgrade to postgres 15.7' },
            ],
          },
        ],
      });
      rdsMock.on(ApplyPendingMaintenanceActionCommand).resolves({});
      const r = await acts.applyUpgradeNow({ where: REGION, instanceId: ID, targetVersion: '15.7' });
      assert.equal(r.changed, true);
      assert.deepEqual(rdsMock.commandCalls(ApplyPendingMaintenanceActionCommand).map((c) => c.args[0].input), [
        { ResourceIdentifier: ARN, ApplyAction: 'db-upgrade', OptInType: 'immediate' },
      ]);
      assert.equal(rdsMock.commandCalls(ModifyDBInstanceCommand).length, 0);
    });

    it('modifies EngineVersion with ApplyImmediately when no db-upgrade action is listed', async () => {
      rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [dbInstance()] });
      rdsMock.on(DescribePendingMaintenanceActionsCommand).resolves({ PendingMaintenanceActions: [] });
      rdsMock.on(ModifyDBInstanceCommand).resolves({});
      const r = await acts.applyUpgradeNow({ where: REGION, instanceId: ID, targetVersion: '15.7' });
      assert.equal(r.changed, true);
      assert.deepEqual(rdsMock.commandCalls(ModifyDBInstanceCommand).map((c) => c.args[0].input), [
        { DBInstanceIdentifier: ID, EngineVersion: '15.7', ApplyImmediately: true },
      ]);
      assert.equal(rdsMock.commandCalls(ApplyPendingMaintenanceActionCommand).length, 0);
    });

    it('does not apply a db-upgrade action that installs another version', async () => {
      rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [dbInstance()] });
      rdsMock.on(DescribePendingMaintenanceActionsCommand).resolves({
        PendingMaintenanceActions: [
          { ResourceIdentifier: ARN, PendingMaintenanceActionDetails: [{ Action: 'db-upgrade', Description: 'Upgrade to postgres 15.6' }] },
        ],
      });
      rdsMock.on(ModifyDBInstanceCommand).resolves({});
      await acts.applyUpgradeNow({ where: REGION, instanceId: ID, targetVersion: '15.7' });
      assert.equal(rdsMock.commandCalls(ApplyPendingMaintenanceActionCommand).length, 0);
      assert.equal(rdsMock.commandCalls(ModifyDBInstanceCommand)[0].args[0].input.EngineVersion, '15.7');
    });

    for (const [target, description, applies] of [
      ['15.1', 'Upgrade to postgres 15.12', false],
      ['15.7', 'Automatic minor version upgrade to 15.7.', true],
      // Names no version: it may install another one, so the exact target is set with ModifyDBInstance instead.
      ['15.7', 'Minor version upgrade', false],
    ] as const) {
      it(`${applies ? 'applies' : 'does not apply'} a db-upgrade described as "${description}" for target ${target}`, async () => {
        rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [dbInstance({ EngineVersion: '15.0' })] });
        rdsMock.on(DescribePendingMaintenanceActionsCommand).resolves({
          PendingMaintenanceActions: [{ ResourceIdentifier: ARN, PendingMaintenanceActionDetails: [{ Action: 'db-upgrade', Description: description }] }],
        });
        rdsMock.on(ApplyPendingMaintenanceActionCommand).resolves({});
        rdsMock.on(ModifyDBInstanceCommand).resolves({});
        await acts.applyUpgradeNow({ where: REGION, instanceId: ID, targetVersion: target });
        assert.equal(rdsMock.commandCalls(ApplyPendingMaintenanceActionCommand).length, applies ? 1 : 0);
        assert.equal(rdsMock.commandCalls(ModifyDBInstanceCommand).length, applies ? 0 : 1);
      });
    }

    describe('a db-upgrade action gone between the read and the apply ("There is no pending db-upgrade action")', () => {
      const listed = {
        PendingMaintenanceActions: [{ ResourceIdentifier: ARN, PendingMaintenanceActionDetails: [{ Action: 'db-upgrade', Description: 'Automatic minor version upgrade to postgres 15.7' }] }],
      };
      const gone = () => awsError('InvalidParameterCombination', `There is no pending db-upgrade action for ${ARN}`);

      it('RDS had started it: nothing more is sent, the upgrade under way is reported', async () => {
        rdsMock.on(DescribeDBInstancesCommand).resolvesOnce({ DBInstances: [dbInstance()] }).resolves({ DBInstances: [dbInstance({ DBInstanceStatus: 'upgrading' })] });
        rdsMock.on(DescribePendingMaintenanceActionsCommand).resolvesOnce(listed).resolves({ PendingMaintenanceActions: [] });
        rdsMock.on(ApplyPendingMaintenanceActionCommand).rejects(gone());
        const r = await acts.applyUpgradeNow({ where: REGION, instanceId: ID, targetVersion: '15.7' });
        assert.equal(r.changed, false);
        assert.match(r.detail, /already upgrading to 15\.7/);
        assert.equal(rdsMock.commandCalls(ModifyDBInstanceCommand).length, 0);
      });

      it('nothing runs: the version is set with ModifyDBInstance instead of failing the step as bad input', async () => {
        // `modifying` for someone's other change (no pending engine version) is not the upgrade.
        rdsMock.on(DescribeDBInstancesCommand).resolvesOnce({ DBInstances: [dbInstance()] }).resolves({ DBInstances: [dbInstance({ DBInstanceStatus: 'modifying', PendingModifiedValues: { DBInstanceClass: 'db.r6g.xlarge' } })] });
        rdsMock.on(DescribePendingMaintenanceActionsCommand).resolvesOnce(listed).resolves({ PendingMaintenanceActions: [] });
        rdsMock.on(ApplyPendingMaintenanceActionCommand).rejects(gone());
        rdsMock.on(ModifyDBInstanceCommand).resolves({});
        const r = await acts.applyUpgradeNow({ where: REGION, instanceId: ID, targetVersion: '15.7' });
        assert.equal(r.changed, true);
        assert.equal(r.action, 'rds:ModifyDBInstance');
        assert.deepEqual(rdsMock.commandCalls(ModifyDBInstanceCommand).map((c) => c.args[0].input), [{ DBInstanceIdentifier: ID, EngineVersion: '15.7', ApplyImmediately: true }]);
      });
    });

    it('maps InvalidParameterCombination to non-retryable InvalidInput', async () => {
      rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [dbInstance()] });
      rdsMock.on(DescribePendingMaintenanceActionsCommand).resolves({});
      rdsMock
        .on(ModifyDBInstanceCommand)
        .rejects(awsError('InvalidParameterCombination', 'Cannot upgrade postgres from 15.5 to 14.2'));
      await expectFailure(acts.applyUpgradeNow({ where: REGION, instanceId: ID, targetVersion: '14.2' }), {
        type: FailureTypes.InvalidInput,
        nonRetryable: true,
        message: [/Cannot upgrade postgres from 15\.5 to 14\.2/, /eu-west-2/],
      });
    });
  });

  describe('attachSecurityGroup', () => {
    it("adds the group to the ones it has or is getting, without ApplyImmediately (which would apply what is queued for the window now)", async () => {
      const groups = [
        { VpcSecurityGroupId: 'sg-111', Status: 'active' },
        { VpcSecurityGroupId: 'sg-222', Status: 'removing' },
        { VpcSecurityGroupId: 'sg-333', Status: 'adding' },
      ];
      rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [dbInstance({ VpcSecurityGroups: groups })] });
      rdsMock.on(ModifyDBInstanceCommand).resolves({});
      const r = await acts.attachSecurityGroup({ where: REGION, instanceId: ID, securityGroupId: 'sg-bastion' });
      assert.equal(r.changed, true);
      assert.deepEqual(rdsMock.commandCalls(ModifyDBInstanceCommand).map((c) => c.args[0].input), [{ DBInstanceIdentifier: ID, VpcSecurityGroupIds: ['sg-111', 'sg-333', 'sg-bastion'] }]);
    });
  });

  describe('read replicas first', () => {
    it('DBUpgradeDependencyFailure becomes a non-retryable UpgradeDependency naming the replicas to upgrade first', async () => {
      rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [dbInstance({ ReadReplicaDBInstanceIdentifiers: ['orders-db-ro', 'arn:aws:rds:eu-west-1:123456789012:db:orders-db-dr'] })] });
      rdsMock.on(DescribePendingMaintenanceActionsCommand).resolves({});
      rdsMock.on(ModifyDBInstanceCommand).rejects(awsError('DBUpgradeDependencyFailure', 'The DB instance orders-db has read replicas that must be upgraded first'));
      await expectFailure(acts.applyUpgradeNow({ where: REGION, instanceId: ID, targetVersion: '15.8' }), {
        type: FailureTypes.UpgradeDependency,
        nonRetryable: true,
        message: [/before its read replicas/, /Upgrade orders-db-ro, arn:aws:rds:eu-west-1:123456789012:db:orders-db-dr to 15\.8 first/],
      });
    });

    it('describeInstance reports the replicas RDS lists and the source of a replica', async () => {
      rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [dbInstance({ ReadReplicaDBInstanceIdentifiers: ['orders-db-ro'], ReadReplicaSourceDBInstanceIdentifier: 'orders-db-main' })] });
      const info = await acts.describeInstance({ where: REGION, instanceId: ID });
      assert.deepEqual(info.readReplicaIds, ['orders-db-ro']);
      assert.equal(info.replicaSourceId, 'orders-db-main');
    });
  });

  describe('watchMaintenanceWindow', () => {
    for (const [what, db, kind] of [
      ['available at the target', { EngineVersion: '15.8', AutoMinorVersionUpgrade: true }, 'upgraded'],
      ['past the target (upgraded outside the campaign)', { EngineVersion: '15.10', AutoMinorVersionUpgrade: true }, 'past-target'],
      ['its flag turned off while nothing runs', { EngineVersion: '15.5', AutoMinorVersionUpgrade: false }, 'flag-off'],
    ] as const) {
      it(`ends when the instance is ${what}`, async () => {
        rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [dbInstance({ ...db, DBInstanceStatus: 'available' })] });
        const outcome = await acts.watchMaintenanceWindow({ where: REGION, instanceId: ID, want: { engineVersion: '15.8', autoMinorVersionUpgrade: true } });
        assert.equal(outcome.kind, kind);
      });
    }

    it('ends at once, non-retryable, when the instance is in a status RDS does not leave by itself', async () => {
      rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [dbInstance({ EngineVersion: '15.5', AutoMinorVersionUpgrade: true, DBInstanceStatus: 'incompatible-parameters' })] });
      await expectFailure(acts.watchMaintenanceWindow({ where: REGION, instanceId: ID, want: { engineVersion: '15.8', autoMinorVersionUpgrade: true } }), {
        type: FailureTypes.InstanceStuck,
        nonRetryable: true,
        message: [/incompatible-parameters, which RDS does not leave by itself, so it will not become available at 15\.8/, /revert or fix the parameters, then reboot it/],
      });
    });

    it('keeps watching while the upgrade runs, flag or not (NotReady)', async () => {
      rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [dbInstance({ EngineVersion: '15.5', AutoMinorVersionUpgrade: false, DBInstanceStatus: 'upgrading' })] });
      await expectFailure(acts.watchMaintenanceWindow({ where: REGION, instanceId: ID, want: { engineVersion: '15.8', autoMinorVersionUpgrade: true } }), { type: FailureTypes.NotReady, nonRetryable: false, message: [/upgrading at 15\.5/] });
    });
  });

  describe('waitForInstance', () => {
    it('throws retryable NotReady until status and version match, with one describe per call', async () => {
      rdsMock
        .on(DescribeDBInstancesCommand)
        .resolvesOnce({ DBInstances: [dbInstance({ DBInstanceStatus: 'upgrading' })] })
        .resolvesOnce({ DBInstances: [dbInstance({ DBInstanceStatus: 'available', EngineVersion: '15.5' })] })
        .resolves({ DBInstances: [dbInstance({ DBInstanceStatus: 'available', EngineVersion: '15.7' })] });
      const want = { status: 'available', engineVersion: '15.7' };
      await expectFailure(acts.waitForInstance({ where: REGION, instanceId: ID, want }), {
        type: FailureTypes.NotReady,
        nonRetryable: false,
        message: [/upgrading/, /available at 15\.7/],
      });
      await expectFailure(acts.waitForInstance({ where: REGION, instanceId: ID, want }), { type: FailureTypes.NotReady, nonRetryable: false });
      const info = await acts.waitForInstance({ where: REGION, instanceId: ID, want });
      assert.equal(info.engineVersion, '15.7');
      assert.equal(rdsMock.commandCalls(DescribeDBInstancesCommand).length, 3);
    });

    it('a restore that RDS ended in restore-error fails the wait at once, non-retryable, saying what to do', async () => {
      rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [dbInstance({ DBInstanceStatus: 'restore-error' })] });
      await expectFailure(acts.waitForInstance({ where: REGION, instanceId: ID, want: { status: 'available' } }), {
        type: FailureTypes.InstanceStuck,
        nonRetryable: true,
        message: [new RegExp(`${ID} in ${REGION} is restore-error`), /will not become available/, /restore into another identifier \(this instance is kept\)/],
      });
      assert.equal(rdsMock.commandCalls(DescribeDBInstancesCommand).length, 1);
    });

    it('a full disk storage autoscaling may still raise (MaxAllocatedStorage above AllocatedStorage) is waited out', async () => {
      rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [dbInstance({ DBInstanceStatus: 'storage-full', AllocatedStorage: 100, MaxAllocatedStorage: 500 })] });
      await expectFailure(acts.waitForInstance({ where: REGION, instanceId: ID, want: { status: 'available' } }), { type: FailureTypes.NotReady, nonRetryable: false });
      rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [dbInstance({ DBInstanceStatus: 'storage-full', AllocatedStorage: 100 })] });
      await expectFailure(acts.waitForInstance({ where: REGION, instanceId: ID, want: { status: 'available' } }), { type: FailureTypes.InstanceStuck, nonRetryable: true, message: [/storage autoscaling cannot raise it/] });
    });

    it('a wait for the flag alone goes on whatever the status (a Terraform change can still come)', async () => {
      rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [dbInstance({ DBInstanceStatus: 'storage-full', AutoMinorVersionUpgrade: true })] });
      await expectFailure(acts.waitForInstance({ where: REGION, instanceId: ID, want: { autoMinorVersionUpgrade: false } }), { type: FailureTypes.NotReady, nonRetryable: false });
    });

    it('ignores the version when none is wanted', async () => {
      rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [dbInstance({ DBInstanceStatus: 'stopped' })] });
      assert.equal((await acts.waitForInstance({ where: REGION, instanceId: ID, want: { status: 'stopped' } })).status, 'stopped');
    });
  });

  describe('restoreToPointInTime', () => {
    const TARGET = 'orders-db-restore';
    const ownerTag = { key: 'rds-orchestrator/restore', value: 'wf-123' };
    const baseReq: RestoreRequest = {
      region: REGION,
      sourceInstanceId: ID,
      targetInstanceId: TARGET,
      restoreTime: '2024-06-10T09:30:00Z',
      copySourceSettings: true,
      ownerTag,
    };

    function sourceAndFreeTarget(source: DBInstance = dbInstance()) {
      rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: TARGET }).rejects(notFound(TARGET));
      rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: ID }).resolves({ DBInstances: [source] });
      // The window AWS publishes for the source, here the same as the retention estimate.
      rdsMock.on(DescribeDBInstanceAutomatedBackupsCommand, { DBInstanceIdentifier: ID }).resolves({
        DBInstanceAutomatedBackups: [{ DBInstanceIdentifier: ID, Status: 'active', RestoreWindow: { EarliestTime: new Date('2024-06-03T12:00:00Z'), LatestTime: new Date('2024-06-10T11:55:00Z') } }],
      });
      rdsMock.on(RestoreDBInstanceToPointInTimeCommand).resolves({});
    }

    it('copies the source settings, protects the restore and tags it as ours', async () => {
      sourceAndFreeTarget(dbInstance({ TagList: [{ Key: 'team', Value: 'orders' }, { Key: 'aws:cloudformation:stack-name', Value: 'x' }] }));
      const r = await acts.restoreToPointInTime(baseReq);
      assert.deepEqual(r, { changed: true, detail: r.detail, instanceId: TARGET, action: 'rds:RestoreDBInstanceToPointInTime', resource: TARGET, requestId: undefined });
      const calls = rdsMock.commandCalls(RestoreDBInstanceToPointInTimeCommand);
      assert.equal(calls.length, 1);
      assert.deepEqual(calls[0].args[0].input, {
        SourceDBInstanceIdentifier: ID,
        TargetDBInstanceIdentifier: TARGET,
        RestoreTime: new Date('2024-06-10T09:30:00Z'),
        DeletionProtection: true,
        PubliclyAccessible: false,
        Tags: [
          { Key: 'team', Value: 'orders' },
          { Key: 'rds-orchestrator/restore', Value: 'wf-123' },
        ],
        DBInstanceClass: 'db.r6g.large',
        DBSubnetGroupName: 'private-db',
        DBParameterGroupName: 'pg15-orders',
        VpcSecurityGroupIds: ['sg-111', 'sg-222'],
        MultiAZ: true,
        // gp3 below 400 GiB runs at its baseline: the 3000 IOPS DescribeDBInstances shows are not sent back (AWS refuses them).
        StorageType: 'gp3',
        AutoMinorVersionUpgrade: false,
      });
      assert.ok(!('AvailabilityZone' in calls[0].args[0].input), 'AvailabilityZone must be left to RDS (no preference)');
    });

    it('copies provisioned IOPS and throughput of a gp3 source of 400 GiB or more', async () => {
      sourceAndFreeTarget(dbInstance({ AllocatedStorage: 500, Iops: 12000, StorageThroughput: 500 }));
      await acts.restoreToPointInTime(baseReq);
      const input = rdsMock.commandCalls(RestoreDBInstanceToPointInTimeCommand)[0].args[0].input;
      assert.equal(input.StorageType, 'gp3');
      assert.equal(input.Iops, 12000);
      assert.equal(input.StorageThroughput, 500);
    });

    it('copies what the restore would leave at its defaults: the autoscaling ceiling, tags to snapshots, and the minor-upgrade flag', async () => {
      sourceAndFreeTarget(dbInstance({ MaxAllocatedStorage: 1000, CopyTagsToSnapshot: true, AutoMinorVersionUpgrade: false }));
      await acts.restoreToPointInTime(baseReq);
      const input = rdsMock.commandCalls(RestoreDBInstanceToPointInTimeCommand)[0].args[0].input;
      assert.deepEqual([input.MaxAllocatedStorage, input.CopyTagsToSnapshot, input.AutoMinorVersionUpgrade, input.StorageThroughput], [1000, true, false, undefined]);
      rdsMock.resetHistory();
      sourceAndFreeTarget(dbInstance({ AutoMinorVersionUpgrade: true }));
      await acts.restoreToPointInTime({ ...baseReq, copySourceSettings: false });
      const plain = rdsMock.commandCalls(RestoreDBInstanceToPointInTimeCommand)[0].args[0].input;
      assert.deepEqual([plain.MaxAllocatedStorage, plain.CopyTagsToSnapshot, plain.AutoMinorVersionUpgrade], [undefined, undefined, undefined], 'not without copySourceSettings');
    });

    it('keeps an option group of its own, the CA, log exports, network type, Extended Support choice and dedicated log volume', async () => {
      const source = dbInstance({
        OptionGroupMemberships: [{ OptionGroupName: 'pg15-orders-options', Status: 'in-sync' }],
        CACertificateIdentifier: 'rds-ca-ecc384-g1',
        EnabledCloudwatchLogsExports: ['postgresql', 'upgrade'],
        NetworkType: 'DUAL',
        EngineLifecycleSupport: 'open-source-rds-extended-support-disabled',
        DedicatedLogVolume: true,
      });
      sourceAndFreeTarget(source);
      await acts.restoreToPointInTime(baseReq);
      const input = rdsMock.commandCalls(RestoreDBInstanceToPointInTimeCommand)[0].args[0].input;
      assert.deepEqual(
        [input.OptionGroupName, input.CACertificateIdentifier, input.EnableCloudwatchLogsExports, input.NetworkType, input.EngineLifecycleSupport, input.DedicatedLogVolume],
        ['pg15-orders-options', 'rds-ca-ecc384-g1', ['postgresql', 'upgrade'], 'DUAL', 'open-source-rds-extended-support-disabled', true],
      );
      // The engine's default option group is what the copy gets anyway, for the version it is restored at.
      rdsMock.resetHistory();
      sourceAndFreeTarget(dbInstance({ OptionGroupMemberships: [{ OptionGroupName: 'default:postgres-15', Status: 'in-sync' }] }));
      await acts.restoreToPointInTime(baseReq);
      assert.ok(!('OptionGroupName' in rdsMock.commandCalls(RestoreDBInstanceToPointInTimeCommand)[0].args[0].input));
      rdsMock.resetHistory();
      sourceAndFreeTarget(source);
      await acts.restoreToPointInTime({ ...baseReq, copySourceSettings: false });
      const plain = rdsMock.commandCalls(RestoreDBInstanceToPointInTimeCommand)[0].args[0].input;
      assert.deepEqual([plain.OptionGroupName, plain.CACertificateIdentifier, plain.EngineLifecycleSupport], [undefined, undefined, undefined], 'not without copySourceSettings');
    });

    it("keeps the source's IAM database authentication on the restored instance (a restore does not enable it by default)", async () => {
      sourceAndFreeTarget(dbInstance({ IAMDatabaseAuthenticationEnabled: true }));
      await acts.restoreToPointInTime(baseReq);
      assert.equal(rdsMock.commandCalls(RestoreDBInstanceToPointInTimeCommand)[0].args[0].input.EnableIAMDatabaseAuthentication, true);
      rdsMock.resetHistory();
      sourceAndFreeTarget(dbInstance({ IAMDatabaseAuthenticationEnabled: false }));
      await acts.restoreToPointInTime(baseReq);
      assert.equal(rdsMock.commandCalls(RestoreDBInstanceToPointInTimeCommand)[0].args[0].input.EnableIAMDatabaseAuthentication, undefined, 'not sent when the source has it off');
    });

    it('uses the latest restorable time and no copied settings when asked', async () => {
      sourceAndFreeTarget();
      await acts.restoreToPointInTime({ ...baseReq, restoreTime: undefined, copySourceSettings: false });
      assert.deepEqual(rdsMock.commandCalls(RestoreDBInstanceToPointInTimeCommand)[0].args[0].input, {
        SourceDBInstanceIdentifier: ID,
        TargetDBInstanceIdentifier: TARGET,
        UseLatestRestorableTime: true,
        DeletionProtection: true,
        PubliclyAccessible: false,
        Tags: [{ Key: 'rds-orchestrator/restore', Value: 'wf-123' }],
      });
    });

    it('says PubliclyAccessible always, as the source has it: left out, RDS makes the copy public in a VPC with an internet gateway', async () => {
      for (const [source, sent] of [[true, true], [false, false], [undefined, false]] as const) {
        rdsMock.resetHistory();
        sourceAndFreeTarget(dbInstance({ PubliclyAccessible: source }));
        for (const copySourceSettings of [true, false]) {
          await acts.restoreToPointInTime({ ...baseReq, copySourceSettings });
          assert.equal(rdsMock.commandCalls(RestoreDBInstanceToPointInTimeCommand).at(-1)!.args[0].input.PubliclyAccessible, sent);
        }
      }
    });

    it('is a no-op when our restore already exists (retry after a crash)', async () => {
      rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: TARGET }).resolves({
        DBInstances: [dbInstance({ DBInstanceIdentifier: TARGET, DBInstanceStatus: 'creating', TagList: [{ Key: ownerTag.key, Value: ownerTag.value }] })],
      });
      const r = await acts.restoreToPointInTime(baseReq);
      assert.equal(r.changed, false);
      assert.equal(r.instanceId, TARGET);
      assert.equal(mutations(), 0);
    });

    it('refuses a target identifier taken by someone else', async () => {
      rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: TARGET }).resolves({
        DBInstances: [dbInstance({ DBInstanceIdentifier: TARGET, TagList: [{ Key: ownerTag.key, Value: 'another-workflow' }] })],
      });
      await expectFailure(acts.restoreToPointInTime(baseReq), {
        type: FailureTypes.IdentifierTaken,
        nonRetryable: true,
        message: [/orders-db-restore/, /Choose another target instance identifier/],
      });
      assert.equal(mutations(), 0);
    });

    for (const [label, restoreTime] of [
      ['before the window', '2024-06-01T00:00:00Z'],
      ['after the latest restorable time', '2024-06-10T11:59:00Z'],
    ] as const) {
      it(`refuses a restore time ${label}, naming the window`, async () => {
        sourceAndFreeTarget();
        await expectFailure(acts.restoreToPointInTime({ ...baseReq, restoreTime }), {
          type: FailureTypes.RestoreTimeOutOfRange,
          nonRetryable: true,
          message: [/2024-06-03T12:00:00\.000Z/, /2024-06-10T11:55:00\.000Z/],
        });
        assert.equal(mutations(), 0);
      });
    }

    it('refuses a restore time that is not an instant', async () => {
      sourceAndFreeTarget();
      await expectFailure(acts.restoreToPointInTime({ ...baseReq, restoreTime: 'yesterday' }), {
        type: FailureTypes.InvalidInput,
        nonRetryable: true,
        message: [/yesterday/],
      });
    });

    it('reports a missing source as InstanceNotFound', async () => {
      rdsMock.on(DescribeDBInstancesCommand).rejects(notFound('x'));
      await expectFailure(acts.restoreToPointInTime(baseReq), {
        type: FailureTypes.InstanceNotFound,
        nonRetryable: true,
        message: [/'orders-db'/, /eu-west-2/],
      });
    });
  });

  describe('stopInstance / startInstance', () => {
    for (const status of ['stopped', 'stopping']) {
      it(`stop is a no-op when ${status}`, async () => {
        rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [dbInstance({ DBInstanceStatus: status })] });
        assert.equal((await acts.stopInstance({ where: REGION, instanceId: ID })).changed, false);
        assert.equal(mutations(), 0);
      });
    }

    it('stops an available instance', async () => {
      rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [dbInstance()] });
      rdsMock.on(StopDBInstanceCommand).resolves({});
      assert.equal((await acts.stopInstance({ where: REGION, instanceId: ID })).changed, true);
      assert.deepEqual(rdsMock.commandCalls(StopDBInstanceCommand)[0].args[0].input, { DBInstanceIdentifier: ID });
    });

    it('asks for a retry while the instance is busy', async () => {
      rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [dbInstance({ DBInstanceStatus: 'backing-up' })] });
      await expectFailure(acts.stopInstance({ where: REGION, instanceId: ID }), { type: FailureTypes.InvalidState, nonRetryable: false, message: [/backing-up/] });
      assert.equal(mutations(), 0);
    });

    it('an instance that has a read replica, or is one, is never sent StopDBInstance: RDS refuses both (non-retryable, naming them)', async () => {
      rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [dbInstance({ ReadReplicaDBInstanceIdentifiers: ['orders-ro', 'arn:aws:rds:us-east-1:123456789012:db:orders-dr'] })] });
      await expectFailure(acts.stopInstance({ where: REGION, instanceId: ID }), { type: FailureTypes.InvalidState, nonRetryable: true, message: [/cannot be stopped: it has read replicas \(orders-ro, arn:aws:rds:us-east-1:123456789012:db:orders-dr\)/] });
      rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [dbInstance({ ReadReplicaSourceDBInstanceIdentifier: 'orders-main' })] });
      await expectFailure(acts.stopInstance({ where: REGION, instanceId: ID }), { type: FailureTypes.InvalidState, nonRetryable: true, message: [/cannot be stopped: it is a read replica of orders-main/] });
      assert.equal(mutations(), 0);
    });

    it('a stop or a start of an instance in a status RDS does not leave by itself says what to do, sending nothing', async () => {
      rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [dbInstance({ DBInstanceStatus: 'incompatible-parameters' })] });
      await expectFailure(acts.stopInstance({ where: REGION, instanceId: ID }), { type: FailureTypes.InstanceStuck, nonRetryable: true, message: [/is incompatible-parameters, which RDS does not leave by itself, so it will not become stopped: .*revert or fix the parameters/] });
      await expectFailure(acts.startInstance({ where: REGION, instanceId: ID }), { type: FailureTypes.InstanceStuck, nonRetryable: true, message: [/will not become available/] });
      assert.equal(mutations(), 0);
    });

    for (const status of ['available', 'starting']) {
      it(`start is a no-op when ${status}`, async () => {
        rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [dbInstance({ DBInstanceStatus: status })] });
        assert.equal((await acts.startInstance({ where: REGION, instanceId: ID })).changed, false);
        assert.equal(mutations(), 0);
      });
    }

    it('starts a stopped instance', async () => {
      rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [dbInstance({ DBInstanceStatus: 'stopped' })] });
      rdsMock.on(StartDBInstanceCommand).resolves({});
      assert.equal((await acts.startInstance({ where: REGION, instanceId: ID })).changed, true);
      assert.deepEqual(rdsMock.commandCalls(StartDBInstanceCommand)[0].args[0].input, { DBInstanceIdentifier: ID });
    });
  });
});
