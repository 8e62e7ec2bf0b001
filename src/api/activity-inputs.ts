/**
 * What each activity is given: one input object with named fields (the workflow's call reads
 * `describeInstance({ where, instanceId })`, and the history shows the names). Runs scheduled before this shape
 * passed the same fields as positional arguments, in the order of these declarations; the worker still
 * accepts those (src/activities/positional.ts).
 */
import type { AwsAccess, AwsWhere } from './aws-shapes';
import type { WindowWatchWant } from './estate';
import type { FleetQuery } from './fleet-query';

/**
 * How a waiter polls inside one activity attempt: every `intervalMs`, heartbeating between polls, for at
 * most `attemptMs`; then it ends the attempt with a retryable `NotReady` whose next-retry delay keeps the
 * polls `intervalMs` apart, so a long wait never holds an activity slot for long.
 */
export interface WaitPolling {
  intervalMs: number;
  attemptMs: number;
}

/** What a wait for an instance asks for: a status, a version, the flag; each one left out is not looked at. */
export interface InstanceWant {
  status?: string;
  engineVersion?: string;
  autoMinorVersionUpgrade?: boolean;
}

export interface WeightedCname {
  hostedZoneId: string;
  recordName: string;
  setIdentifier: string;
  weight: number;
  ttlSeconds: number;
  value: string;
}

/** One DB instance in one place (region, account and role): describe, find, inspect, pending maintenance, stop, start. */
export interface InstanceRef {
  where: AwsWhere;
  instanceId: string;
}

/**
 * DescribeDBInstances of one instance. With `restoreWindow`, its restorable window is the one AWS publishes
 * (DescribeDBInstanceAutomatedBackups' RestoreWindow) where it can be read, not the backup-retention estimate.
 */
export interface DescribeInstanceInput extends InstanceRef {
  restoreWindow?: boolean;
}

/** DescribePendingMaintenanceActions of one instance; with its weekly window each dated action says when AWS applies it (`awsAppliesAt`). */
export interface PendingMaintenanceQuery extends InstanceRef {
  preferredMaintenanceWindow?: string;
}

/** DescribeDBEngineVersions' valid upgrade targets of one engine version. */
export interface UpgradeTargetsQuery {
  where: AwsWhere;
  engine: string;
  engineVersion: string;
}

/** A fleet stage's instances in one region and account. */
export interface FleetSearch {
  where: AwsWhere;
  query: FleetQuery;
}

/**
 * One place (region and account) of a fleet stage, read in one activity (readFleetPlace): the account its role
 * reaches when `withAccount`, the instances the query selects, and the upgrade targets of each version found that
 * is not `targetEngineVersion`.
 */
export interface FleetPlaceSearch extends FleetSearch {
  withAccount: boolean;
  targetEngineVersion: string;
}

/** AutoMinorVersionUpgrade turned on or off. */
export interface FlagChange extends InstanceRef {
  enabled: boolean;
}

/** The upgrade to exactly `targetVersion`, now. */
export interface UpgradeNow extends InstanceRef {
  targetVersion: string;
}

/** A wait until the instance is as wanted; with `poll`, polling inside the attempt. */
export interface InstanceWait extends InstanceRef {
  want: InstanceWant;
  poll?: WaitPolling;
}

/** A watch through a maintenance window. */
export interface WindowWatch extends InstanceRef {
  want: WindowWatchWant;
  poll?: WaitPolling;
}

/** A VPC security group added to the instance's groups. */
export interface SecurityGroupAttachment extends InstanceRef {
  securityGroupId: string;
}

/** Who the place's identity is (STS GetCallerIdentity). */
export interface IdentityQuery {
  where: AwsWhere;
}

/** Ingress on `securityGroupId` from `sourceSecurityGroupId` on `port` (`sourceAccount`: the source group's owner, when another account). */
export interface IngressFromGroup {
  where: AwsWhere;
  securityGroupId: string;
  sourceSecurityGroupId: string;
  port: number;
  sourceAccount?: string;
}

/** One security group in one place. */
export interface SecurityGroupRef {
  where: AwsWhere;
  groupId: string;
}

/** A hosted zone, read with the zone's identity (`access`; the worker's own when absent). */
export interface HostedZoneRef {
  hostedZoneId: string;
  access?: AwsAccess;
}

/** The weighted CNAME with that set identifier. */
export interface WeightedCnameRef extends HostedZoneRef {
  recordName: string;
  setIdentifier: string;
}

/** The record UPSERTed as given. */
export interface WeightedCnameUpsert {
  record: WeightedCname;
  access?: AwsAccess;
}

/** A Route 53 change waited for until INSYNC. */
export interface ChangeWait {
  changeId: string;
  access?: AwsAccess;
  poll?: WaitPolling;
}

/** TestDNSAnswer for a record. */
export interface DnsAnswerQuery extends HostedZoneRef {
  recordName: string;
}

/** The CNAME of `name` asked of these resolvers (ip or ip:port). */
export interface CnameLookup {
  name: string;
  resolvers: string[];
}

/** A scheduled maintenance marked completed with a cancellation message. */
export interface MaintenanceCancellation {
  incidentId: string;
  reason: string;
}

/** One GET, healthy when 2xx within the timeout. */
export interface HealthCheck {
  url: string;
  timeoutMs: number;
}

/** CreateBlueGreenDeployment for one instance (found by `name` instead when it exists: a retry creates nothing). */
export interface BlueGreenCreate extends InstanceRef {
  /** BlueGreenDeploymentName: unique per account and region (domain/blue-green.ts names it after campaign and instance). */
  name: string;
  targetEngineVersion: string;
  targetParameterGroup?: string;
  tags: Record<string, string>;
}

export interface BlueGreenRef {
  where: AwsWhere;
  deploymentId: string;
}

/** Waits while the deployment's status is one of `while` (PROVISIONING, SWITCHOVER_IN_PROGRESS); returns it at any other. */
export interface BlueGreenWait extends BlueGreenRef {
  while: string[];
  poll?: WaitPolling;
}

export interface BlueGreenSwitchover extends BlueGreenRef {
  timeoutSeconds: number;
  /**
   * The latest instant (ISO) the switchover may start so that it ends in its window: past it the activity sends nothing
   * and fails with SwitchoverTooLate (RDS refuses a switchover while an instance is not available, e.g. busy with
   * the window's own maintenance, and retrying it must not carry the outage past the announced window).
   */
  notAfter?: string;
  /** Switch a SWITCHOVER_FAILED deployment over again: only when the team decided so after the failure. */
  retryAfterFailure?: boolean;
}
