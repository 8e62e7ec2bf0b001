/**
 * The specs of the local stack, written once: a campaign over the simulator's demo fleet (preview in its
 * window, staging now under the availability probe, production announced and in its window) and a restore
 * of production then a cutover of its `db` CNAME, with compressed timings given by the caller (the demo,
 * the bench, the history recorder and the durability tests each compress differently). They return the
 * resolved specs a workflow is started with (src/input), as the CLI does.
 */
import type { CampaignSpec, ResolvedCampaignSpec, ResolvedRestoreSpec, RestoreSpec, StageSpec } from '../src/api';
import { resolveCampaignSpec, resolveRestoreSpec } from '../src/input';
import type { SimAdminClient } from '../sim';
import { DEMO_ACCOUNTS, DEMO_BASTION_SECURITY_GROUP_ID, DEMO_ENVIRONMENTS, demoFleet, demoFleetInstanceId, demoInstanceId, demoRoleArn, type DemoAccounts, type DemoEnvironment } from '../sim';
import type { SeedSpec } from '../sim';

export const REGION = 'eu-west-2';
/**
 * The three-account layout of the runbook's estate (preview, staging, production each in its own account,
 * the zone and the bastion in production's), reached from the worker's own identity: with the simulator's
 * dummy keys that is account 123456789012, which the accounts' rds-orchestrator roles trust.
 */
export const WORKER_ACCOUNT = '123456789012';
export const ACCOUNTS: Partial<DemoAccounts> = { orchestrator: WORKER_ACCOUNT };
/** The demo fleet runs 15.5; the simulator's catalogue offers 15.8 as the preferred minor. */
export const FROM_VERSION = '15.5';
export const TARGET_VERSION = '15.8';

/** Compressed timings of a campaign (durations as a spec writes them). */
export interface CampaignTimings {
  /** How often a stage checks AWS while it waits for an instance. */
  pollInterval: string;
  /** Staging's availability probe. */
  probe: { ratePerSecond: number; settle: string; maxDuration: string };
  /** Staging's downtime threshold over which the team decides (default: the runbook's minute). */
  downtimeThreshold?: string;
  /** Production's notice (the runbook's is 14 days: anything shorter needs `noticeOverrideReason`). */
  productionNotice: string;
  precheckBefore: string;
  reminderInterval: string;
}

export interface FleetCampaignOptions {
  campaignId: string;
  requester: string;
  timings: CampaignTimings;
  /** Why production's notice is shorter than the runbook's (the campaign shows it as an override); needed with production. */
  noticeOverrideReason?: string;
  /** The simulator whose application status pages the staging probe reads. */
  admin: SimAdminClient;
  /** The environments upgraded, in order (default preview, staging, production). */
  environments?: readonly DemoEnvironment[];
  /** The instance of an environment (default the demo fleet's `notifydb-<environment>`). */
  instanceId?: (environment: DemoEnvironment) => string;
  approvers?: string[];
  /** Each environment in its own account, reached through its role (default: all in the worker's account). */
  accounts?: boolean;
  /** How production is upgraded: in its window (default) or by an RDS Blue/Green switchover in it, under a probe. */
  productionMethod?: 'maintenance-window' | 'blue-green';
}

/** Each environment upgraded the way the runbook upgrades it. */
function stageOf(environment: DemoEnvironment, instanceId: string, o: FleetCampaignOptions): StageSpec {
  const stage = { name: environment, region: REGION, instanceId, ...(o.accounts ? { aws: { roleArn: demoRoleArn(environment) } } : {}) };
  const t = o.timings;
  switch (environment) {
    case 'preview':
      return { ...stage, method: 'maintenance-window', grace: '2m' };
    case 'staging':
      return {
        ...stage,
        method: 'apply-now',
        probe: probeOf(environment, instanceId, o),
        ...(t.downtimeThreshold ? { downtimeThreshold: t.downtimeThreshold } : {}),
      };
    case 'production': {
      const production = { ...stage, notice: { minimum: t.productionNotice, overrideReason: o.noticeOverrideReason }, precheckBefore: t.precheckBefore };
      if (o.productionMethod !== 'blue-green') return { ...production, method: 'maintenance-window', grace: '2m' };
      // The switchover's outage measured the way staging's in-place upgrade is: the same probe on the instance's app.
      return { ...production, method: 'blue-green', blueGreen: { switchoverTimeout: '1m' }, probe: probeOf(environment, instanceId, o) };
    }
  }
}

/** The availability probe of an environment's instance: its app's status endpoint in the simulator. */
function probeOf(environment: DemoEnvironment, instanceId: string, o: FleetCampaignOptions): NonNullable<StageSpec['probe']> {
  const t = o.timings;
  return { url: o.admin.appStatusUrl(REGION, instanceId, o.accounts ? { ...DEMO_ACCOUNTS, ...ACCOUNTS }[environment] : undefined), ratePerSecond: t.probe.ratePerSecond, requestTimeoutMs: 1000, settle: t.probe.settle, maxDuration: t.probe.maxDuration };
}

