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
 * The answers are sim/src/dns/resolver.ts; the wire format sim/src/dns/wire.ts.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { SimEngine } from '../core/engine';
import type { ResolverOptions, ZoneDirectory } from './resolver';
import { ZoneResolver } from './resolver';
import { CLASS_IN, RCODE, WireError, encodeResponse, parseQuery } from './wire';
import type { Query, Response } from './wire';

/** What the server needs of the engine: bringing time up to now, and writing the state after an answer. */
type Engine = Pick<SimEngine, 'tick' | 'persistIfDirty'>;

export interface DnsServerOptions extends ResolverOptions {
  host: string;
  /** 0 = a free port (the same number for UDP and TCP). */
  port: number;
}

export interface RunningDnsServer {
  host: string;
  port: number;
  /** `host:port` (`[host]:port` for IPv6), ready for dns.Resolver#setServers. */
  address: string;
  close(): Promise<void>;
}

/** Turns one query message into its response (undefined: not worth an answer, e.g. garbage without a header). */
export function answerMessage(engine: Engine, resolver: ZoneResolver, msg: Buffer, overTcp: boolean): Buffer | undefined {
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
export async function startDnsServer(engine: Engine, zones: ZoneDirectory, opts: DnsServerOptions): Promise<RunningDnsServer> {
  const resolver = new ZoneResolver(zones, opts);
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
