/**
 * One campaign's state and the bookkeeping every runbook step uses: the status people query, timeline
 * and search attributes, notifications, AWS calls with visible retries, the saga, and the human gates
 * (pause checkpoints, team decisions). The steps themselves live in the files named after the runbook.
 */
import { ActivityFailure, ApplicationFailure, CancellationScope, condition, log, patched, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { AwsWhere, CampaignState, CampaignStatus, DecideRequest, InstanceInfo, NotificationEvent, ResolvedCampaignSpec, ResolvedStage, StageReport, WaitingFor } from '../../api';
import { RDS_CAMPAIGN_ID, RDS_INSTANCES, RDS_OPERATION, RDS_STAGE, RDS_STATE } from '../../api/search-attributes';
import { awsActivities, waiterUntil, withVisibleRetries, type RetryOptions } from '../shared/aws-calls';
import { nowIso } from '../shared/clock';
import { notifyPeople, recordHuman, waitForPeople } from '../shared/people';
import { recordChange } from '../shared/changes';
import { IdentityGate, runRef } from '../shared/identity';
import { Saga } from '../shared/saga';
import type { FleetEntry } from '../../domain/fleet';
import { locationFor } from '../../domain/aws-identity';
import type { VerifiedActor } from '../../domain/identity/identity';

export const TERMINAL: CampaignState[] = ['completed', 'aborted', 'failed'];
/** The answers most questions take. */
export const CONTINUE_OR_ABORT: readonly DecideRequest['decision'][] = ['continue', 'abort'];
/**
 * patched() id: the world is read again before and in each window, the flag guarded, RDS's automatic target
 * re-read, replicas first, Terraform-owned flags, the person on call (estate.ts, windows.ts). Decided once, when
 * the run starts (CampaignRun.estateGuard): a run started before it keeps the old steps to its end. Asking at
 * each step instead would place the marker after a local activity whose result, on replay, arrives in an
 * earlier workflow task than it did live, and the replay would see the marker where no command asks for it.
 */
export const ESTATE_GUARD_PATCH = 'campaign-estate-guard';
/** patched() id: search attributes are upserted only when the stage or state changes. */
export const UPSERT_ONLY_CHANGES_PATCH = 'campaign-upsert-search-attributes-on-change';

/** A person decided to stop (an abort, or "abort" to a question): compensate and end as aborted. */
export class AbortCampaign extends Error {
  constructor(
    readonly by: string,
    readonly reason: string,
  ) {
    super(`aborted by ${by}: ${reason}`);
  }
}

export class CampaignRun {
  readonly a = awsActivities();
  readonly saga = new Saga();
  readonly mainScope = new CancellationScope();
  /** What preflight read of each stage's instance, by stage name. */
  readonly instances = new Map<string, InstanceInfo>();
  /** What preflight selected for each fleet stage, by stage name (fleet.ts). */
  readonly fleets = new Map<string, FleetEntry[]>();
  abortRequest?: { by: string; reason: string };
  paused = false;
  decision?: DecideRequest;
  decisionOpen = false;
  /** The answers the open question takes (validated by `campaign decide`). */
  decisionOptions: readonly DecideRequest['decision'][] = CONTINUE_OR_ABORT;
  approvalPlan?: { stage: string; plan: string; windowStartMs: number; askedAt: string };
  /** Who people are: the workers' allowed signers and the proven requester (shared/identity.ts). */
  readonly identity: IdentityGate;
  /** See ESTATE_GUARD_PATCH; decided once, when the run starts (before any activity). */
  readonly estateGuard = patched(ESTATE_GUARD_PATCH);
  private lastUpsert?: { stage: string; state: CampaignState };
  /** What the search attribute RdsOperation says: a campaign, or one instance of a fleet stage. */
  protected readonly operation: string = 'campaign';

  constructor(
    readonly spec: ResolvedCampaignSpec,
    readonly status: CampaignStatus,
  ) {
    this.identity = new IdentityGate(runRef('campaign', spec.campaignId));
    status.identity = this.identity.status;
  }

  report(s: ResolvedStage): StageReport {
    return this.status.stages[this.spec.stages.indexOf(s)];
  }

  /**
   * Where a stage's calls go: its region, and its account's role (assumed with a session name that says
   * which campaign and stage, for CloudTrail). A stage without `aws` uses the worker's own credentials.
   */
  where(s: ResolvedStage): AwsWhere {
    return locationFor(s.region, s.aws, this.spec.campaignId, s.name);
  }

  // ------------------------------------------------------------------ status, timeline, search attributes

  step(stage: StageReport | undefined, step: string, detail?: string): void {
    this.status.currentStage = stage?.name;
    this.status.currentStep = step;
    if (stage) stage.step = step;
    this.status.timeline.push({ at: nowIso(), stage: stage?.name, step, detail });
    log.info('campaign step', { campaignId: this.status.campaignId, stage: stage?.name, step, detail });
  }

  setState(state: CampaignState, waitingFor?: WaitingFor): void {
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
      { key: RDS_OPERATION, value: this.operation },
      { key: RDS_CAMPAIGN_ID, value: this.status.campaignId },
      // A fleet stage's instances are on their own workflows (a keyword list holds a few, not hundreds).
      { key: RDS_INSTANCES, value: this.spec.stages.filter((s) => !s.fleet).map((s) => `${s.region}/${s.instanceId}`) },
      { key: RDS_STAGE, value: values.stage },
      { key: RDS_STATE, value: values.state },
    ]);
  }

  notify(event: NotificationEvent, text: string, stage?: string, details?: Record<string, unknown>): Promise<void> {
    return notifyPeople({ workflowId: workflowInfo().workflowId, event, text: `[${this.status.campaignId}] ${text}`, stage, details }, this.status.timeline);
  }

  recordHuman(by: string, action: 'approve' | 'decide' | 'pause' | 'resume' | 'abort', detail?: string, comment?: string, signer?: VerifiedActor): void {
    recordHuman(this.status, this.status.currentStage, by, action, detail, comment, signer);
  }

  // ------------------------------------------------------------------ AWS

  /**
   * One AWS step with visible retries (shared/aws-calls.ts): a failing call shows in status, list and a
   * notification. A refusal (AccessDenied) names the stage, besides the role and account the activity names.
   */
  async aws<T>(stage: string | undefined, step: string, call: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
    const host = {
      status: this.status,
      record: (s: string, detail: string) => {
        this.status.timeline.push({ at: nowIso(), stage, step: s, detail });
      },
      notify: (text: string) => this.notify('escalation', text, stage),
    };
    try {
      const result = await withVisibleRetries(host, stage ? `${stage}/${step}` : step, call, opts);
      const report = this.status.stages.find((r) => r.name === stage);
      recordChange(this.status.changes, result, { stage, step, account: report?.account, region: report?.region });
      return result;
    } catch (err) {
      const cause = err instanceof ActivityFailure ? err.cause : undefined;
      if (stage && cause instanceof ApplicationFailure && cause.type === 'Unauthorized') throw ApplicationFailure.nonRetryable(`${stage}: ${cause.message}`, 'Unauthorized');
      throw err;
    }
  }

  /** Polls until `deadlineMs` (absolute) for the instance's status (and version); a failing call shows as trouble. */
  waitForInstanceUntil(s: ResolvedStage, step: string, deadlineMs: number, want: { status: string; engineVersion?: string }): Promise<InstanceInfo> {
    return this.aws(s.name, step, () => waiterUntil(deadlineMs, this.spec.pollIntervalMs).waitForInstance(this.where(s), s.instanceId, want), { attemptsPerRound: 1 });
  }

  // ------------------------------------------------------------------ human gates

  /** How a person names themselves on the command line, for notifications. */
  actorHint(): string {
    return this.identity.verified ? '--as PRINCIPAL --key YOUR_SSH_KEY' : '--as NAME';
  }

  /** Holds at a step boundary while paused. */
  async checkpoint(stage: StageReport): Promise<void> {
    if (!this.paused) return;
    const previous = this.status.state;
    const previousWait = this.status.waitingFor;
    this.setState('paused', { kind: 'resume', description: `paused before ${stage.name}/${stage.step ?? 'next step'}; resume with \`campaign resume\`` });
    await condition(() => !this.paused);
    this.setState(previous === 'paused' ? 'running' : previous, previousWait);
  }

  /** Waits for a human; repeats reminders at the configured interval. */
  waitForHuman(done: () => boolean, reminder: () => Promise<void>): Promise<void> {
    return waitForPeople(done, this.spec.approval.reminderIntervalMs, reminder);
  }

  /**
   * Asks the team a question and waits for `campaign decide`; "abort" ends the campaign (compensated). Any
   * other answer of `options` is returned (the default question takes continue or abort).
   */
  async askDecision(stage: StageReport, question: string, event: NotificationEvent = 'decision-needed', options: readonly DecideRequest['decision'][] = CONTINUE_OR_ABORT): Promise<DecideRequest> {
    await this.identity.refresh(this.status.timeline, stage.name);
    this.decision = undefined;
    this.decisionOpen = true;
    this.decisionOptions = options;
    const waiting: WaitingFor = { kind: 'decision', description: question, question, askedAt: nowIso() };
    if (options !== CONTINUE_OR_ABORT) waiting.options = [...options];
    this.setState('waiting-for-decision', waiting);
    this.step(stage, 'waiting-for-decision', question);
    const answers = options.map((o) => `--${o}`).join('|');
    await this.notify(event, `${stage.name}: ${question} Answer with \`campaign decide ${this.status.campaignId} ${answers} ${this.actorHint()}\`.`, stage.name);
    try {
      await this.waitForHuman(
        () => this.decision !== undefined,
        () => this.notify('reminder', `${stage.name}: still waiting for a decision: ${question}`, stage.name),
      );
    } finally {
      this.decisionOpen = false;
      this.decisionOptions = CONTINUE_OR_ABORT;
    }
    const d = this.decision!;
    this.setState('running');
    if (d.decision === 'abort') throw new AbortCampaign(d.by, d.comment ?? `decided to abort at ${stage.name}: ${question}`);
    this.step(stage, `decision-${d.decision}`, `${d.by}: ${d.comment ?? d.decision}`);
    return d;
  }
}
