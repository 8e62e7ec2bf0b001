/**
 * Point-in-time restore, then (optionally) the DNS cutover to the restored database
 * (runbook: "Restoring a database" and "Get our applications to start using a restored database").
 *
 * validate (touches nothing) → with a bastion, a security group of the restored instance's own (in the
 * source's VPC) that lets the bastion in → RestoreDBInstanceToPointInTime tagged with this restore's id,
 * with the source's groups plus its own → wait until available (retry-based polling, hours) → done, or
 * with `cutover`: check the zone and the weighted CNAME → optionally lower its TTL first → four-eyes
 * approval of the named plan → stop the old instance (so no connection lingers) → UPSERT the CNAME to the
 * new endpoint → INSYNC → wait out the TTL resolvers may have cached → verify: the record as Route 53
 * lists it, TestDNSAnswer for a public zone (it does not serve private ones), and a real lookup through
 * the spec's resolvers.
 *
 * Saga: every mutation of the cutover registers its compensation first. A failure before the CNAME
 * change rolls back on its own (old instance started, TTL restored). Once the CNAME may point at the
 * restored instance the applications may be writing there, so a failure stops and asks the team: keep
 * the restored instance, or roll back and strand those writes. The restored instance and its security
 * group are never deleted (the runbook's policy forbids deleting RDS instances; a human decides).
 */
