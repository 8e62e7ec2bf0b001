/**
 * The AWS simulator's HTTP server (node:http, 127.0.0.1). One port answers:
 *   POST /                      RDS, EC2 and STS query protocol (service from the SigV4 credential scope), and
 *                               CloudTrail JSON 1.1 (X-Amz-Target com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.*)
 *   /2013-04-01/...             Route 53 REST/XML
 *   /statuspage/v1/...          a minimal Atlassian Statuspage API
 *   POST /v2/enqueue            PagerDuty's Events API v2 (sim/src/pagerduty-http.ts)
 *   /_sim/...                   admin (sim/src/admin-http.ts) and app status probes
 * With `dnsPort`, a DNS server (sim/src/dns.ts) on its own UDP+TCP port plays the VPC's Route 53 Resolver.
 * Signatures are not checked. Region and service come from the Authorization header's credential scope; the
 * caller, and so the account served, from the access key (sim/src/identity.ts): a key AssumeRole issued is its
 * role's account, a seeded key its identity's, a 12-digit key that account (like moto), anything else the
 * default account.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from './clock';
import type { Durations } from './context';
import { startDnsServer } from './dns';
import type { RunningDnsServer } from './dns';
import { handleAdmin } from './admin-http';
import { CLOUDTRAIL_CONTENT_TYPE, CLOUDTRAIL_MUTATIONS, CLOUDTRAIL_TARGET_PREFIX, cloudTrailAction, cloudTrailError, handleCloudTrail } from './cloudtrail';
import { SimEngine } from './engine';
import { SimError } from './errors';
import { EC2_MUTATIONS, ec2Error, handleEc2 } from './ec2';
import { readBody, send, sendJson, sleep } from './http-util';
import type { AwsService } from './identity';
import { credentialScope, requestIdentity } from './identity';
import { handlePagerDuty } from './pagerduty-http';
import { parseForm, summarize } from './query';
import { RDS_MUTATIONS, handleRds, rdsError } from './rds';
import { ROUTE53_MUTATIONS, handleRoute53, route53Error, route53Route } from './route53';
import { handleStatuspage } from './statuspage-http';
import { STS_MUTATIONS, handleSts, stsError } from './sts';
import type { CallDetails, CallRecord } from './types';
import { requestId, withRequestId } from './request-id';
import { checkBucketSpec, throttlingError, type TokenBucketSpec } from './throttle';

export { credentialScope } from './identity';

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
   * account's hosted zones (sim/src/dns.ts). 0 = a free port; absent = no DNS server.
   */
  dnsPort?: number;
  /** The VPC the DNS server plays the resolver of: private zones not associated with it are not answered. Default: every private zone. */
  dnsVpcId?: string;
  /** The account whose hosted zones the DNS server answers (default 123456789012). */
  dnsAccount?: string;
  /**
   * Throttle the RDS API like AWS: a token bucket per account and region (sim/src/throttle.ts). Absent: no
   * throttling (the default). `RDS_DEFAULT_BUCKET` is AWS's default, 300 burst and 12 requests/s.
   */
  rdsThrottle?: TokenBucketSpec;
}

export interface RunningSimulator {
  url: string;
  port: number;
  /** Direct handle on the state machine (for tests: inspect state, call tick/advance). */
  engine: SimEngine;
  /** `host:port` of the DNS server (for dns.Resolver#setServers or a spec's `cutover.resolvers`), when `dnsPort` was given. */
  dnsAddress?: string;
  dnsPort?: number;
  /** Moves simulated time forward, like POST /_sim/advance. */
  advance(seconds: number): number;
  close(): Promise<void>;
}

const QUERY_VERSIONS: Record<string, AwsService> = { '2016-11-15': 'ec2', '2014-10-31': 'rds', '2011-06-15': 'sts' };
const MUTATIONS: Record<AwsService, Set<string>> = { rds: RDS_MUTATIONS, ec2: EC2_MUTATIONS, route53: ROUTE53_MUTATIONS, sts: STS_MUTATIONS, cloudtrail: CLOUDTRAIL_MUTATIONS };
const RENDER_ERROR: Record<AwsService, (err: SimError) => string> = { rds: rdsError, ec2: ec2Error, route53: route53Error, sts: stsError, cloudtrail: cloudTrailError };
const CONTENT_TYPE = (service: AwsService): string => (service === 'cloudtrail' ? CLOUDTRAIL_CONTENT_TYPE : 'text/xml');

