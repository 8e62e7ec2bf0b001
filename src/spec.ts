/**
 * Validation of the raw campaign and restore specs (from the CLI, a spec file or a workflow input) into
 * fully resolved specs whose defaults reproduce the runbook ("Upgrading our Postgres minor version"):
 * preview and staging first, production only with 14 days' notice, a status-page scheduled maintenance,
 * a pending-maintenance check a few days before, and a team decision when apply-now downtime exceeds a minute.
 *
 * Pure and deterministic: the workflows import this module. Every problem is collected before throwing,
 * each prefixed with the path of the field to fix (`stages[2].instanceId: ...`).
 */
import type { CampaignSpec, RestoreSpec, StageMethod, StageSpec } from './api';
import { DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS, SpecError, formatDuration, parseDuration } from './duration';

export { SpecError } from './duration';

export interface ResolvedStage {
  name: string;
  region: string;
  instanceId: string;
  method: StageMethod;
  requiresApproval: boolean;
  noticeMs: number;
  noticeOverrideReason?: string;
  statusPage: { enabled: boolean; name: string; body: string; componentIds: string[] };
  precheckBeforeMs: number;
  graceMs: number;
  maxMissedWindows: number;
  probe?: { url: string; ratePerSecond: number; requestTimeoutMs: number; settleMs: number; maxDurationMs: number };
  downtimeThresholdMs: number;
  healthCheckUrl?: string;
  infraCodeHint: string;
}

export interface ResolvedCampaignSpec {
  campaignId: string;
  targetEngineVersion: string;
  requester: string;
  stages: ResolvedStage[];
  approval: { approvers: string[]; minApprovals: number; reminderIntervalMs: number };
  blackouts: { fromMs: number; toMs: number; reason?: string }[];
  pollIntervalMs: number;
}

export interface ResolvedRestoreSpec {
  restoreId: string;
  requester: string;
  source: { region: string; instanceId: string };
  targetInstanceId: string;
  restoreTime: 'latest' | string;
  copySourceSettings: boolean;
  bastion?: { securityGroupId: string; port: number };
  cutover?: {
    hostedZoneId: string;
    recordName: string;
    setIdentifier: string;
    weight: number;
    ttlSeconds: number;
    lowerTtlFirstTo?: number;
    approvers: string[];
    /** ip or ip:port of resolvers that resolve the zone as the applications do (may be empty). */
    resolvers: string[];
  };
  pollIntervalMs: number;
}

// ---------------------------------------------------------------------------------------------------
// Defaults (the runbook's numbers)
// ---------------------------------------------------------------------------------------------------

/** "It should be at least 2 weeks in the future so we can give our users at least 2 weeks notice." */
export const PRODUCTION_NOTICE_MS = 14 * DAY_MS;
/** "A few days before the expected day of the production upgrade, check ... pending maintenance." */
export const DEFAULT_PRECHECK_BEFORE_MS = 3 * DAY_MS;
export const DEFAULT_GRACE_MS = HOUR_MS;
export const DEFAULT_MAX_MISSED_WINDOWS = 2;
/** "We expect there to be less than a minute for minor upgrades. If there is more, then discuss with the team." */
/** Each reminder adds about a dozen history events; faster than a minute would flood both people and history. */
export const MIN_REMINDER_INTERVAL_MS = MINUTE_MS;
export const DEFAULT_DOWNTIME_THRESHOLD_MS = 60 * SECOND_MS;
export const DEFAULT_PROBE = { ratePerSecond: 2, requestTimeoutMs: 2_000, settleMs: 30 * SECOND_MS, maxDurationMs: 2 * HOUR_MS };
export const MAX_PROBE_RATE_PER_SECOND = 100;
export const DEFAULT_REMINDER_INTERVAL_MS = 24 * HOUR_MS;
export const DEFAULT_CAMPAIGN_POLL_INTERVAL_MS = 60 * SECOND_MS;
export const DEFAULT_RESTORE_POLL_INTERVAL_MS = 30 * SECOND_MS;
export const MIN_POLL_INTERVAL_MS = SECOND_MS;
export const DEFAULT_BASTION_PORT = 5432;
export const DEFAULT_CUTOVER_WEIGHT = 100;
export const DEFAULT_CUTOVER_TTL_SECONDS = 300;

