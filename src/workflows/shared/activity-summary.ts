/**
 * What an activity does to which instance, in a line the Temporal UI shows on its events (the activity's
 * user-metadata summary): "turn AutoMinorVersionUpgrade on: eu-west-2/notifydb-production" instead of
 * `setAutoMinorVersionUpgrade`. Read from the activity's name and its one input object, so every call of
 * every proxy says it without each step writing one (see summarized()).
 */
import type { ActivityOptions } from '@temporalio/workflow';

type Input = Record<string, unknown> | undefined;

const words = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
const obj = (v: unknown): Input => (v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined);

/** What the call says it does, where the name alone does not say it (the rest read as the name's words). */
const VERBS: Record<string, (i: Input) => string> = {
  describeInstance: () => 'read',
  findInstance: () => 'look for',
  inspectInstance: () => 'read (with upgrade targets)',
  listPendingMaintenance: () => 'read pending maintenance of',
  listUpgradeTargets: (i) => `list upgrade targets of ${str(i?.engine) ?? ''} ${str(i?.engineVersion) ?? ''} in`,
  findFleet: () => 'select the fleet in',
  readFleetPlace: (i) => `select the fleet${i?.withAccount ? ' (account, instances, upgrade targets)' : ' (instances, upgrade targets)'} in`,
  setAutoMinorVersionUpgrade: (i) => `turn AutoMinorVersionUpgrade ${i?.enabled ? 'on' : 'off'} for`,
  applyUpgradeNow: (i) => `upgrade to ${str(i?.targetVersion) ?? '?'} now:`,
  waitForInstance: (i) => `wait until ${Object.entries(obj(i?.want) ?? {}).map(([k, v]) => `${k} ${String(v)}`).join(', ') || 'ready'}:`,
  watchMaintenanceWindow: (i) => `watch the maintenance window (until ${str(obj(i?.want)?.engineVersion) ?? '?'}):`,
  restoreToPointInTime: (i) => `restore ${str(i?.sourceInstanceId) ?? '?'} to ${str(i?.restoreTime) ?? 'the latest restorable time'} as`,
  createBlueGreenDeployment: (i) => `create Blue/Green deployment ${str(i?.name) ?? ''} (green at ${str(i?.targetEngineVersion) ?? '?'}) of`,
  describeBlueGreenDeployment: (i) => `read Blue/Green deployment ${str(i?.deploymentId) ?? ''} in`,
  waitForBlueGreenDeployment: (i) => `wait while Blue/Green deployment ${str(i?.deploymentId) ?? ''} is ${Array.isArray(i?.while) ? (i.while as string[]).join(' or ') : '?'} in`,
  switchoverBlueGreenDeployment: (i) => `switch over Blue/Green deployment ${str(i?.deploymentId) ?? ''} (timeout ${typeof i?.timeoutSeconds === 'number' ? i.timeoutSeconds : '?'} s) in`,
  stopInstance: () => 'stop',
  startInstance: () => 'start',
  runAvailabilityProbe: () => 'probe availability while upgrading',
  runSqlAvailabilityProbe: () => 'probe with SELECT 1 while upgrading',
  createScheduledMaintenance: (i) => `announce on the status page "${str(i?.name) ?? ''}" ${str(i?.scheduledFor) ?? ''} – ${str(i?.scheduledUntil) ?? ''}`,
  cancelScheduledMaintenance: () => 'cancel status-page maintenance',
  whoAmI: () => 'check the account of',
  notify: (i) => `notify people: ${str(i?.event) ?? ''}`,
  readAllowedSigners: () => 'read the allowed signers',
};

/** Which instance (or record, incident, URL) the input names, with its region. */
function subject(input: Input): string {
  if (!input) return '';
  // AwsWhere is a region, or a location with its region and account.
  const whereOf = (w: unknown) => str(w) ?? str(obj(w)?.region);
  const region = whereOf(input.where) ?? whereOf(input.region) ?? whereOf(obj(input.stopWhen)?.region);
  const instance = str(input.instanceId) ?? str(input.targetInstanceId) ?? str(obj(input.stopWhen)?.instanceId) ?? str(obj(obj(input.from)?.instance)?.instanceId);
  if (instance) return region ? `${region}/${instance}` : instance;
  const named = str(input.recordName) ?? str(obj(input.record)?.recordName) ?? str(input.name) ?? str(input.incidentId) ?? str(input.groupId) ?? str(input.securityGroupId) ?? str(input.hostedZoneId) ?? str(input.url);
  return named ?? region ?? '';
}

/** "turn AutoMinorVersionUpgrade on for eu-west-2/notifydb-production". */
export function summarizeActivity(name: string, input: unknown): string {
  const i = obj(input);
  const verb = VERBS[name]?.(i) ?? words(name);
  const what = name === 'createScheduledMaintenance' || name === 'notify' || name === 'readAllowedSigners' ? '' : subject(i);
  return `${verb}${what ? ` ${what}` : ''}`.replace(/\s+/g, ' ').trim();
}

type Callable = ((...args: unknown[]) => Promise<unknown>) & { executeWithOptions(o: ActivityOptions, args: unknown[]): Promise<unknown> };

/** The same proxy, each call carrying its summary (`executeWithOptions`, merged over the proxy's options). */
export function summarized<T extends object>(proxy: T): T {
  return new Proxy(proxy, {
    get(target, name) {
      const fn = (target as Record<string | symbol, Callable>)[name];
      if (typeof name !== 'string' || typeof fn !== 'function') return fn;
      return (...args: unknown[]) => fn.executeWithOptions({ summary: summarizeActivity(name, args[0]) }, args);
    },
  });
}
