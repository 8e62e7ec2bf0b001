/**
 * Who changed an instance: CloudTrail's event history (LookupEvents) in the instance's region and account,
 * read as the same location and role as its RDS calls (clients.ts). LookupEvents takes at most one lookup
 * attribute. A ResourceName lookup finds only the events whose Resources CloudTrail filled in, in whichever
 * form (identifier or ARN) it chose; an EventName lookup with a StartTime finds every ModifyDBInstance. So the
 * lookup is by event name, and the instance, the outcome and the parameter are read from each event's own
 * record (CloudTrailEvent: requestParameters as RDS recorded the request). At most MAX_PAGES pages, newest
 * first, each paced by the client (CloudTrail allows two lookups per second per account and region).
 *
 * CloudTrail only explains a change; the run goes on without it. A refusal (no cloudtrail:LookupEvents),
 * throttling that outlasts the SDK's retries, or no answer comes back as `unavailable`, never as a failure.
 * CloudTrail usually shows an event a few minutes after the call, so a lookup right after a change may miss it.
 */
import { LookupEventsCommand, type CloudTrailClient, type Event } from '@aws-sdk/client-cloudtrail';
import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes, type AwsWhere, type CloudTrailActivities, type InstanceChange, type InstanceChangeQuery, type InstanceChangesFound } from '../api/activities';
import type { InstanceChangeSearch } from '../api/activities';
import { awsCallFailed, awsErrorName, isThrottlingError, toActivityError, type AwsErrorContext } from './aws-errors';
import { RdsRequestBudgetExceeded } from './clients';
import { describeIdentity, regionOf } from './location';
import { namesDbInstance } from '../domain/aws-identity';

/** LookupEvents' largest page. */
export const PAGE_SIZE = 50;
/** Enough for the changes of one campaign step; a busy account's older events are left unread (and said so). */
export const MAX_PAGES = 4;
/** "You can look up events that occurred in a Region within the last 90 days" (LookupEvents); an older StartTime is refused. */
const HISTORY_MS = 90 * 24 * 3600_000;

export interface CloudTrailActivitiesDeps {
  cloudTrailClientFor: (where: AwsWhere) => CloudTrailClient;
  now?: () => number;
}

/** The part of a CloudTrail record (the event's JSON) read here. */
interface EventRecord {
  eventTime?: string;
  eventID?: string;
  eventName?: string;
  errorCode?: string;
  sourceIPAddress?: string;
  userAgent?: string;
  userIdentity?: { arn?: string; invokedBy?: string };
  requestParameters?: Record<string, unknown> | null;
}

/**
 * An RDS request member as CloudTrail records it: the API name with its first letter lowered
 * (DBInstanceIdentifier → dBInstanceIdentifier, AutoMinorVersionUpgrade → autoMinorVersionUpgrade).
 */
export function cloudTrailParameterName(apiName: string): string {
  return apiName.charAt(0).toLowerCase() + apiName.slice(1);
}

function parameterOf(params: Record<string, unknown>, apiName: string): unknown {
  const recorded = cloudTrailParameterName(apiName);
  if (recorded in params) return params[recorded];
  // Another casing (a tool's own record, a future change): the name still says which member it is.
  const key = Object.keys(params).find((k) => k.toLowerCase() === apiName.toLowerCase());
  return key === undefined ? undefined : params[key];
}

/** A caller may name the instance in any casing, or by its ARN (../domain/aws-identity.ts namesDbInstance). */
function namesInstance(recorded: unknown, instanceId: string): boolean {
  return typeof recorded === 'string' && namesDbInstance(recorded, instanceId);
}

/** Booleans and numbers are recorded as JSON values, but a string "false" means the same. */
function sameValue(recorded: unknown, want: string | number | boolean): boolean {
  return recorded !== undefined && recorded !== null && String(recorded).toLowerCase() === String(want).toLowerCase();
}

