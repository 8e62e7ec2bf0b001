/** The simulator's admin API types (JSON on /_sim/*), shared by the server, the admin client and tests. */
import type { CatalogueMajor } from './catalogue';

export interface SeedInstance {
  region: string;
  /** Defaults to 123456789012. */
  account?: string;
  id: string;
  engine?: string;
  engineVersion: string;
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
  dbSubnetGroupName?: string;
  parameterGroupName?: string;
  /** Security group ids (seed the groups with explicit ids to refer to them here). */
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
  privateZone?: boolean;
  comment?: string;
  records?: SeedRecord[];
}

export interface SeedSecurityGroup {
  region: string;
  account?: string;
  id?: string;
  name: string;
  description?: string;
  vpcId?: string;
  tags?: Record<string, string>;
  ingress?: Array<{ protocol: string; fromPort?: number; toPort?: number; sourceGroupId?: string; cidrIp?: string; description?: string }>;
}

export interface SeedSpec {
  /** Clear everything first (default false: the seed is added to what exists). */
  reset?: boolean;
  /** Replaces the engine catalogue. */
  catalogue?: CatalogueMajor[];
  securityGroups?: SeedSecurityGroup[];
  instances?: SeedInstance[];
  hostedZones?: SeedHostedZone[];
}

export interface SeedResult {
  instances: Array<{ region: string; account: string; id: string; arn: string; address: string }>;
  hostedZones: Array<{ account: string; id: string; name: string }>;
  securityGroups: Array<{ region: string; account: string; id: string; name: string }>;
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
  service: 'rds' | 'route53' | 'ec2' | 'statuspage';
  action: string;
  region: string;
  account: string;
  params: Record<string, string>;
  /** Simulated time, ISO. */
  at: string;
  isMutation: boolean;
  httpStatus: number;
  errorCode?: string;
  /** Set when an injected fault answered instead of the service. */
  fault?: 'throttle' | 'error';
}

export interface CallFilter {
  service?: string;
  action?: string;
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
