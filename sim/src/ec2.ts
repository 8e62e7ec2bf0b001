/**
 * EC2 query protocol (API version 2016-11-15) for security groups and VPCs: lower-camel XML elements, lists
 * as `<item>`, errors as `<Response><Errors><Error>`.
 */
import type { SimEngine } from './engine';
import { SimError } from './errors';
import type { IngressPermission } from './ec2-model';
import type { SecurityGroup, SecurityGroupRule } from './model';
import type { Params } from './query';
import { int, list, required, str, structList, tags } from './query';
import { leaf, list as xmlList, node } from './xml';
import { requestId } from './request-id';

const NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';

/**
 * EC2 filter values may use `*` and `?` wildcards (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Query-Requests.html#Filtering),
 * and a filter matches when any of its values does.
 */
function filterMatcher(values: string[]): (v: string | undefined) => boolean {
  const patterns = values.map((want) => new RegExp(`^${want.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`));
  return (v) => v !== undefined && patterns.some((re) => re.test(v));
}

/**
 * TagSpecification.N: "When you specify a tag, you must specify the resource type to tag, otherwise the
 * request will fail", and a type the action cannot tag is an error
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_TagSpecification.html). Tag keys "May not
 * begin with aws:" (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Tag.html).
 */
function tagSpecifications(p: Params, resourceType: string): Array<{ Key: string; Value: string }> {
  return structList(p, 'TagSpecification').flatMap((s) => {
    const type = s.get('ResourceType');
    if (!type) throw new SimError('InvalidParameterValue', 'Tag specification resource type must have a value');
    if (type !== resourceType) throw new SimError('InvalidParameterValue', `'${type}' is not a valid taggable resource type for this operation.`);
    const t = tags(s, 'Tag');
    if (t.some((x) => x.Key.toLowerCase().startsWith('aws:'))) throw new SimError('InvalidParameterValue', 'Tag keys starting with \'aws:\' are reserved for internal use');
    return t;
  });
}

export const EC2_MUTATIONS = new Set(['CreateSecurityGroup', 'AuthorizeSecurityGroupIngress', 'DeleteSecurityGroup', 'RevokeSecurityGroupIngress']);

const ec2Response = (action: string, ...children: string[]): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${NS}">${leaf('requestId', requestId())}${children.join('')}</${action}Response>`;

export function ec2Error(err: SimError): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>${leaf('Code', err.code)}${leaf('Message', err.message)}</Error></Errors>${leaf('RequestID', requestId())}</Response>`;
}

const arnOf = (g: SecurityGroup): string => `arn:aws:ec2:${g.region}:${g.account}:security-group/${g.id}`;

/** EC2 reports rules grouped into IpPermissions by protocol and port range. */
function renderPermissions(name: string, rules: SecurityGroupRule[]): string {
  const groups = new Map<string, SecurityGroupRule[]>();
  for (const r of rules) {
    const k = `${r.protocol}/${r.fromPort ?? ''}/${r.toPort ?? ''}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return xmlList(name, 'item', [...groups.values()], (rs) => {
    const first = rs[0] as SecurityGroupRule;
    return [
      leaf('ipProtocol', first.protocol),
      leaf('fromPort', first.fromPort),
      leaf('toPort', first.toPort),
      xmlList('groups', 'item', rs.filter((r) => r.sourceGroupId), (r) => leaf('description', r.description) + leaf('userId', r.sourceUserId) + leaf('groupId', r.sourceGroupId)),
      xmlList('ipRanges', 'item', rs.filter((r) => r.cidrIp), (r) => leaf('description', r.description) + leaf('cidrIp', r.cidrIp)),
      node('ipv6Ranges'),
      node('prefixListIds'),
    ].join('');
  });
}

const renderTags = (t: Array<{ Key: string; Value: string }>): string => xmlList('tagSet', 'item', t, (x) => leaf('key', x.Key) + leaf('value', x.Value));

