/**
 * A raw restore spec resolved into the workflow's input: every field checked, defaults written out.
 */
import { RESOLVED_RESTORE_SPEC, type ResolvedRestoreSpec, type RestoreSpec } from '../api';
import { readDatabaseAccess, readSchemas, readTables } from './database';
import { SpecError } from './errors';
import { DEFAULT_REMINDER_INTERVAL_MS, MIN_REMINDER_INTERVAL_MS, DEFAULT_RESTORE_POLL_INTERVAL_MS, MIN_POLL_INTERVAL_MS, DEFAULT_BASTION_PORT, DEFAULT_CUTOVER_WEIGHT, DEFAULT_CUTOVER_TTL_SECONDS } from './defaults';
import { AllListed, Problems, durationProblems, readAwsAccess, isMissing, parseIsoInstant, readBoolean, readDuration, readId, readInstanceId, readInteger, readObject, readPeople, readAllowedSignersField, readRegion, readString, readStringList, DNS_NAME_PATTERN, HOSTED_ZONE_PATTERN, RESOLVER_PATTERN, SECURITY_GROUP_PATTERN } from './fields';


const RESTORE_FIELDS = [
  'restoreId', 'requester', 'allowedSigners', 'source', 'targetInstanceId', 'restoreTime', 'copySourceSettings', 'bastion', 'cutover', 'extract', 'pollInterval',
] as const satisfies readonly (keyof RestoreSpec)[];
type _RestoreFieldsListed = AllListed<Exclude<keyof RestoreSpec, (typeof RESTORE_FIELDS)[number]>>;

