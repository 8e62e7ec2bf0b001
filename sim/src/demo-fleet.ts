/**
 * A demo fleet shaped like the runbook's: preview, staging and production PostgreSQL instances on an
 * old minor (15.5) while RDS offers a newer preferred minor (15.8), AutoMinorVersionUpgrade off (the
 * team's default), maintenance windows placed minutes from now so a demo sees them open, a private
 * hosted zone with the weighted `db` CNAME per environment, and one VPC holding the DB subnet groups and
 * the security groups the bastion rule needs.
 *
 * With `multiAccount`, the fleet lives in three accounts as the runbook's does (`gds aws notify-preview`,
 * `notify-staging`, `notify-production`): each environment's instance, VPC, DB subnet and security groups
 * in its own account, the hosted zone and the bastion group in the production account, and in each account a
 * role `rds-orchestrator` that the orchestrator account may assume (optionally with an ExternalId).
 *
 * With `instancesPerEnvironment`, each environment has a few databases (`notifydb-<env>`, `-2`, ...) of
 * different allocated storage, with `extraTags` and `windowLengthMinutes` to select them by tag and give
 * some other windows (the demo's fleet stages). Without these options the seed is the one-instance fleet above.
 */
import type { SeedSpec } from './api';
import { MINUTE } from './core/clock';
import { defaultCatalogue } from './rds/catalogue';
import { endpointAddress } from './rds/endpoint';
import { formatMaintenanceWindow } from './rds/window';

export const DEMO_ENVIRONMENTS = ['preview', 'staging', 'production'] as const;
export type DemoEnvironment = (typeof DEMO_ENVIRONMENTS)[number];

/** The three-account layout's account ids, and the account the orchestrator's own credentials belong to. */
export interface DemoAccounts {
  orchestrator: string;
  preview: string;
  staging: string;
  production: string;
}

export const DEMO_ACCOUNTS: Readonly<DemoAccounts> = Object.freeze({ orchestrator: '111111111111', preview: '222222222222', staging: '333333333333', production: '444444444444' });
export const DEMO_ROLE_NAME = 'rds-orchestrator';
/** The role the orchestrator assumes to reach an environment's account. */
export const demoRoleArn = (env: DemoEnvironment, accounts: DemoAccounts = DEMO_ACCOUNTS): string => `arn:aws:iam::${accounts[env]}:role/${DEMO_ROLE_NAME}`;
/**
 * The orchestrator's base credentials in the three-account layout: requests signed with this key are the IAM
 * user `rds-orchestrator` of the orchestrator account (any secret works; signatures are not checked).
 */
export const DEMO_ORCHESTRATOR_ACCESS_KEY_ID = 'AKIADEMORCHESTRATOR1';
export const demoOrchestratorArn = (accounts: DemoAccounts = DEMO_ACCOUNTS): string => `arn:aws:iam::${accounts.orchestrator}:user/rds-orchestrator`;

export interface DemoFleetOptions {
  region?: string;
  /** Single-account layout: the one account (default 123456789012). Ignored with `multiAccount`. */
  account?: string;
  /** Three accounts (true: DEMO_ACCOUNTS; or override some ids). Default: one account. */
  multiAccount?: boolean | Partial<DemoAccounts>;
  /** Three accounts: each role's trust policy requires this ExternalId (default: none required). */
  externalId?: string;
  /** Engine version the fleet runs (default 15.5). */
  fromVersion?: string;
  /** The catalogue's preferred minor for that major, i.e. what the db-upgrade pending action offers (default 15.8). */
  targetVersion?: string;
  /** Minutes from `nowMs` at which each environment's 30-minute window opens (defaults 10, 20, 30). */
  windowOffsetsMinutes?: Partial<Record<DemoEnvironment, number>>;
  autoMinorVersionUpgrade?: Partial<Record<DemoEnvironment, boolean>>;
  /** Hosted zone name (default notify.internal). */
  zoneName?: string;
  /** Fixed hosted zone id, so callers know it before seeding (default ZDEMONOTIFY0001). */
  zoneId?: string;
  /** Start clean (default true). */
  reset?: boolean;
  /**
   * Databases per environment (default 1): `notifydb-<env>`, then `notifydb-<env>-2` ... `-<n>` (demoFleetInstanceId),
   * each in its environment's account, VPC, subnet, parameter and security groups, with allocated storage of
   * its own (the second half the first's, the third double, ...), so "smallest-first" has an order to show.
   * Only `notifydb-<env>` has a `db` record in the zone.
   */
  instancesPerEnvironment?: number;
  /** Per environment, the length in minutes of its n-th database's window (index 0 is `notifydb-<env>`; default 30 each). */
  windowLengthMinutes?: Partial<Record<DemoEnvironment, number[]>>;
  /** Tags on every database besides environment and service (e.g. { team: "notify" }). */
  extraTags?: Record<string, string>;
  /**
   * A real PostgreSQL server behind the production database `notifydb-production` (the restore's source), with
   * master user DEMO_MASTER_USERNAME and `masterUserPassword` (default DEMO_MASTER_PASSWORD). Default off, so the
   * many callers that seed the demo fleet start no server; `--seed-demo` turns it on.
   */
  postgres?: boolean;
  masterUserPassword?: string;
}

