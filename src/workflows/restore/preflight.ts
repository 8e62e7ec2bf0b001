/**
 * Before anything changes: the source exists, the restore time lies in its restorable window, the new
 * identifier is free (or was made by this very restore: it carries the owner tag), and for a cutover the
 * source can be stopped (it has no read replica and is none), and the zone and the weighted CNAME the
 * applications use exist and point at the source. Touches nothing.
 */
import { ApplicationFailure, patched } from '@temporalio/workflow';
import { locationFor } from '../../domain/aws-identity';
import { readRestoreTime } from '../../domain/restore-source';
import type { InstanceInfo, WeightedCname } from '../../api';
import { PREFLIGHT_ROUNDS } from '../shared/aws-calls';
import { describeError } from '../shared/failures';
import { CUTOVER_SOURCE_STOPPABLE_PATCH, LATEST_NEEDS_BACKUPS_PATCH, RESTORE_OWNER_TAG_KEY, sameHost, type RestoreRun } from './run';
import { unstoppableBecause } from '../../domain/instance-status';

/** Returns true when this restore already exists (a rerun continues without a second restore). */
export async function checkSourceTargetAndRecord(r: RestoreRun): Promise<boolean> {
  const { spec, status } = r;
  const bounded = { maxRounds: PREFLIGHT_ROUNDS };
  r.step('preflight', `source ${r.region}/${spec.source.instanceId}, target identifier ${spec.targetInstanceId}`);
  if (spec.source.aws) {
    const id = await r.aws('preflight', () => r.a.whoAmI({ where: r.where() }), bounded);
    Object.assign(status.source, { account: id.account, role: spec.source.aws.roleArn ?? `profile ${spec.source.aws.profile}` });
    r.step('account-checked', `source account ${id.account} as ${id.arn}`);
  }
  let source: InstanceInfo;
  try {
    // The restorable window as AWS publishes it, to check a restore time (an input only: the recorded steps stay the same).
    const restoreWindow = spec.restoreTime !== 'latest';
    source = await r.aws('preflight', () => r.a.describeInstance({ where: r.where(), instanceId: spec.source.instanceId, ...(restoreWindow ? { restoreWindow } : {}) }), bounded);
  } catch (err) {
    if (err instanceof ApplicationFailure && err.type === 'AwsUnavailable') throw err;
    throw ApplicationFailure.nonRetryable(
      `Source instance ${spec.source.instanceId} in ${r.region}: ${describeError(err)}. Check source.region and source.instanceId; nothing was changed.`,
      'InstanceNotFound',
    );
  }
  r.sourceInfo = source;
  status.source.endpoint = source.endpoint?.address;

  const existing = await r.aws('preflight', () => r.a.findInstance({ where: r.where(), instanceId: spec.targetInstanceId }), bounded);
  const ours = existing !== undefined && existing.tags[RESTORE_OWNER_TAG_KEY] === spec.restoreId;
  if (existing && !ours) {
    const owner = existing.tags[RESTORE_OWNER_TAG_KEY];
    throw ApplicationFailure.nonRetryable(
      `An RDS instance named ${spec.targetInstanceId} already exists in ${r.region} (${existing.status}) and was not created by restore ${spec.restoreId}` +
        `${owner ? ` (it belongs to restore ${owner})` : ''}. Pick another targetInstanceId, e.g. "${spec.targetInstanceId.slice(0, 50)}-${spec.restoreTime === 'latest' ? 'latest' : spec.restoreTime.slice(0, 10)}"; nothing was changed.`,
      'IdentifierTaken',
    );
  }
  if (ours) {
    r.targetInfo = existing;
    status.target.endpoint = existing.endpoint?.address;
    r.step('restore-found', `${spec.targetInstanceId} already exists (${existing.status}) with ${RESTORE_OWNER_TAG_KEY}=${spec.restoreId}; continuing without a second restore`);
  } else {
    checkRestoreWindow(r, source);
  }
  if (r.safeCutover && spec.bastion && !spec.copySourceSettings) {
    throw ApplicationFailure.nonRetryable(
      'bastion needs copySourceSettings: the restored instance must live in the source\'s VPC (its subnet group) for the security group created for it there; ' +
        'remove copySourceSettings: false, or leave out bastion and add access by hand. Nothing was changed.',
      'InvalidSpec',
    );
  }
  if (r.safeCutover && spec.bastion && !source.vpcId) {
    throw ApplicationFailure.nonRetryable(
      `${spec.source.instanceId} reports no VPC (DBSubnetGroup.VpcId), so no security group can be created for the restored instance's bastion access; leave out bastion and add access by hand. Nothing was changed.`,
      'InvalidState',
    );
  }

  if (spec.bastion && r.bastionChecked) await checkBastion(r);

  if (spec.cutover) {
    const c = spec.cutover;
    const unstoppable = unstoppableBecause(source);
    if (unstoppable && patched(CUTOVER_SOURCE_STOPPABLE_PATCH)) {
      throw ApplicationFailure.nonRetryable(
        `The cutover stops ${spec.source.instanceId} so that no connection to it lingers, but ${unstoppable} (RDS User Guide, "Limitations of stopping your DB instance"). ` +
          `Restore without cutover and move the applications by hand, or start again once ${spec.source.instanceId} is no read replica and has none; nothing was changed.`,
        'InvalidState',
      );
    }
    if (r.safeCutover) {
      // Only specs with accounts (which no run started before them has) ask which account the zone is in.
      const zoneAccount = c.aws ? await r.aws('preflight', () => r.a.whoAmI({ where: { region: 'us-east-1', ...r.zoneAccess() } }), bounded) : undefined;
      r.zone = await r.aws('preflight', () => r.a.describeHostedZone({ hostedZoneId: c.hostedZoneId, access: r.zoneAccess() }), bounded);
      status.cutover = { recordName: c.recordName, zone: r.zone.privateZone ? 'private' : 'public' };
      if (zoneAccount) Object.assign(status.cutover, { account: zoneAccount.account, role: c.aws!.roleArn ?? `profile ${c.aws!.profile}` });
      const how = r.zone.privateZone
        ? `private zone ${r.zone.name}: verified by INSYNC and the record${c.resolvers.length ? `, and a lookup through ${c.resolvers.join(', ')}` : ' (no cutover.resolvers: no DNS lookup)'}`
        : `public zone ${r.zone.name}: verified by INSYNC, the record and TestDNSAnswer${c.resolvers.length ? `, and a lookup through ${c.resolvers.join(', ')}` : ''}`;
      r.step('zone-checked', how);
    }
    const record = await r.aws('preflight', () => r.a.getWeightedCname({ hostedZoneId: c.hostedZoneId, recordName: c.recordName, setIdentifier: c.setIdentifier, access: r.zoneAccess() }), bounded);
    checkRecord(r, record, existing && ours ? existing.endpoint?.address : undefined);
  }
  r.step('preflight-passed');
  return ours;
}

