/** PagerDuty plugged into the engine: its alerts, the Events API v2 (`POST /v2/enqueue`) and `GET /_sim/pagerduty/alerts`. */
import { serviceContext } from '../core/context';
import type { SimEngine } from '../core/engine';
import { handlePagerDuty } from './http';
import { PagerDutyModel } from './model';
import { PAGERDUTY_STATE } from './state';

export function registerPagerDuty(engine: SimEngine): PagerDutyModel {
  const pagerDuty = new PagerDutyModel(serviceContext(engine, PAGERDUTY_STATE));
  engine.register({
    name: 'pagerduty',
    state: PAGERDUTY_STATE,
    httpEndpoints: [{ matches: (pathname) => pathname === '/v2/enqueue', handle: ({ method, body }, res) => handlePagerDuty(engine, pagerDuty, method, body, res) }],
    adminRoutes: [
      {
        method: 'GET',
        path: '/_sim/pagerduty/alerts',
        handle: ({ query: q }) => {
          engine.tick();
          return { body: pagerDuty.list({ routingKey: q.get('routing_key') ?? undefined, dedupKey: q.get('dedup_key') ?? undefined, status: q.get('status') ?? undefined }) };
        },
      },
    ],
  });
  return pagerDuty;
}
