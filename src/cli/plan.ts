/**
 * `campaign plan`: a dry run. Reads AWS (describe, engine catalogue, pending maintenance) with the same
 * activity code the worker uses, applies the workflow's own preflight rules and window maths, and
 * prints every date the campaign would use. Sends no mutation.
 */
import { createActivities, type Activities } from '../activities';
import type { CampaignSpec } from '../api';
import type { Config } from '../config';
import { formatDuration } from '../duration';
import { validateCampaignSpec, type ResolvedCampaignSpec, type ResolvedStage } from '../spec';
import { firstWindowAtLeast, nextWindowStartingAfter, windowContaining } from '../workflows/maintenance-window';
import { assessStage, needsUpgradeTargets } from '../workflows/preflight';

export interface StagePlan {
  name: string;
  instance: string;
  method: string;
  from?: string;
  to: string;
  action: 'upgrade' | 'skip' | 'blocked';
  what: string[];
  window?: { start: string; end: string };
  announceAt?: string;
  precheckAt?: string;
  skippedWindows: string[];
  awsAppliesBy?: string;
  warnings: string[];
}

export interface CampaignPlan {
  campaignId: string;
  target: string;
  requester: string;
  plannedAt: string;
  approvals: string;
  noticeOverride?: string;
  stages: StagePlan[];
  problems: string[];
}

const iso = (ms: number) => new Date(ms).toISOString();

export async function planCampaign(spec: CampaignSpec, config: Config, nowMs: number = Date.now()): Promise<CampaignPlan> {
  const r = validateCampaignSpec(spec);
  const a = createActivities({ config });
  const problems: string[] = [];
  const stages: StagePlan[] = [];
  for (const s of r.stages) {
    const p: StagePlan = { name: s.name, instance: `${s.region}/${s.instanceId}`, method: s.method, to: r.targetEngineVersion, action: 'upgrade', what: [], skippedWindows: [], warnings: [] };
    stages.push(p);
    // A failing read blocks this stage only: every problem of every stage is reported, not only the first.
    try {
      await planStage(a, s, p, r, problems, nowMs);
    } catch (err) {
      problems.push(`${s.name}: ${(err as Error).message}`);
      p.action = 'blocked';
    }
  }
  const approvers = r.approval.approvers.length ? r.approval.approvers.join(', ') : `anyone but ${r.requester}`;
  const overridden = r.stages.find((s) => s.requiresApproval && s.noticeOverrideReason);
  return {
    campaignId: r.campaignId,
    target: r.targetEngineVersion,
    requester: r.requester,
    plannedAt: iso(nowMs),
    approvals: `${r.approval.minApprovals} approval(s) by ${approvers} before ${r.stages.filter((s) => s.requiresApproval).map((s) => s.name).join(', ') || 'no stage'}`,
    noticeOverride: overridden ? `${overridden.name}: notice ${formatDuration(overridden.noticeMs)} (${overridden.noticeOverrideReason})` : undefined,
    stages,
    problems,
  };
}

async function planStage(a: Activities, s: ResolvedStage, p: StagePlan, r: ResolvedCampaignSpec, problems: string[], nowMs: number): Promise<void> {
  const info = await a.describeInstance(s.region, s.instanceId);
  p.from = info.engineVersion;
  const targets = needsUpgradeTargets(info, r.targetEngineVersion) ? await a.listUpgradeTargets(s.region, info.engine, info.engineVersion) : [];
  const readiness = assessStage(s, info, r.targetEngineVersion, targets);
  if (readiness.kind === 'problem') {
    problems.push(...readiness.problems);
    p.action = 'blocked';
    return;
  }
  if (readiness.kind === 'skip') {
    p.action = 'skip';
    p.what.push(readiness.note);
    return;
  }
  const pending = await a.listPendingMaintenance(s.region, s.instanceId);
  const upgrade = pending.find((x) => x.action === 'db-upgrade' && (x.description ?? '').includes(r.targetEngineVersion));
  if (s.method === 'maintenance-window') {
    p.what.push(`${r.targetEngineVersion} comes through AutoMinorVersionUpgrade: it is RDS's preferred minor for ${info.engineVersion} (ValidUpgradeTarget AutoUpgrade=true)`);
    if (!upgrade) p.warnings.push(`AWS lists no pending db-upgrade to ${r.targetEngineVersion} yet`);
  } else {
    p.what.push(`${r.targetEngineVersion} exactly: ${upgrade ? 'the pending db-upgrade applied now' : 'ModifyDBInstance EngineVersion with ApplyImmediately'}`);
  }
  const awsDates = pending.filter((x) => x.action === 'db-upgrade').flatMap((x) => [x.autoAppliedAfterDate, x.forcedApplyDate]).filter((d): d is string => Boolean(d));
  if (awsDates.length) p.awsAppliesBy = awsDates.sort()[0];
  describeStage(s, p, info.preferredMaintenanceWindow, r.blackouts, nowMs);
  if (p.awsAppliesBy && p.window && Date.parse(p.awsAppliesBy) < Date.parse(p.window.start)) {
    p.warnings.push(`AWS would apply the upgrade on ${p.awsAppliesBy}, before the window: the campaign will escalate`);
  }
}

