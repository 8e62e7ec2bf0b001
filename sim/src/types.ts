/** The simulator's admin API types (JSON on /_sim/*), shared by the server, the admin client and tests. */
import type { CatalogueMajor } from './catalogue';

export interface SeedInstance {
  region: string;
  /** Defaults to 123456789012. */
  account?: string;
  id: string;
  engine?: string;
  /** Required, except for a replica (`replicaOf`), which defaults to its source's version. */
  engineVersion?: string;
  /**
   * Makes the instance a read replica of an instance seeded before it (or already there), in the same account:
   * `"id"` in the same Region, `{ region, id }` across Regions. The replica takes its source's engine, version
   * (a given `engineVersion` must be of the same major and not below the source's), class, storage and
   * AutoMinorVersionUpgrade unless given, BackupRetentionPeriod 0 unless given, and in the same Region its
   * source's subnet group, parameter group and security groups. Refused like CreateDBInstanceReadReplica: more
   * than 15 replicas, a replica of a replica before PostgreSQL 14.1 or more than three levels deep.
   */
  replicaOf?: string | { region: string; id: string };
  instanceClass?: string;
  /** Only `available` (default) or `stopped`: other statuses come from operations over time. */
  status?: 'available' | 'stopped';
  preferredMaintenanceWindow?: string;
  autoMinorVersionUpgrade?: boolean;
  deletionProtection?: boolean;
  multiAZ?: boolean;
  allocatedStorage?: number;
  storageType?: string;
  iops?: number;
  kmsKeyId?: string;
  backupRetentionPeriod?: number;
  /**
   * Default `default` (the default VPC). A name not seeded under `dbSubnetGroups` is created, in the VPC
   * of the instance's security groups (or the default VPC when it has none).
   */
  dbSubnetGroupName?: string;
  /** A name not seeded under `dbParameterGroups` is created as a custom group of the instance's family. */
  parameterGroupName?: string;
  /**
   * Security group ids; each must exist (seed the groups with explicit ids to refer to them here) and be
   * in the subnet group's VPC. Default: that VPC's `default` group.
   */
  vpcSecurityGroupIds?: string[];
  tags?: Record<string, string>;
  /** ISO instant or epoch ms; default 400 days ago, so the whole backup retention is restorable. */
  createdAt?: string | number;
  endpoint?: { address?: string; port?: number; hostedZoneId?: string };
  /** Overrides for the db-upgrade pending action (otherwise derived from the catalogue). */
  pendingMaintenance?: {
    targetVersion?: string;
    description?: string;
    autoAppliedAfterDate?: string | number;
    forcedApplyDate?: string | number;
  };
}

export interface SeedRecord {
  name: string;
  type: string;
  ttl?: number;
  values: string[];
  setIdentifier?: string;
  weight?: number;
}

export interface SeedHostedZone {
  account?: string;
  /** Without the /hostedzone/ prefix; generated when absent. */
  id?: string;
  name: string;
  /** Implied by `vpcs`; a private zone needs at least one VPC, as in Route 53. */
  privateZone?: boolean;
  /** Private zones: the VPCs the zone is associated with (each must be seeded, or a region's default VPC). */
  vpcs?: Array<{ region: string; vpcId: string }>;
  comment?: string;
  records?: SeedRecord[];
}

export interface SeedVpc {
  region: string;
  account?: string;
  /** `vpc-` and 8 or 17 hex digits; generated when absent. The VPC gets its own `default` security group. */
  id?: string;
  cidrBlock?: string;
  tags?: Record<string, string>;
}

export interface SeedDbSubnetGroup {
  region: string;
  account?: string;
  name: string;
  /** Default: the region's default VPC. */
  vpcId?: string;
  description?: string;
  subnetIds?: string[];
}

export interface SeedDbParameterGroup {
  region: string;
  account?: string;
  /** A customer group (RDS's own `default.<family>` groups always exist). */
  name: string;
  /** e.g. postgres15 */
  family: string;
  description?: string;
}

export interface SeedSecurityGroup {
  region: string;
  account?: string;
  id?: string;
  name: string;
  description?: string;
  /** Default: the region's default VPC. Another VPC must be seeded under `vpcs`. */
  vpcId?: string;
  tags?: Record<string, string>;
  ingress?: Array<{ protocol: string; fromPort?: number; toPort?: number; sourceGroupId?: string; cidrIp?: string; description?: string }>;
}

/**
 * An IAM role that STS AssumeRole can issue credentials for (ARN `arn:aws:iam::<account>:role/<name>`).
 * `trust` is its trust policy: who may assume it. Absent: the role's own account, as the IAM console's
 * "This account" trusted entity.
 */
