/**
 * `campaign plan`: a dry run. Reads AWS (describe, engine catalogue, pending maintenance) with the same
 * activity code the worker uses, and takes every decision with the same functions the workflow uses
 * (src/domain/plan.ts), so it prints the dates the campaign will use. Sends no mutation. A fleet stage is
 * read and decided by ./plan-fleet.ts; here the plan is put in words (a fleet stage's part too), the reading's
 * progress with it, and written to a file.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Activities, AllowedSignersFile, InstanceInfo, ResolvedCampaignSpec } from '../api';
import { replicaLocation } from '../domain/estate';
import { approvalSummary, emptyStagePlan, noticeOverride, planStage, type CampaignPlan, type FleetPlan, type StagePlan } from '../domain/plan';
import { describeAccess, locationFor } from '../domain/aws-identity';
import { needsUpgradeTargets } from '../domain/preflight';
import { DEFAULT_INSTANCES_PER_WORKFLOW, campaignBatchesProblem, campaignSizeProblem, windowGroupBatchesAtMost } from '../domain/fleet';
import { SPEC_ONLY_NOTE, readSigners } from '../domain/identity/identity';
import { describeWindowGroup } from '../domain/window-group';
import { SHOWN_BY_DEFAULT, instancesToShow, table } from './format';
import { CliError } from './io';
import { placeName, planFleetStage, type FleetPlanOptions, type PlaceRead, type StageRead } from './plan-fleet';

export type { CampaignPlan, StagePlan } from '../domain/plan';

/** What the plan reads: the worker's read-only activities (or a fake in tests). */
export type PlanReaders = Pick<Activities, 'whoAmI' | 'describeInstance' | 'listUpgradeTargets' | 'listPendingMaintenance' | 'findFleet'>;

/** `opts`: how a fleet stage's places are read, and who hears of each (progress). */
export async function planCampaign(spec: ResolvedCampaignSpec, aws: PlanReaders, nowMs: number = Date.now(), opts: FleetPlanOptions = {}): Promise<CampaignPlan> {
  const problems: string[] = [];
  const stages: StagePlan[] = [];
  for (const s of spec.stages) {
    if (s.fleet) {
      const planned = await planFleetStage(s, spec, aws, nowMs, opts);
      stages.push(planned.plan);
      problems.push(...planned.problems);
      continue;
    }
    // A failing read blocks this stage only: every problem of every stage is reported, not only the first.
    // The same location the workflow uses: the stage's role, with the session name the campaign will use.
    const where = locationFor(s.region, s.aws, spec.campaignId, s.name);
    const access = s.aws ? { access: describeAccess(s.aws) } : {};
    try {
      const account = s.aws ? { account: (await aws.whoAmI({ where })).account } : {};
      const info = await aws.describeInstance({ where, instanceId: s.instanceId });
      const targets = needsUpgradeTargets(info, spec.targetEngineVersion) ? await aws.listUpgradeTargets({ where, engine: info.engine, engineVersion: info.engineVersion }) : [];
      const first = planStage(s, spec, { info, targets }, nowMs);
      const replicas = first.plan.action === 'upgrade' ? await readReplicas(aws, spec, s, info.readReplicaIds ?? [], problems) : [];
      const planned = first.plan.action === 'upgrade' ? planStage(s, spec, { info, targets, pending: await aws.listPendingMaintenance({ where, instanceId: s.instanceId, preferredMaintenanceWindow: info.preferredMaintenanceWindow }), replicas }, nowMs) : first;
      stages.push({ ...planned.plan, ...account, ...access });
      problems.push(...planned.problems);
    } catch (err) {
      problems.push(`${s.name}: ${(err as Error).message}`);
      stages.push({ ...emptyStagePlan(s, spec.targetEngineVersion), ...access, action: 'blocked' });
    }
  }
  const tooMany = campaignSizeProblem(stages.reduce((n, st) => n + (st.fleet?.counts.upgrade ?? 0), 0));
  if (tooMany) problems.push(tooMany);
  // As the preflight counts them: a stage without approval its waves' batches; with approval, at most one per window.
  const batches = spec.stages.reduce((n, s, i) => {
    const f = stages[i]?.fleet;
    if (!s.fleet || !f) return n;
    const perWorkflow = s.fleet.instancesPerWorkflow ?? DEFAULT_INSTANCES_PER_WORKFLOW;
    const upgrade = f.counts.upgrade;
    return n + (s.requiresApproval ? windowGroupBatchesAtMost(upgrade, perWorkflow) : f.waves.reduce((k, w) => k + Math.ceil(w.instances / perWorkflow), 0));
  }, 0);
  const tooManyBatches = campaignBatchesProblem(batches);
  if (tooManyBatches) problems.push(tooManyBatches);
  return {
    campaignId: spec.campaignId,
    target: spec.targetEngineVersion,
    requester: spec.requester,
    plannedAt: new Date(nowMs).toISOString(),
    approvals: approvalSummary(spec),
    noticeOverride: noticeOverride(spec),
    stages,
    problems,
  };
}

