/** Reading AWS identities from their ARNs, and where a run's calls go (its account's role, its session name). */
import type { AwsLocation, AwsWhere, ResolvedAwsAccess } from '../api';

/** The account of a role ARN (arn:aws:iam::123456789012:role/name), if it is one. */
export function accountOfRole(roleArn: string): string | undefined {
  return /^arn:aws[\w-]*:iam::(\d{12}):role\//.exec(roleArn)?.[1];
}

/** An STS RoleSessionName ([\w+=,.@-], at most 64): the run and the step, as the team's CloudTrail shows it. */
export function sessionName(runId: string, step: string): string {
  return `${runId}-${step}`.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
}

/**
 * Where a step's calls go: the region, and the account's role (or profile) with a session name naming the run
 * and the step. Without `aws`, the plain region: the worker's own credentials.
 */
export function locationFor(region: string, aws: ResolvedAwsAccess | undefined, runId: string, step: string): AwsWhere {
  if (!aws) return region;
  const loc: AwsLocation = { region, ...aws, sessionName: sessionName(runId, step) };
  return loc;
}

/** "role arn:... (account 222222222222)" or "profile x", for status and plan. */
export function describeAccess(aws: ResolvedAwsAccess): string {
  return aws.roleArn ? `role ${aws.roleArn} (account ${accountOfRole(aws.roleArn) ?? '?'})` : `profile ${aws.profile}`;
}

/**
 * The DB instance an identifier names, lower-cased: the identifier itself, or the name at the end of a DB
 * instance ARN (arn:aws:rds:<region>:<account>:db:<name>); undefined for another ARN (a cluster's). RDS
 * identifiers are case-insensitive and stored lower-case, and RDS names an instance by either form:
 * DescribePendingMaintenanceActions' ResourceIdentifier is the ARN, a CloudTrail record holds what the caller
 * sent. The pending-maintenance and fleet activities and the CloudTrail lookup match instances by it.
 */
export function dbInstanceIdOf(identifier: string): string | undefined {
  const id = identifier.toLowerCase();
  if (!id.startsWith('arn:')) return id;
  return /:db:([^:]+)$/.exec(id)?.[1];
}

/** Whether `identifier` (an identifier or an ARN) names the DB instance `instanceId`. */
export function namesDbInstance(identifier: string, instanceId: string): boolean {
  return dbInstanceIdOf(identifier) === instanceId.toLowerCase();
}
