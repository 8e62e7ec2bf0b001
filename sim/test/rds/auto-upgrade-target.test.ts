/**
 * `POST /_sim/auto-upgrade-target`: RDS designating another automatic minor target ("This parameter is dynamic, and
 * is set by RDS", https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_UpgradeTarget.html), seen through
 * DescribeDBEngineVersions, DescribePendingMaintenanceActions and the maintenance window.
 */
import assert from 'node:assert/strict';
import { DescribeDBEngineVersionsCommand, DescribeDBInstancesCommand, DescribePendingMaintenanceActionsCommand } from '@aws-sdk/client-rds';
import { SimAdminError } from '../../src/client';
import { REGION, startHarness } from '../helpers';
import type { SimHarness } from '../helpers';

describe('sim: RDS designates another automatic minor target (POST /_sim/auto-upgrade-target)', function () {
  let h: SimHarness;
  beforeEach(async function () {
    h = await startHarness(); // Monday 2025-01-06 12:00 UTC
  });
  afterEach(async function () {
    await h.close();
  });

  const autoTargets = async (version: string): Promise<string[]> => {
    const out = await h.rds.send(new DescribeDBEngineVersionsCommand({ Engine: 'postgres', EngineVersion: version }));
    return (out.DBEngineVersions?.[0]?.ValidUpgradeTarget ?? []).filter((t) => t.AutoUpgrade).map((t) => t.EngineVersion as string);
  };
  const pendingDescription = async (id: string): Promise<string | undefined> =>
    (await h.rds.send(new DescribePendingMaintenanceActionsCommand({ Filters: [{ Name: 'db-instance-id', Values: [id] }] }))).PendingMaintenanceActions?.[0]?.PendingMaintenanceActionDetails?.[0]?.Description;
  const version = async (id: string): Promise<string | undefined> => (await h.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))).DBInstances?.[0]?.EngineVersion;

  it('every 15.x below the new target lists it with AutoUpgrade; pending actions name it; AutoMinorVersionUpgrade applies it in the window', async function () {
    await h.admin.seed({
      instances: [
        { region: REGION, id: 'auto', engineVersion: '15.5', autoMinorVersionUpgrade: true, preferredMaintenanceWindow: 'mon:13:00-mon:13:30' },
        { region: REGION, id: 'at-old-target', engineVersion: '15.8', autoMinorVersionUpgrade: false },
        { region: REGION, id: 'seeded', engineVersion: '15.5', autoMinorVersionUpgrade: false, pendingMaintenance: { targetVersion: '15.7', description: 'Upgrade to PostgreSQL 15.7 (seeded)', forcedApplyDate: '2025-03-01T00:00:00Z' } },
        { region: REGION, id: 'other-major', engineVersion: '16.1', pendingMaintenance: { targetVersion: '16.2' } },
      ],
    });
    assert.deepEqual(await autoTargets('15.5'), ['15.8']);
    assert.equal(await pendingDescription('at-old-target'), undefined);

    const result = await h.admin.autoUpgradeTarget({ engine: 'postgres', majorVersion: '15', target: '15.10' });
    assert.deepEqual(result, { engine: 'postgres', majorVersion: '15', target: '15.10', previousTarget: '15.8', replacedSeededActions: [`123456789012/${REGION}/seeded`] });
    for (const v of ['15.4', '15.5', '15.7', '15.8']) assert.deepEqual(await autoTargets(v), ['15.10'], v);
    assert.deepEqual(await autoTargets('15.10'), [], 'nothing above the target');
    assert.equal(await pendingDescription('auto'), 'Upgrade to PostgreSQL 15.10');
    assert.equal(await pendingDescription('at-old-target'), 'Upgrade to PostgreSQL 15.10', 'an instance at the old target has an action again');
    assert.equal(await pendingDescription('seeded'), 'Upgrade to PostgreSQL 15.10', 'the seeded action gives way to the new designation');
    const seeded = (await h.rds.send(new DescribePendingMaintenanceActionsCommand({ Filters: [{ Name: 'db-instance-id', Values: ['seeded'] }] }))).PendingMaintenanceActions?.[0]?.PendingMaintenanceActionDetails?.[0];
    assert.equal(seeded?.ForcedApplyDate?.toISOString(), '2025-03-01T00:00:00.000Z', 'its dates stay');
    assert.equal(await pendingDescription('other-major'), 'Upgrade to PostgreSQL 16.2', 'another major is untouched');

    h.advance(3600 + 30);
    assert.equal(await version('auto'), '15.10', 'the window applies the new target');
    assert.equal(await version('at-old-target'), '15.8', 'the flag is off');
  });

  it('refuses an unknown engine, an unknown major, a target outside the catalogue or of another major, and a malformed body', async function () {
    const refused = async (spec: unknown, message: RegExp): Promise<void> => {
      await assert.rejects(h.admin.autoUpgradeTarget(spec as never), (err: Error) => {
        assert.ok(err instanceof SimAdminError, err.message);
        assert.equal(err.status, 400);
        assert.match(err.message, message);
        return true;
      });
    };
    await refused({ engine: 'mysql', majorVersion: '8.0', target: '8.0.35' }, /unknown engine 'mysql'; the catalogue has: postgres/);
    await refused({ engine: 'postgres', majorVersion: '12', target: '12.1' }, /no major version '12' in the catalogue \(majors: 14, 15, 16\)/);
    await refused({ engine: 'postgres', majorVersion: '15', target: '15.11' }, /target 15.11 is not in the catalogue for postgres 15; versions: 15.4, 15.5/);
    await refused({ engine: 'postgres', majorVersion: '15', target: '16.4' }, /not a 15.x version/);
    await refused({ engine: 'postgres', majorVersion: '15' }, /target is missing/);
    await refused({}, /engine is missing/);
    assert.deepEqual(await autoTargets('15.5'), ['15.8'], 'nothing changed');
  });
});
