/**
 * RDS plugged into the engine: its state, durations and clock, seeding, the query API behind RDS's token
 * bucket, and its admin routes: the API's throttling (`/_sim/throttle`), RDS designating another automatic
 * upgrade target (`/_sim/auto-upgrade-target`), blue/green deployment faults (`/_sim/blue-green/fault`) and the app status probe (`/_sim/app/{region}/{instanceId}/status`).
 */
import { DEFAULT_ACCOUNT } from '../core/aws';
import type { SimEngine } from '../core/engine';
import { SimError } from '../core/errors';
import { parseJson } from '../core/http';
import type { AdminRoute } from '../core/service';
import type { TokenBucketSpec } from '../core/throttle';
import { RequestThrottle, checkBucketSpec } from '../core/throttle';
import type { Ec2Model } from '../ec2/model';
import { checkAutoUpgradeTargetSpec, setAutoUpgradeTarget } from './auto-upgrade-target';
import { armFault, checkFaultSpec } from './blue-green-faults';
import type { RdsContext } from './context';
import { RDS_DURATIONS, rdsContext } from './context';
import { RdsModel } from './model';
import { rdsProtocol } from './protocol';
import { rdsSeedSteps } from './seed';
import { RDS_STATE } from './state';
import { throttlingError } from './throttle';

/** GET /_sim/app/{region}/{instanceId}/status: what a health check of the app on the instance sees. */
export interface AppStatus {
  region: string;
  instanceId: string;
  status: string;
  engineVersion?: string;
  healthy: boolean;
  /** Set while the instance is in a blue/green switchover's write outage: the deployment's identifier. */
  blueGreenSwitchover?: string;
}

function adminRoutes(engine: SimEngine, ctx: RdsContext, rds: RdsModel, throttle: RequestThrottle): AdminRoute[] {
  const throttleState = (): { body: unknown } => ({ body: { rds: throttle.settings ?? null, tokens: throttle.snapshot() } });
  return [
    { method: 'GET', path: '/_sim/throttle', handle: throttleState },
    {
      method: 'POST',
      path: '/_sim/throttle',
      handle: ({ body }) => {
        const spec = parseJson(body).rds;
        if (spec === undefined) throw new SimError('BadRequest', 'throttle needs {"rds": {"burst": N, "ratePerSecond": R}} or {"rds": null}', 400);
        throttle.configure(spec === null ? undefined : checkBucketSpec(spec, 'rds'));
        return throttleState();
      },
    },
    {
      method: 'POST',
      path: '/_sim/auto-upgrade-target',
      handle: ({ body }) => {
        const spec = checkAutoUpgradeTargetSpec(parseJson(body));
        engine.tick();
        return { body: setAutoUpgradeTarget(ctx, spec) };
      },
    },
    {
      method: 'POST',
      path: '/_sim/blue-green/fault',
      handle: ({ body }) => {
        const spec = checkFaultSpec(parseJson(body));
        engine.tick();
        const result = armFault(ctx, rds.blueGreen, spec);
        engine.tick();
        return { body: { ...result, status: result.deployment ? rds.blueGreen.get(spec.account ?? DEFAULT_ACCOUNT, spec.region, result.deployment).status : null } };
      },
    },
    {
      method: 'GET',
      path: { pattern: /^\/_sim\/app\/([^/]+)\/([^/]+)\/status$/, shown: '/_sim/app/{region}/{instanceId}/status' },
      handle: ({ match: [region = '', instanceId = ''], query }) => {
        engine.tick();
        const inst = rds.find(query.get('account') ?? DEFAULT_ACCOUNT, region, instanceId);
        // Unhealthy while not `available`, and during a blue/green switchover, when writes are stopped and connections
        // dropped in both environments while the instances still show `available`.
        const status: AppStatus = {
          region,
          instanceId,
          status: inst?.status ?? 'not-found',
          engineVersion: inst?.engineVersion,
          healthy: inst?.status === 'available' && !inst.blueGreenSwitchover,
          blueGreenSwitchover: inst?.blueGreenSwitchover,
        };
        return { status: inst ? (status.healthy ? 200 : 503) : 404, body: status };
      },
    },
  ];
}

/** `throttleSpec`: RDS's token bucket per account and region; absent = no throttling. */
export function registerRds(engine: SimEngine, ec2: Ec2Model, throttleSpec?: TokenBucketSpec): { rds: RdsModel; throttle: RequestThrottle } {
  const ctx = rdsContext(engine);
  const rds = new RdsModel(ctx, ec2);
  // Real (or test) time, not simulated time: /_sim/advance must not refill the buckets.
  const throttle = new RequestThrottle(() => engine.clock.now(), throttleSpec);
  engine.register({
    name: 'rds',
    state: RDS_STATE,
    durations: { ...RDS_DURATIONS },
    // Instances first: a blue/green deployment follows its instances.
    tick: () => {
      rds.lifecycle.tick();
      rds.blueGreen.tick();
    },
    // The throttle's settings are the server's, like its speed: kept, with every bucket full again.
    reset: () => {
      throttle.configure(throttle.settings);
      rds.databases.reset();
    },
    seed: { results: ['instances', 'dbSubnetGroups'], steps: rdsSeedSteps(ctx, rds, ec2) },
    protocols: [rdsProtocol(rds, (account, region) => (throttle.take(account, region) ? undefined : throttlingError()))],
    adminRoutes: adminRoutes(engine, ctx, rds, throttle),
  });
  return { rds, throttle };
}
