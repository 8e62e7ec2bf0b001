/**
 * The plain shapes AWS answers are read into (what the activities return and the workflows decide on): where a
 * resource is and how to reach it, an instance, an upgrade target, a pending maintenance action.
 */

/**
 * How to reach an AWS resource: its region, and the identity of its account. The worker's own credentials
 * when no role or profile is given; otherwise the role, assumed through STS (with the SDK's provider, which
 * refreshes it), or a named local profile.
 */
export interface AwsLocation {
  region: string;
  roleArn?: string;
  externalId?: string;
  profile?: string;
  /** The STS region to assume the role in (default: `region`). */
  stsRegion?: string;
  /** The STS session name: which campaign or restore, which stage (it shows in CloudTrail). */
  sessionName?: string;
}

/** A region (the worker's own identity; runs started before accounts existed pass this) or a location. */
export type AwsWhere = string | AwsLocation;

/** The identity part of a location, for a global service (Route 53). */
export type AwsAccess = Omit<AwsLocation, 'region'>;

export interface CallerIdentity {
  account: string;
  arn: string;
}

export interface InstanceEndpoint {
  address: string;
  port: number;
  hostedZoneId?: string;
}

export interface InstanceInfo {
  region: string;
  instanceId: string;
  arn?: string;
  engine: string;
  engineVersion: string;
  status: string;
  autoMinorVersionUpgrade: boolean;
  /** `ddd:hh24:mi-ddd:hh24:mi`, UTC */
  preferredMaintenanceWindow: string;
  endpoint?: InstanceEndpoint;
  instanceClass: string;
  multiAZ: boolean;
  storageType?: string;
  allocatedStorage?: number;
  /** MaxAllocatedStorage: the storage autoscaling limit (GiB), absent when storage autoscaling is off. */
  maxAllocatedStorage?: number;
  iops?: number;
  /** StorageThroughput (MiB/s; gp3). */
  storageThroughput?: number;
  /** CopyTagsToSnapshot. */
  copyTagsToSnapshot?: boolean;
  kmsKeyId?: string;
  dbSubnetGroupName?: string;
  /** The VPC of the instance's DB subnet group. */
  vpcId?: string;
  parameterGroupName?: string;
  vpcSecurityGroupIds: string[];
  deletionProtection: boolean;
  /** Pending modified values reported by RDS (e.g. EngineVersion when an upgrade is queued). */
  pendingEngineVersion?: string;
  latestRestorableTime?: string;
  /**
   * Earliest restorable time: the RestoreWindow AWS publishes when the reading asked for it (DescribeInstanceInput),
   * else InstanceCreateTime or now - BackupRetentionPeriod days, whichever is later.
   */
  earliestRestorableTime?: string;
  backupRetentionPeriodDays?: number;
  /**
   * Set when the window was asked for as AWS publishes it (DescribeInstanceInput.restoreWindow) but AWS gave none, so
   * earliestRestorableTime is the estimate: why (e.g. the permission is missing).
   */
  restoreWindowEstimated?: string;
  /** PreferredBackupWindow, `hh24:mi-hh24:mi` UTC. */
  preferredBackupWindow?: string;
  /** DbiResourceId: what IAM database authentication policies name (rds-db:connect on dbuser:<DbiResourceId>/<user>). */
  resourceId?: string;
  /** PerformanceInsightsEnabled, when on. */
  performanceInsights?: boolean;
  /** MonitoringInterval (Enhanced Monitoring, seconds), when on. */
  monitoringIntervalSeconds?: number;
  /** MasterUserSecret.SecretArn: the master user's password in Secrets Manager, when RDS manages it (ManageMasterUserPassword). */
  masterUserSecretArn?: string;
  /** IAMDatabaseAuthenticationEnabled: users may log in with IAM authentication tokens. */
  iamDatabaseAuthentication?: boolean;
  /** PubliclyAccessible: whether its endpoint resolves to a public address. */
  publiclyAccessible?: boolean;
  tags: Record<string, string>;
  /**
   * ReadReplicaDBInstanceIdentifiers: the instance's read replicas, as RDS lists them (an in-region replica by
   * its identifier, a cross-region one by its ARN). Absent when it has none.
   */
  readReplicaIds?: string[];
  /** ReadReplicaSourceDBInstanceIdentifier: set when this instance is a read replica (its source's identifier, or ARN across regions). */
  replicaSourceId?: string;
}

export interface UpgradeTarget {
  engineVersion: string;
  isMajorVersionUpgrade: boolean;
  /**
   * ValidUpgradeTarget.AutoUpgrade: "whether the target version is applied to any source DB instances
   * that have AutoMinorVersionUpgrade set to true" — the only version the flag can ever bring.
   * Absent in activity results recorded before it was read (replayed histories): unknown.
   */
  autoUpgrade?: boolean;
}

export interface PendingMaintenanceAction {
  action: string; // e.g. "db-upgrade", "system-update"
  description?: string;
  autoAppliedAfterDate?: string; // ISO instant
  forcedApplyDate?: string; // ISO instant
  currentApplyDate?: string; // ISO instant
  optInStatus?: string;
  /**
   * When AWS applies it itself (ISO instant): its ForcedApplyDate, or the instance's first maintenance window after its
   * AutoAppliedAfterDate. Said by the activity that read it when it knew the instance's window (domain awsAppliesAtOf).
   */
  awsAppliesAt?: string;
}

/**
 * An RDS Blue/Green deployment as DescribeBlueGreenDeployments lists it (BlueGreenDeployment in the API
 * reference): its status, AWS's tasks and the switchover's member pairs, read into plain text.
 */
export interface BlueGreenDeployment {
  region: string;
  /** BlueGreenDeploymentIdentifier, e.g. bgd-1234567890abcdef. */
  id: string;
  name: string;
  /** arn:aws:rds:<region>:<account>:deployment:<id> (built from the source's ARN: the API lists none). */
  arn?: string;
  /** The blue (source) and green (target) instances' ARNs. */
  sourceArn?: string;
  targetArn?: string;
  /** PROVISIONING, AVAILABLE, SWITCHOVER_IN_PROGRESS, SWITCHOVER_COMPLETED, INVALID_CONFIGURATION, SWITCHOVER_FAILED, DELETING, … */
  status: string;
  statusDetails?: string;
  tasks: { name: string; status: string }[];
  switchover: { sourceMember?: string; targetMember?: string; status?: string }[];
  createTime?: string;
  tags: Record<string, string>;
}
