/**
 * Route 53 behaviour: hosted zones, record sets with the validation Route 53 applies to change
 * batches (atomic: one bad change rejects the batch), changes PENDING then INSYNC after a delay, and
 * TestDNSAnswer answering from what has been published (INSYNC), not from what was just submitted,
 * for public zones only.
 */
import type { ServiceContext } from '../core/context';
import { SimError, notFound } from '../core/errors';
import { globalKey, randomString } from '../core/ids';
// Route 53 depends on EC2 (one way): a private hosted zone is associated with EC2 VPCs.
import type { Ec2Model } from '../ec2/model';
import type { HostedZone, ResourceRecordSet, Route53Change, Route53State, VpcAssociation } from './state';

export type Route53Durations = {
  /** A change stays PENDING this long, then INSYNC. */
  route53Insync: number;
};

export const ROUTE53_DURATIONS: Route53Durations = { route53Insync: 10 };

export interface ChangeInput {
  action: string;
  record: ResourceRecordSet;
}

export function normalizeName(name: string): string {
  const lower = name.trim().toLowerCase().replace(/\\052/g, '*');
  return lower.endsWith('.') ? lower : `${lower}.`;
}

/** Route 53 sorts record sets by name with labels reversed (com.example.www), then type, then set id. */
function recordSortKey(r: ResourceRecordSet): string {
  return `${r.name.split('.').reverse().join('.')}\u0000${r.type}\u0000${r.setIdentifier ?? ''}`;
}

export function sortRecords(records: ResourceRecordSet[]): ResourceRecordSet[] {
  return [...records].sort((a, b) => (recordSortKey(a) < recordSortKey(b) ? -1 : recordSortKey(a) > recordSortKey(b) ? 1 : 0));
}

const describeRecord = (r: ResourceRecordSet): string =>
  `[name='${r.name}', type='${r.type}'${r.setIdentifier !== undefined ? `, set-identifier='${r.setIdentifier}'` : ''}]`;

const sameIdentity = (a: ResourceRecordSet, b: ResourceRecordSet): boolean =>
  a.name === b.name && a.type === b.type && (a.setIdentifier ?? '') === (b.setIdentifier ?? '');

function sameContent(a: ResourceRecordSet, b: ResourceRecordSet): boolean {
  return (
    sameIdentity(a, b) &&
    a.ttl === b.ttl &&
    a.weight === b.weight &&
    JSON.stringify(a.values) === JSON.stringify(b.values) &&
    JSON.stringify(a.aliasTarget ?? null) === JSON.stringify(b.aliasTarget ?? null)
  );
}

export class Route53Model {
  constructor(
    private readonly ctx: ServiceContext<Route53State, keyof Route53Durations>,
    private readonly ec2: Ec2Model,
  ) {}

