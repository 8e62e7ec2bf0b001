/**
 * The contract between workflows and activities. Workflows proxy these interfaces; the factories in
 * this folder (createRdsActivities, ...) implement them against the real AWS SDK v3 clients, Statuspage,
 * HTTP and the notification webhook. Everything crossing this boundary is plain JSON data.
 *
 * Idempotency rule for every mutation: read first, act only when the world is not already in the
 * wanted state, and return what was done (`changed: false` when nothing was needed), so a retry after a
 * worker crash never starts a second upgrade, restore or announcement.
 *
 * Waiting rule: `waitFor*` activities check once and throw a retryable ApplicationFailure of type
 * `NotReady` until the state is reached (retry-based polling: no workflow history growth).
 */
import type { AllowedSignersFile } from './common';
import type { CloudTrailActivities, OnCallActivities, WindowWatchOutcome } from './estate';
import type { AwsWhere, BlueGreenDeployment, CallerIdentity, InstanceInfo, PendingMaintenanceAction, UpgradeTarget } from './aws-shapes';
import type {
  BlueGreenCreate, BlueGreenRef, BlueGreenSwitchover, BlueGreenWait, ChangeWait, CnameLookup, DescribeInstanceInput, DnsAnswerQuery, FlagChange, FleetPlaceSearch, FleetSearch, HealthCheck, HostedZoneRef, IdentityQuery, IngressFromGroup, InstanceRef, InstanceWait,
  MaintenanceCancellation, PendingMaintenanceQuery, SecurityGroupAttachment, SecurityGroupRef, UpgradeNow, UpgradeTargetsQuery, WeightedCname, WeightedCnameRef, WeightedCnameUpsert, WindowWatch,
} from './activity-inputs';

export type * from './aws-shapes';
export type * from './activity-inputs';

export type * from './estate';
export type * from './fleet-query';
import type { FleetFound, FleetPlaceFound } from './fleet-query';
import type { DatabaseIdentity, DatabaseIdentityRequest, SqlProbeRequest } from './database';
import type { DumpRequest, DumpResult, RepairCompareRequest, RepairSummary, RepairWriteRequest, RepairWriteResult } from './database';


export interface MutationResult {
  /** false when the world was already in the wanted state and nothing was sent */
  changed: boolean;
  detail: string;
  /** What was sent when changed: the API action ("rds:ModifyDBInstance", "statuspage:create-scheduled-maintenance"). */
  action?: string;
  /** The resource it changed (instance id, security group, record, incident). */
  resource?: string;
  /** The AWS request id of the change that was sent (for the change record and CloudTrail). */
  requestId?: string;
}

export interface RestoreRequest {
  region: AwsWhere;
  sourceInstanceId: string;
  targetInstanceId: string;
  /** ISO instant, or undefined for UseLatestRestorableTime */
  restoreTime?: string;
  copySourceSettings: boolean;
  /** Tag key/value written on the new instance so a retry (or a rerun) recognises its own restore. */
  ownerTag: { key: string; value: string };
  /** Security groups attached besides the source's (when copied): the restore's own group for the bastion. */
  extraSecurityGroupIds?: string[];
}

export interface RdsActivities {
  /** Throws non-retryable `InstanceNotFound` when the instance does not exist. */
  describeInstance(input: DescribeInstanceInput): Promise<InstanceInfo>;
  /** Returns undefined instead of throwing when absent (used to check that an identifier is free). */
  findInstance(input: InstanceRef): Promise<InstanceInfo | undefined>;
  /**
   * The instance as AWS has it now and the valid upgrade targets of the version it runs (DescribeDBInstances,
   * then DescribeDBEngineVersions): what a campaign reads again before each change (one activity, not two).
   */
  inspectInstance(input: InstanceRef): Promise<{ info: InstanceInfo; targets: UpgradeTarget[] }>;
  /** Valid upgrade targets for engine+version from DescribeDBEngineVersions. */
  listUpgradeTargets(input: UpgradeTargetsQuery): Promise<UpgradeTarget[]>;
  listPendingMaintenance(input: PendingMaintenanceQuery): Promise<PendingMaintenanceAction[]>;
  /** A fleet stage's instances in one region and account: DescribeDBInstances and DescribePendingMaintenanceActions, every page, once each. */
  findFleet(input: FleetSearch): Promise<FleetFound>;
  setAutoMinorVersionUpgrade(input: FlagChange): Promise<MutationResult>;
  /**
   * Upgrade now: apply the pending `db-upgrade` action immediately when RDS lists one for the target,
   * otherwise ModifyDBInstance EngineVersion with ApplyImmediately. No-op when already at the target or
   * already upgrading.
   */
  applyUpgradeNow(input: UpgradeNow): Promise<MutationResult>;
  /**
   * Returns the instance once its status matches (and engineVersion when given). Without `poll` it checks
   * once and throws retryable `NotReady`; with `poll` it keeps checking inside the attempt (see WaitPolling).
   */
  waitForInstance(input: InstanceWait): Promise<InstanceInfo>;
  /**
   * Watches an instance through its maintenance window: returns as soon as it is available at the target,
   * its flag is found off (when `want.autoMinorVersionUpgrade`), or it runs a version newer than the target;
   * otherwise polls like waitForInstance (NotReady until the caller's deadline).
   */
  watchMaintenanceWindow(input: WindowWatch): Promise<WindowWatchOutcome>;
  /** Starts RestoreDBInstanceToPointInTime unless an instance with targetInstanceId and ownerTag already exists. */
  restoreToPointInTime(req: RestoreRequest): Promise<MutationResult & { instanceId: string }>;
  stopInstance(input: InstanceRef): Promise<MutationResult>;
  startInstance(input: InstanceRef): Promise<MutationResult>;
  /** Adds a VPC security group to the instance's groups (ModifyDBInstance); no-op when already attached. */
  attachSecurityGroup(input: SecurityGroupAttachment): Promise<MutationResult>;
}