function readCutover(p: Problems, value: unknown, requester: string): ResolvedRestoreSpec['cutover'] {
  if (isMissing(value)) return undefined;
  const c = readObject(p, value, 'cutover', ['hostedZoneId', 'recordName', 'setIdentifier', 'weight', 'ttlSeconds', 'lowerTtlFirstTo', 'approvers', 'reminderInterval', 'resolvers', 'aws', 'database']);
  if (!c) return undefined;
  let hostedZoneId = readString(p, c.hostedZoneId, 'cutover.hostedZoneId', { required: true, example: '"Z0123456789ABCDEFGHIJ"' });
  hostedZoneId = hostedZoneId.replace(/^\/?hostedzone\//i, '');
  if (hostedZoneId && !HOSTED_ZONE_PATTERN.test(hostedZoneId)) {
    p.add('cutover.hostedZoneId', `"${hostedZoneId}" is not a Route 53 hosted zone id (at most 32 characters, no spaces), e.g. "Z0123456789ABCDEFGHIJ"`);
  }
  const recordName = readString(p, c.recordName, 'cutover.recordName', { required: true, example: '"db.example.com"' });
  if (recordName && !DNS_NAME_PATTERN.test(recordName)) p.add('cutover.recordName', `"${recordName}" is not a DNS name, e.g. "db.example.com"`);
  const setIdentifier = readString(p, c.setIdentifier, 'cutover.setIdentifier', { required: true, example: '"restored"' });
  if (setIdentifier.length > 128) p.add('cutover.setIdentifier', `is ${setIdentifier.length} characters; Route 53 allows at most 128`);
  const weight = readInteger(p, c.weight, 'cutover.weight', DEFAULT_CUTOVER_WEIGHT, 0, 255);
  const ttlSeconds = readInteger(p, c.ttlSeconds, 'cutover.ttlSeconds', DEFAULT_CUTOVER_TTL_SECONDS, 0, 2_147_483_647);
  const cutover: NonNullable<ResolvedRestoreSpec['cutover']> = {
    hostedZoneId, recordName, setIdentifier, weight, ttlSeconds,
    approvers: readPeople(p, c.approvers, 'cutover.approvers', requester),
    reminderIntervalMs: readDuration(p, c.reminderInterval, 'cutover.reminderInterval', DEFAULT_REMINDER_INTERVAL_MS, MIN_REMINDER_INTERVAL_MS),
    resolvers: readResolvers(p, c.resolvers),
  };
  const aws = readAwsAccess(p, c.aws, 'cutover.aws');
  if (aws) cutover.aws = aws;
  if (!isMissing(c.database)) {
    const database = readDatabaseAccess(p, c.database, 'cutover.database');
    if (database) cutover.database = database;
  }
  if (!isMissing(c.lowerTtlFirstTo)) {
    const lowered = readInteger(p, c.lowerTtlFirstTo, 'cutover.lowerTtlFirstTo', -1, 0, 2_147_483_647);
    if (lowered >= 0) {
      if (lowered >= ttlSeconds) {
        p.add('cutover.lowerTtlFirstTo', `${lowered}s must be lower than ttlSeconds (${ttlSeconds}s), otherwise there is nothing to lower; e.g. ${Math.min(60, Math.floor(ttlSeconds / 2))}`);
      }
      cutover.lowerTtlFirstTo = lowered;
    }
  }
  return cutover;
}

const DEFAULT_REPAIR_SAMPLE_SIZE = 5;

/** The extract: the database, the folder, the dump's selection and the repair's tables. */
function readExtract(p: Problems, value: unknown, requester: string): ResolvedRestoreSpec['extract'] {
  if (isMissing(value)) return undefined;
  const e = readObject(p, value, 'extract', ['database', 'directory', 'dump', 'repair']);
  if (!e) return undefined;
  const database = readDatabaseAccess(p, e.database, 'extract.database');
  const directory = readString(p, e.directory, 'extract.directory', { required: true, example: '"/var/lib/rds-orchestrator/extracts"' });
  if (directory && !directory.startsWith('/')) p.add('extract.directory', `"${directory}" must be an absolute path (the workers resolve it, not the CLI's folder)`);
  let dump: NonNullable<ResolvedRestoreSpec['extract']>['dump'];
  if (!isMissing(e.dump)) {
    const d = readObject(p, e.dump === true ? {} : e.dump, 'extract.dump', ['tables', 'excludeSchemas', 'excludeTables']);
    if (d) dump = { tables: readTables(p, d.tables, 'extract.dump.tables'), excludeSchemas: readSchemas(p, d.excludeSchemas, 'extract.dump.excludeSchemas'), excludeTables: readTables(p, d.excludeTables, 'extract.dump.excludeTables') };
  }
  let repair: NonNullable<ResolvedRestoreSpec['extract']>['repair'];
  if (!isMissing(e.repair)) {
    const r = readObject(p, e.repair, 'extract.repair', ['tables', 'updateChanged', 'approvers', 'sampleSize', 'reminderInterval']);
    if (r) {
      const tables = readTables(p, r.tables, 'extract.repair.tables');
      if (tables.length === 0) p.add('extract.repair.tables', 'is required: the tables whose lost rows are written back, e.g. ["public.orders"]');
      repair = {
        tables,
        updateChanged: readBoolean(p, r.updateChanged, 'extract.repair.updateChanged', false),
        approvers: readPeople(p, r.approvers, 'extract.repair.approvers', requester),
        sampleSize: readInteger(p, r.sampleSize, 'extract.repair.sampleSize', DEFAULT_REPAIR_SAMPLE_SIZE, 0, 100),
        reminderIntervalMs: readDuration(p, r.reminderInterval, 'extract.repair.reminderInterval', DEFAULT_REMINDER_INTERVAL_MS, MIN_REMINDER_INTERVAL_MS),
      };
    }
  }
  if (!dump && !repair) p.add('extract', 'names neither dump nor repair: give dump (e.g. dump: { excludeSchemas: ["audit"] }), repair (e.g. repair: { tables: ["public.orders"] }), or both');
  if (!database) return undefined;
  const extract: NonNullable<ResolvedRestoreSpec['extract']> = { database, directory };
  if (dump) extract.dump = dump;
  if (repair) extract.repair = repair;
  return extract;
}

function readResolvers(p: Problems, value: unknown): string[] {
  const list = readStringList(p, value, 'cutover.resolvers', '["10.0.0.2"] (the VPC resolver, VPC CIDR base + 2)') ?? [];
  list.forEach((r, i) => {
    if (!RESOLVER_PATTERN.test(r)) p.add(`cutover.resolvers[${i}]`, `"${r}" is not an IP address with an optional port, e.g. "10.0.0.2" or "10.0.0.2:53"`);
  });
  return list;
}

/**
 * Checks every field of a raw restore spec and applies defaults.
 * @throws SpecError listing every problem found, one per line, each naming its field path.
 */
export function validateRestoreSpec(raw: unknown): ResolvedRestoreSpec {
  const p = new Problems();
  const o = readObject(p, raw, '', RESTORE_FIELDS);
  if (!o) throw new SpecError(p.list, 'Invalid restore spec');

  const requester = readString(p, o.requester, 'requester', { required: true, example: '"alice@example.com"' });
  const source: ResolvedRestoreSpec['source'] = { region: '', instanceId: '' };
  if (isMissing(o.source)) {
    p.add('source', 'is required, e.g. { region: "eu-west-2", instanceId: "notify-production" }');
  } else {
    const s = readObject(p, o.source, 'source', ['region', 'instanceId', 'aws']);
    if (s) {
      source.region = readRegion(p, s.region, 'source.region');
      source.instanceId = readInstanceId(p, s.instanceId, 'source.instanceId');
      const aws = readAwsAccess(p, s.aws, 'source.aws');
      if (aws) source.aws = aws;
    }
  }
  const targetInstanceId = readInstanceId(p, o.targetInstanceId, 'targetInstanceId');
  if (targetInstanceId && targetInstanceId === source.instanceId) {
    p.add('targetInstanceId', `"${targetInstanceId}" is the source instance; the restore creates a new instance, so give it a new name, e.g. "${targetInstanceId.slice(0, 54)}-restored"`);
  }
  const restoreId = readId(p, o.restoreId, 'restoreId', targetInstanceId || undefined);

  let restoreTime = 'latest';
  const timeText = readString(p, o.restoreTime, 'restoreTime', { required: true, example: '"latest" or "2025-03-01T12:00:00Z"' });
  if (timeText && timeText.toLowerCase() !== 'latest') {
    const ms = parseIsoInstant(timeText);
    if (ms === undefined) {
      p.add('restoreTime', `"${timeText}" is neither "latest" nor an ISO instant with Z or an offset, e.g. "2025-03-01T12:00:00Z"`);
    } else {
      restoreTime = new Date(ms).toISOString();
    }
  }
  const copySourceSettings = readBoolean(p, o.copySourceSettings, 'copySourceSettings', true);

  let bastion: ResolvedRestoreSpec['bastion'];
  if (!isMissing(o.bastion)) {
    const b = readObject(p, o.bastion, 'bastion', ['securityGroupId', 'port', 'aws']);
    if (b) {
      const securityGroupId = readString(p, b.securityGroupId, 'bastion.securityGroupId', { required: true, example: '"sg-0123456789abcdef0"' });
      if (securityGroupId && !SECURITY_GROUP_PATTERN.test(securityGroupId)) {
        p.add('bastion.securityGroupId', `"${securityGroupId}" is not a security group id ("sg-" and 8 or 17 lowercase hex digits), e.g. "sg-0123456789abcdef0"`);
      }
      bastion = { securityGroupId, port: readInteger(p, b.port, 'bastion.port', DEFAULT_BASTION_PORT, 1, 65_535) };
      const aws = readAwsAccess(p, b.aws, 'bastion.aws');
      if (aws) bastion.aws = aws;
    }
  }

  const cutover = readCutover(p, o.cutover, requester);
  const extract = readExtract(p, o.extract, requester);
  if (cutover && extract) {
    p.add('extract', 'a restore takes extract (the common case: put the lost data back into the original) or cutover (the worst case: move the applications to the restored instance), not both; start two restores if you need both');
  }
  const pollIntervalMs = readDuration(p, o.pollInterval, 'pollInterval', DEFAULT_RESTORE_POLL_INTERVAL_MS, MIN_POLL_INTERVAL_MS);

  const allowedSigners = readAllowedSignersField(p, o.allowedSigners, 'allowedSigners', requester);

  if (p.list.length > 0) throw new SpecError(p.list, 'Invalid restore spec');
  const resolved: ResolvedRestoreSpec = { format: RESOLVED_RESTORE_SPEC, restoreId, requester, source, targetInstanceId, restoreTime, copySourceSettings, pollIntervalMs };
  if (allowedSigners) resolved.allowedSigners = allowedSigners;
  if (bastion) resolved.bastion = bastion;
  if (cutover) resolved.cutover = cutover;
  if (extract) resolved.extract = extract;
  return resolved;
}

/**
 * The client's entry: a raw spec into the workflow's input. validateRestoreSpec's rules (which the
 * workflow keeps for raw inputs of runs started before), plus the rules added since, checked here so a
 * newer rule never changes a run already started.
 */
export function resolveRestoreSpec(raw: unknown): ResolvedRestoreSpec {
  const resolved = validateRestoreSpec(raw);
  const durations = durationProblems([
    ['pollInterval', resolved.pollIntervalMs],
    ['cutover.reminderInterval', resolved.cutover?.reminderIntervalMs],
    ['extract.repair.reminderInterval', resolved.extract?.repair?.reminderIntervalMs],
  ]);
  if (durations.length > 0) throw new SpecError(durations, 'Invalid restore spec');
  if (resolved.bastion && !resolved.copySourceSettings) {
    throw new SpecError(
      ['bastion: needs copySourceSettings (the default): the restored instance must live in the source\'s VPC for the security group created for it there; remove copySourceSettings: false, or leave out bastion'],
      'Invalid restore spec',
    );
  }
  if (resolved.cutover && !resolved.copySourceSettings) {
    throw new SpecError(
      [
        "cutover: needs copySourceSettings (the default): the applications are moved to the restored instance, which without the source's settings " +
          "lands in the default VPC and subnet group with the default security group and parameter group, where they cannot reach it; remove copySourceSettings: false, or leave out cutover",
      ],
      'Invalid restore spec',
    );
  }
  return resolved;
}