/** The production database's master user and password when the demo fleet is seeded with `postgres`. */
export const DEMO_MASTER_USERNAME = 'postgres';
export const DEMO_MASTER_PASSWORD = 'notify-demo-master-pw';

export const demoInstanceId = (env: DemoEnvironment): string => `notifydb-${env}`;
/** The n-th database (1-based) of an environment: `notifydb-<env>` for the first, `notifydb-<env>-<n>` for the others. */
export const demoFleetInstanceId = (env: DemoEnvironment, n: number): string => (n === 1 ? demoInstanceId(env) : `${demoInstanceId(env)}-${n}`);
/** Allocated storage of an environment's n-th database: the first's, half of it, double, triple, ... */
const storageFactor = (n: number): number => (n === 1 ? 1 : n === 2 ? 0.5 : n - 1);
// Real-looking ids ("sg-" and 17 hex digits), as the restore spec validates them.
const DB_SG_SUFFIX: Record<DemoEnvironment, string> = { preview: '0a', staging: '0b', production: '0c' };
export const demoDbSecurityGroupId = (env: DemoEnvironment): string => `sg-0de00db00000000${DB_SG_SUFFIX[env]}`;
export const DEMO_BASTION_SECURITY_GROUP_ID = 'sg-0de00ba5710000001';
/** The fleet's VPC: its DB subnet groups, DB and bastion security groups, and the private zone's association. */
export const DEMO_VPC_ID = 'vpc-0de00000000000001';
/** Three accounts: each environment's VPC (production keeps DEMO_VPC_ID and 10.42.0.0/16, so its resolver stays 10.42.0.2). */
const ACCOUNT_VPCS: Record<DemoEnvironment, { id: string; cidrBlock: string }> = {
  preview: { id: 'vpc-0de000000000000a1', cidrBlock: '10.40.0.0/16' },
  staging: { id: 'vpc-0de000000000000b1', cidrBlock: '10.41.0.0/16' },
  production: { id: DEMO_VPC_ID, cidrBlock: '10.42.0.0/16' },
};
/** The VPC of an environment's DB subnet and security groups: DEMO_VPC_ID for all in one account, its own with `multiAccount`. */
export const demoVpcId = (env: DemoEnvironment, multiAccount = false): string => (multiAccount ? ACCOUNT_VPCS[env].id : DEMO_VPC_ID);

/** The accounts of a layout: `undefined` for the single-account one. */
export function demoAccounts(opts: Pick<DemoFleetOptions, 'multiAccount'> = {}): DemoAccounts | undefined {
  if (!opts.multiAccount) return undefined;
  return { ...DEMO_ACCOUNTS, ...(opts.multiAccount === true ? {} : opts.multiAccount) };
}
export const demoSubnetGroupName = (env: DemoEnvironment): string => `notify-${env}`;
export const demoParameterGroupName = (env: DemoEnvironment, major: string): string => `notify-${env}-postgres${major}`;

