/**
 * The campaign's decisions, as pure functions of what AWS reports and the clock: which maintenance window
 * each stage uses, when production is announced and pre-checked, which approval plan is asked for, and
 * what the notice override says. The workflow takes its decisions from these functions and `campaign plan`
 * prints them, so a dry run and a real run decide the same way (test/domain/plan-equals-run.test.ts).
 */
import { probeTarget } from './probe';
import type { InstanceInfo, PendingMaintenanceAction, ResolvedCampaignSpec, ResolvedStage, UpgradeTarget } from '../api';
import { formatDuration, iso } from './duration';
import { firstWindowAtLeast, nextWindowStartingAfter, windowContaining, type Blackout, type Occurrence, type WindowChoice } from './maintenance-window';
import { awsUpgradeDeadline, pendingUpgradeTo, upgradeNowBy } from './pending-maintenance';
import { assessStage } from './preflight';
import { blueGreenDeploymentName, oldBlueName } from './blue-green';
import { DEFAULT_REARM_BEFORE_MS, replicaWindow, standingOf, terraformChangeText } from './estate';

/** Fourteen days: below it the spec must give a reason, shown in status and plan. */
export const MIN_NOTICE_WITHOUT_OVERRIDE_MS = 14 * 86_400_000;


/** preview: the window open now, or else the next one (AutoMinorVersionUpgrade is turned on right away). */
export function previewWindow(windowText: string, nowMs: number): Occurrence {
  return windowContaining(windowText, nowMs) ?? nextWindowStartingAfter(windowText, nowMs);
}

/** production: the first window at least the notice ahead of `nowMs` (the approval), skipping blackouts. */
export function productionWindow(windowText: string, nowMs: number, stage: ResolvedStage, blackouts: Blackout[]): WindowChoice {
  return firstWindowAtLeast(windowText, nowMs, stage.noticeMs, blackouts);
}

/** "Check a few days before the expected day that AWS lists the pending maintenance." */
export function precheckInstant(window: Occurrence, stage: ResolvedStage): number {
  return window.startMs - stage.precheckBeforeMs;
}

/** What an approval names: the stage, the version and the window. A moved window needs a new approval. */
export function approvalPlanId(stage: string, targetVersion: string, windowStartMs: number): string {
  return `${stage}|${targetVersion}|${iso(windowStartMs)}`;
}

/** Whether AWS would apply the upgrade itself before `window` (then the campaign asks the team). */
export function awsAppliesBefore(pending: PendingMaintenanceAction[], window: Occurrence): number | undefined {
  const deadline = awsUpgradeDeadline(pending);
  return deadline !== undefined && deadline < window.startMs ? deadline : undefined;
}

/** The shortened notice, if a stage that needs approval has one: shown in status and in the plan. */
export function noticeOverride(spec: ResolvedCampaignSpec): string | undefined {
  const s = spec.stages.find((x) => x.requiresApproval && x.noticeMs < MIN_NOTICE_WITHOUT_OVERRIDE_MS);
  return s ? `${s.name}: notice ${formatDuration(s.noticeMs)} instead of 14d (${s.noticeOverrideReason})` : undefined;
}

export function approvalSummary(spec: ResolvedCampaignSpec): string {
  const approvers = spec.approval.approvers.length ? spec.approval.approvers.join(', ') : `anyone but ${spec.requester}`;
  const gated = spec.stages.filter((s) => s.requiresApproval).map((s) => s.name).join(', ') || 'no stage';
  return `${spec.approval.minApprovals} approval(s) by ${approvers} before ${gated}`;
}

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
  /** The stage's account and how it is reached (its role or profile), when not the worker's own. */
  account?: string;
  access?: string;
  /** A fleet stage: what the selection found and what would happen to each instance (`instance` is then the selection in words). */
  fleet?: FleetPlan;
  /** Who changes the flag: the campaign (api) or the team's Terraform. */
  changes?: 'api' | 'terraform';
  /** The instance's read replicas, upgraded before it (their own window for a maintenance-window stage). */
  replicas?: { instance: string; from: string; window?: { start: string; end: string } }[];
  /** method blue-green: the deployment the stage would create. */
  blueGreen?: { deploymentName: string; targetEngineVersion: string; targetParameterGroup?: string; switchoverTimeoutSeconds: number; switchover: 'window' | 'now' };
}

