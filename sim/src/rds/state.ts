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
  /** CACertificateIdentifier; absent (older state files) = rds-ca-rsa2048-g1 (sim/src/rds/instance-settings.ts). */
  caCertificateIdentifier?: string;
  /** EnabledCloudwatchLogsExports; absent = none. */
  enabledCloudwatchLogsExports?: string[];
  /** NetworkType; absent = IPV4. */
  networkType?: string;
  /** DedicatedLogVolume; absent = false. */
  dedicatedLogVolume?: boolean;
  /** EngineLifecycleSupport as asked; absent (seeded instances, older state files) = enrolled for major 14 only. */
  engineLifecycleSupport?: string;
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
  /** PubliclyAccessible; absent (older state files) = false. */
  publiclyAccessible?: boolean;
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
  /**
   * Set on both instances of a blue/green deployment while its switchover runs (the deployment's identifier): writes
   * are stopped and connections dropped in both environments, so the app status probe answers 503 and a
   * PostgreSQL-backed instance's server is stopped (sim/src/rds/blue-green-switchover.ts). Absent otherwise.
   */
  blueGreenSwitchover?: string;
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
  /**
   * A restore's recovery, run when the instance leaves `creating`: to `restoreTime`, or to the end of the source's
   * archived WAL when absent (a blue/green deployment's green instance).
   */
  recovery?: { source: InstanceRef; restoreTime?: number };
  /**
   * The instance identifier its cluster's folder is named after, when it is not the instance's own: a blue/green
   * switchover renames instances, and their clusters stay where they are. Absent = the instance's identifier.
   */
  folder?: string;
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

/** BlueGreenDeployment.Status (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_BlueGreenDeployment.html). */
export type BlueGreenStatus = 'PROVISIONING' | 'AVAILABLE' | 'SWITCHOVER_IN_PROGRESS' | 'SWITCHOVER_COMPLETED' | 'INVALID_CONFIGURATION' | 'SWITCHOVER_FAILED' | 'DELETING';

/** A BlueGreenDeploymentTask: Name and Status (PENDING, IN_PROGRESS, COMPLETED, FAILED). */
export interface BlueGreenTask {
  name: string;
  status: 'PENDING' | 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
}

/** The switchover guardrail checks (User Guide, "Switchover guardrails"), for the `guardrail` fault. */
export type GuardrailCheck = 'replication-health' | 'replication-lag' | 'active-writes' | 'external-replication' | 'long-running-writes' | 'long-running-ddl';

/** A fault a test arms through POST /_sim/blue-green/fault (sim/src/rds/blue-green-faults.ts). */
export type BlueGreenFault =
  | { fault: 'switchover-rollback'; reason?: string; afterSeconds?: number }
  | { fault: 'guardrail'; guardrail: GuardrailCheck }
  | { fault: 'provisioning-failed'; reason?: string }
  | { fault: 'invalid-configuration'; reason?: string };

export interface BlueGreenDeploymentRecord {
  account: string;
  region: string;
  /** `bgd-` and 16 lower-case letters and digits. */
  id: string;
  name: string;
  /**
   * The blue and green instances by DbiResourceId: "Amazon RDS tracks resources in blue/green deployments with the
   * DbiResourceId", and a switchover changes their identifiers, not their resource ids.
   */
  sourceResourceId: string;
  targetResourceId: string;
  status: BlueGreenStatus;
  statusDetails?: string;
  /** SwitchoverDetails[].Status of its one member pair. */
  memberStatus: string;
  /** Whether the green is created with another engine version (the DB_ENGINE_VERSION_UPGRADE task). */
  upgrade: boolean;
  /** The tasks as they stood when provisioning ended (while PROVISIONING they follow the green instance). */
  tasks?: BlueGreenTask[];
  createdAt: number;
  tags: Tag[];
  /** The running or last switchover: when it ends and how (`completed`, or rolled back / canceled with a reason). */
  switchover?: { startedAt: number; timeoutSeconds: number; endsAt: number; outcome: 'completed' | 'rolled-back' | 'canceled'; reason?: string };
  /** Faults armed for it that have not acted yet. */
  faults: Array<BlueGreenFault & { armedAt: number }>;
}

export interface RdsState {
  catalogue: CatalogueMajor[];
  instances: Record<string, DbInstance>;
  dbSubnetGroups: Record<string, DbSubnetGroup>;
  dbParameterGroups: Record<string, DbParameterGroup>;
  /** How many loopback addresses PostgreSQL-backed instances have been given (the next one follows). */
  postgresHostsGiven: number;
  /** Blue/green deployments, keyed `${account}/${region}/${bgd id}`. */
  blueGreenDeployments: Record<string, BlueGreenDeploymentRecord>;
  /** Faults armed by source instance before a deployment of it exists (they move to the next deployment made from it). */
  blueGreenFaultsBySource: Array<BlueGreenFault & { armedAt: number; account: string; region: string; sourceResourceId: string }>;
}

export const RDS_STATE: StatePart<RdsState> = { empty: () => ({ catalogue: defaultCatalogue(), instances: {}, dbSubnetGroups: {}, dbParameterGroups: {}, postgresHostsGiven: 0, blueGreenDeployments: {}, blueGreenFaultsBySource: [] }) };
