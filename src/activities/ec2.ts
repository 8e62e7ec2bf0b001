/**
 * EC2 security-group activities for the restore runbook: the restored instance gets a security group of
 * its own (module.rds_restore.db_security_group_id in the runbook's Terraform), and the bastion is let in
 * on that group only, so no group shared with the source database is ever widened. An identical
 * existing rule, or the group a previous attempt created, is success. describeSecurityGroup reads one group
 * (its name, VPC and owning account) so a spec's group id is checked where it is used, before anything changes.
 */
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  type EC2Client,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import { ApplicationFailure } from '@temporalio/common';
import { callAws, isAwsError, toActivityError } from './aws-errors';
import { accountOfRole, locationOf, regionOf } from './location';
import { FailureTypes, type AwsWhere, type Ec2Activities, type MutationResult, type SecurityGroupInfo, type SecurityGroupRequest } from '../api/activities';
import type { IngressFromGroup, SecurityGroupRef } from '../api/activities';

export interface Ec2ActivitiesDeps {
  ec2ClientFor: (where: AwsWhere) => EC2Client;
}

/** "account 222222222222 (as role arn:...)", for a message saying where something is missing. */
function accountOf(where: AwsWhere): string {
  const loc = locationOf(where);
  if (loc.roleArn) return `account ${accountOfRole(loc.roleArn) ?? '?'} (as role ${loc.roleArn})`;
  if (loc.profile) return `the account of profile ${loc.profile}`;
  return "the worker's own account";
}

function tagValue(group: SecurityGroup, key: string): string | undefined {
  return group.Tags?.find((t) => t.Key === key)?.Value;
}

