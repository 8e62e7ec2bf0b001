/**
 * Every activity takes one input object (src/api/activity-inputs.ts). Workflows scheduled before that shape
 * passed the same fields as positional arguments, and their histories hold them: an activity in flight when
 * the worker was upgraded, or retried after it, reaches the new worker as `describeInstance(where, id)`. The
 * worker therefore accepts both: the table below names, for each activity whose shape changed, its old
 * parameters in order, and `acceptingPositional` turns such a call into the object.
 *
 * Telling the shapes apart: a call is the new shape when it has exactly one argument, a plain object, that
 * has the first field of the input as its own key. No old first argument can pass for it:
 * - `where` (AwsWhere) is a region string or an AwsLocation ({ region, roleArn?, profile?, sessionName?,
 *   externalId? }), which has no `where` key;
 * - `hostedZoneId`, `changeId`, `name`, `incidentId`, `url` were strings;
 * - `upsertWeightedCname`'s old first argument was the WeightedCname itself ({ hostedZoneId, recordName,
 *   setIdentifier, weight, ttlSeconds, value }), which has no `record` key.
 * (test/activities/positional.test.ts checks both shapes for every entry.)
 */
import type { Activities } from '../api/activities';

/** The activities whose input became one object, each with its old positional parameters in order. */
export const LEGACY_POSITIONAL = {
  describeInstance: ['where', 'instanceId'],
  findInstance: ['where', 'instanceId'],
  inspectInstance: ['where', 'instanceId'],
  listPendingMaintenance: ['where', 'instanceId'],
  stopInstance: ['where', 'instanceId'],
  startInstance: ['where', 'instanceId'],
  listUpgradeTargets: ['where', 'engine', 'engineVersion'],
  findFleet: ['where', 'query'],
  setAutoMinorVersionUpgrade: ['where', 'instanceId', 'enabled'],
  applyUpgradeNow: ['where', 'instanceId', 'targetVersion'],
  waitForInstance: ['where', 'instanceId', 'want', 'poll'],
  watchMaintenanceWindow: ['where', 'instanceId', 'want', 'poll'],
  attachSecurityGroup: ['where', 'instanceId', 'securityGroupId'],
  whoAmI: ['where'],
  findInstanceChanges: ['where', 'query'],
  allowIngressFromSecurityGroup: ['where', 'securityGroupId', 'sourceSecurityGroupId', 'port', 'sourceAccount'],
  describeSecurityGroup: ['where', 'groupId'],
  describeHostedZone: ['hostedZoneId', 'access'],
  getWeightedCname: ['hostedZoneId', 'recordName', 'setIdentifier', 'access'],
  upsertWeightedCname: ['record', 'access'],
  waitForChangeInsync: ['changeId', 'access', 'poll'],
  testDnsAnswer: ['hostedZoneId', 'recordName', 'access'],
  lookupCname: ['name', 'resolvers'],
  cancelScheduledMaintenance: ['incidentId', 'reason'],
  checkHealth: ['url', 'timeoutMs'],
} as const satisfies { [K in keyof Activities]?: readonly (keyof Parameters<Activities[K]>[0] & string)[] };

type Legacy = keyof typeof LEGACY_POSITIONAL;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The one input object of a call in either shape (positional arguments mapped by `names`; absent ones left out). */
export function inputOf(names: readonly string[], args: unknown[]): Record<string, unknown> {
  if (args.length === 1 && isPlainObject(args[0]) && Object.hasOwn(args[0], names[0])) return args[0];
  const input: Record<string, unknown> = {};
  names.forEach((name, i) => {
    if (args[i] !== undefined && args[i] !== null) input[name] = args[i];
  });
  return input;
}

/** The activities, each listed one also accepting the positional arguments that older histories hold. */
export function acceptingPositional(activities: Activities): Activities {
  const out: Record<string, unknown> = { ...activities };
  for (const name of Object.keys(LEGACY_POSITIONAL) as Legacy[]) {
    const fn = activities[name] as unknown as (input: Record<string, unknown>) => Promise<unknown>;
    const names = LEGACY_POSITIONAL[name];
    // A named function: the worker registers activities under their keys, and errors show the name.
    out[name] = { [name]: (...args: unknown[]) => fn(inputOf(names, args)) }[name];
  }
  return out as unknown as Activities;
}