/** The campaign as a person would write it (for a spec file). */
export function fleetCampaignSpec(o: FleetCampaignOptions): CampaignSpec {
  const instanceId = o.instanceId ?? demoInstanceId;
  return {
    campaignId: o.campaignId,
    targetEngineVersion: TARGET_VERSION,
    requester: o.requester,
    stages: (o.environments ?? DEMO_ENVIRONMENTS).map((env) => stageOf(env, instanceId(env), o)),
    approval: { ...(o.approvers ? { approvers: o.approvers } : {}), reminderInterval: o.timings.reminderInterval },
    pollInterval: o.timings.pollInterval,
  };
}

/** The campaign as a workflow is started with it. */
export function resolvedFleetCampaign(o: FleetCampaignOptions): ResolvedCampaignSpec {
  return resolveCampaignSpec(fleetCampaignSpec(o));
}

/** The `db` CNAME of production in the demo fleet's private zone, which the cutover switches. */
export const PRODUCTION_CNAME = { hostedZoneId: 'ZDEMONOTIFY0001', recordName: 'db.production.notify.internal', setIdentifier: demoInstanceId('production') } as const;

export interface ProductionRestoreOptions {
  restoreId: string;
  requester: string;
  targetInstanceId: string;
  pollInterval: string;
  approvers?: string[];
  /** Resolvers that see the private zone as the applications do (the simulator's DNS server). */
  resolvers?: string[];
  /** Production's account (the instance, the zone and the bastion), reached through its role. */
  accounts?: boolean;
  /** Production is a real database (seeded with postgres): the cutover's verification also connects through the CNAME. */
  database?: boolean;
}

/** Production at its latest restorable time, reachable from the bastion, then the cutover (TTL lowered to 5 s first). */
export function productionRestoreSpec(o: ProductionRestoreOptions): RestoreSpec {
  return {
    restoreId: o.restoreId,
    requester: o.requester,
    source: { region: REGION, instanceId: demoInstanceId('production'), ...production(o) },
    targetInstanceId: o.targetInstanceId,
    restoreTime: 'latest',
    bastion: { securityGroupId: DEMO_BASTION_SECURITY_GROUP_ID, port: 5432, ...production(o) },
    cutover: {
      ...PRODUCTION_CNAME,
      ...production(o),
      weight: 100,
      ttlSeconds: 60,
      lowerTtlFirstTo: 5,
      ...(o.approvers ? { approvers: o.approvers } : {}),
      ...(o.resolvers ? { resolvers: o.resolvers } : {}),
      ...(o.database ? { database: { name: 'postgres', password: 'master-secret' as const, tls: 'disable' as const } } : {}),
    },
    pollInterval: o.pollInterval,
  };
}

/** The demo's database and table on production, which the extract recovers rows of. */
export const DEMO_DATABASE = 'notify';
export const DEMO_TABLE = 'public.notifications';

export interface ProductionExtractOptions extends Omit<ProductionRestoreOptions, 'resolvers'> {
  /** Just before the data was lost (ISO). */
  restoreTime: string;
  /** Absolute folder for the dump and the difference. */
  directory: string;
}

/**
 * The common restore: production to just before the rows were lost, reachable from the bastion, then the extract:
 * a dump of the restored database (without the `audit` schema) and the lost notifications written back after an
 * approval. The password is production's RDS-managed master secret; the simulator's databases take no TLS.
 */
export function productionExtractSpec(o: ProductionExtractOptions): RestoreSpec {
  return {
    restoreId: o.restoreId,
    requester: o.requester,
    source: { region: REGION, instanceId: demoInstanceId('production'), ...production(o) },
    targetInstanceId: o.targetInstanceId,
    restoreTime: o.restoreTime,
    bastion: { securityGroupId: DEMO_BASTION_SECURITY_GROUP_ID, port: 5432, ...production(o) },
    extract: {
      database: { name: DEMO_DATABASE, password: 'master-secret', tls: 'disable' },
      directory: o.directory,
      dump: { excludeSchemas: ['audit'] },
      repair: { tables: [DEMO_TABLE], ...(o.approvers ? { approvers: o.approvers } : {}) },
    },
    pollInterval: o.pollInterval,
  };
}

function production(o: { accounts?: boolean }) {
  return o.accounts ? { aws: { roleArn: demoRoleArn('production') } } : {};
}

export function resolvedProductionRestore(o: ProductionRestoreOptions): ResolvedRestoreSpec {
  return resolveRestoreSpec(productionRestoreSpec(o));
}

