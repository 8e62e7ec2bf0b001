/**
 * Route 53 REST/XML protocol (API version 2013-04-01), with the element names the AWS SDK reads.
 * Route 53 is global: zones belong to the account, whatever region the request was signed for.
 */
import { XMLParser } from 'fast-xml-parser';
import type { SimEngine } from './engine';
import { SimError } from './errors';
import type { HostedZone, ResourceRecordSet, Route53Change, VpcAssociation } from './model';
import type { ChangeInput } from './route53-model';
import { normalizeName } from './route53-model';
import { iso, leaf, list as xmlList, node, scalarList } from './xml';
import { requestId } from './request-id';

const NS = 'https://route53.amazonaws.com/doc/2013-04-01/';
const PREFIX = '/2013-04-01';

export const ROUTE53_MUTATIONS = new Set(['CreateHostedZone', 'ChangeResourceRecordSets', 'DeleteHostedZone']);

export interface Route53Route {
  action: string;
  zoneId?: string;
  changeId?: string;
}

/** Which Route 53 operation a method + path is, or undefined. */
export function route53Route(method: string, pathname: string): Route53Route | undefined {
  if (!pathname.startsWith(`${PREFIX}/`)) return undefined;
  const rest = pathname.slice(PREFIX.length).replace(/\/+$/, '');
  let m: RegExpExecArray | null;
  if (rest === '/hostedzone') return method === 'POST' ? { action: 'CreateHostedZone' } : method === 'GET' ? { action: 'ListHostedZones' } : undefined;
  if ((m = /^\/hostedzone\/([^/]+)$/.exec(rest))) {
    const zoneId = decodeURIComponent(m[1] as string);
    if (method === 'GET') return { action: 'GetHostedZone', zoneId };
    if (method === 'DELETE') return { action: 'DeleteHostedZone', zoneId };
    return undefined;
  }
  if ((m = /^\/hostedzone\/([^/]+)\/rrset$/.exec(rest))) {
    const zoneId = decodeURIComponent(m[1] as string);
    if (method === 'POST') return { action: 'ChangeResourceRecordSets', zoneId };
    if (method === 'GET') return { action: 'ListResourceRecordSets', zoneId };
    return undefined;
  }
  if ((m = /^\/change\/([^/]+)$/.exec(rest)) && method === 'GET') return { action: 'GetChange', changeId: decodeURIComponent(m[1] as string) };
  if (rest === '/testdnsanswer' && method === 'GET') return { action: 'TestDNSAnswer' };
  return undefined;
}

export function route53Error(err: SimError): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${NS}"><Error><Type>${err.type}</Type>${leaf('Code', err.code)}${leaf('Message', err.message)}</Error><RequestId>${requestId()}</RequestId></ErrorResponse>`;
}

const doc = (root: string, ...children: string[]): string => `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${NS}">${children.join('')}</${root}>`;

function renderZone(z: HostedZone): string {
  return node(
    'HostedZone',
    leaf('Id', `/hostedzone/${z.id}`),
    leaf('Name', z.name),
    leaf('CallerReference', z.callerReference),
    node('Config', leaf('Comment', z.comment), leaf('PrivateZone', z.privateZone)),
    leaf('ResourceRecordSetCount', z.records.length),
  );
}

const renderDelegationSet = (z: HostedZone): string => node('DelegationSet', scalarList('NameServers', 'NameServer', z.nameServers));

const renderVpc = (v: VpcAssociation): string => leaf('VPCRegion', v.region) + leaf('VPCId', v.vpcId);

function renderChange(engine: SimEngine, c: Route53Change): string {
  return node('ChangeInfo', leaf('Id', `/change/${c.id}`), leaf('Status', engine.route53.changeStatus(c)), leaf('SubmittedAt', iso(c.submittedAt)), leaf('Comment', c.comment));
}

function renderRecord(r: ResourceRecordSet): string {
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

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: true,
  isArray: (name) => ['Change', 'ResourceRecord'].includes(name),
});

type XmlObj = Record<string, unknown>;

function parseXml(body: string): XmlObj {
  try {
    return parser.parse(body) as XmlObj;
  } catch (err) {
    throw new SimError('InvalidInput', `Invalid request: the XML body could not be parsed (${(err as Error).message})`);
  }
}

