/** Route 53's XML (API version 2013-04-01), with the element names the AWS SDK reads. */
import { iso, leaf, list as xmlList, node, scalarList } from '../core/xml';
import type { HostedZone, ResourceRecordSet, Route53Change, VpcAssociation } from './state';

export const NS = 'https://route53.amazonaws.com/doc/2013-04-01/';

export const doc = (root: string, ...children: string[]): string => `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${NS}">${children.join('')}</${root}>`;

export function renderZone(z: HostedZone): string {
  return node(
    'HostedZone',
    leaf('Id', `/hostedzone/${z.id}`),
    leaf('Name', z.name),
    leaf('CallerReference', z.callerReference),
    node('Config', leaf('Comment', z.comment), leaf('PrivateZone', z.privateZone)),
    leaf('ResourceRecordSetCount', z.records.length),
  );
}

export const renderDelegationSet = (z: HostedZone): string => node('DelegationSet', scalarList('NameServers', 'NameServer', z.nameServers));

export const renderVpc = (v: VpcAssociation): string => leaf('VPCRegion', v.region) + leaf('VPCId', v.vpcId);

export const renderVpcs = (vpcs: VpcAssociation[]): string => xmlList('VPCs', 'VPC', vpcs, renderVpc);

export function renderChange(c: Route53Change, status: 'PENDING' | 'INSYNC'): string {
  return node('ChangeInfo', leaf('Id', `/change/${c.id}`), leaf('Status', status), leaf('SubmittedAt', iso(c.submittedAt)), leaf('Comment', c.comment));
}

export function renderRecord(r: ResourceRecordSet): string {
  return node(
    'ResourceRecordSet',
    leaf('Name', r.name),
    leaf('Type', r.type),
    leaf('SetIdentifier', r.setIdentifier),
    leaf('Weight', r.weight),
    leaf('TTL', r.ttl),
    r.values.length > 0 && xmlList('ResourceRecords', 'ResourceRecord', r.values, (v) => leaf('Value', v)),
    r.aliasTarget &&
      node('AliasTarget', leaf('HostedZoneId', r.aliasTarget.hostedZoneId), leaf('DNSName', r.aliasTarget.dnsName), leaf('EvaluateTargetHealth', r.aliasTarget.evaluateTargetHealth)),
  );
}