/** The instance's read replicas, each read where RDS lists it (its region; an ARN names another). */
async function readReplicas(aws: PlanReaders, spec: ResolvedCampaignSpec, s: ResolvedCampaignSpec['stages'][number], listed: string[], problems: string[]): Promise<InstanceInfo[]> {
  const out: InstanceInfo[] = [];
  for (const id of listed) {
    const loc = replicaLocation(id, s.region);
    try {
      out.push(await aws.describeInstance({ where: locationFor(loc.region, s.aws, spec.campaignId, s.name), instanceId: loc.instanceId }));
    } catch (err) {
      problems.push(`${s.name}: read replica ${id} of ${s.instanceId}: ${(err as Error).message}`);
    }
  }
  return out;
}

/**
 * What the plan can say about identities: the workers decide (their ORCHESTRATOR_ALLOWED_SIGNERS); this
 * machine's setting, when it has one, is read and checked as the workers would.
 */
export function planIdentities(allowedSignersFile: string | undefined, problems: string[], runList?: AllowedSignersFile): string {
  const own = runList ? readSigners(runList) : undefined;
  if (!allowedSignersFile) {
    if (own) return `verified against the spec's own list (${own.principals.join(', ')}) unless the workers have ORCHESTRATOR_ALLOWED_SIGNERS too (then both must accept each key); ${SPEC_ONLY_NOTE}`;
    return 'unverified unless the workers have ORCHESTRATOR_ALLOWED_SIGNERS (then the start and every approval, decision, pause, resume and abort must be signed with an SSH key it lists); without it, names typed with --as are recorded as unverified';
  }
  try {
    const signers = readSigners({ source: allowedSignersFile, text: fs.readFileSync(allowedSignersFile, 'utf8') });
    const narrowed = own ? `, narrowed by the spec's own list (${own.principals.join(', ')}): a key must be in both` : '';
    return `verified: sign the start and every action with an SSH key listed in ${allowedSignersFile} (${signers.principals.join(', ')})${narrowed}, if the workers use the same list`;
  } catch (err) {
    problems.push(`ORCHESTRATOR_ALLOWED_SIGNERS=${allowedSignersFile}: ${(err as Error).message}`);
    return `the allowed signers ${allowedSignersFile} are refused (see problems)`;
  }
}

/**
 * Writes the whole plan as JSON (what --json prints: every instance of every fleet stage) to `file`, through a
 * file beside it renamed into place, so a reader never sees half a plan. Returns what it holds, in words.
 */
export function writePlanFile(file: string, plan: CampaignPlan): string {
  const tmp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, `${JSON.stringify(plan, null, 2)}\n`);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw new CliError(`could not write the plan to ${file}: ${(err as Error).message}`, 2);
  }
  const fleets = plan.stages.filter((st) => st.fleet);
  const instances = fleets.reduce((n, st) => n + st.fleet!.instances.length, 0);
  return `${plan.stages.length} stage(s)${fleets.length ? `, ${instances} instance(s) of ${fleets.length} fleet stage(s)` : ''}`;
}