const obj = (v: unknown): XmlObj => (v && typeof v === 'object' ? (v as XmlObj) : {});
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);

function intText(v: unknown, field: string): number | undefined {
  const s = text(v);
  if (s === undefined) return undefined;
  if (!/^-?\d+$/.test(s)) throw new SimError('InvalidInput', `Invalid request: ${field} must be an integer, got '${s}'`);
  return Number(s);
}

function parseChanges(body: string): { changes: ChangeInput[]; comment?: string } {
  const root = obj(parseXml(body).ChangeResourceRecordSetsRequest);
  const batch = obj(root.ChangeBatch);
  const changes = (obj(batch.Changes).Change as unknown[] | undefined) ?? [];
  return {
    comment: text(batch.Comment),
    changes: changes.map((c) => {
      const ch = obj(c);
      const rrs = obj(ch.ResourceRecordSet);
      const alias = rrs.AliasTarget ? obj(rrs.AliasTarget) : undefined;
      const name = text(rrs.Name);
      const type = text(rrs.Type);
      if (!name || !type) throw new SimError('InvalidInput', 'Invalid request: each ResourceRecordSet needs Name and Type');
      return {
        action: text(ch.Action) ?? '',
        record: {
          name,
          type,
          setIdentifier: text(rrs.SetIdentifier),
          weight: intText(rrs.Weight, 'Weight'),
          ttl: intText(rrs.TTL, 'TTL'),
          values: ((obj(rrs.ResourceRecords).ResourceRecord as unknown[] | undefined) ?? []).map((r) => text(obj(r).Value) ?? ''),
          aliasTarget: alias
            ? { hostedZoneId: text(alias.HostedZoneId) ?? '', dnsName: text(alias.DNSName) ?? '', evaluateTargetHealth: text(alias.EvaluateTargetHealth) === 'true' }
            : undefined,
        },
      };
    }),
  };
}