/**
 * The bastion's account is reached as its role says (assumed now, like every other role, so an AccessDenied
 * names it before anything changes), and the bastion's security group exists there. A group in another
 * account is referenced with its owner by the ingress rule (the VPCs must be peered).
 */
async function checkBastion(r: RestoreRun): Promise<void> {
  const { spec } = r;
  const b = spec.bastion!;
  const bounded = { maxRounds: PREFLIGHT_ROUNDS };
  const where = b.aws ? locationFor(r.region, b.aws, spec.restoreId, 'bastion') : r.where();
  if (b.aws) {
    const id = await r.aws('preflight', () => r.a.whoAmI({ where }), bounded);
    r.step('account-checked', `bastion account ${id.account} as ${id.arn}`);
  }
  const group = await r.aws('preflight', () => r.a.describeSecurityGroup({ where, groupId: b.securityGroupId }), bounded);
  // Its owner, read here whatever the access (a role or a profile): the ingress rule names it (UserId) across accounts.
  if (b.aws) r.bastionOwner = group.ownerId;
  r.step('bastion-checked', `${group.groupId} (${group.groupName}${group.vpcId ? `, ${group.vpcId}` : ''}) in account ${group.ownerId}`);
}

function checkRestoreWindow(r: RestoreRun, source: InstanceInfo): void {
  const { spec } = r;
  if (spec.restoreTime === 'latest') {
    // RDS refuses it (PointInTimeRestoreNotEnabled: "a DB instance with BackupRetentionPeriod equal to 0").
    if (source.backupRetentionPeriodDays === 0 && patched(LATEST_NEEDS_BACKUPS_PATCH)) {
      throw ApplicationFailure.nonRetryable(
        `${spec.source.instanceId} in ${r.region} keeps no automated backups (BackupRetentionPeriod 0), so RDS has no point in time to restore it to. ` +
          'Restore from a snapshot by hand, or turn on automated backups (they restore only from the time they start); nothing was changed.',
        'RestoreTimeOutOfRange',
      );
    }
    r.step('restore-time', `latest restorable time${source.latestRestorableTime ? ` (now ${source.latestRestorableTime})` : ''}`);
    return;
  }
  const reading = readRestoreTime(source, Date.parse(spec.restoreTime));
  // The window's start is AWS's (DescribeDBInstanceAutomatedBackups) unless the reading says why it is an estimate.
  const estimated = source.restoreWindowEstimated ? ` (its start estimated from the backup retention: ${source.restoreWindowEstimated})` : '';
  if (reading.kind !== 'inside') {
    const window = reading.kind === 'outside' ? `${reading.earliest} to ${reading.latest}${estimated}` : 'none (automated backups are off)';
    throw ApplicationFailure.nonRetryable(
      `Restore time ${spec.restoreTime} is outside the restorable window of ${spec.source.instanceId} in ${r.region}: ${window}. ` +
        'Choose a restoreTime inside that window, or use "latest" for the latest restorable time; nothing was changed.',
      'RestoreTimeOutOfRange',
    );
  }
  r.step('restore-time', `${spec.restoreTime} is inside the restorable window ${reading.earliest} to ${reading.latest}${estimated}`);
}

/** The record must exist and point at the source (or, on a rerun that already switched, at the target). */
export function checkRecord(r: RestoreRun, record: WeightedCname | undefined, targetEndpoint: string | undefined): WeightedCname {
  const c = r.spec.cutover!;
  const where = `${c.recordName} (set identifier ${c.setIdentifier}, hosted zone ${c.hostedZoneId})`;
  if (!record) {
    throw ApplicationFailure.nonRetryable(
      `There is no weighted CNAME ${where}. The cutover switches the existing record the applications use: check cutover.hostedZoneId, recordName and setIdentifier, or leave out cutover to only restore.`,
      'InvalidState',
    );
  }
  const sourceEndpoint = r.status.source.endpoint;
  if (!sameHost(record.value, sourceEndpoint) && !sameHost(record.value, targetEndpoint)) {
    throw ApplicationFailure.nonRetryable(
      `${where} points at ${record.value}, not at the source ${r.spec.source.instanceId} (${sourceEndpoint ?? 'no endpoint'})` +
        `${targetEndpoint ? ` nor at the restored ${r.spec.targetInstanceId} (${targetEndpoint})` : ''}. ` +
        'Someone else changed it, or the spec names the wrong record; check the record and the spec before trying again.',
      'InvalidState',
    );
  }
  return record;
}
