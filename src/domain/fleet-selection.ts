/**
 * Which of a region's instances a fleet stage takes (FleetQuery), decided on what DescribeDBInstances
 * listed. Pure, so the RDS activity (src/activities/fleet.ts), `campaign plan` (through that activity) and the
 * in-memory fake of the workflow tests (test/fixtures/fake-aws.ts) select the same way.
 *
 * - Listed instances (`instanceIds`): exactly those, in the order given. One that is not there is
 *   `missing`; one that is there but is of another engine, at another version or lacks a wanted tag is
 *   `excluded` with the reason (it was asked for by name, so it is reported, never silently dropped).
 *   RDS identifiers are case-insensitive (stored lower-case), so `Orders-DB` finds `orders-db`.
 * - Otherwise, by tags: every instance carrying each wanted tag with exactly that value (AWS tag keys and
 *   values are case-sensitive), ordered by instance id. One of another engine or at another version is
 *   `excluded` with the reason; one without the tags is simply not part of the fleet.
 *
 * Every status counts (stopped, upgrading, ...): the workflow decides what to do with each member.
 */
import type { FleetFound, FleetMember, FleetQuery } from '../api/activities';
import { withAwsDates } from './pending-maintenance';

/** An instance as listed: a member's fields, with all its tags, and its ARN. */
export type FleetCandidate = Omit<FleetMember, 'pending'> & { arn?: string };

export interface FleetSelection<C extends FleetCandidate> {
  /** The members, in the fleet's order, with their full tags (see keptTags). */
  chosen: C[];
  missing: string[];
  excluded: FleetFound['excluded'];
}

const byId = (a: { instanceId: string }, b: { instanceId: string }) => (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0);

/** The listed identifiers, lower-cased, without repeats, in the order given (RDS stores identifiers lower-case). */
export function listedIds(query: FleetQuery): string[] | undefined {
  if (query.instanceIds === undefined) return undefined;
  return [...new Set(query.instanceIds.map((id) => id.toLowerCase()))];
}

function tagMismatches(tags: Record<string, string>, wanted: Record<string, string> | undefined): string[] {
  return Object.entries(wanted ?? {}).flatMap(([key, value]) => {
    if (!Object.hasOwn(tags, key)) return [`no tag ${key}`];
    return tags[key] === value ? [] : [`tag ${key}=${tags[key]}, not ${value}`];
  });
}

/** Why an instance that was found is left out: another engine, or another current version. */
function engineMismatch(c: FleetCandidate, query: FleetQuery): string | undefined {
  if (c.engine !== query.engine) return `engine ${c.engine}`;
  if (query.engineVersion !== undefined && c.engineVersion !== query.engineVersion) return `at ${c.engineVersion}, not ${query.engineVersion}`;
  return undefined;
}

export function selectFleet<C extends FleetCandidate>(candidates: C[], query: FleetQuery): FleetSelection<C> {
  const out: FleetSelection<C> = { chosen: [], missing: [], excluded: [] };
  const listed = listedIds(query);
  if (listed) {
    const byLowerId = new Map(candidates.map((c) => [c.instanceId.toLowerCase(), c]));
    const given = new Map<string, string>();
    for (const id of query.instanceIds ?? []) if (!given.has(id.toLowerCase())) given.set(id.toLowerCase(), id);
    for (const id of listed) {
      const c = byLowerId.get(id);
      if (!c) {
        out.missing.push(given.get(id) ?? id);
        continue;
      }
      const reasons = [...tagMismatches(c.tags, query.tags), engineMismatch(c, query)].filter((r): r is string => r !== undefined);
      if (reasons.length > 0) out.excluded.push({ instanceId: c.instanceId, reason: reasons.join('; ') });
      else out.chosen.push(c);
    }
    return out;
  }
  for (const c of [...candidates].sort(byId)) {
    if (tagMismatches(c.tags, query.tags).length > 0) continue;
    const reason = engineMismatch(c, query);
    if (reason) out.excluded.push({ instanceId: c.instanceId, reason });
    else out.chosen.push(c);
  }
  return out;
}

/** The tags a member keeps: those of the selection and `keepTags`, when the instance has them. */
export function keptTags(tags: Record<string, string>, query: FleetQuery): Record<string, string> {
  const keys = new Set([...Object.keys(query.tags ?? {}), ...(query.keepTags ?? [])]);
  const out: Record<string, string> = {};
  for (const key of keys) if (Object.hasOwn(tags, key)) out[key] = tags[key] as string;
  return out;
}

/** A member as the activity returns it: plain JSON, no ARN, the kept tags only. */
export function toFleetMember(c: FleetCandidate, query: FleetQuery, pending: FleetMember['pending']): FleetMember {
  const member: FleetMember = {
    region: c.region,
    instanceId: c.instanceId,
    engine: c.engine,
    engineVersion: c.engineVersion,
    status: c.status,
    preferredMaintenanceWindow: c.preferredMaintenanceWindow,
    autoMinorVersionUpgrade: c.autoMinorVersionUpgrade,
    instanceClass: c.instanceClass,
    allocatedStorage: c.allocatedStorage,
    tags: keptTags(c.tags, query),
    pending: withAwsDates(pending, c.preferredMaintenanceWindow),
    readReplicaIds: c.readReplicaIds,
    replicaSourceId: c.replicaSourceId,
  };
  return JSON.parse(JSON.stringify(member)) as FleetMember;
}
