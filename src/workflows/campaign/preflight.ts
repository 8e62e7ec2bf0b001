/**
 * Before the first change: every instance exists and runs PostgreSQL, the target is a valid minor upgrade
 * the stage's method can bring, the window parses. Every problem of every stage is reported together (a
 * read that keeps failing is one of them) and fails the campaign with nothing changed in AWS.
 */
import { ApplicationFailure, isCancellation } from '@temporalio/workflow';
import { workflowInfo } from '@temporalio/workflow';
import type { CallerIdentity, FleetFound, FleetInstanceReport, InstanceInfo, ResolvedStage, UpgradeTarget } from '../../api';
import { atMostAtOnce } from '../../domain/at-most-at-once';
import { locationFor } from '../../domain/aws-identity';
import { MAX_BATCHES_BEFORE, MAX_BATCHES_PER_CAMPAIGN, batchesAtMost, campaignInstanceCap, campaignBatchesProblem, campaignSizeProblem, countStates, describeOrder, describeSelection, fleetChildId, fleetLocations, fleetQuery, PLACES_AT_ONCE, sameNameInSeveralPlaces } from '../../domain/fleet';
import type { FleetEntry } from '../../domain/fleet';
import { assessStage, needsUpgradeTargets } from '../../domain/preflight';
import { replicaLocation } from '../../domain/estate';
import { PREFLIGHT_ROUNDS } from '../shared/aws-calls';
import { describeError } from '../shared/failures';
import { readReplicas } from './replicas';
import type { CampaignRun } from './run';
import type { StageRun } from './stage-run';

export async function checkEveryInstance(c: CampaignRun): Promise<void> {
  c.step('preflight', 'checking every instance, version and window');
  const problems: string[] = [];
  const bounded = { maxRounds: PREFLIGHT_ROUNDS };
  const estate = c.estateGuard;
  for (let i = 0; i < c.spec.stages.length; i++) {
    const s = c.spec.stages[i];
    const st = c.stage(s);
    const report = st.report;
    if (s.fleet) {
      await checkFleet(c, st, problems, estate);
      continue;
    }
    let info: InstanceInfo;
    let targets: UpgradeTarget[];
    try {
      if (s.aws) await checkAccount(st);
      info = await st.aws('preflight', () => st.a.describeInstance({ where: st.where, instanceId: s.instanceId }), bounded);
      st.info = info;
      report.fromVersion = info.engineVersion;
      targets = needsUpgradeTargets(info, c.spec.targetEngineVersion)
        ? await st.aws('preflight', () => st.a.listUpgradeTargets({ where: st.where, engine: info.engine, engineVersion: info.engineVersion }), bounded)
        : [];
    } catch (err) {
      if (isCancellation(err)) throw err;
      const message = describeError(err);
      problems.push(message.startsWith(`${s.name}: `) ? message : `${s.name}: ${message}`);
      continue;
    }
    const readiness = assessStage(s, info, c.spec.targetEngineVersion, targets);
    if (readiness.kind === 'problem') {
      problems.push(...readiness.problems);
    } else if (readiness.kind === 'skip') {
      report.status = 'skipped';
      report.note = readiness.note;
      if (readiness.pastTarget) {
        report.engineVersionNow = readiness.pastTarget;
        c.status.followUps.push(`${s.name}: ${s.instanceId} ${readiness.note}: set engine_version = "${readiness.pastTarget}" for it in the Terraform code.`);
      }
      st.step('stage-skipped', `${s.instanceId}: ${readiness.note}`);
    } else if (estate) {
      try {
        problems.push(...(await readReplicas(st, info, bounded)));
      } catch (err) {
        if (isCancellation(err)) throw err;
        problems.push(`${s.name}: reading the read replicas of ${s.instanceId}: ${describeError(err)}`);
      }
    }
  }
  const total = [...c.fleets.values()].reduce((n, entries) => n + entries.length, 0);
  // Runs started before batches are held to 1000; runs with batches started before places were read together, to
  // 10,000; then, until a status answer listed a part of a large stage, to 3,000 (from 06:40 UTC on 2026-12-07).
  const cap = campaignInstanceCap({ fleetBatches: c.fleetBatches, fleetPlacesTogether: c.fleetPlacesTogether, fleetStatusListsAPart: c.fleetStatusListsAPart, startedMs: workflowInfo().startTime.getTime() });
  const tooMany = campaignSizeProblem(total, cap);
  if (tooMany) problems.push(tooMany);
  // Runs started before batches had no such bound.
  const batches = c.spec.stages.reduce((n, s) => n + (s.fleet ? batchesAtMost((c.fleets.get(s.name) ?? []).map((e) => e.member), s.fleet, s.requiresApproval) : 0), 0);
  const tooManyBatches = campaignBatchesProblem(batches, c.fleetStatusListsAPart ? MAX_BATCHES_PER_CAMPAIGN : MAX_BATCHES_BEFORE);
  if (tooManyBatches && c.fleetBatches) problems.push(tooManyBatches);
  if (problems.length > 0) {
    throw ApplicationFailure.nonRetryable(`Preflight failed, nothing in AWS was changed:\n- ${problems.join('\n- ')}`, 'PreflightFailed');
  }
  c.step('preflight-passed');
}