/** The demo fleet with every window hours away: nothing happens by itself while a run uses it. */
export function fleetAtRest(now = Date.now(), accounts = false, postgres = false): SeedSpec {
  return demoFleet(now, { windowOffsetsMinutes: { preview: 60, staging: 120, production: 180 }, ...(accounts ? { multiAccount: ACCOUNTS } : {}), ...(postgres ? { postgres: true } : {}) });
}

/** The demo fleet with preview's window opening at `previewWindowAt` (a whole minute) and the others the given minutes later. */
export function fleetWithWindows(previewWindowAt: number, minutesAfterPreview: { staging: number; production: number }, accounts = false): SeedSpec {
  return demoFleet(previewWindowAt, { windowOffsetsMinutes: { preview: 0, ...minutesAfterPreview }, ...(accounts ? { multiAccount: ACCOUNTS } : {}) });
}

/**
 * The demo's fleet shape (fleet stages with waves): three databases per environment, `notifydb-<env>`,
 * `notifydb-<env>-2` and `notifydb-<env>-3` (allocated storage 1x, 0.5x and 2x the first's), each tagged
 * environment=<env> and team=notify. The functions above keep their one-instance-per-environment shape for
 * the history recorder, the bench and the durability and cluster tests.
 */
export const DEMO_FLEET_SIZE = 3;
export const DEMO_FLEET_TAGS: Readonly<Record<string, string>> = Object.freeze({ team: 'notify' });

/** An environment's databases in the demo's fleet shape, first to last. */
export function fleetInstanceIds(environment: DemoEnvironment): string[] {
  return Array.from({ length: DEMO_FLEET_SIZE }, (_, i) => demoFleetInstanceId(environment, i + 1));
}

/**
 * The demo's fleet shape with every preview database's window opening at `previewWindowAt` (a whole minute),
 * staging's `staging` minutes later, and production's `production` minutes after preview's in two window
 * groups: `notifydb-production` and `-2` with 30-minute windows, `-3` with a 45-minute window opening at the
 * same minute (another window, so another group and announcement, without the demo waiting a minute more).
 */
export function fleetOfThreeWithWindows(previewWindowAt: number, minutesAfterPreview: { staging: number; production: number }, accounts = false, postgres = false): SeedSpec {
  const { staging, production } = minutesAfterPreview;
  return demoFleet(previewWindowAt, {
    // `notifydb-production` on a real PostgreSQL server, with its RDS-managed master secret (the extract's source).
    ...(postgres ? { postgres: true } : {}),
    windowOffsetsMinutes: { preview: 0, staging, production },
    windowLengthMinutes: { production: [30, 30, 45] },
    instancesPerEnvironment: DEMO_FLEET_SIZE,
    extraTags: { ...DEMO_FLEET_TAGS },
    ...(accounts ? { multiAccount: ACCOUNTS } : {}),
  });
}

/**
 * An environment as a fleet stage, upgraded the way the runbook upgrades it (stageOf): preview's databases
 * listed, in one wave (they share a window); staging's selected by tags, two at a time, smallest first, each
 * under a probe of its own status endpoint; production's selected by tags (one approval, a wave and an
 * announcement per window group: such a stage takes no maxConcurrent).
 */
function fleetStageOf(environment: DemoEnvironment, o: FleetCampaignOptions): StageSpec {
  const EACH = '{instanceId}';
  const stage: StageSpec = stageOf(environment, EACH, o);
  delete stage.instanceId;
  // `{instanceId}` must reach the spec as written: each instance's own status endpoint.
  if (stage.probe?.url) stage.probe = { ...stage.probe, url: stage.probe.url.replace(encodeURIComponent(EACH), EACH) };
  const tags = { environment, ...DEMO_FLEET_TAGS };
  switch (environment) {
    case 'preview':
      return { ...stage, instances: fleetInstanceIds(environment), waves: { maxConcurrent: DEMO_FLEET_SIZE } };
    case 'staging':
      return { ...stage, select: { tags }, waves: { maxConcurrent: 2, order: 'smallest-first' } };
    case 'production':
      return { ...stage, select: { tags } };
  }
}

/** The campaign over the demo's fleet shape, as a person would write it (`instanceId` is not used). */
export function fleetWavesCampaignSpec(o: FleetCampaignOptions): CampaignSpec {
  return { ...fleetCampaignSpec(o), stages: (o.environments ?? DEMO_ENVIRONMENTS).map((env) => fleetStageOf(env, o)) };
}

/** The campaign over the demo's fleet shape, as a workflow is started with it. */
export function resolvedFleetWavesCampaign(o: FleetCampaignOptions): ResolvedCampaignSpec {
  return resolveCampaignSpec(fleetWavesCampaignSpec(o));
}
