/**
 * `campaign plan` for a fleet stage: reads what the selection finds in each of its places (the same
 * findFleet the campaign's preflight calls), assesses every instance as the preflight does, and takes the
 * waves, windows, window groups, flags and the approval plan from src/domain/fleet.ts, the functions the
 * workflow uses. Sends no mutation. The plan is put in words by ./plan.ts.
 */
import { readFleetPlaceWith, type FleetReaders } from '../activities/fleet-place';
import { atMostAtOnce } from '../domain/at-most-at-once';
import { probeTarget } from '../domain/probe';
import type { FleetFound, FleetMember, ResolvedCampaignSpec, ResolvedStage, UpgradeTarget } from '../api';
import { accountOfRole, describeAccess, locationFor } from '../domain/aws-identity';
import { formatDuration, iso } from '../domain/duration';
import { describeOrder, describeSelection, fleetApprovalPlanId, fleetLocations, fleetQuery, PLACES_AT_ONCE, groupByWindow, nextWindowOf, orderMembers, planWaves, sameNameInSeveralPlaces } from '../domain/fleet';
import { awsAppliesBefore, emptyStagePlan, precheckInstant, type FleetInstancePlan, type FleetPlan, type FleetWavePlan, type StagePlan } from '../domain/plan';
import { pendingUpgradeTo } from '../domain/pending-maintenance';
import { assessStage } from '../domain/preflight';

/** What planning a fleet stage reads (part of the plan's readers). */
export type { FleetReaders };

const key = (m: { region: string; instanceId: string }) => `${m.region}/${m.instanceId}`;

/** The stage as it applies to one member (its region, account and instanceId), exactly as the preflight builds it. */
function memberStage(s: ResolvedStage, loc: Place, m: FleetMember): ResolvedStage {
  const stage: ResolvedStage = { ...s, region: loc.region, instanceId: m.instanceId };
  delete stage.fleet;
  if (loc.aws) stage.aws = loc.aws;
  else delete stage.aws;
  return stage;
}

function emptyFleetPlan(s: ResolvedStage): FleetPlan {
  const fleet = s.fleet!;
  return {
    selection: describeSelection(s),
    order: describeOrder(fleet.order),
    ...(fleet.maxConcurrent !== undefined ? { maxConcurrent: fleet.maxConcurrent } : {}),
    failureThreshold: fleet.failureThreshold,
    locations: [],
    found: 0,
    counts: { upgrade: 0, skip: 0, blocked: 0 },
    excluded: [],
    missing: [],
    waves: [],
    instances: [],
  };
}

export { PLACES_AT_ONCE };

/** One place of a fleet stage, read (or failed), as the plan's progress reports it. */
export interface PlaceRead {
  stage: string;
  /** Places of the stage read so far, this one included, and how many it has. */
  done: number;
  total: number;
  region: string;
  /** The account the place's role is in (whoAmI), when it has one. */
  account?: string;
  /** The members the selection found there (excluded ones not counted). */
  instances: number;
  ms: number;
  error?: string;
}

/** Every place of a fleet stage, read. */
export interface StageRead {
  stage: string;
  places: number;
  failed: number;
  instances: number;
  ms: number;
  atOnce: number;
  slowest?: PlaceRead;
}

/** What a caller of the plan hears while the places of fleet stages are read (the CLI prints it on stderr). */
export interface FleetReadProgress {
  /** A place was read or failed, in the order they finish. */
  place?(read: PlaceRead): void;
  /** Every place of a stage was read. */
  stage?(read: StageRead): void;
}

export interface FleetPlanOptions {
  progress?: FleetReadProgress;
  /** Places read at once (default PLACES_AT_ONCE). */
  placesAtOnce?: number;
}

type Place = ReturnType<typeof fleetLocations>[number];