/**
 * The stage's role can be assumed and is in the account its ARN names (STS GetCallerIdentity with it). Runs
 * only for stages with `aws`, which no run started before accounts existed has, so their replay is unchanged.
 */
async function checkAccount(st: StageRun): Promise<void> {
  const { stage: s, report } = st;
  const id = await st.aws('preflight', () => st.a.whoAmI({ where: st.where }), { maxRounds: PREFLIGHT_ROUNDS });
  report.account = id.account;
  report.role = s.aws!.roleArn ?? `profile ${s.aws!.profile}`;
  st.step('account-checked', `${s.instanceId} is reached in account ${id.account} as ${id.arn}`);
}

/**
 * A fleet stage: what its selection finds in each of its places (one DescribeDBInstances and one
 * DescribePendingMaintenanceActions pass each), then every instance checked as a one-instance stage is.
 * Instances already at the target are skipped and say so; a listed instance that is missing, or one the
 * target cannot reach, is a problem like any other. A selection that finds nothing is a problem too.
 */
async function checkFleet(c: CampaignRun, st: StageRun, problems: string[], estate: boolean): Promise<void> {
  const { stage: s, report, target } = st;
  const fleet = s.fleet!;
  const entries: FleetEntry[] = [];
  const instances: FleetInstanceReport[] = [];
  const parent = workflowInfo().workflowId;
  const named: { region: string; instanceId: string; place: string }[] = [];
  try {
    const places = fleetLocations(s);
    // Each place is its own account and region (its own RDS budget): PLACES_AT_ONCE read together, one activity each.
    const reads = c.fleetPlacesTogether ? await atMostAtOnce(places, PLACES_AT_ONCE, (loc) => readPlaceAtOnce(st, loc)) : await oneAfterAnother(places, (loc) => readPlaceOneByOne(st, loc));
    for (let p = 0; p < places.length; p++) {
      const loc = places[p];
      const { identity: id, found, targetsByVersion } = reads[p];
      if (loc.aws && id) {
        report.account = report.account && report.account !== id.account ? `${report.account}, ${id.account}` : id.account;
        report.role = loc.aws.roleArn ?? `profile ${loc.aws.profile}`;
        st.step('account-checked', `${loc.region} is reached in account ${id.account} as ${id.arn}`);
      }
      for (const id of found.missing) problems.push(`${s.name}: ${loc.region}/${id} is listed but does not exist there`);
      for (const x of found.excluded) {
        if (fleet.instanceIds) problems.push(`${s.name}: ${loc.region}/${x.instanceId} is listed but ${x.reason}`);
        else st.step('fleet-excluded', `${loc.region}/${x.instanceId}: ${x.reason}`);
      }
      for (const m of found.members) {
        named.push({ region: m.region, instanceId: m.instanceId, place: loc.aws?.roleArn ?? loc.aws?.profile ?? "the worker's account" });
        const stage: ResolvedStage = { ...s, region: loc.region, instanceId: m.instanceId };
        delete stage.fleet;
        if (loc.aws) stage.aws = loc.aws;
        else delete stage.aws;
        // One probe per instance: `{instanceId}` in the URL names each instance's own status endpoint.
        if (s.probe?.url !== undefined) stage.probe = { ...s.probe, url: s.probe.url.split('{instanceId}').join(m.instanceId) };
        const targets = m.engineVersion !== target ? (targetsByVersion.get(`${m.engine} ${m.engineVersion}`) ?? []) : [];
        const readiness = assessStage(stage, m, target, targets);
        const r: FleetInstanceReport = { region: m.region, instanceId: m.instanceId, wave: 0, state: 'pending', fromVersion: m.engineVersion, workflowId: fleetChildId(parent, s.name, m) };
        if (readiness.kind === 'problem') problems.push(...readiness.problems);
        else if (readiness.kind === 'skip') {
          r.state = 'skipped';
          r.note = readiness.note;
        } else entries.push({ member: m, stage });
        instances.push(r);
      }
    }
    problems.push(...sameNameInSeveralPlaces(s.name, named));
  } catch (err) {
    if (isCancellation(err)) throw err;
    const message = describeError(err);
    problems.push(message.startsWith(`${s.name}: `) ? message : `${s.name}: ${message}`);
    return;
  }
  if (estate) leaveReplicasToTheirSources(entries, instances);
  if (instances.length === 0) problems.push(`${s.name}: the selection (${describeSelection(s)}) found no instance; check the tags, version and places it names`);
  report.fleet = {
    selection: describeSelection(s),
    order: describeOrder(fleet.order),
    maxConcurrent: fleet.maxConcurrent,
    failureThreshold: fleet.failureThreshold,
    waves: 0,
    counts: countStates(instances),
    instances,
  };
  c.fleets.set(s.name, entries);
  const skipped = instances.filter((i) => i.state === 'skipped');
  st.step('fleet-selected', `${instances.length} instance(s): ${entries.length} to upgrade, ${skipped.length} already at ${target}${skipped.length ? ` (${skipped.map((i) => i.instanceId).join(', ')})` : ''}`);
  if (instances.length > 0 && entries.length === 0) {
    report.status = 'skipped';
    report.note = `every instance is already at ${target}`;
    st.step('stage-skipped', report.note);
  }
}