/**
 * RDS Blue/Green deployments (method blue-green). Nothing here deletes: the old blue and the deployment stay
 * until a person removes them (the campaign's follow-ups say how).
 */
export interface BlueGreenActivities {
  /**
   * CreateBlueGreenDeployment of `instanceId` at the target version, unless a deployment of that name exists
   * (then it is returned, `changed: false`). Another active deployment of the instance is refused
   * (non-retryable `InvalidState`, naming it).
   */
  createBlueGreenDeployment(input: BlueGreenCreate): Promise<MutationResult & { deployment: BlueGreenDeployment }>;
  /** Throws non-retryable `BlueGreenDeploymentNotFound` when it does not exist (any more). */
  describeBlueGreenDeployment(input: BlueGreenRef): Promise<BlueGreenDeployment>;
  /** Polls while the status is one of `while`; returns the deployment at any other status (the workflow decides). */
  waitForBlueGreenDeployment(input: BlueGreenWait): Promise<BlueGreenDeployment>;
  /**
   * SwitchoverBlueGreenDeployment when the deployment is AVAILABLE; `changed: false` when a switchover is under
   * way or done. A retry after a switchover AWS rolled back does not switch over again (the team decides).
   * Any other status: non-retryable `InvalidState`.
   */
  switchoverBlueGreenDeployment(input: BlueGreenSwitchover): Promise<MutationResult & { deployment: BlueGreenDeployment }>;
}

export interface SecurityGroupRequest {
  region: AwsWhere;
  vpcId: string;
  groupName: string;
  description: string;
  /** Written on the group; `ownerTag` also tells a retry that an existing group of that name is ours. */
  ownerTag: { key: string; value: string };
  tags?: Record<string, string>;
}

export interface SecurityGroupInfo {
  groupId: string;
  groupName: string;
  vpcId?: string;
  /** The account that owns the group. */
  ownerId: string;
}

export interface StsActivities {
  /** STS GetCallerIdentity with the location's identity: assumes its role (AccessDenied: non-retryable, naming role and account). */
  whoAmI(input: IdentityQuery): Promise<CallerIdentity>;
}

export interface Ec2Activities {
  /** Adds ingress on `securityGroupId` from `sourceSecurityGroupId` on `port`; an existing rule is success. */
  /** `sourceAccount`: the source group's owner when it lives in another account (a cross-account reference). */
  allowIngressFromSecurityGroup(input: IngressFromGroup): Promise<MutationResult>;
  /**
   * Creates the security group, or finds the one a previous attempt created (same name in the VPC and the
   * owner tag); a group of that name owned by someone else is a non-retryable `IdentifierTaken`.
   */
  ensureSecurityGroup(req: SecurityGroupRequest): Promise<MutationResult & { groupId: string }>;
  /** DescribeSecurityGroups for one group; a group that does not exist there is a non-retryable `InvalidInput` naming the group, region and account. */
  describeSecurityGroup(input: SecurityGroupRef): Promise<SecurityGroupInfo>;
}

export interface HostedZoneInfo {
  hostedZoneId: string;
  name: string;
  /** TestDNSAnswer "only supports querying public hosted zones" (Route 53 API reference). */
  privateZone: boolean;
  vpcs: { region: string; vpcId: string }[];
}

