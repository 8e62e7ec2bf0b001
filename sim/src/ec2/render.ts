/** EC2's XML (API version 2016-11-15): lower-camel elements, lists as `<item>`, with the element names the AWS SDK reads. */
import { leaf, list as xmlList, node } from '../core/xml';
import type { SecurityGroup, SecurityGroupRule, Vpc } from './state';

export const arnOf = (g: SecurityGroup): string => `arn:aws:ec2:${g.region}:${g.account}:security-group/${g.id}`;

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

export const renderTags = (t: Array<{ Key: string; Value: string }>): string => xmlList('tagSet', 'item', t, (x) => leaf('key', x.Key) + leaf('value', x.Value));

export function renderGroup(g: SecurityGroup): string {
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

export function renderVpc(v: Vpc): string {
  return [
    leaf('vpcId', v.id),
    leaf('ownerId', v.account),
    leaf('state', 'available'),
    leaf('cidrBlock', v.cidrBlock),
    leaf('dhcpOptionsId', 'default'),
    leaf('instanceTenancy', 'default'),
    leaf('isDefault', v.isDefault),
    renderTags(v.tags),
  ].join('');
}

/** A rule AuthorizeSecurityGroupIngress added (securityGroupRuleSet). */
export function renderAddedRule(group: SecurityGroup, r: SecurityGroupRule): string {
  return [
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
  ].join('');
}
