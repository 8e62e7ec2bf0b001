/**
 * The AWS simulator's HTTP server (node:http, 127.0.0.1). One port answers:
 *   POST /                      RDS and EC2 query protocol (service from the SigV4 credential scope)
 *   /2013-04-01/...             Route 53 REST/XML
 *   /statuspage/v1/...          a minimal Atlassian Statuspage API
 *   /_sim/...                   admin (seed, faults, calls, reset, state, advance) and app status probes
 * With `dnsPort`, a DNS server (sim/src/dns.ts) on its own UDP+TCP port plays the VPC's Route 53 Resolver.
 * Signatures are not checked; region and account come from the Authorization header's credential scope
 * (an access key id of 12 digits is used as the account, like moto does).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { Clock } from './clock';
import type { Durations } from './context';
import { startDnsServer } from './dns';
import type { RunningDnsServer } from './dns';
import { SimEngine } from './engine';
import { SimError } from './errors';
import { EC2_MUTATIONS, ec2Error, handleEc2 } from './ec2';
import { DEFAULT_ACCOUNT, DEFAULT_REGION } from './model';
import { parseForm, summarize } from './query';
import { RDS_MUTATIONS, handleRds, rdsError } from './rds';
import { ROUTE53_MUTATIONS, handleRoute53, route53Error, route53Route } from './route53';
import type { AppStatus, CallFilter, CallRecord, FaultSpec, SeedSpec } from './types';

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
   * Also answer DNS (UDP and TCP) on this port of `host`, as the VPC's Route 53 Resolver does for the
   * default account's hosted zones (sim/src/dns.ts). 0 = a free port; absent = no DNS server.
   */
  dnsPort?: number;
  /** The VPC the DNS server plays the resolver of: private zones not associated with it are not answered. Default: every private zone. */
  dnsVpcId?: string;
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

const MAX_BODY = 10 * 1024 * 1024;

interface Scope {
  account: string;
  region: string;
  service?: string;
}

/** Region, account and service from `Authorization: AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request`. */
export function credentialScope(authorization: string | undefined): Scope {
  const m = /Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request/.exec(authorization ?? '');
  if (!m) return { account: DEFAULT_ACCOUNT, region: DEFAULT_REGION };
  const accessKey = m[1] as string;
  return { account: /^\d{12}$/.test(accessKey) ? accessKey : DEFAULT_ACCOUNT, region: m[3] as string, service: m[4] as string };
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new SimError('RequestEntityTooLarge', `Request body larger than ${MAX_BODY} bytes`, 413));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: http.ServerResponse, status: number, body: string, contentType: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'x-amzn-RequestId': randomUUID(), ...headers });
  res.end(body);
}

const sendJson = (res: http.ServerResponse, status: number, value: unknown): void => send(res, status, `${JSON.stringify(value, null, 2)}\n`, 'application/json');

