/**
 * A demo fleet shaped like the runbook's: preview, staging and production PostgreSQL instances on an
 * old minor (15.5) while RDS offers a newer preferred minor (15.8), AutoMinorVersionUpgrade off (the
 * team's default), maintenance windows placed minutes from now so a demo sees them open, a private
 * hosted zone with the weighted `db` CNAME per environment, and one VPC holding the DB subnet groups and
 * the security groups the bastion rule needs.
 */
import { MINUTE } from './clock';
import { defaultCatalogue } from './catalogue';
import { endpointSuffix } from './model';
import type { SeedSpec } from './types';
import { formatMaintenanceWindow } from './window';

export const DEMO_ENVIRONMENTS = ['preview', 'staging', 'production'] as const;
export type DemoEnvironment = (typeof DEMO_ENVIRONMENTS)[number];

export interface DemoFleetOptions {
  region?: string;
  account?: string;
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
}

export const demoInstanceId = (env: DemoEnvironment): string => `notifydb-${env}`;
// Real-looking ids ("sg-" and 17 hex digits), as the restore spec validates them.
const DB_SG_SUFFIX: Record<DemoEnvironment, string> = { preview: '0a', staging: '0b', production: '0c' };
export const demoDbSecurityGroupId = (env: DemoEnvironment): string => `sg-0de00db00000000${DB_SG_SUFFIX[env]}`;
export const DEMO_BASTION_SECURITY_GROUP_ID = 'sg-0de00ba5710000001';
/** The fleet's VPC: its DB subnet groups, DB and bastion security groups, and the private zone's association. */
export const DEMO_VPC_ID = 'vpc-0de00000000000001';
export const demoSubnetGroupName = (env: DemoEnvironment): string => `notify-${env}`;
export const demoParameterGroupName = (env: DemoEnvironment, major: string): string => `notify-${env}-postgres${major}`;

export function demoFleet(nowMs: number, opts: DemoFleetOptions = {}): SeedSpec {
  const region = opts.region ?? 'eu-west-2';
  const account = opts.account ?? '123456789012';
  const fromVersion = opts.fromVersion ?? '15.5';
  const targetVersion = opts.targetVersion ?? '15.8';
  const zoneName = opts.zoneName ?? 'notify.internal';
  const offsets: Record<DemoEnvironment, number> = { preview: 10, staging: 20, production: 30, ...opts.windowOffsetsMinutes };

  const catalogue = defaultCatalogue().map((m) => {
    if (m.engine !== 'postgres') return m;
    const versions = new Set(m.versions);
    for (const v of [fromVersion, targetVersion]) if (v.split('.')[0] === m.major) versions.add(v);
    return { ...m, versions: [...versions], autoUpgradeTarget: targetVersion.split('.')[0] === m.major ? targetVersion : m.autoUpgradeTarget };
  });

  const address = (env: DemoEnvironment): string => `${demoInstanceId(env)}.${endpointSuffix(account, region)}.${region}.rds.amazonaws.com`;
  const major = fromVersion.split('.')[0] as string;
  return {
    reset: opts.reset ?? true,
    catalogue,
    vpcs: [{ region, account, id: DEMO_VPC_ID, cidrBlock: '10.42.0.0/16', tags: { Name: 'notify' } }],
    securityGroups: [
      { region, account, id: DEMO_BASTION_SECURITY_GROUP_ID, name: 'notify-bastion', description: 'bastion host', vpcId: DEMO_VPC_ID },
      ...DEMO_ENVIRONMENTS.map((env) => ({
        region,
        account,
        id: demoDbSecurityGroupId(env),
        name: `notifydb-${env}`,
        description: `${env} database`,
        vpcId: DEMO_VPC_ID,
        tags: { environment: env },
      })),
    ],
    dbSubnetGroups: DEMO_ENVIRONMENTS.map((env, n) => ({
      region,
      account,
      name: demoSubnetGroupName(env),
      vpcId: DEMO_VPC_ID,
      description: `notify ${env} databases`,
      subnetIds: [`subnet-0de0000000000${n}0a1`, `subnet-0de0000000000${n}0b2`],
    })),
    dbParameterGroups: DEMO_ENVIRONMENTS.map((env) => ({ region, account, name: demoParameterGroupName(env, major), family: `postgres${major}`, description: `notify ${env}` })),
    instances: DEMO_ENVIRONMENTS.map((env) => ({
      region,
      account,
      id: demoInstanceId(env),
      engineVersion: fromVersion,
      instanceClass: env === 'production' ? 'db.r6g.xlarge' : 'db.t4g.medium',
      multiAZ: env === 'production',
      allocatedStorage: env === 'production' ? 500 : 100,
      storageType: 'gp3',
      backupRetentionPeriod: 31,
      deletionProtection: env === 'production',
      autoMinorVersionUpgrade: opts.autoMinorVersionUpgrade?.[env] ?? false,
      preferredMaintenanceWindow: formatMaintenanceWindow(nowMs + offsets[env] * MINUTE, 30),
      dbSubnetGroupName: demoSubnetGroupName(env),
      parameterGroupName: demoParameterGroupName(env, major),
      vpcSecurityGroupIds: [demoDbSecurityGroupId(env)],
      tags: { environment: env, service: 'notify' },
    })),
    hostedZones: [
      {
        account,
        id: opts.zoneId ?? 'ZDEMONOTIFY0001',
        name: zoneName,
        privateZone: true,
        vpcs: [{ region, vpcId: DEMO_VPC_ID }],
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
