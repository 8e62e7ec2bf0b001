/**
 * A window group in words, the one way every text names it (the approval people sign, the status, the plan,
 * notifications, the demo): its start AND its end, since two groups may open at the same minute and close
 * at different ones, and the instances in it, or how many with how to list them when they are many.
 */

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** At most this many instance names in a group's text; more are counted, with how to list them. */
export const NAMED_INSTANCES_PER_GROUP = 5;

export interface WindowGroupText {
  /** ISO 8601 or epoch milliseconds. */
  start: string | number;
  end: string | number;
  /** The instances' names, or only how many there are. */
  instances: readonly string[] | number;
}

const ms = (at: string | number): number => (typeof at === 'number' ? at : Date.parse(at));
const day = (d: Date): string => `${DAYS[d.getUTCDay()]} ${d.toISOString().slice(0, 10)}`;
const hhmm = (d: Date): string => d.toISOString().slice(11, 16);

/** "Sun 2026-12-06 02:20–02:50 UTC"; a window that ends on another day names that day too ("Sat 2026-12-05 23:50–Sun 2026-12-06 00:20 UTC"). */
export function describeWindow(start: string | number, end: string | number): string {
  const s = new Date(ms(start));
  const e = new Date(ms(end));
  const sameDay = s.toISOString().slice(0, 10) === e.toISOString().slice(0, 10);
  return `${day(s)} ${hhmm(s)}–${sameDay ? '' : `${day(e)} `}${hhmm(e)} UTC`;
}

/**
 * "Sun 2026-12-06 02:20–02:50 UTC (notifydb-production, notifydb-production-2)", or with many instances
 * "Sun 2026-12-06 02:20–02:50 UTC (12 instances; <listHint>)".
 */
export function describeWindowGroup(group: WindowGroupText, listHint?: string): string {
  const { instances } = group;
  const when = describeWindow(group.start, group.end);
  if (typeof instances !== 'number' && instances.length <= NAMED_INSTANCES_PER_GROUP) return `${when} (${instances.join(', ')})`;
  const n = typeof instances === 'number' ? instances : instances.length;
  return `${when} (${n} instance${n === 1 ? '' : 's'}${listHint ? `; ${listHint}` : ''})`;
}

/** Several groups, in order, separated by "; ". */
export function describeWindowGroups(groups: readonly WindowGroupText[], listHint?: string): string {
  return groups.map((g) => describeWindowGroup(g, listHint)).join('; ');
}

/** The names of a group's instances: the instance ids, with the region where the stage spans several. */
export function instanceNames(members: readonly { region: string; instanceId: string }[], regions: number): string[] {
  return members.map((m) => (regions > 1 ? `${m.region}/${m.instanceId}` : m.instanceId));
}
