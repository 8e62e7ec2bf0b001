/**
 * Point-in-time restore, then (optionally) the DNS cutover to the restored database
 * (runbook: "Restoring a database" and "Get our applications to start using a restored database").
 *
 * validate (touches nothing) → RestoreDBInstanceToPointInTime tagged with this restore's id → wait until
 * available (retry-based polling, hours) → optional bastion ingress → done, or with `cutover`:
 * check the weighted CNAME → optionally lower its TTL first → four-eyes approval of the named plan →
 * stop the old instance (so no connection lingers) → UPSERT the CNAME to the new endpoint → INSYNC →
 * wait out the TTL resolvers may have cached → TestDNSAnswer must give the new endpoint.
 *
 * Saga: every mutation of the cutover registers its compensation first; a failure after approval puts
 * the CNAME back, starts the old instance again and restores the TTL. The restored instance is never
 * deleted (the runbook's policy forbids deleting RDS instances; a human decides).
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
import type { Activities, InstanceInfo, NotificationEvent, WeightedCname } from '../activities/types';
import {
  abortUpdate,
  approveUpdate,
  restoreStatusQuery,
  type ActorRequest,
  type ApproveRequest,
  type RestoreSpec,
  type RestoreState,
  type RestoreStatus,
  type WaitingFor,
} from '../api';
import { DEFAULT_REMINDER_INTERVAL_MS, SpecError, validateRestoreSpec, type ResolvedRestoreSpec } from '../spec';
import { formatDuration } from '../duration';
import { checkApprover, requireActorName, validApprovalCount } from './approvals';
import { nowIso, nowMs } from './clock';
import { AWS_ATTEMPT_TIMEOUT, AWS_RETRY, NON_RETRYABLE_TYPES, describeError, isActivityTimeout, iso } from './workflow-utils';
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
  /** Cutover steps: bounded retries, because the application is down while they retry. */
  private readonly c: Activities;
  private readonly notifier: Pick<Activities, 'notify'>;
  private readonly compensations: Compensation[] = [];
  private readonly mainScope = new CancellationScope();
  private abortRequest?: { by: string; reason: string };
  private approvalPlan?: string;
  private phase: 'restore' | 'cutover' = 'restore';
  /** Set once the approved cutover begins: from then on a failure is rolled back, not just reported. */
  private cutoverStarted = false;

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
    this.a = proxyActivities<Activities>({ startToCloseTimeout: AWS_ATTEMPT_TIMEOUT, scheduleToCloseTimeout: '1 hour', retry: AWS_RETRY });
    this.c = proxyActivities<Activities>({ startToCloseTimeout: AWS_ATTEMPT_TIMEOUT, scheduleToCloseTimeout: '10 minutes', retry: AWS_RETRY });
    this.notifier = proxyActivities<Activities>({ startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 5 } });
    this.registerHandlers();
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
  }

  // ------------------------------------------------------------------ bookkeeping

  private recordHuman(by: string, action: 'approve' | 'abort', detail?: string, comment?: string): void {
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

  private waiter(deadlineMs: number): Pick<Activities, 'waitForInstance' | 'waitForChangeInsync'> {
    return proxyActivities<Activities>({
      startToCloseTimeout: '1 minute',
      scheduleToCloseTimeout: Math.max(1000, deadlineMs),
      retry: {
        initialInterval: this.spec.pollIntervalMs,
        backoffCoefficient: 1,
        maximumInterval: this.spec.pollIntervalMs,
        nonRetryableErrorTypes: NON_RETRYABLE_TYPES,
      },
    });
  }

  private addCompensation(c: Compensation): void {
    this.compensations.push(c);
  }

  // ------------------------------------------------------------------ main

  async execute(): Promise<RestoreStatus> {
    const { status, spec } = this;
    this.setState('validating');
    this.step('restore-requested', `${spec.source.instanceId} → ${spec.targetInstanceId} at ${spec.restoreTime}, requested by ${spec.requester}${spec.cutover ? `, then cutover of ${spec.cutover.recordName}` : ''}`);
    try {
      await this.mainScope.run(async () => {
        const alreadyRestored = await this.preflight();
        await this.restore(alreadyRestored);
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
    status.followUps.push(...this.cutoverFollowUps());
    this.setState('completed');
    this.step('cutover-completed', `${spec.cutover.recordName} → ${status.target.endpoint}`);
    await this.notify('completed', `cutover done: ${spec.cutover.recordName} now points at ${status.target.endpoint}; ${spec.source.instanceId} is stopped. Follow-ups: ${status.followUps.length}`, {
      recordName: spec.cutover.recordName,
      endpoint: status.target.endpoint,
    });
    return status;
  }

  /**
   * A failure before approval (validation, restore, TTL lowering) fails the workflow once any TTL change
   * is undone. A failure after approval is rolled back and the workflow *completes* with state
   * 'rolled-back': the rollback is an outcome the runbook plans for (the old database serves again), not
   * a crash, and a completed workflow keeps its status and follow-ups readable by the CLI. Only a failed
   * rollback (AWS left half-switched) fails the workflow, non-retryably, with the manual steps.
   */
  private async finishAfterError(err: unknown): Promise<RestoreStatus> {
    const { status } = this;
    // An abort update, or a cancellation of the whole workflow, both stop it the same way.
    const aborted = isCancellation(err);
    const reason = this.abortRequest
      ? `aborted by ${this.abortRequest.by}: ${this.abortRequest.reason}`
      : aborted
        ? 'the workflow was cancelled'
        : describeError(err);
    const rollingBack = this.cutoverStarted;
    if (rollingBack) {
      this.setState('rolling-back', { kind: 'aws', description: `rolling back the cutover: ${reason}` });
      this.step('rollback-started', reason);
    }
    const { steps, manual } = await this.compensate(reason);
    if (rollingBack || steps.length > 0) status.rollback = { reason, steps };
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

    if (aborted) {
      this.setState('aborted');
      this.step('restore-aborted', reason);
      await this.notify('aborted', `restore aborted (${reason}); ${this.spec.targetInstanceId} is kept${rollingBack ? '; the cutover was rolled back' : ''}`);
      return status;
    }
    if (rollingBack) {
      status.followUps.push(
        `${this.spec.source.instanceId} serves again and ${this.spec.cutover!.recordName} points at it. Fix the cause (${reason}) and start the restore again with the same restoreId: it reuses ${this.spec.targetInstanceId} instead of restoring again.`,
      );
      this.setState('rolled-back');
      this.step('rolled-back', reason);
      await this.notify('failed', `cutover failed and was rolled back: ${reason}. ${this.spec.cutover!.recordName} points at ${this.spec.source.instanceId} again, which is running.`, { reason, steps });
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
    this.step('preflight', `source ${this.region}/${spec.source.instanceId}, target identifier ${spec.targetInstanceId}`);
    let source: InstanceInfo;
    try {
      source = await this.a.describeInstance(this.region, spec.source.instanceId);
    } catch (err) {
      throw ApplicationFailure.nonRetryable(
        `Source instance ${spec.source.instanceId} in ${this.region}: ${describeError(err)}. Check source.region and source.instanceId; nothing was changed.`,
        'InstanceNotFound',
      );
    }
    this.sourceInfo = source;
    status.source.endpoint = source.endpoint?.address;

    const existing = await this.a.findInstance(this.region, spec.targetInstanceId);
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

    if (spec.cutover) {
      const c = spec.cutover;
      const record = await this.a.getWeightedCname(c.hostedZoneId, c.recordName, c.setIdentifier);
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

  private async restore(alreadyRestored: boolean): Promise<void> {
    const { spec, status } = this;
    this.setState('restoring');
    if (!alreadyRestored) {
      // No compensation: the restored instance is what the user asked for, and instances are never deleted.
      const r = await this.a.restoreToPointInTime({
        region: this.region,
        sourceInstanceId: spec.source.instanceId,
        targetInstanceId: spec.targetInstanceId,
        restoreTime: spec.restoreTime === 'latest' ? undefined : spec.restoreTime,
        copySourceSettings: spec.copySourceSettings,
        ownerTag: { key: RESTORE_OWNER_TAG_KEY, value: spec.restoreId },
      });
      this.step(r.changed ? 'restore-started' : 'restore-found', r.detail);
    }
    this.restoreRequested = true;
    const deadline = nowMs() + RESTORE_DEADLINE_MS;
    this.setState('restoring', { kind: 'aws', description: `${spec.targetInstanceId} to become available (restores take hours)`, until: iso(deadline) });
    this.step('waiting-for-restore', `polling every ${formatDuration(spec.pollIntervalMs)} until ${iso(deadline)}`);
    let info: InstanceInfo;
    try {
      info = await this.waiter(deadline - nowMs()).waitForInstance(this.region, spec.targetInstanceId, { status: 'available' });
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

  private async allowBastion(): Promise<void> {
    const { spec, status } = this;
    if (!spec.bastion) return;
    const sg = this.targetInfo?.vpcSecurityGroupIds[0];
    if (!sg) {
      const text = `${spec.targetInstanceId} has no VPC security group, so bastion access could not be added; add ingress from ${spec.bastion.securityGroupId} on port ${spec.bastion.port} by hand.`;
      this.step('bastion-skipped', text);
      status.followUps.push(text);
      return;
    }
    const r = await this.a.allowIngressFromSecurityGroup(this.region, sg, spec.bastion.securityGroupId, spec.bastion.port);
    this.step('bastion-ingress', `${sg} from ${spec.bastion.securityGroupId} on ${spec.bastion.port}: ${r.detail}`);
  }

  // ------------------------------------------------------------------ cutover

  private async prepareCutover(): Promise<void> {
    const c = this.spec.cutover!;
    this.setState('restoring');
    const record = this.checkRecord(await this.a.getWeightedCname(c.hostedZoneId, c.recordName, c.setIdentifier), this.status.target.endpoint);
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
    const r = await this.a.upsertWeightedCname(lowered);
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
    const stop = await this.c.stopInstance(this.region, spec.source.instanceId);
    this.step('old-instance-stopping', stop.detail);
    await this.waitInstance(spec.source.instanceId, 'stopped');
    this.oldStoppedMs = nowMs();
    this.step('old-instance-stopped', `${spec.source.instanceId} is stopped; no connection to it lingers`);

    // 2. Switch the CNAME, same set identifier, weight and TTL.
    this.addCompensation({
      id: 'cname',
      description: `${c.recordName} back to ${oldEndpoint} (TTL ${originalRecord.ttlSeconds}s)`,
      manual: this.upsertByHand(originalRecord),
      run: () => this.putRecordBack(originalRecord),
    });
    const switched: WeightedCname = { ...before, value: newEndpoint };
    const up = await this.c.upsertWeightedCname(switched);
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

    // 4. What do Route 53's own servers answer now?
    this.setState('cutting-over');
    const answer = await this.c.testDnsAnswer(c.hostedZoneId, c.recordName);
    const data = answer.recordData;
    const ok = answer.responseCode === 'NOERROR' && data.some((d) => sameHost(d, newEndpoint)) && !data.some((d) => sameHost(d, oldEndpoint));
    if (!ok) {
      throw ApplicationFailure.nonRetryable(
        `TestDNSAnswer for ${c.recordName} gave ${answer.responseCode} ${JSON.stringify(data)}, expected ${newEndpoint}`,
        'VerificationFailed',
      );
    }
    this.step('dns-verified', `${c.recordName} answers ${data.join(', ')}`);
    // Done: nothing to undo any more.
    this.compensations.length = 0;
  }

  private async waitInstance(instanceId: string, want: string): Promise<InstanceInfo> {
    try {
      return await this.waiter(INSTANCE_STATE_DEADLINE_MS).waitForInstance(this.region, instanceId, { status: want });
    } catch (err) {
      if (!isActivityTimeout(err)) throw err;
      throw ApplicationFailure.nonRetryable(`${instanceId} did not become ${want} within ${formatDuration(INSTANCE_STATE_DEADLINE_MS)}`, 'InvalidState');
    }
  }

  private async waitInsync(changeId: string): Promise<void> {
    try {
      await this.waiter(INSYNC_DEADLINE_MS).waitForChangeInsync(changeId);
    } catch (err) {
      if (!isActivityTimeout(err)) throw err;
      throw ApplicationFailure.nonRetryable(`Route 53 change ${changeId} was not INSYNC within ${formatDuration(INSYNC_DEADLINE_MS)}`, 'InvalidState');
    }
  }

  private async putRecordBack(record: WeightedCname): Promise<void> {
    const r = await this.c.upsertWeightedCname(record);
    if (r.changeId) await this.waitInsync(r.changeId);
  }

  /** The old instance may still be stopping when the failure came; it can only be started once stopped. */
  private async startOldInstance(): Promise<void> {
    const id = this.spec.source.instanceId;
    const info = await this.c.describeInstance(this.region, id);
    if (info.status === 'stopping') await this.waitInstance(id, 'stopped');
    await this.c.startInstance(this.region, id);
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
    const bastion = this.spec.bastion ? ` and the bastion ingress (allowed_services_sg_ids entry { "name" : "rds_restore", "sg_id" : module.rds_restore.db_security_group_id, "port" : ${this.spec.bastion.port} })` : '';
    return `Import the console-made changes into the Terraform state (tfmigrate or manually): the restored instance as ${this.terraformRestoreBlock()} in new-migration-resources.tf${bastion}.`;
  }

  private restoredInstanceKeptFollowUp(): string {
    return `${this.spec.targetInstanceId} is kept, never deleted by this workflow${this.status.target.endpoint ? ` (${this.status.target.endpoint})` : ''}; it keeps running and costs money until someone decides to remove it (deleting RDS instances in production needs the service control policy lifted).`;
  }

  private restoreOnlyFollowUps(): string[] {
    const { spec, status } = this;
    const port = this.targetInfo?.endpoint?.port ?? 5432;
    return [
      `Extract what you need with pg_dump and load it into ${spec.source.instanceId} (usually better than a cutover), e.g. from the bastion: \`pg_dump -h ${status.target.endpoint} -p ${port} -U <user> -d <database> -t <table> --data-only > extract.sql\`.`,
      this.importFollowUp(),
      `${spec.targetInstanceId} keeps running and costs money; remove it deliberately once the data is recovered (this workflow never deletes instances).`,
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
