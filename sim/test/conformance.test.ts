/**
 * Conformance with moto: the same SDK calls against moto_server and against the simulator must parse
 * to the same shape (the same keys, with the same kinds of values) on the objects the activities use.
 * moto is the reference for the wire format; the simulator adds the behaviour moto lacks (time,
 * windows, catalogue, PITR bounds), so values differ but shapes must not.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import {
  CreateBlueGreenDeploymentCommand,
  CreateDBInstanceCommand,
  DescribeBlueGreenDeploymentsCommand,
  DescribeDBInstancesCommand,
  ModifyDBInstanceCommand,
  RDSClient,
  StopDBInstanceCommand,
  SwitchoverBlueGreenDeploymentCommand,
} from '@aws-sdk/client-rds';
import type { BlueGreenDeployment, DBInstance } from '@aws-sdk/client-rds';
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { AuthorizeSecurityGroupIngressCommand, CreateSecurityGroupCommand, DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { SimAdminClient } from '../src/client';
import { startSimulator } from '../src/server';
import type { RunningSimulator } from '../src/server';
import { CREDENTIALS, REGION } from './helpers';
import { spawnMotoServer } from './moto-server';

type Kind = 'string' | 'number' | 'boolean' | 'Date' | 'array' | 'object' | 'undefined';
const kindOf = (v: unknown): Kind => (v instanceof Date ? 'Date' : Array.isArray(v) ? 'array' : v === null ? 'undefined' : (typeof v as Kind));

/**
 * Compares the keys in `used` of two parsed objects. A key moto has must be in the simulator's with
 * the same kind; a key only the simulator has must be explained in `simOnly` (moto leaves it out).
 */
function sameShape(label: string, sim: object | undefined, moto: object | undefined, used: string[], simOnly: Record<string, string> = {}): void {
  assert.ok(sim, `${label}: the simulator returned nothing`);
  assert.ok(moto, `${label}: moto returned nothing`);
  const s = sim as Record<string, unknown>;
  const m = moto as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of used) {
    const inSim = s[key] !== undefined;
    const inMoto = m[key] !== undefined;
    if (inMoto && !inSim) problems.push(`${key}: moto has it (${kindOf(m[key])}), the simulator does not`);
    else if (inSim && !inMoto && !(key in simOnly)) problems.push(`${key}: only the simulator has it (${kindOf(s[key])}); moto leaves it out`);
    else if (inSim && inMoto && kindOf(s[key]) !== kindOf(m[key])) problems.push(`${key}: simulator ${kindOf(s[key])}, moto ${kindOf(m[key])}`);
  }
  assert.deepEqual(problems, [], `${label}: shapes differ`);
}

/** All keys of the first element of a list, on both sides, must be the same set. */
function sameKeys(label: string, sim: object | undefined, moto: object | undefined, ignore: string[] = []): void {
  assert.ok(sim && moto, `${label}: missing on one side (sim ${JSON.stringify(sim)}, moto ${JSON.stringify(moto)})`);
  const keys = (o: object): string[] => Object.keys(o).filter((k) => (o as Record<string, unknown>)[k] !== undefined && !ignore.includes(k)).sort();
  assert.deepEqual(keys(sim), keys(moto), `${label}: key sets differ`);
}

interface Outputs {
  create: Awaited<ReturnType<RDSClient['send']>> & { DBInstance?: object };
  describe: { DBInstances?: Array<Record<string, unknown>> };
  modify: { DBInstance?: Record<string, unknown> };
  stop: { DBInstance?: Record<string, unknown> };
  notFound: string;
  zone: Record<string, unknown> & { HostedZone?: object; ChangeInfo?: object; DelegationSet?: object };
  change: { ChangeInfo?: object };
  records: { ResourceRecordSets?: Array<Record<string, unknown>> };
  sg: { GroupId?: string };
  sgs: { SecurityGroups?: Array<Record<string, unknown>> };
  duplicate: string;
}

