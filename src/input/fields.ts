/**
 * Reading a raw spec field by field: patterns, a problem collector and typed readers. A reader records a
 * problem and returns a fallback, so the whole spec is walked and every problem is reported together,
 * each prefixed with the path of the field to fix (`stages[2].instanceId: ...`). Pure and deterministic.
 */
import type { AllowedSignersFile, ResolvedAwsAccess, ResolvedCampaignSpec } from '../api';
import { describeProblems, matchesPatternList, parseAllowedSigners } from '../domain/identity/allowed-signers';
import { DurationError, formatDuration, parseDuration } from '../domain/duration';
import { MAX_DURATION_MS } from './defaults';


export const ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/i;
export const ENGINE_VERSION_PATTERN = /^\d+\.\d+$/;
/** eu-west-2, us-east-1, ap-southeast-3, us-gov-west-1, us-isob-east-1 */
export const REGION_PATTERN = /^[a-z]{2}(?:-(?:gov|iso[a-z]?))?-[a-z]+-\d{1,2}$/;
export const SECURITY_GROUP_PATTERN = /^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
/**
 * Route 53 sets no pattern on a hosted zone id, only a length ("Id: Length Constraints: Maximum length of
 * 32", GetHostedZone API reference); ids are opaque, so accept any 1-32 characters without spaces or slashes.
 */