export function createEc2Activities(deps: Ec2ActivitiesDeps): Ec2Activities {
  async function allowIngressFromSecurityGroup({ where, securityGroupId, sourceSecurityGroupId, port, sourceAccount }: IngressFromGroup): Promise<MutationResult> {
    const rule = `tcp ${port} from ${sourceAccount ? `${sourceAccount}/` : ''}${sourceSecurityGroupId} on ${securityGroupId}`;
    let requestId: string | undefined;
    try {
      const sent = await deps.ec2ClientFor(where).send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: securityGroupId,
          IpPermissions: [
            {
              IpProtocol: 'tcp',
              FromPort: port,
              ToPort: port,
              // A group of another account is named with its owner (it must be reachable, e.g. a peered VPC).
              UserIdGroupPairs: [{ GroupId: sourceSecurityGroupId, Description: 'rds-orchestrator', ...(sourceAccount ? { UserId: sourceAccount } : {}) }],
            },
          ],
        }),
      );
      requestId = sent.$metadata?.requestId;
    } catch (err) {
      // EC2 has no "add if absent": the duplicate error is how it says the rule is already there.
      if (isAwsError(err, 'InvalidPermission.Duplicate')) return { changed: false, detail: `ingress ${rule} already exists` };
      throw toActivityError(err, { operation: `AuthorizeSecurityGroupIngress ${rule}`, where });
    }
    return { changed: true, detail: `allowed ingress ${rule}`, action: 'ec2:AuthorizeSecurityGroupIngress', resource: securityGroupId, requestId };
  }

  async function findGroup(req: SecurityGroupRequest): Promise<SecurityGroup | undefined> {
    const out = await callAws({ operation: `DescribeSecurityGroups ${req.groupName} in ${req.vpcId}`, where: req.region }, () =>
      deps.ec2ClientFor(req.region).send(
        new DescribeSecurityGroupsCommand({
          Filters: [
            { Name: 'vpc-id', Values: [req.vpcId] },
            { Name: 'group-name', Values: [req.groupName] },
          ],
        }),
      ),
    );
    return out.SecurityGroups?.find((g) => g.GroupName === req.groupName && g.VpcId === req.vpcId);
  }

  function ownedOrRefused(group: SecurityGroup, req: SecurityGroupRequest): MutationResult & { groupId: string } {
    const owner = tagValue(group, req.ownerTag.key);
    if (owner !== req.ownerTag.value) {
      throw ApplicationFailure.nonRetryable(
        `A security group named ${req.groupName} already exists in ${req.vpcId} (${group.GroupId}) and was not created by this restore ` +
          `(its tag ${req.ownerTag.key} is ${owner === undefined ? 'missing' : `"${owner}"`}, expected "${req.ownerTag.value}"). ` +
          'Choose another targetInstanceId, or remove that group if it is left over; nothing was changed.',
        FailureTypes.IdentifierTaken,
      );
    }
    return { changed: false, detail: `security group ${group.GroupId} (${req.groupName}) already exists in ${req.vpcId}`, groupId: group.GroupId ?? '' };
  }

  async function ensureSecurityGroup(req: SecurityGroupRequest): Promise<MutationResult & { groupId: string }> {
    const existing = await findGroup(req);
    if (existing) return ownedOrRefused(existing, req);
    const tags = { ...req.tags, [req.ownerTag.key]: req.ownerTag.value, Name: req.groupName };
    try {
      const out = await deps.ec2ClientFor(req.region).send(
        new CreateSecurityGroupCommand({
          GroupName: req.groupName,
          Description: req.description,
          VpcId: req.vpcId,
          TagSpecifications: [{ ResourceType: 'security-group', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }],
        }),
      );
      return { changed: true, detail: `created security group ${out.GroupId} (${req.groupName}) in ${req.vpcId}`, groupId: out.GroupId ?? '', action: 'ec2:CreateSecurityGroup', resource: out.GroupId ?? req.groupName, requestId: out.$metadata?.requestId };
    } catch (err) {
      // A retry racing its own earlier attempt: the group now exists; it is ours if it carries our tag.
      if (isAwsError(err, 'InvalidGroup.Duplicate')) {
        const group = await findGroup(req);
        if (group) return ownedOrRefused(group, req);
        // Group names "are case-insensitive and must be unique within the VPC" (CreateSecurityGroup): one named like
        // ours in another case is not found by the exact name filter, and a retry meets it again.
        throw ApplicationFailure.nonRetryable(
          `A security group whose name matches ${req.groupName} in another case already exists in ${req.vpcId} (EC2 group names are case-insensitive), ` +
            'and it was not created by this restore. Choose another targetInstanceId, or rename or remove that group; nothing was changed.',
          FailureTypes.IdentifierTaken,
        );
      }
      throw toActivityError(err, { operation: `CreateSecurityGroup ${req.groupName} in ${req.vpcId}`, where: req.region });
    }
  }

  async function describeSecurityGroup({ where, groupId }: SecurityGroupRef): Promise<SecurityGroupInfo> {
    const notFound = (awsSaid?: string) =>
      ApplicationFailure.nonRetryable(
        `Security group ${groupId} does not exist in region ${regionOf(where)}, ${accountOf(where)}. ` +
          `Check the group id and that the stage names the region and account the group lives in${awsSaid ? `; AWS said: ${awsSaid}` : ''}`,
        FailureTypes.InvalidInput,
      );
    let groups: SecurityGroup[];
    try {
      const out = await deps.ec2ClientFor(where).send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
      groups = out.SecurityGroups ?? [];
    } catch (err) {
      if (isAwsError(err, 'InvalidGroup.NotFound')) throw notFound(err instanceof Error ? err.message : String(err));
      throw toActivityError(err, { operation: `DescribeSecurityGroups ${groupId}`, where });
    }
    // EC2 answers InvalidGroup.NotFound for an unknown id; an empty list (another implementation) means the same.
    const group = groups.find((g) => g.GroupId === groupId);
    if (!group) throw notFound();
    return { groupId, groupName: group.GroupName ?? '', ...(group.VpcId ? { vpcId: group.VpcId } : {}), ownerId: group.OwnerId ?? '' };
  }

  return { allowIngressFromSecurityGroup, ensureSecurityGroup, describeSecurityGroup };
}