/** How a request is routed: its service, action, the parameters for the call log, and the query form when it has one. */
interface AwsRequest {
  service: AwsService;
  action: string;
  params: Record<string, string>;
  form?: Map<string, string>;
  r53?: NonNullable<ReturnType<typeof route53Route>>;
}

class SimulatorServer {
  constructor(readonly engine: SimEngine) {}

  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const method = req.method ?? 'GET';
    let body: string;
    try {
      body = await readBody(req);
    } catch (err) {
      sendJson(res, 413, { error: (err as Error).message });
      return;
    }
    try {
      if (url.pathname.startsWith('/_sim/') || url.pathname === '/_sim') {
        handleAdmin(this.engine, method, url, body, res);
        return;
      }
      if (url.pathname.startsWith('/statuspage/v1/')) {
        handleStatuspage(this.engine, method, url, body, req, res);
        return;
      }
      if (url.pathname === '/v2/enqueue') {
        handlePagerDuty(this.engine, method, body, res);
        return;
      }
      await withRequestId(() => this.handleAws(method, url, body, req, res));
    } catch (err) {
      // A bug in the simulator itself: say so plainly, never pretend it is an AWS answer.
      console.error('[simulator] internal error', err);
      if (!res.headersSent) sendJson(res, 500, { error: `simulator internal error: ${(err as Error).message}` });
    } finally {
      this.engine.persistIfDirty();
    }
  }

  // ---- AWS ------------------------------------------------------------------------------------

  /** Which AWS API a request is for, or the reason it is none. */
  private route(method: string, url: URL, body: string, req: http.IncomingMessage, scopeService: string | undefined): AwsRequest | string {
    const r53 = route53Route(method, url.pathname);
    if (r53) {
      const params: Record<string, string> = Object.fromEntries(url.searchParams);
      if (r53.zoneId) params.HostedZoneId = r53.zoneId;
      if (r53.changeId) params.Id = r53.changeId;
      if (body) params.body = body.length > 2000 ? `${body.slice(0, 2000)}…` : body;
      return { service: 'route53', action: r53.action, params, r53 };
    }
    if (method !== 'POST' || url.pathname !== '/') return `No simulated API at ${method} ${url.pathname}`;
    const target = cloudTrailAction(header(req, 'x-amz-target'));
    if (scopeService === 'cloudtrail' || target !== undefined) return { service: 'cloudtrail', action: target ?? '', params: summarizeJson(body) };
    const form = parseForm(body);
    const version = form.get('Version');
    const svc = scopeService ?? QUERY_VERSIONS[version ?? ''];
    if (svc !== 'rds' && svc !== 'ec2' && svc !== 'sts') {
      return `Unknown service '${svc ?? '?'}' (Version=${version ?? 'none'}): the simulator answers rds (2014-10-31), ec2 (2016-11-15), sts (2011-06-15), route53 (/2013-04-01) and cloudtrail (JSON 1.1, X-Amz-Target ${CLOUDTRAIL_TARGET_PREFIX}…)`;
    }
    return { service: svc, action: form.get('Action') ?? '', params: summarize(form), form };
  }

  private async handleAws(method: string, url: URL, body: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const scope = credentialScope(req.headers.authorization);
    const routed = this.route(method, url, body, req, scope.service);
    if (typeof routed === 'string') {
      sendJson(res, routed.startsWith('Unknown service') ? 400 : 404, { error: routed });
      return;
    }
    const { service, action, params, form, r53 } = routed;

    this.engine.tick();
    const who = requestIdentity(this.engine, service, scope, req, url);
    const isMutation = MUTATIONS[service].has(action);
    const session = who.caller?.session;
    const details: CallDetails = {
      form: form ? [...form].map(([k, v]): [string, string] => [k, /password/i.test(k) ? '****' : v]) : undefined,
      body: form ? undefined : body,
      userAgent: header(req, 'user-agent'),
      sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, ''),
      userId: who.caller?.userId,
      session: session && { roleArn: session.roleArn, sessionName: session.sessionName, assumedRoleId: session.assumedRoleId, issuedAt: session.issuedAt },
    };
    const log = (httpStatus: number, outcome: { errorCode?: string; errorMessage?: string; fault?: CallRecord['fault']; response?: string } = {}): void => {
      const { errorCode, errorMessage, fault, response } = outcome;
      this.engine.recordCall(
        { service, action, region: scope.region, account: who.account, principal: who.principal, accessKeyId: scope.accessKeyId, params, isMutation, httpStatus, errorCode, fault, requestId: requestId() },
        { ...details, errorMessage, response: isMutation && httpStatus < 300 ? response : undefined },
      );
    };
    const contentType = CONTENT_TYPE(service);
    const fail = (err: SimError, fault?: CallRecord['fault']): void => {
      log(err.status, { errorCode: err.code, errorMessage: err.message, fault });
      const headers: Record<string, string> = service === 'cloudtrail' ? { 'x-amzn-ErrorType': err.code } : {};
      send(res, err.status, RENDER_ERROR[service](err), contentType, headers);
    };

    if (this.engine.faults.latencyMs > 0) await sleep(this.engine.faults.latencyMs);
    // Credentials are checked before anything else, as AWS authenticates a request before throttling it.
    if (!who.caller) return fail(who.refusal as SimError);
    // RDS's token bucket, per account and region, after authentication (a refused caller takes no token).
    if (service === 'rds' && !this.engine.rdsThrottle.take(who.caller.account, scope.region)) return fail(throttlingError());
    const fault = this.engine.takeFault();
    if (fault) {
      const err =
        fault.kind === 'throttle'
          ? service === 'ec2'
            ? new SimError('RequestLimitExceeded', 'Request limit exceeded.', 503)
            : new SimError(service === 'cloudtrail' ? 'ThrottlingException' : 'Throttling', 'Rate exceeded', 400)
          : new SimError(service === 'ec2' ? 'InternalError' : 'InternalFailure', 'An internal error has occurred (injected by the simulator)', fault.status);
      return fail(err, fault.kind);
    }

    const account = who.caller.account;
    try {
      if (r53) {
        const reply = handleRoute53(this.engine, r53, method, url, body, account);
        log(reply.status, { response: reply.body });
        send(res, reply.status, reply.body, contentType, reply.headers);
        return;
      }
      const p = form as Map<string, string>;
      const answer =
        service === 'cloudtrail'
          ? handleCloudTrail(this.engine, action, body, account, scope.region)
          : service === 'rds'
            ? handleRds(this.engine, action, p, account, scope.region)
            : service === 'ec2'
              ? handleEc2(this.engine, action, p, account, scope.region)
              : handleSts(this.engine, action, p, who.caller);
      log(200, { response: answer });
      send(res, 200, answer, contentType);
    } catch (err) {
      if (!(err instanceof SimError)) throw err;
      fail(err);
    }
  }
}

