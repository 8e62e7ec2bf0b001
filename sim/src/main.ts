/**
 * `ts-node sim/src/main.ts [--port 4599] [--state FILE] [--speed X] [--route53-delay S] [--seed-demo | --seed-demo-accounts] [--host H] [--dns-port N] [--dns-vpc VPC] [--dns-account ACCOUNT] [--rds-throttle aws|BURST/RATE]`
 * Runs the AWS simulator until SIGINT/SIGTERM. With --dns-port it also answers DNS (UDP+TCP) for the
 * hosted zones, as the VPC's Route 53 Resolver would (sim/src/dns/server.ts).
 */
import { SimAdminClient } from './client';
import type { TokenBucketSpec } from './core/throttle';
import { DEMO_ACCOUNTS, demoFleet } from './demo-fleet';
import { RDS_DEFAULT_BUCKET } from './rds/throttle';
import { startSimulator } from './server';
import type { RunningSimulator } from './server';

export interface SimulatorCliOptions {
  port: number;
  host: string;
  stateFile?: string;
  speed: number;
  routeDelaySeconds?: number;
  seedDemo: boolean;
  /** Seed the demo fleet in three accounts (implies seedDemo; the DNS server then defaults to the production account). */
  seedDemoAccounts?: boolean;
  /** DNS server port (0 = a free one); absent = no DNS server. */
  dnsPort?: number;
  dnsVpcId?: string;
  dnsAccount?: string;
  /** RDS API token bucket per account and region; absent = no throttling. */
  rdsThrottle?: TokenBucketSpec;
}

const USAGE =
  'usage: sim [--port N (default 4599, 0 = random)] [--host 127.0.0.1] [--state FILE] [--speed X] [--route53-delay SECONDS] [--seed-demo | --seed-demo-accounts] [--dns-port N (0 = random)] [--dns-vpc VPC_ID] [--dns-account ACCOUNT_ID] [--rds-throttle aws | BURST/RATE (e.g. 300/12; default off)]';

/** `aws` (AWS's default bucket, 300/12) or `BURST/RATE`. */
export function parseBucket(text: string): TokenBucketSpec {
  if (text === 'aws') return { ...RDS_DEFAULT_BUCKET };
  const m = /^(\d+(?:\.\d+)?)\/(\d+(?:\.\d+)?)$/.exec(text);
  const burst = Number(m?.[1]);
  const ratePerSecond = Number(m?.[2]);
  if (!m || !(burst >= 1) || !(ratePerSecond > 0)) throw new Error(`--rds-throttle ${text}: expected aws or BURST/RATE (requests, requests per second), e.g. 300/12\n${USAGE}`);
  return { burst, ratePerSecond };
}

export function parseSimulatorArgs(argv: string[]): SimulatorCliOptions {
  const opts: SimulatorCliOptions = { port: 4599, host: '127.0.0.1', speed: 1, seedDemo: false };
  const value = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value\n${USAGE}`);
    return v;
  };
  const num = (s: string, flag: string, check: (n: number) => boolean): number => {
    const n = Number(s);
    if (!Number.isFinite(n) || !check(n)) throw new Error(`${flag} ${s} is not valid\n${USAGE}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    switch (a) {
      case '--port':
        opts.port = num(value(i, a), a, (n) => Number.isInteger(n) && n >= 0 && n < 65536);
        i++;
        break;
      case '--host':
        opts.host = value(i, a);
        i++;
        break;
      case '--state':
        opts.stateFile = value(i, a);
        i++;
        break;
      case '--speed':
        opts.speed = num(value(i, a), a, (n) => n > 0);
        i++;
        break;
      case '--route53-delay':
        opts.routeDelaySeconds = num(value(i, a), a, (n) => n >= 0);
        i++;
        break;
      case '--dns-port':
        opts.dnsPort = num(value(i, a), a, (n) => Number.isInteger(n) && n >= 0 && n < 65536);
        i++;
        break;
      case '--dns-vpc':
        opts.dnsVpcId = value(i, a);
        i++;
        break;
      case '--dns-account':
        opts.dnsAccount = value(i, a);
        if (!/^\d{12}$/.test(opts.dnsAccount)) throw new Error(`--dns-account ${opts.dnsAccount} is not a 12-digit account id\n${USAGE}`);
        i++;
        break;
      case '--rds-throttle':
        opts.rdsThrottle = parseBucket(value(i, a));
        i++;
        break;
      case '--seed-demo':
        opts.seedDemo = true;
        break;
      case '--seed-demo-accounts':
        opts.seedDemo = true;
        opts.seedDemoAccounts = true;
        break;
      case '--help':
      case '-h':
        throw new Error(USAGE);
      default:
        throw new Error(`unknown argument ${a}\n${USAGE}`);
    }
  }
  return opts;
}

export async function runSimulatorCli(argv: string[]): Promise<RunningSimulator> {
  const opts = parseSimulatorArgs(argv);
  const dnsAccount = opts.dnsAccount ?? (opts.seedDemoAccounts ? DEMO_ACCOUNTS.production : undefined);
  const sim = await startSimulator({ port: opts.port, host: opts.host, stateFile: opts.stateFile, speed: opts.speed, routeDelaySeconds: opts.routeDelaySeconds, dnsPort: opts.dnsPort, dnsVpcId: opts.dnsVpcId, dnsAccount, rdsThrottle: opts.rdsThrottle });
  if (opts.seedDemo) {
    const result = await new SimAdminClient(sim.url).seed(demoFleet(sim.engine.now(), { multiAccount: opts.seedDemoAccounts, postgres: true }));
    console.log(`seeded demo fleet: ${result.instances.map((i) => i.id).join(', ')}; hosted zone ${result.hostedZones.map((z) => `${z.name} (${z.id})`).join(', ')}`);
    const production = sim.engine.rds.list(result.instances.find((i) => i.id === 'notifydb-production')?.account ?? '', 'eu-west-2').find((i) => i.postgres);
    if (production) console.log(`PostgreSQL: ${production.id} on ${production.postgres?.host}:${production.endpoint.port} (user ${production.masterUsername}; sim/README.md, "PostgreSQL-backed instances")`);
    if (result.roles.length) console.log(`accounts: ${result.instances.map((i) => `${i.id} in ${i.account}`).join(', ')}, zone in ${result.hostedZones[0]?.account}; roles: ${result.roles.map((r) => r.arn).join(', ')}`);
  }
  const throttle = opts.rdsThrottle ? `, RDS throttled at ${opts.rdsThrottle.burst} burst + ${opts.rdsThrottle.ratePerSecond}/s per account and region` : '';
  console.log(`AWS simulator listening on ${sim.url} (speed ${opts.speed}${opts.stateFile ? `, state ${opts.stateFile}` : ', state in memory'}${throttle})`);
  if (sim.dnsAddress) console.log(`DNS (VPC resolver) listening on ${sim.dnsAddress} (udp+tcp${dnsAccount ? `, account ${dnsAccount}` : ''}${opts.dnsVpcId ? `, private zones of ${opts.dnsVpcId}` : ''})`);
  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    console.log(`${signal}: stopping the simulator`);
    sim.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  return sim;
}

if (require.main === module) {
  runSimulatorCli(process.argv.slice(2)).catch((err: unknown) => {
    console.error((err as Error).message);
    process.exit(2);
  });
}
