/**
 * The restore itself (runbook: "Restoring a database"): a security group of the restored instance's own
 * for the bastion, RestoreDBInstanceToPointInTime with the source's settings (tagged with this restore's
 * id, so a retry or a rerun never restores twice), and the long wait until it is available.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { InstanceInfo } from '../../api';
import { accountOfRole } from '../../domain/aws-identity';
import { formatDuration } from '../../domain/duration';
import { iso, nowMs } from '../shared/clock';
import { isActivityTimeout } from '../shared/failures';
import { restoreSecurityGroupName } from './follow-ups';
import { RESTORE_OWNER_TAG_KEY, type RestoreRun } from './run';
import { AVAILABLE } from '../../domain/instance-status';

/** Restores of large databases take hours; past a day something is wrong and a human should look. */
const RESTORE_DEADLINE_MS = 24 * 3600_000;

/**
 * The restored instance's own security group, in the source's VPC, letting the bastion in on the DB
 * port (runbook: module.rds_restore.db_security_group_id). Made before the restore so the instance is
 * created with it; no group the source uses is touched. Kept afterwards, like the instance.
 */
export async function createRestoreSecurityGroup(r: RestoreRun): Promise<string | undefined> {
  const { spec, status } = r;
  if (!spec.bastion) return undefined;
  const groupName = restoreSecurityGroupName(spec.targetInstanceId);
  const group = await r.aws('restore-security-group', () =>
    r.a.ensureSecurityGroup({
      region: r.where(),
      vpcId: r.sourceInfo!.vpcId!,
      groupName,
      description: `Bastion access to the restored RDS instance ${spec.targetInstanceId} (rds-orchestrator restore ${spec.restoreId})`,
      ownerTag: { key: RESTORE_OWNER_TAG_KEY, value: spec.restoreId },
      tags: { 'rds-orchestrator:db-instance': spec.targetInstanceId },
    }),
  );
  status.target.securityGroupId = group.groupId;
  r.step(group.changed ? 'security-group-created' : 'security-group-found', group.detail);
  // A bastion group in another account is named with its owner (the VPCs must be peered for it to work).
  // Its owner as preflight read it; a profile names no account, and a rule without it looks for the group in ours.
  const bastionAccount = r.bastionOwner ?? (spec.bastion.aws?.roleArn ? accountOfRole(spec.bastion.aws.roleArn) : undefined);
  const rule = await r.aws('bastion-ingress', () => r.a.allowIngressFromSecurityGroup({ where: r.where(), securityGroupId: group.groupId, sourceSecurityGroupId: spec.bastion!.securityGroupId, port: spec.bastion!.port, sourceAccount: bastionAccount }));
  r.step('bastion-ingress', `${group.groupId} (${groupName}) from ${spec.bastion.securityGroupId} on ${spec.bastion.port}: ${rule.detail}`);
  return group.groupId;
}

/** RestoreDBInstanceToPointInTime (unless this restore already exists), then wait, for hours if need be, until available. */
export async function restoreToPointInTime(r: RestoreRun, alreadyRestored: boolean, securityGroupId: string | undefined): Promise<void> {
  const { spec, status } = r;
  r.setState('restoring');
  if (!alreadyRestored) {
    // No compensation: the restored instance is what the user asked for, and instances are never deleted.
    const started = await r.aws('restore', () =>
      r.a.restoreToPointInTime({
        region: r.where(),
        sourceInstanceId: spec.source.instanceId,
        targetInstanceId: spec.targetInstanceId,
        restoreTime: spec.restoreTime === 'latest' ? undefined : spec.restoreTime,
        copySourceSettings: spec.copySourceSettings,
        ownerTag: { key: RESTORE_OWNER_TAG_KEY, value: spec.restoreId },
        ...(securityGroupId ? { extraSecurityGroupIds: [securityGroupId] } : {}),
      }),
    );
    r.step(started.changed ? 'restore-started' : 'restore-found', started.detail);
  }
  r.restoreRequested = true;
  const deadline = nowMs() + RESTORE_DEADLINE_MS;
  r.setState('restoring', { kind: 'aws', description: `${spec.targetInstanceId} to become available (restores take hours)`, until: iso(deadline) });
  r.step('waiting-for-restore', `polling every ${formatDuration(spec.pollIntervalMs)} until ${iso(deadline)}`);
  let info: InstanceInfo;
  try {
    info = await r.waitUntil('waiting-for-restore', deadline, (w) => w.waitForInstance({ where: r.where(), instanceId: spec.targetInstanceId, want: { status: AVAILABLE } }));
  } catch (err) {
    if (!isActivityTimeout(err)) throw err;
    throw ApplicationFailure.nonRetryable(
      `${spec.targetInstanceId} was not available ${formatDuration(RESTORE_DEADLINE_MS)} after the restore started; check its status and the RDS events in the console. The instance is kept.`,
      'RestoreTimedOut',
    );
  }
  r.targetInfo = info;
  status.target.endpoint = info.endpoint?.address;
  r.setState('restoring');
  r.step('restore-available', `${spec.targetInstanceId} is available at ${info.endpoint?.address}:${info.endpoint?.port}`);
  await r.notify('stage-completed', `${spec.targetInstanceId} (restored from ${spec.source.instanceId} at ${spec.restoreTime}) is available at ${info.endpoint?.address}`, {
    endpoint: info.endpoint?.address,
  });
}

/**
 * Since LEAST_ACCESS_AND_SAFE_CUTOVER_PATCH: makes sure the restore's own group is attached (a rerun may
 * find an instance restored without it). Before: a rule on the restored instance's first group, which
 * is a group it shares with the source.
 */
export async function allowBastion(r: RestoreRun): Promise<void> {
  const { spec, status } = r;
  if (!spec.bastion) return;
  if (r.safeCutover) {
    const groupId = status.target.securityGroupId!;
    const attached = await r.aws('attach-security-group', () => r.a.attachSecurityGroup({ where: r.where(), instanceId: spec.targetInstanceId, securityGroupId: groupId }));
    r.step('security-group-attached', attached.detail);
    return;
  }
  const sg = r.targetInfo?.vpcSecurityGroupIds[0];
  if (!sg) {
    const text = `${spec.targetInstanceId} has no VPC security group, so bastion access could not be added; add ingress from ${spec.bastion.securityGroupId} on port ${spec.bastion.port} by hand.`;
    r.step('bastion-skipped', text);
    status.followUps.push(text);
    return;
  }
  const rule = await r.aws('bastion-ingress', () => r.a.allowIngressFromSecurityGroup({ where: r.where(), securityGroupId: sg, sourceSecurityGroupId: spec.bastion!.securityGroupId, port: spec.bastion!.port, sourceAccount: r.bastionOwner }));
  r.step('bastion-ingress', `${sg} from ${spec.bastion.securityGroupId} on ${spec.bastion.port}: ${rule.detail}`);
}
