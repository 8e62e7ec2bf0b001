/**
 * Blue/green deployments of a primary with read replicas (sim/src/rds/blue-green*.ts), through the real SDK, as the RDS
 * User Guide describes them: "If the blue DB instance has read replicas, they are copied as replicas of the green
 * instance. The allocated storage of all green replicas matches the green primary instance, while other storage
 * parameters are inherited from the blue replicas" (blue-green-deployments-creating.html); the switchover renames every
 * pair ("The green environment read replica named mydb2-green-abc123 becomes the production read replica mydb2", "The
 * blue environment read replica named mydb2 becomes mydb2-old1", blue-green-deployments-overview.html); SwitchoverDetails
 * has one member per resource (the AWS CLI's examples of an instance with three replicas). What blue/green deployments
 * don't support is refused: "Cascading read replicas", "Cross-Region read replicas" (blue-green-deployments-
 * considerations.html), and a read replica as the source (the simulator's choice, sim/README.md).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CreateDBInstanceReadReplicaCommand,
  DescribeBlueGreenDeploymentsCommand,
  DescribeDBInstancesCommand,
  ModifyDBInstanceCommand,
  SwitchoverBlueGreenDeploymentCommand,
  type BlueGreenDeployment,
} from '@aws-sdk/client-rds';
import { loadServiceModel, locateBotocore } from '../../../test/conformance/service-model';
import type { Finding } from '../../../test/conformance/service-model';
import { CREDENTIALS, REGION, rejectsWith, startHarness } from '../helpers';
import type { SimHarness } from '../helpers';
import { rawQueryIn } from '../raw-aws';
import { PROVISIONING_SECONDS, SWITCHOVER_SECONDS, blueGreenReads, instanceArn } from './blue-green-reads';

const OTHER_REGION = 'us-east-1';
/** A read replica goes `creating` → `available` in the default `creating` duration. */
const REPLICA_SECONDS = 60;
const problems = (findings: Finding[]): string[] => findings.map((f) => `${f.operation} ${f.path}: ${f.problem}`);
const idOf = (arn: string | undefined): string => (arn ?? '').split(':db:')[1] as string;
const members = (d: BlueGreenDeployment | undefined): string[] =>
  (d?.SwitchoverDetails ?? []).map((m) => `${idOf(m.SourceMember)} → ${m.TargetMember === undefined ? '-' : idOf(m.TargetMember)}: ${m.Status}`);