  private zoneKey(account: string, id: string): string {
    return globalKey(account, id.replace(/^\/?hostedzone\//, ''));
  }

  getZone(account: string, id: string): HostedZone {
    const zone = this.ctx.state.hostedZones[this.zoneKey(account, id)];
    if (!zone) throw notFound('NoSuchHostedZone', `No hosted zone found with ID: ${id.replace(/^\/?hostedzone\//, '')}`);
    return zone;
  }

  listZones(account: string): HostedZone[] {
    return Object.values(this.ctx.state.hostedZones)
      .filter((z) => z.account === account)
      .sort((a, b) => (a.name === b.name ? a.id.localeCompare(b.id) : a.name.split('.').reverse().join('.').localeCompare(b.name.split('.').reverse().join('.'))));
  }

  /**
   * CreateHostedZone (https://docs.aws.amazon.com/Route53/latest/APIReference/API_CreateHostedZone.html):
   * a zone created with a VPC is private and associated with that VPC ("You can specify only one Amazon
   * VPC when you create a private hosted zone"); a VPC the account does not have is InvalidVPCId; a
   * private zone of the same name already associated with that VPC is ConflictingDomainExists. The API
   * reference does not say what PrivateZone=true without a VPC does; the simulator refuses it with
   * InvalidInput, since a private zone is associated with at least one VPC (GetHostedZone's VPCs has
   * at least one member).
   */
  createZone(
    account: string,
    input: { name: string; callerReference: string; comment?: string; privateZone?: boolean; vpcs?: VpcAssociation[]; id?: string },
  ): { zone: HostedZone; change: Route53Change } {
    if (!input.name || !/^[a-z0-9_*.-]+$/i.test(input.name.replace(/\.$/, '')) || input.name.replace(/\.$/, '') === '') {
      throw new SimError('InvalidDomainName', `The domain name is invalid: ${input.name}`);
    }
    // "You can't create a hosted zone for a top-level domain (TLD) such as .com." (CreateHostedZone)
    if (!input.name.replace(/\.$/, '').includes('.')) throw new SimError('InvalidDomainName', `The domain name is invalid: ${input.name} is a top-level domain`);
    if (!input.callerReference) throw new SimError('InvalidInput', 'CallerReference is required');
    const existing = this.listZones(account).find((z) => z.callerReference === input.callerReference);
    if (existing) {
      throw new SimError('HostedZoneAlreadyExists', `A hosted zone has already been created with the specified caller reference (${input.callerReference}).`, 409);
    }
    const vpcs = input.vpcs ?? [];
    if (input.privateZone && vpcs.length === 0) throw new SimError('InvalidInput', 'Invalid request: a private hosted zone needs a VPC (VPC.VPCId and VPC.VPCRegion)');
    for (const v of vpcs) {
      if (!v.vpcId || !v.region) throw new SimError('InvalidInput', 'Invalid request: VPC needs both VPCId and VPCRegion');
      if (!this.ec2.findVpc(account, v.region, v.vpcId)) {
        throw new SimError('InvalidVPCId', `The VPC ID '${v.vpcId}' in ${v.region} either isn't a valid ID or the current account is not authorized to access this VPC.`);
      }
      const name = normalizeName(input.name);
      const clash = this.listZones(account).find((z) => z.name === name && (z.vpcs ?? []).some((a) => a.vpcId === v.vpcId && a.region === v.region));
      if (clash) {
        throw new SimError('ConflictingDomainExists', `A private hosted zone ${name} (${clash.id}) is already associated with VPC ${v.vpcId} in ${v.region}.`);
      }
    }
    const now = this.ctx.now();
    const id = input.id ?? `Z${randomString(20)}`;
    if (this.ctx.state.hostedZones[this.zoneKey(account, id)]) throw new SimError('HostedZoneAlreadyExists', `Hosted zone ${id} already exists`, 409);
    const name = normalizeName(input.name);
    const nameServers = [`ns-${100 + (now % 900)}.awsdns-01.com`, 'ns-1024.awsdns-02.org', 'ns-512.awsdns-03.net', 'ns-2048.awsdns-04.co.uk'];
    const apex: ResourceRecordSet[] = [
      { name, type: 'NS', ttl: 172800, values: nameServers.map((n) => `${n}.`) },
      { name, type: 'SOA', ttl: 900, values: [`${nameServers[0]}. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400`] },
    ];
    const zone: HostedZone = {
      account,
      id,
      name,
      callerReference: input.callerReference,
      comment: input.comment,
      privateZone: vpcs.length > 0,
      vpcs: vpcs.map((v) => ({ region: v.region, vpcId: v.vpcId })),
      nameServers,
      records: sortRecords(apex),
      published: sortRecords(apex),
      createdAt: now,
    };
    this.ctx.state.hostedZones[this.zoneKey(account, id)] = zone;
    const change = this.newChange(account, undefined, input.comment);
    this.ctx.markDirty();
    return { zone, change };
  }

  private newChange(account: string, zone: HostedZone | undefined, comment: string | undefined): Route53Change {
    const now = this.ctx.now();
    const change: Route53Change = {
      account,
      id: `C${randomString(20)}`,
      zoneId: zone?.id,
      submittedAt: now,
      insyncAt: now + this.ctx.durationMs('route53Insync'),
      comment,
      recordsAfter: zone ? zone.records : undefined,
      published: false,
    };
    this.ctx.state.changes[globalKey(account, change.id)] = change;
    return change;
  }

  getChange(account: string, id: string): Route53Change {
    const bare = id.replace(/^\/?change\//, '');
    const change = this.ctx.state.changes[globalKey(account, bare)];
    if (!change) throw notFound('NoSuchChange', `A change with the specified change ID does not exist: ${bare}`);
    return change;
  }

  changeStatus(change: Route53Change): 'PENDING' | 'INSYNC' {
    return this.ctx.now() >= change.insyncAt ? 'INSYNC' : 'PENDING';
  }

  changeRecords(account: string, zoneId: string, changes: ChangeInput[], comment?: string): Route53Change {
    const zone = this.getZone(account, zoneId);
    if (changes.length === 0) throw new SimError('InvalidInput', 'Invalid request: ChangeBatch must contain at least one Change');
    const errors: string[] = [];
    let records = [...zone.records];
    for (const { action, record: raw } of changes) {
      const record = this.validateRecord(zone, action, raw);
      const idx = records.findIndex((r) => sameIdentity(r, record));
      if (action === 'CREATE') {
        if (idx >= 0) {
          errors.push(`Tried to create resource record set ${describeRecord(record)} but it already exists`);
          continue;
        }
      } else if (action === 'DELETE') {
        if (idx < 0) {
          errors.push(`Tried to delete resource record set ${describeRecord(record)} but it was not found`);
          continue;
        }
        if (!sameContent(records[idx] as ResourceRecordSet, record)) {
          errors.push(`Tried to delete resource record set ${describeRecord(record)} but the values provided do not match the current values`);
          continue;
        }
        if (record.name === zone.name && (record.type === 'SOA' || record.type === 'NS')) {
          errors.push(`A HostedZone must contain at least one ${record.type} record for the zone itself.`);
          continue;
        }
        records.splice(idx, 1);
        continue;
      } else if (action !== 'UPSERT') {
        throw new SimError('InvalidInput', `Invalid request: Action '${action}' is not one of CREATE, DELETE, UPSERT`);
      }
      const conflict = records.find(
        (r) =>
          r.name === record.name &&
          !sameIdentity(r, record) &&
          ((r.type === record.type && (r.setIdentifier === undefined) !== (record.setIdentifier === undefined)) ||
            (r.type !== record.type && (r.type === 'CNAME' || record.type === 'CNAME'))),
      );
      if (conflict) {
        errors.push(
          `RRSet of type ${record.type} with DNS name ${record.name} is not permitted because a conflicting RRSet of type ${conflict.type} with the same DNS name already exists in zone ${zone.name}`,
        );
        continue;
      }
      records = idx >= 0 ? records.map((r, i) => (i === idx ? record : r)) : [...records, record];
      // One TTL for a group of weighted records: "If you create two or more weighted records that have the same name and
      // type, and you specify different values for TTL, Route 53 changes the value of TTL for all of the records to the
      // value that you specified last" (Developer Guide, values specific for weighted records).
      if (record.weight !== undefined && record.ttl !== undefined) {
        records = records.map((r) => (r.name === record.name && r.type === record.type && r.weight !== undefined && r.ttl !== undefined ? { ...r, ttl: record.ttl } : r));
      }
    }
    if (errors.length > 0) throw new SimError('InvalidChangeBatch', `[${errors.join(', ')}]`);
    zone.records = sortRecords(records);
    const change = this.newChange(account, zone, comment);
    this.ctx.markDirty();
    return change;
  }

  private validateRecord(zone: HostedZone, action: string, raw: ResourceRecordSet): ResourceRecordSet {
    const record: ResourceRecordSet = { ...raw, name: normalizeName(raw.name), type: raw.type.toUpperCase() };
    const where = `Change with [Action=${action}, Name=${record.name}, Type=${record.type}${record.setIdentifier !== undefined ? `, SetIdentifier=${record.setIdentifier}` : ''}]`;
    if (record.name !== zone.name && !record.name.endsWith(`.${zone.name}`)) {
      throw new SimError('InvalidChangeBatch', `[RRSet with DNS name ${record.name} is not permitted in zone ${zone.name}]`);
    }
    if (!['A', 'AAAA', 'CAA', 'CNAME', 'DS', 'MX', 'NAPTR', 'NS', 'PTR', 'SOA', 'SPF', 'SRV', 'TXT'].includes(record.type)) {
      throw new SimError('InvalidInput', `Invalid request: unsupported record type ${record.type} in ${where}`);
    }
    if (record.type === 'CNAME' && record.name === zone.name) {
      throw new SimError('InvalidChangeBatch', `[RRSet of type CNAME with DNS name ${record.name} is not permitted at apex in zone ${zone.name}]`);
    }
    if (record.setIdentifier !== undefined && record.weight === undefined) {
      throw new SimError('InvalidInput', `Invalid request: Expected exactly one of [Weight, Region, Failover, GeoLocation, MultiValueAnswer, GeoProximityLocation, or CidrRoutingConfig], but found none in ${where}`);
    }
    if (record.weight !== undefined) {
      if (record.setIdentifier === undefined) throw new SimError('InvalidInput', `Invalid request: Missing field 'SetIdentifier' in ${where}`);
      if (!Number.isInteger(record.weight) || record.weight < 0 || record.weight > 255) {
        throw new SimError('InvalidInput', `Invalid request: Weight must be between 0 and 255 in ${where}`);
      }
    }
    if (record.aliasTarget) {
      if (record.values.length > 0 || record.ttl !== undefined) throw new SimError('InvalidInput', `Invalid request: an alias record has no TTL or ResourceRecords in ${where}`);
    } else {
      if (record.ttl === undefined) throw new SimError('InvalidInput', `Invalid request: Missing field 'TTL' in ${where}`);
      if (record.values.length === 0) throw new SimError('InvalidInput', `Invalid request: Missing field 'ResourceRecords' in ${where}`);
      if (record.type === 'CNAME' && record.values.length > 1) {
        throw new SimError('InvalidChangeBatch', `[RRSet of type CNAME with DNS name ${record.name} has more than one ResourceRecord]`);
      }
    }
    return record;
  }

  /**
   * What the authoritative servers answer now. For weighted sets Route 53 picks one at random in
   * proportion to the weights; the simulator answers deterministically with the heaviest (ties by set
   * identifier), which is the value that wins a 100/0 cutover.
   */
  testDnsAnswer(account: string, zoneId: string, recordName: string, recordType: string): { recordData: string[]; responseCode: string } {
    const zone = this.getZone(account, zoneId);
    // "This call only supports querying public hosted zones."
    // (https://docs.aws.amazon.com/Route53/latest/APIReference/API_TestDNSAnswer.html). The page does not
    // name the error; InvalidInput (400) is the error it lists for input that is not valid.
    if (zone.privateZone) {
      throw new SimError(
        'InvalidInput',
        `Invalid request: TestDNSAnswer only supports public hosted zones; ${zone.id} (${zone.name}) is a private hosted zone`,
      );
    }
    const name = normalizeName(recordName);
    const type = recordType.toUpperCase();
    const atName = zone.published.filter((r) => r.name === name);
    if (atName.length === 0) return { recordData: [], responseCode: 'NXDOMAIN' };
    const matching = atName.filter((r) => r.type === type || (r.type === 'CNAME' && type !== 'CNAME'));
    if (matching.length === 0) return { recordData: [], responseCode: 'NOERROR' };
    const weighted = matching.filter((r) => r.weight !== undefined);
    if (weighted.length > 0) {
      const best = [...weighted].sort((a, b) => (b.weight as number) - (a.weight as number) || (a.setIdentifier ?? '').localeCompare(b.setIdentifier ?? ''))[0] as ResourceRecordSet;
      return { recordData: [...best.values], responseCode: 'NOERROR' };
    }
    return { recordData: matching.flatMap((r) => r.values), responseCode: 'NOERROR' };
  }

  /** Publishes the zone's records at `now`, and every change of it as INSYNC by then (a seeded zone is already live). */
  publishNow(account: string, zone: HostedZone, now: number): void {
    zone.published = zone.records;
    for (const c of Object.values(this.ctx.state.changes)) {
      if (c.zoneId === zone.id && c.account === account) {
        c.insyncAt = Math.min(c.insyncAt, now);
        c.published = true;
        c.recordsAfter = undefined;
      }
    }
    this.ctx.markDirty();
  }

  /** Publishes the records of every change that has become INSYNC, in order. */
  tick(): void {
    const now = this.ctx.now();
    const due = Object.values(this.ctx.state.changes)
      .filter((c) => !c.published && c.insyncAt <= now)
      .sort((a, b) => a.insyncAt - b.insyncAt);
    for (const c of due) {
      c.published = true;
      if (c.zoneId && c.recordsAfter) {
        const zone = this.ctx.state.hostedZones[globalKey(c.account, c.zoneId)];
        if (zone) zone.published = c.recordsAfter;
      }
      c.recordsAfter = undefined;
      this.ctx.markDirty();
    }
  }
}
