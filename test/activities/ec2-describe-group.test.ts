import assert from 'node:assert/strict';
import { DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { createEc2Activities } from '../../src/activities/ec2';
import { FailureTypes, type AwsWhere } from '../../src/api';
import { awsError, expectFailure } from './helpers';

const ROLE = 'arn:aws:iam::222222222222:role/orchestrator';
const PROD: AwsWhere = { region: 'eu-west-1', roleArn: ROLE };

describe('ec2 describeSecurityGroup', () => {
  const client = new EC2Client({ region: 'eu-west-2' });
  const ec2 = mockClient(client);
  const asked: AwsWhere[] = [];
  const acts = createEc2Activities({ ec2ClientFor: (where) => (asked.push(where), client) });

  beforeEach(() => {
    ec2.reset();
    asked.length = 0;
  });

  it('reads the one group by id, where the stage says, and returns its name, VPC and owner', async () => {
    ec2.on(DescribeSecurityGroupsCommand).resolves({
      SecurityGroups: [{ GroupId: 'sg-0a1b2c', GroupName: 'orders-db', VpcId: 'vpc-123', OwnerId: '222222222222', Description: 'db' }],
    });
    const info = await acts.describeSecurityGroup({ where: PROD, groupId: 'sg-0a1b2c' });
    assert.deepEqual(info, { groupId: 'sg-0a1b2c', groupName: 'orders-db', vpcId: 'vpc-123', ownerId: '222222222222' });
    assert.deepEqual(asked, [PROD]);
    assert.deepEqual(ec2.commandCalls(DescribeSecurityGroupsCommand).map((c) => c.args[0].input), [{ GroupIds: ['sg-0a1b2c'] }]);
  });

  it('a group that does not exist there is a non-retryable InvalidInput naming the group, the region and the account', async () => {
    ec2.on(DescribeSecurityGroupsCommand).rejects(awsError('InvalidGroup.NotFound', "The security group 'sg-gone' does not exist"));
    await expectFailure(acts.describeSecurityGroup({ where: PROD, groupId: 'sg-gone' }), {
      type: FailureTypes.InvalidInput,
      nonRetryable: true,
      message: [/Security group sg-gone does not exist in region eu-west-1, account 222222222222 \(as role arn:aws:iam::222222222222:role\/orchestrator\)/, /AWS said: The security group 'sg-gone' does not exist/],
    });
  });

  it("says the worker's own account when no role is given, and treats an empty answer as not found", async () => {
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });
    await expectFailure(acts.describeSecurityGroup({ where: 'eu-west-2', groupId: 'sg-gone' }), {
      type: FailureTypes.InvalidInput,
      nonRetryable: true,
      message: [/sg-gone does not exist in region eu-west-2, the worker's own account/],
    });
  });

  for (const code of ['UnauthorizedOperation', 'AccessDenied']) {
    it(`${code} is the same non-retryable Unauthorized as the other EC2 calls, naming the role`, async () => {
      ec2.on(DescribeSecurityGroupsCommand).rejects(awsError(code, 'You are not authorized to perform this operation.', 403));
      await expectFailure(acts.describeSecurityGroup({ where: PROD, groupId: 'sg-0a1b2c' }), {
        type: FailureTypes.Unauthorized,
        nonRetryable: true,
        message: [/DescribeSecurityGroups sg-0a1b2c in region eu-west-1/, new RegExp(`as role ${ROLE}`), /permission/],
      });
    });
  }

  it('leaves throttling retryable', async () => {
    ec2.on(DescribeSecurityGroupsCommand).rejects(awsError('RequestLimitExceeded', 'Request limit exceeded.', 503));
    await expectFailure(acts.describeSecurityGroup({ where: PROD, groupId: 'sg-0a1b2c' }), { type: FailureTypes.AwsCallFailed, nonRetryable: false, message: [/DescribeSecurityGroups sg-0a1b2c/] });
  });
});
