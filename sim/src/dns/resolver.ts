/**
 * The VPC resolver's answers: from what Route 53 has published, for one account's hosted zones (the rules
 * followed are listed in sim/src/dns/server.ts). The wire format is sim/src/dns/wire.ts.
 */
import { DEFAULT_ACCOUNT } from '../core/aws';
// The DNS server depends on Route 53 (one way): it answers from Route 53's published records.
import { normalizeName } from '../route53/model';
import type { HostedZone, ResourceRecordSet } from '../route53/state';
import { RCODE, TYPE, TYPE_ANY } from './wire';
import type { Question, Response, Rr } from './wire';

/** Where the hosted zones are: Route 53's model. */
export interface ZoneDirectory {
  listZones(account: string): HostedZone[];
}

export interface ResolverOptions {
  /** The account whose hosted zones are answered (default 123456789012). */
  account?: string;
  /** The VPC this resolver belongs to: only private zones associated with it are answered. Default: all. */
  vpcId?: string;
  /** For weighted choice; default Math.random. */
  random?: () => number;
  /**
   * Names answered with an A record outside the hosted zones: the endpoint names of the simulator's
   * PostgreSQL-backed RDS instances, each with the loopback address its own server listens on (in AWS, the
   * endpoint's DNS name resolves to the instance's address). Given by the composition, so the DNS server does not
   * depend on RDS.
   */
  hostAddress?: (name: string) => string | undefined;
}

type Answer = Pick<Response, 'rcode' | 'aa' | 'answers' | 'authority'>;
interface Step {
  rcode: number;
  answers: Rr[];
  authority: Rr[];
  /** Set when the answer is a CNAME for another type: the name to chase. */
  cname?: string;
}

/** At most this many CNAMEs are followed (a loop or a long chain ends the answer where it is). */
const MAX_CHAIN = 8;
const parent = (name: string): string => name.slice(name.indexOf('.') + 1);
const inZone = (name: string, zone: string): boolean => name === zone || name.endsWith(`.${zone}`);

/** Answers questions from the Route 53 model's published records, as the VPC resolver would. */
export class ZoneResolver {
  private readonly account: string;
  private readonly random: () => number;

  constructor(
    private readonly zones: ZoneDirectory,
    private readonly opts: ResolverOptions = {},
  ) {
    this.account = opts.account ?? DEFAULT_ACCOUNT;
    this.random = opts.random ?? Math.random;
  }

  /**
   * The zone that answers `name`: the most specific private zone the resolver's VPC sees, else the most
   * specific public zone ("most specific match"; a public zone stands in for the internet's delegation,
   * which the simulator does not have). Same-name zones: the oldest, then by id.
   */
  zoneFor(name: string): HostedZone | undefined {
    const candidates = this.zones.listZones(this.account).filter((z) => inZone(name, z.name));
    const best = (zones: HostedZone[]): HostedZone | undefined =>
      zones.sort((a, b) => b.name.length - a.name.length || a.createdAt - b.createdAt || a.id.localeCompare(b.id))[0];
    const seen = (z: HostedZone): boolean => this.opts.vpcId === undefined || (z.vpcs ?? []).some((v) => v.vpcId === this.opts.vpcId);
    return best(candidates.filter((z) => z.privateZone && seen(z))) ?? best(candidates.filter((z) => !z.privateZone));
  }

  resolve(question: Question): Answer {
    const answers: Rr[] = [];
    let name = normalizeName(question.name);
    let owner = question.name; // as asked, so the answer's owner compresses to the question
    const chased = new Set<string>();
    for (let i = 0; i < MAX_CHAIN; i++) {
      const host = this.opts.hostAddress?.(name);
      if (host !== undefined) {
        if (question.type === TYPE.A || question.type === TYPE_ANY) answers.push({ name: owner, type: TYPE.A as number, ttl: 5, data: host });
        return { rcode: RCODE.NOERROR, aa: true, answers, authority: [] };
      }
      const zone = this.zoneFor(name);
      // Outside every zone: AmazonProvidedDNS would recurse to the internet, which the simulator does not
      // have. The question itself is REFUSED; a CNAME pointing out of the zones ends the answer there.
      if (!zone) return i === 0 ? { rcode: RCODE.REFUSED, aa: false, answers, authority: [] } : { rcode: RCODE.NOERROR, aa: true, answers, authority: [] };
      chased.add(name);
      const step = this.lookup(zone, name, owner, question.type);
      answers.push(...step.answers);
      if (!step.cname || chased.has(step.cname)) return { rcode: step.rcode, aa: true, answers, authority: step.authority };
      name = step.cname;
      owner = step.cname;
    }
    return { rcode: RCODE.NOERROR, aa: true, answers, authority: [] };
  }