export function defaultCampaignId(targetEngineVersion: string): string {
  return `pg-minor-${targetEngineVersion.replace(/\./g, '-')}`;
}

export function defaultStatusPageName(targetEngineVersion: string): string {
  return `Scheduled maintenance: PostgreSQL upgrade to ${targetEngineVersion}`;
}

export function defaultStatusPageBody(targetEngineVersion: string): string {
  return (
    `We will upgrade our database to PostgreSQL ${targetEngineVersion} during this scheduled maintenance window. ` +
    'We expect a brief downtime of less than a minute while the database restarts; requests made during that time may fail and can be retried.'
  );
}

export function defaultInfraCodeHint(targetEngineVersion: string, instanceId: string): string {
  return `Set engine_version = "${targetEngineVersion}" and auto_minor_version_upgrade = false for ${instanceId} in the Terraform code (otherwise Terraform will error on its next plan).`;
}

// ---------------------------------------------------------------------------------------------------
// Field patterns
// ---------------------------------------------------------------------------------------------------

const ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/i;
const ENGINE_VERSION_PATTERN = /^\d+\.\d+$/;
/** eu-west-2, us-east-1, ap-southeast-3, us-gov-west-1, us-isob-east-1 */
const REGION_PATTERN = /^[a-z]{2}(?:-(?:gov|iso[a-z]?))?-[a-z]+-\d{1,2}$/;
const SECURITY_GROUP_PATTERN = /^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
/**
 * Route 53 sets no pattern on a hosted zone id, only a length ("Id: Length Constraints: Maximum length of
 * 32", GetHostedZone API reference); ids are opaque, so accept any 1-32 characters without spaces or slashes.
 */
const HOSTED_ZONE_PATTERN = /^[^\s/]{1,32}$/;
const IPV4 = '(?:25[0-5]|2[0-4]\\d|1?\\d?\\d)(?:\\.(?:25[0-5]|2[0-4]\\d|1?\\d?\\d)){3}';
/** 10.0.0.2, 10.0.0.2:53, 2001:db8::2, [2001:db8::2]:53 (the forms node's dns.setServers accepts). */
const RESOLVER_PATTERN = new RegExp(`^(?:${IPV4}(?::\\d{1,5})?|[0-9a-f:]*:[0-9a-f:.]+|\\[[0-9a-f:]*:[0-9a-f:.]+\\](?::\\d{1,5})?)$`, 'i');
const DNS_LABEL = '(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)';
const DNS_NAME_PATTERN = new RegExp(`^(?:\\*\\.)?(?:${DNS_LABEL}\\.)+${DNS_LABEL}\\.?$`, 'i');
const HTTP_URL_PATTERN = /^https?:\/\/[^\s/?#@]+(?:[/?#]\S*)?$/i;

const ID_HINT = '1-63 letters, digits and hyphens, starting with a letter or digit';
const INSTANCE_ID_HINT = 'an RDS instance identifier: 1-63 letters, digits and hyphens, starting with a letter, no "--" and no trailing hyphen, e.g. "notify-production"';

export function isRdsInstanceIdentifier(id: string): boolean {
  return id.length >= 1 && id.length <= 63 && /^[a-z][a-z0-9-]*$/i.test(id) && !id.includes('--') && !id.endsWith('-');
}

export function isAwsRegion(region: string): boolean {
  return REGION_PATTERN.test(region);
}

/**
 * Epoch ms of an ISO-8601 instant, or undefined. A time must carry "Z" or an offset (a local time would
 * depend on the machine's time zone); a date alone means midnight UTC. Calendar dates are checked
 * (Date.parse accepts "2025-02-30").
 */
export function parseIsoInstant(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2}))?$/i.exec(text.trim());
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [hour, minute, second] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  const millis = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  const dayCheck = new Date(Date.UTC(year, month - 1, day));
  if (dayCheck.getUTCDate() !== day || dayCheck.getUTCMonth() !== month - 1) return undefined;
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone && zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const [oh, om] = [Number(digits.slice(0, 2)), Number(digits.slice(2))];
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
}