import {
  ActivityFailure,
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
import type { Activities, HostedZoneInfo, InstanceInfo, NotificationEvent, WeightedCname } from '../activities/types';
import {
  abortUpdate,
  approveUpdate,
  decideUpdate,
  restoreStatusQuery,
  type ActorRequest,
  type ApproveRequest,
  type DecideRequest,
  type RestoreSpec,
  type RestoreState,
  type RestoreStatus,
  type WaitingFor,
} from '../api';
import { DEFAULT_REMINDER_INTERVAL_MS, SpecError, validateRestoreSpec, type ResolvedRestoreSpec } from '../spec';
import { formatDuration } from '../duration';
import { checkApprover, requireActorName, validApprovalCount } from './approvals';
import { nowIso, nowMs } from './clock';
import { AWS_ATTEMPT_TIMEOUT, describeError, isActivityTimeout, iso } from './workflow-utils';
import { AWS_ROUND_RETRY, CUTOVER_ROUNDS, PREFLIGHT_ROUNDS, WAITER_NON_RETRYABLE_TYPES, withVisibleRetries, type RetryOptions } from './aws-calls';
import { RDS_INSTANCES, RDS_OPERATION, RDS_STAGE, RDS_STATE } from '../search-attributes';

/**
 * Workflow versions (see README "Changing a workflow safely"). Each id marks a change to the steps that
 * workflows started by older code must not take on replay; remove a branch only once no workflow that
 * could take it is open any more (and its recorded history is dropped from test/histories).
 *
 * Since this patch the cutover announces the outage (notification) right before it stops the old
 * instance, so the on-call people hear "applications are losing their database now" before it happens.
 */
export const NOTIFY_BEFORE_STOP_PATCH = 'restore-notify-before-stopping-old-instance';

/**
 * Since this patch (checked once, at the start of a run): the bastion gets a security group of the
 * restored instance's own instead of a rule on the source's group; the zone is read so a private zone is
 * verified without TestDNSAnswer (records, INSYNC, `resolvers`); and a failure once the CNAME may point at
 * the restored instance asks the team instead of rolling back on its own.
 */
export const LEAST_ACCESS_AND_SAFE_CUTOVER_PATCH = 'restore-own-security-group-private-zone-decide-after-switch';

/** Written on the restored instance so a retry or a rerun recognises its own restore (and nobody else's). */
export const RESTORE_OWNER_TAG_KEY = 'rds-orchestrator:restore-id';

const TERMINAL: RestoreState[] = ['completed', 'rolled-back', 'aborted', 'failed'];
const MIN_APPROVALS = 1;
/** Restores of large databases take hours; past a day something is wrong and a human should look. */
const RESTORE_DEADLINE_MS = 24 * 3600_000;
/** Stopping or starting an instance normally takes minutes. */
const INSTANCE_STATE_DEADLINE_MS = 60 * 60_000;
/** Route 53 changes are normally INSYNC within a minute. */
const INSYNC_DEADLINE_MS = 30 * 60_000;
/** RDS starts a stopped instance again on its own after seven days. */
const AUTO_START_AFTER_MS = 7 * 86_400_000;

interface Compensation {
  id: string;
  description: string;
  /** What a human must do when the automatic compensation fails: exact, copy-pasteable. */
  manual: string;
  run: () => Promise<unknown>;
}




/** DNS names compare case-insensitively and with or without the root dot. */
function sameHost(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const norm = (h: string) => h.trim().toLowerCase().replace(/\.$/, '');
  return norm(a) === norm(b);
}

export async function restoreAndCutover(spec: RestoreSpec): Promise<RestoreStatus> {
  const status: RestoreStatus = {
    restoreId: spec?.restoreId ?? workflowInfo().workflowId,
    requester: spec?.requester ?? '',
    state: 'validating',
    source: { region: spec?.source?.region ?? '', instanceId: spec?.source?.instanceId ?? '' },
    target: { instanceId: spec?.targetInstanceId ?? '', restoreTime: spec?.restoreTime ?? '' },
    approvals: [],
    followUps: [],
    timeline: [],
    humanActions: [],
    startedAt: nowIso(),
  };
  setHandler(restoreStatusQuery, () => status);

  let resolved: ResolvedRestoreSpec;
  try {
    resolved = validateRestoreSpec(spec);
  } catch (err) {
    const message = err instanceof SpecError ? err.message : String(err);
    status.state = 'failed';
    status.failure = message;
    status.endedAt = nowIso();
    throw ApplicationFailure.nonRetryable(`Invalid restore spec:\n${message}`, 'InvalidSpec');
  }
  return new RestoreRun(resolved, status).execute();
}

class RestoreRun {
  private readonly a: Activities;
  private readonly notifier: Pick<Activities, 'notify'>;
  private readonly compensations: Compensation[] = [];
  private readonly mainScope = new CancellationScope();
  private abortRequest?: { by: string; reason: string };
  private approvalPlan?: string;
  private phase: 'restore' | 'cutover' = 'restore';
  /** Set once the approved cutover begins: from then on a failure is rolled back, not just reported. */
  private cutoverStarted = false;
  /** See LEAST_ACCESS_AND_SAFE_CUTOVER_PATCH. */
  private readonly safeCutover: boolean;
  private zone?: HostedZoneInfo;
  /** When the CNAME change to the restored instance was sent. */
  private switchSentMs?: number;
  /** When the rollback's CNAME change back was INSYNC (the end of the writes a rollback strands). */
  private switchRevertedMs?: number;
  private decision?: DecideRequest;
  private decisionOpen = false;

  private sourceInfo?: InstanceInfo;
  private targetInfo?: InstanceInfo;
  private record?: WeightedCname;
  private originalTtlSeconds?: number;
  private ttlLoweredInsyncMs?: number;
  private oldStoppedMs?: number;
  /** The restore was asked of RDS (or found): from then on the restored instance exists and is kept. */
  private restoreRequested = false;

  constructor(
    private readonly spec: ResolvedRestoreSpec,
    private readonly status: RestoreStatus,
  ) {
    status.restoreId = spec.restoreId;
    status.requester = spec.requester;
    status.source = { region: spec.source.region, instanceId: spec.source.instanceId };
    status.target = { instanceId: spec.targetInstanceId, restoreTime: spec.restoreTime };
    this.a = proxyActivities<Activities>({ startToCloseTimeout: AWS_ATTEMPT_TIMEOUT, retry: AWS_ROUND_RETRY });
    this.notifier = proxyActivities<Activities>({ startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 5 } });
    this.safeCutover = patched(LEAST_ACCESS_AND_SAFE_CUTOVER_PATCH);
    this.registerHandlers();
  }

  /**
   * One AWS step with visible retries (aws-calls.ts). Cutover steps give up after a few minutes, since
   * the applications are down while they retry; reads before any change give up sooner.
   */
  private aws<T>(step: string, call: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
    const host = {
      status: this.status,
      record: (s: string, detail: string) => this.step(s, detail),
      notify: (text: string) => this.notify('escalation', text),
    };
    const bounded = opts.maxRounds === undefined && this.phase === 'cutover' && this.cutoverStarted ? { maxRounds: CUTOVER_ROUNDS } : {};
    return withVisibleRetries(host, step, call, { ...bounded, ...opts });
  }

  private get region(): string {
    return this.spec.source.region;
  }

  // ------------------------------------------------------------------ handlers

  private registerHandlers(): void {
    const { status } = this;
    const requireRunning = () => {
      if (TERMINAL.includes(status.state)) throw new Error(`restore ${status.restoreId} is already ${status.state}`);
    };
    const requireName = requireActorName;

    setHandler(
      approveUpdate,
      (req: ApproveRequest) => {
        const plan = this.approvalPlan!;
        status.approvals.push({ by: req.by, at: nowIso(), stage: 'cutover', plan, comment: req.comment, valid: true });
        this.recordHuman(req.by, 'approve', `approved ${plan}`, req.comment);
        return `approval by ${req.by} recorded for ${plan} (${validApprovalCount(status.approvals, plan)}/${MIN_APPROVALS})`;
      },
      {
        validator: (req: ApproveRequest) => {
          requireRunning();
          requireName(req?.by);
          const plan = this.approvalPlan;
          if (!plan) throw new Error(`nothing is waiting for approval (state: ${status.state}); check \`restore status\``);
          if (req.plan !== undefined && req.plan !== plan) {
            throw new Error(`the plan changed: you approved "${req.plan}" but the restore now asks for "${plan}"; review it and approve again`);
          }
          checkApprover(
            { requester: this.spec.requester, approvers: this.spec.cutover?.approvers ?? [], minApprovals: MIN_APPROVALS },
            req.by,
            status.approvals,
            plan,
          );
        },
      },
    );

    setHandler(
      abortUpdate,
      (req: ActorRequest) => {
        this.abortRequest = { by: req.by, reason: req.reason ?? 'no reason given' };
        this.recordHuman(req.by, 'abort', undefined, req.reason);
        this.mainScope.cancel();
        if (this.switchSentMs !== undefined) {
          return `abort requested by ${req.by}; rolling back the cutover (CNAME back, old instance started). ${this.strandedWarning()}; the restored instance is kept`;
        }
        return this.cutoverStarted
          ? `abort requested by ${req.by}; rolling back the cutover (CNAME back, old instance started); the restored instance is kept`
          : `abort requested by ${req.by}; nothing is changed beyond the restore (the restored instance is kept)`;
      },
      {
        validator: (req: ActorRequest) => {
          requireRunning();
          requireName(req?.by);
          if (this.abortRequest) throw new Error(`abort already requested by ${this.abortRequest.by}`);
          if (status.state === 'rolling-back') throw new Error('the cutover is already being rolled back');
        },
      },
    );

    setHandler(
      decideUpdate,
      (req: DecideRequest) => {
        this.decision = req;
        this.recordHuman(req.by, 'decide', req.decision, req.comment);
        return req.decision === 'keep'
          ? `decision "keep" by ${req.by} recorded: ${this.spec.cutover?.recordName} stays on ${this.spec.targetInstanceId}`
          : `decision "roll-back" by ${req.by} recorded: rolling back. ${this.strandedWarning()}`;
      },
      {
        validator: (req: DecideRequest) => {
          requireRunning();
          requireName(req?.by);
          if (!this.decisionOpen) throw new Error(`no decision is being asked for (state: ${status.state})`);
          if (req.decision !== 'keep' && req.decision !== 'roll-back') {
            throw new Error(`decision must be "keep" or "roll-back" (restore decide --keep|--roll-back), got ${JSON.stringify(req.decision)}`);
          }
        },
      },
    );
  }

  /** What a rollback after the switch costs, in words. */
  private strandedWarning(): string {
    if (this.switchSentMs === undefined) return 'no write can have reached the restored instance yet';
    return `writes the applications made to ${this.spec.targetInstanceId} since ${iso(this.switchSentMs)} stay on it and are not in ${this.spec.source.instanceId}`;
  }

  // ------------------------------------------------------------------ bookkeeping

  private recordHuman(by: string, action: 'approve' | 'abort' | 'decide', detail?: string, comment?: string): void {
    const at = nowIso();
    this.status.humanActions.push({ at, by, action, detail, comment });
    this.status.timeline.push({ at, stage: this.phase, step: `human:${action}`, detail: [detail, comment].filter(Boolean).join(' — ') || undefined, by });
  }

  private step(step: string, detail?: string): void {
    this.status.currentStep = step;
    this.status.timeline.push({ at: nowIso(), stage: this.phase, step, detail });
    log.info('restore step', { restoreId: this.status.restoreId, phase: this.phase, step, detail });
  }

  private setState(state: RestoreState, waitingFor?: WaitingFor): void {
    this.status.state = state;
    this.status.waitingFor = waitingFor;
    upsertSearchAttributes([
      { key: RDS_OPERATION, value: 'restore' },
      { key: RDS_INSTANCES, value: [`${this.region}/${this.spec.source.instanceId}`, `${this.region}/${this.spec.targetInstanceId}`] },
      { key: RDS_STAGE, value: this.phase },
      { key: RDS_STATE, value: state },
    ]);
  }

  private async notify(event: NotificationEvent, text: string, details?: Record<string, unknown>): Promise<void> {
    try {
      await CancellationScope.nonCancellable(() =>
        this.notifier.notify({ workflowId: workflowInfo().workflowId, event, text: `[restore ${this.status.restoreId}] ${text}`, stage: this.phase, details }),
      );
    } catch (err) {
      // A broken webhook must never stop a restore or a rollback; the timeline keeps the record.
      this.status.timeline.push({ at: nowIso(), stage: this.phase, step: 'notification-failed', detail: `${event}: ${describeError(err)}` });
    }
  }

  /** Polls until `deadlineMs` (absolute); a call that fails (not merely "not yet") shows as trouble. */
  private waitUntil<T>(step: string, deadlineMs: number, poll: (w: Pick<Activities, 'waitForInstance' | 'waitForChangeInsync'>) => Promise<T>): Promise<T> {
    return this.aws(
      step,
      () =>
        poll(
          proxyActivities<Activities>({
            startToCloseTimeout: '1 minute',
            scheduleToCloseTimeout: Math.max(1000, deadlineMs - nowMs()),
            retry: {
              initialInterval: this.spec.pollIntervalMs,
              backoffCoefficient: 1,
              maximumInterval: this.spec.pollIntervalMs,
              nonRetryableErrorTypes: WAITER_NON_RETRYABLE_TYPES,
            },
          }),
        ),
      { attemptsPerRound: 1 },
    );
  }

  private addCompensation(c: Compensation): void {
    this.compensations.push(c);
  }

  private dropCompensation(id: string): void {
    const i = this.compensations.findIndex((c) => c.id === id);
    if (i >= 0) this.compensations.splice(i, 1);
  }

  // ------------------------------------------------------------------ main

  async execute(): Promise<RestoreStatus> {
    const { status, spec } = this;
    this.setState('validating');
    this.step('restore-requested', `${spec.source.instanceId} → ${spec.targetInstanceId} at ${spec.restoreTime}, requested by ${spec.requester}${spec.cutover ? `, then cutover of ${spec.cutover.recordName}` : ''}`);
    try {
      await this.mainScope.run(async () => {
        const alreadyRestored = await this.preflight();
        const securityGroupId = this.safeCutover ? await this.createRestoreSecurityGroup() : undefined;
        await this.restore(alreadyRestored, securityGroupId);
        await this.allowBastion();
        if (!spec.cutover) return;
        this.phase = 'cutover';
        await this.prepareCutover();
        await this.obtainApproval();
        await this.cutover();
      });
    } catch (err) {
      return this.finishAfterError(err);
    }

    status.endedAt = nowIso();
    if (!spec.cutover) {
      status.followUps.push(...this.restoreOnlyFollowUps());
      this.setState('completed');
      this.step('restore-completed', `${spec.targetInstanceId} is available at ${status.target.endpoint}`);
      return status;
    }
    return this.completeCutover();
  }

  private async completeCutover(keptBy?: DecideRequest, failure?: string): Promise<RestoreStatus> {
    const { spec, status } = this;
    const c = spec.cutover!;
    status.endedAt = nowIso();
    if (keptBy) {
      status.followUps.push(
        `The cutover's verification failed (${failure}); ${keptBy.by} decided to keep ${c.recordName} on ${spec.targetInstanceId}${keptBy.comment ? ` (${keptBy.comment})` : ''}. Check by hand that the applications resolve ${c.recordName} to ${status.target.endpoint} and that their connections and error rates are healthy.`,
      );
    }
    status.followUps.push(...this.cutoverFollowUps());
    this.setState('completed');
    this.step('cutover-completed', `${c.recordName} → ${status.target.endpoint}${keptBy ? ` (kept by ${keptBy.by} after: ${failure})` : ''}`);
    await this.notify('completed', `cutover done: ${c.recordName} now points at ${status.target.endpoint}; ${spec.source.instanceId} is stopped. Follow-ups: ${status.followUps.length}`, {
      recordName: c.recordName,
      endpoint: status.target.endpoint,
    });
    return status;
  }

  /**
   * A failure before approval (validation, restore, TTL lowering) fails the workflow once any TTL change
   * is undone. A failure after approval but before the CNAME change is rolled back and the workflow
   * *completes* with state 'rolled-back': the rollback is an outcome the runbook plans for (the old
   * database serves again), not a crash, and a completed workflow keeps its status and follow-ups readable
   * by the CLI. A failure once the CNAME may point at the restored instance asks the team first (keep or
   * roll back). Only a failed rollback (AWS left half-switched) fails the workflow, non-retryably, with the
   * manual steps.
   */
  private async finishAfterError(err: unknown): Promise<RestoreStatus> {
    const { status } = this;
    // An abort update, or a cancellation of the whole workflow, both stop it the same way.
    let aborted = isCancellation(err);
    let reason = this.abortRequest
      ? `aborted by ${this.abortRequest.by}: ${this.abortRequest.reason}`
      : aborted
        ? 'the workflow was cancelled'
        : describeError(err);
    if (this.safeCutover && !aborted && (await this.trafficMayHaveMoved())) {
      const decision = await this.askKeepOrRollBack(reason);
      if (decision?.decision === 'keep') {
        this.compensations.length = 0;
        return this.completeCutover(decision, reason);
      }
      if (!decision && this.abortRequest) {
        aborted = true;
        reason = `aborted by ${this.abortRequest.by} (${this.abortRequest.reason}) after: ${reason}`;
      }
    }
    const rollingBack = this.cutoverStarted;
    if (rollingBack) {
      this.setState('rolling-back', { kind: 'aws', description: `rolling back the cutover: ${reason}` });
      this.step('rollback-started', reason);
    }
    const { steps, manual } = await this.compensate(reason);
    if (rollingBack || steps.length > 0) status.rollback = { reason, steps };
    if (status.rollback && this.switchSentMs !== undefined) {
      status.rollback.stranded = { instanceId: this.spec.targetInstanceId, from: iso(this.switchSentMs), to: iso(this.switchRevertedMs ?? nowMs()) };
      status.followUps.push(this.strandedWritesFollowUp(status.rollback.stranded));
    }
    if (this.restoreRequested) status.followUps.push(this.restoredInstanceKeptFollowUp());
    status.endedAt = nowIso();

    if (manual.length > 0) {
      status.failure = `${reason}; then the rollback failed: ${manual.length} step(s) must be done by hand`;
      status.followUps.unshift(...manual.map((m) => `Rollback failed, do this by hand: ${m}`));
      this.setState('failed');
      this.step('rollback-failed', status.failure);
      await this.notify('failed', `${status.failure}. ${manual.join(' ')}`, { reason });
      throw ApplicationFailure.nonRetryable(`restore ${status.restoreId}: ${status.failure}:\n- ${manual.join('\n- ')}`, 'RollbackFailed');
    }

    const stranded = status.rollback?.stranded ? ` ${this.strandedWarning()} (until ${status.rollback.stranded.to}).` : '';
    if (aborted) {
      this.setState('aborted');
      this.step('restore-aborted', reason);
      await this.notify('aborted', `restore aborted (${reason}); ${this.spec.targetInstanceId} is kept${rollingBack ? '; the cutover was rolled back' : ''}.${stranded}`);
      return status;
    }
    if (rollingBack) {
      status.followUps.push(
        `${this.spec.source.instanceId} serves again and ${this.spec.cutover!.recordName} points at it. Fix the cause (${reason}) and start the restore again with the same restoreId: it reuses ${this.spec.targetInstanceId} instead of restoring again.`,
      );
      this.setState('rolled-back');
      this.step('rolled-back', `${reason}${stranded}`);
      await this.notify('failed', `cutover failed and was rolled back: ${reason}. ${this.spec.cutover!.recordName} points at ${this.spec.source.instanceId} again, which is running.${stranded}`, { reason, steps });
      return status;
    }
    status.failure = reason;
    this.setState('failed');
    this.step('restore-failed', reason);
    await this.notify('failed', `restore failed: ${reason}`);
    if (err instanceof ApplicationFailure && err.nonRetryable) throw err;
    const cause = err instanceof ActivityFailure ? err.cause : undefined;
    const type = cause instanceof ApplicationFailure && cause.type ? cause.type : 'RestoreFailed';
    throw ApplicationFailure.nonRetryable(`restore ${status.restoreId} failed: ${reason}`, type);
  }

  /**
   * Whether the applications may have reached the restored instance: the CNAME change was sent and the
   * record does not (provably) still point at the old endpoint.
   */
  private async trafficMayHaveMoved(): Promise<boolean> {
    if (this.switchSentMs === undefined) return false;
    const c = this.spec.cutover!;
    try {
      const record = await CancellationScope.nonCancellable(() =>
        this.aws('check-record-after-failure', () => this.a.getWeightedCname(c.hostedZoneId, c.recordName, c.setIdentifier), { maxRounds: CUTOVER_ROUNDS }),
      );
      if (record && sameHost(record.value, this.status.source.endpoint)) {
        this.step('switch-not-applied', `${c.recordName} still points at ${record.value}: no traffic reached ${this.spec.targetInstanceId}`);
        this.switchSentMs = undefined;
        return false;
      }
    } catch (err) {
      this.step('record-unreadable', `could not read ${c.recordName} after the failure (${describeError(err)}); assuming traffic may have moved`);
    }
    return true;
  }

  /** After the switch a rollback strands writes: the team decides. Abort counts as "roll back". */
  private async askKeepOrRollBack(reason: string): Promise<DecideRequest | undefined> {
    const { spec } = this;
    const c = spec.cutover!;
    const question =
      `the cutover failed after ${c.recordName} was switched to ${spec.targetInstanceId} (${reason}). The applications may have written to ${spec.targetInstanceId} since ${iso(this.switchSentMs!)}. ` +
      `Keep it (the restored instance serves; fix the cause by hand) or roll back (CNAME back to ${spec.source.instanceId}, which is started again; those writes stay stranded on ${spec.targetInstanceId})?`;
    this.decision = undefined;
    this.decisionOpen = true;
    this.setState('waiting-for-decision', { kind: 'decision', description: question, question });
    this.step('waiting-for-decision', question);
    await this.notify('decision-needed', `${question} Answer with \`restore decide ${spec.restoreId} --keep|--roll-back --as NAME\`.`, { reason, switchedAt: iso(this.switchSentMs!) });
    try {
      while (!(await condition(() => this.decision !== undefined || this.abortRequest !== undefined, DEFAULT_REMINDER_INTERVAL_MS))) {
        await this.notify('reminder', `still waiting for a decision: ${question}`);
      }
    } finally {
      this.decisionOpen = false;
    }
    const decision = this.decision as DecideRequest | undefined;
    this.step('decided', decision ? `${decision.by}: ${decision.decision}${decision.comment ? ` (${decision.comment})` : ''}` : `aborted by ${this.abortRequest!.by}: roll back`);
    return decision;
  }

  /** Runs every registered compensation, newest first, and keeps going past a failed one. */
  private async compensate(reason: string): Promise<{ steps: string[]; manual: string[] }> {
    const steps: string[] = [];
    const manual: string[] = [];
    await CancellationScope.nonCancellable(async () => {
      while (this.compensations.length > 0) {
        const c = this.compensations.pop()!;
        try {
          await c.run();
          steps.push(c.description);
          this.step('compensated', c.description);
        } catch (err) {
          steps.push(`FAILED: ${c.description}: ${describeError(err)}`);
          manual.push(c.manual);
          this.step('compensation-failed', `${c.description}: ${describeError(err)} (${reason})`);
        }
      }
    });
    return { steps, manual };
  }

  // ------------------------------------------------------------------ restore

  /** Checks everything the restore needs; touches nothing. Returns true when this restore already exists. */
  private async preflight(): Promise<boolean> {
    const { spec, status } = this;
    const bounded = { maxRounds: PREFLIGHT_ROUNDS };
    this.step('preflight', `source ${this.region}/${spec.source.instanceId}, target identifier ${spec.targetInstanceId}`);
    let source: InstanceInfo;
    try {
      source = await this.aws('preflight', () => this.a.describeInstance(this.region, spec.source.instanceId), bounded);
    } catch (err) {
      if (err instanceof ApplicationFailure && err.type === 'AwsUnavailable') throw err;
      throw ApplicationFailure.nonRetryable(
        `Source instance ${spec.source.instanceId} in ${this.region}: ${describeError(err)}. Check source.region and source.instanceId; nothing was changed.`,
        'InstanceNotFound',
      );
    }
    this.sourceInfo = source;
    status.source.endpoint = source.endpoint?.address;

    const existing = await this.aws('preflight', () => this.a.findInstance(this.region, spec.targetInstanceId), bounded);
    const ours = existing !== undefined && existing.tags[RESTORE_OWNER_TAG_KEY] === spec.restoreId;
    if (existing && !ours) {
      const owner = existing.tags[RESTORE_OWNER_TAG_KEY];
      throw ApplicationFailure.nonRetryable(
        `An RDS instance named ${spec.targetInstanceId} already exists in ${this.region} (${existing.status}) and was not created by restore ${spec.restoreId}` +
          `${owner ? ` (it belongs to restore ${owner})` : ''}. Pick another targetInstanceId, e.g. "${spec.targetInstanceId.slice(0, 50)}-${spec.restoreTime === 'latest' ? 'latest' : spec.restoreTime.slice(0, 10)}"; nothing was changed.`,
        'IdentifierTaken',
      );
    }
    if (ours) {
      this.targetInfo = existing;
      status.target.endpoint = existing.endpoint?.address;
      this.step('restore-found', `${spec.targetInstanceId} already exists (${existing.status}) with ${RESTORE_OWNER_TAG_KEY}=${spec.restoreId}; continuing without a second restore`);
    } else {
      this.checkRestoreWindow(source);
    }
    if (this.safeCutover && spec.bastion && !spec.copySourceSettings) {
      throw ApplicationFailure.nonRetryable(
        'bastion needs copySourceSettings: the restored instance must live in the source\'s VPC (its subnet group) for the security group created for it there; ' +
          'remove copySourceSettings: false, or leave out bastion and add access by hand. Nothing was changed.',
        'InvalidSpec',
      );
    }
    if (this.safeCutover && spec.bastion && !source.vpcId) {
      throw ApplicationFailure.nonRetryable(
        `${spec.source.instanceId} reports no VPC (DBSubnetGroup.VpcId), so no security group can be created for the restored instance's bastion access; leave out bastion and add access by hand. Nothing was changed.`,
        'InvalidState',
      );
    }

    if (spec.cutover) {
      const c = spec.cutover;
      if (this.safeCutover) {
        this.zone = await this.aws('preflight', () => this.a.describeHostedZone(c.hostedZoneId), bounded);
        status.cutover = { recordName: c.recordName, zone: this.zone.privateZone ? 'private' : 'public' };
        const how = this.zone.privateZone
          ? `private zone ${this.zone.name}: verified by INSYNC and the record${c.resolvers.length ? `, and a lookup through ${c.resolvers.join(', ')}` : ' (no cutover.resolvers: no DNS lookup)'}`
          : `public zone ${this.zone.name}: verified by INSYNC, the record and TestDNSAnswer${c.resolvers.length ? `, and a lookup through ${c.resolvers.join(', ')}` : ''}`;
        this.step('zone-checked', how);
      }
      const record = await this.aws('preflight', () => this.a.getWeightedCname(c.hostedZoneId, c.recordName, c.setIdentifier), bounded);
      this.checkRecord(record, existing && ours ? existing.endpoint?.address : undefined);
    }
    this.step('preflight-passed');
    return ours;
  }

  private checkRestoreWindow(source: InstanceInfo): void {
    const { spec } = this;
    if (spec.restoreTime === 'latest') {
      this.step('restore-time', `latest restorable time${source.latestRestorableTime ? ` (now ${source.latestRestorableTime})` : ''}`);
      return;
    }
    const t = Date.parse(spec.restoreTime);
    const earliest = source.earliestRestorableTime;
    const latest = source.latestRestorableTime;
    const outside = (earliest !== undefined && t < Date.parse(earliest)) || (latest !== undefined && t > Date.parse(latest));
    if (!earliest || !latest || outside) {
      const window = earliest && latest ? `${earliest} to ${latest}` : 'none (automated backups are off)';
      throw ApplicationFailure.nonRetryable(
        `Restore time ${spec.restoreTime} is outside the restorable window of ${spec.source.instanceId} in ${this.region}: ${window}. ` +
          'Choose a restoreTime inside that window, or use "latest" for the latest restorable time; nothing was changed.',
        'RestoreTimeOutOfRange',
      );
    }
    this.step('restore-time', `${spec.restoreTime} is inside the restorable window ${earliest} to ${latest}`);
  }

  /** The record must exist and point at the source (or, on a rerun that already switched, at the target). */
  private checkRecord(record: WeightedCname | undefined, targetEndpoint: string | undefined): WeightedCname {
    const c = this.spec.cutover!;
    const where = `${c.recordName} (set identifier ${c.setIdentifier}, hosted zone ${c.hostedZoneId})`;
    if (!record) {
      throw ApplicationFailure.nonRetryable(
        `There is no weighted CNAME ${where}. The cutover switches the existing record the applications use: check cutover.hostedZoneId, recordName and setIdentifier, or leave out cutover to only restore.`,
        'InvalidState',
      );
    }
    const sourceEndpoint = this.status.source.endpoint;
    if (!sameHost(record.value, sourceEndpoint) && !sameHost(record.value, targetEndpoint)) {
      throw ApplicationFailure.nonRetryable(
        `${where} points at ${record.value}, not at the source ${this.spec.source.instanceId} (${sourceEndpoint ?? 'no endpoint'})` +
          `${targetEndpoint ? ` nor at the restored ${this.spec.targetInstanceId} (${targetEndpoint})` : ''}. ` +
          'Someone else changed it, or the spec names the wrong record; check the record and the spec before trying again.',
        'InvalidState',
      );
    }
    return record;
  }

  /**
   * The restored instance's own security group, in the source's VPC, letting the bastion in on the DB
   * port (runbook: module.rds_restore.db_security_group_id). Made before the restore so the instance is
   * created with it; no group the source uses is touched. Kept afterwards, like the instance.
   */
  private async createRestoreSecurityGroup(): Promise<string | undefined> {
    const { spec, status } = this;
    if (!spec.bastion) return undefined;
    const groupName = restoreSecurityGroupName(spec.targetInstanceId);
    const group = await this.aws('restore-security-group', () =>
      this.a.ensureSecurityGroup({
        region: this.region,
        vpcId: this.sourceInfo!.vpcId!,
        groupName,
        description: `Bastion access to the restored RDS instance ${spec.targetInstanceId} (rds-orchestrator restore ${spec.restoreId})`,
        ownerTag: { key: RESTORE_OWNER_TAG_KEY, value: spec.restoreId },
        tags: { 'rds-orchestrator:db-instance': spec.targetInstanceId },
      }),
    );
    status.target.securityGroupId = group.groupId;
    this.step(group.changed ? 'security-group-created' : 'security-group-found', group.detail);
    const rule = await this.aws('bastion-ingress', () => this.a.allowIngressFromSecurityGroup(this.region, group.groupId, spec.bastion!.securityGroupId, spec.bastion!.port));
    this.step('bastion-ingress', `${group.groupId} (${groupName}) from ${spec.bastion.securityGroupId} on ${spec.bastion.port}: ${rule.detail}`);
    return group.groupId;
  }

  private async restore(alreadyRestored: boolean, securityGroupId: string | undefined): Promise<void> {
    const { spec, status } = this;
    this.setState('restoring');
    if (!alreadyRestored) {
      // No compensation: the restored instance is what the user asked for, and instances are never deleted.
      const r = await this.aws('restore', () =>
        this.a.restoreToPointInTime({
          region: this.region,
          sourceInstanceId: spec.source.instanceId,
          targetInstanceId: spec.targetInstanceId,
          restoreTime: spec.restoreTime === 'latest' ? undefined : spec.restoreTime,
          copySourceSettings: spec.copySourceSettings,
          ownerTag: { key: RESTORE_OWNER_TAG_KEY, value: spec.restoreId },
          ...(securityGroupId ? { extraSecurityGroupIds: [securityGroupId] } : {}),
        }),
      );
      this.step(r.changed ? 'restore-started' : 'restore-found', r.detail);
    }
    this.restoreRequested = true;
    const deadline = nowMs() + RESTORE_DEADLINE_MS;
    this.setState('restoring', { kind: 'aws', description: `${spec.targetInstanceId} to become available (restores take hours)`, until: iso(deadline) });
    this.step('waiting-for-restore', `polling every ${formatDuration(spec.pollIntervalMs)} until ${iso(deadline)}`);
    let info: InstanceInfo;
    try {
      info = await this.waitUntil('waiting-for-restore', deadline, (w) => w.waitForInstance(this.region, spec.targetInstanceId, { status: 'available' }));
    } catch (err) {
      if (!isActivityTimeout(err)) throw err;
      throw ApplicationFailure.nonRetryable(
        `${spec.targetInstanceId} was not available ${formatDuration(RESTORE_DEADLINE_MS)} after the restore started; check its status and the RDS events in the console. The instance is kept.`,
        'RestoreTimedOut',
      );
    }
    this.targetInfo = info;
    status.target.endpoint = info.endpoint?.address;
    this.setState('restoring');
    this.step('restore-available', `${spec.targetInstanceId} is available at ${info.endpoint?.address}:${info.endpoint?.port}`);
    await this.notify('stage-completed', `${spec.targetInstanceId} (restored from ${spec.source.instanceId} at ${spec.restoreTime}) is available at ${info.endpoint?.address}`, {
      endpoint: info.endpoint?.address,
    });
  }

  /**
   * Since LEAST_ACCESS_AND_SAFE_CUTOVER_PATCH: makes sure the restore's own group is attached (a rerun may
   * find an instance restored without it). Before: a rule on the restored instance's first group, which
   * is a group it shares with the source.
   */
  private async allowBastion(): Promise<void> {
    const { spec, status } = this;
    if (!spec.bastion) return;
    if (this.safeCutover) {
      const groupId = status.target.securityGroupId!;
      const r = await this.aws('attach-security-group', () => this.a.attachSecurityGroup(this.region, spec.targetInstanceId, groupId));
      this.step('security-group-attached', r.detail);
      return;
    }
    const sg = this.targetInfo?.vpcSecurityGroupIds[0];
    if (!sg) {
      const text = `${spec.targetInstanceId} has no VPC security group, so bastion access could not be added; add ingress from ${spec.bastion.securityGroupId} on port ${spec.bastion.port} by hand.`;
      this.step('bastion-skipped', text);
      status.followUps.push(text);
      return;
    }
    const r = await this.aws('bastion-ingress', () => this.a.allowIngressFromSecurityGroup(this.region, sg, spec.bastion!.securityGroupId, spec.bastion!.port));
    this.step('bastion-ingress', `${sg} from ${spec.bastion.securityGroupId} on ${spec.bastion.port}: ${r.detail}`);
  }

  // ------------------------------------------------------------------ cutover

  private async prepareCutover(): Promise<void> {
    const c = this.spec.cutover!;
    this.setState('restoring');
    const current = await this.aws('check-record', () => this.a.getWeightedCname(c.hostedZoneId, c.recordName, c.setIdentifier));
    const record = this.checkRecord(current, this.status.target.endpoint);
    if (!this.status.source.endpoint || !this.status.target.endpoint) {
      throw ApplicationFailure.nonRetryable(
        `RDS reports no endpoint for ${this.status.source.endpoint ? this.spec.targetInstanceId : this.spec.source.instanceId}; the cutover needs both endpoints. Check the instance in the RDS console.`,
        'InvalidState',
      );
    }
    this.record = record;
    this.originalTtlSeconds = record.ttlSeconds;
    this.step('record-checked', `${c.recordName} (${c.setIdentifier}) → ${record.value}, weight ${record.weight}, TTL ${record.ttlSeconds}s`);
    if (c.lowerTtlFirstTo === undefined) return;
    if (record.ttlSeconds <= c.lowerTtlFirstTo) {
      this.step('ttl-already-low', `TTL is ${record.ttlSeconds}s, not above ${c.lowerTtlFirstTo}s`);
      return;
    }
    const original = { ...record };
    this.addCompensation({
      id: 'ttl',
      description: `TTL of ${c.recordName} back to ${original.ttlSeconds}s (value ${original.value})`,
      manual: this.upsertByHand(original),
      run: () => this.putRecordBack(original),
    });
    const lowered = { ...record, ttlSeconds: c.lowerTtlFirstTo };
    const r = await this.aws('lower-ttl', () => this.a.upsertWeightedCname(lowered));
    this.step('ttl-lowered', `${record.ttlSeconds}s → ${c.lowerTtlFirstTo}s: ${r.detail}`);
    if (r.changeId) await this.waitInsync(r.changeId);
    this.record = lowered;
    this.ttlLoweredInsyncMs = nowMs();
    this.step('ttl-lowered-insync', `resolvers drop the ${original.ttlSeconds}s answers by ${iso(this.ttlLoweredInsyncMs + original.ttlSeconds * 1000)}`);
  }

  private async obtainApproval(): Promise<void> {
    const { spec, status } = this;
    const c = spec.cutover!;
    const plan = `cutover|${c.recordName}|${status.source.endpoint}->${status.target.endpoint}`;
    if (validApprovalCount(status.approvals, plan) >= MIN_APPROVALS) return;
    this.approvalPlan = plan;
    const who = c.approvers.length ? `one of ${c.approvers.join(', ')}` : `anyone but ${spec.requester}`;
    const ask =
      `approve the cutover: stop ${spec.source.instanceId}, then point ${c.recordName} at ${status.target.endpoint} (restored ${spec.targetInstanceId}); ` +
      `the applications are down from the stop until their DNS cache expires (approval by ${who})`;
    this.setState('waiting-for-approval', { kind: 'approval', description: ask, plan });
    this.step('waiting-for-approval', plan);
    await this.notify('approval-needed', `${ask}. Run \`restore approve ${spec.restoreId} --as NAME\`.`, { plan });
    try {
      while (!(await condition(() => validApprovalCount(status.approvals, plan) >= MIN_APPROVALS, DEFAULT_REMINDER_INTERVAL_MS))) {
        await this.notify('reminder', `still waiting: ${ask}`, { plan });
      }
    } finally {
      this.approvalPlan = undefined;
    }
    this.step('approved', plan);
  }

  private async cutover(): Promise<void> {
    const { spec, status } = this;
    const c = spec.cutover!;
    const before = this.record!;
    const newEndpoint = status.target.endpoint!;
    const oldEndpoint = status.source.endpoint!;
    if (this.safeCutover) await this.recheckRecordAfterApproval();
    const originalRecord: WeightedCname = { ...before, value: oldEndpoint, ttlSeconds: this.originalTtlSeconds ?? before.ttlSeconds };
    this.cutoverStarted = true;
    this.setState('cutting-over', { kind: 'aws', description: `stopping ${spec.source.instanceId}, then switching ${c.recordName}` });

    if (patched(NOTIFY_BEFORE_STOP_PATCH)) {
      const ttl = before.ttlSeconds;
      const text =
        `cutover starting now: stopping ${spec.source.instanceId}; the applications lose their database until ${c.recordName} points at ${newEndpoint} ` +
        `and cached answers expire (TTL ${ttl}s${this.originalTtlSeconds !== undefined && this.originalTtlSeconds !== ttl ? `, lowered from ${this.originalTtlSeconds}s` : ''})`;
      this.step('cutover-announced', text);
      await this.notify('stage-started', text, { recordName: c.recordName, oldEndpoint, newEndpoint });
    }

    // 1. Stop the old instance: changing DNS does not close existing connections.
    this.addCompensation({
      id: 'start-old',
      description: `start ${spec.source.instanceId} again and wait until it is available`,
      manual:
        `start ${spec.source.instanceId} again: \`aws rds start-db-instance --region ${this.region} --db-instance-identifier ${spec.source.instanceId}\` ` +
        `(once it is stopped), then wait until it is available: \`aws rds wait db-instance-available --region ${this.region} --db-instance-identifier ${spec.source.instanceId}\`.`,
      run: () => this.startOldInstance(),
    });
    const stop = await this.aws('stop-old-instance', () => this.a.stopInstance(this.region, spec.source.instanceId));
    this.step('old-instance-stopping', stop.detail);
    await this.waitInstance(spec.source.instanceId, 'stopped');
    this.oldStoppedMs = nowMs();
    this.step('old-instance-stopped', `${spec.source.instanceId} is stopped; no connection to it lingers`);

    // 2. Switch the CNAME, same set identifier, weight and TTL.
    this.addCompensation({
      id: 'cname',
      description: `${c.recordName} back to ${oldEndpoint} (TTL ${originalRecord.ttlSeconds}s)`,
      manual: this.upsertByHand(originalRecord),
      run: async () => {
        await this.putRecordBack(originalRecord);
        this.switchRevertedMs = nowMs();
      },
    });
    const switched: WeightedCname = { ...before, value: newEndpoint };
    if (this.safeCutover) {
      this.switchSentMs = nowMs();
      if (status.cutover) status.cutover.switchedAt = iso(this.switchSentMs);
    }
    const up = await this.aws('switch-cname', () => this.a.upsertWeightedCname(switched));
    this.step('cname-upserted', up.detail);
    if (up.changeId) await this.waitInsync(up.changeId);
    const insyncMs = nowMs();
    this.step('cname-insync', `${c.recordName} → ${newEndpoint} on every Route 53 server`);

    // 3. Resolvers may still hold the old answer for the TTL in effect before the change; if the TTL was
    // lowered too recently, answers cached with the original TTL may outlive it.
    let cacheMs = before.ttlSeconds * 1000;
    if (this.ttlLoweredInsyncMs !== undefined && this.originalTtlSeconds !== undefined) {
      cacheMs = Math.max(cacheMs, this.originalTtlSeconds * 1000 - (insyncMs - this.ttlLoweredInsyncMs));
    }
    this.setState('cutting-over', { kind: 'aws', description: `cached answers for ${c.recordName} to expire`, until: iso(insyncMs + cacheMs) });
    this.step('waiting-for-ttl', `${formatDuration(cacheMs)} until ${iso(insyncMs + cacheMs)}`);
    if (cacheMs > 0) await sleep(cacheMs);

    // 4. Verify.
    this.setState('cutting-over');
    if (this.safeCutover) {
      const checks = await this.verifyCutover(newEndpoint, oldEndpoint, insyncMs);
      if (status.cutover) status.cutover.verified = checks;
      this.step('dns-verified', checks.join('; '));
    } else {
      await this.verifyWithTestDnsAnswer(newEndpoint, oldEndpoint);
    }
    // Done: nothing to undo any more.
    this.compensations.length = 0;
  }

  /**
   * The approval may have waited days: if someone else repointed the record meanwhile, switching it (and a
   * rollback writing our old value back) would overwrite their change. Fail before anything changes, and
   * leave the record (and its TTL) to whoever owns it now.
   */
  private async recheckRecordAfterApproval(): Promise<void> {
    const c = this.spec.cutover!;
    const now = await this.aws('check-record', () => this.a.getWeightedCname(c.hostedZoneId, c.recordName, c.setIdentifier));
    const expected = this.record!;
    if (now && (sameHost(now.value, this.status.source.endpoint) || sameHost(now.value, this.status.target.endpoint))) {
      this.record = { ...now };
      return;
    }
    this.dropCompensation('ttl');
    throw ApplicationFailure.nonRetryable(
      `${c.recordName} (set ${c.setIdentifier}) changed while the cutover waited for approval: it was ${expected.value} (TTL ${expected.ttlSeconds}s) and is now ${now ? `${now.value} (TTL ${now.ttlSeconds}s)` : 'gone'}. ` +
        `Nothing was stopped or switched, and the record is left as it is now (its TTL too); find out who changed it, then start the restore again with the same restoreId.`,
      'InvalidState',
    );
  }

  /** Before LEAST_ACCESS_AND_SAFE_CUTOVER_PATCH: TestDNSAnswer only (wrong for private zones). */
  private async verifyWithTestDnsAnswer(newEndpoint: string, oldEndpoint: string): Promise<void> {
    const c = this.spec.cutover!;
    const answer = await this.aws('verify-dns', () => this.a.testDnsAnswer(c.hostedZoneId, c.recordName));
    const data = answer.recordData;
    const ok = answer.responseCode === 'NOERROR' && data.some((d) => sameHost(d, newEndpoint)) && !data.some((d) => sameHost(d, oldEndpoint));
    if (!ok) {
      throw ApplicationFailure.nonRetryable(`TestDNSAnswer for ${c.recordName} gave ${answer.responseCode} ${JSON.stringify(data)}, expected ${newEndpoint}`, 'VerificationFailed');
    }
    this.step('dns-verified', `${c.recordName} answers ${data.join(', ')}`);
  }

  /**
   * What Route 53 guarantees for any zone (the change INSYNC, the record as listed), TestDNSAnswer for a
   * public zone only ("This call only supports querying public hosted zones"), and a real lookup through
   * the spec's resolvers. Returns one line per check.
   */
  private async verifyCutover(newEndpoint: string, oldEndpoint: string, insyncMs: number): Promise<string[]> {
    const c = this.spec.cutover!;
    const zone = this.zone!;
    const checks = [`change INSYNC at ${iso(insyncMs)}`];
    const fail = (what: string) => ApplicationFailure.nonRetryable(`verification of ${c.recordName}: ${what}, expected ${newEndpoint}`, 'VerificationFailed');

    const listed = await this.aws('verify-record', () => this.a.getWeightedCname(c.hostedZoneId, c.recordName, c.setIdentifier));
    if (!listed || !sameHost(listed.value, newEndpoint)) throw fail(`Route 53 lists ${listed ? `${listed.value}` : 'no record'} for set ${c.setIdentifier}`);
    checks.push(`Route 53 lists ${c.recordName} [${c.setIdentifier}] → ${listed.value}`);

    if (!zone.privateZone) {
      const answer = await this.aws('verify-dns', () => this.a.testDnsAnswer(c.hostedZoneId, c.recordName));
      const data = answer.recordData;
      if (answer.responseCode !== 'NOERROR' || !data.some((d) => sameHost(d, newEndpoint)) || data.some((d) => sameHost(d, oldEndpoint))) {
        throw fail(`TestDNSAnswer gave ${answer.responseCode} ${JSON.stringify(data)}`);
      }
      checks.push(`TestDNSAnswer: ${data.join(', ')}`);
    }

    if (c.resolvers.length) {
      const found = await this.aws('verify-lookup', () => this.a.lookupCname(c.recordName, c.resolvers));
      if (found.responseCode !== 'NOERROR' || !found.cnames.some((d) => sameHost(d, newEndpoint)) || found.cnames.some((d) => sameHost(d, oldEndpoint))) {
        throw fail(`the resolver ${c.resolvers.join(', ')} answered ${found.responseCode} ${JSON.stringify(found.cnames)}`);
      }
      checks.push(`lookup through ${c.resolvers.join(', ')}: ${found.cnames.join(', ')}`);
    } else if (zone.privateZone) {
      checks.push(`no DNS lookup (private zone ${zone.name}; give cutover.resolvers, e.g. the VPC resolver, to check what the applications resolve)`);
    }
    return checks;
  }

  private async waitInstance(instanceId: string, want: string): Promise<InstanceInfo> {
    try {
      return await this.waitUntil(`wait-${want}`, nowMs() + INSTANCE_STATE_DEADLINE_MS, (w) => w.waitForInstance(this.region, instanceId, { status: want }));
    } catch (err) {
      if (!isActivityTimeout(err)) throw err;
      throw ApplicationFailure.nonRetryable(`${instanceId} did not become ${want} within ${formatDuration(INSTANCE_STATE_DEADLINE_MS)}`, 'InvalidState');
    }
  }

  private async waitInsync(changeId: string): Promise<void> {
    try {
      await this.waitUntil('wait-insync', nowMs() + INSYNC_DEADLINE_MS, (w) => w.waitForChangeInsync(changeId));
    } catch (err) {
      if (!isActivityTimeout(err)) throw err;
      throw ApplicationFailure.nonRetryable(`Route 53 change ${changeId} was not INSYNC within ${formatDuration(INSYNC_DEADLINE_MS)}`, 'InvalidState');
    }
  }

  private async putRecordBack(record: WeightedCname): Promise<void> {
    const r = await this.aws('put-record-back', () => this.a.upsertWeightedCname(record), { maxRounds: CUTOVER_ROUNDS });
    if (r.changeId) await this.waitInsync(r.changeId);
  }

  /** The old instance may still be stopping when the failure came; it can only be started once stopped. */
  private async startOldInstance(): Promise<void> {
    const id = this.spec.source.instanceId;
    const rounds = { maxRounds: CUTOVER_ROUNDS };
    const info = await this.aws('start-old-instance', () => this.a.describeInstance(this.region, id), rounds);
    if (info.status === 'stopping') await this.waitInstance(id, 'stopped');
    await this.aws('start-old-instance', () => this.a.startInstance(this.region, id), rounds);
    await this.waitInstance(id, 'available');
  }

  private upsertByHand(r: WeightedCname): string {
    const batch = {
      Changes: [
        {
          Action: 'UPSERT',
          ResourceRecordSet: { Name: r.recordName, Type: 'CNAME', SetIdentifier: r.setIdentifier, Weight: r.weight, TTL: r.ttlSeconds, ResourceRecords: [{ Value: r.value }] },
        },
      ],
    };
    return `point ${r.recordName} (set identifier ${r.setIdentifier}, hosted zone ${r.hostedZoneId}) at ${r.value} with TTL ${r.ttlSeconds}s: \`aws route53 change-resource-record-sets --hosted-zone-id ${r.hostedZoneId} --change-batch '${JSON.stringify(batch)}'\`.`;
  }

  // ------------------------------------------------------------------ follow-ups

  private terraformRestoreBlock(): string {
    const { spec } = this;
    const time = spec.restoreTime === 'latest' ? 'use_latest_restorable_time = true' : `restore_time = "${spec.restoreTime}"`;
    return `module "rds_restore" { db_identifier = "${spec.targetInstanceId}", restore_to_point_in_time = { source_db_instance_identifier = "${spec.source.instanceId}", ${time} } }`;
  }

  private importFollowUp(): string {
    const { spec, status } = this;
    let bastion = '';
    if (spec.bastion && status.target.securityGroupId) {
      bastion = ` and its security group ${status.target.securityGroupId} (${restoreSecurityGroupName(spec.targetInstanceId)}, created for it with the bastion rule from ${spec.bastion.securityGroupId} on port ${spec.bastion.port}; module.rds_restore.db_security_group_id)`;
    } else if (spec.bastion) {
      bastion = ` and the bastion ingress (allowed_services_sg_ids entry { "name" : "rds_restore", "sg_id" : module.rds_restore.db_security_group_id, "port" : ${spec.bastion.port} })`;
    }
    return `Import the console-made changes into the Terraform state (tfmigrate or manually): the restored instance as ${this.terraformRestoreBlock()} in new-migration-resources.tf${bastion}.`;
  }

  private restoredInstanceKeptFollowUp(): string {
    const sg = this.status.target.securityGroupId ? `; so is its security group ${this.status.target.securityGroupId}` : '';
    return `${this.spec.targetInstanceId} is kept, never deleted by this workflow${this.status.target.endpoint ? ` (${this.status.target.endpoint})` : ''}${sg}; it keeps running and costs money until someone decides to remove it (deleting RDS instances in production needs the service control policy lifted).`;
  }

  private strandedWritesFollowUp(s: { instanceId: string; from: string; to: string }): string {
    const port = this.targetInfo?.endpoint?.port ?? 5432;
    return (
      `The rollback came after the CNAME switch: writes the applications made to ${s.instanceId} between ${s.from} and ${s.to} (plus cached DNS answers) are only on ${s.instanceId}, not on ${this.spec.source.instanceId}. ` +
      `Find and reconcile them before anything else, e.g. from the bastion: \`pg_dump -h ${this.status.target.endpoint} -p ${port} -U <user> -d <database> --data-only -t <table>\` and compare with ${this.spec.source.instanceId}.`
    );
  }

  private restoreOnlyFollowUps(): string[] {
    const { spec, status } = this;
    const port = this.targetInfo?.endpoint?.port ?? 5432;
    return [
      `Extract what you need with pg_dump and load it into ${spec.source.instanceId} (usually better than a cutover), e.g. from the bastion: \`pg_dump -h ${status.target.endpoint} -p ${port} -U <user> -d <database> -t <table> --data-only > extract.sql\`.`,
      this.importFollowUp(),
      `${spec.targetInstanceId} keeps running and costs money; remove it deliberately once the data is recovered (this workflow never deletes instances${status.target.securityGroupId ? ` nor its security group ${status.target.securityGroupId}` : ''}).`,
    ];
  }

  private cutoverFollowUps(): string[] {
    const { spec, status } = this;
    const c = spec.cutover!;
    const list = [
      `${this.importFollowUp().replace(/\.$/, '')}, and the Route 53 change of ${c.recordName}.`,
      `Update module "rds_route53" so the record "${c.recordName}" points at module.rds_restore.host (weight ${this.record?.weight ?? c.weight}), and the output security_group_ids "rds" = module.rds_restore.db_security_group_id; then run the environment and the application Terraform (ideally via Concourse).`,
      `${spec.source.instanceId} is stopped, not deleted. RDS starts a stopped instance again after 7 days${this.oldStoppedMs !== undefined ? ` (around ${iso(this.oldStoppedMs + AUTO_START_AFTER_MS)})` : ''}: decide before then whether to keep it stopped (stop it again) or remove it; never delete it before ${spec.targetInstanceId} is confirmed good.`,
    ];
    if (this.ttlLoweredInsyncMs !== undefined && this.originalTtlSeconds !== undefined) {
      list.push(`${c.recordName} still has the lowered TTL of ${this.record?.ttlSeconds}s; set it back to the original ${this.originalTtlSeconds}s (in the rds_route53 Terraform) once the cutover is settled.`);
    }
    if (status.target.endpoint) list.push(`The applications now use ${status.target.endpoint}; check their database connections and error rates.`);
    return list;
  }
}

/** The restored instance's own security group (group names may be up to 255 characters; ids are at most 63). */
export function restoreSecurityGroupName(targetInstanceId: string): string {
  return `rds-restore-${targetInstanceId}`;
}