/** What one place answered: who it is, what the selection found there, and the engine catalogue for each version found. */
interface PlaceFound {
  loc: Place;
  location: FleetPlan['locations'][number];
  found?: FleetFound;
  targetsByVersion: Map<string, UpgradeTarget[]>;
  error?: string;
}

/**
 * Reads one place as the campaign's preflight does (readFleetPlaceWith): whoAmI, findFleet (every page), then the upgrade targets of each version found that is not the
 * target, one after the other: a place is one account and region, whose RDS budget the clients keep.
 */
async function readPlace(s: ResolvedStage, spec: ResolvedCampaignSpec, aws: FleetReaders, loc: Place): Promise<PlaceFound> {
  const where = locationFor(loc.region, loc.aws, spec.campaignId, s.name);
  const access = loc.aws ? { access: describeAccess(loc.aws) } : {};
  let location: FleetPlan['locations'][number] = { region: loc.region, ...access };
  const targetsByVersion = new Map<string, UpgradeTarget[]>();
  try {
    const read = await readFleetPlaceWith(aws, { where, query: fleetQuery(s.fleet!), withAccount: loc.aws !== undefined, targetEngineVersion: spec.targetEngineVersion });
    if (read.identity) location = { region: loc.region, account: read.identity.account, ...access };
    for (const t of read.targets) targetsByVersion.set(`${t.engine} ${t.engineVersion}`, t.targets);
    return { loc, location, found: { members: read.members, missing: read.missing, excluded: read.excluded }, targetsByVersion };
  } catch (err) {
    return { loc, location, targetsByVersion, error: (err as Error).message };
  }
}

/** A place in words: its account (or role) and region. */
export function placeName(p: { region: string; account?: string; roleArn?: string }): string {
  const account = p.account ?? (p.roleArn ? accountOfRole(p.roleArn) : undefined);
  return account ? `${account} ${p.region}` : p.region;
}

/**
 * Reads every place of a fleet stage, PLACES_AT_ONCE at a time. Each place is its own account and region, and
 * RDS throttles per account and region (the clients keep the budget of each: src/activities/clients.ts), so
 * reading places together adds no load to any one of them; the pages of one place are read one after another.
 */
async function readPlaces(s: ResolvedStage, spec: ResolvedCampaignSpec, aws: FleetReaders, opts: FleetPlanOptions): Promise<PlaceFound[]> {
  const places = fleetLocations(s);
  const atOnce = opts.placesAtOnce ?? PLACES_AT_ONCE;
  const started = Date.now();
  const reads: PlaceRead[] = [];
  const found = await atMostAtOnce(places, atOnce, async (loc) => {
    const t0 = Date.now();
    const place = await readPlace(s, spec, aws, loc);
    const read: PlaceRead = { stage: s.name, done: reads.length + 1, total: places.length, region: loc.region, instances: place.found?.members.length ?? 0, ms: Date.now() - t0 };
    const account = place.location.account ?? (loc.aws?.roleArn ? accountOfRole(loc.aws.roleArn) : undefined);
    if (account) read.account = account;
    if (place.error !== undefined) read.error = place.error;
    reads.push(read);
    opts.progress?.place?.(read);
    return place;
  });
  const slowest = reads.reduce<PlaceRead | undefined>((a, b) => (a === undefined || b.ms > a.ms ? b : a), undefined);
  opts.progress?.stage?.({
    stage: s.name,
    places: places.length,
    failed: reads.filter((r) => r.error !== undefined).length,
    instances: reads.reduce((n, r) => n + r.instances, 0),
    ms: Date.now() - started,
    atOnce: Math.min(atOnce, places.length),
    ...(slowest ? { slowest } : {}),
  });
  return found;
}

/**
 * Plans a fleet stage as if it started at `nowMs` and (a stage that requires approval) were approved at once.
 * Returns the stage's plan and the problems that would fail the campaign's preflight. Its places are read
 * together (readPlaces); what they found is then taken in the order of the places, as the preflight does.
 */
