/**
 * A DNS server in the simulator that plays the VPC's Route 53 Resolver ("AmazonProvidedDNS", which AWS
 * places at the VPC CIDR base + 2). Route 53's TestDNSAnswer refuses private hosted zones, so the restore
 * workflow verifies a private-zone cutover with a real lookup through the resolvers the spec names; this
 * is what answers that lookup in the demo and the tests.
 *
 * It answers from what Route 53 has PUBLISHED (the records as of the last INSYNC change: the state
 * TestDNSAnswer also reads), never from pending changes, for one account's hosted zones. Documents followed:
 * - https://docs.aws.amazon.com/vpc/latest/userguide/AmazonDNS-concepts.html ("The Amazon DNS server in
 *   your VPC is used to resolve the DNS domain names that you specify in a private hosted zone"; its address)
 * - https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/hosted-zone-private-considerations.html
 *   (overlapping namespaces: "Resolver routes traffic based on the most specific match"; a matching private
 *   zone is never left for a public one)
 * - https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/routing-policy-weighted.html and
 *   https://docs.aws.amazon.com/Route53/latest/APIReference/API_ResourceRecordSet.html (Weight: traffic in
 *   proportion to weight / sum of weights; weight 0 is never answered unless every set of the name and
 *   type has weight 0, then all are equally likely)
 * - https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetChange.html ("INSYNC indicates that the
 *   changes have propagated to all Route 53 DNS servers managing the hosted zone": so not before)
 * The wire format itself is sim/src/dns-wire.ts.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { SimEngine } from './engine';
import type { HostedZone, ResourceRecordSet } from './model';
import { DEFAULT_ACCOUNT } from './model';
import { normalizeName } from './route53-model';
import { CLASS_IN, RCODE, TYPE, TYPE_ANY, WireError, encodeResponse, parseQuery } from './dns-wire';
import type { Query, Question, Response, Rr } from './dns-wire';

export interface DnsServerOptions {
  host: string;
  /** 0 = a free port (the same number for UDP and TCP). */
  port: number;
  /** The account whose hosted zones are answered (default 123456789012). */
  account?: string;
  /** The VPC this resolver belongs to: only private zones associated with it are answered. Default: all. */
  vpcId?: string;
  /** For weighted choice; default Math.random. */
  random?: () => number;
}

export interface RunningDnsServer {
  host: string;
  port: number;
  /** `host:port` (`[host]:port` for IPv6), ready for dns.Resolver#setServers. */
  address: string;
  close(): Promise<void>;
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
    private readonly engine: SimEngine,
    private readonly opts: Pick<DnsServerOptions, 'account' | 'vpcId' | 'random'> = {},
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
    const candidates = this.engine.route53.listZones(this.account).filter((z) => inZone(name, z.name));
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

/** Turns one query message into its response (undefined: not worth an answer, e.g. garbage without a header). */
export function answerMessage(engine: SimEngine, resolver: ZoneResolver, msg: Buffer, overTcp: boolean): Buffer | undefined {
  let query: Query;
  try {
    query = parseQuery(msg);
  } catch (err) {
    const id = err instanceof WireError ? err.id : undefined;
    if (id === undefined) return undefined;
    return encodeResponse({ id, opcode: 0, rd: false, aa: false, rcode: RCODE.FORMERR, answers: [], authority: [], edns: false }, 512);
  }
  const base: Response = { id: query.id, opcode: query.opcode, rd: query.rd, aa: false, rcode: RCODE.NOERROR, question: query.question, answers: [], authority: [], edns: query.edns !== undefined };
  // Over UDP the answer must fit the requestor's payload size (512 without EDNS); TCP takes anything.
  const limit = overTcp ? 65535 : (query.edns?.udpSize ?? 512);
  const { type } = query.question;
  // Only standard queries; zone transfers (IXFR 251, AXFR 252) and other opcodes are not implemented.
  if (query.opcode !== 0 || type === 251 || type === 252) return encodeResponse({ ...base, rcode: RCODE.NOTIMP }, limit);
  if (query.question.class !== CLASS_IN) return encodeResponse({ ...base, rcode: RCODE.REFUSED }, limit);
  try {
    // Time moves lazily: bring Route 53 up to now first, so a change that is INSYNC by now is published.
    engine.tick();
    return encodeResponse({ ...base, ...resolver.resolve(query.question) }, limit);
  } catch (err) {
    console.error('[simulator] DNS internal error', err);
    return encodeResponse({ ...base, rcode: RCODE.SERVFAIL }, limit);
  } finally {
    engine.persistIfDirty();
  }
}

function tcpServer(respond: (msg: Buffer) => Buffer | undefined, sockets: Set<net.Socket>): net.Server {
  return net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    sock.setTimeout(10_000, () => sock.destroy()); // idle connections do not pile up (RFC 7766 §6.2.3)
    let pending = Buffer.alloc(0);
    sock.on('data', (chunk: Buffer) => {
      // Over TCP each message is preceded by its length in two octets (RFC 1035 §4.2.2).
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const len = pending.readUInt16BE(0);
        const out = respond(pending.subarray(2, 2 + len));
        pending = pending.subarray(2 + len);
        if (out) {
          const prefix = Buffer.alloc(2);
          prefix.writeUInt16BE(out.length);
          sock.write(Buffer.concat([prefix, out]));
        }
      }
    });
  });
}

const listening = (start: (done: () => void) => void, emitter: NodeJS.EventEmitter): Promise<void> =>
  new Promise((resolve, reject) => {
    emitter.once('error', reject);
    start(() => {
      emitter.off('error', reject);
      resolve();
    });
  });

/** Starts the resolver on UDP and TCP, both on one port of `host`. */
export async function startDnsServer(engine: SimEngine, opts: DnsServerOptions): Promise<RunningDnsServer> {
  const resolver = new ZoneResolver(engine, opts);
  const sockets = new Set<net.Socket>();
  const tcp = tcpServer((msg) => answerMessage(engine, resolver, msg, true), sockets);
  for (let attempt = 1; ; attempt++) {
    const udp = dgram.createSocket(net.isIPv6(opts.host) ? 'udp6' : 'udp4');
    try {
      await listening((done) => udp.bind(opts.port, opts.host, done), udp);
      const port = udp.address().port;
      await listening((done) => tcp.listen(port, opts.host, done), tcp);
      udp.on('message', (msg, from) => {
        const out = answerMessage(engine, resolver, msg, false);
        if (out) udp.send(out, from.port, from.address);
      });
      udp.on('error', (err) => console.error('[simulator] DNS socket error', err));
      const address = `${net.isIPv6(opts.host) ? `[${opts.host}]` : opts.host}:${port}`;
      const close = (): Promise<void> =>
        new Promise((resolve) => {
          for (const s of sockets) s.destroy();
          let open = 2;
          const done = (): void => {
            if (--open === 0) resolve();
          };
          udp.close(done);
          tcp.close(done);
        });
      return { host: opts.host, port, address, close };
    } catch (err) {
      try {
        udp.close();
      } catch {
        // never bound: nothing to close
      }
      // Port 0 gave a UDP port whose TCP twin is taken by someone else: try another free port.
      if (opts.port !== 0 || attempt >= 10 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
}
