/**
 * The part of the workflow↔activity contract about the estate around an instance (a campaign is not alone in
 * it for weeks): watching a maintenance window for the version and the flag, who changed an instance
 * (CloudTrail), and the person on call (PagerDuty). Plain JSON across the boundary, as in ./activities.ts.
 */
import type { AwsWhere, InstanceInfo } from './aws-shapes';

/** What a maintenance window is watched for (see RdsActivities.watchMaintenanceWindow). */
export interface WindowWatchWant {
  /** The campaign's target: the instance is done when it is available at exactly this version. */
  engineVersion: string;
  /** The flag the campaign needs on during the window: the watch ends at once when it is found off. */
  autoMinorVersionUpgrade?: boolean;
}

/**
 * Why a window watch ended: the instance is available at the target; the flag the window needs was found
 * off (someone turned it back: Terraform, a person); or the instance runs a newer version than the target
 * (upgraded outside the campaign, or RDS applied another version), so the target will never come.
 */
export type WindowWatchOutcome =
  | { kind: 'upgraded'; info: InstanceInfo }
  | { kind: 'flag-off'; info: InstanceInfo }
  | { kind: 'past-target'; info: InstanceInfo };

/** Which changes to an instance to look up in CloudTrail's event history. */
export interface InstanceChangeQuery {
  instanceId: string;
  /** ISO instant: only events at or after it (LookupEvents StartTime). */
  since: string;
  /** The API action, e.g. "ModifyDBInstance". */
  eventName: string;
  /**
   * Only events whose request set this parameter to this value, named as in the API
   * (e.g. { name: "AutoMinorVersionUpgrade", value: false }); CloudTrail records it in requestParameters.
   */
  parameter?: { name: string; value: string | number | boolean };
}

/** CloudTrail's changes to one instance in its region and account (the input of findInstanceChanges). */
export interface InstanceChangeSearch {
  where: AwsWhere;
  query: InstanceChangeQuery;
}

/** One change to an instance as CloudTrail recorded it: who made it, when, from where. */
export interface InstanceChange {
  /** eventTime, ISO. */
  at: string;
  eventName: string;
  /** userIdentity.arn (an IAM user, or `arn:aws:sts::<account>:assumed-role/<role>/<session>`); the invoking service when AWS acted. */
  principal: string;
  /** CloudTrail's Username: the IAM user name or the role session name. */
  username?: string;
  sourceIp?: string;
  userAgent?: string;
  eventId: string;
}

export interface InstanceChangesFound {
  /** Newest first. */
  changes: InstanceChange[];
  /** Set when CloudTrail could not be read (AccessDenied, unreachable): what came back. The run goes on without it. */
  unavailable?: string;
}

export interface CloudTrailActivities {
  /** CloudTrail LookupEvents in the instance's region and account: who changed it since a moment. Never fails the run for CloudTrail's sake. */
  findInstanceChanges(input: InstanceChangeSearch): Promise<InstanceChangesFound>;
}

/** One PagerDuty Events API v2 event about an instance (https://developer.pagerduty.com/api-reference/368ae3d938c9e-send-an-event-to-pager-duty). */
export interface OnCallEvent {
  action: 'trigger' | 'resolve';
  /** One per instance and window: a retry or a repeat updates the same alert, never opens a second one. */
  dedupKey: string;
  /** payload.summary (PagerDuty keeps 1024 characters). */
  summary: string;
  /** payload.severity. */
  severity: 'critical' | 'error' | 'warning' | 'info';
  /** payload.source: what is affected (the instance, `region/instanceId`). */
  source: string;
  component?: string;
  group?: string;
  class?: string;
  customDetails?: Record<string, unknown>;
  /** Resolve only: the companion alerts resolved with this one (an escalation's own alert beside its window's). */
  alsoDedupKeys?: string[];
  /** The stage's integration (routing) key, from a run resolved before keys were named by variable; default: the workers' ORCHESTRATOR_PAGERDUTY_ROUTING_KEY. */
  routingKey?: string;
  /** The workers' environment variable holding the stage's routing key (the key never crosses the workflow). */
  routingKeyEnv?: string;
}

export interface OnCallActivities {
  /** Sends the event; `sent: false` (logged only) when no routing key is configured anywhere. */
  pageOnCall(event: OnCallEvent): Promise<{ sent: boolean; dedupKey: string; detail: string }>;
}