const header = (req: http.IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/** A JSON body's top-level members for the call log, each as a short string. */
function summarizeJson(body: string): Record<string, string> {
  try {
    const v = JSON.parse(body || '{}') as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) return {};
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, (typeof x === 'string' ? x : JSON.stringify(x)).slice(0, 200)]));
  } catch {
    return { body: body.slice(0, 200) };
  }
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<RunningSimulator> {
  const engine = new SimEngine({
    clock: opts.clock,
    speed: opts.speed,
    stateFile: opts.stateFile,
    rdsThrottle: opts.rdsThrottle ? checkBucketSpec(opts.rdsThrottle, 'rdsThrottle') : undefined,
    durations: { ...opts.durations, ...(opts.routeDelaySeconds !== undefined ? { route53Insync: opts.routeDelaySeconds } : {}) },
  });
  const app = new SimulatorServer(engine);
  const server = http.createServer((req, res) => {
    void app.handle(req, res);
  });
  server.keepAliveTimeout = 5_000;
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const closeHttp = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      engine.persistIfDirty();
      server.close((err) => (err ? reject(err) : resolve()));
      server.closeAllConnections();
    });
  let dns: RunningDnsServer | undefined;
  if (opts.dnsPort !== undefined) {
    try {
      dns = await startDnsServer(engine, { host, port: opts.dnsPort, vpcId: opts.dnsVpcId, account: opts.dnsAccount });
    } catch (err) {
      await closeHttp();
      throw err;
    }
  }
  return {
    url: `http://${host}:${port}`,
    port,
    engine,
    dnsAddress: dns?.address,
    dnsPort: dns?.port,
    advance: (seconds: number) => engine.advance(seconds),
    close: async () => {
      await dns?.close();
      await closeHttp();
    },
  };
}
