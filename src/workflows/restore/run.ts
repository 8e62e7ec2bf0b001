/**
 * One restore: its resolved spec, the operated run it composes (status, timeline, search attributes,
 * notifications, AWS calls with visible retries, people; shared/operated-run.ts), bound to the restore's
 * phase (restore, then cutover), and what the steps learn on the way (the instances, the record, when the
 * switch was sent). The steps themselves live in the files named after the runbook.
 */
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { takesPatch } from '../shared/patches';
import type { AwsAccess, AwsWhere, DatabaseAccess, DatabaseTarget, HostedZoneInfo, InstanceInfo, NotificationEvent, ResolvedRestoreSpec, RestoreState, RestoreStatus, WaitingFor, WeightedCname } from '../../api';
import { DEFAULT_REMINDER_INTERVAL_MS } from '../../domain/approvals';
import { formatDuration } from '../../domain/duration';
import { RDS_INSTANCES, RDS_OPERATION } from '../../api/search-attributes';
import { CUTOVER_ROUNDS, waiterUntil, type RetryOptions } from '../shared/aws-calls';
import { iso, nowMs } from '../shared/clock';
import { isActivityTimeout } from '../shared/failures';
import { OperatedRun, TELLS_AND_ASKS_PEOPLE, operatedStatusStart } from '../shared/operated-run';
import { locationFor, sessionName } from '../../domain/aws-identity';

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
 * patched() id, asked only when RDS refused to stop the old instance (its status: busy, or one RDS does not leave
 * by itself): since this change the rollback does not try to start it again, since it was never stopped (the
 * start was refused too, and the rollback failed with a step "to do by hand" that was not needed).
 */
export const OLD_STOP_REFUSED_PATCH = 'restore-old-instance-stop-refused-is-not-started-again';

/**
 * patched() id, asked only for a cutover whose source has a read replica or is one: since this change preflight
 * refuses it before any change (RDS cannot stop such an instance, and the cutover stops it), instead of the cutover
 * failing at its stop after the approval and the outage announcement.
 */
export const CUTOVER_SOURCE_STOPPABLE_PATCH = 'restore-cutover-source-must-be-stoppable';

/**
 * patched() id, asked only for a restore to the latest time of a source with automated backups off: since this
 * change preflight refuses it (RDS answers PointInTimeRestoreNotEnabled), where before the restore step retried it.
 */
export const LATEST_NEEDS_BACKUPS_PATCH = 'restore-latest-needs-automated-backups';

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

/** The cutover needs one approval, by someone other than the requester (optionally from a list). */
export const MIN_APPROVALS = 1;

/** A restore's status before its spec is read (what the query shows while it validates). */
export function newRestoreStatus(raw: { restoreId?: string; requester?: string; source?: { region?: string; instanceId?: string }; targetInstanceId?: string; restoreTime?: string } | undefined): RestoreStatus {
  return {
    restoreId: raw?.restoreId ?? workflowInfo().workflowId,
    requester: raw?.requester ?? '',
    state: 'validating',
    source: { region: raw?.source?.region ?? '', instanceId: raw?.source?.instanceId ?? '' },
    target: { instanceId: raw?.targetInstanceId ?? '', restoreTime: raw?.restoreTime ?? '' },
    ...operatedStatusStart(),
  };
}

export class RestoreRun {
  /** See LEAST_ACCESS_AND_SAFE_CUTOVER_PATCH; decided once, at the start of the run (before the identity gate's). */
  readonly safeCutover = takesPatch(LEAST_ACCESS_AND_SAFE_CUTOVER_PATCH);
  /** See BASTION_CHECKED_PATCH; decided once, at the start of the run. */
  readonly bastionChecked = takesPatch(BASTION_CHECKED_PATCH);
  readonly run: OperatedRun<RestoreState, RestoreStatus>;
  phase: 'restore' | 'extract' | 'cutover' = 'restore';
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
  /** The account of a bastion group reached through `bastion.aws` (preflight reads its owner), named by the ingress rule. */
  bastionOwner?: string;
  /** Why RDS refused to stop the old instance (it was never stopped, so nothing starts it again). */
  oldStopRefused?: string;
  /** When the CNAME change to the restored instance was sent: writes may reach it from then on. */
  switchSentMs?: number;
  /** When the rollback's CNAME change back was INSYNC (the end of the writes a rollback strands). */
  switchRevertedMs?: number;

