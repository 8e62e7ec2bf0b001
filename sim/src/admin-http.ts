/**
 * The simulator's admin API (`/_sim/...`, JSON): seeding, faults, throttling, the call log, reset, state, the clock,
 * RDS's automatic upgrade target, the PagerDuty alerts and the app status probe. sim/src/client.ts wraps it.
 */
import type http from 'node:http';
import { checkAutoUpgradeTargetSpec, setAutoUpgradeTarget } from './auto-upgrade-target';
import type { SimEngine } from './engine';
import { SimError } from './errors';
import { parseJson, sendJson } from './http-util';
import { DEFAULT_ACCOUNT } from './model';
import { checkBucketSpec } from './throttle';
import type { AppStatus, CallFilter, FaultSpec, SeedSpec } from './types';

const ENDPOINTS =
  'GET /_sim/health, POST /_sim/seed, GET|POST /_sim/faults, GET|POST /_sim/throttle, GET /_sim/calls, POST /_sim/reset, GET /_sim/state, POST /_sim/advance, ' +
  'POST /_sim/auto-upgrade-target, GET /_sim/pagerduty/alerts, GET /_sim/app/{region}/{instanceId}/status';

export function handleAdmin(e: SimEngine, method: string, url: URL, body: string, res: http.ServerResponse): void {
  const p = url.pathname.replace(/\/+$/, '');
  const q = url.searchParams;
  try {
    const app = /^\/_sim\/app\/([^/]+)\/([^/]+)\/status$/.exec(p);
    if (app && method === 'GET') {
      e.tick();
      const region = decodeURIComponent(app[1] as string);
      const instanceId = decodeURIComponent(app[2] as string);
      const inst = e.rds.find(q.get('account') ?? DEFAULT_ACCOUNT, region, instanceId);
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
      case 'POST /_sim/auto-upgrade-target':
        sendJson(res, 200, setAutoUpgradeTarget(e, checkAutoUpgradeTargetSpec(parseJson(body))));
        return;
      case 'GET /_sim/pagerduty/alerts':
        e.tick();
        sendJson(res, 200, e.pagerDuty.list({ routingKey: q.get('routing_key') ?? undefined, dedupKey: q.get('dedup_key') ?? undefined, status: q.get('status') ?? undefined }));
        return;
      default:
        sendJson(res, 404, { error: `No admin endpoint ${route}. Have: ${ENDPOINTS}` });
    }
  } catch (err) {
    const status = err instanceof SimError ? err.status : 400;
    sendJson(res, status, { error: (err as Error).message, ...(err instanceof SimError ? { code: err.code } : {}) });
  }
}
