import assert from 'node:assert/strict';
import { AuthorizeSecurityGroupIngressCommand, CreateSecurityGroupCommand, DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { REGION, rejectsWith, startHarness } from '../helpers';
import type { SimHarness } from '../helpers';

describe('sim: EC2 security groups through the real SDK', function () {
  let h: SimHarness;
  beforeEach(async function () {
    h = await startHarness();
  });
  afterEach(async function () {
    await h.close();
  });

  it('creates, describes (by id, name, filter) and authorizes ingress from another group; a duplicate rule is InvalidPermission.Duplicate', async function () {
    const db = await h.ec2.send(new CreateSecurityGroupCommand({ GroupName: 'db', Description: 'database', TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: 'env', Value: 'staging' }] }] }));
    const bastion = await h.ec2.send(new CreateSecurityGroupCommand({ GroupName: 'bastion', Description: 'bastion' }));
    assert.match(db.GroupId ?? '', /^sg-[0-9a-f]{17}$/);
    await rejectsWith(h.ec2.send(new CreateSecurityGroupCommand({ GroupName: 'db', Description: 'again' })), 'InvalidGroup.Duplicate');

    const rule = { GroupId: db.GroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: bastion.GroupId, Description: 'bastion' }] }] };
    const added = await h.ec2.send(new AuthorizeSecurityGroupIngressCommand(rule));
    assert.equal(added.Return, true);
    assert.equal(added.SecurityGroupRules?.[0]?.ReferencedGroupInfo?.GroupId, bastion.GroupId);
    const dup = await rejectsWith(h.ec2.send(new AuthorizeSecurityGroupIngressCommand(rule)), 'InvalidPermission.Duplicate', 'already exists');
    assert.equal(dup.$metadata?.httpStatusCode, 400);

    const byId = await h.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [db.GroupId as string] }));
    const g = byId.SecurityGroups?.[0];
    assert.equal(g?.GroupName, 'db');
    assert.deepEqual(g?.Tags, [{ Key: 'env', Value: 'staging' }]);
    assert.equal(g?.IpPermissions?.length, 1);
    assert.deepEqual(
      g?.IpPermissions?.map((p) => [p.IpProtocol, p.FromPort, p.ToPort, p.UserIdGroupPairs?.map((u) => u.GroupId)]),
      [['tcp', 5432, 5432, [bastion.GroupId]]],
    );
    const byName = await h.ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: ['bast*'] }] }));
    assert.deepEqual(byName.SecurityGroups?.map((s) => s.GroupId), [bastion.GroupId]);
    const all = await h.ec2.send(new DescribeSecurityGroupsCommand({}));
    assert.deepEqual(all.SecurityGroups?.map((s) => s.GroupName).sort(), ['bastion', 'db', 'default']);
    await rejectsWith(h.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: ['sg-0000000000000000f'] })), 'InvalidGroup.NotFound');
    await rejectsWith(
      h.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: db.GroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: 'sg-0000000000000000f' }] }] })),
      'InvalidGroup.NotFound',
    );
  });

  it('is per region', async function () {
    await h.ec2.send(new CreateSecurityGroupCommand({ GroupName: 'db', Description: 'database' }));
    const other = await h.admin.seed({ securityGroups: [{ region: 'us-east-1', name: 'db', description: 'us db' }] });
    assert.equal(other.securityGroups[0]?.region, 'us-east-1');
    const here = await h.ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: ['db'] }] }));
    assert.equal(here.SecurityGroups?.length, 1);
    assert.equal(here.SecurityGroups?.[0]?.Description, 'database');
    assert.equal(REGION, 'eu-west-2');
  });
});