export interface Route53Reply {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

export function handleRoute53(engine: SimEngine, route: Route53Route, method: string, url: URL, body: string, account: string): Route53Reply {
  const r53 = engine.route53;
  const q = url.searchParams;
  switch (route.action) {
    case 'CreateHostedZone': {
      const req = obj(parseXml(body).CreateHostedZoneRequest);
      const cfg = obj(req.HostedZoneConfig);
      const vpc = req.VPC === undefined ? undefined : obj(req.VPC);
      const { zone, change } = r53.createZone(account, {
        name: text(req.Name) ?? '',
        callerReference: text(req.CallerReference) ?? '',
        comment: text(cfg.Comment),
        privateZone: text(cfg.PrivateZone) === 'true',
        vpcs: vpc ? [{ region: text(vpc.VPCRegion) ?? '', vpcId: text(vpc.VPCId) ?? '' }] : undefined,
      });
      const associated = zone.vpcs?.[0];
      return {
        status: 201,
        headers: { Location: `https://route53.amazonaws.com/2013-04-01/hostedzone/${zone.id}` },
        body: doc('CreateHostedZoneResponse', renderZone(zone), renderChange(engine, change), renderDelegationSet(zone), associated ? node('VPC', renderVpc(associated)) : ''),
      };
    }
    case 'ListHostedZones': {
      // https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListHostedZones.html: Marker, IsTruncated
      // and MaxItems are always in the answer (Marker echoes the request's marker); NextMarker "is present
      // only if IsTruncated is true"; at most 100 zones per answer; hostedzonetype=PrivateHostedZone
      // lists private zones only.
      const type = q.get('hostedzonetype') ?? undefined;
      if (type !== undefined && type !== 'PrivateHostedZone') throw new SimError('InvalidInput', `Invalid request: hostedzonetype must be PrivateHostedZone, got '${type}'`);
      const zones = r53.listZones(account).filter((z) => type === undefined || z.privateZone);
      const max = intText(q.get('maxitems') ?? undefined, 'maxitems') ?? 100;
      if (max < 1) throw new SimError('InvalidInput', `Invalid request: maxitems must be at least 1, got ${max}`);
      const marker = q.get('marker') ?? undefined;
      const start = marker ? Math.max(0, zones.findIndex((z) => z.id === marker.replace(/^\/?hostedzone\//, ''))) : 0;
      const pageSize = Math.min(max, 100);
      const page = zones.slice(start, start + pageSize);
      const next = zones[start + pageSize];
      return {
        status: 200,
        body: doc(
          'ListHostedZonesResponse',
          node('HostedZones', ...page.map(renderZone)),
          leaf('Marker', marker ?? ''),
          leaf('IsTruncated', next !== undefined),
          leaf('NextMarker', next?.id),
          leaf('MaxItems', max),
        ),
      };
    }
    case 'GetHostedZone': {
      // https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetHostedZone.html: HostedZone (with
      // Config.PrivateZone), DelegationSet, and for a private zone the VPCs it is associated with.
      const zone = r53.getZone(account, route.zoneId as string);
      const vpcs = zone.privateZone ? xmlList('VPCs', 'VPC', zone.vpcs ?? [], renderVpc) : '';
      return { status: 200, body: doc('GetHostedZoneResponse', renderZone(zone), renderDelegationSet(zone), vpcs) };
    }
    case 'DeleteHostedZone':
      throw new SimError('AccessDenied', 'The simulator never deletes hosted zones: rds-orchestrator must not delete DNS zones.', 403);
    case 'ChangeResourceRecordSets': {
      const { changes, comment } = parseChanges(body);
      const change = r53.changeRecords(account, route.zoneId as string, changes, comment);
      return { status: 200, body: doc('ChangeResourceRecordSetsResponse', renderChange(engine, change)) };
    }
    case 'ListResourceRecordSets': {
      const zone = r53.getZone(account, route.zoneId as string);
      const max = intText(q.get('maxitems') ?? undefined, 'maxitems') ?? 300;
      const startName = q.get('name');
      const startType = q.get('type')?.toUpperCase();
      const startId = q.get('identifier') ?? undefined;
      if (startType && !startName) throw new SimError('InvalidInput', 'The input is not valid: type without name');
      let records = zone.records;
      if (startName) {
        const key = (name: string): string => name.split('.').reverse().join('.');
        const sName = key(normalizeName(startName));
        const idx = records.findIndex((r) => {
          const k = key(r.name);
          if (k !== sName) return k > sName;
          if (!startType) return true;
          if (r.type !== startType) return r.type > startType;
          return startId === undefined || (r.setIdentifier ?? '') >= startId;
        });
        records = idx < 0 ? [] : records.slice(idx);
      }
      const page = records.slice(0, max);
      const next = records[max];
      return {
        status: 200,
        body: doc(
          'ListResourceRecordSetsResponse',
          node('ResourceRecordSets', ...page.map(renderRecord)),
          leaf('IsTruncated', next !== undefined),
          leaf('NextRecordName', next?.name),
          leaf('NextRecordType', next?.type),
          leaf('NextRecordIdentifier', next?.setIdentifier),
          leaf('MaxItems', max),
        ),
      };
    }
    case 'GetChange': {
      const change = r53.getChange(account, route.changeId as string);
      return { status: 200, body: doc('GetChangeResponse', renderChange(engine, change)) };
    }
    case 'TestDNSAnswer': {
      const zoneId = q.get('hostedzoneid');
      const recordName = q.get('recordname');
      const recordType = q.get('recordtype');
      if (!zoneId || !recordName || !recordType) throw new SimError('InvalidInput', 'Invalid request: hostedzoneid, recordname and recordtype are required');
      const answer = r53.testDnsAnswer(account, zoneId, recordName, recordType);
      const zone = r53.getZone(account, zoneId);
      return {
        status: 200,
        body: doc(
          'TestDNSAnswerResponse',
          leaf('Nameserver', zone.nameServers[0]),
          leaf('RecordName', normalizeName(recordName)),
          leaf('RecordType', recordType.toUpperCase()),
          scalarList('RecordData', 'RecordDataEntry', answer.recordData),
          leaf('ResponseCode', answer.responseCode),
          leaf('Protocol', 'UDP'),
        ),
      };
    }
    default:
      throw new SimError('InvalidAction', `Route 53 action ${route.action} (${method} ${url.pathname}) is not implemented by the simulator`);
  }
}