export function demoFleet(nowMs: number, opts: DemoFleetOptions = {}): SeedSpec {
  const region = opts.region ?? 'eu-west-2';
  const accounts = demoAccounts(opts);
  const single = opts.account ?? '123456789012';
  const acct = (env: DemoEnvironment): string => (accounts ? accounts[env] : single);
  const vpc = (env: DemoEnvironment): string => demoVpcId(env, accounts !== undefined);
  const fromVersion = opts.fromVersion ?? '15.5';
  const targetVersion = opts.targetVersion ?? '15.8';
  const zoneName = opts.zoneName ?? 'notify.internal';
  const offsets: Record<DemoEnvironment, number> = { preview: 10, staging: 20, production: 30, ...opts.windowOffsetsMinutes };
  const perEnvironment = opts.instancesPerEnvironment ?? 1;

  const catalogue = defaultCatalogue().map((m) => {
    if (m.engine !== 'postgres') return m;
    const versions = new Set(m.versions);
    for (const v of [fromVersion, targetVersion]) if (v.split('.')[0] === m.major) versions.add(v);
    return { ...m, versions: [...versions], autoUpgradeTarget: targetVersion.split('.')[0] === m.major ? targetVersion : m.autoUpgradeTarget };
  });

  const address = (env: DemoEnvironment): string => endpointAddress(demoInstanceId(env), acct(env), region);
  const major = fromVersion.split('.')[0] as string;
  return {
    reset: opts.reset ?? true,
    catalogue,
    ...(accounts
      ? {
          roles: DEMO_ENVIRONMENTS.map((env) => ({
            account: accounts[env],
            name: DEMO_ROLE_NAME,
            trust: { accounts: [accounts.orchestrator], ...(opts.externalId !== undefined ? { externalId: opts.externalId } : {}) },
          })),
          identities: [{ accessKeyId: DEMO_ORCHESTRATOR_ACCESS_KEY_ID, account: accounts.orchestrator, arn: demoOrchestratorArn(accounts) }],
          vpcs: DEMO_ENVIRONMENTS.map((env) => ({ region, account: accounts[env], ...ACCOUNT_VPCS[env], tags: { Name: `notify-${env}` } })),
        }
      : { vpcs: [{ region, account: single, id: DEMO_VPC_ID, cidrBlock: '10.42.0.0/16', tags: { Name: 'notify' } }] }),
    securityGroups: [
      { region, account: acct('production'), id: DEMO_BASTION_SECURITY_GROUP_ID, name: 'notify-bastion', description: 'bastion host', vpcId: vpc('production') },
      ...DEMO_ENVIRONMENTS.map((env) => ({
        region,
        account: acct(env),
        id: demoDbSecurityGroupId(env),
        name: `notifydb-${env}`,
        description: `${env} database`,
        vpcId: vpc(env),
        tags: { environment: env },
      })),
    ],
    dbSubnetGroups: DEMO_ENVIRONMENTS.map((env, n) => ({
      region,
      account: acct(env),
      name: demoSubnetGroupName(env),
      vpcId: vpc(env),
      description: `notify ${env} databases`,
      subnetIds: [`subnet-0de0000000000${n}0a1`, `subnet-0de0000000000${n}0b2`],
    })),
    dbParameterGroups: DEMO_ENVIRONMENTS.map((env) => ({ region, account: acct(env), name: demoParameterGroupName(env, major), family: `postgres${major}`, description: `notify ${env}` })),
    instances: DEMO_ENVIRONMENTS.flatMap((env) =>
      Array.from({ length: perEnvironment }, (_, i) => i + 1).map((n) => ({
        region,
        account: acct(env),
        id: demoFleetInstanceId(env, n),
        engineVersion: fromVersion,
        instanceClass: env === 'production' ? 'db.r6g.xlarge' : 'db.t4g.medium',
        multiAZ: env === 'production',
        allocatedStorage: (env === 'production' ? 500 : 100) * storageFactor(n),
        storageType: 'gp3',
        backupRetentionPeriod: 31,
        deletionProtection: env === 'production',
        autoMinorVersionUpgrade: opts.autoMinorVersionUpgrade?.[env] ?? false,
        preferredMaintenanceWindow: formatMaintenanceWindow(nowMs + offsets[env] * MINUTE, opts.windowLengthMinutes?.[env]?.[n - 1] ?? 30),
        dbSubnetGroupName: demoSubnetGroupName(env),
        parameterGroupName: demoParameterGroupName(env, major),
        vpcSecurityGroupIds: [demoDbSecurityGroupId(env)],
        tags: { environment: env, service: 'notify', ...opts.extraTags },
        ...(opts.postgres && env === 'production' && n === 1
          ? { postgres: true, masterUsername: DEMO_MASTER_USERNAME, masterUserPassword: opts.masterUserPassword ?? DEMO_MASTER_PASSWORD, manageMasterUserPassword: true }
          : {}),
      })),
    ),
    hostedZones: [
      {
        account: acct('production'),
        id: opts.zoneId ?? 'ZDEMONOTIFY0001',
        name: zoneName,
        privateZone: true,
        vpcs: [{ region, vpcId: vpc('production') }],
        records: DEMO_ENVIRONMENTS.map((env) => ({
          name: `db.${env}.${zoneName}`,
          type: 'CNAME',
          ttl: 60,
          setIdentifier: demoInstanceId(env),
          weight: 100,
          values: [address(env)],
        })),
      },
    ],
  };
}
