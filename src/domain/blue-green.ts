/**
 * RDS Blue/Green deployments, the rules the campaign and `campaign plan` share (pure): the deployment's name,
 * the green copy's parameter group, what a status means, what AWS names after a switchover, and what is left
 * for people to remove (the campaign never deletes anything).
 *
 * AWS's reference: "Using Amazon RDS Blue/Green Deployments for database updates" (RDS User Guide),
 * CreateBlueGreenDeployment, SwitchoverBlueGreenDeployment and BlueGreenDeployment (RDS API Reference).
 */
import type { BlueGreenDeployment, BlueGreenReport } from '../api';
import { fnv1a } from './hash';

/**
 * What RDS Blue/Green deployments do not support, read from the source before any change (RDS User Guide,
 * "Limitations for blue/green deployments"): CreateBlueGreenDeployment refuses such a source
 * (SourceDatabaseNotSupportedFault).
 * - "Blue/green deployments don't support managing master user passwords with AWS Secrets Manager."
 * - "Blue/green deployments aren't supported for the following features: ... Cross-Region read replicas". RDS lists
 *   a read replica in another Region by its ARN in ReadReplicaDBInstanceIdentifiers. (Read replicas in the same
 *   Region are supported: they are copied into the green environment and switched over with the primary. Cascading
 *   read replicas, also unsupported, are seen only on the replicas themselves: AWS's refusal names them.)
 */
export function blueGreenUnsupported(info: { masterUserSecretArn?: string; readReplicaIds?: string[]; backupRetentionPeriodDays?: number }, region: string): string | undefined {
  // "Enable automated backups on the DB instance" (User Guide, preparing a blue/green deployment): the green copies are
  // read replicas of the blue ones, and RDS makes no read replica of an instance without automated backups.
  if (info.backupRetentionPeriodDays === 0) {
    return 'it keeps no automated backups (BackupRetentionPeriod 0), which an RDS Blue/Green deployment needs (its green copy is a read replica); turn them on first, or use method maintenance-window or apply-now for it';
  }
  if (info.masterUserSecretArn) {
    return 'its master password is managed in Secrets Manager (MasterUserSecret), which RDS Blue/Green deployments do not support; use method maintenance-window or apply-now for it, or stop managing the password in Secrets Manager first';
  }
  const elsewhere = (info.readReplicaIds ?? []).filter((id) => {
    const arnRegion = /^arn:[^:]+:rds:([^:]+):/.exec(id)?.[1];
    return arnRegion !== undefined && arnRegion !== region;
  });
  if (elsewhere.length) {
    return `it has read replicas in another Region (${elsewhere.join(', ')}), which RDS Blue/Green deployments do not support; use method maintenance-window or apply-now for it (its replicas are then upgraded first)`;
  }
  return undefined;
}

/** The tag the campaign writes on its deployments (and AWS copies to nothing else): which campaign made it. */
export const BLUE_GREEN_CAMPAIGN_TAG = 'rds-orchestrator:campaign';

/**
 * Statuses of BlueGreenDeployment.Status (RDS API Reference). A green copy that fails to provision shows
 * INVALID_CONFIGURATION (with the failed task); a switchover AWS rolls back (timeout) or cancels (a guardrail)
 * shows SWITCHOVER_FAILED, nothing renamed.
 */
export const BG = {
  provisioning: 'PROVISIONING',
  available: 'AVAILABLE',
  switchoverInProgress: 'SWITCHOVER_IN_PROGRESS',
  switchoverCompleted: 'SWITCHOVER_COMPLETED',
  switchoverFailed: 'SWITCHOVER_FAILED',
  invalidConfiguration: 'INVALID_CONFIGURATION',
  deleting: 'DELETING',
} as const;

/** BlueGreenDeploymentName: 1–60 characters, a letter first, letters, digits and single hyphens, no trailing hyphen. */
const NAME_MAX = 60;

/**
 * The deployment's name: the campaign and the instance, so a retry (or a rerun of the campaign) finds its own
 * deployment instead of creating another. Shortened with a hash of the whole when it would be too long.
 */
