/**
 * Security groups in VPCs, as the EC2 API reference documents them:
 * - CreateSecurityGroup ("VpcId: Required for a nondefault VPC"; names "are case-insensitive and must be
 *   unique within the VPC"): https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html
 * - TagSpecification ("you must specify the resource type to tag"): https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_TagSpecification.html
 * - DescribeSecurityGroups (GroupNames are "[Default VPC]"; filters): https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSecurityGroups.html
 * - Error codes (InvalidVpcID.NotFound, InvalidGroup.Duplicate, InvalidGroup.NotFound): https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
 */
import assert from 'node:assert/strict';
import { CreateSecurityGroupCommand, DescribeSecurityGroupsCommand, DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import type { DescribeSecurityGroupsCommandInput } from '@aws-sdk/client-ec2';
import { REGION, rejectsWith, startHarness } from '../helpers';
import type { SimHarness } from '../helpers';

const VPC = 'vpc-0d0000000000000d1';

describe('sim: EC2 security groups in VPCs', function () {
  let h: SimHarness;
  beforeEach(async function () {
    h = await startHarness();
    await h.admin.seed({ vpcs: [{ region: REGION, id: VPC, cidrBlock: '10.9.0.0/16', tags: { Name: 'app' } }] });
  });
  afterEach(async function () {
    await h.close();
  });

  it('CreateSecurityGroup: VpcId must exist (InvalidVpcID.NotFound); names are unique per VPC, case-insensitively (InvalidGroup.Duplicate)', async function () {
    const e = await rejectsWith(h.ec2.send(new CreateSecurityGroupCommand({ GroupName: 'db', Description: 'db', VpcId: 'vpc-0ffffffffffffffff' })), 'InvalidVpcID.NotFound', 'vpc-0ffffffffffffffff');
    assert.equal(e.$metadata?.httpStatusCode, 400);
    const inVpc = await h.ec2.send(new CreateSecurityGroupCommand({ GroupName: 'db', Description: 'db', VpcId: VPC }));
    const inDefault = await h.ec2.send(new CreateSecurityGroupCommand({ GroupName: 'db', Description: 'db in the default VPC' }));
    assert.notEqual(inVpc.GroupId, inDefault.GroupId);
    await rejectsWith(h.ec2.send(new CreateSecurityGroupCommand({ GroupName: 'DB', Description: 'again', VpcId: VPC })), 'InvalidGroup.Duplicate', `for VPC '${VPC}'`);
    const described = await h.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [inVpc.GroupId as string] }));
    assert.equal(described.SecurityGroups?.[0]?.VpcId, VPC);
  });

  it('TagSpecifications: applied and returned in the response Tags; the resource type is required and must be security-group', async function () {
    const created = await h.ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: 'restore-bastion',
        Description: 'bastion ingress for a restore',
        VpcId: VPC,
        TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: 'owner', Value: 'campaign-1' }, { Key: 'purpose', Value: 'bastion' }] }],
      }),
    );
    assert.deepEqual(created.Tags, [
      { Key: 'owner', Value: 'campaign-1' },
      { Key: 'purpose', Value: 'bastion' },
    ]);
    await rejectsWith(h.ec2.send(new CreateSecurityGroupCommand({ GroupName: 'x', Description: 'x', TagSpecifications: [{ Tags: [{ Key: 'a', Value: 'b' }] }] })), 'InvalidParameterValue', 'resource type');
    await rejectsWith(
      h.ec2.send(new CreateSecurityGroupCommand({ GroupName: 'x', Description: 'x', TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'a', Value: 'b' }] }] })),
      'InvalidParameterValue',
      "'instance' is not a valid taggable resource type",
    );
    await rejectsWith(h.ec2.send(new CreateSecurityGroupCommand({ GroupName: 'x', Description: 'x', TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: 'aws:x', Value: 'b' }] }] })), 'InvalidParameterValue', 'aws:');
    const plain = await h.ec2.send(new CreateSecurityGroupCommand({ GroupName: 'untagged', Description: 'no tags' }));
    assert.equal(plain.Tags, undefined);
  });

  it('DescribeSecurityGroups: GroupIds, GroupNames (default VPC only) and the filters group-name, group-id, vpc-id, tag:<key>, tag-key', async function () {
    const a = await h.ec2.send(new CreateSecurityGroupCommand({ GroupName: 'a', Description: 'a', VpcId: VPC, TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: 'env', Value: 'staging' }] }] }));
    const b = await h.ec2.send(new CreateSecurityGroupCommand({ GroupName: 'b', Description: 'b', VpcId: VPC, TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: 'owner', Value: 'me' }] }] }));
    const c = await h.ec2.send(new CreateSecurityGroupCommand({ GroupName: 'c', Description: 'c' }));
    const ids = async (input: DescribeSecurityGroupsCommandInput): Promise<string[]> =>
      ((await h.ec2.send(new DescribeSecurityGroupsCommand(input))).SecurityGroups ?? []).map((g) => g.GroupId as string).sort();

    assert.deepEqual(await ids({ GroupIds: [a.GroupId as string, c.GroupId as string] }), [a.GroupId, c.GroupId].sort());
    assert.deepEqual(await ids({ GroupNames: ['c'] }), [c.GroupId]);
    await rejectsWith(h.ec2.send(new DescribeSecurityGroupsCommand({ GroupNames: ['a'] })), 'InvalidGroup.NotFound', 'default VPC');
    await rejectsWith(h.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: ['sg-0ffffffffffffffff'] })), 'InvalidGroup.NotFound');
    const inVpc = await ids({ Filters: [{ Name: 'vpc-id', Values: [VPC] }] });
    assert.equal(inVpc.length, 3, 'a, b and the VPC default group');
    assert.deepEqual(await ids({ Filters: [{ Name: 'vpc-id', Values: [VPC] }, { Name: 'group-name', Values: ['a', 'b'] }] }), [a.GroupId, b.GroupId].sort());
    assert.deepEqual(await ids({ Filters: [{ Name: 'group-id', Values: [b.GroupId as string] }] }), [b.GroupId]);
    assert.deepEqual(await ids({ Filters: [{ Name: 'tag:env', Values: ['stag*'] }] }), [a.GroupId]);
    assert.deepEqual(await ids({ Filters: [{ Name: 'tag-key', Values: ['owner'] }] }), [b.GroupId]);
    assert.deepEqual(await ids({ Filters: [{ Name: 'tag:env', Values: ['production'] }] }), []);
  });

  it('DescribeVpcs lists the default VPC and seeded ones', async function () {
    const vpcs = (await h.ec2.send(new DescribeVpcsCommand({}))).Vpcs ?? [];
    assert.equal(vpcs.length, 2);
    const app = vpcs.find((v) => v.VpcId === VPC);
    assert.equal(app?.IsDefault, false);
    assert.equal(app?.CidrBlock, '10.9.0.0/16');
    assert.deepEqual(app?.Tags, [{ Key: 'Name', Value: 'app' }]);
    assert.equal(vpcs.filter((v) => v.IsDefault).length, 1);
    await rejectsWith(h.ec2.send(new DescribeVpcsCommand({ VpcIds: ['vpc-0ffffffffffffffff'] })), 'InvalidVpcID.NotFound');
  });
});
