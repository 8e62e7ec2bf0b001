/**
 * The staged minor-version upgrade campaign (runbook: "Upgrading our Postgres minor version").
 *
 * preview (maintenance-window): flag on → durable sleep to the window → watch → flag off.
 * staging (apply-now): availability probe + upgrade now → measured downtime → team decision over threshold.
 * production (maintenance-window, approval + notice): four-eyes approval of a named window ≥ notice ahead →
 *   status-page scheduled maintenance → pre-check of AWS's pending maintenance a few days before → flag on →
 *   watch the window → flag off.
 *
 * Long waits are timers; waiting for RDS is retry-based polling inside an activity (no history growth, and
 * zero AWS calls while sleeping towards a window). Every mutation registers its compensation first; abort,
 * or a failure, runs them (flags back off, announcement cancelled; nothing deleted).
 */
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities, InstanceInfo, NotificationEvent, PendingMaintenanceAction, UpgradeTarget } from '../activities/types';
import {
  abortUpdate,
  approveUpdate,
  campaignStatusQuery,
  decideUpdate,
  pauseUpdate,
  resumeUpdate,
  type ActorRequest,
  type ApproveRequest,
  type CampaignResult,
  type CampaignSpec,
  type CampaignState,
  type CampaignStatus,
  type DecideRequest,
  type StageReport,
  type WaitingFor,
} from '../api';
import { SpecError, validateCampaignSpec, type ResolvedCampaignSpec, type ResolvedStage } from '../spec';
import { formatDuration } from '../duration';
import { firstWindowAtLeast, nextWindowStartingAfter, windowContaining, type Occurrence } from './maintenance-window';
import { assessStage, needsUpgradeTargets } from './preflight';
import { checkApprover, invalidateOtherPlans, requireActorName, validApprovalCount } from './approvals';
import { nowIso, nowMs } from './clock';
import { AWS_ATTEMPT_TIMEOUT, NON_RETRYABLE_TYPES, describeError, isActivityTimeout, iso } from './workflow-utils';
import { AWS_ROUND_RETRY, PREFLIGHT_ROUNDS, WAITER_NON_RETRYABLE_TYPES, withVisibleRetries, type RetryOptions } from './aws-calls';
import { RDS_CAMPAIGN_ID, RDS_INSTANCES, RDS_OPERATION, RDS_STAGE, RDS_STATE } from '../search-attributes';


const TERMINAL: CampaignState[] = ['completed', 'aborted', 'failed'];
/** patched() id: search attributes are upserted only when the stage or state changes. */
export const UPSERT_ONLY_CHANGES_PATCH = 'campaign-upsert-search-attributes-on-change';
const MIN_NOTICE_WITHOUT_OVERRIDE_MS = 14 * 86_400_000;

class AbortCampaign extends Error {
  constructor(readonly by: string, readonly reason: string) {
    super(`aborted by ${by}: ${reason}`);
  }
}

interface Compensation {
  id: string;
  description: string;
  /** Resolves false when there was nothing to undo. */
  run: () => Promise<boolean>;
}




export async function upgradeCampaign(spec: CampaignSpec): Promise<CampaignResult> {
  const startedAt = nowIso();
  const status: CampaignStatus = {
    campaignId: spec?.campaignId ?? workflowInfo().workflowId,
    targetEngineVersion: spec?.targetEngineVersion ?? '',
    requester: spec?.requester ?? '',
    state: 'validating',
    stages: [],
    approvals: [],
    followUps: [],
    timeline: [],
    humanActions: [],
    startedAt,
  };
  setHandler(campaignStatusQuery, () => status);

  let resolved: ResolvedCampaignSpec;
  try {
    resolved = validateCampaignSpec(spec);
  } catch (err) {
    const message = err instanceof SpecError ? err.message : String(err);
    status.state = 'failed';
    status.failure = message;
    throw ApplicationFailure.nonRetryable(`Invalid campaign spec:\n${message}`, 'InvalidSpec');
  }
  const run = new CampaignRun(resolved, status);
  return run.execute();
}

class CampaignRun {
  private readonly a: Activities;
  private readonly notifier: Pick<Activities, 'notify'>;
  private readonly compensations: Compensation[] = [];
  private abortRequest?: { by: string; reason: string };
  private paused = false;
  private decision?: DecideRequest;
  private decisionOpen = false;
  private approvalPlan?: { stage: string; plan: string; windowStartMs: number };
  private readonly mainScope = new CancellationScope();
  private readonly instances = new Map<string, InstanceInfo>();
  private lastUpsert?: { stage: string; state: CampaignState };

