/**
 * Route 53 REST/XML protocol (API version 2013-04-01): which operation a method and path are, one handler per
 * operation, the XML in sim/src/route53/render.ts. Route 53 is global: zones belong to the account, whatever
 * region the request was signed for.
 */
import { XMLParser } from 'fast-xml-parser';
import type { AwsProtocol, AwsReply } from '../core/aws-protocol';
import { SimError } from '../core/errors';
import { requestId } from '../core/request-id';
import { leaf, node, scalarList } from '../core/xml';
import type { ChangeInput, Route53Model } from './model';
import { normalizeName } from './model';
import { NS, doc, renderChange, renderDelegationSet, renderRecord, renderVpc, renderVpcs, renderZone } from './render';

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

interface Route53Request {
  route: Route53Route;
  query: URLSearchParams;
  body: string;
  account: string;
}

/** One Route 53 operation: its answer, or a thrown SimError. */
type Route53Action = (r53: Route53Model, req: Route53Request) => AwsReply;

const ACTIONS: Record<string, Route53Action> = {
  CreateHostedZone: (r53, { body, account }) => {
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
      body: doc('CreateHostedZoneResponse', renderZone(zone), renderChange(change, r53.changeStatus(change)), renderDelegationSet(zone), associated ? node('VPC', renderVpc(associated)) : ''),
    };
  },
  ListHostedZones: (r53, { query: q, account }) => {
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
      body: doc('ListHostedZonesResponse', node('HostedZones', ...page.map(renderZone)), leaf('Marker', marker ?? ''), leaf('IsTruncated', next !== undefined), leaf('NextMarker', next?.id), leaf('MaxItems', max)),
    };
  },
  GetHostedZone: (r53, { route, account }) => {
    // https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetHostedZone.html: HostedZone (with
    // Config.PrivateZone), DelegationSet, and for a private zone the VPCs it is associated with.
    const zone = r53.getZone(account, route.zoneId as string);
    return { status: 200, body: doc('GetHostedZoneResponse', renderZone(zone), renderDelegationSet(zone), zone.privateZone ? renderVpcs(zone.vpcs ?? []) : '') };
  },
  DeleteHostedZone: () => {
    throw new SimError('AccessDenied', 'The simulator never deletes hosted zones: rds-orchestrator must not delete DNS zones.', 403);
  },
  ChangeResourceRecordSets: (r53, { route, body, account }) => {
    const { changes, comment } = parseChanges(body);
    const change = r53.changeRecords(account, route.zoneId as string, changes, comment);
    return { status: 200, body: doc('ChangeResourceRecordSetsResponse', renderChange(change, r53.changeStatus(change))) };
  },
  ListResourceRecordSets: (r53, { route, query: q, account }) => {
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
  },
  GetChange: (r53, { route, account }) => {
    const change = r53.getChange(account, route.changeId as string);
    return { status: 200, body: doc('GetChangeResponse', renderChange(change, r53.changeStatus(change))) };
  },
  TestDNSAnswer: (r53, { query: q, account }) => {
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
  },
};

export function route53Protocol(r53: Route53Model): AwsProtocol<Route53Route> {
  return {
    service: 'route53',
    reachedBy: `route53 (${PREFIX})`,
    contentType: 'text/xml',
    mutations: ROUTE53_MUTATIONS,
    routePath: (method, url, body) => {
      const route = route53Route(method, url.pathname);
      if (!route) return undefined;
      const params: Record<string, string> = Object.fromEntries(url.searchParams);
      if (route.zoneId) params.HostedZoneId = route.zoneId;
      if (route.changeId) params.Id = route.changeId;
      if (body) params.body = body.length > 2000 ? `${body.slice(0, 2000)}…` : body;
      return { action: route.action, params, route };
    },
    handle: ({ route, method, url, body, account }) => {
      const r = route as Route53Route;
      const handler = ACTIONS[r.action];
      if (!handler) throw new SimError('InvalidAction', `Route 53 action ${r.action} (${method} ${url.pathname}) is not implemented by the simulator`);
      return handler(r53, { route: r, query: url.searchParams, body, account });
    },
    renderError: route53Error,
  };
}