function renderGroup(g: SecurityGroup): string {
  return [
    leaf('ownerId', g.account),
    leaf('groupId', g.id),
    leaf('groupName', g.name),
    leaf('groupDescription', g.description),
    leaf('vpcId', g.vpcId),
    leaf('securityGroupArn', arnOf(g)),
    renderPermissions('ipPermissions', g.ingress),
    renderPermissions('ipPermissionsEgress', g.egress),
    renderTags(g.tags),
  ].join('');
}

function parsePermissions(p: Params): IngressPermission[] {
  const perms: IngressPermission[] = structList(p, 'IpPermissions').map((s) => ({
    protocol: required(s, 'IpProtocol'),
    fromPort: int(s, 'FromPort'),
    toPort: int(s, 'ToPort'),
    groups: structList(s, 'Groups').map((g) => ({ groupId: str(g, 'GroupId'), groupName: str(g, 'GroupName'), userId: str(g, 'UserId'), description: str(g, 'Description') })),
    cidrs: structList(s, 'IpRanges').map((r) => ({ cidrIp: required(r, 'CidrIp'), description: str(r, 'Description') })),
  }));
  // The older flat form: IpProtocol/FromPort/ToPort with CidrIp or SourceSecurityGroupName.
  const protocol = str(p, 'IpProtocol');
  if (protocol || str(p, 'CidrIp') || str(p, 'SourceSecurityGroupName')) {
    perms.push({
      protocol: protocol ?? '-1',
      fromPort: int(p, 'FromPort'),
      toPort: int(p, 'ToPort'),
      groups: str(p, 'SourceSecurityGroupName') ? [{ groupName: str(p, 'SourceSecurityGroupName'), userId: str(p, 'SourceSecurityGroupOwnerId') }] : [],
      cidrs: str(p, 'CidrIp') ? [{ cidrIp: str(p, 'CidrIp') as string }] : [],
    });
  }
  if (perms.length === 0) throw new SimError('MissingParameter', 'The request must contain the parameter IpPermissions');
  return perms;
}

