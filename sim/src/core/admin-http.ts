/**
 * The simulator's admin API (`/_sim/...`, JSON): health, seeding, faults, the call log, reset, state and the
 * clock, and the routes the services add (RDS's throttling, automatic upgrade target and app status probe,
 * PagerDuty's alerts). sim/src/client.ts wraps it.
 */
import type http from 'node:http';
import type { CallFilter } from './call-log';
import type { SimEngine } from './engine';
import type { FaultSpec } from './faults';
import { SimError } from './errors';
import { parseJson, sendJson } from './http';
import type { AdminRoute } from './service';

/** The engine's own endpoints. */
function coreRoutes(e: SimEngine): AdminRoute[] {
  return [
    { method: 'GET', path: '/_sim/health', handle: () => ({ body: { ok: true, now: new Date(e.now()).toISOString(), speed: e.speed } }) },
    { method: 'POST', path: '/_sim/seed', handle: ({ body }) => ({ body: e.seed(parseJson(body)) }) },
    { method: 'GET', path: '/_sim/faults', handle: () => ({ body: e.faults }) },
    { method: 'POST', path: '/_sim/faults', handle: ({ body }) => ({ body: e.setFaults(parseJson(body) as FaultSpec) }) },
    {
      method: 'GET',
      path: '/_sim/calls',
      handle: ({ query: q }) => {
        const since = q.get('since');
        const filter: CallFilter = {
          service: q.get('service') ?? undefined,
          action: q.get('action') ?? undefined,
          account: q.get('account') ?? undefined,
          principal: q.get('principal') ?? undefined,
          since: since === null ? undefined : Number(since),
          mutationsOnly: q.get('mutationsOnly') === 'true',
        };
        return { body: e.listCalls(filter) };
      },
    },
    {
      method: 'POST',
      path: '/_sim/reset',
      handle: () => {
        e.reset();
        return { body: { ok: true } };
      },
    },
    {
      method: 'GET',
      path: '/_sim/state',
      handle: () => {
        e.tick();
        return { body: { now: new Date(e.now()).toISOString(), state: e.state } };
      },
    },
    {
      method: 'POST',
      path: '/_sim/advance',
      handle: ({ body }) => {
        const seconds = parseJson(body).seconds;
        if (typeof seconds !== 'number' || !(seconds >= 0)) throw new SimError('BadRequest', 'advance needs {"seconds": <non-negative number>}', 400);
        return { body: { now: new Date(e.advance(seconds)).toISOString() } };
      },
    },
  ];
}

const shown = (r: AdminRoute): string => (typeof r.path === 'string' ? r.path : r.path.shown);

/** "GET /_sim/health, GET|POST /_sim/faults, …": every endpoint, for the answer to a path that is none. */
function endpointList(routes: AdminRoute[]): string {
  const methods = new Map<string, string[]>();
  for (const r of routes) methods.set(shown(r), [...(methods.get(shown(r)) ?? []), r.method]);
  return [...methods].map(([p, m]) => `${m.join('|')} ${p}`).join(', ');
}

export function handleAdmin(e: SimEngine, method: string, url: URL, body: string, res: http.ServerResponse): void {
  const p = url.pathname.replace(/\/+$/, '');
  const routes = [...coreRoutes(e), ...e.adminRoutes];
  try {
    for (const r of routes) {
      if (r.method !== method) continue;
      const match = typeof r.path === 'string' ? (r.path === p ? [] : undefined) : r.path.pattern.exec(p)?.slice(1).map((g) => decodeURIComponent(g));
      if (!match) continue;
      const answer = r.handle({ query: url.searchParams, body, match });
      // A service's route may have changed the state: on disk before the answer, like the engine's own.
      e.persistIfDirty();
      sendJson(res, answer.status ?? 200, answer.body);
      return;
    }
    sendJson(res, 404, { error: `No admin endpoint ${method} ${p}. Have: ${endpointList(routes)}` });
  } catch (err) {
    const status = err instanceof SimError ? err.status : 400;
    sendJson(res, status, { error: (err as Error).message, ...(err instanceof SimError ? { code: err.code } : {}) });
  }
}