/** The same calls, in the same order, against an endpoint. `settle` lets the simulator's clock pass creating. */
async function exercise(endpoint: string, settle: () => Promise<void>): Promise<Outputs> {
  const config = { endpoint, region: REGION, credentials: CREDENTIALS, maxAttempts: 1 };
  const rds = new RDSClient(config);
  const route53 = new Route53Client(config);
  const ec2 = new EC2Client(config);
  try {
    const create = await rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: 'conformance-db',
        DBInstanceClass: 'db.t3.micro',
        Engine: 'postgres',
        EngineVersion: '15.5',
        AllocatedStorage: 20,
        MasterUsername: 'app',
        MasterUserPassword: 'not-a-secret-1',
        PreferredMaintenanceWindow: 'sun:05:00-sun:05:30',
        BackupRetentionPeriod: 7,
        Tags: [{ Key: 'env', Value: 'test' }],
      }),
    );
    await settle();
    const describe = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'conformance-db' }));
    const modify = await rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'conformance-db', AutoMinorVersionUpgrade: false, ApplyImmediately: true }));
    const stop = await rds.send(new StopDBInstanceCommand({ DBInstanceIdentifier: 'conformance-db' }));
    let notFound = 'no error';
    try {
      await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'does-not-exist' }));
    } catch (err) {
      notFound = (err as Error).name;
    }
    const zone = await route53.send(new CreateHostedZoneCommand({ Name: 'conformance.example', CallerReference: `conf-${Date.now()}` }));
    const change = await route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zone.HostedZone?.Id,
        ChangeBatch: {
          Changes: [
            {
              Action: 'CREATE',
              ResourceRecordSet: { Name: 'db.conformance.example', Type: 'CNAME', SetIdentifier: 'blue', Weight: 100, TTL: 60, ResourceRecords: [{ Value: 'blue.example' }] },
            },
          ],
        },
      }),
    );
    const records = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zone.HostedZone?.Id }));
    const sg = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'conformance-db', Description: 'db' }));
    const source = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'conformance-bastion', Description: 'bastion' }));
    const rule = { GroupId: sg.GroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: source.GroupId }] }] };
    await ec2.send(new AuthorizeSecurityGroupIngressCommand(rule));
    let duplicate = 'no error';
    try {
      await ec2.send(new AuthorizeSecurityGroupIngressCommand(rule));
    } catch (err) {
      duplicate = (err as Error).name;
    }
    const sgs = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [sg.GroupId as string] }));
    return { create, describe, modify, stop, notFound, zone, change, records, sg, sgs, duplicate } as unknown as Outputs;
  } finally {
    rds.destroy();
    route53.destroy();
    ec2.destroy();
  }
}

interface BlueGreenOutputs {
  created: BlueGreenDeployment;
  available: BlueGreenDeployment;
  switching: BlueGreenDeployment;
  completed: BlueGreenDeployment;
  production: DBInstance;
  notFound: string;
}

/** A blue/green deployment of a fresh instance to 15.8, switched over. `settle(seconds)` lets the simulator's clock run. */
async function exerciseBlueGreen(endpoint: string, settle: (seconds: number) => Promise<void>): Promise<BlueGreenOutputs> {
  const rds = new RDSClient({ endpoint, region: REGION, credentials: CREDENTIALS, maxAttempts: 1 });
  try {
    const db = await rds.send(
      new CreateDBInstanceCommand({ DBInstanceIdentifier: 'conformance-bg', DBInstanceClass: 'db.t3.micro', Engine: 'postgres', EngineVersion: '15.5', AllocatedStorage: 20, MasterUsername: 'app', MasterUserPassword: 'not-a-secret-1' }),
    );
    await settle(120);
    const created = (await rds.send(new CreateBlueGreenDeploymentCommand({ BlueGreenDeploymentName: 'conformance', Source: db.DBInstance?.DBInstanceArn, TargetEngineVersion: '15.8', Tags: [{ Key: 'k', Value: 'v' }] })))
      .BlueGreenDeployment as BlueGreenDeployment;
    const id = created.BlueGreenDeploymentIdentifier as string;
    const describe = async (): Promise<BlueGreenDeployment> => (await rds.send(new DescribeBlueGreenDeploymentsCommand({ BlueGreenDeploymentIdentifier: id }))).BlueGreenDeployments?.[0] as BlueGreenDeployment;
    await settle(120);
    const available = await describe();
    const switching = (await rds.send(new SwitchoverBlueGreenDeploymentCommand({ BlueGreenDeploymentIdentifier: id, SwitchoverTimeout: 300 }))).BlueGreenDeployment as BlueGreenDeployment;
    await settle(30);
    const completed = await describe();
    const production = (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'conformance-bg' }))).DBInstances?.[0] as DBInstance;
    let notFound = 'no error';
    try {
      await rds.send(new DescribeBlueGreenDeploymentsCommand({ BlueGreenDeploymentIdentifier: 'bgd-0000000000000000' }));
    } catch (err) {
      notFound = (err as Error).name;
    }
    return { created, available, switching, completed, production, notFound };
  } finally {
    rds.destroy();
  }
}

