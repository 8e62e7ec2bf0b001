/**
 * What people must do after a restore (runbook: import into Terraform, update rds_route53, decide about
 * the stopped instance, reconcile stranded writes), as texts built from the run. No side effects.
 */
import type { WeightedCname } from '../../api';
import { iso } from '../shared/clock';
import type { RestoreRun } from './run';

/** RDS starts a stopped instance again on its own after seven days. */
const AUTO_START_AFTER_MS = 7 * 86_400_000;

/** The restored instance's own security group (group names may be up to 255 characters; ids are at most 63). */
export function restoreSecurityGroupName(targetInstanceId: string): string {
  return `rds-restore-${targetInstanceId}`;
}

/** The exact AWS CLI command that puts a record back by hand, for a rollback that could not. */
export function upsertByHand(r: WeightedCname): string {
  const batch = {
    Changes: [
      {
        Action: 'UPSERT',
        ResourceRecordSet: { Name: r.recordName, Type: 'CNAME', SetIdentifier: r.setIdentifier, Weight: r.weight, TTL: r.ttlSeconds, ResourceRecords: [{ Value: r.value }] },
      },
    ],
  };
  return `point ${r.recordName} (set identifier ${r.setIdentifier}, hosted zone ${r.hostedZoneId}) at ${r.value} with TTL ${r.ttlSeconds}s: \`aws route53 change-resource-record-sets --hosted-zone-id ${r.hostedZoneId} --change-batch '${JSON.stringify(batch)}'\`.`;
}

function terraformRestoreBlock(r: RestoreRun): string {
  const { spec } = r;
  const time = spec.restoreTime === 'latest' ? 'use_latest_restorable_time = true' : `restore_time = "${spec.restoreTime}"`;
  return `module "rds_restore" { db_identifier = "${spec.targetInstanceId}", restore_to_point_in_time = { source_db_instance_identifier = "${spec.source.instanceId}", ${time} } }`;
}

function importFollowUp(r: RestoreRun): string {
  const { spec, status } = r;
  let bastion = '';
  if (spec.bastion && status.target.securityGroupId) {
    bastion = ` and its security group ${status.target.securityGroupId} (${restoreSecurityGroupName(spec.targetInstanceId)}, created for it with the bastion rule from ${spec.bastion.securityGroupId} on port ${spec.bastion.port}; module.rds_restore.db_security_group_id)`;
  } else if (spec.bastion) {
    bastion = ` and the bastion ingress (allowed_services_sg_ids entry { "name" : "rds_restore", "sg_id" : module.rds_restore.db_security_group_id, "port" : ${spec.bastion.port} })`;
  }
  return `Import the console-made changes into the Terraform state (tfmigrate or manually): the restored instance as ${terraformRestoreBlock(r)} in new-migration-resources.tf${bastion}.`;
}

export function restoredInstanceKept(r: RestoreRun): string {
  const { spec, status } = r;
  const sg = status.target.securityGroupId ? `; so is its security group ${status.target.securityGroupId}` : '';
  return `${spec.targetInstanceId} is kept, never deleted by this workflow${status.target.endpoint ? ` (${status.target.endpoint})` : ''}${sg}; it keeps running and costs money until someone decides to remove it (deleting RDS instances in production needs the service control policy lifted).`;
}

export function strandedWrites(r: RestoreRun, s: { instanceId: string; from: string; to: string }): string {
  const port = r.targetInfo?.endpoint?.port ?? 5432;
  return (
    `The rollback came after the CNAME switch: writes the applications made to ${s.instanceId} between ${s.from} and ${s.to} (plus cached DNS answers) are only on ${s.instanceId}, not on ${r.spec.source.instanceId}. ` +
    `Find and reconcile them before anything else, e.g. from the bastion: \`pg_dump -h ${r.status.target.endpoint} -p ${port} -U <user> -d <database> --data-only -t <table>\` and compare with ${r.spec.source.instanceId}.`
  );
}

export function restoreOnly(r: RestoreRun): string[] {
  const { spec, status } = r;
  const port = r.targetInfo?.endpoint?.port ?? 5432;
  return [
    `Extract what you need with pg_dump and load it into ${spec.source.instanceId} (usually better than a cutover), e.g. from the bastion: \`pg_dump -h ${status.target.endpoint} -p ${port} -U <user> -d <database> -t <table> --data-only > extract.sql\`.`,
    importFollowUp(r),
    `${spec.targetInstanceId} keeps running and costs money; remove it deliberately once the data is recovered (this workflow never deletes instances${status.target.securityGroupId ? ` nor its security group ${status.target.securityGroupId}` : ''}).`,
  ];
}

/**
 * After an extract: where the dump is and how to load it, what the repair wrote, and the restored instance
 * that still runs (and costs money) until someone removes it by hand.
 */
export function afterExtract(r: RestoreRun): string[] {
  const { spec, status } = r;
  const e = spec.extract!;
  const port = r.sourceInfo?.endpoint?.port ?? 5432;
  const user = e.database.username ?? '<master user>';
  const list: string[] = [];
  const dump = status.extract?.dump;
  if (dump) {
    list.push(
      `The dump of ${e.database.database} from ${spec.targetInstanceId} is ${dump.path} (${dump.sizeBytes} bytes, sha256 ${dump.sha256}). ` +
        `Load what was lost into ${spec.source.instanceId} once a second developer has reviewed it, e.g. from the bastion: \`pg_restore -h ${status.source.endpoint ?? spec.source.instanceId} -p ${port} -U ${user} -d ${e.database.database} --data-only -t <table> ${dump.path}\`.`,
    );
  }
  const written = status.extract?.repair?.written;
  if (written) {
    const rows = written.reduce((n, t) => n + t.inserted + t.updated, 0);
    list.push(`${rows} row(s) were written into ${spec.source.instanceId} (${written.map((t) => `${t.table} ${t.inserted + t.updated}`).join(', ')}) at ${status.extract!.repair!.committedAt}; check the applications that own those tables.`);
  }
  const sg = status.target.securityGroupId ? ` and then its security group: \`aws ec2 delete-security-group --group-id ${status.target.securityGroupId}\`` : '';
  list.push(
    `${spec.targetInstanceId} is still running and costs money; this workflow never deletes instances. Once the data is recovered, remove it by hand, keeping a final snapshot: ` +
      `\`aws rds delete-db-instance --db-instance-identifier ${spec.targetInstanceId} --final-db-snapshot-identifier ${spec.targetInstanceId}-final\`${sg}.`,
  );
  return list;
}