/** The plan in words; a fleet stage lists at most SHOWN_BY_DEFAULT instances unless `all` (its --json has every one). */
export function formatPlan(plan: CampaignPlan, opts: { all?: boolean } = {}): string {
  const lines = [
    `Campaign ${plan.campaignId}: PostgreSQL → ${plan.target}, requested by ${plan.requester} (planned at ${plan.plannedAt})`,
    `Approvals: ${plan.approvals}`,
  ];
  if (plan.identities) lines.push(`Identities: ${plan.identities}`);
  if (plan.noticeOverride) lines.push(`NOTICE OVERRIDE: ${plan.noticeOverride}`);
  for (const s of plan.stages) {
    if (s.fleet) {
      lines.push('', ...formatFleetStagePlan(s, opts));
      continue;
    }
    lines.push('', `[${s.name}] ${s.instance} ${s.from ?? '?'} → ${s.to}  (${s.method}, ${s.action})`);
    if (s.access) lines.push(`  account:    ${s.account ?? '?'} through ${s.access}`);
    if (s.window) lines.push(`  window:     ${s.window.start} – ${s.window.end}`);
    if (s.announceAt) lines.push(`  announce:   ${s.announceAt}`);
    if (s.precheckAt) lines.push(`  pre-check:  ${s.precheckAt}`);
    for (const r of s.replicas ?? []) lines.push(`  replica:    ${r.instance} ${r.from} → ${s.to}${r.window ? `, its window ${r.window.start} – ${r.window.end}` : ', now'} (before ${s.instance})`);
    if (s.awsAppliesBy) lines.push(`  AWS applies by: ${s.awsAppliesBy}`);
    for (const k of s.skippedWindows) lines.push(`  skipped:    ${k}`);
    for (const w of s.what) lines.push(`  - ${w}`);
    for (const w of s.warnings) lines.push(`  ! ${w}`);
  }
  if (plan.problems.length) lines.push('', 'PROBLEMS (the campaign would fail before changing anything):', ...plan.problems.map((p) => `  - ${p}`));
  else lines.push('', 'Preflight would pass. Nothing was changed.');
  return lines.join('\n');
}

/** A place read, as one line of progress: "[production] read 37/100 places: 444444444444 eu-west-2: 100 instance(s), 2.1 s". */
export function formatPlaceRead(r: PlaceRead): string {
  const what = r.error !== undefined ? `FAILED after ${seconds(r.ms)}: ${r.error}` : `${r.instances} instance(s), ${seconds(r.ms)}`;
  return `[${r.stage}] read ${r.done}/${r.total} places: ${placeName(r)}: ${what}`;
}

