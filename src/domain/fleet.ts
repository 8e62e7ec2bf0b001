/**
 * A fleet stage's decisions, as pure functions of what AWS reports and the clock: which instances the
 * selection found, their order, the waves, each instance's window and what the plan warns about, the
 * window groups of a stage that requires approval, and the plan an approval names. The workflow and
 * `campaign plan` take them from here, so a dry run and the real run decide the same way.
 */
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import type { FleetInstanceState, FleetMember, FleetOrder, FleetQuery, ResolvedAwsAccess, ResolvedCampaignSpec, ResolvedFleet, ResolvedStage } from '../api';
import { iso } from './duration';
import type { Occurrence } from './maintenance-window';
import { awsAppliesBefore, previewWindow, productionWindow } from './plan';


/** One selected instance, with the stage as it applies to it (its region, account and instanceId). */
export interface FleetEntry {
  member: FleetMember;
  stage: ResolvedStage;
}

export const memberKey = (m: { region: string; instanceId: string }): string => `${m.region}/${m.instanceId}`;

/**
 * A fleet stage tells its instances apart by region and identifier (its child workflows are named so): the same
 * identifier in one region of two of its places (two accounts) would be one instance, and the other would be
 * silently left out. Such names are problems for the preflight and the plan alike: one stage per account.
 */
export function sameNameInSeveralPlaces(stage: string, found: { region: string; instanceId: string; place: string }[]): string[] {
  const places = new Map<string, string[]>();
  for (const f of found) places.set(memberKey(f), [...(places.get(memberKey(f)) ?? []), f.place]);
  return [...places]
    .filter(([, where]) => where.length > 1)
    .map(([key, where]) => `${stage}: ${key} is in ${where.length} of the stage's places (${where.join(', ')}): a fleet stage cannot tell instances of one name in one region apart, so one would be left out; give each account a stage of its own`);
}

/** Where a fleet stage looks: the selection's own places, or the stage's region and account. */
export function fleetLocations(stage: ResolvedStage): { region: string; aws?: ResolvedAwsAccess }[] {
  const f = stage.fleet!;
  if (f.select?.from.length) return f.select.from;
  return [stage.aws ? { region: stage.region, aws: stage.aws } : { region: stage.region }];
}

/** The selection in words, for status, plan and approval texts. */
export function describeSelection(stage: ResolvedStage): string {
  const f = stage.fleet!;
  const where = fleetLocations(stage)
    .map((l) => (l.aws?.roleArn ? `${l.region} (${l.aws.roleArn})` : l.region))
    .join(', ');
  if (f.instanceIds) return `${f.instanceIds.length} listed instance(s) in ${where}`;
  const s = f.select!;
  const tags = Object.entries(s.tags).map(([k, v]) => `${k}=${v}`);
  const parts = [tags.length ? `tags ${tags.join(', ')}` : 'every instance', s.engine, ...(s.engineVersion ? [`at ${s.engineVersion}`] : [])];
  return `${parts.join('; ')}; in ${where}`;
}

export function describeOrder(order: FleetOrder): string {
  return typeof order === 'string' ? order : `by tag ${order.tag}`;
}

/** Tag keys the stage needs to see on each instance: the selection's and the order's. */
export function tagsToKeep(fleet: ResolvedFleet): string[] {
  const keys = new Set(Object.keys(fleet.select?.tags ?? {}));
  if (typeof fleet.order === 'object') keys.add(fleet.order.tag);
  return [...keys].sort();
}

/**
 * How many places (region × account) of a fleet stage are read at once, by `campaign plan` and by a campaign's
 * preflight. RDS keeps a budget per account and region, so places read together add no load to any one of them.
 */
export const PLACES_AT_ONCE = 8;

/** What a fleet stage asks of each of its places (findFleet, readFleetPlace): only the fields it has. */
export function fleetQuery(fleet: ResolvedFleet): FleetQuery {
  const query: FleetQuery = { engine: fleet.select?.engine ?? 'postgres' };
  if (fleet.instanceIds) query.instanceIds = fleet.instanceIds;
  if (fleet.select?.tags) query.tags = fleet.select.tags;
  if (fleet.select?.engineVersion) query.engineVersion = fleet.select.engineVersion;
  query.keepTags = tagsToKeep(fleet);
  return query;
}

/** As `a.localeCompare(b, 'en', { numeric: true })`, whose every call built a collator (a tenth of a 10,000-instance replay). */
const collator = new Intl.Collator('en', { numeric: true });
const byText = (a: string, b: string) => collator.compare(a, b);