describe('sim: RDS blue/green deployments of a primary with read replicas', function () {
  let h: SimHarness;
  const bg = blueGreenReads(() => h);
  beforeEach(async function () {
    h = await startHarness();
    await bg.seedSource('shop', { tags: { team: 'payments' }, instanceClass: 'db.r6g.large', allocatedStorage: 100, storageType: 'gp3' });
    await h.admin.seed({
      instances: [
        { region: REGION, id: 'shop-ro1', replicaOf: 'shop', storageType: 'io1', iops: 3000, tags: { role: 'reader' } },
        { region: REGION, id: 'shop-ro2', replicaOf: 'shop', instanceClass: 'db.t4g.medium' },
      ],
    });
  });
  afterEach(async function () {
    await h?.close();
  });

  const allInstances = async (): Promise<string[]> => ((await h.rds.send(new DescribeDBInstancesCommand({}))).DBInstances ?? []).map((i) => i.DBInstanceIdentifier as string).sort();
  const greenReplicaIds = async (greenPrimary: string): Promise<string[]> => [...((await h.describeOne(greenPrimary)).ReadReplicaDBInstanceIdentifiers ?? [])].sort();

  it('copies each replica as a replica of the green primary, at the target version; the switchover renames every pair and moves each endpoint; replication follows the new primary', async function () {
    const blue = { shop: await h.describeOne('shop'), ro1: await h.describeOne('shop-ro1'), ro2: await h.describeOne('shop-ro2') };
    const created = await bg.create('shop-to-16', 'shop', { TargetAllocatedStorage: 200 });
    // As AWS's example of an instance with replicas: one member per resource, the primary first, no targets yet.
    assert.deepEqual(members(created), ['shop → -: PROVISIONING', 'shop-ro1 → -: PROVISIONING', 'shop-ro2 → -: PROVISIONING']);
    assert.equal(created.Tasks?.length, 4);
    const id = created.BlueGreenDeploymentIdentifier as string;
    const greenPrimary = idOf((await bg.describe(id)).Target);
    assert.match(greenPrimary, /^shop-green-[a-z0-9]{6}$/);
    assert.deepEqual(members(await bg.describe(id)), [`shop → ${greenPrimary}: PROVISIONING`, 'shop-ro1 → -: PROVISIONING', 'shop-ro2 → -: PROVISIONING']);

    // The green primary is made, upgraded and backed up first; then its replicas (CREATING_TOPOLOGY_OF_SOURCE).
    h.advance(PROVISIONING_SECONDS);
    const topology = await bg.describe(id);
    assert.equal(topology.Status, 'PROVISIONING');
    assert.deepEqual(topology.Tasks?.map((t) => `${t.Name}:${t.Status}`), [
      'CREATING_READ_REPLICA_OF_SOURCE:COMPLETED',
      'DB_ENGINE_VERSION_UPGRADE:COMPLETED',
      'CONFIGURE_BACKUPS:COMPLETED',
      'CREATING_TOPOLOGY_OF_SOURCE:IN_PROGRESS',
    ]);
    const [green1, green2] = await greenReplicaIds(greenPrimary);
    assert.match(green1 ?? '', /^shop-ro1-green-[a-z0-9]{6}$/);
    assert.match(green2 ?? '', /^shop-ro2-green-[a-z0-9]{6}$/);
    assert.deepEqual(members(topology), [`shop → ${greenPrimary}: PROVISIONING`, `shop-ro1 → ${green1}: PROVISIONING`, `shop-ro2 → ${green2}: PROVISIONING`]);
    const g1 = await h.describeOne(green1 as string);
    // The green primary's version and allocated storage; the blue replica's other storage settings, class and tags.
    assert.deepEqual(
      [g1.DBInstanceStatus, g1.EngineVersion, g1.ReadReplicaSourceDBInstanceIdentifier, g1.AllocatedStorage, g1.StorageType, g1.Iops, g1.DBInstanceClass, g1.DBParameterGroups?.[0]?.DBParameterGroupName],
      ['creating', '16.4', greenPrimary, 200, 'io1', 3000, 'db.r6g.large', 'app-pg16'],
    );
    assert.deepEqual(g1.TagList, [{ Key: 'role', Value: 'reader' }]);
    assert.notEqual(g1.Endpoint?.Address, blue.ro1.Endpoint?.Address, 'its own endpoint');
    const g2 = await h.describeOne(green2 as string);
    assert.deepEqual([g2.EngineVersion, g2.AllocatedStorage, g2.StorageType, g2.DBInstanceClass], ['16.4', 200, 'gp3', 'db.t4g.medium']);

    h.advance(REPLICA_SECONDS);
    const available = await bg.describe(id);
    assert.equal(available.Status, 'AVAILABLE');
    assert.deepEqual(available.Tasks?.map((t) => t.Status), ['COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED']);
    assert.deepEqual(members(available), [`shop → ${greenPrimary}: AVAILABLE`, `shop-ro1 → ${green1}: AVAILABLE`, `shop-ro2 → ${green2}: AVAILABLE`]);
    assert.deepEqual(((await h.describeOne(green1 as string)).StatusInfos ?? []).map((s) => s.Status), ['replicating']);

    const switching = (await h.rds.send(new SwitchoverBlueGreenDeploymentCommand({ BlueGreenDeploymentIdentifier: id }))).BlueGreenDeployment;
    assert.deepEqual(members(switching), [`shop → ${greenPrimary}: AVAILABLE`, `shop-ro1 → ${green1}: AVAILABLE`, `shop-ro2 → ${green2}: AVAILABLE`], "AWS's example answer");
    assert.deepEqual(members(await bg.describe(id)).map((m) => m.split(': ')[1]), ['SWITCHOVER_IN_PROGRESS', 'SWITCHOVER_IN_PROGRESS', 'SWITCHOVER_IN_PROGRESS']);
    // "Drops connections to the DB instances in both environments"; none of them may be modified meanwhile.
    for (const name of ['shop-ro1', 'shop-ro2', green1 as string, green2 as string]) assert.equal((await fetch(h.admin.appStatusUrl(REGION, name))).status, 503, name);
    await rejectsWith(h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'shop-ro2', AutoMinorVersionUpgrade: true })), 'InvalidDBInstanceStateFault', 'switchover');
    h.advance(SWITCHOVER_SECONDS);

    const done = await bg.describe(id);
    assert.deepEqual([done.Status, done.Source, done.Target], ['SWITCHOVER_COMPLETED', instanceArn('shop-old1'), instanceArn('shop')]);
    assert.deepEqual(done.SwitchoverDetails, [
      { SourceMember: instanceArn('shop-old1'), TargetMember: instanceArn('shop'), Status: 'SWITCHOVER_COMPLETED' },
      { SourceMember: instanceArn('shop-ro1-old1'), TargetMember: instanceArn('shop-ro1'), Status: 'SWITCHOVER_COMPLETED' },
      { SourceMember: instanceArn('shop-ro2-old1'), TargetMember: instanceArn('shop-ro2'), Status: 'SWITCHOVER_COMPLETED' },
    ]);
    assert.deepEqual(await allInstances(), ['shop', 'shop-old1', 'shop-ro1', 'shop-ro1-old1', 'shop-ro2', 'shop-ro2-old1'], 'nothing deleted, no green name left');

    // The new production environment: the green instances under the blue names, endpoints, addresses and ports.
    const shop = await h.describeOne('shop');
    assert.deepEqual([shop.EngineVersion, shop.Endpoint], ['16.4', blue.shop.Endpoint]);
    assert.deepEqual([...(shop.ReadReplicaDBInstanceIdentifiers ?? [])].sort(), ['shop-ro1', 'shop-ro2'], 'the new primary replicates to the new replicas');
    const ro1 = await h.describeOne('shop-ro1');
    assert.deepEqual(
      [ro1.EngineVersion, ro1.ReadReplicaSourceDBInstanceIdentifier, ro1.Endpoint, ro1.DbiResourceId, ro1.DBInstanceStatus],
      ['16.4', 'shop', blue.ro1.Endpoint, g1.DbiResourceId, 'available'],
    );
    assert.deepEqual(ro1.TagList, [{ Key: 'role', Value: 'reader' }]);
    assert.deepEqual([(await h.describeOne('shop-ro2')).ReadReplicaSourceDBInstanceIdentifier, (await h.describeOne('shop-ro2')).Endpoint], ['shop', blue.ro2.Endpoint]);
    // The previous production environment keeps its own replication, under the -old1 names.
    const old = await h.describeOne('shop-old1');
    assert.deepEqual([old.EngineVersion, old.DbiResourceId, [...(old.ReadReplicaDBInstanceIdentifiers ?? [])].sort()], ['15.5', blue.shop.DbiResourceId, ['shop-ro1-old1', 'shop-ro2-old1']]);
    const oldRo1 = await h.describeOne('shop-ro1-old1');
    assert.deepEqual([oldRo1.EngineVersion, oldRo1.ReadReplicaSourceDBInstanceIdentifier, oldRo1.DbiResourceId], ['15.5', 'shop-old1', blue.ro1.DbiResourceId]);
    assert.match(oldRo1.Endpoint?.Address ?? '', /^shop-ro1-old1\./);
    for (const name of ['shop', 'shop-ro1', 'shop-ro2', 'shop-old1', 'shop-ro1-old1']) assert.equal((await h.admin.appStatus(REGION, name)).healthy, true, name);
  });

  it('TargetDBInstanceClass applies to every green instance; a major upgrade moves green replicas on a default group to the new default; a rolled-back switchover leaves every pair as it was', async function () {
    await bg.seedSource('plain', { parameterGroupName: undefined });
    await h.admin.seed({ instances: [{ region: REGION, id: 'plain-ro', replicaOf: 'plain' }] });
    const id = (await bg.create('plain-to-16', 'plain', { TargetEngineVersion: '16', TargetDBParameterGroupName: undefined, TargetDBInstanceClass: 'db.r6g.xlarge' })).BlueGreenDeploymentIdentifier as string;
    const ready = await bg.untilAvailable(id);
    const [, replicaPair] = ready.SwitchoverDetails ?? [];
    const greenReplica = await h.describeOne(idOf(replicaPair?.TargetMember));
    assert.deepEqual(
      [greenReplica.DBInstanceClass, greenReplica.EngineVersion, greenReplica.DBParameterGroups?.[0]?.DBParameterGroupName, greenReplica.ReadReplicaSourceDBInstanceIdentifier],
      ['db.r6g.xlarge', '16.4', 'default.postgres16', idOf(ready.Target)],
    );
    assert.equal((await h.describeOne(idOf(ready.Target))).DBInstanceClass, 'db.r6g.xlarge');

    await h.admin.blueGreenFault({ region: REGION, deployment: id, fault: 'switchover-rollback', afterSeconds: 30 });
    await h.rds.send(new SwitchoverBlueGreenDeploymentCommand({ BlueGreenDeploymentIdentifier: id, SwitchoverTimeout: 60 }));
    assert.equal((await fetch(h.admin.appStatusUrl(REGION, 'plain-ro'))).status, 503);
    h.advance(30);
    const failed = await bg.describe(id);
    assert.deepEqual(members(failed).map((m) => m.split(': ')[1]), ['SWITCHOVER_FAILED', 'SWITCHOVER_FAILED']);
    assert.deepEqual([idOf(replicaPair?.SourceMember), (await h.describeOne('plain-ro')).ReadReplicaSourceDBInstanceIdentifier], ['plain-ro', 'plain']);
    assert.equal((await h.admin.appStatus(REGION, 'plain-ro')).healthy, true, 'writes and connections allowed again');
    assert.equal((await h.admin.appStatus(REGION, greenReplica.DBInstanceIdentifier as string)).healthy, true);
  });

  it('refused: a read replica as the source, a cross-Region replica, a cascading replica, a replica not available, a custom-group replica on a major upgrade without a target group; nothing is made', async function () {
    const before = await allInstances();
    await rejectsWith(bg.create('of-a-replica', 'shop-ro1'), 'SourceDatabaseNotSupportedFault', 'shop-ro1 is a read replica of shop');

    await bg.seedSource('world');
    await h.admin.seed({ instances: [{ region: OTHER_REGION, id: 'world-dr', replicaOf: { region: REGION, id: 'world' } }] });
    await rejectsWith(bg.create('cross-region', 'world'), 'SourceDatabaseNotSupportedFault', "cross-Region read replicas (arn:aws:rds:us-east-1:123456789012:db:world-dr), which blue/green deployments don't support");

    await bg.seedSource('chain');
    await h.admin.seed({
      instances: [
        { region: REGION, id: 'chain-ro', replicaOf: 'chain', backupRetentionPeriod: 7 },
        { region: REGION, id: 'chain-ro-ro', replicaOf: 'chain-ro' },
      ],
    });
    await rejectsWith(bg.create('cascading', 'chain'), 'SourceDatabaseNotSupportedFault', 'cascading read replicas (chain-ro has read replicas)');

    await bg.seedSource('fresh');
    await h.rds.send(new CreateDBInstanceReadReplicaCommand({ DBInstanceIdentifier: 'fresh-ro', SourceDBInstanceIdentifier: 'fresh' }));
    await rejectsWith(bg.create('fresh', 'fresh'), 'InvalidDBInstanceStateFault', 'fresh-ro, a read replica of fresh, is not in available state (it is creating)');

    await bg.seedSource('mixed', { parameterGroupName: undefined });
    await h.admin.seed({ instances: [{ region: REGION, id: 'mixed-ro', replicaOf: 'mixed', parameterGroupName: 'app-pg15' }] });
    await rejectsWith(bg.create('mixed', 'mixed', { TargetDBParameterGroupName: undefined }), 'InvalidParameterCombination', 'app-pg15 of read replica mixed-ro is custom');

    assert.deepEqual((await h.rds.send(new DescribeBlueGreenDeploymentsCommand({}))).BlueGreenDeployments, []);
    assert.deepEqual(
      (await allInstances()).filter((i) => !before.includes(i)),
      ['chain', 'chain-ro', 'chain-ro-ro', 'fresh', 'fresh-ro', 'mixed', 'mixed-ro', 'world'],
      'no green instance made',
    );
  });

  it('provisioning-failed while the green replicas are made: CREATING_TOPOLOGY_OF_SOURCE FAILED, the green replicas failed, INVALID_CONFIGURATION', async function () {
    const id = (await bg.create('doomed', 'shop')).BlueGreenDeploymentIdentifier as string;
    h.advance(PROVISIONING_SECONDS);
    const greenPrimary = idOf((await bg.describe(id)).Target);
    const greens = await greenReplicaIds(greenPrimary);
    await h.admin.blueGreenFault({ region: REGION, deployment: id, fault: 'provisioning-failed', reason: 'a green replica could not be created.' });
    const failed = await bg.describe(id);
    assert.deepEqual([failed.Status, failed.StatusDetails], ['INVALID_CONFIGURATION', 'Creation of blue/green deployment failed: a green replica could not be created.']);
    assert.deepEqual(failed.Tasks?.map((t) => t.Status), ['COMPLETED', 'COMPLETED', 'COMPLETED', 'FAILED']);
    for (const g of greens) assert.equal((await h.describeOne(g)).DBInstanceStatus, 'failed', g);
    assert.equal((await h.describeOne(greenPrimary)).DBInstanceStatus, 'available');
    await rejectsWith(h.rds.send(new SwitchoverBlueGreenDeploymentCommand({ BlueGreenDeploymentIdentifier: id })), 'InvalidBlueGreenDeploymentStateFault');
  });

  it('survives restarts with the state file: before the replicas are copied, while they are made, mid-switchover', async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-sim-bg-replicas-'));
    try {
      const stateFile = path.join(dir, 'sim.json');
      await h.close();
      h = await startHarness({ stateFile });
      await bg.seedSource('shop');
      await h.admin.seed({ instances: [{ region: REGION, id: 'shop-ro1', replicaOf: 'shop' }] });
      const restart = async (): Promise<void> => {
        const at = h.clock.now();
        await h.close();
        h = await startHarness({ stateFile, startAt: at });
      };
      const id = (await bg.create('durable', 'shop')).BlueGreenDeploymentIdentifier as string;
      await restart();
      assert.deepEqual(members(await bg.describe(id)).slice(1), ['shop-ro1 → -: PROVISIONING']);
      h.advance(PROVISIONING_SECONDS + 10);
      const making = await bg.describe(id);
      const greenReplica = idOf(making.SwitchoverDetails?.[1]?.TargetMember);
      assert.match(greenReplica, /^shop-ro1-green-/);
      await restart();
      assert.deepEqual([(await bg.describe(id)).Status, (await h.describeOne(greenReplica)).DBInstanceStatus], ['PROVISIONING', 'creating']);
      h.advance(REPLICA_SECONDS - 10);
      assert.equal((await bg.describe(id)).Status, 'AVAILABLE');
      await h.rds.send(new SwitchoverBlueGreenDeploymentCommand({ BlueGreenDeploymentIdentifier: id }));
      await restart();
      assert.equal((await h.admin.appStatus(REGION, 'shop-ro1')).healthy, false, 'the outage survives the restart');
      h.advance(SWITCHOVER_SECONDS);
      await restart();
      const done = await bg.describe(id);
      assert.deepEqual(members(done), ['shop-old1 → shop: SWITCHOVER_COMPLETED', 'shop-ro1-old1 → shop-ro1: SWITCHOVER_COMPLETED']);
      assert.deepEqual([(await h.describeOne('shop-ro1')).ReadReplicaSourceDBInstanceIdentifier, (await h.describeOne('shop-ro1')).EngineVersion], ['shop', '16.4']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("botocore's rds model validates the answers of a deployment with replicas, raw, and its refusals", async function () {
    const model = loadServiceModel('rds', locateBotocore().dataDir);
    const call = (form: Record<string, string>): ReturnType<typeof rawQueryIn> => rawQueryIn(h.sim.url, 'rds', CREDENTIALS, REGION, { Version: '2014-10-31', ...form });
    const checked: Array<[string, Awaited<ReturnType<typeof rawQueryIn>>, number]> = [];
    const check = async (form: Record<string, string>, status: number): Promise<string> => {
      const res = await call(form);
      checked.push([form.Action as string, res, status]);
      return res.body;
    };
    const created = await check({ Action: 'CreateBlueGreenDeployment', BlueGreenDeploymentName: 'raw', Source: instanceArn('shop'), TargetEngineVersion: '16.4', TargetDBParameterGroupName: 'app-pg16' }, 200);
    const id = /<BlueGreenDeploymentIdentifier>([^<]+)</.exec(created)?.[1] as string;
    await check({ Action: 'CreateBlueGreenDeployment', BlueGreenDeploymentName: 'raw2', Source: instanceArn('shop-ro1') }, 400);
    h.advance(PROVISIONING_SECONDS);
    await check({ Action: 'DescribeBlueGreenDeployments', BlueGreenDeploymentIdentifier: id }, 200);
    h.advance(REPLICA_SECONDS);
    await check({ Action: 'SwitchoverBlueGreenDeployment', BlueGreenDeploymentIdentifier: id }, 200);
    h.advance(SWITCHOVER_SECONDS);
    const done = await check({ Action: 'DescribeBlueGreenDeployments', BlueGreenDeploymentIdentifier: id }, 200);
    assert.equal(done.match(/<TargetMember>/g)?.length, 3);
    await check({ Action: 'DescribeDBInstances', DBInstanceIdentifier: 'shop-ro1' }, 200);
    for (const [operation, res, status] of checked) {
      assert.equal(res.status, status, `${operation}: ${res.body}`);
      assert.deepEqual(problems(model.validate(operation, res)), [], `${operation} ${res.status}`);
    }
    const err = /<Code>([^<]+)</.exec(checked[1]?.[1].body ?? '')?.[1];
    assert.equal(err, 'SourceDatabaseNotSupportedFault');
  });
});
