/**
 * DB subnet groups, VPCs and VPC security groups on RDS instances, as the RDS API reference documents them:
 * - CreateDBInstance / RestoreDBInstanceToPointInTime: VpcSecurityGroupIds "Default: The default EC2 VPC
 *   security group for the DB subnet group's VPC"; DBSubnetGroupName must name an existing group
 *   (DBSubnetGroupNotFoundFault): https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RestoreDBInstanceToPointInTime.html
 * - ModifyDBInstance VpcSecurityGroupIds: "This change is asynchronously applied as soon as possible" and
 *   "must match existing VPC security group IDs": https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html
 */
import assert from 'node:assert/strict';
import { DescribeDBInstancesCommand, ModifyDBInstanceCommand, RestoreDBInstanceToPointInTimeCommand } from '@aws-sdk/client-rds';
import type { DBInstance } from '@aws-sdk/client-rds';
import { CreateSecurityGroupCommand, DescribeSecurityGroupsCommand, DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import { GetHostedZoneCommand, TestDNSAnswerCommand } from '@aws-sdk/client-route-53';
import { DEMO_BASTION_SECURITY_GROUP_ID, DEMO_VPC_ID, demoDbSecurityGroupId, demoFleet } from '../../src/demo-fleet';
import { REGION, rejectsWith, startHarness } from '../helpers';
import type { SimHarness } from '../helpers';

const APP_VPC = 'vpc-0a0000000000000a1';
const OTHER_VPC = 'vpc-0b0000000000000b2';
const APP_DB_SG = 'sg-0a00000000000db01';
const OTHER_SG = 'sg-0b00000000000db02';

describe('sim: RDS in VPCs (DB subnet groups and VPC security groups)', function () {
  let h: SimHarness;
  beforeEach(async function () {
    h = await startHarness();
    await h.admin.seed({
      vpcs: [
        { region: REGION, id: APP_VPC },
        { region: REGION, id: OTHER_VPC },
      ],
      securityGroups: [
        { region: REGION, id: APP_DB_SG, name: 'app-db', vpcId: APP_VPC },
        { region: REGION, id: OTHER_SG, name: 'app-db', vpcId: OTHER_VPC },
      ],
      dbSubnetGroups: [{ region: REGION, name: 'app-private', vpcId: APP_VPC }],
      instances: [
        { region: REGION, id: 'app', engineVersion: '15.5', dbSubnetGroupName: 'app-private', vpcSecurityGroupIds: [APP_DB_SG] },
        { region: REGION, id: 'plain', engineVersion: '15.5' },
      ],
    });
  });
  afterEach(async function () {
    await h.close();
  });

  const describeOne = (id: string): Promise<DBInstance> => h.describeOne(id);
  const defaultGroupOf = async (vpcId: string): Promise<string | undefined> =>
    (await h.ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'group-name', Values: ['default'] }] }))).SecurityGroups?.[0]?.GroupId;

  it('DescribeDBInstances reports the DB subnet group’s VPC, not always the default VPC', async function () {
    const app = await describeOne('app');
    assert.equal(app.DBSubnetGroup?.DBSubnetGroupName, 'app-private');
    assert.equal(app.DBSubnetGroup?.VpcId, APP_VPC);
    assert.equal(app.DBSubnetGroup?.Subnets?.length, 2);
    const defaultVpc = (await h.ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }))).Vpcs?.[0]?.VpcId;
    const plain = await describeOne('plain');
    assert.equal(plain.DBSubnetGroup?.DBSubnetGroupName, 'default');
    assert.equal(plain.DBSubnetGroup?.VpcId, defaultVpc);
    assert.deepEqual(plain.VpcSecurityGroups?.map((g) => g.VpcSecurityGroupId), [await defaultGroupOf(defaultVpc as string)]);
    // db-cluster-id is a documented filter (DescribeDBInstances); the simulator has no clusters.
    assert.deepEqual((await h.rds.send(new DescribeDBInstancesCommand({ Filters: [{ Name: 'db-cluster-id', Values: ['any'] }] }))).DBInstances, []);
  });

  it('RestoreDBInstanceToPointInTime: the subnet group must exist; security groups must exist and be in its VPC; the default is that VPC’s default group', async function () {
    const restore = (target: string, extra: Record<string, unknown>) =>
      h.rds.send(new RestoreDBInstanceToPointInTimeCommand({ SourceDBInstanceIdentifier: 'app', TargetDBInstanceIdentifier: target, UseLatestRestorableTime: true, ...extra }));
    const noGroup = await rejectsWith(restore('r1', { DBSubnetGroupName: 'nope' }), 'DBSubnetGroupNotFoundFault', "'nope'");
    assert.equal(noGroup.$metadata?.httpStatusCode, 404);
    await rejectsWith(restore('r1', { DBSubnetGroupName: 'app-private', VpcSecurityGroupIds: [OTHER_SG] }), 'InvalidParameterCombination', `The DB instance is in ${APP_VPC} and the EC2 security group is in ${OTHER_VPC}`);
    await rejectsWith(restore('r1', { DBSubnetGroupName: 'app-private', VpcSecurityGroupIds: ['sg-0ffffffffffffffff'] }), 'InvalidParameterValue', 'sg-0ffffffffffffffff');
    // No subnet group: the default one, in the default VPC, where the app's group is foreign.
    await rejectsWith(restore('r1', { VpcSecurityGroupIds: [APP_DB_SG] }), 'InvalidParameterCombination', 'different VPCs');
    // AvailabilityZone: "You can't specify the AvailabilityZone parameter if the DB instance is a Multi-AZ deployment."
    await rejectsWith(restore('r1', { DBSubnetGroupName: 'app-private', MultiAZ: true, AvailabilityZone: `${REGION}a` }), 'InvalidParameterCombination', 'Multi-AZ');
    assert.equal((await h.rds.send(new DescribeDBInstancesCommand({}))).DBInstances?.length, 2, 'nothing was created');

    const bastionTarget = await h.ec2.send(new CreateSecurityGroupCommand({ GroupName: 'r1-bastion', Description: 'bastion ingress for r1', VpcId: APP_VPC }));
    const ok = await restore('r1', { DBSubnetGroupName: 'app-private', VpcSecurityGroupIds: [APP_DB_SG, bastionTarget.GroupId] });
    assert.equal(ok.DBInstance?.DBSubnetGroup?.VpcId, APP_VPC);
    assert.deepEqual(ok.DBInstance?.VpcSecurityGroups?.map((g) => [g.VpcSecurityGroupId, g.Status]), [
      [APP_DB_SG, 'active'],
      [bastionTarget.GroupId, 'active'],
    ]);
    const defaults = await restore('r2', { DBSubnetGroupName: 'app-private' });
    assert.deepEqual(defaults.DBInstance?.VpcSecurityGroups?.map((g) => g.VpcSecurityGroupId), [await defaultGroupOf(APP_VPC)]);
  });

  it('ModifyDBInstance VpcSecurityGroupIds is applied asynchronously whatever ApplyImmediately says: adding/removing, then active', async function () {
    const extra = await h.ec2.send(new CreateSecurityGroupCommand({ GroupName: 'app-bastion', Description: 'bastion', VpcId: APP_VPC }));
    const out = await h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'app', VpcSecurityGroupIds: [extra.GroupId as string] }));
    assert.equal(out.DBInstance?.DBInstanceStatus, 'available');
    const memberships = (i: DBInstance | undefined): Array<[string | undefined, string | undefined]> => (i?.VpcSecurityGroups ?? []).map((g) => [g.VpcSecurityGroupId, g.Status]);
    assert.deepEqual(memberships(out.DBInstance), [
      [extra.GroupId, 'adding'],
      [APP_DB_SG, 'removing'],
    ]);
    h.advance(5);
    assert.deepEqual(memberships(await describeOne('app')), [[extra.GroupId, 'active']]);
    assert.equal((await describeOne('app')).DBInstanceStatus, 'available');
  });

  it('ModifyDBInstance refuses unknown or foreign security groups and changes nothing', async function () {
    await rejectsWith(h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'app', VpcSecurityGroupIds: [OTHER_SG], DeletionProtection: true })), 'InvalidParameterCombination', 'different VPCs');
    await rejectsWith(h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'app', VpcSecurityGroupIds: ['sg-0ffffffffffffffff'] })), 'InvalidParameterValue', 'Invalid security group');
    const app = await describeOne('app');
    assert.equal(app.DeletionProtection, false);
    assert.deepEqual(app.VpcSecurityGroups, [{ VpcSecurityGroupId: APP_DB_SG, Status: 'active' }]);
  });

  it('seeding refuses an instance whose security group does not exist', async function () {
    await assert.rejects(h.admin.seed({ instances: [{ region: REGION, id: 'ghost-sg', engineVersion: '15.5', vpcSecurityGroupIds: ['sg-0eeeeeeeeeeeeeeee'] }] }), /seed: instances\[ghost-sg\]: Invalid security group/);
  });
});

