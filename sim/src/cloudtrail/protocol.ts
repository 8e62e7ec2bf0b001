/**
 * CloudTrail's LookupEvents (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html) over
 * the JSON 1.1 protocol of botocore's `cloudtrail/2013-11-01` model: `POST /`, `X-Amz-Target:
 * com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents` (or `CloudTrail_20131101.LookupEvents`, as the
 * JavaScript SDK v3 sends it), `Content-Type: application/x-amz-json-1.1`,
 * SigV4 service `cloudtrail`. Errors are `{"__type": "<Code>", "message": …}` with HTTP 400 and `x-amzn-ErrorType`.
 *
 * The events are the simulator's call log (sim/src/cloudtrail/record.ts): the caller's account, the Region asked,
 * newest first ("The events list is sorted by time. The most recent event is listed first."), the last 90 days
 * ("You can look up events that occurred in a Region within the last 90 days"). Rules, from the reference:
 * - LookupAttributes: "Currently the list can contain only one item"; AttributeKey one of EventId, EventName,
 *   ReadOnly, Username, ResourceType, ResourceName, EventSource, AccessKeyId; AttributeValue 1..2000 characters:
 *   else InvalidLookupAttributesException;
 * - StartTime/EndTime: "If the specified start time is after the specified end time, an error is returned":
 *   InvalidTimeRangeException;
 * - MaxResults: "Possible values are 1 through 50. The default is 50": else InvalidMaxResultsException;
 * - NextToken: "This token must be passed in with the same parameters that were specified in the original call":
 *   else (or a token the simulator did not issue) InvalidNextTokenException;
 * - EventCategory: only `insight`, which returns no events (there are no Insights); else InvalidEventCategoryException.
 */
import { createHash } from 'node:crypto';
import type { AwsProtocol } from '../core/aws-protocol';
import { ok } from '../core/aws-protocol';
import type { CallLog } from '../core/call-log';
import { DAY } from '../core/clock';
import { SimError } from '../core/errors';
import type { TrailEvent } from './record';
import { trailEvent, trailRecord } from './record';

export const CLOUDTRAIL_TARGET_PREFIX = 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.';

/**
 * The operation an `X-Amz-Target` names, or undefined when it is not CloudTrail's. botocore sends the model's
 * targetPrefix (`com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents`), the AWS SDK for JavaScript
 * v3 the service shape's name (`CloudTrail_20131101.LookupEvents`); CloudTrail accepts both.
 */
export function cloudTrailAction(target: string | undefined): string | undefined {
  const m = /^(?:com\.amazonaws\.cloudtrail\.v20131101\.)?CloudTrail_20131101\.(\w*)$/.exec(target ?? '');
  return m ? (m[1] as string) : undefined;
}
export const CLOUDTRAIL_CONTENT_TYPE = 'application/x-amz-json-1.1';
/** LookupEvents changes nothing. */
export const CLOUDTRAIL_MUTATIONS = new Set<string>();

const ATTRIBUTE_KEYS = ['EventId', 'EventName', 'ReadOnly', 'Username', 'ResourceType', 'ResourceName', 'EventSource', 'AccessKeyId'] as const;
type AttributeKey = (typeof ATTRIBUTE_KEYS)[number];
const LOOKBACK_MS = 90 * DAY;

export function cloudTrailError(err: SimError): string {
  return JSON.stringify({ __type: err.code, message: err.message });
}

const invalid = (code: string, message: string): SimError => new SimError(code, message, 400);

function parseBody(body: string): Record<string, unknown> {
  try {
    const v = JSON.parse(body.trim() === '' ? '{}' : body) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw invalid('SerializationException', 'The request body is not a JSON object.');
}

/** A JSON-protocol timestamp: epoch seconds (what the SDKs send) or an ISO 8601 string. */
function timeOf(v: unknown, name: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  const ms = typeof v === 'number' ? v * 1000 : typeof v === 'string' ? (/^\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : Date.parse(v)) : NaN;
  if (!Number.isFinite(ms)) throw invalid('InvalidTimeRangeException', `${name} ${JSON.stringify(v)} is not a valid time.`);
  return ms;
}

interface Lookup {
  attribute?: { key: AttributeKey; value: string };
  start: number;
  end: number;
  max: number;
  insight: boolean;
  after?: number;
}

function parseLookup(input: Record<string, unknown>, now: number): Lookup {
  const attrs = input.LookupAttributes ?? [];
  if (!Array.isArray(attrs)) throw invalid('InvalidLookupAttributesException', 'LookupAttributes must be a list.');
  if (attrs.length > 1) throw invalid('InvalidLookupAttributesException', 'You cannot specify more than one lookup attribute.');
  let attribute: Lookup['attribute'];
  if (attrs.length === 1) {
    const a = attrs[0] as { AttributeKey?: unknown; AttributeValue?: unknown };
    if (!ATTRIBUTE_KEYS.includes(a?.AttributeKey as AttributeKey)) {
      throw invalid('InvalidLookupAttributesException', `Invalid AttributeKey ${JSON.stringify(a?.AttributeKey)}: expected one of ${ATTRIBUTE_KEYS.join(', ')}.`);
    }
    if (typeof a.AttributeValue !== 'string' || a.AttributeValue.length < 1 || a.AttributeValue.length > 2000) {
      throw invalid('InvalidLookupAttributesException', 'AttributeValue must be 1 to 2000 characters long.');
    }
    attribute = { key: a.AttributeKey as AttributeKey, value: a.AttributeValue };
  }
  const start = timeOf(input.StartTime, 'StartTime') ?? now - LOOKBACK_MS;
  const end = timeOf(input.EndTime, 'EndTime') ?? now;
  if (start > end) throw invalid('InvalidTimeRangeException', 'Start time must be before or equal to end time.');
  const max = input.MaxResults ?? 50;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 50) {
    throw invalid('InvalidMaxResultsException', `Value ${JSON.stringify(max)} for MaxResults is invalid: possible values are 1 through 50.`);
  }
  const category = input.EventCategory;
  if (category !== undefined && category !== null && category !== 'insight') {
    throw invalid('InvalidEventCategoryException', `Invalid EventCategory ${JSON.stringify(category)}: the only value is insight.`);
  }
  const lookup: Lookup = { attribute, start, end, max, insight: category === 'insight' };
  if (input.NextToken !== undefined && input.NextToken !== null) lookup.after = readToken(input.NextToken, fingerprint(input));
  return lookup;
}

