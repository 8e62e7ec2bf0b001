import assert from 'node:assert/strict';
import { AuthorizeSecurityGroupIngressCommand, CreateSecurityGroupCommand, DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { createEc2Activities } from '../../src/activities/ec2';
import { FailureTypes } from '../../src/api';
import { awsError, expectFailure } from './helpers';

describe('ec2 activities', () => {
  const client = new EC2Client({ region: 'eu-west-2' });
  const ec2Mock = mockClient(client);
  const regionsAsked: string[] = [];
  const acts = createEc2Activities({
    ec2ClientFor: (where) => {
      regionsAsked.push(typeof where === 'string' ? where : where.region);
      return client;
    },
  });

  beforeEach(() => {
    ec2Mock.reset();
    regionsAsked.length = 0;
  });

  it('authorises tcp ingress on the port from the source security group', async () => {
    ec2Mock.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });
    const r = await acts.allowIngressFromSecurityGroup({ where: 'eu-west-1', securityGroupId: 'sg-db', sourceSecurityGroupId: 'sg-app', port: 5432 });
    assert.equal(r.changed, true);
    assert.deepEqual(regionsAsked, ['eu-west-1']);
    assert.deepEqual(ec2Mock.commandCalls(AuthorizeSecurityGroupIngressCommand).map((c) => c.args[0].input), [
      {
        GroupId: 'sg-db',
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: 'sg-app', Description: 'rds-orchestrator' }] },
        ],
      },
    ]);
  });

  it('treats an existing identical rule as success without change', async () => {
    ec2Mock
      .on(AuthorizeSecurityGroupIngressCommand)
      .rejects(awsError('InvalidPermission.Duplicate', 'the specified rule "peer: sg-app, TCP, from port: 5432, to port: 5432, ALLOW" already exists'));
    const r = await acts.allowIngressFromSecurityGroup({ where: 'eu-west-2', securityGroupId: 'sg-db', sourceSecurityGroupId: 'sg-app', port: 5432 });
    assert.equal(r.changed, false);
    assert.match(r.detail, /already exists/);
  });

  it('reports a missing security group as non-retryable InvalidInput', async () => {
    ec2Mock.on(AuthorizeSecurityGroupIngressCommand).rejects(awsError('InvalidGroup.NotFound', "The security group 'sg-nope' does not exist"));
    await expectFailure(acts.allowIngressFromSecurityGroup({ where: 'eu-west-2', securityGroupId: 'sg-nope', sourceSecurityGroupId: 'sg-app', port: 5432 }), {
      type: FailureTypes.InvalidInput,
      nonRetryable: true,
      message: [/sg-nope/, /eu-west-2/],
    });
  });

  it('reports missing permissions as non-retryable Unauthorized', async () => {
    ec2Mock.on(AuthorizeSecurityGroupIngressCommand).rejects(awsError('UnauthorizedOperation', 'You are not authorized to perform this operation.', 403));
    await expectFailure(acts.allowIngressFromSecurityGroup({ where: 'eu-west-2', securityGroupId: 'sg-db', sourceSecurityGroupId: 'sg-app', port: 5432 }), {
      type: FailureTypes.Unauthorized,
      nonRetryable: true,
      message: [/permission/],
    });
  });

  it('leaves EC2 throttling retryable, as AwsCallFailed naming the call', async () => {
    const err = awsError('RequestLimitExceeded', 'Request limit exceeded.', 503);
    ec2Mock.on(AuthorizeSecurityGroupIngressCommand).rejects(err);
    const f = await expectFailure(acts.allowIngressFromSecurityGroup({ where: 'eu-west-2', securityGroupId: 'sg-db', sourceSecurityGroupId: 'sg-app', port: 5432 }), {
      type: FailureTypes.AwsCallFailed,
      nonRetryable: false,
      message: [/AuthorizeSecurityGroupIngress tcp 5432 from sg-app on sg-db/, /AWS answered RequestLimitExceeded \(HTTP 503\)/],
    });
    assert.equal(f.cause, err);
  });

  it('a group named like ours in another case (EC2 names are case-insensitive) is IdentifierTaken, not retried', async () => {
    ec2Mock.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });
    ec2Mock.on(CreateSecurityGroupCommand).rejects(awsError('InvalidGroup.Duplicate', "The security group 'rds-restore-notify' already exists for VPC 'vpc-1'"));
    const req = { region: 'eu-west-2', vpcId: 'vpc-1', groupName: 'rds-restore-notify', description: 'restore', tags: {}, ownerTag: { key: 'rds-orchestrator:restore-id', value: 'r-1' } };
    await expectFailure(acts.ensureSecurityGroup(req), { type: FailureTypes.IdentifierTaken, nonRetryable: true, message: [/in another case already exists in vpc-1/, /Choose another targetInstanceId/] });
  });
});