export function blueGreenDeploymentName(campaignId: string, instanceId: string): string {
  const clean = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  let name = `${clean(campaignId)}-${clean(instanceId)}`;
  if (!/^[a-z]/.test(name)) name = `bg-${name}`;
  if (name.length <= NAME_MAX) return name;
  const hash = fnv1a(`${campaignId}/${instanceId}`).toString(16).padStart(8, '0').slice(0, 8);
  return `${name.slice(0, NAME_MAX - 9).replace(/-+$/, '')}-${hash}`;
}

/** arn:<partition>:rds:<region>:<account>:deployment:<id>, from any ARN of the same account and region. */
export function deploymentArn(anyRdsArn: string | undefined, deploymentId: string): string | undefined {
  const m = anyRdsArn ? /^arn:([^:]+):rds:([^:]+):([^:]+):/.exec(anyRdsArn) : null;
  return m ? `arn:${m[1]}:rds:${m[2]}:${m[3]}:deployment:${deploymentId}` : undefined;
}

/** The identifier at the end of an instance ARN (or the identifier itself). */
export function instanceIdOf(arnOrId: string | undefined): string | undefined {
  if (!arnOrId) return undefined;
  const i = arnOrId.lastIndexOf(':db:');
  return i >= 0 ? arnOrId.slice(i + 4) : arnOrId;
}

/** After a switchover AWS renames the old blue `<name>-old1` (`-old2`… when taken). */
export function oldBlueName(instanceId: string): string {
  return `${instanceId}-old1`;
}

/**
 * The old blue's name after a switchover, as the deployment names it: its Source is the renamed instance ("RDS renames
 * the DB instances in the blue environment by appending -oldn to the current name, where n is a number", so `-old2`
 * when an earlier switchover left an `-old1`). `-old1` only when the deployment does not say.
 */
export function oldBlueOf(d: Pick<BlueGreenDeployment, 'sourceArn'>, instanceId: string): string {
  const listed = instanceIdOf(d.sourceArn);
  const prefix = `${instanceId}-old`;
  return listed?.startsWith(prefix) && /^\d+$/.test(listed.slice(prefix.length)) ? listed : oldBlueName(instanceId);
}

/** What a deployment's status means for the campaign. */
export type BlueGreenStanding =
  | { kind: 'provisioning' }
  | { kind: 'available' }
  | { kind: 'switching' }
  | { kind: 'switched' }
  /** SWITCHOVER_FAILED: rolled back or cancelled by AWS; a switchover may be asked again, only by the team's decision. */
  | { kind: 'switch-failed'; what: string }
  | { kind: 'failed'; what: string };

export function standingOfDeployment(d: Pick<BlueGreenDeployment, 'status' | 'statusDetails'>): BlueGreenStanding {
  switch (d.status) {
    case BG.provisioning:
      return { kind: 'provisioning' };
    case BG.available:
      return { kind: 'available' };
    case BG.switchoverInProgress:
      return { kind: 'switching' };
    case BG.switchoverCompleted:
      return { kind: 'switched' };
    case BG.switchoverFailed:
      return { kind: 'switch-failed', what: describeStatus(d) };
    default:
      return { kind: 'failed', what: describeStatus(d) };
  }
}

export function describeStatus(d: Pick<BlueGreenDeployment, 'status' | 'statusDetails'>): string {
  return `${d.status}${d.statusDetails ? ` (${d.statusDetails})` : ''}`;
}

/** The report's view of a deployment: its names, status, tasks and switchover members in one line each. */
export function reportOf(d: BlueGreenDeployment, previous?: BlueGreenReport): BlueGreenReport {
  const green = instanceIdOf(d.targetArn);
  const report: BlueGreenReport = {
    ...previous,
    deploymentId: d.id,
    name: d.name,
    status: d.status,
    tasks: d.tasks.map((t) => `${t.name} ${t.status}`),
    switchover: d.switchover.map((m) => `${instanceIdOf(m.sourceMember) ?? '?'} → ${instanceIdOf(m.targetMember) ?? '?'} ${m.status ?? ''}`.trim()),
  };
  if (d.arn) report.arn = d.arn;
  if (d.statusDetails) report.statusDetails = d.statusDetails;
  else delete report.statusDetails;
  if (d.createTime) report.createdAt = d.createTime;
  // Before the switchover the target is the green copy; after it, the green carries the original name.
  if (green && !previous?.greenInstanceId) report.greenInstanceId = green;
  return report;
}