// ---------------------------------------------------------------------------------------------------
// A small problem collector and typed readers. Readers record a problem and return a fallback so the
// whole spec is still walked; the resolved value is only returned when there were no problems.
// ---------------------------------------------------------------------------------------------------

type Obj = Record<string, unknown>;

class Problems {
  readonly list: string[] = [];

  add(path: string, message: string): void {
    this.list.push(`${path}: ${message}`);
  }

  addAll(problems: string[]): void {
    this.list.push(...problems);
  }
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isMissing(value: unknown): boolean {
  return value === undefined || value === null;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the text ${JSON.stringify(value)}`;
  return `the ${typeof value} ${String(value)}`;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/** The object at `path`, with unknown keys reported (typos such as "notcie" would otherwise be ignored). */
function readObject(p: Problems, value: unknown, path: string, known: readonly string[]): Obj | undefined {
  if (!isObject(value)) {
    p.add(path || 'spec', `expected an object (fields: ${known.join(', ')}), got ${describe(value)}`);
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const close = known.find((k) => editDistance(k, key) <= 2);
    p.add(join(path, key), `unknown field${close ? `; did you mean "${close}"?` : ''} (known fields: ${known.join(', ')})`);
  }
  return value;
}

function readString(p: Problems, value: unknown, path: string, options: { required: true; example: string }): string;
function readString(p: Problems, value: unknown, path: string, options: { required: false; example: string }): string | undefined;
function readString(p: Problems, value: unknown, path: string, options: { required: boolean; example: string }): string | undefined {
  if (isMissing(value)) {
    if (options.required) p.add(path, `is required, e.g. ${options.example}`);
    return options.required ? '' : undefined;
  }
  if (typeof value !== 'string') {
    p.add(path, `expected text, e.g. ${options.example}, got ${describe(value)}`);
    return options.required ? '' : undefined;
  }
  const trimmed = value.trim();
  if (trimmed === '') {
    p.add(path, `must not be empty, e.g. ${options.example}`);
    return options.required ? '' : undefined;
  }
  return trimmed;
}

function readBoolean(p: Problems, value: unknown, path: string, fallback: boolean): boolean {
  if (isMissing(value)) return fallback;
  if (typeof value !== 'boolean') {
    p.add(path, `expected true or false, got ${describe(value)}`);
    return fallback;
  }
  return value;
}

function readInteger(p: Problems, value: unknown, path: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (isMissing(value)) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    p.add(path, `expected a whole number${max === Number.MAX_SAFE_INTEGER ? ` >= ${min}` : ` from ${min} to ${max}`}, got ${describe(value)}`);
    return fallback;
  }
  if (value < min || value > max) {
    p.add(path, `${value} is out of range; use a whole number${max === Number.MAX_SAFE_INTEGER ? ` >= ${min}` : ` from ${min} to ${max}`}`);
    return fallback;
  }
  return value;
}

function readDuration(p: Problems, value: unknown, path: string, fallback: number, minMs = 0): number {
  if (isMissing(value)) return fallback;
  try {
    const ms = parseDuration(value as string | number, path);
    if (ms < minMs) {
      p.add(path, `${formatDuration(ms)} is too short; use at least ${formatDuration(minMs)}`);
      return fallback;
    }
    return ms;
  } catch (error) {
    if (error instanceof SpecError) {
      p.addAll(error.problems);
      return fallback;
    }
    throw error;
  }
}

function readStringList(p: Problems, value: unknown, path: string, example: string): string[] | undefined {
  if (isMissing(value)) return undefined;
  if (!Array.isArray(value)) {
    p.add(path, `expected a list of text, e.g. ${example}, got ${describe(value)}`);
    return undefined;
  }
  const items: string[] = [];
  value.forEach((item, i) => {
    const text = readString(p, item, `${path}[${i}]`, { required: true, example: JSON.stringify(example) });
    if (text) items.push(text);
  });
  return items;
}

function readPeople(p: Problems, value: unknown, path: string, requester: string): string[] {
  const people = readStringList(p, value, path, '["alice@example.com", "bob@example.com"]');
  if (people === undefined) return [];
  if (Array.isArray(value) && value.length === 0) {
    p.add(path, 'is an empty list, which would leave nobody able to approve; list the approvers, or leave the field out to let anyone except the requester approve');
  }
  const seen = new Map<string, number>();
  people.forEach((person, i) => {
    const key = person.toLowerCase();
    const first = seen.get(key);
    if (first !== undefined) p.add(`${path}[${i}]`, `"${person}" is listed twice (also ${path}[${first}])`);
    else seen.set(key, i);
    if (requester && key === requester.toLowerCase()) {
      p.add(`${path}[${i}]`, `"${person}" is also the requester; an approver must not be the requester, so remove them from the list or have someone else request`);
    }
  });
  return people;
}

function readUrl(p: Problems, value: unknown, path: string, required: boolean): string | undefined {
  const url = required
    ? readString(p, value, path, { required: true, example: '"https://api.example.com/_status"' })
    : readString(p, value, path, { required: false, example: '"https://api.example.com/_status"' });
  if (url && !HTTP_URL_PATTERN.test(url)) {
    p.add(path, `"${url}" is not an http(s) URL, e.g. "https://api.example.com/_status"`);
  }
  return url;
}

function readRegion(p: Problems, value: unknown, path: string): string {
  const region = readString(p, value, path, { required: true, example: '"eu-west-2"' });
  if (region && !isAwsRegion(region)) p.add(path, `"${region}" does not look like an AWS region, e.g. "eu-west-2"`);
  return region;
}

/** RDS stores identifiers in lowercase, so they are normalised here to compare with what AWS returns. */
function readInstanceId(p: Problems, value: unknown, path: string): string {
  const id = readString(p, value, path, { required: true, example: '"notify-production"' });
  if (id && !isRdsInstanceIdentifier(id)) p.add(path, `"${id}" is not ${INSTANCE_ID_HINT}`);
  return id.toLowerCase();
}

function readId(p: Problems, value: unknown, path: string, fallback: string | undefined): string {
  const id = readString(p, value, path, { required: false, example: '"pg-minor-15-8"' }) ?? fallback ?? '';
  if (id && !ID_PATTERN.test(id)) {
    p.add(path, `"${id}" is not a valid id (${ID_HINT})${isMissing(value) ? '; the default was derived from other fields, so set it explicitly' : ''}`);
  }
  return id;
}

function readBlackouts(p: Problems, value: unknown, path: string): ResolvedCampaignSpec['blackouts'] {
  if (isMissing(value)) return [];
  if (!Array.isArray(value)) {
    p.add(path, `expected a list of { from, to, reason } with ISO instants, got ${describe(value)}`);
    return [];
  }
  const blackouts: ResolvedCampaignSpec['blackouts'] = [];
  value.forEach((item, i) => {
    const itemPath = `${path}[${i}]`;
    const o = readObject(p, item, itemPath, ['from', 'to', 'reason']);
    if (!o) return;
    const instant = (key: 'from' | 'to'): number | undefined => {
      const example = key === 'from' ? '"2025-12-19T17:00:00Z"' : '"2026-01-05T09:00:00Z"';
      const text = readString(p, o[key], join(itemPath, key), { required: true, example });
      if (!text) return undefined;
      const ms = parseIsoInstant(text);
      if (ms === undefined) {
        p.add(join(itemPath, key), `"${text}" is not an ISO instant; write a date ("2025-12-19") or a time with Z or an offset, e.g. ${example}`);
      }
      return ms;
    };
    const fromMs = instant('from');
    const toMs = instant('to');
    const reason = readString(p, o.reason, join(itemPath, 'reason'), { required: false, example: '"Christmas freeze"' });
    if (fromMs !== undefined && toMs !== undefined) {
      if (fromMs >= toMs) p.add(join(itemPath, 'to'), `must be after from (${new Date(fromMs).toISOString()}), got ${new Date(toMs).toISOString()}`);
      blackouts.push(reason === undefined ? { fromMs, toMs } : { fromMs, toMs, reason });
    }
  });
  return blackouts;
}

// ---------------------------------------------------------------------------------------------------
// Campaign
// ---------------------------------------------------------------------------------------------------

const CAMPAIGN_FIELDS = ['campaignId', 'targetEngineVersion', 'requester', 'stages', 'approval', 'blackouts', 'pollInterval'] as const satisfies readonly (keyof CampaignSpec)[];
const STAGE_FIELDS = [
  'name', 'region', 'instanceId', 'method', 'requiresApproval', 'notice', 'statusPage', 'precheckBefore', 'grace',
  'maxMissedWindows', 'probe', 'downtimeThreshold', 'healthCheckUrl', 'infraCodeHint',
] as const satisfies readonly (keyof StageSpec)[];
/** Compile-time check that the field lists above name every field of the api.ts input types. */
type AllListed<Missing extends never> = Missing;
type _CampaignFieldsListed = AllListed<Exclude<keyof CampaignSpec, (typeof CAMPAIGN_FIELDS)[number]>>;
type _StageFieldsListed = AllListed<Exclude<keyof StageSpec, (typeof STAGE_FIELDS)[number]>>;
const METHODS: readonly StageMethod[] = ['maintenance-window', 'apply-now'];

function readTargetVersion(p: Problems, value: unknown): string {
  if (typeof value === 'number') {
    // YAML/JSON turn 15.10 into 15.1, which is a different version.
    p.add('targetEngineVersion', `got the number ${value}; write the version as quoted text (e.g. "15.10"), because a number loses trailing zeros`);
    return '';
  }
  const version = readString(p, value, 'targetEngineVersion', { required: true, example: '"15.8"' });
  if (version && !ENGINE_VERSION_PATTERN.test(version)) {
    p.add('targetEngineVersion', `"${version}" is not a PostgreSQL minor version; use major.minor, e.g. "15.8" or "15.10"`);
    return '';
  }
  return version;
}

function readStage(p: Problems, raw: unknown, path: string, target: string): ResolvedStage | undefined {
  const o = readObject(p, raw, path, STAGE_FIELDS);
  if (!o) return undefined;
  const name = readString(p, o.name, join(path, 'name'), { required: true, example: '"preview", "staging" or "production"' });
  if (name.includes('|')) p.add(join(path, 'name'), `"${name}" must not contain "|" (it separates the parts of an approval plan)`);
  const region = readRegion(p, o.region, join(path, 'region'));
  const instanceId = readInstanceId(p, o.instanceId, join(path, 'instanceId'));

  let method: StageMethod = 'maintenance-window';
  if (isMissing(o.method)) {
    p.add(join(path, 'method'), 'is required: "maintenance-window" (wait for the instance\'s weekly window) or "apply-now" (upgrade immediately under an availability probe)');
  } else if (typeof o.method !== 'string' || !METHODS.includes(o.method as StageMethod)) {
    p.add(join(path, 'method'), `must be "maintenance-window" or "apply-now", got ${describe(o.method)}`);
  } else {
    method = o.method as StageMethod;
  }

  const requiresApproval = readBoolean(p, o.requiresApproval, join(path, 'requiresApproval'), name === 'production');
  if (requiresApproval && method === 'apply-now') {
    p.add(join(path, 'method'), 'a stage that requires approval must use "maintenance-window" (users are given notice of a scheduled window); use "maintenance-window" or set requiresApproval: false');
  }

  let noticeMs = requiresApproval ? PRODUCTION_NOTICE_MS : 0;
  let noticeOverrideReason: string | undefined;
  const noticePath = join(path, 'notice');
  if (!isMissing(o.notice)) {
    const notice = readObject(p, o.notice, noticePath, ['minimum', 'overrideReason']);
    if (notice) {
      noticeMs = readDuration(p, notice.minimum, join(noticePath, 'minimum'), noticeMs);
      noticeOverrideReason = readString(p, notice.overrideReason, join(noticePath, 'overrideReason'), { required: false, example: '"security fix must ship this week"' });
    }
  }
  if (requiresApproval && noticeMs < PRODUCTION_NOTICE_MS && !noticeOverrideReason) {
    p.add(
      join(noticePath, 'overrideReason'),
      `is required because notice.minimum (${formatDuration(noticeMs)}) is below the runbook's ${formatDuration(PRODUCTION_NOTICE_MS)} notice for users; explain why, or raise notice.minimum to "14d"`,
    );
  }

  const statusPagePath = join(path, 'statusPage');
  const statusPage = { enabled: requiresApproval, name: defaultStatusPageName(target), body: defaultStatusPageBody(target), componentIds: [] as string[] };
  if (!isMissing(o.statusPage)) {
    const sp = readObject(p, o.statusPage, statusPagePath, ['enabled', 'name', 'body', 'componentIds']);
    if (sp) {
      statusPage.enabled = readBoolean(p, sp.enabled, join(statusPagePath, 'enabled'), statusPage.enabled);
      statusPage.name = readString(p, sp.name, join(statusPagePath, 'name'), { required: false, example: '"Scheduled database maintenance"' }) ?? statusPage.name;
      statusPage.body = readString(p, sp.body, join(statusPagePath, 'body'), { required: false, example: '"We will upgrade our database..."' }) ?? statusPage.body;
      statusPage.componentIds = readStringList(p, sp.componentIds, join(statusPagePath, 'componentIds'), '["8kbf7d35c070"]') ?? [];
    }
  }

  const precheckBeforeMs = readDuration(p, o.precheckBefore, join(path, 'precheckBefore'), DEFAULT_PRECHECK_BEFORE_MS);
  if (noticeMs > 0 && precheckBeforeMs >= noticeMs) {
    const which = isMissing(o.precheckBefore) ? ' (the default)' : '';
    p.add(
      join(path, 'precheckBefore'),
      `${formatDuration(precheckBeforeMs)}${which} must be shorter than notice.minimum (${formatDuration(noticeMs)}), since the check happens after the notice goes out; set precheckBefore to less, e.g. "${formatDuration(Math.floor(noticeMs / 2))}"`,
    );
  }
  const graceMs = readDuration(p, o.grace, join(path, 'grace'), DEFAULT_GRACE_MS);
  const maxMissedWindows = readInteger(p, o.maxMissedWindows, join(path, 'maxMissedWindows'), DEFAULT_MAX_MISSED_WINDOWS, 1);

  let probe: ResolvedStage['probe'];
  const probePath = join(path, 'probe');
  if (!isMissing(o.probe)) {
    const pr = readObject(p, o.probe, probePath, ['url', 'ratePerSecond', 'requestTimeoutMs', 'settle', 'maxDuration']);
    if (pr) {
      const url = readUrl(p, pr.url, join(probePath, 'url'), true) ?? '';
      let ratePerSecond = DEFAULT_PROBE.ratePerSecond;
      if (!isMissing(pr.ratePerSecond)) {
        if (typeof pr.ratePerSecond !== 'number' || !(pr.ratePerSecond > 0) || pr.ratePerSecond > MAX_PROBE_RATE_PER_SECOND) {
          p.add(join(probePath, 'ratePerSecond'), `expected a number of requests per second above 0 and at most ${MAX_PROBE_RATE_PER_SECOND} (a low-volume probe), got ${describe(pr.ratePerSecond)}`);
        } else {
          ratePerSecond = pr.ratePerSecond;
        }
      }
      probe = {
        url,
        ratePerSecond,
        requestTimeoutMs: readDuration(p, pr.requestTimeoutMs, join(probePath, 'requestTimeoutMs'), DEFAULT_PROBE.requestTimeoutMs, 1),
        settleMs: readDuration(p, pr.settle, join(probePath, 'settle'), DEFAULT_PROBE.settleMs),
        maxDurationMs: readDuration(p, pr.maxDuration, join(probePath, 'maxDuration'), DEFAULT_PROBE.maxDurationMs, SECOND_MS),
      };
    }
  } else if (method === 'apply-now') {
    p.add(probePath, 'is required for method "apply-now" (the runbook runs a low-volume load test while upgrading), e.g. { url: "https://api.example.com/_status" }');
  }

  const downtimeThresholdMs = readDuration(p, o.downtimeThreshold, join(path, 'downtimeThreshold'), DEFAULT_DOWNTIME_THRESHOLD_MS, 1);
  const healthCheckUrl = readUrl(p, o.healthCheckUrl, join(path, 'healthCheckUrl'), false);
  const infraCodeHint =
    readString(p, o.infraCodeHint, join(path, 'infraCodeHint'), { required: false, example: '"Set engine_version in terraform/rds.tf"' }) ??
    defaultInfraCodeHint(target, instanceId);

  const stage: ResolvedStage = {
    name, region, instanceId, method, requiresApproval, noticeMs, statusPage, precheckBeforeMs, graceMs, maxMissedWindows,
    downtimeThresholdMs, infraCodeHint,
  };
  if (noticeOverrideReason !== undefined) stage.noticeOverrideReason = noticeOverrideReason;
  if (probe) stage.probe = probe;
  if (healthCheckUrl !== undefined) stage.healthCheckUrl = healthCheckUrl;
  return stage;
}

