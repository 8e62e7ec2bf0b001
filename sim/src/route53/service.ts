/** Route 53 plugged into the engine: its state, the PENDING → INSYNC delay and clock, seeding and REST API. */
import { serviceContext } from '../core/context';
import type { SimEngine } from '../core/engine';
import type { Ec2Model } from '../ec2/model';
import type { Route53Durations } from './model';
import { ROUTE53_DURATIONS, Route53Model } from './model';
import { route53Protocol } from './protocol';
import { route53SeedSteps } from './seed';
import type { Route53State } from './state';
import { ROUTE53_STATE } from './state';

export function registerRoute53(engine: SimEngine, ec2: Ec2Model): Route53Model {
  const r53 = new Route53Model(serviceContext<Route53State, keyof Route53Durations>(engine, ROUTE53_STATE), ec2);
  engine.register({
    name: 'route53',
    state: ROUTE53_STATE,
    durations: { ...ROUTE53_DURATIONS },
    tick: () => r53.tick(),
    seed: { results: ['hostedZones'], steps: route53SeedSteps(r53) },
    protocols: [route53Protocol(r53)],
  });
  return r53;
}
