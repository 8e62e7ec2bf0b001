/**
 * One restore's state and the bookkeeping every runbook step uses: the status people query, timeline and
 * search attributes, notifications, AWS calls with visible retries, waiters, the saga and the decision
 * gate. The steps themselves live in the files named after the runbook.
 */
import { ApplicationFailure, CancellationScope, log, patched, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { AwsAccess, AwsWhere, DecideRequest, HostedZoneInfo, InstanceInfo, NotificationEvent, ResolvedRestoreSpec, RestoreState, RestoreStatus, WaitingFor, WeightedCname } from '../../api';
import { formatDuration } from '../../domain/duration';
import { RDS_INSTANCES, RDS_OPERATION, RDS_STAGE, RDS_STATE } from '../../api/search-attributes';
import { CUTOVER_ROUNDS, awsActivities, waiterUntil, withVisibleRetries, type RetryOptions } from '../shared/aws-calls';
import { iso, nowIso, nowMs } from '../shared/clock';
import { isActivityTimeout } from '../shared/failures';
import { notifyPeople, recordHuman } from '../shared/people';
import { recordChange } from '../shared/changes';
import { IdentityGate, runRef } from '../shared/identity';
import { Saga } from '../shared/saga';
import { locationFor, sessionName } from '../../domain/aws-identity';
import type { VerifiedActor } from '../../domain/identity/identity';

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
 * verified without TestDNSAnswer (records, INSYNC, `resolvers`); the record is read again after the
 * approval; and a failure once the CNAME may point at the restored instance asks the team instead of
 * rolling back on its own.
 */
export const LEAST_ACCESS_AND_SAFE_CUTOVER_PATCH = 'restore-own-security-group-private-zone-decide-after-switch';

/**
 * Since this patch the bastion's account is checked in preflight like every other: its role (`bastion.aws`)
 * is assumed, and the bastion's security group must exist in that account, before any change. Decided once,
 * when the run starts (RestoreRun.bastionChecked).
 */
export const BASTION_CHECKED_PATCH = 'restore-bastion-account-checked';

/** Written on the restored instance (and its security group) so a retry or a rerun recognises its own restore. */
export const RESTORE_OWNER_TAG_KEY = 'rds-orchestrator:restore-id';

export const TERMINAL: RestoreState[] = ['completed', 'rolled-back', 'aborted', 'failed'];
/** Stopping or starting an instance normally takes minutes. */
const INSTANCE_STATE_DEADLINE_MS = 60 * 60_000;
/** Route 53 changes are normally INSYNC within a minute. */
const INSYNC_DEADLINE_MS = 30 * 60_000;

/** DNS names compare case-insensitively and with or without the root dot. */
export function sameHost(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const norm = (h: string) => h.trim().toLowerCase().replace(/\.$/, '');
  return norm(a) === norm(b);
}

export class RestoreRun {
  readonly a = awsActivities();
  readonly saga = new Saga();
  readonly mainScope = new CancellationScope();
  /** See LEAST_ACCESS_AND_SAFE_CUTOVER_PATCH; decided once, at the start of the run. */
  readonly safeCutover = patched(LEAST_ACCESS_AND_SAFE_CUTOVER_PATCH);
  /** See BASTION_CHECKED_PATCH; decided once, at the start of the run. */
  readonly bastionChecked = patched(BASTION_CHECKED_PATCH);
  abortRequest?: { by: string; reason: string };
  approvalPlan?: string;
  decision?: DecideRequest;
  decisionOpen = false;
  phase: 'restore' | 'cutover' = 'restore';
  /** Set once the approved cutover begins: from then on a failure is rolled back, not just reported. */
  cutoverStarted = false;
  /** The restore was asked of RDS (or found): from then on the restored instance exists and is kept. */
  restoreRequested = false;

  sourceInfo?: InstanceInfo;
  targetInfo?: InstanceInfo;
  zone?: HostedZoneInfo;
  record?: WeightedCname;
  originalTtlSeconds?: number;
  ttlLoweredInsyncMs?: number;
  oldStoppedMs?: number;
  /** When the CNAME change to the restored instance was sent: writes may reach it from then on. */
  switchSentMs?: number;
  /** When the rollback's CNAME change back was INSYNC (the end of the writes a rollback strands). */
  switchRevertedMs?: number;

  /** Who people are: the workers' allowed signers and the proven requester (shared/identity.ts). */
  readonly identity: IdentityGate;

  constructor(
    readonly spec: ResolvedRestoreSpec,
    readonly status: RestoreStatus,
  ) {
    this.identity = new IdentityGate(runRef('restore', spec.restoreId));
    status.identity = this.identity.status;
  }

  get region(): string {
    return this.spec.source.region;
  }

  /** The source's account (the restored instance and its security group live there too): its region and role. */
  where(): AwsWhere {
    const { source } = this.spec;
    return locationFor(source.region, source.aws, this.spec.restoreId, 'restore');
  }

  /** The hosted zone's account, when another than the worker's own. */
  zoneAccess(): AwsAccess | undefined {
    const aws = this.spec.cutover?.aws;
    return aws ? { ...aws, sessionName: sessionName(this.spec.restoreId, 'cutover') } : undefined;
  }

  step(step: string, detail?: string): void {
    this.status.currentStep = step;
    this.status.timeline.push({ at: nowIso(), stage: this.phase, step, detail });
    log.info('restore step', { restoreId: this.status.restoreId, phase: this.phase, step, detail });
  }

  setState(state: RestoreState, waitingFor?: WaitingFor): void {
    this.status.state = state;
    this.status.waitingFor = waitingFor;
    upsertSearchAttributes([
      { key: RDS_OPERATION, value: 'restore' },
      { key: RDS_INSTANCES, value: [`${this.region}/${this.spec.source.instanceId}`, `${this.region}/${this.spec.targetInstanceId}`] },
      { key: RDS_STAGE, value: this.phase },
      { key: RDS_STATE, value: state },
    ]);
  }

  notify(event: NotificationEvent, text: string, details?: Record<string, unknown>): Promise<void> {
    return notifyPeople({ workflowId: workflowInfo().workflowId, event, text: `[restore ${this.status.restoreId}] ${text}`, stage: this.phase, details }, this.status.timeline);
  }

  recordHuman(by: string, action: 'approve' | 'abort' | 'decide', detail?: string, comment?: string, signer?: VerifiedActor): void {
    recordHuman(this.status, this.phase, by, action, detail, comment, signer);
  }

  /** How a person names themselves on the command line, for notifications. */
  actorHint(): string {
    return this.identity.verified ? '--as PRINCIPAL --key YOUR_SSH_KEY' : '--as NAME';
  }

  /**
   * One AWS step with visible retries (shared/aws-calls.ts). Cutover steps give up after a few minutes,
   * since the applications are down while they retry; reads before any change give up sooner.
   */
  async aws<T>(step: string, call: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
    const host = {
      status: this.status,
      record: (s: string, detail: string) => this.step(s, detail),
      notify: (text: string) => this.notify('escalation', text),
    };
    const bounded = opts.maxRounds === undefined && this.phase === 'cutover' && this.cutoverStarted ? { maxRounds: CUTOVER_ROUNDS } : {};
    const result = await withVisibleRetries(host, step, call, { ...bounded, ...opts });
    const zone = (result as { action?: unknown } | undefined)?.action;
    const account = typeof zone === 'string' && zone.startsWith('route53:') ? this.status.cutover?.account : this.status.source.account;
    recordChange(this.status.changes, result, { stage: this.phase, step, account, region: this.region });
    return result;
  }

  /** Polls until `deadlineMs` (absolute); a call that fails (not merely "not yet") shows as trouble. */
  waitUntil<T>(step: string, deadlineMs: number, poll: (w: ReturnType<typeof waiterUntil>) => Promise<T>): Promise<T> {
    return this.aws(step, () => poll(waiterUntil(deadlineMs, this.spec.pollIntervalMs)), { attemptsPerRound: 1 });
  }

  async waitInstance(instanceId: string, want: string): Promise<InstanceInfo> {
    try {
      return await this.waitUntil(`wait-${want}`, nowMs() + INSTANCE_STATE_DEADLINE_MS, (w) => w.waitForInstance(this.where(), instanceId, { status: want }));
    } catch (err) {
      if (!isActivityTimeout(err)) throw err;
      throw ApplicationFailure.nonRetryable(`${instanceId} did not become ${want} within ${formatDuration(INSTANCE_STATE_DEADLINE_MS)}`, 'InvalidState');
    }
  }

  async waitInsync(changeId: string): Promise<void> {
    try {
      await this.waitUntil('wait-insync', nowMs() + INSYNC_DEADLINE_MS, (w) => w.waitForChangeInsync(changeId, this.zoneAccess()));
    } catch (err) {
      if (!isActivityTimeout(err)) throw err;
      throw ApplicationFailure.nonRetryable(`Route 53 change ${changeId} was not INSYNC within ${formatDuration(INSYNC_DEADLINE_MS)}`, 'InvalidState');
    }
  }

  /** What a rollback after the switch costs, in words. */
  strandedWarning(): string {
    if (this.switchSentMs === undefined) return 'no write can have reached the restored instance yet';
    return `writes the applications made to ${this.spec.targetInstanceId} since ${iso(this.switchSentMs)} stay on it and are not in ${this.spec.source.instanceId}`;
  }
}