/**
 * Checks every field of a raw campaign spec and applies the runbook's defaults.
 * @throws SpecError listing every problem found, one per line, each naming its field path.
 */
export function validateCampaignSpec(raw: unknown): ResolvedCampaignSpec {
  const p = new Problems();
  const o = readObject(p, raw, '', CAMPAIGN_FIELDS);
  if (!o) throw new SpecError(p.list, 'Invalid campaign spec');

  const targetEngineVersion = readTargetVersion(p, o.targetEngineVersion);
  const campaignId = readId(p, o.campaignId, 'campaignId', targetEngineVersion ? defaultCampaignId(targetEngineVersion) : undefined);
  const requester = readString(p, o.requester, 'requester', { required: true, example: '"alice@example.com"' });

  const stages: ResolvedStage[] = [];
  if (isMissing(o.stages)) {
    p.add('stages', 'is required: list the stages in order, e.g. preview, staging, production');
  } else if (!Array.isArray(o.stages)) {
    p.add('stages', `expected a list of stages, got ${describe(o.stages)}`);
  } else if (o.stages.length === 0) {
    p.add('stages', 'needs at least one stage, e.g. { name: "preview", region: "eu-west-2", instanceId: "notify-preview", method: "maintenance-window" }');
  } else {
    const names = new Map<string, number>();
    const instances = new Map<string, number>();
    o.stages.forEach((rawStage, i) => {
      const path = `stages[${i}]`;
      const stage = readStage(p, rawStage, path, targetEngineVersion);
      if (!stage) return;
      stages.push(stage);
      if (stage.name) {
        const first = names.get(stage.name);
        if (first !== undefined) p.add(join(path, 'name'), `"${stage.name}" is already used by stages[${first}]; stage names must be unique`);
        else names.set(stage.name, i);
      }
      if (stage.region && stage.instanceId) {
        const key = `${stage.region}/${stage.instanceId}`;
        const first = instances.get(key);
        if (first !== undefined) p.add(join(path, 'instanceId'), `${key} is already upgraded by stages[${first}]; each instance may appear in one stage only`);
        else instances.set(key, i);
      }
    });
  }

  const approval = { approvers: [] as string[], minApprovals: 1, reminderIntervalMs: DEFAULT_REMINDER_INTERVAL_MS };
  if (!isMissing(o.approval)) {
    const a = readObject(p, o.approval, 'approval', ['approvers', 'minApprovals', 'reminderInterval']);
    if (a) {
      approval.approvers = readPeople(p, a.approvers, 'approval.approvers', requester);
      approval.minApprovals = readInteger(p, a.minApprovals, 'approval.minApprovals', 1, 1);
      if (!isMissing(a.approvers) && approval.approvers.length > 0 && approval.minApprovals > approval.approvers.length) {
        p.add('approval.minApprovals', `${approval.minApprovals} is more than the ${approval.approvers.length} listed approvers; lower it or add approvers`);
      }
      approval.reminderIntervalMs = readDuration(p, a.reminderInterval, 'approval.reminderInterval', DEFAULT_REMINDER_INTERVAL_MS, MIN_REMINDER_INTERVAL_MS);
    }
  }

  const blackouts = readBlackouts(p, o.blackouts, 'blackouts');
  const pollIntervalMs = readDuration(p, o.pollInterval, 'pollInterval', DEFAULT_CAMPAIGN_POLL_INTERVAL_MS, MIN_POLL_INTERVAL_MS);

  if (p.list.length > 0) throw new SpecError(p.list, 'Invalid campaign spec');
  return { campaignId, targetEngineVersion, requester, stages, approval, blackouts, pollIntervalMs };
}