  private lookup(zone: HostedZone, name: string, owner: string, qtype: number): Step {
    const records = zone.published;
    let sets = records.filter((r) => r.name === name);
    if (sets.length === 0) {
      // A name with nothing of its own but records below it exists (an empty non-terminal): NODATA, not
      // NXDOMAIN (RFC 8020). Otherwise a wildcard at the closest existing ancestor may answer (RFC 4592).
      if (records.some((r) => r.name.endsWith(`.${name}`))) return this.noData(zone);
      const wildcard = this.wildcard(zone, name);
      if (!wildcard) return { rcode: RCODE.NXDOMAIN, answers: [], authority: this.soa(zone) };
      sets = wildcard;
    }
    // Alias records are not evaluated (the simulator has no AWS resources behind them): they answer nothing.
    const plain = sets.filter((r) => !r.aliasTarget);
    const cnames = plain.filter((r) => r.type === 'CNAME');
    if (cnames.length > 0 && qtype !== TYPE.CNAME) {
      const chosen = this.pick(cnames);
      const target = chosen.values[0];
      return { rcode: RCODE.NOERROR, answers: this.rrs(chosen, owner), authority: [], cname: qtype === TYPE_ANY || !target ? undefined : normalizeName(target) };
    }
    const byType = new Map<string, ResourceRecordSet[]>();
    for (const r of plain) {
      if (TYPE[r.type] === undefined || (qtype !== TYPE_ANY && TYPE[r.type] !== qtype)) continue;
      byType.set(r.type, [...(byType.get(r.type) ?? []), r]);
    }
    const answers = [...byType.values()].flatMap((group) => this.rrs(this.pick(group), owner));
    return answers.length > 0 ? { rcode: RCODE.NOERROR, answers, authority: [] } : this.noData(zone);
  }

  private wildcard(zone: HostedZone, name: string): ResourceRecordSet[] | undefined {
    for (let encloser = parent(name); inZone(encloser, zone.name); encloser = parent(encloser)) {
      const exists = zone.published.some((r) => r.name === encloser || r.name.endsWith(`.${encloser}`));
      if (!exists) continue;
      const wild = zone.published.filter((r) => r.name === `*.${encloser}`);
      return wild.length > 0 ? wild : undefined;
    }
    return undefined;
  }

  /**
   * One record set of a name and type. Simple records have one set. Weighted sets are chosen as Route 53
   * does: in proportion to their weights, weight 0 never, unless all are 0 (then with equal probability).
   * Health checks are not modelled.
   */
  private pick(sets: ResourceRecordSet[]): ResourceRecordSet {
    if (sets.length === 1 || sets.every((s) => s.weight === undefined)) return sets[0] as ResourceRecordSet;
    const positive = sets.filter((s) => (s.weight ?? 0) > 0);
    const pool = positive.length > 0 ? positive : sets;
    const weightOf = (s: ResourceRecordSet): number => (positive.length > 0 ? (s.weight as number) : 1);
    let x = this.random() * pool.reduce((n, s) => n + weightOf(s), 0);
    for (const s of pool) {
      x -= weightOf(s);
      if (x < 0) return s;
    }
    return pool[pool.length - 1] as ResourceRecordSet;
  }

  private rrs(set: ResourceRecordSet, owner: string): Rr[] {
    return set.values.map((data) => ({ name: owner, type: TYPE[set.type] as number, ttl: set.ttl ?? 300, data }));
  }

  private noData(zone: HostedZone): Step {
    return { rcode: RCODE.NOERROR, answers: [], authority: this.soa(zone) };
  }

  /** The zone's SOA for a negative answer, with TTL min(SOA TTL, SOA minimum) (RFC 2308 §3 and §5). */
  private soa(zone: HostedZone): Rr[] {
    const soa = zone.published.find((r) => r.name === zone.name && r.type === 'SOA');
    const data = soa?.values[0];
    if (!soa || !data) return [];
    const minimum = Number(data.trim().split(/\s+/)[6]);
    return [{ name: zone.name, type: TYPE.SOA as number, ttl: Math.min(soa.ttl ?? 900, Number.isFinite(minimum) ? minimum : 900), data }];
  }
}