describe('sim: the demo fleet lives in one VPC', function () {
  let h: SimHarness;
  before(async function () {
    h = await startHarness();
    await h.admin.seed(demoFleet(h.clock.now()));
  });
  after(async function () {
    await h.close();
  });

  it('subnet groups, DB and bastion security groups are in the demo VPC; the private zone is associated with it', async function () {
    for (const env of ['preview', 'staging', 'production'] as const) {
      const db = (await h.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: `notifydb-${env}` }))).DBInstances?.[0];
      assert.equal(db?.DBSubnetGroup?.DBSubnetGroupName, `notify-${env}`);
      assert.equal(db?.DBSubnetGroup?.VpcId, DEMO_VPC_ID);
      assert.deepEqual(db?.VpcSecurityGroups?.map((g) => g.VpcSecurityGroupId), [demoDbSecurityGroupId(env)]);
      assert.equal(db?.DBParameterGroups?.[0]?.DBParameterGroupName, `notify-${env}-postgres15`);
    }
    const groups = await h.ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [DEMO_VPC_ID] }] }));
    assert.ok(groups.SecurityGroups?.some((g) => g.GroupId === DEMO_BASTION_SECURITY_GROUP_ID));
    assert.equal(groups.SecurityGroups?.length, 5, 'bastion, three DB groups and the VPC default group');
    const zone = await h.route53.send(new GetHostedZoneCommand({ Id: 'ZDEMONOTIFY0001' }));
    assert.equal(zone.HostedZone?.Config?.PrivateZone, true);
    assert.deepEqual(zone.VPCs, [{ VPCRegion: REGION, VPCId: DEMO_VPC_ID }]);
    // TestDNSAnswer "only supports querying public hosted zones".
    await rejectsWith(h.route53.send(new TestDNSAnswerCommand({ HostedZoneId: 'ZDEMONOTIFY0001', RecordName: 'db.staging.notify.internal', RecordType: 'CNAME' })), 'InvalidInput', 'private hosted zone');
  });
});