// The DBInstance fields the activities read (src/activities/types.ts InstanceInfo).
const INSTANCE_KEYS = [
  'DBInstanceIdentifier',
  'DBInstanceArn',
  'Engine',
  'EngineVersion',
  'DBInstanceStatus',
  'AutoMinorVersionUpgrade',
  'PreferredMaintenanceWindow',
  'Endpoint',
  'DBInstanceClass',
  'MultiAZ',
  'StorageType',
  'AllocatedStorage',
  'Iops',
  'KmsKeyId',
  'DBSubnetGroup',
  'DBParameterGroups',
  'VpcSecurityGroups',
  'DeletionProtection',
  'PendingModifiedValues',
  'LatestRestorableTime',
  'InstanceCreateTime',
  'BackupRetentionPeriod',
  'TagList',
];
const SIM_ONLY_INSTANCE_KEYS = {
  DBSubnetGroup: 'RDS always reports the subnet group (the default one when none was given); moto omits it then',
  PendingModifiedValues: 'RDS always sends <PendingModifiedValues/> (parsed as {}); moto omits it when nothing is pending',
};

describe('sim: conformance with moto (same SDK calls, same parsed shape)', function () {
  let moto: ChildProcess | undefined;
  let motoUrl: string;
  let sim: RunningSimulator;
  let fromSim: Outputs;
  let fromMoto: Outputs;
  let bgSim: BlueGreenOutputs;
  let bgMoto: BlueGreenOutputs;

  before(async function () {
    this.timeout(60_000);
    ({ url: motoUrl, child: moto } = await spawnMotoServer());
    sim = await startSimulator({ port: 0 });
    const admin = new SimAdminClient(sim.url);
    fromSim = await exercise(sim.url, async () => {
      await admin.advance(120); // past creating and backing-up
    });
    fromMoto = await exercise(motoUrl, async () => undefined);
    bgSim = await exerciseBlueGreen(sim.url, async (seconds) => {
      await admin.advance(seconds);
    });
    bgMoto = await exerciseBlueGreen(motoUrl, async () => undefined);
  });

  after(async function () {
    if (moto && moto.exitCode === null) {
      const exited = new Promise((r) => moto?.once('exit', r));
      moto.kill('SIGTERM');
      await exited;
    }
    await sim?.close();
  });

  it('CreateDBInstance and DescribeDBInstances: the DBInstance fields we use', function () {
    const created = fromSim.create.DBInstance as Record<string, unknown>;
    assert.equal(created.DBInstanceStatus, 'creating');
    // While creating, RDS has no endpoint, create time or restorable time yet (moto creates instantly).
    const whileCreating = INSTANCE_KEYS.filter((k) => !['Endpoint', 'InstanceCreateTime', 'LatestRestorableTime'].includes(k));
    sameShape('CreateDBInstance.DBInstance', created, fromMoto.create.DBInstance, whileCreating, SIM_ONLY_INSTANCE_KEYS);
    const s = fromSim.describe.DBInstances?.[0];
    const m = fromMoto.describe.DBInstances?.[0];
    sameShape('DescribeDBInstances.DBInstances[0]', s, m, INSTANCE_KEYS, SIM_ONLY_INSTANCE_KEYS);
    sameKeys('Endpoint', s?.Endpoint as object, m?.Endpoint as object, ['HostedZoneId']);
    sameKeys('VpcSecurityGroups[0]', (s?.VpcSecurityGroups as object[])[0], (m?.VpcSecurityGroups as object[])[0]);
    sameKeys('DBParameterGroups[0]', (s?.DBParameterGroups as object[])[0], (m?.DBParameterGroups as object[])[0]);
    sameKeys('TagList[0]', (s?.TagList as object[])[0], (m?.TagList as object[])[0]);
  });

  it('ModifyDBInstance and StopDBInstance return the same DBInstance shape', function () {
    sameShape('ModifyDBInstance.DBInstance', fromSim.modify.DBInstance, fromMoto.modify.DBInstance, INSTANCE_KEYS, SIM_ONLY_INSTANCE_KEYS);
    sameShape('StopDBInstance.DBInstance', fromSim.stop.DBInstance, fromMoto.stop.DBInstance, INSTANCE_KEYS, SIM_ONLY_INSTANCE_KEYS);
    assert.equal(fromSim.modify.DBInstance?.AutoMinorVersionUpgrade, false);
    assert.equal(fromMoto.modify.DBInstance?.AutoMinorVersionUpgrade, false);
  });

  it('an unknown instance is the same SDK error on both', function () {
    assert.equal(fromSim.notFound, fromMoto.notFound);
    assert.equal(fromSim.notFound, 'DBInstanceNotFoundFault');
  });

  it('Route 53: CreateHostedZone, ChangeResourceRecordSets, ListResourceRecordSets', function () {
    sameKeys('CreateHostedZone.HostedZone', fromSim.zone.HostedZone, fromMoto.zone.HostedZone);
    sameKeys('CreateHostedZone.ChangeInfo', fromSim.zone.ChangeInfo, fromMoto.zone.ChangeInfo);
    // moto adds Id and CallerReference, which real Route 53 only returns for reusable delegation sets.
    sameShape('CreateHostedZone.DelegationSet', fromSim.zone.DelegationSet, fromMoto.zone.DelegationSet, ['NameServers']);
    sameKeys('ChangeResourceRecordSets.ChangeInfo', fromSim.change.ChangeInfo, fromMoto.change.ChangeInfo);
    const pick = (o: Outputs): Record<string, unknown> | undefined => o.records.ResourceRecordSets?.find((r) => r.Type === 'CNAME');
    sameKeys('ResourceRecordSet (weighted CNAME)', pick(fromSim), pick(fromMoto));
    const kinds = (o: Outputs): string[] => (o.records.ResourceRecordSets ?? []).map((r) => r.Type as string).sort();
    assert.deepEqual(kinds(fromSim), kinds(fromMoto), 'both zones hold SOA, NS and the CNAME');
  });

  it('EC2: CreateSecurityGroup, DescribeSecurityGroups, AuthorizeSecurityGroupIngress (and its duplicate error)', function () {
    assert.match(fromSim.sg.GroupId ?? '', /^sg-/);
    assert.match(fromMoto.sg.GroupId ?? '', /^sg-/);
    const s = fromSim.sgs.SecurityGroups?.[0];
    const m = fromMoto.sgs.SecurityGroups?.[0];
    sameShape('SecurityGroups[0]', s, m, ['GroupId', 'GroupName', 'Description', 'VpcId', 'OwnerId', 'IpPermissions', 'IpPermissionsEgress', 'Tags']);
    const sp = (s?.IpPermissions as Array<Record<string, unknown>>)[0];
    const mp = (m?.IpPermissions as Array<Record<string, unknown>>)[0];
    sameShape('IpPermissions[0]', sp, mp, ['IpProtocol', 'FromPort', 'ToPort', 'UserIdGroupPairs', 'IpRanges']);
    sameShape('UserIdGroupPairs[0]', (sp?.UserIdGroupPairs as object[])[0], (mp?.UserIdGroupPairs as object[])[0], ['GroupId', 'UserId']);
    assert.equal(fromSim.duplicate, fromMoto.duplicate);
    assert.equal(fromSim.duplicate, 'InvalidPermission.Duplicate');
  });

  it('blue/green deployments: Create, Describe, Switchover and the switched-over Describe parse to the same shape (moto is instant: its statuses differ)', function () {
    const keys = ['BlueGreenDeploymentIdentifier', 'BlueGreenDeploymentName', 'Source', 'Target', 'SwitchoverDetails', 'Tasks', 'Status', 'StatusDetails', 'CreateTime', 'TagList'];
    // AWS's own example of CreateBlueGreenDeployment's answer has no Target and a member pair with its SourceMember only;
    // moto names the green at once.
    const createdKeys = keys.filter((k) => k !== 'Target');
    sameShape('CreateBlueGreenDeployment.BlueGreenDeployment', bgSim.created, bgMoto.created, createdKeys);
    assert.equal(bgSim.created.Target, undefined);
    sameShape('DescribeBlueGreenDeployments (AVAILABLE)', bgSim.available, bgMoto.available, keys);
    sameShape('SwitchoverBlueGreenDeployment.BlueGreenDeployment', bgSim.switching, bgMoto.switching, keys);
    sameShape('DescribeBlueGreenDeployments (SWITCHOVER_COMPLETED)', bgSim.completed, bgMoto.completed, keys);
    for (const [label, s, m] of [
      ['SwitchoverDetails[0]', bgSim.completed.SwitchoverDetails?.[0], bgMoto.completed.SwitchoverDetails?.[0]],
      ['Tasks[0]', bgSim.completed.Tasks?.[0], bgMoto.completed.Tasks?.[0]],
      ['TagList[0]', bgSim.completed.TagList?.[0], bgMoto.completed.TagList?.[0]],
    ] as const) {
      sameKeys(label, s, m);
    }
    assert.deepEqual([bgSim.available.Status, bgSim.switching.Status, bgSim.completed.Status], ['AVAILABLE', 'SWITCHOVER_IN_PROGRESS', 'SWITCHOVER_COMPLETED']);
    assert.equal(bgMoto.completed.Status, 'SWITCHOVER_COMPLETED');
    // Both rename the same way: Source the -old1 instance, Target the original name, which runs the new version.
    for (const out of [bgSim, bgMoto]) {
      assert.deepEqual([out.completed.Source?.split(':db:')[1], out.completed.Target?.split(':db:')[1]], ['conformance-bg-old1', 'conformance-bg']);
      assert.equal(out.production.EngineVersion, '15.8');
      assert.match(out.production.Endpoint?.Address ?? '', /^conformance-bg\./);
    }
    assert.equal(bgSim.notFound, bgMoto.notFound);
    assert.equal(bgSim.notFound, 'BlueGreenDeploymentNotFoundFault');
  });
});