/** The stage's order: as listed (the members come in that order), smallest allocated storage first, or by a tag's value. */
export function orderMembers(members: FleetMember[], order: FleetOrder): FleetMember[] {
  const sorted = [...members];
  if (order === 'smallest-first') {
    sorted.sort((a, b) => (a.allocatedStorage ?? 0) - (b.allocatedStorage ?? 0) || byText(a.instanceId, b.instanceId));
  } else if (typeof order === 'object') {
    // An instance without the tag goes last; within one value, by name.
    const value = (m: FleetMember) => m.tags[order.tag];
    sorted.sort((a, b) => {
      const va = value(a);
      const vb = value(b);
      if (va === undefined || vb === undefined) return va === vb ? byText(a.instanceId, b.instanceId) : va === undefined ? 1 : -1;
      return byText(va, vb) || byText(a.instanceId, b.instanceId);
    });
  }
  return sorted;
}

/**
 * Waves of a stage that upgrades now or in each instance's next window: `maxConcurrent` at a time, in order;
 * ordered by a tag, a new value also starts a new wave (wave=1 never mixes with wave=2).
 */
export function planWaves(ordered: FleetMember[], fleet: ResolvedFleet): FleetMember[][] {
  const size = fleet.maxConcurrent ?? 1;
  const tag = typeof fleet.order === 'object' ? fleet.order.tag : undefined;
  const waves: FleetMember[][] = [];
  let current: FleetMember[] = [];
  for (const m of ordered) {
    const newValue = tag !== undefined && current.length > 0 && current[0].tags[tag] !== m.tags[tag];
    if (current.length >= size || newValue) {
      waves.push(current);
      current = [];
    }
    current.push(m);
  }
  if (current.length) waves.push(current);
  return waves;
}

/** One instance of a stage that requires approval: its first window with enough notice, and what to warn about. */
export interface FleetWindowPick {
  member: FleetMember;
  window: Occurrence;
  flags: string[];
}

export interface WindowGroup {
  window: Occurrence;
  members: FleetWindowPick[];
}

/** What makes a window group: its start and its end (two windows opening together, of 30 and 45 minutes, are two groups). */
export function windowGroupKey(window: { startMs: number; endMs: number }): string {
  return `${iso(window.startMs)}..${iso(window.endMs)}`;
}

/**
 * Each instance's production window (the first at least the notice ahead, past blackouts), grouped by
 * window: one announcement, one pre-check time and one wave per group, in time order. A window moved past a
 * blackout, or AWS applying the upgrade itself before the window, is flagged for the plan and the approval.
 */
export function groupByWindow(members: FleetMember[], nowMs: number, stage: ResolvedStage, blackouts: ResolvedCampaignSpec['blackouts']): WindowGroup[] {
  const groups = new Map<string, WindowGroup>();
  for (const member of members) {
    const choice = productionWindow(member.preferredMaintenanceWindow, nowMs, stage, blackouts);
    const flags = choice.skipped.map((k) => `window ${iso(k.window.startMs)} skipped: ${k.reason}`);
    const awsFirst = awsAppliesBefore(member.pending, choice.window);
    if (awsFirst !== undefined) flags.push(`AWS applies the upgrade itself on ${iso(awsFirst)}, before this window`);
    const key = windowGroupKey(choice.window);
    const group = groups.get(key) ?? { window: choice.window, members: [] };
    group.members.push({ member, window: choice.window, flags });
    groups.set(key, group);
  }
  return [...groups.values()].sort((a, b) => a.window.startMs - b.window.startMs || a.window.endMs - b.window.endMs);
}

/** A preview-like stage: the window each instance would use if its wave started now. */
export function nextWindowOf(member: FleetMember, nowMs: number): Occurrence {
  return previewWindow(member.preferredMaintenanceWindow, nowMs);
}

/**
 * What an approval of a fleet stage names: the stage, the version, how many instances in how many windows,
 * and a digest of every instance with its window. Another instance, or any window moved, is another plan.
 */
export function fleetApprovalPlanId(stage: string, targetVersion: string, groups: WindowGroup[]): string {
  const lines = groups.flatMap((g) => g.members.map((p) => `${p.member.region}/${p.member.instanceId}@${iso(g.window.startMs)}`)).sort();
  const digest = bytesToHex(sha256(utf8ToBytes(lines.join('\n')))).slice(0, 16);
  const count = lines.length;
  const first = groups[0] ? iso(groups[0].window.startMs) : 'none';
  const last = groups.length ? iso(groups[groups.length - 1].window.startMs) : 'none';
  return `${stage}|${targetVersion}|${count} instances in ${groups.length} windows ${first}..${last}|sha256:${digest}`;
}

