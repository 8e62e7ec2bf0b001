/**
 * EC2 query protocol (API version 2016-11-15) for security groups and VPCs: one handler per action, lower-camel
 * XML (sim/src/ec2/render.ts), errors as `<Response><Errors><Error>`.
 */
import type { AwsProtocol } from '../core/aws-protocol';
import { ok } from '../core/aws-protocol';
import { SimError } from '../core/errors';
import type { Params } from '../core/query';
import { int, list, required, str, structList, tags } from '../core/query';
import { requestId } from '../core/request-id';
import { leaf, list as xmlList } from '../core/xml';
import type { Ec2Model, IngressPermission } from './model';
import { arnOf, renderAddedRule, renderGroup, renderTags, renderVpc } from './render';

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

/** One EC2 action: the XML body of its answer (status 200), or a thrown SimError. */
type Ec2Action = (ec2: Ec2Model, p: Params, account: string, region: string) => string;

const ACTIONS: Record<string, Ec2Action> = {
  CreateSecurityGroup: (ec2, p, account, region) => {
    const g = ec2.create(account, region, { name: required(p, 'GroupName'), description: required(p, 'GroupDescription'), vpcId: str(p, 'VpcId'), tags: tagSpecifications(p, 'security-group') });
    // Response elements (API_CreateSecurityGroup.html): groupId, securityGroupArn and tagSet (only when tagged).
    return ec2Response('CreateSecurityGroup', leaf('groupId', g.id), g.tags.length > 0 ? renderTags(g.tags) : '', leaf('securityGroupArn', arnOf(g)));
  },
  DescribeSecurityGroups: (ec2, p, account, region) => {
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
    return ec2Response('DescribeSecurityGroups', xmlList('securityGroupInfo', 'item', groups, renderGroup));
  },
  AuthorizeSecurityGroupIngress: (ec2, p, account, region) => {
    const groupId = str(p, 'GroupId');
    const groupName = str(p, 'GroupName');
    if (!groupId && !groupName) throw new SimError('MissingParameter', 'The request must contain the parameter groupName or groupId');
    const group = ec2.get(account, region, { groupId, groupName });
    const added = ec2.authorizeIngress(account, region, group, parsePermissions(p));
    return ec2Response('AuthorizeSecurityGroupIngress', leaf('return', true), xmlList('securityGroupRuleSet', 'item', added, (r) => renderAddedRule(group, r)));
  },
  DescribeVpcs: (ec2, p, account, region) => {
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
    return ec2Response('DescribeVpcs', xmlList('vpcSet', 'item', vpcs, renderVpc));
  },
};

/** rds-orchestrator only adds rules: removing anything is refused. */
const REFUSED = new Set(['DeleteSecurityGroup', 'RevokeSecurityGroupIngress']);

export function handleEc2(ec2: Ec2Model, action: string, p: Params, account: string, region: string): string {
  if (REFUSED.has(action)) throw new SimError('UnauthorizedOperation', `You are not authorized to perform this operation: the simulator does not implement ${action} (rds-orchestrator only adds rules).`, 403);
  const handler = ACTIONS[action];
  if (!handler) throw new SimError('InvalidAction', `The action ${action} is not valid for this web service (the simulator implements ${Object.keys(ACTIONS).join(', ')}).`);
  return handler(ec2, p, account, region);
}

export function ec2Protocol(ec2: Ec2Model): AwsProtocol {
  return {
    service: 'ec2',
    reachedBy: 'ec2 (2016-11-15)',
    queryVersion: '2016-11-15',
    contentType: 'text/xml',
    mutations: EC2_MUTATIONS,
    handle: (call) => ok(handleEc2(ec2, call.action, call.form, call.account, call.region)),
    renderError: ec2Error,
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html: AuthFailure 401 for an unknown key;
    // RequestExpired 400 ("If you're using temporary security credentials, this error can also occur if the
    // credentials have expired").
    refusal: (err) => (err.code === 'ExpiredToken' ? new SimError('RequestExpired', 'Request has expired.', 400) : new SimError('AuthFailure', 'AWS was not able to validate the provided access credentials', 401)),
    throttled: () => new SimError('RequestLimitExceeded', 'Request limit exceeded.', 503),
    internalErrorCode: 'InternalError',
  };
}
