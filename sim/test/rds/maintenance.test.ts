// RDS maintenance through the SDK: engine versions, pending actions, maintenance windows, seeded apply dates.
import assert from 'node:assert/strict';
import {
  ApplyPendingMaintenanceActionCommand,
  CreateDBInstanceCommand,
  DescribeDBEngineVersionsCommand,
  DescribePendingMaintenanceActionsCommand,
  ModifyDBInstanceCommand,
} from '@aws-sdk/client-rds';
import { defaultCatalogue } from '../../src/rds/catalogue';
import { ACCOUNT, REGION, rejectsWith, startHarness } from '../helpers';
import type { SimHarness } from '../helpers';
import { rdsReads } from './reads';

const MINUTE = 60;
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

  it('DescribeDBEngineVersions lists valid upgrade targets with IsMajorVersionUpgrade and the auto-upgrade target', async function () {
    const out = await h.rds.send(new DescribeDBEngineVersionsCommand({ Engine: 'postgres', EngineVersion: '15.5' }));
    assert.equal(out.DBEngineVersions?.length, 1);
    const v = out.DBEngineVersions?.[0];
    assert.equal(v?.DBParameterGroupFamily, 'postgres15');
    const targets = v?.ValidUpgradeTarget ?? [];
    const minor = targets.filter((t) => !t.IsMajorVersionUpgrade).map((t) => t.EngineVersion);
    assert.deepEqual(minor, ['15.6', '15.7', '15.8', '15.10']);
    assert.ok(targets.some((t) => t.EngineVersion === '16.4' && t.IsMajorVersionUpgrade === true));
    assert.deepEqual(targets.filter((t) => t.AutoUpgrade).map((t) => t.EngineVersion), ['15.8']);
    const all = await h.rds.send(new DescribeDBEngineVersionsCommand({ Engine: 'postgres' }));
    assert.ok((all.DBEngineVersions?.length ?? 0) > 10);
  });

  it('DescribeDBEngineVersions lists a deprecated version only with IncludeAll, as Status deprecated', async function () {
    await h.admin.seed({ catalogue: defaultCatalogue().map((m) => (m.major === '15' ? { ...m, deprecated: ['15.4'] } : m)) });
    assert.deepEqual((await h.rds.send(new DescribeDBEngineVersionsCommand({ Engine: 'postgres', EngineVersion: '15.4' }))).DBEngineVersions, []);
    const all = await h.rds.send(new DescribeDBEngineVersionsCommand({ Engine: 'postgres', EngineVersion: '15.4', IncludeAll: true }));
    assert.deepEqual(all.DBEngineVersions?.map((v) => [v.EngineVersion, v.Status]), [['15.4', 'deprecated']]);
    assert.equal(all.DBEngineVersions?.[0]?.ValidUpgradeTarget?.find((t) => t.AutoUpgrade)?.EngineVersion, '15.8');
    const listed = (await h.rds.send(new DescribeDBEngineVersionsCommand({ Engine: 'postgres', DBParameterGroupFamily: 'postgres15' }))).DBEngineVersions?.map((v) => v.EngineVersion);
    assert.ok(!listed?.includes('15.4') && listed?.includes('15.5'));
  });

  it('pending maintenance: lists db-upgrade below the preferred minor; filters by ARN and db-instance-id', async function () {
    await h.admin.seed({
      instances: [
        { region: REGION, id: 'old', engineVersion: '15.5', pendingMaintenance: { forcedApplyDate: '2025-03-01T00:00:00Z' } },
        { region: REGION, id: 'current', engineVersion: '15.8' },
      ],
    });
    const all = await h.rds.send(new DescribePendingMaintenanceActionsCommand({}));
    assert.equal(all.PendingMaintenanceActions?.length, 1);
    const res = all.PendingMaintenanceActions?.[0];
    assert.equal(res?.ResourceIdentifier, `arn:aws:rds:${REGION}:${ACCOUNT}:db:old`);
    const action = res?.PendingMaintenanceActionDetails?.[0];
    assert.equal(action?.Action, 'db-upgrade');
    assert.equal(action?.Description, 'Upgrade to PostgreSQL 15.8');
    assert.equal(action?.ForcedApplyDate?.toISOString(), '2025-03-01T00:00:00.000Z');

    const byArn = await h.rds.send(new DescribePendingMaintenanceActionsCommand({ ResourceIdentifier: `arn:aws:rds:${REGION}:${ACCOUNT}:db:current` }));
    assert.deepEqual(byArn.PendingMaintenanceActions, []);
    const byFilter = await h.rds.send(new DescribePendingMaintenanceActionsCommand({ Filters: [{ Name: 'db-instance-id', Values: ['old'] }] }));
    assert.equal(byFilter.PendingMaintenanceActions?.length, 1);
    await rejectsWith(h.rds.send(new DescribePendingMaintenanceActionsCommand({ ResourceIdentifier: `arn:aws:rds:${REGION}:${ACCOUNT}:db:ghost` })), 'ResourceNotFoundFault');
  });

  it('ApplyPendingMaintenanceAction immediate upgrades now; next-maintenance waits for the window even with the flag off; undo-opt-in cancels', async function () {
    await h.admin.seed({
      instances: [
        { region: REGION, id: 'now', engineVersion: '15.5', preferredMaintenanceWindow: 'mon:12:10-mon:12:40', autoMinorVersionUpgrade: false },
        { region: REGION, id: 'later', engineVersion: '15.5', preferredMaintenanceWindow: 'mon:12:10-mon:12:40', autoMinorVersionUpgrade: false },
        { region: REGION, id: 'undone', engineVersion: '15.5', preferredMaintenanceWindow: 'mon:12:10-mon:12:40', autoMinorVersionUpgrade: false },
      ],
    });
    const arn = (id: string): string => `arn:aws:rds:${REGION}:${ACCOUNT}:db:${id}`;
    const applied = await h.rds.send(new ApplyPendingMaintenanceActionCommand({ ResourceIdentifier: arn('now'), ApplyAction: 'db-upgrade', OptInType: 'immediate' }));
    assert.equal(applied.ResourcePendingMaintenanceActions?.PendingMaintenanceActionDetails?.[0]?.OptInStatus, 'immediate');
    assert.equal((await describeOne('now')).DBInstanceStatus, 'upgrading');

    const next = await h.rds.send(new ApplyPendingMaintenanceActionCommand({ ResourceIdentifier: arn('later'), ApplyAction: 'db-upgrade', OptInType: 'next-maintenance' }));
    const detail = next.ResourcePendingMaintenanceActions?.PendingMaintenanceActionDetails?.[0];
    assert.equal(detail?.OptInStatus, 'next-maintenance');
    assert.equal(detail?.CurrentApplyDate?.toISOString(), '2025-01-06T12:10:00.000Z');
    await h.rds.send(new ApplyPendingMaintenanceActionCommand({ ResourceIdentifier: arn('undone'), ApplyAction: 'db-upgrade', OptInType: 'next-maintenance' }));
    await h.rds.send(new ApplyPendingMaintenanceActionCommand({ ResourceIdentifier: arn('undone'), ApplyAction: 'db-upgrade', OptInType: 'undo-opt-in' }));

    h.advance(30);
    assert.equal((await describeOne('now')).EngineVersion, '15.8');
    assert.equal((await describeOne('later')).DBInstanceStatus, 'available');
    h.advance(10 * MINUTE - 15); // 12:10:15: the window opened at 12:10, the upgrade takes 30 s
    assert.equal((await describeOne('later')).DBInstanceStatus, 'upgrading');
    assert.equal((await describeOne('undone')).DBInstanceStatus, 'available');
    h.advance(MINUTE);
    assert.equal((await describeOne('later')).EngineVersion, '15.8');
    assert.equal((await describeOne('undone')).EngineVersion, '15.5');
    const left = await h.rds.send(new DescribePendingMaintenanceActionsCommand({}));
    assert.deepEqual(left.PendingMaintenanceActions?.map((r) => r.ResourceIdentifier), [arn('undone')]);
    await rejectsWith(
      h.rds.send(new ApplyPendingMaintenanceActionCommand({ ResourceIdentifier: arn('now'), ApplyAction: 'db-upgrade', OptInType: 'immediate' })),
      'InvalidParameterCombination',
      'There is no pending db-upgrade action for',
    );
    await rejectsWith(
      h.rds.send(new ApplyPendingMaintenanceActionCommand({ ResourceIdentifier: arn('ghost'), ApplyAction: 'db-upgrade', OptInType: 'immediate' })),
      'ResourceNotFoundFault',
    );
  });

  it('backup and maintenance windows never overlap: refused when asked for (moto\'s and RDS\'s words), avoided when RDS picks the backup window', async function () {
    const create = (id: string, extra: Record<string, string>) =>
      h.rds.send(new CreateDBInstanceCommand({ DBInstanceIdentifier: id, DBInstanceClass: 'db.t3.micro', Engine: 'postgres', EngineVersion: '15.5', AllocatedStorage: 20, MasterUsername: 'master', MasterUserPassword: 'a-long-password', ...extra }));
    const overlap = 'The backup window and maintenance window must not overlap.';
    await rejectsWith(create('clash', { PreferredMaintenanceWindow: 'tue:03:15-tue:03:45', PreferredBackupWindow: '03:00-03:30' }), 'InvalidParameterValue', overlap);
    // A Sunday-night window wrapping into Monday meets Monday's backup.
    await rejectsWith(create('wraps', { PreferredMaintenanceWindow: 'sun:23:45-mon:00:30', PreferredBackupWindow: '00:00-00:30' }), 'InvalidParameterValue', overlap);
    await rejectsWith(create('short', { PreferredBackupWindow: '03:00-03:20' }), 'InvalidParameterValue', 'at least 30 minutes');
    await create('picked', { PreferredMaintenanceWindow: 'wed:03:00-wed:03:30' });
    h.advance(60 * MINUTE); // created
    const picked = await describeOne('picked');
    assert.equal(picked.PreferredBackupWindow, '04:00-04:30', 'RDS picks a backup window clear of the maintenance window');
    await rejectsWith(h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'picked', PreferredMaintenanceWindow: 'thu:04:00-thu:04:30' })), 'InvalidParameterValue', overlap);
    await h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'picked', PreferredMaintenanceWindow: 'thu:04:00-thu:04:30', PreferredBackupWindow: '01:00-01:30' }));
    const moved = await describeOne('picked');
    assert.deepEqual([moved.PreferredMaintenanceWindow, moved.PreferredBackupWindow], ['thu:04:00-thu:04:30', '01:00-01:30']);
  });

  it('maintenance window: the automatic minor upgrade runs only with AutoMinorVersionUpgrade on', async function () {
    await h.admin.seed({
      instances: [
        { region: REGION, id: 'flag-on', engineVersion: '15.5', preferredMaintenanceWindow: 'mon:12:10-mon:12:40', autoMinorVersionUpgrade: true },
        { region: REGION, id: 'flag-off', engineVersion: '15.5', preferredMaintenanceWindow: 'mon:12:10-mon:12:40', autoMinorVersionUpgrade: false },
      ],
    });
    h.advance(9 * MINUTE + 59);
    assert.equal((await describeOne('flag-on')).DBInstanceStatus, 'available', 'nothing before the window opens');
    h.advance(1);
    assert.equal((await describeOne('flag-on')).DBInstanceStatus, 'upgrading');
    assert.equal((await describeOne('flag-off')).DBInstanceStatus, 'available');
    h.advance(30);
    assert.equal((await describeOne('flag-on')).EngineVersion, '15.8');
    h.advance(14 * DAY); // two more windows
    const off = await describeOne('flag-off');
    assert.equal(off.EngineVersion, '15.5');
    assert.equal(off.DBInstanceStatus, 'available');
  });

  it('seeded AutoAppliedAfterDate applies in the first window after it; ForcedApplyDate applies at that instant, flag or not', async function () {
    await h.admin.seed({
      instances: [
        { region: REGION, id: 'auto-after', engineVersion: '15.5', preferredMaintenanceWindow: 'mon:12:10-mon:12:40', autoMinorVersionUpgrade: false, pendingMaintenance: { autoAppliedAfterDate: '2025-01-06T12:05:00Z' } },
        { region: REGION, id: 'forced', engineVersion: '15.5', preferredMaintenanceWindow: 'sun:05:00-sun:05:30', autoMinorVersionUpgrade: false, pendingMaintenance: { forcedApplyDate: '2025-01-06T13:00:00Z', targetVersion: '15.7' } },
      ],
    });
    const forcedAction = (await h.rds.send(new DescribePendingMaintenanceActionsCommand({ Filters: [{ Name: 'db-instance-id', Values: ['forced'] }] }))).PendingMaintenanceActions?.[0]
      ?.PendingMaintenanceActionDetails?.[0];
    assert.equal(forcedAction?.Description, 'Upgrade to PostgreSQL 15.7');
    assert.equal(forcedAction?.CurrentApplyDate?.toISOString(), '2025-01-06T13:00:00.000Z');
    h.advance(10 * MINUTE);
    assert.equal((await describeOne('auto-after')).DBInstanceStatus, 'upgrading');
    h.advance(50 * MINUTE - 1);
    assert.equal((await describeOne('forced')).DBInstanceStatus, 'available');
    h.advance(1);
    assert.equal((await describeOne('forced')).DBInstanceStatus, 'upgrading');
    h.advance(30);
    assert.equal((await describeOne('forced')).EngineVersion, '15.7');
    assert.equal((await describeOne('auto-after')).EngineVersion, '15.8');
  });

  it('maintenance window: a version queued without ApplyImmediately shows in PendingModifiedValues and applies in the window', async function () {
    await seedInstance('queued');
    const mod = await h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'queued', EngineVersion: '15.7', ApplyImmediately: false }));
    assert.equal(mod.DBInstance?.DBInstanceStatus, 'available');
    assert.equal(mod.DBInstance?.PendingModifiedValues?.EngineVersion, '15.7');
    h.advance(10 * MINUTE);
    assert.equal((await describeOne('queued')).DBInstanceStatus, 'upgrading');
    h.advance(30);
    const done = await describeOne('queued');
    assert.equal(done.EngineVersion, '15.7');
    assert.equal(done.PendingModifiedValues?.EngineVersion, undefined);
  });

  it('windows wrap from Sunday into Monday, and a big jump of time processes each window in order', async function () {
    // Start Sunday 23:00; window sun:23:45-mon:00:30.
    await h.close();
    h = await startHarness({ startAt: Date.UTC(2025, 0, 5, 23, 0, 0) });
    await h.admin.seed({ instances: [{ region: REGION, id: 'wrap', engineVersion: '15.5', preferredMaintenanceWindow: 'sun:23:45-mon:00:30', autoMinorVersionUpgrade: true }] });
    h.advance(44 * MINUTE);
    assert.equal((await describeOne('wrap')).DBInstanceStatus, 'available');
    h.advance(3 * DAY);
    const inst = await describeOne('wrap');
    assert.equal(inst.EngineVersion, '15.8');
    assert.equal(inst.DBInstanceStatus, 'available');
  });

});
