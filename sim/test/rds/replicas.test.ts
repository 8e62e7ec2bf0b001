/**
 * Read replicas as https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstanceReadReplica.html and
 * the RDS for PostgreSQL read replica pages describe them, through the real SDK, and the answers checked against
 * botocore's `rds/2014-10-31` model with the project's validator (test/conformance/service-model.ts).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateDBInstanceReadReplicaCommand, DescribeDBInstancesCommand, ModifyDBInstanceCommand, RDSClient, StopDBInstanceCommand } from '@aws-sdk/client-rds';
import type { DBInstance } from '@aws-sdk/client-rds';
import { loadServiceModel, locateBotocore } from '../../../test/conformance/service-model';
import type { Finding, ServiceModel } from '../../../test/conformance/service-model';
import { ManualClock } from '../../src/core/clock';
import { SimAdminClient } from '../../src/client';
import { startSimulator } from '../../src/server';
import { ACCOUNT, CREDENTIALS, REGION, rejectsWith, startHarness } from '../helpers';
import type { SimHarness } from '../helpers';
import { rawQueryIn } from '../raw-aws';

const OTHER_REGION = 'us-east-1';
const arn = (region: string, id: string): string => `arn:aws:rds:${region}:${ACCOUNT}:db:${id}`;
const problems = (findings: Finding[]): string[] => findings.map((f) => `${f.operation} ${f.path}: ${f.problem}`);

describe('sim: RDS read replicas (CreateDBInstanceReadReplica)', function () {
  let h: SimHarness;
  let rdsOther: RDSClient;
  let model: ServiceModel;
  before(function () {
    model = loadServiceModel('rds', locateBotocore().dataDir);
  });
  beforeEach(async function () {
    h = await startHarness();
    rdsOther = new RDSClient({ endpoint: h.sim.url, region: OTHER_REGION, credentials: CREDENTIALS });
    await h.admin.seed({
      dbParameterGroups: [{ region: REGION, name: 'app-pg15', family: 'postgres15' }],
      instances: [
        {
          region: REGION,
          id: 'main',
          engineVersion: '15.5',
          instanceClass: 'db.r6g.large',
          allocatedStorage: 100,
          storageType: 'gp3',
          autoMinorVersionUpgrade: false,
          parameterGroupName: 'app-pg15',
          preferredMaintenanceWindow: 'wed:03:00-wed:03:30',
        },
        { region: REGION, id: 'nobackups', engineVersion: '15.5', backupRetentionPeriod: 0 },
      ],
    });
  });
  afterEach(async function () {
    rdsOther.destroy();
    await h.close();
  });

  const describeIn = async (client: RDSClient, id: string): Promise<DBInstance> => (await client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))).DBInstances?.[0] as DBInstance;

  it('a same-Region replica: the source’s version, class, storage, parameter group and flag; its own window; creating → available; Tags', async function () {
    const out = await h.rds.send(new CreateDBInstanceReadReplicaCommand({ DBInstanceIdentifier: 'main-ro', SourceDBInstanceIdentifier: 'main', Tags: [{ Key: 'role', Value: 'reader' }] }));
    const r = out.DBInstance as DBInstance;
    assert.deepEqual(
      [r.DBInstanceStatus, r.EngineVersion, r.DBInstanceClass, r.AllocatedStorage, r.StorageType, r.AutoMinorVersionUpgrade, r.BackupRetentionPeriod, r.ReadReplicaSourceDBInstanceIdentifier],
      ['creating', '15.5', 'db.r6g.large', 100, 'gp3', false, 0, 'main'],
    );
    assert.equal(r.DBParameterGroups?.[0]?.DBParameterGroupName, 'app-pg15', 'same Region: the source’s parameter group');
    assert.equal(r.PreferredMaintenanceWindow, 'sun:05:00-sun:05:30', 'its own window, not the source’s');
    assert.deepEqual(r.TagList, [{ Key: 'role', Value: 'reader' }]);
    assert.equal(r.StatusInfos, undefined, 'no replication status while creating');
    assert.deepEqual((await describeIn(h.rds, 'main')).ReadReplicaDBInstanceIdentifiers, ['main-ro']);
    h.advance(60);
    const done = await describeIn(h.rds, 'main-ro');
    assert.equal(done.DBInstanceStatus, 'available', 'a replica does not back up');
    assert.deepEqual(done.StatusInfos, [{ StatusType: 'read replication', Normal: true, Status: 'replicating' }]);
    // The replica keeps its own flag: changing it leaves the source's alone.
    await h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'main-ro', AutoMinorVersionUpgrade: true }));
    assert.equal((await describeIn(h.rds, 'main')).AutoMinorVersionUpgrade, false);
  });

  it('a cross-Region replica: the source by ARN; each names the other by ARN (as RDS does across Regions); the Region’s defaults', async function () {
    await h.rds.send(new CreateDBInstanceReadReplicaCommand({ DBInstanceIdentifier: 'main-ro', SourceDBInstanceIdentifier: 'main' }));
    const out = await rdsOther.send(new CreateDBInstanceReadReplicaCommand({ DBInstanceIdentifier: 'main-dr', SourceDBInstanceIdentifier: arn(REGION, 'main'), DBInstanceClass: 'db.t3.medium' }));
    assert.equal(out.DBInstance?.DBInstanceArn, arn(OTHER_REGION, 'main-dr'));
    assert.equal(out.DBInstance?.ReadReplicaSourceDBInstanceIdentifier, arn(REGION, 'main'));
    assert.equal(out.DBInstance?.DBInstanceClass, 'db.t3.medium');
    assert.equal(out.DBInstance?.DBParameterGroups?.[0]?.DBParameterGroupName, 'default.postgres15', 'across Regions: the default parameter group');
    assert.deepEqual((await describeIn(h.rds, 'main')).ReadReplicaDBInstanceIdentifiers, ['main-ro', arn(OTHER_REGION, 'main-dr')]);
    assert.deepEqual(((await h.rds.send(new DescribeDBInstancesCommand({}))).DBInstances ?? []).map((i) => i.DBInstanceIdentifier), ['main', 'main-ro', 'nobackups'], 'the replica lives in its own Region');
    // Across Regions the source must be given by ARN: its bare identifier names nothing in this Region.
    await rejectsWith(rdsOther.send(new CreateDBInstanceReadReplicaCommand({ DBInstanceIdentifier: 'x', SourceDBInstanceIdentifier: 'main' })), 'DBInstanceNotFoundFault', 'main');
  });

  it('refusals: unknown source, no automated backups, source not available, identifier taken or invalid', async function () {
    const create = (id: string, source: string): Promise<unknown> => h.rds.send(new CreateDBInstanceReadReplicaCommand({ DBInstanceIdentifier: id, SourceDBInstanceIdentifier: source }));
    const missing = await rejectsWith(create('r1', 'nope'), 'DBInstanceNotFoundFault', 'DBInstance nope not found');
    assert.equal(missing.$metadata?.httpStatusCode, 404);
    await rejectsWith(create('r1', 'nobackups'), 'InvalidDBInstanceStateFault', 'Automated backups are not enabled for this database instance');
    await rejectsWith(create('main', 'main'), 'DBInstanceAlreadyExistsFault');
    await rejectsWith(create('1-bad--id', 'main'), 'InvalidParameterValue', 'not a valid identifier');
    await h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'main', EngineVersion: '15.8', ApplyImmediately: true }));
    await rejectsWith(create('r1', 'main'), 'InvalidDBInstanceStateFault', 'not in the available state');
  });

  it('StopDBInstance refuses an instance that has a read replica, or is one (User Guide: "Limitations of stopping your DB instance")', async function () {
    await h.rds.send(new CreateDBInstanceReadReplicaCommand({ DBInstanceIdentifier: 'main-ro', SourceDBInstanceIdentifier: 'main' }));
    h.advance(60);
    await rejectsWith(h.rds.send(new StopDBInstanceCommand({ DBInstanceIdentifier: 'main' })), 'InvalidDBInstanceStateFault', 'has read replicas (main-ro)');
    await rejectsWith(h.rds.send(new StopDBInstanceCommand({ DBInstanceIdentifier: 'main-ro' })), 'InvalidDBInstanceStateFault', 'is a read replica of main');
    assert.deepEqual([(await describeIn(h.rds, 'main')).DBInstanceStatus, (await describeIn(h.rds, 'main-ro')).DBInstanceStatus], ['available', 'available']);
    const alone = await h.rds.send(new StopDBInstanceCommand({ DBInstanceIdentifier: 'nobackups' }));
    assert.equal(alone.DBInstance?.DBInstanceStatus, 'stopping', 'an instance without replicas stops');
  });

  it('cascading: a replica of a replica needs PostgreSQL 14.1+ and automated backups on the replica; at most three levels; at most 15 replicas', async function () {
    await h.admin.seed({
      catalogue: [
        { engine: 'postgres', major: '13', versions: ['13.10', '13.13'], autoUpgradeTarget: '13.13' },
        { engine: 'postgres', major: '15', versions: ['15.5', '15.8'], autoUpgradeTarget: '15.8' },
      ],
      instances: [
        { region: REGION, id: 'old', engineVersion: '13.10' },
        { region: REGION, id: 'old-ro', replicaOf: 'old' },
        { region: REGION, id: 'old-ro-backed-up', replicaOf: 'old', backupRetentionPeriod: 1 },
      ],
    });
    const create = (id: string, source: string): Promise<unknown> => h.rds.send(new CreateDBInstanceReadReplicaCommand({ DBInstanceIdentifier: id, SourceDBInstanceIdentifier: source }));
    await rejectsWith(h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'old-ro', BackupRetentionPeriod: 7 })), 'InvalidDBInstanceStateFault', 'DB Backups not supported on a read replica for engine postgres');
    await rejectsWith(create('old-ro-ro', 'old-ro'), 'InvalidDBInstanceStateFault', 'Automated backups are not enabled');
    await rejectsWith(create('old-ro-ro', 'old-ro-backed-up'), 'InvalidDBInstanceStateFault', 'cascading read replicas need RDS for PostgreSQL 14.1');
    await create('l1', 'main');
    h.advance(60);
    // A replica is created with backups disabled.
    await rejectsWith(create('l2', 'l1'), 'InvalidDBInstanceStateFault', 'Automated backups are not enabled');
    for (const [id, source] of [['l2', 'l1'], ['l3', 'l2']]) {
      await h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: source, BackupRetentionPeriod: 1 }));
      await create(id, source);
      h.advance(60);
    }
    await h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'l3', BackupRetentionPeriod: 1 }));
    await rejectsWith(create('l4', 'l3'), 'InvalidDBInstanceStateFault', 'last of 3 cascading read replicas');
    for (let n = 2; n <= 15; n++) await create(`fan-${n}`, 'main');
    await rejectsWith(create('fan-16', 'main'), 'InvalidDBInstanceStateFault', 'up to 15');
  });

  it('seeding: replicaOf an instance of the same Region ("id") or of another ({ region, id }); the state file keeps them', async function () {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-replicas-'));
    try {
      const clock = new ManualClock(Date.UTC(2025, 0, 6, 12, 0, 0));
      const stateFile = path.join(tmp, 'state.json');
      const first = await startSimulator({ port: 0, clock, stateFile });
      await new SimAdminClient(first.url).seed({
        instances: [
          { region: REGION, id: 'src', engineVersion: '15.5' },
          { region: REGION, id: 'src-ro', replicaOf: 'src', engineVersion: '15.8' },
          { region: OTHER_REGION, id: 'src-dr', replicaOf: { region: REGION, id: 'src' } },
        ],
      });
      await assert.rejects(new SimAdminClient(first.url).seed({ instances: [{ region: REGION, id: 'behind', replicaOf: 'src-ro', engineVersion: '15.5' }] }), /not below its 15.8/);
      await first.close();
      const second = await startSimulator({ port: 0, clock, stateFile });
      const client = (region: string): RDSClient => new RDSClient({ endpoint: second.url, region, credentials: CREDENTIALS });
      const [here, there] = [client(REGION), client(OTHER_REGION)];
      try {
        const src = await describeIn(here, 'src');
        assert.deepEqual(src.ReadReplicaDBInstanceIdentifiers, ['src-ro', arn(OTHER_REGION, 'src-dr')]);
        const ro = await describeIn(here, 'src-ro');
        assert.deepEqual([ro.ReadReplicaSourceDBInstanceIdentifier, ro.EngineVersion, ro.DBInstanceStatus], ['src', '15.8', 'available']);
        const dr = await describeIn(there, 'src-dr');
        assert.deepEqual([dr.ReadReplicaSourceDBInstanceIdentifier, dr.EngineVersion], [arn(REGION, 'src'), '15.5']);
      } finally {
        here.destroy();
        there.destroy();
        await second.close();
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('conforms to botocore’s rds model: CreateDBInstanceReadReplica, DescribeDBInstances of source and replica, DBUpgradeDependencyFailure', async function () {
    const creds = { ...CREDENTIALS };
    const call = (region: string, form: Record<string, string>): ReturnType<typeof rawQueryIn> => rawQueryIn(h.sim.url, 'rds', creds, region, { Version: '2014-10-31', ...form });
    const created = await call(OTHER_REGION, { Action: 'CreateDBInstanceReadReplica', DBInstanceIdentifier: 'main-dr', SourceDBInstanceIdentifier: arn(REGION, 'main'), 'Tags.Tag.1.Key': 'k', 'Tags.Tag.1.Value': 'v' });
    assert.equal(created.status, 200, created.body);
    assert.deepEqual(problems(model.validate('CreateDBInstanceReadReplica', created)), []);
    await call(REGION, { Action: 'CreateDBInstanceReadReplica', DBInstanceIdentifier: 'main-ro', SourceDBInstanceIdentifier: 'main' });
    h.advance(60);
    for (const [region, id] of [[REGION, 'main'], [REGION, 'main-ro'], [OTHER_REGION, 'main-dr']] as const) {
      const described = await call(region, { Action: 'DescribeDBInstances', DBInstanceIdentifier: id });
      assert.deepEqual(problems(model.validate('DescribeDBInstances', described)), [], id);
    }
    const refused = await call(REGION, { Action: 'ModifyDBInstance', DBInstanceIdentifier: 'main', EngineVersion: '15.8', ApplyImmediately: 'true' });
    assert.equal(refused.status, 400, refused.body);
    assert.match(refused.body, /<Code>DBUpgradeDependencyFailure<\/Code>/);
    assert.deepEqual(problems(model.validate('ModifyDBInstance', refused)), [], 'a modelled error of ModifyDBInstance, HTTP 400, Sender');
    const noBackups = await call(REGION, { Action: 'CreateDBInstanceReadReplica', DBInstanceIdentifier: 'r', SourceDBInstanceIdentifier: 'nobackups' });
    assert.deepEqual(problems(model.validate('CreateDBInstanceReadReplica', noBackups)), []);
  });
});