/**
 * How many instances one batch workflow looks after by default (WavesSpec.instancesPerWorkflow), and at most. A
 * batch's history grows by about seven events per instance (its children), so 250 keep it near 1,800 events, and
 * 1000 near 7,000: under Temporal's warning at 10,240, replayed in well under its 10 s workflow-task timeout.
 */
export const DEFAULT_INSTANCES_PER_WORKFLOW = 250;
export const MAX_INSTANCES_PER_WORKFLOW = 500;
/**
 * A batch's input names each of its instances (its own part of the input, a few hundred bytes: fleet-batch-input.ts):
 * the campaign starts at most this many instances' batches in one workflow task, so that one task's commands stay
 * well under gRPC's 4 MB whatever a stage's settings weigh.
 */
export const MEMBERS_STARTED_PER_TASK = 1000;

/**
 * The most batch workflows one campaign starts over all its fleet stages. The campaign's history grows by about
 * 13 events per batch (its start and its end, the workflow tasks they wake, an upsert, at most three signals of
 * failed instances) and 10 per window group (its timer and its announcement): bench/campaign-scale measured
 * 10,710 events at 548 batches and 300 window groups, over Temporal's 10,240-event warning, so 500. Waves decide
 * it: a stage without approval runs a batch per wave (and more when a wave holds more than instancesPerWorkflow), a
 * stage with approval at least one per window group.
 */
export const MAX_BATCHES_PER_CAMPAIGN = 500;
/** The bound of runs started before FLEET_STATUS_LISTS_A_PART_PATCH (held so that their preflight decides as it did). */
export const MAX_BATCHES_BEFORE = 600;

/**
 * At most how many batches a fleet stage runs for `members` (its instances to upgrade): a stage without approval
 * runs its waves (exactly as planWaves cuts them), a stage with approval a window group per distinct window, not
 * known before the approval: at most one per weekly half-hour (7 × 48), and a batch more per instancesPerWorkflow.
 */
/** A stage with approval: a window group per distinct weekly window (at most 7 × 48 half-hours), a batch more per instancesPerWorkflow. */
export function windowGroupBatchesAtMost(instances: number, perWorkflow: number): number {
  return instances === 0 ? 0 : Math.min(instances, 7 * 48) + Math.ceil(instances / perWorkflow);
}

export function batchesAtMost(members: FleetMember[], fleet: ResolvedFleet, requiresApproval: boolean): number {
  const perWorkflow = fleet.instancesPerWorkflow ?? DEFAULT_INSTANCES_PER_WORKFLOW;
  if (members.length === 0) return 0;
  if (requiresApproval) return windowGroupBatchesAtMost(members.length, perWorkflow);
  return planWaves(orderMembers(members, fleet.order), fleet).reduce((n, w) => n + Math.ceil(w.length / perWorkflow), 0);
}

/** The preflight problem of a campaign whose fleet stages would need more batch workflows than one campaign should. */
export function campaignBatchesProblem(batches: number, max = MAX_BATCHES_PER_CAMPAIGN): string | undefined {
  if (batches <= max) return undefined;
  return `the fleet stages would run up to ${batches} waves or batches; one campaign runs at most ${max} (its history grows with each): raise waves.maxConcurrent (a wave of one instance is a workflow of its own) or split the fleet into several campaigns`;
}

/**
 * The most instances one campaign upgrades, over all its fleet stages. Runs started before batches
 * (FLEET_BATCHES_PATCH) kept every instance as the campaign's own child, and were held to 1000. With batches the
 * campaign's history grows by a few events per batch, not per instance (MAX_BATCHES_PER_CAMPAIGN bounds them), and
 * since FLEET_STATUS_LISTS_A_PART_PATCH a status answer or a result lists at most STATUS_LISTS_AT_MOST instances of a
 * stage (fleet-status.ts): Temporal refuses a payload over 2 MB, and a status naming every instance reached 3.4 MB at
 * 10,000 (bench/campaign-scale). What grows with the fleet is the history's bytes: each instance's place read, batch
 * input and end, about 1.4 KB (14.5 MB at 10,000, under Temporal's 50 MB limit), and the campaign's memory.
 */