export async function planFleetStage(s: ResolvedStage, spec: ResolvedCampaignSpec, aws: FleetReaders, nowMs: number, opts: FleetPlanOptions = {}): Promise<{ plan: StagePlan; problems: string[] }> {
  const fleet = s.fleet!;
  const target = spec.targetEngineVersion;
  const fp = emptyFleetPlan(s);
  const p: StagePlan = { ...emptyStagePlan(s, target), instance: fp.selection, fleet: fp };
  const problems: string[] = [];
  /** The instances to upgrade, in the order the preflight hands them to the waves. */
  const ready: FleetMember[] = [];
  const planned = new Map<string, FleetInstancePlan>();
  const others: FleetInstancePlan[] = [];

  try {
    const places = await readPlaces(s, spec, aws, opts);
    const several = places.length > 1;
    problems.push(...sameNameInSeveralPlaces(s.name, places.flatMap(({ loc, found }) => (found?.members ?? []).map((m) => ({ region: m.region, instanceId: m.instanceId, place: loc.aws?.roleArn ?? loc.aws?.profile ?? "the worker's account" })))));
    for (const { loc, location, found, targetsByVersion, error } of places) {
      fp.locations.push(location);
      if (error !== undefined || !found) {
        // Every place that failed is named; the places read are still listed below.
        problems.push(several ? `${s.name}: ${placeName({ ...location, roleArn: loc.aws?.roleArn })}: ${error}` : `${s.name}: ${error}`);
        continue;
      }
      for (const id of found.missing) {
        fp.missing.push({ region: loc.region, instanceId: id });
        problems.push(`${s.name}: ${loc.region}/${id} is listed but does not exist there`);
      }
      for (const x of found.excluded) {
        fp.excluded.push({ region: loc.region, instanceId: x.instanceId, reason: x.reason });
        // A listed instance the stage cannot take is a mistake in the list; a selection just leaves it out.
        if (fleet.instanceIds) problems.push(`${s.name}: ${loc.region}/${x.instanceId} is listed but ${x.reason}`);
      }
      for (const m of found.members) {
        const targets = m.engineVersion !== target ? (targetsByVersion.get(`${m.engine} ${m.engineVersion}`) ?? []) : [];
        const readiness = assessStage(memberStage(s, loc, m), m, target, targets);
        const i: FleetInstancePlan = { region: m.region, instanceId: m.instanceId, from: m.engineVersion, action: 'upgrade', flags: [] };
        if (m.allocatedStorage !== undefined) i.allocatedStorage = m.allocatedStorage;
        if (Object.keys(m.tags).length) i.tags = m.tags;
        if (readiness.kind === 'problem') {
          problems.push(...readiness.problems);
          others.push({ ...i, action: 'blocked', note: readiness.problems.map((x) => x.replace(`${s.name}: `, '')).join('; ') });
        } else if (readiness.kind === 'skip') {
          others.push({ ...i, action: 'skip', note: readiness.note });
        } else {
          ready.push(m);
          planned.set(key(m), i);
        }
      }
    }
    // Waves are decided only over every place: a place that could not be read would change them.
    if (places.every((x) => x.error === undefined)) {
      if (planned.size + others.length === 0) problems.push(`${s.name}: the selection (${fp.selection}) found no instance; check the tags, version and places it names`);
      decideWaves(s, spec, ready, planned, fp, p, nowMs);
    }
  } catch (err) {
    problems.push(`${s.name}: ${(err as Error).message}`);
  }

  const inWaves = [...planned.values()].sort((a, b) => (a.wave ?? Infinity) - (b.wave ?? Infinity));
  fp.instances = [...inWaves, ...others.filter((i) => i.action === 'blocked'), ...others.filter((i) => i.action === 'skip')];
  fp.found = fp.instances.length;
  for (const i of fp.instances) fp.counts[i.action] += 1;
  p.from = [...new Set(fp.instances.map((i) => i.from))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).join(', ') || undefined;
  const accounts = fp.locations.filter((l) => l.access);
  if (accounts.length) {
    p.account = [...new Set(accounts.map((l) => l.account))].join(', ');
    p.access = [...new Set(accounts.map((l) => l.access))].join(', ');
  }
  p.action = problems.length ? 'blocked' : fp.counts.upgrade > 0 ? 'upgrade' : 'skip';
  if (p.action === 'skip') p.what = [`every instance is already at ${target}`];
  return { plan: p, problems };
}