export function handleEc2(engine: SimEngine, action: string, p: Params, account: string, region: string): string {
  const ec2 = engine.ec2;
  switch (action) {
    case 'CreateSecurityGroup': {
      const g = ec2.create(account, region, {
        name: required(p, 'GroupName'),
        description: required(p, 'GroupDescription'),
        vpcId: str(p, 'VpcId'),
        tags: tagSpecifications(p, 'security-group'),
      });
      // Response elements (API_CreateSecurityGroup.html): groupId, securityGroupArn and tagSet (only when tagged).
      return ec2Response(action, leaf('groupId', g.id), g.tags.length > 0 ? renderTags(g.tags) : '', leaf('securityGroupArn', arnOf(g)));
    }
    case 'DescribeSecurityGroups': {
      const ids = list(p, 'GroupId');
      const names = list(p, 'GroupName');
      // Unknown ids or names are an error, not an empty answer; names are looked up in the default VPC only.
      const named = [...ids.map((groupId) => ec2.get(account, region, { groupId })), ...names.map((groupName) => ec2.get(account, region, { groupName }))];
      let groups = ids.length || names.length ? [...new Map(named.map((g) => [g.id, g])).values()] : ec2.list(account, region);
      for (const f of structList(p, 'Filter')) {
        const name = f.get('Name') ?? '';
        const match = filterMatcher(list(f, 'Value'));
        if (name === 'group-name') groups = groups.filter((g) => match(g.name));
        else if (name === 'group-id') groups = groups.filter((g) => match(g.id));
        else if (name === 'vpc-id') groups = groups.filter((g) => match(g.vpcId));
        else if (name === 'description') groups = groups.filter((g) => match(g.description));
        else if (name === 'owner-id') groups = groups.filter((g) => match(g.account));
        else if (name === 'tag-key') groups = groups.filter((g) => g.tags.some((t) => match(t.Key)));
        else if (name.startsWith('tag:')) groups = groups.filter((g) => g.tags.some((t) => t.Key === name.slice(4) && match(t.Value)));
        else if (name === 'ip-permission.group-id') groups = groups.filter((g) => g.ingress.some((r) => match(r.sourceGroupId)));
        else throw new SimError('InvalidParameterValue', `The filter '${name}' is invalid`);
      }
      return ec2Response(action, xmlList('securityGroupInfo', 'item', groups, renderGroup));
    }
    case 'DescribeVpcs': {
      const ids = list(p, 'VpcId');
      let vpcs = ids.length ? ids.map((id) => ec2.getVpc(account, region, id)) : ec2.listVpcs(account, region);
      for (const f of structList(p, 'Filter')) {
        const name = f.get('Name') ?? '';
        const match = filterMatcher(list(f, 'Value'));
        if (name === 'vpc-id') vpcs = vpcs.filter((v) => match(v.id));
        else if (name === 'is-default') vpcs = vpcs.filter((v) => match(String(v.isDefault)));
        else if (name === 'cidr' || name === 'cidr-block-association.cidr-block') vpcs = vpcs.filter((v) => match(v.cidrBlock));
        else if (name === 'owner-id') vpcs = vpcs.filter((v) => match(v.account));
        else if (name === 'tag-key') vpcs = vpcs.filter((v) => v.tags.some((t) => match(t.Key)));
        else if (name.startsWith('tag:')) vpcs = vpcs.filter((v) => v.tags.some((t) => t.Key === name.slice(4) && match(t.Value)));
        else throw new SimError('InvalidParameterValue', `The filter '${name}' is invalid`);
      }
      return ec2Response(
        action,
        xmlList('vpcSet', 'item', vpcs, (v) =>
          [
            leaf('vpcId', v.id),
            leaf('ownerId', v.account),
            leaf('state', 'available'),
            leaf('cidrBlock', v.cidrBlock),
            leaf('dhcpOptionsId', 'default'),
            leaf('instanceTenancy', 'default'),
            leaf('isDefault', v.isDefault),
            renderTags(v.tags),
          ].join(''),
        ),
      );
    }
    case 'AuthorizeSecurityGroupIngress': {
      const groupId = str(p, 'GroupId');
      const groupName = str(p, 'GroupName');
      if (!groupId && !groupName) throw new SimError('MissingParameter', 'The request must contain the parameter groupName or groupId');
      const group = ec2.get(account, region, { groupId, groupName });
      const added = ec2.authorizeIngress(account, region, group, parsePermissions(p));
      return ec2Response(
        action,
        leaf('return', true),
        xmlList('securityGroupRuleSet', 'item', added, (r) =>
          [
            leaf('securityGroupRuleId', r.ruleId),
            leaf('groupId', group.id),
            leaf('groupOwnerId', group.account),
            leaf('isEgress', false),
            leaf('ipProtocol', r.protocol),
            leaf('fromPort', r.fromPort ?? -1),
            leaf('toPort', r.toPort ?? -1),
            leaf('cidrIpv4', r.cidrIp),
            r.sourceGroupId ? node('referencedGroupInfo', leaf('groupId', r.sourceGroupId), leaf('userId', r.sourceUserId)) : '',
            leaf('description', r.description),
            leaf('securityGroupRuleArn', `arn:aws:ec2:${group.region}:${group.account}:security-group-rule/${r.ruleId}`),
          ].join(''),
        ),
      );
    }
    case 'DeleteSecurityGroup':
    case 'RevokeSecurityGroupIngress':
      throw new SimError('UnauthorizedOperation', `You are not authorized to perform this operation: the simulator does not implement ${action} (rds-orchestrator only adds rules).`, 403);
    default:
      throw new SimError('InvalidAction', `The action ${action} is not valid for this web service (the simulator implements CreateSecurityGroup, DescribeSecurityGroups, AuthorizeSecurityGroupIngress, DescribeVpcs).`);
  }
}