function describeStage(s: ResolvedStage, p: StagePlan, windowText: string, blackouts: { fromMs: number; toMs: number; reason?: string }[], nowMs: number): void {
  if (s.method === 'apply-now') {
    p.what.push(`upgrade immediately when the stage starts, probing ${s.probe!.url} at ${s.probe!.ratePerSecond}/s`);
    p.what.push(`over ${formatDuration(s.downtimeThresholdMs)} of measured downtime: wait for a team decision`);
    return;
  }
  if (!s.requiresApproval) {
    const w = windowContaining(windowText, nowMs) ?? nextWindowStartingAfter(windowText, nowMs);
    p.window = { start: iso(w.startMs), end: iso(w.endMs) };
    p.what.push('AutoMinorVersionUpgrade on now, watch the window, flag off afterwards');
    p.what.push(`if the campaign reaches this stage later, the next window after that (${windowText} UTC)`);
    return;
  }
  // Assumes approval now; a later approval moves the window (the campaign asks again).
  const choice = firstWindowAtLeast(windowText, nowMs, s.noticeMs, blackouts);
  p.window = { start: iso(choice.window.startMs), end: iso(choice.window.endMs) };
  p.skippedWindows = choice.skipped.map((k) => `${iso(k.window.startMs)} (${k.reason})`);
  p.announceAt = 'right after approval';
  p.precheckAt = iso(choice.window.startMs - s.precheckBeforeMs);
  p.what.push(`needs approval; first window at least ${formatDuration(s.noticeMs)} ahead if approved now`);
  if (s.statusPage.enabled) p.what.push(`status-page scheduled maintenance "${s.statusPage.name}" for exactly the window`);
  p.what.push(`pre-check of AWS pending maintenance ${formatDuration(s.precheckBeforeMs)} before, then AutoMinorVersionUpgrade on; off after the window`);
}

export function formatPlan(plan: CampaignPlan): string {
  const lines = [
    `Campaign ${plan.campaignId}: PostgreSQL → ${plan.target}, requested by ${plan.requester} (planned at ${plan.plannedAt})`,
    `Approvals: ${plan.approvals}`,
  ];
  if (plan.noticeOverride) lines.push(`NOTICE OVERRIDE: ${plan.noticeOverride}`);
  for (const s of plan.stages) {
    lines.push('', `[${s.name}] ${s.instance} ${s.from ?? '?'} → ${s.to}  (${s.method}, ${s.action})`);
    if (s.window) lines.push(`  window:     ${s.window.start} – ${s.window.end}`);
    if (s.announceAt) lines.push(`  announce:   ${s.announceAt}`);
    if (s.precheckAt) lines.push(`  pre-check:  ${s.precheckAt}`);
    if (s.awsAppliesBy) lines.push(`  AWS applies by: ${s.awsAppliesBy}`);
    for (const k of s.skippedWindows) lines.push(`  skipped:    ${k}`);
    for (const w of s.what) lines.push(`  - ${w}`);
    for (const w of s.warnings) lines.push(`  ! ${w}`);
  }
  if (plan.problems.length) lines.push('', 'PROBLEMS (the campaign would fail before changing anything):', ...plan.problems.map((p) => `  - ${p}`));
  else lines.push('', 'Preflight would pass. Nothing was changed.');
  return lines.join('\n');
}