function parseJson(body: string): Record<string, unknown> {
  if (body.trim() === '') return {};
  try {
    const v = JSON.parse(body) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new SimError('BadRequest', 'The body must be a JSON object', 400);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type AwsService = 'rds' | 'ec2' | 'route53';

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
        this.handleStatuspage(method, url, body, req, res);
        return;
      }
      await this.handleAws(method, url, body, req, res);
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
      const svc = scope.service ?? (version === '2016-11-15' ? 'ec2' : version === '2014-10-31' ? 'rds' : undefined);
      if (svc !== 'rds' && svc !== 'ec2') {
        sendJson(res, 400, { error: `Unknown service '${svc ?? '?'}' (Version=${version ?? 'none'}): the simulator answers rds (2014-10-31), ec2 (2016-11-15) and route53 (/2013-04-01)` });
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
    const isMutation = (service === 'rds' ? RDS_MUTATIONS : service === 'ec2' ? EC2_MUTATIONS : ROUTE53_MUTATIONS).has(action);
    const log = (httpStatus: number, errorCode?: string, fault?: CallRecord['fault']): void => {
      this.engine.recordCall({ service, action, region: scope.region, account: scope.account, params, isMutation, httpStatus, errorCode, fault });
    };
    const renderError = (err: SimError): string => (service === 'rds' ? rdsError(err) : service === 'ec2' ? ec2Error(err) : route53Error(err));

    if (this.engine.faults.latencyMs > 0) await sleep(this.engine.faults.latencyMs);
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

    try {
      if (service === 'route53') {
        const reply = handleRoute53(this.engine, r53 as NonNullable<typeof r53>, method, url, body, scope.account);
        log(reply.status);
        send(res, reply.status, reply.body, 'text/xml', reply.headers);
      } else {
        const xml = service === 'rds' ? handleRds(this.engine, action, form as Map<string, string>, scope.account, scope.region) : handleEc2(this.engine, action, form as Map<string, string>, scope.account, scope.region);
        log(200);
        send(res, 200, xml, 'text/xml');
      }
    } catch (err) {
      if (!(err instanceof SimError)) throw err;
      log(err.status, err.code);
      send(res, err.status, renderError(err), 'text/xml');
    }
  }

  // ---- Statuspage -----------------------------------------------------------------------------

  private handleStatuspage(method: string, url: URL, body: string, req: http.IncomingMessage, res: http.ServerResponse): void {
    const auth = req.headers.authorization;
    if (auth !== undefined && !/^OAuth \S+/.test(auth)) {
      sendJson(res, 401, { error: "Couldn't authenticate you: use 'Authorization: OAuth <api key>'" });
      return;
    }
    this.engine.tick();
    const m = /^\/statuspage\/v1\/pages\/([^/]+)\/incidents(?:\/([^/]+))?\/?$/.exec(url.pathname);
    let action = 'Unknown';
    const params: Record<string, string> = {};
    const respond = (status: number, value: unknown, errorCode?: string): void => {
      this.engine.recordCall({
        service: 'statuspage',
        action,
        region: 'global',
        account: m ? (m[1] as string) : '-',
        params,
        isMutation: method !== 'GET',
        httpStatus: status,
        errorCode,
      });
      sendJson(res, status, value);
    };
    try {
      if (!m) {
        respond(404, { error: `No simulated Statuspage endpoint at ${method} ${url.pathname} (have /statuspage/v1/pages/{page_id}/incidents[...])` }, 'not_found');
        return;
      }
      const pageId = decodeURIComponent(m[1] as string);
      const sub = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
      const sp = this.engine.statuspage;
      if (body) params.body = body.length > 2000 ? `${body.slice(0, 2000)}…` : body;
      if (sub === undefined && method === 'POST') {
        action = 'CreateIncident';
        const input = parseJson(body).incident;
        if (!input || typeof input !== 'object') throw new SimError('invalid', 'The body must be {"incident": {...}}', 400);
        respond(201, sp.create(pageId, input as Record<string, unknown>));
      } else if (sub === undefined && method === 'GET') {
        action = 'ListIncidents';
        respond(200, sp.list(pageId, 'all'));
      } else if (sub === 'scheduled' && method === 'GET') {
        action = 'ListScheduledIncidents';
        respond(200, sp.list(pageId, 'scheduled'));
      } else if (sub === 'active_maintenance' && method === 'GET') {
        action = 'ListActiveMaintenances';
        respond(200, sp.list(pageId, 'active_maintenance'));
      } else if (sub !== undefined && method === 'GET') {
        action = 'GetIncident';
        params.id = sub;
        respond(200, sp.get(pageId, sub));
      } else if (sub !== undefined && (method === 'PATCH' || method === 'PUT')) {
        action = 'UpdateIncident';
        params.id = sub;
        const input = parseJson(body).incident;
        if (!input || typeof input !== 'object') throw new SimError('invalid', 'The body must be {"incident": {...}}', 400);
        respond(200, sp.patch(pageId, sub, input as Record<string, unknown>));
      } else if (method === 'DELETE') {
        action = 'DeleteIncident';
        respond(405, { error: 'The simulator never deletes incidents: cancel a scheduled maintenance by PATCHing status=completed.' }, 'method_not_allowed');
      } else {
        respond(405, { error: `${method} is not supported on ${url.pathname}` }, 'method_not_allowed');
      }
    } catch (err) {
      if (!(err instanceof SimError)) throw err;
      respond(err.status, { error: err.message }, err.code);
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
            since: since === null ? undefined : Number(since),
            mutationsOnly: q.get('mutationsOnly') === 'true',
          };
          sendJson(res, 200, e.listCalls(filter));
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
          sendJson(res, 404, { error: `No admin endpoint ${route}. Have: GET /_sim/health, POST /_sim/seed, GET|POST /_sim/faults, GET /_sim/calls, POST /_sim/reset, GET /_sim/state, POST /_sim/advance, GET /_sim/app/{region}/{instanceId}/status` });
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
      dns = await startDnsServer(engine, { host, port: opts.dnsPort, vpcId: opts.dnsVpcId });
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
