/**
 * `campaign plan`: a dry run. Reads AWS (describe, engine catalogue, pending maintenance) with the same
 * activity code the worker uses, and takes every decision with the same functions the workflow uses
 * (src/domain/plan.ts), so it prints the dates the campaign will use. Sends no mutation.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Activities, AllowedSignersFile, InstanceInfo, ResolvedCampaignSpec } from '../api';
import { replicaLocation } from '../domain/estate';
import { approvalSummary, emptyStagePlan, noticeOverride, planStage, type CampaignPlan, type StagePlan } from '../domain/plan';
import { describeAccess, locationFor } from '../domain/aws-identity';
import { needsUpgradeTargets } from '../domain/preflight';
import { campaignSizeProblem } from '../domain/fleet';
import { SPEC_ONLY_NOTE, readSigners } from '../domain/identity/identity';
import { CliError } from './io';
import { formatFleetStagePlan, planFleetStage, type FleetPlanOptions } from './plan-fleet';

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
      const planned = first.plan.action === 'upgrade' ? planStage(s, spec, { info, targets, pending: await aws.listPendingMaintenance({ where, instanceId: s.instanceId }), replicas }, nowMs) : first;
      stages.push({ ...planned.plan, ...account, ...access });
      problems.push(...planned.problems);
    } catch (err) {
      problems.push(`${s.name}: ${(err as Error).message}`);
      stages.push({ ...emptyStagePlan(s, spec.targetEngineVersion), ...access, action: 'blocked' });
    }
  }
  const tooMany = campaignSizeProblem(stages.reduce((n, st) => n + (st.fleet?.counts.upgrade ?? 0), 0));
  if (tooMany) problems.push(tooMany);
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
