/**
 * What a runbook step works on: one stage (or one instance of a fleet stage), its report, the target, where
 * its calls go, and the operated run it belongs to, bound to the stage. Every step of preview.ts, staging.ts,
 * production.ts, windows.ts, estate.ts… receives a StageRun and nothing else: it never reaches through the
 * campaign for its settings, and a step behaves the same in a campaign and in a fleet instance's run (the
 * run's policy, said where the run is built, decides what a notification or a question does).
 */
import { ApplicationFailure } from '@temporalio/workflow';
import {
  CONTINUE_OR_ABORT,
  type AwsWhere,
  type CampaignState,
  type CampaignStatus,
  type DecideRequest,
  type Decision,
  type InstanceInfo,
  type NotificationEvent,
  type ResolvedCampaignSpec,
  type ResolvedStage,
  type StageReport,
  type WaitingFor,
} from '../../api';
import type { ApprovalPolicy } from '../../domain/approvals';
import { locationFor } from '../../domain/aws-identity';
import { waiterUntil, type RetryOptions } from '../shared/aws-calls';
import { iso, nowIso } from '../shared/clock';
import type { OperatedRun } from '../shared/operated-run';
import { askApproval, askDecision } from '../shared/people';

/** Failure type of a fleet instance whose step had a question for the team (the question is the message). */
export const NEEDS_DECISION = 'NeedsDecision';

/** What a campaign's steps need to know of the campaign: the same for the campaign and each fleet instance's run. */
export interface CampaignSettings {
  campaignId: string;
  targetEngineVersion: string;
  requester: string;
  pollIntervalMs: number;
  blackouts: ResolvedCampaignSpec['blackouts'];
  /** How often people who were asked (an approval, a question, a Terraform change) are reminded. */
  reminderIntervalMs: number;
  /** Who approves a stage's window; absent in a fleet instance's run (its campaign asked for the approval). */
  approval?: ApprovalPolicy;
  /** Whether the approval names window groups by start and end (WINDOW_GROUP_TEXT_PATCH, run.ts); false for runs started before. */
  windowGroupText?: boolean;
}

export type CampaignOperatedRun = OperatedRun<CampaignState, CampaignStatus>;

/** A person decided to stop (an abort, or "abort" to a question): compensate and end as aborted. */
export class AbortCampaign extends Error {
  constructor(
    readonly by: string,
    readonly reason: string,
  ) {
    super(`aborted by ${by}: ${reason}`);
  }
}

/** A step of the campaign, at a stage (its report says which step it is at) or of the campaign as a whole. */
export function stepAt(run: CampaignOperatedRun, report: StageReport | undefined, step: string, detail?: string): void {
  run.status.currentStage = report?.name;
  if (report) report.step = step;
  run.step(report?.name, step, detail);
}

export class StageRun {
  /** What the campaign last read of the stage's instance (preflight, then each read again). */
  info?: InstanceInfo;

  constructor(
    readonly run: CampaignOperatedRun,
    readonly settings: CampaignSettings,
    readonly stage: ResolvedStage,
    readonly report: StageReport,
    /** See ESTATE_GUARD_PATCH (run.ts): decided once, when the run started. */
    readonly estateGuard: boolean,
    /** See FLEET_BATCHES_PATCH (run.ts): decided once, when the run started (an instance's own run starts none). */
    readonly fleetBatches = false,
  ) {}

  get name(): string {
    return this.stage.name;
  }

  get target(): string {
    return this.settings.targetEngineVersion;
  }

  /**
   * Where the stage's calls go: its region, and its account's role (assumed with a session name that says
   * which campaign and stage, for CloudTrail). A stage without `aws` uses the worker's own credentials.
   */
  get where(): AwsWhere {
    return locationFor(this.stage.region, this.stage.aws, this.settings.campaignId, this.stage.name);
  }

  get a(): CampaignOperatedRun['a'] {
    return this.run.a;
  }

  get saga(): CampaignOperatedRun['saga'] {
    return this.run.saga;
  }

  get status(): CampaignStatus {
    return this.run.status;
  }

  step(step: string, detail?: string): void {
    stepAt(this.run, this.report, step, detail);
  }

  setState(state: CampaignState, waitingFor?: WaitingFor): void {
    this.run.setState(state, waitingFor);
  }

  notify(event: NotificationEvent, text: string, details?: Record<string, unknown>): Promise<void> {
    return this.run.notify(event, text, { stage: this.name, details });
  }

  /** A durable timer; its summary in the Temporal UI says what it waits for (default: the status's waitingFor). */
  sleep(ms: number, summary?: string): Promise<void> {
    return this.run.sleep(ms, summary);
  }

  /**
   * One AWS step with visible retries: a failing call shows in status, list and a notification. A refusal
   * (AccessDenied) names the stage, besides the role and account the activity names.
   */
  aws<T>(step: string, call: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
    const { name, report, status } = this;
    return this.run.aws(`${name}/${step}`, call, opts, {
      stage: name,
      record: (s, detail) => {
        status.timeline.push({ at: nowIso(), stage: name, step: s, detail });
      },
      change: () => ({ stage: name, step, account: report.account, region: report.region }),
      refusalNames: name,
    });
  }

  /** Polls until `deadlineMs` (absolute) for the instance's status (and version); a failing call shows as trouble. */
  waitForInstance(step: string, deadlineMs: number, want: { status: string; engineVersion?: string }): Promise<InstanceInfo> {
    return this.aws(step, () => waiterUntil(deadlineMs, this.settings.pollIntervalMs).waitForInstance({ where: this.where, instanceId: this.stage.instanceId, want }), { attemptsPerRound: 1 });
  }

  /** Holds at a step boundary while paused. */
  checkpoint(): Promise<void> {
    return this.run.checkpoint(`${this.report.name}/${this.report.step ?? 'next step'}`);
  }

  /**
   * Asks the team a question and waits for `campaign decide`; "abort" ends the campaign (compensated). Any
   * other answer of `options` is returned. In a run whose policy is not to ask (a fleet instance), the run
   * ends failed with the question instead, and its campaign counts it.
   */
  async ask(question: string, event: NotificationEvent = 'decision-needed', options: readonly Decision[] = CONTINUE_OR_ABORT): Promise<DecideRequest> {
    if (this.run.policy.questions === 'fail') {
      this.step('needs-decision', question);
      throw ApplicationFailure.nonRetryable(question, NEEDS_DECISION);
    }
    const step = (s: string, detail?: string) => this.step(s, detail);
    const d = (await askDecision(this.run, { stage: this.name, question, options, event, prefix: `${this.name}: `, step }))!;
    this.setState('running');
    if (d.decision === 'abort') throw new AbortCampaign(d.by, d.comment ?? `decided to abort at ${this.name}: ${question}`);
    this.step(`decision-${d.decision}`, `${d.by}: ${d.comment ?? d.decision}`);
    return d;
  }

  /**
   * Waits for the approvals of `plan` (a window, or a fleet's windows) by the campaign's approvers; false when
   * it was approved already (nothing asked). The run is running again when it returns.
   */
  async askApproval(plan: string, text: string, windowStartMs: number): Promise<boolean> {
    const policy = this.settings.approval;
    if (!policy) throw ApplicationFailure.nonRetryable(`${this.name}: this run has no approvers; its campaign asks for approvals`, 'InvalidState');
    const step = (s: string, detail?: string) => this.step(s, detail);
    const asked = await askApproval(this.run, { stage: this.name, plan, text, policy, what: `${this.name} window ${iso(windowStartMs)}`, step });
    if (asked) this.setState('running');
    return asked;
  }
}
