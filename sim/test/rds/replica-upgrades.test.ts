/**
 * Replicas first: "If your database has read replicas, you must first upgrade all of the read replicas before you
 * upgrade the source instance" (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_UpgradeDBInstance.PostgreSQL.html),
 * answered by RDS with DBUpgradeDependencyFailure "One or more of the DB Instance's read replicas need to be
 * upgraded: <replica>", and what the simulator does where AWS is silent (the window, forced dates, opt-ins).
 */
import assert from 'node:assert/strict';
import { ApplyPendingMaintenanceActionCommand, ModifyDBInstanceCommand, RDSClient } from '@aws-sdk/client-rds';
import type { DBInstance } from '@aws-sdk/client-rds';
import { ACCOUNT, CREDENTIALS, REGION, rejectsWith, startHarness } from '../helpers';
import type { SimHarness } from '../helpers';

const DAY = 86_400;
const WEEK = 7 * DAY;
const arn = (region: string, id: string): string => `arn:aws:rds:${region}:${ACCOUNT}:db:${id}`;

describe('sim: read replicas are upgraded before their source', function () {
  let h: SimHarness;
  beforeEach(async function () {
    h = await startHarness(); // Monday 2025-01-06 12:00 UTC
  });
  afterEach(async function () {
    await h.close();
  });

  const describeOne = (id: string): Promise<DBInstance> => h.describeOne(id);
  const pendingTarget = async (id: string): Promise<string | undefined> => (await h.pendingAction(id))?.Description;
  const modify = (id: string, version: string, applyImmediately = true): Promise<unknown> =>
    h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: id, EngineVersion: version, ApplyImmediately: applyImmediately }));

  it('ModifyDBInstance of a source to a minor its replicas (in-Region and cross-Region) are below: DBUpgradeDependencyFailure naming them; replicas first, then the source', async function () {
    await h.admin.seed({
      instances: [
        { region: REGION, id: 'src', engineVersion: '15.5' },
        { region: REGION, id: 'src-ro', replicaOf: 'src' },
        { region: 'us-east-1', id: 'src-dr', replicaOf: { region: REGION, id: 'src' } },
      ],
    });
    const e = await rejectsWith(modify('src', '15.8'), 'DBUpgradeDependencyFailureFault', `One or more of the DB Instance's read replicas need to be upgraded: src-ro, ${arn('us-east-1', 'src-dr')}`);
    assert.equal(e.$metadata?.httpStatusCode, 400);
    // Queued for the window or not, the request is refused.
    await rejectsWith(modify('src', '15.8', false), 'DBUpgradeDependencyFailureFault', 'src-ro');
    assert.equal((await describeOne('src')).PendingModifiedValues?.EngineVersion, undefined, 'a refused request queues nothing');

    // A replica may run a newer minor than its source.
    await modify('src-ro', '15.10');
    h.advance(35);
    assert.equal((await describeOne('src-ro')).EngineVersion, '15.10');
    // Only the one still behind is named.
    await rejectsWith(modify('src', '15.8'), 'DBUpgradeDependencyFailureFault', `upgraded: ${arn('us-east-1', 'src-dr')}`);
    // The cross-Region replica, from its own Region.
    const east = new RDSClient({ endpoint: h.sim.url, region: 'us-east-1', credentials: CREDENTIALS });
    try {
      await east.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'src-dr', EngineVersion: '15.8', ApplyImmediately: true }));
    } finally {
      east.destroy();
    }
    h.advance(35);
    await modify('src', '15.8');
    h.advance(35);
    assert.equal((await describeOne('src')).EngineVersion, '15.8');
    // Up to the replicas' versions, no further: 15.10 is above the cross-Region replica's 15.8.
    await rejectsWith(modify('src', '15.10'), 'DBUpgradeDependencyFailureFault', 'src-dr');
  });

  it('the window does not upgrade a source whose replica is behind: the pending action stays, and applies in the first window after the replica caught up', async function () {
    await h.admin.seed({
      instances: [
        { region: REGION, id: 'src', engineVersion: '15.5', autoMinorVersionUpgrade: true, preferredMaintenanceWindow: 'mon:13:00-mon:13:30' },
        { region: REGION, id: 'src-ro', replicaOf: 'src', autoMinorVersionUpgrade: false, preferredMaintenanceWindow: 'tue:13:00-tue:13:30' },
      ],
    });
    h.advance(3600); // the source's window opens
    assert.deepEqual([(await describeOne('src')).DBInstanceStatus, (await describeOne('src')).EngineVersion], ['available', '15.5']);
    assert.equal(await pendingTarget('src'), 'Upgrade to PostgreSQL 15.8', 'the action stays pending');
    h.advance(DAY); // the replica's window: its flag is off, nothing happens
    assert.equal((await describeOne('src-ro')).EngineVersion, '15.5');
    await modify('src-ro', '15.8');
    h.advance(35);
    h.advance(WEEK - DAY - 35); // the source's next window
    assert.equal((await describeOne('src')).DBInstanceStatus, 'upgrading');
    h.advance(30);
    assert.equal((await describeOne('src')).EngineVersion, '15.8');
    assert.equal(await pendingTarget('src'), undefined);
  });

  it('source and replica in the same window with the flag on: the replica goes first; the source waits for its next window', async function () {
    const window = 'mon:13:00-mon:13:30';
    await h.admin.seed({
      instances: [
        { region: REGION, id: 'src', engineVersion: '15.5', autoMinorVersionUpgrade: true, preferredMaintenanceWindow: window },
        { region: REGION, id: 'src-ro', replicaOf: 'src', preferredMaintenanceWindow: window },
      ],
    });
    h.advance(3600);
    assert.deepEqual([(await describeOne('src-ro')).DBInstanceStatus, (await describeOne('src')).DBInstanceStatus], ['upgrading', 'available']);
    h.advance(WEEK + 30);
    assert.deepEqual([(await describeOne('src-ro')).EngineVersion, (await describeOne('src')).EngineVersion], ['15.8', '15.8']);
  });

  it('ApplyPendingMaintenanceAction db-upgrade: immediate is refused like ModifyDBInstance; next-maintenance waits for the replica; a forced date waits too', async function () {
    await h.admin.seed({
      instances: [
        { region: REGION, id: 'src', engineVersion: '15.5', autoMinorVersionUpgrade: false, preferredMaintenanceWindow: 'mon:13:00-mon:13:30', pendingMaintenance: { forcedApplyDate: '2025-01-08T00:00:00Z' } },
        { region: REGION, id: 'src-ro', replicaOf: 'src', autoMinorVersionUpgrade: false },
      ],
    });
    const apply = (optInType: string): Promise<unknown> => h.rds.send(new ApplyPendingMaintenanceActionCommand({ ResourceIdentifier: arn(REGION, 'src'), ApplyAction: 'db-upgrade', OptInType: optInType }));
    // The SDK names the error by its modelled exception, even for an operation whose model does not list it.
    const e = await rejectsWith(apply('immediate'), 'DBUpgradeDependencyFailureFault', 'src-ro');
    assert.equal(e.$metadata?.httpStatusCode, 400);
    await apply('next-maintenance');
    h.advance(3600);
    assert.equal((await describeOne('src')).EngineVersion, '15.5', 'opted in, but the replica is behind');
    h.advance(2 * DAY); // past the forced date
    assert.equal((await describeOne('src')).DBInstanceStatus, 'available', 'the forced upgrade waits for the replica');
    await modify('src-ro', '15.8');
    h.advance(35);
    h.advance(1); // the forced date, already past, applies as soon as the replica has caught up
    assert.equal((await describeOne('src')).DBInstanceStatus, 'upgrading');
    h.advance(30);
    assert.equal((await describeOne('src')).EngineVersion, '15.8');
  });

  it('a major upgrade is not held back by the replicas’ minor versions', async function () {
    await h.admin.seed({ instances: [{ region: REGION, id: 'src', engineVersion: '15.5' }, { region: REGION, id: 'src-ro', replicaOf: 'src' }] });
    await h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'src', EngineVersion: '16.4', AllowMajorVersionUpgrade: true, ApplyImmediately: true }));
    assert.equal((await describeOne('src')).DBInstanceStatus, 'modifying');
  });
});
