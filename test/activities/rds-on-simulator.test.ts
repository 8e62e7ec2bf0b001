/**
 * RDS activities through the product's clients against the simulator, where what matters is how RDS answers:
 * - Turning AutoMinorVersionUpgrade on or off: the flag changes at once, and a change someone queued for the
 *   maintenance window (ModifyDBInstance without ApplyImmediately) stays queued. ModifyDBInstance's ApplyImmediately
 *   applies "the modifications in this request and any pending modifications" now (API reference), so the flag is
 *   sent without it.
 * - The upgrade targets of a version RDS deprecated: DescribeDBEngineVersions lists it only with IncludeAll.
 * - A restore copying its source's settings: the copy has the source's CA, log exports, network type and Extended
 *   Support choice, which RestoreDBInstanceToPointInTime otherwise sets to its defaults.
 */
import assert from 'node:assert/strict';
import { DescribeDBInstancesCommand, ModifyDBInstanceCommand, type DBInstance, type RDSClient } from '@aws-sdk/client-rds';
import type { RdsActivities } from '../../src/api';
import { defaultCatalogue, type RunningSimulator } from '../../sim';
import { rdsOnSimulator } from './on-simulator';

const REGION = 'eu-west-2';

describe('activities: RDS calls against the simulator', function () {
  this.timeout(30_000);
  let sim: RunningSimulator;
  let rds: RDSClient;
  let acts: RdsActivities;

  beforeEach(async function () {
    // 15.4 is deprecated: instances still run it, DescribeDBEngineVersions lists it only with IncludeAll.
    const catalogue = defaultCatalogue().map((m) => (m.major === '15' ? { ...m, deprecated: ['15.4'] } : m));
    const instances = [
      { region: REGION, id: 'db-queued', engineVersion: '15.5', autoMinorVersionUpgrade: false },
      { region: REGION, id: 'db-deprecated', engineVersion: '15.4' },
      {
        region: REGION,
        id: 'db-settings',
        engineVersion: '15.5',
        caCertificateIdentifier: 'rds-ca-ecc384-g1',
        enableCloudwatchLogsExports: ['postgresql', 'upgrade'],
        networkType: 'DUAL',
        engineLifecycleSupport: 'open-source-rds-extended-support-disabled',
      },
    ];
    ({ sim, rds, acts } = await rdsOnSimulator(REGION, { catalogue, instances }));
  });
  afterEach(async function () {
    await sim?.close();
  });

  it('turning it on and off leaves an engine version queued for the window queued: no upgrade starts', async function () {
    await rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'db-queued', EngineVersion: '15.7' }));
    const read = async () => (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'db-queued' }))).DBInstances![0];
    assert.equal((await read()).PendingModifiedValues?.EngineVersion, '15.7', 'queued for the window');
    for (const enabled of [true, false]) {
      const r = await acts.setAutoMinorVersionUpgrade({ where: REGION, instanceId: 'db-queued', enabled });
      assert.equal(r.changed, true);
      const db = await read();
      assert.equal(db.AutoMinorVersionUpgrade, enabled, 'the flag changes at once');
      assert.deepEqual([db.DBInstanceStatus, db.EngineVersion, db.PendingModifiedValues?.EngineVersion], ['available', '15.5', '15.7'], 'still queued, not upgrading');
    }
  });

  it('an instance on a version RDS deprecated gets its upgrade targets (IncludeAll), and the preferred minor among them', async function () {
    const { info, targets } = await acts.inspectInstance({ where: REGION, instanceId: 'db-deprecated' });
    assert.equal(info.engineVersion, '15.4');
    assert.deepEqual(targets.filter((t) => !t.isMajorVersionUpgrade).map((t) => [t.engineVersion, t.autoUpgrade]), [['15.5', false], ['15.6', false], ['15.7', false], ['15.8', true], ['15.10', false]]);
  });

  it('a restore copying its settings keeps the CA, log exports, network type and Extended Support choice; one that does not gets the defaults', async function () {
    const ownerTag = { key: 'rds-orchestrator/restore', value: 'wf-settings' };
    const read = async (id: string) => (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))).DBInstances![0];
    const settings = (db: DBInstance) => [db.CACertificateIdentifier, db.EnabledCloudwatchLogsExports ?? [], db.NetworkType, db.EngineLifecycleSupport, db.OptionGroupMemberships?.[0]?.OptionGroupName];
    for (const [targetInstanceId, copySourceSettings] of [['db-settings-copy', true], ['db-settings-plain', false]] as const) {
      await acts.restoreToPointInTime({ region: REGION, sourceInstanceId: 'db-settings', targetInstanceId, copySourceSettings, ownerTag });
    }
    assert.deepEqual(settings(await read('db-settings-copy')), settings(await read('db-settings')));
    assert.deepEqual(settings(await read('db-settings-plain')), ['rds-ca-rsa2048-g1', [], 'IPV4', 'open-source-rds-extended-support', 'default:postgres-15']);
  });
});
