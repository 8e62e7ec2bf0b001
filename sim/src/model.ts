/**
 * The simulator's whole state as plain JSON (it is what --state FILE holds). Times are epoch ms in
 * simulated time. Keys of the maps are `${account}/${region}/${id}` for RDS and EC2 and
 * `${account}/${id}` for Route 53 (a global service), so one process can hold several accounts.
 */
import { randomBytes } from 'node:crypto';
import type { CatalogueMajor } from './catalogue';
import { defaultCatalogue } from './catalogue';
import type { BaseIdentity, IamRole, StsSession } from './sts-model';

export const DEFAULT_ACCOUNT = '123456789012';
export const DEFAULT_REGION = 'us-east-1';
export const STATE_FORMAT_VERSION = 1;

export interface Tag {
  Key: string;
  Value: string;
}

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
}

/** An RDS instance by where it lives, as a replica names its source. */
export interface InstanceRef {
  account: string;
  region: string;
  id: string;
}

export interface ResourceRecordSet {
  name: string;
  type: string;
  ttl?: number;
  values: string[];
  setIdentifier?: string;
  weight?: number;
  aliasTarget?: { hostedZoneId: string; dnsName: string; evaluateTargetHealth: boolean };
}

export interface VpcAssociation {
  region: string;
  vpcId: string;
}

export interface HostedZone {
  account: string;
  id: string;
  name: string;
  callerReference: string;
  comment?: string;
  privateZone: boolean;
  /** Private zones: the VPCs the zone is associated with (absent in state files written before VPCs existed). */
  vpcs?: VpcAssociation[];
  nameServers: string[];
  records: ResourceRecordSet[];
  /** What the authoritative servers answer (TestDNSAnswer): records as of the last INSYNC change. */
  published: ResourceRecordSet[];
  createdAt: number;
}

export interface Route53Change {
  account: string;
  id: string;
  zoneId?: string;
  submittedAt: number;
  insyncAt: number;
  comment?: string;
  /** Zone records after this change, published once it is INSYNC. */
  recordsAfter?: ResourceRecordSet[];
  published: boolean;
}

export interface SecurityGroupRule {
  ruleId: string;
  protocol: string;
  fromPort?: number;
  toPort?: number;
  sourceGroupId?: string;
  sourceUserId?: string;
  cidrIp?: string;
  description?: string;
}

export interface SecurityGroup {
  account: string;
  region: string;
  id: string;
  name: string;
  description: string;
  vpcId: string;
  tags: Tag[];
  ingress: SecurityGroupRule[];
  egress: SecurityGroupRule[];
}