/** Waves, windows and flags of the instances to upgrade: the window groups of a stage that requires approval, else waves in order. */
function decideWaves(s: ResolvedStage, spec: ResolvedCampaignSpec, ready: FleetMember[], planned: Map<string, FleetInstancePlan>, fp: FleetPlan, p: StagePlan, nowMs: number): void {
  const target = spec.targetEngineVersion;
  const fleet = s.fleet!;
  const threshold = `after ${fleet.failureThreshold} failed instance(s) the stage starts no new one and asks the team to continue or abort`;
  if (ready.length === 0) return;

  if (s.method === 'maintenance-window') {
    const none = ready.filter((m) => !pendingUpgradeTo(m.pending, target));
    for (const m of none) (planned.get(key(m))!.warnings ??= []).push(`AWS lists no pending db-upgrade to ${target} yet`);
    if (none.length) p.warnings.push(`${none.length} instance(s): AWS lists no pending db-upgrade to ${target} yet (${names(none)})`);
    p.what.push(`${target} comes through AutoMinorVersionUpgrade: it is RDS's preferred minor for ${[...new Set(ready.map((m) => m.engineVersion))].join(', ')} (ValidUpgradeTarget AutoUpgrade=true)`);
    p.changes = s.changes ?? 'api';
    if (p.changes === 'terraform') {
      p.what.push('Terraform owns the flag (changes: terraform): each wave asks once for the Terraform change of every instance in it, each instance goes on when AWS shows its flag, and asks for it back (with engine_version) after its window; the campaign changes no flag itself');
    }
  }
  if (s.method === 'blue-green') {
    const bg = s.blueGreen!;
    p.what.push(`Blue/Green per instance: CreateBlueGreenDeployment "${spec.campaignId}-<instance>" at ${target} exactly when the instance starts${s.requiresApproval ? ' (its window group\'s pre-check)' : ''} (a green copy billed like the instance while it exists), waited for until AVAILABLE, then SwitchoverBlueGreenDeployment in its window (SwitchoverTimeout ${bg.switchoverTimeoutSeconds} s); each old blue kept as <instance>-old1 (never deleted: the follow-ups give the commands)`);
  }
  const withReplicas = ready.filter((m) => m.readReplicaIds?.length);
  if (withReplicas.length) p.what.push(`${withReplicas.length} instance(s) with read replicas, upgraded before them by the same method: ${names(withReplicas)}`);

  if (s.requiresApproval) {
    const groups = groupByWindow(ready, nowMs, s, spec.blackouts);
    fp.approvalPlan = fleetApprovalPlanId(s.name, target, groups);
    groups.forEach((g, n) => {
      const wave: FleetWavePlan = { wave: n + 1, instances: g.members.length, window: { start: iso(g.window.startMs), end: iso(g.window.endMs) }, precheckAt: iso(precheckInstant(g.window, s)), flagged: 0 };
      for (const pick of g.members) {
        const i = planned.get(key(pick.member))!;
        i.wave = n + 1;
        i.window = wave.window;
        i.flags = pick.flags;
        if (pick.flags.length) wave.flagged += 1;
      }
      fp.waves.push(wave);
    });
    const flagged = fp.waves.reduce((n, w) => n + w.flagged, 0);
    p.announceAt = 'right after approval, one announcement per window group';
    p.what.push(`needs approval: one approval covers all ${ready.length} instance(s) and their windows, ${groups.length} window group(s), each named below by its start and end; each instance's first window at least ${formatDuration(s.noticeMs)} ahead if approved now`);
    if (s.statusPage.enabled) p.what.push(`one status-page scheduled maintenance "${s.statusPage.name}" per window group, for exactly its window`);
    p.what.push(
      s.method === 'blue-green'
        ? `each window group is a wave: its instances start at the group's pre-check, ${formatDuration(s.precheckBeforeMs)} before the window (each creates its deployment then, and switches over when the window opens)`
        : `each window group is a wave: its instances start at the group's pre-check, ${formatDuration(s.precheckBeforeMs)} before the window (AWS pending maintenance checked, AutoMinorVersionUpgrade on; off after the window)`,
    );
    p.what.push(threshold);
    if (flagged) p.warnings.push(`${flagged} instance(s) flagged (the approval names them): a window moved past a blackout, or AWS applying the upgrade itself before the window`);
    return;
  }

  const waves = planWaves(orderMembers(ready, fleet.order), fleet);
  const size = `${waves.length} wave(s) of up to ${fleet.maxConcurrent ?? 1}, ${fp.order}`;
  if (s.method === 'apply-now') {
    waves.forEach((w, n) => {
      for (const m of w) planned.get(key(m))!.wave = n + 1;
      fp.waves.push({ wave: n + 1, instances: w.length, flagged: 0 });
    });
    p.what.push(`${target} exactly: the pending db-upgrade applied now where AWS lists one, otherwise ModifyDBInstance EngineVersion with ApplyImmediately`);
    p.what.push(`${size}: each instance upgraded immediately when its wave starts, probing ${probeTarget(s.probe!)} at ${s.probe!.ratePerSecond}/s; the next wave starts when the previous one ended`);
    p.what.push(`over ${formatDuration(s.downtimeThresholdMs)} of measured downtime an instance fails; ${threshold}`);
    return;
  }

  // Without approval each instance takes its next window once its wave starts: wave 1 now, each later wave
  // when the previous one ended, at the latest when its last window closed (an estimate: it may end sooner).
  let startMs = nowMs;
  waves.forEach((w, n) => {
    let first = Infinity;
    let lastEnd = -Infinity;
    let flagged = 0;
    for (const m of w) {
      const window = nextWindowOf(m, startMs);
      const i = planned.get(key(m))!;
      i.wave = n + 1;
      i.window = { start: iso(window.startMs), end: iso(window.endMs) };
      if (n > 0) i.windowEstimated = true;
      const awsFirst = awsAppliesBefore(m.pending, window);
      if (awsFirst !== undefined) i.flags.push(`AWS applies the upgrade itself on ${iso(awsFirst)}, before this window`);
      if (i.flags.length) flagged += 1;
      first = Math.min(first, window.startMs);
      lastEnd = Math.max(lastEnd, window.endMs);
    }
    fp.waves.push({ wave: n + 1, instances: w.length, window: { start: iso(first), end: iso(lastEnd) }, ...(n > 0 ? { windowEstimated: true } : {}), flagged });
    startMs = lastEnd;
  });
  p.what.push(`${size}: at its wave's start each instance gets AutoMinorVersionUpgrade on, its next window is watched, the flag goes off afterwards; the next wave starts when the previous one ended`);
  if (waves.length > 1) p.what.push("wave 1's windows are those of a stage starting now; later waves' windows are estimates (the next window after the previous wave's last one)");
  p.what.push(threshold);
  const flagged = fp.waves.reduce((n, w) => n + w.flagged, 0);
  if (flagged) p.warnings.push(`${flagged} instance(s) flagged: AWS would apply the upgrade itself before the window their wave reaches`);
}

function names(members: { instanceId: string }[], max = 10): string {
  return members.slice(0, max).map((m) => m.instanceId).join(', ') + (members.length > max ? `, … ${members.length - max} more` : '');
}