/** One instance of a fleet stage in the plan: what would happen to it. */
export interface FleetInstancePlan {
  region: string;
  instanceId: string;
  from: string;
  /** upgrade; skip (already at the target); blocked (a problem, listed in the plan's problems). */
  action: 'upgrade' | 'skip' | 'blocked';
  /** 1-based, in the stage's order (a stage that requires approval: its window group). Absent unless upgraded. */
  wave?: number;
  /** Its maintenance window (not for apply-now). */
  window?: { start: string; end: string };
  /**
   * The window is an estimate: a later wave of a stage without approval starts when the previous wave ended,
   * so its window is the next one after the previous wave's last window (earlier if that wave ends sooner).
   */
  windowEstimated?: boolean;
  /** What the run flags too (an approval names them): a window moved past a blackout, AWS applying the upgrade itself first. */
  flags: string[];
  /** What else the plan warns about (AWS lists no pending upgrade to the target yet). */
  warnings?: string[];
  /** Why it is skipped or blocked. */
  note?: string;
  allocatedStorage?: number;
  /** The tags the selection and the order look at. */
  tags?: Record<string, string>;
}

/** A fleet stage's wave (a stage that requires approval: a window group, announced once and pre-checked once). */
export interface FleetWavePlan {
  wave: number;
  instances: number;
  /** A window group's window; a wave without approval: its instances' first and last window start. */
  window?: { start: string; end: string };
  windowEstimated?: boolean;
  precheckAt?: string;
  flagged: number;
}

export interface FleetPlan {
  /** The selection in words, the order, and how the waves run. */
  selection: string;
  order: string;
  maxConcurrent?: number;
  failureThreshold: number;
  /** Each place the stage looks: its region, and the account and how it is reached when not the worker's own. */
  locations: { region: string; account?: string; access?: string }[];
  /** Instances found (members of the selection, whatever would happen to them). */
  found: number;
  counts: { upgrade: number; skip: number; blocked: number };
  /** Instances the tags matched but that are left out (another engine or version). */
  excluded: { region: string; instanceId: string; reason: string }[];
  /** Listed instances that do not exist (each one also a problem). */
  missing: { region: string; instanceId: string }[];
  waves: FleetWavePlan[];
  /** A stage that requires approval: the plan the approval would name if it were given now. */
  approvalPlan?: string;
  /** Every instance found, in wave order (skipped and blocked ones last). */
  instances: FleetInstancePlan[];
}

export interface CampaignPlan {
  campaignId: string;
  target: string;
  requester: string;
  plannedAt: string;
  approvals: string;
  noticeOverride?: string;
  /** Whether the people who act will be verified (the allowed signers this machine's setting names) or not. */
  identities?: string;
  stages: StagePlan[];
  problems: string[];
}

/** What AWS reports about one stage's instance, read by the caller (the plan reads it all up front). */
export interface StageReadings {
  info: InstanceInfo;
  targets: UpgradeTarget[];
  /** Read only when the stage would upgrade (undefined otherwise). */
  pending?: PendingMaintenanceAction[];
  /** The instance's read replicas as read (each one's version and window). */
  replicas?: Pick<InstanceInfo, 'region' | 'instanceId' | 'engineVersion' | 'preferredMaintenanceWindow'>[];
}

export function emptyStagePlan(stage: ResolvedStage, targetVersion: string): StagePlan {
  return { name: stage.name, instance: `${stage.region}/${stage.instanceId}`, method: stage.method, to: targetVersion, action: 'upgrade', what: [], skippedWindows: [], warnings: [] };
}

/**
 * Plans one stage as if it started at `nowMs` and production were approved at once (a later approval
 * moves the window; the campaign then asks again). Returns the plan and the problems that block it.
 */