/** A fleet stage's places, read: one line. */
export function formatStageRead(r: StageRead): string {
  const slowest = r.slowest && r.places > 1 ? `; slowest ${placeName(r.slowest)}, ${seconds(r.slowest.ms)}` : '';
  const failed = r.failed ? `; ${r.failed} FAILED (see the problems)` : '';
  return `[${r.stage}] read ${r.places} place(s) in ${seconds(r.ms)}, ${r.atOnce} at a time: ${r.instances} instance(s)${failed}${slowest}`;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const short = (isoText: string) => isoText.replace(':00.000Z', 'Z');

function windowText(w: { start: string; end: string } | undefined, estimated?: boolean): string {
  return w ? `${short(w.start)} – ${short(w.end)}${estimated ? ' (est.)' : ''}` : '';
}

/** A selection's places are named one by one up to this many; more are counted (the JSON and --all name each). */
const PLACES_NAMED = 4;

/**
 * The selection in words, its places counted when there are many (a stage over 50 accounts × 2 regions would
 * otherwise open with every role's ARN): "tags …; postgres; in 100 places: 50 account(s) in eu-west-1, eu-west-2".
 */
function selectionInShort(f: FleetPlan): string {
  if (f.locations.length <= PLACES_NAMED) return f.selection;
  // describeSelection ends with its places, from the first one's region on.
  const at = f.selection.lastIndexOf(` in ${f.locations[0].region}`);
  if (at < 0) return f.selection;
  const accounts = new Set(f.locations.map((l) => l.account ?? l.access ?? "the worker's own"));
  const regions = [...new Set(f.locations.map((l) => l.region))].sort();
  return `${f.selection.slice(0, at)} in ${f.locations.length} places: ${accounts.size} account(s) in ${regions.join(', ')}`;
}

/** A fleet stage of the plan, in words (at most SHOWN_BY_DEFAULT instances and waves unless `all`). */
export function formatFleetStagePlan(s: StagePlan, opts: { all?: boolean } = {}): string[] {
  const f = s.fleet!;
  const limit = opts.all ? Infinity : SHOWN_BY_DEFAULT;
  const lines = [`[${s.name}] fleet: ${opts.all ? f.selection : selectionInShort(f)}  ${s.from ?? '?'} → ${s.to}  (${s.method}, ${s.action})`];
  const parts = [`${f.counts.upgrade} to upgrade`, `${f.counts.skip} already at ${s.to}`, ...(f.counts.blocked ? [`${f.counts.blocked} blocked`] : [])];
  lines.push(`  found:      ${f.found} instance(s): ${parts.join(', ')}${f.excluded.length ? `; ${f.excluded.length} excluded` : ''}${f.missing.length ? `; ${f.missing.length} MISSING` : ''}`);
  const reached = f.locations.filter((x) => x.access);
  for (const l of reached.slice(0, limit)) lines.push(`  account:    ${l.region}: ${l.account ?? '?'} through ${l.access}`);
  if (reached.length > limit) lines.push(`  account:    … ${reached.length - limit} more place(s) (--all lists them)`);
  for (const m of f.missing) lines.push(`  missing:    ${m.region}/${m.instanceId} (listed, does not exist there)`);
  for (const x of f.excluded.slice(0, limit)) lines.push(`  excluded:   ${x.region}/${x.instanceId}: ${x.reason}`);
  if (f.excluded.length > limit) lines.push(`  excluded:   … ${f.excluded.length - limit} more`);
  const how = f.maxConcurrent !== undefined ? `up to ${f.maxConcurrent} at a time, ${f.order}` : 'one wave per window group';
  lines.push(`  waves:      ${f.waves.length} (${how}); stops and asks after ${f.failureThreshold} failed instance(s)`);
  if (s.announceAt) lines.push(`  announce:   ${s.announceAt}`);
  for (const w of f.waves.slice(0, limit)) {
    const group = () => describeWindowGroup({ ...w.window!, instances: f.instances.filter((i) => i.wave === w.wave).map((i) => i.instanceId) }, '--all lists them');
    const when = w.window ? (f.approvalPlan ? `window group ${group()}` : `windows from ${short(w.window.start)}${w.windowEstimated ? ' (est.)' : ''}`) : '';
    const pre = w.precheckAt ? `  pre-check ${short(w.precheckAt)}` : '';
    lines.push(`    wave ${String(w.wave).padEnd(4)} ${String(w.instances).padStart(4)} instance(s)  ${when}${pre}${w.flagged ? `  ${w.flagged} FLAGGED` : ''}`.trimEnd());
  }
  if (f.waves.length > limit) lines.push(`    … ${f.waves.length - limit} more wave(s)`);
  if (f.approvalPlan) lines.push(`  approval:   ${f.approvalPlan}`);
  for (const w of s.what) lines.push(`  - ${w}`);
  for (const w of s.warnings) lines.push(`  ! ${w}`);
  if (f.instances.length) {
    const shown = instancesToShow(f.instances, limit, (i) => i.action === 'blocked' || i.flags.length > 0);
    const head = shown.length < f.instances.length ? `${shown.length} of ${f.instances.length}, blocked and flagged first; --all lists every one, --json has everything` : `${f.instances.length}`;
    lines.push(`  instances (${head}):`);
    const rows = [['WAVE', 'INSTANCE', 'FROM', 'ACTION', 'WINDOW', 'NOTE'], ...shown.map((i) => [
      i.wave !== undefined ? String(i.wave) : '-',
      `${i.region}/${i.instanceId}`,
      i.from,
      i.action,
      windowText(i.window, i.windowEstimated),
      [...(i.note ? [i.note] : []), ...i.flags.map((x) => `FLAG ${x}`), ...(i.warnings ?? [])].join('; '),
    ])];
    lines.push(...table(rows).split('\n').map((l) => `    ${l}`));
  }
  return lines;
}