export interface Vpc {
  account: string;
  region: string;
  id: string;
  cidrBlock: string;
  isDefault: boolean;
  tags: Tag[];
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

export interface IncidentUpdate {
  id: string;
  status: string;
  body: string;
  created_at: string;
  display_at: string;
  deliver_notifications: boolean;
}

export interface Incident {
  id: string;
  page_id: string;
  name: string;
  status: string;
  impact: string;
  impact_override: string | null;
  scheduled_for: string | null;
  scheduled_until: string | null;
  scheduled_remind_prior: boolean;
  scheduled_auto_in_progress: boolean;
  scheduled_auto_completed: boolean;
  auto_transition_to_maintenance_state: boolean;
  auto_transition_to_operational_state: boolean;
  auto_transition_deliver_notifications_at_start: boolean;
  auto_transition_deliver_notifications_at_end: boolean;
  metadata: Record<string, unknown>;
  components: Array<{ id: string; status: string }>;
  incident_updates: IncidentUpdate[];
  shortlink: string;
  created_at: string;
  updated_at: string;
  started_at: string;
  resolved_at: string | null;
  monitoring_at: string | null;
}

export interface SimStateData {
  formatVersion: number;
  /** Added to the clock by POST /_sim/advance. */
  clockOffsetMs: number;
  catalogue: CatalogueMajor[];
  instances: Record<string, DbInstance>;
  hostedZones: Record<string, HostedZone>;
  changes: Record<string, Route53Change>;
  securityGroups: Record<string, SecurityGroup>;
  vpcs: Record<string, Vpc>;
  dbSubnetGroups: Record<string, DbSubnetGroup>;
  dbParameterGroups: Record<string, DbParameterGroup>;
  incidents: Record<string, Incident>;
  /** IAM roles by ARN (absent in state files written before accounts were modelled). */
  roles: Record<string, IamRole>;
  /** Seeded long-term access keys by access key id. */
  identities: Record<string, BaseIdentity>;
  /** Temporary credentials AssumeRole issued, by access key id. */
  stsSessions: Record<string, StsSession>;
  /** PagerDuty Events API v2 alerts by alert id (absent in state files written before PagerDuty was modelled). */
  pagerDutyAlerts: Record<string, PagerDutyAlert>;
}

export function emptyState(): SimStateData {
  return {
    formatVersion: STATE_FORMAT_VERSION,
    clockOffsetMs: 0,
    catalogue: defaultCatalogue(),
    instances: {},
    hostedZones: {},
    changes: {},
    securityGroups: {},
    vpcs: {},
    dbSubnetGroups: {},
    dbParameterGroups: {},
    incidents: {},
    roles: {},
    identities: {},
    stsSessions: {},
    pagerDutyAlerts: {},
  };
}

const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

export function randomString(length: number, alphabet = UPPER_ALNUM): string {
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[(bytes[i] as number) % alphabet.length];
  return out;
}

export const randomLower = (length: number): string => randomString(length, LOWER_ALNUM);
export const randomHex = (length: number): string => randomBytes(Math.ceil(length / 2)).toString('hex').slice(0, length);

export const regionalKey = (account: string, region: string, id: string): string => `${account}/${region}/${id}`;
export const globalKey = (account: string, id: string): string => `${account}/${id}`;

/** A stable per-account-and-region string, like the random part of real RDS endpoints. */
export function endpointSuffix(account: string, region: string): string {
  let h = 2166136261;
  for (const c of `${account}/${region}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  let out = '';
  for (let i = 0; i < 12; i++) {
    out += LOWER_ALNUM[h % 36];
    h = Math.imul(h ^ (i + 7), 2654435761) >>> 0;
  }
  return out;
}

/** Route 53 hosted zone ids of RDS endpoints, per region (a few real ones; others get a fixed fake). */
export function rdsEndpointHostedZoneId(region: string): string {
  const known: Record<string, string> = {
    'us-east-1': 'Z2R2ITUGPM61AM',
    'eu-west-1': 'Z29XKXDKYMONMX',
    'eu-west-2': 'Z1TTGA775OQIYO',
  };
  return known[region] ?? 'Z2SIMRDSENDPNT';
}

// ---- PagerDuty (the alerts the state file keeps; sim/src/pagerduty-model.ts applies events to them) ----

export type PagerDutyAction = 'trigger' | 'acknowledge' | 'resolve';
export type PagerDutyStatus = 'triggered' | 'acknowledged' | 'resolved';

/** One event received for an alert, as sent (without the routing key). */
export interface PagerDutyEventRecord {
  at: string;
  event_action: PagerDutyAction;
  payload?: Record<string, unknown>;
  links?: unknown[];
  images?: unknown[];
  client?: string;
  client_url?: string;
}

export interface PagerDutyAlert {
  id: string;
  /** The routing key with all but its last four characters masked. */
  routingKey: string;
  routingKeyHash: string;
  dedupKey: string;
  status: PagerDutyStatus;
  summary: string;
  source: string;
  severity: string;
  component?: string;
  group?: string;
  class?: string;
  createdAt: string;
  updatedAt: string;
  acknowledgedAt?: string;
  resolvedAt?: string;
  /** Every event applied to this alert, oldest first (at most MAX_EVENTS_PER_ALERT; older ones are dropped). */
  events: PagerDutyEventRecord[];
}