export function planStage(stage: ResolvedStage, spec: ResolvedCampaignSpec, readings: StageReadings, nowMs: number): { plan: StagePlan; problems: string[] } {
  const p = emptyStagePlan(stage, spec.targetEngineVersion);
  const { info, targets } = readings;
  p.from = info.engineVersion;
  const readiness = assessStage(stage, info, spec.targetEngineVersion, targets);
  if (readiness.kind === 'problem') return { plan: { ...p, action: 'blocked' }, problems: readiness.problems };
  if (readiness.kind === 'skip') return { plan: { ...p, action: 'skip', what: [readiness.note] }, problems: [] };

  const pending = readings.pending ?? [];
  const target = spec.targetEngineVersion;
  p.changes = stage.changes ?? 'api';
  const replicas = (readings.replicas ?? []).filter((r) => standingOf(r.engineVersion, target).kind === 'below-target');
  if (stage.method === 'blue-green') return { plan: planBlueGreen(p, stage, spec, readings, nowMs), problems: [] };
  if (replicas.length) {
    p.replicas = replicas.map((r) => ({ instance: `${r.region}/${r.instanceId}`, from: r.engineVersion }));
    p.what.push(`read replicas first (RDS refuses the source before them): ${p.replicas.map((r) => `${r.instance} (${r.from})`).join(', ')}${stage.method === 'apply-now' ? ', upgraded now and waited for' : ', each in its own next maintenance window'}`);
  }
  const deadline = awsUpgradeDeadline(pending);
  if (deadline !== undefined) p.awsAppliesBy = iso(deadline);
  const windowText = info.preferredMaintenanceWindow;

  if (stage.method === 'apply-now') {
    // As the apply-now activity will do it (the same rule).
    const by = upgradeNowBy(pending, target);
    p.what.push(`${target} exactly: ${by.kind === 'apply-pending-action' ? 'the pending db-upgrade applied now' : 'ModifyDBInstance EngineVersion with ApplyImmediately'}`);
    p.what.push(`upgrade immediately when the stage starts, probing ${probeTarget(stage.probe!)} at ${stage.probe!.ratePerSecond}/s`);
    p.what.push(`over ${formatDuration(stage.downtimeThresholdMs)} of measured downtime: wait for a team decision`);
    return { plan: p, problems: [] };
  }
  p.what.push(`${target} comes through AutoMinorVersionUpgrade: it is RDS's preferred minor for ${info.engineVersion} (ValidUpgradeTarget AutoUpgrade=true)`);
  if (!pendingUpgradeTo(pending, target)) p.warnings.push(`AWS lists no pending db-upgrade to ${target} yet`);
  let window: Occurrence;
  if (!stage.requiresApproval) {
    window = previewWindow(windowText, nowMs);
    p.what.push('AutoMinorVersionUpgrade on now, watch the window, flag off afterwards');
    p.what.push(`if the campaign reaches this stage later, the next window after that (${windowText} UTC)`);
  } else {
    const choice = productionWindow(windowText, nowMs, stage, spec.blackouts);
    window = choice.window;
    p.skippedWindows = choice.skipped.map((k) => `${iso(k.window.startMs)} (${k.reason})`);
    p.announceAt = 'right after approval';
    p.precheckAt = iso(precheckInstant(window, stage));
    p.what.push(`needs approval; first window at least ${formatDuration(stage.noticeMs)} ahead if approved now`);
    if (stage.statusPage.enabled) p.what.push(`status-page scheduled maintenance "${stage.statusPage.name}" for exactly the window`);
    p.what.push(`pre-check of AWS pending maintenance ${formatDuration(stage.precheckBeforeMs)} before, then AutoMinorVersionUpgrade on; off after the window`);
  }
  p.window = { start: iso(window.startMs), end: iso(window.endMs) };
  if (awsAppliesBefore(pending, window) !== undefined) p.warnings.push(`AWS would apply the upgrade on ${p.awsAppliesBy}, before the window: the campaign will escalate`);
  if (p.changes === 'terraform') {
    p.what.push(`Terraform owns the flag (changes: terraform): the campaign asks for "${terraformChangeText([stage.instanceId], true)}" before the window and for the change back (with engine_version) after it, waits for AWS to show each, and changes nothing itself`);
  }
  p.what.push(`the flag and RDS's automatic target are read again ${formatDuration(stage.rearmBeforeMs ?? DEFAULT_REARM_BEFORE_MS)} before the window and as it opens: a flag turned off is turned on again (and people told who did it); a moved target asks the team`);
  if (stage.pagerDuty?.enabled) p.what.push('pages the person on call (PagerDuty) when the window opens; resolved when the instance is available at the target, critical if it is not');
  for (const r of replicas) {
    const w = replicaWindow(r.preferredMaintenanceWindow, nowMs, stage.requiresApproval ? window : undefined);
    const entry = p.replicas!.find((x) => x.instance === `${r.region}/${r.instanceId}`)!;
    entry.window = { start: iso(w.startMs), end: iso(w.endMs) };
    if (stage.requiresApproval && w.endMs > window.startMs) p.warnings.push(`read replica ${entry.instance}'s next window ${entry.window.start} does not end before the chosen window: RDS would refuse ${stage.instanceId}; move the replica's window earlier`);
  }
  return { plan: p, problems: [] };
}