/**
 * The switchover members (as reportOf lists them: "source → target STATUS") that a completed switchover did not
 * switch over: SwitchoverDetail.Status MISSING_TARGET ("The target resource has been deleted"), SWITCHOVER_FAILED, ...
 * A read replica left so keeps replicating from the old blue (RDS User Guide: a blue instance whose green one was
 * deleted "won't be switched over").
 */
export function membersNotSwitched(report: Pick<BlueGreenReport, 'switchover'> | undefined): string[] {
  return (report?.switchover ?? []).filter((m) => !m.endsWith(' SWITCHOVER_COMPLETED'));
}

/** Tasks AWS has not completed yet ("CREATING_READ_REPLICA_OF_SOURCE IN_PROGRESS"), for the status line. */
export function openTasks(d: Pick<BlueGreenDeployment, 'tasks'>): string[] {
  return d.tasks.filter((t) => t.status !== 'COMPLETED').map((t) => `${t.name} ${t.status}`);
}

/**
 * What stays after a Blue/Green upgrade and costs money until a person removes it, with the exact commands
 * (the campaign never deletes): the old blue instance (billed like the instance it was) and the deployment
 * object (free, but it keeps the pair linked). `switched`: the switchover happened (else the green copy is
 * what is left, e.g. after an abort).
 */
export function blueGreenLeftovers(opts: {
  region: string;
  instanceId: string;
  deploymentId: string;
  greenInstanceId?: string;
  switched: boolean;
  /** The old blue's name as the deployment gave it after the switchover (oldBlueOf). */
  oldInstanceId?: string;
  /** The run stopped while the switchover was in progress (SWITCHOVER_IN_PROGRESS): how it ended is not known. */
  inProgress?: boolean;
  /** What the instance is (class, storage), so the follow-up says what the copy costs. */
  size?: { instanceClass?: string; allocatedStorage?: number; storageType?: string; multiAZ?: boolean };
}): string {
  const { region, instanceId, deploymentId, size } = opts;
  const what = size?.instanceClass ? ` (${size.instanceClass}${size.multiAZ ? ' Multi-AZ' : ''}${size.allocatedStorage ? `, ${size.allocatedStorage} GiB${size.storageType ? ` ${size.storageType}` : ''} storage` : ''})` : '';
  const deleteDeployment = `aws rds delete-blue-green-deployment --region ${region} --blue-green-deployment-identifier ${deploymentId}`;
  if (opts.inProgress) {
    return (
      `Blue/Green deployment ${deploymentId} was switching over when the run stopped: look at its status first ` +
      `(aws rds describe-blue-green-deployments --region ${region} --blue-green-deployment-identifier ${deploymentId}). ` +
      `SWITCHOVER_COMPLETED: ${instanceId} is the upgraded copy and the old blue is ${oldBlueName(instanceId)} (or -old2…, as the deployment's Source names it), billed like ${instanceId}${what} until removed; ` +
      `otherwise nothing was switched and the green copy ${opts.greenInstanceId ?? `of ${instanceId}`} is billed until removed. Remove nothing before you know which.`
    );
  }
  if (opts.switched) {
    const old = opts.oldInstanceId ?? oldBlueName(instanceId);
    return (
      `${instanceId} was switched over by Blue/Green deployment ${deploymentId}; the old blue instance ${old} still runs and is billed like ${instanceId}${what} until it is removed. ` +
      `Once the team is satisfied, remove the deployment (${deleteDeployment}) and then the old instance with a final snapshot ` +
      `(aws rds delete-db-instance --region ${region} --db-instance-identifier ${old} --final-db-snapshot-identifier ${old}-final).`
    );
  }
  const green = opts.greenInstanceId ?? `the green copy of ${instanceId}`;
  return (
    `Blue/Green deployment ${deploymentId} was not switched over; its green copy ${green} still runs and is billed like ${instanceId}${what} until it is removed. ` +
    `To remove both: ${deleteDeployment} --delete-target (this deletes the green instance; ${instanceId} is not touched).`
  );
}