export const HOSTED_ZONE_PATTERN = /^[^\s/]{1,32}$/;
const IPV4 = '(?:25[0-5]|2[0-4]\\d|1?\\d?\\d)(?:\\.(?:25[0-5]|2[0-4]\\d|1?\\d?\\d)){3}';
/** 10.0.0.2, 10.0.0.2:53, 2001:db8::2, [2001:db8::2]:53 (the forms node's dns.setServers accepts). */
export const RESOLVER_PATTERN = new RegExp(`^(?:${IPV4}(?::\\d{1,5})?|[0-9a-f:]*:[0-9a-f:.]+|\\[[0-9a-f:]*:[0-9a-f:.]+\\](?::\\d{1,5})?)$`, 'i');
const DNS_LABEL = '(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)';
export const DNS_NAME_PATTERN = new RegExp(`^(?:\\*\\.)?(?:${DNS_LABEL}\\.)+${DNS_LABEL}\\.?$`, 'i');
export const HTTP_URL_PATTERN = /^https?:\/\/[^\s/?#@]+(?:[/?#]\S*)?$/i;

export const ID_HINT = '1-63 letters, digits and hyphens, starting with a letter or digit';
export const INSTANCE_ID_HINT = 'an RDS instance identifier: 1-63 letters, digits and hyphens, starting with a letter, no "--" and no trailing hyphen, e.g. "notify-production"';

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
  const dayCheck = new Date(utcMs(year, month - 1, day));
  if (dayCheck.getUTCDate() !== day || dayCheck.getUTCMonth() !== month - 1) return undefined;
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone && zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const [oh, om] = [Number(digits.slice(0, 2)), Number(digits.slice(2))];
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return utcMs(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
}

/** Date.UTC without its one surprise: it reads the years 0 to 99 as 1900 to 1999 ("0050-01-01" would be 1950). */
function utcMs(year: number, monthIndex: number, day: number, hour = 0, minute = 0, second = 0, millis = 0): number {
  const d = new Date(0);
  d.setUTCFullYear(year, monthIndex, day);
  d.setUTCHours(hour, minute, second, millis);
  return d.getTime();
}

// ---------------------------------------------------------------------------------------------------
// A small problem collector and typed readers. Readers record a problem and return a fallback so the
// whole spec is still walked; the resolved value is only returned when there were no problems.
// ---------------------------------------------------------------------------------------------------

/** Fails to compile when a spec field is missing from its list of known fields. */
export type AllListed<Missing extends never> = Missing;

export type Obj = Record<string, unknown>;

export class Problems {
  readonly list: string[] = [];

  add(path: string, message: string): void {
    this.list.push(`${path}: ${message}`);
  }

  addAll(problems: string[]): void {
    this.list.push(...problems);
  }
}

export function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

export function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isMissing(value: unknown): boolean {
  return value === undefined || value === null;
}

export function describe(value: unknown): string {
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
export function readObject(p: Problems, value: unknown, path: string, known: readonly string[]): Obj | undefined {
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

export function readString(p: Problems, value: unknown, path: string, options: { required: true; example: string }): string;
export function readString(p: Problems, value: unknown, path: string, options: { required: false; example: string }): string | undefined;
export function readString(p: Problems, value: unknown, path: string, options: { required: boolean; example: string }): string | undefined {
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

export function readBoolean(p: Problems, value: unknown, path: string, fallback: boolean): boolean {
  if (isMissing(value)) return fallback;
  if (typeof value !== 'boolean') {
    p.add(path, `expected true or false, got ${describe(value)}`);
    return fallback;
  }
  return value;
}

export function readInteger(p: Problems, value: unknown, path: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
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

export function readDuration(p: Problems, value: unknown, path: string, fallback: number, minMs = 0): number {
  if (isMissing(value)) return fallback;
  try {
    const ms = parseDuration(value as string | number, path);
    if (ms < minMs) {
      p.add(path, `${formatDuration(ms)} is too short; use at least ${formatDuration(minMs)}`);
      return fallback;
    }
    return ms;
  } catch (error) {
    if (error instanceof DurationError) {
      p.addAll([error.message]);
      return fallback;
    }
    throw error;
  }
}

/**
 * The problems of a resolved spec's durations, each named by the field that gave it: a duration must be a number of
 * milliseconds from 0 to MAX_DURATION_MS. readDuration lets through what parseDuration makes of "1constructor" (NaN: a
 * unit named like a member every object has), of 400 digits (Infinity) and a number such as 1e300; the workflow would
 * wait NaN, or compute an instant past what a date can hold and fail its task. A rule added after validate*Spec, so
 * it is checked by the resolvers (runs started before keep their inputs' meaning).
 */
export function durationProblems(durations: readonly (readonly [path: string, ms: number | undefined])[]): string[] {
  const p = new Problems();
  for (const [path, ms] of durations) {
    if (ms === undefined) continue;
    if (Number.isNaN(ms)) p.add(path, 'could not be read as a duration: write a number of milliseconds or text like "14d", "90s" or "1h30m" (units ms, s, m, h, d, w)');
    else if (!(ms <= MAX_DURATION_MS)) {
      p.add(path, `${Number.isFinite(ms) ? formatDuration(ms) : 'an endless duration'} is longer than a spec may give (${formatDuration(MAX_DURATION_MS)}, about 100 years)`);
    }
  }
  return p.list;
}

export function readStringList(p: Problems, value: unknown, path: string, example: string): string[] | undefined {
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

export function readPeople(p: Problems, value: unknown, path: string, requester: string): string[] {
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

/**
 * A run's own allowed signers: the text inline, or as the CLI read it from `{ file }` ({ source, text }).
 * Every bad line is named; the requester must have a key in it (they sign the start).
 */
export function readAllowedSignersField(p: Problems, value: unknown, path: string, requester: string): AllowedSignersFile | undefined {
  if (isMissing(value)) return undefined;
  let file: AllowedSignersFile | undefined;
  if (typeof value === 'string') file = { source: 'the spec (inline)', text: value };
  else if (isObject(value) && typeof value.text === 'string' && typeof value.source === 'string') file = { source: value.source, text: value.text };
  else if (isObject(value) && typeof value.file === 'string') {
    p.add(path, `{ file: "${value.file}" } is read by the CLI (rds-orchestrator ... --spec FILE reads it next to the spec); from code, pass the file's text`);
    return undefined;
  } else {
    p.add(path, `expected the allowed signers' text (git's format: "alice@example.com ssh-ed25519 AAAA...") or { file: "allowed_signers" }, got ${describe(value)}`);
    return undefined;
  }
  const parsed = parseAllowedSigners(file.text);
  if (!parsed.ok) {
    p.add(path, describeProblems(parsed.problems, file.source));
    return undefined;
  }
  if (parsed.entries.length === 0) p.add(path, `${file.source} lists no key: nobody could sign; list the people who may act, or leave the field out`);
  else if (requester && !parsed.entries.some((e) => matchesPatternList(requester, e.principals))) {
    p.add(path, `${file.source} gives the requester "${requester}" no key, yet the requester signs the start; add a line for them`);
  }
  return file;
}

export function readUrl(p: Problems, value: unknown, path: string, required: boolean): string | undefined {
  const url = required
    ? readString(p, value, path, { required: true, example: '"https://api.example.com/_status"' })
    : readString(p, value, path, { required: false, example: '"https://api.example.com/_status"' });
  if (url && !HTTP_URL_PATTERN.test(url)) {
    p.add(path, `"${url}" is not an http(s) URL, e.g. "https://api.example.com/_status"`);
  }
  return url;
}

export function readRegion(p: Problems, value: unknown, path: string): string {
  const region = readString(p, value, path, { required: true, example: '"eu-west-2"' });
  if (region && !isAwsRegion(region)) p.add(path, `"${region}" does not look like an AWS region, e.g. "eu-west-2"`);
  return region;
}

/** RDS stores identifiers in lowercase, so they are normalised here to compare with what AWS returns. */
export function readInstanceId(p: Problems, value: unknown, path: string): string {
  const id = readString(p, value, path, { required: true, example: '"notify-production"' });
  if (id && !isRdsInstanceIdentifier(id)) p.add(path, `"${id}" is not ${INSTANCE_ID_HINT}`);
  return id.toLowerCase();
}

export function readId(p: Problems, value: unknown, path: string, fallback: string | undefined): string {
  const id = readString(p, value, path, { required: false, example: '"pg-minor-15-8"' }) ?? fallback ?? '';
  if (id && !ID_PATTERN.test(id)) {
    p.add(path, `"${id}" is not a valid id (${ID_HINT})${isMissing(value) ? '; the default was derived from other fields, so set it explicitly' : ''}`);
  }
  return id;
}

export function readBlackouts(p: Problems, value: unknown, path: string): ResolvedCampaignSpec['blackouts'] {
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


/**
 * arn:aws:iam::123456789012:role/name (role paths allowed), in any partition: aws, aws-cn, aws-us-gov, aws-iso,
 * aws-iso-b, aws-iso-e, aws-iso-f, aws-eusc (botocore's partitions); the other ARN readers take any `aws[a-z-]*`.
 */
export const ROLE_ARN_PATTERN = /^arn:aws(?:-[a-z]+)*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
/** sts:ExternalId: 2-1224 characters of [\w+=,.@:/-] (AssumeRole API reference). */
const EXTERNAL_ID_PATTERN = /^[\w+=,.@:/-]{2,1224}$/;

/** `aws: { roleArn, externalId?, region? }` or `aws: { profile }`: how to reach the resource's account. */
export function readAwsAccess(p: Problems, value: unknown, path: string): ResolvedAwsAccess | undefined {
  if (isMissing(value)) return undefined;
  const o = readObject(p, value, path, ['roleArn', 'externalId', 'region', 'profile']);
  if (!o) return undefined;
  const roleArn = readString(p, o.roleArn, join(path, 'roleArn'), { required: false, example: '"arn:aws:iam::222222222222:role/rds-orchestrator"' });
  const externalId = readString(p, o.externalId, join(path, 'externalId'), { required: false, example: '"notify-upgrades"' });
  const profile = readString(p, o.profile, join(path, 'profile'), { required: false, example: '"notify-production"' });
  const stsRegion = isMissing(o.region) ? undefined : readRegion(p, o.region, join(path, 'region'));
  if (roleArn && !ROLE_ARN_PATTERN.test(roleArn)) p.add(join(path, 'roleArn'), `"${roleArn}" is not an IAM role ARN, e.g. "arn:aws:iam::222222222222:role/rds-orchestrator"`);
  if (externalId && !EXTERNAL_ID_PATTERN.test(externalId)) p.add(join(path, 'externalId'), 'must be 2-1224 letters, digits or +=,.@:/-');
  if (roleArn && profile) p.add(path, 'give either roleArn (assumed from the worker\'s credentials) or profile (a local AWS profile), not both');
  if (!roleArn && !profile) p.add(path, 'needs roleArn (a role in the resource\'s account the worker may assume) or profile');
  if (!roleArn && (externalId || stsRegion)) p.add(path, 'externalId and region go with roleArn');
  const access: ResolvedAwsAccess = {};
  if (roleArn) access.roleArn = roleArn;
  if (externalId) access.externalId = externalId;
  if (stsRegion) access.stsRegion = stsRegion;
  if (profile) access.profile = profile;
  return access;
}