/**
 * method blue-green: the deployment the stage would create (its name, the green's version and parameter group),
 * its window (the approved and announced one for a stage that requires approval), the switchover and what is
 * left afterwards.
 */
function planBlueGreen(p: StagePlan, stage: ResolvedStage, spec: ResolvedCampaignSpec, readings: StageReadings, nowMs: number): StagePlan {
  const bg = stage.blueGreen!;
  const { info } = readings;
  const target = spec.targetEngineVersion;
  const group = bg.targetParameterGroup;
  const deploymentName = blueGreenDeploymentName(spec.campaignId, stage.instanceId);
  p.blueGreen = { deploymentName, targetEngineVersion: target, ...(group ? { targetParameterGroup: group } : {}), switchoverTimeoutSeconds: bg.switchoverTimeoutSeconds, switchover: bg.switchover };
  p.what.push(
    `Blue/Green: CreateBlueGreenDeployment "${deploymentName}" when the stage starts: a green copy of ${stage.instanceId} at ${target} exactly` +
      `${group ? `, parameter group ${group} on every green instance` : ', each green instance with its blue one\'s parameter group'}; billed like ${stage.instanceId} while it exists; waited for until AVAILABLE (up to ${formatDuration(bg.provisioningTimeoutMs)}, then the team is asked)`,
  );
  if (readings.replicas?.length) p.what.push(`its read replicas (${readings.replicas.map((r) => r.instanceId).join(', ')}) get green copies in the same deployment and switch over with it`);
  let window: Occurrence | undefined;
  if (stage.requiresApproval) {
    const choice = productionWindow(info.preferredMaintenanceWindow, nowMs, stage, spec.blackouts);
    window = choice.window;
    p.skippedWindows = choice.skipped.map((k) => `${iso(k.window.startMs)} (${k.reason})`);
    p.announceAt = 'right after approval';
    p.precheckAt = iso(precheckInstant(window, stage));
    p.what.push(`needs approval naming the window and the deployment, once the green copy is AVAILABLE; first window at least ${formatDuration(stage.noticeMs)} ahead if approved now`);
    if (stage.statusPage.enabled) p.what.push(`status-page scheduled maintenance "${stage.statusPage.name}" for exactly the window`);
    p.what.push(`pre-check ${formatDuration(stage.precheckBeforeMs)} before: the deployment still AVAILABLE, ${stage.instanceId} still below ${target}`);
  } else if (bg.switchover === 'window') {
    window = previewWindow(info.preferredMaintenanceWindow, nowMs);
    p.what.push(`switchover in ${stage.instanceId}'s next maintenance window once the green copy is AVAILABLE (${info.preferredMaintenanceWindow} UTC)`);
  } else {
    p.what.push('switchover as soon as the green copy is AVAILABLE');
  }
  if (window) p.window = { start: iso(window.startMs), end: iso(window.endMs) };
  p.what.push(
    `SwitchoverBlueGreenDeployment (SwitchoverTimeout ${bg.switchoverTimeoutSeconds} s: AWS rolls back a longer one, and the team decides)${stage.probe ? `, probing ${probeTarget(stage.probe)} at ${stage.probe.ratePerSecond}/s; over ${formatDuration(stage.downtimeThresholdMs)} of measured downtime the team decides` : ''}; ` +
      `${stage.instanceId} verified at ${target} under its own name and endpoint`,
  );
  p.what.push(`never deleted: the old blue stays as ${oldBlueName(stage.instanceId)} (-old2… when an earlier switchover left one; billed until removed) with the deployment; the follow-ups give the commands`);
  return p;
}