function changeOf(event: Event, query: InstanceChangeQuery): InstanceChange | undefined {
  let record: EventRecord;
  try {
    record = JSON.parse(event.CloudTrailEvent ?? '{}') as EventRecord;
  } catch {
    return undefined; // without its record, the event cannot be tied to the instance
  }
  // A refused request (AccessDenied, InvalidParameterCombination, ...) is recorded too, with its errorCode: it changed nothing.
  if (record.errorCode) return undefined;
  const params = record.requestParameters ?? {};
  if (!namesInstance(parameterOf(params, 'DBInstanceIdentifier'), query.instanceId)) return undefined;
  if (query.parameter && !sameValue(parameterOf(params, query.parameter.name), query.parameter.value)) return undefined;
  const username = event.Username;
  return {
    at: event.EventTime?.toISOString() ?? record.eventTime ?? '',
    eventName: event.EventName ?? record.eventName ?? query.eventName,
    // An AWS service acting on its own has no ARN, only the service that invoked the call.
    principal: record.userIdentity?.arn ?? record.userIdentity?.invokedBy ?? username ?? 'unknown',
    ...(username ? { username } : {}),
    ...(record.sourceIPAddress ? { sourceIp: record.sourceIPAddress } : {}),
    ...(record.userAgent ? { userAgent: record.userAgent } : {}),
    eventId: event.EventId ?? record.eventID ?? '',
  };
}

/** Why CloudTrail could not be read, in words a person can act on. */
function unavailableBecause(err: unknown, where: AwsWhere, operation: string): string {
  const ctx: AwsErrorContext = { operation, where };
  if (err instanceof RdsRequestBudgetExceeded) {
    return (
      `${ctx.operation} in region ${regionOf(where)} was not sent: this worker's CloudTrail lookups for ${err.key} are booked ` +
      `${Math.ceil(err.retryAfterMs / 1000)} s ahead (it keeps to ${err.requestsPerSecond}/s; CloudTrail allows 2 per second per account and region)`
    );
  }
  const translated = toActivityError(err, ctx);
  if (translated instanceof ApplicationFailure && translated.type === FailureTypes.Unauthorized) {
    const who = describeIdentity(where);
    const message = err instanceof Error ? err.message : String(err);
    return (
      `${ctx.operation} in region ${regionOf(where)}${who} was refused (${awsErrorName(err)}): ${message}. ` +
      `Give ${who ? 'that role' : "the worker's AWS credentials"} the IAM permission cloudtrail:LookupEvents to see who changes the instance.`
    );
  }
  const failed = awsCallFailed(err, ctx).message;
  return isThrottlingError(err) ? `${failed}; still throttled after the SDK's retries (CloudTrail allows 2 LookupEvents per second per account and region)` : failed;
}

export function createCloudTrailActivities(deps: CloudTrailActivitiesDeps): CloudTrailActivities {
  const now = deps.now ?? Date.now;

  async function findInstanceChanges({ where, query }: InstanceChangeSearch): Promise<InstanceChangesFound> {
    const sinceMs = Date.parse(query.since);
    if (Number.isNaN(sinceMs)) {
      throw ApplicationFailure.nonRetryable(`findInstanceChanges: since "${query.since}" is not an ISO instant`, FailureTypes.InvalidInput);
    }
    // LookupEvents refuses a StartTime before its 90 days of history or after now (InvalidTimeRangeException).
    const t = now();
    const startTime = new Date(Math.min(t, Math.max(sinceMs, t - HISTORY_MS + 60_000)));
    const operation = `CloudTrail LookupEvents ${query.eventName} for ${query.instanceId}`;
    const client = deps.cloudTrailClientFor(where);
    const changes: InstanceChange[] = [];
    let nextToken: string | undefined;
    let read = 0;
    try {
      for (let page = 0; page < MAX_PAGES && (page === 0 || nextToken); page += 1) {
        const out = await client.send(
          new LookupEventsCommand({
            LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: query.eventName }],
            StartTime: startTime,
            MaxResults: PAGE_SIZE,
            ...(nextToken ? { NextToken: nextToken } : {}),
          }),
        );
        read += out.Events?.length ?? 0;
        for (const event of out.Events ?? []) {
          const change = changeOf(event, query);
          if (change) changes.push(change);
        }
        nextToken = out.NextToken;
      }
    } catch (err) {
      return { changes: newestFirst(changes), unavailable: unavailableBecause(err, where, operation) };
    }
    if (nextToken && changes.length === 0) {
      return {
        changes,
        unavailable:
          `read the newest ${read} ${query.eventName} events of region ${regionOf(where)} since ${startTime.toISOString()} and none was about ` +
          `${query.instanceId}; older ones were not read (the account has more)`,
      };
    }
    return { changes: newestFirst(changes) };
  }

  return { findInstanceChanges };
}

/** CloudTrail answers newest first; sorting keeps that promise across pages and odd answers. */
function newestFirst(changes: InstanceChange[]): InstanceChange[] {
  return [...changes].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
}