export const MAX_INSTANCES_PER_CAMPAIGN = 10_000;
/** The cap of runs started with places read together, before FLEET_STATUS_LISTS_A_PART_PATCH: their status named every instance. */
export const STATUS_NAMED_EVERY_INSTANCE_MAX = 3_000;
/** The cap of runs started with batches, before FLEET_PLACES_TOGETHER_PATCH (held so that their preflight decides as it did). */
export const BATCHED_MAX_INSTANCES_BEFORE = 10_000;
/** The cap of runs started before batches: their campaign's own history grew by about seven events per instance. */
export const LEGACY_MAX_INSTANCES = 1000;
/**
 * When the 3,000 cap (STATUS_NAMED_EVERY_INSTANCE_MAX) reached main: commit fd6cb2a, 2026-12-07 06:40:49 UTC. Runs
 * with places read together started on the commits before it (feb23f3 to ff5e85d, from 06:09) took 10,000, and
 * no marker tells them from the runs started after: only their start time does. Without it a campaign of more than
 * 3,000 instances started then failed its preflight on replay (bench/campaign-scale's history of 10,000 instances,
 * recorded at 06:09, met a nondeterminism error at its first batch). The instant is when the code reached main, not
 * which code a worker ran: a worker still on the earlier code after it would be judged by the later cap (those
 * versions were on main for 31 minutes). The run's start is its first event's time (workflowInfo().startTime).
 */
export const STATUS_NAMED_EVERY_INSTANCE_CAP_SINCE_MS = 1_796_625_649_000;

/** What a run decided when it started (its patches, and its start time from its first event): which cap is its. */
export interface CapRules {
  fleetBatches: boolean;
  fleetPlacesTogether: boolean;
  fleetStatusListsAPart: boolean;
  startedMs: number;
}

/** The most instances a run upgrades, by the rules it started under (each kept so that its preflight decides as it did). */
export function campaignInstanceCap(r: CapRules): number {
  if (!r.fleetBatches) return LEGACY_MAX_INSTANCES;
  if (!r.fleetPlacesTogether) return BATCHED_MAX_INSTANCES_BEFORE;
  if (r.fleetStatusListsAPart) return MAX_INSTANCES_PER_CAMPAIGN;
  return r.startedMs < STATUS_NAMED_EVERY_INSTANCE_CAP_SINCE_MS ? BATCHED_MAX_INSTANCES_BEFORE : STATUS_NAMED_EVERY_INSTANCE_MAX;
}

/** The preflight problem of a campaign whose fleet stages would upgrade more than one campaign should, or none. */
export function campaignSizeProblem(toUpgrade: number, max = MAX_INSTANCES_PER_CAMPAIGN): string | undefined {
  if (toUpgrade <= max) return undefined;
  const why = max === LEGACY_MAX_INSTANCES ? 'its history grows with every instance' : max === MAX_INSTANCES_PER_CAMPAIGN ? 'its history holds each instance\'s selection, start and end' : 'its status names every instance and must fit in one answer';
  return `the fleet stages select ${toUpgrade} instances to upgrade; one campaign upgrades at most ${max} (${why}): narrow the selections (tags, engineVersion, places) or split the fleet into several campaigns`;
}

/** `items` cut into the fewest batches of at most `size`, as even as can be, in order. */
export function batchesOf<T>(items: T[], size: number): T[][] {
  const count = Math.max(1, Math.ceil(items.length / Math.max(1, size)));
  const out: T[][] = [];
  let at = 0;
  for (let b = 0; b < count; b++) {
    const n = Math.floor(items.length / count) + (b < items.length % count ? 1 : 0);
    out.push(items.slice(at, at + n));
    at += n;
  }
  return out;
}

/** The workflow of one batch of a fleet stage's wave: findable by id from the campaign's. */
export function fleetBatchId(parentWorkflowId: string, stage: string, wave: number, batch: number): string {
  return `${parentWorkflowId}/${stage}/wave-${wave}/batch-${batch}`;
}

/** The child workflow of one fleet instance: findable by id from the campaign's. */
export function fleetChildId(parentWorkflowId: string, stage: string, member: { region: string; instanceId: string }): string {
  return `${parentWorkflowId}/${stage}/${member.region}/${member.instanceId}`;
}

export function countStates(instances: { state: FleetInstanceState }[]): Record<FleetInstanceState, number> {
  const counts: Record<FleetInstanceState, number> = { pending: 0, running: 0, completed: 0, failed: 0, skipped: 0, aborted: 0 };
  for (const i of instances) counts[i.state] += 1;
  return counts;
}

/** "12 completed, 1 failed, 3 pending" (states with none left out). */
export function describeCounts(counts: Record<FleetInstanceState, number>): string {
  const parts = (Object.keys(counts) as FleetInstanceState[]).filter((k) => counts[k] > 0).map((k) => `${counts[k]} ${k}`);
  return parts.join(', ') || 'no instances';
}