export interface Route53Activities {
  /** GetHostedZone: its name, whether it is private, and the VPCs a private zone is associated with. */
  describeHostedZone(input: HostedZoneRef): Promise<HostedZoneInfo>;
  /** The weighted CNAME with that set identifier, or undefined. */
  getWeightedCname(input: WeightedCnameRef): Promise<WeightedCname | undefined>;
  /** UPSERT; returns the change id (or undefined with changed:false when the record already matches). */
  upsertWeightedCname(input: WeightedCnameUpsert): Promise<MutationResult & { changeId?: string }>;
  /** Returns once the change is INSYNC; while PENDING, polls as `poll` says, else throws retryable `NotReady`. */
  waitForChangeInsync(input: ChangeWait): Promise<void>;
  /** Route 53 TestDNSAnswer for the record: what the authoritative servers answer now. */
  testDnsAnswer(input: DnsAnswerQuery): Promise<{ recordData: string[]; responseCode: string }>;
}

export interface DnsLookupResult {
  /** The CNAME targets the resolver answered (empty when the name has no CNAME). */
  cnames: string[];
  /** NOERROR, NXDOMAIN, NODATA, SERVFAIL, TIMEOUT, ...: what the resolver said. */
  responseCode: string;
  resolvers: string[];
}

export interface DnsActivities {
  /** Asks these resolvers (ip or ip:port) for the CNAME of `name`, bypassing the worker's own resolver. */
  lookupCname(input: CnameLookup): Promise<DnsLookupResult>;
}

export interface ScheduledMaintenanceRequest {
  /** Stable key for idempotency, e.g. `${campaignId}/${stage}`; embedded in the incident so a retry finds it. */
  idempotencyKey: string;
  name: string;
  body: string;
  scheduledFor: string; // ISO
  scheduledUntil: string; // ISO
  componentIds?: string[];
  notify: boolean;
  /**
   * A later round of the same announcement (an earlier activity may have created it and lost the answer): the
   * maintenance lists are read too when the search does not find it (the search's index is not promised to be current).
   */
  retried?: boolean;
}

export interface StatuspageActivities {
  /** Creates (or finds the existing) scheduled maintenance with auto in-progress and auto completed. */
  createScheduledMaintenance(req: ScheduledMaintenanceRequest): Promise<MutationResult & { incidentId: string; shortlink?: string }>;
  /** Marks the scheduled maintenance as completed with a cancellation message. Never deletes it. */
  cancelScheduledMaintenance(input: MaintenanceCancellation): Promise<MutationResult>;
}

export interface ProbeRequest {
  url: string;
  ratePerSecond: number;
  requestTimeoutMs: number;
  /** The probe ends on its own once RDS shows the instance available at this version for `settleSeconds`. */
  stopWhen: { region: AwsWhere; instanceId: string; engineVersion: string; settleSeconds: number };
  maxDurationSeconds: number;
}

export interface ProbeResult {
  requests: number;
  failures: number;
  /** Longest continuous run of failures, first failure to next success, in seconds. */
  longestOutageSeconds: number;
  startedAt: string;
  endedAt: string;
  /** true when the probe stopped at maxDurationSeconds rather than on its stop condition */
  timedOut: boolean;
  /** Seconds nobody probed (the worker crashed mid-probe); counted in longestOutageSeconds. */
  unobservedSeconds?: number;
}

export interface ProbeActivities {
  /** Heartbeating availability probe (a low fixed rate of GETs, like a vegeta run); resumes its counts after a retry. */
  runAvailabilityProbe(req: ProbeRequest): Promise<ProbeResult>;
  /** One GET; true when it answers 2xx within the timeout. */
  checkHealth(input: HealthCheck): Promise<{ healthy: boolean; detail: string }>;
}

export type NotificationEvent =
  | 'stage-started'
  | 'stage-completed'
  | 'approval-needed'
  | 'decision-needed'
  | 'reminder'
  | 'escalation'
  | 'failed'
  | 'aborted'
  | 'completed'
  | 'flag-reverted'
  | 'infra-change-needed';

export interface Notification {
  workflowId: string;
  event: NotificationEvent;
  /** One line for humans (Slack `text`). */
  text: string;
  stage?: string;
  details?: Record<string, unknown>;
}

export interface NotifyActivities {
  /** POSTs a Slack-compatible JSON payload to the configured webhook; logs only when none is set. */
  notify(n: Notification): Promise<{ delivered: boolean }>;
}

export interface IdentityActivities {
  /** The workers' allowed-signers list (ORCHESTRATOR_ALLOWED_SIGNERS), or undefined: identities unverified. */
  readAllowedSigners(): Promise<AllowedSignersFile | undefined>;
}

