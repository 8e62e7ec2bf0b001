/**
 * Every AWS request, whichever service it is for, goes through the same steps: which service and operation it
 * is (a REST service's path, a JSON service's `X-Amz-Target`, else the query protocol's `Version` or the SigV4
 * scope's service), who the caller is, injected latency, refused credentials, the service's own admission
 * (RDS's token bucket), injected faults, then the service; each answer is logged with its request id. An
 * injected timeout or reset is logged too (HTTP status 0: no answer), and its connection closed unanswered.
 */
import type http from 'node:http';
import type { AwsProtocol } from './aws-protocol';
import type { CallDetails, CallRecord } from './call-log';
import type { SimEngine } from './engine';
import { SimError } from './errors';
import { currentLatency, type InjectedFault } from './faults';
import { send, sendJson, sleep } from './http';
import { credentialScope, requestIdentity } from './identity';
import type { Params } from './query';
import { parseForm, summarize } from './query';
import { requestId } from './request-id';

/** How a request is routed: its service, action, the parameters for the call log, and the query form when it has one. */
interface Routed {
  protocol: AwsProtocol;
  action: string;
  params: Record<string, string>;
  form?: Params;
  route?: unknown;
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

const listed = (items: string[]): string => (items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`);

/** Which service and operation a request is, or the reason it is none. */
function route(protocols: AwsProtocol[], method: string, url: URL, body: string, req: http.IncomingMessage, scopeService: string | undefined): Routed | string {
  for (const protocol of protocols) {
    const routed = protocol.routePath?.(method, url, body);
    if (routed) return { protocol, action: routed.action, params: routed.params, route: routed.route };
  }
  if (method !== 'POST' || url.pathname !== '/') return `No simulated API at ${method} ${url.pathname}`;
  const target = header(req, 'x-amz-target');
  for (const protocol of protocols.filter((p) => p.jsonTarget)) {
    const action = protocol.jsonTarget?.(target);
    if (scopeService === protocol.service || action !== undefined) return { protocol, action: action ?? '', params: summarizeJson(body) };
  }
  const form = parseForm(body);
  const version = form.get('Version');
  const query = protocols.filter((p) => p.queryVersion !== undefined);
  const svc = scopeService ?? query.find((p) => p.queryVersion === version)?.service;
  const protocol = query.find((p) => p.service === svc);
  if (!protocol) return `Unknown service '${svc ?? '?'}' (Version=${version ?? 'none'}): the simulator answers ${listed(protocols.map((p) => p.reachedBy))}`;
  return { protocol, action: form.get('Action') ?? '', params: summarize(form), form };
}

const injected = (protocol: AwsProtocol, fault: Extract<InjectedFault, { kind: 'throttle' | 'error' }>): SimError =>
  fault.kind === 'throttle'
    ? (protocol.throttled?.() ?? new SimError('Throttling', 'Rate exceeded', 400))
    : new SimError(protocol.internalErrorCode ?? 'InternalFailure', 'An internal error has occurred (injected by the simulator)', fault.status);

/** Closes the request's connection unanswered after `afterMs` (0: a reset), or when the client gave up first. */
function dropConnection(req: http.IncomingMessage, afterMs: number): Promise<void> {
  return new Promise((resolve) => {
    const drop = () => {
      req.socket.destroy();
      resolve();
    };
    if (afterMs <= 0) return drop();
    const timer = setTimeout(drop, afterMs);
    timer.unref();
    req.socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Answers one AWS request (run inside withRequestId: one id per request). */
export async function handleAws(engine: SimEngine, method: string, url: URL, body: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const scope = credentialScope(req.headers.authorization);
  const routed = route(engine.protocols, method, url, body, req, scope.service);
  if (typeof routed === 'string') {
    sendJson(res, routed.startsWith('Unknown service') ? 400 : 404, { error: routed });
    return;
  }
  const { protocol, action, params, form } = routed;
  const service = protocol.service;

  engine.tick();
  const who = requestIdentity(engine.identity, (err) => protocol.refusal?.(err) ?? err, scope, req, url);
  const isMutation = protocol.mutations.has(action);
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
    engine.recordCall(
      { service, action, region: scope.region, account: who.account, principal: who.principal, accessKeyId: scope.accessKeyId, params, isMutation, httpStatus, errorCode, fault, requestId: requestId() },
      { ...details, errorMessage, response: isMutation && httpStatus < 300 ? response : undefined },
    );
  };
  const fail = (err: SimError, fault?: CallRecord['fault']): void => {
    log(err.status, { errorCode: err.code, errorMessage: err.message, fault });
    send(res, err.status, protocol.renderError(err), protocol.contentType, protocol.errorHeaders?.(err) ?? {});
  };

  const latency = currentLatency(engine.faults);
  if (latency > 0) await sleep(latency);
  // Credentials are checked before anything else, as AWS authenticates a request before throttling it.
  if (!who.caller) return fail(who.refusal as SimError);
  // The service's own admission (RDS's token bucket, per account and region), after authentication: a refused caller takes no token.
  const refused = protocol.admit?.(who.caller.account, scope.region);
  if (refused) return fail(refused);
  const fault = engine.takeFault();
  if (fault?.kind === 'timeout' || fault?.kind === 'reset') {
    // Dropped at the front door: the service never sees the request, and the client gets no answer.
    log(0, { fault: fault.kind });
    return dropConnection(req, fault.kind === 'timeout' ? fault.hangMs : 0);
  }
  if (fault && fault.kind !== 'lost') return fail(injected(protocol, fault), fault.kind);
  const lost = fault?.kind === 'lost';

  try {
    const reply = protocol.handle({ action, account: who.caller.account, region: scope.region, caller: who.caller, form: form ?? new Map(), body, method, url, route: routed.route });
    log(reply.status, { response: reply.body, ...(lost ? { fault: 'lost' as const } : {}) });
    // A lost answer: the service did its work (a change is made), the client never hears of it.
    if (lost) return dropConnection(req, 0);
    send(res, reply.status, reply.body, protocol.contentType, reply.headers);
  } catch (err) {
    if (!(err instanceof SimError)) throw err;
    if (lost) {
      log(err.status, { errorCode: err.code, errorMessage: err.message, fault: 'lost' });
      return dropConnection(req, 0);
    }
    fail(err);
  }
}
