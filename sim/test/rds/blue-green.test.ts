/**
 * RDS Blue/Green Deployments of a DB instance through the real SDK (sim/src/rds/blue-green*.ts): create, provisioning
 * over simulated time, switchover with the renames and endpoints the User Guide describes, the refusals, Describe's
 * filters and paging, tags, delete, the state file, and the write outage the app status probe sees; the raw answers
 * are checked against botocore's `rds/2014-10-31` model. Faults: blue-green-faults.test.ts; a PostgreSQL-backed
 * instance's data path: sim/test/postgres/blue-green.test.ts.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  AddTagsToResourceCommand,
  DeleteBlueGreenDeploymentCommand,
  DescribeBlueGreenDeploymentsCommand,
  DescribeDBInstancesCommand,
  ListTagsForResourceCommand,
  ModifyDBInstanceCommand,
  RemoveTagsFromResourceCommand,
  SwitchoverBlueGreenDeploymentCommand,
  type DBInstance,
} from '@aws-sdk/client-rds';
import { loadServiceModel, locateBotocore } from '../../../test/conformance/service-model';
import type { Finding, ServiceModel } from '../../../test/conformance/service-model';
import { ACCOUNT, CREDENTIALS, REGION, rejectsWith, startHarness } from '../helpers';
import type { SimHarness } from '../helpers';
import { rawQueryIn } from '../raw-aws';
import { PROVISIONING_SECONDS, SWITCHOVER_SECONDS, blueGreenReads, instanceArn } from './blue-green-reads';

const problems = (findings: Finding[]): string[] => findings.map((f) => `${f.operation} ${f.path}: ${f.problem}`);

describe('sim: RDS blue/green deployments', function () {
  let h: SimHarness;
  const bg = blueGreenReads(() => h);
  beforeEach(async function () {
    h = await startHarness();
    await bg.seedSource('shop', { tags: { team: 'payments' }, instanceClass: 'db.r6g.large', allocatedStorage: 100, storageType: 'gp3' });
  });
  afterEach(async function () {
    await h?.close();
  });

  const allInstances = async (): Promise<DBInstance[]> => (await h.rds.send(new DescribeDBInstancesCommand({}))).DBInstances ?? [];

  it('create → PROVISIONING (tasks follow the green) → AVAILABLE → switchover → SWITCHOVER_COMPLETED: the green takes the name, endpoint and tags; the blue becomes -old1', async function () {
    const blueBefore = await h.describeOne('shop');
    const created = await bg.create('shop-to-16', 'shop', { Tags: [{ Key: 'change', Value: 'CHG-1' }] });
    // The answer as AWS's own example shows it: PROVISIONING, every task PENDING, no Target yet.
    assert.match(created.BlueGreenDeploymentIdentifier ?? '', /^bgd-[a-z0-9]{16}$/);
    assert.deepEqual([created.Status, created.Source, created.Target], ['PROVISIONING', instanceArn('shop'), undefined]);
    assert.deepEqual(created.SwitchoverDetails, [{ SourceMember: instanceArn('shop'), Status: 'PROVISIONING' }]);
    assert.deepEqual(
      created.Tasks?.map((t) => `${t.Name}:${t.Status}`),
      ['CREATING_READ_REPLICA_OF_SOURCE:PENDING', 'DB_ENGINE_VERSION_UPGRADE:PENDING', 'CONFIGURE_BACKUPS:PENDING', 'CREATING_TOPOLOGY_OF_SOURCE:PENDING'],
    );
    assert.deepEqual(created.TagList, [{ Key: 'change', Value: 'CHG-1' }]);
    assert.ok(created.CreateTime instanceof Date);
    const id = created.BlueGreenDeploymentIdentifier as string;

    const provisioning = await bg.describe(id);
    const greenArn = provisioning.Target as string;
    const greenId = greenArn.split(':db:')[1] as string;
    assert.match(greenId, /^shop-green-[a-z0-9]{6}$/);
    assert.deepEqual(provisioning.SwitchoverDetails, [{ SourceMember: instanceArn('shop'), TargetMember: greenArn, Status: 'PROVISIONING' }]);
    assert.equal(provisioning.Tasks?.[0]?.Status, 'IN_PROGRESS');
    // The green: the source's settings, its own endpoint, created at the source's version, then upgraded.
    const green = await h.describeOne(greenId);
    assert.deepEqual(
      [green.DBInstanceStatus, green.EngineVersion, green.DBInstanceClass, green.AllocatedStorage, green.StorageType, green.PreferredMaintenanceWindow, green.AutoMinorVersionUpgrade],
      ['creating', '15.5', 'db.r6g.large', 100, 'gp3', 'wed:03:00-wed:03:30', false],
    );
    assert.deepEqual(green.TagList, [{ Key: 'team', Value: 'payments' }]);
    assert.deepEqual(green.VpcSecurityGroups?.map((g) => g.VpcSecurityGroupId), blueBefore.VpcSecurityGroups?.map((g) => g.VpcSecurityGroupId));
    assert.equal(green.DBSubnetGroup?.DBSubnetGroupName, blueBefore.DBSubnetGroup?.DBSubnetGroupName);
    h.advance(61);
    assert.deepEqual(
      (await bg.describe(id)).Tasks?.map((t) => t.Status),
      ['COMPLETED', 'IN_PROGRESS', 'PENDING', 'PENDING'],
    );
    assert.equal((await h.describeOne(greenId)).DBInstanceStatus, 'upgrading');
    h.advance(PROVISIONING_SECONDS - 61);
    const available = await bg.describe(id);
    assert.equal(available.Status, 'AVAILABLE');
    assert.deepEqual(available.Tasks?.map((t) => t.Status), ['COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED']);
    assert.equal(available.SwitchoverDetails?.[0]?.Status, 'AVAILABLE');
    const greenReady = await h.describeOne(greenId);
    assert.deepEqual([greenReady.DBInstanceStatus, greenReady.EngineVersion, greenReady.DBParameterGroups?.[0]?.DBParameterGroupName], ['available', '16.4', 'app-pg16']);
    assert.notEqual(greenReady.Endpoint?.Address, blueBefore.Endpoint?.Address, 'its own endpoint');

    const switching = (await h.rds.send(new SwitchoverBlueGreenDeploymentCommand({ BlueGreenDeploymentIdentifier: id, SwitchoverTimeout: 120 }))).BlueGreenDeployment;
    // AWS's example answer: the deployment SWITCHOVER_IN_PROGRESS, its member still AVAILABLE.
    assert.deepEqual([switching?.Status, switching?.SwitchoverDetails?.[0]?.Status], ['SWITCHOVER_IN_PROGRESS', 'AVAILABLE']);
    assert.equal((await bg.describe(id)).SwitchoverDetails?.[0]?.Status, 'SWITCHOVER_IN_PROGRESS');
    // Both instances still show available; nothing may modify them meanwhile.
    assert.equal((await h.describeOne('shop')).DBInstanceStatus, 'available');
    await rejectsWith(h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: greenId, AutoMinorVersionUpgrade: true })), 'InvalidDBInstanceStateFault', 'switchover');
    h.advance(SWITCHOVER_SECONDS);

    const done = await bg.describe(id);
    assert.deepEqual([done.Status, done.StatusDetails], ['SWITCHOVER_COMPLETED', 'Switchover completed']);
    // After a switchover, as AWS's example shows: Source is the renamed blue, Target the instance under the old name.
    assert.deepEqual([done.Source, done.Target], [instanceArn('shop-old1'), instanceArn('shop')]);
    assert.deepEqual(done.SwitchoverDetails, [{ SourceMember: instanceArn('shop-old1'), TargetMember: instanceArn('shop'), Status: 'SWITCHOVER_COMPLETED' }]);
    const production = await h.describeOne('shop');
    assert.deepEqual([production.EngineVersion, production.DbiResourceId, production.DBInstanceArn], ['16.4', greenReady.DbiResourceId, instanceArn('shop')]);
    assert.deepEqual(production.Endpoint, blueBefore.Endpoint, 'the original endpoint, address and port');
    assert.deepEqual(production.TagList, [{ Key: 'team', Value: 'payments' }]);
    const old = await h.describeOne('shop-old1');
    assert.deepEqual([old.EngineVersion, old.DbiResourceId, old.DBInstanceStatus], ['15.5', blueBefore.DbiResourceId, 'available']);
    assert.match(old.Endpoint?.Address ?? '', /^shop-old1\./);
    assert.deepEqual(old.TagList, [{ Key: 'team', Value: 'payments' }], 'the previous production instance keeps its tags');
    assert.deepEqual((await allInstances()).map((i) => i.DBInstanceIdentifier), ['shop', 'shop-old1'], 'nothing deleted, no green name left');
    await rejectsWith(h.describeOne(greenId), 'DBInstanceNotFoundFault');
  });

  it('a deployment without TargetEngineVersion keeps the version (no DB_ENGINE_VERSION_UPGRADE task); a minor target; a bare major; the green of a default group gets the new default', async function () {
    await bg.seedSource('plain', { parameterGroupName: undefined });
    const same = await bg.create('same-version', 'shop', { TargetEngineVersion: undefined, TargetDBParameterGroupName: undefined });
    assert.deepEqual(same.Tasks?.map((t) => t.Name), ['CREATING_READ_REPLICA_OF_SOURCE', 'CONFIGURE_BACKUPS', 'CREATING_TOPOLOGY_OF_SOURCE']);
    const major = await bg.create('plain-to-16', 'plain', { TargetEngineVersion: '16', TargetDBParameterGroupName: undefined });
    await bg.untilAvailable(same.BlueGreenDeploymentIdentifier as string);
    const majorDone = await bg.untilAvailable(major.BlueGreenDeploymentIdentifier as string);
    const sameGreen = await h.describeOne((await bg.describe(same.BlueGreenDeploymentIdentifier as string)).Target?.split(':db:')[1] as string);
    assert.deepEqual([sameGreen.EngineVersion, sameGreen.DBParameterGroups?.[0]?.DBParameterGroupName], ['15.5', 'app-pg15']);
    const majorGreen = await h.describeOne(majorDone.Target?.split(':db:')[1] as string);
    assert.deepEqual([majorGreen.EngineVersion, majorGreen.DBParameterGroups?.[0]?.DBParameterGroupName], ['16.4', 'default.postgres16'], 'a bare major is its preferred minor');
    await bg.seedSource('minor');
    const minor = await bg.create('minor', 'minor', { TargetEngineVersion: '15.8', TargetDBParameterGroupName: undefined });
    const minorGreen = await h.describeOne((await bg.untilAvailable(minor.BlueGreenDeploymentIdentifier as string)).Target?.split(':db:')[1] as string);
    assert.deepEqual([minorGreen.EngineVersion, minorGreen.DBParameterGroups?.[0]?.DBParameterGroupName], ['15.8', 'app-pg15']);
  });

  it('refusals: unknown or malformed source, invalid target version or parameter group, a second deployment of a source, a taken name, a source not available or with a managed password, unknown identifiers, a switchover not from AVAILABLE', async function () {
    await rejectsWith(bg.create('x', 'nope'), 'DBInstanceNotFoundFault');
    await rejectsWith(bg.create('x', 'shop', { Source: 'shop' }), 'InvalidParameterValue', 'ARN');
    await rejectsWith(bg.create('x', 'shop', { Source: `arn:aws:rds:${REGION}:${ACCOUNT}:cluster:aurora` }), 'DBClusterNotFoundFault');
    await rejectsWith(bg.create('x', 'shop', { TargetEngineVersion: '16.99' }), 'InvalidParameterCombination', 'Cannot find version 16.99');
    await rejectsWith(bg.create('x', 'shop', { TargetEngineVersion: '14.13' }), 'InvalidParameterCombination', 'Cannot upgrade postgres from 15.5 to 14.13');
    await rejectsWith(bg.create('x', 'shop', { TargetDBParameterGroupName: 'missing-pg' }), 'DBParameterGroupNotFoundFault');
    await rejectsWith(bg.create('x', 'shop', { TargetDBParameterGroupName: 'app-pg15' }), 'InvalidParameterCombination', 'postgres16');
    await rejectsWith(bg.create('x', 'shop', { TargetDBParameterGroupName: undefined }), 'InvalidParameterCombination', 'is custom');
    await rejectsWith(bg.create('not--valid', 'shop'), 'InvalidParameterValue', 'BlueGreenDeploymentName');
    const first = await bg.create('first', 'shop');
    await rejectsWith(bg.create('second', 'shop'), 'InvalidDBInstanceStateFault', 'already part of blue/green deployment');
    await bg.seedSource('other');
    await rejectsWith(bg.create('FIRST', 'other'), 'BlueGreenDeploymentAlreadyExistsFault', "A Blue Green Deployment with the name 'FIRST' already exists");
    const greenId = (await bg.describe(first.BlueGreenDeploymentIdentifier as string)).Target?.split(':db:')[1] as string;
    await rejectsWith(bg.create('of-the-green', greenId), 'InvalidDBInstanceStateFault');
    await bg.seedSource('stopped', { status: 'stopped' });
    await rejectsWith(bg.create('stopped', 'stopped'), 'InvalidDBInstanceStateFault', 'not in available state');
    await bg.seedSource('managed', { masterUserPassword: 'a-long-password', manageMasterUserPassword: true });
    await rejectsWith(bg.create('managed', 'managed'), 'SourceDatabaseNotSupportedFault', 'Secrets Manager');
    // A primary with read replicas is copied with them (blue-green-replicas.test.ts); a replica is no source.
    await h.admin.seed({ instances: [{ region: REGION, id: 'other-ro', replicaOf: 'other' }] });
    await rejectsWith(bg.create('of-a-replica', 'other-ro'), 'SourceDatabaseNotSupportedFault', 'is a read replica');

    await rejectsWith(h.rds.send(new DescribeBlueGreenDeploymentsCommand({ BlueGreenDeploymentIdentifier: 'bgd-0000000000000000' })), 'BlueGreenDeploymentNotFoundFault');
    const unknown = await rejectsWith(h.rds.send(new SwitchoverBlueGreenDeploymentCommand({ BlueGreenDeploymentIdentifier: 'bgd-0000000000000000' })), 'BlueGreenDeploymentNotFoundFault');
    assert.equal(unknown.$metadata?.httpStatusCode, 404);
    const id = first.BlueGreenDeploymentIdentifier as string;
    await rejectsWith(h.rds.send(new SwitchoverBlueGreenDeploymentCommand({ BlueGreenDeploymentIdentifier: id })), 'InvalidBlueGreenDeploymentStateFault', 'PROVISIONING');
    await bg.untilAvailable(id);
    await rejectsWith(h.rds.send(new SwitchoverBlueGreenDeploymentCommand({ BlueGreenDeploymentIdentifier: id, SwitchoverTimeout: 29 })), 'InvalidParameterValue', 'SwitchoverTimeout');
    // The identifier "isn't case-sensitive".
    await h.rds.send(new SwitchoverBlueGreenDeploymentCommand({ BlueGreenDeploymentIdentifier: id.toUpperCase() }));
    await rejectsWith(h.rds.send(new SwitchoverBlueGreenDeploymentCommand({ BlueGreenDeploymentIdentifier: id })), 'InvalidBlueGreenDeploymentStateFault', 'SWITCHOVER_IN_PROGRESS');
    h.advance(SWITCHOVER_SECONDS);
    await rejectsWith(h.rds.send(new SwitchoverBlueGreenDeploymentCommand({ BlueGreenDeploymentIdentifier: id })), 'InvalidBlueGreenDeploymentStateFault', 'SWITCHOVER_COMPLETED');
    // Once switched over, the new production instance may start a deployment of its own.
    const next = await bg.create('next', 'shop', { TargetEngineVersion: '16.6', TargetDBParameterGroupName: undefined });
    assert.equal(next.Status, 'PROVISIONING');
  });

  it('a switchover longer than SwitchoverTimeout is rolled back at the timeout', async function () {
    await h.close();
    h = await startHarness({ durations: { blueGreenSwitchover: 45 } });
    await bg.seedSource('shop');
    const id = (await bg.create('slow', 'shop')).BlueGreenDeploymentIdentifier as string;
    await bg.untilAvailable(id);
    await h.rds.send(new SwitchoverBlueGreenDeploymentCommand({ BlueGreenDeploymentIdentifier: id, SwitchoverTimeout: 30 }));
    h.advance(30);
    const failed = await bg.describe(id);
    assert.equal(failed.Status, 'SWITCHOVER_FAILED');
    assert.match(failed.StatusDetails ?? '', /rolled back: the switchover did not complete within the SwitchoverTimeout of 30 seconds/);
    assert.equal(failed.Source, instanceArn('shop'));
    assert.equal((await h.describeOne('shop')).EngineVersion, '15.5');
    // Nothing changed, so it may be tried again: with the default timeout it completes.
    await h.rds.send(new SwitchoverBlueGreenDeploymentCommand({ BlueGreenDeploymentIdentifier: id }));
    h.advance(45);
    assert.equal((await bg.describe(id)).Status, 'SWITCHOVER_COMPLETED');
    assert.equal((await h.describeOne('shop')).EngineVersion, '16.4');
  });

  it('DescribeBlueGreenDeployments: filters by identifier, name, source and target (ARN or identifier), MaxRecords/Marker paging, an unknown filter refused', async function () {
    const ids: string[] = [];
    for (let n = 0; n < 23; n++) {
      await bg.seedSource(`db${n}`);
      ids.push((await bg.create(`deploy-${n}`, `db${n}`, { TargetEngineVersion: undefined, TargetDBParameterGroupName: undefined })).BlueGreenDeploymentIdentifier as string);
    }
    const page1 = await h.rds.send(new DescribeBlueGreenDeploymentsCommand({ MaxRecords: 20 }));
    assert.equal(page1.BlueGreenDeployments?.length, 20);
    assert.ok(page1.Marker);
    const page2 = await h.rds.send(new DescribeBlueGreenDeploymentsCommand({ MaxRecords: 20, Marker: page1.Marker }));
    assert.equal(page2.BlueGreenDeployments?.length, 3);
    assert.equal(page2.Marker, undefined);
    assert.deepEqual([...(page1.BlueGreenDeployments ?? []), ...(page2.BlueGreenDeployments ?? [])].map((d) => d.BlueGreenDeploymentIdentifier).sort(), [...ids].sort());
    await rejectsWith(h.rds.send(new DescribeBlueGreenDeploymentsCommand({ MaxRecords: 10 })), 'InvalidParameterValue', 'MaxRecords');

    const by = async (Name: string, Values: string[]): Promise<string[]> =>
      ((await h.rds.send(new DescribeBlueGreenDeploymentsCommand({ Filters: [{ Name, Values }] }))).BlueGreenDeployments ?? []).map((d) => d.BlueGreenDeploymentName as string).sort();
    assert.deepEqual(await by('blue-green-deployment-identifier', [ids[3] as string, ids[5] as string]), ['deploy-3', 'deploy-5']);
    assert.deepEqual(await by('blue-green-deployment-name', ['deploy-7']), ['deploy-7']);
    assert.deepEqual(await by('source', [instanceArn('db9')]), ['deploy-9']);
    assert.deepEqual(await by('source', ['db10', 'db11']), ['deploy-10', 'deploy-11']);
    const target = (await bg.describe(ids[4] as string)).Target as string;
    assert.deepEqual(await by('target', [target]), ['deploy-4']);
    assert.deepEqual(await by('source', [target]), []);
    await rejectsWith(by('engine', ['postgres']), 'InvalidParameterValue', 'Unrecognized filter name: engine');
  });

  it('tags on the deployment ARN (ListTagsForResource, AddTagsToResource, RemoveTagsFromResource); DeleteBlueGreenDeployment keeps every instance; DeleteTarget is denied', async function () {
    const created = await bg.create('tagged', 'shop', { Tags: [{ Key: 'a', Value: '1' }] });
    const id = created.BlueGreenDeploymentIdentifier as string;
    const arn = `arn:aws:rds:${REGION}:${ACCOUNT}:deployment:${id}`;
    assert.deepEqual((await h.rds.send(new ListTagsForResourceCommand({ ResourceName: arn }))).TagList, [{ Key: 'a', Value: '1' }]);
    await h.rds.send(new AddTagsToResourceCommand({ ResourceName: arn, Tags: [{ Key: 'b', Value: '2' }, { Key: 'a', Value: '3' }] }));
    await h.rds.send(new RemoveTagsFromResourceCommand({ ResourceName: arn, TagKeys: ['b'] }));
    assert.deepEqual((await bg.describe(id)).TagList, [{ Key: 'a', Value: '3' }]);
    await rejectsWith(h.rds.send(new ListTagsForResourceCommand({ ResourceName: `arn:aws:rds:${REGION}:${ACCOUNT}:deployment:bgd-0000000000000000` })), 'BlueGreenDeploymentNotFoundFault');

    await rejectsWith(h.rds.send(new DeleteBlueGreenDeploymentCommand({ BlueGreenDeploymentIdentifier: id, DeleteTarget: true })), 'AccessDenied', 'never deletes');
    const before = (await allInstances()).map((i) => i.DBInstanceIdentifier);
    const deleted = (await h.rds.send(new DeleteBlueGreenDeploymentCommand({ BlueGreenDeploymentIdentifier: id }))).BlueGreenDeployment;
    assert.equal(deleted?.Status, 'DELETING');
    assert.ok(deleted?.DeleteTime instanceof Date);
    await rejectsWith(bg.describe(id), 'BlueGreenDeploymentNotFoundFault');
    assert.deepEqual((await allInstances()).map((i) => i.DBInstanceIdentifier), before, 'blue and green both stay');
    // The source is free again.
    assert.equal((await bg.create('again', 'shop')).Status, 'PROVISIONING');
  });

  it('the app status probe sees the switchover’s write outage on both instances, then the new version under the original name; /_sim/advance moves it on', async function () {
    const id = (await bg.create('probe', 'shop')).BlueGreenDeploymentIdentifier as string;
    const greenId = (await bg.untilAvailable(id)).Target?.split(':db:')[1] as string;
    assert.deepEqual(await h.admin.appStatus(REGION, 'shop'), { region: REGION, instanceId: 'shop', status: 'available', engineVersion: '15.5', healthy: true });
    await h.rds.send(new SwitchoverBlueGreenDeploymentCommand({ BlueGreenDeploymentIdentifier: id }));
    for (const name of ['shop', greenId]) {
      const probe = await fetch(h.admin.appStatusUrl(REGION, name));
      assert.equal(probe.status, 503, name);
      assert.deepEqual(await probe.json(), { region: REGION, instanceId: name, status: 'available', engineVersion: name === 'shop' ? '15.5' : '16.4', healthy: false, blueGreenSwitchover: id });
    }
    await h.admin.advance(SWITCHOVER_SECONDS - 1);
    assert.equal((await fetch(h.admin.appStatusUrl(REGION, 'shop'))).status, 503, 'still switching over');
    await h.admin.advance(1);
    assert.deepEqual(await h.admin.appStatus(REGION, 'shop'), { region: REGION, instanceId: 'shop', status: 'available', engineVersion: '16.4', healthy: true });
    assert.equal((await h.admin.appStatus(REGION, 'shop-old1')).healthy, true);
    assert.equal((await fetch(h.admin.appStatusUrl(REGION, greenId))).status, 404, 'the green name is gone');
  });

  it('the deployment survives a restart with the state file, mid-provisioning and mid-switchover', async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-sim-bg-'));
    try {
      const stateFile = path.join(dir, 'sim.json');
      await h.close();
      h = await startHarness({ stateFile });
      await bg.seedSource('shop');
      const id = (await bg.create('durable', 'shop')).BlueGreenDeploymentIdentifier as string;
      h.advance(30);
      const restart = async (): Promise<void> => {
        const at = h.clock.now();
        await h.close();
        h = await startHarness({ stateFile, startAt: at });
      };
      await restart();
      assert.equal((await bg.describe(id)).Status, 'PROVISIONING');
      h.advance(PROVISIONING_SECONDS);
      assert.equal((await bg.describe(id)).Status, 'AVAILABLE');
      await h.rds.send(new SwitchoverBlueGreenDeploymentCommand({ BlueGreenDeploymentIdentifier: id }));
      await restart();
      assert.equal((await bg.describe(id)).Status, 'SWITCHOVER_IN_PROGRESS');
      assert.equal((await h.admin.appStatus(REGION, 'shop')).healthy, false);
      h.advance(SWITCHOVER_SECONDS);
      await restart();
      const done = await bg.describe(id);
      assert.deepEqual([done.Status, done.Source, done.Target], ['SWITCHOVER_COMPLETED', instanceArn('shop-old1'), instanceArn('shop')]);
      assert.equal((await h.describeOne('shop')).EngineVersion, '16.4');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('botocore’s rds model', function () {
    let model: ServiceModel;
    before(function () {
      model = loadServiceModel('rds', locateBotocore().dataDir);
    });

    it('validates every blue/green answer and refusal, raw', async function () {
      const call = (form: Record<string, string>): ReturnType<typeof rawQueryIn> => rawQueryIn(h.sim.url, 'rds', CREDENTIALS, REGION, { Version: '2014-10-31', ...form });
      const checked: Array<[string, Awaited<ReturnType<typeof rawQueryIn>>, number]> = [];
      const check = async (form: Record<string, string>, status: number): Promise<string> => {
        const res = await call(form);
        checked.push([form.Action as string, res, status]);
        return res.body;
      };
      const created = await check(
        { Action: 'CreateBlueGreenDeployment', BlueGreenDeploymentName: 'raw', Source: instanceArn('shop'), TargetEngineVersion: '16.4', TargetDBParameterGroupName: 'app-pg16', 'Tags.Tag.1.Key': 'k', 'Tags.Tag.1.Value': 'v' },
        200,
      );
      const id = /<BlueGreenDeploymentIdentifier>([^<]+)</.exec(created)?.[1] as string;
      await check({ Action: 'DescribeBlueGreenDeployments', BlueGreenDeploymentIdentifier: id }, 200);
      await check({ Action: 'DescribeBlueGreenDeployments', 'Filters.Filter.1.Name': 'source', 'Filters.Filter.1.Values.Value.1': instanceArn('shop'), MaxRecords: '20' }, 200);
      await check({ Action: 'SwitchoverBlueGreenDeployment', BlueGreenDeploymentIdentifier: id }, 400);
      await check({ Action: 'CreateBlueGreenDeployment', BlueGreenDeploymentName: 'raw', Source: instanceArn('shop') }, 400);
      await check({ Action: 'CreateBlueGreenDeployment', BlueGreenDeploymentName: 'raw2', Source: instanceArn('nope') }, 404);
      await check({ Action: 'DescribeBlueGreenDeployments', BlueGreenDeploymentIdentifier: 'bgd-0000000000000000' }, 404);
      h.advance(PROVISIONING_SECONDS);
      await check({ Action: 'DescribeBlueGreenDeployments' }, 200);
      await check({ Action: 'SwitchoverBlueGreenDeployment', BlueGreenDeploymentIdentifier: id, SwitchoverTimeout: '300' }, 200);
      await check({ Action: 'DeleteBlueGreenDeployment', BlueGreenDeploymentIdentifier: id }, 400);
      h.advance(SWITCHOVER_SECONDS);
      const done = await check({ Action: 'DescribeBlueGreenDeployments', BlueGreenDeploymentIdentifier: id }, 200);
      assert.match(done, /<Status>SWITCHOVER_COMPLETED<\/Status>/);
      await check({ Action: 'ListTagsForResource', ResourceName: `arn:aws:rds:${REGION}:${ACCOUNT}:deployment:${id}` }, 200);
      await check({ Action: 'DescribeDBInstances', DBInstanceIdentifier: 'shop-old1' }, 200);
      await check({ Action: 'DeleteBlueGreenDeployment', BlueGreenDeploymentIdentifier: id }, 200);
      for (const [operation, res, status] of checked) {
        assert.equal(res.status, status, `${operation}: ${res.body}`);
        assert.deepEqual(problems(model.validate(operation, res)), [], `${operation} ${res.status}`);
      }
    });
  });
});