type Place = ReturnType<typeof fleetLocations>[number];
interface PlaceRead {
  identity?: CallerIdentity;
  found: FleetFound;
  /** Upgrade targets by `engine version`, for each version found that is not the target. */
  targetsByVersion: Map<string, UpgradeTarget[]>;
}

const whereOf = (st: StageRun, loc: Place) => locationFor(loc.region, loc.aws, st.settings.campaignId, st.name);

/** One activity for the place (readFleetPlace): its account, its instances, their versions' upgrade targets. */
async function readPlaceAtOnce(st: StageRun, loc: Place): Promise<PlaceRead> {
  const input = { where: whereOf(st, loc), query: fleetQuery(st.stage.fleet!), withAccount: loc.aws !== undefined, targetEngineVersion: st.target };
  const r = await st.aws('preflight', () => st.a.readFleetPlace(input), { maxRounds: PREFLIGHT_ROUNDS });
  const found: FleetFound = { members: r.members, missing: r.missing, excluded: r.excluded };
  return { ...(r.identity ? { identity: r.identity } : {}), found, targetsByVersion: new Map(r.targets.map((t) => [`${t.engine} ${t.engineVersion}`, t.targets])) };
}

/** Runs started before FLEET_PLACES_TOGETHER_PATCH: whoAmI, findFleet, then each version's targets, each its own activity, in the order they recorded. */
async function readPlaceOneByOne(st: StageRun, loc: Place): Promise<PlaceRead> {
  const where = whereOf(st, loc);
  const bounded = { maxRounds: PREFLIGHT_ROUNDS };
  const identity = loc.aws ? await st.aws('preflight', () => st.a.whoAmI({ where }), bounded) : undefined;
  const query = fleetQuery(st.stage.fleet!);
  const found = await st.aws('preflight', () => st.a.findFleet({ where, query }), bounded);
  const targetsByVersion = new Map<string, UpgradeTarget[]>();
  for (const m of found.members) {
    const key = `${m.engine} ${m.engineVersion}`;
    if (m.engineVersion === st.target || targetsByVersion.has(key)) continue;
    targetsByVersion.set(key, await st.aws('preflight', () => st.a.listUpgradeTargets({ where, engine: m.engine, engineVersion: m.engineVersion }), bounded));
  }
  return { ...(identity ? { identity } : {}), found, targetsByVersion };
}

async function oneAfterAnother<T, R>(items: readonly T[], read: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (const item of items) out.push(await read(item));
  return out;
}

/**
 * A read replica whose source the stage selected too (in any of its places: an ARN names a source in another
 * region) is upgraded by its source's run, before the source; it gets no run of its own, which would turn the
 * same flag on and off against the source's.
 */
function leaveReplicasToTheirSources(entries: FleetEntry[], instances: FleetInstanceReport[]): void {
  const key = (region: string, id: string) => `${region}/${id.toLowerCase()}`;
  const selected = new Set(entries.map((e) => key(e.member.region, e.member.instanceId)));
  for (let i = entries.length - 1; i >= 0; i--) {
    const m = entries[i].member;
    const source = m.replicaSourceId ? replicaLocation(m.replicaSourceId, m.region) : undefined;
    if (!source || !selected.has(key(source.region, source.instanceId))) continue;
    entries.splice(i, 1);
    const r = instances.find((x) => x.region === m.region && x.instanceId === m.instanceId);
    if (r) Object.assign(r, { state: 'skipped', note: `read replica of ${source.region}/${source.instanceId}: upgraded by its run, before it` });
  }
}
