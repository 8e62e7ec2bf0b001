/**
 * The AWS simulator's HTTP server (node:http, 127.0.0.1). One port answers:
 *   POST /                      RDS, EC2 and STS query protocol (service from the SigV4 credential scope)
 *   /2013-04-01/...             Route 53 REST/XML
 *   /statuspage/v1/...          a minimal Atlassian Statuspage API
 *   /_sim/...                   admin (seed, faults, throttle, calls, reset, state, advance) and app status probes
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
import { SimEngine } from './engine';
import { SimError } from './errors';
import { EC2_MUTATIONS, ec2Error, handleEc2 } from './ec2';
import { parseJson, readBody, send, sendJson, sleep } from './http-util';
import type { AwsService } from './identity';
import { credentialScope, requestIdentity } from './identity';
import { DEFAULT_ACCOUNT } from './model';
import { parseForm, summarize } from './query';
import { RDS_MUTATIONS, handleRds, rdsError } from './rds';
import { ROUTE53_MUTATIONS, handleRoute53, route53Error, route53Route } from './route53';
import { handleStatuspage } from './statuspage-http';
import { STS_MUTATIONS, handleSts, stsError } from './sts';
import type { AppStatus, CallFilter, CallRecord, FaultSpec, SeedSpec } from './types';
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
const MUTATIONS: Record<AwsService, Set<string>> = { rds: RDS_MUTATIONS, ec2: EC2_MUTATIONS, route53: ROUTE53_MUTATIONS, sts: STS_MUTATIONS };
const RENDER_ERROR: Record<AwsService, (err: SimError) => string> = { rds: rdsError, ec2: ec2Error, route53: route53Error, sts: stsError };

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
        this.handleAdmin(method, url, body, res);
        return;
      }
      if (url.pathname.startsWith('/statuspage/v1/')) {
        handleStatuspage(this.engine, method, url, body, req, res);
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

  private async handleAws(method: string, url: URL, body: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const scope = credentialScope(req.headers.authorization);
    const r53 = route53Route(method, url.pathname);
    let service: AwsService;
    let action: string;
    let params: Record<string, string>;
    let form: Map<string, string> | undefined;
    if (r53) {
      service = 'route53';
      action = r53.action;
      params = Object.fromEntries(url.searchParams);
      if (r53.zoneId) params.HostedZoneId = r53.zoneId;
      if (r53.changeId) params.Id = r53.changeId;
      if (body) params.body = body.length > 2000 ? `${body.slice(0, 2000)}…` : body;
    } else if (method === 'POST' && url.pathname === '/') {
      form = parseForm(body);
      const version = form.get('Version');
      const svc = scope.service ?? QUERY_VERSIONS[version ?? ''];
      if (svc !== 'rds' && svc !== 'ec2' && svc !== 'sts') {
        sendJson(res, 400, { error: `Unknown service '${svc ?? '?'}' (Version=${version ?? 'none'}): the simulator answers rds (2014-10-31), ec2 (2016-11-15), sts (2011-06-15) and route53 (/2013-04-01)` });
        return;
      }
      service = svc;
      action = form.get('Action') ?? '';
      params = summarize(form);
    } else {
      sendJson(res, 404, { error: `No simulated API at ${method} ${url.pathname}` });
      return;
    }

    this.engine.tick();
    const who = requestIdentity(this.engine, service, scope, req, url);
    const isMutation = MUTATIONS[service].has(action);
    const log = (httpStatus: number, errorCode?: string, fault?: CallRecord['fault']): void => {
      this.engine.recordCall({ service, action, region: scope.region, account: who.account, principal: who.principal, accessKeyId: scope.accessKeyId, params, isMutation, httpStatus, errorCode, fault, requestId: requestId() });
    };
    const renderError = RENDER_ERROR[service];

    if (this.engine.faults.latencyMs > 0) await sleep(this.engine.faults.latencyMs);
    // Credentials are checked before anything else, as AWS authenticates a request before throttling it.
    if (!who.caller) {
      const err = who.refusal as SimError;
      log(err.status, err.code);
      send(res, err.status, renderError(err), 'text/xml');
      return;
    }
    // RDS's token bucket, per account and region, after authentication (a refused caller takes no token).
    if (service === 'rds' && !this.engine.rdsThrottle.take(who.caller.account, scope.region)) {
      const err = throttlingError();
      log(err.status, err.code);
      send(res, err.status, renderError(err), 'text/xml');
      return;
    }
    const fault = this.engine.takeFault();
    if (fault) {
      const err =
        fault.kind === 'throttle'
          ? service === 'ec2'
            ? new SimError('RequestLimitExceeded', 'Request limit exceeded.', 503)
            : new SimError('Throttling', 'Rate exceeded', 400)
          : new SimError(service === 'ec2' ? 'InternalError' : 'InternalFailure', 'An internal error has occurred (injected by the simulator)', fault.status);
      log(err.status, err.code, fault.kind);
      send(res, err.status, renderError(err), 'text/xml');
      return;
    }

    const account = who.caller.account;
    try {
      if (service === 'route53') {
        const reply = handleRoute53(this.engine, r53 as NonNullable<typeof r53>, method, url, body, account);
        log(reply.status);
        send(res, reply.status, reply.body, 'text/xml', reply.headers);
      } else {
        const p = form as Map<string, string>;
        const xml =
          service === 'rds'
            ? handleRds(this.engine, action, p, account, scope.region)
            : service === 'ec2'
              ? handleEc2(this.engine, action, p, account, scope.region)
              : handleSts(this.engine, action, p, who.caller);
        log(200);
        send(res, 200, xml, 'text/xml');
      }
    } catch (err) {
      if (!(err instanceof SimError)) throw err;
      log(err.status, err.code);
      send(res, err.status, renderError(err), 'text/xml');
    }
  }

  // ---- Admin ----------------------------------------------------------------------------------

  private handleAdmin(method: string, url: URL, body: string, res: http.ServerResponse): void {
    const e = this.engine;
    const p = url.pathname.replace(/\/+$/, '');
    try {
      const app = /^\/_sim\/app\/([^/]+)\/([^/]+)\/status$/.exec(p);
      if (app && method === 'GET') {
        e.tick();
        const region = decodeURIComponent(app[1] as string);
        const instanceId = decodeURIComponent(app[2] as string);
        const inst = e.rds.find(url.searchParams.get('account') ?? DEFAULT_ACCOUNT, region, instanceId);
        const status: AppStatus = { region, instanceId, status: inst?.status ?? 'not-found', engineVersion: inst?.engineVersion, healthy: inst?.status === 'available' };
        sendJson(res, inst ? (status.healthy ? 200 : 503) : 404, status);
        return;
      }
      const route = `${method} ${p}`;
      switch (route) {
        case 'GET /_sim/health':
          sendJson(res, 200, { ok: true, now: new Date(e.now()).toISOString(), speed: e.speed });
          return;
        case 'POST /_sim/seed':
          sendJson(res, 200, e.seed(parseJson(body) as SeedSpec));
          return;
        case 'GET /_sim/faults':
          sendJson(res, 200, e.faults);
          return;
        case 'POST /_sim/faults':
          sendJson(res, 200, e.setFaults(parseJson(body) as FaultSpec));
          return;
        case 'GET /_sim/calls': {
          const q = url.searchParams;
          const since = q.get('since');
          const filter: CallFilter = {
            service: q.get('service') ?? undefined,
            action: q.get('action') ?? undefined,
            account: q.get('account') ?? undefined,
            principal: q.get('principal') ?? undefined,
            since: since === null ? undefined : Number(since),
            mutationsOnly: q.get('mutationsOnly') === 'true',
          };
          sendJson(res, 200, e.listCalls(filter));
          return;
        }
        case 'GET /_sim/throttle':
          sendJson(res, 200, { rds: e.rdsThrottle.settings ?? null, tokens: e.rdsThrottle.snapshot() });
          return;
        case 'POST /_sim/throttle': {
          const spec = parseJson(body).rds;
          if (spec === undefined) throw new SimError('BadRequest', 'throttle needs {"rds": {"burst": N, "ratePerSecond": R}} or {"rds": null}', 400);
          e.rdsThrottle.configure(spec === null ? undefined : checkBucketSpec(spec, 'rds'));
          sendJson(res, 200, { rds: e.rdsThrottle.settings ?? null, tokens: e.rdsThrottle.snapshot() });
          return;
        }
        case 'POST /_sim/reset':
          e.reset();
          sendJson(res, 200, { ok: true });
          return;
        case 'GET /_sim/state':
          e.tick();
          sendJson(res, 200, { now: new Date(e.now()).toISOString(), state: e.state });
          return;
        case 'POST /_sim/advance': {
          const seconds = parseJson(body).seconds;
          if (typeof seconds !== 'number' || !(seconds >= 0)) throw new SimError('BadRequest', 'advance needs {"seconds": <non-negative number>}', 400);
          sendJson(res, 200, { now: new Date(e.advance(seconds)).toISOString() });
          return;
        }
        default:
          sendJson(res, 404, { error: `No admin endpoint ${route}. Have: GET /_sim/health, POST /_sim/seed, GET|POST /_sim/faults, GET|POST /_sim/throttle, GET /_sim/calls, POST /_sim/reset, GET /_sim/state, POST /_sim/advance, GET /_sim/app/{region}/{instanceId}/status` });
      }
    } catch (err) {
      const status = err instanceof SimError ? err.status : 400;
      sendJson(res, status, { error: (err as Error).message, ...(err instanceof SimError ? { code: err.code } : {}) });
    }
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