/** What a NextToken must be used with: the call's parameters, without MaxResults and NextToken. */
const fingerprint = (input: Record<string, unknown>): string =>
  createHash('sha256')
    .update(JSON.stringify([input.LookupAttributes ?? [], input.StartTime ?? null, input.EndTime ?? null, input.EventCategory ?? null]))
    .digest('hex')
    .slice(0, 16);

const makeToken = (lastSeq: number, fp: string): string => Buffer.from(JSON.stringify({ s: lastSeq, f: fp })).toString('base64url');

function readToken(token: unknown, fp: string): number {
  const bad = (): SimError => invalid('InvalidNextTokenException', 'Invalid NextToken: it was not issued for a LookupEvents call with these parameters.');
  if (typeof token !== 'string') throw bad();
  let parsed: { s?: unknown; f?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { s?: unknown; f?: unknown };
  } catch {
    throw bad();
  }
  if (typeof parsed?.s !== 'number' || parsed.f !== fp) throw bad();
  return parsed.s;
}

function matches(e: TrailEvent, attribute: Lookup['attribute']): boolean {
  if (!attribute) return true;
  const v = attribute.value;
  switch (attribute.key) {
    case 'EventId':
      return e.eventId === v;
    case 'EventName':
      return e.eventName === v;
    case 'ReadOnly':
      return String(e.readOnly) === v;
    case 'Username':
      return e.username === v;
    case 'ResourceType':
      return e.resources.some((r) => r.ResourceType === v);
    case 'ResourceName':
      return e.resources.some((r) => r.ResourceName === v);
    case 'EventSource':
      return e.eventSource === v;
    case 'AccessKeyId':
      return e.accessKeyId === v;
  }
}

/** What LookupEvents reads: the call log, at the simulated now. */
export interface TrailSource {
  log: CallLog;
  now(): number;
}

function lookupEvents(source: TrailSource, input: Record<string, unknown>, account: string, region: string): Record<string, unknown> {
  const now = source.now();
  const calls = source.log.calls;
  const q = parseLookup(input, now);
  if (q.insight) return { Events: [] };
  const page: TrailEvent[] = [];
  let more = false;
  for (let i = calls.length - 1; i >= 0; i--) {
    const call = calls[i];
    if (!call || call.account !== account || (q.after !== undefined && call.seq >= q.after)) continue;
    const e = trailEvent(source.log, call);
    if (!e || e.region !== region || e.timeMs < q.start || e.timeMs > q.end || e.timeMs < now - LOOKBACK_MS || !matches(e, q.attribute)) continue;
    if (page.length === q.max) {
      more = true;
      break;
    }
    page.push(e);
  }
  const events = page.map((e) => ({
    EventId: e.eventId,
    EventName: e.eventName,
    ReadOnly: String(e.readOnly),
    AccessKeyId: e.accessKeyId,
    EventTime: e.timeMs / 1000,
    EventSource: e.eventSource,
    Username: e.username,
    Resources: e.resources,
    CloudTrailEvent: JSON.stringify(trailRecord(e)),
  }));
  const last = page[page.length - 1];
  return more && last ? { Events: events, NextToken: makeToken(last.call.seq, fingerprint(input)) } : { Events: events };
}

/** Handles one CloudTrail action; returns the JSON body (status 200) or throws a SimError. */
export function handleCloudTrail(source: TrailSource, action: string, body: string, account: string, region: string): string {
  const input = parseBody(body);
  if (action === 'LookupEvents') return JSON.stringify(lookupEvents(source, input, account, region));
  throw new SimError('UnknownOperationException', `The simulator's CloudTrail implements LookupEvents only, not ${action || '(no X-Amz-Target)'}.`, 400);
}

export function cloudTrailProtocol(source: TrailSource): AwsProtocol {
  return {
    service: 'cloudtrail',
    reachedBy: `cloudtrail (JSON 1.1, X-Amz-Target ${CLOUDTRAIL_TARGET_PREFIX}…)`,
    contentType: CLOUDTRAIL_CONTENT_TYPE,
    mutations: CLOUDTRAIL_MUTATIONS,
    jsonTarget: cloudTrailAction,
    handle: (call) => ok(handleCloudTrail(source, call.action, call.body, call.account, call.region)),
    renderError: cloudTrailError,
    errorHeaders: (err) => ({ 'x-amzn-ErrorType': err.code }),
    // Its common errors (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/CommonErrors.html):
    // InvalidClientTokenId 403 and ExpiredTokenException 403, in a JSON body.
    refusal: (err) => (err.code === 'ExpiredToken' ? new SimError('ExpiredTokenException', err.message, 403) : err),
    throttled: () => new SimError('ThrottlingException', 'Rate exceeded', 400),
  };
}