/** The database itself (src/api/database.ts): each activity reads the password where the access names it, when it connects. */
export interface DatabaseActivities {
  /** SQL availability probe: connects and runs `SELECT 1` at a fixed low rate, measured like runAvailabilityProbe. */
  runSqlAvailabilityProbe(req: SqlProbeRequest): Promise<ProbeResult>;
  /** What the database at `host` (or the instance's endpoint) says it is: system_identifier, version, address. */
  describeDatabase(req: DatabaseIdentityRequest): Promise<DatabaseIdentity>;
  /**
   * The runbook's `pg_dump -Fc` of the restored instance into `directory/fileName` (heartbeats its progress; stopped
   * when cancelled). A retry that finds the finished file with its manifest's checksum returns it (`written: false`).
   */
  dumpDatabase(req: DumpRequest): Promise<DumpResult>;
  /** Read-only, one snapshot per side: the restored rows the original lacks or has otherwise, by primary key, written to a difference file. */
  compareRows(req: RepairCompareRequest): Promise<RepairSummary>;
  /**
   * Writes the approved difference into the original in one transaction (refusing a file whose sha256 is not the
   * summary's) and records `repairId` in rds_orchestrator.repairs in it: a retry writes nothing twice.
   */
  writeRows(req: RepairWriteRequest): Promise<RepairWriteResult>;
}

/** Reads of STS and RDS together (src/activities/fleet-place.ts). */
export interface FleetPlaceActivities {
  /**
   * One place of a fleet stage in one activity (a campaign's preflight reads dozens of places; three activities
   * each grew its history by three times as many events): whoAmI when asked, findFleet, then listUpgradeTargets of
   * each version found that is not the target, one after the other (one account and region, one RDS budget).
   */
  readFleetPlace(input: FleetPlaceSearch): Promise<FleetPlaceFound>;
}

export type Activities = RdsActivities &
  FleetPlaceActivities &
  BlueGreenActivities &
  StsActivities &
  CloudTrailActivities &
  OnCallActivities &
  Ec2Activities &
  Route53Activities &
  DnsActivities &
  StatuspageActivities &
  ProbeActivities &
  NotifyActivities &
  IdentityActivities &
  DatabaseActivities;

/**
 * An AWS call that got no usable answer (the `details[0]` of an `AwsCallFailed` failure): what was
 * called, where, and what came back. Shown in the workflows' status while they retry.
 */
export interface AwsCallProblem {
  operation: string;
  /** The URL the request went to, when known. */
  endpoint?: string;
  region?: string;
  /** aws: an AWS error answer; not-aws: an answer that is not AWS's (HTML page, unparseable body); network / timeout: no answer. */
  kind: 'aws' | 'not-aws' | 'network' | 'timeout' | 'unknown';
  httpStatus?: number;
  error: string;
}

/** ApplicationFailure types thrown by activities. */
export const FailureTypes = {
  NotReady: 'NotReady',
  InstanceNotFound: 'InstanceNotFound',
  InvalidInput: 'InvalidInput',
  InvalidState: 'InvalidState',
  IdentifierTaken: 'IdentifierTaken',
  RestoreTimeOutOfRange: 'RestoreTimeOutOfRange',
  Unauthorized: 'Unauthorized',
  /** A worker setting is wrong (e.g. an unreadable allowed-signers file): fix it on the workers. */
  InvalidConfig: 'InvalidConfig',
  /** RDS refused to upgrade an instance before its read replicas (DBUpgradeDependencyFailure): upgrade them first. */
  UpgradeDependency: 'UpgradeDependency',
  /** A call got no usable answer (throttled, 5xx, no connection, not an AWS response): retryable. */
  AwsCallFailed: 'AwsCallFailed',
  /** pg_dump failed in a way a retry may fix (the connection dropped, the server restarted): retryable. */
  DumpFailed: 'DumpFailed',
  /** A file written earlier is not what was recorded or approved (its sha256 differs): a human must look (non-retryable). */
  ChecksumMismatch: 'ChecksumMismatch',
  /** The database refused the login or has no such database, or its password cannot be read: fix the access (non-retryable). */
  DatabaseAccess: 'DatabaseAccess',
  /** The database did not answer (refused, timed out, starting up, too many connections): retryable. */
  DatabaseUnavailable: 'DatabaseUnavailable',
  /** A Blue/Green switchover not started by its `notAfter` (BlueGreenSwitchover): the window is over (non-retryable). */
  SwitchoverTooLate: 'SwitchoverTooLate',
  /** A Blue/Green deployment the campaign created is gone (deleted by a person): the team decides (non-retryable). */
  BlueGreenDeploymentNotFound: 'BlueGreenDeploymentNotFound',
  /** The instance is in a status RDS does not leave without a person (failed, restore-error, incompatible-…, storage-full): a wait for another ends at once (non-retryable). */
  InstanceStuck: 'InstanceStuck',
} as const;
