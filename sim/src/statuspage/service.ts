/** The Statuspage plugged into the engine: its state, scheduled maintenances moving over time, and its API under /statuspage/v1/. */
import { serviceContext } from '../core/context';
import type { SimEngine } from '../core/engine';
import { handleStatuspage } from './http';
import { StatuspageModel } from './model';
import { STATUSPAGE_STATE } from './state';

export function registerStatuspage(engine: SimEngine): StatuspageModel {
  const sp = new StatuspageModel(serviceContext(engine, STATUSPAGE_STATE));
  engine.register({
    name: 'statuspage',
    state: STATUSPAGE_STATE,
    tick: () => sp.tick(),
    httpEndpoints: [{ matches: (pathname) => pathname.startsWith('/statuspage/v1/'), handle: (request, res) => handleStatuspage(engine, sp, request, res) }],
  });
  return sp;
}