export interface SeedRole {
  account: string;
  name: string;
  trust?: {
    /** Account ids: every principal of these accounts may assume the role ("AWS": "arn:aws:iam::<id>:root"). */
    accounts?: string[];
    /** Principal ARNs: IAM users or roles (a role ARN admits that role's sessions: role chaining). */
    principals?: string[];
    /** AssumeRole must pass exactly this ExternalId (the `sts:ExternalId` condition). */
    externalId?: string;
  };
  /** MaxSessionDuration in seconds, 3600..43200 (default 3600). */
  maxSessionSeconds?: number;
}

/** A long-term access key: requests signed with it are this principal of this account. */
export interface SeedIdentity {
  /** 16..128 word characters, not ASIA… (the simulator issues those). */
  accessKeyId: string;
  account: string;
  /** Default `arn:aws:iam::<account>:user/simulator`. A `…:root` ARN may not assume roles, as in AWS. */
  arn?: string;
  /** GetCallerIdentity's UserId (default: AIDA… for a user, the account id for root). */
  userId?: string;
}

export interface SeedSpec {
  /** Clear everything first (default false: the seed is added to what exists). */
  reset?: boolean;
  /** IAM roles, created or replaced (a replaced role keeps its unique id). */
  roles?: SeedRole[];
  /** Base identities (access keys), created or replaced. */
  identities?: SeedIdentity[];
  /** Replaces the engine catalogue. */
  catalogue?: CatalogueMajor[];
  vpcs?: SeedVpc[];
  securityGroups?: SeedSecurityGroup[];
  dbSubnetGroups?: SeedDbSubnetGroup[];
  dbParameterGroups?: SeedDbParameterGroup[];
  instances?: SeedInstance[];
  hostedZones?: SeedHostedZone[];
}

export interface SeedResult {
  instances: Array<{ region: string; account: string; id: string; arn: string; address: string }>;
  hostedZones: Array<{ account: string; id: string; name: string }>;
  securityGroups: Array<{ region: string; account: string; id: string; name: string; vpcId: string }>;
  vpcs: Array<{ region: string; account: string; id: string }>;
  dbSubnetGroups: Array<{ region: string; account: string; name: string; vpcId: string }>;
  roles: Array<{ account: string; name: string; arn: string }>;
  identities: Array<{ accessKeyId: string; account: string; arn: string }>;
}

export interface FaultSpec {
  /** The next N AWS calls answer Throttling (RDS/Route 53: HTTP 400 `Throttling`; EC2: HTTP 503 `RequestLimitExceeded`). */
  throttleNext?: number;
  /** The next N AWS calls answer a server error with `status` (default 500). */
  errorNext?: number;
  status?: number;
  /** Added before every AWS response until set back to 0. */
  latencyMs?: number;
}

export interface FaultState {
  throttleNext: number;
  errorNext: number;
  errorStatus: number;
  latencyMs: number;
}

export interface CallRecord {
  seq: number;
  service: 'rds' | 'route53' | 'ec2' | 'sts' | 'cloudtrail' | 'statuspage' | 'pagerduty';
  action: string;
  region: string;
  /**
   * AWS calls: the account the call was served from (the caller's); '-' when its credentials were refused
   * as unknown. Statuspage: the page id. PagerDuty: the routing key, masked but for its last four characters.
   */
  account: string;
  /** AWS calls: the caller's ARN (IAM user, or `arn:aws:sts::<account>:assumed-role/<role>/<session>`); absent when unknown. */
  principal?: string;
  /** AWS calls: the access key id the request was signed with. */
  accessKeyId?: string;
  params: Record<string, string>;
  /** Simulated time, ISO. */
  at: string;
  isMutation: boolean;
  httpStatus: number;
  errorCode?: string;
  /** Set when an injected fault answered instead of the service. */
  fault?: 'throttle' | 'error';
  /** AWS calls: the request id of the answer (its `x-amzn-RequestId` header and the body's RequestId). */
  requestId?: string;
}

/**
 * What CloudTrail's record of an AWS call needs beyond its log entry, kept beside it (not in /_sim/calls): the
 * request in full (the log entry's params are shortened), the answer of a change, the caller and where it came from.
 */
export interface CallDetails {
  /** Query-protocol parameters in request order, passwords masked. */
  form?: Array<[string, string]>;
  /** A REST/JSON request body (Route 53, CloudTrail), whole. */
  body?: string;
  /** The 2xx answer of a mutation, for CloudTrail's responseElements. */
  response?: string;
  errorMessage?: string;
  userAgent?: string;
  sourceIp?: string;
  /** The caller's unique id (AIDA… user, AROA…:session), its AssumeRole session if any. */
  userId?: string;
  session?: { roleArn: string; sessionName: string; assumedRoleId: string; issuedAt: number };
}

export interface CallFilter {
  service?: string;
  action?: string;
  account?: string;
  principal?: string;
  /** Only calls with seq greater than this. */
  since?: number;
  mutationsOnly?: boolean;
}

export interface AppStatus {
  region: string;
  instanceId: string;
  status: string;
  engineVersion?: string;
  healthy: boolean;
}