  constructor(
    private readonly spec: ResolvedCampaignSpec,
    private readonly status: CampaignStatus,
  ) {
    status.campaignId = spec.campaignId;
    status.targetEngineVersion = spec.targetEngineVersion;
    status.requester = spec.requester;
    status.stages = spec.stages.map((s) => ({
      name: s.name,
      region: s.region,
      instanceId: s.instanceId,
      method: s.method,
      toVersion: spec.targetEngineVersion,
      status: 'pending',
      missedWindows: 0,
    }));
    const overridden = spec.stages.find((s) => s.requiresApproval && s.noticeMs < MIN_NOTICE_WITHOUT_OVERRIDE_MS);
    if (overridden) {
      status.noticeOverride = `${overridden.name}: notice ${formatDuration(overridden.noticeMs)} instead of 14d (${overridden.noticeOverrideReason})`;
    }
    this.a = proxyActivities<Activities>({ startToCloseTimeout: AWS_ATTEMPT_TIMEOUT, retry: AWS_ROUND_RETRY });
    this.notifier = proxyActivities<Activities>({ startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 5 } });
    this.registerHandlers();
  }

  /** One AWS step with visible retries (aws-calls.ts): a failing call shows in status, list and a notification. */
  private aws<T>(stage: string | undefined, step: string, call: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
    const host = {
      status: this.status,
      record: (s: string, detail: string) => {
        this.status.timeline.push({ at: nowIso(), stage, step: s, detail });
      },
      notify: (text: string) => this.notify('escalation', text, stage),
    };
    return withVisibleRetries(host, stage ? `${stage}/${step}` : step, call, opts);
  }

  /** Polls until `deadlineMs` (absolute); a call that fails (not merely "not yet") shows as trouble. */
  private waitForInstanceUntil(s: ResolvedStage, step: string, deadlineMs: number, want: { status: string; engineVersion?: string }): Promise<InstanceInfo> {
    return this.aws(
      s.name,
      step,
      () =>
        proxyActivities<Activities>({
          startToCloseTimeout: '1 minute',
          scheduleToCloseTimeout: Math.max(1000, deadlineMs - nowMs()),
          retry: {
            initialInterval: this.spec.pollIntervalMs,
            backoffCoefficient: 1,
            maximumInterval: this.spec.pollIntervalMs,
            nonRetryableErrorTypes: WAITER_NON_RETRYABLE_TYPES,
          },
        }).waitForInstance(s.region, s.instanceId, want),
      { attemptsPerRound: 1 },
    );
  }

  // ------------------------------------------------------------------ handlers

  private registerHandlers(): void {
    const { status } = this;
    const requireRunning = () => {
      if (TERMINAL.includes(status.state)) throw new Error(`campaign ${status.campaignId} is already ${status.state}`);
    };
    const requireName = requireActorName;

    setHandler(
      approveUpdate,
      (req: ApproveRequest) => {
        const plan = this.approvalPlan!;
        this.status.approvals.push({ by: req.by, at: nowIso(), stage: plan.stage, plan: plan.plan, comment: req.comment, valid: true });
        this.recordHuman(req.by, 'approve', `approved ${plan.plan}`, req.comment);
        const have = validApprovalCount(this.status.approvals, plan.plan);
        return `approval by ${req.by} recorded for ${plan.stage} window ${iso(plan.windowStartMs)} (${have}/${this.spec.approval.minApprovals})`;
      },
      {
        validator: (req: ApproveRequest) => {
          requireRunning();
          requireName(req?.by);
          const plan = this.approvalPlan;
          if (!plan) throw new Error(`nothing is waiting for approval (state: ${status.state}); check \`campaign status\``);
          if (req.plan !== undefined && req.plan !== plan.plan) {
            throw new Error(`the plan changed: you approved "${req.plan}" but the campaign now asks for "${plan.plan}"; review it and approve again`);
          }
          checkApprover(
            { requester: this.spec.requester, approvers: this.spec.approval.approvers, minApprovals: this.spec.approval.minApprovals },
            req.by,
            this.status.approvals,
            plan.plan,
          );
        },
      },
    );

    setHandler(
      decideUpdate,
      (req: DecideRequest) => {
        this.decision = req;
        this.recordHuman(req.by, 'decide', req.decision, req.comment);
        return `decision "${req.decision}" by ${req.by} recorded`;
      },
      {
        validator: (req: DecideRequest) => {
          requireRunning();
          requireName(req?.by);
          if (!this.decisionOpen) throw new Error(`no decision is being asked for (state: ${status.state})`);
          if (req.decision !== 'continue' && req.decision !== 'abort') {
            throw new Error(`decision must be "continue" or "abort", got ${JSON.stringify(req.decision)}`);
          }
        },
      },
    );

    setHandler(
      pauseUpdate,
      (req: ActorRequest) => {
        this.paused = true;
        this.recordHuman(req.by, 'pause', undefined, req.reason);
        return `campaign paused by ${req.by}; it holds before its next change to AWS (AWS itself still runs windows already armed)`;
      },
      {
        validator: (req: ActorRequest) => {
          requireRunning();
          requireName(req?.by);
          if (this.paused) throw new Error('campaign is already paused');
        },
      },
    );

    setHandler(
      resumeUpdate,
      (req: ActorRequest) => {
        this.paused = false;
        this.recordHuman(req.by, 'resume', undefined, req.reason);
        return `campaign resumed by ${req.by}`;
      },
      {
        validator: (req: ActorRequest) => {
          requireRunning();
          requireName(req?.by);
          if (!this.paused) throw new Error('campaign is not paused');
        },
      },
    );

    setHandler(
      abortUpdate,
      (req: ActorRequest) => {
        this.abortRequest = { by: req.by, reason: req.reason ?? 'no reason given' };
        this.recordHuman(req.by, 'abort', undefined, req.reason);
        this.mainScope.cancel();
        return `abort requested by ${req.by}; compensating (flags reverted, announcement cancelled)`;
      },
      {
        validator: (req: ActorRequest) => {
          requireRunning();
          requireName(req?.by);
          if (this.abortRequest) throw new Error(`abort already requested by ${this.abortRequest.by}`);
        },
      },
    );
  }

  // ------------------------------------------------------------------ bookkeeping

  private recordHuman(by: string, action: 'approve' | 'decide' | 'pause' | 'resume' | 'abort', detail?: string, comment?: string): void {
    const at = nowIso();
    this.status.humanActions.push({ at, by, action, detail, comment });
    this.status.timeline.push({ at, stage: this.status.currentStage, step: `human:${action}`, detail: [detail, comment].filter(Boolean).join(' — ') || undefined, by });
  }

  private step(stage: StageReport | undefined, step: string, detail?: string): void {
    this.status.currentStage = stage?.name;
    this.status.currentStep = step;
    if (stage) stage.step = step;
    this.status.timeline.push({ at: nowIso(), stage: stage?.name, step, detail });
    log.info('campaign step', { campaignId: this.status.campaignId, stage: stage?.name, step, detail });
  }

  private setState(state: CampaignState, waitingFor?: WaitingFor): void {
    this.status.state = state;
    this.status.waitingFor = waitingFor;
    this.searchAttributes();
  }

  private searchAttributes(): void {
    const values = { stage: this.status.currentStage ?? 'none', state: this.status.state };
    // Upserting only what changed saves about half the upserts of a campaign (fleet benchmark). Campaigns
    // started before this change upsert on every state change, as their histories recorded.
    if (patched(UPSERT_ONLY_CHANGES_PATCH)) {
      if (this.lastUpsert && this.lastUpsert.stage === values.stage && this.lastUpsert.state === values.state) return;
      if (this.lastUpsert) {
        const changed = [];
        if (this.lastUpsert.stage !== values.stage) changed.push({ key: RDS_STAGE, value: values.stage });
        if (this.lastUpsert.state !== values.state) changed.push({ key: RDS_STATE, value: values.state });
        upsertSearchAttributes(changed);
        this.lastUpsert = values;
        return;
      }
    }
    this.lastUpsert = values;
    upsertSearchAttributes([
      { key: RDS_OPERATION, value: 'campaign' },
      { key: RDS_CAMPAIGN_ID, value: this.status.campaignId },
      { key: RDS_INSTANCES, value: this.spec.stages.map((s) => `${s.region}/${s.instanceId}`) },
      { key: RDS_STAGE, value: values.stage },
      { key: RDS_STATE, value: values.state },
    ]);
  }

  private async notify(event: NotificationEvent, text: string, stage?: string, details?: Record<string, unknown>): Promise<void> {
    try {
      await CancellationScope.nonCancellable(() =>
        this.notifier.notify({ workflowId: workflowInfo().workflowId, event, text: `[${this.status.campaignId}] ${text}`, stage, details }),
      );
    } catch (err) {
      // A broken webhook must never stop an upgrade; the timeline keeps the record.
      this.status.timeline.push({ at: nowIso(), stage, step: 'notification-failed', detail: `${event}: ${describeError(err)}` });
    }
  }

  private addCompensation(c: Compensation): void {
    this.compensations.push(c);
  }

  private dropCompensation(id: string): void {
    const i = this.compensations.findIndex((c) => c.id === id);
    if (i >= 0) this.compensations.splice(i, 1);
  }

  // ------------------------------------------------------------------ human gates

  /** Holds at a step boundary while paused. */
  private async checkpoint(stage: StageReport): Promise<void> {
    if (!this.paused) return;
    const previous = this.status.state;
    const previousWait = this.status.waitingFor;
    this.setState('paused', { kind: 'resume', description: `paused before ${stage.name}/${stage.step ?? 'next step'}; resume with \`campaign resume\`` });
    await condition(() => !this.paused);
    this.setState(previous === 'paused' ? 'running' : previous, previousWait);
  }

  /** Waits for a human; repeats reminders at the configured interval. */
  private async waitForHuman(done: () => boolean, reminder: () => Promise<void>): Promise<void> {
    while (!(await condition(done, this.spec.approval.reminderIntervalMs))) {
      await reminder();
    }
  }

  private async askDecision(stage: StageReport, question: string, event: NotificationEvent = 'decision-needed'): Promise<void> {
    this.decision = undefined;
    this.decisionOpen = true;
    this.setState('waiting-for-decision', { kind: 'decision', description: question, question });
    this.step(stage, 'waiting-for-decision', question);
    await this.notify(event, `${stage.name}: ${question} Answer with \`campaign decide ${this.status.campaignId} --continue|--abort --as NAME\`.`, stage.name);
    try {
      await this.waitForHuman(
        () => this.decision !== undefined,
        () => this.notify('reminder', `${stage.name}: still waiting for a decision: ${question}`, stage.name),
      );
    } finally {
      this.decisionOpen = false;
    }
    const d = this.decision!;
    this.setState('running');
    if (d.decision === 'abort') throw new AbortCampaign(d.by, d.comment ?? `decided to abort at ${stage.name}: ${question}`);
    this.step(stage, 'decision-continue', `${d.by}: ${d.comment ?? 'continue'}`);
  }

  // ------------------------------------------------------------------ main

  async execute(): Promise<CampaignResult> {
    const { status } = this;
    this.setState('running');
    this.step(undefined, 'campaign-started', `target ${this.spec.targetEngineVersion}, requested by ${this.spec.requester}`);
    try {
      await this.mainScope.run(async () => {
        await this.preflight();
        for (let i = 0; i < this.spec.stages.length; i++) {
          const stage = status.stages[i];
          if (stage.status === 'skipped') continue;
          await this.runStage(this.spec.stages[i], stage);
        }
      });
    } catch (err) {
      const aborted = err instanceof AbortCampaign || (isCancellation(err) && this.abortRequest);
      const reason = err instanceof AbortCampaign ? err.message : this.abortRequest ? `aborted by ${this.abortRequest.by}: ${this.abortRequest.reason}` : describeError(err);
      await this.compensate(reason);
      const current = status.stages.find((s) => s.status === 'running');
      if (current) {
        current.status = aborted ? 'aborted' : 'failed';
        current.endedAt = nowIso();
      }
      status.endedAt = nowIso();
      if (aborted) {
        this.setState('aborted');
        this.step(undefined, 'campaign-aborted', reason);
        await this.notify('aborted', `campaign aborted: ${reason}`);
        return { campaignId: status.campaignId, state: 'aborted', stages: status.stages, followUps: status.followUps };
      }
      status.failure = reason;
      this.setState('failed');
      this.step(undefined, 'campaign-failed', reason);
      await this.notify('failed', `campaign failed: ${reason}`);
      if (err instanceof ApplicationFailure && err.nonRetryable) throw err;
      throw ApplicationFailure.nonRetryable(`campaign ${status.campaignId} failed: ${reason}`, 'CampaignFailed');
    }
    status.endedAt = nowIso();
    this.setState('completed');
    this.step(undefined, 'campaign-completed');
    await this.notify('completed', `campaign completed: every stage at ${this.spec.targetEngineVersion}`);
    return { campaignId: status.campaignId, state: 'completed', stages: status.stages, followUps: status.followUps };
  }

  private async compensate(reason: string): Promise<void> {
    await CancellationScope.nonCancellable(async () => {
      while (this.compensations.length > 0) {
        const c = this.compensations.pop()!;
        try {
          if (await c.run()) this.step(undefined, 'compensated', c.description);
        } catch (err) {
          this.step(undefined, 'compensation-failed', `${c.description}: ${describeError(err)} (do it by hand)`);
          this.status.followUps.push(`Compensation failed, do it by hand: ${c.description} (${reason})`);
        }
      }
    });
  }

  /** Validates everything the campaign will need before the first change; touches nothing. */
  private async preflight(): Promise<void> {
    this.step(undefined, 'preflight', 'checking every instance, version and window');
    const problems: string[] = [];
    const bounded = { maxRounds: PREFLIGHT_ROUNDS };
    for (let i = 0; i < this.spec.stages.length; i++) {
      const s = this.spec.stages[i];
      const report = this.status.stages[i];
      let info: InstanceInfo;
      let targets: UpgradeTarget[];
      // Every problem of every stage is reported, not only the first; a read that keeps failing is one.
      try {
        info = await this.aws(s.name, 'preflight', () => this.a.describeInstance(s.region, s.instanceId), bounded);
        this.instances.set(s.name, info);
        report.fromVersion = info.engineVersion;
        targets = needsUpgradeTargets(info, this.spec.targetEngineVersion)
          ? await this.aws(s.name, 'preflight', () => this.a.listUpgradeTargets(s.region, info.engine, info.engineVersion), bounded)
          : [];
      } catch (err) {
        if (isCancellation(err)) throw err;
        problems.push(`${s.name}: ${describeError(err)}`);
        continue;
      }
      const readiness = assessStage(s, info, this.spec.targetEngineVersion, targets);
      if (readiness.kind === 'problem') {
        problems.push(...readiness.problems);
      } else if (readiness.kind === 'skip') {
        report.status = 'skipped';
        report.note = readiness.note;
        this.step(report, 'stage-skipped', `${s.instanceId}: ${readiness.note}`);
      }
    }
    if (problems.length > 0) {
      throw ApplicationFailure.nonRetryable(`Preflight failed, nothing in AWS was changed:\n- ${problems.join('\n- ')}`, 'PreflightFailed');
    }
    this.step(undefined, 'preflight-passed');
  }

  private async runStage(s: ResolvedStage, report: StageReport): Promise<void> {
    report.status = 'running';
    report.startedAt = nowIso();
    this.setState('running');
    this.step(report, 'stage-started', `${s.region}/${s.instanceId} ${report.fromVersion} → ${this.spec.targetEngineVersion} (${s.method})`);
    await this.notify('stage-started', `${s.name} started: ${s.instanceId} ${report.fromVersion} → ${this.spec.targetEngineVersion} (${s.method})`, s.name);
    await this.checkpoint(report);
    if (s.method === 'apply-now') {
      await this.applyNowStage(s, report);
    } else if (s.requiresApproval) {
      await this.announcedWindowStage(s, report);
    } else {
      await this.windowStage(s, report);
    }
    if (s.healthCheckUrl) {
      const url = s.healthCheckUrl;
      const h = await this.aws(s.name, 'health-check', () => this.a.checkHealth(url, 5000));
      this.step(report, 'health-check', h.detail);
      if (!h.healthy) await this.askDecision(report, `health check ${s.healthCheckUrl} failed after the upgrade (${h.detail}). Continue with the next stage?`, 'escalation');
    }
    report.status = 'completed';
    report.endedAt = nowIso();
    const followUp = `${s.name}: ${s.infraCodeHint}`;
    this.status.followUps.push(followUp);
    this.step(report, 'stage-completed', followUp);
    await this.notify('stage-completed', `${s.name} completed at ${this.spec.targetEngineVersion}. Follow-up: ${s.infraCodeHint}`, s.name, {
      downtimeSeconds: report.downtimeSeconds,
    });
  }

  private async setFlag(s: ResolvedStage, report: StageReport, on: boolean): Promise<void> {
    const compensationId = `flag:${s.region}/${s.instanceId}`;
    if (on) {
      this.addCompensation({
        id: compensationId,
        description: `AutoMinorVersionUpgrade off for ${s.region}/${s.instanceId}`,
        run: async () => (await this.aws(s.name, 'auto-minor-upgrade-off', () => this.a.setAutoMinorVersionUpgrade(s.region, s.instanceId, false))).changed,
      });
    }
    // Not interruptible by abort: the compensation then knows exactly what was done.
    const step = on ? 'auto-minor-upgrade-on' : 'auto-minor-upgrade-off';
    const r = await CancellationScope.nonCancellable(() => this.aws(s.name, step, () => this.a.setAutoMinorVersionUpgrade(s.region, s.instanceId, on)));
    if (!on) this.dropCompensation(compensationId);
    this.step(report, on ? 'auto-minor-upgrade-on' : 'auto-minor-upgrade-off', r.detail);
  }

  /**
   * Sleeps until the window opens, then watches until the instance is available at the target version,
   * up to the window's end plus the grace period. Returns false when the window passed without upgrade.
   */
  private async watchWindow(s: ResolvedStage, report: StageReport, w: Occurrence): Promise<boolean> {
    report.window = { start: iso(w.startMs), end: iso(w.endMs) };
    const wait = w.startMs - nowMs();
    if (wait > 0) {
      this.setState('waiting-for-window', { kind: 'window', description: `${s.name}: maintenance window ${report.window.start} – ${report.window.end}`, until: report.window.start });
      this.step(report, 'waiting-for-window', `${report.window.start} – ${report.window.end}`);
      await sleep(wait);
    }
    this.setState('running', { kind: 'aws', description: `${s.instanceId} available at ${this.spec.targetEngineVersion}`, until: iso(w.endMs + s.graceMs) });
    this.step(report, 'watching-window', `until ${iso(w.endMs + s.graceMs)} (window end + grace ${formatDuration(s.graceMs)})`);
    try {
      const info = await this.waitForInstanceUntil(s, 'watching-window', w.endMs + s.graceMs, { status: 'available', engineVersion: this.spec.targetEngineVersion });
      this.step(report, 'upgraded', `${s.instanceId} is ${info.status} at ${info.engineVersion}`);
      this.setState('running');
      return true;
    } catch (err) {
      if (!isActivityTimeout(err)) throw err;
      report.missedWindows += 1;
      this.step(report, 'window-missed', `not at ${this.spec.targetEngineVersion} by ${iso(w.endMs + s.graceMs)} (${report.missedWindows} missed)`);
      this.setState('running');
      return false;
    }
  }

  /** Watches windows until upgraded; escalates to a decision after maxMissedWindows misses. */
  private async watchUntilUpgraded(s: ResolvedStage, report: StageReport, first: Occurrence): Promise<void> {
    let w = first;
    for (;;) {
      if (await this.watchWindow(s, report, w)) return;
      const pending = await this.aws(s.name, 'pending-maintenance', () => this.a.listPendingMaintenance(s.region, s.instanceId));
      const pendingText = pending.map((p) => `${p.action}${p.description ? ` (${p.description})` : ''}`).join('; ') || 'none';
      if (report.missedWindows % s.maxMissedWindows === 0) {
        await this.notify('escalation', `${s.name}: ${s.instanceId} missed ${report.missedWindows} maintenance windows; pending maintenance: ${pendingText}`, s.name);
        await this.askDecision(report, `${s.instanceId} was not upgraded in ${report.missedWindows} windows (pending maintenance: ${pendingText}). Continue waiting for the next window?`, 'escalation');
      }
      w = nextWindowStartingAfter(this.instances.get(s.name)!.preferredMaintenanceWindow, nowMs());
    }
  }

  // preview
  private async windowStage(s: ResolvedStage, report: StageReport): Promise<void> {
    const info = this.instances.get(s.name)!;
    const pending = await this.aws(s.name, 'pending-maintenance', () => this.a.listPendingMaintenance(s.region, s.instanceId));
    if (!this.pendingUpgradeTo(pending)) {
      this.step(report, 'warning', `AWS lists no pending db-upgrade to ${this.spec.targetEngineVersion} for ${s.instanceId}; the window may pass without an upgrade`);
    }
    await this.setFlag(s, report, true);
    const now = nowMs();
    const first = windowContaining(info.preferredMaintenanceWindow, now) ?? nextWindowStartingAfter(info.preferredMaintenanceWindow, now);
    await this.watchUntilUpgraded(s, report, first);
    await this.checkpoint(report);
    await this.setFlag(s, report, false);
  }

  // staging
  private async applyNowStage(s: ResolvedStage, report: StageReport): Promise<void> {
    const probeCfg = s.probe!;
    const probe = proxyActivities<Activities>({
      startToCloseTimeout: probeCfg.maxDurationMs + 5 * 60_000,
      heartbeatTimeout: '1 minute',
      retry: { initialInterval: '5s', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE_TYPES },
    });
    this.step(report, 'probe-started', `${probeCfg.ratePerSecond}/s GET ${probeCfg.url}`);
    this.setState('running', { kind: 'probe', description: `upgrading ${s.instanceId} now while probing ${probeCfg.url}` });
    const probeScope = new CancellationScope();
    const probeResult = probeScope.run(() =>
      probe.runAvailabilityProbe({
        url: probeCfg.url,
        ratePerSecond: probeCfg.ratePerSecond,
        requestTimeoutMs: probeCfg.requestTimeoutMs,
        stopWhen: { region: s.region, instanceId: s.instanceId, engineVersion: this.spec.targetEngineVersion, settleSeconds: Math.ceil(probeCfg.settleMs / 1000) },
        maxDurationSeconds: Math.ceil(probeCfg.maxDurationMs / 1000),
      }),
    );
    // Keeps an unhandled rejection away when the upgrade fails first; the result is awaited below.
    probeResult.catch(() => undefined);
    try {
      const deadline = nowMs() + probeCfg.maxDurationMs;
      const r = await this.aws(s.name, 'upgrade-now', () => this.a.applyUpgradeNow(s.region, s.instanceId, this.spec.targetEngineVersion));
      this.step(report, 'upgrade-triggered', r.detail);
      const info = await this.waitForInstanceUntil(s, 'waiting-for-upgrade', deadline, { status: 'available', engineVersion: this.spec.targetEngineVersion });
      this.step(report, 'upgraded', `${s.instanceId} is ${info.status} at ${info.engineVersion}`);
    } catch (err) {
      probeScope.cancel();
      throw err;
    }
    const result = await probeResult;
    report.downtimeSeconds = Math.round(result.longestOutageSeconds * 10) / 10;
    report.probe = { requests: result.requests, failures: result.failures, longestOutageSeconds: result.longestOutageSeconds, unobservedSeconds: result.unobservedSeconds };
    const unobserved = result.unobservedSeconds ? ` (includes ${result.unobservedSeconds}s nobody probed: a worker restart)` : '';
    this.step(report, 'probe-finished', `${result.requests} requests, ${result.failures} failed, longest outage ${result.longestOutageSeconds}s${unobserved}`);
    this.setState('running');
    if (result.longestOutageSeconds * 1000 > s.downtimeThresholdMs) {
      await this.notify('escalation', `${s.name}: measured downtime ${result.longestOutageSeconds}s is over the ${formatDuration(s.downtimeThresholdMs)} threshold`, s.name);
      await this.askDecision(
        report,
        `measured downtime ${result.longestOutageSeconds}s exceeds the ${formatDuration(s.downtimeThresholdMs)} threshold; discuss with the team. Continue to the next stage?`,
      );
    }
  }

  private pendingUpgradeTo(pending: PendingMaintenanceAction[]): PendingMaintenanceAction | undefined {
    return pending.find((p) => p.action === 'db-upgrade' && (p.description ?? '').includes(this.spec.targetEngineVersion));
  }

  /** AWS's own schedule: when would AWS apply the upgrade regardless of the flag? */
  private awsDeadline(pending: PendingMaintenanceAction[]): number | undefined {
    const dates = pending
      .filter((p) => p.action === 'db-upgrade')
      .flatMap((p) => [p.autoAppliedAfterDate, p.forcedApplyDate])
      .filter((d): d is string => Boolean(d))
      .map((d) => Date.parse(d));
    return dates.length ? Math.min(...dates) : undefined;
  }

  // production
  private async announcedWindowStage(s: ResolvedStage, report: StageReport): Promise<void> {
    const info = this.instances.get(s.name)!;
    const window = await this.obtainApproval(s, report, info.preferredMaintenanceWindow);
    await this.checkpoint(report);

    if (s.statusPage.enabled) {
      const key = `${this.spec.campaignId}/${s.name}/${iso(window.startMs)}`;
      this.addCompensation({
        id: 'statuspage',
        description: `cancel the status-page maintenance for ${s.name} (${iso(window.startMs)})`,
        run: async () => {
          const incidentId = report.statusPageIncidentId;
          if (!incidentId) return false;
          return (await this.aws(s.name, 'cancel-announcement', () => this.a.cancelScheduledMaintenance(incidentId, `campaign ${this.spec.campaignId} was stopped`))).changed;
        },
      });
      // Not interruptible by abort: an announcement made is always recorded, so it can be cancelled.
      const created = await CancellationScope.nonCancellable(() =>
        this.aws(s.name, 'announce-maintenance', () =>
          this.a.createScheduledMaintenance({
            idempotencyKey: key,
            name: s.statusPage.name,
            body: s.statusPage.body,
            scheduledFor: iso(window.startMs),
            scheduledUntil: iso(window.endMs),
            componentIds: s.statusPage.componentIds,
            notify: true,
          }),
        ),
      );
      report.statusPageIncidentId = created.incidentId;
      this.step(report, 'status-page-scheduled', `${created.incidentId}${created.shortlink ? ` ${created.shortlink}` : ''} for ${iso(window.startMs)} – ${iso(window.endMs)}`);
    }

    const precheckAt = window.startMs - s.precheckBeforeMs;
    if (precheckAt > nowMs()) {
      this.setState('waiting-for-window', { kind: 'precheck', description: `${s.name}: pre-check of AWS pending maintenance`, until: iso(precheckAt) });
      this.step(report, 'waiting-for-precheck', iso(precheckAt));
      await sleep(precheckAt - nowMs());
    }
    await this.checkpoint(report);
    this.setState('running');
    const pending = await this.aws(s.name, 'pending-maintenance', () => this.a.listPendingMaintenance(s.region, s.instanceId));
    const expected = this.pendingUpgradeTo(pending);
    if (!expected) {
      const seen = pending.map((p) => `${p.action}${p.description ? ` (${p.description})` : ''}`).join('; ') || 'nothing';
      this.step(report, 'precheck-failed', `expected a pending db-upgrade to ${this.spec.targetEngineVersion}, AWS lists ${seen}`);
      await this.notify('escalation', `${s.name}: AWS does not list the expected pending upgrade to ${this.spec.targetEngineVersion} for ${s.instanceId} (it lists ${seen})`, s.name);
      await this.askDecision(report, `AWS lists ${seen} instead of a pending db-upgrade to ${this.spec.targetEngineVersion}. Turn the flag on anyway and watch the window?`, 'escalation');
    } else {
      this.step(report, 'precheck-passed', expected.description);
    }
    await this.setFlag(s, report, true);
    await this.watchUntilUpgraded(s, report, window);
    await this.checkpoint(report);
    await this.setFlag(s, report, false);
    this.dropCompensation('statuspage');
  }

  /** Proposes the first window at least the notice ahead, waits for approvals naming it, re-asks if it moved. */
  private async obtainApproval(s: ResolvedStage, report: StageReport, windowText: string): Promise<Occurrence> {
    for (;;) {
      const pick = firstWindowAtLeast(windowText, nowMs(), s.noticeMs, this.spec.blackouts);
      for (const skipped of pick.skipped) {
        this.step(report, 'window-skipped', `${iso(skipped.window.startMs)}: ${skipped.reason}`);
      }
      const w = pick.window;
      report.window = { start: iso(w.startMs), end: iso(w.endMs) };
      const pending = await this.aws(s.name, 'pending-maintenance', () => this.a.listPendingMaintenance(s.region, s.instanceId));
      const awsDeadline = this.awsDeadline(pending);
      if (awsDeadline !== undefined && awsDeadline < w.startMs) {
        await this.notify('escalation', `${s.name}: AWS would apply the upgrade on ${iso(awsDeadline)}, before the chosen window ${iso(w.startMs)}`, s.name);
        await this.askDecision(report, `AWS will apply the upgrade to ${s.instanceId} on ${iso(awsDeadline)}, before the campaign's window ${iso(w.startMs)}. Continue with this window anyway?`, 'escalation');
      }
      const plan = `${s.name}|${this.spec.targetEngineVersion}|${iso(w.startMs)}`;
      const invalidated = invalidateOtherPlans(this.status.approvals, s.name, plan);
      if (invalidated > 0) this.step(report, 'approvals-invalidated', `${invalidated} approval(s) were for another plan; approve ${plan}`);
      if (validApprovalCount(this.status.approvals, plan) >= this.spec.approval.minApprovals) return w;

      this.approvalPlan = { stage: s.name, plan, windowStartMs: w.startMs };
      const who = this.spec.approval.approvers.length ? `one of ${this.spec.approval.approvers.join(', ')}` : `anyone but ${this.spec.requester}`;
      const ask = `approve ${s.name}: upgrade ${s.instanceId} to ${this.spec.targetEngineVersion} in the window ${iso(w.startMs)} – ${iso(w.endMs)} (${this.spec.approval.minApprovals} approval(s) by ${who})`;
      this.setState('waiting-for-approval', { kind: 'approval', description: ask, plan });
      this.step(report, 'waiting-for-approval', plan);
      await this.notify('approval-needed', `${ask}. Run \`campaign approve ${this.spec.campaignId} --as NAME\`.`, s.name, { plan });
      try {
        await this.waitForHuman(
          () => validApprovalCount(this.status.approvals, plan) >= this.spec.approval.minApprovals,
          () => this.notify('reminder', `still waiting: ${ask}`, s.name, { plan }),
        );
      } finally {
        this.approvalPlan = undefined;
      }
      this.setState('running');
      // The approval names a window; if the notice rule now needs a later one, ask again.
      const now = firstWindowAtLeast(windowText, nowMs(), s.noticeMs, this.spec.blackouts).window;
      if (now.startMs === w.startMs) {
        this.step(report, 'approved', plan);
        return w;
      }
      this.step(report, 'plan-changed', `approved window ${iso(w.startMs)} is now less than ${formatDuration(s.noticeMs)} ahead; asking again for ${iso(now.startMs)}`);
    }
  }
}
