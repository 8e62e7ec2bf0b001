/**
 * What RDS keeps in the simulator's state: the engine catalogue, DB instances, DB subnet groups and DB parameter
 * groups, keyed `${account}/${region}/${id}`.
 */
import type { Tag } from '../core/aws';
import type { StatePart } from '../core/state';
import type { CatalogueMajor } from './catalogue';
import { defaultCatalogue } from './catalogue';

export interface InstanceStep {
  status: string;
  until: number;
}

export interface InstanceOperation {
  kind: 'create' | 'restore' | 'upgrade' | 'stop' | 'start';
  steps: InstanceStep[];
  /** Status once every step has ended. */
  finalStatus: 'available' | 'stopped';
  targetVersion?: string;
  /** How the upgrade was started (for the call log and state view). */
  trigger?: 'apply-immediately' | 'pending-action-immediate' | 'maintenance-window' | 'forced-apply';
}

export interface MaintenanceState {
  /** Seeded/overridden target of the db-upgrade action; otherwise the catalogue's auto-upgrade target. */
  targetVersion?: string;
  description?: string;
  autoAppliedAfterDate?: number;
  forcedApplyDate?: number;
  /** ApplyPendingMaintenanceAction OptInType=next-maintenance */
  optIn?: 'next-maintenance';
}

export interface DbInstance {
  account: string;
  region: string;
  id: string;
  arn: string;
  resourceId: string;
  engine: string;
  engineVersion: string;
  /** Engine version over time, so a point-in-time restore gets the version the source had then. */
  versionHistory: Array<{ at: number; version: string }>;
  instanceClass: string;
  allocatedStorage: number;
  storageType: string;
  iops?: number;
  storageEncrypted: boolean;
  kmsKeyId?: string;
  multiAZ: boolean;
  availabilityZone: string;
  dbSubnetGroupName: string;
  parameterGroupName: string;
  optionGroupName: string;
  vpcSecurityGroupIds: string[];
  preferredMaintenanceWindow: string;
  preferredBackupWindow: string;
  backupRetentionPeriod: number;
  autoMinorVersionUpgrade: boolean;
  deletionProtection: boolean;
  copyTagsToSnapshot: boolean;
  masterUsername: string;
  /** ManageMasterUserPassword: the master password lives in a Secrets Manager secret RDS made (MasterUserSecret). */
  masterUserSecret?: { arn: string; kmsKeyId: string };
  /** EnableIAMDatabaseAuthentication ("By default, mapping isn't enabled"); absent (older state files) = false. */
  iamDatabaseAuthenticationEnabled?: boolean;
  dbName?: string;
  endpoint: { address: string; port: number; hostedZoneId: string };
  tags: Tag[];
  createdAt: number;
  status: string;
  /** When `status` last changed. */
  statusSince: number;
  op?: InstanceOperation;
  /**
   * ModifyDBInstance EngineVersion, shown as PendingModifiedValues.EngineVersion: "will be applied or is
   * currently being applied". Queued without ApplyImmediately (applied when the next window opens), or
   * being applied now with it; cleared when the upgrade completes.
   */
  pendingEngineVersion?: string;
  /** A DBParameterGroupName given with a major-version upgrade: it takes effect with the new version. */
  pendingParameterGroupName?: string;
  /** DBParameterGroups[].ParameterApplyStatus; absent means in-sync. */
  parameterApplyStatus?: string;
  /** A VpcSecurityGroupIds change still being applied (memberships show adding/removing until `until`). */
  securityGroupChange?: { added: string[]; removed: string[]; until: number };
  maintenance: MaintenanceState;
  /** Window openings up to this instant have been handled. */
  maintenanceCheckedUntil: number;
  /** When the instance reached `stopped` (RDS starts it again 7 days later). */
  stoppedAt?: number;
  restoredFrom?: { sourceInstanceId: string; restoreTime: number };
  /**
   * Set on a read replica: its source instance (same account; the region differs for a cross-Region replica).
   * Absent on other instances, and in state files written before replicas were modelled.
   */
  replicaOf?: InstanceRef;
  /**
   * Set on a PostgreSQL-backed instance (seeded with `postgres: true`, or restored from one): a real cluster listens
   * on `postgres.host`, port `endpoint.port` (sim/src/rds/databases.ts). Absent on every other instance.
   */
  postgres?: PostgresBacking;
}

export interface PostgresBacking {
  /** The master user's password (the seed's masterUserPassword; a restore keeps its source's). Never rendered. */
  masterUserPassword: string;
  /**
   * The loopback address its server alone listens on, and its endpoint name resolves to (127.0.0.2, .3, …: one per
   * instance, never one of another live instance). A state file written before addresses were given lacks it: the
   * simulator gives one when it starts.
   */
  host: string;
  /** Simulated instant the base backup ended: the earliest restorable time. Absent until the cluster exists. */
  backupEnd?: number;
  /** A restore's recovery, run when the instance leaves `creating`. */
  recovery?: { source: InstanceRef; restoreTime: number };
}

/** An RDS instance by where it lives, as a replica names its source. */
export interface InstanceRef {
  account: string;
  region: string;
  id: string;
}

export interface DbSubnetGroup {
  account: string;
  region: string;
  /** Stored lower case, as RDS stores it. */
  name: string;
  description: string;
  vpcId: string;
  subnetIds: string[];
}

export interface DbParameterGroup {
  account: string;
  region: string;
  name: string;
  /** e.g. postgres15 */
  family: string;
  description: string;
}

export interface RdsState {
  catalogue: CatalogueMajor[];
  instances: Record<string, DbInstance>;
  dbSubnetGroups: Record<string, DbSubnetGroup>;
  dbParameterGroups: Record<string, DbParameterGroup>;
  /** How many loopback addresses PostgreSQL-backed instances have been given (the next one follows). */
  postgresHostsGiven: number;
}

export const RDS_STATE: StatePart<RdsState> = { empty: () => ({ catalogue: defaultCatalogue(), instances: {}, dbSubnetGroups: {}, dbParameterGroups: {}, postgresHostsGiven: 0 }) };