/**
 * What a restore does not carry over to the copy, which after a cutover is the production instance:
 * - the maintenance window (the call takes none: RDS chooses one) and the backup window (its default "selected at
 *   random from an 8-hour block"): upgrade campaigns and status-page notices are planned around the production window;
 * - the resource id IAM database authentication policies name (rds-db:connect on dbuser:<DbiResourceId>/<user>): the
 *   copy has its own, so users who log in with IAM tokens are refused until the policies name it;
 * - Performance Insights and Enhanced Monitoring (no restore parameter).
 */
function leftBehindByTheRestore(r: RestoreRun): string[] {
  const was = r.sourceInfo;
  const is = r.targetInfo;
  if (!was || !is) return [];
  const { spec } = r;
  const copy = spec.targetInstanceId;
  const source = spec.source.instanceId;
  const list: string[] = [];
  const differs = (a: string | undefined, b: string | undefined): a is string => a !== undefined && b !== undefined && a.toLowerCase() !== b.toLowerCase();
  const windows = [
    differs(was.preferredMaintenanceWindow, is.preferredMaintenanceWindow) && { what: 'maintenance', was: was.preferredMaintenanceWindow, is: is.preferredMaintenanceWindow },
    differs(was.preferredBackupWindow, is.preferredBackupWindow) && { what: 'backup', was: was.preferredBackupWindow, is: is.preferredBackupWindow },
  ].filter((w): w is { what: string; was: string; is: string } => Boolean(w));
  if (windows.length) {
    const flags = windows.map((w) => `--preferred-${w.what}-window ${w.was}`).join(' ');
    list.push(
      `${copy} has the ${windows.map((w) => `${w.what} window ${w.is}`).join(' and ')} RDS chose for it, not ${source}'s (${windows.map((w) => w.was).join(', ')}); ` +
        `upgrade campaigns and status-page notices are planned around the production maintenance window. Set ${windows.length > 1 ? 'them together (they must not overlap)' : 'it'}: ` +
        `\`aws rds modify-db-instance --db-instance-identifier ${copy} ${flags}\` (or in module.rds_restore).`,
    );
  }
  if (was.iamDatabaseAuthentication && was.resourceId && is.resourceId && was.resourceId !== is.resourceId) {
    list.push(
      `Users who log in with IAM authentication tokens are refused by ${copy} until their IAM policies allow rds-db:connect on its resource id ${is.resourceId}: ` +
        `the policies name ${source}'s (arn:aws:rds-db:${r.region}:<account>:dbuser:${was.resourceId}/<user>).`,
    );
  }
  const monitoring = [
    was.performanceInsights && !is.performanceInsights ? 'Performance Insights' : undefined,
    was.monitoringIntervalSeconds && !is.monitoringIntervalSeconds ? `Enhanced Monitoring (every ${was.monitoringIntervalSeconds}s)` : undefined,
  ].filter((m): m is string => m !== undefined);
  if (monitoring.length) {
    list.push(`${copy} runs without ${monitoring.join(' and ')}, which ${source} had (a restore does not carry them over): turn ${monitoring.length > 1 ? 'them' : 'it'} on (module.rds_restore, or aws rds modify-db-instance).`);
  }
  return list;
}

export function afterCutover(r: RestoreRun): string[] {
  const { spec, status } = r;
  const c = spec.cutover!;
  const list = [
    `${importFollowUp(r).replace(/\.$/, '')}, and the Route 53 change of ${c.recordName}.`,
    `Update module "rds_route53" so the record "${c.recordName}" points at module.rds_restore.host (weight ${r.record?.weight ?? c.weight}), and the output security_group_ids "rds" = module.rds_restore.db_security_group_id; then run the environment and the application Terraform (ideally via Concourse).`,
    `${spec.source.instanceId} is stopped, not deleted. RDS starts a stopped instance again after 7 days${r.oldStoppedMs !== undefined ? ` (around ${iso(r.oldStoppedMs + AUTO_START_AFTER_MS)})` : ''}: decide before then whether to keep it stopped (stop it again) or remove it; never delete it before ${spec.targetInstanceId} is confirmed good.`,
  ];
  if (r.ttlLoweredInsyncMs !== undefined && r.originalTtlSeconds !== undefined) {
    // Route 53 gives the weighted records of one name and type one TTL: lowering ours lowered the others' too.
    list.push(
      `${c.recordName} still has the lowered TTL of ${r.record?.ttlSeconds}s; set it back to the original ${r.originalTtlSeconds}s (in the rds_route53 Terraform) once the cutover is settled. ` +
        `Every weighted record of ${c.recordName} has it: Route 53 gives the records of one weighted name and type the TTL set last.`,
    );
  }
  list.push(...leftBehindByTheRestore(r));
  if (status.target.endpoint) list.push(`The applications now use ${status.target.endpoint}; check their database connections and error rates.`);
  return list;
}