// ---------------------------------------------------------------------------------------------------
// Restore
// ---------------------------------------------------------------------------------------------------

const RESTORE_FIELDS = [
  'restoreId', 'requester', 'source', 'targetInstanceId', 'restoreTime', 'copySourceSettings', 'bastion', 'cutover', 'pollInterval',
] as const satisfies readonly (keyof RestoreSpec)[];
type _RestoreFieldsListed = AllListed<Exclude<keyof RestoreSpec, (typeof RESTORE_FIELDS)[number]>>;

function readCutover(p: Problems, value: unknown, requester: string): ResolvedRestoreSpec['cutover'] {
  if (isMissing(value)) return undefined;
  const c = readObject(p, value, 'cutover', ['hostedZoneId', 'recordName', 'setIdentifier', 'weight', 'ttlSeconds', 'lowerTtlFirstTo', 'approvers', 'resolvers']);
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
    resolvers: readResolvers(p, c.resolvers),
  };
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
  const source = { region: '', instanceId: '' };
  if (isMissing(o.source)) {
    p.add('source', 'is required, e.g. { region: "eu-west-2", instanceId: "notify-production" }');
  } else {
    const s = readObject(p, o.source, 'source', ['region', 'instanceId']);
    if (s) {
      source.region = readRegion(p, s.region, 'source.region');
      source.instanceId = readInstanceId(p, s.instanceId, 'source.instanceId');
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
    const b = readObject(p, o.bastion, 'bastion', ['securityGroupId', 'port']);
    if (b) {
      const securityGroupId = readString(p, b.securityGroupId, 'bastion.securityGroupId', { required: true, example: '"sg-0123456789abcdef0"' });
      if (securityGroupId && !SECURITY_GROUP_PATTERN.test(securityGroupId)) {
        p.add('bastion.securityGroupId', `"${securityGroupId}" is not a security group id ("sg-" and 8 or 17 lowercase hex digits), e.g. "sg-0123456789abcdef0"`);
      }
      bastion = { securityGroupId, port: readInteger(p, b.port, 'bastion.port', DEFAULT_BASTION_PORT, 1, 65_535) };
    }
  }

  const cutover = readCutover(p, o.cutover, requester);
  const pollIntervalMs = readDuration(p, o.pollInterval, 'pollInterval', DEFAULT_RESTORE_POLL_INTERVAL_MS, MIN_POLL_INTERVAL_MS);

  if (p.list.length > 0) throw new SpecError(p.list, 'Invalid restore spec');
  const resolved: ResolvedRestoreSpec = { restoreId, requester, source, targetInstanceId, restoreTime, copySourceSettings, pollIntervalMs };
  if (bastion) resolved.bastion = bastion;
  if (cutover) resolved.cutover = cutover;
  return resolved;
}