  constructor(
    readonly spec: ResolvedRestoreSpec,
    readonly status: RestoreStatus,
  ) {
    // NOTIFY_BEFORE_STOP_PATCH's marker goes into the run's first workflow task (why: recordNotifyLocallyAtStart in
    // shared/people.ts); the cutover asks again where it announces the outage, as runs that recorded it there need.
    takesPatch(NOTIFY_BEFORE_STOP_PATCH);
    const { source, targetInstanceId } = spec;
    this.run = new OperatedRun<RestoreState, RestoreStatus>(status, {
      kind: 'restore',
      id: spec.restoreId,
      label: `[restore ${spec.restoreId}]`,
      policy: TELLS_AND_ASKS_PEOPLE,
      // Runs whose input predates cutover.reminderInterval reminded every 24h.
      reminderIntervalMs: spec.cutover?.reminderIntervalMs ?? spec.extract?.repair?.reminderIntervalMs ?? DEFAULT_REMINDER_INTERVAL_MS,
      terminal: TERMINAL,
      stage: () => this.phase,
      identifyingAttributes: () => [
        { key: RDS_OPERATION, value: 'restore' },
        { key: RDS_INSTANCES, value: [`${source.region}/${source.instanceId}`, `${source.region}/${targetInstanceId}`] },
      ],
    });
  }

  get a(): OperatedRun<RestoreState>['a'] {
    return this.run.a;
  }

  get saga(): OperatedRun<RestoreState>['saga'] {
    return this.run.saga;
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
    this.run.step(this.phase, step, detail);
  }

  setState(state: RestoreState, waitingFor?: WaitingFor): void {
    this.run.setState(state, waitingFor);
  }

  notify(event: NotificationEvent, text: string, details?: Record<string, unknown>): Promise<void> {
    return this.run.notify(event, text, { stage: this.phase, details });
  }

  /**
   * One AWS step with visible retries (shared/aws-calls.ts). Cutover steps give up after a few minutes,
   * since the applications are down while they retry; reads before any change give up sooner.
   */
  aws<T>(step: string, call: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
    const bounded = opts.maxRounds === undefined && this.phase === 'cutover' && this.cutoverStarted ? { maxRounds: CUTOVER_ROUNDS } : {};
    return this.run.aws(step, call, { ...bounded, ...opts }, {
      stage: this.phase,
      record: (s, detail) => this.step(s, detail),
      change: (result) => {
        const action = (result as { action?: unknown } | undefined)?.action;
        const account = typeof action === 'string' && action.startsWith('route53:') ? this.status.cutover?.account : this.status.source.account;
        return { stage: this.phase, step, account, region: this.region };
      },
    });
  }

  /** Polls until `deadlineMs` (absolute); a call that fails (not merely "not yet") shows as trouble. */
  waitUntil<T>(step: string, deadlineMs: number, poll: (w: ReturnType<typeof waiterUntil>) => Promise<T>): Promise<T> {
    return this.aws(step, () => poll(waiterUntil(deadlineMs, this.spec.pollIntervalMs)), { attemptsPerRound: 1 });
  }

  async waitInstance(instanceId: string, want: string): Promise<InstanceInfo> {
    try {
      return await this.waitUntil(`wait-${want}`, nowMs() + INSTANCE_STATE_DEADLINE_MS, (w) => w.waitForInstance({ where: this.where(), instanceId, want: { status: want } }));
    } catch (err) {
      if (!isActivityTimeout(err)) throw err;
      throw ApplicationFailure.nonRetryable(`${instanceId} did not become ${want} within ${formatDuration(INSTANCE_STATE_DEADLINE_MS)}`, 'InvalidState');
    }
  }

  async waitInsync(changeId: string): Promise<void> {
    try {
      await this.waitUntil('wait-insync', nowMs() + INSYNC_DEADLINE_MS, (w) => w.waitForChangeInsync({ changeId, access: this.zoneAccess() }));
    } catch (err) {
      if (!isActivityTimeout(err)) throw err;
      throw ApplicationFailure.nonRetryable(`Route 53 change ${changeId} was not INSYNC within ${formatDuration(INSYNC_DEADLINE_MS)}`, 'InvalidState');
    }
  }

  /**
   * An instance's database as the spec names it. The restored instance has the source's users and passwords as
   * they were at the restore time but no RDS-managed secret of its own: `master-secret` reads the source's.
   */
  database(instanceId: string, access: DatabaseAccess): DatabaseTarget {
    const restored = instanceId === this.spec.targetInstanceId;
    return { where: this.where(), instanceId, access, ...(restored ? { masterSecretOf: this.spec.source.instanceId } : {}) };
  }

  /** What a rollback after the switch costs, in words. */
  strandedWarning(): string {
    if (this.switchSentMs === undefined) return 'no write can have reached the restored instance yet';
    return `writes the applications made to ${this.spec.targetInstanceId} since ${iso(this.switchSentMs)} stay on it and are not in ${this.spec.source.instanceId}`;
  }
}
