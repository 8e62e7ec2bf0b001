/**
 * `startSimulator`: the simulator (sim/src/simulator.ts) served over HTTP on 127.0.0.1. One port answers:
 *   POST /                      RDS, EC2 and STS query protocol (service from the SigV4 credential scope), and
 *                               CloudTrail JSON 1.1 (X-Amz-Target com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.*)
 *   /2013-04-01/...             Route 53 REST/XML
 *   /statuspage/v1/...          a minimal Atlassian Statuspage API
 *   POST /v2/enqueue            PagerDuty's Events API v2 (sim/src/pagerduty/http.ts)
 *   /_sim/...                   admin (sim/src/core/admin-http.ts and the services' routes) and app status probes
 * With `dnsPort`, a DNS server (sim/src/dns/server.ts) on its own UDP+TCP port plays the VPC's Route 53 Resolver.
 * Signatures are not checked. Region and service come from the Authorization header's credential scope; the
 * caller, and so the account served, from the access key (sim/src/core/identity.ts, sim/src/sts/model.ts): a key
 * AssumeRole issued is its role's account, a seeded key its identity's, a 12-digit key that account (like moto),
 * anything else the default account.
 */
import type { Clock } from './core/clock';
import { listen } from './core/http-server';
import type { TokenBucketSpec } from './core/throttle';
import { checkBucketSpec } from './core/throttle';
import type { RunningDnsServer } from './dns/server';
import { startDnsServer } from './dns/server';
import type { Durations } from './simulator';
import { PostgresBackedInstances } from './rds-postgres';
import { Simulator } from './simulator';

export { credentialScope } from './core/identity';

export interface SimulatorOptions {
  /** 0 = a random free port (default 4599 only in the CLI). */
  port?: number;
  host?: string;
  stateFile?: string;
  /** Divides every status duration and the Route 53 delay (default 1). */
  speed?: number;
  clock?: Clock;
  /** Seconds a Route 53 change stays PENDING before INSYNC (before `speed`), default 10. */
  routeDelaySeconds?: number;
  /** Override any status duration (seconds, before `speed`). */
  durations?: Partial<Durations>;
  /**
   * Also answer DNS (UDP and TCP) on this port of `host`, as the VPC's Route 53 Resolver does for one
   * account's hosted zones (sim/src/dns/server.ts). 0 = a free port; absent = no DNS server.
   */
  dnsPort?: number;
  /** The VPC the DNS server plays the resolver of: private zones not associated with it are not answered. Default: every private zone. */
  dnsVpcId?: string;
  /** The account whose hosted zones the DNS server answers (default 123456789012). */
  dnsAccount?: string;
  /**
   * Throttle the RDS API like AWS: a token bucket per account and region (sim/src/rds/throttle.ts). Absent: no
   * throttling (the default). `RDS_DEFAULT_BUCKET` is AWS's default, 300 burst and 12 requests/s.
   */
  rdsThrottle?: TokenBucketSpec;
}

export interface RunningSimulator {
  url: string;
  port: number;
  /** Direct handle on the state machine (for tests: inspect state, call tick/advance). */
  engine: Simulator;
  /** `host:port` of the DNS server (for dns.Resolver#setServers or a spec's `cutover.resolvers`), when `dnsPort` was given. */
  dnsAddress?: string;
  dnsPort?: number;
  /** Moves simulated time forward, like POST /_sim/advance. */
  advance(seconds: number): number;
  close(): Promise<void>;
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<RunningSimulator> {
  const engine = new Simulator({
    clock: opts.clock,
    speed: opts.speed,
    stateFile: opts.stateFile,
    rdsThrottle: opts.rdsThrottle ? checkBucketSpec(opts.rdsThrottle, 'rdsThrottle') : undefined,
    durations: { ...opts.durations, ...(opts.routeDelaySeconds !== undefined ? { route53Insync: opts.routeDelaySeconds } : {}) },
  });
  // Real PostgreSQL behind instances seeded with `postgres: true` (sim/src/rds-postgres.ts); those that were
  // running when the state file was written start again now.
  const databases = new PostgresBackedInstances(engine);
  engine.rds.databases = databases;
  try {
    databases.resume();
  } catch (err) {
    databases.close();
    throw err;
  }
  const host = opts.host ?? '127.0.0.1';
  let http: Awaited<ReturnType<typeof listen>>;
  try {
    http = await listen(engine, host, opts.port ?? 0);
  } catch (err) {
    databases.close();
    throw err;
  }
  let dns: RunningDnsServer | undefined;
  if (opts.dnsPort !== undefined) {
    try {
      dns = await startDnsServer(engine, engine.route53, { host, port: opts.dnsPort, vpcId: opts.dnsVpcId, account: opts.dnsAccount, hostAddress: (name) => databases.hostAddress(name) });
    } catch (err) {
      await http.close();
      databases.close();
      throw err;
    }
  }
  return {
    url: `http://${host}:${http.port}`,
    port: http.port,
    engine,
    dnsAddress: dns?.address,
    dnsPort: dns?.port,
    advance: (seconds: number) => engine.advance(seconds),
    // Every PostgreSQL server the simulator started is stopped, even when closing the sockets fails.
    close: async () => {
      try {
        await dns?.close();
        await http.close();
      } finally {
        databases.close();
      }
    },
  };
}
