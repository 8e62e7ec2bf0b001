/**
 * Upgrades and pending maintenance as the RDS API reference documents them:
 * - ModifyDBInstance: https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html
 * - PendingMaintenanceAction: https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_PendingMaintenanceAction.html
 */
import assert from 'node:assert/strict';
import { ApplyPendingMaintenanceActionCommand, ModifyDBInstanceCommand } from '@aws-sdk/client-rds';
import type { DBInstance, PendingMaintenanceAction } from '@aws-sdk/client-rds';
import { ACCOUNT, REGION, rejectsWith, startHarness } from '../helpers';
import type { SimHarness } from '../helpers';

const MINUTE = 60;
const DAY = 86_400;

describe('sim: RDS upgrades and pending maintenance, as the RDS API reference documents them', function () {
  let h: SimHarness;
  beforeEach(async function () {
    h = await startHarness(); // Monday 2025-01-06 12:00 UTC
  });
  afterEach(async function () {
    await h.close();
  });

  const describeOne = (id: string): Promise<DBInstance> => h.describeOne(id);
  const pendingAction = (id: string): Promise<PendingMaintenanceAction | undefined> => h.pendingAction(id);
  const arn = (id: string): string => `arn:aws:rds:${REGION}:${ACCOUNT}:db:${id}`;

  // PendingMaintenanceAction.CurrentApplyDate: "This value is blank if an opt-in request has not been
  // received and nothing has been specified as AutoAppliedAfterDate or ForcedApplyDate."
  it('CurrentApplyDate is blank with only AutoMinorVersionUpgrade on; set by opt-in, AutoAppliedAfterDate (first window after it) or ForcedApplyDate', async function () {
    const window = 'mon:12:10-mon:12:40';
    await h.admin.seed({
      instances: [
        { region: REGION, id: 'flag-only', engineVersion: '15.5', preferredMaintenanceWindow: window, autoMinorVersionUpgrade: true },
        { region: REGION, id: 'nothing', engineVersion: '15.5', preferredMaintenanceWindow: window, autoMinorVersionUpgrade: false },
        { region: REGION, id: 'opted-in', engineVersion: '15.5', preferredMaintenanceWindow: window, autoMinorVersionUpgrade: false },
        // The next window (today 12:10) is before the date: it applies in the one after (a week later).
        { region: REGION, id: 'auto-after', engineVersion: '15.5', preferredMaintenanceWindow: window, autoMinorVersionUpgrade: false, pendingMaintenance: { autoAppliedAfterDate: '2025-01-08T00:00:00Z' } },
        { region: REGION, id: 'forced', engineVersion: '15.5', preferredMaintenanceWindow: window, autoMinorVersionUpgrade: true, pendingMaintenance: { forcedApplyDate: '2025-01-07T03:00:00Z' } },
      ],
    });
    await h.rds.send(new ApplyPendingMaintenanceActionCommand({ ResourceIdentifier: arn('opted-in'), ApplyAction: 'db-upgrade', OptInType: 'next-maintenance' }));

    assert.equal((await pendingAction('flag-only'))?.CurrentApplyDate, undefined);
    assert.equal((await pendingAction('nothing'))?.CurrentApplyDate, undefined);
    assert.equal((await pendingAction('opted-in'))?.CurrentApplyDate?.toISOString(), '2025-01-06T12:10:00.000Z');
    assert.equal((await pendingAction('auto-after'))?.CurrentApplyDate?.toISOString(), '2025-01-13T12:10:00.000Z');
    assert.equal((await pendingAction('forced'))?.CurrentApplyDate?.toISOString(), '2025-01-07T03:00:00.000Z');

    // The flag still applies the upgrade in the window, as before: only the reported date changed.
    h.advance(10 * MINUTE);
    assert.equal((await describeOne('flag-only')).DBInstanceStatus, 'upgrading');
    assert.equal((await pendingAction('flag-only'))?.OptInStatus, 'immediate');
  });

  // "If a maintenance event is scheduled for a given week, it's initiated during the 30-minute maintenance
  // window you identify" (RDS User Guide, the maintenance window): during it, not only as it opens.
  it('AutoMinorVersionUpgrade turned on inside an open window starts the upgrade in that window; after it, the next one', async function () {
    await h.admin.seed({
      instances: [
        { region: REGION, id: 'inside', engineVersion: '15.5', preferredMaintenanceWindow: 'mon:12:10-mon:12:40', autoMinorVersionUpgrade: false },
        { region: REGION, id: 'after', engineVersion: '15.5', preferredMaintenanceWindow: 'mon:11:30-mon:12:00', autoMinorVersionUpgrade: false },
      ],
    });
    h.advance(15 * MINUTE); // 12:15: inside 'inside''s window, after 'after''s
    for (const id of ['inside', 'after']) await h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: id, AutoMinorVersionUpgrade: true, ApplyImmediately: true }));
    assert.equal((await describeOne('inside')).DBInstanceStatus, 'upgrading');
    assert.equal((await describeOne('after')).DBInstanceStatus, 'available');
    h.advance(DAY);
    assert.equal((await describeOne('inside')).EngineVersion, '15.8');
    assert.equal((await describeOne('after')).EngineVersion, '15.5', 'its window had closed: it waits for the next one');
  });

  // ApplyImmediately: "the modifications in this request and any pending modifications are asynchronously
  // applied as soon as possible".
  it('ApplyImmediately also starts a version queued by an earlier ModifyDBInstance', async function () {
    await h.admin.seed({ instances: [{ region: REGION, id: 'db1', engineVersion: '15.5', preferredMaintenanceWindow: 'sun:05:00-sun:05:30' }] });
    const queued = await h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'db1', EngineVersion: '15.7' }));
    assert.equal(queued.DBInstance?.PendingModifiedValues?.EngineVersion, '15.7');
    assert.equal((await describeOne('db1')).DBInstanceStatus, 'available');
    const now = await h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'db1', DeletionProtection: true, ApplyImmediately: true }));
    assert.equal(now.DBInstance?.DBInstanceStatus, 'available');
    assert.equal(now.DBInstance?.PendingModifiedValues?.EngineVersion, '15.7');
    assert.equal((await describeOne('db1')).DBInstanceStatus, 'modifying');
    h.advance(35);
    assert.equal((await describeOne('db1')).EngineVersion, '15.7');
  });

  // EngineVersion: "If you specify only a major version, Amazon RDS updates the DB instance to the default
  // minor version if the current minor version is lower."
  it('EngineVersion given as a bare major means that major’s default minor', async function () {
    await h.admin.seed({ instances: [{ region: REGION, id: 'db1', engineVersion: '15.5' }, { region: REGION, id: 'db2', engineVersion: '15.10' }] });
    const minor = await h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'db1', EngineVersion: '15', ApplyImmediately: true }));
    assert.equal(minor.DBInstance?.PendingModifiedValues?.EngineVersion, '15.8');
    const already = await h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'db2', EngineVersion: '15', ApplyImmediately: true }));
    assert.equal(already.DBInstance?.PendingModifiedValues?.EngineVersion, undefined, '15.10 is not lower than the default 15.8');
    assert.equal((await describeOne('db2')).DBInstanceStatus, 'available');
  });

  // EngineVersion: "For major version upgrades, if a nondefault DB parameter group is currently in use, a new
  // DB parameter group in the DB parameter group family for the new engine version must be specified."
  it('a major upgrade of an instance on a custom parameter group needs a parameter group of the new family', async function () {
    await h.admin.seed({
      dbParameterGroups: [
        { region: REGION, name: 'app-pg15', family: 'postgres15' },
        { region: REGION, name: 'app-pg16', family: 'postgres16' },
      ],
      instances: [{ region: REGION, id: 'custom', engineVersion: '15.5', parameterGroupName: 'app-pg15' }],
    });
    const major = { DBInstanceIdentifier: 'custom', EngineVersion: '16.4', AllowMajorVersionUpgrade: true, ApplyImmediately: true };
    const e = await rejectsWith(h.rds.send(new ModifyDBInstanceCommand(major)), 'InvalidParameterCombination', 'The current DB instance parameter group app-pg15 is custom');
    assert.equal(e.$metadata?.httpStatusCode, 400);
    await rejectsWith(h.rds.send(new ModifyDBInstanceCommand({ ...major, DBParameterGroupName: 'app-pg15' })), 'InvalidParameterCombination', 'DBParameterGroupFamily postgres16');
    const missing = await rejectsWith(h.rds.send(new ModifyDBInstanceCommand({ ...major, DBParameterGroupName: 'nope' })), 'DBParameterGroupNotFoundFault', 'nope');
    assert.equal(missing.$metadata?.httpStatusCode, 404);
    assert.equal((await describeOne('custom')).DBInstanceStatus, 'available', 'refused requests change nothing');

    // A minor upgrade keeps the custom group; the major one takes the group given with it.
    await h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'custom', EngineVersion: '15.8', ApplyImmediately: true }));
    h.advance(35);
    assert.deepEqual((await describeOne('custom')).DBParameterGroups?.map((g) => g.DBParameterGroupName), ['app-pg15']);
    await h.rds.send(new ModifyDBInstanceCommand({ ...major, DBParameterGroupName: 'app-pg16' }));
    h.advance(35);
    const done = await describeOne('custom');
    assert.equal(done.EngineVersion, '16.4');
    assert.deepEqual(done.DBParameterGroups?.map((g) => [g.DBParameterGroupName, g.ParameterApplyStatus]), [['app-pg16', 'in-sync']]);
  });

  it('a major upgrade of an instance on the default parameter group moves it to the new family’s default group', async function () {
    await h.admin.seed({ instances: [{ region: REGION, id: 'plain', engineVersion: '15.5' }] });
    assert.equal((await describeOne('plain')).DBParameterGroups?.[0]?.DBParameterGroupName, 'default.postgres15');
    await h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'plain', EngineVersion: '16.4', AllowMajorVersionUpgrade: true, ApplyImmediately: true }));
    h.advance(35);
    const done = await describeOne('plain');
    assert.equal(done.EngineVersion, '16.4');
    assert.equal(done.DBParameterGroups?.[0]?.DBParameterGroupName, 'default.postgres16');
    assert.equal(done.OptionGroupMemberships?.[0]?.OptionGroupName, 'default:postgres-16');
  });

  // DBParameterGroupName: "Must be in the same DB parameter group family as the DB instance"; "The parameter
  // group name itself is changed immediately, but the actual parameter changes are not applied until you reboot".
  it('DBParameterGroupName without an upgrade: same family only, the name changes at once and parameters are pending-reboot', async function () {
    await h.admin.seed({
      dbParameterGroups: [
        { region: REGION, name: 'tuned-15', family: 'postgres15' },
        { region: REGION, name: 'tuned-16', family: 'postgres16' },
      ],
      instances: [{ region: REGION, id: 'db1', engineVersion: '15.5' }],
    });
    await rejectsWith(h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'db1', DBParameterGroupName: 'tuned-16' })), 'InvalidParameterCombination', 'postgres15');
    const out = await h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'db1', DBParameterGroupName: 'tuned-15' }));
    assert.deepEqual(out.DBInstance?.DBParameterGroups, [{ DBParameterGroupName: 'tuned-15', ParameterApplyStatus: 'pending-reboot' }]);
    h.advance(DAY);
    assert.equal((await describeOne('db1')).DBParameterGroups?.[0]?.ParameterApplyStatus, 'pending-reboot');
  });
});
